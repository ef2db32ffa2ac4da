/*
 * file_spout.c — the built-in file batch spouts (transactional and
 * opaque): the lines of conf "file.path", field "line".
 *
 * Partitions: the file (its size at open) is cut into n byte ranges,
 * each starting at a line start (the first line start at or after
 * p * size / n). A batch's metadata is [start, end) within its
 * partition's range; plan reads forward from the previous end until
 * gale.trident.file.batch.lines lines or the range's end. Lines end with
 * "\n" (a "\r" before it is dropped); a last line without one counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/builtin.h"
#include "common/config.h"
#include "gale/trident.h"

typedef struct fspout {
    const gale_context_t *ctx;
    char path[4096];
    int fd;
    int64_t start, end; /* this partition's range */
    int64_t lines;      /* per batch */
    gale_value_t meta[2];
    char *buf;
    size_t cap;
} fspout_t;

/* The first line start at or after off (size when none). */
static int64_t line_start(int fd, int64_t off, int64_t size) {
    if (off <= 0) return 0;
    char c[4096];
    int64_t pos = off - 1; /* a line starts at off if off-1 is '\n' */
    while (pos < size) {
        ssize_t n = pread(fd, c, sizeof c, pos);
        if (n <= 0) return size;
        char *nl = memchr(c, '\n', (size_t)n);
        if (nl) return pos + (nl - c) + 1;
        pos += n;
    }
    return size;
}

static int fs_open(void **state, const gale_context_t *ctx, int partition, int n_parts) {
    const char *path = gale__builtin_file_path(ctx);
    if (!path) return GALE_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gale__builtin_open_failed(ctx, path);
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "file batch spout: %s is not a regular file (batches are byte ranges of a file "
                 "that can be read again): give a file",
                 path);
        close(fd);
        return GALE_EINVAL;
    }
    fspout_t *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return GALE_ENOMEM;
    }
    f->fd = fd;
    f->ctx = ctx;
    snprintf(f->path, sizeof f->path, "%s", path);
    int64_t size = st.st_size;
    f->start = line_start(fd, size * partition / n_parts, size);
    f->end =
        partition + 1 == n_parts ? size : line_start(fd, size * (partition + 1) / n_parts, size);
    if (f->end < f->start) f->end = f->start;
    f->lines = gale_conf_get_int(gale_context_conf(ctx), GALE_CONF_TRIDENT_FILE_BATCH_LINES, 1000);
    *state = f;
    return 0;
}

static void fs_close(void *state) {
    fspout_t *f = state;
    close(f->fd);
    free(f->buf);
    free(f);
}

static int fs_plan(void *state, uint64_t txid, const gale_value_t *prev, gale_value_t *meta) {
    fspout_t *f = state;
    (void)txid;
    int64_t start = f->start;
    if (prev) {
        if (prev->type != GALE_T_ARRAY || prev->len != 2 || prev->u.a[1].type != GALE_T_INT)
            return GALE_EPROTO;
        start = prev->u.a[1].u.i;
    }
    if (start < f->start || start > f->end) {
        /* batches recorded in Redis for another file (or this one before
         * it changed): no replay can fix that, so stop the run */
        gale_log(f->ctx, GALE_LOG_ERROR,
                 "file batch spout: Redis records batches of %s up to byte %lld, outside this "
                 "partition's bytes %lld..%lld: the file changed since this topology counted it. "
                 "To count it anew, delete the topology's gale:trident:%s:* keys and its state "
                 "(or give the topology another name)",
                 f->path, (long long)start, (long long)f->start, (long long)f->end,
                 gale_context_topology_name(f->ctx));
        gale__builtin_fatal();
        return GALE_ERANGE;
    }
    int64_t pos = start, lines = 0;
    char c[65536];
    while (pos < f->end && lines < f->lines) {
        size_t want = (size_t)(f->end - pos) < sizeof c ? (size_t)(f->end - pos) : sizeof c;
        ssize_t n = pread(f->fd, c, want, pos);
        if (n < 0) return GALE_EIO;
        if (n == 0) break;
        ssize_t i = 0;
        for (; i < n && lines < f->lines; i++)
            if (c[i] == '\n') lines++;
        pos += i;
    }
    if (pos > f->end) pos = f->end;
    /* the range's end closes a last line without "\n" */
    f->meta[0] = gale_int(start);
    f->meta[1] = gale_int(pos);
    *meta = gale_array(f->meta, 2);
    return start == f->end ? 1 : 0;
}

static int fs_emit(void *state, uint64_t txid, const gale_value_t *meta,
                   gale_trident_collector_t *c) {
    fspout_t *f = state;
    (void)txid;
    if (meta->type != GALE_T_ARRAY || meta->len != 2 || meta->u.a[0].type != GALE_T_INT ||
        meta->u.a[1].type != GALE_T_INT)
        return GALE_EPROTO;
    int64_t s = meta->u.a[0].u.i, e = meta->u.a[1].u.i;
    if (s < f->start || e > f->end || e < s) return GALE_ERANGE;
    size_t len = (size_t)(e - s);
    if (len + 1 > f->cap) {
        char *b = realloc(f->buf, len + 1);
        if (!b) return GALE_ENOMEM;
        f->buf = b;
        f->cap = len + 1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(f->fd, f->buf + got, len - got, s + (int64_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return GALE_EIO; /* the file shrank */
        got += (size_t)n;
    }
    size_t p = 0;
    while (p < len) {
        char *nl = memchr(f->buf + p, '\n', len - p);
        size_t q = nl ? (size_t)(nl - f->buf) : len;
        size_t l = q - p;
        if (l && f->buf[p + l - 1] == '\r') l--;
        gale_value_t v = gale_strn(f->buf + p, l);
        int rc = gale_trident_emit(c, &v, 1);
        if (rc) return rc;
        p = q + 1;
    }
    return 0;
}

const gale_batch_spout_t gale_file_batch_spout = {
    "line", GALE_BATCH_TRANSACTIONAL, fs_open, fs_plan, fs_emit, fs_close};
const gale_batch_spout_t gale_file_opaque_batch_spout = {"line",  GALE_BATCH_OPAQUE, fs_open,
                                                         fs_plan, fs_emit,           fs_close};
