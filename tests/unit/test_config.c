/*
 * test_config.c — the configuration table and gale_conf_t: defaults, YAML
 * files, -c key=value, precedence of layers, every user-facing error
 * message, the unknown-key hint, msgpack round trips and garbage input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/log.h"
#include "common/value.h"

static char tmpdir[] = "/tmp/gale-test-config-XXXXXX";
static int nfiles;

static int setup_dir(void **state) {
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state) {
    (void)state;
    char path[256];
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/%d.yaml", tmpdir, i);
        unlink(path);
    }
    return rmdir(tmpdir);
}

/* Write text to a fresh file in the temp dir; returns its path (static). */
static const char *write_yaml(const char *text) {
    static char path[256];
    snprintf(path, sizeof(path), "%s/%d.yaml", tmpdir, nfiles++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

static bool contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected '%s' in '%s'\n", needle, hay);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */

static void test_table_sane(void **state) {
    (void)state;
    assert_true(gale__conf_nkeys >= 21);
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        const gale_conf_key_t *r = &gale__conf_keys[i];
        assert_ptr_equal(gale__conf_key_find(r->name), r);
        assert_non_null(r->desc);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(gale__conf_keys[j].name, r->name);
    }
    assert_null(gale__conf_key_find("no.such.key"));
    assert_null(gale__conf_key_find(NULL));
}

static void test_defaults(void **state) {
    (void)state;
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_set_defaults(c), 0);
    size_t with_default = 0;
    for (size_t i = 0; i < gale__conf_nkeys; i++) with_default += gale__conf_keys[i].def != NULL;
    assert_int_equal(gale_conf_count(c), with_default);
    assert_int_equal(gale__conf_validate(c, "defaults", NULL, 0), 0);

    assert_int_equal(gale_conf_get_int(c, GALE_CONF_NIMBUS_PORT, -1), 6627);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_WORKERS, -1), 1);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, -1), 30);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, -1),
                     32768);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_TRANSFER_HWM, -1), 1024);
    assert_true(gale_conf_get_bool(c, GALE_CONF_TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS, false));
    assert_false(gale_conf_get_bool(c, GALE_CONF_TOPOLOGY_DEBUG, true));
    assert_true(gale_conf_get_double(c, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, -1) == 0.05);
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOG_LEVEL, ""), "info");
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOCAL_DIR, ""), "gale-local");

    const gale_value_t *seeds = gale_conf_get(c, GALE_CONF_NIMBUS_SEEDS);
    assert_non_null(seeds);
    assert_int_equal(seeds->type, GALE_T_ARRAY);
    assert_int_equal(seeds->len, 1);
    assert_int_equal(seeds->u.a[0].type, GALE_T_STR);
    assert_memory_equal(seeds->u.a[0].u.s, "localhost", 9);

    const gale_value_t *ports = gale_conf_get(c, GALE_CONF_SUPERVISOR_SLOTS_PORTS);
    assert_non_null(ports);
    assert_int_equal(ports->type, GALE_T_ARRAY);
    assert_int_equal(ports->len, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ports->u.a[i].type, GALE_T_INT);
        assert_int_equal(ports->u.a[i].u.i, 6700 + i);
    }
    /* Unset-by-default keys stay absent: consumers apply their own meaning. */
    assert_null(gale_conf_get(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS));
    assert_null(gale_conf_get(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING));
    assert_null(gale_conf_get(c, GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS));
    gale_conf_destroy(c);
}

/* The daemons' keys (issue 8): Storm's names and defaults, cluster scope,
 * timing keys down to 1 second, ports 0 = any free port. */
