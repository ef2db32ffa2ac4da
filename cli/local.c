/*
 * local.c — `gale local <topology.so> <EntryFunction> [args...]`, Storm's
 * `storm local`: load the library, call the entry, validate the topology
 * and run it in this process until the TTL, a signal, or (--until-done)
 * every finite spout reports that all it read was acked.
 *
 * Gale's own options are recognised anywhere after the verb and parsed
 * strictly by cli/options.c (an unknown one is an error), `--` ends them,
 * and every other argument after EntryFunction goes to the entry in
 * order. Nothing starts unless the library, entry (a function) and
 * topology are valid. At the end a summary line per component, in
 * topology order, with what components added (common/summary.h).
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/builtin.h"
#include "common/config.h"
#include "common/log.h"
#include "common/summary.h"
#include "drpc/server.h"
#include "worker/runtime.h"

struct gale_submit {
    gale__topology_t *topo;
    int calls;
    void *lib;
    bool reported;                       /* gale_submit already printed why it failed */
    const gale_conf_t *base, *overrides; /* gale.yaml and -c: declare() sees them */
};

static const void *resolve_symbol(void *ud, const char *symbol) {
    void *lib = ud;
    const void *p = lib ? dlsym(lib, symbol) : NULL;
    return p ? p : dlsym(RTLD_DEFAULT, symbol);
}

/* `-c key=value` wins over every component conf (Storm's precedence), so
 * `-c file.path=X` retargets a spout and a sink alike. When components set
 * a key to different values, one -c value for all of them is rarely meant:
 * say which it overrode. */
static void warn_overridden(const gale__topology_t *t, const gale_conf_t *overrides) {
    for (size_t k = 0; overrides && k < gale_conf_count(overrides); k++) {
        const char *key = gale_conf_key_at(overrides, k, NULL);
        char names[512] = "";
        size_t len = 0, n = 0;
        const gale_value_t *first = NULL;
        bool differ = false;
        for (size_t i = 0; i < t->n_components; i++) {
            const gale_value_t *v = gale_conf_get(t->components[i].conf, key);
            if (!v) continue;
            if (!first) first = v;
            differ |= !gale_value_equal(first, v);
            int w = snprintf(names + len, sizeof names - len, "%s'%s'", n++ ? ", " : "",
                             t->components[i].id);
            if (w > 0) len = len + (size_t)w < sizeof names ? len + (size_t)w : sizeof names - 1;
        }
        if (n >= 2 && differ)
            GALE_WARN(NULL, 0,
                      "-c %s overrides it in every component: %s set it to different values, "
                      "and all of them now use the -c value",
                      key, names);
    }
}

int gale_submit(gale_submit_t *s, const char *name, gale_conf_t *conf, gale_builder_t *b) {
    char err[512] = "";
    if (!s || s->calls++) {
        gale_conf_destroy(conf);
        gale_builder_destroy(b);
        GALE_ERROR(NULL, 0, "gale_submit called more than once: an entry submits one topology");
        return GALE_ESTATE;
    }
    gale__topology_t *t = NULL;
    int rc = gale__builder_check_impls(b, resolve_symbol, s->lib, err, sizeof err);
    if (rc) {
        gale_builder_destroy(b);
        gale_conf_destroy(conf);
    } else {
        rc =
            gale__builder_finish_layered(b, name, conf, s->base, s->overrides, &t, err, sizeof err);
    }
    if (!rc) rc = gale__topology_validate(t, resolve_symbol, s->lib, err, sizeof err);
    if (!rc) {
        rc = gale__conf_validate(t->conf, "topology conf", err, sizeof err);
        if (!rc) gale__conf_warn_scope(t->conf, "topology conf", GALE_SCOPE_TOPOLOGY);
        for (size_t i = 0; !rc && i < t->n_components; i++) {
            char origin[160];
            snprintf(origin, sizeof origin, "component '%s' conf", t->components[i].id);
            rc = gale__conf_validate(t->components[i].conf, origin, err, sizeof err);
            if (!rc) gale__conf_warn_scope(t->components[i].conf, origin, GALE_SCOPE_COMPONENT);
        }
    }
    if (rc) {
        gale__topology_destroy(t);
        s->reported = true;
        gale__cli_error("gale: invalid topology: %s", err);
        return rc;
    }
    warn_overridden(t, s->overrides);
    gale__topology_assign_tasks(t);
    s->topo = t;
    return 0;
}

