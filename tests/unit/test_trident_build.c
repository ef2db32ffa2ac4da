/*
 * test_trident_build.c — compiling micro-batch streams into components:
 * Storm's names ($mastercoord-bg0, spout0, b-0, ...), the groupings
 * between them, the declared fields, and one clear error for bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gale/trident.h"
#include "topology/topology.h"
#include "trident/plan.h"

static void split_exec(void *st, const gale_value_t *in, size_t n, gale_trident_collector_t *c) {
    (void)st;
    gale_trident_emit(c, in, n);
}
GALE_EXPORT const gale_trident_function_t tb_split = {NULL, split_exec, NULL};
static bool keep(void *st, const gale_value_t *in, size_t n) {
    (void)st;
    (void)in;
    return n > 0;
}
GALE_EXPORT const gale_trident_filter_t tb_keep = {NULL, keep, NULL};

static int red_init(gale_value_t *out) {
    *out = gale_int(0);
    return 0;
}
static int red_reduce(const gale_value_t *acc, const gale_value_t *in, size_t n,
                      gale_value_t *out) {
    (void)in;
    (void)n;
    *out = gale_int(acc->u.i + 1);
    return 0;
}
GALE_EXPORT const gale_reducer_t tb_reducer = {red_init, red_reduce};

static gale_state_spec_t spec = {GALE_STATE_TRANSACTIONAL, "wc:", NULL, NULL, NULL};

static gale__topology_t *finish(gale_builder_t *b, char *err, size_t errlen) {
    gale__topology_t *t = NULL;
    if (gale__builder_finish(b, "tb", NULL, &t, err, errlen)) return NULL;
    if (gale__topology_validate(t, NULL, NULL, err, errlen)) {
        gale__topology_destroy(t);
        return NULL;
    }
    return t;
}

/* The decoded micro-batch plan of component c (to gale__plan_free). */
static gale__plan_t *plan_of(const gale__component_t *c) {
    gale__plan_t *p = NULL;
    char err[300];
    if (gale__plan_decode(c->conf, false, &p, err, sizeof err)) fail_msg("%s: %s", c->id, err);
    return p;
}

/* A global aggregate's bolt runs one task whatever a later node's hint:
 * its other tasks would only add an empty partition's zero per batch. */
static void test_global_input_one_task(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    s = GALE_EACH(s, "line", tb_split, "word");
    s = GALE_AGGREGATE(s, NULL, gale_count_agg, "n");
    gale_tstream_parallelism_hint(GALE_FILTER(s, "n", tb_keep), 3);
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    assert_non_null(topo);
    const gale__component_t *b1 = gale__topology_component(topo, "b-1");
    assert_non_null(b1);
    assert_int_equal(b1->parallelism, 1);
    gale__topology_destroy(topo);
}