static void test_cluster_keys(void **state) {
    (void)state;
    static const struct {
        const char *key;
        int64_t def;
    } timing[] = {
        {GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS, 1},
        {GALE_CONF_SUPERVISOR_HEARTBEAT_FREQUENCY_SECS, 5},
        {GALE_CONF_SUPERVISOR_MONITOR_FREQUENCY_SECS, 3},
        {GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS, 30},
        {GALE_CONF_SUPERVISOR_WORKER_START_TIMEOUT_SECS, 120},
        {GALE_CONF_NIMBUS_SUPERVISOR_TIMEOUT_SECS, 60},
        {GALE_CONF_NIMBUS_TASK_TIMEOUT_SECS, 30},
        {GALE_CONF_NIMBUS_MONITOR_FREQ_SECS, 10},
        {GALE_CONF_NIMBUS_TASK_LAUNCH_SECS, 120},
    };
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_set_defaults(c), 0);
    char err[256], kv[96];
    for (size_t i = 0; i < sizeof timing / sizeof timing[0]; i++) {
        const gale_conf_key_t *row = gale__conf_key_find(timing[i].key);
        assert_non_null(row);
        assert_int_equal(row->scope, GALE_SCOPE_CLUSTER);
        assert_int_equal(gale_conf_get_int(c, timing[i].key, -1), timing[i].def);
        snprintf(kv, sizeof kv, "%s=1", timing[i].key);
        assert_int_equal(gale__conf_parse_kv(c, kv, err, sizeof err), 0);
        snprintf(kv, sizeof kv, "%s=0", timing[i].key);
        assert_int_equal(gale__conf_parse_kv(c, kv, err, sizeof err), GALE_ERANGE);
        assert_true(contains(err, "= 0 is out of range: allowed 1..86400"));
    }
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_LOGVIEWER_PORT, -1), 8000);
    assert_null(gale_conf_get(c, GALE_CONF_LOCAL_HOSTNAME));
    assert_int_equal(gale__conf_parse_kv(c, "gale.local.hostname=127.0.0.2", err, sizeof err), 0);
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOCAL_HOSTNAME, ""), "127.0.0.2");
    assert_int_equal(gale__conf_parse_kv(c, "nimbus.port=0", err, sizeof err), 0);
    assert_int_equal(gale__conf_parse_kv(c, "logviewer.port=0", err, sizeof err), 0);
    assert_int_equal(gale__conf_parse_kv(c, "logviewer.port=65536", err, sizeof err), GALE_ERANGE);
    assert_string_equal(gale__conf_nearest_key("logviewer.prot"), "logviewer.port");
    gale_conf_destroy(c);

    /* conf/gale.yaml, uncommented, sets exactly the defaults (the one
     * example address aside): the example file cannot drift from the table. */
    char path[512];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof path - (size_t)(slash - path), "/../../conf/gale.yaml");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[8192] = "", line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "# ", 2) == 0 && line[2] >= 'a' && line[2] <= 'z' &&
            strcspn(line + 2, ":") < strcspn(line + 2, " "))
            strncat(text, line + 2, sizeof text - strlen(text) - 1); /* "# key: value" */
        else if (strncmp(line, "#     - ", 8) == 0)
            strncat(text, line + 1, sizeof text - strlen(text) - 1); /* list items */
    fclose(f);
    gale_conf_t *file = gale_conf_new(), *defaults = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(file, write_yaml(text), err, sizeof err), 0);
    assert_int_equal(gale__conf_set_defaults(defaults), 0);
    assert_int_equal(gale_conf_count(file), 19);
    for (size_t i = 0; i < gale_conf_count(file); i++) {
        const gale_value_t *v;
        const char *key = gale_conf_key_at(file, i, &v);
        if (strcmp(key, GALE_CONF_LOCAL_HOSTNAME) == 0) continue;
        const gale_value_t *d = gale_conf_get(defaults, key);
        if (!d || !gale_value_equal(v, d)) print_error("conf/gale.yaml: %s differs\n", key);
        assert_true(d && gale_value_equal(v, d));
    }
    gale_conf_destroy(file);
    gale_conf_destroy(defaults);
}

static void test_yaml_good(void **state) {
    (void)state;
    const char *path = write_yaml("# a comment\n"
                                  "topology.workers: 4\n"
                                  "topology.debug: yes\n"
                                  "topology.enable.message.timeouts: Off\n"
                                  "topology.stats.sample.rate: 1\n"
                                  "topology.acker.executors: \"0\"\n"
                                  "supervisor.slots.ports: [6700, 6701]\n"
                                  "nimbus.seeds:\n"
                                  "  - a.example\n"
                                  "  - 10.0.0.1\n"
                                  "gale.log.level: 'debug'\n"
                                  "gale.log.dir: 123\n"
                                  "topology.max.spout.pending: ~\n"
                                  "my.count: 12\n"
                                  "my.ratio: -0.5\n"
                                  "my.flag: false\n"
                                  "my.nothing: null\n"
                                  "my.quoted: \"12\"\n"
                                  "my.text: hello world\n"
                                  "my.yes: yes\n"
                                  "my.list: [1, two, 3.5]\n"
                                  "my.map: {a: 1, b: [x]}\n");
    gale_conf_t *c = gale_conf_new();
    char err[256] = "";
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), 0);
    assert_string_equal(err, "");

    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_WORKERS, -1), 4);
    assert_true(gale_conf_get_bool(c, GALE_CONF_TOPOLOGY_DEBUG, false));
    assert_false(gale_conf_get_bool(c, GALE_CONF_TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS, true));
    /* Known keys take the table's type, whatever YAML would infer. */
    assert_int_equal(gale_conf_get(c, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE)->type, GALE_T_DOUBLE);
    assert_true(gale_conf_get_double(c, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, -1) == 1.0);
    assert_int_equal(gale_conf_get(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS)->type, GALE_T_INT);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, -1), 0);
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOG_DIR, ""), "123");
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOG_LEVEL, ""), "debug");
    assert_int_equal(gale_conf_get(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING)->type, GALE_T_NIL);

    const gale_value_t *ports = gale_conf_get(c, GALE_CONF_SUPERVISOR_SLOTS_PORTS);
    assert_int_equal(ports->type, GALE_T_ARRAY);
    assert_int_equal(ports->len, 2);
    assert_int_equal(ports->u.a[1].u.i, 6701);
    const gale_value_t *seeds = gale_conf_get(c, GALE_CONF_NIMBUS_SEEDS);
    assert_int_equal(seeds->len, 2);
    assert_int_equal(seeds->u.a[1].type, GALE_T_STR); /* not a double: a string list */
    assert_int_equal(seeds->u.a[1].len, 8);
    assert_memory_equal(seeds->u.a[1].u.s, "10.0.0.1", 8);

    /* User keys: inferred from plain scalars, quoted ones stay strings. */
    assert_int_equal(gale_conf_get(c, "my.count")->type, GALE_T_INT);
    assert_int_equal(gale_conf_get_int(c, "my.count", -1), 12);
    assert_true(gale_conf_get_double(c, "my.ratio", 0) == -0.5);
    assert_int_equal(gale_conf_get(c, "my.flag")->type, GALE_T_BOOL);
    assert_int_equal(gale_conf_get(c, "my.nothing")->type, GALE_T_NIL);
    assert_string_equal(gale_conf_get_str(c, "my.quoted", ""), "12");
    assert_string_equal(gale_conf_get_str(c, "my.text", ""), "hello world");
    assert_string_equal(gale_conf_get_str(c, "my.yes", ""), "yes");
    const gale_value_t *l = gale_conf_get(c, "my.list");
    assert_int_equal(l->type, GALE_T_ARRAY);
    assert_int_equal(l->len, 3);
    assert_int_equal(l->u.a[0].type, GALE_T_INT);
    assert_int_equal(l->u.a[1].type, GALE_T_STR);
    assert_int_equal(l->u.a[2].type, GALE_T_DOUBLE);
    const gale_value_t *m = gale_conf_get(c, "my.map");
    assert_int_equal(m->type, GALE_T_MAP);
    assert_int_equal(m->len, 2);
    assert_int_equal(m->u.a[2].type, GALE_T_STR);
    assert_memory_equal(m->u.a[2].u.s, "b", 1);
    assert_int_equal(m->u.a[3].type, GALE_T_ARRAY);

    /* Insertion order is file order. */
    assert_string_equal(gale_conf_key_at(c, 0, NULL), GALE_CONF_TOPOLOGY_WORKERS);
    gale_conf_destroy(c);
}

