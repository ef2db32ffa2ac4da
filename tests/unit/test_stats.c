/*
 * test_stats.c — the stats that travel: the latency histogram (bins,
 * quantiles) and the worker stats blob (round trip, every malformed
 * part refused with one line, never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/histogram.h"
#include "common/wstats.h"
#include "gale/gale.h"

static void test_bins(void **st) {
    (void)st;
    assert_int_equal(gale__hist_bin(-5), 0);
    assert_int_equal(gale__hist_bin(1023), 0);
    assert_int_equal(gale__hist_bin(1024), 1);
    assert_int_equal(gale__hist_bin(1535), 1);
    assert_int_equal(gale__hist_bin(1536), 2);
    assert_int_equal(gale__hist_bin(2048), 3);
    assert_int_equal(gale__hist_bin(INT64_MAX), GALE__HIST_BINS - 1);
    /* every value lies inside its bucket's bounds */
    for (int64_t v = 1024; v < (1ll << 40); v = v * 5 / 4 + 1) {
        unsigned k = gale__hist_bin(v);
        assert_true(gale__hist_lower(k) <= (double)v);
        assert_true((double)v < gale__hist_upper(k));
    }
}

static void test_quantiles(void **st) {
    (void)st;
    uint64_t b[GALE__HIST_BINS] = {0};
    assert_true(gale__hist_quantile(b, 0.5) == 0);
    for (int i = 0; i < 990; i++) b[gale__hist_bin(1000000)]++;  /* 1 ms */
    for (int i = 0; i < 10; i++) b[gale__hist_bin(100000000)]++; /* 100 ms */
    double p50 = gale__hist_quantile(b, 0.5), p999 = gale__hist_quantile(b, 0.999);
    assert_true(p50 > 0.75e6 && p50 < 1.5e6);
    assert_true(p999 > 0.75e8 && p999 < 1.5e8);
    assert_int_equal(gale__hist_count(b), 1000);
}

static void test_roundtrip(void **st) {
    (void)st;
    gale__ws_exec_t e[2];
    memset(e, 0, sizeof e);
    strcpy(e[0].component, "split");
    e[0].start = 1, e[0].end = 4;
    for (int k = 0; k < GALE__WS_N; k++) e[0].c[k] = (uint64_t)k * 1000 + 7;
    e[0].hist[GALE__LAT_EXECUTE][5] = 42;
    e[0].n_streams = 1;
    strcpy(e[0].streams[0].id, "default");
    e[0].streams[0].emitted = 9;
    e[0].streams[0].acked = 8;
    e[0].streams[0].complete_ns = 12345;
    e[0].n_inputs = 2;
    strcpy(e[0].inputs[1].component, "spout");
    strcpy(e[0].inputs[1].stream, "odd");
    e[0].inputs[1].failed = 5;
    e[0].inputs[1].process_ns = 77;
    strcpy(e[0].inputs[0].component, "spout");
    strcpy(e[0].inputs[0].stream, "even");
    e[0].n_errors = 1;
    e[0].errors[0].epoch_ms = 1700000000000;
    e[0].errors[0].task = 3;
    strcpy(e[0].errors[0].msg, "boom");
    strcpy(e[1].component, "__acker");
    e[1].start = e[1].end = 9;
    gale__wstats_t s = {1700000000123ull, e, 2}, d;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(gale__wstats_encode(&s, &sb), 0);
    char err[512];
    assert_int_equal(gale__wstats_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_int_equal(d.n_execs, 2);
    assert_int_equal(d.start_ms, 1700000000123ull);
    assert_string_equal(d.execs[0].component, "split");
    assert_memory_equal(d.execs[0].c, e[0].c, sizeof e[0].c);
    assert_int_equal(d.execs[0].hist[GALE__LAT_EXECUTE][5], 42);
    assert_string_equal(d.execs[0].errors[0].msg, "boom");
    assert_int_equal(d.execs[0].streams[0].emitted, 9);
    assert_int_equal(d.execs[0].streams[0].acked, 8);
    assert_int_equal(d.execs[0].streams[0].complete_ns, 12345);
    assert_int_equal(d.execs[0].n_inputs, 2);
    assert_string_equal(d.execs[0].inputs[0].stream, "even");
    assert_string_equal(d.execs[0].inputs[1].component, "spout");
    assert_string_equal(d.execs[0].inputs[1].stream, "odd");
    assert_int_equal(d.execs[0].inputs[1].failed, 5);
    assert_int_equal(d.execs[0].inputs[1].process_ns, 77);
    assert_int_equal(d.execs[1].n_inputs, 0);
    gale__wstats_free(&d);
    /* every truncation and every flipped byte: refused or decoded, never a crash */
    for (size_t n = 0; n < sb.size; n++) {
        int rc = gale__wstats_decode(sb.data, n, &d, err, sizeof err);
        assert_int_not_equal(rc, 0);
        assert_non_null(strstr(err, "stats"));
        gale__wstats_free(&d);
    }
    for (size_t i = 0; i < sb.size; i++) {
        char *c = malloc(sb.size);
        memcpy(c, sb.data, sb.size);
        c[i] ^= 0x5a;
        gale__wstats_decode(c, sb.size, &d, err, sizeof err);
        gale__wstats_free(&d);
        free(c);
    }
    msgpack_sbuffer_destroy(&sb);
}

static void test_refusals(void **st) {
    (void)st;
    char err[512];
    gale__wstats_t d;
    /* [3, 0, []]: another version */
    assert_int_equal(gale__wstats_decode("\x93\x03\x00\x90", 4, &d, err, sizeof err), GALE_EPROTO);
    assert_non_null(strstr(err, "version"));
    gale__wstats_free(&d);
    /* [1, 0, [[...]]] with a bad executor */
    assert_int_equal(gale__wstats_decode("\x93\x01\x00\x91\x90", 5, &d, err, sizeof err),
                     GALE_EPROTO);
    assert_non_null(strstr(err, "executor 0"));
    gale__wstats_free(&d);
    assert_int_equal(gale__wstats_decode("\xc1", 1, &d, err, sizeof err), GALE_EPROTO);
    gale__wstats_free(&d);
}

/* A version 1 blob (a worker of the release before): read, without
 * per-stream acks or inputs. */
static void test_version1(void **st) {
    (void)st;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, 1);
    msgpack_pack_uint64(&pk, 5);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 9);
    msgpack_pack_str_with_body(&pk, "split", 5);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_array(&pk, GALE__WS_N);
    for (int k = 0; k < GALE__WS_N; k++) msgpack_pack_uint64(&pk, (uint64_t)k);
    for (int h = 0; h < GALE__LAT_N; h++) msgpack_pack_array(&pk, 0);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_str_with_body(&pk, "default", 7);
    msgpack_pack_uint64(&pk, 11);
    msgpack_pack_uint64(&pk, 22);
    msgpack_pack_array(&pk, 0);
    char err[512];
    gale__wstats_t d;
    assert_int_equal(gale__wstats_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_int_equal(d.n_execs, 1);
    assert_int_equal(d.execs[0].streams[0].transferred, 22);
    assert_int_equal(d.execs[0].streams[0].acked, 0);
    assert_int_equal(d.execs[0].n_inputs, 0);
    gale__wstats_free(&d);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins),      cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_version1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
