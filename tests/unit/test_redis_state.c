/*
 * test_redis_state.c — the micro-batch state in Redis (trident/state.h,
 * trident/redis_state.c) against a real redis-server: Storm's three
 * update rules, replays, a state ahead of the batch, epoch fencing, one
 * read and one EVALSHA per update (INFO commandstats), undecodable stored
 * values, HASH layout, key functions, the cache bound, Redis down and back,
 * a wrong password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "log_fixture.h"
#include "redis_fixture.h"
#include "trident/state.h"

static redis_fixture_t F;
static gale_conf_t *CONF;
static const gale__epoch_t EPOCH = {"test:epoch", 7};

static int setup(void **st) {
    (void)st;
    if (redis_fixture_start(&F, NULL)) return -1;
    CONF = redis_fixture_conf(&F);
    redisReply *r = redis_fixture_cmd(&F, NULL, "SET test:epoch 7");
    if (!r) return -1;
    freeReplyObject(r);
    return 0;
}

static int teardown(void **st) {
    (void)st;
    gale_conf_destroy(CONF);
    CONF = NULL;
    redis_fixture_stop(&F);
    return 0;
}

/* sum of ints; old NULL is 0; a non-int old fails */
static int sum(void *ud, const gale_value_t *old, const gale_value_t *d, gale_value_t *out) {
    if (ud) (*(int *)ud)++;
    if (old && old->type != GALE_T_INT) return GALE_ETYPE;
    *out = gale_int((old ? old->u.i : 0) + d->u.i);
    return 0;
}

static gale__map_state_t *open_kind(gale_state_kind_t kind, const char *prefix) {
    gale_state_spec_t spec = {.kind = kind, .key_prefix = prefix};
    gale__map_state_t *s = gale__map_state_open(CONF, &spec, "test", 1);
    assert_non_null(s);
    return s;
}

/* One update of n string keys by int deltas. */
static int update(gale__map_state_t *s, uint64_t txid, const gale__epoch_t *e, size_t n,
                  const char *const *names, const int64_t *ds, gale_value_t *out, char *err) {
    gale_value_t kv[16], dv[16];
    const gale_value_t *keys[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        kv[i] = gale_str(names[i]);
        keys[i] = &kv[i];
        dv[i] = gale_int(ds[i]);
    }
    return gale__map_state_update(s, txid, e, n, keys, 1, dv, sum, NULL, out, err, 512);
}

static int update1(gale__map_state_t *s, uint64_t txid, const char *k, int64_t d, int64_t *now,
                   char *err) {
    gale_value_t out = gale_nil();
    int rc = update(s, txid, &EPOCH, 1, &k, &d, &out, err);
    if (!rc && now) {
        assert_int_equal(out.type, GALE_T_INT);
        *now = out.u.i;
    }
    return rc;
}

/* The raw text of a Redis key ("(nil)" when absent). */
static void expect_raw(const char *key, const char *want) {
    redisReply *r = redis_fixture_cmd(&F, NULL, "GET %s", key);
    assert_non_null(r);
    const char *got = r->type == REDIS_REPLY_STRING ? r->str : "(nil)";
    if (strcmp(got, want)) fail_msg("key %s holds %s, want %s", key, got, want);
    freeReplyObject(r);
}

static void raw_set(const char *key, const char *val) {
    redisReply *r = redis_fixture_cmd(&F, NULL, "SET %s %s", key, val);
    assert_non_null(r);
    freeReplyObject(r);
}

static void test_transactional_rules(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "t:");
    char err[512];
    int64_t v = 0;
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    assert_int_equal(v, 5);
    expect_raw("t:a", "[1,5]");
    /* the same txid again: already applied, not twice */
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    assert_int_equal(v, 5);
    expect_raw("t:a", "[1,5]");
    assert_int_equal(update1(s, 2, "a", 3, &v, err), 0);
    assert_int_equal(v, 8);
    expect_raw("t:a", "[2,8]");
    /* a gap in txids is fine (batches with no tuple for this key) */
    assert_int_equal(update1(s, 9, "a", 1, &v, err), 0);
    expect_raw("t:a", "[9,9]");
    /* a fresh handle (no cache) sees the same */
    gale__map_state_t *s2 = open_kind(GALE_STATE_TRANSACTIONAL, "t:");
    assert_int_equal(update1(s2, 9, "a", 100, &v, err), 0);
    assert_int_equal(v, 9);
    expect_raw("t:a", "[9,9]");
    gale__map_state_close(s2);
    gale__map_state_close(s);
}

