/*
 * topo_bad.c — topologies that must be refused before anything starts
 * (tests/it/0002-local-bad-input.sh): a component whose symbol does not
 * exist, a grouping on an unknown component, an entry that never calls
 * gale_submit, a spout without next_tuple, and a symbol naming another
 * component's implementation.
 */
#include <gale/gale.h>

GALE_EXPORT int MissingSymbol(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", gale_random_sentence_spout, 1);
    /* the impl pointer is real, but the recorded symbol resolves nowhere */
    gale_component_t *c =
        gale_builder_bolt(b, "printer", &gale_printer_bolt, "no_such_bolt_symbol", 1);
    gale_shuffle_grouping(c, "spout", NULL);
    return gale_submit(s, "bad-missing-symbol", gale_conf_new(), b);
}

GALE_EXPORT int InvalidGrouping(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", gale_random_sentence_spout, 1);
    gale_component_t *c = GALE_BOLT(b, "printer", gale_printer_bolt, 1);
    gale_shuffle_grouping(c, "no-such-component", NULL);
    return gale_submit(s, "bad-grouping", gale_conf_new(), b);
}

GALE_EXPORT int NoSubmit(gale_submit_t *s, int argc, char **argv) {
    (void)s;
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", gale_random_sentence_spout, 1);
    gale_builder_destroy(b);
    return 0;
}

/* A spout without next_tuple: refused when the runtime is built (this
 * once freed the topology twice). */
static void no_next_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "x");
}
GALE_EXPORT const gale_spout_t no_next_spout = {.declare = no_next_declare};

GALE_EXPORT int NoNextTuple(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", no_next_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "printer", gale_printer_bolt, 1), "spout", NULL);
    return gale_submit(s, "bad-no-next", gale_conf_new(), b);
}

/* A spout added with a bolt's symbol: the symbol resolves, but to another
 * object than the one passed (a worker would run a bolt as a spout). */
GALE_EXPORT int SymbolMismatch(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    gale_builder_spout(b, "spout", &gale_random_sentence_spout, "gale_printer_bolt", 1);
    gale_shuffle_grouping(GALE_BOLT(b, "printer", gale_printer_bolt, 1), "spout", NULL);
    return gale_submit(s, "bad-symbol-mismatch", gale_conf_new(), b);
}
