/*
 * random_sentence.c — gale_random_sentence_spout, Storm's
 * RandomSentenceSpout: each task emits one of five fixed sentences every
 * 100 ms on "default" (field "sentence"), unreliably.
 *
 * next_tuple never sleeps: the executor multiplexes several tasks and the
 * ack/tick traffic on one thread, so a task that is not due yet returns
 * at once and the executor's idle backoff keeps the CPU cost near zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "gale/gale.h"

#define SENTENCE_INTERVAL_NS 100000000LL

static const char *const sentences[] = {
    "the cow jumped over the moon", "an apple a day keeps the doctor away",
    "four score and seven years ago", "snow white and the seven dwarfs", "i am at two with nature"};

typedef struct sentence_state {
    int64_t next_ns;
    uint64_t rng;
} sentence_state_t;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sentence_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "sentence");
}

static int sentence_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    sentence_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    /* Different tasks pick different sequences; never 0 for xorshift. */
    s->rng =
        0x9E3779B97F4A7C15ULL ^ ((uint64_t)gale_context_task_id(ctx) << 17) ^ (uint64_t)mono_ns();
    if (!s->rng) s->rng = 1;
    s->next_ns = mono_ns();
    *state = s;
    return 0;
}

static void sentence_next(void *state, gale_spout_collector_t *c) {
    sentence_state_t *s = state;
    int64_t now = mono_ns();
    if (now < s->next_ns) return;
    /* Keep the cadence without bursting after a long pause. */
    s->next_ns += SENTENCE_INTERVAL_NS;
    if (s->next_ns < now) s->next_ns = now + SENTENCE_INTERVAL_NS;
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    size_t n = sizeof sentences / sizeof sentences[0];
    gale_value_t v = gale_str(sentences[s->rng % n]);
    gale_spout_emit_values(c, NULL, &v, 1);
}

static void sentence_close(void *state) {
    free(state);
}

GALE_EXPORT const gale_spout_t gale_random_sentence_spout = {
    .declare = sentence_declare,
    .open = sentence_open,
    .next_tuple = sentence_next,
    .close = sentence_close,
};
