/*
 * book.h — the DRPC server's request bookkeeping: pending requests by id,
 * a FIFO of queued requests per function, when each function was last
 * fetched, timeouts and the bound on pending requests. Pure data, no
 * sockets and no clock of its own (the caller passes `now`), so the unit
 * tests drive it with made-up times.
 *
 * A request's life: submit -> queued on its function -> fetch hands it
 * to a spout (fetched) -> take(id) when its result or failure comes back,
 * or expired() when its deadline passed. take/expired remove it from the
 * book and give it to the caller, who answers its waiter and frees it.
 *
 * "Served": a function some spout fetched within `serve_window_ns`
 * (GALE_DRPC_SERVE_WINDOW_NS, 10 s; spouts poll at least every 500 ms
 * when idle). Submitting to a function nobody serves fails at once.
 *
 * Not thread-safe: the server calls it under its lock.
 */
#ifndef GALE_DRPC_BOOK_H
#define GALE_DRPC_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "gale/gale.h"

#define GALE_DRPC_SERVE_WINDOW_NS (10LL * 1000000000LL)
/* Functions the book remembers at once (an adversary fetching random
 * names must not grow it without bound). */
#define GALE_DRPC_MAX_FUNCTIONS 1024

typedef struct gale__drpc_fn gale__drpc_fn_t;

typedef struct gale__drpc_req {
    uint64_t id;
    char *function; /* owned */
    char *args;     /* owned, NUL-terminated */
    int64_t deadline_ns;
    int64_t submit_ns;
    bool fetched;
    void *waiter; /* the caller's: who to answer */
    /* links: all requests in submit order (= deadline order), the
     * function's queue while queued, the id hash chain */
    struct gale__drpc_req *all_prev, *all_next;
    struct gale__drpc_req *q_prev, *q_next;
    struct gale__drpc_req *h_next;
    gale__drpc_fn_t *fn;
} gale__drpc_req_t;

typedef struct gale__drpc_book gale__drpc_book_t;

/**
 * @brief A new book. max_pending bounds the requests alive at once;
 * timeout_ns is every request's life; id_base is added to a counter
 * (1, 2, ...) to make ids (the server picks a random base per run, so an
 * id of an earlier run is unknown to a new one). NULL on out of memory.
 */
gale__drpc_book_t *gale__drpc_book_new(size_t max_pending, int64_t timeout_ns,
                                       int64_t serve_window_ns, uint64_t id_base);
/** @brief Free the book and every request still in it (answer them first). */
void gale__drpc_book_destroy(gale__drpc_book_t *b);

/**
 * @brief Queue a request for function. 0 and *out (owned by the book);
 * GALE_ENOENT: no spout fetched for function within the serve window;
 * GALE_EFULL: max_pending requests are waiting; GALE_ENOMEM. err gets
 * the line for the client on every error.
 */
int gale__drpc_book_submit(gale__drpc_book_t *b, const char *function, const char *args,
                           int64_t now, void *waiter, gale__drpc_req_t **out, char *err,
                           size_t errlen);

/**
 * @brief A spout fetches for function: marks it served and hands out its
 * oldest queued request (*out, still owned by the book, now fetched).
 * 0: *out set; GALE_ENOENT: none queued; GALE_EFULL: the book already
 * knows GALE_DRPC_MAX_FUNCTIONS functions that are served or have
 * requests; GALE_ENOMEM.
 */
int gale__drpc_book_fetch(gale__drpc_book_t *b, const char *function, int64_t now,
                          gale__drpc_req_t **out);

/** @brief Remove request id and give it to the caller; NULL when unknown (or expired). */
gale__drpc_req_t *gale__drpc_book_take(gale__drpc_book_t *b, uint64_t id);

/** @brief Remove and return one request whose deadline is <= now, or NULL. */
gale__drpc_req_t *gale__drpc_book_expired(gale__drpc_book_t *b, int64_t now);

/**
 * @brief Remove and return one request still queued (not fetched) for a
 * function no spout fetched for within serve_window_ns (its topology was
 * killed or stopped: nothing will take it before its timeout), or NULL.
 */
gale__drpc_req_t *gale__drpc_book_abandoned(gale__drpc_book_t *b, int64_t now);

/** @brief Remove and return any request (stopping), or NULL when empty. */
gale__drpc_req_t *gale__drpc_book_any(gale__drpc_book_t *b);

/** @brief The earliest deadline of a pending request, or INT64_MAX. */
int64_t gale__drpc_book_next_deadline(const gale__drpc_book_t *b);

size_t gale__drpc_book_pending(const gale__drpc_book_t *b);
/** @brief Functions the book knows (served recently or with requests). */
size_t gale__drpc_book_functions(const gale__drpc_book_t *b);

/** @brief Free a request the book gave away (take, expired, any). NULL is fine. */
void gale__drpc_req_free(gale__drpc_req_t *r);

#endif
