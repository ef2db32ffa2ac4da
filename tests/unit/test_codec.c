/*
 * test_codec.c — header frames and batch bodies (common/codec.c): round
 * trips, exact rejection messages, all-or-nothing batches, limits, and
 * that no truncation or byte flip of a valid batch crashes the decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/value.h"

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

static void test_header_roundtrip(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(gale__wire_header_pack(&sb, GALE_WIRE_BATCH, 3, 0xfeedfacecafeULL), 0);
    gale__wire_header_t h;
    char err[256] = "";
    assert_int_equal(gale__wire_header_check(sb.data, sb.size, &h, err, sizeof err), 0);
    assert_string_equal(h.type, "batch");
    assert_int_equal(h.worker, 3);
    assert_true(h.incarnation == 0xfeedfacecafeULL);

    /* Packing again clears the buffer first; no worker leaves out "w" and
     * "i"; a long type is truncated. */
    assert_int_equal(gale__wire_header_pack(&sb, "heartbeat-with-a-long-name", -1, 7), 0);
    assert_int_equal(gale__wire_header_check(sb.data, sb.size, &h, err, sizeof err), 0);
    assert_string_equal(h.type, "heartbeat-with-");
    assert_int_equal(h.worker, -1);
    assert_true(h.incarnation == 0);
    msgpack_sbuffer_destroy(&sb);
}

/* A header map built by hand: {"v": ver, "t": type} (type NULL: omitted). */
static void pack_header(msgpack_sbuffer *sb, int64_t ver, const char *type) {
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, type ? 2 : 1);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int64(&pk, ver);
    if (type) {
        msgpack_pack_str_with_body(&pk, "t", 1);
        msgpack_pack_str_with_body(&pk, type, strlen(type));
    }
}

static void test_header_wrong_version(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_header(&sb, 2, "batch");
    gale__wire_header_t h;
    char err[256] = "";
    assert_int_equal(gale__wire_header_check(sb.data, sb.size, &h, err, sizeof err), GALE_EPROTO);
    assert_string_equal(
        err, "wire version 2 is not supported (this is version 1): upgrade the older peer");
    assert_string_equal(h.type, "");
    msgpack_sbuffer_destroy(&sb);
}

