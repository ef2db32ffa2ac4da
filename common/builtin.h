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

/**
 * @brief A built-in component met an error that no replay can fix (a line
 * longer than gale.file.max.line.bytes, say): after logging it, it calls
 * this, and the process running the topology stops the run and exits
 * nonzero instead of waiting for tuples that will never come.
 * Any thread; async-safe flag.
 */
void gale__builtin_fatal(void);
/** @brief True once gale__builtin_fatal was called in this process. */
bool gale__builtin_failed(void);

#endif
