/*
 * config.h — the one table of configuration keys (STYLE.md "One table").
 *
 * Each row: name, type, default, bounds or allowed values, scope and a
 * one-line description. The same table parses YAML (libyaml) and
 * `-c key=value`, validates, fills defaults, prints `gale conf --list` and
 * generates CONFIGURATION.md. No code reads a Gale key by a string literal
 * that is not in this table: use the GALE_CONF_* name macros below.
 *
 * Precedence (lowest first): defaults < gale.yaml < topology conf <
 * component conf < `-c key=value`; gale__conf_merge applies one layer.
 *
 * Keys outside Gale's namespaces (topology., gale., nimbus., supervisor.,
 * worker., logviewer., redis., drpc.) are user keys: passed through untouched,
 * never warned about.
 * An unknown key inside those namespaces is an error from `-c` and a warning
 * (the key is ignored) from a YAML file or a topology conf, each naming the
 * nearest known key. Functions here are thread-safe (the table is constant).
 */
#ifndef GALE_COMMON_CONFIG_H
#define GALE_COMMON_CONFIG_H

#include <stdio.h>

#include "gale/gale.h"

typedef enum gale_conf_type {
    GALE_CT_INT,    /* int64 within [min, max] */
    GALE_CT_DOUBLE, /* double within [min, max] */
    GALE_CT_BOOL,
    GALE_CT_STR,      /* any string, or one of `allowed` ("a|b|c") */
    GALE_CT_INT_LIST, /* array of ints within [min, max] */
    GALE_CT_STR_LIST  /* array of strings */
} gale_conf_type_t;

typedef enum gale_conf_scope {
    GALE_SCOPE_CLUSTER,  /* daemons: gale.yaml only */
    GALE_SCOPE_TOPOLOGY, /* topology conf (and gale.yaml, -c) */
    GALE_SCOPE_COMPONENT /* also settable per component */
} gale_conf_scope_t;

typedef struct gale_conf_key {
    const char *name;
    gale_conf_type_t type;
    const char *def;     /* default as YAML scalar/flow text; NULL = unset */
    double min, max;     /* INT/DOUBLE/INT_LIST bounds */
    const char *allowed; /* STR: "a|b|c" or NULL for any */
    gale_conf_scope_t scope;
    const char *desc;
} gale_conf_key_t;

/* Key names, so code never spells a key twice. */
#define GALE_CONF_NIMBUS_SEEDS                          "nimbus.seeds"
#define GALE_CONF_NIMBUS_PORT                           "nimbus.port"
#define GALE_CONF_SUPERVISOR_SLOTS_PORTS                "supervisor.slots.ports"
#define GALE_CONF_LOCAL_DIR                             "gale.local.dir"
#define GALE_CONF_LOG_DIR                               "gale.log.dir"
#define GALE_CONF_LOG_LEVEL                             "gale.log.level"
#define GALE_CONF_LOCAL_HOSTNAME                        "gale.local.hostname"
#define GALE_CONF_LOGVIEWER_PORT                        "logviewer.port"
#define GALE_CONF_UI_PORT                               "ui.port"
#define GALE_CONF_UI_HOST                               "ui.host"
#define GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS       "worker.heartbeat.frequency.secs"
#define GALE_CONF_SUPERVISOR_HEARTBEAT_FREQUENCY_SECS   "supervisor.heartbeat.frequency.secs"
#define GALE_CONF_SUPERVISOR_MONITOR_FREQUENCY_SECS     "supervisor.monitor.frequency.secs"
#define GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS        "supervisor.worker.timeout.secs"
#define GALE_CONF_SUPERVISOR_WORKER_START_TIMEOUT_SECS  "supervisor.worker.start.timeout.secs"
#define GALE_CONF_SUPERVISOR_WORKER_SHUTDOWN_SLEEP_SECS "supervisor.worker.shutdown.sleep.secs"
#define GALE_CONF_NIMBUS_SUPERVISOR_TIMEOUT_SECS        "nimbus.supervisor.timeout.secs"
#define GALE_CONF_NIMBUS_TASK_TIMEOUT_SECS              "nimbus.task.timeout.secs"
#define GALE_CONF_NIMBUS_MONITOR_FREQ_SECS              "nimbus.monitor.freq.secs"
#define GALE_CONF_NIMBUS_TASK_LAUNCH_SECS               "nimbus.task.launch.secs"
#define GALE_CONF_WORKER_LOG_MAX_BYTES                  "worker.log.max.bytes"
#define GALE_CONF_WORKER_LOG_MAX_FILES                  "worker.log.max.files"
#define GALE_CONF_FILE_MAX_LINE_BYTES                   "gale.file.max.line.bytes"
#define GALE_CONF_TOPOLOGY_WORKERS                      "topology.workers"
#define GALE_CONF_TOPOLOGY_ACKER_EXECUTORS              "topology.acker.executors"
#define GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS         "topology.message.timeout.secs"
#define GALE_CONF_TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS      "topology.enable.message.timeouts"
#define GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING            "topology.max.spout.pending"
#define GALE_CONF_TOPOLOGY_TRIDENT_BATCH_EMIT_INTERVAL_MILLIS                                      \
    "topology.trident.batch.emit.interval.millis"
