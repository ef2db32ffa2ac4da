/*
 * control.h — the control-plane protocol between the CLI, supervisors,
 * workers and nimbus (DESIGN §4, §10 "Control plane").
 *
 * A control message is two ZeroMQ frames (after any ROUTER identity
 * frames, which are the transport's business):
 *
 *   header  msgpack map {v: GALE_CTL_VERSION, type: "<name>", req: uint}
 *   body    msgpack map, the fields of that type
 *
 * `req` is chosen by the requester and copied into the reply, so a peer
 * can match replies to requests and drop late ones after a deadline.
 *
 * Each type's fields (name, msgpack type, required or optional, bounds)
 * are described once, in the tables of control.c; gale__ctl_encode and
 * gale__ctl_decode both follow them, so what one side can send the other
 * side accepts. The decoder trusts nothing: size limits, the version, the
 * type name, every field's type and length, required fields, unknown or
 * repeated fields, cross-field rules (task ranges, a failed reply names
 * its error) and trailing bytes are all checked, and a refusal is
 * GALE_EPROTO with one line naming the type, the field and the rule.
 *
 * The flows (issue 8):
 *   CLI -> nimbus       submit_begin -> reply{id: upload id};
 *                       submit_chunk* -> reply; submit_end -> reply{id: topology id};
 *                       list -> list_reply; kill, activate, deactivate, rebalance -> reply;
 *                       assignment_fetch{topology} -> assignment_reply (gale logs)
 *   supervisor -> nimbus supervisor_heartbeat -> heartbeat_reply{assignment_version};
 *                       when that version differs from the one it holds:
 *                       assignment_fetch{supervisor} -> assignment_reply;
 *                       code_fetch* -> code_reply (topology, conf, code, resources)
 *   worker -> supervisor worker_heartbeat{stats} -> reply; the supervisor forwards
 *                       each worker's last stats in supervisor_heartbeat.workers[].stats
 *   gale ui -> nimbus   stats{topology?, window_secs?} -> stats_reply{json};
 *                       list; kill, activate, deactivate, rebalance -> reply
 *   DRPC (drpc/, issue 9): client -> drpc.port  drpc_execute -> drpc_execute_reply;
 *                       spout -> drpc.invocations.port drpc_fetch -> drpc_fetch_reply
 *                       (a request, or none); bolt -> the same port
 *                       drpc_result, drpc_fail -> reply
 *
 * Sizes: one body is at most GALE_CTL_MAX_BODY bytes (set it as the
 * sockets' ZMQ_MAXMSGSIZE); code and resources travel in chunks of at
 * most GALE_CTL_CHUNK_MAX bytes and are checked against a BLAKE2b-256 sum
 * (common/checksum.h).
 *
 * Encoding and decoding keep no shared state: any thread may call them.
 */
#ifndef GALE_COMMON_CONTROL_H
#define GALE_COMMON_CONTROL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gale/gale.h"

#define GALE_CTL_VERSION      1
#define GALE_CTL_MAX_HEADER   256u
#define GALE_CTL_MAX_BODY     (8u << 20) /* bytes of one body frame */
#define GALE_CTL_CHUNK_MAX    (1u << 20) /* bytes of code or resources per message */
#define GALE_CTL_MAX_CODE     (1ull << 30)
#define GALE_CTL_MAX_TOPOLOGY (4u << 20) /* a serialized topology */

/* An optional integer field left out (it is never a valid value). */
#define GALE_CTL_UNSET UINT64_MAX

/* Every message type: enum name, wire name (= its struct's name). */
#define GALE__CTL_TYPES(X)                                                                         \
    X(REPLY, reply)                                                                                \
    X(SUBMIT_BEGIN, submit_begin)                                                                  \
    X(SUBMIT_CHUNK, submit_chunk)                                                                  \
    X(SUBMIT_END, submit_end)                                                                      \
    X(LIST, list)                                                                                  \
    X(LIST_REPLY, list_reply)                                                                      \
    X(KILL, kill)                                                                                  \
    X(ACTIVATE, activate)                                                                          \
    X(DEACTIVATE, deactivate)                                                                      \
    X(REBALANCE, rebalance)                                                                        \
    X(SUPERVISOR_HEARTBEAT, supervisor_heartbeat)                                                  \
    X(HEARTBEAT_REPLY, heartbeat_reply)                                                            \
    X(ASSIGNMENT_FETCH, assignment_fetch)                                                          \
    X(ASSIGNMENT_REPLY, assignment_reply)                                                          \
    X(CODE_FETCH, code_fetch)                                                                      \
    X(CODE_REPLY, code_reply)                                                                      \
    X(WORKER_HEARTBEAT, worker_heartbeat)                                                          \
    X(DRPC_EXECUTE, drpc_execute)                                                                  \
    X(DRPC_EXECUTE_REPLY, drpc_execute_reply)                                                      \
    X(DRPC_FETCH, drpc_fetch)                                                                      \
    X(DRPC_FETCH_REPLY, drpc_fetch_reply)                                                          \
    X(DRPC_RESULT, drpc_result)                                                                    \
    X(DRPC_FAIL, drpc_fail)                                                                        \
    X(STATS, stats)                                                                                \
    X(STATS_REPLY, stats_reply)

