/*
 * executor.c — an executor thread: its loop, the collectors its tasks
 * emit through, the acker's logic and the spout's pending trees.
 *
 * Everything here runs on the executor's own thread, except the bolt
 * collector entry points called from another thread: those take the
 * executor's foreign_lock, allocate from its foreign pool and push
 * straight into the target queue (no outgoing batch).
 */
#include <assert.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/builtin.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/value.h"
#include "worker/runtime.h"

#define POP_BATCH 256
#define MAX_ROOTS GALE_WIRE_MAX_IDS /* a tuple must fit on the wire */
enum { STATE_RUNNING = 0, STATE_DRAINING = 1, STATE_STOPPING = 2 };

struct gale_collector {
    gale__task_t *task;
};
struct gale_spout_collector {
    gale__task_t *task;
};
struct gale_context {
    gale__task_t *task;
};

/* The executor whose thread this is (NULL elsewhere). */
static _Thread_local gale__exec_t *tls_exec;
_Thread_local gale__task_t *gale__current_task;

/* Run one user callback of task tk, so that a crash inside names it. */
#define IN_TASK(tk, call)                                                                          \
    do {                                                                                           \
        gale__task_t *saved_task_ = gale__current_task;                                            \
        gale__current_task = (tk);                                                                 \
        call;                                                                                      \
        gale__current_task = saved_task_;                                                          \
    } while (0)

