/*
 * test_store.c — nimbus's state store (nimbus/store.c) through its
 * interface: round trip, overwrite, sorted lists, delete, bad keys
 * refused, temp files a crash left behind ignored and cleaned, and a put
 * that is all or nothing (a crash between write and rename leaves the old
 * value, whole, and reopening the store cleans up).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nimbus/store.h"

static char root[] = "/tmp/gale-test-store-XXXXXX";

static int setup(void **state) {
    (void)state;
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd);
}

static bool contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected '%s' in '%s'\n", needle, hay);
        return false;
    }
    return true;
}

/* A fresh store in its own subdirectory of root. */
static gale__store_t *open_store(const char *name, char *dir, size_t cap) {
    snprintf(dir, cap, "%s/%s/nimbus", root, name);
    char err[256] = "";
    gale__store_t *s = gale__store_dir_open(dir, err, sizeof err);
    if (!s) print_error("%s\n", err);
    assert_non_null(s);
    return s;
}

static void expect_val(gale__store_t *s, const char *key, const char *want) {
    void *val;
    size_t len;
    char err[256] = "";
    int rc = gale__store_get(s, key, &val, &len, err, sizeof err);
    if (rc) print_error("get %s: %s\n", key, err);
    assert_int_equal(rc, 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(val, want); /* NUL-terminated */
    free(val);
}

static void expect_list(gale__store_t *s, const char *prefix, const char *const *want,
                        size_t nwant) {
    char **names;
    size_t n;
    char err[256] = "";
    assert_int_equal(gale__store_list(s, prefix, &names, &n, err, sizeof err), 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) assert_string_equal(names[i], want[i]);
    gale__store_list_free(names, n);
}

static void put(gale__store_t *s, const char *key, const char *val) {
    char err[256] = "";
    int rc = gale__store_put(s, key, val, strlen(val), err, sizeof err);
    if (rc) print_error("put %s: %s\n", key, err);
    assert_int_equal(rc, 0);
}

static void test_roundtrip_overwrite(void **state) {
    (void)state;
    char dir[256], err[256];
    gale__store_t *s = open_store("rt", dir, sizeof dir);
    put(s, "counter", "1");
    expect_val(s, "counter", "1");
    put(s, "counter", "22"); /* overwrite, longer */
    expect_val(s, "counter", "22");
    put(s, "counter", ""); /* empty values are values */
    expect_val(s, "counter", "");

    /* Binary values, with NULs, come back byte for byte. */
    const char bin[] = {'a', 0, 'b', (char)0xff};
    assert_int_equal(gale__store_put(s, "topologies/wc-1-1/code", bin, sizeof bin, err, sizeof err),
                     0);
    void *val;
    size_t len;
    assert_int_equal(gale__store_get(s, "topologies/wc-1-1/code", &val, &len, err, sizeof err), 0);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(val, bin, sizeof bin);
    free(val);

    /* Missing keys. */
    assert_int_equal(gale__store_get(s, "nothing", &val, &len, err, sizeof err), GALE_ENOENT);
    assert_null(val);
    assert_int_equal(gale__store_get(s, "topologies/wc-1-1", &val, &len, err, sizeof err),
                     GALE_ENOENT);
    assert_true(contains(err, "has keys under it but no value"));
    assert_int_equal(gale__store_get(s, "counter/x", &val, &len, err, sizeof err), GALE_ENOENT);

    /* State survives closing and reopening: what a restarted nimbus sees. */
    gale__store_destroy(s);
    s = gale__store_dir_open(dir, err, sizeof err);
    assert_non_null(s);
    expect_val(s, "counter", "");
    gale__store_destroy(s);
    gale__store_destroy(NULL);
}

static void test_list_and_delete(void **state) {
    (void)state;
    char dir[256], err[256];
    gale__store_t *s = open_store("list", dir, sizeof dir);
    static const char *const none[1] = {NULL};
    expect_list(s, "", none, 0);
    expect_list(s, "topologies", none, 0);

    put(s, "topologies/b-2-2/meta", "m");
    put(s, "topologies/b-2-2/code", "c");
    put(s, "topologies/a-1-1/meta", "m");
    put(s, "topologies/C-3-3/meta", "m");
    put(s, "assignments/a-1-1", "x");
    put(s, "counter", "3");

    static const char *const top[] = {"assignments", "counter", "topologies"};
    expect_list(s, "", top, 3);
    static const char *const topos[] = {"C-3-3", "a-1-1", "b-2-2"}; /* bytewise order */
    expect_list(s, "topologies", topos, 3);
    static const char *const parts[] = {"code", "meta"};
    expect_list(s, "topologies/b-2-2", parts, 2);
    expect_list(s, "counter", none, 0); /* a leaf has nothing under it */

    /* Delete a leaf; its emptied parents disappear from lists. */
    assert_int_equal(gale__store_delete(s, "topologies/b-2-2/code", err, sizeof err), 0);
    static const char *const meta[] = {"meta"};
    expect_list(s, "topologies/b-2-2", meta, 1);
    assert_int_equal(gale__store_delete(s, "topologies/b-2-2/meta", err, sizeof err), 0);
    static const char *const two[] = {"C-3-3", "a-1-1"};
    expect_list(s, "topologies", two, 2);
    assert_int_equal(gale__store_delete(s, "assignments/a-1-1", err, sizeof err), 0);
    static const char *const rest[] = {"counter", "topologies"};
    expect_list(s, "", rest, 2);

    /* Deleting what is not there, or a parent. */
    assert_int_equal(gale__store_delete(s, "assignments/a-1-1", err, sizeof err), GALE_ENOENT);
    assert_int_equal(gale__store_delete(s, "counter/x", err, sizeof err), GALE_ENOENT);
    assert_int_equal(gale__store_delete(s, "topologies", err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "it has keys under it"));
    expect_list(s, "topologies", two, 2);

    /* A key is a leaf or a parent, never both. */
    assert_int_equal(gale__store_put(s, "counter/x", "v", 1, err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "one of its parents is a key with a value"));
    assert_int_equal(gale__store_put(s, "topologies", "v", 1, err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "it has keys under it"));
    expect_val(s, "counter", "3");
    gale__store_destroy(s);
}

static void test_bad_keys(void **state) {
    (void)state;
    char dir[256], err[256];
    gale__store_t *s = open_store("keys", dir, sizeof dir);
    static const struct {
        const char *key, *reason;
    } bad[] = {
        {"", "empty key"},
        {"/etc/passwd", "empty segment"},
        {"a//b", "empty segment"},
        {"a/", "empty segment"},
        {"..", "'.' or '..' segment"},
        {"a/../../x", "'.' or '..' segment"},
        {"./a", "'.' or '..' segment"},
        {"a b", "contains byte 0x20"},
        {"a\nb", "contains byte 0x0a"},
        {"~tmp.1.1", "contains byte 0x7e"}, /* temp files can never be keys */
        {"a/b/c/d/e/f/g/h/i", "more than 8 segments"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(gale__store_key_check(bad[i].key, err, sizeof err), GALE_EINVAL);
        assert_true(contains(err, bad[i].reason));
        assert_int_equal(gale__store_put(s, bad[i].key, "v", 1, err, sizeof err), GALE_EINVAL);
        void *val;
        size_t len;
        assert_int_equal(gale__store_get(s, bad[i].key, &val, &len, err, sizeof err), GALE_EINVAL);
        assert_int_equal(gale__store_delete(s, bad[i].key, err, sizeof err), GALE_EINVAL);
    }
    char longkey[GALE_STORE_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(gale__store_key_check(longkey, err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "key of 256 bytes (at most 255)"));
    longkey[GALE_STORE_KEY_MAX] = '\0';
    assert_int_equal(gale__store_key_check(longkey, err, sizeof err), 0);
    assert_int_equal(gale__store_key_check(NULL, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__store_key_check("topologies/wc-1-1700000000/code", err, sizeof err), 0);
    assert_int_equal(gale__store_key_check(".hidden/x_y-z", err, sizeof err), 0);

    char **names;
    size_t n;
    assert_int_equal(gale__store_list(s, "../x", &names, &n, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__store_put(s, "k", NULL, 1, err, sizeof err), GALE_EINVAL);
    /* Nothing escaped the store's directory. */
    struct stat st;
    char outside[300];
    snprintf(outside, sizeof outside, "%s/keys/x", root);
    assert_int_not_equal(stat(outside, &st), 0);
    gale__store_destroy(s);

    assert_null(gale__store_dir_open("", err, sizeof err));
    assert_null(gale__store_dir_open("/proc/version/nimbus", err, sizeof err));
    assert_true(contains(err, "cannot create the directory"));
}

/* Write a file as a crash would leave it (relative to the store dir). */
static void leave_file(const char *dir, const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static bool exists(const char *dir, const char *rel) {
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return stat(path, &st) == 0;
}

static void test_crash_leftovers(void **state) {
    (void)state;
    char dir[256], err[256];
    gale__store_t *s = open_store("crash", dir, sizeof dir);
    put(s, "assignments/wc-1-1", "version 1, complete");
    put(s, "counter", "7");

    /*
     * A put of "version 2" crashed after writing its temp file and before
     * the rename: the temp file sits beside the key, half written.
     */
    leave_file(dir, "assignments/~tmp.999.1", "version 2, half wri");
    leave_file(dir, "~tmp.999.2", "8");
    /* ... and one crashed after creating a new key's directory. */
    char path[512];
    snprintf(path, sizeof path, "%s/topologies", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/topologies/new-2-2", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    leave_file(dir, "topologies/new-2-2/~tmp.999.3", "conf");

    /* While running, a leftover is never listed and never read. */
    static const char *const one[] = {"wc-1-1"};
    expect_list(s, "assignments", one, 1);
    expect_val(s, "assignments/wc-1-1", "version 1, complete");
    gale__store_destroy(s);

    /* The restarted nimbus sees the old values, whole, and no leftovers. */
    s = gale__store_dir_open(dir, err, sizeof err);
    assert_non_null(s);
    expect_val(s, "assignments/wc-1-1", "version 1, complete");
    expect_val(s, "counter", "7");
    assert_false(exists(dir, "assignments/~tmp.999.1"));
    assert_false(exists(dir, "~tmp.999.2"));
    assert_false(exists(dir, "topologies")); /* emptied by the cleanup */
    static const char *const top[] = {"assignments", "counter"};
    expect_list(s, "", top, 2);

    /* A put completes: the new value replaces the old one, whole, and no
     * temp file stays behind. */
    put(s, "assignments/wc-1-1", "version 2, complete");
    expect_val(s, "assignments/wc-1-1", "version 2, complete");
    static const char *const only[] = {"wc-1-1"};
    char **names;
    size_t n;
    assert_int_equal(gale__store_list(s, "assignments", &names, &n, err, sizeof err), 0);
    gale__store_list_free(names, n);
    expect_list(s, "assignments", only, 1);
    snprintf(path, sizeof path, "ls -A '%s/assignments' | grep -c . | grep -qx 1", dir);
    assert_int_equal(system(path), 0);
    gale__store_destroy(s);
}

/* A put that fails while writing (here: the file size limit, which root
 * is subject to as well) leaves the old value and no temp file. */
static void test_failed_put_keeps_old_value(void **state) {
    (void)state;
    char dir[256], err[256];
    gale__store_t *s = open_store("fail", dir, sizeof dir);
    put(s, "a/k", "old");
    char big[4096];
    memset(big, 'n', sizeof big);

    struct rlimit saved, tiny = {16, 16};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    tiny.rlim_max = saved.rlim_max;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a signal */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    int rc = gale__store_put(s, "a/k", big, sizeof big, err, sizeof err);
    /* A new key in new directories: they go when its put fails. */
    char err_new[256];
    int rc_new = gale__store_put(s, "b/c/k", big, sizeof big, err_new, sizeof err_new);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, was);

    assert_int_equal(rc, GALE_EIO);
    assert_true(contains(err, "cannot write 'a/k'"));
    expect_val(s, "a/k", "old");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s/a' | grep -c . | grep -qx 1", dir);
    assert_int_equal(system(cmd), 0); /* only k: the temp file is gone */
    assert_int_equal(rc_new, GALE_EIO);
    static const char *const only_a[] = {"a"};
    expect_list(s, "", only_a, 1);
    gale__store_destroy(s);
}

/* Another implementation behind the same ops (what a ZooKeeper store
 * will be): the interface checks keys before any implementation runs. */
typedef struct fake_store {
    gale__store_t base;
    int calls;
} fake_store_t;

static int fake_get(gale__store_t *s, const char *key, void **val, size_t *len, char *err,
                    size_t errlen) {
    (void)val, (void)len, (void)err, (void)errlen;
    assert_int_equal(gale__store_key_check(key, NULL, 0), 0);
    ((fake_store_t *)s)->calls++;
    return GALE_ENOENT;
}
static int fake_put(gale__store_t *s, const char *key, const void *val, size_t len, char *err,
                    size_t errlen) {
    (void)val, (void)len, (void)err, (void)errlen;
    assert_int_equal(gale__store_key_check(key, NULL, 0), 0);
    ((fake_store_t *)s)->calls++;
    return 0;
}
static int fake_del(gale__store_t *s, const char *key, char *err, size_t errlen) {
    (void)err, (void)errlen;
    assert_int_equal(gale__store_key_check(key, NULL, 0), 0);
    ((fake_store_t *)s)->calls++;
    return 0;
}
static int fake_list(gale__store_t *s, const char *prefix, char ***names, size_t *n, char *err,
                     size_t errlen) {
    (void)names, (void)n, (void)err, (void)errlen;
    assert_true(!*prefix || gale__store_key_check(prefix, NULL, 0) == 0);
    ((fake_store_t *)s)->calls++;
    return 0;
}
static void fake_destroy(gale__store_t *s) {
    ((fake_store_t *)s)->calls += 100;
}

static void test_other_implementation(void **state) {
    (void)state;
    static const gale__store_ops_t ops = {"fake",   fake_get,  fake_put,
                                          fake_del, fake_list, fake_destroy};
    fake_store_t f = {{&ops}, 0};
    gale__store_t *s = &f.base;
    char err[256];
    void *val;
    size_t len;
    char **names;
    size_t n;
    assert_int_equal(gale__store_put(s, "../x", "v", 1, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__store_get(s, "a//b", &val, &len, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__store_delete(s, "", err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__store_list(s, "/", &names, &n, err, sizeof err), GALE_EINVAL);
    assert_int_equal(f.calls, 0);
    assert_int_equal(gale__store_put(s, "a/b", "v", 1, err, sizeof err), 0);
    assert_int_equal(gale__store_get(s, "a/b", &val, &len, err, sizeof err), GALE_ENOENT);
    assert_int_equal(gale__store_delete(s, "a/b", err, sizeof err), 0);
    assert_int_equal(gale__store_list(s, "", &names, &n, err, sizeof err), 0);
    assert_int_equal(f.calls, 4);
    gale__store_destroy(s);
    assert_int_equal(f.calls, 104);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_overwrite),
        cmocka_unit_test(test_list_and_delete),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_crash_leftovers),
        cmocka_unit_test(test_failed_put_keeps_old_value),
        cmocka_unit_test(test_other_implementation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
