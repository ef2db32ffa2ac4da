/*
 * logviewer.c — the HTTP side of the log viewer (the API is in
 * logviewer.h; the files side in logfiles.c).
 *
 * libmicrohttpd with a thread per connection: a follow long-poll simply
 * waits in its handler, checking the file's size and the stop flag every
 * 50 ms until its deadline, and costs no other client anything. The
 * connection limit and timeout bound what idle or slow clients can hold.
 * The artifacts directory is opened once; every request resolves its file
 * from that fd (logfiles.c), so even a renamed log dir cannot be escaped.
 */
#include "supervisor/logviewer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/embedded.h"
#include "common/fileio.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/text.h"
#include "supervisor/logfiles.h"

#define READ_MAX        (1u << 20) /* bytes in one read or follow answer */
#define FOLLOW_WAIT_DEF 10000      /* ms */
#define FOLLOW_WAIT_MAX 30000
#define FOLLOW_POLL_MS  50
#define SEARCH_MAX_DEF  100
#define SEARCH_MAX      1000
#define CONN_LIMIT      64
#define CONN_TIMEOUT_S  60 /* above FOLLOW_WAIT_MAX */

struct gale__logviewer {
    gale__http_t *d;
    int dirfd;
    int port;
    atomic_bool stop;
};

/* ---------- answers ---------- */

/* On every answer: a log's bytes are served as text/plain and must stay
 * text (no sniffing them into HTML), and the page runs only its own
 * scripts (no inline script, nothing from elsewhere), so a log line
 * holding markup can do nothing. */
static void safe_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                            "base-uri 'none'; form-action 'self'");
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              gale__lfbuf_t *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body->data);
        return MHD_NO;
    }
    body->data = NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    safe_headers(r);
    return gale__http_queue(c, status, r);
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error: one line of JSON, {"error": <reason>, "errorMessage": <why>},
 * as gale ui answers (every HTTP port of Gale answers errors alike). */
static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status, const char *fmt,
                                   ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{ssss}", "error", gale__http_reason(status), "errorMessage", line);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return MHD_NO;
    gale__lfbuf_t b = {0};
    gale__lfbuf_printf(&b, "%s\n", text);
    free(text);
    if (b.oom) return MHD_NO;
    return answer(c, status, "application/json", &b);
}

static enum MHD_Result answer_static(struct MHD_Connection *c, const gale__embedded_t *f) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
    safe_headers(r);
    return gale__http_queue(c, MHD_HTTP_OK, r);
}

/* ---------- parameters ---------- */

/* An optional integer query parameter within [lo, hi]; false when present
 * but not a plain decimal in range. */
static bool arg_int(struct MHD_Connection *c, const char *name, int64_t lo, int64_t hi,
                    int64_t *v) {
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!s) return true;
    if (!*s) return false;
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < lo || x > hi) return false;
    *v = x;
    return true;
}

/* Opens the file named by ?file=, or queues the error answer (*rc). */
static int open_arg(gale__logviewer_t *lv, struct MHD_Connection *c, enum MHD_Result *rc) {
    const char *rel = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "file");
    if (!rel || !*rel) {
        *rc = answer_text(c, MHD_HTTP_BAD_REQUEST, "missing ?file=<path under the log dir>");
        return -1;
    }
    int fd = gale__logfiles_open(lv->dirfd, rel);
    if (fd == GALE_EINVAL)
        *rc = answer_text(c, MHD_HTTP_BAD_REQUEST,
                          "bad file path: give a path relative to the log dir, without '..' "
                          "or '.' parts");
    else if (fd < 0)
        *rc = answer_text(c, MHD_HTTP_NOT_FOUND, "no such log file (or not a regular file)");
    return fd;
}

/* ---------- endpoints ---------- */

static enum MHD_Result do_list(gale__logviewer_t *lv, struct MHD_Connection *c) {
    gale__lfbuf_t b = {0};
    const char *prefix = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "prefix");
    if (gale__logfiles_list_json(lv->dirfd, prefix, &b) != 0) {
        free(b.data);
        return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot list the log dir");
    }
    return answer(c, MHD_HTTP_OK, "application/json", &b);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result do_read(gale__logviewer_t *lv, struct MHD_Connection *c, bool follow) {
    int64_t start = 0, length = READ_MAX, wait = follow ? FOLLOW_WAIT_DEF : 0;
    if (!arg_int(c, "start", INT64_MIN, INT64_MAX, &start) ||
        !arg_int(c, "length", 0, READ_MAX, &length) ||
        (follow && !arg_int(c, "wait", 0, FOLLOW_WAIT_MAX, &wait)))
        return answer_text(c, MHD_HTTP_BAD_REQUEST,
                           "bad start, length or wait: start is a byte offset (negative: from the "
                           "end), length 0..%u, wait 0..%d ms",
                           READ_MAX, FOLLOW_WAIT_MAX);
    enum MHD_Result rc = MHD_NO;
    int fd = open_arg(lv, c, &rc);
    if (fd < 0) return rc;
    if (follow && start >= 0) {
        /* long poll: wait for bytes at start (or for the file to shrink,
         * i.e. roll, which read answers from 0) */
        int64_t deadline = now_ms() + wait;
        struct stat st;
        while (!atomic_load(&lv->stop) && fstat(fd, &st) == 0 && st.st_size == start &&
               now_ms() < deadline) {
            struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    gale__lfbuf_t b = {0};
    uint64_t off = 0, size = 0;
    int r = gale__logfiles_read(fd, start, (size_t)length, &b, &off, &size);
    close(fd);
    if (r != 0) {
        free(b.data);
        return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the log file");
    }
    uint64_t next = off + b.len;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(b.data);
        return MHD_NO;
    }
    char num[32];
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    safe_headers(resp);
    snprintf(num, sizeof num, "%llu", (unsigned long long)off);
    MHD_add_response_header(resp, "X-Gale-Offset", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)size);
    MHD_add_response_header(resp, "X-Gale-Size", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)next);
    MHD_add_response_header(resp, "X-Gale-Next", num);
    return gale__http_queue(c, MHD_HTTP_OK, resp);
}