static void test_yaml_empty_file(void **state) {
    (void)state;
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(c, write_yaml("# only a comment\n"), NULL, 0), 0);
    assert_int_equal(gale_conf_count(c), 0);
    gale_conf_destroy(c);
}

static void test_precedence(void **state) {
    (void)state;
    char err[256];
    gale_conf_t *merged = gale_conf_new();
    assert_int_equal(gale__conf_set_defaults(merged), 0);

    gale_conf_t *yaml = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(yaml,
                                          write_yaml("topology.workers: 2\n"
                                                     "topology.debug: true\n"
                                                     "topology.message.timeout.secs: 60\n"),
                                          err, sizeof(err)),
                     0);
    gale_conf_t *topo = gale_conf_new();
    gale_conf_set_int(topo, GALE_CONF_TOPOLOGY_WORKERS, 3);
    gale_conf_set_int(topo, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 90);
    gale_conf_set_int(topo, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 100);
    gale_conf_t *comp = gale_conf_new();
    gale_conf_set_int(comp, GALE_CONF_TOPOLOGY_WORKERS, 4);
    gale_conf_set_int(comp, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 7);
    gale_conf_t *cli = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(cli, "topology.workers=5", err, sizeof(err)), 0);

    const char *W = GALE_CONF_TOPOLOGY_WORKERS;
    assert_int_equal(gale_conf_get_int(merged, W, -1), 1);
    assert_int_equal(gale__conf_merge(merged, yaml), 0);
    assert_int_equal(gale_conf_get_int(merged, W, -1), 2);
    assert_int_equal(gale__conf_merge(merged, topo), 0);
    assert_int_equal(gale_conf_get_int(merged, W, -1), 3);
    assert_int_equal(gale__conf_merge(merged, comp), 0);
    assert_int_equal(gale_conf_get_int(merged, W, -1), 4);
    assert_int_equal(gale__conf_merge(merged, cli), 0);
    assert_int_equal(gale_conf_get_int(merged, W, -1), 5);

    /* Each key holds the value of the last layer that set it. */
    assert_true(gale_conf_get_bool(merged, GALE_CONF_TOPOLOGY_DEBUG, false)); /* yaml */
    assert_int_equal(gale_conf_get_int(merged, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, -1),
                     90); /* topo */
    assert_int_equal(gale_conf_get_int(merged, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, -1), 7);
    assert_int_equal(gale_conf_get_int(merged, GALE_CONF_NIMBUS_PORT, -1), 6627); /* default */
    assert_int_equal(gale__conf_validate(merged, "merged", err, sizeof(err)), 0);

    gale_conf_destroy(merged);
    gale_conf_destroy(yaml);
    gale_conf_destroy(topo);
    gale_conf_destroy(comp);
    gale_conf_destroy(cli);
}

static void test_parse_kv(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "supervisor.slots.ports=[6700,6701]", err, sizeof(err)),
                     0);
    const gale_value_t *p = gale_conf_get(c, GALE_CONF_SUPERVISOR_SLOTS_PORTS);
    assert_int_equal(p->type, GALE_T_ARRAY);
    assert_int_equal(p->len, 2);
    assert_int_equal(p->u.a[0].u.i, 6700);
    assert_int_equal(gale__conf_parse_kv(c, "topology.debug=on", err, sizeof(err)), 0);
    assert_true(gale_conf_get_bool(c, GALE_CONF_TOPOLOGY_DEBUG, false));
    assert_int_equal(gale__conf_parse_kv(c, "topology.stats.sample.rate=0.5", err, sizeof(err)), 0);
    assert_true(gale_conf_get_double(c, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, 0) == 0.5);
    /* A string key takes text YAML would read as a mapping, verbatim. */
    assert_int_equal(gale__conf_parse_kv(c, "gale.log.dir=a: b", err, sizeof(err)), 0);
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOG_DIR, ""), "a: b");
    assert_int_equal(gale__conf_parse_kv(c, "my.list=[a, 1]", err, sizeof(err)), 0);
    const gale_value_t *l = gale_conf_get(c, "my.list");
    assert_int_equal(l->type, GALE_T_ARRAY);
    assert_int_equal(l->u.a[1].type, GALE_T_INT);
    assert_int_equal(gale__conf_parse_kv(c, "my.eq=x=y", err, sizeof(err)), 0);
    assert_string_equal(gale_conf_get_str(c, "my.eq", ""), "x=y");
    assert_int_equal(gale__conf_parse_kv(c, "my.empty=", err, sizeof(err)), 0);
    assert_int_equal(gale_conf_get(c, "my.empty")->type, GALE_T_NIL);
    gale_conf_destroy(c);
}

