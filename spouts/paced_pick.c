/*
 * paced_pick.c — Storm's two demo spouts, which differ only in their list
 * and field: each task emits one entry of a fixed list, picked at random,
 * every 100 ms, without ever sleeping in next_tuple (it keeps a due time
 * and returns at once when nothing is due).
 *
 *  - gale_random_sentence_spout: RandomSentenceSpout's five sentences,
 *    field "sentence", unreliable (no message id), as in storm-starter.
 *  - gale_test_word_spout: TestWordSpout's five names, field "word". Unlike
 *    Storm's it emits with a message id (a per-task counter), so the
 *    topologies that use it exercise anchoring and acking end to end; it
 *    does not replay.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/clock.h"
#include "gale/gale.h"

#define INTERVAL_NS 100000000LL

typedef struct pick_list {
    const char *const *items;
    size_t n;
    bool reliable;
} pick_list_t;

static const char *const sentences[] = {
    "the cow jumped over the moon", "an apple a day keeps the doctor away",
    "four score and seven years ago", "snow white and the seven dwarfs", "i am at two with nature"};
static const char *const words[] = {"nathan", "mike", "jackson", "golda", "bertels"};
static const pick_list_t sentence_list = {sentences, 5, false};
static const pick_list_t word_list = {words, 5, true};

typedef struct pick_state {
    const pick_list_t *list;
    int64_t next_ns;
    uint64_t rng;
    uint64_t next_id;
} pick_state_t;

static int pick_open(const pick_list_t *list, void **state, const gale_context_t *ctx) {
    pick_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->list = list;
    /* Different tasks pick different sequences; never 0 for xorshift. */
    s->rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)gale_context_task_id(ctx) << 17) ^
             (uint64_t)gale__now_ns();
    if (!s->rng) s->rng = 1;
    s->next_ns = gale__now_ns();
    s->next_id = 1;
    *state = s;
    return 0;
}

static void pick_next(void *state, gale_spout_collector_t *c) {
    pick_state_t *s = state;
    int64_t now = gale__now_ns();
    if (now < s->next_ns) return;
    s->next_ns += INTERVAL_NS;
    if (s->next_ns < now) s->next_ns = now + INTERVAL_NS; /* do not catch up after a stall */
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    gale_value_t v = gale_str(s->list->items[s->rng % s->list->n]);
    if (s->list->reliable)
        gale_spout_emit_id(c, NULL, &v, 1, s->next_id++);
    else
        gale_spout_emit_values(c, NULL, &v, 1);
}

static void pick_close(void *state) {
    free(state);
}

static void sentence_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "sentence");
}
static int sentence_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    return pick_open(&sentence_list, state, ctx);
}
static void word_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "word");
}
static int word_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    return pick_open(&word_list, state, ctx);
}

GALE_EXPORT const gale_spout_t gale_random_sentence_spout = {
    .declare = sentence_declare,
    .open = sentence_open,
    .next_tuple = pick_next,
    .close = pick_close,
};

GALE_EXPORT const gale_spout_t gale_test_word_spout = {
    .declare = word_declare,
    .open = word_open,
    .next_tuple = pick_next,
    .close = pick_close,
};
