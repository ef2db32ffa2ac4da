/*
 * runtime.c — building a topology's runtime: merged confs, components
 * resolved by symbol, the acker, executors and their tasks, placement of
 * executors on workers, groupers; starting and stopping it.
 *
 * Placement (same as Storm's even scheduler): executors are listed by
 * component id then task, and dealt round-robin over the workers; acker
 * executor i goes to worker i % workers, so by default each worker has
 * its own acker. A cluster worker (gale__rt_new_placed) places them as its
 * assignment says instead, and only its own executors get queues, pools,
 * groupers and threads: the others are lanes to another process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "common/config.h"
#include "common/log.h"
#include "worker/runtime.h"

#define MAX_EXECUTORS_PER_WORKER 1024

static const char *const sys_stream_names[GALE__SYS_COUNT] = {
    "__tick",      "__ack_init",  "__ack_ack",    "__ack_fail",
    "__ack_reset", "__spout_ack", "__spout_fail", "__spout_reset"};

static int merged_conf(gale_conf_t **out, const gale_conf_t *const *layers, size_t n) {
    gale_conf_t *c = gale_conf_new();
    if (!c) return GALE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (layers[i] && gale__conf_merge(c, layers[i])) {
            gale_conf_destroy(c);
            return GALE_ENOMEM;
        }
    *out = c;
    return 0;
}

static int64_t conf_int(const gale_conf_t *c, const char *key, int64_t def) {
    return gale_conf_get_int(c, key, def);
}

/* Subscriptions of stream s of component c, from every component's inputs. */
static int collect_subs(gale__rt_t *rt, gale__rcomp_t *c, gale__rstream_t *s) {
    for (size_t i = 0; i < rt->topo->n_components; i++) {
        const gale__component_t *tc = &rt->topo->components[i];
        for (size_t j = 0; j < tc->n_inputs; j++) {
            const gale__input_t *in = &tc->inputs[j];
            if (strcmp(in->source, c->id) || strcmp(in->stream, s->id)) continue;
            gale__sub_t *n = realloc(s->subs, (s->n_subs + 1) * sizeof(*n));
            if (!n) return GALE_ENOMEM;
            s->subs = n;
            s->subs[s->n_subs].input = in;
            s->subs[s->n_subs].target = &rt->comps[i];
            s->n_subs++;
            rt->comps[i].in_streams[j] = s;
        }
    }
    return 0;
}

static int setup_components(gale__rt_t *rt, const gale_conf_t *overrides, char *err,
                            size_t errlen) {
    gale__topology_t *t = rt->topo;
    for (size_t i = 0; i < t->n_components; i++) {
        gale__component_t *d = &t->components[i];
        gale__rcomp_t *c = &rt->comps[i];
        c->def = d;
        c->id = d->id;
        c->is_spout = d->is_spout;
        const void *impl = rt->resolve(rt->resolve_ud, d->symbol);
        if (!impl) {
            snprintf(err, errlen, "component '%s': implementation symbol '%s' not found", d->id,
                     d->symbol);
            return GALE_ENOENT;
        }
        if (c->is_spout)
            c->spout = impl;
        else
            c->bolt = impl;
        if ((c->is_spout && !c->spout->next_tuple) || (!c->is_spout && !c->bolt->execute)) {
            snprintf(err, errlen, "component '%s': '%s' has no %s callback", d->id, d->symbol,
                     c->is_spout ? "next_tuple" : "execute");
            return GALE_EINVAL;
        }
        const gale_conf_t *layers[] = {rt->conf, d->conf, overrides};
        if (merged_conf(&c->conf, layers, 3)) return GALE_ENOMEM;
        c->debug = gale_conf_get_bool(c->conf, GALE_CONF_TOPOLOGY_DEBUG, false);
        c->n_tasks = (size_t)d->tasks;
        c->tasks = malloc(c->n_tasks * sizeof(int));
        if (!c->tasks) return GALE_ENOMEM;
        for (size_t k = 0; k < c->n_tasks; k++) c->tasks[k] = d->first_task + (int)k;
        c->n_streams = d->n_streams;
        c->default_stream = -1;
        c->n_inputs = d->n_inputs;
        c->in_streams = calloc(d->n_inputs ? d->n_inputs : 1, sizeof(*c->in_streams));
        if (!c->in_streams) return GALE_ENOMEM;
        c->streams = calloc(d->n_streams ? d->n_streams : 1, sizeof(gale__rstream_t));
        if (!c->streams) return GALE_ENOMEM;
        for (size_t k = 0; k < d->n_streams; k++) {
            gale__rstream_t *s = &c->streams[k];
            s->component = c->id;
            s->id = d->streams[k].id;
            s->def = &d->streams[k];
            s->sys = -1;
            if (strcmp(s->id, GALE_DEFAULT_STREAM) == 0) c->default_stream = (int)k;
        }
    }
    for (size_t i = 0; i < t->n_components; i++)
        for (size_t k = 0; k < rt->comps[i].n_streams; k++)
            if (collect_subs(rt, &rt->comps[i], &rt->comps[i].streams[k])) return GALE_ENOMEM;
    return 0;
}

