/*
 * fuzz_state_json.c — libFuzzer target for the micro-batch state's stored
 * value decoder (trident/state_json.c): the first byte picks the kind, the
 * rest is what a Redis key might hold. Whatever decodes must encode back
 * to JSON that decodes to an equal value.
 */
#include <stdint.h>
#include <stdlib.h>

#include "trident/state_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(gale__arena_t *a, const gale_value_t *v) {
    if (!v) return;
    char err[256];
    int rc;
    json_t *j = gale__value_to_json(v, &rc, err, sizeof err);
    if (!j) abort(); /* decoded JSON always has a JSON form */
    size_t n;
    char *text = gale__json_text(a, j, &n);
    json_decref(j);
    if (!text) abort();
    int64_t t;
    const gale_value_t *back, *prev;
    if (gale__state_record_decode(a, GALE_STATE_NON_TRANSACTIONAL, text, n, &t, &back, &prev, err,
                                  sizeof err))
        abort();
    gale_value_t nil = gale_nil();
    if (!gale_value_equal(v, back ? back : &nil)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    gale__arena_t a = {0};
    gale_state_kind_t kind = (gale_state_kind_t)(data[0] % 3);
    int64_t txid;
    const gale_value_t *curr, *prev;
    char why[256];
    if (gale__state_record_decode(&a, kind, (const char *)data + 1, size - 1, &txid, &curr, &prev,
                                  why, sizeof why) == 0) {
        roundtrip(&a, curr);
        roundtrip(&a, prev);
    }
    gale__arena_free(&a);
    return 0;
}
