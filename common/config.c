/*
 * config.c — the one table of Gale's configuration keys and everything it
 * drives: defaults, YAML files (libyaml), `-c key=value`, validation, the
 * unknown-key hints, `gale conf --list`, CONFIGURATION.md and the msgpack
 * form of a conf.
 *
 * Every source of settings goes through the same two steps: convert the
 * text into a typed scratch conf (known keys by the table's type, user keys
 * by YAML scalar inference), then validate that scratch conf and only then
 * merge it into the caller's. So a file or option with an error changes
 * nothing, and every error is reported by the same checks, with the same
 * one-line wording, whether the conf came from YAML, -c or code.
 *
 * All functions are thread-safe: the table is constant and all other state
 * lives on the stack or in the caller's objects.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "common/config.h"
#include "common/log.h"
#include "common/text.h"
#include "common/value.h"

#define NO_BOUNDS 0, 0

const gale_conf_key_t gale__conf_keys[] = {
    {GALE_CONF_NIMBUS_SEEDS, GALE_CT_STR_LIST, "[\"localhost\"]", NO_BOUNDS, NULL,
     GALE_SCOPE_CLUSTER, "Hosts where nimbus may run; the CLI and supervisors try them in order."},
    {GALE_CONF_NIMBUS_PORT, GALE_CT_INT, "6627", 0, 65535, NULL, GALE_SCOPE_CLUSTER,
     "Port of nimbus's ZeroMQ ROUTER socket (the CLI and supervisors connect to it); "
     "0 = any free port."},
    {GALE_CONF_SUPERVISOR_SLOTS_PORTS, GALE_CT_INT_LIST, "[6700, 6701, 6702, 6703]", 1, 65535, NULL,
     GALE_SCOPE_CLUSTER, "Worker slots of a supervisor: one worker process per port."},
    {GALE_CONF_LOCAL_DIR, GALE_CT_STR, "gale-local", NO_BOUNDS, NULL, GALE_SCOPE_CLUSTER,
     "Directory where the daemons keep their state (topologies, code, assignments)."},
    {GALE_CONF_LOG_DIR, GALE_CT_STR, "logs", NO_BOUNDS, NULL, GALE_SCOPE_CLUSTER,
     "Directory of daemon logs and of workers-artifacts/<topology-id>/<port>/worker.log."},
    {GALE_CONF_LOCAL_HOSTNAME, GALE_CT_STR, NULL, NO_BOUNDS, NULL, GALE_SCOPE_CLUSTER,
     "Address a supervisor advertises to nimbus and its workers bind their data sockets on; "
     "unset = this host's name."},
    {GALE_CONF_LOGVIEWER_PORT, GALE_CT_INT, "8000", 0, 65535, NULL, GALE_SCOPE_CLUSTER,
     "HTTP port where a supervisor serves its workers' log files; 0 = any free port."},
    {GALE_CONF_UI_PORT, GALE_CT_INT, "8080", 0, 65535, NULL, GALE_SCOPE_CLUSTER,
     "HTTP port of `gale ui` (REST API, /metrics); 0 = any free port, written to "
     "<gale.local.dir>/ui.port."},
    {GALE_CONF_UI_HOST, GALE_CT_STR, "127.0.0.1", NO_BOUNDS, NULL, GALE_SCOPE_CLUSTER,
     "Address `gale ui` binds (loopback by default; 0.0.0.0 = every interface)."},
    {GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS, GALE_CT_INT, "1", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER, "Seconds between a worker's heartbeats to its supervisor."},
    {GALE_CONF_SUPERVISOR_HEARTBEAT_FREQUENCY_SECS, GALE_CT_INT, "5", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER, "Seconds between a supervisor's heartbeats to nimbus."},
    {GALE_CONF_SUPERVISOR_MONITOR_FREQUENCY_SECS, GALE_CT_INT, "3", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER,
     "Seconds between a supervisor's checks of its workers and of its assignments."},
    {GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS, GALE_CT_INT, "30", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER,
     "Seconds a worker's heartbeat may be late (past worker.heartbeat.frequency.secs) before its "
     "supervisor restarts it; a worker whose heartbeat goes unanswered this long exits."},
    {GALE_CONF_SUPERVISOR_WORKER_START_TIMEOUT_SECS, GALE_CT_INT, "120", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER,
     "Seconds a newly started worker may take to send its first heartbeat before its "
     "supervisor restarts it."},
    {GALE_CONF_SUPERVISOR_WORKER_SHUTDOWN_SLEEP_SECS, GALE_CT_INT, "3", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER,
     "Seconds a supervisor waits after SIGTERM before it sends SIGKILL to a worker it stops."},
    {GALE_CONF_NIMBUS_SUPERVISOR_TIMEOUT_SECS, GALE_CT_INT, "60", 1, 86400, NULL,
     GALE_SCOPE_CLUSTER,
     "Seconds without a heartbeat after which nimbus considers a supervisor dead and moves "
     "its workers."},
    {GALE_CONF_NIMBUS_TASK_TIMEOUT_SECS, GALE_CT_INT, "30", 1, 86400, NULL, GALE_SCOPE_CLUSTER,
     "Seconds without a worker heartbeat (reported by its supervisor) after which nimbus "
     "moves that worker's executors."},
    {GALE_CONF_NIMBUS_MONITOR_FREQ_SECS, GALE_CT_INT, "10", 1, 86400, NULL, GALE_SCOPE_CLUSTER,
     "Seconds between nimbus's checks of heartbeats and assignments."},
    {GALE_CONF_NIMBUS_TASK_LAUNCH_SECS, GALE_CT_INT, "120", 1, 86400, NULL, GALE_SCOPE_CLUSTER,
     "Seconds a newly assigned worker may take to send its first heartbeat before nimbus "
     "moves its executors."},
    /* Storm sets these in log4j2/worker.xml (100 MB, 9 old files); Gale has
     * no log4j, so they are keys. */
    {GALE_CONF_WORKER_LOG_MAX_BYTES, GALE_CT_INT, "104857600", 1024, 1e15, NULL, GALE_SCOPE_CLUSTER,
     "Size in bytes at which worker.log is rolled to worker.log.1 (older files shift up)."},
    {GALE_CONF_WORKER_LOG_MAX_FILES, GALE_CT_INT, "10", 0, 1000, NULL, GALE_SCOPE_CLUSTER,
     "Rolled worker log files kept beside worker.log (worker.log.1 is the newest); "
     "0 = none (worker.log restarts empty)."},
    {GALE_CONF_LOG_LEVEL, GALE_CT_STR, "info", NO_BOUNDS, "debug|info|warn|error",
     GALE_SCOPE_TOPOLOGY,
     "Lowest level of the log lines written (by workers, gale local and, given to them, the "
     "daemons; GALE_LOG_LEVEL in the environment comes before gale.yaml's for a daemon)."},
    {GALE_CONF_FILE_MAX_LINE_BYTES, GALE_CT_INT, "1048576", 16, 1073741824, NULL,
     GALE_SCOPE_COMPONENT,
     "Longest line the file spout reads, in bytes; a longer line stops the run with an error "
     "naming the file and line."},
    {GALE_CONF_TOPOLOGY_WORKERS, GALE_CT_INT, "1", 1, 1024, NULL, GALE_SCOPE_TOPOLOGY,
     "Worker processes the topology runs in."},
    {GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, GALE_CT_INT, NULL, 0, 1024, NULL, GALE_SCOPE_TOPOLOGY,
     "Acker executors; unset = one per worker; 0 = ack at emit (no tuple tree tracking)."},
    {GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, GALE_CT_INT, "30", 1, 86400, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Seconds a spout tuple's tree may take to complete before the spout's fail() runs."},
    {GALE_CONF_TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS, GALE_CT_BOOL, "true", NO_BOUNDS, NULL,
     GALE_SCOPE_TOPOLOGY, "Fail tuple trees that do not complete within the message timeout."},
    {GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, GALE_CT_INT, NULL, 1, 10000000, NULL,
     GALE_SCOPE_COMPONENT,
     "Most tuple trees in flight (not yet acked or failed) per spout task; unset = unbounded. "
     "In the micro-batch layer: most batches in flight; unset = 1."},
    {GALE_CONF_TOPOLOGY_TRIDENT_BATCH_EMIT_INTERVAL_MILLIS, GALE_CT_INT, "500", 0, 3600000, NULL,
     GALE_SCOPE_TOPOLOGY, "Milliseconds between two new batches of the micro-batch coordinator."},
    {GALE_CONF_TRIDENT_FILE_BATCH_LINES, GALE_CT_INT, "1000", 1, 10000000, NULL,
     GALE_SCOPE_COMPONENT, "Lines per batch and partition of the built-in file batch spouts."},
    /* the Redis stream batch spout (trident/redis_stream_spout.c) */
    {GALE_CONF_TRIDENT_REDIS_STREAM_KEY, GALE_CT_STR, NULL, NO_BOUNDS, NULL, GALE_SCOPE_COMPONENT,
     "Stream key of the Redis stream batch spout (required on it); one key per partition, "
     "comma-separated."},
    {GALE_CONF_TRIDENT_REDIS_STREAM_FIELDS, GALE_CT_STR, NULL, NO_BOUNDS, NULL,
     GALE_SCOPE_COMPONENT,
     "Entry fields the Redis stream batch spout emits, comma-separated, one per output field; "
     "unset = the output fields' names."},
    {GALE_CONF_TRIDENT_REDIS_STREAM_BATCH_ENTRIES, GALE_CT_INT, "1000", 1, 10000000, NULL,
     GALE_SCOPE_COMPONENT,
     "Stream entries per batch and partition of the Redis stream batch spout."},
    {GALE_CONF_TRIDENT_REDIS_STREAM_UNTIL_EMPTY, GALE_CT_BOOL, "false", NO_BOUNDS, NULL,
     GALE_SCOPE_COMPONENT,
     "The Redis stream batch spout is done at the first read that returns nothing (a bounded "
     "run); false = never done (streaming)."},
    {GALE_CONF_TOPOLOGY_DEBUG, GALE_CT_BOOL, "false", NO_BOUNDS, NULL, GALE_SCOPE_COMPONENT,
     "Log every tuple emitted."},
    {GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS, GALE_CT_INT, NULL, 1, 86400, NULL,
     GALE_SCOPE_COMPONENT,
     "Send the component a tick tuple (stream __tick) every N seconds; "
     "unset = no ticks."},
    {GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, GALE_CT_DOUBLE, "0.05", 0, 1, NULL, GALE_SCOPE_TOPOLOGY,
     "Fraction of tuples whose latencies are sampled for the stats."},
    {GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, GALE_CT_INT, "32768", 16, 1048576, NULL,
     GALE_SCOPE_COMPONENT, "Slots of an executor's receive queue; must be a power of two."},
    {GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BYTES, GALE_CT_INT, "67108864", 65536, 1099511627776LL,
     NULL, GALE_SCOPE_COMPONENT,
     "Most bytes of tuples queued for an executor, and in each worker's transfer lane to it; "
     "other workers share it for the bytes they have in flight to it. A full queue throttles "
     "its producers; one tuple larger than this still passes. Tuples of up to 256 bytes are "
     "bounded by topology.executor.receive.buffer.size instead (at most 256 bytes a slot)."},
    {GALE_CONF_TOPOLOGY_TRANSFER_BUFFER_SIZE, GALE_CT_INT, "32768", 16, 1048576, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Most slots of a worker's transfer lane to one executor of another worker (a lane holds "
     "a credit window's worth and is made on first use); must be a power of two."},
    {GALE_CONF_TOPOLOGY_PRODUCER_BATCH_SIZE, GALE_CT_INT, "64", 1, 4096, NULL, GALE_SCOPE_TOPOLOGY,
     "Tuples a producer batches before publishing them to a local queue."},
    {GALE_CONF_TOPOLOGY_TRANSFER_BATCH_SIZE, GALE_CT_INT, "256", 1, 65536, NULL,
     GALE_SCOPE_TOPOLOGY, "Most tuples in one ZeroMQ message to another worker."},
    {GALE_CONF_TOPOLOGY_BATCH_FLUSH_INTERVAL_MICROS, GALE_CT_INT, "1000", 1, 10000000, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Longest time a partial batch waits before it is flushed, in microseconds."},
    {GALE_CONF_TOPOLOGY_SPOUT_WAIT_MAX_MICROS, GALE_CT_INT, "1000", 0, 1000000, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Longest sleep of an idle spout's progressive backoff, in microseconds: an idle spout is "
     "polled about this often (0: never sleeps)."},
    {GALE_CONF_TOPOLOGY_REPLY_SPIN_MICROS, GALE_CT_INT, "50", 0, 1000000, NULL, GALE_SCOPE_TOPOLOGY,
     "How long a spout with tuples in flight, or an acker with trees open across workers, keeps "
     "polling for the acks due before it sleeps, in microseconds: a shorter complete latency at "
     "low rates for a little CPU (0: sleep at once; the wake then adds the scheduler's "
     "latency)."},
    {GALE_CONF_TOPOLOGY_BOLT_WAIT_SPIN_MICROS, GALE_CT_INT, "0", 0, 1000000, NULL,
     GALE_SCOPE_TOPOLOGY,
     "How long an idle bolt or acker keeps polling its queue after its last tuple before it "
     "sleeps, in microseconds, yielding the CPU between polls: above the gap between tuples "
     "(100 at 10 k tuples/s) it never sleeps and no hop waits for a wake-up, for up to a core "
     "per executor, mostly kernel time in sched_yield; whether that beats a packed worker's "
     "context switches depends on how fast the machine's idle CPUs wake: measure it "
     "(0: sleep after a few polls). A tick tuple counts as a tuple: with ticks more often than "
     "this, the bolt never sleeps."},
    {GALE_CONF_TOPOLOGY_WORKER_PACK_CORES, GALE_CT_DOUBLE, "0.5", 0, 0.8, NULL, GALE_SCOPE_TOPOLOGY,
     "While the threads of a worker process (or of gale local) use less than this many cores "
     "for a second, they all run on one CPU: a hop between executors is then a context switch "
     "instead of waking an idle CPU, which on a virtual machine costs 10 us or more; they spread "
     "again when that CPU is 85 % busy, and pack again 10-15 s later at the earliest (0: never "
     "pack)."},
    {GALE_CONF_TOPOLOGY_TRANSFER_HWM, GALE_CT_INT, "1024", 1, 1000000, NULL, GALE_SCOPE_TOPOLOGY,
     "ZeroMQ high-water mark between two workers, in batches."},
    {GALE_CONF_REDIS_HOST, GALE_CT_STR, "127.0.0.1", NO_BOUNDS, NULL, GALE_SCOPE_TOPOLOGY,
     "Host of the redis-server that keeps micro-batch state and coordinator progress."},
    {GALE_CONF_REDIS_PORT, GALE_CT_INT, "6379", 1, 65535, NULL, GALE_SCOPE_TOPOLOGY,
     "Port of that redis-server."},
    {GALE_CONF_REDIS_DB, GALE_CT_INT, "0", 0, 1000000, NULL, GALE_SCOPE_TOPOLOGY,
     "Redis database number (SELECT) for state and coordinator keys."},
    {GALE_CONF_REDIS_PASSWORD, GALE_CT_STR, NULL, NO_BOUNDS, NULL, GALE_SCOPE_TOPOLOGY,
     "Password for Redis AUTH; unset = no AUTH."},
    {GALE_CONF_REDIS_CONNECT_TIMEOUT_MILLIS, GALE_CT_INT, "2000", 1, 600000, NULL,
     GALE_SCOPE_TOPOLOGY, "Milliseconds a connection attempt to Redis may take."},
    {GALE_CONF_REDIS_COMMAND_TIMEOUT_MILLIS, GALE_CT_INT, "5000", 1, 600000, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Milliseconds one Redis command may take before the connection is dropped and retried."},
    /* DRPC (drpc/): Storm's names and defaults. The servers and the
     * invocations port are topology keys too: the DRPC spout and the
     * return-results bolt read them from the topology's conf. */
    {GALE_CONF_DRPC_SERVERS, GALE_CT_STR_LIST, "[\"localhost\"]", NO_BOUNDS, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Hosts running 'gale drpc-server': DRPC spouts poll all of them, 'gale drpc' asks the first."},
    {GALE_CONF_DRPC_PORT, GALE_CT_INT, "3772", 0, 65535, NULL, GALE_SCOPE_CLUSTER,
     "Port where the DRPC server takes clients' requests ('gale drpc'); 0 = any free port, "
     "written to <gale.local.dir>/drpc.port."},
    {GALE_CONF_DRPC_INVOCATIONS_PORT, GALE_CT_INT, "3773", 0, 65535, NULL, GALE_SCOPE_TOPOLOGY,
     "Port where DRPC spouts fetch requests and bolts return results; 0 = any free port, "
     "written to <gale.local.dir>/drpc.invocations.port."},
    {GALE_CONF_DRPC_HTTP_PORT, GALE_CT_INT, "3774", 0, 65535, NULL, GALE_SCOPE_CLUSTER,
     "HTTP port of the DRPC server (GET /drpc/FUNCTION/ARGS, POST /drpc/FUNCTION); 0 = any "
     "free port, written to <gale.local.dir>/drpc.http.port."},
    {GALE_CONF_DRPC_REQUEST_TIMEOUT_SECS, GALE_CT_INT, "600", 1, 86400, NULL, GALE_SCOPE_CLUSTER,
     "Seconds a DRPC request waits for its result before the client gets a timeout error."},
    {GALE_CONF_DRPC_MAX_PENDING, GALE_CT_INT, "10000", 1, 1000000, NULL, GALE_SCOPE_CLUSTER,
     "Most DRPC requests waiting at once in one server (all functions, HTTP included); "
     "more are refused at once."},
    {GALE_CONF_DRPC_FUNCTION, GALE_CT_STR, NULL, NO_BOUNDS, NULL, GALE_SCOPE_COMPONENT,
     "The DRPC function a gale_drpc_spout serves (required on that spout)."},
    {GALE_CONF_TOPOLOGY_TRIDENT_STATE_CACHE_SIZE, GALE_CT_INT, "1000", 0, 100000000, NULL,
     GALE_SCOPE_TOPOLOGY,
     "Entries a micro-batch state partition keeps in its local cache of the values it last "
     "read or wrote (least recently used dropped first); 0 = no cache."},
};

const size_t gale__conf_nkeys = sizeof(gale__conf_keys) / sizeof(gale__conf_keys[0]);

/*
 * Ring buffers index with a mask, so these sizes must be powers of two. The
 * table row has no flag for it (config.h is fixed), hence this short list.
 */
static const char *const pow2_keys[] = {
    GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE,
    GALE_CONF_TOPOLOGY_TRANSFER_BUFFER_SIZE,
};

/* Keys under these prefixes belong to Gale: a typo there is worth a hint. */
static const char *const gale_namespaces[] = {"topology.",   "gale.",   "nimbus.",
                                              "supervisor.", "worker.", "logviewer.",
                                              "ui.",         "redis.",  "drpc."};

/* Storm keys Gale names otherwise: a Storm user's storm.yaml habit gets
 * the hint it needs, where the nearest spelling would mislead (nimbus.host
 * is nearest to nimbus.port). */
static const char *const storm_renamed[][2] = {
    {"nimbus.host", GALE_CONF_NIMBUS_SEEDS},
    {"storm.local.dir", GALE_CONF_LOCAL_DIR},
    {"storm.log.dir", GALE_CONF_LOG_DIR},
    {"storm.local.hostname", GALE_CONF_LOCAL_HOSTNAME},
};

static const char *storm_rename(const char *name) {
    for (size_t i = 0; i < sizeof storm_renamed / sizeof storm_renamed[0]; i++)
        if (strcmp(name, storm_renamed[i][0]) == 0) return storm_renamed[i][1];
    return NULL;
}

/* Aliases can make a small YAML file expand exponentially ("billion laughs"). */
#define YAML_NODE_BUDGET 100000
/* A config file is small; refuse to read something absurd into memory. */
#define YAML_MAX_FILE (16u << 20)

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static bool needs_pow2(const gale_conf_key_t *row) {
    for (size_t i = 0; i < sizeof(pow2_keys) / sizeof(pow2_keys[0]); i++)
        if (strcmp(row->name, pow2_keys[i]) == 0) return true;
    return false;
}

static bool in_gale_namespace(const char *name) {
    if (storm_rename(name)) return true; /* worth the same hint */
    for (size_t i = 0; i < sizeof(gale_namespaces) / sizeof(gale_namespaces[0]); i++)
        if (strncmp(name, gale_namespaces[i], strlen(gale_namespaces[i])) == 0) return true;
    return false;
}

/* Bounded text builder: output is truncated, never overflows. */
typedef struct sbuf {
    char *buf;
    size_t cap, len;
} sbuf_t;

static void sb_printf(sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *sb, const char *fmt, ...) {
    if (sb->len + 1 >= sb->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb->len += (size_t)n;
    if (sb->len >= sb->cap) sb->len = sb->cap - 1;
}

static void fmt_double(char *buf, size_t cap, double d) {
    snprintf(buf, cap, "%g", d);
    /* Keep "1.0" looking like a double, not like the int 1. */
    if (!strpbrk(buf, ".eEni")) strncat(buf, ".0", cap - strlen(buf) - 1);
}

/* A value as a user would write it, for messages: strings quoted. */
static void fmt_value(sbuf_t *sb, const gale_value_t *v, int depth) {
    char num[64];
    switch (v->type) {
        case GALE_T_NIL:
            sb_printf(sb, "null");
            break;
        case GALE_T_BOOL:
            sb_printf(sb, "%s", v->u.b ? "true" : "false");
            break;
        case GALE_T_INT:
            sb_printf(sb, "%lld", (long long)v->u.i);
            break;
        case GALE_T_DOUBLE:
            fmt_double(num, sizeof(num), v->u.d);
            sb_printf(sb, "%s", num);
            break;
        case GALE_T_STR: {
            sb_printf(sb, "\"");
            uint32_t shown = v->len > 60 ? 60 : v->len;
            for (uint32_t i = 0; i < shown; i++) {
                unsigned char ch = (unsigned char)v->u.s[i];
                sb_printf(sb, "%c", ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
            }
            sb_printf(sb, "%s\"", shown < v->len ? "..." : "");
            break;
        }
        case GALE_T_BYTES:
            sb_printf(sb, "<%u bytes>", (unsigned)v->len);
            break;
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            bool map = v->type == GALE_T_MAP;
            if (depth > 3) {
                sb_printf(sb, map ? "{...}" : "[...]");
                break;
            }
            sb_printf(sb, map ? "{" : "[");
            for (uint32_t i = 0; i < v->len; i++) {
                if (i == 8) {
                    sb_printf(sb, ", ...");
                    break;
                }
                if (i) sb_printf(sb, ", ");
                if (map) {
                    fmt_value(sb, &v->u.a[2 * i], depth + 1);
                    sb_printf(sb, ": ");
                    fmt_value(sb, &v->u.a[2 * i + 1], depth + 1);
                } else {
                    fmt_value(sb, &v->u.a[i], depth + 1);
                }
            }
            sb_printf(sb, map ? "}" : "]");
            break;
        }
        default:
            sb_printf(sb, "<bad type %u>", (unsigned)v->type);
            break;
    }
}

/* ------------------------------------------------------------------ */
/* The table                                                            */
/* ------------------------------------------------------------------ */

const gale_conf_key_t *gale__conf_key_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < gale__conf_nkeys; i++)
        if (strcmp(gale__conf_keys[i].name, name) == 0) return &gale__conf_keys[i];
    return NULL;
}

const char *gale__conf_nearest_key(const char *name) {
    if (!name) return NULL;
    const char *best = storm_rename(name);
    if (best) return best;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        size_t d = gale__edit_distance(name, gale__conf_keys[i].name);
        if (d < best_d) { /* ties: the first in table order */
            best_d = d;
            best = gale__conf_keys[i].name;
        }
    }
    return best;
}

/* ------------------------------------------------------------------ */
/* Scalars: YAML 1.1-ish inference and conversion by the table's type   */
/* ------------------------------------------------------------------ */

typedef struct scalar {
    const char *s; /* NUL-terminated by libyaml, but may hold NULs: use n */
    size_t n;
    bool plain; /* unquoted: subject to inference */
} scalar_t;

static bool word_is(const scalar_t *sc, const char *const *words) {
    for (; *words; words++)
        if (strlen(*words) == sc->n && memcmp(*words, sc->s, sc->n) == 0) return true;
    return false;
}

static bool is_null(const scalar_t *sc) {
    static const char *const w[] = {"", "~", "null", "Null", "NULL", NULL};
    return sc->plain && word_is(sc, w);
}

static bool parse_int(const scalar_t *sc, int64_t *out) {
    char buf[32];
    if (sc->n == 0 || sc->n >= sizeof(buf)) return false;
    memcpy(buf, sc->s, sc->n);
    buf[sc->n] = '\0';
    size_t i = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
    if (!buf[i]) return false;
    for (size_t j = i; j < sc->n; j++)
        if (!isdigit((unsigned char)buf[j])) return false; /* also rejects NULs */
    errno = 0;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end) return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_double(const scalar_t *sc, double *out) {
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nan[] = {".nan", ".NaN", ".NAN", NULL};
    if (word_is(sc, inf)) return *out = INFINITY, true;
    if (word_is(sc, ninf)) return *out = -INFINITY, true;
    if (word_is(sc, nan)) return *out = NAN, true;
    char buf[64];
    if (sc->n == 0 || sc->n >= sizeof(buf)) return false;
    memcpy(buf, sc->s, sc->n);
    buf[sc->n] = '\0';
    /* Only decimal notation: strtod's "inf", "nan" and hex are strings here. */
    bool digit = false;
    for (size_t j = 0; j < sc->n; j++) {
        unsigned char ch = (unsigned char)buf[j];
        if (isdigit(ch))
            digit = true;
        else if (!strchr("+-.eE", ch))
            return false;
    }
    if (!digit) return false;
    errno = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end || errno == ERANGE) return false;
    *out = d;
    return true;
}