typedef enum gale__ctl_type {
    GALE_CTL_NONE = 0, /* no header decoded yet */
#define GALE__CTL_ENUM(e, n) GALE_CTL_##e,
    GALE__CTL_TYPES(GALE__CTL_ENUM)
#undef GALE__CTL_ENUM
        GALE_CTL__COUNT
} gale__ctl_type_t;

/*
 * Field kinds. On the encode side every pointer is the caller's; on the
 * decode side strings are NUL-terminated copies and everything belongs
 * to the gale__ctl_msg_t. Absent optional fields: strings, confs and
 * bytes NULL, integers GALE_CTL_UNSET, bools false, arrays n = 0.
 */
typedef struct gale__ctl_bytes {
    const uint8_t *ptr; /* NULL: absent */
    size_t len;
} gale__ctl_bytes_t;

#define GALE__CTL_ARRAY(T)                                                                         \
    struct {                                                                                       \
        T *items;                                                                                  \
        uint32_t n;                                                                                \
    }

/* reply: the generic answer. !ok requires error; id is the upload id
 * (submit_begin) or the topology id (submit_end); wait_secs is the wait
 * nimbus chose for a kill or rebalance (UNSET otherwise). Make one with
 * GALE__CTL_REPLY, so wait_secs is never 0 by accident. */
typedef struct gale__ctl_reply {
    bool ok;
    const char *error;
    const char *id;
    uint64_t wait_secs;
} gale__ctl_reply_t;
#define GALE__CTL_REPLY(ok, error, id) ((gale__ctl_reply_t){(ok), (error), (id), GALE_CTL_UNSET})

/* submit_begin: everything but the code; code and resources follow as
 * chunks. Sums are BLAKE2b-256 (GALE_CHECKSUM_LEN bytes) of the whole
 * part; resources_size 0 means no resources (and no sum). */
typedef struct gale__ctl_submit_begin {
    const char *name;
    const gale_conf_t *conf;
    gale__ctl_bytes_t topology; /* topology/serialize.c bytes */
    uint64_t code_size;
    gale__ctl_bytes_t code_sum;
    uint64_t resources_size;
    gale__ctl_bytes_t resources_sum;
} gale__ctl_submit_begin_t;

/* submit_chunk: bytes [offset, offset + data.len) of one part. */
typedef struct gale__ctl_submit_chunk {
    const char *upload;
    const char *part; /* "code" | "resources" */
    uint64_t offset;
    gale__ctl_bytes_t data;
} gale__ctl_submit_chunk_t;

typedef struct gale__ctl_submit_end {
    const char *upload;
} gale__ctl_submit_end_t;

/* list: every topology, or only `name`. */
typedef struct gale__ctl_list {
    const char *name;
} gale__ctl_list_t;

typedef struct gale__ctl_topology_summary {
    const char *name;
    const char *id;
    const char *status; /* ACTIVE | INACTIVE | KILLED | REBALANCING */
    uint64_t uptime_secs;
    uint64_t workers, executors, tasks;
    bool done;         /* every worker hosting a spout reports its finite spouts done */
    uint64_t restarts; /* of its workers, as their supervisors count them (optional) */
} gale__ctl_topology_summary_t;

typedef struct gale__ctl_list_reply {
    bool ok;
    const char *error;
    GALE__CTL_ARRAY(gale__ctl_topology_summary_t) topologies;
} gale__ctl_list_reply_t;

/* kill: wait_secs UNSET = the topology's message timeout. */
typedef struct gale__ctl_kill {
    const char *name;
    uint64_t wait_secs;
} gale__ctl_kill_t;

typedef struct gale__ctl_activate {
    const char *name;
} gale__ctl_activate_t;

