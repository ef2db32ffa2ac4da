/*
 * spout_meta.c — see spout_meta.h.
 */
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/value.h"
#include "trident/plan.h"
#include "trident/redis.h"
#include "trident/spout_meta.h"

struct gale__spout_meta {
    const gale_context_t *ctx;
    const gale_batch_spout_t *sp;
    void *state;
    bool opened;
    int partition;
    gale__redis_t *redis;
    char meta_key[512], drained_key[512], committed_key[512];
    /* non-transactional: the previous batch's metadata, in memory */
    void *prev_mem;
    gale_value_t prev;
    bool has_prev;
};

int gale__spout_meta_open(gale__spout_meta_t **out, const gale_context_t *ctx,
                          const gale_batch_spout_t *sp, const char *txid_name) {
    gale__spout_meta_t *m = calloc(1, sizeof *m);
    if (!m) return GALE_ENOMEM;
    m->ctx = ctx;
    m->sp = sp;
    m->partition = gale_context_task_index(ctx);
    const char *topo = gale_context_topology_name(ctx);
    char what[64];
    snprintf(what, sizeof what, "meta:%d", m->partition);
    gale__trident_key(m->meta_key, sizeof m->meta_key, topo, txid_name, what);
    gale__trident_key(m->drained_key, sizeof m->drained_key, topo, txid_name,
                      GALE__TRIDENT_DRAINED);
    gale__trident_key(m->committed_key, sizeof m->committed_key, topo, txid_name, "committed");
    m->redis = gale__redis_new(gale_context_conf(ctx), gale_context_component_id(ctx),
                               gale_context_task_id(ctx));
    if (!m->redis) {
        free(m);
        return GALE_ENOMEM;
    }
    if (sp->open) {
        int n = (int)gale_context_component_tasks(ctx, gale_context_component_id(ctx), NULL);
        int rc = sp->open(&m->state, ctx, m->partition, n);
        if (rc) {
            gale_log(ctx, GALE_LOG_ERROR, "the batch spout's open failed: %s", gale_strerror(rc));
            gale__redis_free(m->redis);
            free(m);
            return rc;
        }
    }
    m->opened = true;
    *out = m;
    return 0;
}

void gale__spout_meta_free(gale__spout_meta_t *m) {
    if (!m) return;
    if (m->opened && m->sp->close) m->sp->close(m->state);
    gale__redis_free(m->redis);
    free(m->prev_mem);
    free(m);
}

/* Decode a record [drained, meta] into a malloc'ed block (*mem). */
static int decode_rec(const char *buf, size_t len, bool *drained, gale_value_t *meta, void **mem) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = GALE_EPROTO;
    if (msgpack_unpack_next(&u, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 2 &&
        u.data.via.array.ptr[0].type == MSGPACK_OBJECT_BOOLEAN) {
        const msgpack_object *o = &u.data.via.array.ptr[1];
        ssize_t need = gale__value_from_msgpack_size(o);
        if (need >= 0 && (*mem = malloc((size_t)need + 8))) {
            char *cur = *mem;
            gale__value_from_msgpack(meta, o, &cur);
            *drained = u.data.via.array.ptr[0].via.boolean;
            rc = 0;
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* HGET meta txid: 0 found, GALE_ENOENT absent, else an error. */
static int get_rec(gale__spout_meta_t *m, uint64_t txid, bool *drained, gale_value_t *meta,
                   void **mem, char *err, size_t errlen) {
    char f[24];
    snprintf(f, sizeof f, "%" PRIu64, txid);
    const char *argv[3] = {"HGET", m->meta_key, f};
    int rc;
    redisReply *r = gale__redis_cmd(m->redis, 3, argv, NULL, &rc, err, errlen);
    if (!r) return rc;
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return GALE_ENOENT;
    }
    rc = r->type == REDIS_REPLY_STRING ? decode_rec(r->str, r->len, drained, meta, mem)
                                       : GALE_EPROTO;
    if (rc) snprintf(err, errlen, "batch record %s %s does not decode", m->meta_key, f);
    freeReplyObject(r);
    return rc;
}

static int put_rec(gale__spout_meta_t *m, uint64_t txid, bool drained, const gale_value_t *meta,
                   char *err, size_t errlen) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    if (drained)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    if (gale__value_pack(&pk, meta)) {
        msgpack_sbuffer_destroy(&sb);
        snprintf(err, errlen, "the batch spout's metadata does not pack");
        return GALE_EINVAL;
    }
    char f[24], part[16];
    snprintf(f, sizeof f, "%" PRIu64, txid);
    snprintf(part, sizeof part, "%d", m->partition);
    /* pipelined: the record and the drained mark */
    const char *a1[4] = {"HSET", m->meta_key, f, sb.data};
    size_t l1[4] = {4, strlen(m->meta_key), strlen(f), sb.size};
    gale__redis_append(m->redis, 4, a1, l1);
    const char *a3[4] = {drained ? "HSETNX" : "HDEL", m->drained_key, part, f};
    gale__redis_append(m->redis, drained ? 4 : 3, a3, NULL);
    msgpack_sbuffer_destroy(&sb);
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        int r_rc;
        redisReply *r = gale__redis_read(m->redis, &r_rc, err, errlen);
        if (!r && !rc) rc = r_rc;
        if (r) freeReplyObject(r);
    }
    return rc;
}

