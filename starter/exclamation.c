/*
 * exclamation.c — ExclamationTopology, storm-starter's first example.
 *
 *   gale local exclamation.so ExclamationTopology [input-file [sink-file]]
 *
 * Words from the test word spout (10 tasks) go through two exclamation
 * bolts (3 and 2 tasks), each appending "!!!". The bolt is a plain one on
 * purpose: it anchors its emit to the input and acks explicitly, which is
 * what a basic bolt does for you. With an input file the reliable file
 * spout replaces the word spout (the bolt exclaims a tuple's last value,
 * the line), and a sink file (second argument) receives exclaim2's output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gale/gale.h>

#define BANG "!!!"

typedef struct exclaim_state {
    char *buf;
    size_t cap;
} exclaim_state_t;

static void exclaim_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "word");
}

static int exclaim_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)ctx;
    (void)c;
    exclaim_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    *state = s;
    return 0;
}

/* The last value as text (strings as they are, numbers printed). */
static const char *value_text(const gale_value_t *v, char *tmp, size_t cap, size_t *len) {
    switch (v->type) {
        case GALE_T_STR:
        case GALE_T_BYTES:
            *len = v->len;
            return v->u.s;
        case GALE_T_INT:
            *len = (size_t)snprintf(tmp, cap, "%" PRId64, v->u.i);
            return tmp;
        case GALE_T_DOUBLE:
            *len = (size_t)snprintf(tmp, cap, "%g", v->u.d);
            return tmp;
        case GALE_T_BOOL:
            *len = (size_t)snprintf(tmp, cap, "%s", v->u.b ? "true" : "false");
            return tmp;
        default:
            return NULL;
    }
}

static int exclaim_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    exclaim_state_t *s = state;
    size_t n = gale_tuple_size(t), len = 0;
    char tmp[64];
    const char *text = n ? value_text(gale_tuple_value(t, n - 1), tmp, sizeof tmp, &len) : NULL;
    if (!text) {
        gale_report_error(c, "cannot exclaim a tuple from '%s': its last value is not text",
                          gale_tuple_source_component(t));
        gale_fail(c, t);
        return GALE_ETYPE;
    }
    size_t need = len + sizeof BANG;
    if (need > s->cap) {
        char *nb = realloc(s->buf, need);
        if (!nb) {
            gale_fail(c, t);
            return GALE_ENOMEM;
        }
        s->buf = nb;
        s->cap = need;
    }
    memcpy(s->buf, text, len);
    memcpy(s->buf + len, BANG, sizeof BANG);
    gale_value_t v = gale_strn(s->buf, len + sizeof BANG - 1);
    if (gale_emit_values(c, NULL, t, &v, 1) < 0) {
        gale_fail(c, t);
        return GALE_EINVAL;
    }
    gale_ack(c, t);
    return 0;
}

static void exclaim_cleanup(void *state) {
    exclaim_state_t *s = state;
    if (!s) return;
    free(s->buf);
    free(s);
}

GALE_EXPORT const gale_bolt_t exclaim_bolt = {
    .declare = exclaim_declare,
    .prepare = exclaim_prepare,
    .execute = exclaim_execute,
    .cleanup = exclaim_cleanup,
    .basic = false,
};

GALE_EXPORT int ExclamationTopology(gale_submit_t *s, int argc, char **argv) {
    if (argc > 2) { /* an extra argument would be ignored: say what is taken */
        fprintf(
            stderr,
            "ExclamationTopology: takes [input-file [sink-file]], got %d arguments (the third is "
            "'%s'): usage: gale local <lib.so> ExclamationTopology [input-file [sink-file]]\n",
            argc, argv[2]);
        return GALE_EINVAL;
    }
    gale_builder_t *b = gale_builder_new();
    char in_buf[8192], sink_buf[8192];
    const char *input = gale_path_absolute(argc > 0 ? argv[0] : NULL, in_buf, sizeof in_buf);
    const char *sink = gale_path_absolute(argc > 1 ? argv[1] : NULL, sink_buf, sizeof sink_buf);
    if (input) {
        gale_component_t *spout = GALE_SPOUT(b, "word", gale_file_lines_spout, 10);
        gale_component_conf_set_str(spout, "file.path", input);
    } else {
        GALE_SPOUT(b, "word", gale_test_word_spout, 10);
    }
    gale_component_t *e1 = GALE_BOLT(b, "exclaim1", exclaim_bolt, 3);
    gale_shuffle_grouping(e1, "word", NULL);
    gale_component_t *e2 = GALE_BOLT(b, "exclaim2", exclaim_bolt, 2);
    gale_shuffle_grouping(e2, "exclaim1", NULL);
    if (sink) {
        gale_component_t *out = GALE_BOLT(b, "sink", gale_file_sink_bolt, 1);
        gale_shuffle_grouping(out, "exclaim2", NULL);
        gale_component_conf_set_str(out, "file.path", sink);
    }
    return gale_submit(s, "exclamation", gale_conf_new(), b);
}
