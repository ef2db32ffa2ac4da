/*
 * gale.c — the gale command's verb dispatch, help, error lines and
 * `gale conf`.
 *
 * Every verb parses its arguments with cli/options.c, prints --help on
 * stdout with exit 0, and exits 2 on a usage error (one line on stderr).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "common/config.h"
#include "common/log.h"
#include "common/text.h"

void gale__cli_error(const char *fmt, ...) {
    char msg[2048], line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    gale__escape_ctl(line, sizeof line, msg, len);
    fprintf(stderr, "%s\n", line);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: gale <command> [args...]\n"
            "  local <topology.so> <Entry> [args]  run a topology in this process\n"
            "  nimbus                              run the cluster's master daemon\n"
            "  supervisor                          run a host's worker daemon\n"
            "  drpc-server                         run a DRPC server\n"
            "  ui                                  run the web UI, REST API and /metrics daemon\n"
            "  drpc FUNCTION ARGS                  call a DRPC function, print its result\n"
            "  jar <topology.so> <Entry> [args]    submit a topology to the cluster\n"
            "  list                                the topologies on the cluster\n"
            "  kill | activate | deactivate NAME   a topology's life cycle\n"
            "  rebalance NAME [-n N] [-e C=N]      spread a topology again\n"
            "  logs NAME [-c COMP | -p PORT] [-f]  print or follow a topology's worker logs\n"
            "  conf --list | --markdown            the configuration keys\n"
            "  worker --topology-id ID --port P    one worker (started by a supervisor)\n"
            "  version                             print the version\n"
            "run 'gale <command> --help' for a command's options\n");
}

static const gale__opt_t conf_opts[] = {
    {"--list", NULL, "print every configuration key with its type, default and scope"},
    {"--markdown", NULL, "print CONFIGURATION.md"},
    {NULL, NULL, NULL},
};
static const gale__optspec_t conf_spec = {"gale conf", "gale conf --list | --markdown", conf_opts,
                                          NULL};

int gale__cli_conf(int argc, char **argv) {
    char err[512];
    gale__opts_t o;
    int rc = gale__opts_parse(&conf_spec, argc, argv, &o, err, sizeof err);
    if (rc) {
        gale__cli_error("%s", err);
    } else if (o.help) {
        gale__opts_usage(stdout, &conf_spec);
    } else if (o.n_hits != 1 || o.npos) {
        gale__cli_error("gale conf: expected exactly one of --list or --markdown");
        rc = GALE__EXIT_USAGE;
    } else if (strcmp(o.hits[0].opt->name, "--list") == 0) {
        gale__conf_print_list(stdout);
    } else {
        gale__conf_print_markdown(stdout);
    }
    gale__opts_free(&o);
    return rc;
}

/* --config and -c as on every verb; the version does not depend on them,
 * but a script passing them to every verb must not break here. */
static const gale__opt_t version_opts[] = {
    {"--config", "FILE", "gale.yaml to read (checked, not needed)"},
    {"-c", "key=value", "override a config key (checked, not needed)"},
    {NULL, NULL, NULL},
};
static const gale__optspec_t version_spec = {"gale version", "gale version [options]", version_opts,
                                             NULL};

static int cli_version(int argc, char **argv) {
    char err[512];
    gale__opts_t o;
    int rc = gale__opts_parse(&version_spec, argc, argv, &o, err, sizeof err);
    if (rc) {
        gale__cli_error("%s", err);
    } else if (o.help) {
        gale__opts_usage(stdout, &version_spec);
    } else if (o.npos) {
        gale__cli_error("gale version: takes no arguments");
        rc = GALE__EXIT_USAGE;
    } else {
        gale_conf_t *c = gale_conf_new();
        for (size_t i = 0; c && !rc && i < o.n_hits; i++) {
            const char *name = o.hits[i].opt->name, *v = o.hits[i].value;
            if (strcmp(name, "-c") == 0 && gale__conf_parse_kv(c, v, err, sizeof err))
                rc = GALE__EXIT_USAGE;
            if (strcmp(name, "--config") == 0 && gale__conf_load_yaml(c, v, err, sizeof err))
                rc = 1;
        }
        gale_conf_destroy(c);
        if (rc)
            gale__cli_error("gale version: %s", err);
        else
            printf("gale %s\n", GALE_VERSION_STR);
    }
    gale__opts_free(&o);
    return rc;
}

int gale_cli_main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return GALE__EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "local") == 0) {
        gale__log_set_process("gale-local");
        return gale__cli_local(argc - 2, argv + 2);
    }
    if (strcmp(verb, "conf") == 0) return gale__cli_conf(argc - 2, argv + 2);
    if (strcmp(verb, "worker") == 0) return gale__cli_worker(argc - 2, argv + 2);
    if (strcmp(verb, "drpc") == 0) return gale__cli_drpc(argc - 2, argv + 2);
    int rc = gale__cli_cluster(verb, argc - 2, argv + 2);
    if (rc < 0) rc = gale__cli_daemon(verb, argc - 2, argv + 2);
    if (rc >= 0) return rc;
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0)
        return cli_version(argc - 2, argv + 2);
    if (strcmp(verb, "help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
        if (argc > 2 && verb[0] != '-') { /* `gale help local`: that verb's help */
            char *args[] = {argv[0], argv[2], (char *)"--help", NULL};
            return gale_cli_main(3, args);
        }
        usage(stdout);
        return 0;
    }
    static const char *const verbs[] = {"local",       "conf",      "version", "help", "nimbus",
                                        "supervisor",  "jar",       "list",    "kill", "activate",
                                        "deactivate",  "rebalance", "worker",  "logs", "drpc",
                                        "drpc-server", "ui"};
    size_t n_verbs = sizeof verbs / sizeof verbs[0];
    if (verb[0] == '-') {            /* `gale -c k=v list ...`: a verb's option put first */
        const char *named = "local"; /* the verb given later, if any */
        for (int i = argc - 1; i >= 2; i--)
            for (size_t k = 0; k < n_verbs; k++)
                if (strcmp(argv[i], verbs[k]) == 0) named = verbs[k]; /* the first one wins */
        gale__cli_error("gale: '%s' is an option, and options go after the command: gale %s "
                        "%s ... (see 'gale %s --help')",
                        verb, named, verb, named);
        return GALE__EXIT_USAGE;
    }
    const char *near = gale__nearest(verb, verbs, n_verbs);
    gale__cli_error("gale: unknown command '%s' (did you mean '%s'?): run 'gale --help'", verb,
                    near);
    return GALE__EXIT_USAGE;
}
