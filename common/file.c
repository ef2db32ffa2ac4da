/*
 * file.c — atomic whole-file writes and bounded reads (see file.h).
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gale/gale.h"

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int gale__mkdirs(const char *dir, char *err, size_t errlen) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return fail(err, errlen, GALE_EIO, "bad directory '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return fail(err, errlen, GALE_EIO, "cannot create directory '%s': %s", buf,
                        strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(err, errlen, GALE_EIO, "'%s' is not a directory", dir);
    return 0;
}

static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int gale__file_write_atomic(const char *path, const void *buf, size_t len, char *err,
                            size_t errlen) {
    char dir[4096], tmp[4200];
    const char *slash = strrchr(path, '/');
    size_t dn = slash ? (size_t)(slash - path) : 1;
    if (dn >= sizeof dir) return fail(err, errlen, GALE_EIO, "path too long: '%s'", path);
    if (slash) {
        memcpy(dir, path, dn);
        dir[dn] = '\0';
        if (dn == 0) strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    int rc = gale__mkdirs(dir, err, errlen);
    if (rc) return rc;
    /* pid in the name: two processes writing the same file never share a temp file */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(err, errlen, GALE_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail(err, errlen, GALE_EIO, "cannot write '%s': %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, errlen, GALE_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                    strerror(e));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* durability of the rename; the bytes are already safe */
        close(dfd);
    }
    return 0;
}

int gale__file_read(const char *path, size_t max, char **buf, size_t *len, char *err,
                    size_t errlen) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, errno == ENOENT ? GALE_ENOENT : GALE_EIO, "cannot open '%s': %s",
                    path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, GALE_EIO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return fail(err, errlen, GALE_ERANGE, "'%s' is %lld bytes (at most %zu)", path,
                    (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size, n = 0;
    char *b = malloc(cap + 1);
    if (!b) {
        close(fd);
        return fail(err, errlen, GALE_ENOMEM, "out of memory reading '%s'", path);
    }
    while (n < cap) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* shrunk under us: keep what was read */
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