static void test_opaque_rules(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_OPAQUE, "o:");
    char err[512];
    int64_t v = 0;
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    expect_raw("o:a", "[1,5,null]");
    /* a replay of txid 1 with other tuples: recomputed from prev (none) */
    assert_int_equal(update1(s, 1, "a", 7, &v, err), 0);
    assert_int_equal(v, 7);
    expect_raw("o:a", "[1,7,null]");
    assert_int_equal(update1(s, 2, "a", 3, &v, err), 0);
    assert_int_equal(v, 10);
    expect_raw("o:a", "[2,10,7]");
    assert_int_equal(update1(s, 2, "a", 4, &v, err), 0);
    assert_int_equal(v, 11);
    expect_raw("o:a", "[2,11,7]");
    /* a fresh handle replaying txid 2 from Redis alone */
    gale__map_state_t *s2 = open_kind(GALE_STATE_OPAQUE, "o:");
    assert_int_equal(update1(s2, 2, "a", 1, &v, err), 0);
    assert_int_equal(v, 8);
    expect_raw("o:a", "[2,8,7]");
    gale__map_state_close(s2);
    gale__map_state_close(s);
}

static void test_non_transactional(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_NON_TRANSACTIONAL, "n:");
    char err[512];
    int64_t v = 0;
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    expect_raw("n:a", "5");
    /* at least once: a replay applies again */
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    assert_int_equal(v, 10);
    expect_raw("n:a", "10");
    gale__map_state_close(s);
}

static void test_state_ahead_refused(void **st) {
    (void)st;
    static const gale_state_kind_t kinds[] = {GALE_STATE_TRANSACTIONAL, GALE_STATE_OPAQUE};
    static const char *stored[] = {"[5,1]", "[5,1,0]"};
    for (size_t k = 0; k < 2; k++) {
        gale__map_state_t *s = open_kind(kinds[k], "g:");
        raw_set("g:ahead", stored[k]);
        redisReply *r = redis_fixture_cmd(&F, NULL, "DEL g:other");
        freeReplyObject(r);
        const char *names[] = {"other", "ahead"};
        int64_t ds[] = {1, 1};
        char err[512];
        assert_int_equal(update(s, 3, &EPOCH, 2, names, ds, NULL, err), GALE_ESTATE);
        assert_non_null(strstr(err, "'g:ahead'"));
        assert_non_null(strstr(err, "txid 5"));
        expect_raw("g:ahead", stored[k]);
        expect_raw("g:other", "(nil)"); /* nothing of the batch written */
        gale__map_state_close(s);
    }
}

static void test_stale_epoch_refused(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "e:");
    char err[512];
    int64_t v;
    assert_int_equal(update1(s, 1, "a", 5, &v, err), 0);
    raw_set("test:epoch", "8"); /* a newer coordinator */
    const char *names[] = {"a", "b"};
    int64_t ds[] = {1, 1};
    assert_int_equal(update(s, 2, &EPOCH, 2, names, ds, NULL, err), GALE_ESTATE);
    assert_non_null(strstr(err, "stale epoch"));
    assert_non_null(strstr(err, "holds 8"));
    expect_raw("e:a", "[1,5]");
    expect_raw("e:b", "(nil)");
    /* no epoch key at all: refused too */
    redisReply *r = redis_fixture_cmd(&F, NULL, "DEL test:epoch");
    freeReplyObject(r);
    assert_int_equal(update(s, 2, &EPOCH, 2, names, ds, NULL, err), GALE_ESTATE);
    assert_non_null(strstr(err, "holds none"));
    expect_raw("e:a", "[1,5]");
    /* the current epoch again: accepted */
    raw_set("test:epoch", "7");
    assert_int_equal(update(s, 2, &EPOCH, 2, names, ds, NULL, err), 0);
    expect_raw("e:a", "[2,6]");
    expect_raw("e:b", "[2,1]");
    gale__map_state_close(s);
}

