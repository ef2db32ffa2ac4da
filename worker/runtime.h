/*
 * runtime.h — the worker runtime: the executors, tasks, tuples, lanes and
 * acking of one topology inside one process.
 *
 * A runtime hosts some workers of a topology (all of them in `gale local`,
 * one in a cluster worker process). Each worker owns executors (threads)
 * that run the tasks of one component each.
 *
 * Data path. An emit picks target tasks with the stream's groupers, builds
 * one tuple per target in the emitting thread's pool and appends it to the
 * producer's outgoing batch for the target's *lane*: the target
 * executor's receive queue when it is in the same worker (pointer passing,
 * no serialization), or this worker's transfer lane for that remote
 * executor. Batches flush when full, when the producer goes idle and at
 * the end of each input batch. The transfer thread (transfer.c) drains
 * remote lanes as far as the receiver's credits allow, encodes msgpack
 * batches and sends them over ZeroMQ; the receiver's receive thread
 * decodes them into tuples and delivers them to executor queues.
 *
 * Backpressure. Every queue is bounded. A bolt whose target lane is full
 * waits (its own queue then fills, and so on upstream). A spout never
 * waits: what it could not deliver stays in its outgoing batch and
 * next_tuple is not called again until it drained. Remote delivery is
 * credit-based per destination executor, so neither the transfer nor the
 * receive thread ever blocks on one slow executor (no head-of-line
 * deadlock). Waits-for edges follow the data flow (bolt -> downstream,
 * bolt -> acker -> spout) and topologies are acyclic, so nothing
 * deadlocks.
 *
 * Acking (Storm's XOR scheme). A spout tuple with a message id gets a
 * random 64-bit root; each edge (tuple sent to one task) a random id.
 * The acker task (root % ackers) XORs what it hears: the spout's init
 * (XOR of its edges), each bolt's ack (the input's edge XOR the edges it
 * emitted anchored to it). Zero means the tree completed; the acker tells
 * the spout task, which calls ack(msg_id). Timeouts live in the spout's
 * pending map, rotated every timeout T: a tree fails between T and 2T.
 * A producer in the acker's worker applies its messages for a sleeping
 * acker itself instead of waking it (executor.c, "acking inline").
 *
 * Life cycle. Each executor opens its tasks on its own thread, then waits
 * at a gate until every executor opened. Stopping (gale__rt_stop_ex)
 * deactivates the spouts, then waits until nothing is held anywhere —
 * every queue and lane empty, every executor and transfer thread idle
 * (their busy flags), no tree pending — or the drain time ran out; then
 * executors stop between two tuples, run close/cleanup and return. One
 * still in a callback after a grace time is reported stuck, and the
 * runtime is then left as it is: the process must exit.
 */
#ifndef GALE_WORKER_RUNTIME_H
#define GALE_WORKER_RUNTIME_H

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/histogram.h"
#include "gale/gale.h"
#include "topology/grouping.h"
#include "topology/topology.h"
#include "worker/packing.h"
#include "worker/placement.h"
#include "worker/pool.h"
#include "worker/queue.h"

typedef struct gale__rt gale__rt_t;
typedef struct gale__exec gale__exec_t;
typedef struct gale__worker gale__worker_t;

/* System streams of the acker protocol (values are int64 bit patterns). */
enum {
    GALE__SYS_TICK = 0,    /* [freq_secs] */
    GALE__SYS_ACK_INIT,    /* spout -> acker: [root, xor, spout_task] */
    GALE__SYS_ACK_ACK,     /* bolt -> acker: [root, xor] */
    GALE__SYS_ACK_FAIL,    /* bolt -> acker: [root, xor] */
    GALE__SYS_ACK_RESET,   /* bolt -> acker: [root] */
    GALE__SYS_SPOUT_ACK,   /* acker -> spout: [root] */
    GALE__SYS_SPOUT_FAIL,  /* acker -> spout: [root] */
    GALE__SYS_SPOUT_RESET, /* acker -> spout: [root] */
    GALE__SYS_COUNT
};

typedef struct gale__rstream gale__rstream_t;

/* One subscription of a component to a stream. */
typedef struct gale__sub {
    const gale__input_t *input;
    struct gale__rcomp *target;
} gale__sub_t;