/* Executors of a component: tasks split into `par` contiguous runs. */
static int add_executors(gale__rt_t *rt, gale__rcomp_t *c, int par, size_t *next) {
    for (int k = 0; k < par; k++) {
        gale__exec_t *e = &rt->execs[(*next)++];
        size_t lo = c->n_tasks * (size_t)k / (size_t)par;
        size_t hi = c->n_tasks * (size_t)(k + 1) / (size_t)par;
        e->index = (int)(e - rt->execs);
        e->rt = rt;
        e->comp = c;
        e->n_tasks = hi - lo;
        e->tasks = calloc(e->n_tasks, sizeof(gale__task_t));
        if (!e->tasks) return GALE_ENOMEM;
        for (size_t j = 0; j < e->n_tasks; j++) {
            gale__task_t *tk = &e->tasks[j];
            tk->id = c->tasks[lo + j];
            tk->index = (int)(lo + j);
            tk->exec = e;
            tk->comp = c;
            for (int side = 0; side < 2; side++) {
                tk->rng[side] = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)tk->id << 32) ^
                                (uint64_t)gale__now_ns() ^ (uint64_t)(uintptr_t)tk ^
                                ((uint64_t)side << 62);
                if (!tk->rng[side]) tk->rng[side] = 1;
            }
            rt->task_exec[tk->id] = e->index;
            rt->task_index[tk->id] = (int)j;
            rt->task_comp[tk->id] = c;
        }
    }
    return 0;
}

/* One grouper per (side, stream, subscription): side 0 for the executor's
 * thread, side 1 for other threads (see executor.c), so neither shares the
 * round-robin or load state of the other. */
static int make_grouper(gale__rt_t *rt, gale__exec_t *e, gale__task_t *tk, gale__rstream_t *s,
                        size_t k, int side, gale__grouper_t **out, char *err, size_t errlen) {
    const gale__input_t *in = s->subs[k].input;
    gale__rcomp_t *tc = s->subs[k].target;
    *out = NULL;
    if (in->grouping == GALE_GROUPING_DIRECT) return 0;
    const gale_grouping_t *custom = NULL;
    if (in->grouping == GALE_GROUPING_CUSTOM &&
        !(custom = rt->resolve(rt->resolve_ud, in->custom_symbol))) {
        snprintf(err, errlen, "component '%s': custom grouping symbol '%s' not found", tc->id,
                 in->custom_symbol);
        return GALE_ENOENT;
    }
    int *local = malloc(tc->n_tasks * sizeof(int));
    gale__grouper_t *g = calloc(1, sizeof(*g));
    if (!local || !g) {
        free(local);
        free(g);
        return GALE_ENOMEM;
    }
    size_t nl = 0;
    for (size_t q = 0; q < tc->n_tasks; q++)
        if (rt->execs[rt->task_exec[tc->tasks[q]]].worker == e->worker) local[nl++] = tc->tasks[q];
    uint64_t seed = ((uint64_t)tk->id * 0x9E3779B97F4A7C15ULL + k + 1) ^ ((uint64_t)side << 63);
    int rc = gale__grouper_init(g, in, s->def, tc->tasks, tc->n_tasks, local, nl, seed, custom);
    free(local);
    if (rc) {
        free(g);
        snprintf(err, errlen, "component '%s': cannot set up %s grouping from '%s' (%s)", tc->id,
                 gale__grouping_name(in->grouping), e->comp->id, gale_strerror(rc));
        return rc;
    }
    *out = g;
    return 0;
}

/* Most target tasks one emit of c can have: an all or custom grouping
 * reaches every task of its subscriber, the others one. */
static size_t max_targets(const gale__rcomp_t *c) {
    size_t most = 1;
    for (size_t si = 0; si < c->n_streams; si++) {
        size_t n = 0;
        for (size_t k = 0; k < c->streams[si].n_subs; k++) {
            gale__grouping_t g = c->streams[si].subs[k].input->grouping;
            n += g == GALE_GROUPING_ALL || g == GALE_GROUPING_CUSTOM
                     ? c->streams[si].subs[k].target->n_tasks
                     : 1;
        }
        if (n > most) most = n;
    }
    return most;
}

static int setup_groupers(gale__rt_t *rt, gale__exec_t *e, char *err, size_t errlen) {
    gale__rcomp_t *c = e->comp;
    size_t most = max_targets(c);
    for (size_t j = 0; j < e->n_tasks; j++) {
        e->tasks[j].max_targets = most;
        e->tasks[j].targets = malloc(2 * most * sizeof(int)); /* one half per side */
        if (!e->tasks[j].targets) return GALE_ENOMEM;
    }
    if (!c->n_streams) return 0;
    for (size_t j = 0; j < e->n_tasks; j++) {
        gale__task_t *tk = &e->tasks[j];
        for (int side = 0; side < 2; side++) {
            tk->groupers[side] = calloc(c->n_streams, sizeof(*tk->groupers[side]));
            if (!tk->groupers[side]) return GALE_ENOMEM;
            for (size_t si = 0; si < c->n_streams; si++) {
                gale__rstream_t *s = &c->streams[si];
                if (!s->n_subs) continue;
                tk->groupers[side][si] = calloc(s->n_subs, sizeof(gale__grouper_t *));
                if (!tk->groupers[side][si]) return GALE_ENOMEM;
                for (size_t k = 0; k < s->n_subs; k++) {
                    int rc = make_grouper(rt, e, tk, s, k, side, &tk->groupers[side][si][k], err,
                                          errlen);
                    if (rc) return rc;
                }
            }
        }
    }
    return 0;
}