static void expect_bad_header(const void *buf, size_t len, const char *needle) {
    gale__wire_header_t h;
    char err[256] = "";
    assert_int_equal(gale__wire_header_check(buf, len, &h, err, sizeof err), GALE_EPROTO);
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    if (needle && !strstr(err, needle)) fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_header_garbage(void **state) {
    (void)state;
    expect_bad_header("", 0, "header");
    expect_bad_header(NULL, 0, "header");
    expect_bad_header("GET / HTTP/1.1\r\n", 16, "header");
    expect_bad_header("\x05", 1, "not a map");
    expect_bad_header("\xc1", 1, "malformed");
    expect_bad_header("\x81\xa1v", 3, "truncated");

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_header(&sb, 1, NULL); /* no type */
    expect_bad_header(sb.data, sb.size, "\"t\"");
    pack_header(&sb, -1, "batch");
    expect_bad_header(sb.data, sb.size, "wire version -1");

    /* version as a string */
    msgpack_sbuffer_clear(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_str_with_body(&pk, "1", 1);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_str_with_body(&pk, "batch", 5);
    expect_bad_header(sb.data, sb.size, "\"v\"");

    /* type as an int */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_int(&pk, 7);
    expect_bad_header(sb.data, sb.size, "\"t\"");

    /* a valid header followed by trailing bytes */
    pack_header(&sb, 1, "batch");
    msgpack_sbuffer_write(&sb, "\x00", 1);
    expect_bad_header(sb.data, sb.size, "trailing");
    msgpack_sbuffer_destroy(&sb);
}

/* ------------------------------------------------------------------ */
/* Batches                                                              */
/* ------------------------------------------------------------------ */

typedef struct seen {
    int calls;
    int stop_at; /* return an error on this call (1-based), 0: never */
    gale__wire_tuple_t t[8];
    char stream[8][256];
    uint64_t ids[8][2 * GALE_WIRE_MAX_IDS];
    gale_value_t *vals[8];
    char *blocks[8];
} seen_t;

static int record_cb(void *ud, const gale__wire_tuple_t *t) {
    seen_t *s = ud;
    s->calls++;
    if (s->stop_at && s->calls == s->stop_at) return GALE_ESTATE;
    if (s->calls > 8) return 0;
    int i = s->calls - 1;
    s->t[i] = *t;
    memcpy(s->stream[i], t->stream, t->stream_len);
    s->stream[i][t->stream_len] = '\0';
    if (t->n_ids) memcpy(s->ids[i], t->ids, 2 * sizeof(uint64_t) * t->n_ids);
    s->vals[i] = calloc(t->n_values + 1, sizeof(gale_value_t));
    s->blocks[i] = malloc(t->wire_values_extra + 1);
    gale__wire_values_read(t, s->vals[i], s->blocks[i]);
    return 0;
}

static void seen_free(seen_t *s) {
    for (int i = 0; i < 8; i++) {
        free(s->vals[i]);
        free(s->blocks[i]);
    }
}

static int count_cb(void *ud, const gale__wire_tuple_t *t) {
    (void)t;
    (*(int *)ud)++;
    return 0;
}

static void test_batch_roundtrip(void **state) {
    (void)state;
    gale__codec_stats_t before, after;
    gale__codec_stats_get(&before);

    gale_value_t inner[] = {gale_int(-5), gale_str("x")};
    gale_value_t kv[] = {gale_str("k"), gale_array(inner, 2)};
    gale_value_t v0[] = {gale_str("hello"), gale_int(42)};
    gale_value_t v1[] = {gale_map(kv, 1), gale_bytes("\0\1", 2), gale_double(0.25), gale_nil(),
                         gale_bool(false)};
    uint64_t ids0[] = {1, 2};
    uint64_t ids1[] = {UINT64_MAX, 7, 100, 200, 0, 9};
    gale__wire_tuple_t in[3] = {
        {.dest_task = 3,
         .stream = "default",
         .stream_len = 7,
         .src_task = 1,
         .ids = ids0,
         .n_ids = 1,
         .values = v0,
         .n_values = 2},
        {.dest_task = 12,
         .stream = "__ack_ack",
         .stream_len = 9,
         .src_task = -1,
         .ids = ids1,
         .n_ids = 3,
         .values = v1,
         .n_values = 5},
        {.dest_task = 1,
         .stream = "s",
         .stream_len = 1,
         .src_task = 2147483647,
         .ids = NULL,
         .n_ids = 0,
         .values = NULL,
         .n_values = 0},
    };

    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    for (int round = 0; round < 2; round++) { /* the encoder is reusable */
        gale__batch_begin(&enc);
        for (int i = 0; i < 3; i++) assert_int_equal(gale__batch_add(&enc, &in[i]), 0);
        gale__batch_end(&enc);
        assert_int_equal(enc.count, 3);

        seen_t s;
        memset(&s, 0, sizeof s);
        char err[256] = "";
        assert_int_equal(
            gale__batch_decode(enc.sb.data, enc.sb.size, record_cb, &s, err, sizeof err), 0);
        assert_int_equal(s.calls, 3);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(s.t[i].dest_task, in[i].dest_task);
            assert_int_equal(s.t[i].src_task, in[i].src_task);
            assert_int_equal(s.t[i].stream_len, in[i].stream_len);
            assert_string_equal(s.stream[i], in[i].stream);
            assert_int_equal(s.t[i].n_ids, in[i].n_ids);
            if (in[i].n_ids) assert_memory_equal(s.ids[i], in[i].ids, 16 * in[i].n_ids);
            assert_int_equal(s.t[i].n_values, in[i].n_values);
            for (uint32_t k = 0; k < in[i].n_values; k++)
                assert_true(gale_value_equal(&s.vals[i][k], &in[i].values[k]));
        }
        seen_free(&s);
    }
    gale__batch_encoder_destroy(&enc);

    gale__codec_stats_get(&after);
    assert_true(after.batches_encoded >= before.batches_encoded + 2);
    assert_true(after.tuples_encoded >= before.tuples_encoded + 6);
    assert_true(after.batches_decoded >= before.batches_decoded + 2);
    assert_true(after.tuples_decoded >= before.tuples_decoded + 6);
}

static void test_batch_empty(void **state) {
    (void)state;
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    gale__batch_end(&enc);
    assert_int_equal(enc.sb.size, 5);
    int calls = 0;
    char err[128];
    assert_int_equal(
        gale__batch_decode(enc.sb.data, enc.sb.size, count_cb, &calls, err, sizeof err), 0);
    assert_int_equal(calls, 0);
    gale__batch_encoder_destroy(&enc);
}

static void test_batch_cb_error_stops(void **state) {
    (void)state;
    gale_value_t v = gale_int(1);
    gale__wire_tuple_t t = {.dest_task = 1,
                            .stream = "default",
                            .stream_len = 7,
                            .src_task = 1,
                            .values = &v,
                            .n_values = 1};
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    for (int i = 0; i < 4; i++) assert_int_equal(gale__batch_add(&enc, &t), 0);
    gale__batch_end(&enc);
    seen_t s;
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    assert_int_equal(gale__batch_decode(enc.sb.data, enc.sb.size, record_cb, &s, NULL, 0),
                     GALE_ESTATE);
    assert_int_equal(s.calls, 2);
    seen_free(&s);
    gale__batch_encoder_destroy(&enc);
}

/* A valid 3-tuple batch with nested values, for corruption tests. */
static void make_batch(gale__batch_encoder_t *enc) {
    gale_value_t inner[] = {gale_int(300), gale_str("abc"), gale_double(-1.5)};
    gale_value_t kv[] = {gale_str("key"), gale_array(inner, 3), gale_int(-70000),
                         gale_bytes("zz", 2)};
    gale_value_t vals[] = {gale_map(kv, 2), gale_str("word"), gale_bool(true)};
    uint64_t ids[] = {0x1122334455667788ULL, 99, 5, 6};
    gale__wire_tuple_t t = {.dest_task = 4,
                            .stream = "default",
                            .stream_len = 7,
                            .src_task = 2,
                            .ids = ids,
                            .n_ids = 2,
                            .values = vals,
                            .n_values = 3};
    gale__batch_begin(enc);
    for (int i = 0; i < 3; i++) {
        t.dest_task = 4 + i;
        assert_int_equal(gale__batch_add(enc, &t), 0);
    }
    gale__batch_end(enc);
}

static void test_batch_truncations_and_flips(void **state) {
    (void)state;
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    make_batch(&enc);
    size_t len = enc.sb.size;
    char *copy = malloc(len);
    char err[256];

    for (size_t n = 0; n < len; n++) {
        memcpy(copy, enc.sb.data, n);
        int calls = 0;
        err[0] = '\0';
        /* A strict prefix is never a whole batch: always rejected, and
         * (all or nothing) nothing was delivered. */
        assert_int_equal(gale__batch_decode(copy, n, count_cb, &calls, err, sizeof err),
                         GALE_EPROTO);
        assert_int_equal(calls, 0);
        assert_true(strlen(err) > 0);
    }

    static const unsigned char masks[] = {0x01, 0x02, 0x10, 0x40, 0x80, 0xff};
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, enc.sb.data, len);
            copy[pos] = (char)(copy[pos] ^ masks[m]);
            seen_t s;
            memset(&s, 0, sizeof s);
            int rc = gale__batch_decode(copy, len, record_cb, &s, err, sizeof err);
            assert_true(rc == 0 || rc == GALE_EPROTO);
            if (rc == GALE_EPROTO) assert_int_equal(s.calls, 0);
            seen_free(&s);
        }
    }
    free(copy);
    gale__batch_encoder_destroy(&enc);
}

