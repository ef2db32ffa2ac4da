/*
 * http_get.c — see http_get.h. Non-blocking connect and poll(2) against
 * one deadline, so a host that drops packets costs at most the timeout.
 */
#include "common/http_get.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gale/gale.h"

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 EINTR/error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, (int)left);
    return r < 0 ? -1 : r;
}

static int connect_to(const char *host, int port, int family, int64_t deadline, char *err,
                      size_t errlen) {
    struct addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0 || !ai)
        return gale__errf(err, errlen, GALE_EIO, "cannot resolve %s: %s", host, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return gale__errf(err, errlen, GALE_EIO, "socket: %s", strerror(errno));
    }
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (r != 0 && errno == EINPROGRESS) {
        int w = wait_fd(fd, POLLOUT, deadline);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (w <= 0) {
            close(fd);
            return gale__errf(err, errlen, GALE_EIO, "%s",
                              w == 0 ? "connect timed out" : "interrupted");
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        errno = soerr;
        r = soerr ? -1 : 0;
    }
    if (r != 0) {
        int e = errno;
        close(fd);
        return gale__errf(err, errlen, GALE_EIO, "%s", strerror(e));
    }
    return fd;
}

int gale__tcp_probe(const char *host, int port, int timeout_ms, char *err, size_t errlen) {
    /* IPv4, as ZeroMQ's tcp transport (ZMQ_IPV6 off) resolves the host */
    int fd = connect_to(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, port, AF_INET,
                        now_ms() + timeout_ms, err, errlen);
    if (fd < 0) return fd;
    close(fd);
    return 0;
}

/* The integer value of header name in the header block, or -1. */
static int64_t header_int(const char *head, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            char *end;
            long long v = strtoll(p + 3 + n, &end, 10);
            return v >= 0 ? v : -1;
        }
    }
    return -1;
}

static bool header_has(const char *head, const char *name, const char *value) {
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ') v++;
            return strncasecmp(v, value, strlen(value)) == 0;
        }
    }
    return false;
}

void gale__http_resp_free(gale__http_resp_t *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int gale__http_get(const char *host, int port, const char *path, int timeout_ms,
                   gale__http_resp_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t deadline = now_ms() + timeout_ms;
    int fd = connect_to(host, port, AF_UNSPEC, deadline, err, errlen);
    if (fd < 0) return fd;
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                     "User-Agent: gale\r\n\r\n",
                     path, host, port);
    if (n < 0 || (size_t)n >= sizeof req) {
        close(fd);
        return gale__errf(err, errlen, GALE_EPROTO, "request path too long");
    }
    for (int sent = 0; sent < n;) {
        ssize_t w = send(fd, req + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r > 0) continue;
            close(fd);
            return gale__errf(err, errlen, GALE_EIO, "%s",
                              r == 0 ? "send timed out" : "interrupted");
        }
        if (w < 0) {
            int e = errno;
            close(fd);
            return gale__errf(err, errlen, GALE_EIO, "send: %s", strerror(e));
        }
        sent += (int)w;
    }
    /* read to EOF (Connection: close) or to Content-Length */
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap + 1);
    int rc = 0;
    const char *why = NULL;
    size_t body_at = 0;
    int64_t clen = -1;
    while (buf) {
        if (body_at && clen >= 0 && len >= body_at + (size_t)clen) break;
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r == 0) break;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w > 0) continue;
            rc = GALE_EIO, why = w == 0 ? "no answer in time" : "interrupted";
            break;
        }
        if (r < 0) {
            rc = GALE_EIO, why = strerror(errno);
            break;
        }
        len += (size_t)r;
        buf[len] = '\0';
        if (!body_at) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                body_at = (size_t)(end - buf) + 4;
                *end = '\0'; /* the header block alone, for the lookups */
                clen = header_int(buf, "Content-Length");
                if (header_has(buf, "Transfer-Encoding", "chunked")) {
                    rc = GALE_EPROTO, why = "chunked answers are not read here";
                    break;
                }
                if (strncmp(buf, "HTTP/1.", 7) != 0 || strlen(buf) < 12) {
                    rc = GALE_EPROTO, why = "not an HTTP answer";
                    break;
                }
                out->status = atoi(buf + 9);
                out->next = header_int(buf, "X-Gale-Next");
                out->offset = header_int(buf, "X-Gale-Offset");
                out->size = header_int(buf, "X-Gale-Size");
            }
        }
        if (len == cap) {
            if (cap >= GALE_HTTP_MAX_RESPONSE) {
                rc = GALE_EPROTO, why = "answer too large";
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    close(fd);
    if (!buf) return gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
    if (!rc && !body_at) rc = GALE_EPROTO, why = "the connection closed before the headers ended";
    if (!rc && clen >= 0 && len < body_at + (size_t)clen)
        rc = GALE_EPROTO, why = "the connection closed before the body ended";
    if (rc) {
        free(buf);
        return gale__errf(err, errlen, rc, "%s", why);
    }
    size_t blen = clen >= 0 ? (size_t)clen : len - body_at;
    memmove(buf, buf + body_at, blen);
    buf[blen] = '\0';
    out->body = buf;
    out->len = blen;
    return 0;
}
