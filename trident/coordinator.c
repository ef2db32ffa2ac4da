/*
 * coordinator.c — "$mastercoord-bg0", the batch coordinator (Storm's
 * MasterBatchCoordinator), a spout with one task.
 *
 * Redis keys (gale:trident:<topology>:<txid name>:...):
 *   epoch      INCRed at open: this coordinator's fencing token, carried
 *              in every $batch/$commit tuple and checked by every write
 *   committed  the last committed txid (written only under the epoch)
 *   attempts   hash txid → last attempt emitted (a restart continues it)
 * (each partition's batch metadata: spout_meta.h)
 *
 * Batches: txids strictly increase from committed+1; at most
 * topology.max.spout.pending (unset: 1) are active; a new one is emitted
 * every topology.trident.batch.emit.interval.millis. When a batch's tree
 * is acked (processed) and it is the oldest active one, $commit goes to
 * the committers; when that tree is acked the txid is recorded as
 * committed. A fail or timeout of either tree re-emits that txid and
 * every later active one with attempt + 1. Before each $commit (and when
 * recording one) the epoch is checked: a superseded coordinator logs and
 * stops. Redis down: nothing is
 * emitted (the connection logs its retries); nothing is lost.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "trident/plan.h"
#include "trident/redis.h"
#include "trident/spout_meta.h"

#define MAX_ACTIVE 1024

enum bst { B_EMIT, B_RUN, B_DONE, B_COMMITTING, B_COMMITTED };

typedef struct cbatch {
    uint64_t txid;
    uint32_t attempt;
    enum bst st;
} cbatch_t;

typedef struct coord {
    const gale_context_t *ctx;
    gale_spout_collector_t *c;
    gale__plan_t *plan;
    gale__redis_t *redis;
    char k_epoch[512], k_committed[512], k_attempts[512], k_drained[512];
    bool opened, fenced, done;
    bool drpc; /* a DRPC stream's: endless, quiet, never holds a run open */
    int64_t epoch;
    uint64_t committed, next;
    cbatch_t act[MAX_ACTIVE];
    size_t n_act;
    int max_pending;
    int64_t interval_ns, last_emit_ns;
    int64_t replay_at_ns; /* failed batches go again from then (replay_delay_ns) */
    size_t n_parts;
    /* attempts of a previous run, loaded at open */
    uint64_t *old_tx;
    uint32_t *old_att;
    size_t n_old;
} coord_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* msg id: txid (43 bits), attempt (20 bits), commit (1 bit) */
static uint64_t msg_id(uint64_t txid, uint32_t attempt, bool commit) {
    return (txid << 21) | ((uint64_t)(attempt & 0xfffff) << 1) | (commit ? 1u : 0u);
}

static void declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare_stream(d, GALE__TRIDENT_BATCH_STREAM, "txid,attempt,epoch", false);
    gale_declare_stream(d, GALE__TRIDENT_COMMIT_STREAM, "txid,attempt,epoch", false);
}

static void coord_free(coord_t *k) {
    if (!k) return;
    gale__redis_free(k->redis);
    gale__plan_free(k->plan);
    free(k->old_tx);
    free(k->old_att);
    free(k);
}