/* ------------------------------------------------------------------ */
/* Error messages                                                       */

static void test_error_wrong_type(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "topology.workers=abc", err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "-c: topology.workers = \"abc\" has the wrong type: expected an "
                              "integer"));
    assert_int_equal(gale_conf_count(c), 0); /* nothing merged */

    gale_conf_set_str(c, GALE_CONF_TOPOLOGY_WORKERS, "abc");
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "topology conf: topology.workers = \"abc\" has the wrong type: "
                              "expected an integer"));
    /* a value with its unit written in gets the unit and an example */
    assert_int_equal(gale__conf_parse_kv(c, "topology.spout.wait.max.micros=1ms", err, sizeof(err)),
                     GALE_ETYPE);
    assert_true(contains(err, "= \"1ms\" has the wrong type: expected an integer "
                              "(microseconds), e.g. 1000"));
    /* a default of 0 is no example */
    assert_int_equal(
        gale__conf_parse_kv(c, "topology.bolt.wait.spin.micros=200us", err, sizeof(err)),
        GALE_ETYPE);
    assert_true(contains(err, "expected an integer (microseconds)"));
    assert_false(contains(err, "e.g."));
    /* A double is not an int, even a round one. */
    gale_conf_set_double(c, GALE_CONF_TOPOLOGY_WORKERS, 2.0);
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "topology.workers = 2.0 has the wrong type"));
    gale_conf_destroy(c);

    c = gale_conf_new();
    const char *path = write_yaml("topology.workers: abc\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_ETYPE);
    char want[300];
    snprintf(want, sizeof(want),
             "%s:1: topology.workers = \"abc\" has the wrong type: expected an integer, e.g. 1",
             path);
    assert_true(contains(err, want));
    path = write_yaml("supervisor.slots.ports: [6700, x]\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "supervisor.slots.ports = [6700, \"x\"] has the wrong type"));
    path = write_yaml("topology.debug: maybe\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "topology.debug = \"maybe\" has the wrong type: expected true or "
                              "false"));
    /* ~ only means "unset" for keys without a default. */
    path = write_yaml("topology.workers: ~\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_ETYPE);
    assert_true(contains(err, "topology.workers has no value: expected an integer, e.g. 1"));
    assert_int_equal(gale_conf_count(c), 0);
    gale_conf_destroy(c);
}

static void test_error_out_of_range(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 0);
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), GALE_ERANGE);
    assert_true(
        contains(err, "topology conf: topology.workers = 0 is out of range: allowed 1..1024"));
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 1024);
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), 0);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 1025);
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), GALE_ERANGE);
    gale_conf_destroy(c);

    c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "topology.stats.sample.rate=1.5", err, sizeof(err)),
                     GALE_ERANGE);
    assert_true(contains(err, "-c: topology.stats.sample.rate = 1.5 is out of range: allowed "
                              "0..1"));
    assert_int_equal(gale__conf_parse_kv(c, "topology.stats.sample.rate=.nan", err, sizeof(err)),
                     GALE_ERANGE);
    /* an integer beyond 64 bits is out of range, not of the wrong type */
    assert_int_equal(
        gale__conf_parse_kv(c, "topology.workers=99999999999999999999", err, sizeof(err)),
        GALE_ERANGE);
    assert_true(contains(err, "topology.workers = 1e+20 is out of range: allowed 1..1024"));
    assert_int_equal(gale__conf_parse_kv(c, "supervisor.slots.ports=[6700, 0]", err, sizeof(err)),
                     GALE_ERANGE);
    assert_true(contains(err, "supervisor.slots.ports = [6700, 0] is out of range: allowed "
                              "1..65535"));
    /* the unit its name ends in, and the line of a file */
    assert_int_equal(
        gale__conf_parse_kv(c, "topology.spout.wait.max.micros=2000000", err, sizeof(err)),
        GALE_ERANGE);
    assert_true(contains(err, "allowed 0..1000000 microseconds"));
    const char *path = write_yaml("topology.workers: 2\ntopology.message.timeout.secs: 0\n");
    gale_conf_t *f = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(f, path, err, sizeof(err)), GALE_ERANGE);
    char want[300];
    snprintf(want, sizeof want,
             "%s:2: topology.message.timeout.secs = 0 is out of range: allowed 1..", path);
    assert_true(contains(err, want));
    assert_true(contains(err, " seconds"));
    gale_conf_destroy(f);
    assert_int_equal(gale__conf_parse_kv(c, "topology.acker.executors=0", err, sizeof(err)), 0);
    assert_int_equal(gale__conf_parse_kv(c, "topology.acker.executors=-1", err, sizeof(err)),
                     GALE_ERANGE);
    gale_conf_destroy(c);
}

