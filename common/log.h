/*
 * log.h — one line per event on stderr (or a file):
 *
 *   2026-11-22T19:07:30.123456Z INFO gale[1234] split:3 message
 *
 * <ISO-8601 UTC time with µs> <LEVEL> <process>[pid] <component>:<task>.
 * The level is tested before anything is formatted, so disabled logging
 * costs one compare. Thread-safe: each line is written with one write(2)
 * under a mutex, so lines never interleave and a file rolls between lines.
 */
#ifndef GALE_COMMON_LOG_H
#define GALE_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "gale/gale.h" /* gale_log_level_t */

extern int gale__log_min_level; /* lines below this level are dropped */

/** @brief Set the process name printed in every line (default "gale"). */
void gale__log_set_process(const char *name);
/** @brief Send lines to fd (default 2). Not thread-safe: call at start-up. */
void gale__log_set_fd(int fd);
void gale__log_set_level(gale_log_level_t level);
/** @brief The fd lines go to and the process name (for the crash handler). */
int gale__log_fd(void);
const char *gale__log_process(void);
/** @brief "debug", "INFO", "Warn", "warning", ... (any case) to a level; -1 if none. */
int gale__log_level_parse(const char *name);

/**
 * @brief Send lines to the file at path (appending; created 0644), rolled
 * by size: when a line would take the file past max_bytes, path becomes
 * path.1, path.1 becomes path.2, ... and path.<max_files> is deleted, so
 * at most max_files old files are kept beside the live one. max_bytes 0
 * never rolls; max_files 0 truncates instead of keeping old files.
 * also_stderr: every line goes to stderr too (daemons on a terminal).
 * Replaces any earlier file or fd. Thread-safe. Returns 0, or GALE_EIO
 * with one line in err naming the path and the reason (nothing changed).
 */
int gale__log_open_file(const char *path, uint64_t max_bytes, int max_files, bool also_stderr,
                        char *err, size_t errlen);
/**
 * @brief A daemon's log: `<gale.log.dir>/<file>` (the directory made if
 * missing), not rolled (a few lines per event, not per tuple), copied to
 * stderr when that is a terminal. Until gale__log_daemon_started(), its
 * ERROR lines also go to stderr (a failed start says why where it was
 * started). On failure one line "gale <verb>: ..." goes to stderr and -1
 * is returned.
 */
int gale__log_open_daemon(const gale_conf_t *conf, const char *verb, const char *file);
/** @brief The daemon is up: from now on its errors go to its log only. */
void gale__log_daemon_started(void);

/** @brief Close the log file (lines go to stderr again). Thread-safe. */
void gale__log_close_file(void);

/* component may be NULL (printed as "-"); task 0 prints no task number. */
void gale__log_write(gale_log_level_t level, const char *component, int task, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void gale__log_vwrite(gale_log_level_t level, const char *component, int task, const char *fmt,
                      va_list ap);

#define GALE_LOG(level, comp, task, ...)                                                           \
    do {                                                                                           \
        if ((int)(level) >= gale__log_min_level)                                                   \
            gale__log_write((level), (comp), (task), __VA_ARGS__);                                 \
    } while (0)
#define GALE_DEBUG(comp, task, ...) GALE_LOG(GALE_LOG_DEBUG, comp, task, __VA_ARGS__)
#define GALE_INFO(comp, task, ...)  GALE_LOG(GALE_LOG_INFO, comp, task, __VA_ARGS__)
#define GALE_WARN(comp, task, ...)  GALE_LOG(GALE_LOG_WARN, comp, task, __VA_ARGS__)
#define GALE_ERROR(comp, task, ...) GALE_LOG(GALE_LOG_ERROR, comp, task, __VA_ARGS__)

#endif