typedef struct gale__ctl_deactivate {
    const char *name;
} gale__ctl_deactivate_t;

typedef struct gale__ctl_component_count {
    const char *component;
    uint64_t executors;
} gale__ctl_component_count_t;

/* rebalance: wait_secs and workers UNSET = unchanged / default. */
typedef struct gale__ctl_rebalance {
    const char *name;
    uint64_t wait_secs;
    uint64_t workers;
    GALE__CTL_ARRAY(gale__ctl_component_count_t) executors; /* -e COMPONENT=N */
} gale__ctl_rebalance_t;

/* One worker as its supervisor sees it. */
typedef struct gale__ctl_worker_state {
    const char *topology_id;
    uint64_t port;
    uint64_t pid;
    const char *state;  /* starting | running | timed_out | exited */
    uint64_t hb_age_ms; /* since its last heartbeat; UNSET: none yet */
    uint64_t restarts;
    bool done;               /* its finite spouts are done (gale jar --wait) */
    gale__ctl_bytes_t stats; /* its last heartbeat's stats, forwarded unread (optional) */
} gale__ctl_worker_state_t;

typedef struct gale__ctl_supervisor_heartbeat {
    const char *id; /* persistent, from the supervisor's local dir */
    const char *host;
    GALE__CTL_ARRAY(uint64_t) ports; /* the slots it really bound */
    uint64_t logviewer_port;
    uint64_t uptime_secs;
    uint64_t assignment_version; /* the one it holds; 0 = none */
    GALE__CTL_ARRAY(gale__ctl_worker_state_t) workers;
} gale__ctl_supervisor_heartbeat_t;

/* heartbeat_reply: fetch assignments when the version differs. */
typedef struct gale__ctl_heartbeat_reply {
    bool ok;
    const char *error;
    uint64_t assignment_version;
} gale__ctl_heartbeat_reply_t;

/* assignment_fetch: exactly one of supervisor (every topology with a slot
 * there, whole) or topology (a name or an id). */
typedef struct gale__ctl_assignment_fetch {
    const char *supervisor;
    const char *topology;
} gale__ctl_assignment_fetch_t;

typedef struct gale__ctl_executor_slot {
    uint64_t start, end; /* task range, start <= end */
    const char *supervisor;
    const char *host;
    uint64_t port;
    uint64_t logviewer_port;
    const char *component; /* the executor's component id (optional: `gale logs -c`) */
} gale__ctl_executor_slot_t;

typedef struct gale__ctl_topology_assignment {
    const char *id;
    const char *status;
    uint64_t version;
    GALE__CTL_ARRAY(gale__ctl_executor_slot_t) executors;
} gale__ctl_topology_assignment_t;

typedef struct gale__ctl_assignment_reply {
    bool ok;
    const char *error;
    uint64_t version; /* the cluster's assignment version */
    GALE__CTL_ARRAY(gale__ctl_topology_assignment_t) topologies;
} gale__ctl_assignment_reply_t;

/* code_fetch: up to max_len bytes of one part from offset. */
typedef struct gale__ctl_code_fetch {
    const char *topology_id;
    const char *part; /* topology | conf | code | resources */
    uint64_t offset;
    uint64_t max_len;
} gale__ctl_code_fetch_t;

/* code_reply: ok requires size and sum (of the whole part). */
typedef struct gale__ctl_code_reply {
    bool ok;
    const char *error;
    uint64_t size;
    gale__ctl_bytes_t sum;
    gale__ctl_bytes_t data;
} gale__ctl_code_reply_t;

typedef struct gale__ctl_executor_range {
    uint64_t start, end;
} gale__ctl_executor_range_t;

typedef struct gale__ctl_worker_heartbeat {
    const char *topology_id;
    uint64_t port;
    uint64_t pid;
    uint64_t assignment_version; /* the topology assignment it runs */
    GALE__CTL_ARRAY(gale__ctl_executor_range_t) executors;
    bool done;
    gale__ctl_bytes_t stats; /* common/wstats.h blob (optional) */
} gale__ctl_worker_heartbeat_t;

/* stats (gale ui -> nimbus): the stats nimbus keeps (nimbus/stats.c),
 * over one window: window_secs 0 or UNSET = all time, else the last
 * window_secs seconds (Storm's 600, 10800, 86400). topology (a name or an
 * id) UNSET = every topology, summaries only. */