static int init_exec(gale__rt_t *rt, gale__exec_t *e) {
    gale__rcomp_t *c = e->comp;
    int64_t qcap = conf_int(c->conf, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 32768);
    if (gale__queue_init(&e->queue, (size_t)qcap)) return GALE_ENOMEM;
    gale__queue_limit_bytes(&e->queue,
                            conf_int(c->conf, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BYTES, 64 << 20));
    gale__mem_add(qcap * (int64_t)sizeof(gale__slot_t));
    gale__pool_init(&e->pool);
    gale__pool_init(&e->foreign_pool);
    pthread_mutex_init(&e->foreign_lock, NULL);
    pthread_mutex_init(&e->acker_lock, NULL);
    pthread_mutex_init(&e->err_lock, NULL);
    for (int sd = 0; sd < 2; sd++) {
        e->sstats[sd] = calloc(c->n_streams ? c->n_streams : 1, sizeof(gale__sstats_t));
        e->istats[sd] = calloc(c->n_inputs ? c->n_inputs : 1, sizeof(gale__istats_t));
        if (!e->sstats[sd] || !e->istats[sd]) return GALE_ENOMEM;
    }
    e->out = calloc(rt->n_execs, sizeof(*e->out));
    e->dirty = calloc(rt->n_execs, sizeof(int));
    if (!e->out || !e->dirty) return GALE_ENOMEM;
    if ((c->is_spout || c->is_acker) && gale__pendmap_init(&e->pending, 1024)) return GALE_ENOMEM;
    if (c->is_spout) {
        int64_t mp = conf_int(c->conf, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 0);
        e->max_pending = mp > 0 ? mp : 0; /* per task, as in Storm */
    } else if (!c->is_acker) {
        int64_t tick = conf_int(c->conf, GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS, 0);
        e->tick_ns = tick > 0 ? tick * 1000000000 : 0;
    }
    double rate = gale_conf_get_double(c->conf, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, 0.05);
    e->sample_every = rate > 0 ? (uint64_t)(1.0 / rate + 0.5) : 0;
    e->sample_left = e->sample_every;
    return 0;
}

/* Cluster placement: each executor's worker from place, by task range. */
static int place_executors(gale__rt_t *rt, const gale__rt_place_t *place, char *err,
                           size_t errlen) {
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        int32_t lo = e->tasks[0].id, hi = e->tasks[e->n_tasks - 1].id;
        int w = gale__place_worker_of(place, lo, hi);
        if (w < 0 || (size_t)w >= rt->n_workers) {
            snprintf(err, errlen,
                     "the assignment has no slot for executor [%d-%d] of '%s': it was made for "
                     "another version of the topology",
                     lo, hi, e->comp->id);
            return GALE_EINVAL;
        }
        gale__worker_t *wk = &rt->workers[w];
        e->worker = wk;
        wk->execs[wk->n_execs++] = e;
    }
    rt->endpoints = calloc(rt->n_workers, sizeof(char *));
    if (!rt->endpoints) return GALE_ENOMEM;
    for (size_t w = 0; w < rt->n_workers; w++) {
        rt->workers[w].local = (int)w == place->here;
        if (!(rt->endpoints[w] = strdup(place->endpoints[w]))) return GALE_ENOMEM;
    }
    pthread_mutex_init(&rt->endpoints_lock, NULL);
    return 0;
}

int gale__rt_set_endpoints(gale__rt_t *rt, const gale__rt_place_t *place) {
    int moved = 0;
    if (!rt->endpoints || place->n_workers != rt->n_workers) return 0;
    pthread_mutex_lock(&rt->endpoints_lock);
    for (size_t w = 0; w < rt->n_workers; w++) {
        if ((int)w == place->here || strcmp(rt->endpoints[w], place->endpoints[w]) == 0) continue;
        char *ep = strdup(place->endpoints[w]);
        if (!ep) continue;
        free(rt->endpoints[w]);
        rt->endpoints[w] = ep;
        moved++;
    }
    pthread_mutex_unlock(&rt->endpoints_lock);
    if (moved) {
        atomic_fetch_add(&rt->endpoints_gen, 1);
        for (size_t w = 0; w < rt->n_workers; w++)
            if (rt->workers[w].local) {
                gale__wake_word_kick(&rt->workers[w].transfer_wake);
                gale__transfer_wake_rx(&rt->workers[w]);
            }
    }
    return moved;
}

int gale__rt_new(gale__rt_t **out, gale__topology_t *topo, const gale_conf_t *base,
                 const gale_conf_t *overrides, gale__resolve_fn resolve, void *ud, char *err,
                 size_t errlen) {
    return gale__rt_new_placed(out, topo, base, overrides, resolve, ud, NULL, err, errlen);
}