static enum MHD_Result do_search(gale__logviewer_t *lv, struct MHD_Connection *c) {
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    int64_t max = SEARCH_MAX_DEF;
    if (!q || !*q || !arg_int(c, "max", 1, SEARCH_MAX, &max))
        return answer_text(c, MHD_HTTP_BAD_REQUEST,
                           "search needs ?q=<text> (non-empty) and an optional max 1..%d",
                           SEARCH_MAX);
    enum MHD_Result rc = MHD_NO;
    int fd = open_arg(lv, c, &rc);
    if (fd < 0) return rc;
    gale__lfbuf_t b = {0};
    int r = gale__logfiles_search_json(fd, q, (size_t)max, &b);
    close(fd);
    if (r != 0) {
        free(b.data);
        return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot search the log file");
    }
    return answer(c, MHD_HTTP_OK, "application/json", &b);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    (void)upload_data;
    (void)con_cls;
    gale__logviewer_t *lv = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        *upload_data_size = 0; /* a body is ignored, never buffered */
        return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here");
    }
    if (strcmp(url, "/api/v1/log/list") == 0) return do_list(lv, c);
    if (strcmp(url, "/api/v1/log/read") == 0) return do_read(lv, c, false);
    if (strcmp(url, "/api/v1/log/follow") == 0) return do_read(lv, c, true);
    if (strcmp(url, "/api/v1/log/search") == 0) return do_search(lv, c);
    /* the page (Storm's /api/v1/log?file=; /log and / for people typing it):
     * static, its script reads ?file= itself, so no client string is put
     * into HTML here */
    const char *page = url;
    if (strcmp(url, "/api/v1/log") == 0 || strcmp(url, "/log") == 0 || strcmp(url, "/") == 0)
        page = "/static/log.html";
    const gale__embedded_t *f = gale__embedded_find(gale__logviewer_web_files, page);
    if (f) return answer_static(c, f);
    return answer_text(c, MHD_HTTP_NOT_FOUND,
                       "unknown URL: use /api/v1/log?file=F (the page), /api/v1/log/list, "
                       "read, follow or search");
}

/* ---------- life cycle ---------- */

int gale__logviewer_start(const gale_conf_t *conf, const char *dir, int port,
                          gale__logviewer_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (!dir || !*dir) return gale__errf(err, errlen, GALE_EINVAL, "logviewer: no directory given");
    if (port < 0 || port > 65535)
        return gale__errf(err, errlen, GALE_EINVAL, "logviewer: port %d is not 0..65535", port);
    const char *host = conf ? gale_conf_get_str(conf, GALE_CONF_LOCAL_HOSTNAME, NULL) : NULL;
    if (!host || !*host) host = "127.0.0.1";

    char why[256];
    if (gale__mkdirs(dir, why, sizeof why) != 0)
        return gale__errf(err, errlen, GALE_EIO, "logviewer: %s", why);
    gale__logviewer_t *lv = calloc(1, sizeof *lv);
    if (!lv) return gale__errf(err, errlen, GALE_ENOMEM, "logviewer: out of memory");
    lv->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lv->dirfd < 0) {
        int e = errno;
        free(lv);
        return gale__errf(err, errlen, GALE_EIO, "logviewer: cannot open %s: %s", dir, strerror(e));
    }
    gale__http_opts_t ho = {.role = "logviewer",
                            .host = host,
                            .host_key = GALE_CONF_LOCAL_HOSTNAME,
                            .port = port,
                            .port_key = GALE_CONF_LOGVIEWER_PORT,
                            .conn_limit = CONN_LIMIT,
                            .per_ip = GALE__LOGVIEWER_PER_IP,
                            .timeout_s = CONN_TIMEOUT_S};
    lv->d = gale__http_start(&ho, on_request, lv, &lv->port, err, errlen);
    if (!lv->d) {
        close(lv->dirfd);
        free(lv);
        return strstr(err, "resolve") ? GALE_EINVAL : GALE_EIO;
    }
    GALE_INFO("logviewer", 0, "serving %s on http://%s:%d/api/v1/log/", dir, host, lv->port);
    *out = lv;
    return 0;
}

int gale__logviewer_port(const gale__logviewer_t *lv) {
    return lv ? lv->port : 0;
}

void gale__logviewer_stop(gale__logviewer_t *lv) {
    if (!lv) return;
    atomic_store(&lv->stop, true);
    gale__http_stop(lv->d); /* joins the connection threads */
    close(lv->dirfd);
    free(lv);
}
