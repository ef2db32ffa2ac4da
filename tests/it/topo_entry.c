/*
 * topo_entry.c — entry functions that go wrong in the ways a new author
 * meets (tests/it/0009-strict-options.sh): one that submits twice and
 * ignores the second failure, one that refuses its arguments on purpose,
 * and a data symbol named as the entry.
 */
#include <stdio.h>

#include <gale/gale.h>

static gale_builder_t *small(void) {
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", gale_random_sentence_spout, 1);
    gale_component_t *c = GALE_BOLT(b, "printer", gale_printer_bolt, 1);
    gale_shuffle_grouping(c, "spout", NULL);
    return b;
}

GALE_EXPORT int SubmitTwice(gale_submit_t *s, int argc, char **argv) {
    (void)argc, (void)argv;
    gale_submit(s, "first", gale_conf_new(), small());
    gale_submit(s, "second", gale_conf_new(), small()); /* fails; ignored */
    return 0;
}

GALE_EXPORT int NeedsArgs(gale_submit_t *s, int argc, char **argv) {
    (void)s, (void)argv;
    if (argc < 1) {
        fprintf(stderr, "usage: NeedsArgs <input>\n");
        return 2;
    }
    return gale_submit(s, "needs-args", gale_conf_new(), small());
}

/* A data symbol: calling it would jump into data. */
GALE_EXPORT const gale_bolt_t NotAFunction = {0};
