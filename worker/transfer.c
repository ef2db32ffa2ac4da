/*
 * transfer.c — moving tuples between workers over ZeroMQ.
 *
 * Each worker binds one PULL socket (inproc:// in `gale local`; tcp:// in
 * a cluster) and has a PUSH socket to every peer for data (owned by its
 * transfer thread) and another for credits (owned by its receive thread).
 * Frames: [header {"v":1,"t":"batch"|"credit"}, body].
 *
 * Flow control is credit-based per destination executor. A sender may
 * have at most `window` tuples to executor E that E's worker has not yet
 * put into E's queue; the window is E's queue capacity shared by the other
 * workers, so what waits for E in its worker (queue plus overflow) stays
 * within twice its configured size, in every worker count. Bytes are
 * bounded the same way: the sender keeps the sizes of the tuples it sent
 * to E and not yet credited, and stops at E's byte bound
 * (topology.executor.receive.buffer.bytes) shared by the other workers;
 * credits come back in send order, so they release the oldest sizes and
 * the wire format needs no byte field. Lanes are made
 * on first use and hold a window's worth: memory follows the traffic, not
 * executors x workers. The transfer thread drains a remote lane only while
 * it has credits for it, so it never blocks on one slow executor; the
 * receive thread never blocks either: what does not fit in E's queue
 * waits in E's overflow list — bounded by the windows — and credits go
 * back only when tuples enter the queue.
 *
 * Credits are cumulative, so a lost credit message costs nothing once a
 * later one arrives. Every worker process has a random incarnation; its
 * batch headers carry it with its worker index. A receiver counts, per
 * sending worker and its executor, the tuples of the sender's current
 * incarnation that entered the queue (or were dropped); a new incarnation
 * starts that row from zero. Credit body:
 *   [receiver_worker, receiver_incarnation, sender_incarnation,
 *    [[exec_index, count], ...]]
 * The sender applies only counts for its own incarnation, the increase
 * over the last count heard. Counts for a sender's predecessor are
 * ignored, so a restarted worker is never short of credits the receiver
 * sent into its predecessor's dead connection.
 *
 * Cluster workers (rt->endpoints set, one worker per process) speak tcp.
 * Their PUSH sockets have no high-water mark: what they queue is bounded
 * by the credits already, and a peer that is down then only stops
 * getting credits, it never blocks the transfer thread. ZeroMQ
 * reconnects by itself when a peer restarts; tuples lost with the old
 * process are replayed through the acker's timeouts. Over tcp a receive
 * thread sends every peer its counts at start (an empty list: an
 * announcement) and every CREDIT_RESEND_MS, since any message may go into
 * a connection that died. A sender starts with no credits towards a peer
 * and gets the full window when it first hears the peer's incarnation,
 * and again whenever that incarnation changes (the peer restarted: what
 * was in flight to the old process will never be credited). Credits are
 * capped at the window. The PULL refuses messages above DATA_MSG_MAX
 * (ZeroMQ would otherwise allocate whatever size a garbage frame
 * announces). SIGHUP
 * moves (gale__rt_set_endpoints) reach the sockets through endpoints_gen:
 * each thread reconnects its own sockets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <sys/random.h>
#include <time.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"
#include "worker/runtime.h"

/* A batch stops growing past this many encoded bytes (large tuples go a
 * few at a time instead of a window's worth in one message). */
#define BATCH_BYTES (1 << 20)

/* Per-tuple and per-message errors: count every one, log the first ten
 * and then one in 10000 (as executor.c does for emits). */
static bool count_logged(_Atomic uint64_t *count) {
    uint64_t n = atomic_fetch_add_explicit(count, 1, memory_order_relaxed) + 1;
    return n <= 10 || n % 10000 == 0;
}
#define RATE_LIMITED_ERROR(count, ...)                                                             \
    do {                                                                                           \
        if (count_logged(count)) GALE_ERROR(__VA_ARGS__);                                          \
    } while (0)

#define DATA_MSG_MAX (256 << 20) /* bytes of one tcp message (a batch is far smaller) */
/* tcp: how often every count goes again (the longest a lost credit
 * message stalls a sender; a few small messages per peer per second) */
#define CREDIT_RESEND_MS 500

typedef struct overflow {
    gale_tuple_t **items;
    size_t head, n, cap;
} overflow_t;

/* Bytes in flight from this worker to one remote executor: the charges
 * (block sizes) of the tuples sent and not yet credited, oldest first.
 * One sender's tuples enter the executor's queue in the order they were
 * sent, so n returned credits release the n oldest charges. The transfer
 * thread pushes and reads the total; the receive thread pops. */
typedef struct inflight {
    _Atomic uint64_t head, tail;
    _Atomic int64_t bytes;
    int64_t window; /* bytes that may be in flight (the receiver's share) */
    uint64_t mask;
    int64_t charges[];
} inflight_t;

struct gale__xfer {
    gale__worker_t *w;
    void *pull;
    void **data_push;   /* per peer worker: transfer thread */
    void **credit_push; /* per peer worker: receive thread */
    pthread_t tx, rx;
    bool tx_started, rx_started;
    atomic_bool stop;
    int stop_fd;          /* eventfd: wakes the receive thread out of zmq_poll */
    gale__pool_t pool;    /* receive thread's tuples */
    overflow_t *over;     /* per global executor index (local ones) */
    uint64_t incarnation; /* this process's random id (batch headers, credits) */
    /* receiving side, receive thread: per peer, the incarnation of its
     * batches (0: none yet); [peer * n_execs + exec], the tuples of that
     * incarnation that entered the queue or were dropped, and what the
     * last credit message said */
    uint64_t *sender_inc, *granted, *granted_said;
    int64_t resend_at_ms;
    /* sending side, receive thread: per peer, the incarnation its credits
     * carry (0: not heard yet); per remote executor, its last count */
    uint64_t *peer_inc, *counted;
    /* per peer: queues of batches the transfer thread dropped (a move),
     * and how many of them the receive thread has written off */
    _Atomic uint64_t *drops;
    _Atomic uint64_t restarts_seen; /* peer incarnations heard (count_logged) */
    uint64_t *drops_seen;
    _Atomic(inflight_t *) *inflight; /* per global executor index, on first send */
    gale__batch_encoder_t enc;
    msgpack_sbuffer hdr_batch, hdr_credit;
    size_t batch_max;
    /* for a drain (gale__transfer_quiet): tx_busy is raised before the
     * transfer thread pops a lane and lowered after a round that moved
     * nothing; tx_sent counts tuples sent, rx_done those the receive
     * thread put into a queue or dropped */
    _Atomic int tx_busy;
    _Atomic uint64_t tx_sent, rx_done;
    /* ZeroMQ data messages (batches) and their bytes (header + body),
     * sent and accepted: gale__transfer_counts, the worker's summary */
    _Atomic uint64_t tx_batches, tx_bytes, rx_batches, rx_bytes;
    /* tcp: the endpoint each socket is connected to, per peer, and the
     * endpoints_gen each thread last applied */
    char **data_ep, **credit_ep;
    uint64_t tx_gen, rx_gen;
};