/*
 * Hand-built batch of n_good valid tuples then one tuple broken by `how`:
 * lets the decoder's checks be tested on input the encoder refuses to make.
 */
enum bad_kind {
    BAD_NONE,
    BAD_STREAM_INT,
    BAD_STREAM_LONG,
    BAD_STREAM_EMPTY,
    BAD_DEST_ZERO,
    BAD_DEST_BIG,
    BAD_SRC_MINUS2,
    BAD_IDS_ODD,
    BAD_IDS_TOO_MANY,
    BAD_ID_NEGATIVE,
    BAD_VALUE_EXT,
    BAD_VALUE_UINT_BIG,
    BAD_VALUES_TOO_MANY,
    BAD_TUPLE_SHAPE,
};

static void pack_tuple(msgpack_packer *pk, enum bad_kind how) {
    static char longname[300];
    memset(longname, 's', sizeof longname);
    msgpack_pack_array(pk, 2);
    if (how == BAD_DEST_ZERO)
        msgpack_pack_int(pk, 0);
    else if (how == BAD_DEST_BIG)
        msgpack_pack_int64(pk, (int64_t)INT32_MAX + 1);
    else
        msgpack_pack_int(pk, 5);
    if (how == BAD_TUPLE_SHAPE) {
        msgpack_pack_array(pk, 3);
        msgpack_pack_str_with_body(pk, "default", 7);
        msgpack_pack_int(pk, 1);
        msgpack_pack_array(pk, 0);
        return;
    }
    msgpack_pack_array(pk, 4);
    if (how == BAD_STREAM_INT)
        msgpack_pack_int(pk, 17);
    else if (how == BAD_STREAM_LONG)
        msgpack_pack_str_with_body(pk, longname, 256);
    else if (how == BAD_STREAM_EMPTY)
        msgpack_pack_str_with_body(pk, "", 0);
    else
        msgpack_pack_str_with_body(pk, longname, 255);
    msgpack_pack_int(pk, how == BAD_SRC_MINUS2 ? -2 : 1);
    if (how == BAD_IDS_ODD) {
        msgpack_pack_array(pk, 3);
        for (int i = 0; i < 3; i++) msgpack_pack_uint64(pk, 1);
    } else if (how == BAD_IDS_TOO_MANY) {
        msgpack_pack_array(pk, 2 * GALE_WIRE_MAX_IDS + 2);
        for (int i = 0; i < 2 * GALE_WIRE_MAX_IDS + 2; i++) msgpack_pack_uint64(pk, 1);
    } else if (how == BAD_ID_NEGATIVE) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, 1);
        msgpack_pack_int(pk, -1);
    } else {
        msgpack_pack_array(pk, 2 * GALE_WIRE_MAX_IDS);
        for (int i = 0; i < 2 * GALE_WIRE_MAX_IDS; i++) msgpack_pack_uint64(pk, UINT64_MAX - i);
    }
    if (how == BAD_VALUES_TOO_MANY) {
        msgpack_pack_array(pk, GALE_WIRE_MAX_VALUES + 1);
        for (int i = 0; i < GALE_WIRE_MAX_VALUES + 1; i++) msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_int(pk, 1);
    if (how == BAD_VALUE_EXT) {
        msgpack_pack_ext(pk, 1, 3);
        msgpack_pack_ext_body(pk, "e", 1);
    } else if (how == BAD_VALUE_UINT_BIG) {
        msgpack_pack_uint64(pk, UINT64_MAX);
    } else {
        msgpack_pack_str_with_body(pk, "ok", 2);
    }
}

