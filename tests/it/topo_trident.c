/*
 * topo_trident.c — micro-batch test topologies for tests/it/007x:
 * TridentFlaky is TridentWordCount whose split fails every third batch
 * on its first attempt (the counts must still be exact), TridentSlow the
 * same without failures (for kill/restart and stale-epoch tests, paced
 * by -c topology.trident.batch.emit.interval.millis).
 * TridentOpaque: the opaque file spout into an opaque state, with the
 * flaky split; TridentNonTx: a non-transactional state. TridentOps: one
 * state per operation under test (map, flat_map, project, merge,
 * aggregate, partition_aggregate with a reducer, sum/min/max) over lines
 * "<word> <int>" (tests/it/0082). TridentPartial, TridentPPersist: see
 * below (0087).
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

/* Build t into b and submit it as name with 3 batches in flight; 1 (and
 * the reason on stderr) when the build fails. */
static int build_and_submit(gale_submit_t *s, gale_trident_t *t, gale_builder_t *b,
                            const char *name) {
    char err[512];
    if (gale_trident_build(t, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        gale_builder_destroy(b);
        return 1;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.max.spout.pending", 3);
    return gale_submit(s, name, conf, b);
}

static int build_kind(gale_submit_t *s, const char *path, bool flaky, bool opaque,
                      gale_state_kind_t kind) {
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = opaque ? GALE_TRIDENT_STREAM(t, "sentences", gale_file_opaque_batch_spout)
                                : GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", path);
    gale_tstream_parallelism_hint(st, 2);
    st = flaky ? GALE_EACH(st, "line", test_split_flaky, "word")
               : GALE_EACH(st, "line", test_split, "word");
    gale_tstream_parallelism_hint(st, 2);
    st = gale_tstream_group_by(st, "word");
    gale_state_spec_t spec = {kind, NULL, "trident-word-count:counts", NULL, NULL};
    gale_tstate_parallelism_hint(
        GALE_PERSISTENT_AGGREGATE(st, &spec, NULL, gale_count_agg, "count"), 3);
    return build_and_submit(s, t, b, "trident-word-count");
}

static int build(gale_submit_t *s, const char *path, bool flaky) {
    return build_kind(s, path, flaky, false, GALE_STATE_TRANSACTIONAL);
}

GALE_EXPORT int TridentOpaque(gale_submit_t *s, int argc, char **argv) {
    return argc == 1 ? build_kind(s, argv[0], true, true, GALE_STATE_OPAQUE) : 1;
}
GALE_EXPORT int TridentNonTx(gale_submit_t *s, int argc, char **argv) {
    return argc == 1 ? build_kind(s, argv[0], false, false, GALE_STATE_NON_TRANSACTIONAL) : 1;
}

/* --- TridentPartial (tests/it/0087): partial aggregation and replays ---
 * split fails every third batch's first attempt in task 0 only, so task
 * 1's partials of that attempt cross to b-1 before the batch is replayed;
 * two aggregations with partials: count per word (b-0 -> b-1), then the
 * sum of those counts per word into the state (b-1 -> b-2). */
static int task0_prepare(void **state, const gale_context_t *ctx) {
    *state = gale_context_task_index(ctx) == 0 ? (void *)1 : NULL;
    return 0;
}
GALE_EXPORT const gale_trident_function_t test_split_task0 = {task0_prepare, split_execute, NULL};

/* The words of path's lines, 2 spout and 2 split tasks; split task 0
 * fails every third batch's first attempt. Opaque state: opaque spout. */
static gale_tstream_t *flaky_words(gale_trident_t *t, const char *path, gale_state_kind_t kind) {
    gale_tstream_t *st = kind == GALE_STATE_OPAQUE
                             ? GALE_TRIDENT_STREAM(t, "sentences", gale_file_opaque_batch_spout)
                             : GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", path);
    gale_tstream_parallelism_hint(st, 2);
    st = GALE_EACH(st, "line", test_split_task0, "word");
    gale_tstream_parallelism_hint(st, 2);
    return st;
}

/* argv[1]: transactional (anything else), opaque or nontx */
static gale_state_kind_t kind_arg(const char *a) {
    return strcmp(a, "opaque") == 0  ? GALE_STATE_OPAQUE
           : strcmp(a, "nontx") == 0 ? GALE_STATE_NON_TRANSACTIONAL
                                     : GALE_STATE_TRANSACTIONAL;
}

static int build_partial(gale_submit_t *s, const char *path, gale_state_kind_t kind) {
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = flaky_words(t, path, kind);
    st = GALE_AGGREGATE(gale_tstream_group_by(st, "word"), NULL, gale_count_agg, "n");
    gale_tstream_parallelism_hint(st, 2);
    gale_state_spec_t spec = {kind, NULL, "trident-word-count:counts", NULL, NULL};
    gale_tstate_parallelism_hint(GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(st, "word"), &spec,
                                                           "n", gale_sum_agg, "count"),
                                 3);
    return build_and_submit(s, t, b, "trident-word-count");
}
GALE_EXPORT int TridentPartial(gale_submit_t *s, int argc, char **argv) {
    return argc == 2 ? build_partial(s, argv[0], kind_arg(argv[1])) : 1;
}

/* --- TridentPPersist (tests/it/0087): partition_persist and replays ---
 * the words, partitioned by word, counted into the state where each
 * partition is (no repartition for the state); split fails every third
 * batch's first attempt in task 0, as in TridentPartial. */
static int build_ppersist(gale_submit_t *s, const char *path, gale_state_kind_t kind) {
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = gale_tstream_partition_by(flaky_words(t, path, kind), "word");
    gale_state_spec_t spec = {kind, NULL, "trident-word-count:counts", NULL, NULL};
    gale_tstate_parallelism_hint(GALE_PARTITION_PERSIST(st, &spec, "word", NULL, gale_count_agg),
                                 3);
    return build_and_submit(s, t, b, "trident-word-count");
}
GALE_EXPORT int TridentPPersist(gale_submit_t *s, int argc, char **argv) {
    return argc == 2 ? build_ppersist(s, argv[0], kind_arg(argv[1])) : 1;
}

/* --- TridentOps --- */

/* map: "<word> <int>" -> [word, int] */
static void parse_execute(void *state, const gale_value_t *in, size_t n,
                          gale_trident_collector_t *c) {
    (void)state;
    char word[128];
    long long num;
    if (n < 1 || in[0].type != GALE_T_STR || sscanf(in[0].u.s, "%127s %lld", word, &num) != 2) {
        gale_trident_fail(c, "test: a line that is not '<word> <int>'");
        return;
    }
    gale_value_t v[2] = {gale_str(word), gale_int(num)};
    gale_trident_emit(c, v, 2);
}
GALE_EXPORT const gale_trident_function_t test_parse = {NULL, parse_execute, NULL};

/* flat_map: twice when num > 0, never when num == 0 */
static void twice_execute(void *state, const gale_value_t *in, size_t n,
                          gale_trident_collector_t *c) {
    (void)state;
    if (n != 2 || in[1].type != GALE_T_INT || in[1].u.i == 0) return;
    gale_trident_emit(c, in, 2);
    gale_trident_emit(c, in, 2);
}
GALE_EXPORT const gale_trident_function_t test_twice = {NULL, twice_execute, NULL};

/* a reducer: the sum of its one int input */
static int rsum_init(gale_value_t *out) {
    *out = gale_int(0);
    return 0;
}
static int rsum_reduce(const gale_value_t *acc, const gale_value_t *in, size_t n,
                       gale_value_t *out) {
    if (n != 1 || acc->type != GALE_T_INT || in[0].type != GALE_T_INT) return GALE_ETYPE;
    *out = gale_int(acc->u.i + in[0].u.i);
    return 0;
}
GALE_EXPORT const gale_reducer_t test_rsum = {rsum_init, rsum_reduce};

static gale_state_spec_t ops_spec(const char *hash) {
    gale_state_spec_t sp = {GALE_STATE_TRANSACTIONAL, NULL, hash, NULL, NULL};
    return sp;
}

GALE_EXPORT int TridentOps(gale_submit_t *s, int argc, char **argv) {
    if (argc != 1) return 1;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = GALE_TRIDENT_STREAM(t, "ops", gale_file_batch_spout);
    gale_tstream_conf_set_str(st, "file.path", argv[0]);
    gale_tstream_parallelism_hint(st, 2);
    gale_tstream_t *m = GALE_MAP(st, "line", test_parse, "word,num");
    gale_tstream_t *f = GALE_FLAT_MAP(m, "word,num", test_twice, "word,num");
    gale_tstream_t *p = gale_tstream_project(f, "num,word"); /* reordered */
    gale_state_spec_t sp;
    /* flat_map: per word, 2 x its lines with num > 0 */
    sp = ops_spec("ops:count");
    GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(p, "word"), &sp, NULL, gale_count_agg, "n");
    /* sum/min/max over the projected nums (global states) */
    sp = ops_spec("ops:sum");
    GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(p, "word"), &sp, "num", gale_sum_agg, "s");
    sp = ops_spec("ops:min");
    GALE_PERSISTENT_AGGREGATE(p, &sp, "num", gale_min_agg, "min");
    sp = ops_spec("ops:max");
    GALE_PERSISTENT_AGGREGATE(p, &sp, "num", gale_max_agg, "max");
    /* aggregate: each batch's count, summed over batches */
    gale_tstream_t *a = GALE_AGGREGATE(p, NULL, gale_count_agg, "batch_n");
    sp = ops_spec("ops:agg");
    GALE_PERSISTENT_AGGREGATE(a, &sp, "batch_n", gale_sum_agg, "total");
    /* partition_aggregate with a reducer: per partition and batch sums */
    gale_tstream_t *pa =
        gale_tstream_partition_aggregate(p, "num", NULL, &test_rsum, "test_rsum", "part_sum");
    sp = ops_spec("ops:pagg");
    GALE_PERSISTENT_AGGREGATE(pa, &sp, "part_sum", gale_sum_agg, "total");
    /* merge: the parsed lines and the doubled ones, counted per word */
    gale_tstream_t *two[2] = {m, gale_tstream_project(f, "word,num")};
    gale_tstream_t *mg = gale_trident_merge(t, two, 2);
    sp = ops_spec("ops:merge");
    GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(mg, "word"), &sp, NULL, gale_count_agg, "n");
    char err[512];
    if (gale_trident_build(t, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        gale_builder_destroy(b);
        return 1;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.max.spout.pending", 2);
    return gale_submit(s, "trident-ops", conf, b);
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

/* --- TridentStream (tests/it/0084) ---
 * TridentWordCount over Redis streams: argv[0] the stream key(s),
 * comma-separated (one partition each); the flaky split; counts in hash
 * trident-stream:counts. argv[1] "builtin": gale_redis_stream_batch_spout
 * (field "value", read from the entry field given by
 * -c gale.trident.redis.stream.fields=...); else test_sentences. */
GALE_REDIS_STREAM_BATCH_SPOUT(test_sentences, "sentence");

GALE_EXPORT int TridentStream(gale_submit_t *s, int argc, char **argv) {
    if (argc < 1 || argc > 2) return 1;
    bool builtin = argc == 2 && strcmp(argv[1], "builtin") == 0;
    int parts = 1;
    for (const char *p = argv[0]; *p; p++)
        if (*p == ',') parts++;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *st = builtin ? GALE_TRIDENT_STREAM(t, "stream", gale_redis_stream_batch_spout)
                                 : GALE_TRIDENT_STREAM(t, "stream", test_sentences);
    gale_tstream_conf_set_str(st, "gale.trident.redis.stream.key", argv[0]);
    gale_tstream_parallelism_hint(st, parts);
    st = GALE_EACH(st, builtin ? "value" : "sentence", test_split_flaky, "word");
    gale_tstream_parallelism_hint(st, 2);
    st = gale_tstream_group_by(st, "word");
    gale_state_spec_t spec = {GALE_STATE_TRANSACTIONAL, NULL, "trident-stream:counts", NULL, NULL};
    gale_tstate_parallelism_hint(
        GALE_PERSISTENT_AGGREGATE(st, &spec, NULL, gale_count_agg, "count"), 2);
    return build_and_submit(s, t, b, "trident-stream");
}
