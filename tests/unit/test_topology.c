/*
 * test_topology.c — the topology model: builder -> finish -> validate ->
 * assign -> pack -> unpack round trip, one test per validation error with
 * its message, and an unpack that must refuse truncated, flipped and
 * wrong-typed buffers without crashing or leaking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology/topology.h"

/* ------------------------------------------------------------------ */
/* Components used by the tests                                         */
/* ------------------------------------------------------------------ */

static int last_declare_rc; /* what a declare() call returned, for assertions */

static void sentence_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    gale_declare(d, "sentence");
    gale_declare_stream(d, "control", "cmd", true);
    /* Component conf is visible to declare(): it can shape the streams. */
    const char *extra = gale_conf_get_str(conf, "extra.stream", NULL);
    if (extra) gale_declare_stream(d, extra, "a, b", false);
}
static void nop_next(void *state, gale_spout_collector_t *c) {
    (void)state;
    (void)c;
}
const gale_spout_t t_sentence_spout = {.declare = sentence_declare, .next_tuple = nop_next};
const gale_spout_t t_silent_spout = {.next_tuple = nop_next}; /* no streams */

static void split_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    last_declare_rc = gale_declare(d, "word");
}
static void count_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "word,count");
}
static void dup_stream_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "x");
    last_declare_rc = gale_declare_stream(d, "default", "y", false);
}
static void empty_field_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    last_declare_rc = gale_declare(d, "a,,b");
}
static void reserved_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare_stream(d, "__mine", "x", false);
}
static int nop_exec(void *s, const gale_tuple_t *t, gale_collector_t *c) {
    (void)s;
    (void)t;
    (void)c;
    return 0;
}
const gale_bolt_t t_split_bolt = {.declare = split_declare, .execute = nop_exec};
const gale_bolt_t t_count_bolt = {.declare = count_declare, .execute = nop_exec};
const gale_bolt_t t_sink_bolt = {.execute = nop_exec}; /* declare NULL: no streams */
const gale_bolt_t t_dup_stream_bolt = {.declare = dup_stream_declare, .execute = nop_exec};
const gale_bolt_t t_empty_field_bolt = {.declare = empty_field_declare, .execute = nop_exec};
const gale_bolt_t t_reserved_bolt = {.declare = reserved_declare, .execute = nop_exec};

static size_t first_choose(void *state, const int *targets, size_t n_targets,
                           const gale_value_t *values, size_t n_values, int *out, size_t cap) {
    (void)state;
    (void)n_targets;
    (void)values;
    (void)n_values;
    if (cap) out[0] = targets[0];
    return 1;
}
const gale_grouping_t t_first_grouping = {.choose = first_choose};

/* Resolver: a table of the symbols above, minus one the test hides. */
static const char *hidden_symbol;

static const void *resolve(void *ud, const char *symbol) {
    (void)ud;
    static const struct {
        const char *name;
        const void *p;
    } table[] = {
        {"t_sentence_spout", &t_sentence_spout}, {"t_silent_spout", &t_silent_spout},
        {"t_split_bolt", &t_split_bolt},         {"t_count_bolt", &t_count_bolt},
        {"t_sink_bolt", &t_sink_bolt},           {"t_first_grouping", &t_first_grouping},
        {"t_reserved_bolt", &t_reserved_bolt},
    };
    if (hidden_symbol && strcmp(symbol, hidden_symbol) == 0) return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, symbol) == 0) return table[i].p;
    return NULL;
}

