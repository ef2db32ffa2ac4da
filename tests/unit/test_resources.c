/*
 * test_resources.c — a topology's resources archive (common/resources.c):
 * a directory tree packs and unpacks to the same files, the same tree
 * always packs to the same bytes, and an archive naming a path outside
 * the target (absolute, "..", empty segment) or of the wrong shape is
 * refused before any file is written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/resources.h"
#include "gale/gale.h"

static char root[] = "/tmp/gale-test-res-XXXXXX";

static void put(const char *rel, const char *text) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(gale__mkdirs(path, err, sizeof err), 0);
    *slash = '/';
    assert_int_equal(gale__file_write_atomic(path, text, strlen(text), err, sizeof err), 0);
}

static void roundtrip(void **state) {
    (void)state;
    put("in/a.txt", "alpha\n");
    put("in/sub/deeper/b.txt", "beta\n");
    char in[300], out[300], err[256];
    snprintf(in, sizeof in, "%s/in", root);
    snprintf(out, sizeof out, "%s/out", root);
    msgpack_sbuffer sb, sb2;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&sb2);
    assert_int_equal(gale__resources_pack(in, &sb, err, sizeof err), 0);
    assert_int_equal(gale__resources_pack(in, &sb2, err, sizeof err), 0);
    assert_int_equal(sb.size, sb2.size);
    assert_memory_equal(sb.data, sb2.data, sb.size);
    assert_int_equal(gale__resources_unpack(sb.data, sb.size, out, err, sizeof err), 0);
    char path[400];
    void *buf;
    size_t n;
    snprintf(path, sizeof path, "%s/sub/deeper/b.txt", out);
    assert_int_equal(gale__file_read(path, 100, &buf, &n, err, sizeof err), 0);
    assert_string_equal(buf, "beta\n");
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&sb2);
}

/* [[path, bin "x"]] */
static size_t one_entry(uint8_t *b, const char *path) {
    size_t n = strlen(path), k = 0;
    b[k++] = 0x91;
    b[k++] = 0x92;
    b[k++] = (uint8_t)(0xa0 | n);
    memcpy(b + k, path, n);
    k += n;
    b[k++] = 0xc4;
    b[k++] = 1;
    b[k++] = 'x';
    return k;
}

static void refuses_escapes(void **state) {
    (void)state;
    static const char *const bad[] = {"/etc/x", "../x", "a/../../x", "a//b", "a/./b", ".", ""};
    char out[300], err[256];
    snprintf(out, sizeof out, "%s/evil", root);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[64];
        size_t n = one_entry(b, bad[i]);
        assert_int_equal(gale__resources_unpack(b, n, out, err, sizeof err), GALE_EPROTO);
    }
    static const uint8_t not_array[] = {0x80}, wrong_item[] = {0x91, 0x01},
                         truncated[] = {0x91, 0x92, 0xa1};
    assert_int_equal(gale__resources_unpack(not_array, sizeof not_array, out, err, sizeof err),
                     GALE_EPROTO);
    assert_int_equal(gale__resources_unpack(wrong_item, sizeof wrong_item, out, err, sizeof err),
                     GALE_EPROTO);
    assert_int_equal(gale__resources_unpack(truncated, sizeof truncated, out, err, sizeof err),
                     GALE_EPROTO);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* nothing was written */
}

int main(void) {
    if (!mkdtemp(root)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(refuses_escapes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
