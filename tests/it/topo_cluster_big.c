/*
 * topo_cluster_big.c — topologies valid in local mode that a cluster must
 * refuse with a clear line (tests/it/0061-cluster-adversarial.sh): one of
 * 70 000 executors, more than one control message can carry, and
 * a small one whose bolt has 20 000 tasks, for a rebalance -e that asks
 * for as many executors.
 */
#include <gale/gale.h>

static gale_builder_t *spout_printer(int executors, int tasks) {
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", gale_random_sentence_spout, 1);
    gale_component_t *c = GALE_BOLT(b, "printer", gale_printer_bolt, executors);
    gale_component_set_tasks(c, tasks);
    gale_shuffle_grouping(c, "spout", NULL);
    return b;
}

GALE_EXPORT int TooManyExecutors(gale_submit_t *s, int argc, char **argv) {
    (void)argc, (void)argv;
    return gale_submit(s, "too-many-executors", gale_conf_new(), spout_printer(70000, 70000));
}

GALE_EXPORT int ManyTasks(gale_submit_t *s, int argc, char **argv) {
    (void)argc, (void)argv;
    return gale_submit(s, "many-tasks", gale_conf_new(), spout_printer(1, 20000));
}