/* One read and one atomic write per update and partition. */
static void test_round_trips_counted(void **st) {
    (void)st;
    gale_conf_t *c = redis_fixture_conf(&F);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_TRIDENT_STATE_CACHE_SIZE, 0);
    gale_state_spec_t spec = {.kind = GALE_STATE_OPAQUE, .key_prefix = "c:"};
    gale__map_state_t *p[2] = {gale__map_state_open(c, &spec, "test", 1),
                               gale__map_state_open(c, &spec, "test", 2)};
    assert_non_null(p[0]);
    assert_non_null(p[1]);
    long long ev0 = redis_fixture_calls(&F, NULL, "evalsha"),
              mg0 = redis_fixture_calls(&F, NULL, "mget"),
              ex0 = redis_fixture_calls(&F, NULL, "exec");
    const char *names[2][3] = {{"a", "b", "c"}, {"x", "y", "z"}};
    int64_t ds[] = {1, 2, 3};
    char err[512];
    for (uint64_t txid = 1; txid <= 5; txid++)
        for (int i = 0; i < 2; i++)
            assert_int_equal(update(p[i], txid, &EPOCH, 3, names[i], ds, NULL, err), 0);
    assert_int_equal(redis_fixture_calls(&F, NULL, "evalsha") - ev0, 5 * 2);
    assert_int_equal(redis_fixture_calls(&F, NULL, "mget") - mg0, 5 * 2);
    assert_int_equal(redis_fixture_calls(&F, NULL, "exec") - ex0, 0);
    expect_raw("c:c", "[5,15,12]");
    expect_raw("c:z", "[5,15,12]");
    gale__map_state_close(p[0]);
    gale__map_state_close(p[1]);
    gale_conf_destroy(c);
}

static void test_undecodable_value(void **st) {
    (void)st;
    static const struct {
        gale_state_kind_t kind;
        const char *raw;
    } cases[] = {{GALE_STATE_TRANSACTIONAL, "not json"},
                 {GALE_STATE_TRANSACTIONAL, "[1]"},
                 {GALE_STATE_TRANSACTIONAL, "[\"x\",1]"},
                 {GALE_STATE_TRANSACTIONAL, "[-1,1]"},
                 {GALE_STATE_TRANSACTIONAL, "{\"a\":1}"},
                 {GALE_STATE_OPAQUE, "[1,2]"},
                 {GALE_STATE_OPAQUE, "[1.5,2,3]"},
                 {GALE_STATE_NON_TRANSACTIONAL, "[1,"},
                 {GALE_STATE_TRANSACTIONAL, "[1,99999999999999999999999]"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gale__map_state_t *s = open_kind(cases[i].kind, "u:");
        raw_set("u:bad", cases[i].raw);
        redisReply *r = redis_fixture_cmd(&F, NULL, "DEL u:good");
        freeReplyObject(r);
        const char *names[] = {"good", "bad"};
        int64_t ds[] = {1, 1};
        char err[512];
        int rc = update(s, 3, &EPOCH, 2, names, ds, NULL, err);
        if (rc != GALE_EPROTO) fail_msg("%s: rc %d (%s)", cases[i].raw, rc, err);
        assert_non_null(strstr(err, "'u:bad'"));
        expect_raw("u:bad", cases[i].raw);
        expect_raw("u:good", "(nil)");
        /* the query path names it too */
        gale_value_t k = gale_str("bad"), out;
        const gale_value_t *keys[] = {&k};
        assert_int_equal(gale__map_state_get(s, 1, keys, 1, &out, err, sizeof err), GALE_EPROTO);
        assert_non_null(strstr(err, "'u:bad'"));
        gale__map_state_close(s);
    }
    /* a value the combiner cannot take (a string where ints are) fails it */
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "u:");
    raw_set("u:bad", "[1,\"text\"]");
    char err[512];
    assert_int_equal(update1(s, 2, "bad", 1, NULL, err), GALE_ETYPE);
    assert_non_null(strstr(err, "'u:bad'"));
    expect_raw("u:bad", "[1,\"text\"]");
    gale__map_state_close(s);
}