static bool parse_bool_strict(const scalar_t *sc, bool *out) {
    static const char *const t[] = {"true", "True", "TRUE", NULL};
    static const char *const f[] = {"false", "False", "FALSE", NULL};
    if (word_is(sc, t)) return *out = true, true;
    if (word_is(sc, f)) return *out = false, true;
    return false;
}

/* For BOOL keys: Storm's YAML accepts yes/no/on/off too. */
static bool parse_bool_word(const scalar_t *sc, bool *out) {
    static const char *const t[] = {"true", "yes", "on", NULL};
    static const char *const f[] = {"false", "no", "off", NULL};
    char buf[8];
    if (sc->n >= sizeof(buf)) return false;
    for (size_t i = 0; i < sc->n; i++) buf[i] = (char)tolower((unsigned char)sc->s[i]);
    scalar_t lower = {buf, sc->n, sc->plain};
    if (word_is(&lower, t)) return *out = true, true;
    if (word_is(&lower, f)) return *out = false, true;
    return false;
}

/* User keys: plain scalars are typed by their look, quoted ones are strings. */
static gale_value_t infer_scalar(const scalar_t *sc) {
    if (!sc->plain) return gale_strn(sc->s, sc->n);
    int64_t i;
    double d;
    bool b;
    if (is_null(sc)) return gale_nil();
    if (parse_bool_strict(sc, &b)) return gale_bool(b);
    if (parse_int(sc, &i)) return gale_int(i);
    if (parse_double(sc, &d)) return gale_double(d);
    return gale_strn(sc->s, sc->n);
}