/* A stream at run time: what tuples point at for names and fields. */
struct gale__rstream {
    const char *component;
    const char *id;
    const gale__stream_t *def; /* NULL for system streams */
    int sys;                   /* GALE__SYS_* or -1 */
    gale__sub_t *subs;
    size_t n_subs;
};

typedef struct gale__rcomp {
    const gale__component_t *def; /* NULL for the acker */
    const char *id;
    bool is_spout, is_acker;
    bool debug; /* topology.debug: log every emit */
    const gale_spout_t *spout;
    const gale_bolt_t *bolt;
    gale_conf_t *conf; /* merged: base < topology < component < overrides */
    gale__rstream_t *streams;
    size_t n_streams;
    int default_stream; /* index of "default" in streams, or -1 */
    /* bolts: the stream each input (def->inputs[k]) subscribes to, so a
     * tuple's input is found by comparing t->stream (input_of) */
    const gale__rstream_t **in_streams;
    size_t n_inputs;
    int *tasks; /* sorted */
    size_t n_tasks;
    /* hash of the last line gale__context_error_once logged: the tasks of
     * a component that fail open alike log it once, not once each */
    _Atomic uint64_t error_once_hash;
} gale__rcomp_t;

/* Zeroed memory at align (a power of two, a type's _Alignof): for
 * structs holding the queues' and pools' _Alignas(64) field groups, which
 * calloc's 16-byte alignment would misalign (undefined behaviour, and each
 * group sharing a cache line with its neighbour). NULL when out of memory;
 * free() releases it. */
static inline void *gale__zalloc_aligned(size_t align, size_t size) {
    size = (size + align - 1) / align * align; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(align, size ? size : align);
    if (p) memset(p, 0, size);
    return p;
}

/* The tuple: one block from a pool, values and payload inline. */
struct gale_tuple {
    gale__alloc_hdr_t hdr;
    const gale__rstream_t *stream;
    int32_t src_task;
    int32_t dest_task;
    uint32_t n_values;
    uint32_t n_ids;
    _Atomic uint64_t ack_val; /* XOR of edges emitted anchored to this */
    int64_t arrive_ns;        /* sampled execute latency, 0 = not sampled */
    uint64_t *ids;            /* n_ids pairs (root, edge) */
    gale_value_t values[];    /* then ids, then payload */
};

/*
 * Tuple states (hdr.state; the pool never writes that word). A tuple is
 * LIVE from its creation until it is acked or failed (RELEASED: one CAS,
 * so of two releases only one wins, on any thread); its block goes back
 * to the pool (FREE) only after the callback that released it returned
 * (executor.c, "retired"). So a second ack or an emit anchored to an
 * acked input in the same callback is always detected, and later ones
 * are detected while the block is not reused, without a lock: checking
 * is one load and compare.
 */
enum {
    GALE__TUPLE_FREE = 0,
    GALE__TUPLE_LIVE = 0x4C495645u,    /* "LIVE" */
    GALE__TUPLE_RELEASED = 0x52454C53u /* "RELS" */
};

static inline bool gale__tuple_live(const gale_tuple_t *t) {
    return atomic_load_explicit(&t->hdr.state, memory_order_acquire) == GALE__TUPLE_LIVE;
}

/** @brief Allocate a tuple from pool p (NULL: malloc) with values deep-copied. */
gale_tuple_t *gale__tuple_new(gale__pool_t *p, const gale__rstream_t *s, int src_task,
                              int dest_task, const gale_value_t *vals, size_t n,
                              const uint64_t *ids, size_t n_ids);
/** @brief The same, with extra = the values' gale__value_extra_size sum
 * (from gale__values_check, which also bounded their depth). */
gale_tuple_t *gale__tuple_new_sized(gale__pool_t *p, const gale__rstream_t *s, int src_task,
                                    int dest_task, const gale_value_t *vals, size_t n,
                                    const uint64_t *ids, size_t n_ids, size_t extra);
void gale__tuple_free(gale_tuple_t *t);
/** @brief A tuple from one tuple of a wire batch that gale__batch_decode
 * checked (its values, ids and tasks). NULL on out of memory. */
struct gale__wire_tuple;
gale_tuple_t *gale__tuple_from_wire(gale__pool_t *p, const gale__rstream_t *s,
                                    const struct gale__wire_tuple *wt);

