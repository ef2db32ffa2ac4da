/*
 * topo_stuck.c — components that never return, for the stop path
 * (tests/it/0007-stuck-bolt.sh): a bolt stuck forever in execute, a
 * spout stuck forever in open and one stuck in next_tuple. `gale local`
 * must still end, name them, and exit 4.
 */
#include <gale/gale.h>
#include <stdint.h>
#include <unistd.h>

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}

/* Emits 0, 1, 2, ... reliably, a few per call. */
static int ints_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    static uint64_t next;
    *st = &next;
    return 0;
}
static void ints_next(void *st, gale_spout_collector_t *c) {
    uint64_t *next = st;
    if (*next >= 1000) return;
    gale_value_t v = gale_int((int64_t)*next);
    gale_spout_emit_id(c, NULL, &v, 1, (*next)++);
}
GALE_EXPORT const gale_spout_t stuck_ints_spout = {
    .declare = one_field, .open = ints_open, .next_tuple = ints_next};

/* Never returns from execute (like a call that waits on a dead peer). */
static int forever_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    for (;;) pause();
    return 0;
}
GALE_EXPORT const gale_bolt_t stuck_forever_bolt = {.execute = forever_execute, .basic = true};

GALE_EXPORT int StuckBolt(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "ints", stuck_ints_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "stuck", stuck_forever_bolt, 1), "ints", NULL);
    return gale_submit(s, "stuck-bolt", gale_conf_new(), b);
}

/* Never returns from open (like a FIFO that has no writer). */
static int forever_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)st;
    (void)ctx;
    (void)c;
    for (;;) pause();
    return 0;
}
static void nothing_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
}
GALE_EXPORT const gale_spout_t stuck_open_spout = {
    .declare = one_field, .open = forever_open, .next_tuple = nothing_next};

GALE_EXPORT int StuckOpen(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "opener", stuck_open_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "printer", gale_printer_bolt, 1), "opener", NULL);
    return gale_submit(s, "stuck-open", gale_conf_new(), b);
}

/* Never returns from next_tuple (like a read of an endless line). */
static int plain_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    *st = NULL;
    return 0;
}
static void forever_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
    for (;;) pause();
}
GALE_EXPORT const gale_spout_t stuck_next_spout = {
    .declare = one_field, .open = plain_open, .next_tuple = forever_next};

GALE_EXPORT int StuckNext(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "reader", stuck_next_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "printer", gale_printer_bolt, 1), "reader", NULL);
    return gale_submit(s, "stuck-next", gale_conf_new(), b);
}
