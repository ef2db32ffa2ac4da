/*
 * logfiles.h — the file side of the log viewer: open a file strictly
 * beneath the artifacts directory, list the files there, read a byte
 * range, search a string. No HTTP here (logviewer.c), so these are tested
 * and reasoned about alone. Thread-safe: no shared state.
 */
#ifndef GALE_SUPERVISOR_LOGFILES_H
#define GALE_SUPERVISOR_LOGFILES_H

#include <stddef.h>
#include <stdint.h>

/* Growable text/bytes buffer; free(b.data) when done. */
typedef struct gale__lfbuf {
    char *data;
    size_t len, cap;
    int oom; /* an append failed: the content is incomplete */
} gale__lfbuf_t;

void gale__lfbuf_add(gale__lfbuf_t *b, const void *p, size_t n);
void gale__lfbuf_printf(gale__lfbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @brief Append s (n bytes) as a JSON string literal (quotes included). */
void gale__lfbuf_json_str(gale__lfbuf_t *b, const char *s, size_t n);

/**
 * @brief Open rel for reading, strictly beneath the directory dirfd.
 * rel is a relative path of plain names joined by '/': an absolute path,
 * an empty, "." or ".." part, or a longer path than 1024 bytes is
 * GALE_EINVAL; a missing part, a symlink anywhere along it or a final
 * file that is not a regular file is GALE_ENOENT. Returns the fd (>= 0).
 */
int gale__logfiles_open(int dirfd, const char *rel);

/**
 * @brief Append to out a JSON object {"files":[{"path","size","mtime"}…]}
 * of the regular files beneath dirfd (symlinks skipped, at most 8 levels
 * and 10000 files; "truncated":true when there were more). prefix (may be
 * NULL or "") keeps the paths starting with it. 0 or GALE_E*.
 */
int gale__logfiles_list_json(int dirfd, const char *prefix, gale__lfbuf_t *out);

/**
 * @brief Read up to length bytes of fd from start into out. start < 0
 * counts from the end (-4096 = the last 4 KiB, clamped at 0); a start past
 * the end (the file rolled or was truncated) reads from 0. *offset gets
 * where the bytes begin, *size the file's size. 0 or GALE_EIO.
 */
int gale__logfiles_read(int fd, int64_t start, size_t length, gale__lfbuf_t *out, uint64_t *offset,
                        uint64_t *size);

/**
 * @brief Append JSON {"matches":[{"offset":N,"line":"…"}…],"truncated":b}
 * of the lines of fd that contain needle (at most max_matches). Lines
 * longer than 8 KiB are searched in 8 KiB pieces (a match across a piece
 * boundary is missed; log lines are at most 4 KiB). 0 or GALE_E*.
 */
int gale__logfiles_search_json(int fd, const char *needle, size_t max_matches, gale__lfbuf_t *out);

#endif
