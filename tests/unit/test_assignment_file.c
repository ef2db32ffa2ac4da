/*
 * test_assignment_file.c — the per-worker assignment file of the cluster
 * contract (common/control.c, common/file.c): it round-trips through an
 * atomic write, a missing file is GALE_ENOENT, and a truncated or
 * tampered file is refused with a reason naming the path and the field.
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

#include "common/control.h"
#include "common/file.h"

static char dir[] = "/tmp/gale-test-assign-XXXXXX";

static void sample(gale__ctl_topology_assignment_t *a, gale__ctl_executor_slot_t *slots) {
    slots[0] = (gale__ctl_executor_slot_t){1, 2, "sup-a", "127.0.0.2", 6700, GALE_CTL_UNSET};
    slots[1] = (gale__ctl_executor_slot_t){3, 3, "sup-b", "127.0.0.3", 6701, 8000};
    memset(a, 0, sizeof(*a));
    a->id = "wc-1-1700000000";
    a->status = "ACTIVE";
    a->version = 7;
    a->executors.items = slots;
    a->executors.n = 2;
}

static void roundtrip(void **state) {
    (void)state;
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "%s/workers/wc-1-1700000000-6700/assignment", dir);
    gale__ctl_topology_assignment_t a;
    gale__ctl_executor_slot_t slots[2];
    sample(&a, slots);
    assert_int_equal(gale__ctl_assignment_write_file(path, &a, err, sizeof err), 0);
    gale__ctl_assignment_file_t f;
    assert_int_equal(gale__ctl_assignment_read_file(path, &f, err, sizeof err), 0);
    assert_string_equal(f.a.id, a.id);
    assert_string_equal(f.a.status, "ACTIVE");
    assert_int_equal(f.a.version, 7);
    assert_int_equal(f.a.executors.n, 2);
    assert_string_equal(f.a.executors.items[1].host, "127.0.0.3");
    assert_int_equal(f.a.executors.items[1].port, 6701);
    assert_true(f.a.executors.items[0].logviewer_port == GALE_CTL_UNSET);
    gale__ctl_assignment_file_free(&f);

    /* rewritten in place: the reader sees the new version, whole */
    a.version = 8;
    assert_int_equal(gale__ctl_assignment_write_file(path, &a, err, sizeof err), 0);
    assert_int_equal(gale__ctl_assignment_read_file(path, &f, err, sizeof err), 0);
    assert_int_equal(f.a.version, 8);
    gale__ctl_assignment_file_free(&f);
}

static void missing_and_garbage(void **state) {
    (void)state;
    char path[256], err[256] = "";
    gale__ctl_assignment_file_t f;
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(gale__ctl_assignment_read_file(path, &f, err, sizeof err), GALE_ENOENT);

    /* truncated: every prefix of a valid file is refused, nothing leaks */
    gale__ctl_topology_assignment_t a;
    gale__ctl_executor_slot_t slots[2];
    sample(&a, slots);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(gale__ctl_assignment_encode(&sb, &a, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/cut", dir);
    for (size_t n = 0; n < sb.size; n++) {
        assert_int_equal(gale__file_write_atomic(path, sb.data, n, err, sizeof err), 0);
        assert_int_equal(gale__ctl_assignment_read_file(path, &f, err, sizeof err), GALE_EPROTO);
        assert_non_null(strstr(err, path));
    }
    /* a task range backwards */
    slots[1].start = 9;
    slots[1].end = 3;
    assert_int_not_equal(gale__ctl_assignment_encode(&sb, &a, err, sizeof err), 0);
    msgpack_sbuffer_destroy(&sb);

    /* a map that is not an assignment */
    static const uint8_t other[] = {0x81, 0xa1, 'x', 0x01};
    assert_int_equal(gale__file_write_atomic(path, other, sizeof other, err, sizeof err), 0);
    assert_int_equal(gale__ctl_assignment_read_file(path, &f, err, sizeof err), GALE_EPROTO);
    assert_non_null(strstr(err, "unknown field 'x'"));
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(missing_and_garbage),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
