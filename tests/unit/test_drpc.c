/*
 * test_drpc.c — DRPC: the six messages' decoders (round trips, garbage,
 * truncated msgpack, wrong types, cross-field rules) and the server's
 * request book (drpc/book.c): FIFO per function, the serve window
 * (unknown functions), timeouts in order, unknown ids, the pending and
 * function bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/control.h"
#include "drpc/book.h"

#define S (1000000000LL)

static bool contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected '%s' in '%s'\n", needle, hay);
        return false;
    }
    return true;
}

/* Encode into h/b (the caller destroys them). */
static void enc(gale__ctl_type_t t, const void *msg, msgpack_sbuffer *h, msgpack_sbuffer *b) {
    msgpack_sbuffer_init(h);
    msgpack_sbuffer_init(b);
    char err[256];
    assert_int_equal(gale__ctl_encode(h, b, t, 7, msg, err, sizeof err), 0);
}

static int dec(const msgpack_sbuffer *h, const void *body, size_t blen, gale__ctl_msg_t *m,
               char *err, size_t errlen) {
    return gale__ctl_decode(h->data, h->size, body, blen, m, err, errlen);
}

static void test_roundtrip(void **st) {
    (void)st;
    msgpack_sbuffer h, b;
    gale__ctl_msg_t m;
    char err[256];

    gale__ctl_drpc_execute_t x = {"words", "cow moon"};
    enc(GALE_CTL_DRPC_EXECUTE, &x, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_int_equal(m.type, GALE_CTL_DRPC_EXECUTE);
    assert_string_equal(m.u.drpc_execute.function, "words");
    assert_string_equal(m.u.drpc_execute.args, "cow moon");
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_execute_t empty = {"f", ""}; /* empty args are fine */
    enc(GALE_CTL_DRPC_EXECUTE, &empty, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_string_equal(m.u.drpc_execute.args, "");
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_fetch_reply_t none = {true, NULL, GALE_CTL_UNSET, NULL};
    enc(GALE_CTL_DRPC_FETCH_REPLY, &none, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_true(m.u.drpc_fetch_reply.ok);
    assert_true(m.u.drpc_fetch_reply.id == GALE_CTL_UNSET);
    assert_null(m.u.drpc_fetch_reply.args);
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_fetch_reply_t one = {true, NULL, 42, "hello"};
    enc(GALE_CTL_DRPC_FETCH_REPLY, &one, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_int_equal(m.u.drpc_fetch_reply.id, 42);
    assert_string_equal(m.u.drpc_fetch_reply.args, "hello");
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_result_t r = {9, "hello!"};
    enc(GALE_CTL_DRPC_RESULT, &r, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_int_equal(m.u.drpc_result.id, 9);
    assert_string_equal(m.u.drpc_result.result, "hello!");
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_fail_t f = {9, "bolt failed"};
    enc(GALE_CTL_DRPC_FAIL, &f, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_string_equal(m.u.drpc_fail.error, "bolt failed");
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);

    gale__ctl_drpc_execute_reply_t er = {false, "no running topology", NULL};
    enc(GALE_CTL_DRPC_EXECUTE_REPLY, &er, &h, &b);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), 0);
    assert_false(m.u.drpc_execute_reply.ok);
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
}

/* The encoder refuses what a receiver would refuse. */
static void test_encode_refuses(void **st) {
    (void)st;
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    char err[256];
    gale__ctl_drpc_execute_t nofn = {"", "x"};
    assert_int_not_equal(gale__ctl_encode(&h, &b, GALE_CTL_DRPC_EXECUTE, 1, &nofn, err, sizeof err),
                         0);
    gale__ctl_drpc_execute_reply_t okless = {true, NULL, NULL}; /* ok needs result */
    assert_int_not_equal(
        gale__ctl_encode(&h, &b, GALE_CTL_DRPC_EXECUTE_REPLY, 1, &okless, err, sizeof err), 0);
    assert_true(contains(err, "result"));
    gale__ctl_drpc_fetch_reply_t half = {true, NULL, 5, NULL}; /* id without args */
    assert_int_not_equal(
        gale__ctl_encode(&h, &b, GALE_CTL_DRPC_FETCH_REPLY, 1, &half, err, sizeof err), 0);
    char *big = malloc(GALE_DRPC_TEXT_MAX + 2);
    memset(big, 'a', GALE_DRPC_TEXT_MAX + 1);
    big[GALE_DRPC_TEXT_MAX + 1] = '\0';
    gale__ctl_drpc_result_t r = {1, big};
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_DRPC_RESULT, 1, &r, err, sizeof err),
                     GALE_ERANGE);
    free(big);
    gale__ctl_drpc_fail_t f0 = {0, "x"}; /* ids start at 1 */
    assert_int_not_equal(gale__ctl_encode(&h, &b, GALE_CTL_DRPC_FAIL, 1, &f0, err, sizeof err), 0);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
}

/* Pack a body map by hand: n pairs of (key, packer callback). */
static void body_map(msgpack_sbuffer *b, const char *k1, int kind1, const char *k2, int kind2) {
    msgpack_sbuffer_init(b);
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, k2 ? 2 : 1);
    const char *keys[2] = {k1, k2};
    int kinds[2] = {kind1, kind2};
    for (int i = 0; i < (k2 ? 2 : 1); i++) {
        msgpack_pack_str_with_body(&pk, keys[i], strlen(keys[i]));
        switch (kinds[i]) {
            case 0:
                msgpack_pack_str_with_body(&pk, "x", 1);
                break;
            case 1:
                msgpack_pack_int64(&pk, -3);
                break;
            case 2:
                msgpack_pack_array(&pk, 0);
                break;
            case 3:
                msgpack_pack_str_with_body(&pk, "a\0b", 3);
                break;
            default:
                msgpack_pack_uint64(&pk, 5);
        }
    }
}

