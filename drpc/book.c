/*
 * book.c — DRPC request bookkeeping (book.h).
 *
 * Every request has one timeout, so submit order is deadline order: the
 * "all" list is a FIFO whose head is the next to expire, and expiry is
 * O(1). Ids index a chained hash table sized for max_pending. Functions
 * are a short list (at most GALE_DRPC_MAX_FUNCTIONS); one that is neither
 * served within the window nor holds requests is forgotten when room is
 * needed.
 */
#include "drpc/book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gale__drpc_fn {
    char *name;
    int64_t last_fetch_ns; /* INT64_MIN: never */
    size_t n_reqs;         /* alive (queued or fetched) for this function */
    gale__drpc_req_t *q_head, *q_tail;
    gale__drpc_fn_t *next;
};

/* Bytes of arguments the waiting requests may hold together: the count
 * alone (drpc.max.pending.requests x 1 MiB arguments) allowed ~10 GiB. */
#define PENDING_BYTES_MAX (256u << 20)

struct gale__drpc_book {
    size_t max_pending, pending, n_fns;
    size_t pending_bytes; /* strlen of the waiting requests' args */
    int64_t timeout_ns, window_ns;
    uint64_t next_id;
    gale__drpc_req_t *all_head, *all_tail;
    gale__drpc_req_t **buckets;
    size_t mask;
    gale__drpc_fn_t *fns;
};

gale__drpc_book_t *gale__drpc_book_new(size_t max_pending, int64_t timeout_ns,
                                       int64_t serve_window_ns, uint64_t id_base) {
    gale__drpc_book_t *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size_t nb = 64;
    while (nb < max_pending && nb < ((size_t)1 << 24)) nb <<= 1;
    b->buckets = calloc(nb, sizeof *b->buckets);
    if (!b->buckets) {
        free(b);
        return NULL;
    }
    b->mask = nb - 1;
    b->max_pending = max_pending ? max_pending : 1;
    b->timeout_ns = timeout_ns;
    b->window_ns = serve_window_ns;
    b->next_id = id_base + 1;
    if (b->next_id == 0) b->next_id = 1;
    return b;
}

void gale__drpc_req_free(gale__drpc_req_t *r) {
    if (!r) return;
    free(r->function);
    free(r->args);
    free(r);
}

static void fn_free(gale__drpc_fn_t *f) {
    free(f->name);
    free(f);
}

void gale__drpc_book_destroy(gale__drpc_book_t *b) {
    if (!b) return;
    gale__drpc_req_t *r;
    while ((r = gale__drpc_book_any(b))) gale__drpc_req_free(r);
    for (gale__drpc_fn_t *f = b->fns, *n; f; f = n) {
        n = f->next;
        fn_free(f);
    }
    free(b->buckets);
    free(b);
}

static size_t bucket(const gale__drpc_book_t *b, uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & b->mask;
}

static bool served(const gale__drpc_book_t *b, const gale__drpc_fn_t *f, int64_t now) {
    return f->last_fetch_ns != INT64_MIN && now - f->last_fetch_ns <= b->window_ns;
}