static int decode_built(int n_good, enum bad_kind how, int *calls, char *err, size_t errlen) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (size_t)n_good + 1);
    for (int i = 0; i < n_good; i++) pack_tuple(&pk, BAD_NONE);
    pack_tuple(&pk, how);
    *calls = 0;
    err[0] = '\0';
    int rc = gale__batch_decode(sb.data, sb.size, count_cb, calls, err, errlen);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void test_batch_limits_and_all_or_nothing(void **state) {
    (void)state;
    char err[256];
    int calls;
    /* The limits themselves are accepted (255-byte stream, 64 id pairs). */
    assert_int_equal(decode_built(2, BAD_NONE, &calls, err, sizeof err), 0);
    assert_int_equal(calls, 3);

    static const struct {
        enum bad_kind how;
        const char *msg;
    } cases[] = {
        {BAD_STREAM_INT, "batch tuple 3: stream is not a string"},
        {BAD_STREAM_LONG, "batch tuple 3: stream name is empty or longer than 255 bytes"},
        {BAD_STREAM_EMPTY, "batch tuple 3: stream name is empty or longer than 255 bytes"},
        {BAD_DEST_ZERO, "batch tuple 3: dest_task is not a task id (int >= 1)"},
        {BAD_DEST_BIG, "batch tuple 3: dest_task is not a task id (int >= 1)"},
        {BAD_SRC_MINUS2, "batch tuple 3: src_task is not a task id (int >= 1 or -1)"},
        {BAD_IDS_ODD, "batch tuple 3: ids has an odd length (want root, edge pairs)"},
        {BAD_IDS_TOO_MANY, "batch tuple 3: too many ids"},
        {BAD_ID_NEGATIVE, "batch tuple 3: an id is not an unsigned integer"},
        {BAD_VALUE_EXT, "batch tuple 3: ext types are not supported"},
        {BAD_VALUE_UINT_BIG, "batch tuple 3: an unsigned integer above INT64_MAX"},
        {BAD_VALUES_TOO_MANY, "batch tuple 3: too many values"},
        {BAD_TUPLE_SHAPE, "batch tuple 3: tuple is not [stream, src_task, ids, values]"},
    };
    gale__codec_stats_t before, after;
    gale__codec_stats_get(&before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Three good tuples first: the bad LAST one must stop them all. */
        assert_int_equal(decode_built(3, cases[i].how, &calls, err, sizeof err), GALE_EPROTO);
        assert_int_equal(calls, 0);
        assert_string_equal(err, cases[i].msg);
    }
    gale__codec_stats_get(&after);
    assert_int_equal(after.decode_errors - before.decode_errors, sizeof cases / sizeof cases[0]);
}

