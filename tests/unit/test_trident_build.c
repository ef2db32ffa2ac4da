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
    /* b-0's data stream carries the batch id first, then the user's fields */
    const gale__stream_t *st = gale__component_stream(b0, b1->inputs[0].stream);
    assert_non_null(st);
    assert_int_equal(st->n_fields, 4);
    assert_string_equal(st->fields[0], "$txid");
    assert_string_equal(st->fields[2], "line");
    assert_string_equal(st->fields[3], "word");
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_count_names),      cmocka_unit_test(test_bad_field),
        cmocka_unit_test(test_bad_group_field),       cmocka_unit_test(test_reserved_and_dup),
        cmocka_unit_test(test_no_stream_and_null_fn), cmocka_unit_test(test_repartitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