#define GALE_CONF_TRIDENT_FILE_BATCH_LINES              "gale.trident.file.batch.lines"
#define GALE_CONF_TRIDENT_REDIS_STREAM_KEY              "gale.trident.redis.stream.key"
#define GALE_CONF_TRIDENT_REDIS_STREAM_FIELDS           "gale.trident.redis.stream.fields"
#define GALE_CONF_TRIDENT_REDIS_STREAM_BATCH_ENTRIES    "gale.trident.redis.stream.batch.entries"
#define GALE_CONF_TRIDENT_REDIS_STREAM_UNTIL_EMPTY      "gale.trident.redis.stream.until.empty"
#define GALE_CONF_TOPOLOGY_DEBUG                        "topology.debug"
#define GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS         "topology.tick.tuple.freq.secs"
#define GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE            "topology.stats.sample.rate"
#define GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE "topology.executor.receive.buffer.size"
#define GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BYTES       "topology.executor.receive.buffer.bytes"
#define GALE_CONF_TOPOLOGY_TRANSFER_BUFFER_SIZE         "topology.transfer.buffer.size"
#define GALE_CONF_TOPOLOGY_PRODUCER_BATCH_SIZE          "topology.producer.batch.size"
#define GALE_CONF_TOPOLOGY_TRANSFER_BATCH_SIZE          "topology.transfer.batch.size"
#define GALE_CONF_TOPOLOGY_BATCH_FLUSH_INTERVAL_MICROS  "topology.batch.flush.interval.micros"
#define GALE_CONF_TOPOLOGY_SPOUT_WAIT_MAX_MICROS        "topology.spout.wait.max.micros"
#define GALE_CONF_TOPOLOGY_REPLY_SPIN_MICROS            "topology.reply.spin.micros"
#define GALE_CONF_TOPOLOGY_BOLT_WAIT_SPIN_MICROS        "topology.bolt.wait.spin.micros"
#define GALE_CONF_TOPOLOGY_WORKER_PACK_CORES            "topology.worker.pack.cores"
#define GALE_CONF_TOPOLOGY_TRANSFER_HWM                 "topology.transfer.hwm.batches"
/* Redis, for the micro-batch layer's state and coordinator (storm-redis's
 * JedisPoolConfig fields: host, port, database, password, timeout) */