static void endpoint(gale__rt_t *rt, int worker, char *buf, size_t cap) {
    if (!rt->endpoints) {
        snprintf(buf, cap, "inproc://gale-%p-w%d", (const void *)rt, worker);
        return;
    }
    pthread_mutex_lock(&rt->endpoints_lock);
    snprintf(buf, cap, "%s", rt->endpoints[worker]);
    pthread_mutex_unlock(&rt->endpoints_lock);
}

/* The calling thread's sockets follow moved peers (tcp only). The
 * transfer thread's zmq_disconnect drops the batches queued for the old
 * address: it counts the peer's drops for the receive thread, which
 * writes off what was in flight there (write_off_drops). */
static void follow_moves(struct gale__xfer *x, void **socks, char **eps, uint64_t *seen) {
    gale__rt_t *rt = x->w->rt;
    if (!rt->endpoints) return;
    uint64_t gen = atomic_load(&rt->endpoints_gen);
    if (gen == *seen) return;
    *seen = gen;
    for (size_t p = 0; p < rt->n_workers; p++) {
        if ((int)p == x->w->index || !socks[p]) continue;
        char ep[300];
        endpoint(rt, (int)p, ep, sizeof ep);
        if (eps[p] && strcmp(eps[p], ep) == 0) continue;
        char *copy = strdup(ep);
        if (!copy) continue;
        if (eps[p]) {
            zmq_disconnect(socks[p], eps[p]);
            if (socks == x->data_push) {
                atomic_fetch_add(&x->drops[p], 1);
                gale__transfer_wake_rx(x->w);
            }
        }
        if (zmq_connect(socks[p], ep) != 0)
            GALE_ERROR(NULL, 0, "worker %d: cannot connect to %s: %s", x->w->index, ep,
                       zmq_strerror(zmq_errno()));
        else
            GALE_INFO(NULL, 0, "worker %d: peer %zu moved to %s", x->w->index, p, ep);
        free(eps[p]);
        eps[p] = copy;
    }
}

/* ---------- sending ---------- */

/* Send [header, body]; retries on EAGAIN until stop (the peer's receive
 * thread never blocks, so this only waits for ZeroMQ's own queues). */