static int setup(void **state) {
    (void)state;
    hidden_symbol = NULL;
    last_declare_rc = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* spout -> split -> count: the smallest valid topology; callers add to it. */
static gale_builder_t *base_builder(void) {
    gale_builder_t *b = gale_builder_new();
    assert_non_null(b);
    GALE_SPOUT(b, "spout", t_sentence_spout, 2);
    gale_component_t *split = GALE_BOLT(b, "split", t_split_bolt, 3);
    gale_shuffle_grouping(split, "spout", NULL);
    return b;
}

static gale__topology_t *finish_ok(gale_builder_t *b, const char *name) {
    gale__topology_t *t = NULL;
    char err[512] = "";
    int rc = gale__builder_finish(b, name, NULL, &t, err, sizeof err);
    if (rc) fail_msg("finish failed: %s", err);
    assert_non_null(t);
    return t;
}

/* Finish must fail with a message containing want. */
static void expect_finish_error(gale_builder_t *b, const char *want) {
    gale__topology_t *t = (gale__topology_t *)1;
    char err[512] = "";
    int rc = gale__builder_finish(b, "topo", gale_conf_new(), &t, err, sizeof err);
    assert_true(rc < 0);
    assert_null(t);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
    assert_null(strchr(err, '\n'));
}

/* Validate must fail with a message containing want. */
static void expect_invalid(gale_builder_t *b, const char *name, const char *want) {
    gale__topology_t *t = finish_ok(b, name);
    char err[512] = "";
    int rc = gale__topology_validate(t, resolve, NULL, err, sizeof err);
    gale__topology_destroy(t);
    assert_int_equal(rc, GALE_EINVAL);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
    assert_null(strchr(err, '\n'));
}

static void pack(const gale__topology_t *t, msgpack_sbuffer *sb) {
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(gale__topology_pack(&pk, t), 0);
}

/* A topology with every grouping kind, direct streams and confs. */
static gale__topology_t *full_topology(void) {
    gale_builder_t *b = gale_builder_new();
    gale_component_t *spout = GALE_SPOUT(b, "spout", t_sentence_spout, 2);
    gale_component_conf_set_str(spout, "extra.stream", "side");
    gale_component_t *split = GALE_BOLT(b, "split", t_split_bolt, 3);
    gale_shuffle_grouping(split, "spout", NULL);
    gale_component_conf_set_int(split, "split.max", 42);
    gale_value_t arr[] = {gale_int(1), gale_str("two"), gale_double(3.5), gale_nil()};
    gale_component_conf_set(split, "split.list", gale_array(arr, 4));
    gale_component_t *count = GALE_BOLT(b, "count", t_count_bolt, 4);
    gale_component_set_tasks(count, 8);
    gale_fields_grouping(count, "split", "default", " word ");
    gale_all_grouping(GALE_BOLT(b, "all", t_sink_bolt, 1), "count", NULL);
    gale_global_grouping(GALE_BOLT(b, "global", t_sink_bolt, 1), "count", NULL);
    gale_none_grouping(GALE_BOLT(b, "none", t_sink_bolt, 1), "split", NULL);
    gale_direct_grouping(GALE_BOLT(b, "direct", t_sink_bolt, 2), "spout", "control");
    gale_local_or_shuffle_grouping(GALE_BOLT(b, "local", t_sink_bolt, 1), "spout", "side");
    gale_component_t *pk = GALE_BOLT(b, "pk", t_sink_bolt, 2);
    gale_partial_key_grouping(pk, "count", NULL, "word,count");
    gale_component_t *cu = GALE_BOLT(b, "custom", t_sink_bolt, 1);
    GALE_CUSTOM_GROUPING(cu, "split", NULL, t_first_grouping);
    gale_shuffle_grouping(cu, "spout", "side"); /* two inputs */
    GALE_SPOUT(b, "another", t_silent_spout, 1);

    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.workers", 3);
    gale_conf_set_bool(conf, "topology.debug", true);
    gale_conf_set_str(conf, "user.key", "hello");
    gale_value_t kv[] = {gale_str("k"), gale_bytes("\0\1\2", 3)};
    gale_conf_set(conf, "user.map", gale_map(kv, 1));

    gale__topology_t *t = NULL;
    char err[512] = "";
    int rc = gale__builder_finish(b, "full.topo-1", conf, &t, err, sizeof err);
    if (rc) fail_msg("finish: %s", err);
    rc = gale__topology_validate(t, resolve, NULL, err, sizeof err);
    if (rc) fail_msg("validate: %s", err);
    gale__topology_assign_tasks(t);
    return t;
}

/* ------------------------------------------------------------------ */
/* Round trip                                                           */
/* ------------------------------------------------------------------ */

static void test_round_trip(void **state) {
    (void)state;
    gale__topology_t *t = full_topology();

    /* Task assignment: sorted by id (strcmp), contiguous from 1. */
    assert_int_equal(t->n_components, 11);
    int next = 1;
    for (size_t i = 0; i < t->n_components; i++) {
        if (i) assert_true(strcmp(t->components[i - 1].id, t->components[i].id) < 0);
        assert_int_equal(t->components[i].first_task, next);
        next += t->components[i].tasks;
    }
    assert_int_equal(t->n_tasks, next - 1);
    assert_int_equal(t->n_tasks, 2 + 3 + 8 + 1 + 1 + 1 + 2 + 1 + 2 + 1 + 1);
    assert_string_equal(t->components[0].id, "all");
    assert_string_equal(t->components[1].id, "another");
    assert_int_equal(t->components[1].first_task, 2);
    const gale__component_t *count = gale__topology_component(t, "count");
    assert_non_null(count);
    assert_int_equal(count->parallelism, 4);
    assert_int_equal(count->tasks, 8);
    assert_ptr_equal(gale__topology_task_component(t, count->first_task), count);
    assert_ptr_equal(gale__topology_task_component(t, count->first_task + 7), count);
    assert_ptr_not_equal(gale__topology_task_component(t, count->first_task + 8), count);
    assert_null(gale__topology_task_component(t, 0));
    assert_null(gale__topology_task_component(t, t->n_tasks + 1));
    assert_string_equal(gale__topology_task_component(t, 1)->id, "all");
    assert_string_equal(gale__topology_task_component(t, t->n_tasks)->id, "spout");

    /* What the builder and declare() recorded. */
    const gale__component_t *spout = gale__topology_component(t, "spout");
    assert_true(spout->is_spout);
    assert_string_equal(spout->symbol, "t_sentence_spout");
    assert_int_equal(spout->n_streams, 3); /* default, control, side (from conf) */
    const gale__stream_t *ctl = gale__component_stream(spout, "control");
    assert_non_null(ctl);
    assert_true(ctl->direct);
    const gale__stream_t *side = gale__component_stream(spout, "side");
    assert_int_equal(gale__stream_field_index(side, "b"), 1);
    assert_int_equal(gale__stream_field_index(side, "c"), -1);
    assert_int_equal(count->inputs[0].grouping, GALE_GROUPING_FIELDS);
    assert_int_equal(count->inputs[0].n_fields, 1);
    assert_string_equal(count->inputs[0].fields[0], "word"); /* trimmed */
    const gale__component_t *cu = gale__topology_component(t, "custom");
    assert_string_equal(cu->inputs[0].custom_symbol, "t_first_grouping");
    assert_int_equal(gale__topology_component(t, "none")->inputs[0].grouping, GALE_GROUPING_NONE);
    assert_int_equal(gale_conf_get_int(gale__topology_component(t, "split")->conf, "split.max", 0),
                     42);
    assert_null(gale__topology_component(t, "sink"));
    assert_int_equal(gale_conf_get_int(t->conf, "topology.workers", 0), 3);

    /* pack -> unpack -> equal, and a second pack gives the same bytes. */
    msgpack_sbuffer sb;
    pack(t, &sb);
    gale__topology_t *u = NULL;
    char err[256] = "";
    int rc = gale__topology_unpack(sb.data, sb.size, &u, err, sizeof err);
    if (rc) fail_msg("unpack: %s", err);
    assert_true(gale__topology_equal(t, u));
    assert_int_equal(u->n_tasks, t->n_tasks);
    msgpack_sbuffer sb2;
    pack(u, &sb2);
    assert_int_equal(sb.size, sb2.size);
    assert_memory_equal(sb.data, sb2.data, sb.size);
    assert_int_equal(gale__topology_validate(u, resolve, NULL, err, sizeof err), 0);

    /* equal sees a difference deep inside: a component conf value. */
    gale_conf_set_int(gale__topology_component(u, "split")->conf, "split.max", 43);
    assert_false(gale__topology_equal(t, u));
    gale_conf_set_int(gale__topology_component(u, "split")->conf, "split.max", 42);
    assert_true(gale__topology_equal(t, u));
    u->components[3].inputs[0].grouping = GALE_GROUPING_GLOBAL;
    assert_false(gale__topology_equal(t, u));

    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&sb2);
    gale__topology_destroy(u);
    gale__topology_destroy(t);
}

