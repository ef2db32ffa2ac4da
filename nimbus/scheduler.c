/*
 * scheduler.c — the even scheduler (rule and contract in scheduler.h).
 *
 * Slots are numbered per supervisor in ascending port order, so a slot
 * is an index; kept entries are matched to executors through a sorted
 * index of task ranges (nimbus restarts pass a whole assignment back).
 * Everything is allocated per call and freed before returning, except
 * the result's places.
 */
#include "nimbus/scheduler.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct slot {
    size_t sup; /* index into in->supervisors */
    int port;
} slot_t;

/* An executor's range with its index, sorted to find kept entries. */
typedef struct ranged {
    gale__sched_executor_t range;
    size_t index;
} ranged_t;

/* One call's scratch, freed together. */
typedef struct work {
    const gale__sched_input_t *in;
    slot_t *slots;
    size_t n_slots;
    size_t *sup_first;  /* the first slot of each supervisor */
    ranged_t *by_range; /* executors sorted by (start, end) */
    ssize_t *exec_slot; /* slot of each executor, -1: not placed */
    bool *slot_kept;
    size_t *order; /* slots in the order they are handed out */
} work_t;

__attribute__((format(printf, 3, 4))) static int invalid(char *err, size_t errlen, const char *fmt,
                                                         ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return GALE_EINVAL;
}

static int cmp_slot_port(const void *a, const void *b) {
    int x = ((const slot_t *)a)->port, y = ((const slot_t *)b)->port;
    return (x > y) - (x < y);
}

static int cmp_range(const gale__sched_executor_t *a, const gale__sched_executor_t *b) {
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return (a->end > b->end) - (a->end < b->end);
}

static int cmp_ranged(const void *a, const void *b) {
    return cmp_range(&((const ranged_t *)a)->range, &((const ranged_t *)b)->range);
}

static int check_input(const gale__sched_input_t *in, char *err, size_t errlen) {
    if (!in->executors || in->n_executors == 0)
        return invalid(err, errlen, "schedule: the topology has no executors");
    if (in->workers < 1)
        return invalid(err, errlen, "schedule: %d workers requested (at least 1)", in->workers);
    for (size_t i = 0; i < in->n_executors; i++) {
        const gale__sched_executor_t *e = &in->executors[i];
        if (e->start < 1 || e->end < e->start)
            return invalid(err, errlen, "schedule: executor %zu has task range [%d, %d]", i,
                           e->start, e->end);
    }
    if (in->n_supervisors && !in->supervisors)
        return invalid(err, errlen, "schedule: supervisors missing");
    if (in->n_keep && !in->keep) return invalid(err, errlen, "schedule: kept entries missing");
    for (size_t i = 0; i < in->n_supervisors; i++) {
        const gale__sched_supervisor_t *s = &in->supervisors[i];
        if (!s->id || !*s->id || !s->host || !*s->host || (s->n_ports && !s->ports))
            return invalid(err, errlen, "schedule: supervisor %zu has no id, host or ports", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->supervisors[j].id, s->id) == 0)
                return invalid(err, errlen, "schedule: supervisor '%s' is listed twice", s->id);
        for (size_t p = 0; p < s->n_ports; p++) {
            if (s->ports[p] < 1 || s->ports[p] > 65535)
                return invalid(err, errlen, "schedule: supervisor '%s' offers port %d", s->id,
                               s->ports[p]);
            for (size_t q = 0; q < p; q++)
                if (s->ports[q] == s->ports[p])
                    return invalid(err, errlen, "schedule: supervisor '%s' offers port %d twice",
                                   s->id, s->ports[p]);
        }
    }
    return 0;
}

