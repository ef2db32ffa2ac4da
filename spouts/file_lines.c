/*
 * file_lines.c — gale_file_lines_spout, the reliable file spout.
 *
 * Each task reads the file named by conf "file.path" and owns the lines
 * whose (line_no - 1) % n_tasks equals its task index, so the tasks of
 * the component split the file without coordinating. That needs a file
 * every task can read whole: anything but a regular file (a pipe, a FIFO,
 * /dev/stdin, a socket) can be read only once, so the component's first
 * task reads all its lines and the others have none (were each to read it,
 * the first would drain it and the run would report done with lines
 * missing).
 *
 * Lines end with '\n'; a trailing '\r' is dropped too (CRLF files), and a
 * last line without a newline counts. A line is read into a buffer bounded
 * by gale.file.max.line.bytes: a longer one is an error naming the file and
 * line number that stops the run (gale__builtin_fatal), rather than memory
 * growing without bound on, say, a file with no newline. A line is emitted
 * as [line_no, line] with message id line_no and kept (line_no -> text)
 * until it is acked; a failed line goes on a replay queue that next_tuple
 * serves before reading further, so every line is processed at least
 * once. next_tuple emits at most one line per call, which lets
 * topology.max.spout.pending and backpressure bound what is in flight.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/builtin.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "gale/gale.h"

/* A kept line: key is its line_no (never 0, so 0 marks a free slot). */
typedef struct kept {
    uint64_t key;
    char *text;
    size_t len;
    uint64_t fails; /* times it failed: it is replayed until acked */
} kept_t;

typedef struct file_state {
    const char *comp; /* owned by the runtime */
    int task;
    char *path;
    FILE *f;
    int index, n_tasks;
    uint64_t line_no; /* lines read so far (all tasks' lines) */
    uint64_t mine;    /* lines of this task read so far */
    bool eof;
    bool claimed;                            /* registered with gale__builtin_file_claim */
    bool read_failed;                        /* a read error: never done, nothing more is read */
    int64_t replay_delay_ns, next_replay_ns; /* backoff while lines keep failing */
    int64_t next_fail_warn_ns;               /* repeated-failure warnings: one a second */
    uint64_t fail_warns_skipped;             /* ... and how many were held back */
    bool held; /* s->buf holds line line_no, not yet kept (out of memory) */
    size_t held_len;
    /* emitted but not yet acked: open addressing, linear probing */
    kept_t *slots;
    size_t cap, count;
    /* failed ids waiting to be emitted again: a ring */
    uint64_t *replay;
    size_t rcap, rhead, rlen;
    char *buf; /* the line being read, at most max_line bytes */
    size_t bufcap, max_line;
} file_state_t;

static size_t slot_of(const file_state_t *s, uint64_t key) {
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (s->cap - 1);
}

static kept_t *kept_get(file_state_t *s, uint64_t key) {
    for (size_t i = slot_of(s, key);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].key == key) return &s->slots[i];
        if (!s->slots[i].key) return NULL;
    }
}

static int kept_grow(file_state_t *s) {
    size_t ncap = s->cap * 2;
    kept_t *old = s->slots, *n = calloc(ncap, sizeof(*n));
    if (!n) return GALE_ENOMEM;
    size_t ocap = s->cap;
    s->slots = n;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key) continue;
        size_t j = slot_of(s, old[i].key);
        while (n[j].key) j = (j + 1) & (ncap - 1);
        n[j] = old[i];
    }
    free(old);
    return 0;
}

