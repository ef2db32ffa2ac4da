/*
 * local.c — `gale local <topology.so> <EntryFunction> [args...]`, Storm's
 * `storm local`: load the library, call the entry, validate the topology
 * and run it in this process until the TTL, a signal, or (--until-done)
 * every finite spout reports that all it read was acked.
 *
 * Gale's own options are recognised anywhere after the verb, `--` ends
 * them, and every other argument after EntryFunction goes to the entry in
 * order. Nothing starts unless the library, entry and topology are valid.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "worker/runtime.h"

struct gale_submit {
    gale__topology_t *topo;
    int calls;
    void *lib;
};

static const void *resolve_symbol(void *ud, const char *symbol) {
    void *lib = ud;
    const void *p = lib ? dlsym(lib, symbol) : NULL;
    return p ? p : dlsym(RTLD_DEFAULT, symbol);
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
        rc = gale__builder_finish(b, name, conf, &t, err, sizeof err);
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
        fprintf(stderr, "gale: invalid topology: %s\n", err);
        return rc;
    }
    gale__topology_assign_tasks(t);
    s->topo = t;
    return 0;
}

int gale__load_topology(const char *path, const char *entry, int argc, char **argv, void **lib_out,
                        gale__topology_t **out) {
    *out = NULL;
    *lib_out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "gale: cannot read topology library '%s': %s\n", path, strerror(errno));
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
        fprintf(stderr,
                "gale: '%s' is not a loadable shared library (%s): build it with "
                "cc -shared -fPIC $(pkg-config --cflags --libs gale)\n",
                path, dlerror());
        return 1;
    }
    gale_entry_fn fn;
    *(void **)&fn = dlsym(lib, entry);
    if (!fn) {
        fprintf(stderr,
                "gale: entry function '%s' not found in '%s': export "
                "int %s(gale_submit_t *s, int argc, char **argv)\n",
                entry, path, entry);
        dlclose(lib);
        return 1;
    }
    struct gale_submit s = {NULL, 0, lib};
    int rc = fn(&s, argc, argv);
    if (rc || !s.topo) {
        if (!s.calls)
            fprintf(stderr,
                    "gale: entry '%s' returned %d without calling gale_submit: it must "
                    "submit exactly one topology\n",
                    entry, rc);
        else if (s.topo)
            fprintf(stderr, "gale: entry '%s' failed (returned %d)\n", entry, rc);
        gale__topology_destroy(s.topo);
        dlclose(lib);
        return 1;
    }
    *lib_out = lib;
    *out = s.topo;
    return 0;
}

#define MAX_TTL_SECS 1000000000 /* keeps the deadline in range */

static void usage_local(void) {
    fprintf(stderr, "usage: gale local <topology.so> <EntryFunction> [args...]\n"
                    "  --config FILE     gale.yaml to read (default: none)\n"
                    "  -c key=value      override a config key (repeatable)\n"
                    "  --local-ttl SECS  run this long, then stop (default 20)\n"
                    "  --until-done      stop once every finite spout's tuples were all acked\n"
                    "                    (with an explicit --local-ttl: fail if not done by then)\n"
                    "  --                end of gale options\n");
}

static double mean_us(uint64_t ns_sum, uint64_t samples) {
    return samples ? (double)ns_sum / (double)samples / 1000.0 : 0.0;
}

static void log_summary(gale__rt_t *rt) {
    for (size_t i = 0; i < rt->n_comps; i++) {
        gale__stats_t s;
        gale__rt_stats(rt, rt->comps[i].id, &s);
        GALE_INFO(rt->comps[i].id, 0,
                  "emitted=%llu transferred=%llu executed=%llu acked=%llu failed(timeout)=%llu "
                  "failed(failed)=%llu backpressure_waits=%llu execute_us=%.1f process_us=%.1f "
                  "complete_us=%.1f",
                  (unsigned long long)s.emitted, (unsigned long long)s.transferred,
                  (unsigned long long)s.executed, (unsigned long long)s.acked,
                  (unsigned long long)s.failed_timeout, (unsigned long long)s.failed_explicit,
                  (unsigned long long)s.backpressure_waits,
                  mean_us(s.execute_ns_sum, s.execute_samples),
                  mean_us(s.process_ns_sum, s.process_samples),
                  mean_us(s.complete_ns_sum, s.complete_samples));
    }
}

static void set_log_level(const char *lvl) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int k = 0; lvl && k < 4; k++)
        if (strcmp(lvl, names[k]) == 0) gale__log_set_level((gale_log_level_t)k);
}

/* Every 10 s: what the spouts did so far, so long runs show progress. */
static void log_progress(gale__rt_t *rt) {
    gale__stats_t s;
    uint64_t emitted = 0, acked = 0, failed = 0;
    for (size_t i = 0; i < rt->n_comps; i++) {
        if (!rt->comps[i].is_spout) continue;
        gale__rt_stats(rt, rt->comps[i].id, &s);
        emitted += s.emitted;
        acked += s.acked;
        failed += s.failed_timeout + s.failed_explicit;
    }
    GALE_INFO(NULL, 0, "progress: spouts emitted=%llu acked=%llu failed=%llu",
              (unsigned long long)emitted, (unsigned long long)acked, (unsigned long long)failed);
}