int gale__rt_new_placed(gale__rt_t **out, gale__topology_t *topo, const gale_conf_t *base,
                        const gale_conf_t *overrides, gale__resolve_fn resolve, void *ud,
                        const gale__rt_place_t *place, char *err, size_t errlen) {
    *out = NULL;
    gale__rt_t *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        gale__topology_destroy(topo);
        return GALE_ENOMEM;
    }
    rt->topo = topo;
    rt->name = topo->name;
    rt->resolve = resolve;
    rt->resolve_ud = ud;
    atomic_init(&rt->spouts_on, true);
    int rc = GALE_ENOMEM;
    gale_conf_t *defaults = gale_conf_new();
    if (!defaults || gale__conf_set_defaults(defaults)) goto fail;
    const gale_conf_t *layers[] = {defaults, base, topo->conf, overrides};
    rc = merged_conf(&rt->conf, layers, 4);
    if (rc) goto fail;

    int workers = (int)conf_int(rt->conf, GALE_CONF_TOPOLOGY_WORKERS, 1);
    int ackers = (int)conf_int(rt->conf, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, workers);
    if (place) {
        /* a cluster worker takes the acker count from its assignment (the
         * executors past the topology's tasks): nimbus decides it, e.g.
         * one per worker after a rebalance changed the worker count */
        ackers = 0;
        for (size_t i = 0; i < place->n_execs; i++) ackers += place->execs[i].start > topo->n_tasks;
    }
    rt->acking = ackers > 0;
    bool timeouts = gale_conf_get_bool(rt->conf, GALE_CONF_TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS, true);
    rt->timeout_ns =
        timeouts ? conf_int(rt->conf, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 30) * 1000000000 : 0;
    rt->producer_batch = (size_t)conf_int(rt->conf, GALE_CONF_TOPOLOGY_PRODUCER_BATCH_SIZE, 64);
    rt->flush_ns = conf_int(rt->conf, GALE_CONF_TOPOLOGY_BATCH_FLUSH_INTERVAL_MICROS, 1000) * 1000;
    rt->spout_wait_max_us = conf_int(rt->conf, GALE_CONF_TOPOLOGY_SPOUT_WAIT_MAX_MICROS, 1000);
    rt->reply_spin_ns = conf_int(rt->conf, GALE_CONF_TOPOLOGY_REPLY_SPIN_MICROS, 50) * 1000;
    rt->bolt_spin_ns = conf_int(rt->conf, GALE_CONF_TOPOLOGY_BOLT_WAIT_SPIN_MICROS, 0) * 1000;
    rt->pack_cores = gale_conf_get_double(rt->conf, GALE_CONF_TOPOLOGY_WORKER_PACK_CORES, 0.5);

    rt->n_comps = topo->n_components + (rt->acking ? 1 : 0);
    rt->comps = calloc(rt->n_comps, sizeof(*rt->comps));
    rt->max_task = topo->n_tasks + (rt->acking ? ackers : 0);
    rt->task_comp = calloc((size_t)rt->max_task + 1, sizeof(*rt->task_comp));
    rt->task_exec = calloc((size_t)rt->max_task + 1, sizeof(int));
    rt->task_index = calloc((size_t)rt->max_task + 1, sizeof(int));
    if (!rt->comps || !rt->task_comp || !rt->task_exec || !rt->task_index) goto fail;
    rc = setup_components(rt, overrides, err, errlen);
    if (rc) goto fail;
    rc = GALE_ENOMEM;
    for (int s = 0; s < GALE__SYS_COUNT; s++) {
        rt->sys[s].component = s == GALE__SYS_TICK ? GALE_SYSTEM_COMPONENT : GALE__ACKER_COMPONENT;
        rt->sys[s].id = sys_stream_names[s];
        rt->sys[s].sys = s;
    }
    if (rt->acking) {
        gale__rcomp_t *a = rt->acker = &rt->comps[rt->n_comps - 1];
        a->id = GALE__ACKER_COMPONENT;
        a->is_acker = true;
        a->default_stream = -1;
        const gale_conf_t *al[] = {rt->conf, overrides};
        if (merged_conf(&a->conf, al, 2)) goto fail;
        a->n_tasks = (size_t)ackers;
        a->tasks = malloc(a->n_tasks * sizeof(int));
        a->streams = calloc(1, sizeof(gale__rstream_t));
        if (!a->tasks || !a->streams) goto fail;
        for (int k = 0; k < ackers; k++) a->tasks[k] = topo->n_tasks + 1 + k;
    }

    for (size_t i = 0; i < topo->n_components; i++)
        rt->n_execs += (size_t)topo->components[i].parallelism;
    rt->n_execs += rt->acking ? (size_t)ackers : 0;
    /* executors are threads with their own queues: refuse absurd counts
     * with a clear line rather than exhausting memory */
    if (rt->n_execs > (size_t)MAX_EXECUTORS_PER_WORKER * (size_t)workers) {
        snprintf(err, errlen,
                 "topology needs %zu executors for %zu worker(s); at most %d run in one worker: "
                 "lower the parallelism hints or raise topology.workers",
                 rt->n_execs, (size_t)workers, MAX_EXECUTORS_PER_WORKER);
        rc = GALE_ERANGE;
        goto fail;
    }
    rt->execs = gale__zalloc_aligned(_Alignof(gale__exec_t), rt->n_execs * sizeof(*rt->execs));
    rt->n_workers = place ? place->n_workers : (size_t)workers;
    rt->workers = calloc(rt->n_workers, sizeof(*rt->workers));
    if (!rt->execs || !rt->workers) goto fail;
    size_t next = 0;
    for (size_t i = 0; i < topo->n_components; i++)
        if (add_executors(rt, &rt->comps[i], topo->components[i].parallelism, &next)) goto fail;
    size_t first_acker = next;
    if (rt->acking && add_executors(rt, rt->acker, ackers, &next)) goto fail;

    for (size_t w = 0; w < rt->n_workers; w++) {
        rt->workers[w].index = (int)w;
        rt->workers[w].rt = rt;
        rt->workers[w].local = true;
        rt->workers[w].execs = calloc(rt->n_execs, sizeof(gale__exec_t *));
        if (!rt->workers[w].execs) goto fail;
    }
    for (size_t i = 0; i < rt->n_execs && !place; i++) {
        size_t w = i < first_acker ? i % rt->n_workers : (i - first_acker) % rt->n_workers;
        gale__worker_t *wk = &rt->workers[w];
        rt->execs[i].worker = wk;
        wk->execs[wk->n_execs++] = &rt->execs[i];
    }
    if (place && (rc = place_executors(rt, place, err, errlen))) goto fail;
    rc = GALE_ENOMEM;
    for (size_t w = 0; w < rt->n_workers && rt->n_workers > 1; w++)
        if (rt->workers[w].local && gale__transfer_lanes_init(rt, &rt->workers[w])) goto fail;
    for (size_t i = 0; i < rt->n_execs; i++) {
        if (!rt->execs[i].worker->local) { /* another process runs it */
            atomic_store(&rt->execs[i].open_state, 1);
            atomic_store(&rt->execs[i].deactivated, true);
            continue;
        }
        if (init_exec(rt, &rt->execs[i])) goto fail;
        rc = setup_groupers(rt, &rt->execs[i], err, errlen);
        if (rc) goto fail;
        rc = GALE_ENOMEM;
    }
    gale_conf_destroy(defaults);
    *out = rt;
    return 0;