static int send2(struct gale__xfer *x, void *sock, const msgpack_sbuffer *hdr, const void *body,
                 size_t len) {
    for (;;) {
        if (zmq_send(sock, hdr->data, hdr->size, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) break;
        if (zmq_errno() != EAGAIN || atomic_load(&x->stop)) return -1;
        zmq_poll(NULL, 0, 1);
    }
    /* the second frame of a multipart message is never refused */
    return zmq_send(sock, body, len, 0) < 0 ? -1 : 0;
}

/* Transfer thread: the in-flight record for remote executor ei (made on
 * first use), or NULL when out of memory (then only tuple credits bound). */
static inflight_t *inflight_of(struct gale__xfer *x, int ei) {
    inflight_t *f = atomic_load_explicit(&x->inflight[ei], memory_order_relaxed);
    if (f) return f;
    const gale__rt_t *rt = x->w->rt;
    const gale__exec_t *e = &rt->execs[ei];
    uint64_t cap = 16;
    while (cap < (uint64_t)e->credit_window) cap <<= 1;
    f = calloc(1, sizeof(*f) + cap * sizeof(int64_t));
    if (!f) return NULL;
    int64_t budget =
        gale_conf_get_int(e->comp->conf, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BYTES, 64 << 20);
    f->window = budget / (int64_t)(rt->n_workers - 1);
    if (f->window < 1) f->window = 1;
    f->mask = cap - 1;
    atomic_store_explicit(&x->inflight[ei], f, memory_order_release);
    return f;
}

/* Record t's bytes as in flight; before its batch goes, so its credit
 * cannot come back first. Skipped if a peer's stray credits let more
 * tuples out than the window (the ring holds a window's worth). */
static void charge(inflight_t *f, const gale_tuple_t *t) {
    uint64_t tail = atomic_load_explicit(&f->tail, memory_order_relaxed);
    if (tail - atomic_load_explicit(&f->head, memory_order_acquire) > f->mask) return;
    int64_t bytes = (int64_t)gale__pool_block_size(t);
    f->charges[tail & f->mask] = bytes;
    atomic_fetch_add_explicit(&f->bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&f->tail, tail + 1, memory_order_release);
}

/* Encode and send what the credits allow from the lanes towards peer p. */
static size_t transfer_to_peer(struct gale__xfer *x, gale__worker_t *peer) {
    gale__worker_t *w = x->w;
    gale__rt_t *rt = w->rt;
    void *buf[256];
    size_t total = 0;
    const gale__rstream_t *last = NULL; /* the previous tuple's stream and its name's length */
    uint32_t last_len = 0;
    gale__batch_begin(&x->enc);
    for (size_t i = 0; i < peer->n_execs; i++) {
        int ei = peer->execs[i]->index;
        gale__queue_t *lane = atomic_load_explicit(&w->lanes[ei], memory_order_acquire);
        if (!lane) continue; /* nothing was ever sent there */
        int64_t credit = atomic_load_explicit(&w->credits[ei], memory_order_acquire);
        inflight_t *f = inflight_of(x, ei);
        while (credit > 0 && x->enc.count < x->batch_max && x->enc.sb.size < BATCH_BYTES) {
            /* the receiver's byte share: one tuple always goes when nothing
             * is in flight, so a tuple larger than the share still passes */
            if (f && atomic_load_explicit(&f->bytes, memory_order_acquire) >= f->window) break;
            size_t want = (size_t)credit < 256 ? (size_t)credit : 256;
            if (want > x->batch_max - x->enc.count) want = x->batch_max - x->enc.count;
            if (x->enc.sb.size > BATCH_BYTES / 2) want = 1; /* large tuples: one by one */
            size_t k = gale__queue_pop(lane, buf, want);
            if (!k) break;
            size_t sent = 0;
            for (size_t j = 0; j < k; j++) {
                gale_tuple_t *t = buf[j];
                if (t->stream != last) {
                    last = t->stream;
                    last_len = (uint32_t)strlen(last->id);
                }
                gale__wire_tuple_t wt = {.dest_task = t->dest_task,
                                         .stream = t->stream->id,
                                         .stream_len = last_len,
                                         .src_task = t->src_task,
                                         .ids = t->ids,
                                         .n_ids = t->n_ids,
                                         .values = t->values,
                                         .n_values = t->n_values};
                /* emit checked the values and validation the stream, so
                 * only memory can fail here */
                int rc = gale__batch_add(&x->enc, &wt);
                if (rc == 0) {
                    sent++;
                    if (f) charge(f, t);
                } else
                    RATE_LIMITED_ERROR(&w->tx_errors, t->stream->component, t->src_task,
                                       "cannot encode a tuple for task %d (%s): dropped, its "
                                       "tree fails by timeout",
                                       t->dest_task, gale_strerror(rc));
                gale__tuple_free(t);
            }
            /* only what went on the wire uses the receiver's credits */
            atomic_fetch_sub_explicit(&w->credits[ei], (int64_t)sent, memory_order_acq_rel);
            credit -= (int64_t)sent;
            total += sent;
        }
        if (x->enc.count >= x->batch_max || x->enc.sb.size >= BATCH_BYTES) break;
    }
    gale__batch_end(&x->enc);
    if (total) {
        atomic_fetch_add_explicit(&x->tx_sent, total, memory_order_release);
        if (send2(x, x->data_push[peer->index], &x->hdr_batch, x->enc.sb.data, x->enc.sb.size)) {
            RATE_LIMITED_ERROR(&w->tx_errors, NULL, 0,
                               "worker %d: cannot send a batch to worker %d: %s", w->index,
                               peer->index, zmq_strerror(zmq_errno()));
        } else {
            atomic_fetch_add_explicit(&x->tx_batches, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&x->tx_bytes, x->hdr_batch.size + x->enc.sb.size,
                                      memory_order_relaxed);
        }
    }
    (void)rt;
    return total;
}

/* "xfer:w0", "recv:w0": top -H shows which worker's thread is busy. */
static void name_thread(const char *role, int worker) {
    char name[16];
    snprintf(name, sizeof name, "%s:w%d", role, worker);
    pthread_setname_np(pthread_self(), name);
}

static void *transfer_main(void *arg) {
    struct gale__xfer *x = arg;
    gale__worker_t *w = x->w;
    gale__rt_t *rt = w->rt;
    name_thread("xfer", w->index);
    unsigned idle = 0;
    while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
        follow_moves(x, x->data_push, x->data_ep, &x->tx_gen);
        if (!atomic_load_explicit(&x->tx_busy, memory_order_relaxed)) atomic_store(&x->tx_busy, 1);
        size_t moved = 0;
        for (size_t p = 0; p < rt->n_workers; p++)
            if ((int)p != w->index) moved += transfer_to_peer(x, &rt->workers[p]);
        if (moved) {
            idle = 0;
            continue;
        }
        atomic_store(&x->tx_busy, 0);
        if (++idle < 64) continue;
        /* Sleep until a producer, a credit or stop wakes us: announce,
         * then re-check (the eventcount of queue.h), no timeout. */
        if (!gale__wake_word_prepare(&w->transfer_wake)) continue;
        bool ready = atomic_load(&x->stop);
        for (size_t i = 0; i < rt->n_execs && !ready; i++) {
            gale__queue_t *lane = atomic_load_explicit(&w->lanes[i], memory_order_acquire);
            if (lane && gale__queue_depth(lane) && atomic_load(&w->credits[i]) > 0) ready = true;
        }
        if (ready)
            gale__wake_word_cancel(&w->transfer_wake);
        else
            gale__wake_word_wait(&w->transfer_wake, -1);
    }
    for (size_t p = 0; p < rt->n_workers; p++)
        if (x->data_push[p]) zmq_close(x->data_push[p]);
    return NULL;
}

/* ---------- receiving ---------- */

typedef struct rx_ctx {
    struct gale__xfer *x;
    int bad;
    /* the stream of the previous tuple (a batch mostly holds one): its
     * source component and name length, so a hit costs one memcmp */
    const gale__rcomp_t *last_comp;
    const gale__rstream_t *last;
    size_t last_len;
} rx_ctx_t;

static const gale__rstream_t *wire_stream(gale__rt_t *rt, int src_task, const char *s, size_t n) {
    for (int k = 0; k < GALE__SYS_COUNT; k++)
        if (strlen(rt->sys[k].id) == n && memcmp(rt->sys[k].id, s, n) == 0) return &rt->sys[k];
    gale__rcomp_t *c = rt->task_comp[src_task];
    for (size_t k = 0; k < c->n_streams; k++)
        if (strlen(c->streams[k].id) == n && memcmp(c->streams[k].id, s, n) == 0)
            return &c->streams[k];
    return NULL;
}

/* Does a decoded tuple make sense here: the right kind of stream for the
 * destination (user streams to bolts, acker streams to ackers, spout
 * streams to spouts), the declared arity, and int values for system
 * streams? Ticks never travel. */
static bool wire_tuple_fits(gale__rt_t *rt, const gale__rstream_t *s,
                            const gale__wire_tuple_t *wt) {
    static const uint32_t arity[GALE__SYS_COUNT] = {0, 3, 2, 2, 1, 1, 1, 1};
    const gale__rcomp_t *dest = rt->task_comp[wt->dest_task];
    if (!s->def) {
        bool to_acker = s->sys >= GALE__SYS_ACK_INIT && s->sys <= GALE__SYS_ACK_RESET;
        bool to_spout = s->sys >= GALE__SYS_SPOUT_ACK;
        return s->sys != GALE__SYS_TICK && !(to_acker && !dest->is_acker) &&
               !(to_spout && !dest->is_spout) && wt->n_values == arity[s->sys] &&
               wt->wire_values_all_ints;
    }
    return !dest->is_spout && !dest->is_acker && wt->n_values == s->def->n_fields;
}