static void test_error_not_allowed(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    const char *path = write_yaml("gale.log.level: loud\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_EINVAL);
    char want[300];
    snprintf(want, sizeof(want),
             "%s:1: gale.log.level = \"loud\" is not allowed: use one of debug|info|warn|error",
             path);
    assert_true(contains(err, want));
    assert_int_equal(gale__conf_parse_kv(c, "gale.log.level=warn", err, sizeof(err)), 0);
    /* A prefix of an allowed word is not allowed. */
    assert_int_equal(gale__conf_parse_kv(c, "gale.log.level=war", err, sizeof(err)), GALE_EINVAL);
    gale_conf_destroy(c);
}

static void test_error_power_of_two(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(
        gale__conf_parse_kv(c, "topology.executor.receive.buffer.size=1000", err, sizeof(err)),
        GALE_EINVAL);
    assert_true(contains(err, "-c: topology.executor.receive.buffer.size = 1000 is not a power "
                              "of two: use e.g. 1024"));
    assert_int_equal(gale__conf_parse_kv(c, "topology.transfer.buffer.size=3000", err, sizeof(err)),
                     GALE_EINVAL);
    assert_true(contains(err, "topology.transfer.buffer.size = 3000 is not a power of two"));
    assert_int_equal(
        gale__conf_parse_kv(c, "topology.executor.receive.buffer.size=1024", err, sizeof(err)), 0);
    /* Other int keys need no power of two. */
    assert_int_equal(gale__conf_parse_kv(c, "topology.producer.batch.size=100", err, sizeof(err)),
                     0);
    gale_conf_destroy(c);
}

static void test_error_yaml_syntax(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    const char *path = write_yaml("topology.workers: 2\nfoo: a: b\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_EINVAL);
    char want[300];
    snprintf(want, sizeof(want), "%s:2:7: YAML syntax error: mapping values are not allowed", path);
    assert_true(contains(err, want));
    assert_int_equal(gale_conf_count(c), 0);

    path = write_yaml("- a\n- b\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_EINVAL);
    snprintf(want, sizeof(want), "%s: expected a mapping", path);
    assert_true(contains(err, want));
    path = write_yaml("just a scalar\n");
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_EINVAL);
    assert_true(contains(err, "expected a mapping"));

    assert_int_equal(gale__conf_parse_kv(c, "my.list=[1,", err, sizeof(err)), GALE_EINVAL);
    assert_true(contains(err, "-c 'my.list=[1,'"));
    assert_true(contains(err, "YAML syntax error"));
    gale_conf_destroy(c);
}

static void test_error_nesting(void **state) {
    (void)state;
    char text[256], err[256] = "";
    snprintf(text, sizeof(text), "my.deep: %.*s%.*s\n", 40,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 40,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(c, write_yaml(text), err, sizeof(err)), GALE_ERANGE);
    assert_true(contains(err, "nests deeper"));
    /* An alias bomb is cut off by the node budget, not expanded. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert_int_equal(gale__conf_load_yaml(c, write_yaml(bomb), err, sizeof(err)), GALE_ERANGE);
    assert_true(contains(err, "too large"));
    assert_int_equal(gale_conf_count(c), 0);
    gale_conf_destroy(c);
}

static void test_error_missing_file(void **state) {
    (void)state;
    char err[256] = "", path[300];
    snprintf(path, sizeof(path), "%s/nope.yaml", tmpdir);
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof(err)), GALE_ENOENT);
    char want[400];
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
    assert_true(contains(err, want));
    /* A directory opens fine but does not read. */
    assert_int_equal(gale__conf_load_yaml(c, tmpdir, err, sizeof(err)), GALE_EIO);
    assert_true(contains(err, "cannot read"));
    gale_conf_destroy(c);
}

static void test_error_kv_without_equals(void **state) {
    (void)state;
    char err[256] = "";
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "foo", err, sizeof(err)), GALE_EINVAL);
    assert_true(contains(err, "-c 'foo': expected key=value, e.g. -c topology.workers=2"));
    assert_int_equal(gale__conf_parse_kv(c, "=2", err, sizeof(err)), GALE_EINVAL);
    assert_true(contains(err, "expected key=value"));
    assert_int_equal(gale_conf_count(c), 0);
    gale_conf_destroy(c);
}

/* ------------------------------------------------------------------ */
/* Unknown keys                                                         */

static void test_nearest_key(void **state) {
    (void)state;
    assert_string_equal(gale__conf_nearest_key("topology.worker"), "topology.workers");
    assert_string_equal(gale__conf_nearest_key("topology.max.spout.pendng"),
                        "topology.max.spout.pending");
    assert_string_equal(gale__conf_nearest_key("nimbus.prt"), "nimbus.port");
    assert_string_equal(gale__conf_nearest_key("supervisor.slot.ports"), "supervisor.slots.ports");
    assert_null(gale__conf_nearest_key(NULL));
}

static char *read_all(FILE *f) {
    fflush(f);
    long n = ftell(f);
    char *buf = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    return buf;
}

static void test_unknown_key_warning(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gale__log_set_level(GALE_LOG_INFO);
    gale__log_set_fd(fileno(f));

    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, "topology.worker", 2);
    gale_conf_set_int(c, "my.own.key", 2);      /* user key: silent */
    gale_conf_set_int(c, "topologyworkers", 2); /* no namespace dot: a user key */
    char err[256] = "";
    assert_int_equal(gale__conf_validate(c, "topology conf", err, sizeof(err)), 0);
    gale__log_set_fd(2);
    fseek(f, 0, SEEK_END);
    char *log = read_all(f);
    assert_true(contains(log,
                         "topology conf: unknown key 'topology.worker' is ignored (did you mean "
                         "'topology.workers'?)"));
    assert_true(contains(log, "WARN"));
    assert_null(strstr(log, "my.own.key"));
    assert_null(strstr(log, "topologyworkers"));
    free(log);
    fclose(f);
    gale_conf_destroy(c);
}

/* -c: an unknown key in Gale's namespaces is an error (a warning scrolls
 * by and the run goes on without it); a user key is fine; spaces around
 * '=' are trimmed. */
