/*
 * http_server.h — every HTTP server of Gale is started here (DESIGN §10
 * "One way in": one helper per role for HTTP sockets), so the bind
 * address, connection limits, the logger and the refusal of bad requests
 * are set in one place: the supervisor's log viewer, `gale ui` and the
 * DRPC server's HTTP port.
 *
 * libmicrohttpd with a thread per connection, bound to one address
 * (loopback unless configured, §8), at most conn_limit connections of
 * which per_ip from one client address (each bound holds apart for the
 * heads waiting in the gate and for the connections libmicrohttpd
 * serves), idle connections closed after timeout_s, request bodies
 * bounded by the handlers themselves.
 *
 * A gate in front of libmicrohttpd (http_server.c) reads each request's
 * head first: what libmicrohttpd would refuse with its own HTML page
 * (malformed request line, bad version, over-long URI or headers, no
 * Host, chunked bodies) is refused by the gate with a one-line JSON error
 * in Gale's shape, {"error": <reason>, "errorMessage": <why>}. So that
 * every request passes the gate, a connection serves one request: answer
 * with gale__http_queue, which says "Connection: close".
 */
#ifndef GALE_COMMON_HTTP_SERVER_H
#define GALE_COMMON_HTTP_SERVER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Gale's own bounds on a request head, enforced by the gate. */
#define GALE_HTTP_HEAD_MAX   (32 * 1024) /* request line and headers, bytes (431) */
#define GALE_HTTP_URI_MAX    (16 * 1024) /* the request target, bytes (414) */
#define GALE_HTTP_FIELDS_MAX 200         /* header lines + query arguments + cookies (431) */

typedef struct gale__http_opts {
    const char *role;     /* "logviewer", "ui", "drpc": names it in messages and log lines */
    const char *host;     /* numeric address or name to bind */
    const char *host_key; /* the config key of the host, for the error message */
    int port;             /* 0: any free port */
    const char *port_key; /* the config key of the port, for the error message */
    unsigned conn_limit, per_ip, timeout_s; /* per_ip 0: no cap per client address */
    bool per_ip_off_on_loopback;            /* no per_ip cap when bound to a loopback address */
    MHD_RequestCompletedCallback done;      /* per-request cleanup, or NULL */
    void *(*uri_log)(void *cls, const char *uri, struct MHD_Connection *c); /* or NULL */
    size_t stack_size; /* of a connection thread; 0: the default */
} gale__http_opts_t;

typedef struct gale__http gale__http_t;

/**
 * @brief Start serving with handler cb(cls, ...) (and uri_log(cls, ...)).
 * The port really bound goes to *bound. NULL with one line in err (cannot
 * resolve, port in use). Stop with gale__http_stop.
 */
gale__http_t *gale__http_start(const gale__http_opts_t *o, MHD_AccessHandlerCallback cb, void *cls,
                               int *bound, char *err, size_t errlen);

/** @brief Stop the gate, then libmicrohttpd (it joins the connection threads). NULL: nothing. */
void gale__http_stop(gale__http_t *h);

/**
 * @brief MHD_queue_response with "Connection: close" (every request is
 * gated, see above), then MHD_destroy_response(r). r NULL: MHD_NO.
 */
enum MHD_Result gale__http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);

/* What the gate makes of the bytes of a request head seen so far. */
typedef struct gale__http_verdict {
    unsigned status; /* 0: needs more bytes; 200: pass it to libmicrohttpd; else the refusal */
    const char *why; /* the refusal's errorMessage (a static string) */
} gale__http_verdict_t;

/**
 * @brief Check the first n bytes a client sent (eof: it sends no more).
 * Pure, any thread; the request parser Gale itself writes (fuzzed by
 * tests/fuzz/fuzz_http_head.c).
 */
gale__http_verdict_t gale__http_head_check(const char *p, size_t n, bool eof);

/** @brief The reason phrase of a status ("Bad Request"), "Error" for others. */
const char *gale__http_reason(unsigned status);

#endif