/* Known keys: the table's type decides, whatever the quoting. */
static bool coerce_scalar(const gale_conf_key_t *row, gale_conf_type_t type, const scalar_t *sc,
                          gale_value_t *out) {
    /* `key: ~` on a key without a default means "leave it unset". */
    if (row->def == NULL && is_null(sc) && type == row->type) {
        *out = gale_nil();
        return true;
    }
    int64_t i;
    double d;
    bool b;
    switch (type) {
        case GALE_CT_INT:
            if (!parse_int(sc, &i)) return false;
            *out = gale_int(i);
            return true;
        case GALE_CT_DOUBLE:
            if (parse_int(sc, &i))
                d = (double)i;
            else if (!parse_double(sc, &d))
                return false;
            *out = gale_double(d);
            return true;
        case GALE_CT_BOOL:
            if (!parse_bool_word(sc, &b)) return false;
            *out = gale_bool(b);
            return true;
        case GALE_CT_STR:
            *out = gale_strn(sc->s, sc->n);
            return true;
        default:
            return false;
    }
}

/* ------------------------------------------------------------------ */
/* YAML nodes -> values                                                 */
/* ------------------------------------------------------------------ */

typedef struct yctx {
    yaml_document_t *doc;
    const char *origin; /* for messages */
    const char *key;    /* the key being converted */
    char *err;
    size_t errlen;
    size_t budget; /* nodes left (alias bombs) */
    /* Scratch arrays of converted values: freed after the conf copied them. */
    void **tmp;
    size_t ntmp, captmp;
} yctx_t;

