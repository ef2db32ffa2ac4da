/*
 * worker_link.c — the supervisor's worker-heartbeat socket, served by a
 * thread of its own.
 *
 * The supervisor's main loop talks to nimbus with blocking calls (a
 * heartbeat up to 1.5 s, a code chunk up to 10 s when nimbus is slow or
 * gone). Worker heartbeats answered from that loop would wait as long,
 * and a worker that hears nothing for supervisor.worker.timeout.secs
 * exits as orphaned — so a slow nimbus could take every worker down.
 * This thread owns the ROUTER: it answers each heartbeat at once and
 * queues it (decoded, by value) for the main loop, which applies the
 * queue to its worker table (gale__sv_worker_hb) before it next looks at
 * worker ages. The worker table stays the main loop's alone.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor/supervisor.h"

#define SV        "supervisor"
#define QUEUE_MAX 4096 /* heartbeats waiting for the main loop; more are answered, not kept */
#define POLL_MS   100  /* how often the thread looks at its stop flag */

struct gale__sv_link {
    void *router;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    gale__ctl_msg_t queue[QUEUE_MAX];
    size_t n;
};

static void refuse(gale__sv_link_t *l, const gale__ctl_peer_t *peer, const gale__ctl_msg_t *m,
                   int rc, const char *err) {
    static int64_t last; /* this thread's only: one warning a second at most */
    if (gale__now_ns() - last > 1000000000) {
        GALE_WARN(SV, 0, "refused a message on the worker socket: %s",
                  rc ? err : "not a worker_heartbeat");
        last = gale__now_ns();
    }
    if (m->type != GALE_CTL_NONE)
        gale__ctl_reply_error(l->router, peer, m->req,
                              rc ? err : "a supervisor takes only worker_heartbeat");
}

static void serve(gale__sv_link_t *l) {
    for (int k = 0; k < 256; k++) {
        gale__ctl_peer_t peer;
        gale__ctl_msg_t m;
        char err[512];
        int rc = gale__ctl_server_recv(l->router, &peer, &m, err, sizeof err);
        if (rc == GALE_ENOENT) return;
        if (rc || m.type != GALE_CTL_WORKER_HEARTBEAT) {
            refuse(l, &peer, &m, rc, err);
            gale__ctl_msg_destroy(&m);
            continue;
        }
        gale__ctl_reply_t ok = GALE__CTL_REPLY(true, NULL, NULL);
        gale__ctl_server_send(l->router, &peer, GALE_CTL_REPLY, m.req, &ok, NULL, 0);
        pthread_mutex_lock(&l->lock);
        bool kept = l->n < QUEUE_MAX;
        if (kept) l->queue[l->n++] = m;
        pthread_mutex_unlock(&l->lock);
        if (!kept) gale__ctl_msg_destroy(&m);
    }
}

static void *link_main(void *arg) {
    gale__sv_link_t *l = arg;
    while (!atomic_load(&l->stop)) {
        zmq_pollitem_t pi = {l->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, POLL_MS) > 0) serve(l);
    }
    return NULL;
}

int gale__sv_link_start(void *router, gale__sv_link_t **out) {
    gale__sv_link_t *l = calloc(1, sizeof *l);
    if (!l) return GALE_ENOMEM;
    l->router = router;
    pthread_mutex_init(&l->lock, NULL);
    if (pthread_create(&l->thread, NULL, link_main, l)) {
        pthread_mutex_destroy(&l->lock);
        free(l);
        return GALE_ENOMEM;
    }
    *out = l;
    return 0;
}

void gale__sv_link_apply(gale__sv_link_t *l, supervisor_t *sv) {
    gale__ctl_msg_t batch[64];
    for (;;) {
        pthread_mutex_lock(&l->lock);
        size_t n = l->n < 64 ? l->n : 64;
        memcpy(batch, l->queue, n * sizeof *batch);
        memmove(l->queue, l->queue + n, (l->n - n) * sizeof *l->queue);
        l->n -= n;
        pthread_mutex_unlock(&l->lock);
        if (n == 0) return;
        for (size_t i = 0; i < n; i++) {
            gale__sv_worker_hb(sv, &batch[i].u.worker_heartbeat);
            gale__ctl_msg_destroy(&batch[i]);
        }
    }
}

void gale__sv_link_stop(gale__sv_link_t *l) {
    if (!l) return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    for (size_t i = 0; i < l->n; i++) gale__ctl_msg_destroy(&l->queue[i]);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
