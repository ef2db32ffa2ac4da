/*
 * redis_state.c — a keyed micro-batch state in Redis (state.h): Storm's
 * three update rules over storm-redis's JSON values, one batched read and
 * one atomic, epoch-fenced write per update.
 *
 * The write is one Lua script (SCRIPT LOAD once per connection, then
 * EVALSHA; EVAL with the body when the server answers NOSCRIPT, e.g. after
 * SCRIPT FLUSH): it refuses the batch unless GET epoch-key equals the
 * writer's epoch, then SETs (STRING) or HSETs (HASH) every changed key.
 * Redis runs a script alone and replicates / appends its effects as one
 * MULTI/EXEC, so a crash never leaves half a batch; SET cannot fail on a
 * key's type, and every HSET goes to one hash (a wrong type fails the
 * first one, before anything is written).
 *
 * Memory: every value a call hands out (decoded stored values, the new
 * values) lives in the handle's arena, reset at the start of each call.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "trident/state.h"
#include "trident/state_cache.h"
#include "trident/state_json.h"

/* KEYS[1] epoch key; ARGV[1] "1" = check the epoch, ARGV[2] its value,
 * ARGV[3] "S" (KEYS[2..] get ARGV[4..]) or "H" (hash KEYS[2], ARGV[4..]
 * field/value pairs). Returns the number of keys written. */
static const char SCRIPT[] = "if ARGV[1] == '1' then\n"
                             "  local e = redis.call('GET', KEYS[1])\n"
                             "  if e ~= ARGV[2] then\n"
                             "    return redis.error_reply('GALESTALE ' .. (e or 'none'))\n"
                             "  end\n"
                             "end\n"
                             "local n = 0\n"
                             "if ARGV[3] == 'H' then\n"
                             "  for i = 4, #ARGV, 2 do\n"
                             "    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])\n"
                             "    n = n + 1\n"
                             "  end\n"
                             "else\n"
                             "  for i = 4, #ARGV do\n"
                             "    redis.call('SET', KEYS[i - 2], ARGV[i])\n"
                             "    n = n + 1\n"
                             "  end\n"
                             "end\n"
                             "return n\n";

struct gale__map_state {
    gale__redis_t *r;
    gale_state_kind_t kind;
    char *prefix, *hash_key;
    size_t prefix_len;
    gale_state_key_fn key_fn;
    gale__state_cache_t *cache;
    gale__arena_t arena;
    char sha[41];
    unsigned long script_gen; /* the connection the sha was loaded on */
    bool cache_epoch_set;     /* the cache holds what this epoch saw */
    int64_t cache_epoch;
};

/* One key of a call. */
typedef struct slot {
    const char *key; /* Redis key (STRING) or hash field (HASH) */
    size_t klen;
    const char *stored; /* its JSON text (cache or Redis), NULL = absent */
    size_t slen;
    bool cached;
    int64_t txid;                    /* stored txid (transactional, opaque) */
    const gale_value_t *curr, *prev; /* stored values; NULL = none/null */
    gale_value_t next;               /* the new value */
    const char *text;                /* the new JSON text, NULL = unchanged */
    size_t tlen;
} slot_t;

static char *dup_or_null(const char *s, bool *oom) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = true;
    return d;
}

gale__map_state_t *gale__map_state_open(const gale_conf_t *conf, const gale_state_spec_t *spec,
                                        const char *who, int task) {
    gale__map_state_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    bool oom = false;
    s->kind = spec->kind;
    s->prefix = dup_or_null(spec->key_prefix ? spec->key_prefix : "", &oom);
    s->hash_key = dup_or_null(spec->hash_key, &oom);
    s->prefix_len = s->prefix ? strlen(s->prefix) : 0;
    s->key_fn = spec->key_fn;
    int64_t cap = gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_TRIDENT_STATE_CACHE_SIZE, 1000);
    s->cache = gale__state_cache_new(cap < 0 ? 0 : (size_t)cap);
    s->r = gale__redis_new(conf, who, task);
    if (oom || !s->cache || !s->r) {
        gale__map_state_close(s);
        return NULL;
    }
    return s;
}

void gale__map_state_close(gale__map_state_t *s) {
    if (!s) return;
    gale__redis_free(s->r);
    gale__state_cache_free(s->cache);
    gale__arena_free(&s->arena);
    free(s->prefix);
    free(s->hash_key);
    free(s);
}

gale__redis_t *gale__map_state_redis(gale__map_state_t *s) {
    return s->r;
}

