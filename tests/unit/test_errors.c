/*
 * test_errors.c — error texts (common/errors.c), gale_path_absolute
 * (common/fileio.c) and the log line format (common/log.c), captured
 * through a pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gale/gale.h"

static void test_strerror_distinct(void **state) {
    (void)state;
    const int codes[] = {0,           GALE_EINVAL, GALE_ENOMEM, GALE_ENOENT,
                         GALE_EEXIST, GALE_EPROTO, GALE_ERANGE, GALE_ETYPE,
                         GALE_EFULL,  GALE_EIO,    GALE_ESTATE};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = gale_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, gale_strerror(codes[j]));
    }
    assert_string_equal(gale_strerror(0), "success");
    assert_string_equal(gale_strerror(GALE_EPROTO), "malformed or unsupported message");
    assert_string_equal(gale_strerror(-999), "unknown error");
    assert_string_equal(gale_strerror(12345), "unknown error");
    assert_string_equal(gale_strerror(INT32_MIN), "unknown error");
}

/* gale_path_absolute: against the cwd, "/" not doubled, ./ dropped. */
static void test_path_absolute(void **state) {
    (void)state;
    char buf[64], cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_string_equal(gale_path_absolute("/a/b", buf, sizeof buf), "/a/b");
    assert_null(gale_path_absolute(NULL, buf, sizeof buf));
    assert_int_equal(chdir("/"), 0);
    assert_string_equal(gale_path_absolute("in.txt", buf, sizeof buf), "/in.txt");
    assert_string_equal(gale_path_absolute("./d/in.txt", buf, sizeof buf), "/d/in.txt");
    assert_int_equal(chdir("/tmp"), 0);
    assert_string_equal(gale_path_absolute("in.txt", buf, sizeof buf), "/tmp/in.txt");
    char tiny[8];
    assert_string_equal(gale_path_absolute("in.txt", tiny, sizeof tiny), "in.txt"); /* no fit */
    assert_int_equal(chdir(cwd), 0);
}

static void test_fail_reason(void **state) {
    (void)state;
    assert_string_equal(gale_fail_reason_str(GALE_FAIL_TIMEOUT), "timeout");
    assert_string_equal(gale_fail_reason_str(GALE_FAIL_FAILED), "failed");
}

/* Logging goes to a non-blocking pipe so a test can read what was written. */
static int log_pipe[2];

static int log_setup(void **state) {
    (void)state;
    if (pipe(log_pipe) != 0) return -1;
    fcntl(log_pipe[0], F_SETFL, O_NONBLOCK);
    gale__log_set_fd(log_pipe[1]);
    gale__log_set_process("testproc");
    gale__log_set_level(GALE_LOG_INFO);
    return 0;
}

static int log_teardown(void **state) {
    (void)state;
    gale__log_set_fd(2);
    gale__log_set_process(NULL);
    close(log_pipe[0]);
    close(log_pipe[1]);
    return 0;
}

/* Everything written so far, NUL-terminated. */
static size_t drain(char *buf, size_t cap) {
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(log_pipe[0], buf + len, cap - 1 - len)) > 0) len += (size_t)r;
    buf[len] = '\0';
    return len;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void assert_matches(const char *line, const char *re) {
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&rx, line, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0) fail_msg("line '%s' does not match %s", line, re);
}

static void test_log_format(void **state) {
    (void)state;
    char buf[8192];
    GALE_INFO("split", 3, "hello");
    size_t n = drain(buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(buf[n - 1], '\n');
    assert_int_equal(count_lines(buf), 1);
    buf[n - 1] = '\0';
    assert_matches(buf, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
                        "INFO testproc\\[[0-9]+\\] split:3 hello$");
    char pidtag[64];
    snprintf(pidtag, sizeof pidtag, "testproc[%d] ", (int)getpid());
    assert_non_null(strstr(buf, pidtag));
}

static void test_log_component_and_task(void **state) {
    (void)state;
    char buf[8192];
    GALE_WARN(NULL, 0, "a");
    GALE_ERROR("nimbus", 0, "b");
    GALE_INFO("acker", -1, "c");
    drain(buf, sizeof buf);
    assert_int_equal(count_lines(buf), 3);
    assert_non_null(strstr(buf, " WARN testproc["));
    assert_non_null(strstr(buf, "] - a\n"));
    assert_non_null(strstr(buf, " ERROR testproc["));
    assert_non_null(strstr(buf, "] nimbus b\n"));
    assert_non_null(strstr(buf, "] acker:-1 c\n"));
}

static void test_log_newline_is_one_line(void **state) {
    (void)state;
    char buf[8192];
    GALE_INFO("split", 3, "first\nsecond\r\nthird");
    drain(buf, sizeof buf);
    assert_int_equal(count_lines(buf), 1);
    assert_non_null(strstr(buf, " split:3 first second  third\n"));
}

static void test_log_level_filter(void **state) {
    (void)state;
    char buf[8192];
    GALE_DEBUG("split", 3, "hidden");
    gale__log_write(GALE_LOG_DEBUG, "split", 3, "hidden too"); /* direct call filters too */
    GALE_INFO("split", 3, "shown");
    drain(buf, sizeof buf);
    assert_int_equal(count_lines(buf), 1);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "shown"));

    gale__log_set_level(GALE_LOG_DEBUG);
    GALE_DEBUG("split", 3, "now visible");
    gale__log_set_level(GALE_LOG_ERROR);
    GALE_WARN("split", 3, "dropped");
    gale__log_set_level(GALE_LOG_INFO);
    drain(buf, sizeof buf);
    assert_int_equal(count_lines(buf), 1);
    assert_non_null(strstr(buf, " DEBUG testproc["));
    assert_non_null(strstr(buf, "now visible"));
}

static void test_log_long_message_truncated(void **state) {
    (void)state;
    static char big[10000];
    static char buf[16384];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    GALE_INFO("split", 3, "%s", big);
    size_t n = drain(buf, sizeof buf);
    assert_true(n <= 4096);
    assert_int_equal(count_lines(buf), 1);
    assert_int_equal(buf[n - 1], '\n');
    assert_memory_equal(buf + n - 4, "...", 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_fail_reason),
        cmocka_unit_test(test_path_absolute),
        cmocka_unit_test(test_log_format),
        cmocka_unit_test(test_log_component_and_task),
        cmocka_unit_test(test_log_newline_is_one_line),
        cmocka_unit_test(test_log_level_filter),
        cmocka_unit_test(test_log_long_message_truncated),
    };
    return cmocka_run_group_tests(tests, log_setup, log_teardown);
}