static inline void stat_inc(_Atomic uint64_t *c, uint64_t n) {
    /* single writer: a relaxed load+store is enough and cheaper than RMW */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* One in sample_every tuples is timed (topology.stats.sample.rate): a
 * countdown, so the hot path pays a decrement, not a division. */
static inline bool sample_now(gale__exec_t *e) {
    if (!e->sample_every || --e->sample_left) return false;
    e->sample_left = e->sample_every;
    return true;
}

/* Side 0 is the executor's own thread, side 1 any other thread (under
 * foreign_lock): each side has its own pool, groupers, rng and counters,
 * so the two never share mutable state. */
static inline int side(const gale__exec_t *e) {
    return tls_exec == e ? 0 : 1;
}

static gale__pool_t *emit_pool(gale__exec_t *e) {
    return side(e) ? &e->foreign_pool : &e->pool;
}

static gale__stats_t *side_stats(gale__exec_t *e) {
    return side(e) ? &e->foreign_stats : &e->stats;
}

/* ---------- lanes and outgoing batches ---------- */

/* NULL only when a remote lane cannot be allocated (out of memory). */
static gale__queue_t *lane_queue(gale__worker_t *w, int exec_idx) {
    gale__exec_t *e = &w->rt->execs[exec_idx];
    return e->worker == w ? &e->queue : gale__transfer_lane(w, exec_idx);
}

/* Progressive backoff for a producer waiting on a full queue. */
static void backoff(unsigned *round) {
    if (*round < 64) {
        /* spin */
    } else if (*round < 128) {
        sched_yield();
    } else {
        struct timespec ts = {0, *round < 1024 ? 10000 : 100000};
        nanosleep(&ts, NULL);
    }
    (*round)++;
}

void gale__deliver_blocking(gale__rt_t *rt, gale__queue_t *q, gale_tuple_t *t) {
    unsigned round = 0;
    void *item = t;
    if (!q) {
        gale__tuple_free(t); /* no lane (out of memory): its tree times out */
        return;
    }
    while (gale__queue_push(q, &item, 1) == 0) {
        if (atomic_load_explicit(&rt->state, memory_order_relaxed) == STATE_STOPPING) {
            gale__tuple_free(t); /* nobody consumes any more */
            return;
        }
        backoff(&round);
    }
}

/* Append t to lane's outgoing batch (the lane becomes dirty), no flush. */
static int out_push(gale__exec_t *e, int lane, gale_tuple_t *t) {
    gale__outbuf_t *ob = &e->out[lane];
    if (ob->n == ob->cap) {
        size_t ncap = ob->cap ? ob->cap * 2 : e->rt->producer_batch;
        gale_tuple_t **n = realloc(ob->items, ncap * sizeof(*n));
        if (!n) return GALE_ENOMEM;
        ob->items = n;
        ob->cap = ncap;
    }
    /* listed, not n == 0: a lane drained by a pass over the list may be
     * pushed to again before the list is compacted, and must not be
     * listed twice (the list holds n_execs lanes) */
    if (!ob->listed) {
        assert(e->n_dirty < e->rt->n_execs);
#ifndef NDEBUG
        for (size_t i = 0; i < e->n_dirty; i++) assert(e->dirty[i] != lane);
#endif
        ob->listed = true;
        e->dirty[e->n_dirty++] = lane;
    }
    ob->items[ob->n++] = t;
    return 0;
}

/* The acker's logic for one ack message t, on acker executor a, under
 * a->acker_lock: < 0, or the reply (a GALE__SYS_SPOUT_*) for spout task
 * *to. */
static int acker_apply(gale__exec_t *a, const gale_tuple_t *t, int32_t *to) {
    stat_inc(&a->stats.executed, 1);
    if (t->stream->sys < GALE__SYS_ACK_INIT || t->stream->sys > GALE__SYS_ACK_RESET ||
        t->n_values < 1)
        return -1;
    uint64_t root = (uint64_t)t->values[0].u.i;
    uint64_t val = t->n_values > 1 ? (uint64_t)t->values[1].u.i : 0;
    int32_t spout_task = t->n_values > 2 ? (int32_t)t->values[2].u.i : 0;
    int out = gale__acker_apply(&a->pending, a->gen, t->stream->sys, root, val, spout_task, to);
    atomic_store_explicit(&a->n_pending, (int64_t)a->pending.count, memory_order_relaxed);
    if (out < 0) return -1;
    if (*to < 1 || *to > a->rt->max_task || !a->rt->task_comp[*to]->is_spout) {
        GALE_ERROR(a->comp->id, t->dest_task,
                   "ack message names task %d, which is no spout: dropped", *to);
        return -1;
    }
    if (out == GALE__SYS_SPOUT_ACK) stat_inc(&a->stats.acked, 1); /* trees completed */
    if (out == GALE__SYS_SPOUT_FAIL) stat_inc(&a->stats.failed_explicit, 1);
    return out;
}

/* Acking inline. A sleeping acker executor in the producer's worker is
 * not woken for its messages: the producer applies its batch for the
 * acker itself, under the acker's lock, and sends the replies on to the
 * spouts in its own batches. A tree at 10 k tuples/s then costs two
 * thread wakes (spout -> bolt -> spout), not three: a wake is most of the
 * complete latency of a parked pipeline (bench/RESULTS.md, "Acking
 * inline"). An acker that is awake (a stream of acks keeps it polling)
 * takes them through its queue at no wake's cost, and on its own thread:
 * at full rate the spout, applying every init itself, would be slower
 * (0.83x acked throughput, measured). The acker thread also takes what
 * comes from other workers and other threads, and rotates its map. */
static inline bool acks_inline(const gale__exec_t *e, int lane) {
    gale__exec_t *a = &e->rt->execs[lane];
    return a->comp->is_acker && a->worker == e->worker && gale__queue_asleep(&a->queue);
}

/* false when another thread holds the acker: the batch then goes through
 * its queue (waiting for the lock would put the producer to sleep). */
static bool ack_inline(gale__exec_t *e, int lane) {
    gale__exec_t *a = &e->rt->execs[lane];
    gale__outbuf_t *ob = &e->out[lane];
    if (pthread_mutex_trylock(&a->acker_lock)) return false;
    for (size_t i = 0; i < ob->n; i++) {
        gale_tuple_t *t = ob->items[i];
        int32_t to = 0;
        int out = acker_apply(a, t, &to);
        if (out >= 0) {
            gale_value_t root = t->values[0];
            gale_tuple_t *r = gale__tuple_new(emit_pool(e), &e->rt->sys[out], t->dest_task, to,
                                              &root, 1, NULL, 0);
            if (!r || out_push(e, e->rt->task_exec[to], r)) {
                GALE_ERROR(a->comp->id, t->dest_task,
                           "out of memory sending an ack message: tree will time out");
                if (r) gale__tuple_free(r);
            }
        }
        gale__tuple_free(t);
    }
    pthread_mutex_unlock(&a->acker_lock);
    ob->n = 0;
    return true;
}

/* Push lane's outgoing batch. A bolt (block = true) waits while the lane
 * is full; a spout keeps the rest. Stopping drops what cannot go. quiet
 * (never with block): the caller wakes the lane's consumer with
 * gale__queue_notify afterwards. */
static bool flush_lane(gale__exec_t *e, int lane, bool block, bool quiet) {
    assert(!(block && quiet)); /* it would wait with its consumer not told */
    gale__outbuf_t *ob = &e->out[lane];
    gale__queue_t *q = lane_queue(e->worker, lane);
    size_t off = 0;
    unsigned round = 0;
    int64_t wait_t0 = 0;
    if (!q) { /* no lane (out of memory): their trees time out */
        for (size_t i = 0; i < ob->n; i++) gale__tuple_free(ob->items[i]);
        ob->n = 0;
        return true;
    }
    while (off < ob->n) {
        size_t k = quiet ? gale__queue_push_quiet(q, (void **)ob->items + off, ob->n - off)
                         : gale__queue_push(q, (void **)ob->items + off, ob->n - off);
        off += k;
        if (k) continue;
        if (!block) break;
        if (atomic_load_explicit(&e->rt->state, memory_order_relaxed) == STATE_STOPPING) {
            for (size_t i = off; i < ob->n; i++) gale__tuple_free(ob->items[i]);
            off = ob->n;
            break;
        }
        if (round == 0) {
            stat_inc(&e->stats.backpressure_waits, 1);
            wait_t0 = gale__now_ns(); /* only once a lane is full: never on the fast path */
        }
        backoff(&round);
    }
    if (wait_t0) stat_inc(&e->stats.backpressure_ns, (uint64_t)(gale__now_ns() - wait_t0));
    if (quiet && off) ob->unwoken = true;
    if (off && off < ob->n) memmove(ob->items, ob->items + off, (ob->n - off) * sizeof(void *));
    ob->n -= off;
    return ob->n == 0;
}

/* Wake the consumers of the dirty lanes pushed to quietly that are
 * (ackers) or are not ackers. */
static void notify_lanes(gale__exec_t *e, bool ackers) {
    for (size_t i = 0; i < e->n_dirty; i++) {
        int lane = e->dirty[i];
        gale__outbuf_t *ob = &e->out[lane];
        if (!ob->unwoken || e->rt->execs[lane].comp->is_acker != ackers) continue;
        ob->unwoken = false;
        gale__queue_notify(lane_queue(e->worker, lane)); /* made: it took tuples */
    }
}

/* Flush every lane with pending items; true when all drained.
 *
 * The ack messages for this worker's sleeping ackers are applied first
 * (acking inline, above), so a tree is mostly open before its tuples reach
 * a bolt (the acker takes its messages in any order anyway). Then
 * every lane is filled before any consumer is woken, and the ackers of
 * other workers' lanes first. On one CPU (a packed worker,
 * worker/packing.c) a woken consumer may preempt its producer at the
 * wake: woken lane by lane in emit order, a bolt would run, and ack,
 * before the acker was told of the tree (bench/RESULTS.md, "Waking the
 * acker first"). Only after the wakes does a bolt wait for room in a full
 * lane, so no consumer sleeps on tuples it was not told of while we wait. */
static bool flush_all(gale__exec_t *e, bool block) {
    /* Only this first pass acks inline: ack_inline pushes replies onto
     * spout lanes (n_dirty is read every turn), and no later pass may
     * push while it compacts the list. An acker that was awake or locked
     * here gets its batch through its queue. */
    for (size_t i = 0; i < e->n_dirty; i++)
        if (acks_inline(e, e->dirty[i])) (void)ack_inline(e, e->dirty[i]);
    for (size_t i = 0; i < e->n_dirty; i++) flush_lane(e, e->dirty[i], false, true);
    notify_lanes(e, true);
    notify_lanes(e, false);
    size_t keep = 0;
    for (size_t i = 0; i < e->n_dirty; i++) {
        int lane = e->dirty[i];
        if (e->out[lane].n && !(block && flush_lane(e, lane, true, false)))
            e->dirty[keep++] = lane;
        else
            e->out[lane].listed = false;
    }
    e->n_dirty = keep;
    e->last_flush_ns = gale__now_ns();
    return keep == 0;
}

static int out_append(gale__exec_t *e, int lane, gale_tuple_t *t) {
    if (out_push(e, lane, t)) return GALE_ENOMEM;
    gale__outbuf_t *ob = &e->out[lane];
    /* While opening, consumers are not running yet: only collect. A large
     * tuple (beyond the pool's classes) goes at once, so batches never hold
     * more than one of them beyond the queues' byte bounds. */
    if ((ob->n < e->rt->producer_batch && t->hdr.pool) || e->opening) return 0;
    /* ack_inline may list spout lanes (replies): not inside a pass over
     * the list, so that is safe here */
    if ((acks_inline(e, lane) && ack_inline(e, lane)) ||
        flush_lane(e, lane, !e->comp->is_spout, false)) {
        /* drained: drop it from the dirty list (it is usually the last) */
        ob->listed = false;
        for (size_t i = e->n_dirty; i-- > 0;)
            if (e->dirty[i] == lane) {
                e->dirty[i] = e->dirty[--e->n_dirty];
                break;
            }
    } else {
        e->backlog = true; /* a spout's lane is full: hold next_tuple */
    }
    return 0;
}

/* Send t to its dest task: via the outgoing batch on the executor's own
 * thread, straight into the queue from any other thread. */
static void route(gale__exec_t *e, gale_tuple_t *t) {
    int lane = e->rt->task_exec[t->dest_task];
    if (tls_exec == e) {
        if (out_append(e, lane, t) == 0) return;
    }
    gale__deliver_blocking(e->rt, lane_queue(e->worker, lane), t);
}

/* The input (index into c->in_streams) t came in on, or -1 (a system
 * stream). A bolt has few inputs: a few pointer compares. */
static inline int input_of(const gale__rcomp_t *c, const gale_tuple_t *t) {
    for (size_t k = 0; k < c->n_inputs; k++)
        if (c->in_streams[k] == t->stream) return (int)k;
    return -1;
}

/* now: skip the outgoing batch (a reset from inside a long execute must
 * not wait for execute to return). */
static void send_sys_now(gale__exec_t *e, int sys, int src_task, int dest_task, uint64_t a,
                         uint64_t b, uint64_t c, size_t n, bool now) {
    gale_value_t v[3] = {gale_int((int64_t)a), gale_int((int64_t)b), gale_int((int64_t)c)};
    gale_tuple_t *t =
        gale__tuple_new(emit_pool(e), &e->rt->sys[sys], src_task, dest_task, v, n, NULL, 0);
    if (!t) {
        GALE_ERROR(e->comp->id, src_task,
                   "out of memory sending an ack message: tree will time out");
        return;
    }
    if (now)
        gale__deliver_blocking(e->rt, lane_queue(e->worker, e->rt->task_exec[dest_task]), t);
    else
        route(e, t);
}

static void send_sys(gale__exec_t *e, int sys, int src_task, int dest_task, uint64_t a, uint64_t b,
                     uint64_t c, size_t n) {
    send_sys_now(e, sys, src_task, dest_task, a, b, c, n, false);
}

static int acker_task(const gale__rt_t *rt, uint64_t root) {
    return rt->acker->tasks[root % rt->acker->n_tasks];
}

/* Foreign threads serialize on the executor's lock (bolt collectors). */
static bool foreign_enter(gale__exec_t *e) {
    if (tls_exec == e) return false;
    pthread_mutex_lock(&e->foreign_lock);
    return true;
}
static void foreign_leave(gale__exec_t *e, bool locked) {
    if (locked) pthread_mutex_unlock(&e->foreign_lock);
}

/* ---------- released tuples ---------- */

/* Keep a released tuple's block until the callback that released it has
 * returned (tuple states: runtime.h), so that a second release or an
 * anchored emit in that time reads RELEASED, never a reused block. The
 * executor thread's go to retire[]; another thread's (under
 * foreign_lock) to fretire[], freed at the executor's next turn. */
static void retire(gale__exec_t *e, gale_tuple_t *t, bool foreign) {
    gale_tuple_t ***arr = foreign ? &e->fretire : &e->retire;
    size_t *n = foreign ? &e->n_fretire : &e->n_retire;
    size_t *cap = foreign ? &e->cap_fretire : &e->cap_retire;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        gale_tuple_t **na = realloc(*arr, ncap * sizeof(*na));
        if (!na) {
            gale__tuple_free(t); /* out of memory: no grace period */
            return;
        }
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = t;
    if (foreign) atomic_store_explicit(&e->fretire_count, *n, memory_order_relaxed);
}

/* Executor thread: return the blocks released so far to their pools. */
static void free_retired(gale__exec_t *e) {
    for (size_t i = 0; i < e->n_retire; i++) gale__tuple_free(e->retire[i]);
    e->n_retire = 0;
    if (!atomic_load_explicit(&e->fretire_count, memory_order_relaxed)) return;
    pthread_mutex_lock(&e->foreign_lock);
    for (size_t i = 0; i < e->n_fretire; i++) gale__tuple_free(e->fretire[i]);
    e->n_fretire = 0;
    atomic_store_explicit(&e->fretire_count, 0, memory_order_relaxed);
    pthread_mutex_unlock(&e->foreign_lock);
}

/* Which callback runs (read by a stop that waits for this executor). */
static inline void enter_phase(gale__exec_t *e, int phase, int task) {
    atomic_store_explicit(&e->phase, phase, memory_order_relaxed);
    atomic_store_explicit(&e->phase_task, task, memory_order_relaxed);
}

/* One user callback of task tk in a phase: a stop names the phase if it
 * hangs there, a crash handler names the task (gale__current_task). */
#define USER_CALL(e, ph, tk, call)                                                                 \
    do {                                                                                           \
        enter_phase(e, ph, (tk)->id);                                                              \
        IN_TASK(tk, call);                                                                         \
    } while (0)

/* ---------- emitting ---------- */

/* The stream an emit names. NULL means "default", whose index the
 * component keeps (no string compare on the common path). */
static const gale__rstream_t *find_stream(const gale__rcomp_t *c, const char *id, size_t *idx) {
    if (!id && c->default_stream >= 0) {
        *idx = (size_t)c->default_stream;
        return &c->streams[*idx];
    }
    if (!id) id = GALE_DEFAULT_STREAM;
    for (size_t i = 0; i < c->n_streams; i++)
        if (c->streams[i].id == id || strcmp(c->streams[i].id, id) == 0) {
            *idx = i;
            return &c->streams[i];
        }
    return NULL;
}

/* Errors that repeat per tuple (bad emits, reported errors): log the first
 * ten of a task, then one in 10000 saying how many were suppressed, so the
 * log stays readable. Every error is counted (the summary's errors=). */
static void task_error(gale__task_t *tk, const char *prefix, const char *fmt, va_list ap) {
    uint64_t n = atomic_fetch_add_explicit(&tk->emit_errors, 1, memory_order_relaxed) + 1;
    atomic_fetch_add_explicit(&tk->exec->stats.errors, 1, memory_order_relaxed);
    if (n > 10 && n % 10000 != 0) return;
    char msg[512], tail[96] = "";
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (n == 10)
        snprintf(tail, sizeof tail, " (further errors of this task: one in 10000 logged)");
    else if (n > 10)
        snprintf(tail, sizeof tail, " (%llu more suppressed)",
                 (unsigned long long)(n - (n == 10000 ? 10 : n - 10000) - 1));
    GALE_ERROR(tk->comp->id, tk->id, "%s%s%s", prefix, msg, tail);
}

static void emit_error(gale__task_t *tk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void emit_error(gale__task_t *tk, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    task_error(tk, "", fmt, ap);
    va_end(ap);
}
#define EMIT_ERROR emit_error

/* A custom grouping is user code: every task id it returned must be a
 * task of the subscriber (sorted: binary search). One that is not fails
 * the whole emit (GALE_EINVAL): a tree must not be acked for tuples that
 * reached nobody. */
static int check_subscribed(gale__task_t *tk, const gale__rstream_t *s, size_t sub, const int *ids,
                            size_t n) {
    const gale__rcomp_t *tc = s->subs[sub].target;
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = tc->n_tasks;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tc->tasks[mid] < ids[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == tc->n_tasks || tc->tasks[lo] != ids[i]) {
            EMIT_ERROR(tk,
                       "custom grouping to '%s' chose task %d, which is not one of its "
                       "tasks: the emit is refused (choose() must return ids from targets)",
                       tc->id, ids[i]);
            return GALE_EINVAL;
        }
    }
    return 0;
}

/* Targets of one emit; 0 or GALE_E* (logged). */
static int choose_targets(gale__task_t *tk, const gale__rstream_t *s, size_t si,
                          const gale_emit_t *em, int *tb, size_t *nt) {
    *nt = 0;
    if (em->direct_task > 0) {
        if (!s->def->direct) {
            EMIT_ERROR(tk,
                       "emit_direct on stream '%s', which is not direct: declare it "
                       "with direct = true",
                       s->id);
            return GALE_EINVAL;
        }
        for (size_t j = 0; j < s->n_subs; j++) {
            const gale__rcomp_t *tc = s->subs[j].target;
            if (s->subs[j].input->grouping != GALE_GROUPING_DIRECT) continue;
            for (size_t k = 0; k < tc->n_tasks; k++)
                if (tc->tasks[k] == em->direct_task) {
                    tb[(*nt)++] = em->direct_task;
                    return 0;
                }
        }
        EMIT_ERROR(tk,
                   "emit_direct to task %d, which does not subscribe to stream '%s' "
                   "with a direct grouping",
                   em->direct_task, s->id);
        return GALE_EINVAL;
    }
    if (s->def->direct) {
        EMIT_ERROR(tk, "stream '%s' is direct: emit on it with direct_task set", s->id);
        return GALE_EINVAL;
    }
    for (size_t j = 0; j < s->n_subs; j++) {
        gale__grouper_t *g = tk->groupers[side(tk->exec)][si][j];
        if (!g) continue; /* direct subscription */
        /* tb holds every task of every subscriber (runtime.c sizes it):
         * only a custom grouping returning duplicates can want more */
        size_t room = tk->max_targets - *nt;
        size_t k = gale__grouper_choose(g, em->values, em->n_values, tb + *nt, room);
        if (k > room) {
            /* what lies past what choose() wrote is not its answer */
            EMIT_ERROR(tk,
                       "custom grouping to '%s' chose %zu tasks, more than it has: the emit is "
                       "refused (choose() must return each task at most once)",
                       s->subs[j].target->id, k);
            return GALE_EINVAL;
        }
        if (g->kind == GALE_GROUPING_CUSTOM && check_subscribed(tk, s, j, tb + *nt, k))
            return GALE_EINVAL;
        *nt += k;
    }
    return 0;
}

static void spout_ack_now(gale__exec_t *e, int task_index, size_t stream, uint64_t msg_id) {
    if (e->n_ack_now == e->cap_ack_now && e->ack_now_head) { /* reuse the handled front */
        e->n_ack_now -= e->ack_now_head;
        memmove(e->ack_now, e->ack_now + e->ack_now_head, e->n_ack_now * sizeof(*e->ack_now));
        e->ack_now_head = 0;
    }
    if (e->n_ack_now == e->cap_ack_now) {
        size_t ncap = e->cap_ack_now ? e->cap_ack_now * 2 : 64;
        __typeof__(e->ack_now) n = realloc(e->ack_now, ncap * sizeof(*n));
        if (!n) return;
        e->ack_now = n;
        e->cap_ack_now = ncap;
    }
    e->ack_now[e->n_ack_now].task_index = task_index;
    e->ack_now[e->n_ack_now].stream = (int)stream;
    e->ack_now[e->n_ack_now++].msg_id = msg_id;
}

static int emit_common(gale__task_t *tk, const gale_emit_t *em, bool spout) {
    gale__exec_t *e = tk->exec;
    gale__rt_t *rt = e->rt;
    size_t si;
    const gale__rstream_t *s = find_stream(tk->comp, em->stream, &si);
    if (!s) {
        EMIT_ERROR(tk,
                   "emit on undeclared stream '%s': declare it in the "
                   "component's declare()",
                   em->stream ? em->stream : "default");
        return GALE_ENOENT;
    }
    if (em->n_values != s->def->n_fields) {
        EMIT_ERROR(tk,
                   "emit of %zu values on stream '%s', which declares %zu "
                   "fields",
                   em->n_values, s->id, s->def->n_fields);
        return GALE_EINVAL;
    }
    /* The wire's value limits, in every mode and before anything is routed
     * (or hashed): the walk also sizes the deep copies below. */
    size_t extra, bad;
    int rc = gale__values_check(em->values, em->n_values, &extra, &bad);
    if (rc) {
        if (rc == GALE_ERANGE)
            EMIT_ERROR(tk,
                       "emit on stream '%s': value %zu nests containers deeper than %d levels "
                       "(or is too large): flatten it",
                       s->id, bad, GALE__VALUE_MAX_WIRE_DEPTH);
        else
            EMIT_ERROR(tk, "emit on stream '%s': value %zu is %s", s->id, bad,
                       rc == GALE_ETYPE ? "of an unknown type" : "a NULL string or array");
        return rc;
    }
    int *tb = tk->targets + (size_t)side(e) * tk->max_targets;
    size_t nt;
    rc = choose_targets(tk, s, si, em, tb, &nt);
    if (rc) return rc;
    if (tk->comp->debug) {
        char buf[512];
        gale_value_t all = gale_array(em->values, em->n_values);
        gale__value_format(&all, buf, sizeof buf);
        GALE_INFO(tk->comp->id, tk->id, "Emitting: %s %s to %zu task(s)", s->id, buf, nt);
    }
    if (em->tasks_out)
        memcpy(em->tasks_out, tb, (nt < em->tasks_cap ? nt : em->tasks_cap) * sizeof(int));
    gale__pool_t *pool = emit_pool(e);

    if (spout) {
        bool reliable = em->msg_id && rt->acking;
        uint64_t root = reliable ? gale__rng_next(&tk->rng[side(e)]) : 0, x = 0;
        for (size_t i = 0; i < nt; i++) {
            uint64_t ids[2] = {root, reliable ? gale__rng_next(&tk->rng[side(e)]) : 0};
            x ^= ids[1];
            gale_tuple_t *t = gale__tuple_new_sized(pool, s, tk->id, tb[i], em->values,
                                                    em->n_values, ids, reliable ? 1 : 0, extra);
            if (!t) return GALE_ENOMEM;
            route(e, t);
        }
        stat_inc(&e->stats.emitted, 1);
        stat_inc(&e->stats.transferred, nt);
        stat_inc(&e->sstats[side(e)][si].emitted, 1);
        stat_inc(&e->sstats[side(e)][si].transferred, nt);
        if (em->msg_id && (!reliable || nt == 0)) {
            spout_ack_now(e, tk->index - e->tasks[0].index, si, *em->msg_id);
        } else if (reliable) {
            bool ins;
            gale__pend_t *p = gale__pendmap_put(&e->pending, root, &ins);
            if (!p) return GALE_ENOMEM;
            p->a = *em->msg_id;
            p->gen = e->gen;
            p->task = tk->id;
            p->stream = (uint16_t)si; /* past 65535 streams misattributed, never out of range */
            tk->pending++;
            if (sample_now(e)) p->t0 = gale__now_ns();
            atomic_store_explicit(&e->n_pending, (int64_t)e->pending.count, memory_order_relaxed);
            send_sys(e, GALE__SYS_ACK_INIT, tk->id, acker_task(rt, root), root, x, (uint64_t)tk->id,
                     3);
        }
        return (int)nt;
    }

    /* Bolt: anchor to the given inputs (a basic bolt: to the current one). */
    const gale_tuple_t *const *anchors = em->anchors;
    size_t na = em->n_anchors;
    const gale_tuple_t *cur = tls_exec == e ? e->current : NULL;
    if (na == 0 && tk->comp->bolt->basic && cur) {
        anchors = &cur;
        na = 1;
    }
    /* Never XOR into a block that is not a live input: it may be free or
     * hold another tuple by now. One load and compare per anchor. */
    for (size_t a = 0; a < na; a++) {
        if (!anchors[a]) {
            EMIT_ERROR(tk, "emit with a NULL anchor: pass the input tuples, or n_anchors = 0");
            return GALE_EINVAL;
        }
        if (!gale__tuple_live(anchors[a])) {
            EMIT_ERROR(tk,
                       "emit anchored to a tuple that was already acked or failed: not emitted "
                       "(emit before acking the input%s)",
                       tk->comp->bolt->basic ? "; a basic bolt acks its input itself" : "");
            return GALE_ESTATE;
        }
    }
    bool anchored = false;
    if (rt->acking)
        for (size_t a = 0; a < na; a++) anchored |= anchors[a]->n_ids > 0;
    for (size_t i = 0; i < nt; i++) {
        uint64_t ids[2 * MAX_ROOTS];
        size_t nids = 0;
        if (anchored) {
            for (size_t a = 0; a < na; a++) {
                gale_tuple_t *an = (gale_tuple_t *)anchors[a];
                if (!an->n_ids) continue;
                uint64_t edge = gale__rng_next(&tk->rng[side(e)]);
                atomic_fetch_xor_explicit(&an->ack_val, edge, memory_order_relaxed);
                for (size_t r = 0; r < an->n_ids; r++) {
                    uint64_t root = an->ids[2 * r];
                    size_t k = 0;
                    while (k < nids && ids[2 * k] != root) k++;
                    if (k == nids) {
                        if (nids == MAX_ROOTS) {
                            /* cannot carry this tree: fail it now rather
                             * than let it hang until its timeout */
                            EMIT_ERROR(tk,
                                       "emit anchored to more than %d tuple trees: tree %llx "
                                       "is failed",
                                       MAX_ROOTS, (unsigned long long)root);
                            send_sys(e, GALE__SYS_ACK_FAIL, tk->id, acker_task(rt, root), root, 0,
                                     0, 2);
                            continue;
                        }
                        ids[2 * k] = root;
                        ids[2 * k + 1] = 0;
                        nids++;
                    }
                    ids[2 * k + 1] ^= edge;
                }
            }
        }
        gale_tuple_t *t = gale__tuple_new_sized(pool, s, tk->id, tb[i], em->values, em->n_values,
                                                ids, nids, extra);
        if (!t) return GALE_ENOMEM;
        route(e, t);
    }
    stat_inc(&side_stats(e)->emitted, 1);
    stat_inc(&side_stats(e)->transferred, nt);
    stat_inc(&e->sstats[side(e)][si].emitted, 1);
    stat_inc(&e->sstats[side(e)][si].transferred, nt);
    return (int)nt;
}

int gale_spout_emit(gale_spout_collector_t *c, const gale_emit_t *e) {
    if (!c || !e || (e->n_values && !e->values)) return GALE_EINVAL;
    if (tls_exec != c->task->exec) {
        GALE_ERROR(c->task->comp->id, c->task->id,
                   "spout collector used outside the spout's thread: emit only from next_tuple");
        return GALE_ESTATE;
    }
    gale__exec_t *ex = c->task->exec;
    /* Stopping: once deactivate() returned, an emit (from ack, fail or
     * close) would keep the drain from ending or be lost at close: refuse
     * it, so the spout knows. */
    if (atomic_load_explicit(&ex->rt->state, memory_order_relaxed) != STATE_RUNNING &&
        atomic_load_explicit(&ex->deactivated, memory_order_relaxed)) {
        EMIT_ERROR(c->task, "emit after deactivate while the topology stops: refused (emit from "
                            "next_tuple; keep replays for the next run)");
        return GALE_ESTATE;
    }
    return emit_common(c->task, e, true);
}

int gale_emit(gale_collector_t *c, const gale_emit_t *e) {
    if (!c || !e || (e->n_values && !e->values)) return GALE_EINVAL;
    bool locked = foreign_enter(c->task->exec);
    int rc = emit_common(c->task, e, false);
    foreign_leave(c->task->exec, locked);
    return rc;
}

static void ack_or_fail(gale_collector_t *c, const gale_tuple_t *ct, bool ack) {
    if (!c || !ct) return;
    gale__task_t *tk = c->task;
    gale__exec_t *e = tk->exec;
    gale_tuple_t *t = (gale_tuple_t *)ct;
    /* A released tuple's fields may belong to another tuple by now: read
     * nothing of it but its state. */
    if (!gale__tuple_live(t)) goto twice;
    if (t->stream->sys == GALE__SYS_TICK) return; /* ticks: runtime-owned */
    uint32_t live = GALE__TUPLE_LIVE;
    if (!atomic_compare_exchange_strong_explicit(&t->hdr.state, &live, GALE__TUPLE_RELEASED,
                                                 memory_order_acq_rel, memory_order_acquire))
        goto twice; /* another thread released it just now */
    bool locked = foreign_enter(e);
    if (e->rt->acking) {
        uint64_t av = atomic_load_explicit(&t->ack_val, memory_order_relaxed);
        for (size_t r = 0; r < t->n_ids; r++) {
            uint64_t root = t->ids[2 * r];
            if (ack)
                send_sys(e, GALE__SYS_ACK_ACK, tk->id, acker_task(e->rt, root), root,
                         t->ids[2 * r + 1] ^ av, 0, 2);
            else /* with the XOR too, so the acker can forget the tree (acker.c) */
                send_sys(e, GALE__SYS_ACK_FAIL, tk->id, acker_task(e->rt, root), root,
                         t->ids[2 * r + 1] ^ av, 0, 2);
        }
    }
    gale__stats_t *st = side_stats(e);
    int in = input_of(tk->comp, t);
    gale__istats_t *is = in >= 0 ? &e->istats[side(e)][in] : NULL;
    if (t->arrive_ns) {
        int64_t took = gale__now_ns() - t->arrive_ns;
        stat_inc(&st->process_samples, 1);
        stat_inc(&st->process_ns_sum, (uint64_t)took);
        stat_inc(&st->hist[GALE__LAT_PROCESS][gale__hist_bin(took)], 1);
        if (is) {
            stat_inc(&is->process_samples, 1);
            stat_inc(&is->process_ns_sum, (uint64_t)took);
        }
    }
    stat_inc(ack ? &st->acked : &st->failed_explicit, 1);
    if (is) stat_inc(ack ? &is->acked : &is->failed, 1);
    retire(e, t, locked);
    foreign_leave(e, locked);
    return;
twice:
    EMIT_ERROR(tk,
               "%s of a tuple that was already acked or failed: ignored (each input is acked or "
               "failed once%s)",
               ack ? "ack" : "fail",
               tk->comp->bolt && tk->comp->bolt->basic ? "; a basic bolt acks its input itself"
                                                       : "");
}

void gale_ack(gale_collector_t *c, const gale_tuple_t *t) {
    ack_or_fail(c, t, true);
}

void gale_fail(gale_collector_t *c, const gale_tuple_t *t) {
    ack_or_fail(c, t, false);
}

void gale_reset_timeout(gale_collector_t *c, const gale_tuple_t *t) {
    if (!c || !t || !c->task->exec->rt->acking) return;
    gale__exec_t *e = c->task->exec;
    if (!gale__tuple_live(t)) {
        EMIT_ERROR(c->task, "reset_timeout of a tuple that was already acked or failed: ignored");
        return;
    }
    bool locked = foreign_enter(e);
    for (size_t r = 0; r < t->n_ids; r++)
        send_sys_now(e, GALE__SYS_ACK_RESET, c->task->id, acker_task(e->rt, t->ids[2 * r]),
                     t->ids[2 * r], 0, 0, 1, true);
    foreign_leave(e, locked);
}

/* Reported errors are rate-limited like emit errors: a component failing
 * every tuple must not flood the log. */
static void report_error(gale__task_t *tk, const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    gale__exec_t *e = tk->exec;
    pthread_mutex_lock(&e->err_lock); /* kept for the heartbeat (runtime.h) */
    gale__err_t *x = &e->errs[e->n_errs++ % GALE__ERRS_KEPT];
    x->epoch_ms = gale__wall_ms();
    x->task = tk->id;
    vsnprintf(x->msg, sizeof x->msg, fmt, again);
    pthread_mutex_unlock(&e->err_lock);
    va_end(again);
    task_error(tk, "reported error: ", fmt, ap);
}

void gale_report_error(gale_collector_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report_error(c->task, fmt, ap);
    va_end(ap);
}

void gale_spout_report_error(gale_spout_collector_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report_error(c->task, fmt, ap);
    va_end(ap);
}

/* ---------- context ---------- */

int gale_context_task_id(const gale_context_t *ctx) {
    return ctx->task->id;
}
int gale_context_task_index(const gale_context_t *ctx) {
    return ctx->task->index;
}
const char *gale_context_component_id(const gale_context_t *ctx) {
    return ctx->task->comp->id;
}
const void *gale__context_resolve(const gale_context_t *ctx, const char *symbol) {
    gale__rt_t *rt = ctx->task->exec->rt;
    return rt->resolve ? rt->resolve(rt->resolve_ud, symbol) : NULL;
}
void gale__context_error_once(const gale_context_t *ctx, const char *fmt, ...) {
    char line[4096]; /* the log's own line limit: it marks a cut with "..." */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)line; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    gale__rcomp_t *comp = ctx->task->comp;
    if (atomic_exchange(&comp->error_once_hash, h) == h) return;
    GALE_ERROR(comp->id, ctx->task->id, "%s", line);
}
const gale_conf_t *gale_context_conf(const gale_context_t *ctx) {
    return ctx->task->comp->conf;
}
const char *gale_context_topology_name(const gale_context_t *ctx) {
    return ctx->task->exec->rt->name;
}
size_t gale_context_component_tasks(const gale_context_t *ctx, const char *component,
                                    const int **tasks) {
    gale__rt_t *rt = ctx->task->exec->rt;
    for (size_t i = 0; i < rt->n_comps; i++)
        if (strcmp(rt->comps[i].id, component) == 0) {
            if (tasks) *tasks = rt->comps[i].tasks;
            return rt->comps[i].n_tasks;
        }
    return 0;
}