/* ---- keys ------------------------------------------------------------ */

/* Appends v's key text at *p (growing *buf in the arena). */
typedef struct kbuf {
    char *p;
    size_t len, cap;
} kbuf_t;

static int kput(gale__arena_t *a, kbuf_t *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = (b->cap ? b->cap : 64);
        while (cap < b->len + n) cap *= 2;
        char *p = gale__arena_alloc(a, cap);
        if (!p) return GALE_ENOMEM;
        if (b->len) memcpy(p, b->p, b->len);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* A group-by value's text: strings and bytes as they are, numbers and
 * bools as text, nil "null", arrays and maps as JSON. */
static int value_text(gale__arena_t *a, kbuf_t *b, const gale_value_t *v) {
    char num[40];
    switch (v->type) {
        case GALE_T_STR:
        case GALE_T_BYTES:
            return kput(a, b, v->u.s, v->len);
        case GALE_T_INT:
            return kput(a, b, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)v->u.i));
        case GALE_T_DOUBLE:
            return kput(a, b, num, (size_t)snprintf(num, sizeof num, "%.17g", v->u.d));
        case GALE_T_BOOL:
            return kput(a, b, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
        case GALE_T_NIL:
            return kput(a, b, "null", 4);
        default: {
            int rc;
            char e[160];
            json_t *j = gale__value_to_json(v, &rc, e, sizeof e);
            if (!j) return rc;
            size_t n;
            char *t = gale__json_text(a, j, &n);
            json_decref(j);
            return t ? kput(a, b, t, n) : GALE_ENOMEM;
        }
    }
}

static int key_text(gale__map_state_t *s, const gale_value_t *key, size_t n_fields, slot_t *sl,
                    char *err, size_t errlen) {
    kbuf_t b = {0};
    int rc = s->hash_key ? 0 : kput(&s->arena, &b, s->prefix, s->prefix_len);
    if (!rc && s->key_fn) {
        /* the user's function: ask once, and once more with the room it wants */
        size_t cap = 256;
        for (int attempt = 0; attempt < 2; attempt++) {
            char *out = gale__arena_alloc(&s->arena, b.len + cap);
            if (!out) return GALE_ENOMEM;
            size_t n = s->key_fn(key, n_fields, out + b.len, cap);
            if (n <= cap) {
                if (b.len) memcpy(out, b.p, b.len);
                sl->key = out;
                sl->klen = b.len + n;
                return 0;
            }
            cap = n;
        }
        snprintf(err, errlen,
                 "state key function asked for more room twice: it must return the same length "
                 "for the same key");
        return GALE_EINVAL;
    }
    for (size_t f = 0; !rc && f < n_fields; f++) {
        if (f) rc = kput(&s->arena, &b, ":", 1);
        if (!rc) rc = value_text(&s->arena, &b, &key[f]);
    }
    if (rc == GALE_ETYPE || rc == GALE_ERANGE)
        snprintf(err, errlen, "state key field has no text form (NaN or bytes in a map?)");
    if (rc) return rc;
    sl->key = b.p ? b.p : "";
    sl->klen = b.len;
    return 0;
}

/* Two deltas for one key in one batch would overwrite each other: the
 * layer must combine them first. An open-addressing set of key texts. */
static int check_unique(gale__map_state_t *s, size_t n, const slot_t *sl, char *err,
                        size_t errlen) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    const slot_t **set = gale__arena_alloc(&s->arena, cap * sizeof(*set));
    if (!set) return GALE_ENOMEM;
    memset(set, 0, cap * sizeof(*set));
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 1469598103934665603ULL;
        for (size_t k = 0; k < sl[i].klen; k++)
            h = (h ^ (unsigned char)sl[i].key[k]) * 1099511628211ULL;
        for (size_t j = h & (cap - 1);; j = (j + 1) & (cap - 1)) {
            if (!set[j]) {
                set[j] = &sl[i];
                break;
            }
            if (set[j]->klen == sl[i].klen && !memcmp(set[j]->key, sl[i].key, sl[i].klen)) {
                snprintf(err, errlen,
                         "state key '%.*s' appears twice in one update: combine a batch's "
                         "deltas per key first",
                         (int)(sl[i].klen > 200 ? 200 : sl[i].klen), sl[i].key);
                return GALE_EINVAL;
            }
        }
    }
    return 0;
}

