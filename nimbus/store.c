/*
 * store.c — the store interface (key checks, dispatch through the ops
 * table) and its default implementation, a directory (see store.h).
 *
 * The directory store works relative to one directory descriptor, with
 * openat/renameat/unlinkat, so a key can never reach outside it (keys
 * have no "..", no leading '/', and are checked before any call here).
 * Durability follows the usual recipe: temp file in the key's own
 * directory (rename is atomic only within one file system), write,
 * fsync the file, rename over the key, fsync the directory; a directory
 * created on the way is fsync'ed into its parent too.
 */
#include "nimbus/store.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/text.h"

/* Temp files start with a character no key segment may hold. */
#define TMP_PREFIX "~tmp."

/* ------------------------------------------------------------------ */
/* The interface                                                        */
/* ------------------------------------------------------------------ */

static bool seg_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int gale__store_key_check(const char *key, char *err, size_t errlen) {
    if (!key || !*key) return gale__errf(err, errlen, GALE_EINVAL, "store: empty key");
    size_t len = strlen(key);
    if (len > GALE_STORE_KEY_MAX)
        return gale__errf(err, errlen, GALE_EINVAL, "store: key of %zu bytes (at most %d)", len,
                          GALE_STORE_KEY_MAX);
    int depth = 0;
    for (const char *seg = key;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0)
            return gale__errf(
                err, errlen, GALE_EINVAL,
                "store: key '%s' has an empty segment (leading, trailing or double '/')", key);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return gale__errf(err, errlen, GALE_EINVAL, "store: key '%s' has a '.' or '..' segment",
                              key);
        for (size_t i = 0; i < n; i++)
            if (!seg_char(seg[i]))
                return gale__errf(
                    err, errlen, GALE_EINVAL,
                    "store: key '%.64s' contains byte 0x%02x: use letters, digits, '.', "
                    "'_', '-' and '/' between segments",
                    key, (unsigned char)seg[i]);
        if (++depth > GALE_STORE_DEPTH_MAX)
            return gale__errf(err, errlen, GALE_EINVAL, "store: key '%s' has more than %d segments",
                              key, GALE_STORE_DEPTH_MAX);
        if (!end) return 0;
        seg = end + 1;
    }
}

void gale__store_destroy(gale__store_t *s) {
    if (s) s->ops->destroy(s);
}

int gale__store_get(gale__store_t *s, const char *key, void **val, size_t *len, char *err,
                    size_t errlen) {
    if (!s || !val || !len)
        return gale__errf(err, errlen, GALE_EINVAL, "store: get without a store");
    *val = NULL;
    *len = 0;
    int rc = gale__store_key_check(key, err, errlen);
    return rc ? rc : s->ops->get(s, key, val, len, err, errlen);
}

int gale__store_put(gale__store_t *s, const char *key, const void *val, size_t len, char *err,
                    size_t errlen) {
    if (!s || (len && !val))
        return gale__errf(err, errlen, GALE_EINVAL, "store: put without a value");
    if (len > GALE_STORE_VALUE_MAX)
        return gale__errf(err, errlen, GALE_ERANGE,
                          "store: value of %zu bytes for '%s' (at most %llu)", len, key ? key : "",
                          GALE_STORE_VALUE_MAX);
    int rc = gale__store_key_check(key, err, errlen);
    return rc ? rc : s->ops->put(s, key, val, len, err, errlen);
}

int gale__store_delete(gale__store_t *s, const char *key, char *err, size_t errlen) {
    if (!s) return gale__errf(err, errlen, GALE_EINVAL, "store: delete without a store");
    int rc = gale__store_key_check(key, err, errlen);
    return rc ? rc : s->ops->del(s, key, err, errlen);
}

int gale__store_list(gale__store_t *s, const char *prefix, char ***names, size_t *n, char *err,
                     size_t errlen) {
    if (!s || !prefix || !names || !n)
        return gale__errf(err, errlen, GALE_EINVAL, "store: list without a store");
    *names = NULL;
    *n = 0;
    int rc = *prefix ? gale__store_key_check(prefix, err, errlen) : 0;
    return rc ? rc : s->ops->list(s, prefix, names, n, err, errlen);
}