static void test_decode_garbage(void **st) {
    (void)st;
    gale__ctl_drpc_execute_t x = {"words", "cow moon"};
    msgpack_sbuffer h, b;
    enc(GALE_CTL_DRPC_EXECUTE, &x, &h, &b);
    gale__ctl_msg_t m;
    char err[512];
    /* every truncation of the body is refused, never crashes */
    for (size_t n = 0; n < b.size; n++) {
        assert_int_equal(dec(&h, b.data, n, &m, err, sizeof err), GALE_EPROTO);
        gale__ctl_msg_destroy(&m);
    }
    /* trailing bytes */
    char *longer = malloc(b.size + 1);
    memcpy(longer, b.data, b.size);
    longer[b.size] = (char)0xc0;
    assert_int_equal(dec(&h, longer, b.size + 1, &m, err, sizeof err), GALE_EPROTO);
    gale__ctl_msg_destroy(&m);
    free(longer);
    /* random bytes */
    unsigned seed = 1;
    uint8_t junk[64];
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(rand_r(&seed) % sizeof junk);
        for (size_t k = 0; k < n; k++) junk[k] = (uint8_t)rand_r(&seed);
        int rc = dec(&h, junk, n, &m, err, sizeof err);
        assert_true(rc == GALE_EPROTO || rc == 0);
        gale__ctl_msg_destroy(&m);
    }
    msgpack_sbuffer_destroy(&b);

    /* wrong types, missing fields, NUL bytes, bad ids */
    struct {
        const char *k1;
        int t1;
        const char *k2;
        int t2;
        const char *want;
    } cases[] = {
        {"function", 1, "args", 0, "function"}, /* int for a string */
        {"function", 0, "args", 2, "args"},     /* array for a string */
        {"function", 0, NULL, 0, "args"},       /* missing */
        {"function", 3, "args", 0, "NUL"},      /* NUL byte */
        {"function", 0, "args", 0, NULL},       /* fine */
        {"function", 0, "extra", 0, "extra"},   /* unknown field */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        body_map(&b, cases[i].k1, cases[i].t1, cases[i].k2, cases[i].t2);
        int rc = dec(&h, b.data, b.size, &m, err, sizeof err);
        if (cases[i].want) {
            assert_int_equal(rc, GALE_EPROTO);
            assert_true(contains(err, cases[i].want));
        } else {
            assert_int_equal(rc, 0);
        }
        gale__ctl_msg_destroy(&m);
        msgpack_sbuffer_destroy(&b);
    }
    msgpack_sbuffer_destroy(&h);

    /* a result for id 0 and one with a negative id */
    gale__ctl_drpc_result_t r = {1, "x"};
    enc(GALE_CTL_DRPC_RESULT, &r, &h, &b);
    msgpack_sbuffer_destroy(&b);
    body_map(&b, "id", 1, "result", 0);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), GALE_EPROTO);
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&b);
    msgpack_sbuffer_destroy(&h);

    /* a fetch reply whose refusal carries a request */
    gale__ctl_drpc_fetch_reply_t fr = {true, NULL, GALE_CTL_UNSET, NULL};
    enc(GALE_CTL_DRPC_FETCH_REPLY, &fr, &h, &b);
    msgpack_sbuffer_destroy(&b);
    msgpack_sbuffer_init(&b);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "ok", 2);
    msgpack_pack_false(&pk);
    msgpack_pack_str_with_body(&pk, "error", 5);
    msgpack_pack_str_with_body(&pk, "no", 2);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_uint64(&pk, 3);
    msgpack_pack_str_with_body(&pk, "args", 4);
    msgpack_pack_str_with_body(&pk, "a", 1);
    assert_int_equal(dec(&h, b.data, b.size, &m, err, sizeof err), GALE_EPROTO);
    assert_true(contains(err, "refusal"));
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&b);
    msgpack_sbuffer_destroy(&h);
}

