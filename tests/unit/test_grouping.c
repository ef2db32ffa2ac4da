/*
 * test_grouping.c — each grouping's rule (grouping.h), with assertions that
 * fail if the rule breaks: fields sends a key to a FIXED task (hard-coded,
 * so any change of hash shows up: the same key lands on the same task in
 * every run and process), shuffle is an exact round-robin over a
 * permutation, partial-key balances between its two candidates, and so on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/value.h"
#include "topology/grouping.h"

static char *word_fields[] = {"word", "count"};
static gale__stream_t word_stream = {"default", false, 2, word_fields};

static gale__input_t input(gale__grouping_t g, char **fields, size_t n_fields) {
    gale__input_t in = {"split", "default", g, n_fields, fields, NULL};
    return in;
}

static const int targets4[] = {3, 4, 5, 6};

static int choose1(gale__grouper_t *g, const char *word) {
    gale_value_t v[] = {gale_str(word), gale_int(1)};
    int out = -1;
    assert_int_equal(gale__grouper_choose(g, v, 2, &out, 1), 1);
    return out;
}

static void test_fields(void **state) {
    (void)state;
    char *f[] = {"word"};
    gale__input_t in = input(GALE_GROUPING_FIELDS, f, 1);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 7, NULL), 0);

    /* Fixed forever: FNV-1a 64 of msgpack "apple" (a5 61 70 70 6c 65) is
     * 0x45fe1f9be9ab4060; mod 4 = 0 -> targets[0] = 3. */
    assert_int_equal(gale__values_hash((gale_value_t[]){gale_str("apple")}, 1),
                     0x45fe1f9be9ab4060ULL);
    assert_int_equal(choose1(&g, "apple"), 3);

    /* Same values -> same task, whatever the other fields hold. */
    for (int i = 0; i < 10; i++) {
        gale_value_t v[] = {gale_str("apple"), gale_int(i)};
        int out = -1;
        gale__grouper_choose(&g, v, 2, &out, 1);
        assert_int_equal(out, 3);
    }

    /* A different emitter seed changes nothing for fields. */
    gale__grouper_t g2;
    int rev[] = {6, 5, 4, 3}; /* unsorted input is sorted by init */
    assert_int_equal(gale__grouper_init(&g2, &in, &word_stream, rev, 4, NULL, 0, 99, NULL), 0);
    assert_int_equal(choose1(&g2, "apple"), 3);

    /* Different values spread over all targets. */
    int hits[7] = {0};
    char w[16];
    for (int i = 0; i < 400; i++) {
        snprintf(w, sizeof w, "w%d", i);
        int t = choose1(&g, w);
        assert_true(t >= 3 && t <= 6);
        hits[t]++;
        assert_int_equal(choose1(&g2, w), t);
    }
    for (int t = 3; t <= 6; t++) assert_true(hits[t] > 40);

    /* A field that is not the first: the hash covers only grouping fields. */
    char *f2[] = {"count"};
    gale__input_t in2 = input(GALE_GROUPING_FIELDS, f2, 1);
    gale__grouper_t g3;
    assert_int_equal(gale__grouper_init(&g3, &in2, &word_stream, targets4, 4, NULL, 0, 1, NULL), 0);
    gale_value_t a[] = {gale_str("x"), gale_int(5)}, b[] = {gale_str("y"), gale_int(5)};
    int oa = 0, ob = 0;
    gale__grouper_choose(&g3, a, 2, &oa, 1);
    gale__grouper_choose(&g3, b, 2, &ob, 1);
    assert_int_equal(oa, ob);
    assert_int_equal(oa, targets4[gale__values_hash(&a[1], 1) % 4]);

    /* Unknown grouping field: init refuses. */
    char *bad[] = {"nope"};
    gale__input_t in3 = input(GALE_GROUPING_FIELDS, bad, 1);
    gale__grouper_t g4;
    assert_int_equal(gale__grouper_init(&g4, &in3, &word_stream, targets4, 4, NULL, 0, 1, NULL),
                     GALE_EINVAL);

    gale__grouper_destroy(&g);
    gale__grouper_destroy(&g2);
    gale__grouper_destroy(&g3);
}

static void test_global(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_GLOBAL, NULL, 0);
    int t[] = {9, 7, 8};
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, 3, NULL, 0, 1, NULL), 0);
    for (int i = 0; i < 5; i++) assert_int_equal(choose1(&g, i % 2 ? "a" : "b"), 7);
    gale__grouper_destroy(&g);
}

