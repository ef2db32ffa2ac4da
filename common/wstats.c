/*
 * wstats.c — encode and decode a worker's stats blob (wstats.h).
 */
#include "common/wstats.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "gale/gale.h"

const char *const gale__ws_counter_names[GALE__WS_N] = {
#define GALE__WS_NAME(e, n) #n,
    GALE__WS_COUNTERS(GALE__WS_NAME)
#undef GALE__WS_NAME
};

static void pack_str(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_hist(msgpack_packer *pk, const uint64_t *bins) {
    uint32_t nz = 0;
    for (unsigned k = 0; k < GALE__HIST_BINS; k++) nz += bins[k] != 0;
    msgpack_pack_array(pk, 2 * nz);
    for (unsigned k = 0; k < GALE__HIST_BINS; k++)
        if (bins[k]) {
            msgpack_pack_uint32(pk, k);
            msgpack_pack_uint64(pk, bins[k]);
        }
}

int gale__wstats_encode(const gale__wstats_t *s, msgpack_sbuffer *out) {
    msgpack_sbuffer_clear(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    uint32_t n = s->n_execs < GALE__WS_MAX_EXECS ? s->n_execs : GALE__WS_MAX_EXECS;
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, 2);
    msgpack_pack_uint64(&pk, s->start_ms);
    msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n; i++) {
        const gale__ws_exec_t *e = &s->execs[i];
        msgpack_pack_array(&pk, 10);
        pack_str(&pk, e->component);
        msgpack_pack_uint64(&pk, e->start);
        msgpack_pack_uint64(&pk, e->end);
        msgpack_pack_array(&pk, GALE__WS_N);
        for (int k = 0; k < GALE__WS_N; k++) msgpack_pack_uint64(&pk, e->c[k]);
        for (int h = 0; h < GALE__LAT_N; h++) pack_hist(&pk, e->hist[h]);
        uint32_t ns = e->n_streams < GALE__WS_MAX_STREAMS ? e->n_streams : GALE__WS_MAX_STREAMS;
        msgpack_pack_array(&pk, ns);
        for (uint32_t k = 0; k < ns; k++) {
            const gale__ws_stream_t *x = &e->streams[k];
            msgpack_pack_array(&pk, 7);
            pack_str(&pk, x->id);
            uint64_t v[] = {x->emitted, x->transferred,      x->acked,
                            x->failed,  x->complete_samples, x->complete_ns};
            for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) msgpack_pack_uint64(&pk, v[j]);
        }
        uint32_t ne = e->n_errors < GALE__WS_MAX_ERRS ? e->n_errors : GALE__WS_MAX_ERRS;
        msgpack_pack_array(&pk, ne);
        for (uint32_t k = 0; k < ne; k++) {
            msgpack_pack_array(&pk, 3);
            msgpack_pack_int64(&pk, e->errors[k].epoch_ms);
            msgpack_pack_int64(&pk, e->errors[k].task);
            pack_str(&pk, e->errors[k].msg);
        }
        uint32_t ni = e->n_inputs < GALE__WS_MAX_INPUTS ? e->n_inputs : GALE__WS_MAX_INPUTS;
        msgpack_pack_array(&pk, ni);
        for (uint32_t k = 0; k < ni; k++) {
            const gale__ws_input_t *x = &e->inputs[k];
            msgpack_pack_array(&pk, 9);
            pack_str(&pk, x->component);
            pack_str(&pk, x->stream);
            uint64_t v[] = {x->executed,   x->acked,           x->failed,    x->execute_samples,
                            x->execute_ns, x->process_samples, x->process_ns};
            for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) msgpack_pack_uint64(&pk, v[j]);
        }
    }
    return out->data || out->size == 0 ? 0 : GALE_ENOMEM;
}

/* ---------- decoding: every type and length checked ---------- */

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...) {
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "worker stats: %s", why);
    return GALE_EPROTO;
}

static bool is_uint(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}
static bool is_int(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}
static bool is_arr(const msgpack_object *o, uint32_t n) {
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == n;
}

