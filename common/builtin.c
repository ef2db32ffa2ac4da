/*
 * builtin.c — helpers shared by the built-in spouts and bolts.
 */
#include "common/builtin.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

const char *gale__builtin_file_path(const gale_context_t *ctx) {
    const char *comp = gale_context_component_id(ctx);
    const char *path = gale_conf_get_str(gale_context_conf(ctx), GALE_BUILTIN_FILE_PATH, NULL);
    if (!path || !*path) {
        GALE_ERROR(comp, gale_context_task_id(ctx),
                   "component '%s': conf " GALE_BUILTIN_FILE_PATH
                   " is required: set it with gale_component_conf_set_str",
                   comp);
        return NULL;
    }
    return path;
}

void gale__builtin_open_failed(const gale_context_t *ctx, const char *path) {
    const char *comp = gale_context_component_id(ctx);
    int err = errno;
    /* "No such file or directory" does not say which: name the directory */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    struct stat st;
    if (err == ENOENT && stat(d, &st) != 0) {
        GALE_ERROR(comp, gale_context_task_id(ctx),
                   "component '%s': cannot open " GALE_BUILTIN_FILE_PATH
                   " '%s': its directory '%s' does not exist: create it first",
                   comp, path, d);
        return;
    }
    GALE_ERROR(comp, gale_context_task_id(ctx),
               "component '%s': cannot open " GALE_BUILTIN_FILE_PATH " '%s': %s", comp, path,
               strerror(err));
}

static atomic_bool fatal;

void gale__builtin_fatal(void) {
    atomic_store(&fatal, true);
}

bool gale__builtin_failed(void) {
    return atomic_load(&fatal);
}
