/*
 * placement.c — an assignment file's executors turned into a runtime
 * placement (see placement.h). A slot is (supervisor, port); its
 * endpoint is tcp://<host>:<port> with the host the supervisor
 * advertised, except for this worker's own slot, which binds on
 * gale.local.hostname (the same address, seen from this host).
 */
#include "worker/placement.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gale/gale.h"

static int slot_index(const gale__ctl_topology_assignment_t *a, size_t upto, size_t i) {
    /* the first executor (< upto) on the same slot as executor i, or -1 */
    const gale__ctl_executor_slot_t *s = &a->executors.items[i];
    for (size_t k = 0; k < upto; k++) {
        const gale__ctl_executor_slot_t *o = &a->executors.items[k];
        if (o->port == s->port && strcmp(o->supervisor, s->supervisor) == 0) return (int)k;
    }
    return -1;
}

int gale__place_from_assignment(const gale__ctl_topology_assignment_t *a, const char *sid, int port,
                                const char *bind_host, gale__rt_place_t *out, char *err,
                                size_t errlen) {
    memset(out, 0, sizeof *out);
    out->here = -1;
    size_t n = a->executors.n;
    out->execs = calloc(n ? n : 1, sizeof *out->execs);
    out->endpoints = calloc(n ? n : 1, sizeof *out->endpoints);
    int *worker_of_first = calloc(n ? n : 1, sizeof(int));
    int rc = GALE_ENOMEM;
    if (!out->execs || !out->endpoints || !worker_of_first) goto fail;
    for (size_t i = 0; i < n; i++) {
        const gale__ctl_executor_slot_t *s = &a->executors.items[i];
        for (size_t k = 0; k < i; k++) {
            const gale__ctl_executor_slot_t *o = &a->executors.items[k];
            if ((int64_t)s->start <= (int64_t)o->end && (int64_t)o->start <= (int64_t)s->end) {
                snprintf(err, errlen,
                         "assignment of %s: executors [%llu-%llu] and [%llu-%llu] overlap", a->id,
                         (unsigned long long)o->start, (unsigned long long)o->end,
                         (unsigned long long)s->start, (unsigned long long)s->end);
                rc = GALE_EINVAL;
                goto fail;
            }
        }
        int first = slot_index(a, i, i);
        int w;
        if (first >= 0) {
            w = worker_of_first[first];
        } else {
            w = (int)out->n_workers++;
            bool mine = s->port == (uint64_t)port && strcmp(s->supervisor, sid) == 0;
            const char *host = mine && bind_host && *bind_host ? bind_host : s->host;
            char ep[300];
            snprintf(ep, sizeof ep, "tcp://%s:%llu", host, (unsigned long long)s->port);
            if (!(out->endpoints[w] = strdup(ep))) goto fail;
            if (mine) out->here = w;
        }
        worker_of_first[i] = w;
        out->execs[i] = (gale__place_exec_t){(int32_t)s->start, (int32_t)s->end, w};
        out->n_execs++;
    }
    free(worker_of_first);
    if (out->here < 0) {
        snprintf(err, errlen,
                 "assignment of %s has no executor for supervisor '%s' port %d: this worker "
                 "is not (or no longer) assigned",
                 a->id, sid, port);
        gale__place_free(out);
        return GALE_ENOENT;
    }
    return 0;
fail:
    if (rc == GALE_ENOMEM) snprintf(err, errlen, "out of memory reading the assignment");
    free(worker_of_first);
    gale__place_free(out);
    return rc;
}

int gale__place_worker_of(const gale__rt_place_t *p, int32_t start, int32_t end) {
    for (size_t i = 0; i < p->n_execs; i++)
        if (p->execs[i].start == start && p->execs[i].end == end) return p->execs[i].worker;
    return -1;
}

bool gale__place_same_layout(const gale__rt_place_t *a, const gale__rt_place_t *b) {
    if (a->n_execs != b->n_execs || a->n_workers != b->n_workers) return false;
    /* same partition of executors into workers: worker numbers follow
     * first appearance, so equal sequences mean equal partitions when the
     * executors come in the same order; otherwise compare by range */
    for (size_t i = 0; i < a->n_execs; i++) {
        int wb = gale__place_worker_of(b, a->execs[i].start, a->execs[i].end);
        if (wb < 0 || (a->execs[i].worker == a->here) != (wb == b->here)) return false;
        for (size_t k = 0; k < i; k++) {
            int wbk = gale__place_worker_of(b, a->execs[k].start, a->execs[k].end);
            if ((a->execs[k].worker == a->execs[i].worker) != (wbk == wb)) return false;
        }
    }
    return true;
}

void gale__place_free(gale__rt_place_t *p) {
    if (!p) return;
    for (size_t i = 0; p->endpoints && i < p->n_workers; i++) free(p->endpoints[i]);
    free(p->endpoints);
    free(p->execs);
    memset(p, 0, sizeof *p);
    p->here = -1;
}