static void *tmp_alloc(yctx_t *cx, size_t n, size_t size) {
    if (cx->ntmp == cx->captmp) {
        size_t cap = cx->captmp ? cx->captmp * 2 : 16;
        void **t = realloc(cx->tmp, cap * sizeof(*t));
        if (!t) return NULL;
        cx->tmp = t;
        cx->captmp = cap;
    }
    void *p = calloc(n ? n : 1, size);
    if (p) cx->tmp[cx->ntmp++] = p;
    return p;
}

static void tmp_free(yctx_t *cx) {
    for (size_t i = 0; i < cx->ntmp; i++) free(cx->tmp[i]);
    free(cx->tmp);
    cx->tmp = NULL;
    cx->ntmp = cx->captmp = 0;
}

static scalar_t node_scalar(const yaml_node_t *node) {
    scalar_t sc = {(const char *)node->data.scalar.value, node->data.scalar.length,
                   node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE};
    return sc;
}

static int node_infer(yctx_t *cx, yaml_node_t *node, int depth, gale_value_t *out) {
    if (!node)
        return gale__errf(cx->err, cx->errlen, GALE_EINVAL, "%s: broken YAML node", cx->origin);
    if (cx->budget == 0)
        return gale__errf(cx->err, cx->errlen, GALE_ERANGE,
                          "%s: value of '%s' is too large (more than %d YAML nodes; aliases?)",
                          cx->origin, cx->key, YAML_NODE_BUDGET);
    cx->budget--;
    if (depth > GALE__VALUE_MAX_DEPTH)
        return gale__errf(cx->err, cx->errlen, GALE_ERANGE,
                          "%s: value of '%s' nests deeper than %d levels: flatten it", cx->origin,
                          cx->key, GALE__VALUE_MAX_DEPTH);
    switch (node->type) {
        case YAML_SCALAR_NODE: {
            scalar_t sc = node_scalar(node);
            *out = infer_scalar(&sc);
            return 0;
        }
        case YAML_SEQUENCE_NODE: {
            yaml_node_item_t *it = node->data.sequence.items.start;
            size_t n = (size_t)(node->data.sequence.items.top - it);
            if (n > UINT32_MAX) return GALE_ERANGE;
            gale_value_t *arr = tmp_alloc(cx, n, sizeof(*arr));
            if (!arr) return GALE_ENOMEM;
            for (size_t i = 0; i < n; i++) {
                int rc = node_infer(cx, yaml_document_get_node(cx->doc, it[i]), depth + 1, &arr[i]);
                if (rc) return rc;
            }
            *out = gale_array(arr, n);
            return 0;
        }
        case YAML_MAPPING_NODE: {
            yaml_node_pair_t *p = node->data.mapping.pairs.start;
            size_t n = (size_t)(node->data.mapping.pairs.top - p);
            if (n > UINT32_MAX / 2) return GALE_ERANGE;
            gale_value_t *kv = tmp_alloc(cx, 2 * n, sizeof(*kv));
            if (!kv) return GALE_ENOMEM;
            for (size_t i = 0; i < n; i++) {
                int rc = node_infer(cx, yaml_document_get_node(cx->doc, p[i].key), depth + 1,
                                    &kv[2 * i]);
                if (!rc)
                    rc = node_infer(cx, yaml_document_get_node(cx->doc, p[i].value), depth + 1,
                                    &kv[2 * i + 1]);
                if (rc) return rc;
            }
            *out = gale_map(kv, n);
            return 0;
        }
        default:
            return gale__errf(cx->err, cx->errlen, GALE_EINVAL, "%s: empty YAML node", cx->origin);
    }
}

