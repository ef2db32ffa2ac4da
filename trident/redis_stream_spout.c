/*
 * redis_stream_spout.c — the built-in Redis stream batch spout
 * (transactional): the entries of a Redis stream, by entry id.
 *
 * Partitions: gale.trident.redis.stream.key lists one stream key per
 * partition (comma-separated); partition p reads the p-th. A batch's
 * metadata is [first id, last id, entries] (strings, strings, int);
 * plan XRANGEs from just after the previous batch's last id COUNT
 * gale.trident.redis.stream.batch.entries; emit XRANGEs [first, last]
 * again. Stream ids only grow (XADD refuses an id at or below the top),
 * so no entry can appear inside a recorded range later: a replay emits
 * the same entries, unless some were deleted (XDEL, XTRIM), which emit
 * detects by the count and the end ids, and which stops the run (no
 * replay can bring them back). An empty batch is ["", cursor, 0]: the
 * cursor (the last id read so far, "" before the first) carries on.
 *
 * Drained: with gale.trident.redis.stream.until.empty a read that
 * returns nothing says the input is consumed (a bounded run: "gale local
 * --until-done" ends once every partition's stream is read); without it
 * (the default) a stream is never done, the usual streaming case.
 *
 * The connection is the topology's redis.* (the same server as the
 * state); it is the spout's own (one per task).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/builtin.h"
#include "common/config.h"
#include "gale/trident.h"
#include "trident/redis.h"

/* "<ms>-<seq>" of two uint64: at most 20 + 1 + 20 characters */
#define ID_MAX 48

typedef struct rsspout {
    const gale_context_t *ctx;
    gale__redis_t *redis;
    char *key;     /* this partition's stream */
    char **fields; /* the entry fields read, in tuple order */
    size_t n_fields;
    int64_t count; /* entries per batch */
    bool until_empty;
    gale_value_t *vals; /* n_fields, one tuple */
    char first[ID_MAX], last[ID_MAX];
    gale_value_t meta[3];
} rsspout_t;

/* Parse "<ms>-<seq>" (both decimal uint64). */
static bool parse_id(const char *s, size_t len, uint64_t *ms, uint64_t *seq) {
    char buf[ID_MAX];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *dash = strchr(buf, '-');
    if (!dash || dash == buf || dash[1] == '\0') return false;
    for (const char *p = buf; *p; p++)
        if (p != dash && (*p < '0' || *p > '9')) return false;
    errno = 0;
    char *end;
    *ms = strtoull(buf, &end, 10);
    if (errno || end != dash) return false;
    *seq = strtoull(dash + 1, &end, 10);
    return !errno && *end == '\0';
}

/* Split a comma-separated list (spaces around items dropped); NULL on
 * out of memory, *n = 0 for an empty item anywhere. */
static char **split_list(const char *s, size_t *n) {
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        if (*p == ',') cap++;
    char **v = calloc(cap, sizeof *v);
    if (!v) return NULL;
    *n = 0;
    const char *p = s;
    for (size_t i = 0; i < cap; i++) {
        const char *e = strchr(p, ',');
        if (!e) e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        if (a == b || !(v[i] = strndup(a, (size_t)(b - a)))) {
            for (size_t j = 0; j < i; j++) free(v[j]);
            if (a == b) *n = 0;
            free(v);
            return a == b ? calloc(1, sizeof *v) : NULL;
        }
        (*n)++;
        p = *e ? e + 1 : e;
    }
    return v;
}

static void free_list(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void gale_redis_stream_spout_close(void *state) {
    rsspout_t *s = state;
    if (!s) return;
    gale__redis_free(s->redis);
    free(s->key);
    free_list(s->fields, s->n_fields);
    free(s->vals);
    free(s);
}

int gale_redis_stream_spout_open(void **state, const gale_context_t *ctx, int partition,
                                 int n_partitions, const char *declared) {
    const gale_conf_t *conf = gale_context_conf(ctx);
    const char *keys = gale_conf_get_str(conf, GALE_CONF_TRIDENT_REDIS_STREAM_KEY, NULL);
    if (!keys || !*keys) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: no stream key: set %s on the stream "
                 "(gale_tstream_conf_set_str), one key per partition, comma-separated",
                 GALE_CONF_TRIDENT_REDIS_STREAM_KEY);
        return GALE_EINVAL;
    }
    rsspout_t *s = calloc(1, sizeof *s);
    if (!s) return GALE_ENOMEM;
    s->ctx = ctx;
    size_t n_keys = 0;
    char **kv = split_list(keys, &n_keys);
    if (!kv) goto nomem;
    if (n_keys != (size_t)n_partitions) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: %s = '%s' names %zu stream(s) for %d partition(s): "
                 "give one non-empty key per partition (comma-separated) or set the stream's "
                 "parallelism to the number of keys",
                 GALE_CONF_TRIDENT_REDIS_STREAM_KEY, keys, n_keys, n_partitions);
        free_list(kv, n_keys);
        free(s);
        return GALE_EINVAL;
    }
    s->key = kv[partition];
    kv[partition] = NULL;
    free_list(kv, n_keys);

    /* the entry fields: the key's list, else the declared output fields */
    const char *want = gale_conf_get_str(conf, GALE_CONF_TRIDENT_REDIS_STREAM_FIELDS, declared);
    size_t n_decl = 0;
    char **dv = split_list(declared, &n_decl);
    if (!dv) goto nomem;
    free_list(dv, n_decl);
    s->fields = split_list(want, &s->n_fields);
    if (!s->fields) goto nomem;
    if (s->n_fields == 0 || s->n_fields != n_decl) {
        gale_log(ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: %s = '%s' lists %zu entry field(s) for the spout's "
                 "%zu output field(s) [%s]: list one non-empty entry field per output field",
                 GALE_CONF_TRIDENT_REDIS_STREAM_FIELDS, want, s->n_fields, n_decl, declared);
        gale_redis_stream_spout_close(s);
        return GALE_EINVAL;
    }
    s->vals = calloc(s->n_fields, sizeof *s->vals);
    s->count = gale_conf_get_int(conf, GALE_CONF_TRIDENT_REDIS_STREAM_BATCH_ENTRIES, 1000);
    s->until_empty = gale_conf_get_bool(conf, GALE_CONF_TRIDENT_REDIS_STREAM_UNTIL_EMPTY, false);
    s->redis = gale__redis_new(conf, gale_context_component_id(ctx), gale_context_task_id(ctx));
    if (!s->vals || !s->redis) goto nomem;
    *state = s;
    return 0;
