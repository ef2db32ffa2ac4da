/*
 * basic_drpc.c — BasicDRPCTopology, storm-starter's DRPC example: the
 * function "exclamation" answers args + "!".
 *
 *   gale local build/starter/basic_drpc.so BasicDRPCTopology [FUNCTION] &
 *   gale drpc exclamation hello          # prints hello!
 *   curl http://127.0.0.1:3774/drpc/exclamation/hello
 *
 * The built-in DRPC spout fetches requests from the DRPC server ( `gale
 * local` starts one in-process; in the cluster run `gale drpc-server`),
 * a basic bolt appends "!" and passes the return info on, and the
 * built-in return-results bolt answers the server. A second entry,
 * SilentDRPCTopology, acks requests without answering them (the tests'
 * request timeout).
 */
#include <stdlib.h>
#include <string.h>

#include <gale/gale.h>

static void exclaim_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "result,return-info");
}

/* [args, return-info] -> [args + "!", return-info], anchored (basic bolt). */
static int exclaim_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    size_t len = 0;
    const char *args = gale_tuple_str(t, 0, &len);
    const gale_value_t *info = gale_tuple_value(t, 1);
    if (!args || !info) {
        gale_report_error(c, "expected [args, return-info] from the DRPC spout");
        return GALE_ETYPE;
    }
    char *out = malloc(len + 2);
    if (!out) return GALE_ENOMEM;
    memcpy(out, args, len);
    out[len] = '!';
    out[len + 1] = '\0';
    gale_value_t v[2] = {gale_strn(out, len + 1), *info};
    int rc = gale_emit_values(c, NULL, NULL, v, 2);
    free(out);
    return rc < 0 ? rc : 0;
}

GALE_EXPORT const gale_bolt_t drpc_exclaim_bolt = {
    .declare = exclaim_declare,
    .execute = exclaim_execute,
    .basic = true,
};

static void silent_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)d;
    (void)conf;
}
static int silent_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    (void)t;
    (void)c;
    return 0; /* acked, never answered */
}
GALE_EXPORT const gale_bolt_t drpc_silent_bolt = {
    .declare = silent_declare,
    .execute = silent_execute,
    .basic = true,
};

static gale_builder_t *spout(const char *function) {
    gale_builder_t *b = gale_builder_new();
    gale_component_t *s = GALE_SPOUT(b, "drpc", gale_drpc_spout, 1);
    gale_component_conf_set_str(s, "drpc.function", function);
    return b;
}

GALE_EXPORT int BasicDRPCTopology(gale_submit_t *sub, int argc, char **argv) {
    const char *function = argc > 0 ? argv[0] : "exclamation";
    gale_builder_t *b = spout(function);
    gale_shuffle_grouping(GALE_BOLT(b, "exclaim", drpc_exclaim_bolt, 3), "drpc", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "return", gale_drpc_return_results_bolt, 1), "exclaim",
                          NULL);
    return gale_submit(sub, "basic-drpc", gale_conf_new(), b);
}

GALE_EXPORT int SilentDRPCTopology(gale_submit_t *sub, int argc, char **argv) {
    const char *function = argc > 0 ? argv[0] : "exclamation";
    gale_builder_t *b = spout(function);
    gale_shuffle_grouping(GALE_BOLT(b, "silent", drpc_silent_bolt, 1), "drpc", NULL);
    return gale_submit(sub, "silent-drpc", gale_conf_new(), b);
}