static void test_kv_unknown_and_spaces(void **state) {
    (void)state;
    char err[512] = "";
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "topology.wrkers=2", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "-c 'topology.wrkers=2': unknown key 'topology.wrkers' (did you "
                              "mean 'topology.workers'?)"));
    assert_int_equal(gale__conf_parse_kv(c, "gale.log.levl=debug", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "'gale.log.level'"));
    assert_int_equal(gale__conf_parse_kv(c, "ui.prot=9090", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "(did you mean 'ui.port'?)"));
    /* Storm keys Gale renamed: the new name, not the nearest spelling */
    assert_int_equal(gale__conf_parse_kv(c, "nimbus.host=h", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "Storm's 'nimbus.host' is 'nimbus.seeds' in Gale"));
    assert_int_equal(gale__conf_parse_kv(c, "storm.local.dir=/x", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "Storm's 'storm.local.dir' is 'gale.local.dir' in Gale"));
    assert_int_equal(gale_conf_count(c), 0);
    assert_int_equal(gale__conf_parse_kv(c, "my.own.key=2", err, sizeof err), 0);
    assert_int_equal(gale__conf_parse_kv(c, "topologyworkers=2", err, sizeof err), 0);
    assert_int_equal(gale__conf_parse_kv(c, "topology.workers = 3", err, sizeof err), 0);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_TOPOLOGY_WORKERS, 0), 3);
    assert_int_equal(gale__conf_parse_kv(c, " gale.log.level=\twarn", err, sizeof err), 0);
    assert_string_equal(gale_conf_get_str(c, GALE_CONF_LOG_LEVEL, ""), "warn");
    assert_null(gale_conf_get(c, "topology.workers "));
    assert_int_equal(gale__conf_parse_kv(c, "  =3", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "expected key=value"));
    gale_conf_destroy(c);
}

/* gale.yaml: an unknown key of Gale's is one warning with its line (and
 * loading goes on: Storm ignores unknown keys in storm.yaml). */
static void test_yaml_unknown_key_once(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gale__log_set_level(GALE_LOG_INFO);
    gale__log_set_fd(fileno(f));
    const char *path = write_yaml("my.key: 1\ntopology.wrkers: 2\n");
    gale_conf_t *c = gale_conf_new();
    char err[256] = "";
    assert_int_equal(gale__conf_load_yaml(c, path, err, sizeof err), 0);
    gale__log_set_fd(2);
    fseek(f, 0, SEEK_END);
    char *log = read_all(f);
    char want[512];
    snprintf(want, sizeof want,
             "%s:2: unknown key 'topology.wrkers' is ignored (did you mean 'topology.workers'?)",
             path);
    assert_true(contains(log, want));
    const char *first = strstr(log, "topology.wrkers");
    assert_null(strstr(strstr(first, "\n"), "topology.wrkers")); /* one line only */
    assert_null(strstr(log, "my.key"));
    assert_int_equal(gale_conf_get_int(c, "topology.wrkers", 0), 2); /* kept, not read */
    free(log);
    fclose(f);
    gale_conf_destroy(c);
}

static void test_scope_warning(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gale__log_set_fd(fileno(f));
    gale_conf_t *comp = gale_conf_new(), *topo = gale_conf_new();
    gale_conf_set_int(comp, GALE_CONF_TOPOLOGY_WORKERS, 2);              /* topology-wide */
    gale_conf_set_int(comp, GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS, 1); /* fine */
    gale_conf_set_int(topo, GALE_CONF_NIMBUS_PORT, 7000);                /* cluster */
    gale__conf_warn_scope(comp, "component 'split' conf", GALE_SCOPE_COMPONENT);
    gale__conf_warn_scope(topo, "topology conf", GALE_SCOPE_TOPOLOGY);
    gale__log_set_fd(2);
    fseek(f, 0, SEEK_END);
    char *log = read_all(f);
    assert_true(contains(log, "component 'split' conf: 'topology.workers' is ignored here: set "
                              "it in the topology conf"));
    assert_true(contains(log, "topology conf: 'nimbus.port' is ignored here: set it in gale.yaml"));
    assert_null(strstr(log, "tick.tuple"));
    free(log);
    fclose(f);
    gale_conf_destroy(comp);
    gale_conf_destroy(topo);
}

/* ------------------------------------------------------------------ */
/* msgpack                                                              */

static void test_pack_roundtrip(void **state) {
    (void)state;
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_set_defaults(c), 0);
    gale_value_t inner[2] = {gale_str("x"), gale_int(-7)};
    gale_value_t kv[4] = {gale_str("a"), gale_double(2.5), gale_str("l"), gale_array(inner, 2)};
    gale_conf_set(c, "my.map", gale_map(kv, 2));
    gale_conf_set(c, "my.bytes", gale_bytes("\0\1\2", 3));
    gale_conf_set(c, "my.nil", gale_nil());
    gale_conf_set_str(c, "my.empty", "");

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(gale__conf_pack(&pk, c), 0);

    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    gale_conf_t *d = gale_conf_new();
    assert_int_equal(gale__conf_from_msgpack(d, &up.data), 0);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);

    assert_int_equal(gale_conf_count(d), gale_conf_count(c));
    for (size_t i = 0; i < gale_conf_count(c); i++) {
        const gale_value_t *a, *b;
        const char *ka = gale_conf_key_at(c, i, &a);
        const char *kb = gale_conf_key_at(d, i, &b);
        assert_string_equal(ka, kb);
        assert_true(gale_value_equal(a, b));
    }
    assert_int_equal(gale__conf_validate(d, "wire", NULL, 0), 0);
    gale_conf_destroy(c);
    gale_conf_destroy(d);
}