static int make_slots(gale__map_state_t *s, size_t n, const gale_value_t *const *keys,
                      size_t n_fields, slot_t **out, char *err, size_t errlen) {
    slot_t *sl = gale__arena_alloc(&s->arena, (n ? n : 1) * sizeof(*sl));
    if (!sl) return GALE_ENOMEM;
    memset(sl, 0, (n ? n : 1) * sizeof(*sl));
    for (size_t i = 0; i < n; i++) {
        if (!keys[i] && n_fields) {
            snprintf(err, errlen, "state update: key %zu is NULL", i);
            return GALE_EINVAL;
        }
        int rc = key_text(s, keys[i], n_fields, &sl[i], err, errlen);
        if (rc) return rc;
    }
    *out = sl;
    return check_unique(s, n, sl, err, errlen);
}

/* ---- Redis round trips --------------------------------------------- */

/* Connected, with the script's sha loaded on this connection. The
 * backoff's "not yet" (GALE_EFULL) is GALE_EIO to the caller: retry later. */
static int connect_and_load(gale__map_state_t *s, char *err, size_t errlen) {
    int rc = gale__redis_ensure(s->r, err, errlen);
    if (rc == GALE_EFULL) return GALE_EIO;
    if (rc) return rc;
    if (s->script_gen == gale__redis_generation(s->r)) return 0;
    const char *argv[] = {"SCRIPT", "LOAD", SCRIPT};
    redisReply *rep = gale__redis_cmd(s->r, 3, argv, NULL, &rc, err, errlen);
    if (!rep) return rc;
    bool ok = rep->type == REDIS_REPLY_STRING && rep->len == 40;
    if (ok)
        memcpy(s->sha, rep->str, 41);
    else
        snprintf(err, errlen, "redis at %s answered SCRIPT LOAD with no sha1",
                 gale__redis_addr(s->r));
    freeReplyObject(rep);
    if (!ok) return GALE_EPROTO;
    s->script_gen = gale__redis_generation(s->r);
    return 0;
}

/* Each slot's stored text: from the cache, the others by one MGET (STRING)
 * or HMGET (HASH). Reply texts are copied into the arena. */
static int fetch(gale__map_state_t *s, size_t n, slot_t *sl, char *err, size_t errlen) {
    size_t miss = 0;
    for (size_t i = 0; i < n; i++) {
        sl[i].stored = gale__state_cache_get(s->cache, sl[i].key, sl[i].klen, &sl[i].slen);
        sl[i].cached = sl[i].stored != NULL;
        if (sl[i].cached) {
            /* the cache may drop it on a later put: keep our own copy */
            char *p = gale__arena_alloc(&s->arena, sl[i].slen + 1);
            if (!p) return GALE_ENOMEM;
            memcpy(p, sl[i].stored, sl[i].slen + 1);
            sl[i].stored = p;
        } else {
            miss++;
        }
    }
    if (!miss) return 0;
    size_t head = s->hash_key ? 2 : 1, argc = head + miss;
    const char **argv = gale__arena_alloc(&s->arena, argc * sizeof(*argv));
    size_t *lens = gale__arena_alloc(&s->arena, argc * sizeof(*lens));
    size_t *idx = gale__arena_alloc(&s->arena, miss * sizeof(*idx));
    if (!argv || !lens || !idx) return GALE_ENOMEM;
    argv[0] = s->hash_key ? "HMGET" : "MGET";
    lens[0] = strlen(argv[0]);
    if (s->hash_key) {
        argv[1] = s->hash_key;
        lens[1] = strlen(s->hash_key);
    }
    for (size_t i = 0, m = 0; i < n; i++) {
        if (sl[i].cached) continue;
        argv[head + m] = sl[i].key;
        lens[head + m] = sl[i].klen;
        idx[m++] = i;
    }
    int rc;
    redisReply *rep = gale__redis_cmd(s->r, (int)argc, argv, lens, &rc, err, errlen);
    if (!rep) return rc;
    rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != miss) {
        snprintf(err, errlen, "redis at %s answered %s with %zu values for %zu keys",
                 gale__redis_addr(s->r), argv[0],
                 rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0, miss);
        rc = GALE_EPROTO;
    }
    for (size_t m = 0; !rc && m < miss; m++) {
        redisReply *e = rep->element[m];
        slot_t *x = &sl[idx[m]];
        if (e->type == REDIS_REPLY_NIL) continue;
        if (e->type != REDIS_REPLY_STRING) {
            snprintf(err, errlen, "redis at %s: state key '%.*s' read as a non-string reply",
                     gale__redis_addr(s->r), (int)(x->klen > 200 ? 200 : x->klen), x->key);
            rc = GALE_EPROTO;
            break;
        }
        char *p = gale__arena_alloc(&s->arena, e->len + 1);
        if (!p) {
            rc = GALE_ENOMEM;
            break;
        }
        memcpy(p, e->str, e->len);
        p[e->len] = '\0';
        x->stored = p;
        x->slen = e->len;
    }
    freeReplyObject(rep);
    return rc;
}

