/*
 * test_logviewer.c — the supervisor's log viewer (supervisor/logviewer.c,
 * logfiles.c) over real HTTP: requests are written by hand on a socket,
 * so garbage and traversal attempts reach the server exactly as sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/logviewer.h"

typedef struct fx {
    char dir[64];
    char sub[128]; /* dir/topo-1-100/6700 */
    gale__logviewer_t *lv;
    int port;
} fx_t;

typedef struct resp {
    int status; /* 0: no status line (closed or garbage) */
    char *raw;  /* whole answer */
    size_t len;
    const char *body;
    size_t body_len;
} resp_t;

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void append_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gale-test-lv.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char p[256];
    snprintf(p, sizeof p, "%s/topo-1-100", f->dir);
    mkdir(p, 0755);
    snprintf(f->sub, sizeof f->sub, "%s/topo-1-100/6700", f->dir);
    mkdir(f->sub, 0755);
    snprintf(p, sizeof p, "%s/worker.log", f->sub);
    write_file(p, "0123456789\nan ERROR here\nfine\nanother ERROR\n");
    snprintf(p, sizeof p, "%s/worker.log.1", f->sub);
    write_file(p, "old\n");
    /* a secret outside the served dir, and symlinks pointing at it */
    snprintf(p, sizeof p, "%s.secret", f->dir);
    write_file(p, "SECRET\n");
    char link[256];
    snprintf(link, sizeof link, "%s/evil", f->sub);
    if (symlink(p, link) != 0) return -1;
    snprintf(link, sizeof link, "%s/dirlink", f->dir);
    if (symlink("/etc", link) != 0) return -1;
    char err[256] = "";
    if (gale__logviewer_start(NULL, f->dir, 0, &f->lv, err, sizeof err) != 0) {
        fprintf(stderr, "start: %s\n", err);
        return -1;
    }
    f->port = gale__logviewer_port(f->lv);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    gale__logviewer_stop(f->lv);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.secret'", f->dir, f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* A connection to the viewer on 127.0.0.1 from source address src
 * (host order; 0: the kernel's choice). */
static int connect_from(uint32_t src, int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    if (src) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        me.sin_addr.s_addr = htonl(src);
        assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof me), 0);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
    return s;
}

static int connect_to(int port) {
    return connect_from(0, port);
}

/* Read until the server closes (requests say Connection: close) or, for
 * garbage that leaves the server waiting for more, until idle_ms pass. */
static void read_until(int s, resp_t *r, int idle_ms) {
    size_t cap = 4096;
    r->raw = malloc(cap);
    r->len = 0;
    for (;;) {
        struct pollfd pf = {s, POLLIN, 0};
        if (poll(&pf, 1, idle_ms) <= 0) break;
        if (r->len + 1024 > cap) r->raw = realloc(r->raw, cap *= 2);
        ssize_t n = recv(s, r->raw + r->len, cap - r->len - 1, 0);
        if (n <= 0) break;
        r->len += (size_t)n;
    }
    r->raw[r->len] = '\0';
    r->status = 0;
    sscanf(r->raw, "HTTP/1.%*d %d", &r->status);
    char *b = strstr(r->raw, "\r\n\r\n");
    r->body = b ? b + 4 : r->raw + r->len;
    r->body_len = (size_t)(r->raw + r->len - r->body);
}

static void read_all(int s, resp_t *r) {
    read_until(s, r, 40000); /* only a hang guard */
}

static resp_t raw_request(int port, const void *bytes, size_t n, int idle_ms) {
    int s = connect_to(port);
    assert_int_equal(send(s, bytes, n, MSG_NOSIGNAL), (ssize_t)n);
    resp_t r;
    read_until(s, &r, idle_ms);
    close(s);
    return r;
}

static resp_t get(int port, const char *target) {
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target);
    return raw_request(port, req, (size_t)n, 40000);
}

static const char *header(const resp_t *r, const char *name, char *buf, size_t cap) {
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *h = strcasestr(r->raw, key);
    if (!h || h > r->body) return NULL;
    h += strlen(key);
    size_t n = strcspn(h, "\r");
    if (n >= cap) n = cap - 1;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return buf;
}

