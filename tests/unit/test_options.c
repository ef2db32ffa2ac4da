/*
 * test_options.c — the verbs' option parser (cli/options.c) and the text
 * helpers it uses (common/text.c): options anywhere, `--`, values, strict
 * refusal of unknown options with the nearest one named, help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "common/text.h"

static const gale__opt_t table[] = {
    {"--config", "FILE", "config file"},
    {"-c", "key=value", "override"},
    {"--local-ttl", "SECS", "ttl"},
    {"--until-done", NULL,
     "stop once every finite spout's tuples were all acked (with an explicit --local-ttl: exit 3 "
     "if not done by then)"},
    {NULL, NULL, NULL},
};
static const gale__optspec_t spec = {"gale local", "gale local [options] <lib> <Entry>", table,
                                     "the entry function"};

static char err[512];

static int parse(gale__opts_t *o, int argc, const char **argv) {
    err[0] = '\0';
    return gale__opts_parse(&spec, argc, (char **)argv, o, err, sizeof err);
}

static void test_options_anywhere(void **state) {
    (void)state;
    const char *argv[] = {
        "--local-ttl",     "5", "lib.so", "-c", "a=1", "Entry", "in.txt", "--until-done",
        "--config=g.yaml", "-", "-5"};
    gale__opts_t o;
    assert_int_equal(parse(&o, 11, argv), 0);
    assert_int_equal(o.npos, 5);
    assert_string_equal(o.pos[0], "lib.so");
    assert_string_equal(o.pos[1], "Entry");
    assert_string_equal(o.pos[2], "in.txt");
    assert_string_equal(o.pos[3], "-"); /* stdin and negative numbers are arguments */
    assert_string_equal(o.pos[4], "-5");
    assert_int_equal(o.n_hits, 4);
    assert_string_equal(o.hits[0].opt->name, "--local-ttl");
    assert_string_equal(o.hits[0].value, "5");
    assert_string_equal(o.hits[1].opt->name, "-c");
    assert_string_equal(o.hits[1].value, "a=1");
    assert_string_equal(o.hits[2].opt->name, "--until-done");
    assert_null(o.hits[2].value);
    assert_string_equal(o.hits[3].opt->name, "--config");
    assert_string_equal(o.hits[3].value, "g.yaml");
    assert_false(o.help);
    gale__opts_free(&o);
}

static void test_double_dash_passes_everything(void **state) {
    (void)state;
    const char *argv[] = {"lib.so", "Entry", "--", "--until-dne", "-v", "--", "--local-ttl"};
    gale__opts_t o;
    assert_int_equal(parse(&o, 7, argv), 0);
    assert_int_equal(o.npos, 6);
    assert_string_equal(o.pos[2], "--until-dne");
    assert_string_equal(o.pos[4], "--"); /* only the first -- ends the options */
    assert_string_equal(o.pos[5], "--local-ttl");
    assert_int_equal(o.n_hits, 0);
    gale__opts_free(&o);
}

static void test_unknown_names_nearest(void **state) {
    (void)state;
    const char *argv[] = {"lib.so", "Entry", "in.txt", "--until-dne"};
    gale__opts_t o;
    assert_int_equal(parse(&o, 4, argv), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "gale local: unknown option '--until-dne'"));
    assert_non_null(strstr(err, "did you mean '--until-done'?"));
    assert_non_null(strstr(err, "to pass it to the entry function, put it after '--'"));
    gale__opts_free(&o);

    const char *argv2[] = {"--local-tl=3", "lib.so"};
    assert_int_equal(parse(&o, 2, argv2), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "'--local-tl=3'"));
    assert_non_null(strstr(err, "did you mean '--local-ttl'?"));
    gale__opts_free(&o);

    const char *argv3[] = {"-x"}; /* short options are strict too */
    assert_int_equal(parse(&o, 1, argv3), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "unknown option '-x'"));
    gale__opts_free(&o);

    /* control characters of the argument never reach the terminal raw */
    const char *argv4[] = {"--\x1b[31mred"};
    assert_int_equal(parse(&o, 1, argv4), GALE__EXIT_USAGE);
    assert_null(strchr(err, '\x1b'));
    assert_non_null(strstr(err, "\\x1b[31mred"));
    gale__opts_free(&o);
}

static void test_missing_values(void **state) {
    (void)state;
    gale__opts_t o;
    const char *trailing[] = {"lib.so", "Entry", "--local-ttl"};
    assert_int_equal(parse(&o, 3, trailing), GALE__EXIT_USAGE);
    assert_string_equal(err, "gale local: option '--local-ttl' needs a value: --local-ttl SECS");
    gale__opts_free(&o);

    const char *c_last[] = {"lib.so", "Entry", "-c"};
    assert_int_equal(parse(&o, 3, c_last), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "'-c' needs a value"));
    gale__opts_free(&o);

    /* an option is never swallowed as another option's value */
    const char *swallow[] = {"--config", "--until-done", "lib.so", "Entry"};
    assert_int_equal(parse(&o, 4, swallow), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "'--config' needs a value"));
    gale__opts_free(&o);

    const char *dd[] = {"--config", "--", "x"};
    assert_int_equal(parse(&o, 3, dd), GALE__EXIT_USAGE);
    gale__opts_free(&o);

    const char *flag_val[] = {"--until-done=yes"};
    assert_int_equal(parse(&o, 1, flag_val), GALE__EXIT_USAGE);
    assert_non_null(strstr(err, "'--until-done' takes no value"));
    gale__opts_free(&o);

    /* an empty value is a value (the verb judges it) */
    const char *empty[] = {"--config="};
    assert_int_equal(parse(&o, 1, empty), 0);
    assert_string_equal(o.hits[0].value, "");
    gale__opts_free(&o);
}