static const char *expected_text(gale_conf_type_t t) {
    switch (t) {
        case GALE_CT_INT:
            return "an integer";
        case GALE_CT_DOUBLE:
            return "a number";
        case GALE_CT_BOOL:
            return "true or false";
        case GALE_CT_STR:
            return "a string";
        case GALE_CT_INT_LIST:
            return "a list of integers, e.g. [1, 2]";
        case GALE_CT_STR_LIST:
            return "a list of strings, e.g. [a, b]";
    }
    return "?";
}

/* The unit a key's name ends in (Storm's naming: *.secs, *.micros, ...). */
static const char *unit_of(const char *key) {
    static const char *const units[][2] = {
        {".secs", " seconds"},        {".ms", " milliseconds"}, {".millis", " milliseconds"},
        {".micros", " microseconds"}, {".bytes", " bytes"},     {".mb", " MB"},
        {".cores", " cores"}};
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t k = strlen(units[i][0]);
        if (n > k && strcmp(key + n - k, units[i][0]) == 0) return units[i][1];
    }
    return "";
}

static int out_of_range(char *err, size_t errlen, const char *origin, const gale_conf_key_t *row,
                        const gale_value_t *v);

static int wrong_type(char *err, size_t errlen, const char *origin, const gale_conf_key_t *row,
                      const gale_value_t *shown) {
    /* an integer too large for 64 bits parses as a double: it is out of
     * range, not of the wrong type */
    if ((row->type == GALE_CT_INT || row->type == GALE_CT_INT_LIST) &&
        shown->type == GALE_T_DOUBLE && !(fabs(shown->u.d) < 9.2e18))
        return out_of_range(err, errlen, origin, row, shown);
    char text[160];
    sbuf_t sb = {text, sizeof(text), 0};
    text[0] = '\0';
    fmt_value(&sb, shown, 0);
    /* a number's default is the example of what fits (0 shows nothing) */
    bool number = row->type == GALE_CT_INT || row->type == GALE_CT_DOUBLE;
    bool example = number && row->def && strcmp(row->def, "0") != 0;
    const char *unit = number ? unit_of(row->name) : "";
    char expected[96];
    snprintf(expected, sizeof expected, "%s%s%s%s%s%s", expected_text(row->type), *unit ? " (" : "",
             *unit ? unit + 1 : "", *unit ? ")" : "", example ? ", e.g. " : "",
             example ? row->def : "");
    if (shown->type == GALE_T_NIL) /* `-c key=` or `key:` */
        return gale__errf(err, errlen, GALE_ETYPE, "%s: %s has no value: expected %s", origin,
                          row->name, expected);
    return gale__errf(err, errlen, GALE_ETYPE, "%s: %s = %s has the wrong type: expected %s",
                      origin, row->name, text, expected);
}

/*
 * Convert node (NULL: an empty plain scalar) for key into *out: by the table
 * type for known keys (row), by inference for user keys.
 */
static int convert_node(yctx_t *cx, const gale_conf_key_t *row, yaml_node_t *node,
                        gale_value_t *out) {
    static const scalar_t empty = {"", 0, true};
    if (!row) {
        if (!node) return *out = gale_nil(), 0;
        return node_infer(cx, node, 0, out);
    }
    bool ok = false;
    if (row->type == GALE_CT_INT_LIST || row->type == GALE_CT_STR_LIST) {
        gale_conf_type_t elem = row->type == GALE_CT_INT_LIST ? GALE_CT_INT : GALE_CT_STR;
        if (!node) {
            ok = row->def == NULL; /* `key:` on an unset-by-default list */
            *out = gale_nil();
        } else if (node->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *it = node->data.sequence.items.start;
            size_t n = (size_t)(node->data.sequence.items.top - it);
            gale_value_t *arr = n <= UINT32_MAX ? tmp_alloc(cx, n, sizeof(*arr)) : NULL;
            if (!arr) return GALE_ENOMEM;
            ok = true;
            for (size_t i = 0; ok && i < n; i++) {
                yaml_node_t *item = yaml_document_get_node(cx->doc, it[i]);
                if (!item || item->type != YAML_SCALAR_NODE) {
                    ok = false;
                    break;
                }
                scalar_t sc = node_scalar(item);
                ok = coerce_scalar(row, elem, &sc, &arr[i]);
            }
            *out = gale_array(arr, n);
        } else if (node->type == YAML_SCALAR_NODE) {
            scalar_t sc = node_scalar(node);
            ok = coerce_scalar(row, row->type, &sc, out); /* only null passes */
        }
    } else if (!node || node->type == YAML_SCALAR_NODE) {
        scalar_t sc = node ? node_scalar(node) : empty;
        ok = coerce_scalar(row, row->type, &sc, out);
    }
    if (ok) return 0;
    gale_value_t shown = gale_nil();
    if (node) {
        int rc = node_infer(cx, node, 0, &shown);
        if (rc) return rc;
    }
    return wrong_type(cx->err, cx->errlen, cx->origin, row, &shown);
}

/* text (len bytes) is the parsed input: a tab where the error is gets a
 * hint, since libyaml's wording ("cannot start any token") never says so. */