/* The executor running exactly [start, end], or -1. */
static ssize_t find_executor(const work_t *w, int32_t start, int32_t end) {
    gale__sched_executor_t key = {start, end};
    size_t lo = 0, hi = w->in->n_executors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_range(&w->by_range[mid].range, &key);
        if (c == 0) return (ssize_t)w->by_range[mid].index;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The slot (supervisor id, port), or -1 when that supervisor is gone or
 * no longer offers the port. */
static ssize_t find_slot(const work_t *w, const char *sup, int port) {
    if (!sup) return -1;
    for (size_t s = 0; s < w->in->n_supervisors; s++) {
        if (strcmp(w->in->supervisors[s].id, sup) != 0) continue;
        for (size_t i = w->sup_first[s]; i < w->sup_first[s + 1]; i++)
            if (w->slots[i].port == port) return (ssize_t)i;
        return -1;
    }
    return -1;
}

/* Free slots in hand-out order: supervisors with the most free slots
 * first (ties by id), then one port of each in turn. Returns the count,
 * or -1 when out of memory. */
static ssize_t order_free_slots(work_t *w) {
    size_t n_sup = w->in->n_supervisors;
    size_t *groups = calloc(n_sup ? n_sup : 1, sizeof(*groups));
    size_t *free_count = calloc(n_sup ? n_sup : 1, sizeof(*free_count));
    ssize_t n = 0;
    if (!groups || !free_count) {
        n = -1;
        goto out;
    }
    for (size_t s = 0; s < n_sup; s++) {
        for (size_t i = w->sup_first[s]; i < w->sup_first[s + 1]; i++)
            free_count[s] += !w->slot_kept[i];
        groups[s] = s;
    }
    /* Insertion sort: few supervisors, and no qsort context needed. */
    for (size_t i = 1; i < n_sup; i++) {
        size_t g = groups[i], j = i;
        while (j > 0) {
            size_t h = groups[j - 1];
            bool before = free_count[g] > free_count[h] ||
                          (free_count[g] == free_count[h] &&
                           strcmp(w->in->supervisors[g].id, w->in->supervisors[h].id) < 0);
            if (!before) break;
            groups[j] = h;
            j--;
        }
        groups[j] = g;
    }
    for (size_t round = 0;; round++) {
        bool any = false;
        for (size_t gi = 0; gi < n_sup; gi++) {
            size_t s = groups[gi], seen = 0;
            for (size_t i = w->sup_first[s]; i < w->sup_first[s + 1]; i++) {
                if (w->slot_kept[i]) continue;
                if (seen++ == round) {
                    w->order[n++] = i;
                    any = true;
                    break;
                }
            }
        }
        if (!any) break;
    }
out:
    free(groups);
    free(free_count);
    return n;
}

static void work_free(work_t *w) {
    free(w->slots);
    free(w->sup_first);
    free(w->by_range);
    free(w->exec_slot);
    free(w->slot_kept);
    free(w->order);
}

int gale__schedule(const gale__sched_input_t *in, gale__sched_result_t *out, char *err,
                   size_t errlen) {
    if (!in || !out) return invalid(err, errlen, "schedule: no input or output");
    memset(out, 0, sizeof(*out));
    int rc = check_input(in, err, errlen);
    if (rc) return rc;

    work_t w = {.in = in};
    size_t n_exec = in->n_executors;
    for (size_t s = 0; s < in->n_supervisors; s++) w.n_slots += in->supervisors[s].n_ports;
    w.slots = calloc(w.n_slots ? w.n_slots : 1, sizeof(*w.slots));
    w.sup_first = calloc(in->n_supervisors + 1, sizeof(*w.sup_first));
    w.by_range = calloc(n_exec, sizeof(*w.by_range));
    w.exec_slot = calloc(n_exec, sizeof(*w.exec_slot));
    w.slot_kept = calloc(w.n_slots ? w.n_slots : 1, sizeof(*w.slot_kept));
    w.order = calloc(w.n_slots ? w.n_slots : 1, sizeof(*w.order));
    out->places = calloc(n_exec, sizeof(*out->places));
    if (!w.slots || !w.sup_first || !w.by_range || !w.exec_slot || !w.slot_kept || !w.order ||
        !out->places) {
        rc = GALE_ENOMEM;
        goto done;
    }

    /* Slots, ports ascending within each supervisor. */
    size_t k = 0;
    for (size_t s = 0; s < in->n_supervisors; s++) {
        w.sup_first[s] = k;
        size_t first = k;
        for (size_t p = 0; p < in->supervisors[s].n_ports; p++)
            w.slots[k++] = (slot_t){s, in->supervisors[s].ports[p]};
        qsort(w.slots + first, k - first, sizeof(*w.slots), cmp_slot_port);
    }
    w.sup_first[in->n_supervisors] = k;

    for (size_t i = 0; i < n_exec; i++) {
        w.by_range[i] = (ranged_t){in->executors[i], i};
        w.exec_slot[i] = -1;
    }
    qsort(w.by_range, n_exec, sizeof(*w.by_range), cmp_ranged);
    for (size_t i = 1; i < n_exec; i++)
        if (w.by_range[i].range.start <= w.by_range[i - 1].range.end) {
            rc = invalid(err, errlen, "schedule: executors [%d, %d] and [%d, %d] share tasks",
                         w.by_range[i - 1].range.start, w.by_range[i - 1].range.end,
                         w.by_range[i].range.start, w.by_range[i].range.end);
            goto done;
        }

    /* Keep what still runs where it runs. */
    size_t kept_exec = 0, kept_slots = 0;
    for (size_t i = 0; i < in->n_keep; i++) {
        const gale__sched_place_t *kp = &in->keep[i];
        ssize_t e = find_executor(&w, kp->start, kp->end);
        ssize_t sl = find_slot(&w, kp->supervisor, kp->port);
        if (e < 0 || sl < 0 || w.exec_slot[e] >= 0) continue; /* gone, moved or repeated */
        w.exec_slot[e] = sl;
        kept_exec++;
        if (!w.slot_kept[sl]) kept_slots++;
        w.slot_kept[sl] = true;
    }
    bool kept_all_valid = kept_exec == in->n_keep;
    if (kept_slots > (size_t)in->workers) { /* a rebalance to fewer workers */
        for (size_t i = 0; i < n_exec; i++) w.exec_slot[i] = -1;
        memset(w.slot_kept, 0, w.n_slots * sizeof(*w.slot_kept));
        kept_exec = kept_slots = 0;
        kept_all_valid = false;
    }

    ssize_t ordered = order_free_slots(&w);
    if (ordered < 0) {
        rc = GALE_ENOMEM;
        goto done;
    }
    size_t n_free = (size_t)ordered;
    size_t unplaced = n_exec - kept_exec;
    size_t want_new = (size_t)in->workers - kept_slots;
    if (want_new > unplaced) want_new = unplaced; /* never a slot with nothing to run */
    size_t n_new = want_new < n_free ? want_new : n_free;
    if (kept_slots + n_new == 0) {
        rc = GALE_ENOENT;
        if (err && errlen)
            snprintf(err, errlen,
                     "no free worker slots (%zu live supervisor%s, none with a free slot): "
                     "start a supervisor or kill a topology to free slots",
                     in->n_supervisors, in->n_supervisors == 1 ? "" : "s");
        goto done;
    }
    if (n_new < want_new)
        snprintf(out->note, sizeof out->note,
                 "wants %d workers but only %zu slot%s free: running %zu", in->workers,
                 kept_slots + n_free, kept_slots + n_free == 1 ? " is" : "s are",
                 kept_slots + n_new);

    /* The rest round-robin over the new slots, or over the kept ones. */
    size_t *targets = w.order, n_targets = n_new;
    if (n_new == 0 && unplaced > 0) {
        n_targets = 0;
        for (size_t i = 0; i < n_exec; i++) {
            ssize_t sl = w.exec_slot[i];
            bool listed = false;
            for (size_t t = 0; sl >= 0 && t < n_targets && !listed; t++)
                listed = w.order[t] == (size_t)sl;
            if (sl >= 0 && !listed) w.order[n_targets++] = (size_t)sl;
        }
    }
    for (size_t i = 0, next = 0; i < n_exec; i++)
        if (w.exec_slot[i] < 0) w.exec_slot[i] = (ssize_t)targets[next++ % n_targets];

    /* Places, and the distinct slots used. */
    memset(w.slot_kept, 0, w.n_slots * sizeof(*w.slot_kept)); /* reused: slot in use */
    for (size_t i = 0; i < n_exec; i++) {
        const slot_t *sl = &w.slots[w.exec_slot[i]];
        const gale__sched_supervisor_t *sup = &in->supervisors[sl->sup];
        out->places[i] = (gale__sched_place_t){in->executors[i].start, in->executors[i].end,
                                               sup->id, sup->host, sl->port};
        if (!w.slot_kept[w.exec_slot[i]]) out->workers++;
        w.slot_kept[w.exec_slot[i]] = true;
    }
    out->n_places = n_exec;
    out->changed = !(kept_exec == n_exec && kept_all_valid);
    out->version = out->changed ? in->version + 1 : in->version;

done:
    work_free(&w);
    if (rc) {
        free(out->places);
        memset(out, 0, sizeof(*out));
        if (rc == GALE_ENOMEM && err && errlen) snprintf(err, errlen, "schedule: out of memory");
    }
    return rc;
}

void gale__sched_result_free(gale__sched_result_t *out) {
    if (!out) return;
    free(out->places);
    out->places = NULL;
    out->n_places = 0;
}