/* false (and t freed) when out of memory: the tree times out and replays */
static bool overflow_push(overflow_t *o, gale_tuple_t *t) {
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 256;
        gale_tuple_t **n = malloc(ncap * sizeof(*n));
        if (!n) {
            gale__tuple_free(t);
            return false;
        }
        for (size_t i = 0; i < o->n; i++) n[i] = o->items[(o->head + i) % o->cap];
        free(o->items);
        o->items = n;
        o->cap = ncap;
        o->head = 0;
    }
    o->items[(o->head + o->n) % o->cap] = t;
    o->n++;
    return true;
}

/* Move overflow into the executor's queue; credits owed for what went. */
static void overflow_drain(struct gale__xfer *x, int ei) {
    overflow_t *o = &x->over[ei];
    gale__rt_t *rt = x->w->rt;
    while (o->n) {
        gale_tuple_t *t = o->items[o->head];
        /* read before the push: once queued, the executor may free it */
        int sender = rt->execs[rt->task_exec[t->src_task]].worker->index;
        void *item = t;
        if (!gale__queue_push(&rt->execs[ei].queue, &item, 1)) return;
        x->granted[(size_t)sender * rt->n_execs + (size_t)ei]++;
        o->head = (o->head + 1) % o->cap;
        o->n--;
        atomic_fetch_add_explicit(&x->rx_done, 1, memory_order_release);
    }
}

static int on_wire_tuple(void *ud, const gale__wire_tuple_t *wt) {
    rx_ctx_t *c = ud;
    struct gale__xfer *x = c->x;
    gale__rt_t *rt = x->w->rt;
    if (wt->dest_task < 1 || wt->dest_task > rt->max_task || wt->src_task < 1 ||
        wt->src_task > rt->max_task || rt->execs[rt->task_exec[wt->dest_task]].worker != x->w) {
        c->bad++; /* not ours: not counted in rx_done (no transfer thread sent it) */
        return 0;
    }
    int ei = rt->task_exec[wt->dest_task];
    const gale__rcomp_t *src = rt->task_comp[wt->src_task];
    const gale__rstream_t *s = c->last;
    if (!s || c->last_comp != src || c->last_len != wt->stream_len ||
        memcmp(s->id, wt->stream, wt->stream_len) != 0) {
        s = wire_stream(rt, wt->src_task, wt->stream, wt->stream_len);
        c->last_comp = src;
        c->last = s;
        c->last_len = wt->stream_len;
    }
    bool fits = s && wire_tuple_fits(rt, s, wt);
    gale_tuple_t *t = fits ? gale__tuple_from_wire(&x->pool, s, wt) : NULL;
    if (!t || !overflow_push(&x->over[ei], t)) {
        /* dropped: its credit goes back to the sender all the same, or
         * the sender's window to this executor would shrink for good */
        int sender = rt->execs[rt->task_exec[wt->src_task]].worker->index;
        x->granted[(size_t)sender * rt->n_execs + (size_t)ei]++;
        c->bad++;
        if (fits) atomic_fetch_add_explicit(&x->rx_done, 1, memory_order_release);
    }
    return 0;
}

/* Credits never exceed the window (a peer's restart gives it back in
 * full while tuples of the old process may still be counted). */
static void add_credits(gale__worker_t *w, int ei, int64_t n) {
    int64_t win = w->rt->execs[ei].credit_window;
    int64_t cur = atomic_load(&w->credits[ei]);
    while (!atomic_compare_exchange_weak(&w->credits[ei], &cur, cur + n > win ? win : cur + n)) {
    }
}

/* Receive thread: n credits release the n oldest byte charges to ei. */
static void release_charges(struct gale__xfer *x, int ei, uint64_t n) {
    inflight_t *f = atomic_load_explicit(&x->inflight[ei], memory_order_acquire);
    if (!f) return;
    uint64_t head = atomic_load_explicit(&f->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&f->tail, memory_order_acquire);
    int64_t freed = 0;
    for (uint64_t k = n; k && head < tail; k--, head++) freed += f->charges[head & f->mask];
    atomic_store_explicit(&f->head, head, memory_order_release);
    atomic_fetch_sub_explicit(&f->bytes, freed, memory_order_release);
}

/* Receive thread: what is in flight to peer's executors will never be
 * credited; they get their full window back. Credits still coming for
 * tuples that did arrive widen nothing past the window (add_credits). */
static void full_windows(struct gale__xfer *x, int peer) {
    gale__worker_t *w = x->w, *p = &w->rt->workers[peer];
    for (size_t i = 0; i < p->n_execs; i++) {
        int ei = p->execs[i]->index;
        release_charges(x, ei, UINT64_MAX);
        atomic_store(&w->credits[ei], w->rt->execs[ei].credit_window);
    }
    gale__wake_word_wake(&w->transfer_wake);
}

/* Receive thread: batches queued for a peer's old address were dropped
 * by a move (follow_moves), so their tuples will never be credited. */
static void write_off_drops(struct gale__xfer *x) {
    gale__rt_t *rt = x->w->rt;
    for (size_t p = 0; p < rt->n_workers; p++) {
        uint64_t d = atomic_load(&x->drops[p]);
        if (d == x->drops_seen[p]) continue;
        x->drops_seen[p] = d;
        full_windows(x, (int)p);
        GALE_INFO(NULL, 0,
                  "worker %d: what was queued for worker %zu's old address was dropped: full "
                  "windows to its %zu executor(s) (lost tuples replay by timeout)",
                  x->w->index, p, rt->workers[p].n_execs);
    }
}

/* A receiver with a new incarnation (first heard, or restarted): its
 * executors get their full window, and nothing in flight to the old
 * process will be credited. */
static void peer_restarted(struct gale__xfer *x, int peer, uint64_t inc) {
    gale__worker_t *w = x->w, *p = &w->rt->workers[peer];
    bool first = x->peer_inc[peer] == 0;
    x->peer_inc[peer] = inc;
    for (size_t i = 0; i < p->n_execs; i++) x->counted[p->execs[i]->index] = 0;
    full_windows(x, peer);
    /* rate-limited: forged credit messages (no CURVE yet) must not flood the log */
    if (count_logged(&x->restarts_seen))
        GALE_INFO(NULL, 0,
                  "worker %d: worker %d (incarnation %016" PRIx64
                  ") %s: full windows to its %zu executor(s)",
                  w->index, peer, inc, first ? "is up" : "restarted", p->n_execs);
}

