/*
 * drpc_return.c — gale_drpc_return_results_bolt, Storm's
 * ReturnResults: input [result, return-info] (by position, as Storm);
 * sends the result to the server the return info names and acks the
 * input once that server took it.
 *
 * The result is sent as text: a string as it is, any other value as
 * gale__value_format prints it. A return info that is not the DRPC
 * spout's map {id, host, port} cannot be answered: the bolt reports it
 * and acks the input (a replay would not fix it). A server that cannot
 * be reached fails the input, so the spout's fail() reports it (its
 * client gets an error, or the request times out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/value.h"
#include "drpc/client.h"
#include "gale/gale.h"

typedef struct ret_state {
    gale__drpc_invoker_t *inv;
    char *buf;
    size_t cap;
} ret_state_t;

static void ret_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)d;
    (void)conf;
}

static int ret_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    ret_state_t *s = calloc(1, sizeof *s);
    if (!s) return GALE_ENOMEM;
    char err[512];
    s->inv = gale__drpc_invoker_new(gale_context_conf(ctx), err, sizeof err);
    if (!s->inv) {
        gale_log(ctx, GALE_LOG_ERROR, "component '%s': %s", gale_context_component_id(ctx), err);
        free(s);
        return GALE_EINVAL;
    }
    *state = s;
    return 0;
}

/* The value of key in map m, or NULL. */
static const gale_value_t *map_get(const gale_value_t *m, const char *key) {
    size_t n = strlen(key);
    for (uint32_t i = 0; i < m->len; i++) {
        const gale_value_t *k = &m->u.a[2 * i];
        if (k->type == GALE_T_STR && k->len == n && memcmp(k->u.s, key, n) == 0)
            return &m->u.a[2 * i + 1];
    }
    return NULL;
}

/* The result as text in s->buf (or pointing into the tuple); its length, or -1. */
static ssize_t result_text(ret_state_t *s, const gale_value_t *v, const char **text) {
    if (v->type == GALE_T_STR) {
        *text = v->u.s;
        return (ssize_t)v->len;
    }
    for (;;) {
        size_t k = s->cap ? gale__value_format(v, s->buf, s->cap) : 0;
        if (s->cap && k + 1 < s->cap) {
            *text = s->buf;
            return (ssize_t)k;
        }
        size_t ncap = s->cap ? s->cap * 2 : 256;
        while (ncap < k + 2) ncap *= 2;
        if (ncap > (4u << 20)) return -1;
        char *nb = realloc(s->buf, ncap);
        if (!nb) return -1;
        s->buf = nb;
        s->cap = ncap;
    }
}

static int ret_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    ret_state_t *s = state;
    if (gale_tuple_is_tick(t)) return 0;
    const gale_value_t *res = gale_tuple_value(t, 0), *info = gale_tuple_value(t, 1);
    const gale_value_t *id = info && info->type == GALE_T_MAP ? map_get(info, "id") : NULL;
    const gale_value_t *host = info && info->type == GALE_T_MAP ? map_get(info, "host") : NULL;
    const gale_value_t *port = info && info->type == GALE_T_MAP ? map_get(info, "port") : NULL;
    char hostbuf[256];
    if (!res || !id || id->type != GALE_T_INT || id->u.i <= 0 || !host ||
        host->type != GALE_T_STR || host->len == 0 || host->len >= sizeof hostbuf || !port ||
        port->type != GALE_T_INT || port->u.i <= 0 || port->u.i > 65535) {
        gale_report_error(c, "expected [result, return-info] with the DRPC spout's return-info "
                             "map {id, host, port} as the second value: dropping the tuple");
        gale_ack(c, t);
        return GALE_EINVAL;
    }
    snprintf(hostbuf, sizeof hostbuf, "%.*s", (int)host->len, host->u.s);
    const char *text = NULL;
    ssize_t len = result_text(s, res, &text);
    char err[512];
    int rc = len < 0 ? GALE_ENOMEM
                     : gale__drpc_invoker_result(s->inv, hostbuf, (int)port->u.i, (uint64_t)id->u.i,
                                                 text, (size_t)len, err, sizeof err);
    if (rc == GALE_EIO || rc == GALE_ENOMEM) {
        gale_report_error(c, "DRPC request %lld: %s: failing the tuple", (long long)id->u.i,
                          rc == GALE_ENOMEM ? "out of memory" : err);
        gale_fail(c, t);
        return rc;
    }
    if (rc) {
        /* the server refused it (too long, NUL bytes): tell it the request failed */
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        gale_report_error(c, "DRPC request %lld: %s", (long long)id->u.i, why);
        gale__drpc_invoker_fail(s->inv, hostbuf, (int)port->u.i, (uint64_t)id->u.i, why, err,
                                sizeof err);
    }
    gale_ack(c, t);
    return 0;
}

static void ret_cleanup(void *state) {
    ret_state_t *s = state;
    if (!s) return;
    gale__drpc_invoker_destroy(s->inv);
    free(s->buf);
    free(s);
}

GALE_EXPORT const gale_bolt_t gale_drpc_return_results_bolt = {
    .declare = ret_declare,
    .prepare = ret_prepare,
    .execute = ret_execute,
    .cleanup = ret_cleanup,
    .basic = false,
};