static void test_unassigned_round_trip(void **state) {
    (void)state;
    gale__topology_t *t = finish_ok(base_builder(), "plain");
    msgpack_sbuffer sb;
    pack(t, &sb);
    gale__topology_t *u = NULL;
    assert_int_equal(gale__topology_unpack(sb.data, sb.size, &u, NULL, 0), 0);
    assert_true(gale__topology_equal(t, u));
    assert_int_equal(u->n_tasks, 0);
    msgpack_sbuffer_destroy(&sb);
    gale__topology_destroy(u);
    gale__topology_destroy(t);
}

static void test_grouping_names(void **state) {
    (void)state;
    assert_string_equal(gale__grouping_name(GALE_GROUPING_FIELDS), "fields");
    assert_string_equal(gale__grouping_name(GALE_GROUPING_LOCAL_OR_SHUFFLE), "local_or_shuffle");
    assert_string_equal(gale__grouping_name(GALE_GROUPING_PARTIAL_KEY), "partial_key");
    assert_string_equal(gale__grouping_name(GALE_GROUPING__COUNT), "?");
}

/* ------------------------------------------------------------------ */
/* Builder-level errors                                                 */
/* ------------------------------------------------------------------ */

static void test_duplicate_id(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "split", t_count_bolt, 1), "spout", NULL);
    expect_finish_error(b, "component 'split' is defined twice: component ids must be unique");
}

