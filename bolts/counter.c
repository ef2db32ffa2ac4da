/*
 * counter.c — gale_counter_bolt: word count. Counts the "word" field
 * (index 0 when the stream has no such field) and emits [word, count]
 * after each update, anchored to the input (a basic bolt). Use it behind
 * a fields grouping on "word" so each word is counted by one task.
 *
 * On a tick tuple it logs the ten highest counts of this task
 * (`top words: the=123 seven=100 ...`; nothing while it has counted
 * nothing) and emits nothing, so a demo's log shows the counts growing.
 * At cleanup it logs its final top words and adds them to the end-of-run
 * summary (common/summary.h), which prints the top words of all tasks.
 *
 * Counts live in a per-task open-addressing table keyed by the word's
 * bytes; words are copied once, on first sight.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/summary.h"
#include "common/value.h"
#include "gale/gale.h"

#define TOP_N 10

typedef struct count_entry {
    char *word; /* NULL: free slot */
    size_t len;
    uint64_t hash;
    int64_t count;
} count_entry_t;

typedef struct counter_state {
    const char *comp;
    int task;
    count_entry_t *slots;
    size_t cap, count;
    char *fmt; /* formatting buffer for non-string words */
    size_t fmt_cap;
} counter_state_t;

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int grow(counter_state_t *s) {
    size_t ncap = s->cap ? s->cap * 2 : 256;
    count_entry_t *n = calloc(ncap, sizeof(*n));
    if (!n) return GALE_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].word) continue;
        size_t j = (size_t)s->slots[i].hash & (ncap - 1);
        while (n[j].word) j = (j + 1) & (ncap - 1);
        n[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = n;
    s->cap = ncap;
    return 0;
}

/* The entry for word, created with count 0 when new; NULL on out of memory. */
static count_entry_t *lookup(counter_state_t *s, const char *w, size_t len) {
    if ((s->count + 1) * 4 > s->cap * 3 && grow(s)) return NULL;
    uint64_t h = hash_bytes(w, len);
    size_t i = (size_t)h & (s->cap - 1);
    for (;; i = (i + 1) & (s->cap - 1)) {
        count_entry_t *e = &s->slots[i];
        if (!e->word) break;
        if (e->hash == h && e->len == len && memcmp(e->word, w, len) == 0) return e;
    }
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, w, len);
    copy[len] = '\0';
    s->slots[i] = (count_entry_t){copy, len, h, 0};
    s->count++;
    return &s->slots[i];
}

static void counter_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "word,count");
}

static int counter_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    counter_state_t *s = calloc(1, sizeof(*s));
    if (!s || grow(s)) {
        free(s);
        return GALE_ENOMEM;
    }
    s->comp = gale_context_component_id(ctx);
    s->task = gale_context_task_id(ctx);
    *state = s;
    return 0;
}

/* Higher count first; equal counts alphabetically, so the line is stable. */
static bool ranks_before(const count_entry_t *a, const count_entry_t *b) {
    if (a->count != b->count) return a->count > b->count;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->word, b->word, n);
    return c ? c < 0 : a->len < b->len;
}

/* The (at most) TOP_N highest counts of this task into top; how many. */
static size_t top_counts(const counter_state_t *s, const count_entry_t **top) {
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++) {
        const count_entry_t *e = &s->slots[i];
        if (!e->word) continue;
        /* insertion into a sorted array of at most TOP_N */
        size_t k = n < TOP_N ? n : TOP_N;
        if (k == TOP_N && !ranks_before(e, top[TOP_N - 1])) continue;
        if (k == TOP_N) k--;
        while (k > 0 && ranks_before(e, top[k - 1])) {
            top[k] = top[k - 1];
            k--;
        }
        top[k] = e;
        if (n < TOP_N) n++;
    }
    return n;
}

/* A task that counted nothing yet says nothing (a demo's twelve tasks
 * would otherwise fill the log with empty lines). */
static void log_top(counter_state_t *s, const char *what) {
    const count_entry_t *top[TOP_N];
    size_t n = top_counts(s, top);
    if (n == 0) return;
    char line[1024];
    size_t len = (size_t)snprintf(line, sizeof line, "%s:", what);
    for (size_t i = 0; i < n && len < sizeof line; i++)
        len += (size_t)snprintf(line + len, sizeof line - len, " %.*s=%" PRId64,
                                (int)(top[i]->len > 64 ? 64 : top[i]->len), top[i]->word,
                                top[i]->count);
    GALE_INFO(s->comp, s->task, "%s", line);
}

static int counter_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    counter_state_t *s = state;
    if (gale_tuple_is_tick(t)) {
        log_top(s, "top words");
        return 0;
    }
    const gale_value_t *v = gale_tuple_field(t, "word");
    if (!v) v = gale_tuple_value(t, 0);
    if (!v) {
        gale_report_error(c, "tuple from '%s' has no values: nothing to count",
                          gale_tuple_source_component(t));
        return GALE_EINVAL;
    }
    const char *w;
    size_t len;
    if (v->type == GALE_T_STR || v->type == GALE_T_BYTES) {
        w = v->u.s;
        len = v->len;
    } else {
        /* count other types by their text, e.g. 42 or [a, b] */
        len = gale__value_format(v, s->fmt, s->fmt_cap);
        if (len >= s->fmt_cap) {
            char *n = realloc(s->fmt, len + 1);
            if (!n) return GALE_ENOMEM;
            s->fmt = n;
            s->fmt_cap = len + 1;
            gale__value_format(v, s->fmt, s->fmt_cap);
        }
        w = s->fmt;
    }
    count_entry_t *e = lookup(s, w, len);
    if (!e) {
        gale_report_error(c, "out of memory counting a word");
        return GALE_ENOMEM;
    }
    e->count++;
    gale_value_t out[2] = {gale_strn(e->word, e->len), gale_int(e->count)};
    gale_emit_values(c, NULL, NULL, out, 2);
    return 0;
}

/* At the end: this task's final top words in the log, and into the
 * summary's merged top words (exact behind a fields grouping on the word:
 * each word is counted by one task, so the top of all tasks is within
 * the union of their tops). */
static void counter_cleanup(void *state) {
    counter_state_t *s = state;
    if (!s) return;
    log_top(s, "final top words");
    const count_entry_t *top[TOP_N];
    size_t n = top_counts(s, top);
    for (size_t i = 0; i < n; i++)
        gale__summary_add(s->comp, "top words (all tasks)", top[i]->word, top[i]->len,
                          top[i]->count);
    for (size_t i = 0; i < s->cap; i++) free(s->slots[i].word);
    free(s->slots);
    free(s->fmt);
    free(s);
}

GALE_EXPORT const gale_bolt_t gale_counter_bolt = {
    .declare = counter_declare,
    .prepare = counter_prepare,
    .execute = counter_execute,
    .cleanup = counter_cleanup,
    .basic = true,
};