int gale__cli_local(int argc, char **argv) {
    const char *config = NULL;
    long ttl = 20;
    bool ttl_given = false, until_done = false, opts = true;
    char err[512] = "";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0, rc = 1;
    gale_conf_t *overrides = gale_conf_new(), *base = gale_conf_new();
    void *lib = NULL;
    gale__topology_t *topo = NULL;
    gale__rt_t *rt = NULL;
    if (!pos || !overrides || !base) goto out;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!opts || a[0] != '-') {
            pos[npos++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            opts = false;
        } else if (strcmp(a, "--config") == 0 && has_val) {
            config = argv[++i];
        } else if (strcmp(a, "-c") == 0 && has_val) {
            if (gale__conf_parse_kv(overrides, argv[++i], err, sizeof err)) {
                fprintf(stderr, "gale: %s\n", err);
                goto out;
            }
        } else if (strcmp(a, "--local-ttl") == 0 && has_val) {
            char *end;
            errno = 0;
            ttl = strtol(argv[++i], &end, 10);
            ttl_given = true;
            if (*end || errno || ttl <= 0 || ttl > MAX_TTL_SECS) {
                fprintf(stderr, "gale: --local-ttl '%s': expected whole seconds from 1 to %d\n",
                        argv[i], MAX_TTL_SECS);
                goto out;
            }
        } else if (strcmp(a, "--until-done") == 0) {
            until_done = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_local();
            rc = 0;
            goto out;
        } else if (npos < 2) {
            fprintf(stderr, "gale local: unknown option '%s' (or it needs a value)\n", a);
            usage_local();
            goto out;
        } else {
            pos[npos++] = argv[i]; /* an option of the entry's own */
        }
    }
    if (npos < 2) {
        fprintf(stderr, "gale local: expected <topology.so> <EntryFunction>\n");
        usage_local();
        goto out;
    }
    if (config && gale__conf_load_yaml(base, config, err, sizeof err)) {
        fprintf(stderr, "gale: %s\n", err);
        goto out;
    }
    set_log_level(gale_conf_get_str(overrides, GALE_CONF_LOG_LEVEL,
                                    gale_conf_get_str(base, GALE_CONF_LOG_LEVEL, NULL)));
    if (gale__load_topology(pos[0], pos[1], npos - 2, pos + 2, &lib, &topo)) goto out;

    int rc_new = gale__rt_new(&rt, topo, base, overrides, resolve_symbol, lib, err, sizeof err);
    topo = NULL; /* owned (or already freed) by gale__rt_new */
    if (rc_new) {
        fprintf(stderr, "gale: %s\n", err);
        goto out;
    }
    /* the topology conf may set the level too (it is merged now) */
    set_log_level(gale_conf_get_str(rt->conf, GALE_CONF_LOG_LEVEL, NULL));

    /* Signals go to sigtimedwait below; executor threads inherit the
     * blocked mask. Until here Ctrl-C simply ends the process. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (gale__rt_start(rt, err, sizeof err)) {
        fprintf(stderr, "gale: %s\n", err);
        gale__rt_stop(rt, 0);
        goto out;
    }
    if (until_done && !gale__rt_has_finite_spouts(rt)) {
        GALE_WARN(NULL, 0,
                  "--until-done: no spout of this topology is finite; stopping after "
                  "--local-ttl %ld s instead",
                  ttl);
        until_done = false;
    }
    GALE_INFO(NULL, 0, "local mode: %s", until_done ? "until done" : "running");
    int64_t deadline = gale__now_ns() + (int64_t)ttl * 1000000000;
    const char *why = "ttl";
    int64_t next_progress = gale__now_ns() + 10 * 1000000000LL;
    for (;;) {
        /* Wake only for what is due: the TTL, the next progress line, or
         * (--until-done) the next look at whether the spouts are done. */
        int64_t wake = next_progress < deadline ? next_progress : deadline;
        if (until_done && wake > gale__now_ns() + 20000000) wake = gale__now_ns() + 20000000;
        int64_t wait_ns = wake - gale__now_ns();
        if (wait_ns < 1000000) wait_ns = 1000000;
        struct timespec tick = {wait_ns / 1000000000, wait_ns % 1000000000};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            why = sig == SIGINT ? "SIGINT" : "SIGTERM";
            break;
        }
        if (until_done && gale__rt_done(rt)) {
            why = "done";
            break;
        }
        if ((!until_done || ttl_given) && gale__now_ns() >= deadline) {
            if (until_done) {
                why = "ttl before done";
                rc = 3;
            }
            break;
        }
        if (gale__now_ns() >= next_progress) {
            next_progress += 10 * 1000000000LL;
            log_progress(rt);
        }
    }
    GALE_INFO(NULL, 0, "stopping (%s): deactivating spouts, draining in-flight tuples", why);
    /* drain for at most the message timeout (capped): trees still in
     * flight then would time out anyway */
    int64_t timeout_s = gale_conf_get_int(rt->conf, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 30);
    gale__rt_stop(rt, (int)(timeout_s * 1000 < 10000 ? timeout_s * 1000 : 10000));
    log_summary(rt);
    if (rc == 3)
        GALE_ERROR(NULL, 0,
                   "--until-done: not every spout was done after --local-ttl %ld s: "
                   "see failed counts above; raise --local-ttl if the input is just large",
                   ttl);
    else
        rc = 0;
    GALE_INFO(NULL, 0, "stopped");
out:
    gale__rt_destroy(rt);
    gale__topology_destroy(topo);
    if (lib) dlclose(lib);
    gale_conf_destroy(overrides);
    gale_conf_destroy(base);
    free(pos);
    return rc;
}