/* ------------------------------------------------------------------ */
/* The book                                                             */
/* ------------------------------------------------------------------ */

static void test_book_unknown_function(void **st) {
    (void)st;
    gale__drpc_book_t *b = gale__drpc_book_new(10, 60 * S, 10 * S, 0);
    gale__drpc_req_t *r, *got;
    char err[512];
    int waiter;
    assert_int_equal(gale__drpc_book_submit(b, "words", "a", 0, &waiter, &r, err, sizeof err),
                     GALE_ENOENT);
    assert_true(contains(err, "no running topology serves DRPC function 'words'"));
    assert_int_equal(gale__drpc_book_fetch(b, "words", 1 * S, &got), GALE_ENOENT); /* served now */
    assert_int_equal(gale__drpc_book_submit(b, "words", "a", 2 * S, &waiter, &r, err, sizeof err),
                     0);
    assert_ptr_equal(r->waiter, &waiter);
    /* 10 s after the last fetch it is still served, after that not */
    assert_int_equal(gale__drpc_book_submit(b, "words", "b", 11 * S, &waiter, &r, err, sizeof err),
                     0);
    assert_int_equal(
        gale__drpc_book_submit(b, "words", "c", 11 * S + 1, &waiter, &r, err, sizeof err),
        GALE_ENOENT);
    assert_int_equal(gale__drpc_book_pending(b), 2);
    gale__drpc_book_destroy(b); /* frees what is left */
}

static void test_book_fifo_and_ids(void **st) {
    (void)st;
    gale__drpc_book_t *b = gale__drpc_book_new(100, 60 * S, 10 * S, 1000);
    gale__drpc_req_t *r1, *r2, *r3, *got;
    char err[512];
    assert_int_equal(gale__drpc_book_fetch(b, "f", 0, &got), GALE_ENOENT);
    assert_int_equal(gale__drpc_book_fetch(b, "g", 0, &got), GALE_ENOENT);
    assert_int_equal(gale__drpc_book_submit(b, "f", "1", 1, NULL, &r1, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_submit(b, "g", "2", 2, NULL, &r2, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_submit(b, "f", "3", 3, NULL, &r3, err, sizeof err), 0);
    assert_true(r1->id > 1000 && r2->id > r1->id && r3->id > r2->id);
    /* per function, oldest first */
    assert_int_equal(gale__drpc_book_fetch(b, "f", 4, &got), 0);
    assert_ptr_equal(got, r1);
    assert_true(got->fetched);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 4, &got), 0);
    assert_ptr_equal(got, r3);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 4, &got), GALE_ENOENT);
    /* results: a known id once, then unknown */
    uint64_t id1 = r1->id;
    gale__drpc_req_t *t = gale__drpc_book_take(b, id1);
    assert_ptr_equal(t, r1);
    gale__drpc_req_free(t);
    assert_null(gale__drpc_book_take(b, id1));
    assert_null(gale__drpc_book_take(b, 999999));
    /* a queued request can be taken too (and leaves its queue) */
    t = gale__drpc_book_take(b, r2->id);
    assert_ptr_equal(t, r2);
    gale__drpc_req_free(t);
    assert_int_equal(gale__drpc_book_fetch(b, "g", 5, &got), GALE_ENOENT);
    assert_int_equal(gale__drpc_book_pending(b), 1);
    gale__drpc_book_destroy(b);
}

static void test_book_timeouts(void **st) {
    (void)st;
    gale__drpc_book_t *b = gale__drpc_book_new(100, 2 * S, 10 * S, 0);
    gale__drpc_req_t *r1, *r2, *got;
    char err[512];
    assert_int_equal(gale__drpc_book_fetch(b, "f", 0, &got), GALE_ENOENT);
    assert_int_equal(gale__drpc_book_submit(b, "f", "1", 1 * S, NULL, &r1, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_submit(b, "f", "2", 2 * S, NULL, &r2, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_next_deadline(b), 3 * S);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 2 * S, &got), 0); /* r1 fetched */
    assert_null(gale__drpc_book_expired(b, 3 * S - 1));
    gale__drpc_req_t *e = gale__drpc_book_expired(b, 3 * S);
    assert_ptr_equal(e, r1);
    uint64_t id1 = r1->id;
    gale__drpc_req_free(e);
    assert_null(gale__drpc_book_expired(b, 3 * S));
    assert_null(gale__drpc_book_take(b, id1)); /* a late result: unknown */
    e = gale__drpc_book_expired(b, 10 * S);    /* r2, still queued */
    assert_ptr_equal(e, r2);
    gale__drpc_req_free(e);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 10 * S, &got), GALE_ENOENT);
    assert_int_equal(gale__drpc_book_next_deadline(b), INT64_MAX);
    assert_int_equal(gale__drpc_book_pending(b), 0);
    gale__drpc_book_destroy(b);
}

