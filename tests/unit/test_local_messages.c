/*
 * test_local_messages.c — what a new user meets in local mode, unit by
 * unit: config file messages (a key set twice, a nested `topology:` map,
 * tabs, log levels in any case), the gale.file.max.line.bytes key, the
 * tuple accessors for double and bool, the component conf setters for
 * bool and double, the summary tallies components contribute to, and
 * rate-limited error lines that say how many were suppressed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/summary.h"
#include "topology/topology.h"
#include "worker/runtime.h"

static char path[] = "/tmp/gale-test-local-messages-XXXXXX";

static const char *yaml(const char *text) {
    strcpy(path, "/tmp/gale-test-local-messages-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(const char *text, char *err, size_t errlen) {
    gale_conf_t *c = gale_conf_new();
    err[0] = '\0';
    int rc = gale__conf_load_yaml(c, yaml(text), err, errlen);
    unlink(path);
    gale_conf_destroy(c);
    return rc;
}

static void test_yaml_key_twice(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(
        load("topology.workers: 1\ntopology.debug: true\ntopology.workers: 2\n", err, sizeof err),
        GALE_EINVAL);
    assert_non_null(strstr(err, ":3:1: key 'topology.workers' is set twice (first on line 1)"));
    /* user keys too: the last one silently winning hides a mistake */
    assert_int_equal(load("my.key: 1\nmy.key: 2\n", err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "key 'my.key' is set twice"));
}

static void test_yaml_nested_namespace(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(load("topology:\n  workers: 2\n", err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, ":1:1: 'topology' holds a nested map, but Gale's keys are flat"));
    assert_non_null(strstr(err, "'topology.workers: 2'"));
    assert_int_equal(load("gale:\n  log.level: info\n", err, sizeof err), GALE_EINVAL);
    /* a user's own map stays a value */
    assert_int_equal(load("my.settings:\n  a: 1\n", err, sizeof err), 0);
}

static void test_yaml_tabs(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(load("a: 1\n\tb: 2\n", err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "(a tab: YAML indents with spaces, never tabs)"));
    assert_int_equal(load("topology.workers: 1\nx:\n\t- 1\n", err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, ":3:1:"));
    assert_non_null(strstr(err, "tab"));
    /* other syntax errors say nothing of tabs */
    assert_int_equal(load("a: [1, 2\n", err, sizeof err), GALE_EINVAL);
    assert_null(strstr(err, "tab"));
}

static void test_log_level_any_case(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(load("gale.log.level: INFO\n", err, sizeof err), 0);
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_parse_kv(c, "gale.log.level=Warn", err, sizeof err), 0);
    gale_conf_destroy(c);
    assert_int_equal(gale__log_level_parse("DEBUG"), GALE_LOG_DEBUG);
    assert_int_equal(gale__log_level_parse("Error"), GALE_LOG_ERROR);
    assert_int_equal(gale__log_level_parse("warning"), GALE_LOG_WARN);
    assert_int_equal(gale__log_level_parse("loud"), -1);
    assert_int_equal(gale__log_level_parse(NULL), -1);
}

static void test_max_line_key(void **state) {
    (void)state;
    char err[512];
    const gale_conf_key_t *row = gale__conf_key_find(GALE_CONF_FILE_MAX_LINE_BYTES);
    assert_non_null(row);
    assert_int_equal(row->scope, GALE_SCOPE_COMPONENT);
    gale_conf_t *c = gale_conf_new();
    assert_int_equal(gale__conf_set_defaults(c), 0);
    assert_int_equal(gale_conf_get_int(c, GALE_CONF_FILE_MAX_LINE_BYTES, 0), 1 << 20);
    assert_int_equal(gale__conf_parse_kv(c, "gale.file.max.line.bytes=0", err, sizeof err),
                     GALE_ERANGE);
    gale_conf_destroy(c);
}

static void test_tuple_double_bool(void **state) {
    (void)state;
    gale__rstream_t st = {0};
    gale_value_t v[4] = {gale_double(2.5), gale_bool(true), gale_int(3), gale_str("x")};
    gale_tuple_t *t = gale__tuple_new(NULL, &st, 1, 2, v, 4, NULL, 0);
    assert_non_null(t);
    assert_true(gale_tuple_double(t, 0, -1.0) == 2.5);
    assert_true(gale_tuple_bool(t, 1, false));
    /* no conversion between types, out of range gives the default */
    assert_true(gale_tuple_double(t, 2, -1.0) == -1.0);
    assert_false(gale_tuple_bool(t, 2, false));
    assert_true(gale_tuple_bool(t, 3, true));
    assert_true(gale_tuple_double(t, 9, 7.0) == 7.0);
    assert_false(gale_tuple_bool(t, 9, false));
    assert_true(gale_tuple_double(NULL, 0, 1.5) == 1.5);
    gale__tuple_free(t);
}