static void test_all(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_ALL, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 1, NULL), 0);
    int out[8] = {0};
    assert_int_equal(gale__grouper_choose(&g, NULL, 0, out, 8), 4);
    for (int i = 0; i < 4; i++) assert_int_equal(out[i], targets4[i]);
    /* cap too small: the count still says 4, only 2 are written. */
    int small[3] = {0, 0, -1};
    assert_int_equal(gale__grouper_choose(&g, NULL, 0, small, 2), 4);
    assert_int_equal(small[0], 3);
    assert_int_equal(small[1], 4);
    assert_int_equal(small[2], -1);
    gale__grouper_destroy(&g);
}

static void check_round_robin(gale__grouping_t kind) {
    enum { N = 5 };
    int t[N] = {10, 11, 12, 13, 14};
    gale__input_t in = input(kind, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, N, NULL, 0, 42, NULL), 0);
    int hits[15] = {0};
    int first[N];
    for (int i = 0; i < 4 * N; i++) {
        int out = -1;
        assert_int_equal(gale__grouper_choose(&g, NULL, 0, &out, 1), 1);
        assert_true(out >= 10 && out <= 14);
        hits[out]++;
        if (i < N) first[i] = out;
        /* Each pass of N is a permutation: every target exactly once. */
        if (i % N == N - 1)
            for (int k = 10; k <= 14; k++) assert_int_equal(hits[k], i / N + 1);
    }
    for (int k = 10; k <= 14; k++) assert_int_equal(hits[k], 4);
    gale__grouper_destroy(&g);

    /* Another emitter (seed) usually walks another permutation; at least
     * one of several seeds must differ from the first. */
    bool differs = false;
    for (uint64_t seed = 1; seed < 8 && !differs; seed++) {
        assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, N, NULL, 0, seed, NULL), 0);
        for (int i = 0; i < N; i++) {
            int out = -1;
            gale__grouper_choose(&g, NULL, 0, &out, 1);
            if (out != first[i]) differs = true;
        }
        gale__grouper_destroy(&g);
    }
    assert_true(differs);
}

static void test_shuffle(void **state) {
    (void)state;
    check_round_robin(GALE_GROUPING_SHUFFLE);
    check_round_robin(GALE_GROUPING_NONE);
    check_round_robin(GALE_GROUPING_LOCAL_OR_SHUFFLE); /* no local tasks: all targets */

    /* Seed 0 still shuffles (xorshift never starts at 0). */
    gale__input_t in = input(GALE_GROUPING_SHUFFLE, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 0, NULL), 0);
    int hits[7] = {0};
    for (int i = 0; i < 8; i++) {
        int out = -1;
        gale__grouper_choose(&g, NULL, 0, &out, 1);
        hits[out]++;
    }
    for (int k = 3; k <= 6; k++) assert_int_equal(hits[k], 2);
    gale__grouper_destroy(&g);
}

static void test_local_or_shuffle(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_LOCAL_OR_SHUFFLE, NULL, 0);
    int t[] = {1, 2, 3, 4, 5, 6};
    int local[] = {5, 2};
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, 6, local, 2, 3, NULL), 0);
    int hits[7] = {0};
    for (int i = 0; i < 40; i++) {
        int out = -1;
        gale__grouper_choose(&g, NULL, 0, &out, 1);
        assert_true(out == 2 || out == 5);
        hits[out]++;
    }
    assert_int_equal(hits[2], 20);
    assert_int_equal(hits[5], 20);
    gale__grouper_destroy(&g);

    /* With no local task, all targets are used. */
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, 6, NULL, 0, 3, NULL), 0);
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < 12; i++) {
        int out = -1;
        gale__grouper_choose(&g, NULL, 0, &out, 1);
        hits[out]++;
    }
    for (int k = 1; k <= 6; k++) assert_int_equal(hits[k], 2);
    gale__grouper_destroy(&g);
}