/* Per-executor counters (Storm's names); written by the executor thread
 * (foreign-thread acks use atomic adds), read by samplers with relaxed
 * loads. emitted counts emit calls, transferred the tuples sent to target
 * tasks. Latencies are sums over sampled tuples (topology.stats.sample.rate):
 * execute = time inside execute(), process = arrival to ack/fail,
 * complete = spout emit to the spout's ack. */
typedef struct gale__stats {
    _Atomic uint64_t emitted, transferred, executed, acked, failed_timeout, failed_explicit;
    _Atomic uint64_t execute_samples, execute_ns_sum, process_samples, process_ns_sum;
    _Atomic uint64_t complete_samples, complete_ns_sum;
    _Atomic uint64_t backpressure_waits, errors;
    _Atomic uint64_t ticks;            /* tick tuples executed (not counted in executed) */
    _Atomic uint64_t max_pending_seen; /* spouts: highest pending count of a task */
    _Atomic uint64_t backpressure_ns;  /* time bolts waited on a full target lane */
    /* the sampled latencies again as histograms (common/histogram.h), so
     * percentiles can be read and windows subtracted: GALE__LAT_* */
    _Atomic uint64_t hist[3][GALE__HIST_BINS];
} gale__stats_t;

/* Per output stream of an executor (user streams by index in
 * gale__rcomp_t.streams): tuples emitted and transferred on it and, for
 * spouts, the trees rooted on it that were acked or failed (timeout or
 * explicit) and their sampled complete latency (Storm's spout
 * outputStats). One array per side (executor thread, foreign threads),
 * like the stats. */
typedef struct gale__sstats {
    _Atomic uint64_t emitted, transferred;
    _Atomic uint64_t acked, failed, complete_samples, complete_ns_sum;
} gale__sstats_t;

/* Per input of a bolt executor (by index in gale__rcomp_t.in_streams, the
 * component's inputs: a source component's stream): tuples executed,
 * acked and failed and their sampled execute and process latencies
 * (Storm's bolt inputStats). Two sides, like the stats. */
typedef struct gale__istats {
    _Atomic uint64_t executed, acked, failed;
    _Atomic uint64_t execute_samples, execute_ns_sum, process_samples, process_ns_sum;
} gale__istats_t;

/* The last errors a component reported (gale_report_error), kept per
 * executor for the heartbeat: a small ring under its own lock (errors are
 * rate-limited and never on the hot path). */
#define GALE__ERRS_KEPT   4
#define GALE__ERR_MSG_MAX 256
typedef struct gale__err {
    int64_t epoch_ms; /* wall clock */
    int32_t task;
    char msg[GALE__ERR_MSG_MAX];
} gale__err_t;

/* Open-addressing map of uint64 keys (never 0) for pending trees. */
typedef struct gale__pend {
    uint64_t key;
    uint64_t a;   /* spout: msg_id; acker: xor */
    int64_t t0;   /* spout: emit time (ns) when sampled */
    int32_t task; /* acker: spout task (0 = unknown yet) */
    uint32_t gen; /* bucket: rotation generation at insert/reset */
    uint8_t flags;
    uint16_t stream; /* spout: the tree's stream (into comp->streams) */
} gale__pend_t;

/* gale__pend_t flags (acker); NOTIFIED: the spout was told the tree failed,
 * the entry only waits for the XOR of the acks still due to reach zero;
 * RESET: a timeout reset that came before the init */
enum { GALE__PEND_INIT = 1, GALE__PEND_FAILED = 2, GALE__PEND_NOTIFIED = 4, GALE__PEND_RESET = 8 };

typedef struct gale__pendmap {
    gale__pend_t *slots;
    size_t cap, count;
} gale__pendmap_t;

int gale__pendmap_init(gale__pendmap_t *m, size_t cap_pow2);
void gale__pendmap_destroy(gale__pendmap_t *m);
gale__pend_t *gale__pendmap_get(gale__pendmap_t *m, uint64_t key);
/** @brief Find or insert (zeroed, key set); NULL on out of memory. */
gale__pend_t *gale__pendmap_put(gale__pendmap_t *m, uint64_t key, bool *inserted);
void gale__pendmap_del(gale__pendmap_t *m, gale__pend_t *e);

/**
 * @brief Apply one acker message (GALE__SYS_ACK_*) for root. Returns the
 * message to send to spout task *to_task (GALE__SYS_SPOUT_ACK, _FAIL or
 * _RESET), or -1 for none. A finished tree is removed. acker.c.
 */