static void body_is(const resp_t *r, const char *want) {
    assert_int_equal(r->body_len, strlen(want));
    assert_memory_equal(r->body, want, r->body_len);
}

static void test_list(void **state) {
    fx_t *f = *state;
    resp_t r = get(f->port, "/api/v1/log/list");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"path\":\"topo-1-100/6700/worker.log\""));
    assert_non_null(strstr(r.body, "\"path\":\"topo-1-100/6700/worker.log.1\""));
    assert_null(strstr(r.body, "evil"));    /* symlinks are not listed */
    assert_null(strstr(r.body, "dirlink")); /* nor followed */
    assert_null(strstr(r.body, "passwd"));
    free(r.raw);
    r = get(f->port, "/api/v1/log/list?prefix=topo-2");
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "worker.log"));
    free(r.raw);
}

static void test_read_ranges(void **state) {
    fx_t *f = *state;
    char h[64];
    resp_t r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log&start=3&length=5");
    assert_int_equal(r.status, 200);
    body_is(&r, "34567");
    assert_string_equal(header(&r, "X-Gale-Offset", h, sizeof h), "3");
    assert_string_equal(header(&r, "X-Gale-Next", h, sizeof h), "8");
    assert_string_equal(header(&r, "X-Gale-Size", h, sizeof h), "44");
    free(r.raw);
    /* from the end */
    r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log&start=-6");
    assert_int_equal(r.status, 200);
    body_is(&r, "ERROR\n");
    free(r.raw);
    r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log.1&start=-999999");
    body_is(&r, "old\n");
    free(r.raw);
    /* past the end (the file rolled): from 0 */
    r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log.1&start=100");
    assert_int_equal(r.status, 200);
    body_is(&r, "old\n");
    assert_string_equal(header(&r, "X-Gale-Offset", h, sizeof h), "0");
    free(r.raw);
    /* percent-encoded path */
    r = get(f->port, "/api/v1/log/read?file=topo-1-100%2F6700%2Fworker.log.1");
    assert_int_equal(r.status, 200);
    body_is(&r, "old\n");
    free(r.raw);
}

static void test_search(void **state) {
    fx_t *f = *state;
    resp_t r = get(f->port, "/api/v1/log/search?file=topo-1-100/6700/worker.log&q=ERROR");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "{\"offset\":11,\"line\":\"an ERROR here\"}"));
    assert_non_null(strstr(r.body, "{\"offset\":30,\"line\":\"another ERROR\"}"));
    assert_non_null(strstr(r.body, "\"truncated\":false"));
    free(r.raw);
    r = get(f->port, "/api/v1/log/search?file=topo-1-100/6700/worker.log&q=ERROR&max=1");
    assert_non_null(strstr(r.body, "\"truncated\":true"));
    assert_null(strstr(r.body, "another"));
    free(r.raw);
    r = get(f->port, "/api/v1/log/search?file=topo-1-100/6700/worker.log&q=");
    assert_int_equal(r.status, 400);
    free(r.raw);
}

/* Every way out of the served dir is refused, and nothing leaks. */
/* The log page: static HTML and its script, the same bytes whatever the
 * query (nothing of the client's is put into the HTML), with the headers
 * that keep a log's markup inert. */