static int yaml_syntax_error(const yaml_parser_t *p, const char *text, size_t len,
                             const char *where, char *err, size_t errlen) {
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_MEMORY_ERROR) return GALE_ENOMEM;
    if (p->error == YAML_READER_ERROR)
        return gale__errf(err, errlen, GALE_EINVAL, "%s: YAML syntax error: %s (at byte %zu)",
                          where, problem, p->problem_offset);
    size_t at = p->problem_mark.index;
    bool tab = strstr(problem, "tab") || (at < len && text[at] == '\t');
    return gale__errf(err, errlen, GALE_EINVAL, "%s:%zu:%zu: YAML syntax error: %s%s", where,
                      p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
                      tab ? " (a tab: YAML indents with spaces, never tabs)" : "");
}

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return gale__errf(err, errlen, errno == ENOENT ? GALE_ENOENT : GALE_EIO,
                          "%s: cannot read: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    int rc = 0;
    while (b) {
        if (n == cap) {
            if (cap >= YAML_MAX_FILE) {
                rc = gale__errf(err, errlen, GALE_ERANGE, "%s: cannot read: larger than %u bytes",
                                path, YAML_MAX_FILE);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) break;
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) /* e.g. EISDIR: fopen of a directory succeeds */
                rc =
                    gale__errf(err, errlen, GALE_EIO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!b) return gale__errf(err, errlen, GALE_ENOMEM, "%s: cannot read: out of memory", path);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */
/* ------------------------------------------------------------------ */

static bool allowed_has(const char *allowed, const char *s, size_t n) {
    for (const char *p = allowed; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncasecmp(p, s, n) == 0) return true; /* INFO = info */
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static void fmt_bound(char *buf, size_t cap, gale_conf_type_t t, double x) {
    if (t == GALE_CT_DOUBLE)
        snprintf(buf, cap, "%g", x);
    else
        snprintf(buf, cap, "%lld", (long long)x);
}

static int out_of_range(char *err, size_t errlen, const char *origin, const gale_conf_key_t *row,
                        const gale_value_t *v) {
    char text[160], lo[32], hi[32];
    sbuf_t sb = {text, sizeof(text), 0};
    text[0] = '\0';
    fmt_value(&sb, v, 0);
    fmt_bound(lo, sizeof(lo), row->type, row->min);
    fmt_bound(hi, sizeof(hi), row->type, row->max);
    return gale__errf(err, errlen, GALE_ERANGE, "%s: %s = %s is out of range: allowed %s..%s%s",
                      origin, row->name, text, lo, hi, unit_of(row->name));
}

static bool int_in_range(const gale_conf_key_t *row, int64_t i) {
    return (double)i >= row->min && (double)i <= row->max;
}

static int check_value(const gale_conf_key_t *row, const gale_value_t *v, const char *origin,
                       char *err, size_t errlen) {
    if (v->type == GALE_T_NIL && row->def == NULL) return 0; /* explicitly unset */
    switch (row->type) {
        case GALE_CT_INT:
            if (v->type != GALE_T_INT) break;
            if (!int_in_range(row, v->u.i)) return out_of_range(err, errlen, origin, row, v);
            if (needs_pow2(row) && (v->u.i & (v->u.i - 1)) != 0) {
                int64_t p = 1;
                while (p < v->u.i) p <<= 1;
                return gale__errf(err, errlen, GALE_EINVAL,
                                  "%s: %s = %lld is not a power of two: use e.g. %lld", origin,
                                  row->name, (long long)v->u.i, (long long)p);
            }
            return 0;
        case GALE_CT_DOUBLE: {
            if (v->type != GALE_T_DOUBLE && v->type != GALE_T_INT) break;
            double d = v->type == GALE_T_INT ? (double)v->u.i : v->u.d;
            /* Written so that NaN is out of range too. */
            if (!(d >= row->min && d <= row->max)) return out_of_range(err, errlen, origin, row, v);
            return 0;
        }
        case GALE_CT_BOOL:
            if (v->type != GALE_T_BOOL) break;
            return 0;
        case GALE_CT_STR:
            if (v->type != GALE_T_STR) break;
            if (row->allowed && !allowed_has(row->allowed, v->u.s, v->len)) {
                char text[160];
                sbuf_t sb = {text, sizeof(text), 0};
                text[0] = '\0';
                fmt_value(&sb, v, 0);
                return gale__errf(err, errlen, GALE_EINVAL,
                                  "%s: %s = %s is not allowed: use one of %s", origin, row->name,
                                  text, row->allowed);
            }
            return 0;
        case GALE_CT_INT_LIST:
            if (v->type != GALE_T_ARRAY) break;
            for (uint32_t i = 0; i < v->len; i++)
                if (v->u.a[i].type != GALE_T_INT) return wrong_type(err, errlen, origin, row, v);
            for (uint32_t i = 0; i < v->len; i++)
                if (!int_in_range(row, v->u.a[i].u.i))
                    return out_of_range(err, errlen, origin, row, v);
            return 0;
        case GALE_CT_STR_LIST:
            if (v->type != GALE_T_ARRAY) break;
            for (uint32_t i = 0; i < v->len; i++)
                if (v->u.a[i].type != GALE_T_STR) return wrong_type(err, errlen, origin, row, v);
            return 0;
    }
    return wrong_type(err, errlen, origin, row, v);
}

/* What validation does with an unknown key in Gale's namespaces. */
typedef enum unknown_mode { UNKNOWN_WARN, UNKNOWN_QUIET } unknown_mode_t;

static int validate(const gale_conf_t *c, const char *origin, unknown_mode_t mode, char *err,
                    size_t errlen) {
    if (!c) return GALE_EINVAL;
    if (!origin) origin = "conf";
    for (size_t i = 0; i < gale_conf_count(c); i++) {
        const gale_value_t *v;
        const char *key = gale_conf_key_at(c, i, &v);
        const gale_conf_key_t *row = gale__conf_key_find(key);
        if (!row) {
            if (mode == UNKNOWN_WARN && in_gale_namespace(key))
                GALE_WARN(NULL, 0, "%s: unknown key '%s' is ignored (did you mean '%s'?)", origin,
                          key, gale__conf_nearest_key(key));
            continue;
        }
        int rc = check_value(row, v, origin, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

int gale__conf_validate(const gale_conf_t *c, const char *origin, char *err, size_t errlen) {
    return validate(c, origin, UNKNOWN_WARN, err, errlen);
}

int gale__conf_validate_values(const gale_conf_t *c, const char *origin, char *err, size_t errlen) {
    return validate(c, origin, UNKNOWN_QUIET, err, errlen);
}

int gale__conf_merge(gale_conf_t *dst, const gale_conf_t *src) {
    if (!dst || !src) return GALE_EINVAL;
    for (size_t i = 0; i < gale_conf_count(src); i++) {
        const gale_value_t *v;
        const char *key = gale_conf_key_at(src, i, &v);
        int rc = gale_conf_set(dst, key, *v);
        if (rc) return rc;
    }
    return 0;
}

/* Validate the scratch conf, then merge it: errors leave out untouched.
 * Its source already dealt with unknown keys. */
static int commit(gale_conf_t *out, gale_conf_t *scratch, const char *origin, char *err,
                  size_t errlen) {
    int rc = validate(scratch, origin, UNKNOWN_QUIET, err, errlen);
    if (!rc) rc = gale__conf_merge(out, scratch);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sources: defaults, YAML files, -c key=value                          */
/* ------------------------------------------------------------------ */

/*
 * Parse text as one YAML value (scalar or flow/block collection) for key
 * and set it in scratch. raw_str_fallback: a STR key takes the raw text
 * when it is not a YAML scalar (so `-c gale.log.dir=a: b` still works).
 */
static int set_from_text(gale_conf_t *scratch, const char *key, const char *text,
                         const char *origin, const char *what, bool raw_str_fallback, char *err,
                         size_t errlen) {
    const gale_conf_key_t *row = gale__conf_key_find(key);
    bool raw_ok = raw_str_fallback && row && row->type == GALE_CT_STR;
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p)) return GALE_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    int rc = 0;
    if (!yaml_parser_load(&p, &doc)) {
        if (raw_ok)
            rc = gale_conf_set_str(scratch, key, text);
        else
            rc = yaml_syntax_error(&p, text, strlen(text), what, err, errlen);
        yaml_parser_delete(&p);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (raw_ok && root && root->type != YAML_SCALAR_NODE) {
        rc = gale_conf_set_str(scratch, key, text);
    } else {
        yctx_t cx = {&doc, origin, key, err, errlen, YAML_NODE_BUDGET, NULL, 0, 0};
        gale_value_t v;
        rc = convert_node(&cx, row, root, &v);
        if (!rc) rc = gale_conf_set(scratch, key, v);
        tmp_free(&cx);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

int gale__conf_set_defaults(gale_conf_t *out) {
    if (!out) return GALE_EINVAL;
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        const gale_conf_key_t *row = &gale__conf_keys[i];
        if (!row->def) continue;
        int rc = set_from_text(out, row->name, row->def, "defaults", "defaults", false, NULL, 0);
        if (rc) return rc;
    }
    return 0;
}

int gale__conf_parse_kv(gale_conf_t *out, const char *kv, char *err, size_t errlen) {
    if (!out || !kv) return GALE_EINVAL;
    const char *eq = strchr(kv, '=');
    /* Spaces around the key and before the value are trimmed: a shell
     * user writes -c "topology.workers = 3" as often as YAML's "key: 3". */
    const char *k0 = kv, *k1 = eq ? eq : kv, *value = eq ? eq + 1 : NULL;
    while (k0 < k1 && (*k0 == ' ' || *k0 == '\t')) k0++;
    while (k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t')) k1--;
    if (!eq || k1 == k0)
        return gale__errf(err, errlen, GALE_EINVAL,
                          "-c '%s': expected key=value, e.g. -c topology.workers=2", kv);
    while (*value == ' ' || *value == '\t') value++;
    size_t klen = (size_t)(k1 - k0);
    char *key = malloc(klen + 1);
    size_t wlen = strlen(kv) + 8;
    char *what = malloc(wlen);
    gale_conf_t *scratch = gale_conf_new();
    int rc = GALE_ENOMEM;
    if (key && what && scratch) {
        memcpy(key, k0, klen);
        key[klen] = '\0';
        snprintf(what, wlen, "-c '%s'", kv);
        /* a typo in one of Gale's own keys would be ignored silently (a
         * warning scrolls by): refuse it, the command line is easy to fix */
        if (storm_rename(key))
            rc = gale__errf(err, errlen, GALE_EINVAL,
                            "-c '%s': Storm's '%s' is '%s' in Gale (see 'gale conf --list')", kv,
                            key, storm_rename(key));
        else if (!gale__conf_key_find(key) && in_gale_namespace(key))
            rc = gale__errf(
                err, errlen, GALE_EINVAL,
                "-c '%s': unknown key '%s' (did you mean '%s'?): keys under topology., "
                "gale., nimbus., supervisor., worker., logviewer., ui., redis. and drpc. are "
                "Gale's own; see 'gale conf --list'",
                kv, key, gale__conf_nearest_key(key));
        else
            rc = set_from_text(scratch, key, value, "-c", what, true, err, errlen);
        if (!rc) rc = commit(out, scratch, "-c", err, errlen);
    }
    gale_conf_destroy(scratch);
    free(what);
    free(key);
    return rc;
}

static int load_mapping(gale_conf_t *scratch, yaml_document_t *doc, yaml_node_t *root,
                        const char *path, char *err, size_t errlen) {
    if (root->type != YAML_MAPPING_NODE)
        return gale__errf(err, errlen, GALE_EINVAL,
                          "%s: expected a mapping of key: value at the top level, e.g. "
                          "topology.workers: 2",
                          path);
    /* One node budget for the whole file: aliases may not multiply it
     * across keys (thousands of keys each expanding a big alias). */
    size_t budget = YAML_NODE_BUDGET;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (!k || !v) return gale__errf(err, errlen, GALE_EINVAL, "%s: broken YAML document", path);
        if (k->type != YAML_SCALAR_NODE || k->data.scalar.length == 0 ||
            strlen((const char *)k->data.scalar.value) != k->data.scalar.length)
            return gale__errf(err, errlen, GALE_EINVAL,
                              "%s:%zu:%zu: a key must be a non-empty string, e.g. topology.workers",
                              path, k->start_mark.line + 1, k->start_mark.column + 1);
        const char *key = (const char *)k->data.scalar.value;
        /* the scratch conf has every earlier key; look for the line only then */
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
             gale_conf_get(scratch, key) && q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(doc, q->key);
            if (qk && qk->type == YAML_SCALAR_NODE &&
                strcmp((const char *)qk->data.scalar.value, key) == 0)
                return gale__errf(err, errlen, GALE_EINVAL,
                                  "%s:%zu:%zu: key '%s' is set twice (first on line %zu): keep one",
                                  path, k->start_mark.line + 1, k->start_mark.column + 1, key,
                                  qk->start_mark.line + 1);
        }
        /* Storm's keys are flat: `topology: {workers: 2}` would be a user
         * key named "topology" that nothing reads */
        char ns[32];
        snprintf(ns, sizeof ns, "%s.", key);
        if (v->type == YAML_MAPPING_NODE && in_gale_namespace(ns))
            return gale__errf(
                err, errlen, GALE_EINVAL,
                "%s:%zu:%zu: '%s' holds a nested map, but Gale's keys are flat: write "
                "each key in full at the top level, e.g. '%s.workers: 2'",
                path, k->start_mark.line + 1, k->start_mark.column + 1, key, key);
        /* Storm ignores keys it does not know in storm.yaml: so do we, but
         * a typo in Gale's namespaces gets one line with where it is */
        if (!gale__conf_key_find(key) && in_gale_namespace(key))
            GALE_WARN(NULL, 0, "%s:%zu: unknown key '%s' is ignored (did you mean '%s'?)", path,
                      k->start_mark.line + 1, key, gale__conf_nearest_key(key));
        /* errors about the value name its line */
        char where[PATH_MAX + 24];
        snprintf(where, sizeof where, "%s:%zu", path, k->start_mark.line + 1);
        yctx_t cx = {doc, where, key, err, errlen, budget, NULL, 0, 0};
        const gale_conf_key_t *row = gale__conf_key_find(key);
        gale_value_t val;
        int rc = convert_node(&cx, row, v, &val);
        if (!rc && row) rc = check_value(row, &val, where, err, errlen);
        if (!rc) rc = gale_conf_set(scratch, key, val);
        budget = cx.budget;
        tmp_free(&cx);
        if (rc) return rc;
    }
    return 0;
}

int gale__conf_load_yaml(gale_conf_t *out, const char *path, char *err, size_t errlen) {
    if (!out || !path) return GALE_EINVAL;
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc) return rc;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        free(text);
        return GALE_ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    gale_conf_t *scratch = gale_conf_new();
    yaml_document_t doc;
    if (!scratch) {
        rc = GALE_ENOMEM;
    } else if (!yaml_parser_load(&p, &doc)) {
        rc = yaml_syntax_error(&p, text, len, path, err, errlen);
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root) { /* an empty file sets nothing */
            rc = load_mapping(scratch, &doc, root, path, err, errlen);
            yaml_document_t more;
            if (!rc && !yaml_parser_load(&p, &more)) {
                rc = yaml_syntax_error(&p, text, len, path, err, errlen);
            } else if (!rc) {
                if (yaml_document_get_root_node(&more))
                    rc = gale__errf(err, errlen, GALE_EINVAL,
                                    "%s: more than one YAML document: put every key in the first",
                                    path);
                yaml_document_delete(&more);
            }
        }
        yaml_document_delete(&doc);
        if (!rc) rc = commit(out, scratch, path, err, errlen);
    }
    gale_conf_destroy(scratch);
    yaml_parser_delete(&p);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* gale conf --list and CONFIGURATION.md                                */
/* ------------------------------------------------------------------ */

static const char *type_name(gale_conf_type_t t) {
    switch (t) {
        case GALE_CT_INT:
            return "int";
        case GALE_CT_DOUBLE:
            return "double";
        case GALE_CT_BOOL:
            return "bool";
        case GALE_CT_STR:
            return "string";
        case GALE_CT_INT_LIST:
            return "int list";
        case GALE_CT_STR_LIST:
            return "string list";
    }
    return "?";
}

static const char *scope_name(gale_conf_scope_t s) {
    switch (s) {
        case GALE_SCOPE_CLUSTER:
            return "cluster";
        case GALE_SCOPE_TOPOLOGY:
            return "topology";
        case GALE_SCOPE_COMPONENT:
            return "component";
    }
    return "?";
}

static void allowed_text(const gale_conf_key_t *row, char *buf, size_t cap) {
    char lo[32], hi[32];
    fmt_bound(lo, sizeof(lo), row->type, row->min);
    fmt_bound(hi, sizeof(hi), row->type, row->max);
    switch (row->type) {
        case GALE_CT_INT:
        case GALE_CT_DOUBLE:
            snprintf(buf, cap, "%s..%s%s", lo, hi, needs_pow2(row) ? ", power of 2" : "");
            break;
        case GALE_CT_INT_LIST:
            snprintf(buf, cap, "each %s..%s", lo, hi);
            break;
        case GALE_CT_BOOL:
            snprintf(buf, cap, "true|false");
            break;
        case GALE_CT_STR:
            snprintf(buf, cap, "%s", row->allowed ? row->allowed : "any");
            break;
        case GALE_CT_STR_LIST:
            snprintf(buf, cap, "any");
            break;
    }
}

#define DEFAULT_UNSET "(unset)"

void gale__conf_print_list(FILE *out) {
    static const char *const head[6] = {"NAME",    "TYPE",  "DEFAULT",
                                        "ALLOWED", "SCOPE", "DESCRIPTION"};
    size_t w[5];
    for (int c = 0; c < 5; c++) w[c] = strlen(head[c]);
    char allowed[96];
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        const gale_conf_key_t *r = &gale__conf_keys[i];
        allowed_text(r, allowed, sizeof(allowed));
        size_t len[5] = {strlen(r->name), strlen(type_name(r->type)),
                         strlen(r->def ? r->def : DEFAULT_UNSET), strlen(allowed),
                         strlen(scope_name(r->scope))};
        for (int c = 0; c < 5; c++)
            if (len[c] > w[c]) w[c] = len[c];
    }
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1],
            (int)w[2], head[2], (int)w[3], head[3], (int)w[4], head[4], head[5]);
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        const gale_conf_key_t *r = &gale__conf_keys[i];
        allowed_text(r, allowed, sizeof(allowed));
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], r->name, (int)w[1],
                type_name(r->type), (int)w[2], r->def ? r->def : DEFAULT_UNSET, (int)w[3], allowed,
                (int)w[4], scope_name(r->scope), r->desc);
    }
}