static int unpack_into(gale_conf_t *c, const char *buf, size_t len) {
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = 1;
    if (msgpack_unpack_next(&up, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS)
        rc = gale__conf_from_msgpack(c, &up.data);
    msgpack_unpacked_destroy(&up);
    return rc;
}

static void test_from_msgpack_garbage(void **state) {
    (void)state;
    gale_conf_t *c = gale_conf_new();
    /* [1, 2]: not a map */
    assert_int_equal(unpack_into(c, "\x92\x01\x02", 3), GALE_EPROTO);
    /* 7: not a map */
    assert_int_equal(unpack_into(c, "\x07", 1), GALE_EPROTO);
    /* {"a": 1, 1: 2}: an int key, after a good one; nothing is kept */
    assert_int_equal(unpack_into(c,
                                 "\x82\xa1"
                                 "a\x01\x01\x02",
                                 6),
                     GALE_EPROTO);
    assert_int_equal(gale_conf_count(c), 0);
    /* {"": 1}: empty key */
    assert_int_equal(unpack_into(c, "\x81\xa0\x01", 3), GALE_EPROTO);
    /* {"a\0b": 1}: a key with a NUL */
    assert_int_equal(unpack_into(c,
                                 "\x81\xa3"
                                 "a\0b\x01",
                                 6),
                     GALE_EPROTO);
    /* {"a": ext}: a type Gale refuses */
    assert_int_equal(unpack_into(c,
                                 "\x81\xa1"
                                 "a\xd4\x01\x00",
                                 6),
                     GALE_EPROTO);
    /* {"a": uint64 max} */
    assert_int_equal(unpack_into(c,
                                 "\x81\xa1"
                                 "a\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
                                 12),
                     GALE_EPROTO);
    assert_int_equal(gale_conf_count(c), 0);
    /* {"a": [[[...]]]} nested deeper than the limit, built by hand because
     * msgpack-c's own unpacker stops near the same depth. */
    msgpack_object chain[GALE__VALUE_MAX_DEPTH + 8];
    size_t nchain = sizeof(chain) / sizeof(chain[0]);
    for (size_t i = 0; i < nchain; i++) {
        chain[i].type = MSGPACK_OBJECT_ARRAY;
        chain[i].via.array.size = 1;
        chain[i].via.array.ptr = &chain[i + 1];
    }
    chain[nchain - 1].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    chain[nchain - 1].via.u64 = 1;
    msgpack_object_kv kv = {{.type = MSGPACK_OBJECT_STR, .via.str = {1, "a"}}, chain[0]};
    msgpack_object map = {.type = MSGPACK_OBJECT_MAP, .via.map = {1, &kv}};
    assert_int_equal(gale__conf_from_msgpack(c, &map), GALE_EPROTO);
    assert_int_equal(gale_conf_count(c), 0);

    /* Random bytes: any outcome but a crash, and never a success on a non-map. */
    uint32_t x = 12345;
    char buf[64];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = 1 + iter % 63;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
            /* array32/map32 make msgpack-c itself allocate count * 24 bytes
             * before it sees the input is short: not what is tested here. */
            if ((unsigned char)buf[i] == 0xdd || (unsigned char)buf[i] == 0xdf) buf[i] = '\xc0';
        }
        if (iter % 2) buf[0] = (char)(0x80 | (buf[0] & 0x0f)); /* often a fixmap */
        int rc = unpack_into(c, buf, n);
        assert_true(rc == 0 || rc == 1 || rc == GALE_EPROTO);
        if (rc == 0) assert_int_equal((unsigned char)buf[0] & 0xf0, 0x80);
    }
    gale_conf_destroy(c);
}

/* ------------------------------------------------------------------ */
/* gale_conf_t                                                          */