int gale__acker_apply(gale__pendmap_t *m, uint32_t gen, int sys, uint64_t root, uint64_t val,
                      int32_t spout_task, int32_t *to_task);

/* A producer's outgoing batch to one lane. */
typedef struct gale__outbuf {
    gale_tuple_t **items;
    size_t n, cap;
    bool unwoken; /* pushed quietly, its consumer not notified yet */
    bool listed;  /* in the executor's dirty list (at most once) */
} gale__outbuf_t;

/* One task: a spout/bolt instance with its context and collector. */
typedef struct gale__task {
    int id, index;
    gale__exec_t *exec;
    gale__rcomp_t *comp;
    void *state;
    gale__grouper_t ***groupers[2]; /* [side][stream][sub]; NULL for direct */
    struct gale_context *ctx;       /* the block also holds coll and scoll */
    struct gale_collector *coll;
    struct gale_spout_collector *scoll;
    uint64_t rng[2];              /* [side]: 0 executor thread, 1 other threads */
    int64_t pending;              /* spouts: trees in flight of this task */
    int *targets;                 /* [side * max_targets]: an emit's target tasks */
    size_t max_targets;           /* every task of every subscriber of a stream */
    _Atomic uint64_t emit_errors; /* for rate-limited error logs */
} gale__task_t;

struct gale__exec {
    int index; /* global executor index */
    gale__worker_t *worker;
    gale__rt_t *rt;
    gale__rcomp_t *comp;
    gale__task_t *tasks;
    size_t n_tasks;
    gale__queue_t queue;
    gale__pool_t pool;
    gale__outbuf_t *out; /* per global executor index (lane) */
    int *dirty;          /* lanes with items in out */
    size_t n_dirty;
    pthread_t thread;
    bool started;
    gale__stats_t stats;
    gale__stats_t foreign_stats; /* bolt collector used by other threads */
    gale__sstats_t *sstats[2];   /* [side][comp->n_streams] */
    gale__istats_t *istats[2];   /* [side][comp->n_inputs] */
    pthread_mutex_t err_lock;    /* errs, n_errs */
    gale__err_t errs[GALE__ERRS_KEPT];
    uint64_t n_errs;         /* ever reported; the newest is errs[(n_errs - 1) % KEPT] */
    bool opening;            /* open/prepare running: collect, never flush */
    bool backlog;            /* spouts: a lane refused part of a batch */
    gale__pendmap_t pending; /* spout: root -> msg_id; acker: root -> xor */
    uint32_t gen;            /* rotation generation */
    int64_t next_rotate_ns, next_tick_ns, tick_ns;
    int64_t max_pending;          /* spouts; 0 = unbounded */
    uint64_t sample_every;        /* 1/sample rate; 0 = never */
    uint64_t sample_left;         /* tuples until the next sampled one (executor.c) */
    const gale_tuple_t *current;  /* basic bolt: input being executed */
    pthread_mutex_t foreign_lock; /* bolt collector used off-thread */
    /* ackers: guards pending, gen and the ack counters, as the producers
     * of this worker apply their ack messages themselves (executor.c,
     * "acking inline") */
    pthread_mutex_t acker_lock;
    gale__pool_t foreign_pool;
    bool spout_active;         /* executor thread only */
    _Atomic int64_t n_pending; /* mirror of pending.count, read unlocked */
    atomic_bool done;          /* finite spouts: every task reports done */
    struct {
        int task_index; /* into tasks[] */
        int stream;     /* into comp->streams: the tree's stream stats */
        uint64_t msg_id;
    } * ack_now; /* spouts: msg ids to ack at once (no acking or no target) */
    size_t ack_now_head, n_ack_now, cap_ack_now; /* [head, n) still to ack */
    int64_t last_flush_ns;
    bool slow_execute;     /* bolts: a sampled execute took over 1/16 of the flush interval */
    int64_t credit_window; /* tuples a remote worker may have in flight to it */
    /* Released tuples not yet returned to their pools (see the tuple
     * states above): retire[] on the executor thread, freed after each
     * callback; fretire[] under foreign_lock, freed at the next turn. */
    gale_tuple_t **retire, **fretire;
    size_t n_retire, cap_retire, n_fretire, cap_fretire;
    _Atomic size_t fretire_count; /* n_fretire, for a lock-free look */
    /* Life cycle, read by the stopping thread (runtime.c). busy is 0 only
     * while the executor holds no tuple (set before every pop, cleared
     * after a turn that found nothing), so a drain can tell when all is
     * processed. phase/phase_task/phase_ns say which callback runs. */
    _Atomic int busy;
    _Atomic int phase;      /* GALE__PH_* */
    _Atomic int phase_task; /* task id in that callback */
    _Atomic int64_t phase_ns;
    atomic_bool deactivated; /* spouts: deactivate ran (or never activated) */
    atomic_bool exited;      /* the thread is about to return */
    _Atomic int open_state;  /* 0 opening, 1 opened, -1 failed */
    int open_rc;
    char open_err[256];
    bool stuck;                  /* did not return within the stop's grace time */
    _Atomic uint64_t loop_turns; /* turns of the executor loop (tests: idle parks) */
};