/* txid-1 has no record. Not committed yet: its batch failed before it
 * was planned (e.g. Redis went down), so planning txid now would start
 * where txid-1 started and count those lines twice: fail txid, the
 * coordinator replays txid-1 then txid, in order (GALE_ESTATE). Committed
 * already: its records were deleted by
 * hand; plan from the partition's start, with a warning (0). */
static int prev_missing(gale__spout_meta_t *m, uint64_t txid, char *err, size_t errlen) {
    const char *argv[2] = {"GET", m->committed_key};
    int rc;
    redisReply *r = gale__redis_cmd(m->redis, 2, argv, NULL, &rc, err, errlen);
    if (!r) return rc;
    uint64_t committed = r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    if (committed < txid - 1) {
        snprintf(err, errlen,
                 "no batch record of txid %" PRIu64 " in %s yet (committed: %" PRIu64
                 "): failing txid %" PRIu64 " so that both replay in order",
                 txid - 1, m->meta_key, committed, txid);
        return GALE_ESTATE;
    }
    gale_log(m->ctx, GALE_LOG_WARN,
             "no batch record of the committed txid %" PRIu64 " in %s: planning from the start",
             txid - 1, m->meta_key);
    return 0;
}

int gale__spout_meta_emit(gale__spout_meta_t *m, uint64_t txid, uint32_t attempt,
                          gale_trident_collector_t *c, char *err, size_t errlen) {
    (void)attempt;
    int rc = 0;
    bool drained = false;
    gale_value_t meta = gale_nil(), prev = gale_nil();
    void *meta_mem = NULL, *prev_mem = NULL;
    const gale_batch_spout_t *sp = m->sp;
    /* the drained marks live in Redis for every kind */
    if ((rc = gale__redis_ensure(m->redis, err, errlen))) return rc == GALE_EFULL ? GALE_EIO : rc;
    bool replay = false;
    if (sp->kind == GALE_BATCH_TRANSACTIONAL) {
        rc = get_rec(m, txid, &drained, &meta, &meta_mem, err, errlen);
        if (rc == 0)
            replay = true;
        else if (rc != GALE_ENOENT)
            return rc;
    }
    if (!replay) {
        const gale_value_t *pp = NULL;
        bool pd;
        if (sp->kind == GALE_BATCH_NON_TRANSACTIONAL) {
            if (m->has_prev) pp = &m->prev;
        } else if (txid > 1) {
            rc = get_rec(m, txid - 1, &pd, &prev, &prev_mem, err, errlen);
            if (rc == 0)
                pp = &prev;
            else if (rc != GALE_ENOENT)
                return rc;
            else if ((rc = prev_missing(m, txid, err, errlen)))
                return rc;
        }
        gale_value_t planned = gale_nil();
        rc = sp->plan(m->state, txid, pp, &planned);
        if (rc < 0) {
            snprintf(err, errlen, "the batch spout's plan failed: %s", gale_strerror(rc));
            free(prev_mem);
            return rc;
        }
        drained = rc == 1;
        /* copy: planned may point into the spout's state or into prev */
        size_t extra = gale__value_extra_size(&planned);
        meta_mem = malloc(extra + 8);
        if (!meta_mem) {
            free(prev_mem);
            return GALE_ENOMEM;
        }
        char *cur = meta_mem;
        gale__value_copy(&meta, &planned, &cur);
        free(prev_mem);
        if (sp->kind == GALE_BATCH_NON_TRANSACTIONAL) {
            size_t ex2 = gale__value_extra_size(&meta);
            void *pm = malloc(ex2 + 8);
            if (pm) {
                char *c2 = pm;
                gale__value_copy(&m->prev, &meta, &c2);
                free(m->prev_mem);
                m->prev_mem = pm;
                m->has_prev = true;
            }
            /* only the drained mark */
            char part[16], f[24];
            snprintf(part, sizeof part, "%d", m->partition);
            snprintf(f, sizeof f, "%" PRIu64, txid);
            const char *a[4] = {drained ? "HSETNX" : "HDEL", m->drained_key, part, f};
            redisReply *r = gale__redis_cmd(m->redis, drained ? 4 : 3, a, NULL, &rc, err, errlen);
            if (!r) {
                free(meta_mem);
                return rc;
            }
            freeReplyObject(r);
        } else if ((rc = put_rec(m, txid, drained, &meta, err, errlen))) {
            free(meta_mem);
            return rc;
        }
    }
    rc = sp->emit(m->state, txid, &meta, c);
    free(meta_mem);
    if (rc) snprintf(err, errlen, "the batch spout's emit failed: %s", gale_strerror(rc));
    return rc;
}
