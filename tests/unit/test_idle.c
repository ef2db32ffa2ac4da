/*
 * test_idle.c — an idle runtime costs nothing: its executors park instead
 * of spinning (counted in loop turns, gale__exec_t.loop_turns) unless
 * topology.bolt.wait.spin.micros keeps them awake a while, a spout
 * with nothing to emit backs off to topology.spout.wait.max.micros even
 * above 1024 us, a spout held by max.spout.pending sleeps until an ack,
 * the transfer and receive threads block, and every thread is named.
 *
 * The bounds are counts, loose by orders of magnitude: a spinning
 * executor turns millions of times a second, a parked one not at all.
 * The window is measured with the clock, not assumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "topology/topology.h"
#include "worker/runtime.h"
#include "rt_harness.h"

static _Atomic uint64_t next_calls; /* quiet spout */
static _Atomic int held_emits;      /* one-shot spout */

static gale__rt_t *start(gale_builder_t *b, gale_conf_t *conf) {
    return harness_must(b, "idle", conf, true);
}

static void finish(gale__rt_t *rt) {
    gale__rt_stop(rt, 0); /* nothing in flight worth waiting for */
    gale__rt_destroy(rt);
}

/* Let time pass for a measurement window (not a synchronisation: the
 * counts are compared with what the measured time allows). */
static double window(int64_t ms) {
    int64_t t0 = gale__now_ns();
    while (gale__now_ns() - t0 < ms * 1000000) usleep(10000);
    return (double)(gale__now_ns() - t0) / 1e9;
}

/* ---------- components ---------- */

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}

/* Never has anything to emit. */
static void quiet_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
    atomic_fetch_add(&next_calls, 1);
}
GALE_EXPORT const gale_spout_t t_quiet_spout = {.declare = one_field, .next_tuple = quiet_next};

/* Emits one reliable tuple, then has nothing more (next_calls counts
 * the calls after it). */
static void once_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    if (atomic_fetch_add(&held_emits, 1) == 0) {
        gale_value_t v = gale_int(1);
        gale_spout_emit_id(c, NULL, &v, 1, 1);
    } else {
        atomic_fetch_add(&next_calls, 1);
    }
}
GALE_EXPORT const gale_spout_t t_once_spout = {.declare = one_field, .next_tuple = once_next};

/* Never acks: the tree stays pending until its timeout. */
static int hold_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
GALE_EXPORT const gale_bolt_t t_hold_bolt = {.declare = one_field, .execute = hold_execute};

static int pass_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
GALE_EXPORT const gale_bolt_t t_pass_bolt = {.execute = pass_execute, .basic = true};

/* ---------- per-thread observations ---------- */

typedef struct thread_obs {
    char comm[32];
    uint64_t switches; /* voluntary + involuntary context switches */
} thread_obs_t;

/* Every thread of this process: its name and context switches so far. */
static size_t threads(thread_obs_t *out, size_t cap) {
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < cap) {
        if (de->d_name[0] == '.') continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended */
        if (!fgets(out[n].comm, sizeof out[n].comm, f)) out[n].comm[0] = 0;
        fclose(f);
        out[n].comm[strcspn(out[n].comm, "\n")] = 0;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", de->d_name);
        out[n].switches = 0;
        if ((f = fopen(path, "r"))) {
            while (fgets(line, sizeof line, f)) {
                unsigned long long v;
                if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
                    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                    out[n].switches += v;
            }
            fclose(f);
        }
        n++;
    }
    closedir(d);
    return n;
}

static const thread_obs_t *find_thread(const thread_obs_t *t, size_t n, const char *comm) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].comm, comm) == 0) return &t[i];
    return NULL;
}

static uint64_t turns(gale__exec_t *e) {
    return atomic_load_explicit(&e->loop_turns, memory_order_relaxed);
}

#define MAX_EXECS 64

static void snap_turns(gale__rt_t *rt, uint64_t t0[MAX_EXECS]) {
    assert_true(rt->n_execs <= MAX_EXECS);
    for (size_t i = 0; i < rt->n_execs; i++) t0[i] = turns(&rt->execs[i]);
}

/* Every executor of the kinds asked turned from lo to below hi times
 * since snap_turns took t0. */
/* (the acker spins too when the spout's init reached it through its
 * queue, not inline: USER_BOLTS leaves it out) */
enum { ALL, BOLTS /* and ackers */, USER_BOLTS };
static void check_turns(gale__rt_t *rt, const uint64_t t0[MAX_EXECS], double secs, const char *what,
                        int kinds, uint64_t lo, uint64_t hi) {
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        if (kinds != ALL && e->comp->is_spout) continue;
        if (kinds == USER_BOLTS && e->comp->is_acker) continue;
        uint64_t d = turns(e) - t0[i];
        fprintf(stderr, "%s: '%s' turned %llu times in %.2f s\n", what, e->comp->id,
                (unsigned long long)d, secs);
        assert_true(d >= lo && d < hi);
    }
}

/* ---------- tests ---------- */