static void test_page(void **state) {
    fx_t *f = *state;
    char h[256];
    static const char *const pages[] = {"/api/v1/log?file=topo-1-100/6700/worker.log", "/log", "/",
                                        "/api/v1/log?file=%3Cscript%3Ealert(1)%3C/script%3E"};
    size_t first_len = 0;
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        resp_t r = get(f->port, pages[i]);
        assert_int_equal(r.status, 200);
        assert_non_null(header(&r, "Content-Type", h, sizeof h));
        assert_string_equal(h, "text/html; charset=utf-8");
        assert_non_null(header(&r, "Content-Security-Policy", h, sizeof h));
        assert_non_null(strstr(h, "default-src 'self'"));
        assert_non_null(strstr(r.body, "/static/log.js"));
        assert_null(strstr(r.body, "alert(1)"));
        if (i == 0) first_len = r.body_len;
        assert_int_equal(r.body_len, first_len);
        free(r.raw);
    }
    resp_t r = get(f->port, "/static/log.js");
    assert_int_equal(r.status, 200);
    assert_non_null(header(&r, "Content-Type", h, sizeof h));
    assert_string_equal(h, "text/javascript; charset=utf-8");
    free(r.raw);
    /* a log's bytes stay text: no sniffing them into HTML */
    r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log");
    assert_non_null(header(&r, "X-Content-Type-Options", h, sizeof h));
    assert_string_equal(h, "nosniff");
    free(r.raw);
    r = get(f->port, "/static/nope.js");
    assert_int_equal(r.status, 404);
    free(r.raw);
    /* errors: one line of JSON, as gale ui's */
    static const char *const bad[] = {"/nope", "/api/v1/log/read", "/api/v1/log/read?file=../x",
                                      "/api/v1/log/read?file=a&start=zz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get(f->port, bad[i]);
        assert_true(r.status >= 400 && r.status < 500);
        assert_non_null(header(&r, "Content-Type", h, sizeof h));
        assert_string_equal(h, "application/json");
        assert_true(r.body_len > 2 && r.body[0] == '{' && r.body[r.body_len - 1] == '\n');
        assert_ptr_equal(memchr(r.body, '\n', r.body_len), r.body + r.body_len - 1);
        assert_non_null(strstr(r.body, "\"errorMessage\":\""));
        free(r.raw);
    }
}

static void test_traversal_refused(void **state) {
    fx_t *f = *state;
    static const struct {
        const char *target;
        int status;
    } cases[] = {
        {"/api/v1/log/read?file=%2e%2e%2fx", 400},
        {"/api/v1/log/read?file=topo-1-100/../../etc/passwd", 400},
        {"/api/v1/log/read?file=topo-1-100/./6700/worker.log", 400},
        {"/api/v1/log/read?file=topo-1-100//6700/worker.log", 400},
        {"/api/v1/log/read?file=/etc/passwd", 400},
        {"/api/v1/log/read?file=%2fetc%2fpasswd", 400},
        {"/api/v1/log/read?file=..", 400},
        {"/api/v1/log/read?file=", 400},
        {"/api/v1/log/read", 400},
        {"/api/v1/log/read?file=topo-1-100/6700/evil", 404},     /* symlink to a file */
        {"/api/v1/log/read?file=dirlink/passwd", 404},           /* symlink to a dir */
        {"/api/v1/log/read?file=topo-1-100/6700", 404},          /* a directory */
        {"/api/v1/log/read?file=topo-1-100/6700/nope.log", 404}, /* missing */
        {"/api/v1/log/follow?file=topo-1-100/6700/evil&wait=0", 404},
        {"/api/v1/log/search?file=dirlink/passwd&q=root", 404},
        {"/api/v1/log/../../etc/passwd", 404},
        {"/etc/passwd", 404},
    };
    char up[200];
    snprintf(up, sizeof up, "/api/v1/log/read?file=../%s.secret", strrchr(f->dir, '/') + 1);
    resp_t r = get(f->port, up);
    assert_int_equal(r.status, 400);
    assert_null(strstr(r.raw, "SECRET"));
    free(r.raw);
    snprintf(up, sizeof up, "/api/v1/log/read?file=topo-1-100/6700/../../../%s.secret",
             strrchr(f->dir, '/') + 1);
    r = get(f->port, up);
    assert_int_equal(r.status, 400);
    assert_null(strstr(r.raw, "SECRET"));
    free(r.raw);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = get(f->port, cases[i].target);
        if (r.status != cases[i].status)
            fail_msg("%s: status %d, want %d", cases[i].target, r.status, cases[i].status);
        assert_null(strstr(r.raw, "SECRET"));
        assert_null(strstr(r.raw, "root:"));
        free(r.raw);
    }
}

static void still_serves(const fx_t *f) {
    resp_t r = get(f->port, "/api/v1/log/read?file=topo-1-100/6700/worker.log.1");
    assert_int_equal(r.status, 200);
    body_is(&r, "old\n");
    free(r.raw);
}

