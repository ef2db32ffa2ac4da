/*
 * drpc.c — `gale drpc FUNCTION ARGS`, Storm's DRPC client: send one
 * request to the DRPC server (drpc.servers' first host, drpc.port),
 * print its result and exit 0; one line on stderr and exit 1 on an error
 * (unknown function, timeout, failure, server down or gone); exit 2 on a
 * usage error. The wait is the server's drpc.request.timeout.secs plus a
 * margin, so the server's own timeout line is what the user sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/config.h"
#include "common/control.h"
#include "drpc/client.h"
#include "drpc/server.h"

#define CONNECT_MS 3000
#define MARGIN_MS  5000

static const gale__opt_t drpc_opts[] = {
    {"--config", "FILE", "gale.yaml to read (default: none)"},
    {"-c", "key=value", "override a config key (repeatable), e.g. -c drpc.port=3772"},
    {NULL, NULL, NULL},
};
static const gale__optspec_t drpc_spec = {"gale drpc", "gale drpc [options] FUNCTION ARGS",
                                          drpc_opts, NULL};

int gale__cli_drpc(int argc, char **argv) {
    char err[4096];
    gale__opts_t o;
    int rc = gale__opts_parse(&drpc_spec, argc, argv, &o, err, sizeof err);
    gale_conf_t *conf = gale_conf_new(), *over = gale_conf_new();
    gale__drpc_client_t *c = NULL;
    char *result = NULL;
    if (rc) {
        gale__cli_error("%s", err);
        goto out;
    }
    if (o.help) {
        gale__opts_usage(stdout, &drpc_spec);
        goto out;
    }
    rc = GALE__EXIT_USAGE;
    if (o.npos != 2) {
        gale__cli_error("gale drpc: expected FUNCTION ARGS (got %d argument%s): quote ARGS that "
                        "hold spaces, e.g. gale drpc words \"cow moon\"",
                        o.npos, o.npos == 1 ? "" : "s");
        goto out;
    }
    const char *config = NULL;
    for (size_t i = 0; i < o.n_hits; i++) {
        if (strcmp(o.hits[i].opt->name, "--config") == 0) config = o.hits[i].value;
        if (strcmp(o.hits[i].opt->name, "-c") == 0 &&
            gale__conf_parse_kv(over, o.hits[i].value, err, sizeof err)) {
            gale__cli_error("gale drpc: %s", err);
            goto out;
        }
    }
    const char *function = o.pos[0], *args = o.pos[1];
    if (!*function || strlen(function) > GALE_DRPC_FUNCTION_MAX) {
        gale__cli_error("gale drpc: FUNCTION must be 1..%u bytes long", GALE_DRPC_FUNCTION_MAX);
        goto out;
    }
    if (strlen(args) > GALE_DRPC_TEXT_MAX) {
        gale__cli_error("gale drpc: ARGS is over %u bytes", GALE_DRPC_TEXT_MAX);
        goto out;
    }
    rc = 1;
    if (!conf || !over || gale__conf_set_defaults(conf)) goto out;
    if (config && gale__conf_load_yaml(conf, config, err, sizeof err)) {
        gale__cli_error("gale drpc: %s", err);
        goto out;
    }
    gale__conf_merge(conf, over);
    if (gale__conf_validate(conf, "gale drpc", err, sizeof err)) {
        gale__cli_error("gale drpc: %s", err);
        goto out;
    }
    char host[256];
    gale__drpc_first_host(conf, host, sizeof host);
    int port = (int)gale_conf_get_int(conf, GALE_CONF_DRPC_PORT, 3772);
    if (port == 0) {
        gale__cli_error("gale drpc: drpc.port is 0: give the port the server bound (its "
                        "<gale.local.dir>/drpc.port), e.g. -c drpc.port=3772");
        rc = GALE__EXIT_USAGE;
        goto out;
    }
    int64_t timeout_s = gale_conf_get_int(conf, GALE_CONF_DRPC_REQUEST_TIMEOUT_SECS, 600);
    c = gale__drpc_client_new(host, port, err, sizeof err);
    if (!c) {
        gale__cli_error("gale drpc: %s", err);
        goto out;
    }
    if (gale__drpc_client_execute(c, function, args, CONNECT_MS,
                                  (int)(timeout_s * 1000 + MARGIN_MS), &result, err, sizeof err)) {
        gale__cli_error("gale drpc: %s", err);
        goto out;
    }
    printf("%s\n", result);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(result);
    gale__drpc_client_destroy(c);
    gale_conf_destroy(conf);
    gale_conf_destroy(over);
    gale__opts_free(&o);
    return rc;
}