static void test_batch_structural_garbage(void **state) {
    (void)state;
    char err[256];
    int calls = 0;
    /* Claims 4 billion items in 5 bytes: must fail fast, never allocate. */
    assert_int_equal(
        gale__batch_decode("\xdd\xff\xff\xff\xff", 5, count_cb, &calls, err, sizeof err),
        GALE_EPROTO);
    assert_int_equal(
        gale__batch_decode("\xdf\xff\xff\xff\xff\x01\x01", 7, count_cb, &calls, err, sizeof err),
        GALE_EPROTO);
    /* A str claiming more bytes than there are. */
    assert_int_equal(gale__batch_decode("\xdb\xff\xff\xff\xff"
                                        "ab",
                                        7, count_cb, &calls, err, sizeof err),
                     GALE_EPROTO);
    /* Not an array; trailing bytes; empty. */
    assert_int_equal(gale__batch_decode("\x01", 1, count_cb, &calls, err, sizeof err), GALE_EPROTO);
    assert_string_equal(err, "batch: not an array");
    assert_int_equal(gale__batch_decode("\x90\x90", 2, count_cb, &calls, err, sizeof err),
                     GALE_EPROTO);
    assert_string_equal(err, "batch: 1 trailing bytes after the message");
    assert_int_equal(gale__batch_decode(NULL, 0, count_cb, &calls, err, sizeof err), GALE_EPROTO);
    /* 40 nested arrays: deeper than any decoder accepts. */
    char deep[40];
    memset(deep, 0x91, sizeof deep);
    deep[39] = (char)0x90;
    assert_int_equal(gale__batch_decode(deep, sizeof deep, count_cb, &calls, err, sizeof err),
                     GALE_EPROTO);
    assert_int_equal(calls, 0);
}