static bool is_uint(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

/* Sending side: a receiver's counts (see the top of this file). */
static void handle_credit(struct gale__xfer *x, const void *body, size_t len) {
    gale__worker_t *w = x->w;
    gale__rt_t *rt = w->rt;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char err[128];
    const msgpack_object *m = &u.data, *list = NULL;
    bool ok = gale__msgpack_unpack_whole(body, len, &u, "credit", err, sizeof err) == 0 &&
              m->type == MSGPACK_OBJECT_ARRAY && m->via.array.size == 4 &&
              is_uint(&m->via.array.ptr[0]) && m->via.array.ptr[0].via.u64 < rt->n_workers &&
              (int)m->via.array.ptr[0].via.u64 != w->index && is_uint(&m->via.array.ptr[1]) &&
              m->via.array.ptr[1].via.u64 != 0 && is_uint(&m->via.array.ptr[2]) &&
              (list = &m->via.array.ptr[3])->type == MSGPACK_OBJECT_ARRAY;
    int peer = ok ? (int)m->via.array.ptr[0].via.u64 : -1;
    /* every entry names an executor of that peer, or none is applied */
    for (uint32_t i = 0; ok && i < list->via.array.size; i++) {
        const msgpack_object *p = &list->via.array.ptr[i];
        ok = p->type == MSGPACK_OBJECT_ARRAY && p->via.array.size == 2 &&
             is_uint(&p->via.array.ptr[0]) && is_uint(&p->via.array.ptr[1]) &&
             p->via.array.ptr[0].via.u64 < rt->n_execs &&
             rt->execs[p->via.array.ptr[0].via.u64].worker->index == peer;
    }
    if (!ok) {
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0, "worker %d: malformed credit message ignored",
                           w->index);
        msgpack_unpacked_destroy(&u);
        return;
    }
    uint64_t inc = m->via.array.ptr[1].via.u64;
    if (rt->endpoints && inc != x->peer_inc[peer]) peer_restarted(x, peer, inc);
    if (m->via.array.ptr[2].via.u64 == x->incarnation) {
        for (uint32_t i = 0; i < list->via.array.size; i++) {
            int ei = (int)list->via.array.ptr[i].via.array.ptr[0].via.u64;
            uint64_t n = list->via.array.ptr[i].via.array.ptr[1].via.u64;
            if (n < x->counted[ei]) {
                /* the receiver counts afresh: a batch claiming to be from
                 * another incarnation of this worker reset its row. As
                 * after a restart: what was in flight is written off. */
                release_charges(x, ei, UINT64_MAX);
                x->counted[ei] = n;
                atomic_store(&w->credits[ei], rt->execs[ei].credit_window);
                continue;
            }
            if (n == x->counted[ei]) continue; /* a resend: nothing new */
            uint64_t more = n - x->counted[ei];
            x->counted[ei] = n;
            release_charges(x, ei, more);
            add_credits(w, ei, more > INT32_MAX ? INT32_MAX : (int64_t)more);
        }
    }
    gale__wake_word_wake(&w->transfer_wake);
    msgpack_unpacked_destroy(&u);
}

/* Receiving side: a batch from peer (its header's incarnation); a new
 * incarnation counts from zero. false for a header without a peer. */
static bool note_sender(struct gale__xfer *x, const gale__wire_header_t *h) {
    gale__rt_t *rt = x->w->rt;
    if (h->worker < 0 || h->worker >= (int64_t)rt->n_workers || h->worker == x->w->index ||
        h->incarnation == 0)
        return false;
    size_t p = (size_t)h->worker;
    if (x->sender_inc[p] != h->incarnation) {
        x->sender_inc[p] = h->incarnation;
        memset(&x->granted[p * rt->n_execs], 0, rt->n_execs * sizeof(uint64_t));
        memset(&x->granted_said[p * rt->n_execs], 0, rt->n_execs * sizeof(uint64_t));
    }
    return true;
}

/* Send each peer the counts that changed, or (all) every count and an
 * announcement to the peers not heard from. */
static void return_credits(struct gale__xfer *x, bool all) {
    gale__rt_t *rt = x->w->rt;
    for (size_t p = 0; p < rt->n_workers; p++) {
        if ((int)p == x->w->index) continue;
        uint64_t *row = &x->granted[p * rt->n_execs], *said = &x->granted_said[p * rt->n_execs];
        size_t n = 0;
        for (size_t e = 0; e < rt->n_execs; e++) n += all ? row[e] > 0 : row[e] != said[e];
        if (!n && !all) continue;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 4);
        msgpack_pack_uint64(&pk, (uint64_t)x->w->index);
        msgpack_pack_uint64(&pk, x->incarnation);
        msgpack_pack_uint64(&pk, x->sender_inc[p]);
        msgpack_pack_array(&pk, (uint32_t)n);
        for (size_t e = 0; e < rt->n_execs; e++) {
            if (all ? row[e] == 0 : row[e] == said[e]) continue;
            msgpack_pack_array(&pk, 2);
            msgpack_pack_uint64(&pk, e);
            msgpack_pack_uint64(&pk, row[e]);
            said[e] = row[e];
        }
        send2(x, x->credit_push[p], &x->hdr_credit, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void handle_message(struct gale__xfer *x) {
    zmq_msg_t hdr, body;
    zmq_msg_init(&hdr);
    zmq_msg_init(&body);
    gale__wire_header_t h;
    char err[256];
    if (zmq_msg_recv(&hdr, x->pull, ZMQ_DONTWAIT) < 0) goto out;
    gale__worker_t *w = x->w;
    if (!zmq_msg_more(&hdr)) {
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0,
                           "worker %d: one-frame message ignored: peers send [header, body]",
                           w->index);
        goto out;
    }
    zmq_msg_recv(&body, x->pull, 0);
    if (zmq_msg_more(&body)) { /* not a peer's: the whole message goes */
        size_t frames = 2;
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        for (bool more = true; more; frames++) {
            zmq_msg_recv(&extra, x->pull, 0);
            more = zmq_msg_more(&extra);
        }
        zmq_msg_close(&extra);
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0,
                           "worker %d: message of %zu frames ignored: peers send [header, body]",
                           w->index, frames);
        goto out;
    }
    if (gale__wire_header_check(zmq_msg_data(&hdr), zmq_msg_size(&hdr), &h, err, sizeof err)) {
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0, "worker %d: message rejected: %s", w->index,
                           err);
    } else if (strcmp(h.type, GALE_WIRE_BATCH) == 0 && !note_sender(x, &h)) {
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0,
                           "worker %d: batch without a valid sender (\"w\", \"i\") ignored",
                           w->index);
    } else if (strcmp(h.type, GALE_WIRE_BATCH) == 0) {
        rx_ctx_t c = {x, 0, NULL, NULL, 0};
        if (gale__batch_decode(zmq_msg_data(&body), zmq_msg_size(&body), on_wire_tuple, &c, err,
                               sizeof err)) {
            RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0, "worker %d: batch rejected: %s", w->index,
                               err);
        } else {
            atomic_fetch_add_explicit(&x->rx_batches, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&x->rx_bytes, zmq_msg_size(&hdr) + zmq_msg_size(&body),
                                      memory_order_relaxed);
        }
        if (c.bad) {
            /* counted per tuple, logged (rate-limited) per batch */
            atomic_fetch_add_explicit(&w->rx_dropped, (uint64_t)c.bad - 1, memory_order_relaxed);
            RATE_LIMITED_ERROR(&w->rx_dropped, NULL, 0,
                               "worker %d: %d tuple(s) for unknown tasks or streams dropped: is "
                               "the peer running another topology?",
                               w->index, c.bad);
        }
    } else if (strcmp(h.type, "credit") == 0) {
        handle_credit(x, zmq_msg_data(&body), zmq_msg_size(&body));
    } else {
        RATE_LIMITED_ERROR(&w->rx_rejected, NULL, 0, "worker %d: unknown message type '%s' ignored",
                           w->index, h.type);
    }