static int open_(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    coord_t *k = calloc(1, sizeof *k);
    if (!k) return GALE_ENOMEM;
    k->ctx = ctx;
    k->c = c;
    char err[400];
    const gale_conf_t *conf = gale_context_conf(ctx);
    int rc = gale__plan_decode(conf, true, &k->plan, err, sizeof err);
    if (rc) {
        gale_log(ctx, GALE_LOG_ERROR, "%s", err);
        coord_free(k);
        return rc;
    }
    const char *topo = gale_context_topology_name(ctx);
    k->drpc = strncmp(k->plan->txid_name, GALE__TRIDENT_DRPC_TXID_PREFIX,
                      sizeof GALE__TRIDENT_DRPC_TXID_PREFIX - 1) == 0;
    gale__trident_key(k->k_epoch, sizeof k->k_epoch, topo, k->plan->txid_name, "epoch");
    gale__trident_key(k->k_committed, sizeof k->k_committed, topo, k->plan->txid_name, "committed");
    gale__trident_key(k->k_attempts, sizeof k->k_attempts, topo, k->plan->txid_name, "attempts");
    gale__trident_key(k->k_drained, sizeof k->k_drained, topo, k->plan->txid_name,
                      GALE__TRIDENT_DRAINED);
    /* in this layer an unset max pending means one batch in flight */
    k->max_pending = (int)gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 1);
    if (k->max_pending > MAX_ACTIVE) k->max_pending = MAX_ACTIVE;
    k->interval_ns =
        gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_TRIDENT_BATCH_EMIT_INTERVAL_MILLIS, 500) *
        1000000;
    k->n_parts = gale_context_component_tasks(ctx, k->plan->spout_comp, NULL);
    k->redis = gale__redis_new(conf, gale_context_component_id(ctx), gale_context_task_id(ctx));
    if (!k->redis) {
        coord_free(k);
        return GALE_ENOMEM;
    }
    *state = k;
    return 0;
}

static redisReply *cmd(coord_t *k, int argc, const char **argv) {
    char err[400];
    int rc;
    redisReply *r = gale__redis_cmd(k->redis, argc, argv, NULL, &rc, err, sizeof err);
    if (!r) gale_log(k->ctx, GALE_LOG_WARN, "redis %s: %s (retrying)", argv[0], err);
    return r;
}

/* INCR the epoch, read committed and the attempts: false to retry later. */
static bool do_open(coord_t *k) {
    const char *a1[2] = {"INCR", k->k_epoch};
    redisReply *r = cmd(k, 2, a1);
    if (!r) return false;
    if (r->type != REDIS_REPLY_INTEGER) {
        gale_log(k->ctx, GALE_LOG_ERROR, "%s is not an integer: delete it", k->k_epoch);
        freeReplyObject(r);
        return false;
    }
    k->epoch = r->integer;
    freeReplyObject(r);
    const char *a2[2] = {"GET", k->k_committed};
    if (!(r = cmd(k, 2, a2))) return false;
    k->committed = r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    const char *a3[2] = {"HGETALL", k->k_attempts};
    if (!(r = cmd(k, 2, a3))) return false;
    if (r->type == REDIS_REPLY_ARRAY) {
        size_t n = r->elements / 2;
        k->old_tx = calloc(n + 1, sizeof *k->old_tx);
        k->old_att = calloc(n + 1, sizeof *k->old_att);
        for (size_t i = 0; k->old_tx && k->old_att && i < n; i++) {
            if (r->element[2 * i]->type != REDIS_REPLY_STRING ||
                r->element[2 * i + 1]->type != REDIS_REPLY_STRING)
                continue;
            k->old_tx[k->n_old] = strtoull(r->element[2 * i]->str, NULL, 10);
            k->old_att[k->n_old++] = (uint32_t)strtoul(r->element[2 * i + 1]->str, NULL, 10);
        }
    }
    freeReplyObject(r);
    k->next = k->committed + 1;
    k->opened = true;
    if (k->drpc)
        gale_log(k->ctx, GALE_LOG_INFO,
                 "DRPC stream %s: coordinator at epoch %" PRId64 ", batches from txid %" PRIu64,
                 k->plan->txid_name, k->epoch, k->committed + 1);
    else
        gale_log(k->ctx, GALE_LOG_INFO,
                 "coordinator epoch %" PRId64 ": resuming after committed txid %" PRIu64
                 " (%d batches in flight at most)",
                 k->epoch, k->committed, k->max_pending);
    return true;
}

static bool emit_tuple(coord_t *k, cbatch_t *b, bool commit) {
    gale_value_t v[3] = {gale_int((int64_t)b->txid), gale_int(b->attempt), gale_int(k->epoch)};
    int rc =
        gale_spout_emit_id(k->c, commit ? GALE__TRIDENT_COMMIT_STREAM : GALE__TRIDENT_BATCH_STREAM,
                           v, 3, msg_id(b->txid, b->attempt, commit));
    if (rc < 0) {
        gale_spout_report_error(k->c, "emit of batch %" PRIu64 ": %s", b->txid, gale_strerror(rc));
        return false;
    }
    return true;
}

