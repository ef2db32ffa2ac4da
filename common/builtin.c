/*
 * builtin.c — helpers shared by the built-in spouts and bolts.
 */
#include "common/builtin.h"

#include <errno.h>
#include <string.h>

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
    GALE_ERROR(comp, gale_context_task_id(ctx),
               "component '%s': cannot open " GALE_BUILTIN_FILE_PATH " '%s': %s", comp, path,
               strerror(errno));
}