void gale_log(const gale_context_t *ctx, gale_log_level_t level, const char *fmt, ...) {
    if ((int)level < gale__log_min_level) return;
    va_list ap;
    va_start(ap, fmt);
    gale__log_vwrite(level, ctx ? ctx->task->comp->id : NULL, ctx ? ctx->task->id : 0, fmt, ap);
    va_end(ap);
}

/* ---------- acker ---------- */

/* An ack message that came through the acker's queue (acking inline:
 * above). */
static void acker_handle(gale__exec_t *e, gale_tuple_t *t) {
    int32_t to = 0;
    pthread_mutex_lock(&e->acker_lock);
    int out = acker_apply(e, t, &to);
    pthread_mutex_unlock(&e->acker_lock);
    if (out >= 0) send_sys(e, out, t->dest_task, to, (uint64_t)t->values[0].u.i, 0, 0, 1);
}

/* ---------- rotation (timeouts) ---------- */

/* Advance the generation; entries two generations old expire: they were
 * inserted between T and 2T ago. Spouts fail them with "timeout". With
 * timeouts disabled only the acker rotates (every 30 s), and only to drop
 * entries whose init never came (late acks of a tree that already
 * failed), so its map cannot grow without bound. */
static void rotate(gale__exec_t *e) {
    e->gen++;
    if (e->gen < 2) return;
    uint32_t limit = e->gen - 2;
    bool orphans_only = e->rt->timeout_ns == 0;
    size_t n = 0, cap = 0;
    uint64_t(*expired)[4] = NULL;
    for (size_t i = 0; i < e->pending.cap; i++) {
        gale__pend_t *p = &e->pending.slots[i];
        if (!p->key || p->gen > limit) continue;
        if (orphans_only && (p->flags & GALE__PEND_INIT) && !(p->flags & GALE__PEND_FAILED))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            void *nx = realloc(expired, cap * sizeof(*expired));
            if (!nx) break;
            expired = nx;
        }
        expired[n][0] = p->key;
        expired[n][1] = p->a;
        expired[n][2] = (uint64_t)p->task;
        expired[n][3] = p->stream;
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        gale__pend_t *p = gale__pendmap_get(&e->pending, expired[i][0]);
        if (p) gale__pendmap_del(&e->pending, p);
        if (!e->comp->is_spout) continue;
        gale__task_t *tk = &e->tasks[e->rt->task_index[(int)expired[i][2]]];
        tk->pending--;
        stat_inc(&e->stats.failed_timeout, 1);
        stat_inc(&e->sstats[0][expired[i][3]].failed, 1);
        if (!e->comp->spout->fail) continue;
        USER_CALL(e, GALE__PH_FAIL, tk,
                  e->comp->spout->fail(tk->state, expired[i][1], GALE_FAIL_TIMEOUT));
    }
    free(expired);
    atomic_store_explicit(&e->n_pending, (int64_t)e->pending.count, memory_order_relaxed);
}