void gale__store_list_free(char **names, size_t n) {
    if (!names) return;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ------------------------------------------------------------------ */
/* The directory store                                                  */
/* ------------------------------------------------------------------ */

typedef struct dir_store {
    gale__store_t base;
    int dirfd;
    char *path;
    unsigned long tmp_counter;
} dir_store_t;

static int io_fail(dir_store_t *d, char *err, size_t errlen, const char *what, const char *key) {
    int e = errno;
    return gale__errf(err, errlen, e == ENOENT ? GALE_ENOENT : GALE_EIO, "store %s: %s '%s': %s",
                      d->path, what, key, strerror(e));
}

/* Open directory name inside fd, making it first when create; always
 * closes fd. The new fd, or -1 with errno. */
static int enter_dir(int fd, const char *name, bool create) {
    bool made = create && mkdirat(fd, name, 0755) == 0;
    int next = -1;
    if (made || !create || errno == EEXIST)
        next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* A new directory must be durable in its parent before a key in it. */
    if (next >= 0 && made && fsync(fd) != 0) {
        int e = errno;
        close(next);
        errno = e;
        next = -1;
    }
    int e = errno;
    close(fd);
    errno = e;
    return next;
}

/* The directory holding key's leaf, opened (creating missing parents when
 * create); *leaf points at the last segment. -1 with errno on failure. */
static int open_parent(dir_store_t *d, const char *key, bool create, const char **leaf) {
    int fd = dup(d->dirfd);
    const char *seg = key;
    for (const char *slash; fd >= 0 && (slash = strchr(seg, '/')); seg = slash + 1) {
        char name[GALE_STORE_KEY_MAX + 1];
        size_t n = (size_t)(slash - seg);
        memcpy(name, seg, n);
        name[n] = '\0';
        fd = enter_dir(fd, name, create);
    }
    *leaf = seg;
    return fd;
}

static int dir_get(gale__store_t *s, const char *key, void **val, size_t *len, char *err,
                   size_t errlen) {
    dir_store_t *d = (dir_store_t *)s;
    int fd = openat(d->dirfd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOTDIR) errno = ENOENT; /* a parent segment is a leaf */
        return io_fail(d, err, errlen, "cannot read", key);
    }
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = io_fail(d, err, errlen, "cannot read", key);
    } else if (S_ISDIR(st.st_mode)) {
        rc = gale__errf(err, errlen, GALE_ENOENT, "store %s: '%s' has keys under it but no value",
                        d->path, key);
    } else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > GALE_STORE_VALUE_MAX) {
        rc = gale__errf(err, errlen, GALE_EIO,
                        "store %s: '%s' is not a regular file of at most %llu bytes", d->path, key,
                        GALE_STORE_VALUE_MAX);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = gale__errf(err, errlen, GALE_ENOMEM, "store %s: out of memory reading '%s'", d->path,
                        key);
    } else {
        size_t got = 0, want = (size_t)st.st_size;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                rc = io_fail(d, err, errlen, "cannot read", key);
                break;
            }
            if (r == 0) break; /* shrank under us: nobody else writes here */
            got += (size_t)r;
        }
        if (!rc) {
            buf[got] = '\0';
            *val = buf;
            *len = got;
            buf = NULL;
        }
    }
    free(buf);
    close(fd);
    return rc;
}

/* Remove the now-empty parents of key, deepest first. */
static void prune_parents(dir_store_t *d, const char *key) {
    char path[GALE_STORE_KEY_MAX + 1];
    snprintf(path, sizeof path, "%s", key);
    for (char *slash; (slash = strrchr(path, '/'));) {
        *slash = '\0';
        if (unlinkat(d->dirfd, path, AT_REMOVEDIR) != 0) return; /* not empty: done */
    }
    (void)fsync(d->dirfd);
}