static void test_word_count_names(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    gale_tstream_parallelism_hint(s, 2);
    s = GALE_EACH(s, "line", tb_split, "word");
    s = GALE_FILTER(s, "word", tb_keep);
    gale_tstream_parallelism_hint(s, 4);
    s = gale_tstream_group_by(s, "word");
    gale_tstate_parallelism_hint(GALE_PERSISTENT_AGGREGATE(s, &spec, NULL, gale_count_agg, "count"),
                                 3);
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    assert_non_null(topo);
    const gale__component_t *coord = gale__topology_component(topo, "$mastercoord-bg0");
    const gale__component_t *sp = gale__topology_component(topo, "spout0");
    const gale__component_t *b0 = gale__topology_component(topo, "b-0");
    const gale__component_t *b1 = gale__topology_component(topo, "b-1");
    assert_non_null(coord);
    assert_non_null(sp);
    assert_non_null(b0);
    assert_non_null(b1);
    assert_null(gale__topology_component(topo, "b-2"));
    assert_true(coord->is_spout);
    assert_int_equal(coord->parallelism, 1);
    assert_int_equal(sp->parallelism, 2);
    assert_int_equal(b0->parallelism, 4); /* the largest hint of the chain */
    assert_int_equal(b1->parallelism, 3);
    /* spout0 <- $batch (all); b-0 <- spout0 (local-or-shuffle) + its counts (direct) */
    assert_int_equal(sp->n_inputs, 1);
    assert_string_equal(sp->inputs[0].stream, "$batch");
    assert_int_equal(sp->inputs[0].grouping, GALE_GROUPING_ALL);
    assert_int_equal(b0->n_inputs, 2);
    assert_int_equal(b0->inputs[0].grouping, GALE_GROUPING_LOCAL_OR_SHUFFLE);
    assert_int_equal(b0->inputs[1].grouping, GALE_GROUPING_DIRECT);
    assert_true(strncmp(b0->inputs[1].stream, "$coord-", 7) == 0);
    /* b-1: fields grouping on word, its counts, and $commit (a committer) */
    assert_int_equal(b1->n_inputs, 3);
    assert_int_equal(b1->inputs[0].grouping, GALE_GROUPING_FIELDS);
    assert_int_equal(b1->inputs[0].n_fields, 1);
    assert_string_equal(b1->inputs[0].fields[0], "word");
    assert_string_equal(b1->inputs[2].stream, "$commit");
    /* b-0's data stream carries the batch id first, then the user's
     * fields: the partial counts per word (not the words with their line) */
    const gale__stream_t *st = gale__component_stream(b0, b1->inputs[0].stream);
    assert_non_null(st);
    assert_int_equal(st->n_fields, 4);
    assert_string_equal(st->fields[0], "$txid");
    assert_string_equal(st->fields[2], "word");
    assert_string_equal(st->fields[3], "count");
    /* b-0: each, filter, group_by, then the partial count of [line, word]
     * by word (parent: the group_by), then its OUT */
    gale__plan_t *p0 = plan_of(b0), *p1 = plan_of(b1);
    assert_int_equal(p0->n_ops, 5);
    const gale__pop_t *pa = &p0->ops[3];
    assert_int_equal(pa->kind, GALE__TOP_AGG_COMBINE);
    assert_int_equal(pa->flags, GALE__TOP_F_PARTIAL_OUT);
    assert_string_equal(pa->symbol, "gale_count_agg");
    assert_int_equal(pa->parent, 2);
    assert_int_equal(p0->ops[2].kind, GALE__TOP_PASS);
    assert_int_equal(pa->n_in, 0);
    assert_int_equal(pa->n_group, 1);
    assert_int_equal(pa->group[0], 1);
    assert_int_equal(p0->ops[4].kind, GALE__TOP_OUT);
    assert_int_equal(p0->ops[4].parent, 3);
    for (size_t i = 0; i < 3; i++) assert_int_equal(p0->ops[i].flags, 0);
    /* b-1: the persist combines the partial [word, count]: in = count */
    assert_int_equal(p1->n_ops, 1);
    assert_int_equal(p1->ops[0].kind, GALE__TOP_PERSIST);
    assert_int_equal(p1->ops[0].flags, GALE__TOP_F_PARTIAL_IN);
    assert_int_equal(p1->ops[0].n_in, 1);
    assert_int_equal(p1->ops[0].in[0], 1);
    assert_int_equal(p1->ops[0].n_group, 1);
    assert_int_equal(p1->ops[0].group[0], 0);
    gale__plan_free(p0);
    gale__plan_free(p1);
    gale__topology_destroy(topo);
}

/* A reducer (no combine) and an aggregation straight after the spout
 * get no partial aggregation: no flags, no partial op. */
static void test_no_partial(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    GALE_PERSISTENT_AGGREGATE(s, &spec, NULL, gale_count_agg, "n"); /* b-0, after the spout */
    s = GALE_EACH(s, "line", tb_split, "word");                     /* b-1 */
    s = gale_tstream_group_by(s, "word");
    gale_tstream_aggregate(s, "word", NULL, &tb_reducer, "tb_reducer", "r"); /* b-2 */
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    assert_null(gale__topology_component(topo, "b-3"));
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "b-%d", i);
        const gale__component_t *c = gale__topology_component(topo, id);
        assert_non_null(c);
        gale__plan_t *p = plan_of(c);
        for (size_t k = 0; k < p->n_ops; k++) {
            assert_int_equal(p->ops[k].flags, 0);
            assert_true(p->ops[k].kind != GALE__TOP_AGG_COMBINE);
        }
        gale__plan_free(p);
    }
    /* the words cross without their line (the reducer reads word only) */
    const gale__component_t *b1 = gale__topology_component(topo, "b-1"),
                            *b2 = gale__topology_component(topo, "b-2");
    const gale__stream_t *st = gale__component_stream(b1, b2->inputs[0].stream);
    assert_non_null(st);
    assert_int_equal(st->n_fields, 3);
    assert_string_equal(st->fields[2], "word");
    gale__topology_destroy(topo);
}

