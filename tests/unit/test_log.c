/*
 * test_log.c — the log file sink (common/log.c): lines in the one format,
 * rolling by size to path.1 … path.N, a bounded number of old files, and
 * many threads logging while the file rolls (no line split, lost or
 * interleaved; run under TSan too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "gale/gale.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gale-test-log.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/worker.log", f->dir);
    gale__log_set_process("testlog");
    gale__log_set_level(GALE_LOG_INFO);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    gale__log_close_file();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static char *rolled(const fixture_t *f, int k, char *buf, size_t cap) {
    if (k == 0)
        snprintf(buf, cap, "%s", f->path);
    else
        snprintf(buf, cap, "%s.%d", f->path, k);
    return buf;
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Checks every line of p against the one format; counts them and adds
 * the numbers after "line " to seen[] (when non-NULL). */
static int check_lines(const char *p, unsigned char *seen, size_t nseen) {
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
                             "INFO testlog\\[[0-9]+\\] comp:7 line [0-9]+ x+$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n'); /* never a split line */
        line[len - 1] = '\0';
        if (regexec(&re, line, 0, NULL, 0) != 0) fail_msg("bad line in %s: '%s'", p, line);
        if (seen) {
            unsigned long k = strtoul(strstr(line, "line ") + 5, NULL, 10);
            assert_true(k < nseen);
            seen[k]++;
        }
        n++;
    }
    fclose(fp);
    regfree(&re);
    return n;
}

static void test_open_bad_path(void **state) {
    fixture_t *f = *state;
    char err[256] = "";
    char p[160];
    snprintf(p, sizeof p, "%s/no/such/dir/worker.log", f->dir);
    assert_int_equal(gale__log_open_file(p, 0, 0, false, err, sizeof err), GALE_EIO);
    assert_non_null(strstr(err, p));
    assert_int_equal(gale__log_open_file(NULL, 0, 0, false, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__log_open_file("", 0, 0, false, err, sizeof err), GALE_EINVAL);
}

/* Appends to an existing file, and counts its size toward the limit. */
static void test_appends_and_counts_existing(void **state) {
    fixture_t *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 900; i++) fputc('#', fp);
    fputc('\n', fp);
    fclose(fp);
    assert_int_equal(gale__log_open_file(f->path, 1000, 3, false, NULL, 0), 0);
    GALE_INFO("comp", 7,
              "line 0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxxxxxxxxxxxxx");
    gale__log_close_file();
    char buf[160];
    /* the old 901 bytes plus a ~150-byte line exceed 1000: rolled first */
    assert_int_equal(file_size(rolled(f, 1, buf, sizeof buf)), 901);
    assert_int_equal(check_lines(f->path, NULL, 0), 1);
}

static void test_rolls_and_bounds_files(void **state) {
    fixture_t *f = *state;
    const long max = 2000;
    assert_int_equal(gale__log_open_file(f->path, (uint64_t)max, 3, false, NULL, 0), 0);
    for (int i = 0; i < 400; i++) GALE_INFO("comp", 7, "line %d xxxxxxxxxxxxxxxxxxxx", i);
    GALE_DEBUG("comp", 7, "line 9999 below the level: not written");
    gale__log_close_file();

    char buf[160];
    for (int k = 0; k <= 3; k++) {
        long sz = file_size(rolled(f, k, buf, sizeof buf));
        assert_true(sz > 0);
        assert_true(sz <= max); /* each file within the bound */
        check_lines(buf, NULL, 0);
    }
    assert_int_equal(file_size(rolled(f, 4, buf, sizeof buf)), -1); /* only 3 old files */

    /* The newest lines survive: the live file ends with line 399, and
     * worker.log.1 holds the lines just before the live file's first. */
    FILE *fp = fopen(f->path, "r");
    assert_non_null(fp);
    char line[512], last[512] = "";
    while (fgets(line, sizeof line, fp)) snprintf(last, sizeof last, "%s", line);
    fclose(fp);
    assert_non_null(strstr(last, "line 399 "));
}

static void test_no_old_files_truncates(void **state) {
    fixture_t *f = *state;
    assert_int_equal(gale__log_open_file(f->path, 1024, 0, false, NULL, 0), 0);
    for (int i = 0; i < 100; i++) GALE_INFO("comp", 7, "line %d xxxxxxxxxxxxxxxxxxxx", i);
    gale__log_close_file();
    char buf[160];
    assert_true(file_size(f->path) <= 1024);
    assert_int_equal(file_size(rolled(f, 1, buf, sizeof buf)), -1);
    assert_true(check_lines(f->path, NULL, 0) > 0);
}

#define THREADS        4
#define LINES_PER      2000
#define THREAD_MAX_OLD 1000

static void *writer(void *arg) {
    int base = *(int *)arg;
    for (int i = 0; i < LINES_PER; i++)
        GALE_INFO("comp", 7, "line %d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", base + i);
    return NULL;
}

/* Threads log while the file rolls often: with enough old files kept,
 * every line is found exactly once, whole, in some file. */
static void test_threads_roll_without_loss(void **state) {
    fixture_t *f = *state;
    assert_int_equal(gale__log_open_file(f->path, 8192, THREAD_MAX_OLD, false, NULL, 0), 0);
    pthread_t th[THREADS];
    int base[THREADS];
    for (int t = 0; t < THREADS; t++) {
        base[t] = t * LINES_PER;
        assert_int_equal(pthread_create(&th[t], NULL, writer, &base[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    gale__log_close_file();

    static unsigned char seen[THREADS * LINES_PER];
    memset(seen, 0, sizeof seen);
    char buf[160];
    int total = 0;
    for (int k = 0; k <= THREAD_MAX_OLD; k++) {
        if (file_size(rolled(f, k, buf, sizeof buf)) < 0) continue;
        assert_true(file_size(buf) <= 8192);
        total += check_lines(buf, seen, sizeof seen);
    }
    assert_int_equal(total, THREADS * LINES_PER);
    for (size_t i = 0; i < sizeof seen; i++) assert_int_equal(seen[i], 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_bad_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends_and_counts_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolls_and_bounds_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_old_files_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_roll_without_loss, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