/* Takes ownership of text on success. */
static int kept_put(file_state_t *s, uint64_t key, char *text, size_t len) {
    if ((s->count + 1) * 4 > s->cap * 3 && kept_grow(s)) return GALE_ENOMEM;
    size_t i = slot_of(s, key);
    while (s->slots[i].key && s->slots[i].key != key) i = (i + 1) & (s->cap - 1);
    if (s->slots[i].key) {
        free(s->slots[i].text);
    } else {
        s->count++;
    }
    s->slots[i] = (kept_t){key, text, len, 0};
    return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void kept_del(file_state_t *s, kept_t *e) {
    size_t i = (size_t)(e - s->slots), mask = s->cap - 1;
    free(e->text);
    s->count--;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!s->slots[j].key) break;
        size_t home = slot_of(s, s->slots[j].key);
        /* move j into the hole at i when its home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = (kept_t){0, NULL, 0, 0};
}

static int replay_push(file_state_t *s, uint64_t id) {
    if (s->rlen == s->rcap) {
        size_t ncap = s->rcap ? s->rcap * 2 : 64;
        uint64_t *n = malloc(ncap * sizeof(*n));
        if (!n) return GALE_ENOMEM;
        for (size_t i = 0; i < s->rlen; i++) n[i] = s->replay[(s->rhead + i) % s->rcap];
        free(s->replay);
        s->replay = n;
        s->rcap = ncap;
        s->rhead = 0;
    }
    s->replay[(s->rhead + s->rlen) % s->rcap] = id;
    s->rlen++;
    return 0;
}

static uint64_t replay_pop(file_state_t *s) {
    uint64_t id = s->replay[s->rhead];
    s->rhead = (s->rhead + 1) % s->rcap;
    s->rlen--;
    return id;
}

static void file_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "line_no,line");
}

static void file_close(void *state) {
    file_state_t *s = state;
    if (!s) return;
    if (s->claimed) gale__builtin_file_release(fileno(s->f), GALE__FILE_READS, s->comp);
    if (s->f) fclose(s->f);
    for (size_t i = 0; i < s->cap; i++) free(s->slots[i].text);
    free(s->slots);
    free(s->replay);
    free(s->buf);
    free(s->path);
    free(s);
}

static int file_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    const char *comp = gale_context_component_id(ctx);
    int task = gale_context_task_id(ctx);
    const char *path = gale__builtin_file_path(ctx);
    if (!path) return GALE_EINVAL;
    file_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->comp = comp;
    s->task = task;
    s->index = gale_context_task_index(ctx);
    s->n_tasks = (int)gale_context_component_tasks(ctx, comp, NULL);
    if (s->n_tasks < 1) s->n_tasks = 1;
    s->cap = 64;
    s->slots = calloc(s->cap, sizeof(*s->slots));
    s->path = strdup(path);
    if (!s->slots || !s->path) {
        file_close(s);
        return GALE_ENOMEM;
    }
    int64_t max_line =
        gale_conf_get_int(gale_context_conf(ctx), GALE_CONF_FILE_MAX_LINE_BYTES, 1 << 20);
    s->max_line = max_line > 0 ? (size_t)max_line : 1;
    /* stat before fopen: opening a FIFO blocks until a writer comes */
    struct stat st;
    bool stated = stat(path, &st) == 0;
    if (stated && S_ISDIR(st.st_mode)) {
        gale__context_error_once(ctx, "component '%s': file.path '%s' is a directory: name a file",
                                 comp, path);
        file_close(s);
        return GALE_EINVAL;
    }
    /* Each task decides from its own stat: a path that changes type
     * between the tasks' opens (rm, then mkfifo) could split the lines
     * wrongly, which a file spout cannot guard against. */
    int tasks = s->n_tasks;
    bool read_once = stated && !S_ISREG(st.st_mode) && tasks > 1;
    if (read_once) {
        /* a pipe can be read only once: its first task reads it whole */
        if (s->index != 0) {
            s->eof = true;
            *state = s;
            return 0;
        }
        s->n_tasks = 1;
    }
    s->f = fopen(path, "r");
    if (!s->f) {
        int rc = gale__builtin_open_failed(ctx, path);
        file_close(s);
        return rc;
    }
    int rc = gale__builtin_file_claim(ctx, fileno(s->f), path, GALE__FILE_READS);
    if (rc) {
        file_close(s);
        return rc;
    }
    s->claimed = true;
    if (read_once)
        GALE_INFO(comp, task,
                  "file.path '%s' is not a regular file (a pipe, FIFO or device): it can be read "
                  "only once, so this task reads every line and the other %d tasks of '%s' have "
                  "none",
                  path, tasks - 1, comp);
    *state = s;
    return 0;
}