/* Projection at the repartitions: a stream crosses into the next bolt
 * with the fields read there or later (inherited), nothing more. */
static void test_project_boundaries(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = GALE_EACH(s, "line", tb_split, "word"); /* b-0 */
    s = gale_tstream_shuffle(s);                /* b-1 */
    s = GALE_EACH(s, "word", tb_split, "w2");
    s = gale_tstream_partition_by(s, "w2"); /* b-2 */
    s = gale_tstream_group_by(s, "w2");
    gale_tstream_aggregate(s, "line", NULL, &tb_reducer, "tb_reducer", "r"); /* b-3 */
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    const gale__component_t *c[4];
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "b-%d", i);
        assert_non_null(c[i] = gale__topology_component(topo, id));
    }
    assert_null(gale__topology_component(topo, "b-4"));
    /* b-0 -> b-1: line (read by b-3's reducer) and word (b-1's each): both */
    const gale__stream_t *st = gale__component_stream(c[0], c[1]->inputs[0].stream);
    assert_non_null(st);
    assert_int_equal(st->n_fields, 4);
    /* b-1 -> b-2: [line, word, w2] less word, through a project op */
    st = gale__component_stream(c[1], c[2]->inputs[0].stream);
    assert_non_null(st);
    assert_int_equal(st->n_fields, 4);
    assert_string_equal(st->fields[2], "line");
    assert_string_equal(st->fields[3], "w2");
    assert_int_equal(c[2]->inputs[0].grouping, GALE_GROUPING_FIELDS);
    assert_string_equal(c[2]->inputs[0].fields[0], "w2");
    gale__plan_t *p1 = plan_of(c[1]), *p3 = plan_of(c[3]);
    assert_int_equal(p1->n_ops, 4); /* shuffle, each, project, OUT */
    assert_int_equal(p1->ops[2].kind, GALE__TOP_PROJECT);
    assert_int_equal(p1->ops[2].parent, 1);
    assert_int_equal(p1->ops[2].n_in, 2);
    assert_int_equal(p1->ops[2].in[0], 0);
    assert_int_equal(p1->ops[2].in[1], 2);
    assert_int_equal(p1->ops[3].kind, GALE__TOP_OUT);
    assert_int_equal(p1->ops[3].parent, 2);
    /* b-3's reducer reads line (0), grouped by w2 (1) */
    assert_int_equal(p3->ops[0].kind, GALE__TOP_AGG_REDUCE);
    assert_int_equal(p3->ops[0].in[0], 0);
    assert_int_equal(p3->ops[0].group[0], 1);
    gale__plan_free(p1);
    gale__plan_free(p3);
    gale__topology_destroy(topo);
}

/* A global aggregate with a combiner: the partial runs in the parent's
 * bolt without group fields; the plan decoder refuses flags on the
 * wrong ops. */
