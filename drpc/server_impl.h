/*
 * server_impl.h — what server.c (the ZeroMQ loop) and http.c (the HTTP
 * front) share: the server struct, the waiter of one request, and
 * submit/complete under the lock.
 */
#ifndef GALE_DRPC_SERVER_IMPL_H
#define GALE_DRPC_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/ctl_socket.h"
#include "common/http_server.h"
#include "drpc/book.h"
#include "drpc/server.h"

/* How a request ended, for the waiter (HTTP maps these to statuses). */
typedef enum drpc_outcome {
    DRPC_DONE = 0, /* text = the result */
    DRPC_UNKNOWN,  /* no topology serves the function (404) */
    DRPC_TIMEOUT,  /* 504 */
    DRPC_FAILED,   /* the topology failed it (500) */
    DRPC_BUSY,     /* too many pending, or stopping (503) */
    DRPC_ERROR     /* out of memory and such (500) */
} drpc_outcome_t;

typedef enum waiter_kind { WAIT_ZMQ, WAIT_HTTP } waiter_kind_t;

typedef struct drpc_waiter {
    waiter_kind_t kind;
    /* WAIT_ZMQ: who asked, answered by the loop thread; heap, freed on completion */
    gale__ctl_peer_t peer;
    uint64_t req;
    /* WAIT_HTTP: on the HTTP thread's stack; the loop fills these and signals */
    pthread_cond_t cv;
    bool done;
    drpc_outcome_t outcome;
    char *text; /* result or error, malloc'd, the HTTP thread frees it */
} drpc_waiter_t;

struct gale__drpc_server {
    void *zctx, *clients, *invocations; /* the two ROUTERs: loop thread only */
    gale__http_t *http;
    pthread_t loop;
    bool loop_started;
    atomic_bool stop;
    pthread_mutex_t lock; /* guards book and stopping */
    gale__drpc_book_t *book;
    bool stopping;
    int64_t timeout_s;
    int port, inv_port, http_port;
    char host[256];
};

/**
 * @brief Queue a request (locks). 0: queued, the waiter is answered later
 * through drpc_complete; otherwise the outcome (UNKNOWN, BUSY, ERROR) with
 * the client's line in err, and nothing was queued.
 */
drpc_outcome_t gale__drpc_submit(gale__drpc_server_t *s, const char *function, const char *args,
                                 drpc_waiter_t *w, uint64_t *id, char *err, size_t errlen);

/** @brief Answer r's waiter and free r. Called with s->lock held, on the loop thread. */
void gale__drpc_complete(gale__drpc_server_t *s, gale__drpc_req_t *r, drpc_outcome_t o,
                         const char *text);

/* http.c */
int gale__drpc_http_start(gale__drpc_server_t *s, int port, char *err, size_t errlen);
void gale__drpc_http_stop(gale__drpc_server_t *s);

#endif