/* Emit a batch (first time or replay): record its attempt first. */
static bool emit_batch(coord_t *k, cbatch_t *b) {
    char f[24], a[16];
    snprintf(f, sizeof f, "%" PRIu64, b->txid);
    snprintf(a, sizeof a, "%u", b->attempt);
    const char *argv[4] = {"HSET", k->k_attempts, f, a};
    redisReply *r = cmd(k, 4, argv);
    if (!r) return false;
    freeReplyObject(r);
    if (!emit_tuple(k, b, false)) return false;
    b->st = B_RUN;
    return true;
}

/* SET committed under the epoch; false to retry (or fenced). */
static bool record_commit(coord_t *k, uint64_t txid) {
    static const char *lua =
        "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
        "redis.call('SET', KEYS[2], ARGV[2]) redis.call('HDEL', KEYS[3], ARGV[2]) return 1";
    char ep[24], tx[24];
    snprintf(ep, sizeof ep, "%" PRId64, k->epoch);
    snprintf(tx, sizeof tx, "%" PRIu64, txid);
    const char *argv[8] = {"EVAL", lua, "3", k->k_epoch, k->k_committed, k->k_attempts, ep, tx};
    redisReply *r = cmd(k, 8, argv);
    if (!r) return false;
    bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (!ok) {
        k->fenced = true;
        gale_log(k->ctx, GALE_LOG_ERROR,
                 "coordinator epoch %" PRId64 " is stale (%s changed: a newer coordinator runs): "
                 "txid %" PRIu64 " not recorded; this coordinator stops",
                 k->epoch, k->k_epoch, txid);
    }
    return ok;
}

/* Is our epoch still Redis's? A newer coordinator INCRed it: stop for
 * good (false). Checked before each $commit, so a fenced coordinator
 * stops at once instead of replaying batches its committers refuse. */
static bool epoch_current(coord_t *k) {
    const char *argv[2] = {"GET", k->k_epoch};
    redisReply *r = cmd(k, 2, argv);
    if (!r) return false; /* retried at the next call */
    bool ok = r->type == REDIS_REPLY_STRING && strtoll(r->str, NULL, 10) == k->epoch;
    freeReplyObject(r);
    if (!ok) {
        k->fenced = true;
        gale_log(k->ctx, GALE_LOG_ERROR,
                 "coordinator epoch %" PRId64 " is stale (%s changed: a newer coordinator runs): "
                 "this coordinator stops emitting",
                 k->epoch, k->k_epoch);
    }
    return ok;
}

/* Done: every partition drained at a txid already committed. */
static void check_drained(coord_t *k) {
    const char *argv[2] = {"HVALS", k->k_drained};
    redisReply *r = cmd(k, 2, argv);
    if (!r) return;
    if (r->type == REDIS_REPLY_ARRAY && k->n_parts && r->elements == k->n_parts) {
        bool all = true;
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type != REDIS_REPLY_STRING ||
                strtoull(r->element[i]->str, NULL, 10) > k->committed)
                all = false;
        if (all && !k->done) {
            k->done = true;
            gale_log(k->ctx, GALE_LOG_INFO,
                     "the batch spout is drained and committed through txid %" PRIu64,
                     k->committed);
        }
    }
    freeReplyObject(r);
}