/* A string of 1..max bytes (0..max when empty_ok) without NUL into dst. */
static bool get_str(const msgpack_object *o, char *dst, size_t max, bool empty_ok) {
    if (o->type != MSGPACK_OBJECT_STR) return false;
    uint32_t n = o->via.str.size;
    if (n > max || (!empty_ok && n == 0) || memchr(o->via.str.ptr, 0, n)) return false;
    memcpy(dst, o->via.str.ptr, n);
    dst[n] = '\0';
    return true;
}

static bool get_hist(const msgpack_object *o, uint64_t *bins) {
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size % 2 ||
        o->via.array.size > 2 * GALE__HIST_BINS)
        return false;
    for (uint32_t k = 0; k < o->via.array.size; k += 2) {
        const msgpack_object *b = &o->via.array.ptr[k], *c = &o->via.array.ptr[k + 1];
        if (!is_uint(b) || b->via.u64 >= GALE__HIST_BINS || !is_uint(c)) return false;
        bins[b->via.u64] += c->via.u64;
    }
    return true;
}

/* n unsigned counters of array o from index first into dst */
static bool get_uints(const msgpack_object *o, uint32_t first, uint64_t *const *dst, size_t n) {
    for (size_t j = 0; j < n; j++) {
        if (!is_uint(&o->via.array.ptr[first + j])) return false;
        *dst[j] = o->via.array.ptr[first + j].via.u64;
    }
    return true;
}

static int get_exec(const msgpack_object *o, gale__ws_exec_t *e, uint32_t i, uint64_t version,
                    char *err, size_t errlen) {
    uint32_t want = version == 1 ? 9 : 10, stream_len = version == 1 ? 3 : 7;
    if (!is_arr(o, want)) return bad(err, errlen, "executor %u: expected an array of %u", i, want);
    const msgpack_object *f = o->via.array.ptr;
    if (!get_str(&f[0], e->component, GALE__WS_NAME_MAX, false))
        return bad(err, errlen, "executor %u: component must be a string of 1..%d bytes", i,
                   GALE__WS_NAME_MAX);
    if (!is_uint(&f[1]) || !is_uint(&f[2]) || f[1].via.u64 < 1 || f[1].via.u64 > f[2].via.u64 ||
        f[2].via.u64 > 2147483647u)
        return bad(err, errlen, "executor %u: task range must be 1 <= start <= end", i);
    e->start = f[1].via.u64;
    e->end = f[2].via.u64;
    if (!is_arr(&f[3], GALE__WS_N))
        return bad(err, errlen, "executor %u: expected %d counters", i, GALE__WS_N);
    for (int k = 0; k < GALE__WS_N; k++) {
        if (!is_uint(&f[3].via.array.ptr[k]))
            return bad(err, errlen, "executor %u: counter %s is not an unsigned integer", i,
                       gale__ws_counter_names[k]);
        e->c[k] = f[3].via.array.ptr[k].via.u64;
    }
    for (int h = 0; h < GALE__LAT_N; h++)
        if (!get_hist(&f[4 + h], e->hist[h]))
            return bad(err, errlen, "executor %u: histogram %d must be [bin < %d, count]…", i, h,
                       GALE__HIST_BINS);
    if (f[7].type != MSGPACK_OBJECT_ARRAY || f[7].via.array.size > GALE__WS_MAX_STREAMS)
        return bad(err, errlen, "executor %u: streams must be an array of at most %d", i,
                   GALE__WS_MAX_STREAMS);
    for (uint32_t k = 0; k < f[7].via.array.size; k++) {
        const msgpack_object *s = &f[7].via.array.ptr[k];
        gale__ws_stream_t *d = &e->streams[k];
        uint64_t *const v[] = {&d->emitted, &d->transferred,      &d->acked,
                               &d->failed,  &d->complete_samples, &d->complete_ns};
        if (!is_arr(s, stream_len) ||
            !get_str(&s->via.array.ptr[0], d->id, GALE__WS_NAME_MAX, false) ||
            !get_uints(s, 1, v, stream_len - 1))
            return bad(err, errlen, "executor %u: stream %u must be [name, emitted, transferred%s]",
                       i, k, version == 1 ? "" : ", acked, failed, complete_samples, complete_ns");
    }
    e->n_streams = f[7].via.array.size;
    if (f[8].type != MSGPACK_OBJECT_ARRAY || f[8].via.array.size > GALE__WS_MAX_ERRS)
        return bad(err, errlen, "executor %u: errors must be an array of at most %d", i,
                   GALE__WS_MAX_ERRS);
    for (uint32_t k = 0; k < f[8].via.array.size; k++) {
        const msgpack_object *x = &f[8].via.array.ptr[k];
        gale__ws_error_t *d = &e->errors[k];
        if (!is_arr(x, 3) || !is_int(&x->via.array.ptr[0]) || !is_int(&x->via.array.ptr[1]) ||
            !get_str(&x->via.array.ptr[2], d->msg, GALE__WS_MSG_MAX, true))
            return bad(err, errlen,
                       "executor %u: error %u must be [epoch_ms, task, message of <= %d bytes]", i,
                       k, GALE__WS_MSG_MAX);
        d->epoch_ms = x->via.array.ptr[0].via.i64;
        d->task = x->via.array.ptr[1].via.i64;
    }
    e->n_errors = f[8].via.array.size;
    if (version == 1) return 0;
    if (f[9].type != MSGPACK_OBJECT_ARRAY || f[9].via.array.size > GALE__WS_MAX_INPUTS)
        return bad(err, errlen, "executor %u: inputs must be an array of at most %d", i,
                   GALE__WS_MAX_INPUTS);
    for (uint32_t k = 0; k < f[9].via.array.size; k++) {
        const msgpack_object *x = &f[9].via.array.ptr[k];
        gale__ws_input_t *d = &e->inputs[k];
        uint64_t *const v[] = {&d->executed,        &d->acked,      &d->failed,
                               &d->execute_samples, &d->execute_ns, &d->process_samples,
                               &d->process_ns};
        if (!is_arr(x, 9) ||
            !get_str(&x->via.array.ptr[0], d->component, GALE__WS_NAME_MAX, false) ||
            !get_str(&x->via.array.ptr[1], d->stream, GALE__WS_NAME_MAX, false) ||
            !get_uints(x, 2, v, 7))
            return bad(err, errlen,
                       "executor %u: input %u must be [source, stream, executed, acked, failed, "
                       "execute_samples, execute_ns, process_samples, process_ns]",
                       i, k);
    }
    e->n_inputs = f[9].via.array.size;
    return 0;
}