static int write_all(int fd, const void *val, size_t len) {
    const char *p = val;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int dir_put(gale__store_t *s, const char *key, const void *val, size_t len, char *err,
                   size_t errlen) {
    dir_store_t *d = (dir_store_t *)s;
    const char *leaf;
    int pfd = open_parent(d, key, true, &leaf);
    if (pfd < 0) {
        if (errno == ENOTDIR)
            return gale__errf(err, errlen, GALE_EINVAL,
                              "store %s: cannot put '%s': one of its parents is a key with a value",
                              d->path, key);
        return io_fail(d, err, errlen, "cannot create the parents of", key);
    }
    char tmp[64];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(tmp, sizeof tmp, TMP_PREFIX "%ld.%lu", (long)getpid(), ++d->tmp_counter);
        fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    int rc = 0;
    if (fd < 0) {
        rc = io_fail(d, err, errlen, "cannot create a temp file for", key);
    } else {
        if (write_all(fd, val, len) != 0 || fsync(fd) != 0) {
            rc = io_fail(d, err, errlen, "cannot write", key);
            close(fd);
        } else if (close(fd) != 0) {
            rc = io_fail(d, err, errlen, "cannot write", key);
        } else if (renameat(pfd, tmp, pfd, leaf) != 0) {
            if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
                rc = gale__errf(err, errlen, GALE_EINVAL,
                                "store %s: cannot put '%s': it has keys under it", d->path, key);
            else
                rc = io_fail(d, err, errlen, "cannot rename into", key);
        } else if (fsync(pfd) != 0) {
            rc = io_fail(d, err, errlen, "cannot sync the directory of", key);
        }
        if (rc) (void)unlinkat(pfd, tmp, 0); /* the old value, if any, is untouched */
    }
    close(pfd);
    if (rc) prune_parents(d, key); /* directories made for nothing */
    return rc;
}

static int dir_del(gale__store_t *s, const char *key, char *err, size_t errlen) {
    dir_store_t *d = (dir_store_t *)s;
    const char *leaf;
    int pfd = open_parent(d, key, false, &leaf);
    if (pfd < 0) {
        if (errno == ENOTDIR) errno = ENOENT;
        return io_fail(d, err, errlen, "cannot delete", key);
    }
    int rc = 0;
    if (unlinkat(pfd, leaf, 0) != 0) {
        if (errno == EISDIR || errno == EPERM)
            rc = gale__errf(err, errlen, GALE_EINVAL,
                            "store %s: cannot delete '%s': it has keys under it (delete those)",
                            d->path, key);
        else
            rc = io_fail(d, err, errlen, "cannot delete", key);
    } else if (fsync(pfd) != 0) {
        rc = io_fail(d, err, errlen, "cannot sync the directory of", key);
    }
    close(pfd);
    if (!rc) prune_parents(d, key);
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_key_segment(const char *name) {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return false;
    for (const char *p = name; *p; p++)
        if (!seg_char(*p)) return false;
    return true;
}

static int dir_list(gale__store_t *s, const char *prefix, char ***names, size_t *n, char *err,
                    size_t errlen) {
    dir_store_t *d = (dir_store_t *)s;
    int fd = openat(d->dirfd, *prefix ? prefix : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0; /* nothing under it */
        return io_fail(d, err, errlen, "cannot list", prefix);
    }
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int rc = io_fail(d, err, errlen, "cannot list", prefix);
        close(fd);
        return rc;
    }
    char **out = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (errno = 0, e = readdir(dir));) {
        if (!is_key_segment(e->d_name)) continue; /* temp files, "." and ".." */
        if (cnt == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **grown = realloc(out, ncap * sizeof(*grown));
            if (!grown) break;
            out = grown;
            cap = ncap;
        }
        if (!(out[cnt] = strdup(e->d_name))) break;
        cnt++;
    }
    if (errno)
        rc = errno == ENOMEM ? gale__errf(err, errlen, GALE_ENOMEM, "store: out of memory listing")
                             : io_fail(d, err, errlen, "cannot list", prefix);
    closedir(dir);
    if (rc) {
        gale__store_list_free(out, cnt);
        return rc;
    }
    if (cnt) qsort(out, cnt, sizeof(*out), cmp_names);
    *names = out;
    *n = cnt;
    return 0;
}

static void dir_destroy(gale__store_t *s) {
    dir_store_t *d = (dir_store_t *)s;
    close(d->dirfd);
    free(d->path);
    free(d);
}

static const gale__store_ops_t dir_ops = {"dir", dir_get, dir_put, dir_del, dir_list, dir_destroy};

/* Remove what a crash can leave: temp files, and directories it created
 * before the key inside them was renamed into place. Returns whether fd
 * (a directory) is now empty. */
static bool clean_dir(int fd, int depth) {
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return false;
    }
    bool empty = true, changed = false;
    for (struct dirent *e; (e = readdir(dir));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
            unlinkat(dirfd(dir), e->d_name, 0) == 0) {
            changed = true;
            continue;
        }
        struct stat st;
        if (depth < GALE_STORE_DEPTH_MAX && is_key_segment(e->d_name) &&
            fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub >= 0 && clean_dir(sub, depth + 1) &&
                unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) == 0) {
                changed = true;
                continue;
            }
        }
        empty = false;
    }
    if (changed) (void)fsync(dirfd(dir));
    closedir(dir);
    return empty;
}

static int mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

gale__store_t *gale__store_dir_open(const char *path, char *err, size_t errlen) {
    if (!path || !*path) {
        gale__errf(err, errlen, GALE_EINVAL, "store: no directory given");
        return NULL;
    }
    if (mkdir_p(path) != 0) {
        gale__errf(err, errlen, GALE_EIO, "store %s: cannot create the directory: %s", path,
                   strerror(errno));
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        gale__errf(err, errlen, GALE_EIO, "store %s: cannot open the directory: %s", path,
                   strerror(errno));
        return NULL;
    }
    dir_store_t *d = calloc(1, sizeof(*d));
    char *copy = strdup(path);
    int scan = dup(fd);
    if (!d || !copy || scan < 0) {
        free(d);
        free(copy);
        if (scan >= 0) close(scan);
        close(fd);
        gale__errf(err, errlen, GALE_ENOMEM, "store %s: out of memory", path);
        return NULL;
    }
    (void)clean_dir(scan, 0); /* takes scan */
    d->base.ops = &dir_ops;
    d->dirfd = fd;
    d->path = copy;
    return &d->base;
}