/* A request queued for a function no spout asks for any more (its topology
 * was killed) is given back after the serve window, not the timeout; a
 * fetched one waits for its result. */
static void test_book_abandoned(void **st) {
    (void)st;
    gale__drpc_book_t *b = gale__drpc_book_new(10, 600 * S, 10 * S, 0);
    gale__drpc_req_t *r1, *r2, *got;
    char err[512];
    assert_int_equal(gale__drpc_book_fetch(b, "f", 0, &got), GALE_ENOENT); /* the spout asks */
    assert_int_equal(gale__drpc_book_submit(b, "f", "a", 1 * S, NULL, &r1, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_submit(b, "f", "b", 2 * S, NULL, &r2, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 3 * S, &got), 0); /* "a" is taken */
    assert_ptr_equal(got, r1);
    assert_null(gale__drpc_book_abandoned(b, 12 * S)); /* asked at 3 s: still served */
    gale__drpc_req_t *gone = gale__drpc_book_abandoned(b, 14 * S);
    assert_ptr_equal(gone, r2); /* the queued one, not the fetched one */
    gale__drpc_req_free(gone);
    assert_null(gale__drpc_book_abandoned(b, 14 * S));
    assert_int_equal(gale__drpc_book_pending(b), 1);
    gale__drpc_book_destroy(b);
}

static void test_book_limits(void **st) {
    (void)st;
    gale__drpc_book_t *b = gale__drpc_book_new(3, 60 * S, 10 * S, 0);
    gale__drpc_req_t *r, *got;
    char err[512];
    assert_int_equal(gale__drpc_book_fetch(b, "f", 0, &got), GALE_ENOENT);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gale__drpc_book_submit(b, "f", "x", 1, NULL, &r, err, sizeof err), 0);
    assert_int_equal(gale__drpc_book_submit(b, "f", "x", 1, NULL, &r, err, sizeof err), GALE_EFULL);
    assert_true(contains(err, "drpc.max.pending.requests"));
    /* one answered: room again */
    assert_int_equal(gale__drpc_book_fetch(b, "f", 2, &got), 0);
    gale__drpc_req_free(gale__drpc_book_take(b, got->id));
    assert_int_equal(gale__drpc_book_submit(b, "f", "x", 2, NULL, &r, err, sizeof err), 0);
    gale__drpc_book_destroy(b);

    /* bytes: 1 MiB arguments fill the 256 MiB budget long before the count */
    b = gale__drpc_book_new(10000, 60 * S, 10 * S, 0);
    assert_int_equal(gale__drpc_book_fetch(b, "f", 0, &got), GALE_ENOENT);
    size_t mib = 1u << 20;
    char *big = malloc(mib + 1);
    memset(big, 'a', mib);
    big[mib] = '\0';
    int ok = 0, rc;
    while ((rc = gale__drpc_book_submit(b, "f", big, 1, NULL, &r, err, sizeof err)) == 0) ok++;
    assert_int_equal(rc, GALE_EFULL);
    assert_int_equal(ok, 256);
    assert_true(contains(err, "MiB of waiting requests' arguments"));
    /* one taken: its bytes are free again */
    assert_int_equal(gale__drpc_book_fetch(b, "f", 2, &got), 0);
    gale__drpc_req_free(gale__drpc_book_take(b, got->id));
    assert_int_equal(gale__drpc_book_submit(b, "f", big, 2, NULL, &r, err, sizeof err), 0);
    free(big);
    gale__drpc_book_destroy(b);

    /* functions: a flood of names is bounded; stale ones are forgotten */
    b = gale__drpc_book_new(3, 60 * S, 10 * S, 0);
    char name[32];
    for (int i = 0; i < GALE_DRPC_MAX_FUNCTIONS; i++) {
        snprintf(name, sizeof name, "fn%d", i);
        assert_int_equal(gale__drpc_book_fetch(b, name, 0, &got), GALE_ENOENT);
    }
    assert_int_equal(gale__drpc_book_fetch(b, "one-more", 1, &got), GALE_EFULL);
    assert_int_equal(gale__drpc_book_fetch(b, "fn0", 1, &got), GALE_ENOENT); /* known: fine */
    /* 11 s later the others are stale: room again */
    assert_int_equal(gale__drpc_book_fetch(b, "one-more", 11 * S, &got), GALE_ENOENT);
    assert_true(gale__drpc_book_functions(b) <= 3);
    gale__drpc_book_destroy(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),         cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decode_garbage),    cmocka_unit_test(test_book_unknown_function),
        cmocka_unit_test(test_book_fifo_and_ids), cmocka_unit_test(test_book_timeouts),
        cmocka_unit_test(test_book_limits),       cmocka_unit_test(test_book_abandoned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