static void test_partial_global_and_decode(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = gale_tstream_shuffle(s);                        /* b-0 */
    s = GALE_AGGREGATE(s, "line", gale_max_agg, "max"); /* b-1 */
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    const gale__component_t *b0 = gale__topology_component(topo, "b-0"),
                            *b1 = gale__topology_component(topo, "b-1");
    assert_int_equal(b1->inputs[0].grouping, GALE_GROUPING_GLOBAL);
    gale__plan_t *p0 = plan_of(b0), *p1 = plan_of(b1);
    assert_int_equal(p0->n_ops, 3); /* shuffle, partial max, OUT */
    assert_int_equal(p0->ops[1].flags, GALE__TOP_F_PARTIAL_OUT);
    assert_int_equal(p0->ops[1].n_group, 0);
    assert_int_equal(p0->ops[1].n_in, 1);
    assert_int_equal(p1->ops[0].kind, GALE__TOP_AGG_COMBINE);
    assert_int_equal(p1->ops[0].flags, GALE__TOP_F_PARTIAL_IN);
    assert_int_equal(p1->ops[0].in[0], 0);
    gale__plan_free(p0);
    gale__plan_free(p1);
    /* flags on a PASS op, or a combine of partials with two inputs: refused */
    gale_value_t none[1];
    gale_value_t two[2] = {gale_int(0), gale_int(1)};
    gale_value_t bad_ops[2][9] = {
        {gale_int(GALE__TOP_PASS), gale_int(-1), gale_nil(), gale_array(none, 0), gale_int(0),
         gale_array(none, 0), gale_nil(), gale_int(-1), gale_int(GALE__TOP_F_PARTIAL_OUT)},
        {gale_int(GALE__TOP_AGG_COMBINE), gale_int(-1), gale_str("gale_sum_agg"),
         gale_array(two, 2), gale_int(1), gale_array(none, 0), gale_nil(), gale_int(-1),
         gale_int(GALE__TOP_F_PARTIAL_IN)}};
    for (int i = 0; i < 2; i++) {
        gale_value_t ops[1] = {gale_array(bad_ops[i], 9)};
        gale_value_t plan[6] = {gale_int(1),        gale_str("x"),       gale_array(none, 0),
                                gale_array(ops, 1), gale_array(none, 0), gale_nil()};
        gale_conf_t *conf = gale_conf_new();
        gale_conf_set(conf, GALE__TRIDENT_PLAN_KEY, gale_array(plan, 6));
        gale__plan_t *p = NULL;
        assert_int_equal(gale__plan_decode(conf, false, &p, err, sizeof err), GALE_EPROTO);
        assert_non_null(strstr(err, "partial"));
        gale__plan_free(p);
        gale_conf_destroy(conf);
    }
    gale__topology_destroy(topo);
}

static void expect_error(gale_builder_t *b, gale_trident_t *t, const char *want) {
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), GALE_EINVAL);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
    assert_null(strchr(err, '\n'));
    /* and the submit fails with it, even when the entry ignores the result */
    char err2[512] = "";
    assert_null(finish(b, err2, sizeof err2));
    if (!strstr(err2, want)) fail_msg("finish error '%s' lacks '%s'", err2, want);
}

static void test_bad_field(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = GALE_EACH(s, "sentense", tb_split, "word");
    s = gale_tstream_group_by(s, "word"); /* later ops are ignored after the first error */
    expect_error(b, t, "trident each(tb_split): no field 'sentense' in [line] — use one of those");
}

static void test_bad_group_field(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = GALE_EACH(s, "line", tb_split, "word");
    s = gale_tstream_group_by(s, "wrd");
    expect_error(b, t, "trident group_by: no field 'wrd' in [line,word]");
}

static void test_reserved_and_dup(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    GALE_EACH(s, "line", tb_split, "$txid");
    expect_error(b, t, "field '$txid' starts with '$'");
    b = gale_builder_new();
    t = gale_trident_new(b);
    s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    GALE_EACH(s, "line", tb_split, "line");
    expect_error(b, t, "output field 'line' is already a field of the stream");
}

static void test_no_stream_and_null_fn(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    char err[256];
    assert_int_equal(gale_trident_build(t, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "no stream"));
    gale_builder_destroy(b);
    b = gale_builder_new();
    t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    gale_tstream_each(s, "line", NULL, "nothing", "w");
    expect_error(b, t, "the function is NULL");
}

