/*
 * client.h — the internal DRPC client API: what `gale drpc`, the built-in
 * DRPC spout and return-results bolt, and the Trident DRPC stream use to
 * talk to DRPC servers (drpc/server.h has the semantics).
 *
 * Two halves:
 *  - gale__drpc_client_*: a DRPC client (Storm's DRPCClient): execute
 *    FUNCTION(ARGS) on one server's drpc.port and wait for the result.
 *  - gale__drpc_invoker_*: the topology side (Storm's
 *    DRPCInvocationsClient) over every server of drpc.servers on
 *    drpc.invocations.port: fetch a request for a function, return its
 *    result, or report that it failed.
 *
 * Thread-safety: each object is used by one thread at a time (each spout
 * or bolt task makes its own); different objects are independent.
 * Strings handed out are malloc'd and freed as each function says.
 */
#ifndef GALE_DRPC_CLIENT_H
#define GALE_DRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "gale/gale.h"

/* ------------------------------------------------------------------ */
/* Client: execute                                                      */
/* ------------------------------------------------------------------ */

typedef struct gale__drpc_client gale__drpc_client_t;

/** @brief A client of the server at host:port (its drpc.port). NULL + err. */
gale__drpc_client_t *gale__drpc_client_new(const char *host, int port, char *err, size_t errlen);
void gale__drpc_client_destroy(gale__drpc_client_t *c);

/**
 * @brief Run function(args) and wait for the answer: up to connect_ms to
 * reach the server, then up to wait_ms for its reply (give the server's
 * drpc.request.timeout.secs plus a margin, so the server's own timeout
 * error arrives first). 0 and *result (malloc'd, the caller frees it).
 * GALE_EIO: the server could not be reached, or went away while the
 * request waited, or did not answer in wait_ms; GALE_ESTATE: the server
 * answered with an error (unknown function, timeout, failure); err holds
 * the line to print either way.
 */
int gale__drpc_client_execute(gale__drpc_client_t *c, const char *function, const char *args,
                              int connect_ms, int wait_ms, char **result, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Invoker: fetch, result, fail                                         */
/* ------------------------------------------------------------------ */

typedef struct gale__drpc_invoker gale__drpc_invoker_t;

/* One fetched request and the server it came from (its return info). */
typedef struct gale__drpc_request {
    uint64_t id;
    char *args; /* malloc'd; gale__drpc_request_clear frees it */
    char host[256];
    int port; /* the server's drpc.invocations.port */
} gale__drpc_request_t;

/**
 * @brief An invoker for every host of conf's drpc.servers on
 * drpc.invocations.port (conf is read during the call only; a port of 0
 * is refused: give the port the server really bound). NULL + err.
 */
gale__drpc_invoker_t *gale__drpc_invoker_new(const gale_conf_t *conf, char *err, size_t errlen);
void gale__drpc_invoker_destroy(gale__drpc_invoker_t *inv);

/**
 * @brief Ask the servers in turn (from where the last call stopped) for
 * a request of function; returns at the first one that has one. 0 and
 * *out (clear it with gale__drpc_request_clear); GALE_ENOENT: none
 * waiting; GALE_EIO: no server could be asked (err says which). A server
 * that did not answer is skipped for a few seconds. Each ask waits at
 * most GALE_DRPC_INVOKE_TIMEOUT_MS.
 */
int gale__drpc_invoker_fetch(gale__drpc_invoker_t *inv, const char *function,
                             gale__drpc_request_t *out, char *err, size_t errlen);
void gale__drpc_request_clear(gale__drpc_request_t *r);

/**
 * @brief Return result (len bytes, no NUL bytes) for request id to the
 * server at host:port (any server, not only drpc.servers: the return
 * info names it). 0 once the server took it; GALE_EIO (unreachable),
 * GALE_EINVAL (too long, NUL byte) with err.
 */
int gale__drpc_invoker_result(gale__drpc_invoker_t *inv, const char *host, int port, uint64_t id,
                              const char *result, size_t len, char *err, size_t errlen);
/** @brief Tell the server request id failed (why: one line). Same returns. */
int gale__drpc_invoker_fail(gale__drpc_invoker_t *inv, const char *host, int port, uint64_t id,
                            const char *why, char *err, size_t errlen);

#define GALE_DRPC_INVOKE_TIMEOUT_MS 2000

#endif