/* A topology with nothing to do, over two workers: bolts and ackers have
 * no timer and park until woken; the spout backs off to its 1 s maximum;
 * the transfer and receive threads block. Spinning would turn each loop
 * millions of times in the window; a 1 ms poll a thousand times. */
static void test_idle_runtime_parks(void **s) {
    (void)s;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "quiet", t_quiet_spout, 2);
    gale_shuffle_grouping(GALE_BOLT(b, "pass", t_pass_bolt, 3), "quiet", NULL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 2);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 2);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_SPOUT_WAIT_MAX_MICROS, 1000000);
    gale__rt_t *rt = start(b, c);
    window(300); /* past the spins and the first sleeps */

    uint64_t t0[MAX_EXECS];
    snap_turns(rt, t0);
    thread_obs_t th0[128], th1[128];
    size_t n0 = threads(th0, 128);
    double secs = window(1500);
    size_t n1 = threads(th1, 128);
    check_turns(rt, t0, secs, "idle", ALL, 0, 200);
    const char *io[] = {"xfer:w0", "recv:w0", "xfer:w1", "recv:w1"};
    for (size_t k = 0; k < 4; k++) {
        const thread_obs_t *a = find_thread(th0, n0, io[k]), *z = find_thread(th1, n1, io[k]);
        assert_non_null(a);
        assert_non_null(z);
        if (z->switches - a->switches >= 20)
            fprintf(stderr, "%s woke %llu times in %.2f s while idle\n", io[k],
                    (unsigned long long)(z->switches - a->switches), secs);
        assert_true(z->switches - a->switches < 20);
    }
    finish(rt);
}

/* An always-empty spout with a 50 ms maximum: over the window it may be
 * called about once per 50 ms (plus a little ramp), never the ~1000 times
 * per second a 1 ms cap gives; and it is still called. */
static void test_spout_wait_max_honoured(void **s) {
    (void)s;
    atomic_store(&next_calls, 0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "quiet", t_quiet_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "pass", t_pass_bolt, 1), "quiet", NULL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_SPOUT_WAIT_MAX_MICROS, 50000);
    gale__rt_t *rt = start(b, c);
    window(300);
    uint64_t c0 = atomic_load(&next_calls);
    double secs = window(1500);
    uint64_t calls = atomic_load(&next_calls) - c0;
    finish(rt);
    double allowed = secs / 0.050; /* one call per maximum wait */
    fprintf(stderr, "empty spout: %llu next_tuple calls in %.2f s (max wait 50 ms: ~%.0f)\n",
            (unsigned long long)calls, secs, allowed);
    assert_true((double)calls < 3 * allowed + 20);
    assert_true(calls >= 3);
}

/* A spout held by max.spout.pending (its one tree never completes) has
 * nothing to call: it sleeps until an ack, a timer or stop, instead of
 * polling at the spout wait (1 ms by default: ~1000 turns a second); the
 * acker holding the open tree sleeps too, once its reply spin is over. */
static gale__rt_t *idle_rt; /* for the conditions polled */
static bool held_and_all_asleep(void) {
    if (atomic_load(&held_emits) != 1) return false;
    for (size_t i = 0; i < idle_rt->n_execs; i++)
        if (!gale__queue_asleep(&idle_rt->execs[i].queue)) return false;
    return true;
}
static void test_held_spout_sleeps(void **s) {
    (void)s;
    atomic_store(&next_calls, 0);
    atomic_store(&held_emits, 0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "once", t_once_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "hold", t_hold_bolt, 1), "once", NULL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 1);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 60);
    gale__rt_t *rt = idle_rt = start(b, c);
    assert_true(wait_until(held_and_all_asleep, 30));
    gale__exec_t *sp = NULL;
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].comp->is_spout) sp = &rt->execs[i];
    assert_non_null(sp);
    assert_int_equal(atomic_load(&sp->n_pending), 1);
    /* the spout polls for the acks due for topology.reply.spin.micros
     * only, then parks; the acker, whose tree the spout opened inline,
     * is never woken */
    uint64_t t0[MAX_EXECS];
    snap_turns(rt, t0);
    check_turns(rt, t0, window(1500), "held tree", ALL, 0, 50);
    assert_int_equal(atomic_load(&held_emits), 1); /* next_tuple never called again */
    finish(rt);
}

static bool once_acked(void) {
    gale__stats_t st = {0};
    gale__rt_stats(idle_rt, "once", &st);
    return atomic_load(&st.acked) == 1;
}

/* topology.bolt.wait.spin.micros = 1 s: after its one tuple the bolt
 * keeps polling, thousands of turns in a
 * fifth of a second where a parked one turns none; once the second since
 * its last tuple is over, it parks. */
