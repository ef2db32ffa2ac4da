/*
 * control.c — the tables that describe every control message, and the one
 * encoder and one decoder that follow them (control.h has the protocol).
 *
 * A record (a message body, or an item of an array inside one) is a list
 * of fields; a field row gives its wire name, kind, required/optional,
 * bounds (value bounds for integers, length bounds for strings and bytes,
 * item bounds for arrays and confs), allowed words for enumerated strings,
 * where it lives in the C struct, and for arrays of records the item's
 * record. Cross-field rules that a row cannot say (a task range's start
 * <= end) are a record's `check`. Adding a message is adding its line to
 * GALE__CTL_TYPES and its struct in control.h, and its rows here; the
 * encoder and decoder do not change.
 *
 * Decoding runs over bytes already checked by gale__msgpack_unpack_whole
 * (complete, no trailing bytes, container counts backed by real bytes),
 * then copies what it keeps, so the decoded message outlives the frames.
 */
#include "common/control.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/text.h"
#include "common/wstats.h"

typedef enum field_kind {
    FK_U64,       /* uint64_t in [min, max] */
    FK_BOOL,      /* bool */
    FK_STR,       /* const char *, length in [min, max], no NUL; one of `allowed` */
    FK_BIN,       /* gale__ctl_bytes_t, length in [min, max] */
    FK_CONF,      /* const gale_conf_t *, at most max_items keys */
    FK_U64_ARRAY, /* GALE__CTL_ARRAY(uint64_t), items in [min, max] */
    FK_ARRAY      /* GALE__CTL_ARRAY(record), item record `rec` */
} field_kind_t;

typedef struct record record_t;

typedef struct field {
    const char *name;
    field_kind_t kind;
    bool required;
    uint64_t min, max;
    uint32_t max_items;
    const char *allowed; /* "a|b|c" */
    size_t offset;
    const record_t *rec;
} field_t;

struct record {
    const char *name;
    size_t size;
    const field_t *fields;
    size_t nfields;
    /* NULL or the reason the record as a whole is refused */
    const char *(*check)(const void *rec);
};

/* The layout every GALE__CTL_ARRAY(T) shares. */
typedef GALE__CTL_ARRAY(void) array_t;

#define NAME_MAX_LEN  GALE_NAME_MAX
#define ID_MAX_LEN    192 /* topology ids: <name>-<counter>-<epoch> */
#define HOST_MAX_LEN  255
#define ERROR_MAX_LEN 4096
#define TASK_MAX      2147483647ull
#define PORT_MAX      65535
#define MAX_EXECUTORS 65536
#define MAX_WORKERS   1024
#define WAIT_MAX      86400
#define CONF_MAX_KEYS 4096
#define STATUSES      "ACTIVE|INACTIVE|KILLED|REBALANCING"