/* ---- decoding stored values ------------------------------------------ */

static const char *kind_form(gale_state_kind_t k) {
    return k == GALE_STATE_TRANSACTIONAL ? "a transactional [txid, value]"
           : k == GALE_STATE_OPAQUE      ? "an opaque [txid, curr, prev]"
                                         : "a JSON value";
}

static int bad_value(const gale__map_state_t *s, const slot_t *x, const char *why, char *err,
                     size_t errlen) {
    snprintf(err, errlen,
             "state key '%.*s'%s%s holds '%.*s'%s, not %s (%s): fix or delete the key, or check "
             "the state's kind",
             (int)(x->klen > 200 ? 200 : x->klen), x->key, s->hash_key ? " in hash " : "",
             s->hash_key ? s->hash_key : "", (int)(x->slen > 60 ? 60 : x->slen), x->stored,
             x->slen > 60 ? "..." : "", kind_form(s->kind), why);
    return GALE_EPROTO;
}

/* A JSON null value is no value (the combiner's zero), as in Storm. */
static int decoded(gale__arena_t *a, const json_t *j, const gale_value_t **out) {
    *out = NULL;
    if (!j || json_is_null(j)) return 0;
    gale_value_t *v = gale__arena_alloc(a, sizeof(*v));
    if (!v) return GALE_ENOMEM;
    *out = v;
    return gale__value_from_json(a, j, v);
}

static int decode(gale__map_state_t *s, slot_t *x, char *err, size_t errlen) {
    x->txid = -1;
    x->curr = x->prev = NULL;
    if (!x->stored) return 0;
    json_error_t je;
    json_t *j = json_loadb(x->stored, x->slen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) return bad_value(s, x, je.text, err, errlen);
    int rc = 0;
    if (s->kind == GALE_STATE_NON_TRANSACTIONAL) {
        rc = decoded(&s->arena, j, &x->curr);
    } else {
        size_t want = s->kind == GALE_STATE_OPAQUE ? 3 : 2;
        json_t *t = json_array_get(j, 0);
        if (!json_is_array(j) || json_array_size(j) != want)
            rc = bad_value(s, x, "wrong shape", err, errlen);
        else if (!json_is_integer(t) || json_integer_value(t) < 0)
            rc = bad_value(s, x, "the txid is not an integer >= 0", err, errlen);
        else {
            x->txid = (int64_t)json_integer_value(t);
            rc = decoded(&s->arena, json_array_get(j, 1), &x->curr);
            if (!rc && want == 3) rc = decoded(&s->arena, json_array_get(j, 2), &x->prev);
        }
    }
    json_decref(j);
    return rc;
}

/* ---- the rules ------------------------------------------------------- */

static int encode_next(gale__map_state_t *s, slot_t *x, uint64_t txid, char *err, size_t errlen) {
    int rc = 0;
    json_t *v = gale__value_to_json(&x->next, &rc, err, errlen), *rec = v;
    if (v && s->kind != GALE_STATE_NON_TRANSACTIONAL) {
        json_t *prev = NULL;
        if (s->kind == GALE_STATE_OPAQUE) {
            gale_value_t nil = gale_nil();
            prev = gale__value_to_json(x->prev ? x->prev : &nil, &rc, err, errlen);
        }
        rec = (!rc) ? json_array() : NULL;
        if (rec && (json_array_append_new(rec, json_integer((json_int_t)txid)) ||
                    json_array_append(rec, v) || (prev && json_array_append(rec, prev)))) {
            json_decref(rec);
            rec = NULL;
        }
        if (!rec && !rc) rc = GALE_ENOMEM;
        json_decref(v);
        json_decref(prev);
    }
    if (rec) {
        x->text = gale__json_text(&s->arena, rec, &x->tlen);
        json_decref(rec);
        if (!x->text) rc = GALE_ENOMEM;
    }
    if (rc && rc != GALE_ENOMEM) {
        char why[200];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "state key '%.*s': the new value: %s",
                 (int)(x->klen > 200 ? 200 : x->klen), x->key, why);
    }
    return rc;
}

