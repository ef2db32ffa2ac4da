/*
 * summary.c — tallies components contribute to the end-of-run summary
 * (see summary.h). Small and rarely used (once per task at cleanup), so
 * plain arrays under one mutex.
 */
#include "common/summary.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64

typedef struct entry {
    char key[KEY_MAX + 1];
    size_t len;
    int64_t n;
} entry_t;

typedef struct tally {
    char *component, *title;
    entry_t *e;
    size_t n, cap;
} tally_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tally_t *tallies;
static size_t n_tallies;

static tally_t *tally_get(const char *component, const char *title) {
    for (size_t i = 0; i < n_tallies; i++)
        if (!strcmp(tallies[i].component, component) && !strcmp(tallies[i].title, title))
            return &tallies[i];
    tally_t *n = realloc(tallies, (n_tallies + 1) * sizeof(*n));
    if (!n) return NULL;
    tallies = n;
    tally_t *t = &tallies[n_tallies];
    memset(t, 0, sizeof(*t));
    t->component = strdup(component);
    t->title = strdup(title);
    if (!t->component || !t->title) {
        free(t->component);
        free(t->title);
        return NULL;
    }
    n_tallies++;
    return t;
}

void gale__summary_add(const char *component, const char *title, const char *key, size_t klen,
                       int64_t n) {
    if (!component || !title || !key) return;
    if (klen > KEY_MAX) klen = KEY_MAX;
    pthread_mutex_lock(&lock);
    tally_t *t = tally_get(component, title);
    size_t i = 0;
    while (t && i < t->n && !(t->e[i].len == klen && memcmp(t->e[i].key, key, klen) == 0)) i++;
    if (t && i == t->n && t->n < GALE__SUMMARY_MAX_KEYS) {
        if (t->n == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 32;
            entry_t *ne = realloc(t->e, ncap * sizeof(*ne));
            if (ne) {
                t->e = ne;
                t->cap = ncap;
            }
        }
        if (t->n < t->cap) {
            memcpy(t->e[i].key, key, klen);
            t->e[i].key[klen] = '\0';
            t->e[i].len = klen;
            t->e[i].n = 0;
            t->n++;
        }
    }
    if (t && i < t->n) t->e[i].n += n;
    pthread_mutex_unlock(&lock);
}

static int by_count(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return strcmp(x->key, y->key);
}

int gale__summary_format(const char *component, size_t idx, size_t top_n, char *line, size_t cap) {
    int found = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0, k = 0; i < n_tallies && !found; i++) {
        tally_t *t = &tallies[i];
        if (strcmp(t->component, component) || k++ != idx) continue;
        found = 1;
        qsort(t->e, t->n, sizeof(*t->e), by_count);
        size_t len = (size_t)snprintf(line, cap, "%s:", t->title);
        for (size_t j = 0; j < t->n && j < top_n && len < cap; j++)
            len += (size_t)snprintf(line + len, cap - len, " %s=%lld", t->e[j].key,
                                    (long long)t->e[j].n);
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void gale__summary_reset(void) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_tallies; i++) {
        free(tallies[i].component);
        free(tallies[i].title);
        free(tallies[i].e);
    }
    free(tallies);
    tallies = NULL;
    n_tallies = 0;
    pthread_mutex_unlock(&lock);
}