static void test_parallelism_zero(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_component_t *c = GALE_BOLT(b, "count", t_count_bolt, 0);
    assert_non_null(c); /* building code needs no checks */
    gale_shuffle_grouping(c, "split", NULL);
    expect_finish_error(b, "component 'count': parallelism 0 must be at least 1");
}

static void test_tasks_fewer_than_parallelism(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_component_t *c = GALE_BOLT(b, "count", t_count_bolt, 4);
    gale_component_set_tasks(c, 3);
    gale_shuffle_grouping(c, "split", NULL);
    expect_finish_error(b, "component 'count': 3 tasks is fewer than its parallelism 4");

    /* A later call corrects it; 0 tasks is an error, not "the default". */
    b = base_builder();
    c = GALE_BOLT(b, "count", t_count_bolt, 4);
    gale_component_set_tasks(c, 0);
    gale_shuffle_grouping(c, "split", NULL);
    expect_finish_error(b, "component 'count': 0 tasks is fewer than its parallelism 4");
    b = base_builder();
    c = GALE_BOLT(b, "count", t_count_bolt, 4);
    gale_component_set_tasks(c, 3);
    gale_component_set_tasks(c, 6);
    gale_shuffle_grouping(c, "split", NULL);
    gale__topology_t *ok = finish_ok(b, "topo");
    assert_int_equal(gale__topology_component(ok, "count")->tasks, 6);
    gale__topology_destroy(ok);

    /* Validation re-checks it (an unpacked topology never saw the builder). */
    gale__topology_t *t = finish_ok(base_builder(), "topo");
    t->components[1].tasks = 2;
    char err[256];
    assert_int_equal(gale__topology_validate(t, NULL, NULL, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "component 'split': 2 tasks is fewer than its parallelism 3"));
    gale__topology_destroy(t);
}

static void test_declare_errors(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "dup", t_dup_stream_bolt, 1), "spout", NULL);
    expect_finish_error(b, "component 'dup': stream 'default' is declared twice");
    assert_int_equal(last_declare_rc, GALE_EEXIST);

    b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "ef", t_empty_field_bolt, 1), "spout", NULL);
    expect_finish_error(b, "component 'ef': stream 'default': empty field name in \"a,,b\"");
    assert_int_equal(last_declare_rc, GALE_EINVAL);

    /* And a clean declare returns 0. */
    gale__topology_destroy(finish_ok(base_builder(), "t"));
    assert_int_equal(last_declare_rc, 0);
}

static void test_grouping_field_list_errors(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_fields_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", NULL, "");
    expect_finish_error(b, "component 'count': fields grouping on 'split:default' names no fields");

    b = base_builder();
    gale_partial_key_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", NULL, "word,");
    expect_finish_error(b, "component 'count': partial_key grouping on 'split:default': empty "
                           "field name");
}