/* ---------- spout side of the ack protocol ---------- */

static void spout_handle(gale__exec_t *e, gale_tuple_t *t) {
    if (t->stream->sys < GALE__SYS_SPOUT_ACK || t->n_values < 1) return;
    uint64_t root = (uint64_t)t->values[0].u.i;
    gale__pend_t *p = gale__pendmap_get(&e->pending, root);
    if (!p) return; /* already timed out */
    gale__task_t *tk = &e->tasks[e->rt->task_index[p->task]];
    const gale_spout_t *sp = e->comp->spout;
    uint64_t msg_id = p->a;
    gale__sstats_t *ss = &e->sstats[0][p->stream]; /* spouts emit on their own thread only */
    if (t->stream->sys != GALE__SYS_SPOUT_RESET) tk->pending--;
    switch (t->stream->sys) {
        case GALE__SYS_SPOUT_ACK:
            if (p->t0) {
                int64_t took = gale__now_ns() - p->t0;
                stat_inc(&e->stats.complete_samples, 1);
                stat_inc(&e->stats.complete_ns_sum, (uint64_t)took);
                stat_inc(&e->stats.hist[GALE__LAT_COMPLETE][gale__hist_bin(took)], 1);
                stat_inc(&ss->complete_samples, 1);
                stat_inc(&ss->complete_ns_sum, (uint64_t)took);
            }
            gale__pendmap_del(&e->pending, p);
            stat_inc(&e->stats.acked, 1);
            stat_inc(&ss->acked, 1);
            if (sp->ack) USER_CALL(e, GALE__PH_ACK, tk, sp->ack(tk->state, msg_id));
            break;
        case GALE__SYS_SPOUT_FAIL:
            gale__pendmap_del(&e->pending, p);
            stat_inc(&e->stats.failed_explicit, 1);
            stat_inc(&ss->failed, 1);
            if (sp->fail)
                USER_CALL(e, GALE__PH_FAIL, tk, sp->fail(tk->state, msg_id, GALE_FAIL_FAILED));
            break;
        case GALE__SYS_SPOUT_RESET:
            p->gen = e->gen;
            break;
        default:
            break;
    }
    atomic_store_explicit(&e->n_pending, (int64_t)e->pending.count, memory_order_relaxed);
}