/* One tuple [1, ["default", 1, [], values]] whose values are raw bytes. */
static size_t raw_batch(unsigned char *buf, const void *values, size_t n_values, size_t len) {
    static const unsigned char head[] = {0x91, 0x92, 0x01, 0x94, 0xa7, 'd',  'e',
                                         'f',  'a',  'u',  'l',  't',  0x01, 0x90};
    memcpy(buf, head, sizeof head);
    size_t k = sizeof head;
    buf[k++] = 0xdc; /* array16: the values count */
    buf[k++] = (unsigned char)(n_values >> 8);
    buf[k++] = (unsigned char)n_values;
    memcpy(buf + k, values, len);
    return k + len;
}

static int exact_cb(void *ud, const gale__wire_tuple_t *t) {
    gale_value_t *out = ud;
    /* exactly the bytes the decoder asks for: ASan sees any write past */
    char *block = t->wire_values_extra ? malloc(t->wire_values_extra) : NULL;
    gale__wire_values_read(t, out, block);
    out[t->n_values].type = (uint8_t)t->wire_values_all_ints;
    out[t->n_values].u.s = block; /* freed by the test */
    return 0;
}

/* Every msgpack encoding another writer may choose is read as msgpack-c
 * reads it (ours packs the smallest form), at the value limits. */
