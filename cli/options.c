/*
 * options.c — the verbs' option parser (rules in options.h).
 *
 * Strict on purpose: an option Gale does not know is never passed on
 * silently (a typo like --until-dne once became a file name and the run
 * "succeeded"), and an option never swallows another option as its value.
 */
#include "cli/options.h"

#include <stdlib.h>
#include <string.h>

#include "common/text.h"

static const gale__opt_t help_opts[] = {
    {"--help", NULL, "print this help and exit"},
    {"-h", NULL, NULL},
};

/* The row named name (n bytes: "--x=v" compares only "--x"), or NULL. */
static const gale__opt_t *find(const gale__opt_t *table, const char *name, size_t n) {
    for (const gale__opt_t *o = table; o->name; o++)
        if (strlen(o->name) == n && memcmp(o->name, name, n) == 0) return o;
    for (size_t i = 0; i < sizeof(help_opts) / sizeof(help_opts[0]); i++)
        if (strlen(help_opts[i].name) == n && memcmp(help_opts[i].name, name, n) == 0)
            return &help_opts[i];
    return NULL;
}

/* "-" is stdin for many tools and "-5" a number: both are arguments. */
static bool looks_like_option(const char *a) {
    if (a[0] != '-' || a[1] == '\0') return false;
    if ((a[1] >= '0' && a[1] <= '9') || a[1] == '.') return false;
    return true;
}

/* One verb's option that another verb spells otherwise. */
static const char *const same_as[][3] = {
    {"gale jar", "--until-done", "--wait"},
    {"gale local", "--wait", "--until-done"},
};

static void unknown(const gale__optspec_t *spec, const char *a, char *err, size_t errlen) {
    const gale__opt_t *table = spec->table;
    const char *names[64];
    size_t n = 0;
    for (const gale__opt_t *o = table; o->name && n < 63; o++) names[n++] = o->name;
    names[n++] = "--help";
    /* compare without any "=value" part */
    char key[128];
    size_t klen = strcspn(a, "=");
    if (klen >= sizeof key) klen = sizeof key - 1;
    memcpy(key, a, klen);
    key[klen] = '\0';
    /* an option containing what was typed ("--ttl" in "--local-ttl") is a
     * better guess than the nearest by edit distance ("--help") */
    const char *word = key + strspn(key, "-"), *near = NULL;
    for (size_t i = 0; *word && i < n && !near; i++)
        if (strstr(names[i], word)) near = names[i];
    for (size_t i = 0; i < sizeof same_as / sizeof same_as[0] && !near; i++)
        if (strcmp(spec->verb, same_as[i][0]) == 0 && strcmp(key, same_as[i][1]) == 0)
            near = same_as[i][2];
    bool guessed = !near; /* by spelling alone: may be far off */
    if (!near) near = gale__nearest(key, names, n);
    char shown[160];
    gale__escape_ctl(shown, sizeof shown, a, strlen(a));
    char hint[512];
    size_t len = strlen(key), used = (size_t)snprintf(hint, sizeof hint, "it takes ");
    if (guessed && gale__edit_distance(key, near) > (len > 4 ? len / 2 : 2)) {
        /* nothing near (--verbose is not --timeout): say what there is */
        for (size_t i = 0; i < n && used < sizeof hint; i++)
            used +=
                (size_t)snprintf(hint + used, sizeof hint - used, "%s%s", i ? ", " : "", names[i]);
    } else {
        snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    }
    snprintf(err, errlen, "%s: unknown option '%s' (%s); to pass it to %s, put it after '--'",
             spec->verb, shown, hint,
             spec->passes_to ? spec->passes_to : "the command as an argument");
}

int gale__opts_parse(const gale__optspec_t *spec, int argc, char **argv, gale__opts_t *out,
                     char *err, size_t errlen) {
    const gale__opt_t *table = spec->table;
    const char *verb = spec->verb;
    memset(out, 0, sizeof(*out));
    size_t cap = argc > 0 ? (size_t)argc : 1;
    out->hits = calloc(cap, sizeof(*out->hits));
    out->pos = calloc(cap + 1, sizeof(*out->pos));
    if (!out->hits || !out->pos) {
        snprintf(err, errlen, "%s: out of memory", verb);
        return 1;
    }
    bool opts = true;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!opts || !looks_like_option(a)) {
            out->pos[out->npos++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts = false;
            continue;
        }
        /* --name=value: only long options take a value this way */
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const gale__opt_t *o = find(table, a, nlen);
        const char *attached = NULL; /* "-cKEY=V": a short option's value, as getopt takes it */
        if (!o && a[1] != '-' && a[2]) {
            o = find(table, a, 2);
            if (o && o->value)
                attached = a + 2;
            else
                o = NULL;
        }
        if (!o) {
            unknown(spec, a, err, errlen);
            return GALE__EXIT_USAGE;
        }
        if (o->name == help_opts[0].name || o->name == help_opts[1].name) {
            out->help = true;
            return 0;
        }
        const char *value = NULL;
        if (o->value) {
            if (attached) {
                value = attached;
            } else if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc && strcmp(argv[i + 1], "--") != 0 &&
                       !(looks_like_option(argv[i + 1]) &&
                         find(table, argv[i + 1], strcspn(argv[i + 1], "=")))) {
                value = argv[++i];
            } else {
                snprintf(err, errlen, "%s: option '%s' needs a value: %s %s", verb, o->name,
                         o->name, o->value);
                return GALE__EXIT_USAGE;
            }
        } else if (eq) {
            snprintf(err, errlen, "%s: option '%s' takes no value", verb, o->name);
            return GALE__EXIT_USAGE;
        }
        out->hits[out->n_hits].opt = o;
        out->hits[out->n_hits++].value = value;
    }
    return 0;
}

void gale__opts_free(gale__opts_t *o) {
    if (!o) return;
    free(o->hits);
    free(o->pos);
    memset(o, 0, sizeof(*o));
}

/* One option's line; a long help wraps under its first column. */
static void usage_line(FILE *f, const char *left, const char *help) {
    enum { WIDTH = 58 };
    fprintf(f, "  %-18s ", left);
    size_t col = 0;
    for (const char *p = help ? help : ""; *p;) {
        size_t word = strcspn(p, " ");
        if (col && col + 1 + word > WIDTH) {
            fprintf(f, "\n  %-18s ", "");
            col = 0;
        } else if (col) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)word, p);
        col += word;
        p += word;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

void gale__opts_usage(FILE *f, const gale__optspec_t *spec) {
    const gale__opt_t *table = spec->table;
    fprintf(f, "usage: %s\n", spec->synopsis);
    for (const gale__opt_t *o = table;; o++) {
        if (!o->name) o = &help_opts[0]; /* --help last */
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->value ? " " : "",
                 o->value ? o->value : "");
        usage_line(f, left, o->help);
        if (o == &help_opts[0]) break;
    }
    char dd[160];
    if (spec->passes_to)
        snprintf(dd, sizeof dd, "end of options: the rest goes to %s", spec->passes_to);
    else
        snprintf(dd, sizeof dd, "end of options: the rest are arguments");
    usage_line(f, "--", dd);
}