/* Storm's rule for one key (state.h): next value, and text unless the
 * transactional key already holds this txid. */
static int apply(gale__map_state_t *s, slot_t *x, uint64_t txid, const gale_value_t *delta,
                 gale__combine_fn combine, void *ud, char *err, size_t errlen) {
    const gale_value_t *old = x->curr;
    if (s->kind != GALE_STATE_NON_TRANSACTIONAL && x->stored) {
        if ((uint64_t)x->txid > txid) {
            snprintf(err, errlen,
                     "state key '%.*s' holds txid %lld, past this batch's %llu: the state is "
                     "ahead of the coordinator (another topology on the same keys, or its "
                     "progress was reset): batch refused",
                     (int)(x->klen > 200 ? 200 : x->klen), x->key, (long long)x->txid,
                     (unsigned long long)txid);
            return GALE_ESTATE;
        }
        if ((uint64_t)x->txid == txid) {
            if (s->kind == GALE_STATE_TRANSACTIONAL) {
                /* already applied: unchanged, not written */
                x->next = x->curr ? *x->curr : gale_nil();
                return 0;
            }
            old = x->prev; /* opaque replay: recompute from the previous value */
        } else if (s->kind == GALE_STATE_OPAQUE) {
            x->prev = x->curr; /* the value before this txid */
        }
    }
    gale_value_t out = gale_nil();
    int rc = combine(ud, old, delta, &out);
    if (rc) {
        snprintf(err, errlen, "state key '%.*s': the combiner failed: %s",
                 (int)(x->klen > 200 ? 200 : x->klen), x->key, gale_strerror(rc));
        return rc;
    }
    /* the combiner's memory lasts only until we return: copy */
    if ((rc = gale__arena_value_copy(&s->arena, &out, &x->next))) return rc;
    return encode_next(s, x, txid, err, errlen);
}

/* The one atomic write (see the script). */
static int write_batch(gale__map_state_t *s, const gale__epoch_t *epoch, size_t n, slot_t *sl,
                       char *err, size_t errlen) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) w += sl[i].text != NULL;
    size_t nkeys = s->hash_key ? 2 : 1 + w, nargs = 3 + (s->hash_key ? 2 * w : w);
    size_t argc = 3 + nkeys + nargs;
    const char **argv = gale__arena_alloc(&s->arena, argc * sizeof(*argv));
    size_t *lens = gale__arena_alloc(&s->arena, argc * sizeof(*lens));
    if (!argv || !lens) return GALE_ENOMEM;
    char nk[24], ev[24];
    snprintf(nk, sizeof nk, "%zu", nkeys);
    snprintf(ev, sizeof ev, "%lld", epoch ? (long long)epoch->value : 0LL);
    size_t a = 0;
#define ARG(p, l) (argv[a] = (p), lens[a] = (l), a++)
    ARG("EVALSHA", 7);
    ARG(s->sha, 40);
    ARG(nk, strlen(nk));
    ARG(epoch && epoch->key ? epoch->key : "", epoch && epoch->key ? strlen(epoch->key) : 0);
    if (s->hash_key)
        ARG(s->hash_key, strlen(s->hash_key));
    else
        for (size_t i = 0; i < n; i++)
            if (sl[i].text) ARG(sl[i].key, sl[i].klen);
    /* ARGV */
    ARG(epoch ? "1" : "0", 1);
    ARG(ev, strlen(ev));
    ARG(s->hash_key ? "H" : "S", 1);
    for (size_t i = 0; i < n; i++) {
        if (!sl[i].text) continue;
        if (s->hash_key) ARG(sl[i].key, sl[i].klen);
        ARG(sl[i].text, sl[i].tlen);
    }
