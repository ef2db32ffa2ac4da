/*
 * worker_main.h — one cluster worker process (`gale worker`): the
 * executors nimbus assigned to one slot, run by the same runtime as
 * local mode with tcp between workers. cli/worker.c parses the command
 * line; everything else is here.
 */
#ifndef GALE_WORKER_WORKER_MAIN_H
#define GALE_WORKER_WORKER_MAIN_H

#include "gale/gale.h"

/* Exit codes (cluster contract): anything else means it crashed. */
enum {
    GALE__WORKER_EXIT_OK = 0,         /* stopped by SIGTERM/SIGINT, cleanly */
    GALE__WORKER_EXIT_FAILED = 1,     /* a component failed at run time */
    GALE__WORKER_EXIT_ORPHANED = 20,  /* no supervisor reply for supervisor.worker.timeout.secs */
    GALE__WORKER_EXIT_BAD_FILES = 21, /* stormdist or assignment files unusable (logged) */
    GALE__WORKER_EXIT_REGROUPED = 22, /* SIGHUP: peers regrouped beyond a reconnect: restart me */
};

typedef struct gale__worker_args {
    const char *topology_id;
    int port;
    const char *supervisor_id;
    const gale_conf_t *conf;      /* defaults < gale.yaml < -c */
    const gale_conf_t *overrides; /* the -c values alone (they also win over the topology) */
} gale__worker_args_t;

/** @brief Run the worker until it is stopped; returns the exit code. */
int gale__worker_run(const gale__worker_args_t *a);

#endif