/* ---------- loops ---------- */

static bool stopping(const gale__rt_t *rt) {
    return atomic_load_explicit(&rt->state, memory_order_relaxed) == STATE_STOPPING;
}

/* The busy flag (runtime.h): raised before a pop, lowered only after a
 * turn that found nothing and holds nothing. seq_cst, as the stopping
 * thread reads a queue's counters, then this flag. */
static inline void set_busy(gale__exec_t *e, bool *busy, bool v) {
    if (*busy == v) return;
    *busy = v;
    atomic_store(&e->busy, v ? 1 : 0);
}

static void execute_user(gale__exec_t *e, gale_tuple_t *t) {
    gale__task_t *tk = &e->tasks[e->rt->task_index[t->dest_task]];
    const gale_bolt_t *b = e->comp->bolt;
    bool tick = t->stream->sys == GALE__SYS_TICK;
    bool sampled = sample_now(e);
    int64_t t0 = sampled ? gale__now_ns() : 0;
    t->arrive_ns = t0;
    e->current = t;
    if (e->n_tasks > 1) atomic_store_explicit(&e->phase_task, tk->id, memory_order_relaxed);
    /* A plain bolt may ack t inside execute, a basic bolt too (then the
     * runtime does not): either way t's block stays ours until
     * free_retired below. */
    int rc;
    IN_TASK(tk, rc = b->execute(tk->state, t, tk->coll));
    e->current = NULL;
    stat_inc(tick ? &e->stats.ticks : &e->stats.executed, 1);
    int in = tick ? -1 : input_of(e->comp, t);
    if (in >= 0) stat_inc(&e->istats[0][in].executed, 1);
    if (sampled) {
        int64_t took = gale__now_ns() - t0;
        stat_inc(&e->stats.execute_samples, 1);
        stat_inc(&e->stats.execute_ns_sum, (uint64_t)took);
        stat_inc(&e->stats.hist[GALE__LAT_EXECUTE][gale__hist_bin(took)], 1);
        if (in >= 0) {
            stat_inc(&e->istats[0][in].execute_samples, 1);
            stat_inc(&e->istats[0][in].execute_ns_sum, (uint64_t)took);
        }
        /* a slow execute: look at the flush interval after every tuple */
        e->slow_execute = took * 16 > e->rt->flush_ns;
    }
    gale_collector_t *c = tk->coll;
    if (tick) {
        gale__tuple_free(t);
    } else if (b->basic && gale__tuple_live(t)) {
        if (rc == 0) {
            gale_ack(c, t);
        } else {
            /* Storm's FailedException: the tuple fails and no error is
             * reported (the bolt's failed= counts it; gale_report_error
             * reports one) */
            GALE_DEBUG(tk->comp->id, tk->id, "execute returned %d: the input tuple is failed", rc);
            gale_fail(c, t);
        }
    }
    free_retired(e);
}