static void test_batch_every_encoding(void **state) {
    (void)state;
    static const unsigned char vals[] = {
        0xd0, 0x05,                                                 /* int8 5 */
        0xd1, 0xff, 0x85,                                           /* int16 -123 */
        0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,       /* int64 max */
        0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,       /* uint64 256 */
        0xca, 0x3e, 0x80, 0x00, 0x00,                               /* float32 0.25 */
        0xd9, 0x02, 'h',  'i',                                      /* str8 "hi" */
        0xdb, 0x00, 0x00, 0x00, 0x01, 'x',                          /* str32 "x" */
        0xc4, 0x00,                                                 /* bin8 empty */
        0xde, 0x00, 0x01, 0xa1, 'k',  0xdc, 0x00, 0x02, 0xc3, 0xc0, /* map16 {k: [true, nil]} */
        0xe0,                                                       /* fixint -32 */
    };
    gale_value_t inner[] = {gale_bool(true), gale_nil()};
    gale_value_t kv[] = {gale_str("k"), gale_array(inner, 2)};
    gale_value_t want[] = {
        gale_int(5),    gale_int(-123), gale_int(INT64_MAX), gale_int(256),   gale_double(0.25),
        gale_str("hi"), gale_str("x"),  gale_bytes("", 0),   gale_map(kv, 1), gale_int(-32)};
    enum { N = sizeof want / sizeof want[0] };
    unsigned char buf[256];
    size_t len = raw_batch(buf, vals, N, sizeof vals);
    gale_value_t out[N + 1];
    char err[256] = "";
    assert_int_equal(gale__batch_decode(buf, len, exact_cb, out, err, sizeof err), 0);
    for (int i = 0; i < N; i++) assert_true(gale_value_equal(&out[i], &want[i]));
    assert_int_equal(out[N].type, 0); /* not all ints */
    free((void *)out[N].u.s);

    /* all ints, no extra bytes */
    len = raw_batch(buf, vals, 3, 14);
    assert_int_equal(gale__batch_decode(buf, len, exact_cb, out, err, sizeof err), 0);
    assert_int_equal(out[3].type, 1);
    assert_null(out[3].u.s);

    /* Nesting: 28 containers in a value are read, 29 refused. */
    unsigned char deep[40];
    for (int depth = 28; depth <= 29; depth++) {
        memset(deep, 0x91, (size_t)depth - 1);
        deep[depth - 1] = 0x90;
        len = raw_batch(buf, deep, 1, (size_t)depth);
        int rc = gale__batch_decode(buf, len, exact_cb, out, err, sizeof err);
        if (depth == 28) {
            assert_int_equal(rc, 0);
            const gale_value_t *v = &out[0];
            for (int i = 1; i < depth; i++) v = &v->u.a[0];
            assert_int_equal(v->type, GALE_T_ARRAY);
            assert_int_equal(v->len, 0);
            free((void *)out[1].u.s);
        } else {
            assert_int_equal(rc, GALE_EPROTO);
            assert_string_equal(err, "batch tuple 0: nested too deeply");
        }
    }

    /* Refused: a value cut short, 0xc1, a uint above INT64_MAX, a map
     * claiming more pairs than bytes, a count of values that is not there. */
    static const struct {
        unsigned char bytes[10];
        size_t len, n;
        const char *why;
    } bad[] = {
        {{0xcb, 0x00}, 2, 1, "batch tuple 0: truncated"},
        {{0xc1}, 1, 1, "batch tuple 0: invalid byte 0xc1"},
        {{0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0},
         9,
         1,
         "batch tuple 0: an unsigned integer above INT64_MAX"},
        {{0xdf, 0xff, 0xff, 0xff, 0xff, 0x01}, 6, 1, "batch tuple 0: truncated"},
        {{0x01}, 1, 2, "batch tuple 0: truncated"},
        {{0xd4, 0x01, 0x00}, 3, 1, "batch tuple 0: ext types are not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = raw_batch(buf, bad[i].bytes, bad[i].n, bad[i].len);
        int calls = 0;
        assert_int_equal(gale__batch_decode(buf, len, count_cb, &calls, err, sizeof err),
                         GALE_EPROTO);
        assert_string_equal(err, bad[i].why);
        assert_int_equal(calls, 0);
    }
}

/* The encoder writes what msgpack-c's packer writes (smallest forms), at
 * every length and integer boundary, and the decoder reads it back. */
static void test_batch_encoding_boundaries(void **state) {
    (void)state;
    static const int64_t ints[] = {INT64_MIN, -2147483649LL, INT32_MIN,    -32769,       INT16_MIN,
                                   -129,      INT8_MIN,      -33,          -32,          -1,
                                   0,         127,           128,          255,          256,
                                   65535,     65536,         4294967295LL, 4294967296LL, INT64_MAX};
    static const uint32_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
    enum { NI = sizeof ints / sizeof ints[0], NL = sizeof lens / sizeof lens[0] };
    static char text[65536];
    memset(text, 'a', sizeof text);
    gale_value_t vals[NI + 2 * NL + 4];
    size_t n = 0;
    for (size_t i = 0; i < NI; i++) vals[n++] = gale_int(ints[i]);
    for (size_t i = 0; i < NL; i++) {
        vals[n++] = gale_strn(text, lens[i]);
        vals[n++] = gale_bytes(text, lens[i]);
    }
    vals[n++] = gale_double(-0.0);
    vals[n++] = gale_bool(true);
    vals[n++] = gale_nil();
    gale_value_t inner[] = {gale_int(1)};
    vals[n++] = gale_array(inner, 1);
    uint64_t ids[] = {0, 127, 128, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    gale__wire_tuple_t t = {.dest_task = 70000,
                            .stream = text,
                            .stream_len = 255,
                            .src_task = -1,
                            .ids = ids,
                            .n_ids = 3,
                            .values = vals,
                            .n_values = (uint32_t)n};
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    assert_int_equal(gale__batch_add(&enc, &t), 0);
    gale__batch_end(&enc);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_sbuffer_write(&sb, "\xdd\x00\x00\x00\x01", 5);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int32(&pk, t.dest_task);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, t.stream, t.stream_len);
    msgpack_pack_int32(&pk, t.src_task);
    msgpack_pack_array(&pk, 6);
    for (int i = 0; i < 6; i++) msgpack_pack_uint64(&pk, ids[i]);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(gale__value_pack(&pk, &vals[i]), 0);
    assert_int_equal(enc.sb.size, sb.size);
    assert_memory_equal(enc.sb.data, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);

    seen_t seen;
    memset(&seen, 0, sizeof seen);
    char err[256] = "";
    assert_int_equal(
        gale__batch_decode(enc.sb.data, enc.sb.size, record_cb, &seen, err, sizeof err), 0);
    assert_int_equal(seen.t[0].n_values, n);
    for (size_t i = 0; i < n; i++) assert_true(gale_value_equal(&seen.vals[0][i], &vals[i]));
    assert_memory_equal(seen.ids[0], ids, sizeof ids);
    seen_free(&seen);
    gale__batch_encoder_destroy(&enc);
}

static void test_encoder_refuses(void **state) {
    (void)state;
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    uint64_t ids[2 * (GALE_WIRE_MAX_IDS + 1)] = {0};
    char longname[256];
    memset(longname, 'a', sizeof longname);
    gale__wire_tuple_t ok = {.dest_task = 1,
                             .stream = "default",
                             .stream_len = 7,
                             .src_task = 1,
                             .ids = ids,
                             .n_ids = GALE_WIRE_MAX_IDS};
    gale__wire_tuple_t t = ok;
    t.n_ids = GALE_WIRE_MAX_IDS + 1;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_EINVAL);
    t = ok;
    t.dest_task = 0;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_EINVAL);
    t = ok;
    t.src_task = 0;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_EINVAL);
    t = ok;
    t.stream = longname;
    t.stream_len = 256;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_EINVAL);
    t.stream_len = 0;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_EINVAL);

    /* Values nested deeper than a receiver could unpack are refused here. */
    enum { DEEP = 40 };
    gale_value_t chain[DEEP];
    for (int i = 0; i < DEEP; i++)
        chain[i] = i + 1 < DEEP ? gale_array(&chain[i + 1], 1) : gale_int(1);
    t = ok;
    t.values = &chain[0];
    t.n_values = 1;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_ERANGE);
    gale_value_t bad = {.type = 99};
    t.values = &bad;
    assert_int_equal(gale__batch_add(&enc, &t), GALE_ETYPE);

    /* The deepest value the encoder accepts does decode. */
    int depth_ok = -1;
    for (int start = 0; start < DEEP; start++) {
        t.values = &chain[start];
        if (gale__batch_add(&enc, &t) == 0) {
            depth_ok = start;
            break;
        }
    }
    assert_true(depth_ok > 0);
    assert_int_equal(gale__batch_add(&enc, &ok), 0);
    assert_int_equal(enc.count, 2); /* refused tuples left no bytes behind */
    gale__batch_end(&enc);
    seen_t s;
    memset(&s, 0, sizeof s);
    char err[256] = "";
    assert_int_equal(gale__batch_decode(enc.sb.data, enc.sb.size, record_cb, &s, err, sizeof err),
                     0);
    assert_int_equal(s.calls, 2);
    assert_true(gale_value_equal(&s.vals[0][0], &chain[depth_ok]));
    seen_free(&s);
    gale__batch_encoder_destroy(&enc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_header_wrong_version),
        cmocka_unit_test(test_header_garbage),
        cmocka_unit_test(test_batch_roundtrip),
        cmocka_unit_test(test_batch_empty),
        cmocka_unit_test(test_batch_cb_error_stops),
        cmocka_unit_test(test_batch_truncations_and_flips),
        cmocka_unit_test(test_batch_limits_and_all_or_nothing),
        cmocka_unit_test(test_batch_structural_garbage),
        cmocka_unit_test(test_batch_every_encoding),
        cmocka_unit_test(test_batch_encoding_boundaries),
        cmocka_unit_test(test_encoder_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
