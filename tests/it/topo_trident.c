/*
 * topo_trident.c — micro-batch test topologies for tests/it/007x:
 * TridentFlaky is TridentWordCount whose split fails every third batch
 * on its first attempt (the counts must still be exact), TridentSlow the
 * same without failures (for kill/restart and stale-epoch tests, paced
 * by -c topology.trident.batch.emit.interval.millis).
 */
#include <stdio.h>
#include <string.h>

#include <gale/gale.h>
#include <gale/trident.h>

static void split_execute(void *state, const gale_value_t *in, size_t n,
                          gale_trident_collector_t *c) {
    bool flaky = state != NULL;
    if (n < 1 || in[0].type != GALE_T_STR) return;
    if (flaky && gale_trident_txid(c) % 3 == 0 && gale_trident_attempt(c) == 0) {
        gale_trident_fail(c, "test: every third batch fails its first attempt");
        return;
    }
    const char *s = in[0].u.s;
    for (size_t i = 0; i < in[0].len;) {
        size_t j = i;
        while (j < in[0].len && s[j] != ' ') j++;
        if (j > i) {
            gale_value_t w = gale_strn(s + i, j - i);
            gale_trident_emit(c, &w, 1);
        }
        i = j + 1;
    }
}

static int flaky_prepare(void **state, const gale_context_t *ctx) {
    (void)ctx;
    *state = (void *)1;
    return 0;
}

GALE_EXPORT const gale_trident_function_t test_split_flaky = {flaky_prepare, split_execute, NULL};
GALE_EXPORT const gale_trident_function_t test_split = {NULL, split_execute, NULL};

static int build(gale_submit_t *s, const char *path, bool flaky) {
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", path);
    gale_tstream_parallelism_hint(st, 2);
    st = flaky ? GALE_EACH(st, "line", test_split_flaky, "word")
               : GALE_EACH(st, "line", test_split, "word");
    gale_tstream_parallelism_hint(st, 2);
    st = gale_tstream_group_by(st, "word");
    gale_state_spec_t spec = {GALE_STATE_TRANSACTIONAL, NULL, "trident-word-count:counts", NULL,
                              NULL};
    gale_tstate_parallelism_hint(
        GALE_PERSISTENT_AGGREGATE(st, &spec, NULL, gale_count_agg, "count"), 3);
    char err[512];
    if (gale_trident_build(t, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        gale_builder_destroy(b);
        return 1;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.max.spout.pending", 3);
    return gale_submit(s, "trident-word-count", conf, b);
}

GALE_EXPORT int TridentFlaky(gale_submit_t *s, int argc, char **argv) {
    return argc == 1 ? build(s, argv[0], true) : 1;
}
GALE_EXPORT int TridentSlow(gale_submit_t *s, int argc, char **argv) {
    return argc == 1 ? build(s, argv[0], false) : 1;
}

/* A misspelt field: the build must fail with one line naming it. */
GALE_EXPORT int TridentBadField(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    st = GALE_EACH(st, "sentense", test_split, "word");
    char err[512];
    gale_trident_build(t, err, sizeof err); /* ignored on purpose: the submit must fail */
    return gale_submit(s, "trident-bad", NULL, b);
}