int gale__wstats_decode(const void *buf, size_t len, gale__wstats_t *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    if (len > GALE__WS_MAX_BYTES)
        return bad(err, errlen, "%zu bytes, more than %u", len, GALE__WS_MAX_BYTES);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "worker stats", err, errlen);
    if (rc) goto out;
    const msgpack_object *o = &u.data;
    rc = GALE_EPROTO;
    if (!is_arr(o, 3) || !is_uint(&o->via.array.ptr[0]) || !is_uint(&o->via.array.ptr[1]) ||
        o->via.array.ptr[2].type != MSGPACK_OBJECT_ARRAY) {
        bad(err, errlen, "expected [version, start_ms, [executor…]]");
        goto out;
    }
    uint64_t version = o->via.array.ptr[0].via.u64;
    if (version != 1 && version != 2) {
        bad(err, errlen, "version %llu, this build reads 1 and 2", (unsigned long long)version);
        goto out;
    }
    const msgpack_object *ex = &o->via.array.ptr[2];
    if (ex->via.array.size > GALE__WS_MAX_EXECS) {
        bad(err, errlen, "%u executors, at most %d", ex->via.array.size, GALE__WS_MAX_EXECS);
        goto out;
    }
    out->start_ms = o->via.array.ptr[1].via.u64;
    out->execs = calloc(ex->via.array.size ? ex->via.array.size : 1, sizeof *out->execs);
    if (!out->execs) {
        snprintf(err, errlen, "worker stats: out of memory");
        rc = GALE_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < ex->via.array.size; i++) {
        rc = get_exec(&ex->via.array.ptr[i], &out->execs[i], i, version, err, errlen);
        if (rc) goto out;
        out->n_execs = i + 1;
    }
    rc = 0;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

void gale__wstats_free(gale__wstats_t *s) {
    if (!s) return;
    free(s->execs);
    s->execs = NULL;
    s->n_execs = 0;
}