static void emit_line(file_state_t *s, gale_spout_collector_t *c, uint64_t line_no,
                      const kept_t *k) {
    gale_value_t v[2] = {gale_int((int64_t)line_no), gale_strn(k->text, k->len)};
    int rc = gale_spout_emit_id(c, NULL, v, 2, line_no);
    if (rc < 0) {
        /* Keep it: it goes out again on a later call. */
        gale_spout_report_error(c, "emitting line %" PRIu64 " of '%s': %s", line_no, s->path,
                                gale_strerror(rc));
        replay_push(s, line_no);
    }
}

/* Keep the line in s->buf (length len) and emit it. On out of memory the
 * line stays held in s->buf and the next call retries it. */
static void keep_and_emit(file_state_t *s, gale_spout_collector_t *c, uint64_t line_no,
                          size_t len) {
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, s->buf, len);
        text[len] = '\0';
    }
    if (!text || kept_put(s, line_no, text, len)) {
        free(text);
        if (!s->held)
            gale_spout_report_error(c, "out of memory keeping line %" PRIu64 ": will retry",
                                    line_no);
        s->held = true;
        s->held_len = len;
        return;
    }
    s->held = false;
    emit_line(s, c, line_no, kept_get(s, line_no));
}

/* Read one line into s->buf without its line end; its length, or -1 at
 * the end of the file, -2 on a read error, -3 when it is longer than
 * s->max_line (the rest of the line is left unread). */
static ssize_t read_line(file_state_t *s) {
    size_t len = 0;
    int ch;
    while ((ch = getc_unlocked(s->f)) != EOF && ch != '\n') {
        if (len == s->max_line) return -3;
        if (len == s->bufcap) {
            size_t ncap = s->bufcap ? s->bufcap * 2 : 256;
            if (ncap > s->max_line) ncap = s->max_line;
            char *n = realloc(s->buf, ncap);
            if (!n) return -2;
            s->buf = n;
            s->bufcap = ncap;
        }
        s->buf[len++] = (char)ch;
    }
    if (ch == EOF && ferror(s->f)) return -2;
    if (ch == EOF && len == 0) return -1;
    if (len && s->buf[len - 1] == '\r') len--;
    return (ssize_t)len;
}

/* Read on to this task's next line and emit it. */
static void read_own_line(file_state_t *s, gale_spout_collector_t *c) {
    if (s->held) {
        keep_and_emit(s, c, s->line_no, s->held_len);
        return;
    }
    for (;;) {
        errno = 0;
        ssize_t n = read_line(s);
        if (n == -2) {
            /* not the end: done() stays false so nothing claims success */
            gale_spout_report_error(c, "reading '%s' after line %" PRIu64 ": %s", s->path,
                                    s->line_no, strerror(errno ? errno : EIO));
            s->read_failed = true;
            gale__builtin_fatal();
            return;
        }
        if (n == -1) {
            s->eof = true;
            /* a task with none of the lines (more tasks than lines) keeps quiet */
            GALE_LOG(s->mine ? GALE_LOG_INFO : GALE_LOG_DEBUG, s->comp, s->task,
                     "reached end of '%s': %" PRIu64 " lines, %" PRIu64 " of them this task's",
                     s->path, s->line_no, s->mine);
            return;
        }
        uint64_t line_no = ++s->line_no;
        bool mine = (line_no - 1) % (uint64_t)s->n_tasks == (uint64_t)s->index;
        if (n == -3) {
            /* every task meets the line; its owner says so */
            if (mine)
                gale_spout_report_error(c,
                                        "line %" PRIu64 " of '%s' is longer than %s = %zu bytes: "
                                        "split the line, or raise the key if it is meant",
                                        line_no, s->path, GALE_CONF_FILE_MAX_LINE_BYTES,
                                        s->max_line);
            s->read_failed = true;
            gale__builtin_fatal();
            return;
        }
        if (!mine) continue;
        s->mine++;
        keep_and_emit(s, c, line_no, (size_t)n);
        return;
    }
}

