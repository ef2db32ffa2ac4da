/*
 * fileio.h — whole-file reads with a size bound and atomic whole-file
 * writes (temp file in the same directory, fsync, rename, fsync of the
 * directory), for the small files daemons and workers share: assignment
 * and pid files, the stormdist copies of a topology. Thread-safe.
 */
#ifndef GALE_COMMON_FILEIO_H
#define GALE_COMMON_FILEIO_H

#include <stddef.h>

/**
 * @brief Read all of path into a malloc'd buffer (*buf, NUL-terminated
 * beyond *len). A file larger than max is GALE_ERANGE; a missing one
 * GALE_ENOENT; other failures GALE_EIO; each with one line in err naming
 * the path.
 */
int gale__file_read(const char *path, size_t max, void **buf, size_t *len, char *err,
                    size_t errlen);

/**
 * @brief Replace path by len bytes of data atomically: a reader sees the
 * old content or the new, never a part. 0 or GALE_EIO with err.
 */
int gale__file_write_atomic(const char *path, const void *data, size_t len, char *err,
                            size_t errlen);

/** @brief mkdir -p path (mode 0755). 0 or GALE_EIO with err. */
/**
 * @brief snprintf a path into out; GALE_ERANGE with one line in err when
 * it does not fit (a path is never silently cut).
 */
int gale__pathf(char *out, size_t cap, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int gale__mkdirs(const char *path, char *err, size_t errlen);

/**
 * @brief Hold path (created if missing) locked for the rest of the
 * process's life, so that two daemons never share one state directory:
 * flock(LOCK_EX | LOCK_NB) on a close-on-exec descriptor (workers, which
 * outlive a supervisor, never inherit it), our pid written into it. When
 * another live process holds it, GALE_ESTATE and *holder is its pid (0 if
 * unknown); other failures GALE_EIO; each with one line in err.
 */
int gale__lock_hold(const char *path, long *holder, char *err, size_t errlen);

#endif