/* A combiner that returns whatever value ud points at. */
static int give(void *ud, const gale_value_t *old, const gale_value_t *d, gale_value_t *out) {
    (void)old;
    (void)d;
    *out = *(const gale_value_t *)ud;
    return 0;
}

static void test_value_types(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "v:");
    gale_value_t items[] = {gale_int(-3), gale_double(2.5), gale_str("h\"i"), gale_bool(true),
                            gale_nil()};
    gale_value_t kv[] = {gale_str("list"), gale_array(items, 5), gale_str("n"), gale_int(1)};
    gale_value_t map = gale_map(kv, 2);
    gale_value_t k = gale_str("m"), d = gale_int(0), out;
    const gale_value_t *keys[] = {&k};
    char err[512];
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 1, keys, 1, &d, give, &map, &out, err, sizeof err), 0);
    assert_true(gale_value_equal(&out, &map));
    expect_raw("v:m", "[1,{\"list\":[-3,2.5,\"h\\\"i\",true,null],\"n\":1}]");
    gale__map_state_t *s2 = open_kind(GALE_STATE_TRANSACTIONAL, "v:");
    assert_int_equal(gale__map_state_get(s2, 1, keys, 1, &out, err, sizeof err), 0);
    assert_true(gale_value_equal(&out, &map));
    /* an absent key reads as nil */
    gale_value_t k2 = gale_str("absent");
    const gale_value_t *keys2[] = {&k2};
    assert_int_equal(gale__map_state_get(s2, 1, keys2, 1, &out, err, sizeof err), 0);
    assert_int_equal(out.type, GALE_T_NIL);
    gale__map_state_close(s2);
    /* values with no JSON form: refused, nothing written */
    gale_value_t bad[] = {gale_bytes("ab", 2), gale_double(NAN), gale_strn("\xff", 1)};
    gale_value_t badkv[] = {gale_int(1), gale_int(2)};
    gale_value_t badmap = gale_map(badkv, 1);
    for (size_t i = 0; i < 4; i++) {
        const gale_value_t *v = i < 3 ? &bad[i] : &badmap;
        int rc =
            gale__map_state_update(s, 2, &EPOCH, 1, keys, 1, &d, give, (void *)v, NULL, err, 512);
        assert_true(rc == GALE_ETYPE || rc == GALE_ERANGE);
        assert_non_null(strstr(err, "'v:m'"));
        expect_raw("v:m", "[1,{\"list\":[-3,2.5,\"h\\\"i\",true,null],\"n\":1}]");
    }
    gale__map_state_close(s);
}

/* One failing key fails the whole batch: nothing of it is written. */
static int fail_on_b(void *ud, const gale_value_t *old, const gale_value_t *d, gale_value_t *out) {
    (void)ud;
    (void)old;
    if (d->u.i == 666) return GALE_ERANGE;
    *out = *d;
    return 0;
}

static void test_batch_all_or_nothing(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_OPAQUE, "x:");
    gale_value_t kv[] = {gale_str("a"), gale_str("b"), gale_str("c")};
    gale_value_t dv[] = {gale_int(1), gale_int(666), gale_int(3)};
    const gale_value_t *keys[] = {&kv[0], &kv[1], &kv[2]};
    char err[512];
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 3, keys, 1, dv, fail_on_b, NULL, NULL, err, 512),
        GALE_ERANGE);
    assert_non_null(strstr(err, "'x:b'"));
    expect_raw("x:a", "(nil)");
    expect_raw("x:c", "(nil)");
    /* a key twice in one update */
    const gale_value_t *twice[] = {&kv[0], &kv[0]};
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 2, twice, 1, dv, fail_on_b, NULL, NULL, err, 512),
        GALE_EINVAL);
    assert_non_null(strstr(err, "'x:a' appears twice"));
    /* no keys: still one fenced write (the batch commits for this partition) */
    long long ev0 = redis_fixture_calls(&F, NULL, "evalsha");
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 0, NULL, 1, NULL, fail_on_b, NULL, NULL, err, 512), 0);
    assert_int_equal(redis_fixture_calls(&F, NULL, "evalsha") - ev0, 1);
    gale__map_state_close(s);
}

