/*
 * server.h — the DRPC server (Storm's DRPC daemon): `gale drpc-server`
 * runs one, and `gale local` runs one in-process for a topology with a
 * gale_drpc_spout (cli/local.c).
 *
 * Three ports, bound on the first host of drpc.servers ("localhost" is
 * 127.0.0.1; "0.0.0.0" binds every interface):
 *   drpc.port             ZeroMQ ROUTER: clients' drpc_execute
 *   drpc.invocations.port ZeroMQ ROUTER: spouts' drpc_fetch, bolts'
 *                         drpc_result and drpc_fail
 *   drpc.http.port        HTTP: GET /drpc/FUNCTION[/ARGS], POST /drpc/FUNCTION
 * Port 0 binds an ephemeral port; every port really bound is written to
 * <gale.local.dir>/drpc.port, drpc.invocations.port and drpc.http.port.
 *
 * Semantics: an execute waits until a bolt returns its result, a spout
 * reports it failed, or drpc.request.timeout.secs pass (then the client
 * gets "DRPC request for 'F' timed out after N s: ..."). A function no
 * spout fetched for within the last 10 s (GALE_DRPC_SERVE_WINDOW_NS) is
 * unknown: the client gets an error at once. Requests are queued per
 * function, oldest first; every spout fetching that function (any task,
 * any topology) takes from the same queue. At most
 * drpc.max.pending.requests wait at once (more are refused at once).
 * Results and failures for unknown or expired ids are ignored (a
 * rate-limited log line) and still acknowledged.
 *
 * Threads: one loop thread owns both ROUTER sockets; libmicrohttpd runs a
 * thread per HTTP connection (at most GALE_DRPC_HTTP_CONNECTIONS); the
 * request book is shared under one mutex.
 */
#ifndef GALE_DRPC_SERVER_H
#define GALE_DRPC_SERVER_H

#include <stddef.h>

#include "gale/gale.h"

#define GALE_DRPC_HTTP_CONNECTIONS 256
/* of which one client address may hold (slow or idle clients from one
 * host cannot lock every other caller out) */
#define GALE_DRPC_HTTP_PER_IP 32

typedef struct gale__drpc_server gale__drpc_server_t;

/**
 * @brief Bind the three ports, write the port files and start serving.
 * conf: the merged daemon conf (read during the call only). 0 and *out,
 * or GALE_E* with one line in err (a port in use names its key).
 * Stop with gale__drpc_server_stop. Any thread.
 */
int gale__drpc_server_start(const gale_conf_t *conf, gale__drpc_server_t **out, char *err,
                            size_t errlen);

/** @brief The ports really bound. */
int gale__drpc_server_port(const gale__drpc_server_t *s);
int gale__drpc_server_invocations_port(const gale__drpc_server_t *s);
int gale__drpc_server_http_port(const gale__drpc_server_t *s);

/** @brief Answer every waiting request with an error, stop, free. NULL is fine. */
void gale__drpc_server_stop(gale__drpc_server_t *s);

/**
 * @brief True when something accepts TCP connections on the DRPC client
 * port of conf (drpc.servers[0]:drpc.port) within timeout_ms: `gale
 * local` then uses that server instead of starting its own.
 */
bool gale__drpc_server_answers(const gale_conf_t *conf, int timeout_ms);

/** @brief The host to bind or reach from conf's drpc.servers[0] into out ("localhost" ->
 * 127.0.0.1). */
void gale__drpc_first_host(const gale_conf_t *conf, char *out, size_t outlen);

/** @brief `gale drpc-server`: log to <gale.log.dir>/drpc.log, serve until SIGTERM/SIGINT. */
int gale__drpc_server_run(const gale_conf_t *conf);

#endif