static void test_component_conf_bool_double(void **state) {
    (void)state;
    gale_builder_t *b = gale_builder_new();
    gale_component_t *c = GALE_BOLT(b, "p", gale_printer_bolt, 1);
    assert_int_equal(gale_component_conf_set_bool(c, "my.flag", true), 0);
    assert_int_equal(gale_component_conf_set_double(c, "topology.stats.sample.rate", 0.5), 0);
    assert_int_equal(gale_component_conf_set_bool(NULL, "x", true), GALE_EINVAL);
    assert_int_equal(gale_component_conf_set_double(c, NULL, 1.0), GALE_EINVAL);
    gale__topology_t *t = NULL;
    char err[512] = "";
    /* the NULL key above is remembered and reported at submit */
    assert_int_not_equal(gale__builder_finish(b, "t", NULL, &t, err, sizeof err), 0);
    gale__topology_destroy(t);

    b = gale_builder_new();
    c = GALE_BOLT(b, "p", gale_printer_bolt, 1);
    gale_component_conf_set_bool(c, "my.flag", true);
    gale_component_conf_set_double(c, "topology.stats.sample.rate", 0.5);
    assert_int_equal(gale__builder_finish(b, "t", NULL, &t, err, sizeof err), 0);
    const gale_conf_t *cc = t->components[0].conf;
    assert_true(gale_conf_get_bool(cc, "my.flag", false));
    assert_true(gale_conf_get_double(cc, "topology.stats.sample.rate", 0) == 0.5);
    gale__topology_destroy(t);
}

static void test_summary_merges_tasks(void **state) {
    (void)state;
    char line[256];
    gale__summary_reset();
    assert_false(gale__summary_format("count", 0, 10, line, sizeof line));
    gale__summary_add("count", "top words", "the", 3, 5);
    gale__summary_add("count", "top words", "cat", 3, 7);
    gale__summary_add("count", "top words", "the", 3, 4); /* another task's */
    gale__summary_add("other", "top words", "dog", 3, 100);
    assert_true(gale__summary_format("count", 0, 10, line, sizeof line));
    assert_string_equal(line, "top words: the=9 cat=7");
    assert_true(gale__summary_format("count", 0, 1, line, sizeof line));
    assert_string_equal(line, "top words: the=9");
    assert_false(gale__summary_format("count", 1, 10, line, sizeof line));
    /* bounded: keys beyond the cap are dropped, long keys cut */
    char key[100];
    memset(key, 'k', sizeof key);
    for (int i = 0; i < GALE__SUMMARY_MAX_KEYS + 10; i++) {
        snprintf(key, sizeof key, "w%d", i);
        gale__summary_add("big", "t", key, strlen(key), 1);
    }
    assert_true(gale__summary_format("big", 0, 3, line, sizeof line));
    gale__summary_reset();
    assert_false(gale__summary_format("count", 0, 10, line, sizeof line));
}

/* ---------- rate-limited errors ---------- */

static _Atomic int errors_left;

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}
static void error_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    if (atomic_load(&errors_left) <= 0) return;
    atomic_fetch_sub(&errors_left, 1);
    gale_spout_report_error(c, "bad input %d", 7);
}
GALE_EXPORT const gale_spout_t messages_error_spout = {.declare = one_field,
                                                       .next_tuple = error_next};

static const void *resolve(void *ud, const char *sym) {
    (void)ud;
    return dlsym(RTLD_DEFAULT, sym);
}

static void test_suppressed_errors_counted(void **state) {
    (void)state;
    atomic_store(&errors_left, 20000);
    char logpath[] = "/tmp/gale-test-suppressed-XXXXXX";
    int fd = mkstemp(logpath);
    assert_true(fd >= 0);
    gale__log_set_fd(fd);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "src", messages_error_spout, 1);
    gale__topology_t *t = NULL;
    char err[512] = "";
    assert_int_equal(gale__builder_finish(b, "errs", NULL, &t, err, sizeof err), 0);
    assert_int_equal(gale__topology_validate(t, resolve, NULL, err, sizeof err), 0);
    gale__topology_assign_tasks(t);
    gale__rt_t *rt = NULL;
    assert_int_equal(gale__rt_new(&rt, t, NULL, NULL, resolve, NULL, err, sizeof err), 0);
    assert_int_equal(gale__rt_start(rt, err, sizeof err), 0);
    /* a condition with a deadline, not a sleep */
    int64_t deadline = gale__now_ns() + 60 * 1000000000LL;
    gale__stats_t st;
    do {
        gale__rt_stats(rt, "src", &st);
        if (st.errors >= 20000) break;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    } while (gale__now_ns() < deadline);
    gale__rt_stop(rt, 100);
    gale__rt_destroy(rt);
    gale__log_set_fd(2);
    assert_int_equal(st.errors, 20000); /* every error counted for the summary */

    static char buf[1 << 16];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(logpath);
    assert_true(n > 0);
    buf[n] = '\0';
    int lines = 0;
    for (char *p = buf; (p = strstr(p, "reported error: bad input 7")); p++) lines++;
    assert_int_equal(lines, 12); /* ten, then the 10000th and the 20000th */
    assert_non_null(strstr(buf, "(further errors of this task: one in 10000 logged)"));
    assert_non_null(strstr(buf, "bad input 7 (9989 more suppressed)"));
    assert_non_null(strstr(buf, "bad input 7 (9999 more suppressed)"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_key_twice),
        cmocka_unit_test(test_yaml_nested_namespace),
        cmocka_unit_test(test_yaml_tabs),
        cmocka_unit_test(test_log_level_any_case),
        cmocka_unit_test(test_max_line_key),
        cmocka_unit_test(test_tuple_double_bool),
        cmocka_unit_test(test_component_conf_bool_double),
        cmocka_unit_test(test_summary_merges_tasks),
        cmocka_unit_test(test_suppressed_errors_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