/* true when ticks fired (their emits are then in the outgoing batches) */
static bool fire_ticks(gale__exec_t *e, bool *busy, int64_t now) {
    if (!e->tick_ns || now < e->next_tick_ns) return false;
    set_busy(e, busy, true); /* what the ticks emit is held until the flush */
    e->next_tick_ns = now + e->tick_ns;
    gale_value_t v = gale_int(e->tick_ns / 1000000000);
    for (size_t i = 0; i < e->n_tasks; i++) {
        gale_tuple_t *t = gale__tuple_new(&e->pool, &e->rt->sys[GALE__SYS_TICK], -1, e->tasks[i].id,
                                          &v, 1, NULL, 0);
        if (t) execute_user(e, t);
    }
    return true;
}

/* ---------- waiting when idle ---------- */

/* Empty turns an executor spins through before it sleeps: cheap re-checks
 * that catch work about to arrive. The first YIELD_TURNS of them yield
 * the CPU: on a machine with fewer cores than busy threads (2 vCPUs run
 * a spout, a bolt and an acker) the thread that has work then runs at
 * once, where a pause-spin would hold the core for the rest of the turn
 * and the futex wake of the other thread would cost its scheduler
 * latency. With nothing else runnable a yield returns at once (~0.3 us),
 * so more than a few of them only burn CPU at moderate rates: 4 measured
 * best on 2 vCPUs (bench/RESULTS.md, "Yielding instead of spinning").
 * A bolt yields so only while it is fed a stream (hot, below): between
 * single tuples (10 k/s) the yields of a relay, its sink and the acker
 * handed the core back and forth four times a tuple, a third of the
 * process's CPU (bench/RESULTS.md, "Bolts between single tuples"). */
#define IDLE_SPINS  16
#define YIELD_TURNS 4
/* A bolt whose last park ended within HOT_GAP_NS is fed a stream (full
 * rate): it keeps polling for up to HOT_SPIN_NS after its last work
 * before parking again, so the producer rarely pays a wake. */
#define HOT_GAP_NS  20000
#define HOT_SPIN_NS 20000

static inline void idle_turn(unsigned idle) {
    if (idle <= YIELD_TURNS) sched_yield();
}

/* Waiting for a reply: a spout with trees in flight expects their acks,
 * an acker of trees that span workers the rest of their acks (within a
 * worker its producers ack inline, above), usually within a few
 * microseconds of the last work. Such an executor keeps polling instead
 * of parking: a park and its wake cost the waker a syscall and the
 * complete latency the scheduler's wake-up time, at every hop of a tree
 * (two at low rates). It polls by yielding, so the threads it waits
 * for get the core first (a pause-spin here halved acked throughput on
 * 2 vCPUs), and its budget, topology.reply.spin.micros, is of its own
 * CPU time: while other threads have work, a yield hands them the core
 * and costs the spinner almost nothing, so it keeps waiting; only when
 * nothing else runs does the spin burn CPU, and then the budget ends it. */
typedef struct {
    unsigned turns; /* polls since the last work (0: not spinning) */
    int64_t cpu0;   /* the thread's CPU clock at the first poll */
} reply_spin_t;

static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* open trees whose replies may come through e's queue */
static inline int64_t awaited(const gale__exec_t *e) {
    if (!e->comp->is_acker) return (int64_t)e->pending.count;
    return e->rt->n_workers > 1 ? atomic_load_explicit(&e->n_pending, memory_order_relaxed) : 0;
}

static inline bool awaiting_reply(const gale__exec_t *e, reply_spin_t *s) {
    if (!awaited(e) || !e->rt->reply_spin_ns) return false;
    if (s->turns++ == 0) s->cpu0 = thread_cpu_ns();
    sched_yield();
    /* the thread's clock is a syscall: read it every 8th poll */
    if ((s->turns & 7) != 0) return true;
    return thread_cpu_ns() - s->cpu0 < e->rt->reply_spin_ns;
}

/* The first sleep of a spout's progressive wait (shorter sleeps are
 * rounded up to the timer slack, ~50 us, anyway); it doubles per empty
 * turn up to topology.spout.wait.max.micros. */
#define SPOUT_WAIT_MIN_US 128
/* A spout whose lane is full retries at least this often (no wake comes
 * when the consumer makes room). */
#define BACKLOG_RETRY_US 50

/* Microseconds to the executor's next timer (a tick; a spout's rotation
 * while trees are pending: with none it has nothing to expire and runs
 * late on the next turn, which is harmless; an acker's always, as trees
 * open inline while it sleeps), capped at cap_us (< 0: no cap).
 * < 0 when there is neither timer nor cap: sleep until woken. */
static int64_t next_timer_us(gale__exec_t *e, int64_t now, int64_t cap_us) {
    int64_t due = INT64_MAX;
    if (e->tick_ns) due = e->next_tick_ns;
    bool rotates = e->comp->is_acker || e->pending.count;
    if (e->next_rotate_ns && rotates && e->next_rotate_ns < due) due = e->next_rotate_ns;
    /* wake at or after due; an overdue timer (a spout reads the clock
     * every 16th turn) means a short wait, not none */
    int64_t w = due == INT64_MAX ? -1 : due <= now ? 1 : (due - now + 999) / 1000;
    if (cap_us >= 0 && (w < 0 || w > cap_us)) w = cap_us;
    if (w < 0) return -1;
    return w > 1 || cap_us == 0 ? w : 1;
}

static void idle_wait(gale__exec_t *e, int64_t now, int64_t cap_us) {
    gale__queue_wait(&e->queue, next_timer_us(e, now ? now : gale__now_ns(), cap_us));
}

static inline void count_turn(gale__exec_t *e) {
    stat_inc(&e->loop_turns, 1);
}

#define ORPHAN_ROTATE_NS (30 * 1000000000LL)

static void check_rotate(gale__exec_t *e, int64_t now) {
    if (e->next_rotate_ns && now >= e->next_rotate_ns) {
        e->next_rotate_ns = now + (e->rt->timeout_ns ? e->rt->timeout_ns : ORPHAN_ROTATE_NS);
        if (e->comp->is_acker) pthread_mutex_lock(&e->acker_lock);
        rotate(e);
        if (e->comp->is_acker) pthread_mutex_unlock(&e->acker_lock);
    }
}