nomem:
    gale_redis_stream_spout_close(s);
    return GALE_ENOMEM;
}

static int builtin_open(void **state, const gale_context_t *ctx, int partition, int n) {
    return gale_redis_stream_spout_open(state, ctx, partition, n, "value");
}

/* XRANGE key start end COUNT n, connecting first. A reply array, or NULL
 * with *rc (Redis unreachable or refusing: logged; the batch is retried). */
static redisReply *xrange(rsspout_t *s, const char *start, const char *end, int64_t n, int *rc) {
    char err[256], cnt[24];
    *rc = gale__redis_ensure(s->redis, err, sizeof err);
    if (*rc) {
        /* ensure logged a failed attempt; during its backoff it did not try */
        *rc = GALE_EIO;
        return NULL;
    }
    snprintf(cnt, sizeof cnt, "%" PRId64, n);
    const char *argv[6] = {"XRANGE", s->key, start, end, "COUNT", cnt};
    redisReply *r = gale__redis_cmd(s->redis, 6, argv, NULL, rc, err, sizeof err);
    if (!r) {
        gale_log(s->ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: XRANGE %s at %s failed: %s (the batch is retried)",
                 s->key, gale__redis_addr(s->redis), err);
        return NULL;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        gale_log(s->ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: XRANGE %s answered no array (is %s a stream?)", s->key,
                 s->key);
        freeReplyObject(r);
        *rc = GALE_EPROTO;
        return NULL;
    }
    return r;
}

/* An entry of an XRANGE reply: [id, [field, value, ...]]; false if not. */
static bool entry_ok(const redisReply *e) {
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY ||
        e->element[1]->elements % 2)
        return false;
    uint64_t ms, seq;
    if (!parse_id(e->element[0]->str, e->element[0]->len, &ms, &seq)) return false;
    const redisReply *kv = e->element[1];
    for (size_t i = 0; i < kv->elements; i++)
        if (kv->element[i]->type != REDIS_REPLY_STRING) return false;
    return true;
}

static int bad_reply(rsspout_t *s, redisReply *r) {
    gale_log(s->ctx, GALE_LOG_ERROR,
             "redis stream batch spout: XRANGE %s returned an entry that is not [id, [field, "
             "value, ...]] (is %s a stream?)",
             s->key, s->key);
    freeReplyObject(r);
    return GALE_EPROTO;
}

