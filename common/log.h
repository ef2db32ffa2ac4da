/*
 * log.h — one line per event on stderr (or a file):
 *
 *   2026-11-22T19:07:30.123456Z INFO gale[1234] split:3 message
 *
 * <ISO-8601 UTC time with µs> <LEVEL> <process>[pid] <component>:<task>.
 * The level is tested before anything is formatted, so disabled logging
 * costs one compare. Thread-safe: each line is written with one write(2).
 */
#ifndef GALE_COMMON_LOG_H
#define GALE_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "gale/gale.h" /* gale_log_level_t */

extern int gale__log_min_level; /* lines below this level are dropped */

/** @brief Set the process name printed in every line (default "gale"). */
void gale__log_set_process(const char *name);
/** @brief Send lines to fd (default 2). Not thread-safe: call at start-up. */
void gale__log_set_fd(int fd);
void gale__log_set_level(gale_log_level_t level);
/**
 * @brief Append lines to the file at path (created 0644), and to stderr
 * too when tee_stderr (a daemon started from a terminal). 0 or -errno.
 * Not thread-safe: call at start-up. The daemons' logs; no rolling here.
 */
int gale__log_open_file(const char *path, bool tee_stderr);
/** @brief The fd lines go to and the process name (for the crash handler). */
int gale__log_fd(void);
const char *gale__log_process(void);
/** @brief "debug", "INFO", "Warn", "warning", ... (any case) to a level; -1 if none. */
int gale__log_level_parse(const char *name);

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
