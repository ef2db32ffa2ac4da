/*
 * file_sink.c — gale_file_sink_bolt: appends one line per tuple (its
 * values formatted as text, separated by single spaces) to the file named
 * by conf "file.path".
 *
 * A plain (non-basic) bolt because the ack must follow the write: each
 * line is formatted into one buffer and written with one write(2) on an
 * O_APPEND descriptor (so tasks sharing the file never interleave within a
 * line), and only then is the input acked. A failed write fails the input
 * so a reliable spout replays it. Declares no output streams.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/builtin.h"
#include "common/log.h"
#include "common/value.h"
#include "gale/gale.h"

typedef struct sink_state {
    int fd;
    const char *path; /* owned by the component conf */
    const char *comp; /* owned by the runtime */
    char *buf;
    size_t cap;
} sink_state_t;

static void sink_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)d;
    (void)conf;
}

static int sink_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    const char *path = gale__builtin_file_path(ctx);
    if (!path) return GALE_EINVAL;
    sink_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->cap = 256;
    s->buf = malloc(s->cap);
    if (!s->buf) {
        free(s);
        return GALE_ENOMEM;
    }
    s->path = path;
    s->comp = gale_context_component_id(ctx);
    s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int rc = s->fd < 0 ? gale__builtin_open_failed(ctx, path)
                       : gale__builtin_file_claim(ctx, s->fd, path, GALE__FILE_WRITES);
    if (rc) {
        if (s->fd >= 0) close(s->fd);
        free(s->buf);
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* Format t's values as one line into s->buf; its length, or -1 (no memory). */
static ssize_t format_line(sink_state_t *s, const gale_tuple_t *t) {
    size_t len = 0, n = gale_tuple_size(t);
    for (size_t i = 0; i < n; i++) {
        const gale_value_t *v = gale_tuple_value(t, i);
        for (;;) {
            /* room for the value, its separator and the final '\n' + NUL */
            size_t room = s->cap - len;
            size_t k = gale__value_format(v, s->buf + len, room);
            if (k + 2 < room) {
                len += k;
                break;
            }
            size_t ncap = s->cap * 2;
            while (ncap < len + k + 3) ncap *= 2;
            char *nb = realloc(s->buf, ncap);
            if (!nb) return -1;
            s->buf = nb;
            s->cap = ncap;
        }
        s->buf[len++] = i + 1 < n ? ' ' : '\n';
    }
    if (n == 0) s->buf[len++] = '\n';
    return (ssize_t)len;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sink_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    sink_state_t *s = state;
    if (gale_tuple_is_tick(t)) return 0;
    ssize_t len = format_line(s, t);
    if (len < 0) {
        gale_report_error(c, "out of memory formatting a line: failing the tuple");
        gale_fail(c, t);
        return GALE_ENOMEM;
    }
    if (write_all(s->fd, s->buf, (size_t)len)) {
        gale_report_error(c, "write to '%s' failed: %s: failing the tuple", s->path,
                          strerror(errno));
        gale_fail(c, t);
        return GALE_EIO;
    }
    gale_ack(c, t);
    return 0;
}

static void sink_cleanup(void *state) {
    sink_state_t *s = state;
    if (!s) return;
    gale__builtin_file_release(s->fd, GALE__FILE_WRITES, s->comp);
    close(s->fd);
    free(s->buf);
    free(s);
}

GALE_EXPORT const gale_bolt_t gale_file_sink_bolt = {
    .declare = sink_declare,
    .prepare = sink_prepare,
    .execute = sink_execute,
    .cleanup = sink_cleanup,
    .basic = false,
};
