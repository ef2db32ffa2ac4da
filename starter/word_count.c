/*
 * word_count.c — WordCountTopology, storm-starter's word count in C.
 *
 *   gale local word_count.so WordCountTopology [input-file [sink-file]]
 *
 * Without arguments: random sentences (5 spout tasks) are split into words
 * (8 tasks) and counted (12 tasks, fields grouping on "word"); every two
 * seconds each counter task logs its top words. With an input file the
 * reliable file spout replaces the random one and the split bolt emits
 * [line_no, word_idx, word], so a sink file (second argument, written by
 * the file sink bolt) gets one `line_no word_idx word` line per word and
 * a run can be checked against the input exactly.
 *
 * The split bolt is defined here, as a topology author would: an exported
 * gale_bolt_t that the runtime finds by its symbol name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gale/gale.h>

/* Component conf of "split": emit line numbers and word indexes too. */
#define SPLIT_LINE_NUMBERS "split.line.numbers"

typedef struct split_state {
    bool line_numbers;
} split_state_t;

static void split_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    if (gale_conf_get_bool(conf, SPLIT_LINE_NUMBERS, false))
        gale_declare(d, "line_no,word_idx,word");
    else
        gale_declare(d, "word");
}

static int split_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    split_state_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->line_numbers = gale_conf_get_bool(gale_context_conf(ctx), SPLIT_LINE_NUMBERS, false);
    *state = s;
    return 0;
}

/* The text is the last value: "sentence" of the random spout, "line" of
 * the file spout (whose first value is line_no). */
static int split_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    split_state_t *s = state;
    if (gale_tuple_is_tick(t)) return 0; /* topology.tick.tuple.freq.secs set for every bolt */
    size_t n = gale_tuple_size(t);
    size_t len;
    const char *text = n ? gale_tuple_str(t, n - 1, &len) : NULL;
    if (!text) {
        gale_report_error(c, "expected a string as the last value of a tuple from '%s'",
                          gale_tuple_source_component(t));
        return GALE_ETYPE;
    }
    int64_t line_no = n > 1 ? gale_tuple_int(t, 0, 0) : 0, idx = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != ' ') j++;
        if (j > i) { /* skip the empty words that double spaces would make */
            int rc;
            if (s->line_numbers) {
                gale_value_t v[3] = {gale_int(line_no), gale_int(idx), gale_strn(text + i, j - i)};
                rc = gale_emit_values(c, NULL, NULL, v, 3);
            } else {
                gale_value_t v = gale_strn(text + i, j - i);
                rc = gale_emit_values(c, NULL, NULL, &v, 1);
            }
            if (rc < 0) return rc; /* fails the input: the spout replays it */
            idx++;
        }
        i = j + 1;
    }
    return 0;
}

static void split_cleanup(void *state) {
    free(state);
}

GALE_EXPORT const gale_bolt_t split_sentence_bolt = {
    .declare = split_declare,
    .prepare = split_prepare,
    .execute = split_execute,
    .cleanup = split_cleanup,
    .basic = true,
};

GALE_EXPORT int WordCountTopology(gale_submit_t *s, int argc, char **argv) {
    if (argc > 2) { /* an extra argument would be ignored: say what is taken */
        fprintf(stderr,
                "WordCountTopology: takes [input-file [sink-file]], got %d arguments (the third is "
                "'%s'): usage: gale local <lib.so> WordCountTopology [input-file [sink-file]]\n",
                argc, argv[2]);
        return GALE_EINVAL;
    }
    gale_builder_t *b = gale_builder_new();
    char in_buf[8192], sink_buf[8192];
    const char *input = gale_path_absolute(argc > 0 ? argv[0] : NULL, in_buf, sizeof in_buf);
    const char *sink = gale_path_absolute(argc > 1 ? argv[1] : NULL, sink_buf, sizeof sink_buf);
    if (input) {
        gale_component_t *spout = GALE_SPOUT(b, "spout", gale_file_lines_spout, 5);
        gale_component_conf_set_str(spout, "file.path", input);
    } else {
        GALE_SPOUT(b, "spout", gale_random_sentence_spout, 5);
    }
    gale_component_t *split = GALE_BOLT(b, "split", split_sentence_bolt, 8);
    gale_shuffle_grouping(split, "spout", NULL);
    if (input) gale_component_conf_set(split, SPLIT_LINE_NUMBERS, gale_bool(true));

    gale_component_t *count = GALE_BOLT(b, "count", gale_counter_bolt, 12);
    gale_fields_grouping(count, "split", NULL, "word");
    /* each counter task logs its top words every 2 s */
    gale_component_conf_set_int(count, "topology.tick.tuple.freq.secs", 2);

    if (sink) {
        gale_component_t *out = GALE_BOLT(b, "sink", gale_file_sink_bolt, 2);
        gale_shuffle_grouping(out, "split", NULL);
        gale_component_conf_set_str(out, "file.path", sink);
    }
    return gale_submit(s, "word-count", gale_conf_new(), b);
}
