/*
 * wstats.h — a worker's stats as they travel: the worker encodes them
 * into its heartbeat (worker_heartbeat.stats, an opaque msgpack blob the
 * supervisor forwards unread in worker_state.stats), nimbus decodes them
 * (nimbus/stats.c). Every counter is cumulative since the worker process
 * started (start_ms tells one incarnation from the next); queue depth and
 * capacity are gauges.
 *
 * Wire (msgpack): [2, start_ms, [exec…]] with each exec
 *   [component, task_start, task_end, [counter × GALE__WS_N],
 *    hist_execute, hist_process, hist_complete,   (sparse: [bin, count, bin, count…])
 *    [[stream, emitted, transferred, acked, failed, complete_samples, complete_ns]…],
 *    [[epoch_ms, task, message]…],
 *    [[source, stream, executed, acked, failed, execute_samples, execute_ns,
 *      process_samples, process_ns]…]]                          (inputs)
 * Per output stream: acked, failed and complete latency are a spout's
 * trees rooted on that stream (0 for bolts); per input: a bolt's tuples
 * from that source's stream (Storm's outputStats and inputStats). Version
 * 1 (no inputs, streams of [stream, emitted, transferred]) is still read.
 * Bounds (a heartbeat stays small): GALE__WS_MAX_EXECS executors,
 * GALE__WS_MAX_STREAMS output streams, GALE__WS_MAX_INPUTS inputs and
 * GALE__ERRS_KEPT errors of at most GALE__WS_MSG_MAX bytes each per
 * executor; the encoder drops what is beyond them, the decoder refuses
 * it. The decoder checks every type and length and copies what it keeps.
 */
#ifndef GALE_COMMON_WSTATS_H
#define GALE_COMMON_WSTATS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "common/histogram.h"

#define GALE__WS_MAX_EXECS   1024
#define GALE__WS_MAX_STREAMS 32
#define GALE__WS_MAX_INPUTS  16
#define GALE__WS_MAX_ERRS    4
#define GALE__WS_MSG_MAX     256
#define GALE__WS_NAME_MAX    128
#define GALE__WS_MAX_BYTES   (1u << 20) /* one worker's blob */

/* Counters, in wire order. Storm's names; failed split by reason. */
#define GALE__WS_COUNTERS(X)                                                                       \
    X(EMITTED, emitted)                                                                            \
    X(TRANSFERRED, transferred)                                                                    \
    X(EXECUTED, executed)                                                                          \
    X(ACKED, acked)                                                                                \
    X(FAILED_TIMEOUT, failed_timeout)                                                              \
    X(FAILED_EXPLICIT, failed_explicit)                                                            \
    X(EXECUTE_SAMPLES, execute_samples)                                                            \
    X(EXECUTE_NS, execute_ns)                                                                      \
    X(PROCESS_SAMPLES, process_samples)                                                            \
    X(PROCESS_NS, process_ns)                                                                      \
    X(COMPLETE_SAMPLES, complete_samples)                                                          \
    X(COMPLETE_NS, complete_ns)                                                                    \
    X(BACKPRESSURE_WAITS, backpressure_waits)                                                      \
    X(BACKPRESSURE_NS, backpressure_ns)                                                            \
    X(ERRORS, errors)                                                                              \
    X(QUEUE_DEPTH, queue_depth)                                                                    \
    X(QUEUE_CAPACITY, queue_capacity)

enum {
#define GALE__WS_ENUM(e, n) GALE__WS_##e,
    GALE__WS_COUNTERS(GALE__WS_ENUM)
#undef GALE__WS_ENUM
        GALE__WS_N
};
/* The gauges (not cumulative: windows take the newest value). */
#define GALE__WS_IS_GAUGE(i) ((i) == GALE__WS_QUEUE_DEPTH || (i) == GALE__WS_QUEUE_CAPACITY)

extern const char *const gale__ws_counter_names[GALE__WS_N];

typedef struct gale__ws_stream {
    char id[GALE__WS_NAME_MAX + 1];
    uint64_t emitted, transferred;
    uint64_t acked, failed, complete_samples, complete_ns; /* spouts */
} gale__ws_stream_t;

typedef struct gale__ws_input {
    char component[GALE__WS_NAME_MAX + 1], stream[GALE__WS_NAME_MAX + 1];
    uint64_t executed, acked, failed, execute_samples, execute_ns, process_samples, process_ns;
} gale__ws_input_t;

typedef struct gale__ws_error {
    int64_t epoch_ms;
    int64_t task;
    char msg[GALE__WS_MSG_MAX + 1];
} gale__ws_error_t;

typedef struct gale__ws_exec {
    char component[GALE__WS_NAME_MAX + 1];
    uint64_t start, end; /* task range */
    uint64_t c[GALE__WS_N];
    uint64_t hist[3][GALE__HIST_BINS]; /* GALE__LAT_* order: execute, process, complete */
    gale__ws_stream_t streams[GALE__WS_MAX_STREAMS];
    uint32_t n_streams;
    gale__ws_error_t errors[GALE__WS_MAX_ERRS]; /* oldest first */
    uint32_t n_errors;
    gale__ws_input_t inputs[GALE__WS_MAX_INPUTS];
    uint32_t n_inputs;
} gale__ws_exec_t;

typedef struct gale__wstats {
    uint64_t start_ms; /* wall clock start of the worker process */
    gale__ws_exec_t *execs;
    uint32_t n_execs;
} gale__wstats_t;

/** @brief Encode s into out (cleared first). GALE_ENOMEM. */
int gale__wstats_encode(const gale__wstats_t *s, msgpack_sbuffer *out);
/** @brief Decode buf into out (free with gale__wstats_free, also on error).
 * GALE_EPROTO with one line naming the part and the rule in err. */
int gale__wstats_decode(const void *buf, size_t len, gale__wstats_t *out, char *err, size_t errlen);
void gale__wstats_free(gale__wstats_t *s);

#endif