static void test_finish_consumes_on_error(void **state) {
    (void)state;
    /* NULL builder: conf still consumed (ASan would report a leak). */
    gale__topology_t *t = NULL;
    char err[128];
    assert_int_equal(gale__builder_finish(NULL, "x", gale_conf_new(), &t, err, sizeof err),
                     GALE_EINVAL);
    assert_null(t);
    gale_builder_destroy(NULL);
    gale_component_set_tasks(NULL, 3);
    gale_shuffle_grouping(NULL, "a", NULL);
    assert_int_equal(gale_component_conf_set_int(NULL, "a", 1), GALE_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Validation errors                                                    */
/* ------------------------------------------------------------------ */

static void test_unknown_source(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_fields_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "splt", NULL, "word");
    expect_invalid(b, "topo",
                   "component 'count': input from unknown component 'splt' (known: spout, split, "
                   "count)");
}

static void test_unknown_stream(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", "words");
    expect_invalid(b, "topo",
                   "component 'count': input from unknown stream 'split:words' ('split' declares: "
                   "default)");
}

static void test_undeclared_grouping_field(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_fields_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", NULL, "wrd");
    expect_invalid(b, "topo",
                   "component 'count': fields grouping on 'wrd' but stream 'split:default' "
                   "declares fields [word] — use one of those");
}

static void test_direct_on_non_direct(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_direct_grouping(GALE_BOLT(b, "d", t_sink_bolt, 1), "spout", NULL);
    expect_invalid(b, "topo",
                   "component 'd': direct grouping on stream 'spout:default', which is not direct");
}

static void test_non_direct_on_direct(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "d", t_sink_bolt, 1), "spout", "control");
    expect_invalid(b, "topo",
                   "component 'd': shuffle grouping on direct stream 'spout:control' — a direct "
                   "stream takes only a direct grouping");
}

static void test_spout_with_input(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_component_t *s2 = GALE_SPOUT(b, "s2", t_sentence_spout, 1);
    gale_shuffle_grouping(s2, "split", NULL);
    expect_invalid(b, "topo", "component 's2': a spout cannot subscribe to streams");
}

static void test_bolt_without_input(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    GALE_BOLT(b, "lonely", t_sink_bolt, 1);
    expect_invalid(b, "topo", "component 'lonely': bolt has no input");
}

static void test_cycle(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_component_t *a = GALE_BOLT(b, "a", t_split_bolt, 1);
    gale_component_t *c = GALE_BOLT(b, "b", t_split_bolt, 1);
    gale_shuffle_grouping(a, "split", NULL);
    gale_shuffle_grouping(a, "b", NULL);
    gale_shuffle_grouping(c, "a", NULL);
    expect_invalid(b, "topo",
                   "topology has a cycle: a -> b -> a; Gale runs acyclic topologies only");

    b = base_builder();
    gale_component_t *self = GALE_BOLT(b, "self", t_split_bolt, 1);
    gale_shuffle_grouping(self, "split", NULL);
    gale_shuffle_grouping(self, "self", NULL);
    expect_invalid(b, "topo", "topology has a cycle: self -> self;");
}

static void test_missing_symbol(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", NULL);
    hidden_symbol = "t_count_bolt";
    expect_invalid(b, "topo",
                   "component 'count': implementation symbol 't_count_bolt' not found in the "
                   "topology library or libgale — export it (non-static) and build with -fPIC");

    b = base_builder();
    GALE_CUSTOM_GROUPING(GALE_BOLT(b, "cu", t_sink_bolt, 1), "split", NULL, t_first_grouping);
    hidden_symbol = "t_first_grouping";
    expect_invalid(b, "topo",
                   "component 'cu': custom grouping symbol 't_first_grouping' not found in the "
                   "topology library or libgale — export it (non-static) and build with -fPIC");

    /* Without a resolver (a builder-only check) symbols are not looked up. */
    b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "count", t_count_bolt, 1), "split", NULL);
    gale__topology_t *t = finish_ok(b, "topo");
    assert_int_equal(gale__topology_validate(t, NULL, NULL, NULL, 0), 0);
    gale__topology_destroy(t);
}