#undef ARG
    int rc;
    redisReply *rep = gale__redis_cmd(s->r, (int)a, argv, lens, &rc, err, errlen);
    if (!rep && rc == GALE_EPROTO && strstr(err, ": NOSCRIPT")) {
        /* the server forgot the script (SCRIPT FLUSH, a restart behind a
         * proxy): send the body, which also caches it again */
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = SCRIPT;
        lens[1] = sizeof SCRIPT - 1;
        rep = gale__redis_cmd(s->r, (int)a, argv, lens, &rc, err, errlen);
    }
    if (!rep) {
        const char *st = rc == GALE_EPROTO ? strstr(err, ": GALESTALE ") : NULL;
        if (st) {
            char held[32];
            snprintf(held, sizeof held, "%.*s", (int)strcspn(st + 12, " \r\n"), st + 12);
            snprintf(err, errlen,
                     "stale epoch: this writer has epoch %lld but redis key '%s' holds %s (a "
                     "newer coordinator took over): batch refused, nothing written",
                     (long long)epoch->value, epoch->key ? epoch->key : "", held);
            return GALE_ESTATE;
        }
        return rc;
    }
    rc = 0;
    if (rep->type != REDIS_REPLY_INTEGER || rep->integer != (long long)w) {
        snprintf(err, errlen, "redis at %s: the state write answered type %d, not %zu keys written",
                 gale__redis_addr(s->r), rep->type, w);
        rc = GALE_EPROTO;
    }
    freeReplyObject(rep);
    return rc;
}

/* ---- the calls --------------------------------------------------------- */

static int fail_clean(gale__map_state_t *s, int rc) {
    /* after an error or refusal nothing we cached can be trusted */
    gale__state_cache_clear(s->cache);
    s->cache_epoch_set = false;
    return rc;
}

int gale__map_state_get(gale__map_state_t *s, size_t n, const gale_value_t *const *keys,
                        size_t n_fields, gale_value_t *out, char *err, size_t errlen) {
    gale__arena_reset(&s->arena);
    if (errlen) err[0] = '\0';
    if (n && (!keys || !out)) {
        snprintf(err, errlen, "state get: keys and out are required");
        return GALE_EINVAL;
    }
    slot_t *sl;
    int rc = make_slots(s, n, keys, n_fields, &sl, err, errlen);
    if (!rc && n) rc = connect_and_load(s, err, errlen);
    if (!rc) rc = fetch(s, n, sl, err, errlen);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = decode(s, &sl[i], err, errlen);
        out[i] = sl[i].curr ? *sl[i].curr : gale_nil();
    }
    return rc ? fail_clean(s, rc) : 0;
}

int gale__map_state_update(gale__map_state_t *s, uint64_t txid, const gale__epoch_t *epoch,
                           size_t n, const gale_value_t *const *keys, size_t n_fields,
                           const gale_value_t *deltas, gale__combine_fn combine, void *ud,
                           gale_value_t *new_out, char *err, size_t errlen) {
    gale__arena_reset(&s->arena);
    if (errlen) err[0] = '\0';
    if ((n && (!keys || !deltas)) || !combine || (epoch && !epoch->key)) {
        snprintf(err, errlen,
                 "state update: keys, deltas, a combiner (and an epoch key) are "
                 "required");
        return fail_clean(s, GALE_EINVAL);
    }
    if (txid > INT64_MAX) {
        snprintf(err, errlen, "state update: txid %llu does not fit JSON's integers",
                 (unsigned long long)txid);
        return fail_clean(s, GALE_ERANGE);
    }
    /* the cache holds what one epoch saw: a new epoch starts afresh */
    if (epoch && (!s->cache_epoch_set || s->cache_epoch != epoch->value))
        gale__state_cache_clear(s->cache);
    slot_t *sl;
    int rc = make_slots(s, n, keys, n_fields, &sl, err, errlen);
    if (!rc) rc = connect_and_load(s, err, errlen);
    if (!rc) rc = fetch(s, n, sl, err, errlen);
    for (size_t i = 0; !rc && i < n; i++) rc = decode(s, &sl[i], err, errlen);
    for (size_t i = 0; !rc && i < n; i++)
        rc = apply(s, &sl[i], txid, &deltas[i], combine, ud, err, errlen);
    if (!rc) rc = write_batch(s, epoch, n, sl, err, errlen);
    if (rc) return fail_clean(s, rc);
    for (size_t i = 0; i < n; i++) {
        const char *t = sl[i].text ? sl[i].text : sl[i].stored;
        size_t tl = sl[i].text ? sl[i].tlen : sl[i].slen;
        if (t && gale__state_cache_put(s->cache, sl[i].key, sl[i].klen, t, tl))
            break; /* out of memory: the cache cleared itself; the write stands */
    }
    if (new_out)
        for (size_t i = 0; i < n; i++) new_out[i] = sl[i].next;
    if (epoch) {
        s->cache_epoch_set = true;
        s->cache_epoch = epoch->value;
    }
    return 0;
}