static void test_partial_key(void **state) {
    (void)state;
    char *f[] = {"word"};
    gale__input_t in = input(GALE_GROUPING_PARTIAL_KEY, f, 1);
    enum { N = 8 };
    int t[N] = {1, 2, 3, 4, 5, 6, 7, 8};
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, N, NULL, 0, 1, NULL), 0);

    /* Find a key whose two candidates differ. */
    char key[16];
    size_t c1 = 0, c2 = 0;
    for (int i = 0;; i++) {
        snprintf(key, sizeof key, "k%d", i);
        uint64_t h1 = gale__values_hash((gale_value_t[]){gale_str(key)}, 1);
        uint64_t x = h1 + 0x9e3779b97f4a7c15ULL; /* splitmix64, the second hash */
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        x ^= x >> 31;
        c1 = h1 % N;
        c2 = x % N;
        if (c1 != c2) break;
    }
    /* Tie: first candidate; then the other (now less loaded) one; the
     * key alternates between its two candidates and never goes elsewhere. */
    assert_int_equal(choose1(&g, key), t[c1]);
    assert_int_equal(choose1(&g, key), t[c2]);
    assert_int_equal(choose1(&g, key), t[c1]);
    assert_int_equal(choose1(&g, key), t[c2]);

    /* When candidate 1 has been sent more (other keys share it), the key
     * goes to candidate 2, and back once candidate 2 is the busier one. */
    gale__grouper_destroy(&g);
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, t, N, NULL, 0, 1, NULL), 0);
    g.sent[c1] = 5; /* this emitter already sent 5 tuples to candidate 1 */
    assert_int_equal(choose1(&g, key), t[c2]);
    assert_int_equal(g.sent[c2], 1);
    g.sent[c2] = 9;
    assert_int_equal(choose1(&g, key), t[c1]);
    assert_int_equal(g.sent[c1], 6);
    gale__grouper_destroy(&g);
}

static void test_direct(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_DIRECT, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 1, NULL), 0);
    int out = -1;
    assert_int_equal(gale__grouper_choose(&g, NULL, 0, &out, 1), 0);
    assert_int_equal(out, -1);
    gale__grouper_destroy(&g);
}

typedef struct cstate {
    int prepared, cleaned;
} cstate_t;
static cstate_t custom_state;

static int c_prepare(void **state, const int *targets, size_t n) {
    assert_int_equal(n, 4);
    assert_int_equal(targets[0], 3);
    custom_state.prepared++;
    *state = &custom_state;
    return 0;
}
static void c_cleanup(void *state) {
    ((cstate_t *)state)->cleaned++;
}
/* Picks the last target and, when the first value is true, also the first. */
static size_t c_choose(void *state, const int *targets, size_t n_targets, const gale_value_t *v,
                       size_t n, int *out, size_t cap) {
    assert_ptr_equal(state, &custom_state);
    size_t k = 0;
    if (k < cap) out[k++] = targets[n_targets - 1];
    if (n > 0 && v[0].type == GALE_T_BOOL && v[0].u.b && k < cap) out[k++] = targets[0];
    return k;
}
static const gale_grouping_t custom = {c_choose, c_prepare, c_cleanup};

static void test_custom(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_CUSTOM, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 1, NULL),
                     GALE_EINVAL); /* custom needs its implementation */
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 4, NULL, 0, 1, &custom),
                     0);
    assert_int_equal(custom_state.prepared, 1);
    int out[4] = {0};
    gale_value_t no[] = {gale_bool(false)}, yes[] = {gale_bool(true)};
    assert_int_equal(gale__grouper_choose(&g, no, 1, out, 4), 1);
    assert_int_equal(out[0], 6);
    assert_int_equal(gale__grouper_choose(&g, yes, 1, out, 4), 2);
    assert_int_equal(out[0], 6);
    assert_int_equal(out[1], 3);
    gale__grouper_destroy(&g);
    assert_int_equal(custom_state.cleaned, 1);
}

static void test_init_errors(void **state) {
    (void)state;
    gale__input_t in = input(GALE_GROUPING_SHUFFLE, NULL, 0);
    gale__grouper_t g;
    assert_int_equal(gale__grouper_init(&g, &in, &word_stream, targets4, 0, NULL, 0, 1, NULL),
                     GALE_EINVAL);
    char *f[] = {"word"};
    gale__input_t fin = input(GALE_GROUPING_FIELDS, f, 1);
    assert_int_equal(gale__grouper_init(&g, &fin, NULL, targets4, 4, NULL, 0, 1, NULL),
                     GALE_EINVAL);
    gale__grouper_destroy(&g); /* safe after a failed init */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_global),
        cmocka_unit_test(test_all),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_local_or_shuffle),
        cmocka_unit_test(test_partial_key),
        cmocka_unit_test(test_direct),
        cmocka_unit_test(test_custom),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
