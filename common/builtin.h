/*
 * builtin.h — small pieces the built-in spouts and bolts share.
 */
#ifndef GALE_COMMON_BUILTIN_H
#define GALE_COMMON_BUILTIN_H

#include "gale/gale.h"

/** @brief The object an exported symbol names, found the way the runtime
 * finds components (the topology's library, then libgale), or NULL. For
 * components that run user code named in their conf (the micro-batch
 * layer). Any thread. (Implemented by the worker runtime.) */
const void *gale__context_resolve(const gale_context_t *ctx, const char *symbol);

/** @brief Log an ERROR line for this task unless the last line logged
 * this way by a task of the same component was the same text: a
 * component's tasks that fail open for one cause (a missing file.path)
 * say it once. Any thread. (Implemented by the worker runtime.) */
void gale__context_error_once(const gale_context_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The component conf key naming a built-in's file. */
#define GALE_BUILTIN_FILE_PATH "file.path"

/**
 * @brief The required "file.path" of this component's conf, or NULL after
 * logging what to set. Owned by the context's conf.
 */
const char *gale__builtin_file_path(const gale_context_t *ctx);

/**
 * @brief Log that path could not be opened (errno), naming the component.
 * @returns the GALE_E* code for that errno (ENOENT: GALE_ENOENT, ...), for
 * open()/prepare() to return, so the run's last line names the real cause.
 */
int gale__builtin_open_failed(const gale_context_t *ctx, const char *path);

/* How a built-in uses a file it registers. */
typedef enum gale__file_use { GALE__FILE_READS, GALE__FILE_WRITES } gale__file_use_t;

/**
 * @brief Register that this component's task opened fd (path) to read or
 * write. A regular file that another component already has open the other
 * way (a sink writing the file a spout reads) is refused: the spout would
 * read its own output and the input would be corrupted. Logs one line
 * naming both components and the path and returns GALE_EINVAL; 0 when
 * registered (release it with gale__builtin_file_release) or when fd is no
 * regular file (pipes and devices are not registered).
 * Process-wide, any thread.
 */
int gale__builtin_file_claim(const gale_context_t *ctx, int fd, const char *path,
                             gale__file_use_t use);
/** @brief Undo one successful gale__builtin_file_claim of fd (call before closing it). */
void gale__builtin_file_release(int fd, gale__file_use_t use, const char *component);

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