/* An error answer in Gale's shape: application/json, one line,
 * {"error": ..., "errorMessage": ...}. */
static void json_error_is(const resp_t *r, size_t i) {
    char type[64];
    if (!header(r, "Content-Type", type, sizeof type) || strcmp(type, "application/json") != 0)
        fail_msg("request %zu: %d not JSON: %.300s", i, r->status, r->raw);
    const char *nl = memchr(r->body, '\n', r->body_len);
    if (nl && nl + 1 != r->body + r->body_len) fail_msg("request %zu: more than one line", i);
    if (r->body_len < 2 || r->body[0] != '{' || !strstr(r->body, "\"error\":") ||
        !strstr(r->body, "\"errorMessage\":"))
        fail_msg("request %zu: not a JSON error: %.300s", i, r->body);
}

static void test_garbage(void **state) {
    fx_t *f = *state;
    static const char g0[] = "\x00\x01\x02\xff\xfe garbage\r\n\r\n"; /* has a NUL */
    static const char *const reqs[] = {
        g0,
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /api/v1/log/list HTTP/1.1\r\n\r\n", /* no Host */
        "POST /api/v1/log/list HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: "
        "close\r\n\r\nhello",
        "DELETE /api/v1/log/read?file=topo-1-100/6700/worker.log HTTP/1.1\r\nHost: "
        "x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/read?file=topo-1-100/6700/worker.log&start=abc HTTP/1.1\r\nHost: "
        "x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/read?file=topo-1-100/6700/worker.log&length=-1 HTTP/1.1\r\nHost: "
        "x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/read?file=topo-1-100/6700/worker.log&start=99999999999999999999 "
        "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/read?file=topo-1-100%00/6700/worker.log HTTP/1.1\r\nHost: "
        "x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/follow?file=topo-1-100/6700/worker.log&wait=999999 HTTP/1.1\r\nHost: "
        "x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/read?file=%zz%%%&start=&length= HTTP/1.1\r\nHost: x\r\nConnection: "
        "close\r\n\r\n",
        "GET /api/v1/log/read?file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/v1/log/list HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        "GET /api/v1/log/list HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    /* each its status (0: any) and, from 400 on, one line of JSON: the
     * malformed heads from the gate in common/http_server.c, not
     * libmicrohttpd's HTML page */
    static const int want[] = {400, 400, 505, 400, 405, 405, 400, 400,
                               400, 0,   400, 400, 400, 0,   411};
    assert_int_equal(sizeof want / sizeof want[0], sizeof reqs / sizeof reqs[0]);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        size_t n = i == 0 ? sizeof g0 - 1 : strlen(reqs[i]);
        resp_t r = raw_request(f->port, reqs[i], n, 2000);
        if (want[i] && r.status != want[i])
            fail_msg("request %zu: status %d, want %d: %.200s", i, r.status, want[i], r.raw);
        if (r.status >= 400) json_error_is(&r, i);
        free(r.raw);
        still_serves(f);
    }
    /* a header line far beyond any buffer */
    size_t big = 1 << 20;
    char *req = malloc(big + 64);
    int n = snprintf(req, 64, "GET /api/v1/log/list HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    int s = connect_to(f->port);
    send(s, req, (size_t)n + big + 4, MSG_NOSIGNAL); /* may stop early: refused */
    resp_t r;
    read_until(s, &r, 2000);
    close(s);
    assert_int_equal(r.status, 431);
    json_error_is(&r, 99);
    free(r.raw);
    free(req);
    /* a client that connects and says nothing, then goes away */
    s = connect_to(f->port);
    close(s);
    still_serves(f);
}

static void test_follow_gets_appended_bytes(void **state) {
    fx_t *f = *state;
    char p[256], h[64];
    snprintf(p, sizeof p, "%s/worker.log", f->sub);
    /* nothing new: an empty answer whose next offset is where we asked */
    resp_t r = get(f->port, "/api/v1/log/follow?file=topo-1-100/6700/worker.log&start=44&wait=0");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(header(&r, "X-Gale-Next", h, sizeof h), "44");
    free(r.raw);

    /* ask first, then append: the waiting request returns the new bytes */
    const char *req = "GET /api/v1/log/follow?file=topo-1-100/6700/worker.log&start=44&wait=20000 "
                      "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int s = connect_to(f->port);
    assert_int_equal(send(s, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    append_file(p, "new line\n");
    read_all(s, &r);
    close(s);
    assert_int_equal(r.status, 200);
    body_is(&r, "new line\n");
    assert_string_equal(header(&r, "X-Gale-Offset", h, sizeof h), "44");
    assert_string_equal(header(&r, "X-Gale-Next", h, sizeof h), "53");
    free(r.raw);
}

/* Stopping the server ends a pending follow instead of waiting it out
 * (30 s here; the bound below only tells "ended early" from "waited"). */
static void test_stop_ends_follow(void **state) {
    fx_t *f = *state;
    const char *req = "GET /api/v1/log/follow?file=topo-1-100/6700/worker.log.1&start=4"
                      "&wait=30000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int s = connect_to(f->port);
    assert_int_equal(send(s, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    still_serves(f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gale__logviewer_stop(f->lv);
    f->lv = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 25);
    resp_t r;
    read_all(s, &r); /* an answer or a closed connection, never a hang */
    close(s);
    free(r.raw);
}

static void test_start_errors(void **state) {
    fx_t *f = *state;
    char err[256] = "";
    gale__logviewer_t *lv = NULL;
    assert_int_equal(gale__logviewer_start(NULL, f->dir, f->port, &lv, err, sizeof err), GALE_EIO);
    assert_null(lv);
    assert_non_null(strstr(err, "cannot listen"));
    assert_int_equal(gale__logviewer_start(NULL, f->dir, 70000, &lv, err, sizeof err), GALE_EINVAL);
    assert_int_equal(gale__logviewer_start(NULL, "", 0, &lv, err, sizeof err), GALE_EINVAL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_str(c, "gale.local.hostname", "no-such-host.invalid");
    assert_int_equal(gale__logviewer_start(c, f->dir, 0, &lv, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "gale.local.hostname"));
    gale_conf_destroy(c);
    gale__logviewer_stop(NULL);
}

/* Starting logs one line, "serving ...": no warning from libmicrohttpd
 * about the order of its options. */
static void test_start_logs_no_warning(void **state) {
    fx_t *f = *state;
    char path[] = "/tmp/gale-test-lv-log.XXXXXX", buf[4096] = "", err[256] = "";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gale__log_set_fd(fd);
    gale__logviewer_t *lv = NULL;
    int rc = gale__logviewer_start(NULL, f->dir, 0, &lv, err, sizeof err);
    gale__logviewer_stop(lv);
    gale__log_set_fd(2);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "serving"));
    if (strstr(buf, "WARN")) fail_msg("the log viewer warned at start: %s", buf);
}

/* Slowloris from one address: it holds its share of idle half-requests;
 * one more from it is closed at once, and other addresses are served. */
static void test_one_address_cannot_take_every_connection(void **state) {
    fx_t *f = *state;
    const uint32_t greedy = 0x7f000002; /* 127.0.0.2 */
    int held[GALE__LOGVIEWER_PER_IP];
    for (int i = 0; i < GALE__LOGVIEWER_PER_IP; i++) {
        held[i] = connect_from(greedy, f->port);
        assert_int_equal(send(held[i], "GET /api/v1/log/list HTTP/1.1\r\n", 31, MSG_NOSIGNAL), 31);
    }
    int extra = connect_from(greedy, f->port);
    struct pollfd pf = {extra, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 10000), 1); /* the server's close, not a 10 s hang */
    char c;
    assert_true(recv(extra, &c, 1, 0) <= 0);
    close(extra);
    resp_t r = get(f->port, "/api/v1/log/list");
    assert_int_equal(r.status, 200);
    free(r.raw);
    for (int i = 0; i < GALE__LOGVIEWER_PER_IP; i++) close(held[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_address_cannot_take_every_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_gets_appended_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_ends_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_logs_no_warning, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