out:
    zmq_msg_close(&hdr);
    zmq_msg_close(&body);
}

static void *receive_main(void *arg) {
    struct gale__xfer *x = arg;
    gale__rt_t *rt = x->w->rt;
    name_thread("recv", x->w->index);
    while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
        follow_moves(x, x->credit_push, x->credit_ep, &x->rx_gen);
        write_off_drops(x);
        bool backlog = false;
        for (size_t e = 0; e < rt->n_execs; e++)
            if (x->over[e].n) {
                overflow_drain(x, (int)e);
                backlog |= x->over[e].n > 0;
            }
        /* tcp: everything again every CREDIT_RESEND_MS, the first time
         * at start (announcing this incarnation) */
        int64_t now = gale__now_ns() / 1000000, wait = -1;
        bool all = rt->endpoints && now >= x->resend_at_ms;
        if (all) x->resend_at_ms = now + CREDIT_RESEND_MS;
        return_credits(x, all);
        if (rt->endpoints) wait = x->resend_at_ms - now;
        /* Block until a message or stop; with a backlog retry each ms
         * (no wake comes when an executor's queue makes room). */
        zmq_pollitem_t it[2] = {{x->pull, 0, ZMQ_POLLIN, 0}, {NULL, x->stop_fd, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(it, 2, backlog ? 1 : wait);
        if (rc > 0 && (it[1].revents & ZMQ_POLLIN) && !atomic_load(&x->stop)) {
            uint64_t n; /* a wake for a move (gale__transfer_wake_rx): clear it */
            if (read(x->stop_fd, &n, sizeof n) < 0) {
            }
        }
        if (rc > 0 && (it[0].revents & ZMQ_POLLIN)) {
            /* read what is there, then deliver */
            for (int i = 0; i < 64; i++) {
                int ev = 0;
                size_t sz = sizeof ev;
                zmq_getsockopt(x->pull, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN)) break;
                handle_message(x);
            }
        }
    }
    for (size_t p = 0; p < rt->n_workers; p++)
        if (x->credit_push[p]) zmq_close(x->credit_push[p]);
    zmq_close(x->pull);
    return NULL;
}

/* ---------- life cycle ---------- */

static void *open_push(gale__rt_t *rt, int peer, int hwm, char **ep_out) {
    char ep[300];
    endpoint(rt, peer, ep, sizeof ep);
    void *s = zmq_socket(rt->zctx, ZMQ_PUSH);
    int linger = 0;
    if (!s) return NULL;
    if (rt->endpoints) hwm = 0; /* credits bound it: see the top of this file */
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) || !(*ep_out = strdup(ep))) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

int gale__transfer_lanes_init(gale__rt_t *rt, gale__worker_t *w) {
    w->lanes = calloc(rt->n_execs, sizeof(*w->lanes));
    w->credits = calloc(rt->n_execs, sizeof(*w->credits));
    if (!w->lanes || !w->credits) return GALE_ENOMEM;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        /* E's queue capacity split among the workers that can send to it */
        int64_t cap = gale_conf_get_int(e->comp->conf,
                                        GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 32768);
        int64_t win = cap / (int64_t)(rt->n_workers - 1);
        e->credit_window = win > 0 ? win : 1;
        atomic_init(&w->lanes[i], NULL);
        /* tcp: none until the receiver's incarnation is heard (handle_credit) */
        atomic_init(&w->credits[i], e->worker == w || rt->endpoints ? 0 : e->credit_window);
    }
    return 0;
}

/* Lane slots: a window's worth (what can leave at once), within the
 * configured transfer buffer; a power of two. */
static size_t lane_capacity(gale__rt_t *rt, const gale__exec_t *e) {
    size_t most =
        (size_t)gale_conf_get_int(rt->conf, GALE_CONF_TOPOLOGY_TRANSFER_BUFFER_SIZE, 32768);
    size_t cap = 16;
    while (cap < (size_t)e->credit_window && cap < most) cap <<= 1;
    return cap < most ? cap : most;
}

gale__queue_t *gale__transfer_lane(gale__worker_t *w, int ei) {
    gale__queue_t *q = atomic_load_explicit(&w->lanes[ei], memory_order_acquire);
    if (q) return q;
    gale__rt_t *rt = w->rt;
    const gale__exec_t *e = &rt->execs[ei];
    size_t cap = lane_capacity(rt, e);
    q = aligned_alloc(64, sizeof(*q));
    if (!q || gale__queue_init(q, cap)) {
        free(q);
        GALE_ERROR(e->comp->id, 0, "worker %d: out of memory for a transfer lane", w->index);
        return NULL;
    }
    gale__queue_limit_bytes(
        q, gale_conf_get_int(e->comp->conf, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BYTES, 64 << 20));
    gale__queue_share_wake(q, &w->transfer_wake);
    gale__queue_t *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&w->lanes[ei], &none, q, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        gale__queue_destroy(q); /* another producer made it first */
        free(q);
        return none;
    }
    gale__mem_add((int64_t)(cap * sizeof(gale__slot_t)));
    return q;
}