static void next_tuple(void *state, gale_spout_collector_t *c) {
    coord_t *k = state;
    (void)c;
    if (k->fenced) return;
    char err[400];
    if (gale__redis_ensure(k->redis, err, sizeof err)) return; /* it logs with backoff */
    if (!k->opened && !do_open(k)) return;
    /* the oldest batch: record its commit, or commit it */
    if (k->n_act && k->act[0].st == B_COMMITTED) {
        if (!record_commit(k, k->act[0].txid)) return;
        k->committed = k->act[0].txid;
        if (!k->drpc) /* a DRPC stream commits every (mostly empty) batch */
            gale_log(k->ctx, GALE_LOG_INFO, "committed txid %" PRIu64 " (attempt %u)", k->committed,
                     k->act[0].attempt);
        memmove(k->act, k->act + 1, (k->n_act - 1) * sizeof *k->act);
        k->n_act--;
        check_drained(k);
    }
    if (k->n_act && k->act[0].st == B_DONE && k->act[0].txid == k->committed + 1) {
        if (!epoch_current(k)) return;
        if (emit_tuple(k, &k->act[0], true)) k->act[0].st = B_COMMITTING;
    }
    int64_t now = now_ns();
    for (size_t i = 0; i < k->n_act && now >= k->replay_at_ns; i++)
        if (k->act[i].st == B_EMIT && !emit_batch(k, &k->act[i])) return;
    if (!k->done && k->n_act < (size_t)k->max_pending && now - k->last_emit_ns >= k->interval_ns) {
        cbatch_t *b = &k->act[k->n_act];
        b->txid = k->next;
        b->attempt = 0;
        for (size_t i = 0; i < k->n_old; i++)
            if (k->old_tx[i] == b->txid) b->attempt = k->old_att[i] + 1;
        b->st = B_EMIT;
        k->n_act++;
        k->next++;
        k->last_emit_ns = now;
        emit_batch(k, b);
    }
}

static cbatch_t *find(coord_t *k, uint64_t id, bool *commit) {
    uint64_t txid = id >> 21;
    uint32_t attempt = (uint32_t)((id >> 1) & 0xfffff);
    *commit = id & 1;
    for (size_t i = 0; i < k->n_act; i++)
        if (k->act[i].txid == txid)
            return (k->act[i].attempt & 0xfffff) == attempt ? &k->act[i] : NULL;
    return NULL;
}

static void ack(void *state, uint64_t id) {
    coord_t *k = state;
    bool commit;
    cbatch_t *b = find(k, id, &commit);
    if (!b) return; /* an older attempt's tree */
    if (!commit && b->st == B_RUN) b->st = B_DONE;
    if (commit && b->st == B_COMMITTING) b->st = B_COMMITTED;
}

/* A batch that fails again and again (a stored value no replay fixes, a
 * bolt that always fails it) must not spin the topology and flood the
 * log: its first replay goes at once, the n-th after 100 ms x 2^(n-2), at
 * most 10 s. */
static int64_t replay_delay_ns(uint32_t attempt) {
    if (attempt <= 1) return 0;
    int64_t d = 100000000LL << (attempt - 2 < 7 ? attempt - 2 : 7);
    return d < 10000000000LL ? d : 10000000000LL;
}

static void fail(void *state, uint64_t id, gale_fail_reason_t why) {
    coord_t *k = state;
    bool commit;
    cbatch_t *b = find(k, id, &commit);
    if (!b || b->st == B_EMIT) return;
    if ((!commit && b->st != B_RUN) || (commit && b->st != B_COMMITTING)) return;
    int64_t delay = replay_delay_ns(b->attempt + 1);
    if (b->attempt < 3 || (b->attempt & (b->attempt + 1)) == 0) /* then at powers of two */
        gale_log(k->ctx, GALE_LOG_WARN,
                 "batch %" PRIu64 " attempt %u %s (%s): replaying it and every later active batch"
                 "%s",
                 b->txid, b->attempt, commit ? "commit failed" : "failed",
                 gale_fail_reason_str(why), delay ? " after a backoff (it keeps failing)" : "");
    for (cbatch_t *x = b; x < k->act + k->n_act; x++) {
        x->attempt++;
        x->st = B_EMIT;
    }
    k->replay_at_ns = now_ns() + delay;
}

static void close_(void *state) {
    coord_free(state);
}

static bool done(void *state) {
    coord_t *k = state;
    /* a DRPC stream serves while the topology runs: a finite run
     * (--until-done) ends when its other streams are done */
    if (k->drpc) return true;
    return k->done && k->n_act == 0;
}

const gale_spout_t gale_trident_coordinator_spout = {declare, open_, next_tuple, ack, fail,
                                                     NULL,    NULL,  close_,     done};
