/*
 * test_value.c — deep copies, msgpack round trips, refusals, the fixed
 * hash and text formatting of values (common/value.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/value.h"

/* A nested value used by several tests: [1, "héllo", b"\0\1", {"k": [2.5, nil]}, true, ""] */
static const char bin_payload[] = {0, 1, 2};

static gale_value_t inner_arr[2];
static gale_value_t map_kv[2];
static gale_value_t top_items[6];

static gale_value_t make_nested(void) {
    inner_arr[0] = gale_double(2.5);
    inner_arr[1] = gale_nil();
    map_kv[0] = gale_str("k");
    map_kv[1] = gale_array(inner_arr, 2);
    top_items[0] = gale_int(1);
    top_items[1] = gale_str("h\xc3\xa9llo");
    top_items[2] = gale_bytes(bin_payload, sizeof bin_payload);
    top_items[3] = gale_map(map_kv, 1);
    top_items[4] = gale_bool(true);
    top_items[5] = gale_strn("", 0);
    return gale_array(top_items, 6);
}

static void test_copy_equal_no_alias(void **state) {
    (void)state;
    char sbuf[] = "mutable";
    gale_value_t items[3] = {gale_str(sbuf), gale_int(-7), make_nested()};
    gale_value_t v = gale_array(items, 3);

    size_t extra = gale__value_extra_size(&v);
    /* Start the cursor misaligned on purpose: arrays must still be aligned. */
    char *block = malloc(extra + 1);
    assert_non_null(block);
    char *cursor = block + 1;
    gale_value_t copy;
    gale__value_copy(&copy, &v, &cursor);
    assert_true(cursor <= block + 1 + extra);
    assert_true(gale_value_equal(&copy, &v));

    /* Every out-of-line pointer of the copy lives in the block. */
    assert_true((const char *)copy.u.a >= block && (const char *)copy.u.a < block + 1 + extra);
    assert_int_equal((uintptr_t)copy.u.a % 8, 0);
    assert_ptr_not_equal(copy.u.a, v.u.a);
    const gale_value_t *cs = &copy.u.a[0];
    assert_true(cs->u.s >= block && cs->u.s < block + 1 + extra);
    assert_int_equal(cs->u.s[cs->len], '\0'); /* NUL-terminated copy */

    /* Mutating the original does not change the copy. */
    sbuf[0] = 'X';
    assert_false(gale_value_equal(&copy, &v));
    assert_memory_equal(cs->u.s, "mutable", 7);
    free(block);
}

static void test_copy_scalar_exact_size(void **state) {
    (void)state;
    gale_value_t s = gale_str("abc");
    assert_int_equal(gale__value_extra_size(&s), 4);
    gale_value_t i = gale_int(5);
    assert_int_equal(gale__value_extra_size(&i), 0);
    char buf[4];
    char *cur = buf;
    gale_value_t c;
    gale__value_copy(&c, &s, &cur);
    assert_ptr_equal(cur, buf + 4);
    assert_string_equal(c.u.s, "abc");
}

static void test_equal_rules(void **state) {
    (void)state;
    gale_value_t a = gale_int(1), b = gale_double(1.0);
    assert_false(gale_value_equal(&a, &b));
    gale_value_t s1 = gale_strn("ab\0c", 4), s2 = gale_strn("ab\0d", 4);
    assert_false(gale_value_equal(&s1, &s2));
    gale_value_t st = gale_str("x"), by = gale_bytes("x", 1);
    assert_false(gale_value_equal(&st, &by));
    gale_value_t n1 = make_nested(), n2 = make_nested();
    assert_true(gale_value_equal(&n1, &n2));
}

/* Pack v, unpack it, convert back and compare. */
static void roundtrip(const gale_value_t *v) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(gale__value_pack(&pk, v), 0);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb.size);

    ssize_t need = gale__value_from_msgpack_size(&u.data);
    assert_true(need >= 0);
    char *block = malloc((size_t)need + 1);
    char *cursor = block;
    gale_value_t out;
    gale__value_from_msgpack(&out, &u.data, &cursor);
    assert_true(cursor <= block + need);
    assert_true(gale_value_equal(&out, v));
    if (out.type == GALE_T_STR || out.type == GALE_T_BYTES) assert_int_equal(out.u.s[out.len], 0);

    free(block);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_roundtrip_all_types(void **state) {
    (void)state;
    gale_value_t vals[] = {
        gale_nil(),
        gale_bool(true),
        gale_bool(false),
        gale_int(0),
        gale_int(5),
        gale_int(-1),
        gale_int(-33),
        gale_int(200),
        gale_int(-40000),
        gale_int(INT64_MAX),
        gale_int(INT64_MIN),
        gale_double(3.25),
        gale_double(-0.0),
        gale_str("hello"),
        gale_strn("", 0),
        gale_strn("a\0b", 3),
        gale_bytes("\0\xff", 2),
        gale_bytes("", 0),
        make_nested(),
        gale_array(NULL, 0),
        gale_map(NULL, 0),
    };
    for (size_t i = 0; i < GALE_NVALS(vals); i++) roundtrip(&vals[i]);
}

