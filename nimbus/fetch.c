/*
 * fetch.c — what supervisors (and `gale logs`) read from nimbus:
 * assignment_fetch (every topology with a slot on a supervisor, whole,
 * so its workers know their peers; or one topology by name or id, which
 * for `gale logs` may also be one removed a while ago: nb->gone) and
 * code_fetch (a byte range of one stored part with the whole part's
 * size and BLAKE2b sum, so the fetcher checks what it assembled).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "nimbus/nimbus.h"

#define NB "nimbus"

static bool on_supervisor(const nb_topo_t *t, const char *sup) {
    for (size_t i = 0; i < t->n_places; i++)
        if (strcmp(t->places[i].supervisor, sup) == 0) return true;
    return false;
}

static bool named(const nb_topo_t *t, const char *name_or_id) {
    return strcmp(t->name, name_or_id) == 0 || strcmp(t->id, name_or_id) == 0;
}

/* The newest removed topology of that name or id, or NULL. */
static const nb_topo_t *gone_find(const nimbus_t *nb, const char *name_or_id) {
    for (size_t i = nb->n_gone; i-- > 0;)
        if (named(nb->gone[i], name_or_id)) return nb->gone[i];
    return NULL;
}

/* t's assignment into *a, its executors at slots + *k. */
static void put_assignment(const nimbus_t *nb, const nb_topo_t *t, const char *status,
                           gale__ctl_topology_assignment_t *a, gale__ctl_executor_slot_t *slots,
                           size_t *k) {
    *a = (gale__ctl_topology_assignment_t){
        t->id, status, t->version, {slots + *k, (uint32_t)t->n_places}};
    for (size_t e = 0; e < t->n_places; e++) {
        const gale__sched_place_t *pl = &t->places[e];
        const nb_supervisor_t *s = gale__nb_sup_find(nb, pl->supervisor);
        const gale__component_t *c = gale__topology_task_component(t->t, pl->start);
        slots[(*k)++] = (gale__ctl_executor_slot_t){(uint64_t)pl->start,
                                                    (uint64_t)pl->end,
                                                    pl->supervisor,
                                                    pl->host,
                                                    (uint64_t)pl->port,
                                                    s ? s->logviewer_port : GALE_CTL_UNSET,
                                                    c ? c->id : GALE__ACKER_COMPONENT};
    }
}

void gale__nb_assignment_fetch(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const gale__ctl_assignment_fetch_t *f = &m->u.assignment_fetch;
    const nb_topo_t *gone = NULL;
    size_t total = 0;
    for (size_t i = 0; i < nb->n_topos; i++) total += nb->topos[i]->n_places;
    if (f->topology && !gale__nb_topo_find(nb, f->topology)) {
        gone = gone_find(nb, f->topology);
        if (gone) total += gone->n_places;
    }
    gale__ctl_topology_assignment_t *as = calloc(nb->n_topos + 1, sizeof *as);
    gale__ctl_executor_slot_t *slots = calloc(total ? total : 1, sizeof *slots);
    if (!as || !slots) {
        free(as);
        free(slots);
        return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
    }
    uint32_t n = 0;
    size_t k = 0;
    for (size_t i = 0; i < nb->n_topos; i++) {
        const nb_topo_t *t = nb->topos[i];
        if (f->supervisor ? !on_supervisor(t, f->supervisor) : !named(t, f->topology)) continue;
        put_assignment(nb, t, t->status, &as[n++], slots, &k);
    }
    if (f->topology && n == 0 && gone) put_assignment(nb, gone, "KILLED", &as[n++], slots, &k);
    if (f->topology && n == 0) {
        free(as);
        free(slots);
        return gale__nb_reply_err(nb, p, m->req, "no topology named '%s' is running", f->topology);
    }
    gale__ctl_assignment_reply_t r = {true, NULL, nb->version, {as, n}};
    char err[512];
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_ASSIGNMENT_REPLY, m->req, &r, err,
                              sizeof err)) {
        GALE_WARN(NB, 0, "assignment_fetch: %s", err);
        gale__nb_reply_err(nb, p, m->req, "%s", err);
    }
    free(as);
    free(slots);
}

/* code_fetch keeps the part it read last: a supervisor asks for a part
 * chunk by chunk (GALE_CTL_CHUNK_MAX each), and reading the whole part
 * from the store for every chunk made a fetch quadratic in its size (a
 * 1 GiB part: 1024 reads of 1 GiB). A stored part never changes (ids are
 * unique), and code_fetch checks its topology still exists before using
 * it; it is dropped after FETCHED_IDLE_NS unused. */
#define FETCHED_IDLE_NS (10 * 1000000000LL)

void gale__nb_fetched_expire(nimbus_t *nb, bool all) {
    if (!nb->fetched.data || (!all && gale__now_ns() - nb->fetched.used_ns < FETCHED_IDLE_NS))
        return;
    free(nb->fetched.data);
    nb->fetched.data = NULL;
    nb->fetched.key[0] = '\0';
}

/* The value of key, kept in nb->fetched (NULL data: empty). */
static int fetched_get(nimbus_t *nb, const char *key, char *err, size_t errlen) {
    nb->fetched.used_ns = gale__now_ns();
    if (nb->fetched.data && strcmp(nb->fetched.key, key) == 0) return 0;
    gale__nb_fetched_expire(nb, true);
    void *v = NULL;
    size_t n = 0;
    int rc = gale__store_get(nb->store, key, &v, &n, err, errlen);
    if (rc) return rc;
    GALE_DEBUG(NB, 0, "code_fetch: read %s (%zu bytes) from the store", key, n);
    snprintf(nb->fetched.key, sizeof nb->fetched.key, "%s", key);
    nb->fetched.data = v;
    nb->fetched.len = n;
    return 0;
}

void gale__nb_code_fetch(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const gale__ctl_code_fetch_t *f = &m->u.code_fetch;
    nb_topo_t *t = gale__nb_topo_find(nb, f->topology_id);
    if (!t || strcmp(t->id, f->topology_id) != 0)
        return gale__nb_reply_err(nb, p, m->req, "no topology with id '%s'", f->topology_id);
    int part = 0;
    while (part < PART__COUNT && strcmp(gale__nimbus_parts[part], f->part)) part++;
    if (part == PART__COUNT) return gale__nb_reply_err(nb, p, m->req, "no part '%s'", f->part);
    if (f->offset > t->size[part])
        return gale__nb_reply_err(nb, p, m->req, "offset %llu is past the end (%llu bytes)",
                                  (unsigned long long)f->offset, (unsigned long long)t->size[part]);
    char key[300], err[512];
    snprintf(key, sizeof key, "topologies/%s/%s", t->id, f->part);
    int rc = fetched_get(nb, key, err, sizeof err);
    if (rc == GALE_ENOENT && part == PART_RESOURCES) rc = 0; /* none: empty */
    if (rc) return gale__nb_reply_err(nb, p, m->req, "cannot read %s: %s", key, err);
    const uint8_t *v = nb->fetched.data;
    size_t n = v ? nb->fetched.len : 0;
    size_t off = (size_t)f->offset, len = n > off ? n - off : 0;
    if (len > f->max_len) len = (size_t)f->max_len;
    static const uint8_t none[1];
    gale__ctl_code_reply_t r = {
        true, NULL, n, {t->sum[part], GALE_CHECKSUM_LEN}, {v && off < n ? v + off : none, len}};
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_CODE_REPLY, m->req, &r, err, sizeof err))
        gale__nb_reply_err(nb, p, m->req, "%s", err);
}