fail:
    if (rc == GALE_ENOMEM && !err[0]) snprintf(err, errlen, "out of memory building the runtime");
    gale_conf_destroy(defaults);
    gale__rt_destroy(rt);
    return rc;
}

int gale__rt_launch(gale__rt_t *rt, char *err, size_t errlen) {
    for (size_t w = 0; w < rt->n_workers && rt->n_workers > 1; w++) {
        if (!rt->workers[w].local) continue;
        int rc = gale__transfer_start(rt, &rt->workers[w], err, errlen);
        if (rc) return rc;
    }
    /* Each executor opens its tasks on its own thread (as in Storm), so a
     * spout blocked in open cannot hold the caller: it can still give up
     * (a TTL, a signal) and stop. */
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (!e->worker->local) continue;
        if (pthread_create(&e->thread, NULL, gale__exec_main, e)) {
            snprintf(err, errlen, "cannot start executor thread for '%s'", e->comp->id);
            return GALE_ENOMEM;
        }
        e->started = true;
    }
    /* after every thread started: they all carry the process's mask */
    rt->packer = gale__packer_start(rt->pack_cores, rt->name);
    return 0;
}

int gale__rt_poll_open(gale__rt_t *rt, char *err, size_t errlen) {
    int go = atomic_load(&rt->go);
    if (go > 0) return 0;
    if (go < 0) return GALE_ESTATE;
    bool opening = false;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        int st = atomic_load(&e->open_state);
        if (st < 0) {
            snprintf(err, errlen, "%s", e->open_err);
            atomic_store(&rt->go, -1);
            return e->open_rc < 0 ? e->open_rc : GALE_EINVAL;
        }
        opening |= st == 0;
    }
    if (opening) return 1;
    atomic_store(&rt->go, 1);
    GALE_INFO(NULL, 0, "topology '%s' running: %zu executors in %zu worker(s), %d acker(s)",
              rt->name, rt->n_execs, rt->n_workers, rt->acking ? (int)rt->acker->n_tasks : 0);
    return 0;
}

int gale__rt_start(gale__rt_t *rt, char *err, size_t errlen) {
    int rc = gale__rt_launch(rt, err, errlen);
    if (rc) return rc;
    while ((rc = gale__rt_poll_open(rt, err, errlen)) == 1) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

void gale__rt_set_spouts_active(gale__rt_t *rt, bool active) {
    atomic_store(&rt->spouts_on, active);
    /* a deactivated spout with nothing in flight parks without a timeout */
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].worker->local && rt->execs[i].comp->is_spout)
            gale__queue_wake(&rt->execs[i].queue);
}

bool gale__rt_has_finite_spouts(gale__rt_t *rt) {
    for (size_t i = 0; i < rt->n_comps; i++)
        if (rt->comps[i].is_spout && rt->comps[i].spout->done) return true;
    return false;
}