/* The entry named on the command line must be a function: calling a data
 * symbol (a gale_bolt_t, say) would jump into data and crash. Only the
 * ELF symbol type tells the two apart; 1 when it is no function. */
static int check_entry_type(void *fn, const char *entry, const char *path) {
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym) return 0; /* cannot tell */
    int type = ELF64_ST_TYPE(sym->st_info);
    /* only what is surely data: an untyped symbol may be hand-written code */
    if (type != STT_OBJECT && type != STT_COMMON && type != STT_TLS) return 0;
    gale__cli_error("gale: '%s' in '%s' is a data symbol (a variable), not a function: name the "
                    "entry function, int %s(gale_submit_t *s, int argc, char **argv)",
                    entry, path, entry);
    return 1;
}

int gale__load_topology(const char *path, const char *entry, int argc, char **argv,
                        const gale_conf_t *base, const gale_conf_t *overrides, void **lib_out,
                        gale__topology_t **out) {
    *out = NULL;
    *lib_out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        gale__cli_error("gale: cannot read topology library '%s': %s", path, strerror(errno));
        return 1;
    }
    /* A path without a slash would make dlopen search the library path. */
    char buf[4096];
    if (!strchr(path, '/')) {
        snprintf(buf, sizeof buf, "./%s", path);
        path = buf;
    }
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        gale__cli_error("gale: '%s' is not a loadable shared library (%s): build it with "
                        "cc -shared -fPIC $(pkg-config --cflags --libs gale)",
                        path, dlerror());
        return 1;
    }
    gale_entry_fn fn;
    *(void **)&fn = dlsym(lib, entry);
    if (!fn) {
        gale__cli_error("gale: entry function '%s' not found in '%s': export "
                        "int %s(gale_submit_t *s, int argc, char **argv) (in C++ declare it "
                        "extern \"C\"; with -fvisibility=hidden mark it GALE_EXPORT)",
                        entry, path, entry);
        dlclose(lib);
        return 1;
    }
    if (check_entry_type(*(void **)&fn, entry, path)) {
        dlclose(lib);
        return 1;
    }
    struct gale_submit s = {NULL, 0, lib, false, base, overrides};
    int rc = fn(&s, argc, argv);
    if (rc || !s.topo || s.calls > 1) {
        if (s.calls > 1)
            gale__cli_error("gale: entry '%s' called gale_submit %d times: an entry submits "
                            "exactly one topology, so none was started",
                            entry, s.calls);
        else if (s.reported)
            ; /* gale_submit printed why the topology is invalid */
        else if (!s.calls && rc)
            gale__cli_error("gale: entry '%s' returned %d without calling gale_submit: "
                            "nothing was started",
                            entry, rc);
        else if (!s.calls)
            gale__cli_error("gale: entry '%s' returned 0 without calling gale_submit: it must "
                            "submit exactly one topology",
                            entry);
        else
            gale__cli_error("gale: entry '%s' returned %d after gale_submit: nothing was "
                            "started (return 0 to run the topology)",
                            entry, rc);
        gale__topology_destroy(s.topo);
        dlclose(lib);
        return 1;
    }
    *lib_out = lib;
    *out = s.topo;
    return 0;
}

#define MAX_TTL_SECS  1000000000 /* keeps the deadline in range */
#define EXIT_STUCK    4          /* a component did not return when stopped */
#define STOP_GRACE_MS 2000       /* after the drain: time for executors to return */