/*
 * A table cell: '|' would end the cell, even inside a code span; in text,
 * <...> would read as HTML and _ or * as emphasis.
 */
static void md_cell(FILE *out, const char *s, bool code) {
    fputs(code ? " `" : " ", out);
    for (; *s; s++) {
        if (*s == '|' || (!code && (*s == '_' || *s == '*'))) fputc('\\', out);
        if (!code && *s == '<')
            fputs("&lt;", out);
        else if (!code && *s == '>')
            fputs("&gt;", out);
        else
            fputc(*s, out);
    }
    fputs(code ? "` |" : " |", out);
}

void gale__conf_print_markdown(FILE *out) {
    fputs("# Gale configuration\n\n"
          "This file is generated by `gale conf --markdown` from `common/config.c` and must not "
          "be edited by hand.\n\n"
          "Precedence, lowest first: defaults < `gale.yaml` (`--config FILE`) < topology conf "
          "< component conf < `-c key=value`.\n\n"
          "Scopes: `cluster` keys are read by the daemons from `gale.yaml`; `topology` keys are "
          "set per topology; `component` keys may also be set per component. Keys outside "
          "Gale's namespaces (`topology.`, `gale.`, `nimbus.`, `supervisor.`, `worker.`, "
          "`logviewer.`, `redis.`, `drpc.`) are "
          "passed to components untouched.\n\n"
          "| Key | Type | Default | Allowed | Scope | Description |\n"
          "|---|---|---|---|---|---|\n",
          out);
    char allowed[96];
    for (size_t i = 0; i < gale__conf_nkeys; i++) {
        const gale_conf_key_t *r = &gale__conf_keys[i];
        allowed_text(r, allowed, sizeof(allowed));
        fputc('|', out);
        md_cell(out, r->name, true);
        md_cell(out, type_name(r->type), false);
        if (r->def)
            md_cell(out, r->def, true);
        else
            md_cell(out, DEFAULT_UNSET, false);
        md_cell(out, allowed,
                r->type != GALE_CT_STR_LIST && !(r->type == GALE_CT_STR && !r->allowed));
        md_cell(out, scope_name(r->scope), false);
        md_cell(out, r->desc, false);
        fputc('\n', out);
    }
}