typedef struct gale__ctl_stats {
    const char *topology;
    uint64_t window_secs;
} gale__ctl_stats_t;

/* stats_reply: ok requires json, a JSON document nimbus/stats.h describes. */
typedef struct gale__ctl_stats_reply {
    bool ok;
    const char *error;
    const char *json;
} gale__ctl_stats_reply_t;

/* DRPC (drpc/server.h has the semantics). Arguments and results are
 * text of at most GALE_DRPC_TEXT_MAX bytes without NUL bytes; the empty
 * string is allowed. */
#define GALE_DRPC_TEXT_MAX     (1u << 20)
#define GALE_DRPC_FUNCTION_MAX 128u

typedef struct gale__ctl_drpc_execute {
    const char *function;
    const char *args;
} gale__ctl_drpc_execute_t;

/* ok requires result; !ok requires error. */
typedef struct gale__ctl_drpc_execute_reply {
    bool ok;
    const char *error;
    const char *result;
} gale__ctl_drpc_execute_reply_t;

typedef struct gale__ctl_drpc_fetch {
    const char *function;
} gale__ctl_drpc_fetch_t;

/* ok with id (and args) = a request; ok without id = none waiting. */
typedef struct gale__ctl_drpc_fetch_reply {
    bool ok;
    const char *error;
    uint64_t id;
    const char *args;
} gale__ctl_drpc_fetch_reply_t;

typedef struct gale__ctl_drpc_result {
    uint64_t id;
    const char *result;
} gale__ctl_drpc_result_t;

typedef struct gale__ctl_drpc_fail {
    uint64_t id;
    const char *error;
} gale__ctl_drpc_fail_t;

struct gale__ctl_block;

/* A decoded message: type and req are set as soon as the header decoded,
 * even when the body is then refused (so the refusal can be answered). */
typedef struct gale__ctl_msg {
    gale__ctl_type_t type;
    uint64_t req;
    union {
#define GALE__CTL_MEMBER(e, n) gale__ctl_##n##_t n;
        GALE__CTL_TYPES(GALE__CTL_MEMBER)
#undef GALE__CTL_MEMBER
    } u;
    struct gale__ctl_block *mem; /* what decode allocated */
} gale__ctl_msg_t;

/** @brief The wire name of type ("submit_begin"), or NULL when out of range. */
const char *gale__ctl_type_name(gale__ctl_type_t type);

/**
 * @brief Encode one message: header into hdr and body into body (both
 * cleared first). msg points at the type's struct (gale__ctl_<name>_t).
 * Refuses what a receiver would refuse: GALE_EINVAL (missing required
 * field, bad type), GALE_ERANGE (bounds, body too large), with one line
 * in err.
 */
int gale__ctl_encode(msgpack_sbuffer *hdr, msgpack_sbuffer *body, gale__ctl_type_t type,
                     uint64_t req, const void *msg, char *err, size_t errlen);

/**
 * @brief Decode a header frame and a body frame into out (initialised
 * here). 0, or GALE_EPROTO (GALE_ENOMEM) with one line in err; on error
 * nothing is left to free. After success the caller owns out and frees it
 * with gale__ctl_msg_destroy; the input buffers may be freed at once.
 */
int gale__ctl_decode(const void *hdr, size_t hlen, const void *body, size_t blen,
                     gale__ctl_msg_t *out, char *err, size_t errlen);

/** @brief Free what decode allocated; accepts NULL and a failed decode's msg. */
void gale__ctl_msg_destroy(gale__ctl_msg_t *m);

/*
 * One assignment record alone, for nimbus's store (nimbus/topologies.c):
 * the same table as inside assignment_reply checks it. The per-worker
 * assignment file is a whole message instead (common/assignment.h).
 */
typedef struct gale__ctl_assignment_file {
    gale__ctl_topology_assignment_t a; /* points into mem */
    struct gale__ctl_block *mem;
} gale__ctl_assignment_file_t;

/** @brief Encode one assignment record into out (cleared first). GALE_EINVAL/ERANGE + err. */
int gale__ctl_assignment_encode(msgpack_sbuffer *out, const gale__ctl_topology_assignment_t *a,
                                char *err, size_t errlen);
/** @brief Decode one record; free out with gale__ctl_assignment_file_free (also on error). */
int gale__ctl_assignment_decode(const void *buf, size_t len, gale__ctl_assignment_file_t *out,
                                char *err, size_t errlen);
void gale__ctl_assignment_file_free(gale__ctl_assignment_file_t *f);

#endif
