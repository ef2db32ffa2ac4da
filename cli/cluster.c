/*
 * cluster.c — the verbs that talk to nimbus: `gale jar`, `list`, `kill`,
 * `activate`, `deactivate`, `rebalance` (Storm's commands, same names),
 * and `logs`, which asks nimbus where a topology's workers are and reads
 * their worker.log from each supervisor's log viewer over HTTP.
 *
 * Each reads the config like the daemons (defaults < --config FILE <
 * -c key=value), finds nimbus at nimbus.seeds[0]:nimbus.port, and sends
 * its requests with a deadline (--timeout, default 10 s). Exit codes: 0
 * done, 1 refused or failed (one line saying why), 2 usage. With nimbus
 * down every verb says so in the same words.
 *
 * `gale jar` builds the topology in this process by calling the entry
 * function exactly as `gale local` does (gale__load_topology), so a
 * topology that `gale local` runs is the one submitted.
 */
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/ctl_socket.h"
#include "common/fileio.h"
#include "common/http_get.h"
#include "common/log.h"
#include "common/resources.h"
#include "common/text.h"

#define DEFAULT_TIMEOUT_SECS 10

/* Options every cluster verb takes (their own are added in front). */
#define COMMON_OPTS                                                                                \
    {"--config", "FILE", "gale.yaml to read (default: none)"},                                     \
        {"-c", "key=value", "override a config key (repeatable), e.g. -c nimbus.port=6627"},       \
        {"--timeout", "SECS", "give up on nimbus after this long (default 10)"}, {                 \
        NULL, NULL, NULL                                                                           \
    }

typedef struct session {
    const char *verb;
    gale_conf_t *conf;      /* defaults < yaml < -c */
    gale_conf_t *overrides; /* -c alone (jar: topology keys go to the topology conf) */
    int timeout_ms;
    char host[256];
    int port;
    void *zctx;
    gale__ctl_client_t client;
    bool probed; /* nimbus's port answered a TCP connect (call) */
    gale__opts_t o;
} session_t;

static const gale__optspec_t logs_spec;

/* `gale logs -c COMPONENT`: there -c is a component unless it holds '='
 * (component ids never do), so both uses of -c keep working. */
static bool is_component_arg(const gale__optspec_t *spec, const char *v) {
    return spec == &logs_spec && !strchr(v, '=');
}

static long parse_secs(const char *verb, const char *opt, const char *v, long max) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 0 || n > max) {
        gale__cli_error("%s: %s '%s': expected whole seconds from 0 to %ld", verb, opt, v, max);
        return -1;
    }
    return n;
}

/* Parse argv, the config and the common options. 0, or the exit code
 * (help printed: -1 with *code 0). */
static int session_open(session_t *s, const gale__optspec_t *spec, int argc, char **argv,
                        int *code) {
    char err[1024];
    memset(s, 0, sizeof *s);
    s->verb = spec->verb;
    s->timeout_ms = DEFAULT_TIMEOUT_SECS * 1000;
    *code = gale__opts_parse(spec, argc, argv, &s->o, err, sizeof err);
    if (*code) {
        gale__cli_error("%s", err);
        return -1;
    }
    if (s->o.help) {
        gale__opts_usage(stdout, spec);
        return -1;
    }
    *code = 1;
    s->conf = gale_conf_new();
    s->overrides = gale_conf_new();
    if (!s->conf || !s->overrides || gale__conf_set_defaults(s->conf)) return -1;
    const char *config = NULL;
    for (size_t i = 0; i < s->o.n_hits; i++) {
        const char *name = s->o.hits[i].opt->name, *v = s->o.hits[i].value;
        if (strcmp(name, "--config") == 0) config = v;
        if (strcmp(name, "-c") == 0 && !is_component_arg(spec, v) &&
            gale__conf_parse_kv(s->overrides, v, err, sizeof err)) {
            gale__cli_error("%s: %s", s->verb, err);
            *code = GALE__EXIT_USAGE;
            return -1;
        }
        if (strcmp(name, "--timeout") == 0) {
            long t = parse_secs(s->verb, name, v, 86400);
            if (t == 0) gale__cli_error("%s: --timeout 0: give at least 1 second", s->verb);
            if (t <= 0) {
                *code = GALE__EXIT_USAGE;
                return -1;
            }
            s->timeout_ms = (int)t * 1000;
        }
    }
    if (config && gale__conf_load_yaml(s->conf, config, err, sizeof err)) {
        gale__cli_error("%s: %s", s->verb, err);
        return -1;
    }
    gale__conf_merge(s->conf, s->overrides);
    const gale_value_t *seeds = gale_conf_get(s->conf, GALE_CONF_NIMBUS_SEEDS);
    snprintf(s->host, sizeof s->host, "localhost");
    if (seeds && seeds->type == GALE_T_ARRAY && seeds->len > 0 && seeds->u.a[0].type == GALE_T_STR)
        snprintf(s->host, sizeof s->host, "%.*s", (int)seeds->u.a[0].len, seeds->u.a[0].u.s);
    s->port = (int)gale_conf_get_int(s->conf, GALE_CONF_NIMBUS_PORT, 6627);
    if (s->port == 0) {
        /* port 0: nimbus chose one and wrote it to <gale.local.dir>/nimbus.port */
        char path[4096];
        void *buf;
        size_t n;
        snprintf(path, sizeof path, "%s/nimbus.port",
                 gale_conf_get_str(s->conf, GALE_CONF_LOCAL_DIR, "gale-local"));
        if (gale__file_read(path, 64, &buf, &n, err, sizeof err) == 0) {
            s->port = atoi(buf);
            free(buf);
        }
        if (s->port <= 0 || s->port > 65535) {
            gale__cli_error("%s: nimbus.port is 0 and %s holds no port (nimbus writes it there "
                            "when it binds port 0): give nimbus's port (-c nimbus.port=N) or "
                            "the gale.local.dir nimbus uses",
                            s->verb, path);
            return -1;
        }
    }
    char endpoint[GALE_ENDPOINT_MAX];
    gale__endpoint_tcp(endpoint, sizeof endpoint,
                       strcmp(s->host, "localhost") == 0 ? "127.0.0.1" : s->host, s->port);
    s->zctx = zmq_ctx_new();
    if (!s->zctx || gale__ctl_client_open(&s->client, s->zctx, endpoint, err, sizeof err)) {
        gale__cli_error("%s: %s", s->verb, err);
        return -1;
    }
    *code = 0;
    return 0;
}