bool gale__rt_done(gale__rt_t *rt) {
    bool any = false;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        /* a cluster worker answers for its own spouts */
        if (!e->worker->local || !e->comp->is_spout || !e->comp->spout->done) continue;
        any = true;
        if (!atomic_load(&e->done)) return false;
    }
    return any;
}

static int64_t pending_trees(gale__rt_t *rt) {
    int64_t n = 0;
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].comp->is_spout) n += atomic_load(&rt->execs[i].n_pending);
    return n;
}

/* Queue counters for a drain: tail only grows (every push claims it). */
static bool queue_quiet(gale__queue_t *q, uint64_t *pushes) {
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    *pushes += t;
    return t == h;
}

/*
 * One look at everything that can hold a tuple in this process: every
 * executor queue and busy flag, every transfer lane and thread. A queue
 * is read before its consumer's flag: a consumer raises busy before it
 * pops, so what it took after the look is either seen as busy or was
 * pushed after the look, which *pushes tells (two looks in a row with
 * the same count saw the same tuples). Tuples a user thread is emitting
 * right now are not seen.
 */
static bool look_quiet(gale__rt_t *rt, uint64_t *pushes) {
    bool quiet = true;
    uint64_t sent = 0, received = 0;
    *pushes = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (!e->worker->local) continue;
        quiet &= queue_quiet(&e->queue, pushes);
        quiet &= atomic_load(&e->busy) == 0;
        quiet &= atomic_load(&e->deactivated) || !e->comp->is_spout;
    }
    for (size_t w = 0; w < rt->n_workers; w++)
        if (rt->workers[w].local && rt->workers[w].transfer)
            quiet &= gale__transfer_quiet(&rt->workers[w], &sent, &received, pushes);
    *pushes += sent + received;
    /* across processes, what one worker sent another receives */
    return quiet && (rt->endpoints || sent == received);
}

/* "component 'c' task N is <state> <phase> (for S s)" */
static void describe_phase(gale__exec_t *e, const char *state, char *buf, size_t len) {
    static const char *const names[GALE__PH_COUNT] = {"its loop",   "open",  "prepare", "activate",
                                                      "next_tuple", "ack",   "fail",    "execute",
                                                      "deactivate", "close", "cleanup"};
    int ph = atomic_load_explicit(&e->phase, memory_order_relaxed);
    int task = atomic_load_explicit(&e->phase_task, memory_order_relaxed);
    int64_t since = atomic_load_explicit(&e->phase_ns, memory_order_relaxed);
    int64_t secs = since ? (gale__now_ns() - since) / 1000000000 : 0;
    snprintf(buf, len, "component '%.64s' task %d is %s %s (for %lld s)", e->comp->id,
             task ? task : e->tasks[0].id, state, names[ph >= 0 && ph < GALE__PH_COUNT ? ph : 0],
             (long long)secs);
}

/* After a drain ran out: what held it, for the warning ("" when nothing
 * is held but trees). A queue with tuples comes first (they are what is
 * dropped), then an executor still in a callback, usually why the queue
 * is not drained: the queue's own consumer if it is busy, else another
 * one in a callback (a spout blocked in next_tuple holds tuples of its
 * own, not anyone's queue). A deactivated spout stays busy while it
 * holds unsent tuples and an acker is in no callback: neither is named.
 * Ids are cut to 64 bytes so that both parts fit in 256. */
static bool what_holds(gale__rt_t *rt, char *buf, size_t len) {
    uint64_t pushes = 0, sent = 0, received = 0;
    gale__exec_t *consumer = NULL;
    int n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < rt->n_execs && !consumer; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (e->worker->local && !queue_quiet(&e->queue, &pushes)) {
            consumer = e;
            n = snprintf(buf, len, "tuples still queued for component '%.64s'", e->comp->id);
        }
    }
    for (size_t w = 0; w < rt->n_workers && !n; w++)
        if (rt->workers[w].local && rt->workers[w].transfer &&
            !gale__transfer_quiet(&rt->workers[w], &sent, &received, &pushes))
            n = snprintf(buf, len, "tuples still in transfer between workers");
    gale__exec_t *held = consumer && atomic_load(&consumer->busy) ? consumer : NULL;
    for (size_t i = 0; i < rt->n_execs && !held; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (e->worker->local && atomic_load(&e->busy) &&
            !(e->comp->is_spout && atomic_load(&e->deactivated)) &&
            atomic_load_explicit(&e->phase, memory_order_relaxed) != GALE__PH_NONE)
            held = e;
    }
    if (held && n >= 0 && (size_t)n + 2 < len) {
        if (n) n += snprintf(buf + n, len - (size_t)n, "; ");
        describe_phase(held, "still in", buf + n, len - (size_t)n);
        return true;
    }
    return n > 0;
}

static bool interrupted(const gale__stop_opts_t *o) {
    return o->interrupted && o->interrupted(o->ud);
}

static void sleep_ms(void) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static void wake_all(gale__rt_t *rt) {
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].worker->local) gale__queue_wake(&rt->execs[i].queue);
}