static void bolt_loop(gale__exec_t *e) {
    void *buf[POP_BATCH];
    unsigned idle = 0;
    bool busy = true;
    int64_t busy_ns = 0; /* when the last work was done */
    bool hot = false;    /* the last park was short */
    reply_spin_t spin = {0, 0};
    int64_t now = gale__now_ns();
    enter_phase(e, e->comp->is_acker ? GALE__PH_NONE : GALE__PH_EXECUTE, e->tasks[0].id);
    while (!stopping(e->rt)) {
        /* busy goes up only for a turn with a tuple in sight, so a bolt
         * spinning idle (topology.bolt.wait.spin.micros) reads as idle to
         * a drain at every look, not only between its turns */
        size_t n = 0;
        if (gale__queue_ready(&e->queue)) {
            set_busy(e, &busy, true);
            n = gale__queue_pop(&e->queue, buf, POP_BATCH);
        }
        size_t i = 0;
        for (; i < n; i++) {
            gale_tuple_t *t = buf[i];
            if (e->comp->is_acker) {
                acker_handle(e, t);
                gale__tuple_free(t);
            } else if (t->stream->sys >= 0 && t->stream->sys != GALE__SYS_TICK) {
                gale__tuple_free(t); /* an ack message for a bolt: cannot happen locally */
            } else {
                execute_user(e, t);
                /* what a long batch emitted and acked must not wait for
                 * its end: the flush interval holds inside a batch too
                 * (the clock is read every 16th tuple, or every one when
                 * execute is slow) */
                if (e->n_dirty && (e->slow_execute || (i & 15) == 15) &&
                    gale__now_ns() - e->last_flush_ns >= e->rt->flush_ns)
                    flush_all(e, true);
                /* between tuples: a slow execute must not hold the stop
                 * for the rest of the batch (the drain is over then) */
                if (stopping(e->rt)) {
                    i++;
                    break;
                }
            }
        }
        for (; i < n; i++) gale__tuple_free(buf[i]); /* stopping: dropped */
        /* the clock costs more than an empty turn: while spinning idle,
         * read it every 16th turn (ticks and rotation need no finer grain) */
        if (n || (idle & 15) == 0) now = gale__now_ns();
        bool ticked = fire_ticks(e, &busy, now);
        /* after the ticks: what a tick handler emitted or acked goes now */
        if (e->n_dirty) flush_all(e, true);
        free_retired(e);
        check_rotate(e, now);
        atomic_store_explicit(&e->phase_ns, now, memory_order_relaxed);
        count_turn(e);
        if (n || ticked || e->n_dirty) {
            idle = 0;
            busy_ns = now;
            spin.turns = 0;
            continue;
        }
        /* holding nothing: a drain may count us idle (before any park) */
        set_busy(e, &busy, false);
        ++idle;
        if (e->rt->bolt_spin_ns && now - busy_ns < e->rt->bolt_spin_ns) {
            /* topology.bolt.wait.spin.micros: stay awake, yielding */
            sched_yield();
            now = gale__now_ns();
            continue;
        }
        if (hot) idle_turn(idle);
        /* Idle: park on the queue until a push, a kick or the next timer. */
        if (idle > IDLE_SPINS && (!hot || now - busy_ns >= HOT_SPIN_NS) &&
            !(e->comp->is_acker && awaiting_reply(e, &spin))) {
            idle_wait(e, now, -1);
            /* woken again at once: work comes in a stream, stay awake
             * between its batches next time (a park and its wake cost
             * more than the gap) */
            int64_t woke = gale__now_ns();
            hot = woke - now < HOT_GAP_NS;
            now = woke;
        }
    }
}

/* The progressive wait after `idle` empty turns: SPOUT_WAIT_MIN_US,
 * doubling per turn up to topology.spout.wait.max.micros (0: spin). */
static int64_t spout_wait_us(const gale__rt_t *rt, unsigned idle) {
    unsigned k = idle - IDLE_SPINS - 1;
    int64_t us = k < 40 ? (int64_t)SPOUT_WAIT_MIN_US << k : INT64_MAX / 2;
    return us < rt->spout_wait_max_us ? us : rt->spout_wait_max_us;
}

static bool spout_tasks_done(gale__exec_t *e) {
    const gale_spout_t *sp = e->comp->spout;
    if (!sp->done) return false;
    for (size_t i = 0; i < e->n_tasks; i++) {
        bool done;
        IN_TASK(&e->tasks[i], done = sp->done(e->tasks[i].state));
        if (!done) return false;
    }
    return true;
}

/* Activate every task (executor thread). deactivated drops first: a
 * drain must not count this spout as quiet from now on. */
static void spout_activate(gale__exec_t *e) {
    const gale_spout_t *sp = e->comp->spout;
    atomic_store(&e->deactivated, false);
    e->spout_active = true;
    for (size_t i = 0; i < e->n_tasks; i++) {
        if (sp->activate)
            USER_CALL(e, GALE__PH_ACTIVATE, &e->tasks[i], sp->activate(e->tasks[i].state));
    }
}

/* Deactivate every task once (if it was activated); the stop waits for it. */
static void spout_deactivate(gale__exec_t *e) {
    const gale_spout_t *sp = e->comp->spout;
    if (e->spout_active) {
        e->spout_active = false;
        for (size_t i = 0; i < e->n_tasks; i++) {
            if (sp->deactivate)
                USER_CALL(e, GALE__PH_DEACTIVATE, &e->tasks[i], sp->deactivate(e->tasks[i].state));
        }
    }
    atomic_store(&e->deactivated, true);
}

/* gale__rt_set_spouts_active, applied on this executor's thread, only
 * while the runtime runs. Called with busy raised: busy is stored before
 * state is loaded here and a stop stores state before it loads busy
 * (both seq_cst), so either this sees the stop and changes nothing, or
 * the stop sees this executor busy and waits for its own deactivation. */
static void spout_follow_switch(gale__exec_t *e) {
    bool want = atomic_load(&e->rt->spouts_on);
    if (want == e->spout_active || atomic_load(&e->rt->state) != STATE_RUNNING) return;
    if (want)
        spout_activate(e);
    else
        spout_deactivate(e);
    GALE_INFO(e->comp->id, e->n_tasks ? e->tasks[0].id : 0, "spout %s (%zu task(s)): next_tuple %s",
              want ? "activated" : "deactivated", e->n_tasks,
              want ? "runs again" : "paused, acks and fails still delivered");
}

#define ACK_NOW_TURN 256 /* ack-now entries handled per turn */

/* Acks of trees that needed no acker (acking off, or no target), in
 * bounded turns: ack() may emit, and with acking off every emit with an
 * id adds an entry, so a turn handles at most ACK_NOW_TURN of the
 * entries there when it began, and none while a lane refuses tuples
 * (the emits would pile up) or the runtime stops. */
static bool spout_ack_now_turn(gale__exec_t *e) {
    const gale_spout_t *sp = e->comp->spout;
    size_t todo = e->n_ack_now - e->ack_now_head;
    if (!todo || e->backlog) return false;
    if (todo > ACK_NOW_TURN) todo = ACK_NOW_TURN;
    for (size_t k = 0; k < todo && !stopping(e->rt); k++) {
        /* ack() may append (and move the array): index it afresh */
        size_t i = e->ack_now_head++;
        int ti = e->ack_now[i].task_index;
        stat_inc(&e->stats.acked, 1);
        stat_inc(&e->sstats[0][e->ack_now[i].stream].acked, 1);
        if (!sp->ack) continue;
        USER_CALL(e, GALE__PH_ACK, &e->tasks[ti],
                  sp->ack(e->tasks[ti].state, e->ack_now[i].msg_id));
    }
    if (e->ack_now_head == e->n_ack_now) e->ack_now_head = e->n_ack_now = 0;
    return true;
}

