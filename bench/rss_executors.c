/*
 * rss_executors.c — memory and start time of a wide topology: one spout
 * and N - 1 bolts (shuffle), no ackers, so exactly N executors, in W
 * workers of this process (as `gale local` runs them). Default sizes.
 *
 *   bench_rss_executors --executors 1000 --workers 5
 *
 * Prints one "RESULT" line: the time to build and start the runtime, RSS
 * once started, RSS after the spout sent one tuple to each bolt (so every
 * cross-worker path was used once), the peak RSS, and the stop time.
 * bench/rss_executors.sh runs it for a table. Uses only internal calls
 * that exist since the runtime's first release, so the same file builds
 * against older trees for a before/after comparison.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/measure.h"
#include "common/config.h"
#include "common/log.h"
#include "topology/topology.h"
#include "worker/runtime.h"

static _Atomic long sent, executed;
static long to_send;

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}
static void wide_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    if (atomic_load(&sent) >= to_send) return;
    gale_value_t v = gale_int(atomic_load(&sent));
    if (gale_spout_emit_values(c, NULL, &v, 1) >= 0) atomic_fetch_add(&sent, 1);
}
const gale_spout_t rss_wide_spout = {.declare = one_field, .next_tuple = wide_next};

static int count_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t rss_count_bolt = {.execute = count_execute, .basic = true};

/* kB of a /proc/self/status line ("VmRSS:", "VmHWM:"). */
static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0) kb = strtol(line + strlen(key), NULL, 10);
    if (f) fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    int n = 1000, workers = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--executors") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--executors N] [--workers W]\n", argv[0]);
            return 2;
        }
    }
    if (n < 2 || workers < 1) {
        fprintf(stderr, "need --executors >= 2 and --workers >= 1\n");
        return 2;
    }
    gale__log_min_level = GALE_LOG_WARN;
    to_send = n - 1;
    long rss0 = status_kb("VmRSS:");
    double t0 = now_s();
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", rss_wide_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", rss_count_bolt, n - 1), "spout", NULL);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, GALE_CONF_TOPOLOGY_WORKERS, workers);
    gale_conf_set_int(conf, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    gale__topology_t *t = NULL;
    gale__rt_t *rt = NULL;
    char err[512] = "";
    int rc = gale__builder_finish(b, "rss", conf, &t, err, sizeof err);
    if (!rc) rc = gale__topology_validate(t, resolve, NULL, err, sizeof err);
    if (!rc) {
        gale__topology_assign_tasks(t);
        rc = gale__rt_new(&rt, t, NULL, NULL, resolve, NULL, err, sizeof err);
    }
    if (!rc) rc = gale__rt_start(rt, err, sizeof err);
    if (rc) {
        fprintf(stderr, "rss_executors: %s\n", err);
        return 1;
    }
    double started = now_s() - t0;
    long rss_start = status_kb("VmRSS:");
    /* one tuple to each bolt (shuffle deals them round-robin), 60 s at most */
    double deadline = now_s() + 60;
    while (atomic_load(&executed) < to_send && now_s() < deadline) usleep(10000);
    long rss_traffic = status_kb("VmRSS:");
    double t1 = now_s();
    gale__rt_stop(rt, 1000);
    gale__rt_destroy(rt);
    double stopped = now_s() - t1;
    printf("RESULT executors=%d workers=%d start_s=%.2f rss_start_mb=%ld rss_traffic_mb=%ld "
           "rss_peak_mb=%ld stop_s=%.2f delivered=%ld/%ld\n",
           n, workers, started, (rss_start - rss0) / 1024, (rss_traffic - rss0) / 1024,
           status_kb("VmHWM:") / 1024, stopped, (long)atomic_load(&executed), to_send);
    return 0;
}