static const gale__opt_t local_opts[] = {
    {"--config", "FILE", "gale.yaml to read (default: none)"},
    {"-c", "key=value", "override a config key (repeatable)"},
    {"--local-ttl", "SECS", "run this long, then stop (default 20)"},
    {"--until-done", NULL,
     "stop once every finite spout's tuples were all acked (with an explicit --local-ttl: exit 3 "
     "if not done by then; on SIGINT/SIGTERM before done: exit 3 too)"},
    {NULL, NULL, NULL},
};

/* Printed after the options by --help. */
static const char local_exit_codes[] =
    "exit: 0 stopped cleanly, 1 error, 2 usage error, 3 --until-done stopped before done\n"
    "      (--local-ttl or a signal),\n"
    "      4 a component was stuck in a callback when stopping, 128+N a second\n"
    "      signal N (SIGINT, SIGTERM) while stopping: exit at once\n";

static const gale__optspec_t local_spec = {
    "gale local", "gale local [options] <topology.so> <EntryFunction> [args...]", local_opts,
    "the entry function"};

/* A mean latency in unit_ns units with `decimals`, or "n/a" without
 * samples: 0.0 would claim something was measured. */
static const char *mean_text(char *buf, size_t cap, uint64_t ns_sum, uint64_t samples,
                             double unit_ns, int decimals) {
    if (!samples) return "n/a";
    snprintf(buf, cap, "%.*f", decimals, (double)ns_sum / (double)samples / unit_ns);
    return buf;
}

static double per_sec(uint64_t n, double secs) {
    return secs > 0 ? (double)n / secs : 0.0;
}

/* Runs shorter than this get no rates in the summary: starting and
 * stopping would be most of the time they divide by. */
#define RATE_MIN_SECS 1.0

/* " (12.3/s)" over the run, or "" for a run too short for rates. */
static const char *rate_text(char *buf, size_t cap, uint64_t n, double secs) {
    if (secs < RATE_MIN_SECS) return "";
    snprintf(buf, cap, " (%.1f/s)", per_sec(n, secs));
    return buf;
}

/* A spout that emitted but never had a tree pending, acked or failed
 * emits without message ids (Storm's unreliable spout). */
static bool spout_unreliable(const gale__stats_t *s) {
    return s->emitted && s->acked == 0 && s->failed_timeout == 0 && s->failed_explicit == 0 &&
           s->max_pending_seen == 0;
}

/* Components in topology order: spouts first, then each bolt after the
 * components it reads from (ties by id); the acker last. */
static size_t topology_order(const gale__rt_t *rt, size_t *order) {
    size_t n = 0, users = rt->n_comps - (rt->acker ? 1 : 0);
    bool *placed = calloc(users ? users : 1, sizeof(bool));
    if (!placed) { /* out of memory: id order is still every component */
        for (size_t i = 0; i < rt->n_comps; i++) order[i] = i;
        return rt->n_comps;
    }
    while (n < users) {
        size_t before = n;
        for (size_t i = 0; i < users; i++) {
            if (placed[i]) continue;
            const gale__component_t *d = rt->comps[i].def;
            bool ready = true;
            for (size_t j = 0; ready && j < d->n_inputs; j++)
                for (size_t k = 0; k < users; k++)
                    if (!placed[k] && k != i && strcmp(rt->comps[k].id, d->inputs[j].source) == 0)
                        ready = false;
            if (ready) {
                placed[i] = true;
                order[n++] = i;
            }
        }
        if (n == before) /* a cycle cannot pass validation; place the rest */
            for (size_t i = 0; i < users; i++)
                if (!placed[i]) {
                    placed[i] = true;
                    order[n++] = i;
                }
    }
    free(placed);
    if (rt->acker) order[n++] = rt->n_comps - 1;
    return n;
}

/* One line per component, as a Storm user reads the UI: totals with
 * rates over the run, then the component's own summary lines (e.g. the
 * counter's merged top words). */
