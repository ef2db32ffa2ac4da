/*
 * drpc_spout.c — gale_trident_drpc_batch_spout, the batch spout of a
 * DRPC stream (Storm's DRPC spout under Trident): each batch holds at
 * most one request of the component conf's drpc.function, fetched from
 * the servers of drpc.servers (drpc.invocations.port), as one tuple
 * [args, {id, host, port}] (the same return info as gale_drpc_spout).
 *
 * Replays: the spout is non-transactional towards Redis, but it keeps
 * the request it planned for each of the last RING txids in memory, so
 * a replayed batch carries the same request again (Storm's batch
 * executor caches its batches the same way). A request older than that,
 * or one this task lost by restarting, is answered by the server's
 * timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "drpc/client.h"
#include "gale/trident.h"

#define RING 64

typedef struct planned {
    uint64_t txid; /* 0: empty slot */
    char *args;
    char host[256];
    gale_value_t kv[6], pair[2];
} planned_t;

typedef struct dspout {
    const gale_context_t *ctx;
    const char *function; /* owned by the component conf */
    gale__drpc_invoker_t *inv;
    bool unreachable; /* logged once per outage */
    planned_t ring[RING];
} dspout_t;

static int ds_open(void **state, const gale_context_t *ctx, int partition, int n_parts) {
    (void)partition;
    (void)n_parts;
    const gale_conf_t *conf = gale_context_conf(ctx);
    const char *fn = gale_conf_get_str(conf, GALE_CONF_DRPC_FUNCTION, NULL);
    if (!fn || !*fn) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "DRPC batch spout: component conf " GALE_CONF_DRPC_FUNCTION
                 " is not set: build the stream with gale_trident_new_drpc_stream");
        return GALE_EINVAL;
    }
    dspout_t *s = calloc(1, sizeof *s);
    if (!s) return GALE_ENOMEM;
    char err[512];
    if (!(s->inv = gale__drpc_invoker_new(conf, err, sizeof err))) {
        gale_log(ctx, GALE_LOG_ERROR, "DRPC stream '%s': %s", fn, err);
        free(s);
        return GALE_EINVAL;
    }
    s->ctx = ctx;
    s->function = fn;
    gale_log(ctx, GALE_LOG_INFO, "serving DRPC function '%s' as a micro-batch stream", fn);
    *state = s;
    return 0;
}

static void slot_set_meta(planned_t *p, gale_value_t *meta) {
    *meta = gale_array(p->pair, 2);
}

static int ds_plan(void *state, uint64_t txid, const gale_value_t *prev, gale_value_t *meta) {
    (void)prev;
    dspout_t *s = state;
    planned_t *p = &s->ring[txid % RING];
    *meta = gale_nil();
    if (p->txid == txid) { /* a replay: the same request */
        slot_set_meta(p, meta);
        return 0;
    }
    gale__drpc_request_t r;
    char err[512];
    int rc = gale__drpc_invoker_fetch(s->inv, s->function, &r, err, sizeof err);
    if (rc && rc != GALE_ENOENT) { /* an empty batch; one line per outage */
        if (!s->unreachable)
            gale_log(s->ctx, GALE_LOG_WARN,
                     "DRPC stream '%s': %s (its batches stay empty until a server answers)",
                     s->function, err);
        s->unreachable = true;
        return 0;
    }
    if (s->unreachable) {
        s->unreachable = false;
        gale_log(s->ctx, GALE_LOG_INFO, "DRPC stream '%s': a server answers again", s->function);
    }
    if (rc == GALE_ENOENT) return 0; /* no request waiting: an empty batch */
    free(p->args);
    p->txid = txid;
    p->args = r.args; /* taken */
    r.args = NULL;
    snprintf(p->host, sizeof p->host, "%s", r.host);
    p->kv[0] = gale_str("id");
    p->kv[1] = gale_int((int64_t)r.id);
    p->kv[2] = gale_str("host");
    p->kv[3] = gale_str(p->host);
    p->kv[4] = gale_str("port");
    p->kv[5] = gale_int(r.port);
    p->pair[0] = gale_str(p->args ? p->args : "");
    p->pair[1] = gale_map(p->kv, 3);
    gale__drpc_request_clear(&r);
    slot_set_meta(p, meta);
    return 0;
}

static int ds_emit(void *state, uint64_t txid, const gale_value_t *meta,
                   gale_trident_collector_t *c) {
    (void)state;
    (void)txid;
    if (!meta || meta->type != GALE_T_ARRAY || meta->len != 2) return 0; /* no request */
    return gale_trident_emit(c, meta->u.a, 2);
}

static void ds_close(void *state) {
    dspout_t *s = state;
    if (!s) return;
    for (size_t i = 0; i < RING; i++) free(s->ring[i].args);
    gale__drpc_invoker_destroy(s->inv);
    free(s);
}

const gale_batch_spout_t gale_trident_drpc_batch_spout = {
    "args,$drpc-return", GALE_BATCH_NON_TRANSACTIONAL, ds_open, ds_plan, ds_emit, ds_close};
