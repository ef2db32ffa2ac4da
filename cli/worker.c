/*
 * worker.c — `gale worker`, the verb a supervisor starts for each slot
 * (never run by hand; its command line names the topology and port so an
 * operator sees them in ps). Only the command line is read here; the
 * worker itself is worker/worker_main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/config.h"
#include "worker/stormdist.h"
#include "worker/worker_main.h"

static const gale__opt_t worker_opts[] = {
    {"--topology-id", "ID", "the topology whose executors to run (required)"},
    {"--port", "PORT", "the slot: data port to bind, 1..65535 (required)"},
    {"--supervisor-id", "SID", "the supervisor that started this worker (required)"},
    {"--config", "FILE", "gale.yaml to read (default: none)"},
    {"-c", "key=value", "override a config key (repeatable)"},
    {NULL, NULL, NULL},
};

static const gale__optspec_t worker_spec = {
    "gale worker",
    "gale worker --topology-id ID --port PORT --supervisor-id SID [options] (started by a "
    "supervisor)",
    worker_opts, NULL};

int gale__cli_worker(int argc, char **argv) {
    char err[512] = "";
    gale__opts_t o;
    gale__worker_args_t a = {0};
    const char *config = NULL;
    gale_conf_t *conf = gale_conf_new(), *overrides = gale_conf_new();
    int rc = gale__opts_parse(&worker_spec, argc, argv, &o, err, sizeof err);
    if (rc) {
        gale__cli_error("%s", err);
        goto out;
    }
    if (o.help) {
        gale__opts_usage(stdout, &worker_spec);
        goto out;
    }
    rc = 1;
    if (!conf || !overrides || gale__conf_set_defaults(conf)) goto out;
    rc = GALE__EXIT_USAGE;
    for (size_t i = 0; i < o.n_hits; i++) {
        const char *name = o.hits[i].opt->name, *v = o.hits[i].value;
        if (strcmp(name, "--topology-id") == 0) {
            a.topology_id = v;
        } else if (strcmp(name, "--supervisor-id") == 0) {
            a.supervisor_id = v;
        } else if (strcmp(name, "--config") == 0) {
            config = v;
        } else if (strcmp(name, "--port") == 0) {
            char *end;
            errno = 0;
            long p = strtol(v, &end, 10);
            if (!*v || *end || errno || p < 1 || p > 65535) {
                gale__cli_error("gale worker: --port '%s': expected a port from 1 to 65535", v);
                goto out;
            }
            a.port = (int)p;
        } else if (strcmp(name, "-c") == 0 && gale__conf_parse_kv(overrides, v, err, sizeof err)) {
            gale__cli_error("gale: %s", err);
            goto out;
        }
    }
    if (o.npos || !a.topology_id || !a.port || !a.supervisor_id) {
        gale__cli_error("gale worker: needs --topology-id, --port and --supervisor-id and no "
                        "other arguments: see 'gale worker --help'");
        goto out;
    }
    if (!gale__topology_id_ok(a.topology_id) || !gale__topology_id_ok(a.supervisor_id)) {
        gale__cli_error("gale worker: topology and supervisor ids are made of letters, digits, "
                        "'.', '_' and '-'");
        goto out;
    }
    rc = 1;
    if (config && gale__conf_load_yaml(conf, config, err, sizeof err)) {
        gale__cli_error("gale: %s", err);
        goto out;
    }
    if (gale__conf_merge(conf, overrides)) goto out;
    a.conf = conf;
    a.overrides = overrides;
    gale__crash_handler_install();
    rc = gale__worker_run(&a);
out:
    gale__opts_free(&o);
    gale_conf_destroy(conf);
    gale_conf_destroy(overrides);
    return rc;
}
