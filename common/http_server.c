/*
 * http_server.c — see http_server.h.
 *
 * Why a gate: libmicrohttpd refuses some requests before any handler of
 * ours runs (a request line or headers over its connection memory: 414 or
 * 431; a malformed request line, a missing Host: 400; an unknown version:
 * 505; a broken chunked body: 400) and answers those with its own HTML
 * page, which no option replaces. So Gale owns the listening socket: one
 * gate thread per server accepts, peeks (MSG_PEEK, the bytes stay queued)
 * at the request head until it is complete, checks it with rules at least
 * as strict as libmicrohttpd's (gale__http_head_check), and either answers
 * the refusal itself as one line of JSON or hands the socket, bytes
 * unread, to libmicrohttpd (MHD_add_connection). libmicrohttpd's memory
 * per connection (MHD_MEM) is well above what the gate lets through, so
 * it never runs out on a head the gate passed. Chunked bodies are refused
 * (411: Gale's bodies are small, send Content-Length), so libmicrohttpd
 * never parses one. A connection carries one request (gale__http_queue
 * closes it), so no second request reaches libmicrohttpd ungated.
 *
 * While a head is incomplete the gate waits for more bytes with
 * SO_RCVLOWAT (poll reports the socket readable only once more than the
 * bytes already seen are queued), at most HEAD_MS; the pending heads are
 * bounded like connections (conn_limit, per_ip).
 */
#include "common/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define MHD_MEM    (128 * 1024) /* libmicrohttpd's pool per connection: 4 x HEAD_MAX */
#define HEAD_MS    10000        /* to send a whole request head */
#define DRAIN_MS   2000         /* after a refusal, read what the client still sends */
#define DRAIN_MAX  (1u << 20)   /* ... at most this much, then close */
#define METHOD_MAX 32

/* ---------- the head check ---------- */

#define VERDICT(s, w) ((gale__http_verdict_t){(s), (w)})

static bool tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_is(const char *p, size_t n, const char *name) {
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* METHOD SP TARGET SP HTTP/d.d, the CRLF cut off. */
static gale__http_verdict_t request_line(const char *p, size_t n, bool *v11, unsigned *fields) {
    size_t m = 0;
    while (m < n && tchar((unsigned char)p[m])) m++;
    if (m == 0 || m == n || p[m] != ' ')
        return VERDICT(400, "the request line is not METHOD SP TARGET SP HTTP/1.1");
    if (m > METHOD_MAX) return VERDICT(400, "the method is over 32 bytes");
    size_t t = m + 1, i = t;
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f) i++;
    if (i - t > GALE_HTTP_URI_MAX) return VERDICT(414, "the request target is over 16 KiB");
    if (i == t || i == n || p[i] != ' ')
        return VERDICT(400, "the request target is empty or holds a space, a control byte or a "
                            "non-ASCII byte (percent-encode it)");
    const char *q = memchr(p + t, '?', i - t);
    if (q)
        for (*fields += 1; q < p + i; q++) *fields += *q == '&';
    const char *v = p + i + 1;
    size_t vn = n - i - 1;
    if (vn != 8 || strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return VERDICT(400, "the request line does not end with HTTP/1.1 or HTTP/1.0");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return VERDICT(505, "only HTTP/1.1 and HTTP/1.0 are served");
    *v11 = v[7] == '1';
    return VERDICT(200, NULL);
}

typedef struct head_seen {
    unsigned hosts, lengths, fields;
} head_seen_t;

/* NAME: VALUE, the CRLF cut off. */
static gale__http_verdict_t header_line(const char *p, size_t n, head_seen_t *s) {
    if (p[0] == ' ' || p[0] == '\t')
        return VERDICT(400, "a header line starts with white space (line folding is obsolete)");
    size_t m = 0;
    while (m < n && tchar((unsigned char)p[m])) m++;
    if (m == 0 || m == n || p[m] != ':') return VERDICT(400, "a header line is not NAME: VALUE");
    for (size_t i = m + 1; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return VERDICT(400, "a header value holds a control byte");
    }
    const char *v = p + m + 1, *e = p + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
    s->fields++;
    if (name_is(p, m, "Host")) {
        s->hosts++;
    } else if (name_is(p, m, "Content-Length")) {
        if (++s->lengths > 1) return VERDICT(400, "more than one Content-Length header");
        if (v == e || e - v > 15) return VERDICT(400, "Content-Length is not a decimal number");
        for (const char *d = v; d < e; d++)
            if (*d < '0' || *d > '9') return VERDICT(400, "Content-Length is not a decimal number");
    } else if (name_is(p, m, "Transfer-Encoding")) {
        return VERDICT(411, "Transfer-Encoding is not accepted: send the body with Content-Length");
    } else if (name_is(p, m, "Cookie")) {
        for (const char *d = v; d < e; d++) s->fields += *d == ';';
    }
    if (s->fields > GALE_HTTP_FIELDS_MAX)
        return VERDICT(431, "over 200 header lines, query arguments and cookies");
    return VERDICT(200, NULL);
}

gale__http_verdict_t gale__http_head_check(const char *p, size_t n, bool eof) {
    head_seen_t s = {0};
    bool v11 = false;
    size_t pos = 0;
    for (unsigned line = 0;; line++) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        if (!nl) break;
        size_t end = (size_t)(nl - p);
        if (end == pos || p[end - 1] != '\r') return VERDICT(400, "a line does not end with CRLF");
        size_t len = end - 1 - pos;
        if (end + 1 > GALE_HTTP_HEAD_MAX)
            return VERDICT(431, "the request line and headers are over 32 KiB");
        gale__http_verdict_t v;
        if (line == 0)
            v = len ? request_line(p + pos, len, &v11, &s.fields)
                    : VERDICT(400, "an empty line where the request line should be");
        else if (len == 0)
            return v11 && s.hosts != 1 ? VERDICT(400, "an HTTP/1.1 request needs one Host header")
                   : s.hosts > 1       ? VERDICT(400, "more than one Host header")
                                       : VERDICT(200, NULL);
        else
            v = header_line(p + pos, len, &s);
        if (v.status != 200) return v;
        pos = end + 1;
    }
    /* the head is not complete yet */
    if (pos == 0 && n > GALE_HTTP_URI_MAX + METHOD_MAX + 16) {
        const char *sp = memchr(p, ' ', n < METHOD_MAX + 1 ? n : METHOD_MAX + 1);
        return sp ? VERDICT(414, "the request target is over 16 KiB")
                  : VERDICT(400, "the request line is not METHOD SP TARGET SP HTTP/1.1");
    }
    if (n > GALE_HTTP_HEAD_MAX) return VERDICT(431, "the request line and headers are over 32 KiB");
    if (eof) return VERDICT(400, "the connection ended inside the request head");
    return VERDICT(0, NULL);
}

