/*
 * rt_harness.h — the pieces every runtime test program shares: resolving
 * components defined in the test binary by name (it is linked with
 * -rdynamic), building and starting a runtime from a builder, a spout
 * state that is one counter, and polling a condition with a deadline
 * instead of sleeping. Each test program is its own executable, so these
 * are static inline. Include it after cmocka.h.
 */
#ifndef GALE_TESTS_RT_HARNESS_H
#define GALE_TESTS_RT_HARNESS_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "gale/gale.h"
#include "topology/topology.h"
#include "worker/runtime.h"

static inline const void *resolve(void *ud, const char *sym) {
    (void)ud;
    return dlsym(RTLD_DEFAULT, sym);
}

/* Finish the builder, validate, assign tasks and make the runtime; start
 * it too when `start`. rc (err filled) on a refusal, with nothing left. */
static inline int harness_make(gale_builder_t *b, const char *name, gale_conf_t *conf, bool start,
                               gale__rt_t **out, char *err, size_t n) {
    gale__topology_t *t = NULL;
    *out = NULL;
    int rc = gale__builder_finish(b, name, conf, &t, err, n);
    if (rc) return rc;
    rc = gale__topology_validate(t, resolve, NULL, err, n);
    if (rc) {
        gale__topology_destroy(t);
        return rc;
    }
    gale__topology_assign_tasks(t);
    rc = gale__rt_new(out, t, NULL, NULL, resolve, NULL, err, n);
    if (rc || !start) return rc;
    rc = gale__rt_start(*out, err, n);
    if (rc) {
        gale__rt_stop(*out, 0);
        gale__rt_destroy(*out);
        *out = NULL;
    }
    return rc;
}

/* harness_make that must succeed (the test fails with the message). */
static inline gale__rt_t *harness_must(gale_builder_t *b, const char *name, gale_conf_t *conf,
                                       bool start) {
    char err[512] = "";
    gale__rt_t *rt = NULL;
    int rc = harness_make(b, name, conf, start, &rt, err, sizeof err);
    if (rc) fprintf(stderr, "%s: %s\n", name, err);
    assert_int_equal(rc, 0);
    return rt;
}

/* A spout whose state is one zeroed int64_t counter. */
static inline int harness_counter_open(void **st, const gale_context_t *ctx,
                                       gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    *st = calloc(1, sizeof(int64_t));
    return *st ? 0 : GALE_ENOMEM;
}
static inline void harness_counter_close(void *st) {
    free(st);
}

/* The first executor of a component (NULL: none). */
static inline gale__exec_t *harness_exec_of(gale__rt_t *rt, const char *component) {
    for (size_t i = 0; i < rt->n_execs; i++)
        if (strcmp(rt->execs[i].comp->id, component) == 0) return &rt->execs[i];
    return NULL;
}

/* true once cond() holds, false if it still does not after secs */
static inline bool wait_until(bool (*cond)(void), int secs) {
    int64_t deadline = gale__now_ns() + (int64_t)secs * 1000000000;
    while (gale__now_ns() < deadline) {
        if (cond()) return true;
        usleep(2000);
    }
    return cond();
}

#endif