void gale__transfer_lanes_free(gale__worker_t *w) {
    if (!w->lanes) return;
    for (size_t i = 0; i < w->rt->n_execs; i++) {
        gale__queue_t *q = atomic_load(&w->lanes[i]);
        if (!q) continue;
        void *buf[256];
        size_t n;
        while ((n = gale__queue_pop(q, buf, 256)) > 0)
            for (size_t k = 0; k < n; k++) gale__tuple_free(buf[k]);
        gale__mem_add(-(int64_t)(gale__queue_capacity(q) * sizeof(gale__slot_t)));
        gale__queue_destroy(q);
        free(q);
    }
    free(w->lanes);
    w->lanes = NULL;
}

/* A random nonzero id for this worker's life (its restart gets another). */
static uint64_t incarnation(void) {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) /* no entropy: time and pid differ */
        v = (uint64_t)gale__now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
    return v ? v : 1;
}

/* One ZeroMQ context for the workers of this process, sized for their
 * sockets (a PULL and two PUSH per peer each): ZeroMQ's default of 1023
 * sockets and a soft limit of 1024 descriptors stop at about 22 workers.
 * Raise the soft limit up to the hard one, or refuse with the reason. */
static int make_context(gale__rt_t *rt, char *err, size_t errlen) {
    size_t here = 0;
    for (size_t p = 0; p < rt->n_workers; p++) here += rt->workers[p].local;
    size_t sockets = here * (1 + 2 * (rt->n_workers - 1));
    size_t fds = sockets + 256; /* one mailbox each, plus ZeroMQ's and the process's own */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < fds) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < fds) {
            snprintf(err, errlen,
                     "%zu workers in one process need about %zu file descriptors, but the limit "
                     "is %llu (ulimit -Hn): raise it or run fewer workers",
                     here, fds, (unsigned long long)rl.rlim_max);
            return GALE_ERANGE;
        }
        rl.rlim_cur = fds;
        if (setrlimit(RLIMIT_NOFILE, &rl)) {
            snprintf(err, errlen, "cannot raise the open file limit to %zu: %s", fds,
                     strerror(errno));
            return GALE_EIO;
        }
    }
    if (!(rt->zctx = zmq_ctx_new())) {
        snprintf(err, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        return GALE_EIO;
    }
    int want = (int)(sockets + 64);
    if (want > 1023 && zmq_ctx_set(rt->zctx, ZMQ_MAX_SOCKETS, want)) {
        snprintf(err, errlen, "%zu workers in one process need %d ZeroMQ sockets: %s", here, want,
                 zmq_strerror(zmq_errno()));
        return GALE_ERANGE;
    }
    return 0;
}

int gale__transfer_start(gale__rt_t *rt, gale__worker_t *w, char *err, size_t errlen) {
    if (!rt->zctx) {
        int rc = make_context(rt, err, errlen);
        if (rc) return rc;
    }
    struct gale__xfer *x = gale__zalloc_aligned(_Alignof(struct gale__xfer), sizeof(*x));
    if (!x) return GALE_ENOMEM;
    w->transfer = x;
    x->w = w;
    x->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (x->stop_fd < 0) {
        snprintf(err, errlen, "worker %d: cannot create an eventfd: %s", w->index, strerror(errno));
        return GALE_EIO;
    }
    x->batch_max = (size_t)gale_conf_get_int(rt->conf, GALE_CONF_TOPOLOGY_TRANSFER_BATCH_SIZE, 256);
    int hwm = (int)gale_conf_get_int(rt->conf, GALE_CONF_TOPOLOGY_TRANSFER_HWM, 1024);
    gale__pool_init(&x->pool);
    gale__batch_encoder_init(&x->enc);
    msgpack_sbuffer_init(&x->hdr_batch);
    msgpack_sbuffer_init(&x->hdr_credit);
    x->incarnation = incarnation();
    if (rt->endpoints)
        GALE_INFO(NULL, 0, "worker %d: incarnation %016" PRIx64, w->index, x->incarnation);
    gale__wire_header_pack(&x->hdr_batch, GALE_WIRE_BATCH, w->index, x->incarnation);
    gale__wire_header_pack(&x->hdr_credit, "credit", -1, 0);
    size_t cells = rt->n_execs * rt->n_workers;
    x->over = calloc(rt->n_execs, sizeof(*x->over));
    x->granted = calloc(cells, sizeof(uint64_t));
    x->granted_said = calloc(cells, sizeof(uint64_t));
    x->sender_inc = calloc(rt->n_workers, sizeof(uint64_t));
    x->peer_inc = calloc(rt->n_workers, sizeof(uint64_t));
    x->counted = calloc(rt->n_execs, sizeof(uint64_t));
    x->drops = calloc(rt->n_workers, sizeof(*x->drops));
    x->drops_seen = calloc(rt->n_workers, sizeof(uint64_t));
    x->inflight = calloc(rt->n_execs, sizeof(*x->inflight));
    x->data_push = calloc(rt->n_workers, sizeof(void *));
    x->credit_push = calloc(rt->n_workers, sizeof(void *));
    x->data_ep = calloc(rt->n_workers, sizeof(char *));
    x->credit_ep = calloc(rt->n_workers, sizeof(char *));
    if (!x->over || !x->granted || !x->granted_said || !x->sender_inc || !x->peer_inc ||
        !x->counted || !x->drops || !x->drops_seen || !x->inflight || !x->data_push ||
        !x->credit_push || !w->lanes || !w->credits || !x->data_ep || !x->credit_ep)
        return GALE_ENOMEM;
    x->tx_gen = x->rx_gen = atomic_load(&rt->endpoints_gen);
    char ep[300];
    endpoint(rt, w->index, ep, sizeof ep);
    x->pull = zmq_socket(rt->zctx, ZMQ_PULL);
    int linger = 0;
    int64_t maxmsg = DATA_MSG_MAX;
    if (!x->pull || zmq_setsockopt(x->pull, ZMQ_RCVHWM, &hwm, sizeof hwm) ||
        (rt->endpoints && zmq_setsockopt(x->pull, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)) ||
        zmq_setsockopt(x->pull, ZMQ_LINGER, &linger, sizeof linger) || zmq_bind(x->pull, ep)) {
        snprintf(err, errlen, "worker %d: cannot bind %s: %s", w->index, ep,
                 zmq_strerror(zmq_errno()));
        return GALE_EIO;
    }
    for (size_t p = 0; p < rt->n_workers; p++) {
        if ((int)p == w->index) continue;
        x->data_push[p] = open_push(rt, (int)p, hwm, &x->data_ep[p]);
        x->credit_push[p] = open_push(rt, (int)p, hwm, &x->credit_ep[p]);
        if (!x->data_push[p] || !x->credit_push[p]) {
            snprintf(err, errlen, "worker %d: cannot connect to worker %zu: %s", w->index, p,
                     zmq_strerror(zmq_errno()));
            return GALE_EIO;
        }
    }
    if (pthread_create(&x->rx, NULL, receive_main, x)) return GALE_ENOMEM;
    x->rx_started = true;
    if (pthread_create(&x->tx, NULL, transfer_main, x)) return GALE_ENOMEM;
    x->tx_started = true;
    return 0;
}

