/*
 * http_get.h — a small HTTP/1.1 GET client over a TCP socket, for `gale
 * logs` reading the supervisors' log viewers (supervisor/logviewer.c).
 *
 * Why not libcurl: the log viewer API is a handful of GETs answered with
 * a Content-Length body and three X-Gale-* headers; a hundred lines here
 * cost less than one more build and runtime dependency on every machine
 * that runs the CLI. One request per connection (Connection: close), no
 * TLS (the log viewer serves plain HTTP, DESIGN §8), no redirects, no
 * chunked bodies (the log viewer never sends them).
 */
#ifndef GALE_COMMON_HTTP_GET_H
#define GALE_COMMON_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

#define GALE_HTTP_MAX_RESPONSE (4u << 20) /* bytes of one whole response */

typedef struct gale__http_resp {
    int status;           /* 200, 404, ... */
    char *body;           /* NUL-terminated (malloc'd); free with gale__http_resp_free */
    size_t len;           /* bytes of body */
    int64_t next;         /* X-Gale-Next, -1 when absent */
    int64_t offset, size; /* X-Gale-Offset, X-Gale-Size, -1 when absent */
} gale__http_resp_t;

/**
 * @brief GET path (with its query, already escaped) from host:port, the
 * whole exchange within timeout_ms. Returns 0 with *out filled (any
 * status), GALE_EIO when the server cannot be reached or the answer did
 * not come in time (err says which, naming host:port), GALE_EPROTO for an
 * answer that is not HTTP this client reads. *out is freed on error.
 * Interrupted by a signal: GALE_EIO with "interrupted".
 */
int gale__http_get(const char *host, int port, const char *path, int timeout_ms,
                   gale__http_resp_t *out, char *err, size_t errlen);
void gale__http_resp_free(gale__http_resp_t *r);

/**
 * @brief Open and close at once a TCP connection to host:port, within
 * timeout_ms: 0, or GALE_EIO with why (connection refused, timed out,
 * cannot resolve) in err. The CLI asks it of nimbus before its first
 * call: a ZeroMQ socket connects in the background and tells a refused
 * connection only by the reply's timeout.
 */
int gale__tcp_probe(const char *host, int port, int timeout_ms, char *err, size_t errlen);

#endif