static void log_summary(gale__rt_t *rt, double secs, double stop_secs) {
    size_t *order = malloc(rt->n_comps * sizeof(size_t));
    if (!order) return;
    size_t n = topology_order(rt, order);
    secs = floor(secs * 100) / 100; /* 0.999 s is no "1.00 s run" too short for rates */
    if (secs < RATE_MIN_SECS)
        GALE_INFO(NULL, 0,
                  "summary of a %.2f s run (then %.2f s to stop; too short for rates per second):",
                  secs, stop_secs);
    else
        GALE_INFO(NULL, 0,
                  "summary of a %.1f s run (then %.2f s to stop; rates per second over the run):",
                  secs, stop_secs);
    for (size_t k = 0; k < n; k++) {
        const gale__rcomp_t *c = &rt->comps[order[k]];
        gale__stats_t s;
        gale__rt_stats(rt, c->id, &s);
        char head[64], line[1024], m1[32], m2[32], r1[32], r2[32];
        /* every line starts with emitted=; a spout's failed(reason)= tells
         * timeouts from explicit fails, as scripts grep for */
        snprintf(head, sizeof head, "[%s, %zu task%s]",
                 c->is_acker   ? "acker"
                 : c->is_spout ? "spout"
                               : "bolt",
                 c->n_tasks, c->n_tasks == 1 ? "" : "s");
        if (c->is_spout && spout_unreliable(&s))
            snprintf(line, sizeof line,
                     "emitted=%llu%s transferred=%llu unreliable (no message ids: nothing "
                     "to ack) errors=%llu",
                     (unsigned long long)s.emitted, rate_text(r1, sizeof r1, s.emitted, secs),
                     (unsigned long long)s.transferred, (unsigned long long)s.errors);
        else if (c->is_spout)
            snprintf(line, sizeof line,
                     "emitted=%llu%s transferred=%llu acked=%llu%s "
                     "failed(timeout)=%llu failed(failed)=%llu complete_ms=%s errors=%llu",
                     (unsigned long long)s.emitted, rate_text(r1, sizeof r1, s.emitted, secs),
                     (unsigned long long)s.transferred, (unsigned long long)s.acked,
                     rate_text(r2, sizeof r2, s.acked, secs), (unsigned long long)s.failed_timeout,
                     (unsigned long long)s.failed_explicit,
                     mean_text(m1, sizeof m1, s.complete_ns_sum, s.complete_samples, 1e6, 2),
                     (unsigned long long)s.errors);
        else if (c->is_acker && !s.executed)
            snprintf(line, sizeof line,
                     "emitted=0 executed=0 acked=0 failed=0 (no spout emitted with a message id)");
        else if (c->is_acker) /* Storm's __acker: executes ack messages, acks trees */
            snprintf(line, sizeof line,
                     "emitted=%llu executed=%llu%s acked=%llu%s failed=%llu (executed: ack "
                     "messages; acked, failed: trees completed, or failed by a bolt; the spouts "
                     "count timeouts)",
                     (unsigned long long)s.emitted, (unsigned long long)s.executed,
                     rate_text(r1, sizeof r1, s.executed, secs), (unsigned long long)s.acked,
                     rate_text(r2, sizeof r2, s.acked, secs),
                     (unsigned long long)s.failed_explicit);
        else
            snprintf(line, sizeof line,
                     "emitted=%llu transferred=%llu executed=%llu%s acked=%llu "
                     "failed=%llu ticks=%llu errors=%llu execute_us=%s process_us=%s "
                     "backpressure_waits=%llu",
                     (unsigned long long)s.emitted, (unsigned long long)s.transferred,
                     (unsigned long long)s.executed, rate_text(r1, sizeof r1, s.executed, secs),
                     (unsigned long long)s.acked, (unsigned long long)s.failed_explicit,
                     (unsigned long long)s.ticks, (unsigned long long)s.errors,
                     mean_text(m1, sizeof m1, s.execute_ns_sum, s.execute_samples, 1e3, 1),
                     mean_text(m2, sizeof m2, s.process_ns_sum, s.process_samples, 1e3, 1),
                     (unsigned long long)s.backpressure_waits);
        GALE_INFO(c->id, 0, "%s %s", line, head);
        for (size_t t = 0; gale__summary_format(c->id, t, 10, line, sizeof line); t++)
            GALE_INFO(c->id, 0, "%s", line);
    }
    free(order);
}