void gale__transfer_wake_rx(gale__worker_t *w) {
    struct gale__xfer *x = w->transfer;
    uint64_t one = 1;
    if (x && x->stop_fd >= 0 && write(x->stop_fd, &one, sizeof one) < 0) {
        /* full counter: already woken */
    }
}

void gale__transfer_stop(gale__worker_t *w) {
    struct gale__xfer *x = w->transfer;
    if (!x) return;
    gale__rt_t *rt = w->rt;
    atomic_store(&x->stop, true);
    gale__wake_word_kick(&w->transfer_wake);
    if (x->stop_fd >= 0) {
        uint64_t one = 1;
        if (write(x->stop_fd, &one, sizeof one) < 0) { /* full counter: already woken */
        }
    }
    if (!x->over) return; /* already stopped */
    if (x->tx_started) pthread_join(x->tx, NULL);
    if (x->rx_started) pthread_join(x->rx, NULL);
    if (!x->tx_started)
        for (size_t p = 0; x->data_push && p < rt->n_workers; p++)
            if (x->data_push[p]) zmq_close(x->data_push[p]);
    if (!x->rx_started) {
        for (size_t p = 0; x->credit_push && p < rt->n_workers; p++)
            if (x->credit_push[p]) zmq_close(x->credit_push[p]);
        if (x->pull) zmq_close(x->pull);
    }
    for (size_t e = 0; x->over && e < rt->n_execs; e++) {
        overflow_t *o = &x->over[e];
        for (size_t i = 0; i < o->n; i++) gale__tuple_free(o->items[(o->head + i) % o->cap]);
        free(o->items);
    }
    free(x->over);
    free(x->granted);
    free(x->granted_said);
    free(x->sender_inc);
    free(x->peer_inc);
    free(x->counted);
    free((void *)x->drops);
    free(x->drops_seen);
    x->drops = NULL;
    x->drops_seen = NULL;
    x->granted = x->granted_said = x->sender_inc = x->peer_inc = x->counted = NULL;
    for (size_t e = 0; x->inflight && e < rt->n_execs; e++) free(atomic_load(&x->inflight[e]));
    free(x->inflight);
    x->inflight = NULL;
    free(x->data_push);
    free(x->credit_push);
    for (size_t p = 0; x->data_ep && p < rt->n_workers; p++) {
        free(x->data_ep[p]);
        free(x->credit_ep[p]);
    }
    free(x->data_ep);
    free(x->credit_ep);
    x->data_ep = x->credit_ep = NULL;
    gale__batch_encoder_destroy(&x->enc);
    msgpack_sbuffer_destroy(&x->hdr_batch);
    msgpack_sbuffer_destroy(&x->hdr_credit);
    x->over = NULL;
    x->data_push = x->credit_push = NULL;
    x->pull = NULL;
    x->tx_started = x->rx_started = false;
    if (x->stop_fd >= 0) close(x->stop_fd);
    x->stop_fd = -1;
    /* x->pool may still hold tuples sitting in executor queues: the
     * runtime frees it after draining them (gale__transfer_free). */
}

void gale__transfer_free(gale__worker_t *w) {
    struct gale__xfer *x = w->transfer;
    if (!x) return;
    if (x->stop_fd >= 0) close(x->stop_fd); /* start failed before the threads */
    gale__pool_destroy(&x->pool);
    free(x);
    w->transfer = NULL;
}

bool gale__transfer_quiet(gale__worker_t *w, uint64_t *sent, uint64_t *received, uint64_t *pushes) {
    struct gale__xfer *x = w->transfer;
    gale__rt_t *rt = w->rt;
    bool quiet = true;
    for (size_t i = 0; w->lanes && i < rt->n_execs; i++) {
        gale__queue_t *q = atomic_load_explicit(&w->lanes[i], memory_order_acquire);
        if (!q || !q->slots) continue;
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        quiet &= t == atomic_load_explicit(&q->head, memory_order_acquire);
        *pushes += t;
    }
    if (!x) return quiet;
    /* lanes first, then the flag: see look_quiet in runtime.c */
    quiet &= atomic_load(&x->tx_busy) == 0;
    *received += atomic_load_explicit(&x->rx_done, memory_order_acquire);
    *sent += atomic_load_explicit(&x->tx_sent, memory_order_acquire);
    return quiet;
}

void gale__transfer_counts(gale__worker_t *w, gale__xfer_counts_t *out) {
    struct gale__xfer *x = w->transfer;
    memset(out, 0, sizeof *out);
    if (!x) return;
    out->tuples_sent = atomic_load_explicit(&x->tx_sent, memory_order_acquire);
    out->batches_sent = atomic_load_explicit(&x->tx_batches, memory_order_relaxed);
    out->bytes_sent = atomic_load_explicit(&x->tx_bytes, memory_order_relaxed);
    out->tuples_received = atomic_load_explicit(&x->rx_done, memory_order_acquire);
    out->batches_received = atomic_load_explicit(&x->rx_batches, memory_order_relaxed);
    out->bytes_received = atomic_load_explicit(&x->rx_bytes, memory_order_relaxed);
}
