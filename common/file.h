/*
 * file.h — small file helpers the daemons share: an atomic whole-file
 * write (temp file in the same directory, write, fsync, rename, fsync of
 * the directory: after a crash the file holds its old or its new bytes,
 * whole), a bounded whole-file read, and mkdir -p.
 *
 * Nimbus keeps its state behind nimbus/store.h; these are for the files
 * a supervisor and a worker exchange on one host (the assignment, the
 * pid, the supervisor's id, port files), which are plain paths.
 * Stateless and thread-safe.
 */
#ifndef GALE_COMMON_FILE_H
#define GALE_COMMON_FILE_H

#include <stddef.h>

/** @brief Create dir and its missing parents (mode 0755). 0 or GALE_EIO with one line in err. */
int gale__mkdirs(const char *dir, char *err, size_t errlen);

/**
 * @brief Replace path with len bytes of buf atomically, creating its
 * directory when missing. 0 or GALE_EIO with one line in err.
 */
int gale__file_write_atomic(const char *path, const void *buf, size_t len, char *err,
                            size_t errlen);

/**
 * @brief Read the whole of path (at most max bytes) into a malloc'ed
 * buffer the caller frees (a NUL is appended, not counted). GALE_ENOENT
 * when it does not exist, GALE_ERANGE when larger than max, GALE_EIO.
 */
int gale__file_read(const char *path, size_t max, char **buf, size_t *len, char *err,
                    size_t errlen);

#endif