static void set_log_level(const char *lvl) {
    int level = gale__log_level_parse(lvl);
    if (level >= 0) gale__log_set_level((gale_log_level_t)level);
}

/* Every 10 s: what the spouts did so far, with rates over the last
 * interval, so long runs show progress. */
static void log_progress(gale__rt_t *rt, uint64_t *last_emitted, uint64_t *last_acked,
                         double secs) {
    gale__stats_t s;
    uint64_t emitted = 0, acked = 0, failed = 0;
    bool reliable = false;
    for (size_t i = 0; i < rt->n_comps; i++) {
        if (!rt->comps[i].is_spout) continue;
        gale__rt_stats(rt, rt->comps[i].id, &s);
        emitted += s.emitted;
        acked += s.acked;
        failed += s.failed_timeout + s.failed_explicit;
        reliable |= !spout_unreliable(&s);
    }
    if (!reliable)
        GALE_INFO(NULL, 0, "progress: spouts emitted=%llu (%.1f/s), unreliable (nothing to ack)",
                  (unsigned long long)emitted, per_sec(emitted - *last_emitted, secs));
    else
        GALE_INFO(NULL, 0, "progress: spouts emitted=%llu (%.1f/s) acked=%llu (%.1f/s) failed=%llu",
                  (unsigned long long)emitted, per_sec(emitted - *last_emitted, secs),
                  (unsigned long long)acked, per_sec(acked - *last_acked, secs),
                  (unsigned long long)failed);
    *last_emitted = emitted;
    *last_acked = acked;
}

/* What the spouts' trees came to: acked, failed (timeout or explicit), and
 * still pending when asked. */
static void spout_totals(gale__rt_t *rt, uint64_t *acked, uint64_t *failed, uint64_t *pending) {
    gale__stats_t s;
    *acked = *failed = *pending = 0;
    for (size_t i = 0; i < rt->n_comps; i++) {
        if (!rt->comps[i].is_spout) continue;
        gale__rt_stats(rt, rt->comps[i].id, &s);
        *acked += s.acked;
        *failed += s.failed_timeout + s.failed_explicit;
    }
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].comp->is_spout) {
            int64_t n = atomic_load(&rt->execs[i].n_pending);
            *pending += n > 0 ? (uint64_t)n : 0;
        }
}

/* Signals are blocked in every thread (set before the library is loaded,
 * so threads its entry or components start inherit it) and taken here
 * only, with sigtimedwait. */
/*
 * Storm's LocalDRPC: a topology with a gale_drpc_spout (or a micro-batch
 * DRPC stream, gale_trident_drpc_spout_bolt) gets a DRPC server
 * in this process on the configured ports (defaults < gale.yaml <
 * topology conf < -c), unless one already accepts connections on
 * drpc.port (a `gale drpc-server` on this host): then the spouts use
 * that one. One log line says which. The ports really bound go into
 * overrides, so the spouts and bolts (and port 0) find this server.
 */