static void test_repartitions(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = gale_tstream_shuffle(s);                        /* b-0 */
    s = gale_tstream_partition_by(s, "line");           /* b-1 */
    s = gale_tstream_global(s);                         /* b-2 */
    s = gale_tstream_broadcast(s);                      /* b-3 */
    s = GALE_AGGREGATE(s, "line", gale_max_agg, "max"); /* b-4, global */
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    const gale__grouping_t want[] = {GALE_GROUPING_LOCAL_OR_SHUFFLE, GALE_GROUPING_FIELDS,
                                     GALE_GROUPING_GLOBAL, GALE_GROUPING_ALL, GALE_GROUPING_GLOBAL};
    /* b-0 follows the spout directly: local-or-shuffle (shuffle is the same here) */
    for (int i = 1; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "b-%d", i);
        const gale__component_t *c = gale__topology_component(topo, id);
        assert_non_null(c);
        assert_int_equal(c->inputs[0].grouping, want[i]);
    }
    gale__topology_destroy(topo);
}

/* An input of c from source on a stream not starting with '$' (data). */
static const gale__input_t *data_input(const gale__component_t *c, const char *source) {
    for (size_t i = 0; i < c->n_inputs; i++)
        if (strcmp(c->inputs[i].source, source) == 0 && c->inputs[i].stream[0] != '$')
            return &c->inputs[i];
    return NULL;
}

/* storm-starter's words: a second batch group, the query repartitioned
 * by the group field, and the results meeting the return info in one task */
static void test_drpc_words(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
    s = GALE_EACH(s, "line", tb_split, "word"); /* b-0 */
    s = gale_tstream_group_by(s, "word");
    gale_tstate_t *st =
        GALE_PERSISTENT_AGGREGATE(s, &spec, NULL, gale_count_agg, "count"); /* b-1 */
    gale_tstream_t *q = gale_trident_new_drpc_stream(t, "words");           /* b-2 */
    q = GALE_EACH(q, "args", tb_split, "word");
    q = gale_tstream_group_by(q, "word");
    q = GALE_STATE_QUERY(q, st, "word", gale_map_get_query, "count"); /* b-3 */
    q = GALE_FILTER(q, "count", gale_filter_null);
    GALE_AGGREGATE(q, "count", gale_sum_agg, "sum"); /* b-4, then the return b-5 */
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    const gale__component_t *c1 = gale__topology_component(topo, "$mastercoord-bg1");
    const gale__component_t *sp1 = gale__topology_component(topo, "spout1");
    assert_non_null(gale__topology_component(topo, "$mastercoord-bg0"));
    assert_non_null(c1);
    assert_non_null(sp1);
    assert_string_equal(sp1->symbol, "gale_trident_drpc_spout_bolt");
    assert_string_equal(sp1->inputs[0].source, "$mastercoord-bg1");
    const gale_value_t *fn = gale_conf_get(sp1->conf, "drpc.function");
    assert_non_null(fn);
    assert_string_equal(fn->u.s, "words");
    /* the query bolt: fields grouping on word from the DRPC chain, no $commit */
    const gale__component_t *b3 = gale__topology_component(topo, "b-3");
    assert_non_null(b3);
    const gale__input_t *in = data_input(b3, "b-2");
    assert_non_null(in);
    assert_int_equal(in->grouping, GALE_GROUPING_FIELDS);
    for (size_t i = 0; i < b3->n_inputs; i++)
        assert_string_not_equal(b3->inputs[i].stream, "$commit");
    /* the return: one task, global from the sum and from spout1 */
    const gale__component_t *b5 = gale__topology_component(topo, "b-5");
    assert_non_null(b5);
    assert_null(gale__topology_component(topo, "b-6"));
    assert_int_equal(b5->parallelism, 1);
    assert_non_null(data_input(b5, "b-4"));
    assert_int_equal(data_input(b5, "b-4")->grouping, GALE_GROUPING_GLOBAL);
    assert_non_null(data_input(b5, "spout1"));
    assert_int_equal(data_input(b5, "spout1")->grouping, GALE_GROUPING_GLOBAL);
    /* the committer b-1 gets bg0's $commit only */
    const gale__component_t *b1 = gale__topology_component(topo, "b-1");
    bool commit0 = false;
    for (size_t i = 0; i < b1->n_inputs; i++)
        if (strcmp(b1->inputs[i].stream, "$commit") == 0)
            commit0 = strcmp(b1->inputs[i].source, "$mastercoord-bg0") == 0;
    assert_true(commit0);
    gale__topology_destroy(topo);
}

