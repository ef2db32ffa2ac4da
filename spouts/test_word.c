/*
 * test_word.c — gale_test_word_spout, Storm's TestWordSpout: each task
 * emits one of five names every 100 ms on "default" (field "word").
 *
 * Unlike Storm's it emits with a message id (a per-task counter), so the
 * topologies that use it exercise anchoring and acking end to end. Like
 * Storm's it does not replay: ack and fail only count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "gale/gale.h"

#define WORD_INTERVAL_NS 100000000LL

static const char *const words[] = {"nathan", "mike", "jackson", "golda", "bertels"};

typedef struct word_state {
    int64_t next_ns;
    uint64_t rng;
    uint64_t next_id;
    uint64_t acked, failed;
} word_state_t;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void word_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "word");
}

static int word_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    word_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->rng =
        0xD1B54A32D192ED03ULL ^ ((uint64_t)gale_context_task_id(ctx) << 21) ^ (uint64_t)mono_ns();
    if (!s->rng) s->rng = 1;
    s->next_ns = mono_ns();
    s->next_id = 1;
    *state = s;
    return 0;
}

static void word_next(void *state, gale_spout_collector_t *c) {
    word_state_t *s = state;
    int64_t now = mono_ns();
    if (now < s->next_ns) return;
    s->next_ns += WORD_INTERVAL_NS;
    if (s->next_ns < now) s->next_ns = now + WORD_INTERVAL_NS;
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    gale_value_t v = gale_str(words[s->rng % (sizeof words / sizeof words[0])]);
    gale_spout_emit_id(c, NULL, &v, 1, s->next_id++);
}

static void word_ack(void *state, uint64_t msg_id) {
    (void)msg_id;
    ((word_state_t *)state)->acked++;
}

static void word_fail(void *state, uint64_t msg_id, gale_fail_reason_t why) {
    (void)msg_id;
    (void)why;
    ((word_state_t *)state)->failed++;
}

static void word_close(void *state) {
    free(state);
}

GALE_EXPORT const gale_spout_t gale_test_word_spout = {
    .declare = word_declare,
    .open = word_open,
    .next_tuple = word_next,
    .ack = word_ack,
    .fail = word_fail,
    .close = word_close,
};