static int local_drpc(const gale__topology_t *t, const gale_conf_t *base, gale_conf_t *overrides,
                      gale__drpc_server_t **out) {
    *out = NULL;
    bool has_spout = false;
    for (size_t i = 0; i < t->n_components; i++)
        has_spout |= t->components[i].symbol &&
                     (strcmp(t->components[i].symbol, "gale_drpc_spout") == 0 ||
                      strcmp(t->components[i].symbol, "gale_trident_drpc_spout_bolt") == 0);
    if (!has_spout) return 0;
    gale_conf_t *conf = gale_conf_new();
    char err[1024];
    int rc = 1;
    if (!conf || gale__conf_set_defaults(conf) || (base && gale__conf_merge(conf, base)) ||
        gale__conf_merge(conf, t->conf) || gale__conf_merge(conf, overrides))
        goto out;
    char host[256];
    gale__drpc_first_host(conf, host, sizeof host);
    if (gale__drpc_server_answers(conf, 500)) {
        GALE_INFO(NULL, 0,
                  "local mode: a DRPC server already answers on %s:%lld: the DRPC spouts use it",
                  host, (long long)gale_conf_get_int(conf, GALE_CONF_DRPC_PORT, 3772));
        rc = 0;
        goto out;
    }
    if (gale__drpc_server_start(conf, out, err, sizeof err)) {
        gale__cli_error("gale local: %s", err);
        goto out;
    }
    gale_conf_set_int(overrides, GALE_CONF_DRPC_PORT, gale__drpc_server_port(*out));
    gale_conf_set_int(overrides, GALE_CONF_DRPC_INVOCATIONS_PORT,
                      gale__drpc_server_invocations_port(*out));
    gale_conf_set_int(overrides, GALE_CONF_DRPC_HTTP_PORT, gale__drpc_server_http_port(*out));
    GALE_INFO(NULL, 0,
              "local mode: serving DRPC in this process on %s: 'gale drpc' port %d, invocations "
              "port %d, HTTP port %d",
              host, gale__drpc_server_port(*out), gale__drpc_server_invocations_port(*out),
              gale__drpc_server_http_port(*out));
    rc = 0;
out:
    gale_conf_destroy(conf);
    return rc;
}

static sigset_t stop_sigs;

static int take_signal(int64_t wait_ns) {
    struct timespec ts = {wait_ns / 1000000000, wait_ns % 1000000000};
    int sig = sigtimedwait(&stop_sigs, NULL, &ts);
    return sig == SIGINT || sig == SIGTERM ? sig : 0;
}

/* While stopping: a second SIGINT/SIGTERM ends the process at once. One
 * within a second of the first is the same request delivered twice (to
 * the process group and again by a wrapper such as timeout(1)). */
static int64_t first_signal_ns;

static bool second_signal(void *ud) {
    (void)ud;
    int sig = take_signal(0);
    if (!sig || gale__now_ns() - first_signal_ns < 1000000000LL) return false;
    GALE_ERROR(NULL, 0, "%s while stopping: exiting at once", sig == SIGINT ? "SIGINT" : "SIGTERM");
    _exit(128 + sig);
}

