/*
 * topo_trident_opaque.c — TridentOpaqueCount for tests/it/0085: the
 * TridentWordCount shape (file batch spout over 2 partitions, split,
 * group by word, count into Redis over 3 state partitions) with the
 * opaque file batch spout and an opaque state, so the cluster fault
 * test checks opaque exactly-once ([txid, curr, prev] values) as 0085
 * checks the transactional one.
 */
#include <stdio.h>
#include <string.h>

#include <gale/gale.h>
#include <gale/trident.h>

static void split_execute(void *state, const gale_value_t *in, size_t n,
                          gale_trident_collector_t *c) {
    (void)state;
    if (n < 1 || in[0].type != GALE_T_STR) return;
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

GALE_EXPORT const gale_trident_function_t test_opaque_split = {NULL, split_execute, NULL};

/* Workers run elsewhere: the test passes an absolute path. */
GALE_EXPORT int TridentOpaqueCount(gale_submit_t *s, int argc, char **argv) {
    if (argc != 1 || argv[0][0] != '/') {
        fprintf(stderr, "TridentOpaqueCount: takes one argument, the input file's absolute path\n");
        return GALE_EINVAL;
    }
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = GALE_TRIDENT_STREAM(t, "sentences", gale_file_opaque_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", argv[0]);
    gale_tstream_parallelism_hint(st, 2);
    st = GALE_EACH(st, "line", test_opaque_split, "word");
    gale_tstream_parallelism_hint(st, 2);
    st = gale_tstream_group_by(st, "word");
    gale_state_spec_t spec = {GALE_STATE_OPAQUE, NULL, "trident-opaque-count:counts", NULL, NULL};
    gale_tstate_parallelism_hint(
        GALE_PERSISTENT_AGGREGATE(st, &spec, NULL, gale_count_agg, "count"), 3);
    char err[512];
    if (gale_trident_build(t, err, sizeof err)) {
        fprintf(stderr, "TridentOpaqueCount: %s\n", err);
        gale_builder_destroy(b);
        return GALE_EINVAL;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.max.spout.pending", 3); /* batches in flight */
    return gale_submit(s, "trident-opaque-count", conf, b);
}
