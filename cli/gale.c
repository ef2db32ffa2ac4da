/*
 * gale.c — the gale command's verb dispatch, help and `gale conf`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"

static void usage(FILE *f) {
    fprintf(f, "usage: gale <command> [args...]\n"
               "  local <topology.so> <Entry> [args]  run a topology in this process\n"
               "  conf --list | --markdown            the configuration keys\n"
               "  version                             print the version\n"
               "run 'gale local --help' for local mode's options\n");
}

int gale__cli_conf(int argc, char **argv) {
    if (argc == 1 && strcmp(argv[0], "--list") == 0) {
        gale__conf_print_list(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        gale__conf_print_markdown(stdout);
        return 0;
    }
    fprintf(stderr, "gale conf: expected --list or --markdown\n");
    return 2;
}

int gale_cli_main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "local") == 0) {
        gale__log_set_process("gale-local");
        return gale__cli_local(argc - 2, argv + 2);
    }
    if (strcmp(verb, "conf") == 0) return gale__cli_conf(argc - 2, argv + 2);
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("gale %s\n", GALE_VERSION_STR);
        return 0;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "gale: unknown command '%s'\n", verb);
    usage(stderr);
    return 2;
}
