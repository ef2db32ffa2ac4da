/*
 * scheduler.h — where a topology's executors run: Storm's even scheduler
 * as a pure function (issue 8 item 2; DESIGN §10 "Assignment"). No I/O,
 * no clock, no globals: the same input always gives the same assignment,
 * so nimbus can call it on submit, on rebalance, when a supervisor or a
 * worker is lost and after its own restart, and tests can call it alone.
 *
 * The rule, as in Storm's EvenScheduler:
 *  - executors of the current assignment whose worker is still alive
 *    (`keep`) stay in their slot, so a restarted nimbus moves nothing
 *    that still runs;
 *  - the free slots are ordered so that workers spread over supervisors
 *    first: supervisors with the most free slots first (ties by id), and
 *    their ports taken in turn — A:6700, B:6700, A:6701, B:6701, ...;
 *  - the topology gets min(workers, kept slots + free slots) slots, and
 *    never a slot with nothing to run;
 *  - the executors not kept go round-robin over the new slots (over the
 *    kept slots when no slot is new).
 * A kept entry whose supervisor is gone, whose port that supervisor no
 * longer offers, or whose task range is no longer an executor is dropped,
 * and its executor placed again: that is how the work of a lost
 * supervisor moves. When the kept slots alone exceed the requested
 * workers (a rebalance to fewer), nothing is kept.
 */
#ifndef GALE_NIMBUS_SCHEDULER_H
#define GALE_NIMBUS_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gale/gale.h"

/* An executor: the task ids [start, end] it runs (start >= 1). */
typedef struct gale__sched_executor {
    int32_t start, end;
} gale__sched_executor_t;

/* A live supervisor and the slots this topology may use there: ports not
 * used by other topologies (those used by this topology included). */
typedef struct gale__sched_supervisor {
    const char *id;
    const char *host;
    const int *ports; /* 1..65535, each once */
    size_t n_ports;
} gale__sched_supervisor_t;

/* Where one executor runs. On output, supervisor and host point at the
 * input's supervisors' strings. */
typedef struct gale__sched_place {
    int32_t start, end;
    const char *supervisor;
    const char *host;
    int port;
} gale__sched_place_t;

typedef struct gale__sched_input {
    const gale__sched_executor_t *executors; /* every executor, ackers included */
    size_t n_executors;
    int workers; /* requested (topology.workers), >= 1 */
    const gale__sched_supervisor_t *supervisors;
    size_t n_supervisors;
    const gale__sched_place_t *keep; /* live part of the current assignment (host ignored) */
    size_t n_keep;
    uint64_t version; /* of the current assignment; 0 = none yet */
} gale__sched_input_t;

typedef struct gale__sched_result {
    gale__sched_place_t *places; /* one per executor, in the input's order */
    size_t n_places;
    int workers;      /* distinct slots used */
    bool changed;     /* differs from the kept assignment */
    uint64_t version; /* version + 1 when changed, else version */
    char note[192];   /* "" or why fewer workers than requested run */
} gale__sched_result_t;

/**
 * @brief Assign in->executors to slots (see the rule above) into *out,
 * which the caller frees with gale__sched_result_free. GALE_EINVAL for a
 * malformed input, GALE_ENOENT when there is no slot at all ("no free
 * worker slots: ..."), each with one line in err. Fewer slots than
 * workers is not an error: the slots that exist are used and out->note
 * says so.
 */
int gale__schedule(const gale__sched_input_t *in, gale__sched_result_t *out, char *err,
                   size_t errlen);

/** @brief Free out->places; accepts NULL. */
void gale__sched_result_free(gale__sched_result_t *out);

#endif