#define GALE_CONF_REDIS_HOST                   "redis.host"
#define GALE_CONF_REDIS_PORT                   "redis.port"
#define GALE_CONF_REDIS_DB                     "redis.db"
#define GALE_CONF_REDIS_PASSWORD               "redis.password"
#define GALE_CONF_REDIS_CONNECT_TIMEOUT_MILLIS "redis.connect.timeout.millis"
#define GALE_CONF_REDIS_COMMAND_TIMEOUT_MILLIS "redis.command.timeout.millis"
#define GALE_CONF_DRPC_SERVERS                 "drpc.servers"
#define GALE_CONF_DRPC_PORT                    "drpc.port"
#define GALE_CONF_DRPC_INVOCATIONS_PORT        "drpc.invocations.port"
#define GALE_CONF_DRPC_HTTP_PORT               "drpc.http.port"
#define GALE_CONF_DRPC_REQUEST_TIMEOUT_SECS    "drpc.request.timeout.secs"
#define GALE_CONF_DRPC_MAX_PENDING             "drpc.max.pending.requests"
#define GALE_CONF_DRPC_FUNCTION                "drpc.function"
/* Entries of a micro-batch state partition's local cache (Trident's
 * CachedMap keeps 1000; storm-redis has no such key) */
#define GALE_CONF_TOPOLOGY_TRIDENT_STATE_CACHE_SIZE "topology.trident.state.cache.size"

extern const gale_conf_key_t gale__conf_keys[];
extern const size_t gale__conf_nkeys;

/** @brief The row for name, or NULL. */
const gale_conf_key_t *gale__conf_key_find(const char *name);

/** @brief The known key closest to name (edit distance), or NULL. */
const char *gale__conf_nearest_key(const char *name);

/** @brief Set every key that has a default into out (replacing). */
int gale__conf_set_defaults(gale_conf_t *out);

/**
 * @brief Merge YAML file path (a mapping of key: value) into out.
 * On error returns GALE_E* and writes one line to err, e.g.
 * "gale.yaml:3:7: syntax error: mapping values are not allowed here".
 * Values are converted by the table's type for known keys, by YAML
 * scalar inference (int, double, bool, null, string) for user keys.
 * Validates like gale__conf_validate.
 */
int gale__conf_load_yaml(gale_conf_t *out, const char *path, char *err, size_t errlen);

/**
 * @brief Parse "key=value" (the -c option) into out, value typed like YAML.
 * Spaces around the key and before the value are trimmed. Validates the
 * key's type and bounds; an unknown key in Gale's namespaces is
 * GALE_EINVAL naming the nearest key. GALE_E* and one line in err.
 */
int gale__conf_parse_kv(gale_conf_t *out, const char *kv, char *err, size_t errlen);

/**
 * @brief Check every known key's type and bounds in c. `origin` names where
 * c came from ("gale.yaml", "topology conf", "component 'split'") and is
 * put in the message: "topology conf: topology.workers = -1 is out of
 * range: allowed 1..1024". Unknown keys in Gale's namespaces are logged as
 * warnings: "topology conf: unknown key 'topology.worker' (did you mean
 * 'topology.workers'?)". Returns 0 or GALE_E* with err filled.
 */
int gale__conf_validate(const gale_conf_t *c, const char *origin, char *err, size_t errlen);
/** @brief gale__conf_validate without the warnings, for a conf whose unknown
 * keys were already named where they were read (gale.yaml, -c). */
int gale__conf_validate_values(const gale_conf_t *c, const char *origin, char *err, size_t errlen);

/**
 * @brief Warn (log) about each known key of c whose scope does not reach
 * `where`: e.g. topology.workers in a component conf, nimbus.port in a
 * topology conf. Such keys are ignored there.
 */
void gale__conf_warn_scope(const gale_conf_t *c, const char *origin, gale_conf_scope_t where);

/** @brief Copy every key of src into dst, replacing (src wins). */
int gale__conf_merge(gale_conf_t *dst, const gale_conf_t *src);

/** @brief `gale conf --list`: name, type, default, allowed, description. */
void gale__conf_print_list(FILE *out);

/** @brief The whole CONFIGURATION.md text. */
void gale__conf_print_markdown(FILE *out);

/** @brief msgpack map <-> conf (topology serialization, wire). */
#include <msgpack.h>
int gale__conf_pack(msgpack_packer *pk, const gale_conf_t *c);
/* o must be a map with string keys; GALE_EPROTO otherwise. */
int gale__conf_from_msgpack(gale_conf_t *out, const msgpack_object *o);

#endif
