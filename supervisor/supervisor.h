/*
 * supervisor.h — the supervisor's state and its roles, one file each:
 *
 *   supervisor.c  main: config, id, sockets, the loop
 *   slots.c       the persistent id, the slots it can really offer
 *   sync.c        heartbeats to nimbus, fetching assignments and code
 *                 (stormdist/<id>/, checksum-verified), assignment files
 *   workers.c     worker processes: start (fork/exec `gale worker`),
 *                 watch (exit, heartbeats), restart with backoff, stop
 *                 (SIGTERM then SIGKILL), adopt after a restart
 *
 * Files and command lines follow the cluster contract (see
 * notes/cluster-contract.md, DESIGN §10). Everything runs on the
 * supervisor's one thread.
 */
#ifndef GALE_SUPERVISOR_SUPERVISOR_H
#define GALE_SUPERVISOR_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/control.h"
#include "common/ctl_socket.h"

typedef struct sv_range {
    uint64_t start, end;
} sv_range_t;

typedef struct sv_worker {
    char topology_id[200];
    int port;
    pid_t pid;          /* 0: not running */
    bool child;         /* forked by this process (else adopted) */
    int64_t started_ns; /* monotonic */
    int64_t last_hb_ns; /* 0: no heartbeat yet */
    /* the slot's last heartbeat, from any of its processes: reported to
     * nimbus, so that a restart in place is not taken for a worker that
     * never started (which nimbus moves at once once the assignment is
     * older than nimbus.task.launch.secs) */
    int64_t slot_hb_ns;
    int64_t stop_ns; /* SIGTERM sent at; 0: not stopping */
    int64_t next_start_ns;
    uint64_t restarts;
    unsigned fails; /* restarts since its last heartbeat: the backoff's exponent */
    bool assigned;  /* in the current assignment */
    bool held;      /* assigned before the assignment fetch under way */
    bool done;
    const char *state; /* starting | running | timed_out | exited */
    sv_range_t *execs; /* its own executors in the assignment */
    size_t n_execs;
    uint64_t version; /* of the assignment file it was given */
    uint8_t *stats;   /* its last heartbeat's stats blob, forwarded to nimbus unread */
    size_t stats_len;
} sv_worker_t;

typedef struct supervisor {
    const gale_conf_t *conf;
    char id[64];
    char local[2048], logdir[2048], host[256];
    int ports[1024];
    size_t n_ports;
    uint64_t logviewer_port; /* GALE_CTL_UNSET: none */
    void *zctx, *router;     /* router: worker heartbeats */
    gale__ctl_client_t nimbus;
    char nimbus_desc[300];
    int64_t start_ns;
    int64_t worker_timeout_ns, start_timeout_ns, shutdown_ns;
    int64_t worker_hb_ns;      /* worker.heartbeat.frequency.secs, as its workers are told */
    uint64_t version;          /* the cluster assignment version it holds */
    int64_t hb_ns, last_hb_ns; /* supervisor.heartbeat.frequency.secs; the last one sent */
    bool fetching;             /* inside an assignment fetch (sync.c) */
    bool report_now;           /* a worker's spouts just finished: heartbeat nimbus now */
    struct gale__sv_link *link;
    sv_worker_t *workers;
    size_t n_workers;
    char self_exe[4096];
} supervisor_t;

/* worker_link.c: the worker-heartbeat socket, answered by its own thread */
typedef struct gale__sv_link gale__sv_link_t;
/** @brief Serve router (the thread owns it from now until stop). */
int gale__sv_link_start(void *router, gale__sv_link_t **out);
/** @brief Main loop: apply the heartbeats answered since the last call. */
void gale__sv_link_apply(gale__sv_link_t *l, supervisor_t *sv);
/** @brief Join the thread and drop what is queued (NULL: nothing). */
void gale__sv_link_stop(gale__sv_link_t *l);

/* slots.c */
int gale__sv_load_id(supervisor_t *sv, char *err, size_t errlen);
/** @brief The slots it can offer into sv->ports; returns how many the conf names. */
size_t gale__sv_find_ports(supervisor_t *sv);

/* sync.c */
void gale__sv_heartbeat(supervisor_t *sv);
/** @brief Nimbus pushed a new assignment version: fetch it. True when
 * the assignments were fetched (start what is new at once). */
bool gale__sv_pushed(supervisor_t *sv);
/** @brief Remove stormdist/<id>/ of every topology no worker record names. */
void gale__sv_sweep_code(supervisor_t *sv);

/* workers.c */
sv_worker_t *gale__sv_worker(supervisor_t *sv, const char *topology_id, int port, bool create);
void gale__sv_adopt(supervisor_t *sv);
void gale__sv_monitor(supervisor_t *sv);
/** @brief Has w gone silent at now (monotonic ns): no first heartbeat within
 * supervisor.worker.start.timeout.secs of its start, or its next one
 * supervisor.worker.timeout.secs late? */
bool gale__sv_worker_silent(const supervisor_t *sv, const sv_worker_t *w, int64_t now);
/** @brief Start (or restart) w now. */
void gale__sv_start_worker(supervisor_t *sv, sv_worker_t *w);
void gale__sv_stop_worker(supervisor_t *sv, sv_worker_t *w, const char *why);
void gale__sv_worker_hb(supervisor_t *sv, const gale__ctl_worker_heartbeat_t *h);
void gale__sv_workers_free(supervisor_t *sv);
/** @brief L/workers/<id>-<port>/<file> into out. */
void gale__sv_worker_path(const supervisor_t *sv, const sv_worker_t *w, const char *file, char *out,
                          size_t cap);

/** @brief Run a supervisor with the daemon conf until SIGTERM/SIGINT. Exit code. */
int gale__supervisor_run(const gale_conf_t *conf);

#endif