/* Which callback an executor is in (gale__exec_t.phase). */
enum {
    GALE__PH_NONE = 0,
    GALE__PH_OPEN,
    GALE__PH_PREPARE,
    GALE__PH_ACTIVATE,
    GALE__PH_NEXT_TUPLE,
    GALE__PH_ACK,
    GALE__PH_FAIL,
    GALE__PH_EXECUTE,
    GALE__PH_DEACTIVATE,
    GALE__PH_CLOSE,
    GALE__PH_CLEANUP,
    GALE__PH_COUNT
};

struct gale__worker {
    int index;
    gale__rt_t *rt;
    gale__exec_t **execs; /* executors in this worker */
    size_t n_execs;
    bool local; /* runs in this process */
    /* remote lanes: per global executor index not in this worker, made on
     * first use (gale__transfer_lane) so memory follows the traffic */
    _Atomic(gale__queue_t *) *lanes;
    _Atomic int64_t *credits;       /* per global executor index */
    _Atomic uint64_t rx_rejected;   /* messages refused by the receive thread */
    _Atomic uint64_t rx_dropped;    /* tuples of accepted batches dropped */
    _Atomic uint64_t tx_errors;     /* tuples or batches the transfer thread lost */
    _Atomic uint32_t transfer_wake; /* shared wake word of the lanes */
    struct gale__xfer *transfer;    /* transfer.c state */
};

struct gale__rt {
    gale__topology_t *topo;
    gale_conf_t *conf; /* merged topology conf */
    char *name;
    gale__rcomp_t *comps; /* user components then the acker (if any) */
    size_t n_comps;
    gale__rcomp_t *acker;
    gale__rstream_t sys[GALE__SYS_COUNT];
    int max_task;
    gale__rcomp_t **task_comp; /* by task id */
    int *task_exec;            /* by task id: global executor index */
    int *task_index;           /* by task id: index within its executor */
    gale__exec_t *execs;
    size_t n_execs;
    gale__worker_t *workers;
    size_t n_workers;
    bool acking;
    int64_t timeout_ns; /* 0: timeouts disabled */
    size_t producer_batch;
    int64_t flush_ns;
    int64_t spout_wait_max_us;
    int64_t reply_spin_ns; /* topology.reply.spin.micros (executor.c) */
    int64_t bolt_spin_ns;  /* topology.bolt.wait.spin.micros (executor.c) */
    double pack_cores;     /* topology.worker.pack.cores (packing.h) */
    gale__packer_t *packer;
    void *zctx;
    gale__resolve_fn resolve;
    void *resolve_ud;
    atomic_int state;      /* 0 running, 1 deactivated (draining), 2 stopping */
    atomic_bool spouts_on; /* gale__rt_set_spouts_active; true unless told otherwise */
    atomic_int go;         /* executors wait after open: 0 wait, 1 run, -1 give up */
    /* Cluster worker (NULL in local mode): per worker its tcp endpoint;
     * the transfer threads reconnect when endpoints_gen moves (SIGHUP). */
    char **endpoints;
    pthread_mutex_t endpoints_lock;
    _Atomic uint64_t endpoints_gen;
};

/**
 * @brief Build the runtime for a validated, task-assigned topology.
 * overrides: -c values applied last (may be NULL). workers_here: which
 * worker indexes run in this process (NULL: all, local mode). Takes
 * ownership of topo. GALE_E* with one line in err.
 */
