/*
 * options.h — the one option parser of the gale command's verbs.
 *
 * Each verb describes its options in a table (name, value placeholder,
 * help) and gets back, in argv order, the options it was given and the
 * positional arguments. The rules are the same for every verb:
 *
 *  - options may come anywhere (before, between or after positionals);
 *  - `--` ends them: every argument after it is positional;
 *  - an option with a value takes the next argument, or `--name=value`
 *    (long) or `-cVALUE` (short, attached, as getopt does);
 *    a missing value (end of argv, `--`, or another known option) is an
 *    error, and so is a value given to a flag;
 *  - an argument that starts with '-' and is not `-` or a negative number
 *    is an option: an unknown one is an error naming a known option (one
 *    that contains the typed word, else the nearest) and saying that `--`
 *    passes it on;
 *  - `-h` and `--help` are known to every verb.
 *
 * Errors are one line in err (prefixed with the verb, e.g. "gale local: ")
 * and the verb exits 2, as for every usage error.
 */
#ifndef GALE_CLI_OPTIONS_H
#define GALE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct gale__opt {
    const char *name;  /* "--local-ttl" or "-c"; NULL ends the table */
    const char *value; /* placeholder of its value ("SECS"), NULL for a flag */
    const char *help;  /* one line, for the usage text */
} gale__opt_t;

/* One option as given: the table row and its value (NULL for a flag). */
typedef struct gale__opt_hit {
    const gale__opt_t *opt;
    const char *value;
} gale__opt_hit_t;

typedef struct gale__opts {
    gale__opt_hit_t *hits; /* in argv order */
    size_t n_hits;
    char **pos; /* positional arguments, in order (point into argv) */
    int npos;
    bool help; /* -h or --help was given */
} gale__opts_t;

/* A verb's options: its name for messages, its usage line, its table and
 * what `--` hands the rest to (NULL: "as arguments"). */
typedef struct gale__optspec {
    const char *verb;     /* "gale local" */
    const char *synopsis; /* "gale local [options] <topology.so> <Entry> [args...]" */
    const gale__opt_t *table;
    const char *passes_to; /* "the entry function" */
} gale__optspec_t;

/** @brief The exit code of every usage error. */
#define GALE__EXIT_USAGE 2

/**
 * @brief Parse argv (the arguments after the verb) against spec. Error
 * lines start with spec->verb. @returns 0, GALE__EXIT_USAGE with one line
 * in err, or 1 on out of memory. Free out with gale__opts_free in every
 * case.
 */
int gale__opts_parse(const gale__optspec_t *spec, int argc, char **argv, gale__opts_t *out,
                     char *err, size_t errlen);
void gale__opts_free(gale__opts_t *o);

/** @brief Print "usage: <synopsis>" then one line per option (and `--`). */
void gale__opts_usage(FILE *f, const gale__optspec_t *spec);

#endif
