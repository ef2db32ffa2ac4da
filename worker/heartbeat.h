/*
 * heartbeat.h — a cluster worker's liveness link to its supervisor
 * (DESIGN §10 "Liveness", cluster contract): a DEALER connected to the
 * supervisor's ROUTER, sending worker_heartbeat and reading the replies.
 * Used by the worker's main thread only.
 */
#ifndef GALE_WORKER_HEARTBEAT_H
#define GALE_WORKER_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/control.h"

typedef struct gale__hb gale__hb_t;

/**
 * @brief The supervisor's endpoint: the one line of L/supervisor/endpoint
 * when that file exists, else ipc://L/supervisor/sock. 0 or GALE_E* + err.
 */
int gale__hb_endpoint(const char *local_dir, char *out, size_t cap, char *err, size_t errlen);

/** @brief Connect to endpoint (no wait: the peer may come later). */
int gale__hb_open(const char *endpoint, gale__hb_t **out, char *err, size_t errlen);
/** @brief The ZeroMQ socket, for zmq_poll (POLLIN = replies waiting). */
void *gale__hb_socket(gale__hb_t *h);
/** @brief Send one heartbeat: true if queued, false when dropped (no
 * supervisor connected right now, e.g. still connecting at start). */
bool gale__hb_send(gale__hb_t *h, const gale__ctl_worker_heartbeat_t *m);
/** @brief Read the replies waiting; the number of well-formed replies to
 * our heartbeats (a refusal is logged, and still proves the supervisor
 * is alive). Garbage is logged and dropped. */
int gale__hb_recv(gale__hb_t *h);
void gale__hb_close(gale__hb_t *h);

#endif