static void test_query_and_drpc_errors(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = GALE_EACH(s, "line", tb_split, "word");
    gale_tstate_t *st = GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(s, "word"), &spec, NULL,
                                                  gale_count_agg, "n");
    GALE_STATE_QUERY(s, st, "word,line", gale_map_get_query, "count");
    expect_error(b, t,
                 "state_query(gale_map_get_query): the state has 1 key field(s), the "
                 "query's input 2");
    b = gale_builder_new();
    t = gale_trident_new(b);
    s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    GALE_STATE_QUERY(s, NULL, "line", gale_map_get_query, "count");
    expect_error(b, t, "state_query(gale_map_get_query): the state is NULL");
    b = gale_builder_new();
    t = gale_trident_new(b);
    s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    gale_tstream_t *q = gale_trident_new_drpc_stream(t, "f");
    gale_tstream_t *two[2] = {s, q};
    gale_trident_merge(t, two, 2);
    expect_error(b, t, "merge: stream 1 comes from another spout");
    b = gale_builder_new();
    t = gale_trident_new(b);
    GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    expect_error(b, t, "new_stream(x): another stream uses this txid name");
    b = gale_builder_new();
    t = gale_trident_new(b);
    GALE_TRIDENT_STREAM(t, "$drpc-f", gale_file_batch_spout);
    expect_error(b, t, "not starting with '$'");
    b = gale_builder_new();
    t = gale_trident_new(b);
    q = gale_trident_new_drpc_stream(t, "f");
    GALE_PARTITION_PERSIST(q, &spec, "args", "args", gale_last_agg);
    expect_error(b, t, "new_drpc_stream(f): the stream ends in a state");
    b = gale_builder_new();
    t = gale_trident_new(b);
    gale_trident_new_drpc_stream(t, "");
    expect_error(b, t, "the function name must be 1..128 bytes");
    b = gale_builder_new();
    t = gale_trident_new(b);
    q = gale_trident_new_drpc_stream(t, "f");
    gale_tstream_project(q, "$drpc-return");
    expect_error(b, t, "starts with '$'");
}

/* partition_persist stays in its parent's bolt and makes it a committer */
static void test_partition_persist(void **unused) {
    (void)unused;
    gale_builder_t *b = gale_builder_new();
    gale_trident_t *t = gale_trident_new(b);
    gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
    s = gale_tstream_partition_by(s, "line"); /* b-0 */
    s = GALE_EACH(s, "line", tb_split, "word");
    assert_non_null(GALE_PARTITION_PERSIST(s, &spec, "line", "word", gale_last_agg));
    char err[512] = "";
    assert_int_equal(gale_trident_build(t, err, sizeof err), 0);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("%s", err);
    const gale__component_t *b0 = gale__topology_component(topo, "b-0");
    assert_non_null(b0);
    assert_null(gale__topology_component(topo, "b-1"));
    bool commit = false;
    for (size_t i = 0; i < b0->n_inputs; i++)
        commit |= strcmp(b0->inputs[i].stream, "$commit") == 0;
    assert_true(commit);
    gale__topology_destroy(topo);
}

/* Every op of every bolt reads indexes inside its input's width, and
 * every OUT's width is its stream's declared field count: a projection
 * that drops a field read later fails here (or in the plan decode). */
