/*
 * drpc.c — gale_drpc_spout, Storm's DRPCSpout: fetches requests for its
 * component conf's drpc.function from every server in drpc.servers (on
 * drpc.invocations.port) and emits [args, return-info] with a message
 * id. return-info is a map {id: int, host: str, port: int} naming the
 * request and the server to answer (Storm sends the same three as JSON
 * text); gale_drpc_return_results_bolt reads it.
 *
 * Idle: after a fetch that found nothing the spout waits before the next
 * one, doubling from 1 ms up to 100 ms (well inside the server's 10 s
 * serve window), and 1 s after a server could not be reached, so an idle
 * DRPC topology costs a few requests a second. After a request it
 * fetches again at once.
 *
 * fail(): the spout tells the server the request failed (the client gets
 * an error at once instead of waiting for the timeout); ack(): forgets
 * it. At most MAX_INFLIGHT requests per task are in flight; then the
 * spout stops fetching until some complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/control.h"
#include "drpc/client.h"
#include "gale/gale.h"

#define MAX_INFLIGHT   1024
#define BACKOFF_MIN_NS (1000000LL)
#define BACKOFF_MAX_NS (100000000LL)
#define UNREACHABLE_NS (1000000000LL)

typedef struct inflight {
    uint64_t msg_id, id;
    char host[256];
    int port;
} inflight_t;

typedef struct drpc_spout {
    const char *function; /* owned by the component conf */
    gale__drpc_invoker_t *inv;
    const gale_context_t *ctx;
    int64_t next_ns, backoff_ns;
    uint64_t next_msg_id;
    inflight_t *inflight;
    size_t n_inflight;
} drpc_spout_t;

static void drpc_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "args,return-info");
}

static int drpc_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    const gale_conf_t *conf = gale_context_conf(ctx);
    const char *comp = gale_context_component_id(ctx);
    const char *fn = gale_conf_get_str(conf, GALE_CONF_DRPC_FUNCTION, NULL);
    if (!fn || !*fn || strlen(fn) > GALE_DRPC_FUNCTION_MAX) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "component '%s': conf " GALE_CONF_DRPC_FUNCTION
                 " (1..128 bytes) is required: set it with gale_component_conf_set_str",
                 comp);
        return GALE_EINVAL;
    }
    drpc_spout_t *s = calloc(1, sizeof *s);
    if (!s || !(s->inflight = calloc(MAX_INFLIGHT, sizeof *s->inflight))) {
        free(s);
        return GALE_ENOMEM;
    }
    char err[512];
    s->inv = gale__drpc_invoker_new(conf, err, sizeof err);
    if (!s->inv) {
        gale_log(ctx, GALE_LOG_ERROR, "component '%s': %s", comp, err);
        free(s->inflight);
        free(s);
        return GALE_EINVAL;
    }
    s->function = fn;
    s->ctx = ctx;
    s->next_msg_id = 1;
    s->backoff_ns = BACKOFF_MIN_NS;
    gale_log(ctx, GALE_LOG_INFO, "serving DRPC function '%s'", fn);
    *state = s;
    return 0;
}

static void drpc_next(void *state, gale_spout_collector_t *c) {
    drpc_spout_t *s = state;
    int64_t now = gale__now_ns();
    if (now < s->next_ns || s->n_inflight == MAX_INFLIGHT) return;
    gale__drpc_request_t r;
    char err[512];
    int rc = gale__drpc_invoker_fetch(s->inv, s->function, &r, err, sizeof err);
    if (rc == GALE_ENOENT) {
        s->next_ns = now + s->backoff_ns;
        s->backoff_ns = s->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff_ns * 2;
        return;
    }
    if (rc) {
        gale_spout_report_error(c, "DRPC function '%s': %s", s->function, err);
        s->next_ns = now + UNREACHABLE_NS;
        return;
    }
    s->backoff_ns = BACKOFF_MIN_NS;
    s->next_ns = now;
    gale_value_t kv[6] = {gale_str("id"),   gale_int((int64_t)r.id), gale_str("host"),
                          gale_str(r.host), gale_str("port"),        gale_int(r.port)};
    gale_value_t vals[2] = {gale_str(r.args), gale_map(kv, 3)};
    uint64_t msg_id = s->next_msg_id++;
    if (gale_spout_emit_id(c, NULL, vals, 2, msg_id) < 0) {
        gale_spout_report_error(c, "DRPC function '%s': cannot emit request %llu: failing it",
                                s->function, (unsigned long long)r.id);
        gale__drpc_invoker_fail(s->inv, r.host, r.port, r.id, "the DRPC spout could not emit it",
                                err, sizeof err);
    } else {
        inflight_t *f = &s->inflight[s->n_inflight++];
        f->msg_id = msg_id;
        f->id = r.id;
        snprintf(f->host, sizeof f->host, "%s", r.host);
        f->port = r.port;
    }
    gale__drpc_request_clear(&r);
}

/* Remove msg_id from the in-flight list into *out; false when unknown. */
static bool take(drpc_spout_t *s, uint64_t msg_id, inflight_t *out) {
    for (size_t i = 0; i < s->n_inflight; i++) {
        if (s->inflight[i].msg_id != msg_id) continue;
        *out = s->inflight[i];
        s->inflight[i] = s->inflight[--s->n_inflight];
        return true;
    }
    return false;
}

static void drpc_ack(void *state, uint64_t msg_id) {
    inflight_t f;
    take(state, msg_id, &f);
}

static void drpc_fail(void *state, uint64_t msg_id, gale_fail_reason_t why) {
    drpc_spout_t *s = state;
    inflight_t f;
    if (!take(s, msg_id, &f)) return;
    char reason[128], err[512];
    snprintf(reason, sizeof reason, "the topology failed the request (%s)",
             gale_fail_reason_str(why));
    if (gale__drpc_invoker_fail(s->inv, f.host, f.port, f.id, reason, err, sizeof err))
        gale_log(s->ctx, GALE_LOG_WARN, "DRPC request %llu: %s", (unsigned long long)f.id, err);
}

static void drpc_close(void *state) {
    drpc_spout_t *s = state;
    if (!s) return;
    gale__drpc_invoker_destroy(s->inv);
    free(s->inflight);
    free(s);
}

GALE_EXPORT const gale_spout_t gale_drpc_spout = {
    .declare = drpc_declare,
    .open = drpc_open,
    .next_tuple = drpc_next,
    .ack = drpc_ack,
    .fail = drpc_fail,
    .close = drpc_close,
};