static void file_next(void *state, gale_spout_collector_t *c) {
    file_state_t *s = state;
    if (s->rlen && s->replay_delay_ns) {
        int64_t now = gale__now_ns();
        if (now < s->next_replay_ns) return; /* failing again and again: slow down */
        s->next_replay_ns = now + s->replay_delay_ns;
    }
    while (s->rlen) {
        uint64_t id = replay_pop(s);
        kept_t *k = kept_get(s, id);
        if (!k) continue; /* acked after all (a late ack of an earlier emit) */
        emit_line(s, c, id, k);
        return;
    }
    if (!s->eof && !s->read_failed) read_own_line(s, c);
}

static void file_ack(void *state, uint64_t msg_id) {
    file_state_t *s = state;
    kept_t *k = msg_id ? kept_get(s, msg_id) : NULL;
    if (k) kept_del(s, k);
    s->replay_delay_ns = 0; /* things go through again: replay at full speed */
}

/* A line that fails again and again is replayed forever, silently but for
 * the bolts' own errors: say so when its count reaches 4, 8, 16, ...,
 * at most once a second per task. */
static void warn_failing(file_state_t *s, const kept_t *k, gale_fail_reason_t why) {
    if (k->fails < 4 || (k->fails & (k->fails - 1))) return;
    int64_t now = gale__now_ns();
    if (now < s->next_fail_warn_ns) {
        s->fail_warns_skipped++;
        return;
    }
    s->next_fail_warn_ns = now + 1000000000;
    char more[96] = "";
    if (s->fail_warns_skipped)
        snprintf(more, sizeof more, " (%" PRIu64 " more such warnings held back)",
                 s->fail_warns_skipped);
    s->fail_warns_skipped = 0;
    GALE_WARN(s->comp, s->task,
              "line %" PRIu64 " of '%s' failed %" PRIu64 " times (last reason: %s): it is replayed "
              "until acked; see the failed counts and errors of the bolts it goes to (a basic "
              "bolt's execute returning nonzero fails its input without an error)%s",
              k->key, s->path, k->fails, gale_fail_reason_str(why), more);
}

static void file_fail(void *state, uint64_t msg_id, gale_fail_reason_t why) {
    file_state_t *s = state;
    kept_t *k = msg_id ? kept_get(s, msg_id) : NULL;
    if (!k) return;
    k->fails++;
    warn_failing(s, k, why);
    GALE_DEBUG(s->comp, s->task, "line %" PRIu64 " failed (%s): replaying it", msg_id,
               gale_fail_reason_str(why));
    /* Fails with no ack in between double the pause between replays, from
     * 1 ms up to 1 s, so a downstream that fails everything is not hammered. */
    s->replay_delay_ns = s->replay_delay_ns ? s->replay_delay_ns * 2 : 1000000;
    if (s->replay_delay_ns > 1000000000) s->replay_delay_ns = 1000000000;
    if (replay_push(s, msg_id))
        GALE_ERROR(s->comp, s->task, "out of memory queueing line %" PRIu64 " for replay", msg_id);
}

static bool file_done(void *state) {
    const file_state_t *s = state;
    return s->eof && !s->read_failed && s->rlen == 0 && s->count == 0;
}

GALE_EXPORT const gale_spout_t gale_file_lines_spout = {
    .declare = file_declare,
    .open = file_open,
    .next_tuple = file_next,
    .ack = file_ack,
    .fail = file_fail,
    .close = file_close,
    .done = file_done,
};
