/*
 * http_server.h — every HTTP server of Gale is started here (DESIGN §10
 * "One way in": one helper per role for HTTP sockets), so the bind
 * address, connection limits and the logger are set in one place: the
 * supervisor's log viewer and `gale ui`.
 *
 * libmicrohttpd with a thread per connection, bound to one address
 * (loopback unless configured, §8), at most conn_limit connections of
 * which per_ip from one client address (one host holding idle
 * connections cannot lock others out), idle connections closed after
 * timeout_s, request bodies bounded by the handlers themselves.
 */
#ifndef GALE_COMMON_HTTP_SERVER_H
#define GALE_COMMON_HTTP_SERVER_H

#include <microhttpd.h>
#include <stddef.h>

typedef struct gale__http_opts {
    const char *role;     /* "logviewer", "ui": names it in messages and log lines */
    const char *host;     /* numeric address or name to bind */
    const char *host_key; /* the config key of the host, for the error message */
    int port;             /* 0: any free port */
    const char *port_key; /* the config key of the port, for the error message */
    unsigned conn_limit, per_ip, timeout_s;
    MHD_RequestCompletedCallback done; /* per-request cleanup, or NULL */
    size_t mem_limit; /* bytes of one connection's request line, headers and buffers; 0 = 32 KiB */
} gale__http_opts_t;

/**
 * @brief Start serving with handler cb(cls, ...). The port really bound
 * goes to *bound. NULL with one line in err (cannot resolve, port in use).
 * Stop with MHD_stop_daemon (it joins the connection threads).
 */
struct MHD_Daemon *gale__http_start(const gale__http_opts_t *o, MHD_AccessHandlerCallback cb,
                                    void *cls, int *bound, char *err, size_t errlen);

#endif
