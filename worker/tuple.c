/*
 * tuple.c — building tuples in one pool block and the public accessors.
 *
 * Layout of one block: struct gale_tuple, values[n], ids[2 * n_ids], then
 * the payload of strings and nested arrays (common/value.c copies it).
 */
#include <string.h>

#include "common/codec.h"
#include "common/value.h"
#include "worker/runtime.h"

/* Allocate a tuple with room for n values, n_ids id pairs and `extra`
 * payload bytes, fill its header and ids; *cursor is where the payload
 * goes. NULL on out of memory. */
static gale_tuple_t *tuple_alloc(gale__pool_t *p, const gale__rstream_t *s, int src_task,
                                 int dest_task, size_t n, const uint64_t *ids, size_t n_ids,
                                 size_t extra, char **cursor) {
    size_t size =
        sizeof(gale_tuple_t) + n * sizeof(gale_value_t) + n_ids * 2 * sizeof(uint64_t) + extra;
    gale_tuple_t *t = gale__pool_alloc(p, size);
    if (!t) return NULL;
    atomic_store_explicit(&t->hdr.state, GALE__TUPLE_LIVE, memory_order_relaxed);
    t->stream = s;
    t->src_task = src_task;
    t->dest_task = dest_task;
    t->n_values = (uint32_t)n;
    t->n_ids = (uint32_t)n_ids;
    atomic_init(&t->ack_val, 0);
    t->arrive_ns = 0;
    t->ids = (uint64_t *)(t->values + n);
    if (n_ids) memcpy(t->ids, ids, n_ids * 2 * sizeof(uint64_t));
    *cursor = (char *)(t->ids + 2 * n_ids);
    return t;
}

gale_tuple_t *gale__tuple_new(gale__pool_t *p, const gale__rstream_t *s, int src_task,
                              int dest_task, const gale_value_t *vals, size_t n,
                              const uint64_t *ids, size_t n_ids) {
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) extra += gale__value_extra_size(&vals[i]);
    return gale__tuple_new_sized(p, s, src_task, dest_task, vals, n, ids, n_ids, extra);
}

gale_tuple_t *gale__tuple_new_sized(gale__pool_t *p, const gale__rstream_t *s, int src_task,
                                    int dest_task, const gale_value_t *vals, size_t n,
                                    const uint64_t *ids, size_t n_ids, size_t extra) {
    char *cursor;
    gale_tuple_t *t = tuple_alloc(p, s, src_task, dest_task, n, ids, n_ids, extra, &cursor);
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) gale__value_copy(&t->values[i], &vals[i], &cursor);
    return t;
}

void gale__tuple_free(gale_tuple_t *t) {
    if (!t) return;
    /* a stale pointer to the block then reads FREE (until it is reused) */
    atomic_store_explicit(&t->hdr.state, GALE__TUPLE_FREE, memory_order_release);
    gale__pool_free(t);
}

size_t gale_tuple_size(const gale_tuple_t *t) {
    return t ? t->n_values : 0;
}

const gale_value_t *gale_tuple_value(const gale_tuple_t *t, size_t i) {
    return t && i < t->n_values ? &t->values[i] : NULL;
}

int gale_tuple_field_index(const gale_tuple_t *t, const char *field) {
    if (!t || !field || !t->stream->def) return -1;
    return gale__stream_field_index(t->stream->def, field);
}

const gale_value_t *gale_tuple_field(const gale_tuple_t *t, const char *field) {
    int i = gale_tuple_field_index(t, field);
    return i < 0 ? NULL : gale_tuple_value(t, (size_t)i);
}

int64_t gale_tuple_int(const gale_tuple_t *t, size_t i, int64_t def) {
    const gale_value_t *v = gale_tuple_value(t, i);
    return v && v->type == GALE_T_INT ? v->u.i : def;
}

double gale_tuple_double(const gale_tuple_t *t, size_t i, double def) {
    const gale_value_t *v = gale_tuple_value(t, i);
    return v && v->type == GALE_T_DOUBLE ? v->u.d : def;
}

bool gale_tuple_bool(const gale_tuple_t *t, size_t i, bool def) {
    const gale_value_t *v = gale_tuple_value(t, i);
    return v && v->type == GALE_T_BOOL ? v->u.b : def;
}

const char *gale_tuple_str(const gale_tuple_t *t, size_t i, size_t *len) {
    const gale_value_t *v = gale_tuple_value(t, i);
    if (!v || (v->type != GALE_T_STR && v->type != GALE_T_BYTES)) return NULL;
    if (len) *len = v->len;
    return v->u.s;
}

const char *gale_tuple_source_component(const gale_tuple_t *t) {
    return t ? t->stream->component : NULL;
}

const char *gale_tuple_stream(const gale_tuple_t *t) {
    return t ? t->stream->id : NULL;
}

int gale_tuple_source_task(const gale_tuple_t *t) {
    return t ? t->src_task : 0;
}

bool gale_tuple_is_tick(const gale_tuple_t *t) {
    return t && t->stream->sys == GALE__SYS_TICK;
}

gale_tuple_t *gale__tuple_from_wire(gale__pool_t *p, const gale__rstream_t *s,
                                    const gale__wire_tuple_t *wt) {
    char *cursor;
    gale_tuple_t *t = tuple_alloc(p, s, wt->src_task, wt->dest_task, wt->n_values, wt->ids,
                                  wt->n_ids, wt->wire_values_extra, &cursor);
    if (t) gale__wire_values_read(wt, t->values, cursor);
    return t;
}