static void check_widths(const gale__topology_t *topo) {
    for (size_t ci = 0; ci < topo->n_components; ci++) {
        const gale__component_t *c = &topo->components[ci];
        if (strncmp(c->id, "b-", 2) != 0 && strncmp(c->id, "spout", 5) != 0) continue;
        gale__plan_t *p = plan_of(c);
        long w[512], entry_w[512];
        assert_true(p->n_ops < 512);
        for (size_t k = 0; k < p->n_ops; k++) entry_w[k] = -1;
        if (p->spout_symbol && p->n_ops) entry_w[0] = (long)p->spout_fields;
        for (size_t i = 0; i < p->n_inputs; i++) {
            const gale__component_t *src = gale__topology_component(topo, p->inputs[i].source);
            assert_non_null(src);
            const gale__stream_t *st = gale__component_stream(src, p->inputs[i].stream);
            assert_non_null(st);
            int e = p->inputs[i].entry;
            if (p->ops[e].kind == GALE__TOP_DRPC_RETURN) continue;
            long sw = (long)st->n_fields - 2;
            if (entry_w[e] >= 0 && entry_w[e] != sw)
                fail_msg("%s: op %d has inputs of %ld and %ld fields", c->id, e, entry_w[e], sw);
            entry_w[e] = sw;
        }
        for (size_t k = 0; k < p->n_ops; k++) {
            const gale__pop_t *op = &p->ops[k];
            long in_w = op->parent >= 0 ? w[op->parent] : entry_w[k];
            if (op->kind == GALE__TOP_DRPC_RETURN) continue; /* takes any tuples */
            if (in_w < 0) fail_msg("%s: op %zu has no input", c->id, k);
            for (size_t i = 0; i < op->n_in; i++)
                if (op->in[i] >= in_w)
                    fail_msg("%s: op %zu (%s) reads field %d of %ld", c->id, k,
                             op->symbol ? op->symbol : "-", op->in[i], in_w);
            for (size_t i = 0; i < op->n_group; i++)
                if (op->group[i] >= in_w)
                    fail_msg("%s: op %zu groups by field %d of %ld", c->id, k, op->group[i], in_w);
            switch (op->kind) {
                case GALE__TOP_PASS:
                case GALE__TOP_FILTER:
                    w[k] = in_w;
                    break;
                case GALE__TOP_PROJECT:
                    w[k] = (long)op->n_in;
                    break;
                case GALE__TOP_EACH:
                case GALE__TOP_QUERY:
                    w[k] = in_w + (long)op->n_out;
                    break;
                case GALE__TOP_OUT:
                    if ((long)p->outputs[op->out].n_fields != in_w)
                        fail_msg("%s: output %d declares %zu fields, gets %ld", c->id, op->out,
                                 p->outputs[op->out].n_fields, in_w);
                    w[k] = in_w;
                    break;
                default:
                    w[k] = (long)op->n_out;
            }
        }
        gale__plan_free(p);
    }
}

static gale__topology_t *build_ok(gale_builder_t *b, gale_trident_t *t) {
    char err[512] = "";
    if (gale_trident_build(t, err, sizeof err)) fail_msg("build: %s", err);
    gale__topology_t *topo = finish(b, err, sizeof err);
    if (!topo) fail_msg("finish: %s", err);
    check_widths(topo);
    return topo;
}

static void tb_two_exec(void *st, const gale_value_t *in, size_t n, gale_trident_collector_t *c) {
    (void)st;
    (void)n;
    gale_value_t v[2] = {in[0], in[0]};
    gale_trident_emit(c, v, 2);
}
GALE_EXPORT const gale_trident_function_t tb_two = {NULL, tb_two_exec, NULL};

/* Adversarial shapes (review r3): merges, DRPC, several aggregations,
 * each after group_by and queries reading fields across boundaries. */
