/*
 * builtin.h — small pieces the built-in spouts and bolts share.
 */
#ifndef GALE_COMMON_BUILTIN_H
#define GALE_COMMON_BUILTIN_H

#include "gale/gale.h"

/* The component conf key naming a built-in's file. */
#define GALE_BUILTIN_FILE_PATH "file.path"

/**
 * @brief The required "file.path" of this component's conf, or NULL after
 * logging what to set. Owned by the context's conf.
 */
const char *gale__builtin_file_path(const gale_context_t *ctx);

/** @brief Log that path could not be opened (errno), naming the component. */
void gale__builtin_open_failed(const gale_context_t *ctx, const char *path);

#endif
