/*
 * codec.h — the wire formats between processes (DESIGN §4).
 *
 * Every ZeroMQ message is [header frame, body frame]. The header is a
 * msgpack map {"v": GALE_WIRE_VERSION, "t": "<type>"}; a peer speaking
 * another version, or garbage, is rejected with GALE_EPROTO and the caller
 * logs it and keeps running.
 *
 * The "batch" body carries tuples between workers:
 *   [[dest_task, [stream, src_task, ids, values]], ...]
 * where ids is a flat array [root0, edge0, root1, edge1, ...] of uint64
 * (the tuple's message id: one (root, edge) pair per tuple tree it
 * belongs to) and values is the tuple's msgpack array.
 *
 * Decoders check every type and length and never abort. The encoder is
 * used by one thread at a time (the transfer thread); decoding is
 * reentrant.
 */
#ifndef GALE_COMMON_CODEC_H
#define GALE_COMMON_CODEC_H

#include <msgpack.h>
#include <stdint.h>

#include "gale/gale.h"

#define GALE_WIRE_VERSION 1
#define GALE_WIRE_BATCH   "batch"

/* Limits a decoder enforces on untrusted input. Topology validation
 * refuses streams beyond the stream and values limits at submit, and an
 * emit checks values (common/value.h), so no tuple meets them on the way. */
#define GALE_WIRE_MAX_TUPLES     65536
#define GALE_WIRE_MAX_STREAM_LEN 255  /* bytes of a stream id */
#define GALE_WIRE_MAX_IDS        64   /* (root, edge) pairs per tuple */
#define GALE_WIRE_MAX_VALUES     4096 /* values per tuple */

/**
 * @brief Unpack exactly one msgpack object filling buf into u (caller
 * inits and destroys u). Scans the raw bytes first, so a declared length
 * larger than the input never makes msgpack-c allocate for it. Use this
 * for every untrusted buffer. GALE_EPROTO with "<what>: <reason>" in err.
 */
int gale__msgpack_unpack_whole(const void *buf, size_t len, msgpack_unpacked *u, const char *what,
                               char *err, size_t errlen);

/* A header frame: {"v": version, "t": type} and, on batches, the sending
 * worker's index "w" and its process's incarnation "i" (a random id: a
 * receiver learns from it that a peer restarted). */
typedef struct gale__wire_header {
    char type[16];        /* NUL-terminated, truncated */
    int64_t worker;       /* -1 when absent */
    uint64_t incarnation; /* 0 when absent */
} gale__wire_header_t;

/** @brief Pack the header map into sb (cleared first); worker < 0 leaves
 * out "w" and "i". */
int gale__wire_header_pack(msgpack_sbuffer *sb, const char *type, int worker, uint64_t incarnation);

/**
 * @brief Check a header frame and fill out. GALE_EPROTO on garbage or
 * another version, with a one-line reason in err.
 */
int gale__wire_header_check(const void *buf, size_t len, gale__wire_header_t *out, char *err,
                            size_t errlen);

/* One tuple as the codec sees it. */
typedef struct gale__wire_tuple {
    int32_t dest_task;
    const char *stream; /* not NUL-terminated on decode: use stream_len */
    uint32_t stream_len;
    int32_t src_task;
    const uint64_t *ids; /* 2*n_ids: root, edge, ... */
    uint32_t n_ids;
    const gale_value_t *values; /* encode side */
    uint32_t n_values;
    /* decode side: the n_values values as msgpack bytes, already checked */
    const unsigned char *wire_values;
    size_t wire_values_len;
    size_t wire_values_arrays; /* bytes of nested value arrays in them */
    size_t wire_values_extra;  /* bytes gale__wire_values_read needs at its cursor */
    bool wire_values_all_ints; /* every value is an integer (system streams) */
} gale__wire_tuple_t;

/* Batch encoder: begin, add tuples, then the body is enc->sb. */
typedef struct gale__batch_encoder {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint32_t count;      /* tuples added since begin */
    size_t count_offset; /* where the array header lives */
} gale__batch_encoder_t;

void gale__batch_encoder_init(gale__batch_encoder_t *enc);
void gale__batch_encoder_destroy(gale__batch_encoder_t *enc);
/** @brief Start a new batch (keeps the buffer's capacity). */
void gale__batch_begin(gale__batch_encoder_t *enc);
int gale__batch_add(gale__batch_encoder_t *enc, const gale__wire_tuple_t *t);
/** @brief Finish: fixes the array header. Body in enc->sb.data/size. */
void gale__batch_end(gale__batch_encoder_t *enc);

/*
 * Decode a batch body, calling cb once per tuple in order (values as
 * their checked bytes, for gale__wire_values_read; ids in a temporary
 * array). Every tuple and value is checked before the first call, so a
 * malformed body (GALE_EPROTO, err filled) delivers nothing. Stops at the
 * first cb error and returns it.
 */
typedef int (*gale__batch_tuple_cb)(void *ud, const gale__wire_tuple_t *t);
int gale__batch_decode(const void *buf, size_t len, gale__batch_tuple_cb cb, void *ud, char *err,
                       size_t errlen);

/**
 * @brief Convert a decoded tuple's values into dst[0..t->n_values), their
 * nested arrays and payloads at cursor (t->wire_values_extra bytes).
 * Strings are NUL-terminated there.
 */
void gale__wire_values_read(const gale__wire_tuple_t *t, gale_value_t *dst, char *cursor);

/** @brief Encoded batches and tuples, process-wide (tests assert the codec ran). */
typedef struct gale__codec_stats {
    uint64_t batches_encoded, tuples_encoded, batches_decoded, tuples_decoded, decode_errors;
} gale__codec_stats_t;
void gale__codec_stats_get(gale__codec_stats_t *out);

#endif