static void test_help(void **state) {
    (void)state;
    gale__opts_t o;
    const char *argv[] = {"lib.so", "--help", "--bogus"};
    assert_int_equal(parse(&o, 3, argv), 0); /* help wins over what follows */
    assert_true(o.help);
    gale__opts_free(&o);
    const char *argv2[] = {"-h"};
    assert_int_equal(parse(&o, 1, argv2), 0);
    assert_true(o.help);
    gale__opts_free(&o);

    char buf[2048] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    gale__opts_usage(f, &spec);
    fclose(f);
    assert_non_null(strstr(buf, "usage: gale local [options] <lib> <Entry>\n"));
    assert_non_null(strstr(buf, "--local-ttl SECS"));
    assert_non_null(strstr(buf, "--help"));
    assert_non_null(strstr(buf, "the rest goes to the entry function\n"));
    assert_non_null(strstr(buf, "(with\n"));
    assert_non_null(
        strstr(buf, "\n                     an explicit")); /* wrapped under its column */
}

static void test_text_helpers(void **state) {
    (void)state;
    assert_int_equal(gale__edit_distance("kitten", "sitting"), 3);
    assert_int_equal(gale__edit_distance("", "abc"), 3);
    assert_int_equal(gale__edit_distance("abc", "abc"), 0);
    const char *const c[] = {"--config", "--local-ttl", "--until-done"};
    assert_string_equal(gale__nearest("--untl-done", c, 3), "--until-done");
    assert_null(gale__nearest("x", c, 0));

    char out[16];
    assert_int_equal(gale__escape_ctl(out, sizeof out, "a\tb\nc\x01", 6), 11);
    assert_string_equal(out, "a\\tb\\nc\\x01");
    /* cut with a mark, never overflowing */
    gale__escape_ctl(out, 8, "abcdefghijkl", 12);
    assert_string_equal(out, "abcd...");
    gale__escape_ctl(out, 3, "\x01\x02", 2);
    assert_true(strlen(out) < 3);
}

/* A short option's value may be attached, as getopt allows: -ckey=v. */
static void test_attached_short_value(void **state) {
    (void)state;
    const char *argv[] = {"-ctopology.workers=2", "lib.so", "Entry"};
    gale__opts_t o;
    assert_int_equal(parse(&o, 3, argv), 0);
    assert_int_equal(o.n_hits, 1);
    assert_string_equal(o.hits[0].opt->name, "-c");
    assert_string_equal(o.hits[0].value, "topology.workers=2");
    assert_int_equal(o.npos, 2);
    gale__opts_free(&o);
    /* a flag takes nothing attached, and an unknown short one stays unknown */
    const char *bad[] = {"-hx"};
    assert_int_equal(parse(&o, 1, bad), 2);
    assert_non_null(strstr(err, "unknown option '-hx'"));
    gale__opts_free(&o);
}

/* The suggestion prefers an option that contains the typed word. */
static void test_suggest_containing(void **state) {
    (void)state;
    const char *argv[] = {"--ttl", "2"};
    gale__opts_t o;
    assert_int_equal(parse(&o, 2, argv), 2);
    assert_non_null(strstr(err, "unknown option '--ttl' (did you mean '--local-ttl'?)"));
    gale__opts_free(&o);
    const char *done[] = {"--done"};
    assert_int_equal(parse(&o, 1, done), 2);
    assert_non_null(strstr(err, "(did you mean '--until-done'?)"));
    gale__opts_free(&o);
    const char *typo[] = {"--confg"}; /* no option contains it: edit distance */
    assert_int_equal(parse(&o, 1, typo), 2);
    assert_non_null(strstr(err, "(did you mean '--config'?)"));
    gale__opts_free(&o);
    /* nothing near: the options are listed, none is guessed */
    const char *far[] = {"--verbose"};
    assert_int_equal(parse(&o, 1, far), 2);
    assert_non_null(
        strstr(err, "(it takes --config, -c, --local-ttl, --until-done, --help); to pass"));
    gale__opts_free(&o);
}

/* Another verb's spelling of an option gets this verb's. */
static void test_suggest_other_verb(void **state) {
    (void)state;
    static const gale__opt_t jar_table[] = {{"--wait", NULL, "wait"}, {NULL, NULL, NULL}};
    static const gale__optspec_t jar = {"gale jar", "gale jar", jar_table, "the entry function"};
    const char *argv[] = {"--until-done"};
    gale__opts_t o;
    assert_int_equal(gale__opts_parse(&jar, 1, (char **)argv, &o, err, sizeof err), 2);
    assert_non_null(strstr(err, "unknown option '--until-done' (did you mean '--wait'?)"));
    gale__opts_free(&o);
}

static void test_utf8_valid(void **state) {
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {{"", true},
                 {"plain ascii", true},
                 {"caf\xc3\xa9", true},
                 {"\xe2\x82\xac \xf0\x9f\x98\x80", true},
                 {"\xff", false},
                 {"\xc3", false},             /* cut short */
                 {"\xc0\xaf", false},         /* overlong '/' */
                 {"\xe0\x80\xaf", false},     /* overlong */
                 {"\xed\xa0\x80", false},     /* a surrogate */
                 {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
                 {"\xc3\x28", false}};        /* bad continuation */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (gale__utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_anywhere),
        cmocka_unit_test(test_double_dash_passes_everything),
        cmocka_unit_test(test_unknown_names_nearest),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_attached_short_value),
        cmocka_unit_test(test_suggest_containing),
        cmocka_unit_test(test_suggest_other_verb),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