static void test_hash_layout(void **st) {
    (void)st;
    gale_state_spec_t spec = {.kind = GALE_STATE_TRANSACTIONAL, .hash_key = "counts"};
    gale__map_state_t *s = gale__map_state_open(CONF, &spec, "test", 1);
    assert_non_null(s);
    long long hm0 = redis_fixture_calls(&F, NULL, "hmget");
    gale_value_t kv[] = {gale_str("w"), gale_int(3), gale_str("v"), gale_int(4)};
    const gale_value_t *keys[] = {&kv[0], &kv[2]};
    gale_value_t dv[] = {gale_int(1), gale_int(2)};
    char err[512];
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 2, keys, 2, dv, sum, NULL, NULL, err, 512), 0);
    assert_int_equal(
        gale__map_state_update(s, 2, &EPOCH, 2, keys, 2, dv, sum, NULL, NULL, err, 512), 0);
    redisReply *r = redis_fixture_cmd(&F, NULL, "HGET counts w:3");
    assert_non_null(r);
    assert_string_equal(r->str, "[2,2]");
    freeReplyObject(r);
    r = redis_fixture_cmd(&F, NULL, "HGET counts v:4");
    assert_string_equal(r->str, "[2,4]");
    freeReplyObject(r);
    /* the cache saved the second read */
    assert_int_equal(redis_fixture_calls(&F, NULL, "hmget") - hm0, 1);
    /* a hash key of another type: a clear error, nothing written */
    raw_set("counts2", "x");
    gale_state_spec_t spec2 = {.kind = GALE_STATE_TRANSACTIONAL, .hash_key = "counts2"};
    gale__map_state_t *s2 = gale__map_state_open(CONF, &spec2, "test", 1);
    assert_int_equal(
        gale__map_state_update(s2, 1, &EPOCH, 2, keys, 2, dv, sum, NULL, NULL, err, 512),
        GALE_EPROTO);
    assert_non_null(strstr(err, "WRONGTYPE"));
    expect_raw("counts2", "x");
    gale__map_state_close(s2);
    gale__map_state_close(s);
}

size_t test_key_fn(const gale_value_t *key, size_t n, char *out, size_t cap);
size_t test_key_fn(const gale_value_t *key, size_t n, char *out, size_t cap) {
    /* "<int>/<str>", padded long enough to need a second call */
    char buf[600];
    int len = snprintf(buf, sizeof buf, "%lld/%.*s/%0300d", (long long)key[0].u.i, (int)key[1].len,
                       key[1].u.s, 0);
    (void)n;
    if ((size_t)len <= cap) memcpy(out, buf, (size_t)len);
    return (size_t)len;
}

static void test_key_function(void **st) {
    (void)st;
    gale_state_spec_t spec = {.kind = GALE_STATE_TRANSACTIONAL, .key_prefix = "kf:"};
    GALE_STATE_KEY_FN(&spec, test_key_fn);
    assert_string_equal(spec.key_fn_symbol, "test_key_fn");
    gale__map_state_t *s = gale__map_state_open(CONF, &spec, "test", 1);
    gale_value_t kv[] = {gale_int(42), gale_str("x")};
    const gale_value_t *keys[] = {kv};
    gale_value_t d = gale_int(5);
    char err[512];
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 1, keys, 2, &d, sum, NULL, NULL, err, 512), 0);
    char want[400];
    snprintf(want, sizeof want, "kf:42/x/%0300d", 0);
    expect_raw(want, "[1,5]");
    gale__map_state_close(s);
    /* the default: the values' text joined by ':' after the prefix */
    gale_state_spec_t dspec = {.kind = GALE_STATE_NON_TRANSACTIONAL, .key_prefix = "kd:"};
    s = gale__map_state_open(CONF, &dspec, "test", 1);
    gale_value_t mix[] = {gale_str("a"), gale_int(-1), gale_double(0.5), gale_bool(false)};
    keys[0] = mix;
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 1, keys, 4, &d, sum, NULL, NULL, err, 512), 0);
    expect_raw("kd:a:-1:0.5:false", "5");
    gale__map_state_close(s);
}

