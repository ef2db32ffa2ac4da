/*
 * executors.h — a topology's executors as task ranges, the one rule that
 * nimbus (to schedule) and a worker (to know what it runs) must share:
 * each component (in id order, after gale__topology_assign_tasks) splits
 * its tasks into `parallelism` contiguous runs, executor k getting tasks
 * [first + n*k/p, first + n*(k+1)/p - 1]; then `ackers` acker executors,
 * one task each, numbered after the last user task. It is the split the
 * runtime's add_executors makes in local mode.
 */
#ifndef GALE_TOPOLOGY_EXECUTORS_H
#define GALE_TOPOLOGY_EXECUTORS_H

#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

typedef struct gale__exec_range {
    int32_t start, end;
} gale__exec_range_t;

/**
 * @brief How many acker executors a topology runs: topology.acker.executors
 * from conf when set, else one per worker (workers: the count it runs on
 * now, which a rebalance changes).
 */
int gale__topology_ackers(const gale_conf_t *conf, int workers);

/**
 * @brief The executors of t (tasks assigned) plus `ackers` ackers, in a
 * malloc'ed array the caller frees. 0 or GALE_ENOMEM.
 */
int gale__topology_executors(const gale__topology_t *t, int ackers, gale__exec_range_t **out,
                             size_t *n);

#endif