static void test_bad_name(void **state) {
    (void)state;
    expect_invalid(base_builder(), "my topo",
                   "topology name 'my topo' contains ' ': use only letters, digits");
    expect_invalid(base_builder(), "", "topology name is empty");
    /* 128 bytes pass, 129 do not: the cluster's messages carry at most 128 */
    char name[GALE_NAME_MAX + 2];
    memset(name, 'n', GALE_NAME_MAX);
    name[GALE_NAME_MAX] = '\0';
    gale__topology_t *t = finish_ok(base_builder(), name);
    assert_int_equal(gale__topology_validate(t, NULL, NULL, NULL, 0), 0);
    gale__topology_destroy(t);
    strcat(name, "n");
    expect_invalid(base_builder(), name, "bytes long: at most 128");
    gale_builder_t *bb = base_builder();
    GALE_BOLT(bb, name, t_sink_bolt, 1);
    expect_invalid(bb, "topo",
                   "component id 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 129 bytes long");
}

static void test_reserved_stream(void **state) {
    (void)state;
    gale_builder_t *b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "r", t_reserved_bolt, 1), "split", NULL);
    expect_invalid(b, "topo", "component 'r': stream '__mine' starts with '__', which is reserved");

    b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "t", t_sink_bolt, 1), "split", "__tick");
    expect_invalid(b, "topo", "component 't': input from reserved stream 'split:__tick'");

    b = base_builder();
    gale_shuffle_grouping(GALE_BOLT(b, "__acker", t_sink_bolt, 1), "split", NULL);
    expect_invalid(b, "topo", "component '__acker': ids starting with '__' are reserved");
}

static void test_no_components(void **state) {
    (void)state;
    expect_invalid(gale_builder_new(), "empty", "topology 'empty' has no components");
}

/* ------------------------------------------------------------------ */
/* Unpack never trusts its input                                        */
/* ------------------------------------------------------------------ */

/* Unpack buf; on success the result must survive a pack/unpack round trip. */
static int try_unpack(const void *buf, size_t len) {
    gale__topology_t *t = NULL;
    char err[256] = "";
    int rc = gale__topology_unpack(buf, len, &t, err, sizeof err);
    if (rc) {
        assert_int_equal(rc, GALE_EPROTO);
        assert_null(t);
        assert_true(err[0] != '\0');
        assert_null(strchr(err, '\n'));
        return rc;
    }
    msgpack_sbuffer sb;
    pack(t, &sb);
    gale__topology_t *u = NULL;
    assert_int_equal(gale__topology_unpack(sb.data, sb.size, &u, err, sizeof err), 0);
    assert_true(gale__topology_equal(t, u));
    msgpack_sbuffer_destroy(&sb);
    gale__topology_destroy(u);
    gale__topology_destroy(t);
    return 0;
}

static void test_unpack_prefixes_and_flips(void **state) {
    (void)state;
    gale__topology_t *t = full_topology();
    msgpack_sbuffer sb;
    pack(t, &sb);
    for (size_t n = 0; n < sb.size; n++) assert_int_equal(try_unpack(sb.data, n), GALE_EPROTO);
    assert_int_equal(try_unpack(sb.data, sb.size), 0);

    char *copy = malloc(sb.size + 1);
    static const unsigned char flips[] = {0x01, 0x10, 0x80, 0xff};
    size_t failures = 0;
    for (size_t i = 0; i < sb.size; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, sb.data, sb.size);
            copy[i] = (char)(copy[i] ^ flips[f]);
            if (try_unpack(copy, sb.size)) failures++;
        }
    }
    assert_true(failures > 0); /* many flips break structure */
    /* One trailing byte too many. */
    memcpy(copy, sb.data, sb.size);
    copy[sb.size] = 0;
    assert_int_equal(try_unpack(copy, sb.size + 1), GALE_EPROTO);
    free(copy);
    msgpack_sbuffer_destroy(&sb);
    gale__topology_destroy(t);
}

/* Build a one-component encoding with one field overridden. */
typedef struct over {
    const char *key; /* component key to replace, or NULL */
    int kind;        /* 0 int, 1 str, 2 nil, 3 drop the key */
    int64_t i;
    const char *s;
} over_t;