int gale__rt_stop_ex(gale__rt_t *rt, const gale__stop_opts_t *o) {
    /* before any executor is joined (the packer moves their threads) */
    gale__packer_stop(rt->packer);
    rt->packer = NULL;
    /* Executors still waiting at the gate give up (a failed or cut open). */
    int zero = 0;
    atomic_compare_exchange_strong(&rt->go, &zero, -1);
    /* running, and not stopped before (a second call only waits again
     * for executors that were stuck) */
    bool running = atomic_load(&rt->go) > 0 && atomic_load(&rt->state) < 2;
    if (running) atomic_store(&rt->state, 1);
    wake_all(rt);
    int64_t deadline = gale__now_ns() + (int64_t)o->drain_ms * 1000000;
    /* The drain: spouts deactivate, bolts process what is queued, batched
     * or in transfer, trees complete. Done when two looks in a row find
     * nothing held and no tree pending. Not a test: a bounded wait. */
    uint64_t last = 0;
    int quiet_looks = 0;
    bool drained = !running;
    while (running && gale__now_ns() < deadline && !interrupted(o)) {
        uint64_t pushes;
        bool q = look_quiet(rt, &pushes) && pending_trees(rt) == 0;
        if (!q)
            quiet_looks = 0;
        else if (quiet_looks && pushes == last)
            quiet_looks++;
        else
            quiet_looks = 1;
        last = pushes;
        if (quiet_looks >= 2) {
            drained = true;
            break;
        }
        sleep_ms();
    }
    if (!drained) {
        char held[256];
        int64_t trees = pending_trees(rt);
        if (what_holds(rt, held, sizeof held) || trees > 0)
            GALE_WARN(NULL, 0,
                      "stopping after the %d ms drain with %lld tuple tree(s) in flight%s%s: "
                      "what is left is dropped",
                      o->drain_ms, (long long)trees, held[0] ? "; " : "", held);
    }
    /* Stop: executors return between two tuples, close/cleanup on their
     * own threads; one still in user code after the grace is stuck. */
    atomic_store(&rt->state, 2);
    wake_all(rt);
    int64_t grace = gale__now_ns() + (int64_t)o->grace_ms * 1000000;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < rt->n_execs && all; i++)
            all = !rt->execs[i].started || atomic_load(&rt->execs[i].exited);
        if (all || gale__now_ns() >= grace || interrupted(o)) break;
        sleep_ms();
    }
    int stuck = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        e->stuck = false;
        if (!e->started) continue;
        if (!atomic_load(&e->exited)) {
            e->stuck = true;
            stuck++;
            continue;
        }
        pthread_join(e->thread, NULL);
        e->started = false;
    }
    /* A stuck executor may still push into the lanes: keep them. */
    if (!stuck)
        for (size_t w = 0; w < rt->n_workers; w++) gale__transfer_stop(&rt->workers[w]);
    return stuck;
}

int gale__rt_stop(gale__rt_t *rt, int drain_ms) {
    gale__stop_opts_t o = {.drain_ms = drain_ms, .grace_ms = 2000};
    return gale__rt_stop_ex(rt, &o);
}

void gale__rt_describe_stuck(gale__rt_t *rt, size_t i, char *buf, size_t len) {
    describe_phase(&rt->execs[i], "stuck in", buf, len);
}

bool gale__rt_describe_opening(gale__rt_t *rt, char *buf, size_t len) {
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (e->started && atomic_load(&e->open_state) == 0) {
            describe_phase(e, "still in", buf, len);
            return true;
        }
    }
    return false;
}

static void drain_queue(gale__queue_t *q) {
    void *buf[256];
    size_t n;
    if (!q->slots) return;
    while ((n = gale__queue_pop(q, buf, 256)) > 0)
        for (size_t i = 0; i < n; i++) gale__tuple_free(buf[i]);
}

