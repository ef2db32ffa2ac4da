/*
 * daemons.c — `gale nimbus`, `gale supervisor`, `gale ui` and `gale drpc-server`: read the daemon
 * config (defaults < --config FILE < -c key=value), validate it, and hand
 * it to the daemon's run function, which returns the exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "drpc/server.h"
#include "nimbus/nimbus.h"
#include "supervisor/supervisor.h"
#include "ui/ui.h"

static const gale__opt_t daemon_opts[] = {
    {"--config", "FILE", "gale.yaml to read (default: none)"},
    {"-c", "key=value", "override a config key (repeatable)"},
    {NULL, NULL, NULL},
};
static const gale__optspec_t nimbus_spec = {"gale nimbus", "gale nimbus [options]", daemon_opts,
                                            NULL};
static const gale__optspec_t supervisor_spec = {"gale supervisor", "gale supervisor [options]",
                                                daemon_opts, NULL};

static const gale__optspec_t drpc_server_spec = {"gale drpc-server", "gale drpc-server [options]",
                                                 daemon_opts, NULL};

static const gale__optspec_t ui_spec = {"gale ui", "gale ui [options]", daemon_opts, NULL};

/* A relative gale.local.dir or gale.log.dir (the defaults are) is taken
 * against the directory the daemon starts in, once: its log lines, its
 * workers' command lines and everything it writes then name absolute
 * paths, so an operator sees where its state is whatever cwd they are in. */
static int absolute_dirs(gale_conf_t *conf, char *err, size_t errlen) {
    static const char *const keys[] = {GALE_CONF_LOCAL_DIR, GALE_CONF_LOG_DIR};
    char path[8192];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *dir = gale_conf_get_str(conf, keys[i], NULL);
        if (!dir || dir[0] == '/') continue;
        if (gale_path_absolute(dir, path, sizeof path) == dir) {
            snprintf(err, errlen,
                     "%s '%s' is relative and cannot be made absolute (current directory "
                     "unknown, or too long a path): give an absolute path",
                     keys[i], dir);
            return -1;
        }
        if (gale_conf_set_str(conf, keys[i], path)) {
            snprintf(err, errlen, "%s: out of memory", keys[i]);
            return -1;
        }
    }
    return 0;
}

/* A daemon's log level: -c gale.log.level, else GALE_LOG_LEVEL (read at
 * start, common/log.c), else gale.yaml's or the default. */
static void apply_log_level(const gale_conf_t *conf, const gale_conf_t *over) {
    const char *lvl = gale_conf_get_str(over, GALE_CONF_LOG_LEVEL, NULL);
    if (!lvl && !getenv("GALE_LOG_LEVEL")) lvl = gale_conf_get_str(conf, GALE_CONF_LOG_LEVEL, NULL);
    int level = lvl ? gale__log_level_parse(lvl) : -1;
    if (level >= 0) gale__log_set_level((gale_log_level_t)level);
}

/* Nimbus and supervisors keep their state in gale.local.dir: two of a kind
 * sharing one (a second supervisor started there by mistake) would take
 * each other's socket, id and port files. The second is refused while the
 * first lives (<local>/<daemon>.lock; the lock dies with its process). */
static int lock_local_dir(const gale_conf_t *conf, const char *daemon, char *err, size_t errlen) {
    const char *local = gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local");
    char path[8192], why[512];
    long holder;
    if (gale__mkdirs(local, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/%s.lock", local, daemon);
    int rc = gale__lock_hold(path, &holder, why, sizeof why);
    if (rc == GALE_ESTATE)
        snprintf(err, errlen,
                 "gale.local.dir %s is in use by another %s (pid %ld): give each %s its own "
                 "gale.local.dir, or stop that one first",
                 local, daemon, holder, daemon);
    else if (rc)
        snprintf(err, errlen, "%s", why);
    return rc ? -1 : 0;
}

static int run(const gale__optspec_t *spec, int (*fn)(const gale_conf_t *), int argc, char **argv) {
    char err[1024];
    gale__opts_t o;
    int rc = gale__opts_parse(spec, argc, argv, &o, err, sizeof err);
    gale_conf_t *conf = gale_conf_new(), *over = gale_conf_new();
    if (rc) {
        gale__cli_error("%s", err);
        goto out;
    }
    if (o.help) {
        gale__opts_usage(stdout, spec);
        goto out;
    }
    rc = GALE__EXIT_USAGE;
    if (o.npos) {
        gale__cli_error("%s: takes no arguments (got '%s')", spec->verb, o.pos[0]);
        goto out;
    }
    const char *config = NULL;
    for (size_t i = 0; i < o.n_hits; i++) {
        if (strcmp(o.hits[i].opt->name, "--config") == 0) config = o.hits[i].value;
        if (strcmp(o.hits[i].opt->name, "-c") == 0 &&
            gale__conf_parse_kv(over, o.hits[i].value, err, sizeof err)) {
            gale__cli_error("%s: %s", spec->verb, err);
            goto out;
        }
    }
    rc = 1;
    if (!conf || !over || gale__conf_set_defaults(conf)) goto out;
    if (config && gale__conf_load_yaml(conf, config, err, sizeof err)) {
        gale__cli_error("%s: %s", spec->verb, err);
        goto out;
    }
    gale__conf_merge(conf, over);
    /* unknown keys were named where they were read: gale.yaml warns, -c refuses */
    if (gale__conf_validate_values(conf, "daemon conf", err, sizeof err) ||
        absolute_dirs(conf, err, sizeof err)) {
        gale__cli_error("%s: %s", spec->verb, err);
        goto out;
    }
    apply_log_level(conf, over);
    bool stateful = spec == &nimbus_spec || spec == &supervisor_spec;
    if (stateful && lock_local_dir(conf, spec->verb + strlen("gale "), err, sizeof err)) {
        gale__cli_error("%s: %s", spec->verb, err);
        goto out;
    }
    rc = fn(conf);
out:
    gale_conf_destroy(conf);
    gale_conf_destroy(over);
    gale__opts_free(&o);
    return rc;
}

int gale__cli_daemon(const char *verb, int argc, char **argv) {
    if (strcmp(verb, "nimbus") == 0) return run(&nimbus_spec, gale__nimbus_run, argc, argv);
    if (strcmp(verb, "supervisor") == 0)
        return run(&supervisor_spec, gale__supervisor_run, argc, argv);
    if (strcmp(verb, "ui") == 0) return run(&ui_spec, gale__ui_run, argc, argv);
    if (strcmp(verb, "drpc-server") == 0)
        return run(&drpc_server_spec, gale__drpc_server_run, argc, argv);
    return -1;
}