static void test_bolt_spin_then_park(void **s) {
    (void)s;
    atomic_store(&next_calls, 0);
    atomic_store(&held_emits, 0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "once", t_once_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "pass", t_pass_bolt, 1), "once", NULL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_BOLT_WAIT_SPIN_MICROS, 1000000);
    gale__rt_t *rt = idle_rt = start(b, c);
    gale__stats_t st = {0};
    int64_t deadline = gale__now_ns() + 10 * 1000000000LL;
    while (gale__now_ns() < deadline) {
        gale__rt_stats(rt, "pass", &st);
        if (atomic_load(&st.executed) >= 1) break;
        usleep(1000);
    }
    assert_int_equal(atomic_load(&st.executed), 1);
    int64_t executed_by = gale__now_ns();
    /* its ack has reached the spout: the acker is done with it too */
    assert_true(wait_until(once_acked, 10));
    uint64_t t0[MAX_EXECS];
    snap_turns(rt, t0);
    /* spinning with nothing queued is idle to a drain: its busy flag
     * stays down at every look (one raised per turn would make many
     * spinners never look quiet all at once) */
    size_t looks = 0, seen_busy = 0;
    for (size_t i = 0; i < rt->n_execs; i++) /* done with the tuple and its ack */
        while (!rt->execs[i].comp->is_spout && atomic_load(&rt->execs[i].busy) &&
               gale__now_ns() < deadline)
            usleep(100);
    /* 200 ms of looks, longer while the bolt has not turned 200 times
     * (a loaded machine gives the spinner less of the CPU), but not past
     * its spin, which ends within a second of executed_by */
    gale__exec_t *pass = harness_exec_of(rt, "pass");
    assert_non_null(pass);
    uint64_t pass_t0 = t0[pass - rt->execs];
    int64_t t_start = gale__now_ns();
    while (gale__now_ns() - t_start < 200 * 1000000LL ||
           (turns(pass) - pass_t0 < 200 && gale__now_ns() - executed_by < 800 * 1000000LL)) {
        for (size_t i = 0; i < rt->n_execs; i++)
            if (!rt->execs[i].comp->is_spout) seen_busy += atomic_load(&rt->execs[i].busy) != 0;
        if ((++looks & 63) == 0) usleep(50); /* leave the CPU to the spinners */
    }
    double secs = (double)(gale__now_ns() - t_start) / 1e9;
    fprintf(stderr, "spinning: busy seen %zu times in %zu looks\n", seen_busy, looks);
    assert_int_equal(seen_busy, 0);
    check_turns(rt, t0, secs, "spinning", USER_BOLTS, 200, UINT64_MAX);
    /* the spin ends a second after the last tuple, which came before
     * executed_by: from 1.2 s on every bolt is parked */
    while (gale__now_ns() - executed_by < 1200 * 1000000LL) usleep(10000);
    snap_turns(rt, t0);
    check_turns(rt, t0, window(1000), "after the spin", BOLTS, 0, 50);
    finish(rt);
}

/* top -H shows "component:first-task" (cut to 15 bytes) and the
 * transfer/receive threads of each worker. */
static void test_threads_named(void **s) {
    (void)s;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "quiet", t_quiet_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "a_very_long_component_id", t_pass_bolt, 2), "quiet", NULL);
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 2);
    gale__rt_t *rt = start(b, c);
    thread_obs_t th[128];
    size_t n = 0;
    /* names are set by each thread as it starts: poll with a deadline */
    int64_t deadline = gale__now_ns() + 10 * 1000000000LL;
    char want[64][16];
    size_t nw = 0;
    for (size_t i = 0; i < rt->n_execs && nw < 60; i++) {
        gale__exec_t *e = &rt->execs[i];
        char task[16];
        size_t tl = (size_t)snprintf(task, sizeof task, ":%d", e->tasks[0].id);
        size_t cl = strlen(e->comp->id) < 15 - tl ? strlen(e->comp->id) : 15 - tl;
        memcpy(want[nw], e->comp->id, cl);
        memcpy(want[nw++] + cl, task, tl + 1);
    }
    snprintf(want[nw++], 16, "xfer:w0");
    snprintf(want[nw++], 16, "recv:w1");
    bool all = false;
    while (!all && gale__now_ns() < deadline) {
        n = threads(th, 128);
        all = true;
        for (size_t k = 0; k < nw; k++) all &= find_thread(th, n, want[k]) != NULL;
        if (!all) usleep(2000);
    }
    for (size_t k = 0; k < nw; k++) {
        if (!find_thread(th, n, want[k])) fprintf(stderr, "no thread named '%s'\n", want[k]);
        assert_non_null(find_thread(th, n, want[k]));
    }
    /* the long id was cut, the task id kept */
    bool cut = false;
    for (size_t k = 0; k < n; k++)
        if (strncmp(th[k].comm, "a_very_long_", 12) == 0) {
            assert_int_equal(strlen(th[k].comm), 15);
            assert_non_null(strchr(th[k].comm, ':'));
            cut = true;
        }
    assert_true(cut);
    finish(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_runtime_parks), cmocka_unit_test(test_spout_wait_max_honoured),
        cmocka_unit_test(test_held_spout_sleeps),  cmocka_unit_test(test_bolt_spin_then_park),
        cmocka_unit_test(test_threads_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
