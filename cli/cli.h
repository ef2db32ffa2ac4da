/*
 * cli.h — the verbs of the gale command. Each takes the arguments after
 * the verb and returns the process exit code.
 */
#ifndef GALE_CLI_CLI_H
#define GALE_CLI_CLI_H

#include "gale/gale.h"
#include "topology/topology.h"

int gale__cli_local(int argc, char **argv);
int gale__cli_conf(int argc, char **argv);
/** @brief jar, list, kill, activate, deactivate, rebalance, logs (cluster.c); -1: not one of them.
 */
int gale__cli_cluster(const char *verb, int argc, char **argv);
/** @brief nimbus, supervisor, drpc-server (daemons.c); -1: not one of them. */
int gale__cli_daemon(const char *verb, int argc, char **argv);
int gale__cli_worker(int argc, char **argv);
/** @brief `gale drpc FUNCTION ARGS` (drpc.c). */
int gale__cli_drpc(int argc, char **argv);

/**
 * @brief dlopen path, call entry with argv, return the validated,
 * task-assigned topology it submitted. Prints one line and returns 1 on
 * any error (missing file, not a library, missing entry, invalid topology).
 * *lib stays open for the topology's symbols: dlclose it when done.
 */
int gale__load_topology(const char *path, const char *entry, int argc, char **argv,
                        const gale_conf_t *base, const gale_conf_t *overrides, void **lib,
                        gale__topology_t **out);

/** @brief Print one error line to stderr with control characters escaped
 * (user input such as file names must not reach the terminal raw). */
void gale__cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** @brief Name the component and task in a last log line when the process
 * crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) in user code. */
void gale__crash_handler_install(void);

/** @brief The gale command: argv[0] is the program, argv[1] the verb.
 * Exported so the thin `gale` binary shares libgale with topologies. */
GALE_EXPORT int gale_cli_main(int argc, char **argv);

#endif