static void spout_loop(gale__exec_t *e) {
    const gale_spout_t *sp = e->comp->spout;
    gale__rt_t *rt = e->rt;
    void *buf[POP_BATCH];
    unsigned idle = 0;
    uint64_t iter = 0;
    bool busy = true;
    reply_spin_t spin = {0, 0};
    for (;;) {
        int state = atomic_load_explicit(&rt->state, memory_order_relaxed);
        if (state == STATE_STOPPING) break;
        if (state == STATE_DRAINING && e->spout_active) spout_deactivate(e);
        set_busy(e, &busy, true);
        spout_follow_switch(e);
        size_t n = gale__queue_pop(&e->queue, buf, POP_BATCH);
        for (size_t i = 0; i < n; i++) {
            if (!stopping(rt)) spout_handle(e, buf[i]);
            gale__tuple_free(buf[i]);
        }
        bool acked_now = spout_ack_now_turn(e);
        /* the clock costs ~30 ns: read it every 16th turn (rotation and the
         * flush interval need no finer grain) */
        int64_t now = (iter++ & 15) == 0 ? gale__now_ns() : 0;
        if (now) {
            check_rotate(e, now);
            atomic_store_explicit(&e->phase_ns, now, memory_order_relaxed);
        }
        /* Batches build up across next_tuple calls; only what a full lane
         * refused earlier (backpressure) is retried before emitting more. */
        bool clear = !e->backlog || flush_all(e, false);
        e->backlog = !clear;
        bool emitted = false;
        size_t called = 0;
        if (clear && e->spout_active) {
            uint64_t before = atomic_load_explicit(&e->stats.emitted, memory_order_relaxed);
            for (size_t i = 0; i < e->n_tasks && !stopping(rt); i++) {
                gale__task_t *tk = &e->tasks[i];
                /* topology.max.spout.pending bounds each task's trees */
                if (e->max_pending && tk->pending >= e->max_pending) continue;
                called++;
                USER_CALL(e, GALE__PH_NEXT_TUPLE, tk, sp->next_tuple(tk->state, tk->scoll));
                uint64_t pend = (uint64_t)tk->pending;
                if (pend > atomic_load_explicit(&e->stats.max_pending_seen, memory_order_relaxed))
                    atomic_store_explicit(&e->stats.max_pending_seen, pend, memory_order_relaxed);
            }
            emitted = atomic_load_explicit(&e->stats.emitted, memory_order_relaxed) != before;
        }
        if (e->n_dirty && (!emitted || (now && now - e->last_flush_ns >= rt->flush_ns)))
            e->backlog = !flush_all(e, false); /* idle, or the flush interval passed */
        if (sp->done && !atomic_load_explicit(&e->done, memory_order_relaxed) &&
            e->pending.count == 0 && spout_tasks_done(e))
            atomic_store(&e->done, true);
        count_turn(e);
        /* Only an emit restarts the progressive wait: acks wake the spout
         * (so max.spout.pending and complete latency see them at once)
         * but leave it at the sleep it had reached. */
        if (emitted) idle = 0;
        if (emitted || n || acked_now) continue;
        /* deactivated and holding nothing: a drain may count us idle
         * (before any park) */
        set_busy(e, &busy, e->spout_active || e->n_dirty > 0 || e->n_ack_now > 0);
        if (!clear && !e->backlog) continue; /* the backlog drained just now: emit */
        if (++idle == 1) spin.turns = 0;     /* the first empty turn after the last emit */
        if (idle <= IDLE_SPINS) {
            idle_turn(idle);
            continue;
        }
        if (!e->backlog && awaiting_reply(e, &spin)) {
            idle--; /* the progressive wait starts after the spin */
            continue;
        }
        if (e->backlog) {
            idle_wait(e, now, BACKLOG_RETRY_US); /* a lane is full: retry soon */
        } else if (!called) {
            /* no backlog held next_tuple back, yet it was not called:
             * deactivated, or every task at max.spout.pending. Nothing to
             * do until an ack, a kick or the next timer. */
            idle_wait(e, now, -1);
        } else {
            /* next_tuple had nothing: Storm's progressive wait */
            idle_wait(e, now, spout_wait_us(rt, idle));
        }
    }
}

/* "component:first-task" (the id cut to fit Linux's 15 bytes), so top -H
 * and debuggers show which executor a thread runs. */
static void name_thread(const gale__exec_t *e) {
    char name[16], task[16];
    size_t tl = (size_t)snprintf(task, sizeof task, ":%d", e->n_tasks ? e->tasks[0].id : 0);
    size_t cl = strlen(e->comp->id);
    if (cl > sizeof name - 1 - tl) cl = sizeof name - 1 - tl;
    memcpy(name, e->comp->id, cl);
    memcpy(name + cl, task, tl + 1);
    pthread_setname_np(pthread_self(), name);
}

void *gale__exec_main(void *arg) {
    gale__exec_t *e = arg;
    gale__rt_t *rt = e->rt;
    tls_exec = e;
    name_thread(e);
    atomic_store(&e->busy, 1);
    atomic_store_explicit(&e->phase_ns, gale__now_ns(), memory_order_relaxed);
    int rc = gale__exec_open(e, e->open_err, sizeof e->open_err);
    e->open_rc = rc;
    atomic_store(&e->open_state, rc ? -1 : 1);
    /* Run only once every executor opened, so nothing flows into a task
     * that is still opening (gale__rt_poll_open opens the gate). */
    int go;
    while ((go = atomic_load(&rt->go)) == 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (go > 0) {
        int64_t now = gale__now_ns();
        e->last_flush_ns = now;
        atomic_store_explicit(&e->phase_ns, now, memory_order_relaxed);
        if (rt->timeout_ns && (e->comp->is_spout || e->comp->is_acker))
            e->next_rotate_ns = now + rt->timeout_ns;
        else if (e->comp->is_acker)
            e->next_rotate_ns = now + ORPHAN_ROTATE_NS;
        if (e->tick_ns) e->next_tick_ns = now + e->tick_ns;
        if (e->comp->is_spout) {
            /* a spout of a deactivated topology starts deactivated: open
             * ran, activate() waits for gale__rt_set_spouts_active */
            if (atomic_load(&rt->spouts_on))
                spout_activate(e);
            else
                atomic_store(&e->deactivated, true);
            spout_loop(e);
            spout_deactivate(e); /* when stopped before it saw the drain */
        } else {
            bolt_loop(e);
        }
    }
    /* acquire: what other threads did with our collectors before they
     * stopped us happens before close/cleanup frees them */
    (void)atomic_load_explicit(&rt->state, memory_order_acquire);
    atomic_store(&e->deactivated, true);
    flush_all(e, false);
    for (size_t i = 0; i < e->n_dirty; i++) {
        gale__outbuf_t *ob = &e->out[e->dirty[i]];
        for (size_t k = 0; k < ob->n; k++) gale__tuple_free(ob->items[k]);
        ob->n = 0;
        ob->listed = false;
    }
    e->n_dirty = 0;
    gale__exec_close(e);
    free_retired(e);
    enter_phase(e, GALE__PH_NONE, 0);
    atomic_store(&e->busy, 0);
    tls_exec = NULL;
    atomic_store(&e->exited, true);
    return NULL;
}

/* ---------- open / close ---------- */

/* Per task: one block holding the context and both collectors. */
int gale__exec_open(gale__exec_t *e, char *err, size_t errlen) {
    gale__exec_t *saved = tls_exec;
    tls_exec = e; /* open/prepare may emit from the executor's identity */
    e->opening = true;
    int rc = 0;
    for (size_t i = 0; i < e->n_tasks && !rc; i++) {
        gale__task_t *tk = &e->tasks[i];
        struct {
            struct gale_context ctx;
            struct gale_collector coll;
            struct gale_spout_collector scoll;
        } *blk = calloc(1, sizeof(*blk));
        if (!blk) {
            rc = GALE_ENOMEM;
            break;
        }
        blk->ctx.task = blk->coll.task = blk->scoll.task = tk;
        tk->ctx = &blk->ctx;
        tk->coll = &blk->coll;
        tk->scoll = &blk->scoll;
        if (e->comp->is_acker) continue;
        enter_phase(e, e->comp->is_spout ? GALE__PH_OPEN : GALE__PH_PREPARE, tk->id);
        if (e->comp->is_spout) {
            if (e->comp->spout->open)
                IN_TASK(tk, rc = e->comp->spout->open(&tk->state, &blk->ctx, &blk->scoll));
        } else if (e->comp->bolt->prepare) {
            IN_TASK(tk, rc = e->comp->bolt->prepare(&tk->state, &blk->ctx, &blk->coll));
        }
        if (rc) {
            /* no task: its tasks that failed alike logged the cause once,
             * from whichever task came first (gale__context_error_once) */
            snprintf(err, errlen, "component '%s': %s failed (%s): see its errors above",
                     e->comp->id, e->comp->is_spout ? "open" : "prepare", gale_strerror(rc));
            free(blk);
            tk->ctx = NULL;
        }
    }
    enter_phase(e, GALE__PH_NONE, 0);
    e->opening = false;
    tls_exec = saved;
    return rc;
}

void gale__exec_close(gale__exec_t *e) {
    for (size_t i = 0; i < e->n_tasks; i++) {
        gale__task_t *tk = &e->tasks[i];
        if (!tk->ctx) continue;
        if (e->comp->is_spout && e->comp->spout->close)
            USER_CALL(e, GALE__PH_CLOSE, tk, e->comp->spout->close(tk->state));
        else if (!e->comp->is_spout && !e->comp->is_acker && e->comp->bolt->cleanup)
            USER_CALL(e, GALE__PH_CLEANUP, tk, e->comp->bolt->cleanup(tk->state));
        free(tk->ctx);
        tk->ctx = NULL;
    }
}