static void test_adversarial_shapes(void **unused) {
    (void)unused;
    gale_state_spec_t sp = spec;
    /* A: merge of two branches before a group_by and a combiner */
    {
        gale_builder_t *b = gale_builder_new();
        gale_trident_t *t = gale_trident_new(b);
        gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
        gale_tstream_t *a = GALE_EACH(s, "line", tb_split, "word");
        gale_tstream_t *c = GALE_EACH(gale_tstream_shuffle(a), "word", tb_split, "w2");
        gale_tstream_t *two[2] = {gale_tstream_project(a, "word"), gale_tstream_project(c, "w2")};
        gale_tstream_t *m = gale_trident_merge(t, two, 2);
        GALE_PERSISTENT_AGGREGATE(gale_tstream_group_by(m, "word"), &sp, NULL, gale_count_agg, "n");
        GALE_AGGREGATE(m, "word", gale_max_agg, "mx");
        gale__topology_destroy(build_ok(b, t));
    }
    /* B: each after group_by reading a non-group field, across a boundary */
    {
        gale_builder_t *b = gale_builder_new();
        gale_trident_t *t = gale_trident_new(b);
        gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
        s = GALE_EACH(s, "line", tb_two, "a,b");
        s = gale_tstream_partition_by(s, "a");
        s = gale_tstream_group_by(s, "a");
        s = GALE_EACH(s, "b", tb_split, "c");
        s = gale_tstream_global(s);
        s = GALE_FILTER(s, "line", tb_keep);
        GALE_AGGREGATE(gale_tstream_group_by(s, "c"), "b", gale_sum_agg, "sum");
        gale__topology_destroy(build_ok(b, t));
    }
    /* C: DRPC: the args read after the query bolt, several aggregations */
    {
        gale_builder_t *b = gale_builder_new();
        gale_trident_t *t = gale_trident_new(b);
        gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
        s = GALE_EACH(s, "line", tb_split, "word");
        gale_tstream_t *g = gale_tstream_group_by(s, "word");
        gale_tstate_t *st = GALE_PERSISTENT_AGGREGATE(g, &sp, NULL, gale_count_agg, "count");
        gale_state_spec_t sp2 = {GALE_STATE_TRANSACTIONAL, "wc2:", NULL, NULL, NULL};
        GALE_PERSISTENT_AGGREGATE(g, &sp2, "word", gale_max_agg, "mx");
        gale_tstream_t *q = gale_trident_new_drpc_stream(t, "words");
        q = GALE_EACH(q, "args", tb_split, "word");
        q = gale_tstream_group_by(q, "word");
        q = GALE_STATE_QUERY(q, st, "word", gale_map_get_query, "count");
        q = GALE_EACH(q, "args", tb_split, "a2");
        q = GALE_AGGREGATE(gale_tstream_group_by(q, "a2"), "count", gale_sum_agg, "sum");
        gale__topology_destroy(build_ok(b, t));
    }
    /* D: aggregate, each on the result, then a global persistent_aggregate;
     * the group field is also the input */
    {
        gale_builder_t *b = gale_builder_new();
        gale_trident_t *t = gale_trident_new(b);
        gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
        s = GALE_EACH(s, "line", tb_split, "word");
        s = GALE_AGGREGATE(gale_tstream_group_by(s, "word"), "word", gale_max_agg, "mx");
        s = GALE_EACH(s, "mx", tb_split, "e");
        GALE_PERSISTENT_AGGREGATE(s, &sp, "e", gale_max_agg, "top");
        s = GALE_AGGREGATE(s, "word", gale_count_agg, "n");
        GALE_AGGREGATE(s, "n", gale_sum_agg, "n2");
        gale__topology_destroy(build_ok(b, t));
    }
    /* E: partition_persist and a non-grouped query after a shuffle */
    {
        gale_builder_t *b = gale_builder_new();
        gale_trident_t *t = gale_trident_new(b);
        gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "x", gale_file_batch_spout);
        s = GALE_EACH(s, "line", tb_two, "a,b");
        gale_tstream_t *sh = gale_tstream_shuffle(s);
        gale_tstate_t *st = GALE_PARTITION_PERSIST(sh, &sp, "a", "b", gale_count_agg);
        gale_tstream_t *q =
            GALE_STATE_QUERY(gale_tstream_shuffle(s), st, "a", gale_map_get_query, "v");
        q = gale_tstream_partition_by(q, "v");
        GALE_AGGREGATE(gale_tstream_group_by(q, "v"), "line", gale_max_agg, "m");
        gale__topology_destroy(build_ok(b, t));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_count_names),
        cmocka_unit_test(test_no_partial),
        cmocka_unit_test(test_project_boundaries),
        cmocka_unit_test(test_partial_global_and_decode),
        cmocka_unit_test(test_bad_field),
        cmocka_unit_test(test_bad_group_field),
        cmocka_unit_test(test_reserved_and_dup),
        cmocka_unit_test(test_no_stream_and_null_fn),
        cmocka_unit_test(test_repartitions),
        cmocka_unit_test(test_drpc_words),
        cmocka_unit_test(test_query_and_drpc_errors),
        cmocka_unit_test(test_partition_persist),
        cmocka_unit_test(test_adversarial_shapes),
        cmocka_unit_test(test_global_input_one_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