void gale__rt_destroy(gale__rt_t *rt) {
    if (!rt) return;
    gale__packer_stop(rt->packer); /* when start failed midway */
    for (size_t i = 0; rt->execs && i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (e->tasks && e->tasks[0].ctx) gale__exec_close(e); /* never started */
    }
    for (size_t w = 0; rt->workers && w < rt->n_workers; w++)
        gale__transfer_stop(&rt->workers[w]); /* when start failed midway */
    for (size_t w = 0; rt->workers && w < rt->n_workers; w++) {
        gale__worker_t *wk = &rt->workers[w];
        gale__transfer_lanes_free(wk);
        free(wk->credits);
        free(wk->execs);
    }
    for (size_t i = 0; rt->execs && i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        drain_queue(&e->queue);
        if (e->queue.slots)
            gale__mem_add(-(int64_t)(gale__queue_capacity(&e->queue) * sizeof(gale__slot_t)));
        gale__queue_destroy(&e->queue);
        for (size_t l = 0; e->out && l < rt->n_execs; l++) {
            for (size_t k = 0; k < e->out[l].n; k++) gale__tuple_free(e->out[l].items[k]);
            free(e->out[l].items);
        }
        free(e->out);
        free(e->dirty);
        free(e->ack_now);
        for (size_t k = 0; k < e->n_retire; k++) gale__tuple_free(e->retire[k]);
        for (size_t k = 0; k < e->n_fretire; k++) gale__tuple_free(e->fretire[k]);
        free(e->retire);
        free(e->fretire);
        if (e->pending.slots) gale__pendmap_destroy(&e->pending);
        for (size_t j = 0; e->tasks && j < e->n_tasks; j++) {
            gale__task_t *tk = &e->tasks[j];
            free(tk->targets);
            for (int side = 0; side < 2; side++) {
                gale__grouper_t ***gs = tk->groupers[side];
                for (size_t si = 0; gs && si < e->comp->n_streams; si++) {
                    for (size_t k = 0; gs[si] && k < e->comp->streams[si].n_subs; k++) {
                        if (!gs[si][k]) continue;
                        gale__grouper_destroy(gs[si][k]);
                        free(gs[si][k]);
                    }
                    free(gs[si]);
                }
                free(gs);
            }
        }
        free(e->tasks);
    }
    /* Pools last: tuples freed above went back to them. */
    for (size_t w = 0; rt->workers && w < rt->n_workers; w++) gale__transfer_free(&rt->workers[w]);
    if (rt->zctx) zmq_ctx_term(rt->zctx);
    for (size_t i = 0; rt->execs && i < rt->n_execs; i++) {
        gale__pool_destroy(&rt->execs[i].pool);
        gale__pool_destroy(&rt->execs[i].foreign_pool);
        if (rt->execs[i].out) {
            pthread_mutex_destroy(&rt->execs[i].foreign_lock);
            pthread_mutex_destroy(&rt->execs[i].acker_lock);
        }
        if (rt->execs[i].sstats[0]) pthread_mutex_destroy(&rt->execs[i].err_lock);
        free(rt->execs[i].sstats[0]);
        free(rt->execs[i].sstats[1]);
        free(rt->execs[i].istats[0]);
        free(rt->execs[i].istats[1]);
    }
    free(rt->execs);
    free(rt->workers);
    if (rt->endpoints) {
        for (size_t w = 0; w < rt->n_workers; w++) free(rt->endpoints[w]);
        free(rt->endpoints);
        pthread_mutex_destroy(&rt->endpoints_lock);
    }
    for (size_t i = 0; rt->comps && i < rt->n_comps; i++) {
        gale__rcomp_t *c = &rt->comps[i];
        for (size_t k = 0; c->streams && k < c->n_streams; k++) free(c->streams[k].subs);
        free(c->streams);
        free(c->in_streams);
        free(c->tasks);
        gale_conf_destroy(c->conf);
    }
    free(rt->comps);
    free(rt->task_comp);
    free(rt->task_exec);
    free(rt->task_index);
    gale_conf_destroy(rt->conf);
    gale__topology_destroy(rt->topo);
    free(rt);
}

static void stats_add(gale__stats_t *sum, gale__stats_t *s) {
    _Atomic uint64_t *d = (_Atomic uint64_t *)sum, *x = (_Atomic uint64_t *)s;
    size_t n = sizeof(*s) / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&d[i], atomic_load(&d[i]) + atomic_load(&x[i]), memory_order_relaxed);
}

void gale__rt_stats(gale__rt_t *rt, const char *component, gale__stats_t *sum) {
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < rt->n_execs; i++)
        if (!component || strcmp(rt->execs[i].comp->id, component) == 0) {
            stats_add(sum, &rt->execs[i].stats);
            stats_add(sum, &rt->execs[i].foreign_stats);
        }
}

/* dst = the sum of both sides' n records of words counters each */
static void sides_sum(void *dst, void *const src[2], size_t n, size_t words) {
    uint64_t *d = dst;
    memset(d, 0, n * words * sizeof *d);
    for (int sd = 0; sd < 2 && src[sd]; sd++) {
        _Atomic uint64_t *x = src[sd];
        for (size_t i = 0; i < n * words; i++)
            d[i] += atomic_load_explicit(&x[i], memory_order_relaxed);
    }
}

void gale__rt_exec_stats(gale__exec_t *e, gale__stats_t *out, gale__sstats_t *ss,
                         gale__istats_t *is, gale__err_t *errs, size_t *n_errs) {
    memset(out, 0, sizeof *out);
    stats_add(out, &e->stats);
    stats_add(out, &e->foreign_stats);
    if (ss)
        sides_sum(ss, (void *const[2]){e->sstats[0], e->sstats[1]}, e->comp->n_streams,
                  sizeof *ss / sizeof(uint64_t));
    if (is)
        sides_sum(is, (void *const[2]){e->istats[0], e->istats[1]}, e->comp->n_inputs,
                  sizeof *is / sizeof(uint64_t));
    if (!errs) return;
    pthread_mutex_lock(&e->err_lock);
    uint64_t n = e->n_errs < GALE__ERRS_KEPT ? e->n_errs : GALE__ERRS_KEPT;
    for (uint64_t k = 0; k < n; k++) errs[k] = e->errs[(e->n_errs - n + k) % GALE__ERRS_KEPT];
    pthread_mutex_unlock(&e->err_lock);
    *n_errs = (size_t)n;
}

size_t gale__rt_max_queue_depth(gale__rt_t *rt, size_t *capacity) {
    size_t best = 0;
    if (capacity) *capacity = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        size_t d = gale__queue_depth(&rt->execs[i].queue);
        if (d >= best) {
            best = d;
            if (capacity) *capacity = gale__queue_capacity(&rt->execs[i].queue);
        }
    }
    return best;
}
