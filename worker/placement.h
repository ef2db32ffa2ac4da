/*
 * placement.h — which worker process runs each executor of a topology in
 * a cluster, where every worker listens, and which one is this process:
 * what a cluster worker's runtime needs from its assignment file.
 *
 * Workers are numbered here, in the order their slots first appear in
 * the assignment. The numbers never leave this process (the wire speaks
 * of tasks and executor indexes, which every worker derives alike from
 * the topology), so two workers may number each other differently.
 */
#ifndef GALE_WORKER_PLACEMENT_H
#define GALE_WORKER_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/control.h"

typedef struct gale__place_exec {
    int32_t start, end; /* task range */
    int worker;         /* index into endpoints */
} gale__place_exec_t;

typedef struct gale__rt_place {
    size_t n_workers;
    int here;         /* this process's worker */
    char **endpoints; /* per worker: "tcp://host:port" (here: the bind address) */
    gale__place_exec_t *execs;
    size_t n_execs;
} gale__rt_place_t;

/**
 * @brief The placement of assignment a for the worker of supervisor sid
 * on port. bind_host is where this worker binds (gale.local.hostname).
 * GALE_ENOENT when no executor of a is on that slot, GALE_EINVAL for
 * overlapping task ranges; one line in err.
 */
int gale__place_from_assignment(const gale__ctl_topology_assignment_t *a, const char *sid, int port,
                                const char *bind_host, gale__rt_place_t *out, char *err,
                                size_t errlen);
/** @brief The worker of the executor whose tasks are [start, end], or -1. */
int gale__place_worker_of(const gale__rt_place_t *p, int32_t start, int32_t end);
/** @brief Same executors on the same workers (endpoints aside). */
bool gale__place_same_layout(const gale__rt_place_t *a, const gale__rt_place_t *b);
void gale__place_free(gale__rt_place_t *p);

#endif