static void test_float32_becomes_double(void **state) {
    (void)state;
    msgpack_object o;
    o.type = MSGPACK_OBJECT_FLOAT32;
    o.via.f64 = 1.5;
    assert_int_equal(gale__value_from_msgpack_size(&o), 0);
    gale_value_t v;
    char *cur = NULL;
    gale__value_from_msgpack(&v, &o, &cur);
    assert_int_equal(v.type, GALE_T_DOUBLE);
    assert_true(v.u.d == 1.5);
}

static void test_refused_inputs(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;

    /* uint above INT64_MAX */
    msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(gale__value_from_msgpack_size(&u.data), -1);

    /* INT64_MAX itself is fine */
    msgpack_sbuffer_clear(&sb);
    off = 0;
    msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX);
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(gale__value_from_msgpack_size(&u.data), 0);

    /* ext, also inside an array */
    msgpack_sbuffer_clear(&sb);
    off = 0;
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_ext(&pk, 1, 7);
    msgpack_pack_ext_body(&pk, "x", 1);
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(gale__value_from_msgpack_size(&u.data), -1);
    assert_int_equal(gale__value_from_msgpack_size(&u.data.via.array.ptr[1]), -1);

    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_depth_limit(void **state) {
    (void)state;
    /* chain[0] is the outermost array; chain[n-1] an empty array. */
    enum { N = GALE__VALUE_MAX_DEPTH + 1 };
    msgpack_object chain[N];
    for (int i = 0; i < N; i++) {
        chain[i].type = MSGPACK_OBJECT_ARRAY;
        chain[i].via.array.size = i + 1 < N ? 1 : 0;
        chain[i].via.array.ptr = i + 1 < N ? &chain[i + 1] : NULL;
    }
    /* N nested arrays: one too many. */
    assert_int_equal(gale__value_from_msgpack_size(&chain[0]), -1);
    /* Exactly the limit is accepted. */
    assert_true(gale__value_from_msgpack_size(&chain[1]) >= 0);

    /* The packer refuses what decoders refuse. */
    gale_value_t vals[N];
    for (int i = 0; i < N; i++)
        vals[i] = i + 1 < N ? gale_array(&vals[i + 1], 1) : gale_array(NULL, 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(gale__value_pack(&pk, &vals[0]), -1);
    assert_int_equal(gale__value_pack(&pk, &vals[1]), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void test_hash_fixed(void **state) {
    (void)state;
    /* These constants pin the encoding and the hash: every process and
     * release must route the same key to the same task. The first three
     * were checked against an independent FNV-1a of the msgpack bytes. */
    gale_value_t one = gale_int(1);
    assert_true(gale__values_hash(NULL, 0) == 14695981039346656037ULL);
    assert_true(gale__values_hash(&one, 1) == 0xaf63bc4c8601b62cULL);
    gale_value_t word = gale_str("word");
    assert_true(gale__values_hash(&word, 1) == 0x0510fcad9252932fULL);
    gale_value_t seq[] = {gale_str("a"), gale_int(-1000), gale_double(0.5), gale_nil()};
    assert_true(gale__values_hash(seq, 4) == 0x4fc9691c0610fc28ULL);
    gale_value_t n = make_nested();
    assert_true(gale__values_hash(&n, 1) == 0x14358dcb629ec052ULL);
}

static void test_hash_properties(void **state) {
    (void)state;
    gale_value_t a = make_nested(), b = make_nested();
    assert_true(gale__values_hash(&a, 1) == gale__values_hash(&b, 1));
    gale_value_t i1 = gale_int(1), d1 = gale_double(1.0);
    assert_true(gale__values_hash(&i1, 1) != gale__values_hash(&d1, 1));
    /* A sequence, not an array: [x, y] as one value hashes differently. */
    gale_value_t two[] = {gale_str("x"), gale_str("y")};
    gale_value_t arr = gale_array(two, 2);
    assert_true(gale__values_hash(two, 2) != gale__values_hash(&arr, 1));
    gale_value_t s = gale_str("x"), by = gale_bytes("x", 1);
    assert_true(gale__values_hash(&s, 1) != gale__values_hash(&by, 1));
}

static void test_format(void **state) {
    (void)state;
    gale_value_t n = make_nested();
    char buf[128];
    static const char want[] = "[1, h\xc3\xa9llo, \0\1\2, {k: [2.5, nil]}, true, ]";
    size_t want_len = sizeof want - 1;
    size_t len = gale__value_format(&n, buf, sizeof buf);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
    assert_int_equal(buf[len], '\0');

    gale_value_t kv[] = {gale_str("a"), gale_int(-3), gale_bool(false), gale_double(1e20)};
    gale_value_t m = gale_map(kv, 2);
    len = gale__value_format(&m, buf, sizeof buf);
    assert_string_equal(buf, "{a: -3, false: 1e+20}");
    assert_int_equal(len, strlen(buf));

    /* Truncation: NUL-terminated, returns the length it needed. */
    char small[6];
    memset(small, 'Z', sizeof small);
    len = gale__value_format(&m, small, sizeof small);
    assert_int_equal(len, strlen("{a: -3, false: 1e+20}"));
    assert_string_equal(small, "{a: -");
    assert_int_equal(gale__value_format(&m, NULL, 0), len);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_equal_no_alias),
        cmocka_unit_test(test_copy_scalar_exact_size),
        cmocka_unit_test(test_equal_rules),
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_float32_becomes_double),
        cmocka_unit_test(test_refused_inputs),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_hash_fixed),
        cmocka_unit_test(test_hash_properties),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