/* ------------------------------------------------------------------ */
/* msgpack                                                              */
/* ------------------------------------------------------------------ */

int gale__conf_pack(msgpack_packer *pk, const gale_conf_t *c) {
    if (!pk || !c) return GALE_EINVAL;
    size_t n = gale_conf_count(c);
    if (n > UINT32_MAX) return GALE_ERANGE;
    if (msgpack_pack_map(pk, n)) return GALE_EIO;
    for (size_t i = 0; i < n; i++) {
        const gale_value_t *v;
        const char *key = gale_conf_key_at(c, i, &v);
        size_t klen = strlen(key);
        if (msgpack_pack_str_with_body(pk, key, klen) || gale__value_pack(pk, v)) return GALE_EIO;
    }
    return 0;
}

int gale__conf_from_msgpack(gale_conf_t *out, const msgpack_object *o) {
    if (!out || !o) return GALE_EINVAL;
    if (o->type != MSGPACK_OBJECT_MAP) return GALE_EPROTO;
    gale_conf_t *scratch = gale_conf_new();
    if (!scratch) return GALE_ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        const msgpack_object *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            memchr(k->via.str.ptr, '\0', k->via.str.size)) {
            rc = GALE_EPROTO;
            break;
        }
        ssize_t extra = gale__value_from_msgpack_size(v);
        if (extra < 0) {
            rc = GALE_EPROTO;
            break;
        }
        char *key = malloc(k->via.str.size + 1);
        char *storage = malloc((size_t)extra + 1);
        if (!key || !storage) {
            rc = GALE_ENOMEM;
        } else {
            memcpy(key, k->via.str.ptr, k->via.str.size);
            key[k->via.str.size] = '\0';
            gale_value_t val;
            char *cursor = storage;
            gale__value_from_msgpack(&val, v, &cursor);
            rc = gale_conf_set(scratch, key, val);
        }
        free(storage);
        free(key);
    }
    if (!rc) rc = gale__conf_merge(out, scratch);
    gale_conf_destroy(scratch);
    return rc;
}

void gale__conf_warn_scope(const gale_conf_t *c, const char *origin, gale_conf_scope_t where) {
    static const char *const places[] = {"gale.yaml", "the topology conf", "a component conf"};
    for (size_t i = 0; i < gale_conf_count(c); i++) {
        const char *key = gale_conf_key_at(c, i, NULL);
        const gale_conf_key_t *row = gale__conf_key_find(key);
        /* scopes nest: a component key is fine anywhere above a component */
        if (!row || row->scope >= where) continue;
        GALE_WARN(NULL, 0, "%s: '%s' is ignored here: set it in %s", origin, key,
                  places[row->scope]);
    }
}