static void session_close(session_t *s) {
    gale__ctl_client_close(&s->client);
    if (s->zctx) zmq_ctx_term(s->zctx);
    gale_conf_destroy(s->conf);
    gale_conf_destroy(s->overrides);
    gale__opts_free(&s->o);
}

/* One request; on failure print the line and return 1. On success the
 * reply is decoded and ok (a generic refusal is printed). */
static int call(session_t *s, gale__ctl_type_t type, const void *msg, gale__ctl_type_t want,
                gale__ctl_msg_t *reply) {
    char err[1024];
    /* a refused connection is told at once, not by the reply's timeout */
    int rc = s->probed ? 0 : gale__tcp_probe(s->host, s->port, s->timeout_ms, err, sizeof err);
    s->probed = rc == 0;
    if (!rc)
        rc = gale__ctl_call(&s->client, type, msg, want, s->timeout_ms, reply, err, sizeof err);
    if (rc == GALE_EIO) {
        gale__cli_error(
            "%s: cannot reach nimbus at %s:%d \xe2\x80\x94 is 'gale nimbus' running? (%s)", s->verb,
            s->host, s->port, err);
        return 1;
    }
    if (rc) {
        gale__cli_error("%s: %s", s->verb, err);
        return 1;
    }
    /* every reply type starts with ok and error */
    const char *error = NULL;
    bool ok = true;
    if (reply->type == GALE_CTL_REPLY) ok = reply->u.reply.ok, error = reply->u.reply.error;
    if (reply->type == GALE_CTL_LIST_REPLY)
        ok = reply->u.list_reply.ok, error = reply->u.list_reply.error;
    if (reply->type == GALE_CTL_ASSIGNMENT_REPLY)
        ok = reply->u.assignment_reply.ok, error = reply->u.assignment_reply.error;
    if (!ok) {
        gale__cli_error("%s: %s", s->verb, error ? error : "refused");
        gale__ctl_msg_destroy(reply);
        return 1;
    }
    if (reply->type != want) { /* ok, but generic: only `reply` verbs want that */
        gale__cli_error("%s: nimbus answered with %s", s->verb, gale__ctl_type_name(reply->type));
        gale__ctl_msg_destroy(reply);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* gale jar                                                             */
/* ------------------------------------------------------------------ */

static const gale__opt_t jar_opts[] = {
    {"--resources", "DIR",
     "upload DIR as the topology's resources (default: resources/ beside "
     "the .so, when it exists)"},
    {"--wait", NULL,
     "return once its finite spouts are done (every tuple acked), then kill it (a bounded job)"},
    COMMON_OPTS};
static const gale__optspec_t jar_spec = {
    "gale jar", "gale jar [options] <topology.so> <EntryFunction> [args...]", jar_opts,
    "the entry function"};

static int upload_part(session_t *s, const char *upload, const char *part, const uint8_t *data,
                       size_t len) {
    for (size_t off = 0; off < len;) {
        size_t n = len - off < GALE_CTL_CHUNK_MAX ? len - off : GALE_CTL_CHUNK_MAX;
        gale__ctl_submit_chunk_t c = {upload, part, off, {data + off, n}};
        gale__ctl_msg_t r;
        if (call(s, GALE_CTL_SUBMIT_CHUNK, &c, GALE_CTL_REPLY, &r)) return 1;
        gale__ctl_msg_destroy(&r);
        off += n;
    }
    return 0;
}

/* The conf sent with the topology: its own conf, then the -c keys that
 * are topology settings (daemon keys such as nimbus.port stay here). */
static gale_conf_t *submission_conf(const session_t *s, const gale__topology_t *t) {
    gale_conf_t *c = gale_conf_dup(t->conf);
    for (size_t i = 0; c && i < gale_conf_count(s->overrides); i++) {
        const gale_value_t *v;
        const char *k = gale_conf_key_at(s->overrides, i, &v);
        const gale_conf_key_t *row = gale__conf_key_find(k);
        if (!row || row->scope != GALE_SCOPE_CLUSTER) gale_conf_set(c, k, *v);
    }
    return c;
}

/* --wait gives up after this many worker restarts: a crash loop never ends */
#define WAIT_MAX_RESTARTS 5

/* --wait: poll nimbus (twice a second) until the topology is done, then
 * kill it with no wait (nothing is in flight any more). The whole list is
 * asked for: a topology killed by someone else may be gone between two
 * looks, and that is the same answer as seeing it KILLED. Each worker
 * restart is reported; after WAIT_MAX_RESTARTS it stops waiting and
 * leaves the topology running for the user to look at. */
static int wait_done(session_t *s, const char *id, const char *name) {
    uint64_t first = UINT64_MAX, seen = 0; /* restarts at the first and the last look */
    for (;;) {
        gale__ctl_list_t l = {NULL};
        gale__ctl_msg_t r;
        if (call(s, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, &r)) return 1;
        const gale__ctl_list_reply_t *lr = &r.u.list_reply;
        const gale__ctl_topology_summary_t *t = NULL;
        for (uint32_t i = 0; i < lr->topologies.n && !t; i++)
            if (strcmp(lr->topologies.items[i].id, id) == 0) t = &lr->topologies.items[i];
        bool killed = !t || strcmp(t->status, "KILLED") == 0;
        bool done = t && t->done;
        uint64_t restarts = t && t->restarts != GALE_CTL_UNSET ? t->restarts : 0;
        gale__ctl_msg_destroy(&r);
        if (first == UINT64_MAX) first = seen = restarts;
        if (restarts > seen && !done) {
            gale__cli_error("gale jar --wait: a worker of %s restarted (%llu restart(s) so far): "
                            "see 'gale logs %s'",
                            id, (unsigned long long)restarts, name);
            if (restarts - first >= WAIT_MAX_RESTARTS) {
                gale__cli_error("gale jar --wait: %s keeps crashing: stopped waiting, it is still "
                                "running; read 'gale logs %s', then 'gale kill %s'",
                                id, name, name);
                return 1;
            }
            seen = restarts;
        }
        if (killed) {
            gale__cli_error("gale jar --wait: %s was killed (gale kill) before its spouts were "
                            "done: nothing left to wait for",
                            id);
            return 1;
        }
        if (done) break;
        struct timespec ts = {0, 500000000};
        nanosleep(&ts, NULL);
    }
    gale__ctl_kill_t k = {id, 0};
    gale__ctl_msg_t r;
    if (call(s, GALE_CTL_KILL, &k, GALE_CTL_REPLY, &r)) return 1;
    gale__ctl_msg_destroy(&r);
    fprintf(stderr, "gale jar: %s is done (every tuple of its finite spouts acked): killed\n", id);
    return 0;
}

/* Topology id's row of nimbus's list, asked quietly (the caller decides
 * what a failed look means): false when nimbus did not answer with a
 * list; else *row is the row or NULL, valid until r is destroyed. */
static bool list_row(session_t *s, const char *id, gale__ctl_msg_t *r,
                     const gale__ctl_topology_summary_t **row) {
    gale__ctl_list_t l = {NULL};
    char err[512];
    *row = NULL;
    if (gale__ctl_call(&s->client, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, s->timeout_ms, r, err,
                       sizeof err))
        return false;
    const gale__ctl_list_reply_t *lr = &r->u.list_reply;
    if (r->type != GALE_CTL_LIST_REPLY || !lr->ok) {
        gale__ctl_msg_destroy(r);
        return false;
    }
    for (uint32_t i = 0; i < lr->topologies.n && !*row; i++)
        if (strcmp(lr->topologies.items[i].id, id) == 0) *row = &lr->topologies.items[i];
    return true;
}

/* Nimbus runs a topology on the free slots there are, as Storm does: say
 * so when that is fewer workers than it asked for (the scheduler ran
 * before submit_end's reply, so the list has the assignment). */
static void note_fewer_workers(session_t *s, const char *id, const char *name, int64_t asked) {
    gale__ctl_msg_t r;
    const gale__ctl_topology_summary_t *t;
    if (!list_row(s, id, &r, &t)) return;
    if (t && (int64_t)t->workers < asked)
        gale__cli_error("gale jar: %s asked for %lld workers and runs on %llu: the cluster has no "
                        "more free slots now (add supervisors, then 'gale rebalance %s -n %lld')",
                        id, (long long)asked, (unsigned long long)t->workers, name,
                        (long long)asked);
    gale__ctl_msg_destroy(&r);
}

static int cli_jar(int argc, char **argv) {
    session_t s;
    int code;
    if (session_open(&s, &jar_spec, argc, argv, &code)) {
        session_close(&s);
        return code;
    }
    const char *resources = NULL;
    bool wait = false;
    for (size_t i = 0; i < s.o.n_hits; i++) {
        if (strcmp(s.o.hits[i].opt->name, "--resources") == 0) resources = s.o.hits[i].value;
        if (strcmp(s.o.hits[i].opt->name, "--wait") == 0) wait = true;
    }
    if (s.o.npos < 2) {
        gale__cli_error("gale jar: expected <topology.so> <EntryFunction>: see 'gale jar --help'");
        session_close(&s);
        return GALE__EXIT_USAGE;
    }
    const char *so = s.o.pos[0];
    void *lib = NULL;
    gale__topology_t *t = NULL;
    gale_conf_t *conf = NULL;
    void *code_buf = NULL;
    char err[1024];
    size_t code_len = 0;
    msgpack_sbuffer tb, rb;
    msgpack_sbuffer_init(&tb);
    msgpack_sbuffer_init(&rb);
    int rc = 1;
    if (gale__load_topology(so, s.o.pos[1], s.o.npos - 2, s.o.pos + 2, s.conf, s.overrides, &lib,
                            &t))
        goto out;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &tb, msgpack_sbuffer_write);
    conf = submission_conf(&s, t);
    if (!conf || gale__topology_pack(&pk, t)) goto out;
    if (gale__file_read(so, GALE_CTL_MAX_CODE, &code_buf, &code_len, err, sizeof err)) {
        gale__cli_error("gale jar: %s", err);
        goto out;
    }
    char def_res[4096];
    if (!resources) {
        const char *slash = strrchr(so, '/');
        snprintf(def_res, sizeof def_res, "%.*sresources", slash ? (int)(slash - so + 1) : 0, so);
        struct stat st;
        if (stat(def_res, &st) == 0 && S_ISDIR(st.st_mode)) resources = def_res;
    }
    if (resources && gale__resources_pack(resources, &rb, err, sizeof err)) {
        gale__cli_error("gale jar: --resources: %s", err);
        goto out;
    }
    uint8_t code_sum[GALE_CHECKSUM_LEN], res_sum[GALE_CHECKSUM_LEN];
    gale__checksum(code_buf, code_len, code_sum);
    gale__checksum(rb.data ? rb.data : "", rb.size, res_sum);
    gale__ctl_submit_begin_t b = {t->name,
                                  conf,
                                  {(const uint8_t *)tb.data, tb.size},
                                  code_len,
                                  {code_sum, GALE_CHECKSUM_LEN},
                                  rb.size,
                                  {rb.size ? res_sum : NULL, rb.size ? GALE_CHECKSUM_LEN : 0}};
    gale__ctl_msg_t r;
    if (call(&s, GALE_CTL_SUBMIT_BEGIN, &b, GALE_CTL_REPLY, &r)) goto out;
    char upload[256];
    snprintf(upload, sizeof upload, "%s", r.u.reply.id ? r.u.reply.id : "");
    gale__ctl_msg_destroy(&r);
    if (upload_part(&s, upload, "code", (const uint8_t *)code_buf, code_len) ||
        upload_part(&s, upload, "resources", (const uint8_t *)rb.data, rb.size))
        goto out;
    gale__ctl_submit_end_t e = {upload};
    if (call(&s, GALE_CTL_SUBMIT_END, &e, GALE_CTL_REPLY, &r)) goto out;
    char id[256];
    snprintf(id, sizeof id, "%s", r.u.reply.id ? r.u.reply.id : "?");
    printf("%s\n", id);
    fflush(stdout);
    gale__ctl_msg_destroy(&r);
    note_fewer_workers(&s, id, t->name, gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_WORKERS, 1));
    rc = wait ? wait_done(&s, id, t->name) : 0;
out:
    free(code_buf);
    msgpack_sbuffer_destroy(&tb);
    msgpack_sbuffer_destroy(&rb);
    gale_conf_destroy(conf);
    gale__topology_destroy(t);
    if (lib) dlclose(lib);
    session_close(&s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* gale list                                                            */
/* ------------------------------------------------------------------ */

static const gale__opt_t list_opts[] = {COMMON_OPTS};
static const gale__optspec_t list_spec = {"gale list", "gale list [options] [NAME]", list_opts,
                                          NULL};

static void uptime_text(char *out, size_t cap, uint64_t s) {
    if (s >= 86400)
        snprintf(out, cap, "%llud%lluh", (unsigned long long)(s / 86400),
                 (unsigned long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(out, cap, "%lluh%llum", (unsigned long long)(s / 3600),
                 (unsigned long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(out, cap, "%llum%llus", (unsigned long long)(s / 60),
                 (unsigned long long)(s % 60));
    else
        snprintf(out, cap, "%llus", (unsigned long long)s);
}

static int cli_list(int argc, char **argv) {
    session_t s;
    int code;
    if (session_open(&s, &list_spec, argc, argv, &code)) {
        session_close(&s);
        return code;
    }
    if (s.o.npos > 1) {
        gale__cli_error("gale list: takes at most one topology name");
        session_close(&s);
        return GALE__EXIT_USAGE;
    }
    gale__ctl_list_t l = {s.o.npos ? s.o.pos[0] : NULL};
    gale__ctl_msg_t r;
    int rc = call(&s, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, &r);
    if (!rc) {
        const gale__ctl_list_reply_t *lr = &r.u.list_reply;
        if (lr->topologies.n == 0) {
            printf("No topologies running.\n");
        } else {
            /* aligned columns: widths from the longest cell of each */
            int wn = 4, ws = 6, wid = 2;
            for (uint32_t i = 0; i < lr->topologies.n; i++) {
                const gale__ctl_topology_summary_t *t = &lr->topologies.items[i];
                if ((int)strlen(t->name) > wn) wn = (int)strlen(t->name);
                if ((int)strlen(t->status) > ws) ws = (int)strlen(t->status);
                if ((int)strlen(t->id) > wid) wid = (int)strlen(t->id);
            }
            /* DONE: yes once its finite spouts report every tuple acked (what
             * `gale jar --wait` waits for); no for a topology that never ends */
            printf("%-*s  %-*s  %-8s  %7s  %9s  %5s  %4s  %s\n", wn, "NAME", ws, "STATUS", "UPTIME",
                   "WORKERS", "EXECUTORS", "TASKS", "DONE", "ID");
            for (uint32_t i = 0; i < lr->topologies.n; i++) {
                const gale__ctl_topology_summary_t *t = &lr->topologies.items[i];
                char up[32];
                uptime_text(up, sizeof up, t->uptime_secs);
                printf("%-*s  %-*s  %-8s  %7llu  %9llu  %5llu  %4s  %s\n", wn, t->name, ws,
                       t->status, up, (unsigned long long)t->workers,
                       (unsigned long long)t->executors, (unsigned long long)t->tasks,
                       t->done ? "yes" : "no", t->id);
            }
        }
        gale__ctl_msg_destroy(&r);
    }
    session_close(&s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* kill, activate, deactivate, rebalance                                */
/* ------------------------------------------------------------------ */

static const gale__opt_t kill_opts[] = {
    {"-w", "SECS",
     "deactivate, wait this long (0..86400), then remove (default: its message timeout)"},
    COMMON_OPTS};
static const gale__optspec_t kill_spec = {"gale kill", "gale kill [options] NAME", kill_opts, NULL};
static const gale__opt_t plain_opts[] = {COMMON_OPTS};
static const gale__optspec_t activate_spec = {"gale activate", "gale activate [options] NAME",
                                              plain_opts, NULL};
static const gale__optspec_t deactivate_spec = {"gale deactivate", "gale deactivate [options] NAME",
                                                plain_opts, NULL};
static const gale__opt_t rebalance_opts[] = {
    {"-w", "SECS", "deactivate this long (0..86400) before moving (default: its message timeout)"},
    {"-n", "WORKERS", "the new number of workers"},
    {"-e", "COMPONENT=N", "the new number of executors of COMPONENT (repeatable)"},
    COMMON_OPTS};
static const gale__optspec_t rebalance_spec = {"gale rebalance", "gale rebalance [options] NAME",
                                               rebalance_opts, NULL};

static int cli_named(const gale__optspec_t *spec, gale__ctl_type_t type, int argc, char **argv) {
    session_t s;
    int code;
    if (session_open(&s, spec, argc, argv, &code)) {
        session_close(&s);
        return code;
    }
    int rc = GALE__EXIT_USAGE;
    gale__ctl_component_count_t counts[64];
    uint32_t ncounts = 0;
    uint64_t wait = GALE_CTL_UNSET, workers = GALE_CTL_UNSET;
    if (s.o.npos != 1) {
        gale__cli_error("%s: expected one topology NAME: see '%s --help'", s.verb, s.verb);
        goto out;
    }
    for (size_t i = 0; i < s.o.n_hits; i++) {
        const char *name = s.o.hits[i].opt->name, *v = s.o.hits[i].value;
        if (strcmp(name, "-w") == 0) {
            long w = parse_secs(s.verb, "-w", v, 86400);
            if (w < 0) goto out;
            wait = (uint64_t)w;
        } else if (strcmp(name, "-n") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 1 || n > 1024) {
                gale__cli_error("%s: -n '%s': expected a worker count from 1 to 1024", s.verb, v);
                goto out;
            }
            workers = (uint64_t)n;
        } else if (strcmp(name, "-e") == 0) {
            const char *eq = strrchr(v, '=');
            char *end = NULL;
            long n = eq ? strtol(eq + 1, &end, 10) : 0;
            if (!eq || eq == v || !eq[1] || *end || n < 1 || n > 65536 || ncounts == 64) {
                gale__cli_error("%s: -e '%s': expected COMPONENT=N with N >= 1", s.verb, v);
                goto out;
            }
            *(char *)eq = '\0'; /* argv is ours to cut */
            for (size_t k = 0; k < ncounts; k++)
                if (strcmp(counts[k].component, v) == 0) {
                    gale__cli_error("%s: -e %s given twice: give each component once", s.verb, v);
                    goto out;
                }
            counts[ncounts++] = (gale__ctl_component_count_t){v, (uint64_t)n};
        }
    }
    const char *topo = s.o.pos[0];
    gale__ctl_kill_t k = {topo, wait};
    gale__ctl_activate_t a = {topo};
    gale__ctl_deactivate_t d = {topo};
    gale__ctl_rebalance_t rb = {topo, wait, workers, {counts, ncounts}};
    const void *msg = type == GALE_CTL_KILL         ? (const void *)&k
                      : type == GALE_CTL_ACTIVATE   ? (const void *)&a
                      : type == GALE_CTL_DEACTIVATE ? (const void *)&d
                                                    : (const void *)&rb;
    gale__ctl_msg_t r;
    rc = call(&s, type, msg, GALE_CTL_REPLY, &r);
    if (!rc) {
        const char *done = type == GALE_CTL_KILL         ? "killed"
                           : type == GALE_CTL_ACTIVATE   ? "activated"
                           : type == GALE_CTL_DEACTIVATE ? "deactivated"
                                                         : "rebalancing";
        printf("%s %s\n", r.u.reply.id ? r.u.reply.id : topo, done);
        /* a kill or rebalance waits first (spouts deactivated): say how
         * long (nimbus's reply names the wait it chose) */
        if (type == GALE_CTL_KILL || type == GALE_CTL_REBALANCE) {
            char what[256];
            if (type == GALE_CTL_KILL)
                snprintf(what, sizeof what, "removes %s and its workers", topo);
            else
                snprintf(what, sizeof what, "moves the executors of %s", topo);
            uint64_t waits = r.u.reply.wait_secs != GALE_CTL_UNSET ? r.u.reply.wait_secs : wait;
            if (waits == GALE_CTL_UNSET) /* a nimbus that does not say */
                fprintf(stderr,
                        "%s: nimbus %s after its topology.message.timeout.secs, once its tuples "
                        "in flight can finish (-w SECS to choose)\n",
                        s.verb, what);
            else
                fprintf(stderr,
                        "%s: nimbus %s in %llu s, once its tuples in flight can finish (%s)\n",
                        s.verb, what, (unsigned long long)waits,
                        wait != GALE_CTL_UNSET ? "-w"
                                               : "its topology.message.timeout.secs; -w SECS to "
                                                 "choose");
        }
        gale__ctl_msg_destroy(&r);
    }
out:
    session_close(&s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* gale logs                                                            */
/* ------------------------------------------------------------------ */

static const gale__opt_t logs_opts[] = {
    {"-c", "COMPONENT",
     "keep only the lines of COMPONENT (with '=': a config key=value, as on every verb)"},
    {"-p", "PORT", "only the worker on slot port PORT"},
    {"-n", "LINES", "print the last LINES lines of each worker (default 20)"},
    {"-f", NULL, "follow: print lines as they are written, until Ctrl-C"},
    {"--config", "FILE", "gale.yaml to read (default: none)"},
    {"--timeout", "SECS", "give up on nimbus and on each log viewer after this long (default 10)"},
    {NULL, NULL, NULL}};
static const gale__optspec_t logs_spec = {
    "gale logs", "gale logs [options] NAME [-c COMPONENT | -p PORT] [-n LINES] [-f]", logs_opts,
    NULL};

#define LOGS_TAIL_MAX (1u << 20) /* bytes read back from the end for -n */
#define LOGS_WAIT_MS  500        /* one follow round over every worker */

typedef struct log_worker {
    char host[256];
    int port, lv_port;
    char *carry; /* a line not yet ended by '\n' (follow) */
    size_t carry_len;
    int64_t next; /* -f: the byte offset to follow from */
    bool down;    /* its log viewer failed last time (say so once) */
} log_worker_t;

static volatile sig_atomic_t logs_stop;
static void logs_on_signal(int sig) {
    (void)sig;
    logs_stop = 1;
}

/* Is component one of the topology's (as nimbus names its executors)?
 * If not, say so with the nearest id. A nimbus that sends no component
 * names lets every name through. */
static bool has_component(const gale__ctl_topology_assignment_t *ta, const char *component) {
    const char *ids[64];
    size_t n = 0;
    for (uint32_t i = 0; i < ta->executors.n; i++) {
        const char *c = ta->executors.items[i].component;
        if (!c) return true;
        if (strcmp(c, component) == 0) return true;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++) seen = strcmp(ids[k], c) == 0;
        if (!seen && n < sizeof ids / sizeof ids[0]) ids[n++] = c;
    }
    char list[512] = "";
    for (size_t k = 0, at = 0; k < n && at < sizeof list; k++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", ids[k]);
    gale__cli_error("gale logs: %s has no component '%s' (did you mean '%s'?); its components: %s",
                    ta->id, component, n ? gale__nearest(component, ids, n) : "", list);
    return false;
}

/* The line's 4th field (component:task) names component. */
static bool line_of(const char *line, size_t len, const char *component) {
    if (!component) return true;
    const char *p = line, *end = line + len;
    for (int field = 0; field < 3; field++) {
        p = memchr(p, ' ', (size_t)(end - p));
        if (!p) return false;
        p++;
    }
    size_t n = strlen(component);
    return (size_t)(end - p) > n && memcmp(p, component, n) == 0 && (p[n] == ':' || p[n] == ' ');
}

static void print_line(const log_worker_t *w, bool prefix, const char *line, size_t len) {
    if (prefix) printf("%s:%d ", w->host, w->port);
    fwrite(line, 1, len, stdout);
    putchar('\n');
}

static int logs_get(const session_t *s, log_worker_t *w, const char *id, const char *what,
                    long long start, int wait_ms, gale__http_resp_t *r) {
    char path[1024], err[512];
    snprintf(path, sizeof path, "/api/v1/log/%s?file=%s/%d/worker.log&start=%lld", what, id,
             w->port, start);
    if (wait_ms >= 0)
        snprintf(path + strlen(path), sizeof path - strlen(path), "&wait=%d", wait_ms);
    int rc = gale__http_get(w->host, w->lv_port, path, s->timeout_ms + (wait_ms > 0 ? wait_ms : 0),
                            r, err, sizeof err);
    if (rc == 0 && r->status != 200) {
        int status = r->status;
        /* the log viewer's errors are {"error", "errorMessage"}: say the message */
        json_t *j = json_loadb(r->body, r->len, 0, NULL);
        const char *why = json_string_value(json_object_get(j, "errorMessage"));
        if (why)
            snprintf(err, sizeof err, "HTTP %d: %s", r->status, why);
        else
            snprintf(err, sizeof err, "HTTP %d: %.*s", r->status,
                     (int)(r->len && r->body[r->len - 1] == '\n' ? r->len - 1 : r->len), r->body);
        json_decref(j);
        gale__http_resp_free(r);
        r->status = status; /* answered: the viewer is up, the file is not there */
        rc = GALE_EIO;
    }
    bool answered = rc == GALE_EIO && r->status == 0 ? false : rc != 0;
    if (rc && !logs_stop && !w->down)
        gale__cli_error("gale logs: cannot read the log of worker %s:%d from the log viewer at "
                        "%s:%d: %s%s",
                        w->host, w->port, w->host, w->lv_port, err,
                        answered ? "" : " (is 'gale supervisor' running there?)");
    w->down = rc != 0;
    return rc;
}

/* The last n lines (of component) of one worker; w->next = where -f goes on. */
static int logs_tail(const session_t *s, log_worker_t *w, const char *id, long n,
                     const char *component, bool prefix) {
    gale__http_resp_t r;
    for (size_t back = 65536;; back *= 4) {
        if (back > LOGS_TAIL_MAX) back = LOGS_TAIL_MAX;
        if (logs_get(s, w, id, "read", -(long long)back, -1, &r)) return 1;
        /* whole lines only: from the first '\n' unless the file starts here */
        const char *p = r.body, *end = r.body + r.len;
        if (r.offset > 0) {
            const char *nl = memchr(p, '\n', r.len);
            p = nl ? nl + 1 : end;
        }
        const char *last = end;
        while (last > p && last[-1] != '\n') last--; /* a line still being written waits */
        long found = 0;
        for (const char *b = p; b < last;) {
            const char *nl = memchr(b, '\n', (size_t)(last - b));
            found += line_of(b, (size_t)(nl - b), component);
            b = nl + 1;
        }
        if (found < n && r.offset > 0 && back < LOGS_TAIL_MAX) {
            gale__http_resp_free(&r);
            continue;
        }
        /* print the last n matching lines, in order */
        long skip = found > n ? found - n : 0;
        for (const char *b = p; b < last;) {
            const char *nl = memchr(b, '\n', (size_t)(last - b));
            if (line_of(b, (size_t)(nl - b), component) && skip-- <= 0 && n > 0)
                print_line(w, prefix, b, (size_t)(nl - b));
            b = nl + 1;
        }
        w->next = r.offset >= 0 ? r.offset + (int64_t)(last - r.body) : 0;
        gale__http_resp_free(&r);
        return 0;
    }
}

/* One follow round on one worker: print the whole lines written since w->next. */
static void logs_follow_once(const session_t *s, log_worker_t *w, const char *id, int wait_ms,
                             const char *component, bool prefix) {
    gale__http_resp_t r;
    if (logs_get(s, w, id, "follow", (long long)w->next, wait_ms, &r)) return;
    if (r.offset >= 0 && r.offset < w->next) w->carry_len = 0; /* the file rolled */
    char *nc = realloc(w->carry, w->carry_len + r.len + 1);
    if (nc) {
        w->carry = nc;
        memcpy(w->carry + w->carry_len, r.body, r.len);
        w->carry_len += r.len;
        size_t at = 0;
        for (char *nl; (nl = memchr(w->carry + at, '\n', w->carry_len - at));) {
            size_t len = (size_t)(nl - (w->carry + at));
            if (line_of(w->carry + at, len, component)) print_line(w, prefix, w->carry + at, len);
            at += len + 1;
        }
        memmove(w->carry, w->carry + at, w->carry_len - at);
        w->carry_len -= at;
        fflush(stdout);
    }
    if (r.next >= 0) w->next = r.next;
    gale__http_resp_free(&r);
}

/* -f ends once the topology is gone from nimbus's list (killed and
 * removed: its workers write nothing more). A failed look (nimbus down)
 * keeps following, as tail -f does. */
#define LOGS_LIST_EVERY_NS (2 * 1000000000LL)
static bool still_listed(session_t *s, const char *id) {
    gale__ctl_msg_t r;
    const gale__ctl_topology_summary_t *t;
    if (!list_row(s, id, &r, &t)) return true;
    gale__ctl_msg_destroy(&r);
    return t != NULL;
}

static int cli_logs(int argc, char **argv) {
    session_t s;
    int code;
    if (session_open(&s, &logs_spec, argc, argv, &code)) {
        session_close(&s);
        return code;
    }
    int rc = GALE__EXIT_USAGE;
    const char *component = NULL;
    long port = -1, lines = 20;
    bool follow = false;
    log_worker_t *ws = NULL;
    size_t nw = 0;
    gale__ctl_msg_t r;
    bool have_reply = false;
    if (s.o.npos != 1) {
        gale__cli_error("gale logs: expected one topology NAME: see 'gale logs --help'");
        goto out;
    }
    for (size_t i = 0; i < s.o.n_hits; i++) {
        const char *name = s.o.hits[i].opt->name, *v = s.o.hits[i].value;
        char *end;
        if (strcmp(name, "-c") == 0 && is_component_arg(&logs_spec, v)) component = v;
        if (strcmp(name, "-f") == 0) follow = true;
        if (strcmp(name, "-p") == 0) {
            port = strtol(v, &end, 10);
            if (!*v || *end || port < 1 || port > 65535) {
                gale__cli_error("gale logs: -p '%s': expected a slot port from 1 to 65535", v);
                goto out;
            }
        }
        if (strcmp(name, "-n") == 0) {
            errno = 0;
            lines = strtol(v, &end, 10);
            if (!*v || *end || errno || lines < 0 || lines > 1000000) {
                gale__cli_error("gale logs: -n '%s': expected a line count from 0 to 1000000", v);
                goto out;
            }
        }
    }
    if (component && port >= 0) {
        gale__cli_error("gale logs: give -c COMPONENT or -p PORT, not both");
        goto out;
    }
    gale__ctl_assignment_fetch_t f = {NULL, s.o.pos[0]};
    rc = call(&s, GALE_CTL_ASSIGNMENT_FETCH, &f, GALE_CTL_ASSIGNMENT_REPLY, &r);
    if (rc) goto out;
    have_reply = true;
    rc = 1;
    const gale__ctl_assignment_reply_t *ar = &r.u.assignment_reply;
    if (ar->topologies.n != 1) {
        gale__cli_error("gale logs: '%s' names %u topologies: give its id (see 'gale list')",
                        s.o.pos[0], (unsigned)ar->topologies.n);
        goto out;
    }
    const gale__ctl_topology_assignment_t *ta = &ar->topologies.items[0];
    if (component && !has_component(ta, component)) goto out;
    /* the workers: one per distinct (host, port) among the executors */
    ws = calloc(ta->executors.n ? ta->executors.n : 1, sizeof *ws);
    if (!ws) goto out;
    size_t unknown = 0;
    for (uint32_t i = 0; i < ta->executors.n; i++) {
        const gale__ctl_executor_slot_t *e = &ta->executors.items[i];
        if (port >= 0 && e->port != (uint64_t)port) continue;
        bool seen = false;
        for (size_t k = 0; k < nw && !seen; k++)
            seen = ws[k].port == (int)e->port && strcmp(ws[k].host, e->host) == 0;
        if (seen) continue;
        /* a worker whose viewer is not known yet (nimbus just restarted) is
         * kept with lv_port 0, so that it is named once, not per executor */
        bool known = e->logviewer_port != GALE_CTL_UNSET && e->logviewer_port <= 65535;
        if (!known)
            gale__cli_error("gale logs: the supervisor of worker %s:%d has not reported its log "
                            "viewer port yet (nimbus restarted?): try again in a few seconds",
                            e->host, (int)e->port);
        unknown += !known;
        snprintf(ws[nw].host, sizeof ws[nw].host, "%s", e->host);
        ws[nw].port = (int)e->port;
        ws[nw].lv_port = known ? (int)e->logviewer_port : 0;
        nw++;
    }
    size_t kept = 0;
    for (size_t k = 0; k < nw; k++)
        if (ws[k].lv_port) ws[kept++] = ws[k];
    nw = kept;
    if (nw == 0 && unknown) goto out;
    if (nw == 0) {
        if (port >= 0)
            gale__cli_error("gale logs: %s has no worker on port %ld (see 'gale logs %s' for all)",
                            ta->id, port, s.o.pos[0]);
        else
            gale__cli_error("gale logs: %s has no workers yet (status %s)", ta->id, ta->status);
        goto out;
    }
    struct sigaction sa = {0};
    sa.sa_handler = logs_on_signal; /* no SA_RESTART: poll returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool prefix = nw > 1;
    int failed = unknown > 0;
    /* nimbus remembers the last few removed topologies for this */
    if (strcmp(ta->status, "KILLED") == 0)
        fprintf(stderr,
                "gale logs: %s was killed: its workers' logs as they are now (a worker still "
                "stopping may add its last lines)\n",
                ta->id);
    for (size_t k = 0; k < nw && !logs_stop; k++)
        failed |= logs_tail(&s, &ws[k], ta->id, lines, component, prefix);
    fflush(stdout);
    rc = failed;
    if (follow) {
        /* every worker once per round; a long poll each, sharing the round */
        int wait_ms = LOGS_WAIT_MS / (int)nw > 50 ? LOGS_WAIT_MS / (int)nw : 50;
        int64_t next_look = 0;
        for (bool gone = false; !logs_stop && !gone;) {
            if (gale__now_ns() >= next_look) {
                gone = !still_listed(&s, ta->id); /* one more round after, for the last lines */
                next_look = gale__now_ns() + LOGS_LIST_EVERY_NS;
            }
            for (size_t k = 0; k < nw && !logs_stop; k++)
                logs_follow_once(&s, &ws[k], ta->id, wait_ms, component, prefix);
            if (gone)
                fprintf(stderr, "gale logs: %s was killed and removed: stopped following\n",
                        ta->id);
        }
        rc = 0;
    }
out:
    for (size_t k = 0; k < nw; k++) free(ws[k].carry);
    free(ws);
    if (have_reply) gale__ctl_msg_destroy(&r);
    session_close(&s);
    return rc;
}

int gale__cli_cluster(const char *verb, int argc, char **argv) {
    gale__log_set_process("gale");
    if (strcmp(verb, "jar") == 0) return cli_jar(argc, argv);
    if (strcmp(verb, "list") == 0) return cli_list(argc, argv);
    if (strcmp(verb, "kill") == 0) return cli_named(&kill_spec, GALE_CTL_KILL, argc, argv);
    if (strcmp(verb, "activate") == 0)
        return cli_named(&activate_spec, GALE_CTL_ACTIVATE, argc, argv);
    if (strcmp(verb, "deactivate") == 0)
        return cli_named(&deactivate_spec, GALE_CTL_DEACTIVATE, argc, argv);
    if (strcmp(verb, "rebalance") == 0)
        return cli_named(&rebalance_spec, GALE_CTL_REBALANCE, argc, argv);
    if (strcmp(verb, "logs") == 0) return cli_logs(argc, argv);
    return -1;
}