int gale__rt_new(gale__rt_t **out, gale__topology_t *topo, const gale_conf_t *base,
                 const gale_conf_t *overrides, gale__resolve_fn resolve, void *ud, char *err,
                 size_t errlen);
/**
 * @brief gale__rt_new for one cluster worker: place (worker/placement.h)
 * says which worker runs each executor and where each listens; only the
 * executors of place->here get queues, threads and tasks, the others are
 * reached over tcp (transfer.c). Every executor of the topology must be
 * in place, or GALE_EINVAL names the first missing one. place is copied.
 * The acker executors are those of place past the topology's tasks (one
 * task each, as nimbus makes them): nimbus's count wins over the conf.
 */
int gale__rt_new_placed(gale__rt_t **out, gale__topology_t *topo, const gale_conf_t *base,
                        const gale_conf_t *overrides, gale__resolve_fn resolve, void *ud,
                        const gale__rt_place_t *place, char *err, size_t errlen);
/** @brief Cluster worker: adopt place's endpoints (same layout, see
 * gale__place_same_layout); returns how many changed. Main thread. */
int gale__rt_set_endpoints(gale__rt_t *rt, const gale__rt_place_t *place);
/** @brief Start the threads; each executor opens its tasks (open/prepare)
 * on its own thread, then waits until every executor opened. Does not
 * wait: see gale__rt_poll_open. GALE_E* with one line in err. */
int gale__rt_launch(gale__rt_t *rt, char *err, size_t errlen);
/** @brief After gale__rt_launch: 1 while some executor is still opening,
 * 0 once all opened (they then run), or the first open's GALE_E* (< 0)
 * with its line in err (nothing runs; stop and destroy the runtime). */
int gale__rt_poll_open(gale__rt_t *rt, char *err, size_t errlen);
/** @brief gale__rt_launch, then wait (without a deadline) until every
 * task opened. */
int gale__rt_start(gale__rt_t *rt, char *err, size_t errlen);
/**
 * @brief Activate (true) or deactivate (false) every spout task of this
 * process: Storm's topology activate/deactivate, which a cluster worker
 * follows from its assignment's status. Each spout executor makes the
 * change on its own thread at its next turn (it is woken for it):
 * activate() or deactivate() runs once per task per transition, and a
 * deactivated spout's next_tuple is not called while the acks, fails and
 * timeouts of its trees in flight still are. Called before
 * gale__rt_launch, false makes the spouts start deactivated (open, then
 * no activate() until a later true). Has no effect once a stop began (the
 * stop deactivates every spout itself). Any thread.
 */
void gale__rt_set_spouts_active(gale__rt_t *rt, bool active);
/** @brief True once every finite spout reports done (and at least one is finite). */
bool gale__rt_done(gale__rt_t *rt);
bool gale__rt_has_finite_spouts(gale__rt_t *rt);
/* How gale__rt_stop_ex stops. */
typedef struct gale__stop_opts {
    int drain_ms; /* at most this long to process what is in flight */
    int grace_ms; /* then at most this long for executors to return */
    /* polled every millisecond; true: give up waiting at once */
    bool (*interrupted)(void *ud);
    void *ud;
} gale__stop_opts_t;

/**
 * @brief Stop: deactivate every spout (deactivate() runs once per task),
 * let the bolts process every queued tuple, outgoing batch and transfer
 * lane, and the in-flight trees complete, for at most drain_ms; then stop
 * the executors between two tuples and give them grace_ms to return
 * (close/cleanup run on their threads). Returns how many executors did
 * not return (their `stuck` is set, see gale__rt_describe_stuck): they
 * still run user code, so the runtime must not be destroyed then — the
 * process should exit. Cluster workers stop through this same path.
 */
int gale__rt_stop_ex(gale__rt_t *rt, const gale__stop_opts_t *o);
/** @brief gale__rt_stop_ex with a 2 s grace and no interruption. */
int gale__rt_stop(gale__rt_t *rt, int drain_ms);
/** @brief One line about a stuck executor i: "component 'X' task N is
 * stuck in execute (for 12 s)". */
void gale__rt_describe_stuck(gale__rt_t *rt, size_t i, char *buf, size_t len);
/** @brief While opening: one line about an executor still in open or
 * prepare ("component 'X' task N is still in open (for 5 s)"); false
 * when none is. Any thread. */
