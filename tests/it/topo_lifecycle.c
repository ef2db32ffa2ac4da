/*
 * topo_lifecycle.c — a topology under heavy load whose every lifecycle
 * callback logs one line ("lifecycle: open", ...), for
 * tests/it/0008-sigterm-under-load.sh. Its entry also starts a thread of
 * its own, as libraries do (a client's I/O thread): SIGTERM must still
 * reach Gale's handler, not end the process through that thread.
 */
#include <gale/gale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}

typedef struct {
    const gale_context_t *ctx;
    uint64_t next;
} source_t;

static int source_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    source_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->ctx = ctx;
    *st = s;
    gale_log(ctx, GALE_LOG_INFO, "lifecycle: open");
    return 0;
}
static void source_activate(void *st) {
    gale_log(((source_t *)st)->ctx, GALE_LOG_INFO, "lifecycle: activate");
}
static void source_deactivate(void *st) {
    gale_log(((source_t *)st)->ctx, GALE_LOG_INFO, "lifecycle: deactivate");
}
static void source_close(void *st) {
    source_t *s = st;
    gale_log(s->ctx, GALE_LOG_INFO, "lifecycle: close");
    free(s);
}
/* As fast as it is let: 64 reliable tuples per call. */
static void source_next(void *st, gale_spout_collector_t *c) {
    source_t *s = st;
    for (int i = 0; i < 64; i++) {
        gale_value_t v = gale_int((int64_t)s->next);
        gale_spout_emit_id(c, NULL, &v, 1, s->next++);
    }
}
GALE_EXPORT const gale_spout_t lifecycle_source = {.declare = one_field,
                                                   .open = source_open,
                                                   .next_tuple = source_next,
                                                   .activate = source_activate,
                                                   .deactivate = source_deactivate,
                                                   .close = source_close};

static int work_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    *st = (void *)ctx;
    gale_log(ctx, GALE_LOG_INFO, "lifecycle: prepare");
    return 0;
}
static void work_cleanup(void *st) {
    gale_log(st, GALE_LOG_INFO, "lifecycle: cleanup");
}
static int work_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    gale_value_t v = gale_int(gale_tuple_int(t, 0, 0) * 2);
    gale_emit_values(c, NULL, NULL, &v, 1);
    return 0;
}
GALE_EXPORT const gale_bolt_t lifecycle_work = {.declare = one_field,
                                                .prepare = work_prepare,
                                                .execute = work_execute,
                                                .cleanup = work_cleanup,
                                                .basic = true};

static int sink_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
GALE_EXPORT const gale_bolt_t lifecycle_sink = {
    .prepare = work_prepare, .execute = sink_execute, .cleanup = work_cleanup, .basic = true};

static void *idle_thread(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

GALE_EXPORT int Lifecycle(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    pthread_t th;
    if (pthread_create(&th, NULL, idle_thread, NULL) == 0) pthread_detach(th);
    gale_builder_t *b = gale_builder_new();
    gale_component_t *src = GALE_SPOUT(b, "source", lifecycle_source, 2);
    gale_component_set_tasks(src, 3);
    gale_component_t *w = GALE_BOLT(b, "work", lifecycle_work, 2);
    gale_shuffle_grouping(w, "source", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", lifecycle_sink, 2), "work", NULL);
    return gale_submit(s, "lifecycle", gale_conf_new(), b);
}