static gale__drpc_fn_t *fn_find(gale__drpc_book_t *b, const char *name) {
    for (gale__drpc_fn_t *f = b->fns; f; f = f->next)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

/* Forget functions nobody serves that hold no requests. */
static void fn_gc(gale__drpc_book_t *b, int64_t now) {
    for (gale__drpc_fn_t **pp = &b->fns; *pp;) {
        gale__drpc_fn_t *f = *pp;
        if (f->n_reqs == 0 && !served(b, f, now)) {
            *pp = f->next;
            fn_free(f);
            b->n_fns--;
        } else {
            pp = &f->next;
        }
    }
}

int gale__drpc_book_submit(gale__drpc_book_t *b, const char *function, const char *args,
                           int64_t now, void *waiter, gale__drpc_req_t **out, char *err,
                           size_t errlen) {
    *out = NULL;
    gale__drpc_fn_t *f = fn_find(b, function);
    if (!f || !served(b, f, now)) {
        snprintf(err, errlen,
                 "no running topology serves DRPC function '%.128s' (no DRPC spout asked for it "
                 "in the last %lld s): submit the topology, or check the function name",
                 function, (long long)(b->window_ns / 1000000000LL));
        return GALE_ENOENT;
    }
    if (b->pending >= b->max_pending) {
        snprintf(err, errlen,
                 "the DRPC server has %zu requests waiting (drpc.max.pending.requests): try "
                 "again later",
                 b->pending);
        return GALE_EFULL;
    }
    size_t len = strlen(args);
    if (b->pending_bytes + len > PENDING_BYTES_MAX) {
        snprintf(err, errlen,
                 "the DRPC server holds %zu MiB of waiting requests' arguments (at most %u): try "
                 "again later",
                 b->pending_bytes >> 20, PENDING_BYTES_MAX >> 20);
        return GALE_EFULL;
    }
    gale__drpc_req_t *r = calloc(1, sizeof *r);
    if (r) {
        r->function = strdup(function);
        r->args = strdup(args);
    }
    if (!r || !r->function || !r->args) {
        gale__drpc_req_free(r);
        snprintf(err, errlen, "the DRPC server is out of memory");
        return GALE_ENOMEM;
    }
    r->id = b->next_id++;
    if (b->next_id == 0) b->next_id = 1;
    r->submit_ns = now;
    r->deadline_ns = now + b->timeout_ns;
    r->waiter = waiter;
    r->fn = f;
    /* all: append (deadline order) */
    r->all_prev = b->all_tail;
    if (b->all_tail)
        b->all_tail->all_next = r;
    else
        b->all_head = r;
    b->all_tail = r;
    /* the function's queue: append */
    r->q_prev = f->q_tail;
    if (f->q_tail)
        f->q_tail->q_next = r;
    else
        f->q_head = r;
    f->q_tail = r;
    size_t h = bucket(b, r->id);
    r->h_next = b->buckets[h];
    b->buckets[h] = r;
    f->n_reqs++;
    b->pending++;
    b->pending_bytes += len;
    *out = r;
    return 0;
}

static void q_unlink(gale__drpc_req_t *r) {
    gale__drpc_fn_t *f = r->fn;
    if (r->fetched) return; /* fetched requests are off the queue */
    if (r->q_prev)
        r->q_prev->q_next = r->q_next;
    else
        f->q_head = r->q_next;
    if (r->q_next)
        r->q_next->q_prev = r->q_prev;
    else
        f->q_tail = r->q_prev;
    r->q_prev = r->q_next = NULL;
}

int gale__drpc_book_fetch(gale__drpc_book_t *b, const char *function, int64_t now,
                          gale__drpc_req_t **out) {
    *out = NULL;
    gale__drpc_fn_t *f = fn_find(b, function);
    if (!f) {
        if (b->n_fns >= GALE_DRPC_MAX_FUNCTIONS) fn_gc(b, now);
        if (b->n_fns >= GALE_DRPC_MAX_FUNCTIONS) return GALE_EFULL;
        f = calloc(1, sizeof *f);
        if (!f || !(f->name = strdup(function))) {
            free(f);
            return GALE_ENOMEM;
        }
        f->next = b->fns;
        b->fns = f;
        b->n_fns++;
    }
    f->last_fetch_ns = now;
    gale__drpc_req_t *r = f->q_head;
    if (!r) return GALE_ENOENT;
    q_unlink(r);
    r->fetched = true;
    *out = r;
    return 0;
}

/* Unlink r from everything and hand it over. */
static gale__drpc_req_t *detach(gale__drpc_book_t *b, gale__drpc_req_t *r) {
    for (gale__drpc_req_t **pp = &b->buckets[bucket(b, r->id)]; *pp; pp = &(*pp)->h_next)
        if (*pp == r) {
            *pp = r->h_next;
            break;
        }
    q_unlink(r);
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        b->all_head = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
    else
        b->all_tail = r->all_prev;
    r->all_prev = r->all_next = r->h_next = NULL;
    r->fn->n_reqs--;
    r->fn = NULL;
    b->pending--;
    b->pending_bytes -= strlen(r->args);
    return r;
}

gale__drpc_req_t *gale__drpc_book_take(gale__drpc_book_t *b, uint64_t id) {
    for (gale__drpc_req_t *r = b->buckets[bucket(b, id)]; r; r = r->h_next)
        if (r->id == id) return detach(b, r);
    return NULL;
}

gale__drpc_req_t *gale__drpc_book_expired(gale__drpc_book_t *b, int64_t now) {
    gale__drpc_req_t *r = b->all_head;
    return r && r->deadline_ns <= now ? detach(b, r) : NULL;
}

gale__drpc_req_t *gale__drpc_book_abandoned(gale__drpc_book_t *b, int64_t now) {
    for (gale__drpc_fn_t *f = b->fns; f; f = f->next)
        if (f->q_head && !served(b, f, now)) return detach(b, f->q_head);
    return NULL;
}

gale__drpc_req_t *gale__drpc_book_any(gale__drpc_book_t *b) {
    return b->all_head ? detach(b, b->all_head) : NULL;
}

int64_t gale__drpc_book_next_deadline(const gale__drpc_book_t *b) {
    return b->all_head ? b->all_head->deadline_ns : INT64_MAX;
}

size_t gale__drpc_book_pending(const gale__drpc_book_t *b) {
    return b->pending;
}

size_t gale__drpc_book_functions(const gale__drpc_book_t *b) {
    return b->n_fns;
}
