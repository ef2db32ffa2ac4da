/*
 * trident_word_count.c — Storm's TridentWordCount on Gale's micro-batch
 * layer: the lines of a file (the transactional file batch spout) are
 * split into words, grouped by word and counted into Redis exactly once
 * (a transactional state: every word's count keeps the txid that last
 * wrote it, so a replayed batch is never counted twice).
 *
 *   gale local build/starter/trident_word_count.so TridentWordCount corpus.txt \
 *       -c redis.host=127.0.0.1 -c redis.port=6379 --until-done
 *
 * The counts are the Redis hash "trident-word-count:counts", field = the
 * word, value = storm-redis JSON [txid, count].
 *
 * As in storm-starter, a DRPC stream "words" answers the summed counts of
 * the words given (space-separated), as Storm's JSON [[sum]]; a word
 * never seen adds 0:
 *
 *   gale drpc words "cow moon"        # while the topology runs: [[42]]
 *
 * (gale local serves DRPC in-process on drpc.port; in a cluster, run
 * `gale drpc-server` and set drpc.servers.)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gale/gale.h>
#include <gale/trident.h>

/* Storm's Split: one tuple per space-separated word (empty ones skipped). */
static void split_execute(void *state, const gale_value_t *in, size_t n,
                          gale_trident_collector_t *c) {
    (void)state;
    if (n < 1 || in[0].type != GALE_T_STR) return;
    const char *s = in[0].u.s;
    size_t len = in[0].len;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != ' ') j++;
        if (j > i) {
            gale_value_t w = gale_strn(s + i, j - i);
            gale_trident_emit(c, &w, 1);
        }
        i = j + 1;
    }
}

GALE_EXPORT const gale_trident_function_t gale_twc_split = {NULL, split_execute, NULL};

GALE_EXPORT int TridentWordCount(gale_submit_t *s, int argc, char **argv) {
    if (argc != 1) {
        fprintf(stderr, "TridentWordCount: takes one argument, the input file: usage: gale local "
                        "<lib.so> TridentWordCount <input-file> -c redis.host=H -c redis.port=P\n");
        return GALE_EINVAL;
    }
    char path[4096];
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", gale_path_absolute(argv[0], path, sizeof path));
    gale_tstream_parallelism_hint(st, 2);
    st = GALE_EACH(st, "line", gale_twc_split, "word");
    gale_tstream_parallelism_hint(st, 2);
    st = gale_tstream_group_by(st, "word");
    gale_state_spec_t spec = {GALE_STATE_TRANSACTIONAL, NULL, "trident-word-count:counts", NULL,
                              NULL};
    gale_tstate_t *counts = GALE_PERSISTENT_AGGREGATE(st, &spec, NULL, gale_count_agg, "count");
    gale_tstate_parallelism_hint(counts, 3); /* 3 state partitions */
    /* storm-starter's "words": args -> split -> group_by(word) -> MapGet
     * on the counts -> drop unknown words -> sum */
    gale_tstream_t *q = gale_trident_new_drpc_stream(t, "words");
    q = GALE_EACH(q, "args", gale_twc_split, "word");
    q = gale_tstream_group_by(q, "word");
    q = GALE_STATE_QUERY(q, counts, "word", gale_map_get_query, "count");
    q = GALE_FILTER(q, "count", gale_filter_null);
    GALE_AGGREGATE(q, "count", gale_sum_agg, "sum");
    char err[512];
    if (gale_trident_build(t, err, sizeof err)) {
        fprintf(stderr, "TridentWordCount: %s\n", err);
        gale_builder_destroy(b);
        return GALE_EINVAL;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.max.spout.pending", 3); /* batches in flight */
    return gale_submit(s, "trident-word-count", conf, b);
}