int gale__cli_local(int argc, char **argv) {
    const char *config = NULL;
    long ttl = 20;
    bool ttl_given = false, until_done = false;
    char err[512] = "";
    gale__opts_t o;
    int rc = gale__opts_parse(&local_spec, argc, argv, &o, err, sizeof err);
    gale_conf_t *overrides = gale_conf_new(), *base = gale_conf_new();
    void *lib = NULL;
    gale__topology_t *topo = NULL;
    gale__rt_t *rt = NULL;
    gale__drpc_server_t *drpc = NULL;
    if (rc) {
        gale__cli_error("%s", err);
        goto out;
    }
    rc = 1;
    if (!overrides || !base) goto out;
    if (o.help) {
        gale__opts_usage(stdout, &local_spec);
        fputs(local_exit_codes, stdout);
        rc = 0;
        goto out;
    }
    rc = GALE__EXIT_USAGE;
    for (size_t i = 0; i < o.n_hits; i++) {
        const char *name = o.hits[i].opt->name, *v = o.hits[i].value;
        if (strcmp(name, "--config") == 0) {
            config = v;
        } else if (strcmp(name, "-c") == 0) {
            if (gale__conf_parse_kv(overrides, v, err, sizeof err)) {
                gale__cli_error("gale: %s", err);
                goto out;
            }
        } else if (strcmp(name, "--local-ttl") == 0) {
            char *end;
            errno = 0;
            ttl = strtol(v, &end, 10);
            ttl_given = true;
            if (!*v || *end || errno || ttl <= 0 || ttl > MAX_TTL_SECS) {
                gale__cli_error("gale local: --local-ttl '%s': expected whole seconds from 1 to %d",
                                v, MAX_TTL_SECS);
                goto out;
            }
        } else if (strcmp(name, "--until-done") == 0) {
            until_done = true;
        }
    }
    if (o.npos < 2) {
        gale__cli_error("gale local: expected <topology.so> <EntryFunction>%s: see 'gale local "
                        "--help'",
                        o.npos ? " (the entry function is missing)" : "");
        goto out;
    }
    rc = 1;
    if (config && gale__conf_load_yaml(base, config, err, sizeof err)) {
        gale__cli_error("gale: %s", err);
        goto out;
    }
    set_log_level(gale_conf_get_str(overrides, GALE_CONF_LOG_LEVEL,
                                    gale_conf_get_str(base, GALE_CONF_LOG_LEVEL, NULL)));
    gale__crash_handler_install();
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    if (gale__load_topology(o.pos[0], o.pos[1], o.npos - 2, o.pos + 2, base, overrides, &lib,
                            &topo))
        goto out;
    if (local_drpc(topo, base, overrides, &drpc)) goto out;

    int rc_new = gale__rt_new(&rt, topo, base, overrides, resolve_symbol, lib, err, sizeof err);
    topo = NULL; /* owned (or already freed) by gale__rt_new */
    if (rc_new) {
        gale__cli_error("gale: %s", err);
        goto out;
    }
    /* the topology conf may set the level too (it is merged now) */
    set_log_level(gale_conf_get_str(rt->conf, GALE_CONF_LOG_LEVEL, NULL));
    if (until_done && !gale__rt_has_finite_spouts(rt)) {
        /* it would never be done: say so now rather than after a TTL */
        gale__cli_error("gale local: --until-done: no spout of topology '%s' is finite (none "
                        "has a done() callback), so it is never done: drop --until-done and "
                        "use --local-ttl SECS",
                        rt->name);
        rc = GALE__EXIT_USAGE;
        goto out;
    }

    if (gale__rt_launch(rt, err, sizeof err)) {
        gale__cli_error("gale: %s", err);
        gale__rt_stop(rt, 0);
        goto out;
    }
    /* The TTL counts from here: it bounds opening too. */
    int64_t deadline = gale__now_ns() + (int64_t)ttl * 1000000000;
    const char *why = "ttl";
    /* progress: every 10 s once running, every 5 s while opening */
    int64_t started = gale__now_ns(), next_progress = started + 5 * 1000000000LL;
    int64_t run_began = started;
    uint64_t last_emitted = 0, last_acked = 0;
    bool opened = false, failed = false;
    for (;;) {
        /* Wake only for what is due: the TTL, the next progress line, or
         * (--until-done, or still opening) the next look at the runtime. */
        int64_t wake = next_progress < deadline ? next_progress : deadline;
        if ((until_done || !opened) && wake > gale__now_ns() + 20000000)
            wake = gale__now_ns() + 20000000;
        int64_t wait_ns = wake - gale__now_ns();
        if (wait_ns < 1000000) wait_ns = 1000000;
        int sig = take_signal(wait_ns);
        if (sig) {
            first_signal_ns = gale__now_ns();
            why = sig == SIGINT ? "SIGINT" : "SIGTERM";
            /* the input was not finished: a script must not take it as done */
            if (until_done) rc = 3;
            break;
        }
        if (!opened) {
            int st = gale__rt_poll_open(rt, err, sizeof err);
            if (st < 0) {
                gale__cli_error("gale: %s", err);
                failed = true;
                why = "open failed";
                break;
            }
            if (st == 0) {
                opened = true;
                run_began = gale__now_ns(); /* the run's length leaves opening out */
                next_progress = gale__now_ns() + 10 * 1000000000LL;
                GALE_INFO(NULL, 0, "local mode: %s", until_done ? "until done" : "running");
            }
        }
        if (gale__builtin_failed()) { /* logged by the component */
            why = "a component failed";
            failed = true;
            break;
        }
        if (opened && until_done && gale__rt_done(rt)) {
            why = "done";
            break;
        }
        if ((!until_done || ttl_given || !opened) && gale__now_ns() >= deadline) {
            if (!opened) {
                why = "ttl while opening";
                failed = true;
            } else if (until_done) {
                why = "ttl before done";
                rc = 3;
            }
            break;
        }
        if (gale__now_ns() >= next_progress) {
            next_progress += (opened ? 10 : 5) * 1000000000LL;
            if (opened)
                log_progress(rt, &last_emitted, &last_acked, 10.0);
            else if (gale__rt_describe_opening(rt, err, sizeof err))
                GALE_INFO(NULL, 0, "opening: %s", err); /* e.g. a FIFO nobody writes */
        }
    }
    uint64_t acked, failures, pending; /* pending: in flight when the stop began */
    spout_totals(rt, &acked, &failures, &pending);
    if (opened)
        GALE_INFO(NULL, 0, "stopping (%s): deactivating spouts, draining in-flight tuples", why);
    else
        GALE_INFO(NULL, 0, "stopping (%s) before every component opened", why);
    /* drain for at most the message timeout (capped): trees still in
     * flight then would time out anyway */
    int64_t timeout_s = gale_conf_get_int(rt->conf, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 30);
    gale__stop_opts_t so = {.drain_ms = (int)(timeout_s * 1000 < 10000 ? timeout_s * 1000 : 10000),
                            .grace_ms = STOP_GRACE_MS,
                            .interrupted = second_signal};
    int64_t stop_began = gale__now_ns();
    double secs = (double)(stop_began - run_began) / 1e9;
    int stuck = gale__rt_stop_ex(rt, &so);
    double stop_secs = (double)(gale__now_ns() - stop_began) / 1e9;
    if (stuck > 0) {
        /* Their threads still run user code: nothing of the runtime (or
         * the library) may be freed. Name them and leave. */
        for (size_t i = 0; i < rt->n_execs; i++) {
            if (!rt->execs[i].stuck) continue;
            gale__rt_describe_stuck(rt, i, err, sizeof err);
            GALE_ERROR(NULL, 0, "%s; exiting", err);
        }
        if (opened) log_summary(rt, secs, stop_secs);
        _exit(EXIT_STUCK);
    }
    if (opened) log_summary(rt, secs, stop_secs);
    gale__summary_reset();
    if (rc == 3) {
        uint64_t in_flight = pending; /* the drain may have acked some */
        spout_totals(rt, &acked, &failures, &pending);
        char stopped[64];
        if (strcmp(why, "ttl before done") == 0)
            snprintf(stopped, sizeof stopped, "after --local-ttl %ld s", ttl);
        else
            snprintf(stopped, sizeof stopped, "by %s", why);
        GALE_ERROR(NULL, 0,
                   "--until-done: stopped %s before every spout was done: trees acked=%llu "
                   "failed=%llu, %llu pending when stopping (%llu after the drain)%s%s",
                   stopped, (unsigned long long)acked, (unsigned long long)failures,
                   (unsigned long long)in_flight, (unsigned long long)pending,
                   failures ? " (see the failed counts above)" : "",
                   strcmp(why, "ttl before done") == 0
                       ? "; raise --local-ttl if the input is just large"
                       : "");
    } else if (failed)
        rc = 1; /* the error line above says why */
    else
        rc = 0;
    GALE_INFO(NULL, 0, "stopped");
out:
    gale__drpc_server_stop(drpc); /* its waiting clients get an error */
    gale__rt_destroy(rt);
    gale__summary_reset(); /* what cleanups added when the run never started */
    gale__topology_destroy(topo);
    if (lib) dlclose(lib);
    gale_conf_destroy(overrides);
    gale_conf_destroy(base);
    gale__opts_free(&o);
    return rc;
}
