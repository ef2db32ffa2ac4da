/*
 * nimbus.h — nimbus's state and the roles that share it, one file each:
 *
 *   nimbus.c      main: config, sockets, the loop, dispatch by message type
 *   submit.c      chunked uploads, validation, storing a new topology
 *   topologies.c  the store layout, recovery, list and the life cycle
 *                 (ACTIVE, INACTIVE, KILLED, REBALANCING) with its timers
 *   liveness.c    supervisor heartbeats, dead supervisors and workers,
 *                 scheduling through scheduler.c
 *   fetch.c       assignment_fetch and code_fetch
 *   stats.c       the stats workers report (memory only), windows, stats requests
 *
 * Everything runs on nimbus's one thread (the loop in nimbus.c), so
 * nothing here is locked.
 */
#ifndef GALE_NIMBUS_NIMBUS_H
#define GALE_NIMBUS_NIMBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/checksum.h"
#include "common/control.h"
#include "common/ctl_socket.h"
#include "nimbus/scheduler.h"
#include "nimbus/store.h"
#include "topology/executors.h"
#include "topology/topology.h"

/* The parts of a stored topology, in store key order. */
enum { PART_TOPOLOGY, PART_CONF, PART_CODE, PART_RESOURCES, PART__COUNT };
extern const char *const gale__nimbus_parts[PART__COUNT];

#define GALE_NB_GONE_MAX 16

typedef struct nb_topo {
    char id[200], name[130];
    char status[16];      /* ACTIVE | INACTIVE | KILLED | REBALANCING */
    char after[16];       /* REBALANCING: the status to return to */
    int64_t submit_epoch; /* wall clock seconds */
    int64_t timer_ms;     /* KILLED: remove at; REBALANCING: reschedule at (wall clock, ms:
                           * whole seconds cut `kill -w 1` to anything from 0 to 1 s) */
    int64_t rb_workers;   /* REBALANCING: workers asked for, 0 = unchanged */
    gale__topology_t *t;  /* decoded, tasks assigned */
    int workers;          /* topology.workers, or what a rebalance asked */
    gale_conf_t *conf;    /* the submission's conf */
    int64_t message_timeout;
    gale__exec_range_t *execs;
    size_t n_execs;
    gale__sched_place_t *places; /* current assignment; strings owned (strdup) */
    size_t n_places;
    uint64_t version;    /* of this topology's assignment */
    int64_t assigned_ns; /* monotonic: when the assignment last changed */
    uint64_t size[PART__COUNT];
    uint8_t sum[PART__COUNT][GALE_CHECKSUM_LEN];
} nb_topo_t;

typedef struct nb_worker {
    char topology_id[200];
    int port;
    uint64_t hb_age_ms; /* GALE_CTL_UNSET: no heartbeat yet */
    char state[16];
    bool done; /* its finite spouts are done */
    uint64_t restarts;
} nb_worker_t;

typedef struct nb_supervisor {
    char id[130], host[256];
    int ports[1024];
    size_t n_ports;
    uint64_t logviewer_port;
    uint64_t uptime_secs;  /* as it last said */
    int64_t last_ns;       /* monotonic time of its last heartbeat */
    gale__ctl_peer_t peer; /* where its last heartbeat came from: pushes go there */
    nb_worker_t *workers;
    size_t n_workers;
} nb_supervisor_t;

typedef struct nb_upload nb_upload_t;

typedef struct nimbus {
    gale_conf_t *conf; /* daemon conf: defaults < gale.yaml < -c */
    gale__store_t *store;
    void *zctx, *router;
    int64_t start_ns;
    int64_t sup_timeout_ns, task_timeout_ns, launch_ns, monitor_ns;
    uint64_t version; /* the cluster's assignment version (persisted) */
    uint64_t counter; /* topology id counter (persisted) */
    nb_topo_t **topos;
    size_t n_topos;
    /* Removed topologies, oldest first, so that `gale logs NAME` still
     * finds where their workers ran: their logs stay on the supervisors,
     * as Storm's logviewer keeps them. In memory only: a restarted nimbus
     * forgets them. Nothing schedules, lists or heartbeats these. */
    nb_topo_t *gone[GALE_NB_GONE_MAX];
    size_t n_gone;
    nb_supervisor_t *sups;
    size_t n_sups;
    nb_upload_t *uploads;
    struct { /* the part code_fetch read last (fetch.c) */
        char key[300];
        void *data;
        size_t len;
        int64_t used_ns;
    } fetched;
    bool dirty; /* something may need scheduling */
    int port;   /* the control port really bound */
    struct nb_stats *stats;
} nimbus_t;