/* Row helpers: one line per field. */
#define U64(S, f, req, lo, hi)                                                                     \
    { #f, FK_U64, req, lo, hi, 0, NULL, offsetof(S, f), NULL }
#define BOOL(S, f, req)                                                                            \
    { #f, FK_BOOL, req, 0, 0, 0, NULL, offsetof(S, f), NULL }
#define STR(S, f, req, lo, hi)                                                                     \
    { #f, FK_STR, req, lo, hi, 0, NULL, offsetof(S, f), NULL }
#define WORD(S, f, req, words)                                                                     \
    { #f, FK_STR, req, 1, 64, 0, words, offsetof(S, f), NULL }
#define BIN(S, f, req, lo, hi)                                                                     \
    { #f, FK_BIN, req, lo, hi, 0, NULL, offsetof(S, f), NULL }
#define CONF(S, f, req, n)                                                                         \
    { #f, FK_CONF, req, 0, 0, n, NULL, offsetof(S, f), NULL }
#define U64S(S, f, req, lo, hi, n)                                                                 \
    { #f, FK_U64_ARRAY, req, lo, hi, n, NULL, offsetof(S, f), NULL }
#define RECS(S, f, req, n, r)                                                                      \
    { #f, FK_ARRAY, req, 0, 0, n, NULL, offsetof(S, f), &r }
#define RECORD(n, S, flds, chk)                                                                    \
    { n, sizeof(S), flds, sizeof(flds) / sizeof(flds[0]), chk }

/* ------------------------------------------------------------------ */
/* Cross-field rules                                                    */
/* ------------------------------------------------------------------ */

static const char *check_failure_named(bool ok, const char *error) {
    return !ok && !error ? "ok is false but no error says why" : NULL;
}

static const char *check_reply(const void *p) {
    const gale__ctl_reply_t *r = p;
    return check_failure_named(r->ok, r->error);
}
static const char *check_list_reply(const void *p) {
    const gale__ctl_list_reply_t *r = p;
    return check_failure_named(r->ok, r->error);
}
static const char *check_heartbeat_reply(const void *p) {
    const gale__ctl_heartbeat_reply_t *r = p;
    if (r->ok && r->assignment_version == GALE_CTL_UNSET) return "ok without assignment_version";
    return check_failure_named(r->ok, r->error);
}
static const char *check_assignment_reply(const void *p) {
    const gale__ctl_assignment_reply_t *r = p;
    if (r->ok && r->version == GALE_CTL_UNSET) return "ok without version";
    return check_failure_named(r->ok, r->error);
}
static const char *check_code_reply(const void *p) {
    const gale__ctl_code_reply_t *r = p;
    if (r->ok && (r->size == GALE_CTL_UNSET || !r->sum.ptr || !r->data.ptr))
        return "ok without size, sum and data";
    return check_failure_named(r->ok, r->error);
}
static const char *check_drpc_execute_reply(const void *p) {
    const gale__ctl_drpc_execute_reply_t *r = p;
    if (r->ok && !r->result) return "ok without result";
    return check_failure_named(r->ok, r->error);
}
static const char *check_drpc_fetch_reply(const void *p) {
    const gale__ctl_drpc_fetch_reply_t *r = p;
    if ((r->id != GALE_CTL_UNSET) != (r->args != NULL)) return "give id and args together";
    if (!r->ok && r->id != GALE_CTL_UNSET) return "a refusal carries no request";
    return check_failure_named(r->ok, r->error);
}
static const char *check_submit_begin(const void *p) {
    const gale__ctl_submit_begin_t *s = p;
    if ((s->resources_size > 0) != (s->resources_sum.ptr != NULL))
        return "resources_sum must be given exactly when resources_size > 0";
    return NULL;
}
static const char *check_assignment_fetch(const void *p) {
    const gale__ctl_assignment_fetch_t *f = p;
    return (f->supervisor != NULL) == (f->topology != NULL)
               ? "give exactly one of supervisor and topology"
               : NULL;
}
static const char *check_slot(const void *p) {
    const gale__ctl_executor_slot_t *s = p;
    return s->start > s->end ? "task range start > end" : NULL;
}
static const char *check_range(const void *p) {
    const gale__ctl_executor_range_t *r = p;
    return r->start > r->end ? "task range start > end" : NULL;
}

/* ------------------------------------------------------------------ */
/* The tables: every message, described once                           */
/* ------------------------------------------------------------------ */

typedef struct header {
    uint64_t v;
    const char *type;
    uint64_t req;
} header_t;
static const field_t header_fields[] = {
    U64(header_t, v, true, 0, UINT64_MAX - 1),
    STR(header_t, type, true, 1, 64),
    U64(header_t, req, true, 0, UINT64_MAX - 1),
};
static const record_t rec_header = RECORD("header", header_t, header_fields, NULL);

static const field_t reply_fields[] = {
    BOOL(gale__ctl_reply_t, ok, true),
    STR(gale__ctl_reply_t, error, false, 1, ERROR_MAX_LEN),
    STR(gale__ctl_reply_t, id, false, 1, ID_MAX_LEN),
    U64(gale__ctl_reply_t, wait_secs, false, 0, WAIT_MAX),
};
static const record_t rec_reply = RECORD("reply", gale__ctl_reply_t, reply_fields, check_reply);

static const field_t submit_begin_fields[] = {
    STR(gale__ctl_submit_begin_t, name, true, 1, NAME_MAX_LEN),
    CONF(gale__ctl_submit_begin_t, conf, true, CONF_MAX_KEYS),
    BIN(gale__ctl_submit_begin_t, topology, true, 1, GALE_CTL_MAX_TOPOLOGY),
    U64(gale__ctl_submit_begin_t, code_size, true, 1, GALE_CTL_MAX_CODE),
    BIN(gale__ctl_submit_begin_t, code_sum, true, GALE_CHECKSUM_LEN, GALE_CHECKSUM_LEN),
    U64(gale__ctl_submit_begin_t, resources_size, true, 0, GALE_CTL_MAX_CODE),
    BIN(gale__ctl_submit_begin_t, resources_sum, false, GALE_CHECKSUM_LEN, GALE_CHECKSUM_LEN),
};
static const record_t rec_submit_begin =
    RECORD("submit_begin", gale__ctl_submit_begin_t, submit_begin_fields, check_submit_begin);

static const field_t submit_chunk_fields[] = {
    STR(gale__ctl_submit_chunk_t, upload, true, 1, ID_MAX_LEN),
    WORD(gale__ctl_submit_chunk_t, part, true, "code|resources"),
    U64(gale__ctl_submit_chunk_t, offset, true, 0, GALE_CTL_MAX_CODE - 1),
    BIN(gale__ctl_submit_chunk_t, data, true, 1, GALE_CTL_CHUNK_MAX),
};
static const record_t rec_submit_chunk =
    RECORD("submit_chunk", gale__ctl_submit_chunk_t, submit_chunk_fields, NULL);

static const field_t submit_end_fields[] = {
    STR(gale__ctl_submit_end_t, upload, true, 1, ID_MAX_LEN),
};
static const record_t rec_submit_end =
    RECORD("submit_end", gale__ctl_submit_end_t, submit_end_fields, NULL);

static const field_t list_fields[] = {
    STR(gale__ctl_list_t, name, false, 1, NAME_MAX_LEN),
};
static const record_t rec_list = RECORD("list", gale__ctl_list_t, list_fields, NULL);

static const field_t summary_fields[] = {
    STR(gale__ctl_topology_summary_t, name, true, 1, NAME_MAX_LEN),
    STR(gale__ctl_topology_summary_t, id, true, 1, ID_MAX_LEN),
    WORD(gale__ctl_topology_summary_t, status, true, STATUSES),
    U64(gale__ctl_topology_summary_t, uptime_secs, true, 0, UINT64_MAX - 1),
    U64(gale__ctl_topology_summary_t, workers, true, 0, MAX_WORKERS),
    U64(gale__ctl_topology_summary_t, executors, true, 0, MAX_EXECUTORS),
    U64(gale__ctl_topology_summary_t, tasks, true, 0, TASK_MAX),
    BOOL(gale__ctl_topology_summary_t, done, false),
    U64(gale__ctl_topology_summary_t, restarts, false, 0, UINT64_MAX - 1),
};
static const record_t rec_summary =
    RECORD("topology", gale__ctl_topology_summary_t, summary_fields, NULL);

static const field_t list_reply_fields[] = {
    BOOL(gale__ctl_list_reply_t, ok, true),
    STR(gale__ctl_list_reply_t, error, false, 1, ERROR_MAX_LEN),
    RECS(gale__ctl_list_reply_t, topologies, false, 4096, rec_summary),
};
static const record_t rec_list_reply =
    RECORD("list_reply", gale__ctl_list_reply_t, list_reply_fields, check_list_reply);

static const field_t kill_fields[] = {
    STR(gale__ctl_kill_t, name, true, 1, NAME_MAX_LEN),
    U64(gale__ctl_kill_t, wait_secs, false, 0, WAIT_MAX),
};
static const record_t rec_kill = RECORD("kill", gale__ctl_kill_t, kill_fields, NULL);

static const field_t activate_fields[] = {
    STR(gale__ctl_activate_t, name, true, 1, NAME_MAX_LEN),
};
static const record_t rec_activate =
    RECORD("activate", gale__ctl_activate_t, activate_fields, NULL);

static const field_t deactivate_fields[] = {
    STR(gale__ctl_deactivate_t, name, true, 1, NAME_MAX_LEN),
};
static const record_t rec_deactivate =
    RECORD("deactivate", gale__ctl_deactivate_t, deactivate_fields, NULL);

static const field_t component_count_fields[] = {
    STR(gale__ctl_component_count_t, component, true, 1, NAME_MAX_LEN),
    U64(gale__ctl_component_count_t, executors, true, 1, MAX_EXECUTORS),
};
static const record_t rec_component_count =
    RECORD("executors", gale__ctl_component_count_t, component_count_fields, NULL);

static const field_t rebalance_fields[] = {
    STR(gale__ctl_rebalance_t, name, true, 1, NAME_MAX_LEN),
    U64(gale__ctl_rebalance_t, wait_secs, false, 0, WAIT_MAX),
    U64(gale__ctl_rebalance_t, workers, false, 1, MAX_WORKERS),
    RECS(gale__ctl_rebalance_t, executors, false, 1024, rec_component_count),
};
static const record_t rec_rebalance =
    RECORD("rebalance", gale__ctl_rebalance_t, rebalance_fields, NULL);

static const field_t worker_state_fields[] = {
    STR(gale__ctl_worker_state_t, topology_id, true, 1, ID_MAX_LEN),
    U64(gale__ctl_worker_state_t, port, true, 1, PORT_MAX),
    U64(gale__ctl_worker_state_t, pid, true, 1, TASK_MAX),
    WORD(gale__ctl_worker_state_t, state, true, "starting|running|timed_out|exited"),
    U64(gale__ctl_worker_state_t, hb_age_ms, false, 0, UINT64_MAX - 1),
    U64(gale__ctl_worker_state_t, restarts, true, 0, UINT64_MAX - 1),
    BOOL(gale__ctl_worker_state_t, done, false),
    BIN(gale__ctl_worker_state_t, stats, false, 1, GALE__WS_MAX_BYTES),
};
static const record_t rec_worker_state =
    RECORD("workers", gale__ctl_worker_state_t, worker_state_fields, NULL);

static const field_t supervisor_heartbeat_fields[] = {
    STR(gale__ctl_supervisor_heartbeat_t, id, true, 1, NAME_MAX_LEN),
    STR(gale__ctl_supervisor_heartbeat_t, host, true, 1, HOST_MAX_LEN),
    U64S(gale__ctl_supervisor_heartbeat_t, ports, true, 1, PORT_MAX, MAX_WORKERS),
    U64(gale__ctl_supervisor_heartbeat_t, logviewer_port, false, 1, PORT_MAX),
    U64(gale__ctl_supervisor_heartbeat_t, uptime_secs, true, 0, UINT64_MAX - 1),
    U64(gale__ctl_supervisor_heartbeat_t, assignment_version, true, 0, UINT64_MAX - 1),
    RECS(gale__ctl_supervisor_heartbeat_t, workers, false, MAX_WORKERS, rec_worker_state),
};
static const record_t rec_supervisor_heartbeat = RECORD(
    "supervisor_heartbeat", gale__ctl_supervisor_heartbeat_t, supervisor_heartbeat_fields, NULL);

static const field_t heartbeat_reply_fields[] = {
    BOOL(gale__ctl_heartbeat_reply_t, ok, true),
    STR(gale__ctl_heartbeat_reply_t, error, false, 1, ERROR_MAX_LEN),
    U64(gale__ctl_heartbeat_reply_t, assignment_version, false, 0, UINT64_MAX - 1),
};
static const record_t rec_heartbeat_reply = RECORD("heartbeat_reply", gale__ctl_heartbeat_reply_t,
                                                   heartbeat_reply_fields, check_heartbeat_reply);

static const field_t assignment_fetch_fields[] = {
    STR(gale__ctl_assignment_fetch_t, supervisor, false, 1, NAME_MAX_LEN),
    STR(gale__ctl_assignment_fetch_t, topology, false, 1, ID_MAX_LEN),
};
static const record_t rec_assignment_fetch =
    RECORD("assignment_fetch", gale__ctl_assignment_fetch_t, assignment_fetch_fields,
           check_assignment_fetch);

static const field_t slot_fields[] = {
    U64(gale__ctl_executor_slot_t, start, true, 1, TASK_MAX),
    U64(gale__ctl_executor_slot_t, end, true, 1, TASK_MAX),
    STR(gale__ctl_executor_slot_t, supervisor, true, 1, NAME_MAX_LEN),
    STR(gale__ctl_executor_slot_t, host, true, 1, HOST_MAX_LEN),
    U64(gale__ctl_executor_slot_t, port, true, 1, PORT_MAX),
    U64(gale__ctl_executor_slot_t, logviewer_port, false, 1, PORT_MAX),
    STR(gale__ctl_executor_slot_t, component, false, 1, NAME_MAX_LEN),
};
static const record_t rec_slot =
    RECORD("executors", gale__ctl_executor_slot_t, slot_fields, check_slot);

static const field_t topology_assignment_fields[] = {
    STR(gale__ctl_topology_assignment_t, id, true, 1, ID_MAX_LEN),
    WORD(gale__ctl_topology_assignment_t, status, true, STATUSES),
    U64(gale__ctl_topology_assignment_t, version, true, 0, UINT64_MAX - 1),
    RECS(gale__ctl_topology_assignment_t, executors, true, MAX_EXECUTORS, rec_slot),
};
static const record_t rec_topology_assignment =
    RECORD("topologies", gale__ctl_topology_assignment_t, topology_assignment_fields, NULL);

static const field_t assignment_reply_fields[] = {
    BOOL(gale__ctl_assignment_reply_t, ok, true),
    STR(gale__ctl_assignment_reply_t, error, false, 1, ERROR_MAX_LEN),
    U64(gale__ctl_assignment_reply_t, version, false, 0, UINT64_MAX - 1),
    RECS(gale__ctl_assignment_reply_t, topologies, false, 4096, rec_topology_assignment),
};
static const record_t rec_assignment_reply =
    RECORD("assignment_reply", gale__ctl_assignment_reply_t, assignment_reply_fields,
           check_assignment_reply);

static const field_t code_fetch_fields[] = {
    STR(gale__ctl_code_fetch_t, topology_id, true, 1, ID_MAX_LEN),
    WORD(gale__ctl_code_fetch_t, part, true, "topology|conf|code|resources"),
    U64(gale__ctl_code_fetch_t, offset, true, 0, GALE_CTL_MAX_CODE),
    U64(gale__ctl_code_fetch_t, max_len, true, 1, GALE_CTL_CHUNK_MAX),
};
static const record_t rec_code_fetch =
    RECORD("code_fetch", gale__ctl_code_fetch_t, code_fetch_fields, NULL);

static const field_t code_reply_fields[] = {
    BOOL(gale__ctl_code_reply_t, ok, true),
    STR(gale__ctl_code_reply_t, error, false, 1, ERROR_MAX_LEN),
    U64(gale__ctl_code_reply_t, size, false, 0, GALE_CTL_MAX_CODE),
    BIN(gale__ctl_code_reply_t, sum, false, GALE_CHECKSUM_LEN, GALE_CHECKSUM_LEN),
    BIN(gale__ctl_code_reply_t, data, false, 0, GALE_CTL_CHUNK_MAX),
};
static const record_t rec_code_reply =
    RECORD("code_reply", gale__ctl_code_reply_t, code_reply_fields, check_code_reply);

static const field_t range_fields[] = {
    U64(gale__ctl_executor_range_t, start, true, 1, TASK_MAX),
    U64(gale__ctl_executor_range_t, end, true, 1, TASK_MAX),
};
static const record_t rec_range =
    RECORD("executors", gale__ctl_executor_range_t, range_fields, check_range);

static const field_t worker_heartbeat_fields[] = {
    STR(gale__ctl_worker_heartbeat_t, topology_id, true, 1, ID_MAX_LEN),
    U64(gale__ctl_worker_heartbeat_t, port, true, 1, PORT_MAX),
    U64(gale__ctl_worker_heartbeat_t, pid, true, 1, TASK_MAX),
    U64(gale__ctl_worker_heartbeat_t, assignment_version, true, 0, UINT64_MAX - 1),
    RECS(gale__ctl_worker_heartbeat_t, executors, true, MAX_EXECUTORS, rec_range),
    BOOL(gale__ctl_worker_heartbeat_t, done, false),
    BIN(gale__ctl_worker_heartbeat_t, stats, false, 1, GALE__WS_MAX_BYTES),
};
static const record_t rec_worker_heartbeat =
    RECORD("worker_heartbeat", gale__ctl_worker_heartbeat_t, worker_heartbeat_fields, NULL);

static const field_t drpc_execute_fields[] = {
    STR(gale__ctl_drpc_execute_t, function, true, 1, GALE_DRPC_FUNCTION_MAX),
    STR(gale__ctl_drpc_execute_t, args, true, 0, GALE_DRPC_TEXT_MAX),
};
static const record_t rec_drpc_execute =
    RECORD("drpc_execute", gale__ctl_drpc_execute_t, drpc_execute_fields, NULL);

static const field_t drpc_execute_reply_fields[] = {
    BOOL(gale__ctl_drpc_execute_reply_t, ok, true),
    STR(gale__ctl_drpc_execute_reply_t, error, false, 1, ERROR_MAX_LEN),
    STR(gale__ctl_drpc_execute_reply_t, result, false, 0, GALE_DRPC_TEXT_MAX),
};
static const record_t rec_drpc_execute_reply =
    RECORD("drpc_execute_reply", gale__ctl_drpc_execute_reply_t, drpc_execute_reply_fields,
           check_drpc_execute_reply);

static const field_t drpc_fetch_fields[] = {
    STR(gale__ctl_drpc_fetch_t, function, true, 1, GALE_DRPC_FUNCTION_MAX),
};
static const record_t rec_drpc_fetch =
    RECORD("drpc_fetch", gale__ctl_drpc_fetch_t, drpc_fetch_fields, NULL);

static const field_t drpc_fetch_reply_fields[] = {
    BOOL(gale__ctl_drpc_fetch_reply_t, ok, true),
    STR(gale__ctl_drpc_fetch_reply_t, error, false, 1, ERROR_MAX_LEN),
    U64(gale__ctl_drpc_fetch_reply_t, id, false, 1, UINT64_MAX - 1),
    STR(gale__ctl_drpc_fetch_reply_t, args, false, 0, GALE_DRPC_TEXT_MAX),
};
static const record_t rec_drpc_fetch_reply =
    RECORD("drpc_fetch_reply", gale__ctl_drpc_fetch_reply_t, drpc_fetch_reply_fields,
           check_drpc_fetch_reply);

static const field_t drpc_result_fields[] = {
    U64(gale__ctl_drpc_result_t, id, true, 1, UINT64_MAX - 1),
    STR(gale__ctl_drpc_result_t, result, true, 0, GALE_DRPC_TEXT_MAX),
};
static const record_t rec_drpc_result =
    RECORD("drpc_result", gale__ctl_drpc_result_t, drpc_result_fields, NULL);

static const field_t drpc_fail_fields[] = {
    U64(gale__ctl_drpc_fail_t, id, true, 1, UINT64_MAX - 1),
    STR(gale__ctl_drpc_fail_t, error, true, 1, ERROR_MAX_LEN),
};
static const record_t rec_drpc_fail =
    RECORD("drpc_fail", gale__ctl_drpc_fail_t, drpc_fail_fields, NULL);

static const field_t stats_fields[] = {
    STR(gale__ctl_stats_t, topology, false, 1, ID_MAX_LEN),
    U64(gale__ctl_stats_t, window_secs, false, 0, 100u * 365 * 86400),
};
static const record_t rec_stats = RECORD("stats", gale__ctl_stats_t, stats_fields, NULL);

static const char *check_stats_reply(const void *p) {
    const gale__ctl_stats_reply_t *r = p;
    if (r->ok && !r->json) return "ok without json";
    return check_failure_named(r->ok, r->error);
}
static const field_t stats_reply_fields[] = {
    BOOL(gale__ctl_stats_reply_t, ok, true),
    STR(gale__ctl_stats_reply_t, error, false, 1, ERROR_MAX_LEN),
    STR(gale__ctl_stats_reply_t, json, false, 2, GALE_CTL_MAX_BODY - 4096),
};
static const record_t rec_stats_reply =
    RECORD("stats_reply", gale__ctl_stats_reply_t, stats_reply_fields, check_stats_reply);

static const record_t *const types[GALE_CTL__COUNT] = {
#define TYPE_ROW(e, n) [GALE_CTL_##e] = &rec_##n,
    GALE__CTL_TYPES(TYPE_ROW)
#undef TYPE_ROW
};

const char *gale__ctl_type_name(gale__ctl_type_t type) {
    return type > GALE_CTL_NONE && type < GALE_CTL__COUNT ? types[type]->name : NULL;
}

/* ------------------------------------------------------------------ */
/* Shared checks                                                        */
/* ------------------------------------------------------------------ */

static bool word_allowed(const char *allowed, const char *s, size_t n) {
    for (const char *p = allowed; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, s, n) == 0) return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* Peer-supplied text quoted in a reason stays on one line. */
static char *one_line(char *s) {
    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return s;
}

/* Why a string value breaks field f's rules, or NULL; shown in why. */
static const char *str_rule(const field_t *f, const char *s, size_t n, char *why, size_t cap) {
    if (n < f->min || n > f->max) {
        snprintf(why, cap, "%zu bytes long (allowed %llu..%llu)", n, (unsigned long long)f->min,
                 (unsigned long long)f->max);
        return why;
    }
    if (memchr(s, '\0', n)) return "contains a NUL byte";
    if (f->allowed && !word_allowed(f->allowed, s, n)) {
        snprintf(why, cap, "'%.*s' is not one of %s", (int)(n > 40 ? 40 : n), s, f->allowed);
        return one_line(why);
    }
    return NULL;
}

static const char *u64_rule(const field_t *f, uint64_t v, char *why, size_t cap) {
    if (v < f->min || v > f->max) {
        snprintf(why, cap, "%llu is out of range %llu..%llu", (unsigned long long)v,
                 (unsigned long long)f->min, (unsigned long long)f->max);
        return why;
    }
    return NULL;
}

static const char *bin_rule(const field_t *f, size_t n, char *why, size_t cap) {
    if (n < f->min || n > f->max) {
        snprintf(why, cap, "%zu bytes (allowed %llu..%llu)", n, (unsigned long long)f->min,
                 (unsigned long long)f->max);
        return why;
    }
    return NULL;
}

static const char *count_rule(const field_t *f, size_t n, char *why, size_t cap) {
    if (n > f->max_items) {
        snprintf(why, cap, "%zu items (at most %u)", n, f->max_items);
        return why;
    }
    return NULL;
}

/* "workers[3].port" style paths for messages; a path too long for the
 * buffer is cut, which only shortens a message. */
typedef struct path {
    char buf[160];
} path_t;

static void path_field(path_t *out, const char *parent, const char *name) {
    size_t n = strlen(parent);
    if (n > sizeof(out->buf) - 2) n = sizeof(out->buf) - 2;
    memcpy(out->buf, parent, n);
    if (n) out->buf[n++] = '.';
    size_t m = strlen(name);
    if (m > sizeof(out->buf) - 1 - n) m = sizeof(out->buf) - 1 - n;
    memcpy(out->buf + n, name, m);
    out->buf[n + m] = '\0';
}

static void path_item(path_t *out, const char *parent, uint32_t i) {
    char index[16];
    snprintf(index, sizeof index, "[%u]", i); /* at most 12 bytes */
    size_t n = strlen(parent);
    if (n > sizeof(out->buf) - 1 - strlen(index)) n = sizeof(out->buf) - 1 - strlen(index);
    memcpy(out->buf, parent, n);
    strcpy(out->buf + n, index);
}

/* ------------------------------------------------------------------ */
/* Encoder                                                              */
/* ------------------------------------------------------------------ */

static bool present(const field_t *f, const void *rec) {
    const char *p = (const char *)rec + f->offset;
    switch (f->kind) {
        case FK_U64:
            return *(const uint64_t *)(const void *)p != GALE_CTL_UNSET;
        case FK_BOOL:
            return f->required || *(const bool *)(const void *)p;
        case FK_STR:
        case FK_CONF:
            return *(const void *const *)(const void *)p != NULL;
        case FK_BIN:
            return ((const gale__ctl_bytes_t *)(const void *)p)->ptr != NULL;
        case FK_U64_ARRAY:
        case FK_ARRAY:
            return f->required || ((const array_t *)(const void *)p)->n > 0;
    }
    return false;
}

typedef struct enc {
    msgpack_packer pk;
    const char *type;
    char *err;
    size_t errlen;
} enc_t;

static int enc_record(enc_t *e, const record_t *r, const void *rec, const char *at);

static int enc_refuse(enc_t *e, int code, const char *at, const char *why) {
    return gale__errf(e->err, e->errlen, code, "%s: %s%s%s: cannot send", e->type, at,
                      *at ? ": " : "", why);
}

static int enc_field(enc_t *e, const field_t *f, const void *rec, const char *at) {
    const char *p = (const char *)rec + f->offset;
    msgpack_packer *pk = &e->pk;
    char why[128];
    const char *bad = NULL;
    switch (f->kind) {
        case FK_U64: {
            uint64_t v = *(const uint64_t *)(const void *)p;
            if ((bad = u64_rule(f, v, why, sizeof why))) return enc_refuse(e, GALE_ERANGE, at, bad);
            return msgpack_pack_uint64(pk, v) ? GALE_ENOMEM : 0;
        }
        case FK_BOOL:
            return (*(const bool *)(const void *)p ? msgpack_pack_true(pk) : msgpack_pack_false(pk))
                       ? GALE_ENOMEM
                       : 0;
        case FK_STR: {
            const char *s = *(const char *const *)(const void *)p;
            size_t n = strlen(s);
            if ((bad = str_rule(f, s, n, why, sizeof why)))
                return enc_refuse(e, GALE_ERANGE, at, bad);
            return msgpack_pack_str_with_body(pk, s, n) ? GALE_ENOMEM : 0;
        }
        case FK_BIN: {
            const gale__ctl_bytes_t *b = (const gale__ctl_bytes_t *)(const void *)p;
            if ((bad = bin_rule(f, b->len, why, sizeof why)))
                return enc_refuse(e, GALE_ERANGE, at, bad);
            return msgpack_pack_bin_with_body(pk, b->ptr, b->len) ? GALE_ENOMEM : 0;
        }
        case FK_CONF: {
            const gale_conf_t *c = *(const gale_conf_t *const *)(const void *)p;
            if ((bad = count_rule(f, gale_conf_count(c), why, sizeof why)))
                return enc_refuse(e, GALE_ERANGE, at, bad);
            return gale__conf_pack(pk, c) ? enc_refuse(e, GALE_EINVAL, at, "cannot pack the conf")
                                          : 0;
        }
        case FK_U64_ARRAY: {
            const array_t *a = (const array_t *)(const void *)p;
            const uint64_t *items = a->items;
            if ((bad = count_rule(f, a->n, why, sizeof why)))
                return enc_refuse(e, GALE_ERANGE, at, bad);
            if (a->n && !items) return enc_refuse(e, GALE_EINVAL, at, "items is NULL");
            if (msgpack_pack_array(pk, a->n)) return GALE_ENOMEM;
            for (uint32_t i = 0; i < a->n; i++) {
                path_t item;
                path_item(&item, at, i);
                if ((bad = u64_rule(f, items[i], why, sizeof why)))
                    return enc_refuse(e, GALE_ERANGE, item.buf, bad);
                if (msgpack_pack_uint64(pk, items[i])) return GALE_ENOMEM;
            }
            return 0;
        }
        case FK_ARRAY: {
            const array_t *a = (const array_t *)(const void *)p;
            if ((bad = count_rule(f, a->n, why, sizeof why)))
                return enc_refuse(e, GALE_ERANGE, at, bad);
            if (a->n && !a->items) return enc_refuse(e, GALE_EINVAL, at, "items is NULL");
            if (msgpack_pack_array(pk, a->n)) return GALE_ENOMEM;
            for (uint32_t i = 0; i < a->n; i++) {
                path_t item;
                path_item(&item, at, i);
                const char *irec = (const char *)a->items + (size_t)i * f->rec->size;
                int rc = enc_record(e, f->rec, irec, item.buf);
                if (rc) return rc;
            }
            return 0;
        }
    }
    return GALE_EINVAL;
}

static int enc_record(enc_t *e, const record_t *r, const void *rec, const char *at) {
    uint32_t n = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const field_t *f = &r->fields[i];
        if (present(f, rec)) {
            n++;
        } else if (f->required) {
            path_t fp;
            path_field(&fp, at, f->name);
            return enc_refuse(e, GALE_EINVAL, fp.buf, "required field missing");
        }
    }
    const char *bad = r->check ? r->check(rec) : NULL;
    if (bad) return enc_refuse(e, GALE_EINVAL, at, bad);
    if (msgpack_pack_map(&e->pk, n)) return GALE_ENOMEM;
    for (size_t i = 0; i < r->nfields; i++) {
        const field_t *f = &r->fields[i];
        if (!present(f, rec)) continue;
        path_t fp;
        path_field(&fp, at, f->name);
        if (msgpack_pack_str_with_body(&e->pk, f->name, strlen(f->name))) return GALE_ENOMEM;
        int rc = enc_field(e, f, rec, fp.buf);
        if (rc) return rc;
    }
    return 0;
}

int gale__ctl_encode(msgpack_sbuffer *hdr, msgpack_sbuffer *body, gale__ctl_type_t type,
                     uint64_t req, const void *msg, char *err, size_t errlen) {
    if (!hdr || !body || !msg || !gale__ctl_type_name(type) || req == GALE_CTL_UNSET)
        return gale__errf(err, errlen, GALE_EINVAL, "control: encode called with bad arguments");
    const record_t *r = types[type];
    msgpack_sbuffer_clear(hdr);
    msgpack_sbuffer_clear(body);

    header_t h = {GALE_CTL_VERSION, r->name, req};
    enc_t e = {.type = "header", .err = err, .errlen = errlen};
    msgpack_packer_init(&e.pk, hdr, msgpack_sbuffer_write);
    int rc = enc_record(&e, &rec_header, &h, "");
    if (rc) return rc;

    e.type = r->name;
    msgpack_packer_init(&e.pk, body, msgpack_sbuffer_write);
    rc = enc_record(&e, r, msg, "");
    if (rc)
        return rc == GALE_ENOMEM ? gale__errf(err, errlen, rc, "%s: out of memory", r->name) : rc;
    if (body->size > GALE_CTL_MAX_BODY)
        return gale__errf(err, errlen, GALE_ERANGE,
                          "%s: body of %zu bytes is larger than %u: cannot send", r->name,
                          body->size, GALE_CTL_MAX_BODY);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Decoder                                                              */
/* ------------------------------------------------------------------ */

struct gale__ctl_block {
    struct gale__ctl_block *next;
    gale_conf_t *conf; /* destroyed with the block */
    max_align_t data[];
};

typedef struct dec {
    gale__ctl_msg_t *msg;
    const char *type;
    char *err;
    size_t errlen;
} dec_t;

static void *dec_alloc(dec_t *d, size_t n) {
    struct gale__ctl_block *b = malloc(sizeof(*b) + (n ? n : 1));
    if (!b) return NULL;
    b->conf = NULL;
    b->next = d->msg->mem;
    d->msg->mem = b;
    memset(b->data, 0, n ? n : 1);
    return b->data;
}

static int dec_refuse(dec_t *d, const char *at, const char *why) {
    return gale__errf(d->err, d->errlen, GALE_EPROTO, "%s: %s%s%s", d->type, at, *at ? ": " : "",
                      why);
}

static int dec_nomem(dec_t *d) {
    return gale__errf(d->err, d->errlen, GALE_ENOMEM, "%s: out of memory", d->type);
}

static const char *kind_text(field_kind_t k) {
    switch (k) {
        case FK_U64:
            return "not an unsigned integer";
        case FK_BOOL:
            return "not a boolean";
        case FK_STR:
            return "not a string";
        case FK_BIN:
            return "not bytes (msgpack bin)";
        case FK_CONF:
            return "not a map";
        case FK_U64_ARRAY:
        case FK_ARRAY:
            return "not an array";
    }
    return "of the wrong type";
}

static int dec_record(dec_t *d, const record_t *r, const msgpack_object *o, void *rec,
                      const char *at);

static int dec_field(dec_t *d, const field_t *f, const msgpack_object *o, void *rec,
                     const char *at) {
    char *p = (char *)rec + f->offset;
    char why[128];
    const char *bad = NULL;
    static const uint8_t empty_bin[1];
    switch (f->kind) {
        case FK_U64:
            if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) break;
            if ((bad = u64_rule(f, o->via.u64, why, sizeof why))) return dec_refuse(d, at, bad);
            *(uint64_t *)(void *)p = o->via.u64;
            return 0;
        case FK_BOOL:
            if (o->type != MSGPACK_OBJECT_BOOLEAN) break;
            *(bool *)(void *)p = o->via.boolean;
            return 0;
        case FK_STR: {
            if (o->type != MSGPACK_OBJECT_STR) break;
            size_t n = o->via.str.size;
            if ((bad = str_rule(f, o->via.str.ptr, n, why, sizeof why)))
                return dec_refuse(d, at, bad);
            char *s = dec_alloc(d, n + 1);
            if (!s) return dec_nomem(d);
            memcpy(s, o->via.str.ptr, n);
            s[n] = '\0';
            *(const char **)(void *)p = s;
            return 0;
        }
        case FK_BIN: {
            if (o->type != MSGPACK_OBJECT_BIN) break;
            size_t n = o->via.bin.size;
            if ((bad = bin_rule(f, n, why, sizeof why))) return dec_refuse(d, at, bad);
            uint8_t *b = n ? dec_alloc(d, n) : (uint8_t *)empty_bin;
            if (!b) return dec_nomem(d);
            if (n) memcpy(b, o->via.bin.ptr, n);
            gale__ctl_bytes_t *out = (gale__ctl_bytes_t *)(void *)p;
            out->ptr = b;
            out->len = n;
            return 0;
        }
        case FK_CONF: {
            if (o->type != MSGPACK_OBJECT_MAP) break;
            if ((bad = count_rule(f, o->via.map.size, why, sizeof why)))
                return dec_refuse(d, at, bad);
            if (!dec_alloc(d, 0)) return dec_nomem(d);
            gale_conf_t *c = gale_conf_new();
            if (!c) return dec_nomem(d);
            d->msg->mem->conf = c; /* owned by the block just allocated */
            int rc = gale__conf_from_msgpack(c, o);
            if (rc == GALE_ENOMEM) return dec_nomem(d);
            if (rc)
                return dec_refuse(d, at,
                                  "a key is not a non-empty string or a value is not a value "
                                  "Gale supports");
            *(const gale_conf_t **)(void *)p = c;
            return 0;
        }
        case FK_U64_ARRAY:
        case FK_ARRAY: {
            if (o->type != MSGPACK_OBJECT_ARRAY) break;
            uint32_t n = o->via.array.size;
            if ((bad = count_rule(f, n, why, sizeof why))) return dec_refuse(d, at, bad);
            size_t isize = f->kind == FK_ARRAY ? f->rec->size : sizeof(uint64_t);
            char *items = dec_alloc(d, (size_t)n * isize);
            if (!items) return dec_nomem(d);
            for (uint32_t i = 0; i < n; i++) {
                path_t ip;
                path_item(&ip, at, i);
                const msgpack_object *io = &o->via.array.ptr[i];
                int rc;
                if (f->kind == FK_ARRAY) {
                    rc = dec_record(d, f->rec, io, items + (size_t)i * isize, ip.buf);
                } else {
                    if (io->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                        return dec_refuse(d, ip.buf, kind_text(FK_U64));
                    if ((bad = u64_rule(f, io->via.u64, why, sizeof why)))
                        return dec_refuse(d, ip.buf, bad);
                    ((uint64_t *)(void *)items)[i] = io->via.u64;
                    rc = 0;
                }
                if (rc) return rc;
            }
            array_t *a = (array_t *)(void *)p;
            a->items = items;
            a->n = n;
            return 0;
        }
    }
    return dec_refuse(d, at, kind_text(f->kind));
}

/* Absent optional fields get their documented "absent" value. */
static void set_absent(const field_t *f, void *rec) {
    char *p = (char *)rec + f->offset;
    if (f->kind == FK_U64) *(uint64_t *)(void *)p = GALE_CTL_UNSET;
    /* everything else is absent as zero: rec was zeroed */
}

static int dec_record(dec_t *d, const record_t *r, const msgpack_object *o, void *rec,
                      const char *at) {
    if (o->type != MSGPACK_OBJECT_MAP) return dec_refuse(d, at, "not a map");
    memset(rec, 0, r->size);
    uint32_t seen = 0; /* a bit per field: records have fewer than 32 */
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR) return dec_refuse(d, at, "a field name is not a string");
        size_t fi = 0;
        while (fi < r->nfields &&
               !(strlen(r->fields[fi].name) == k->via.str.size &&
                 memcmp(r->fields[fi].name, k->via.str.ptr, k->via.str.size) == 0))
            fi++;
        if (fi == r->nfields) {
            char why[96];
            uint32_t n = k->via.str.size > 40 ? 40 : k->via.str.size;
            snprintf(why, sizeof why, "unknown field '%.*s'", (int)n, k->via.str.ptr);
            return dec_refuse(d, at, one_line(why));
        }
        path_t fp;
        path_field(&fp, at, r->fields[fi].name);
        if (seen & (1u << fi)) return dec_refuse(d, fp.buf, "given twice");
        seen |= 1u << fi;
        int rc = dec_field(d, &r->fields[fi], &o->via.map.ptr[i].val, rec, fp.buf);
        if (rc) return rc;
    }
    for (size_t fi = 0; fi < r->nfields; fi++) {
        if (seen & (1u << fi)) continue;
        if (r->fields[fi].required) {
            path_t fp;
            path_field(&fp, at, r->fields[fi].name);
            return dec_refuse(d, fp.buf, "required field missing");
        }
        set_absent(&r->fields[fi], rec);
    }
    const char *bad = r->check ? r->check(rec) : NULL;
    return bad ? dec_refuse(d, at, bad) : 0;
}

/* Check the version before anything else, so an older or newer peer is
 * told so rather than about a field it does not know. */
static int check_version(dec_t *d, const msgpack_object *o) {
    if (o->type != MSGPACK_OBJECT_MAP) return dec_refuse(d, "", "not a map (not a Gale peer?)");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        const msgpack_object *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 1 || k->via.str.ptr[0] != 'v')
            continue;
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == GALE_CTL_VERSION) return 0;
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            return gale__errf(
                d->err, d->errlen, GALE_EPROTO,
                "control protocol version %llu is not supported (this is version %d): "
                "run the same Gale version on every host",
                (unsigned long long)v->via.u64, GALE_CTL_VERSION);
        return dec_refuse(d, "v", kind_text(FK_U64));
    }
    return dec_refuse(d, "v", "required field missing");
}

int gale__ctl_decode(const void *hdr, size_t hlen, const void *body, size_t blen,
                     gale__ctl_msg_t *out, char *err, size_t errlen) {
    if (!out)
        return gale__errf(err, errlen, GALE_EINVAL, "control: decode called without a message");
    memset(out, 0, sizeof(*out));
    dec_t d = {out, "header", err, errlen};
    if (!hdr || hlen == 0) return dec_refuse(&d, "", "empty frame");
    if (hlen > GALE_CTL_MAX_HEADER) {
        char why[64];
        snprintf(why, sizeof why, "%zu bytes (at most %u)", hlen, GALE_CTL_MAX_HEADER);
        return dec_refuse(&d, "", why);
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(hdr, hlen, &u, "header", err, errlen);
    header_t h;
    if (!rc) rc = check_version(&d, &u.data);
    if (!rc) rc = dec_record(&d, &rec_header, &u.data, &h, "");
    gale__ctl_type_t type = GALE_CTL_NONE;
    if (!rc) {
        for (int t = GALE_CTL_NONE + 1; t < GALE_CTL__COUNT; t++)
            if (strcmp(types[t]->name, h.type) == 0) type = (gale__ctl_type_t)t;
        if (type == GALE_CTL_NONE) {
            char why[96];
            snprintf(why, sizeof why, "unknown message type '%.40s'", h.type);
            rc = dec_refuse(&d, "", one_line(why));
        }
    }
    msgpack_unpacked_destroy(&u);
    if (rc) {
        gale__ctl_msg_destroy(out);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    /* From here the refusal can be answered: keep type and req. */
    out->type = type;
    out->req = h.req;
    d.type = types[type]->name;

    msgpack_unpacked_init(&u);
    if (!body || blen == 0) {
        rc = dec_refuse(&d, "", "empty body frame");
    } else if (blen > GALE_CTL_MAX_BODY) {
        char why[64];
        snprintf(why, sizeof why, "body of %zu bytes (at most %u)", blen, GALE_CTL_MAX_BODY);
        rc = dec_refuse(&d, "", why);
    } else {
        char what[64];
        snprintf(what, sizeof what, "%s body", d.type);
        rc = gale__msgpack_unpack_whole(body, blen, &u, what, err, errlen);
        if (!rc) rc = dec_record(&d, types[type], &u.data, &out->u, "");
    }
    msgpack_unpacked_destroy(&u);
    if (rc) {
        gale__ctl_msg_destroy(out);
        memset(&out->u, 0, sizeof(out->u));
    }
    return rc;
}

void gale__ctl_msg_destroy(gale__ctl_msg_t *m) {
    if (!m) return;
    while (m->mem) {
        struct gale__ctl_block *b = m->mem;
        m->mem = b->next;
        gale_conf_destroy(b->conf);
        free(b);
    }
}

/* ------------------------------------------------------------------ */
/* One assignment record alone (nimbus's store)                        */
/* ------------------------------------------------------------------ */

/* Nimbus stores each topology's assignment as one topology_assignment
 * record, encoded and decoded by the same table as inside
 * assignment_reply, so what it reads back after a restart is checked as
 * strictly as anything off the wire. (The per-worker assignment file is
 * a whole message: common/assignment.h.) */
int gale__ctl_assignment_encode(msgpack_sbuffer *out, const gale__ctl_topology_assignment_t *a,
                                char *err, size_t errlen) {
    if (!out || !a)
        return gale__errf(err, errlen, GALE_EINVAL, "assignment: encode with bad arguments");
    msgpack_sbuffer_clear(out);
    enc_t e = {.type = "assignment", .err = err, .errlen = errlen};
    msgpack_packer_init(&e.pk, out, msgpack_sbuffer_write);
    int rc = enc_record(&e, &rec_topology_assignment, a, "");
    return rc == GALE_ENOMEM ? gale__errf(err, errlen, rc, "assignment: out of memory") : rc;
}

int gale__ctl_assignment_decode(const void *buf, size_t len, gale__ctl_assignment_file_t *out,
                                char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    gale__ctl_msg_t holder;
    memset(&holder, 0, sizeof holder);
    dec_t d = {&holder, "assignment", err, errlen};
    if (!buf || len == 0) return dec_refuse(&d, "", "empty");
    if (len > GALE_CTL_MAX_BODY) return dec_refuse(&d, "", "larger than a control body");
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "assignment", err, errlen);
    if (!rc) rc = dec_record(&d, &rec_topology_assignment, &u.data, &out->a, "");
    msgpack_unpacked_destroy(&u);
    out->mem = holder.mem;
    if (rc) gale__ctl_assignment_file_free(out);
    return rc;
}

void gale__ctl_assignment_file_free(gale__ctl_assignment_file_t *f) {
    if (!f) return;
    gale__ctl_msg_t holder = {.mem = f->mem};
    gale__ctl_msg_destroy(&holder);
    memset(f, 0, sizeof(*f));
}