const char *gale__http_reason(unsigned status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Error";
    }
}

enum MHD_Result gale__http_queue(struct MHD_Connection *c, unsigned status,
                                 struct MHD_Response *r) {
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---------- the gate ---------- */

typedef struct pend {
    int fd;
    struct sockaddr_storage addr;
    socklen_t alen;
    int64_t deadline; /* monotonic ms */
    bool lowat;       /* SO_RCVLOWAT raised */
    bool draining;    /* refused: reading and dropping what the client still sends */
    size_t drained;
} pend_t;

struct gale__http {
    struct MHD_Daemon *d;
    const char *role;
    int lfd, wake[2];
    pthread_t gate;
    bool gate_started;
    unsigned per_ip, max_pend;
    pend_t *pend;
    size_t npend;
    char *buf; /* GALE_HTTP_HEAD_MAX + 1 */
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

static void set_lowat(pend_t *p, int bytes) {
    setsockopt(p->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
    p->lowat = bytes > 1;
}

/* Answer the refusal (a few hundred bytes: the socket buffer takes them),
 * then read and drop what the client still sends, so that closing with
 * unread bytes does not reset the connection before the client reads it. */
static void refuse(pend_t *p, gale__http_verdict_t v) {
    char body[512], msg[1024];
    int bn = snprintf(body, sizeof body, "{\"error\":\"%s\",\"errorMessage\":\"%s\"}\n",
                      gale__http_reason(v.status), v.why); /* static texts, nothing to escape */
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n%s",
                     v.status, gale__http_reason(v.status), bn, body);
    if (send(p->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* gone: close now */
        p->deadline = 0;
    } else {
        shutdown(p->fd, SHUT_WR);
        p->deadline = now_ms() + DRAIN_MS;
    }
    if (p->lowat) set_lowat(p, 1);
    p->draining = true;
}

/* One look at a pending connection; false when it leaves the gate. */
static bool step(gale__http_t *h, pend_t *p, short revents) {
    bool late = now_ms() >= p->deadline;
    if (p->draining) {
        char junk[4096];
        for (;;) {
            ssize_t n = recv(p->fd, junk, sizeof junk, MSG_DONTWAIT);
            if (n > 0 && (p->drained += (size_t)n) <= DRAIN_MAX) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !late) return true;
            close(p->fd);
            return false;
        }
    }
    ssize_t n = recv(p->fd, h->buf, GALE_HTTP_HEAD_MAX + 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) { /* left, said nothing */
        close(p->fd);
        return false;
    }
    gale__http_verdict_t v = VERDICT(0, NULL);
    if (n > 0) v = gale__http_head_check(h->buf, (size_t)n, (revents & (POLLRDHUP | POLLHUP)) != 0);
    if (v.status == 0) {
        if (late) {
            refuse(p, VERDICT(408, "the request head did not arrive within 10 s"));
        } else if (n > 0) {
            set_lowat(p, (int)n + 1); /* wake when more than these have come */
        }
        return true;
    }
    if (v.status != 200) {
        refuse(p, v);
        return true;
    }
    if (p->lowat) set_lowat(p, 1);
    /* libmicrohttpd owns (and closes, also on failure) the socket from here */
    MHD_add_connection(h->d, p->fd, (const struct sockaddr *)&p->addr, p->alen);
    return false;
}

static void admit(gale__http_t *h) {
    for (int k = 0; k < 64; k++) {
        pend_t p = {.alen = sizeof p.addr};
        p.fd = accept4(h->lfd, (struct sockaddr *)&p.addr, &p.alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (p.fd < 0) return;
        unsigned same = 0;
        for (size_t i = 0; i < h->npend; i++) same += same_host(&h->pend[i].addr, &p.addr);
        if (h->npend >= h->max_pend || (h->per_ip && same >= h->per_ip)) {
            close(p.fd); /* like libmicrohttpd over its limits: closed, no answer */
            continue;
        }
        p.deadline = now_ms() + HEAD_MS;
        h->pend[h->npend++] = p;
    }
}

static void *gate_main(void *arg) {
    gale__http_t *h = arg;
    struct pollfd *pf = calloc(h->max_pend + 2, sizeof *pf);
    if (!pf) return NULL;
    for (;;) {
        pf[0] = (struct pollfd){h->wake[0], POLLIN, 0};
        pf[1] = (struct pollfd){h->lfd, POLLIN, 0};
        int64_t now = now_ms(), wait = HEAD_MS;
        for (size_t i = 0; i < h->npend; i++) {
            pf[i + 2] = (struct pollfd){h->pend[i].fd, POLLIN | POLLRDHUP, 0};
            int64_t left = h->pend[i].deadline - now;
            if (left < wait) wait = left < 0 ? 0 : left;
        }
        size_t polled = h->npend;
        if (poll(pf, polled + 2, (int)wait) < 0 && errno != EINTR) break;
        if (pf[0].revents) break;
        now = now_ms();
        /* back to front: a connection leaving takes the last one's place */
        for (size_t i = polled; i-- > 0;) {
            if (!pf[i + 2].revents && now < h->pend[i].deadline) continue;
            if (!step(h, &h->pend[i], pf[i + 2].revents)) h->pend[i] = h->pend[--h->npend];
        }
        if (pf[1].revents) admit(h);
    }
    free(pf);
    return NULL;
}

/* ---------- start, stop ---------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    gale__log_vwrite(GALE_LOG_WARN, (const char *)cls, 0, fmt, ap);
}

static bool is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    return sa->sa_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

static int listen_on(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

gale__http_t *gale__http_start(const gale__http_opts_t *o, MHD_AccessHandlerCallback cb, void *cls,
                               int *bound, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", o->port);
    int gai = getaddrinfo(o->host, service, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "%s: cannot resolve %s = '%s': %s (set it to this host's address)",
                 o->role, o->host_key, o->host, gai_strerror(gai));
        return NULL;
    }
    gale__http_t *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "%s: out of memory", o->role);
        return NULL;
    }
    h->role = o->role;
    h->wake[0] = h->wake[1] = -1;
    h->per_ip = o->per_ip_off_on_loopback && is_loopback(ai->ai_addr) ? 0 : o->per_ip;
    h->max_pend = o->conn_limit;
    h->lfd = listen_on(ai);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (h->lfd < 0) {
        snprintf(err, errlen, "%s: cannot listen on %s:%d (port in use? set %s)", o->role, o->host,
                 o->port, o->port_key);
        free(h);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                     (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* the logger first: libmicrohttpd warns (through it) when it is not */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, cb, cls, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)o->role,
        MHD_OPTION_CONNECTION_LIMIT, o->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->per_ip, MHD_OPTION_NOTIFY_COMPLETED, o->done, cls,
        MHD_OPTION_URI_LOG_CALLBACK, o->uri_log, cls, MHD_OPTION_THREAD_STACK_SIZE, o->stack_size,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_MEM, MHD_OPTION_END);
    h->pend = calloc(o->conn_limit ? o->conn_limit : 1, sizeof *h->pend);
    h->buf = malloc(GALE_HTTP_HEAD_MAX + 1);
    if (!h->d || !h->pend || !h->buf || pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pthread_create(&h->gate, NULL, gate_main, h) != 0) {
        snprintf(err, errlen, "%s: cannot start the HTTP server on %s:%d", o->role, o->host,
                 o->port);
        gale__http_stop(h);
        return NULL;
    }
    h->gate_started = true;
    struct sockaddr_storage me;
    socklen_t mlen = sizeof me;
    *bound = o->port;
    if (getsockname(h->lfd, (struct sockaddr *)&me, &mlen) == 0)
        *bound = ntohs(me.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
                                                : ((struct sockaddr_in *)&me)->sin_port);
    return h;
}

void gale__http_stop(gale__http_t *h) {
    if (!h) return;
    if (h->gate_started) {
        char b = 1;
        if (write(h->wake[1], &b, 1) < 0) { /* a full pipe already wakes it */
        }
        pthread_join(h->gate, NULL);
    }
    for (size_t i = 0; i < h->npend; i++) close(h->pend[i].fd);
    if (h->lfd >= 0) close(h->lfd);
    if (h->wake[0] >= 0) close(h->wake[0]);
    if (h->wake[1] >= 0) close(h->wake[1]);
    if (h->d) MHD_stop_daemon(h->d); /* joins the connection threads */
    free(h->pend);
    free(h->buf);
    free(h);
}