static void test_cache_bound(void **st) {
    (void)st;
    gale_conf_t *c = redis_fixture_conf(&F);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_TRIDENT_STATE_CACHE_SIZE, 2);
    gale_state_spec_t spec = {.kind = GALE_STATE_TRANSACTIONAL, .key_prefix = "lru:"};
    gale__map_state_t *s = gale__map_state_open(c, &spec, "test", 1);
    char err[512];
    const char *ab[] = {"a", "b"}, *cc[] = {"c"}, *aa[] = {"a"}, *bb[] = {"b"};
    int64_t ds[] = {1, 1};
    long long m0 = redis_fixture_calls(&F, NULL, "mget");
#define MGETS() (redis_fixture_calls(&F, NULL, "mget") - m0)
    assert_int_equal(update(s, 1, &EPOCH, 2, ab, ds, NULL, err), 0);
    assert_int_equal(MGETS(), 1);
    assert_int_equal(update(s, 2, &EPOCH, 2, ab, ds, NULL, err), 0);
    assert_int_equal(MGETS(), 1); /* both cached */
    assert_int_equal(update(s, 3, &EPOCH, 1, cc, ds, NULL, err), 0);
    assert_int_equal(MGETS(), 2); /* c read; a (least recent) dropped */
    assert_int_equal(update(s, 4, &EPOCH, 1, bb, ds, NULL, err), 0);
    assert_int_equal(MGETS(), 2); /* b still cached */
    assert_int_equal(update(s, 5, &EPOCH, 1, aa, ds, NULL, err), 0);
    assert_int_equal(MGETS(), 3); /* a was dropped */
    expect_raw("lru:a", "[5,3]");
    /* a refusal drops the cache: the next update reads again */
    raw_set("test:epoch", "9");
    assert_int_equal(update(s, 6, &EPOCH, 1, aa, ds, NULL, err), GALE_ESTATE);
    raw_set("test:epoch", "7");
    long long before = MGETS();
    assert_int_equal(update(s, 6, &EPOCH, 1, aa, ds, NULL, err), 0);
    assert_int_equal(MGETS(), before + 1);
    /* another epoch value: the cache is not trusted either */
    raw_set("test:epoch", "8");
    gale__epoch_t e8 = {"test:epoch", 8};
    before = MGETS();
    assert_int_equal(update(s, 7, &e8, 1, aa, ds, NULL, err), 0);
    assert_int_equal(MGETS(), before + 1);
    raw_set("test:epoch", "7");
#undef MGETS
    gale__map_state_close(s);
    gale_conf_destroy(c);
}

/* The server forgot the script: EVAL with the body, then EVALSHA again. */
static void test_script_flushed(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "sf:");
    char err[512];
    assert_int_equal(update1(s, 1, "a", 1, NULL, err), 0);
    redisReply *r = redis_fixture_cmd(&F, NULL, "SCRIPT FLUSH");
    freeReplyObject(r);
    assert_int_equal(update1(s, 2, "a", 1, NULL, err), 0);
    assert_int_equal(update1(s, 3, "a", 1, NULL, err), 0);
    expect_raw("sf:a", "[3,3]");
    gale__map_state_close(s);
}

