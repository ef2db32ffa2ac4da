/*
 * fileio.c — see fileio.h. Writes go through a temp file named after the
 * target and this pid, so two writers of one file never share a temp
 * file and a crash leaves at worst a stray ".tmp.<pid>" beside it.
 */
#include "common/fileio.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gale/gale.h"

int gale__file_read(const char *path, size_t max, void **buf, size_t *len, char *err,
                    size_t errlen) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gale__errf(err, errlen, errno == ENOENT ? GALE_ENOENT : GALE_EIO,
                          "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gale__errf(err, errlen, GALE_EIO, "cannot read %s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return gale__errf(err, errlen, GALE_ERANGE, "%s is %lld bytes: more than the %zu allowed",
                          path, (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size;
    char *p = malloc(n + 1);
    if (!p) {
        close(fd);
        return gale__errf(err, errlen, GALE_ENOMEM, "cannot read %s: out of memory", path);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(p);
        return gale__errf(err, errlen, GALE_EIO, "cannot read %s: it changed while being read",
                          path);
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    return 0;
}

int gale__file_write_atomic(const char *path, const void *data, size_t len, char *err,
                            size_t errlen) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return gale__errf(err, errlen, GALE_EIO, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return gale__errf(err, errlen, GALE_EIO, "cannot write %s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    int e = errno;
    if (left > 0 || fsync(fd) != 0) {
        if (left == 0) e = errno;
        close(fd);
        unlink(tmp);
        return gale__errf(err, errlen, GALE_EIO, "cannot write %s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return gale__errf(err, errlen, GALE_EIO, "cannot rename %s to %s: %s", tmp, path,
                          strerror(e));
    }
    /* the rename itself survives a crash once the directory is synced */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int gale__pathf(char *out, size_t cap, char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < cap) return 0;
    snprintf(err, errlen, "path '%.80s...' is longer than %zu bytes: use a shorter directory", out,
             cap - 1);
    return GALE_ERANGE;
}

int gale__mkdirs(const char *path, char *err, size_t errlen) {
    char buf[PATH_MAX];
    if (!path || !*path || snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return gale__errf(err, errlen, GALE_EIO, "bad directory path '%s'", path ? path : "");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return gale__errf(err, errlen, GALE_EIO, "cannot create directory %s: %s", buf,
                              strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return gale__errf(err, errlen, GALE_EIO, "cannot create directory %s: %s", buf,
                          strerror(errno));
    return 0;
}

int gale__lock_hold(const char *path, long *holder, char *err, size_t errlen) {
    *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return GALE_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = {0};
        if (e == EWOULDBLOCK && pread(fd, pid, sizeof pid - 1, 0) > 0) *holder = atol(pid);
        close(fd);
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return e == EWOULDBLOCK ? GALE_ESTATE : GALE_EIO;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return GALE_EIO;
    }
    return 0; /* fd stays open, and the lock held, until the process exits */
}

const char *gale_path_absolute(const char *path, char *buf, size_t size) {
    char cwd[4096];
    if (!path || path[0] == '/' || !buf || !getcwd(cwd, sizeof cwd)) return path;
    while (path[0] == '.' && path[1] == '/') path += 2; /* ./x is x */
    int n = snprintf(buf, size, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
    return n >= 0 && (size_t)n < size ? buf : path;
}
