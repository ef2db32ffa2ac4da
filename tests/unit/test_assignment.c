/*
 * test_assignment.c — the worker's assignment file (common/assignment.c)
 * and the small file helpers under it (common/fileio.c): a round trip,
 * and every kind of bad file refused with one line naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/assignment.h"
#include "common/fileio.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/gale-test-asg.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sample(gale__ctl_topology_assignment_t *a, gale__ctl_executor_slot_t *s) {
    s[0] = (gale__ctl_executor_slot_t){1, 2, "sup-a", "127.0.0.1", 6700, 8000, NULL};
    s[1] = (gale__ctl_executor_slot_t){3, 3, "sup-b", "127.0.0.2", 6701, GALE_CTL_UNSET, NULL};
    *a = (gale__ctl_topology_assignment_t){"wc-1-1700000000", "ACTIVE", 7, {s, 2}};
}

static void test_round_trip(void **state) {
    (void)state;
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/w/x/assignment", dir);
    snprintf(err, sizeof err, "%s/w/x", dir);
    assert_int_equal(gale__mkdirs(err, err, sizeof err), 0);
    gale__ctl_topology_assignment_t a;
    gale__ctl_executor_slot_t s[2];
    sample(&a, s);
    assert_int_equal(gale__assignment_write(path, &a, err, sizeof err), 0);
    gale__ctl_msg_t m;
    const gale__ctl_topology_assignment_t *got;
    assert_int_equal(gale__assignment_read(path, &m, &got, err, sizeof err), 0);
    assert_string_equal(got->id, "wc-1-1700000000");
    assert_string_equal(got->status, "ACTIVE");
    assert_int_equal(got->version, 7);
    assert_int_equal(got->executors.n, 2);
    assert_int_equal(got->executors.items[1].start, 3);
    assert_string_equal(got->executors.items[1].host, "127.0.0.2");
    assert_int_equal(got->executors.items[1].port, 6701);
    assert_int_equal(got->executors.items[0].logviewer_port, 8000);
    gale__ctl_msg_destroy(&m);
    /* no temp file is left beside it */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
}

static void write_raw(const char *path, const void *p, size_t n) {
    char err[256];
    assert_int_equal(gale__file_write_atomic(path, p, n, err, sizeof err), 0);
}

static void expect_bad(const char *path, int code) {
    gale__ctl_msg_t m;
    const gale__ctl_topology_assignment_t *got = (void *)1;
    char err[512] = "";
    assert_int_equal(gale__assignment_read(path, &m, &got, err, sizeof err), code);
    assert_null(got);
    assert_non_null(strstr(err, path));
    gale__ctl_msg_destroy(&m); /* harmless after a refusal */
}

static void test_bad_files(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/assignment", dir);
    expect_bad(path, GALE_ENOENT);
    write_raw(path, "", 0);
    expect_bad(path, GALE_EPROTO);
    write_raw(path, "\xc1\xff garbage", 10);
    expect_bad(path, GALE_EPROTO);

    /* a valid file cut short anywhere is refused, never read past */
    gale__ctl_topology_assignment_t a;
    gale__ctl_executor_slot_t s[2];
    sample(&a, s);
    char err[256];
    assert_int_equal(gale__assignment_write(path, &a, err, sizeof err), 0);
    void *buf;
    size_t len;
    assert_int_equal(gale__file_read(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    for (size_t cut = 0; cut < len; cut++) {
        write_raw(path, buf, cut);
        expect_bad(path, GALE_EPROTO);
    }
    free(buf);

    /* another message type */
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    gale__ctl_reply_t r = GALE__CTL_REPLY(true, NULL, NULL);
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_REPLY, 0, &r, err, sizeof err), 0);
    char both[256];
    memcpy(both, h.data, h.size);
    memcpy(both + h.size, b.data, b.size);
    write_raw(path, both, h.size + b.size);
    expect_bad(path, GALE_EPROTO);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    /* a file too large to be an assignment */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, GALE_CTL_MAX_HEADER + GALE_CTL_MAX_BODY + 1, SEEK_SET), 0);
    fputc('x', fp);
    fclose(fp);
    expect_bad(path, GALE_ERANGE);
    /* a directory */
    expect_bad(dir, GALE_EIO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