/* nimbus.c */
void gale__nb_reply_ok(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *id);
/* ok, naming the seconds a kill or rebalance waits before it acts */
void gale__nb_reply_wait(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *id,
                         uint64_t wait_secs);
void gale__nb_reply_err(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* submit.c */
void gale__nb_submit_begin(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_submit_chunk(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_submit_end(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_uploads_expire(nimbus_t *nb);
void gale__nb_uploads_free(nimbus_t *nb);

/* topologies.c */
int gale__nb_recover(nimbus_t *nb, char *err, size_t errlen);
nb_topo_t *gale__nb_topo_find(nimbus_t *nb, const char *name_or_id);
/** @brief A KILLED topology: whole seconds until it is removed (0: due). */
int64_t gale__nb_kill_left_secs(const nb_topo_t *t);
/** @brief Build a topology record from stored parts; takes t. NULL + err. */
nb_topo_t *gale__nb_topo_new(nimbus_t *nb, const char *id, gale__topology_t *t,
                             const gale_conf_t *conf, char *err, size_t errlen);
void gale__nb_topo_free(nb_topo_t *t);
/** @brief t->execs from its topology and its current worker count. 0 or GALE_ENOMEM. */
int gale__nb_topo_execs(nb_topo_t *t);
/* Executors in one topology, ackers included: at most this many, so that
 * its assignment (one record per executor, host names up to 255 bytes)
 * always fits one control message with room for others beside it. */
#define GALE_NB_MAX_EXECUTORS 16384
/** @brief The executors top runs with submission conf conf, ackers included. */
size_t gale__nb_exec_count(const gale__topology_t *top, const gale_conf_t *conf);
int gale__nb_topo_save_meta(nimbus_t *nb, nb_topo_t *t);
int gale__nb_topo_save_assignment(nimbus_t *nb, nb_topo_t *t);
void gale__nb_bump_version(nimbus_t *nb);
void gale__nb_list(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_lifecycle(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_timers(nimbus_t *nb);
void gale__nb_topos_free(nimbus_t *nb);

/* liveness.c */
void gale__nb_supervisor_heartbeat(nimbus_t *nb, const gale__ctl_peer_t *p,
                                   const gale__ctl_msg_t *m);
void gale__nb_monitor(nimbus_t *nb);
/** @brief (Re)schedule t; fresh = place everything again (rebalance). */
void gale__nb_schedule(nimbus_t *nb, nb_topo_t *t, bool fresh);
const nb_supervisor_t *gale__nb_sup_find(const nimbus_t *nb, const char *id);
/** @brief Tell every live supervisor the assignment version now, unasked
 * (its next heartbeat would learn it too; this saves the wait). */
void gale__nb_push_version(nimbus_t *nb);
/** @brief Worker slots of the supervisors heartbeating now. */
size_t gale__nb_live_slots(const nimbus_t *nb);
/** @brief Every slot of t that hosts a spout executor reports done (gale jar --wait). */
bool gale__nb_topo_done(const nimbus_t *nb, const nb_topo_t *t);
/** @brief Restarts of t's workers, summed over their supervisors' reports. */
uint64_t gale__nb_topo_restarts(const nimbus_t *nb, const nb_topo_t *t);
void gale__nb_sups_free(nimbus_t *nb);

/* fetch.c */
void gale__nb_assignment_fetch(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_code_fetch(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
/** @brief Drop code_fetch's part when unused for a while, or at once (all). */
void gale__nb_fetched_expire(nimbus_t *nb, bool all);

/* stats.c */
/** @brief Take one worker's stats blob (worker_state.stats) from supervisor s. */
void gale__nb_stats_ingest(nimbus_t *nb, const nb_supervisor_t *s, const char *topology_id,
                           int port, const uint8_t *blob, size_t len);
/** @brief Answer a stats request with stats_reply{json}. */
void gale__nb_stats(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m);
void gale__nb_stats_free(nimbus_t *nb);

/** @brief Run nimbus with the daemon conf until SIGTERM/SIGINT. Exit code. */
int gale__nimbus_run(const gale_conf_t *conf);

#endif