static void pack_kv_str(msgpack_packer *pk, const char *k, const char *v) {
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

static bool apply(msgpack_packer *pk, const over_t *o, const char *key) {
    if (!o->key || strcmp(o->key, key) != 0) return false;
    if (o->kind == 3) return true;
    msgpack_pack_str_with_body(pk, key, strlen(key));
    if (o->kind == 0) msgpack_pack_int64(pk, o->i);
    if (o->kind == 1) msgpack_pack_str_with_body(pk, o->s, strlen(o->s));
    if (o->kind == 2) msgpack_pack_nil(pk);
    return true;
}

static int unpack_with(const over_t *o, char *err, size_t errlen) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    pack_kv_str(&pk, "name", "t");
    msgpack_pack_str_with_body(&pk, "conf", 4);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_str_with_body(&pk, "components", 10);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, o->kind == 3 ? 8 : 9);
    if (!apply(&pk, o, "id")) pack_kv_str(&pk, "id", "c");
    if (!apply(&pk, o, "spout")) {
        msgpack_pack_str_with_body(&pk, "spout", 5);
        msgpack_pack_false(&pk);
    }
    if (!apply(&pk, o, "symbol")) pack_kv_str(&pk, "symbol", "sym");
    static const char *const ints[] = {"parallelism", "tasks", "first_task"};
    for (int i = 0; i < 3; i++) {
        if (apply(&pk, o, ints[i])) continue;
        msgpack_pack_str_with_body(&pk, ints[i], strlen(ints[i]));
        msgpack_pack_int(&pk, 1);
    }
    if (!apply(&pk, o, "conf")) {
        msgpack_pack_str_with_body(&pk, "conf", 4);
        msgpack_pack_map(&pk, 0);
    }
    if (!apply(&pk, o, "streams")) {
        msgpack_pack_str_with_body(&pk, "streams", 7);
        msgpack_pack_array(&pk, 0);
    }
    if (!apply(&pk, o, "inputs")) {
        msgpack_pack_str_with_body(&pk, "inputs", 6);
        msgpack_pack_array(&pk, 1);
        msgpack_pack_map(&pk, 5);
        pack_kv_str(&pk, "source", "c");
        pack_kv_str(&pk, "stream", "default");
        if (!apply(&pk, o, "grouping")) pack_kv_str(&pk, "grouping", "shuffle");
        msgpack_pack_str_with_body(&pk, "fields", 6);
        msgpack_pack_array(&pk, 0);
        msgpack_pack_str_with_body(&pk, "custom", 6);
        msgpack_pack_nil(&pk);
    }
    gale__topology_t *t = NULL;
    int rc = gale__topology_unpack(sb.data, sb.size, &t, err, errlen);
    gale__topology_destroy(t);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void expect_proto(over_t o, const char *want) {
    char err[256] = "";
    assert_int_equal(unpack_with(&o, err, sizeof err), GALE_EPROTO);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_unpack_wrong_types(void **state) {
    (void)state;
    char err[256];
    over_t none = {NULL, 0, 0, NULL};
    assert_int_equal(unpack_with(&none, err, sizeof err), 0);

    expect_proto((over_t){"parallelism", 0, 0, NULL}, "'parallelism' must be in 1..100000");
    expect_proto((over_t){"parallelism", 0, 100001, NULL}, "'parallelism' must be in 1..100000");
    expect_proto((over_t){"tasks", 0, -5, NULL}, "'tasks' must be in 1..100000");
    expect_proto((over_t){"tasks", 0, INT64_MAX, NULL}, "'tasks' must be in 1..100000");
    expect_proto((over_t){"parallelism", 1, 0, "4"}, "'parallelism' must be an integer");
    expect_proto((over_t){"id", 0, 7, NULL}, "component 0: 'id' must be a string");
    expect_proto((over_t){"spout", 2, 0, NULL}, "'spout' must be a boolean");
    expect_proto((over_t){"symbol", 3, 0, NULL}, "lacks required key 'symbol'");
    expect_proto((over_t){"grouping", 1, 0, "fieldz"}, "unknown grouping 'fieldz'");
    expect_proto((over_t){"inputs", 0, 1, NULL}, "'inputs' must be an array");
    expect_proto((over_t){"streams", 1, 0, "x"}, "'streams' must be an array");
    expect_proto((over_t){"conf", 0, 1, NULL}, "'conf' must be a map");
    expect_proto((over_t){"first_task", 0, 5, NULL}, "starts at task 5, expected 1");

    /* Raw buffers: wrong top-level type, an array claiming 4 billion
     * items, a string longer than the buffer, the never-used byte. */
    static const unsigned char arr[] = {0x91, 0x01};
    static const unsigned char huge_arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00};
    static const unsigned char huge_map[] = {0x81, 0xa4, 'n',  'a',  'm', 'e',
                                             0xdf, 0xff, 0xff, 0xff, 0xff};
    static const unsigned char long_str[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
    static const unsigned char c1[] = {0xc1};
    gale__topology_t *t = NULL;
    assert_int_equal(gale__topology_unpack(arr, sizeof arr, &t, err, sizeof err), GALE_EPROTO);
    assert_non_null(strstr(err, "the topology must be a map"));
    assert_int_equal(gale__topology_unpack(huge_arr, sizeof huge_arr, &t, err, sizeof err),
                     GALE_EPROTO);
    assert_non_null(strstr(err, "container count larger than the message"));
    assert_int_equal(gale__topology_unpack(huge_map, sizeof huge_map, &t, err, sizeof err),
                     GALE_EPROTO);
    assert_int_equal(gale__topology_unpack(long_str, sizeof long_str, &t, err, sizeof err),
                     GALE_EPROTO);
    assert_int_equal(gale__topology_unpack(c1, sizeof c1, &t, err, sizeof err), GALE_EPROTO);
    assert_int_equal(gale__topology_unpack(NULL, 0, &t, err, sizeof err), GALE_EPROTO);
    assert_null(t);

    /* Deep nesting is refused, not a stack overflow. */
    unsigned char deep[200];
    memset(deep, 0x91, sizeof deep);
    deep[sizeof deep - 1] = 0x00;
    assert_int_equal(gale__topology_unpack(deep, sizeof deep, &t, err, sizeof err), GALE_EPROTO);

    /* A duplicate key is refused. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    pack_kv_str(&pk, "name", "a");
    pack_kv_str(&pk, "name", "b");
    msgpack_pack_str_with_body(&pk, "conf", 4);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_str_with_body(&pk, "components", 10);
    msgpack_pack_array(&pk, 0);
    assert_int_equal(gale__topology_unpack(sb.data, sb.size, &t, err, sizeof err), GALE_EPROTO);
    assert_non_null(strstr(err, "has key 'name' twice"));
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_unassigned_round_trip, setup),
        cmocka_unit_test_setup(test_grouping_names, setup),
        cmocka_unit_test_setup(test_duplicate_id, setup),
        cmocka_unit_test_setup(test_parallelism_zero, setup),
        cmocka_unit_test_setup(test_tasks_fewer_than_parallelism, setup),
        cmocka_unit_test_setup(test_declare_errors, setup),
        cmocka_unit_test_setup(test_grouping_field_list_errors, setup),
        cmocka_unit_test_setup(test_finish_consumes_on_error, setup),
        cmocka_unit_test_setup(test_unknown_source, setup),
        cmocka_unit_test_setup(test_unknown_stream, setup),
        cmocka_unit_test_setup(test_undeclared_grouping_field, setup),
        cmocka_unit_test_setup(test_direct_on_non_direct, setup),
        cmocka_unit_test_setup(test_non_direct_on_direct, setup),
        cmocka_unit_test_setup(test_spout_with_input, setup),
        cmocka_unit_test_setup(test_bolt_without_input, setup),
        cmocka_unit_test_setup(test_cycle, setup),
        cmocka_unit_test_setup(test_missing_symbol, setup),
        cmocka_unit_test_setup(test_bad_name, setup),
        cmocka_unit_test_setup(test_reserved_stream, setup),
        cmocka_unit_test_setup(test_no_components, setup),
        cmocka_unit_test_setup(test_unpack_prefixes_and_flips, setup),
        cmocka_unit_test_setup(test_unpack_wrong_types, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