static void test_redis_down_then_back(void **st) {
    (void)st;
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "d:");
    char err[512];
    redis_fixture_kill(&F);
    log_capture_start();
    /* 1 s of retries: attempts at ~0, 0.1, 0.3, 0.7 s (backoff doubling) */
    int eio = 0;
    for (int64_t end = gale__now_ns() + 1000000000; gale__now_ns() < end;) {
        int rc = update1(s, 1, "a", 5, NULL, err);
        assert_int_equal(rc, GALE_EIO);
        eio++;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    int lines = log_capture_count("cannot reach redis");
    assert_true(eio > 50);
    if (lines < 3 || lines > 5) fail_msg("%d lines for 1 s of retries", lines);
    assert_int_equal(log_capture_count("retrying in 100 ms"), 1);
    assert_int_equal(log_capture_count("retrying in 200 ms"), 1);
    assert_int_equal(log_capture_count("retrying in 400 ms"), 1);
    assert_int_equal(redis_fixture_restart(&F), 0);
    raw_set("test:epoch", "7");
    int rc = GALE_EIO;
    for (int64_t end = gale__now_ns() + 10000000000LL; rc == GALE_EIO && gale__now_ns() < end;) {
        rc = update1(s, 1, "a", 5, NULL, err);
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(log_capture_count("connected to redis"), 1);
    log_capture_stop();
    expect_raw("d:a", "[1,5]");
    gale__map_state_close(s);
}

static void test_wrong_password(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    const char *args[] = {"--requirepass", "sesame", NULL};
    assert_int_equal(redis_fixture_start(&f, args), 0);
    gale_conf_t *c = redis_fixture_conf(&f);
    gale_state_spec_t spec = {.kind = GALE_STATE_TRANSACTIONAL};
    char err[512];
    gale_value_t k = gale_str("a"), d = gale_int(1);
    const gale_value_t *keys[] = {&k};
    log_capture_start();
    for (int i = 0; i < 3; i++) {
        if (i == 1) gale_conf_set_str(c, GALE_CONF_REDIS_PASSWORD, "wrong");
        if (i == 2) gale_conf_set_str(c, GALE_CONF_REDIS_PASSWORD, "sesame");
        gale__map_state_t *s = gale__map_state_open(c, &spec, "test", 1);
        int rc = gale__map_state_update(s, 1, NULL, 1, keys, 1, &d, sum, NULL, NULL, err, 512);
        if (i < 2) {
            assert_int_equal(rc, GALE_ESTATE);
            assert_non_null(strstr(err, "redis.password"));
        } else {
            assert_int_equal(rc, 0);
        }
        gale__map_state_close(s);
    }
    assert_int_equal(log_capture_count("redis.password"), 2);
    log_capture_stop();
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

static void test_spec_and_global_key(void **st) {
    (void)st;
    char err[512];
    gale_state_spec_t bad[] = {{.kind = (gale_state_kind_t)7},
                               {.kind = GALE_STATE_OPAQUE, .hash_key = ""},
                               {.kind = GALE_STATE_OPAQUE, .hash_key = "h", .key_prefix = "p:"}};
    static const char *says[] = {"kind 7", "hash_key is empty", "key_prefix applies"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(gale__map_state_spec_check(&bad[i], err, sizeof err), GALE_EINVAL);
        assert_non_null(strstr(err, says[i]));
        assert_null(gale__map_state_open(CONF, &bad[i], "test", 1));
    }
    /* no group-by fields: storm-redis's global key */
    gale__map_state_t *s = open_kind(GALE_STATE_TRANSACTIONAL, "gk:");
    gale_value_t d = gale_int(4);
    const gale_value_t *keys[] = {NULL};
    assert_int_equal(
        gale__map_state_update(s, 1, &EPOCH, 1, keys, 0, &d, sum, NULL, NULL, err, sizeof err), 0);
    expect_raw("gk:$REDIS-MAP-STATE-GLOBAL", "[1,4]");
    /* binary garbage stored: the error is still one printable line */
    redisReply *r = redis_fixture_cmd(&F, NULL, "SET %s %b", "gk:$REDIS-MAP-STATE-GLOBAL",
                                      "\x01\n\xff[", (size_t)4);
    freeReplyObject(r);
    gale__map_state_close(s); /* a fresh handle: the old one trusts its cache */
    s = open_kind(GALE_STATE_TRANSACTIONAL, "gk:");
    assert_int_equal(
        gale__map_state_update(s, 2, &EPOCH, 1, keys, 0, &d, sum, NULL, NULL, err, sizeof err),
        GALE_EPROTO);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "holds '???['"));
    gale__map_state_close(s);
}

int main(void) {
    gale__log_set_level(GALE_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transactional_rules),  cmocka_unit_test(test_opaque_rules),
        cmocka_unit_test(test_non_transactional),    cmocka_unit_test(test_state_ahead_refused),
        cmocka_unit_test(test_stale_epoch_refused),  cmocka_unit_test(test_round_trips_counted),
        cmocka_unit_test(test_undecodable_value),    cmocka_unit_test(test_value_types),
        cmocka_unit_test(test_batch_all_or_nothing), cmocka_unit_test(test_hash_layout),
        cmocka_unit_test(test_key_function),         cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_script_flushed),       cmocka_unit_test(test_redis_down_then_back),
        cmocka_unit_test(test_wrong_password),       cmocka_unit_test(test_spec_and_global_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
