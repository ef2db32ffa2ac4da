/*
 * printer.c — gale_printer_bolt: logs every tuple at INFO as
 * `<source>:<stream> [v1, v2, ...]`, for demos and debugging.
 *
 * A basic bolt: the runtime acks each input when execute returns. The
 * line is built in a per-task buffer that grows to the largest tuple
 * seen, so printing costs no allocation in the steady state.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/value.h"
#include "gale/gale.h"

typedef struct printer_state {
    const char *comp;
    int task;
    char *buf;
    size_t cap, len;
} printer_state_t;

static int reserve(printer_state_t *s, size_t need) {
    if (need <= s->cap) return 0;
    size_t ncap = s->cap ? s->cap : 256;
    while (ncap < need) ncap *= 2;
    char *n = realloc(s->buf, ncap);
    if (!n) return GALE_ENOMEM;
    s->buf = n;
    s->cap = ncap;
    return 0;
}

static int append(printer_state_t *s, const char *p, size_t n) {
    if (reserve(s, s->len + n + 1)) return GALE_ENOMEM;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return 0;
}

static int append_value(printer_state_t *s, const gale_value_t *v) {
    size_t room = s->cap - s->len;
    size_t n = gale__value_format(v, s->buf + s->len, room);
    if (n >= room) {
        if (reserve(s, s->len + n + 1)) return GALE_ENOMEM;
        gale__value_format(v, s->buf + s->len, s->cap - s->len);
    }
    s->len += n;
    return 0;
}

static void printer_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)d;
    (void)conf;
}

static int printer_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    printer_state_t *s = calloc(1, sizeof(*s));
    if (!s || reserve(s, 256)) {
        free(s);
        return GALE_ENOMEM;
    }
    s->comp = gale_context_component_id(ctx);
    s->task = gale_context_task_id(ctx);
    *state = s;
    return 0;
}

static int printer_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)c;
    printer_state_t *s = state;
    const char *src = gale_tuple_source_component(t), *stream = gale_tuple_stream(t);
    s->len = 0;
    int rc = append(s, src, strlen(src));
    if (!rc) rc = append(s, ":", 1);
    if (!rc) rc = append(s, stream, strlen(stream));
    if (!rc) rc = append(s, " [", 2);
    for (size_t i = 0; !rc && i < gale_tuple_size(t); i++) {
        if (i) rc = append(s, ", ", 2);
        if (!rc) rc = append_value(s, gale_tuple_value(t, i));
    }
    if (!rc) rc = append(s, "]", 1);
    if (rc) return 0; /* out of memory: nothing to print, nothing to replay */
    GALE_INFO(s->comp, s->task, "%s", s->buf);
    return 0;
}

static void printer_cleanup(void *state) {
    printer_state_t *s = state;
    if (!s) return;
    free(s->buf);
    free(s);
}

GALE_EXPORT const gale_bolt_t gale_printer_bolt = {
    .declare = printer_declare,
    .prepare = printer_prepare,
    .execute = printer_execute,
    .cleanup = printer_cleanup,
    .basic = true,
};
