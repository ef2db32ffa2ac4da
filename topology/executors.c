/*
 * executors.c — a topology's executors as task ranges (see executors.h).
 */
#include "topology/executors.h"

#include <stdlib.h>

#include "common/config.h"

int gale__topology_ackers(const gale_conf_t *conf, int workers) {
    int64_t a = gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, workers);
    return a < 0 ? 0 : (int)a;
}

int gale__topology_executors(const gale__topology_t *t, int ackers, gale__exec_range_t **out,
                             size_t *n) {
    size_t total = (size_t)(ackers > 0 ? ackers : 0);
    for (size_t i = 0; i < t->n_components; i++) total += (size_t)t->components[i].parallelism;
    gale__exec_range_t *r = calloc(total ? total : 1, sizeof(*r));
    if (!r) return GALE_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < t->n_components; i++) {
        const gale__component_t *c = &t->components[i];
        size_t nt = (size_t)c->tasks, p = (size_t)c->parallelism;
        for (size_t e = 0; e < p; e++) {
            size_t lo = nt * e / p, hi = nt * (e + 1) / p;
            r[k].start = c->first_task + (int32_t)lo;
            r[k].end = c->first_task + (int32_t)hi - 1;
            k++;
        }
    }
    for (int a = 0; a < ackers; a++, k++) r[k].start = r[k].end = t->n_tasks + 1 + a;
    *out = r;
    *n = k;
    return 0;
}