bool gale__rt_describe_opening(gale__rt_t *rt, char *buf, size_t len);
void gale__rt_destroy(gale__rt_t *rt);

/** @brief Sum of the executors' counters of one component (NULL: all). */
void gale__rt_stats(gale__rt_t *rt, const char *component, gale__stats_t *sum);
/** @brief Executor e's counters (both sides summed) into *out; per output
 * stream into ss[comp->n_streams] and per input into is[comp->n_inputs]
 * (either may be NULL); its kept errors, oldest first, into errs (at most
 * GALE__ERRS_KEPT; their number in *n_errs). Any thread (relaxed reads: a
 * sample, not a snapshot). */
void gale__rt_exec_stats(gale__exec_t *e, gale__stats_t *out, gale__sstats_t *ss,
                         gale__istats_t *is, gale__err_t *errs, size_t *n_errs);
/** @brief The stats of this process's executors as the heartbeat carries
 * them (common/wstats.h), into out; start_ms: when the process started
 * (wall clock). Any thread; 0 or GALE_ENOMEM. stats_report.c. */
int gale__rt_wstats(gale__rt_t *rt, uint64_t start_ms, msgpack_sbuffer *out);
/** @brief Current and capacity of every executor queue: max depth/capacity ratio. */
size_t gale__rt_max_queue_depth(gale__rt_t *rt, size_t *capacity);

/* executor.c */
/* The task whose user callback this thread is running, NULL between
 * callbacks: read by the crash handler (cli/crash.c) to name the
 * component. initial-exec: no lazy allocation, safe in a signal handler. */
extern _Thread_local gale__task_t *gale__current_task __attribute__((tls_model("initial-exec")));
void *gale__exec_main(void *arg);
int gale__exec_open(gale__exec_t *e, char *err, size_t errlen);
void gale__exec_close(gale__exec_t *e);
/* Push one tuple into q, waiting with backoff while it is full; frees the
 * tuple instead once the runtime is stopping (nobody consumes then). */
void gale__deliver_blocking(gale__rt_t *rt, gale__queue_t *q, gale_tuple_t *t);

/* transfer.c: cross-worker transport (ZeroMQ inproc/tcp). */
/** @brief Allocate w's lane table and credits (rt_new, before any open);
 * credit windows come from each receiver's queue capacity. */
int gale__transfer_lanes_init(gale__rt_t *rt, gale__worker_t *w);
/** @brief w's lane to remote executor ei, made on first use (any thread);
 * NULL when out of memory. */
gale__queue_t *gale__transfer_lane(gale__worker_t *w, int ei);
/** @brief Free w's lanes and the tuples still in them (destroy). */
void gale__transfer_lanes_free(gale__worker_t *w);
int gale__transfer_start(gale__rt_t *rt, gale__worker_t *w, char *err, size_t errlen);
void gale__transfer_stop(gale__worker_t *w);
/** @brief Wake w's receive thread (it then follows moved peers). */
void gale__transfer_wake_rx(gale__worker_t *w);
/** @brief Free the transfer state once no tuple of its pool is alive. */
void gale__transfer_free(gale__worker_t *w);
/** @brief For a drain: add to *sent the tuples w's transfer thread sent
 * and to *received those its receive thread handed on (or dropped), to
 * *pushes a count that grows with every push into a lane; false when a
 * lane holds tuples or the transfer thread holds some now. */
bool gale__transfer_quiet(gale__worker_t *w, uint64_t *sent, uint64_t *received, uint64_t *pushes);
/* What w's transfer threads moved since start: tuples, ZeroMQ data
 * messages (batches) and their bytes (header + body frames). Received
 * tuples are those handed to an executor queue (or dropped as invalid). */
typedef struct gale__xfer_counts {
    uint64_t tuples_sent, batches_sent, bytes_sent;
    uint64_t tuples_received, batches_received, bytes_received;
} gale__xfer_counts_t;
/** @brief w's transfer counters (all zero before the transfer started). Any thread. */
void gale__transfer_counts(gale__worker_t *w, gale__xfer_counts_t *out);

static inline uint64_t gale__rng_next(uint64_t *s) { /* xorshift64*, never 0 */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    uint64_t r = x * 0x2545F4914F6CDD1DULL;
    return r ? r : 1;
}

#endif