static void test_conf_api(void **state) {
    (void)state;
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale_conf_count(c), 0);
    assert_int_equal(gale_conf_set_int(c, "a", 1), 0);
    assert_int_equal(gale_conf_set_str(c, "b", "two"), 0);
    assert_int_equal(gale_conf_set_bool(c, "c", true), 0);
    assert_int_equal(gale_conf_set_double(c, "d", 4.5), 0);
    assert_int_equal(gale_conf_count(c), 4);

    /* Replace keeps the position and the count. */
    assert_int_equal(gale_conf_set_str(c, "a", "one"), 0);
    assert_int_equal(gale_conf_count(c), 4);
    const gale_value_t *v;
    assert_string_equal(gale_conf_key_at(c, 0, &v), "a");
    assert_int_equal(v->type, GALE_T_STR);
    assert_string_equal(gale_conf_get_str(c, "a", NULL), "one");
    assert_null(gale_conf_key_at(c, 4, &v));
    assert_null(v);

    /* Setting a key from its own current value must not read freed memory. */
    assert_int_equal(gale_conf_set(c, "a", *gale_conf_get(c, "a")), 0);
    assert_string_equal(gale_conf_get_str(c, "a", NULL), "one");

    /* Typed getters: the default on absence or another type. */
    assert_int_equal(gale_conf_get_int(c, "a", 42), 42);
    assert_int_equal(gale_conf_get_int(c, "d", 42), 42); /* a double is not an int */
    assert_true(gale_conf_get_double(c, "d", 0) == 4.5);
    gale_conf_set_int(c, "i", 3);
    assert_true(gale_conf_get_double(c, "i", 0) == 3.0); /* an int is a fine double */
    assert_true(gale_conf_get_double(c, "b", -1) == -1);
    assert_true(gale_conf_get_bool(c, "c", false));
    assert_true(gale_conf_get_bool(c, "i", true));
    assert_string_equal(gale_conf_get_str(c, "i", "def"), "def");
    assert_string_equal(gale_conf_get_str(c, "zz", "def"), "def");
    assert_int_equal(gale_conf_get_int(c, "zz", -5), -5);
    assert_null(gale_conf_get(c, "zz"));

    /* get_str is NUL-terminated even when set from a non-terminated view. */
    char raw[5] = {'h', 'e', 'l', 'l', 'o'};
    gale_conf_set(c, "s", gale_strn(raw, 3));
    assert_string_equal(gale_conf_get_str(c, "s", NULL), "hel");
    raw[0] = 'X'; /* a deep copy: the caller's buffer is not referenced */
    assert_string_equal(gale_conf_get_str(c, "s", NULL), "hel");

    /* Unset removes and keeps the others' order. */
    assert_int_equal(gale_conf_unset(c, "b"), 0);
    assert_int_equal(gale_conf_unset(c, "b"), GALE_ENOENT);
    assert_null(gale_conf_get(c, "b"));
    assert_string_equal(gale_conf_key_at(c, 0, NULL), "a");
    assert_string_equal(gale_conf_key_at(c, 1, NULL), "c");
    assert_string_equal(gale_conf_key_at(c, 2, NULL), "d");

    /* Dup is deep and independent. */
    gale_value_t items[2] = {gale_str("x"), gale_int(1)};
    gale_conf_set(c, "arr", gale_array(items, 2));
    gale_conf_t *d = gale_conf_dup(c);
    assert_non_null(d);
    assert_int_equal(gale_conf_count(d), gale_conf_count(c));
    gale_conf_set_int(c, "c", 9);
    gale_conf_unset(c, "arr");
    assert_true(gale_conf_get_bool(d, "c", false));
    const gale_value_t *arr = gale_conf_get(d, "arr");
    assert_non_null(arr);
    assert_true(gale_value_equal(arr, &(gale_value_t){GALE_T_ARRAY, 2, {.a = items}}));

    /* Bad arguments. */
    assert_int_equal(gale_conf_set_int(c, "", 1), GALE_EINVAL);
    assert_int_equal(gale_conf_set_int(c, NULL, 1), GALE_EINVAL);
    assert_int_equal(gale_conf_set_str(c, "k", NULL), GALE_EINVAL);
    assert_int_equal(gale_conf_set(NULL, "k", gale_nil()), GALE_EINVAL);
    assert_int_equal(gale_conf_count(NULL), 0);
    assert_null(gale_conf_get(NULL, "k"));

    /* Many keys: growth keeps every value valid. */
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(gale_conf_set_int(d, key, i), 0);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(gale_conf_get_int(d, key, -1), i);
    }
    gale_conf_destroy(c);
    gale_conf_destroy(d);
    gale_conf_destroy(NULL);
}

/* ------------------------------------------------------------------ */
/* Printing                                                             */

/* Through a temp file: with open_memstream, gcc -O2 warns that the
 * buffer pointer escapes (-Wdangling-pointer), a false positive. */
static char *print_to_string(void (*fn)(FILE *)) {
    FILE *f = tmpfile();
    assert_non_null(f);
    fn(f);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_print(void **state) {
    (void)state;
    char *list = print_to_string(gale__conf_print_list);
    char *md = print_to_string(gale__conf_print_markdown);
    char *md2 = print_to_string(gale__conf_print_markdown);
    assert_string_equal(md, md2); /* deterministic: CI diffs CONFIGURATION.md */
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        assert_non_null(strstr(list, gale__conf_keys[i].name));
        assert_non_null(strstr(md, gale__conf_keys[i].name));
    }
    assert_true(contains(list, "(unset)"));
    assert_true(contains(list, "1..1024"));
    assert_true(contains(md, "gale conf --markdown"));
    assert_true(contains(md, "common/config.c"));
    assert_true(contains(md, "defaults < `gale.yaml` (`--config FILE`) < topology conf < "
                             "component conf < `-c key=value`"));
    assert_true(contains(md, "| Key | Type | Default | Allowed | Scope | Description |"));
    assert_true(contains(md, "debug\\|info\\|warn\\|error")); /* escaped inside the table */
    /* Every table line has the same number of cells. */
    size_t rows = 0;
    for (char *line = strstr(md, "\n| `"); line; line = strstr(line + 1, "\n| `")) {
        size_t bars = 0;
        for (char *p = line + 1; *p && *p != '\n'; p++)
            if (*p == '|' && p[-1] != '\\') bars++;
        assert_int_equal(bars, 7);
        rows++;
    }
    assert_int_equal(rows, gale__conf_nkeys);
    free(list);
    free(md);
    free(md2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sane),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_cluster_keys),
        cmocka_unit_test(test_yaml_good),
        cmocka_unit_test(test_yaml_empty_file),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_parse_kv),
        cmocka_unit_test(test_error_wrong_type),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_error_not_allowed),
        cmocka_unit_test(test_error_power_of_two),
        cmocka_unit_test(test_error_yaml_syntax),
        cmocka_unit_test(test_error_nesting),
        cmocka_unit_test(test_error_missing_file),
        cmocka_unit_test(test_error_kv_without_equals),
        cmocka_unit_test(test_nearest_key),
        cmocka_unit_test(test_unknown_key_warning),
        cmocka_unit_test(test_kv_unknown_and_spaces),
        cmocka_unit_test(test_yaml_unknown_key_once),
        cmocka_unit_test(test_scope_warning),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_from_msgpack_garbage),
        cmocka_unit_test(test_conf_api),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