int gale_redis_stream_spout_plan(void *state, uint64_t txid, const gale_value_t *prev,
                                 gale_value_t *meta) {
    rsspout_t *s = state;
    (void)txid;
    char start[ID_MAX + 2] = "-";
    const char *cursor = "";
    size_t cursor_len = 0;
    if (prev) {
        if (prev->type != GALE_T_ARRAY || prev->len != 3 || prev->u.a[0].type != GALE_T_STR ||
            prev->u.a[1].type != GALE_T_STR || prev->u.a[2].type != GALE_T_INT)
            return GALE_EPROTO; /* a record of another spout */
        cursor = prev->u.a[1].u.s;
        cursor_len = prev->u.a[1].len;
    }
    if (cursor_len) {
        uint64_t ms, seq;
        if (!parse_id(cursor, cursor_len, &ms, &seq)) {
            gale_log(s->ctx, GALE_LOG_ERROR,
                     "redis stream batch spout: the previous batch's last id '%.*s' is no "
                     "stream id: its record is of another spout (delete the topology's "
                     "gale:trident keys to start over)",
                     (int)cursor_len, cursor);
            return GALE_EPROTO;
        }
        /* exclusive start: the smallest id after the cursor (works on
         * every Redis with streams, unlike "(" which needs 6.2) */
        if (seq == UINT64_MAX) {
            if (ms == UINT64_MAX) goto empty; /* the largest id: nothing can follow */
            ms++, seq = 0;
        } else {
            seq++;
        }
        snprintf(start, sizeof start, "%" PRIu64 "-%" PRIu64, ms, seq);
    }
    int rc;
    redisReply *r = xrange(s, start, "+", s->count, &rc);
    if (!r) return rc;
    if (r->elements == 0) {
        freeReplyObject(r);
        goto empty;
    }
    for (size_t i = 0; i < r->elements; i++)
        if (!entry_ok(r->element[i])) return bad_reply(s, r);
    const redisReply *f = r->element[0]->element[0], *l = r->element[r->elements - 1]->element[0];
    memcpy(s->first, f->str, f->len);
    s->first[f->len] = '\0';
    memcpy(s->last, l->str, l->len);
    s->last[l->len] = '\0';
    s->meta[0] = gale_strn(s->first, f->len);
    s->meta[1] = gale_strn(s->last, l->len);
    s->meta[2] = gale_int((int64_t)r->elements);
    freeReplyObject(r);
    *meta = gale_array(s->meta, 3);
    return 0;
empty:
    memcpy(s->last, cursor, cursor_len);
    s->last[cursor_len] = '\0';
    s->meta[0] = gale_strn("", 0);
    s->meta[1] = gale_strn(s->last, cursor_len);
    s->meta[2] = gale_int(0);
    *meta = gale_array(s->meta, 3);
    return s->until_empty ? 1 : 0;
}

/* Entry e's value of field name into *out; false if it has none. */
static bool entry_field(const redisReply *e, const char *name, gale_value_t *out) {
    const redisReply *kv = e->element[1];
    size_t nl = strlen(name);
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->len == nl && memcmp(kv->element[i]->str, name, nl) == 0) {
            *out = gale_strn(kv->element[i + 1]->str, kv->element[i + 1]->len);
            return true;
        }
    return false;
}

int gale_redis_stream_spout_emit(void *state, uint64_t txid, const gale_value_t *meta,
                                 gale_trident_collector_t *c) {
    rsspout_t *s = state;
    if (meta->type != GALE_T_ARRAY || meta->len != 3 || meta->u.a[0].type != GALE_T_STR ||
        meta->u.a[1].type != GALE_T_STR || meta->u.a[2].type != GALE_T_INT || meta->u.a[2].u.i < 0)
        return GALE_EPROTO;
    int64_t want = meta->u.a[2].u.i;
    if (want == 0) return 0;
    const gale_value_t *fv = &meta->u.a[0], *lv = &meta->u.a[1];
    uint64_t ms, seq;
    if (!parse_id(fv->u.s, fv->len, &ms, &seq) || !parse_id(lv->u.s, lv->len, &ms, &seq))
        return GALE_EPROTO;
    char first[ID_MAX], last[ID_MAX];
    snprintf(first, sizeof first, "%.*s", (int)fv->len, fv->u.s);
    snprintf(last, sizeof last, "%.*s", (int)lv->len, lv->u.s);
    int rc;
    redisReply *r = xrange(s, first, last, want, &rc);
    if (!r) return rc;
    for (size_t i = 0; i < r->elements; i++)
        if (!entry_ok(r->element[i])) return bad_reply(s, r);
    /* the recorded range must still hold exactly its entries */
    if ((int64_t)r->elements != want || strcmp(r->element[0]->element[0]->str, first) ||
        strcmp(r->element[r->elements - 1]->element[0]->str, last)) {
        gale_log(s->ctx, GALE_LOG_ERROR,
                 "redis stream batch spout: txid %" PRIu64 " recorded %" PRId64
                 " entries %s..%s of stream %s, which now holds %zu of them: entries were "
                 "deleted (XDEL, XTRIM) before their batch committed, and no replay can emit "
                 "them again; trim only entries of committed batches",
                 txid, want, first, last, s->key, r->elements);
        freeReplyObject(r);
        gale__builtin_fatal();
        return GALE_ESTATE;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        for (size_t k = 0; k < s->n_fields; k++)
            if (!entry_field(e, s->fields[k], &s->vals[k])) {
                gale_log(s->ctx, GALE_LOG_ERROR,
                         "redis stream batch spout: entry %s of stream %s has no field '%s' "
                         "(%s): XADD every entry with it, or list the fields the entries have",
                         e->element[0]->str, s->key, s->fields[k],
                         GALE_CONF_TRIDENT_REDIS_STREAM_FIELDS);
                freeReplyObject(r);
                gale__builtin_fatal(); /* the same entry comes back on every replay */
                return GALE_EINVAL;
            }
        rc = gale_trident_emit(c, s->vals, s->n_fields);
        if (rc) break;
    }
    freeReplyObject(r);
    return rc;
}

const gale_batch_spout_t gale_redis_stream_batch_spout = {"value",
                                                          GALE_BATCH_TRANSACTIONAL,
                                                          builtin_open,
                                                          gale_redis_stream_spout_plan,
                                                          gale_redis_stream_spout_emit,
                                                          gale_redis_stream_spout_close};
