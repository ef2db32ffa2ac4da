/*
 * logfiles.c — what the log viewer does on disk (see logfiles.h).
 *
 * Containment is by construction, not by string checks on a joined path:
 * a requested path is walked one part at a time with openat(O_NOFOLLOW)
 * from the artifacts directory's fd, so neither "..", nor an absolute
 * path, nor a symlink planted anywhere below (a worker's topology code
 * runs as the same user and could plant one) leads outside it. Parts that
 * are empty, "." or ".." are refused before anything is opened, so an
 * attempt gets a clear 400 rather than a puzzling 404.
 */
#include "supervisor/logfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gale/gale.h"

#define REL_MAX     1024
#define LIST_DEPTH  8
#define LIST_MAX    10000
#define SEARCH_LINE 8192

/* ---------- buffer ---------- */

static bool reserve(gale__lfbuf_t *b, size_t n) {
    if (b->oom) return false;
    if (b->len + n + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void gale__lfbuf_add(gale__lfbuf_t *b, const void *p, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void gale__lfbuf_printf(gale__lfbuf_t *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    gale__lfbuf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void gale__lfbuf_json_str(gale__lfbuf_t *b, const char *s, size_t n) {
    gale__lfbuf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            gale__lfbuf_add(b, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            gale__lfbuf_printf(b, "\\u%04x", c);
        } else {
            /* bytes >= 0x80 pass as they are: log lines are UTF-8; a file
             * that is not gives invalid JSON text only inside that string */
            gale__lfbuf_add(b, &s[i], 1);
        }
    }
    gale__lfbuf_add(b, "\"", 1);
}

/* ---------- contained open ---------- */

int gale__logfiles_open(int dirfd, const char *rel) {
    if (!rel || !*rel || rel[0] == '/' || strlen(rel) > REL_MAX) return GALE_EINVAL;
    char buf[REL_MAX + 1];
    snprintf(buf, sizeof buf, "%s", rel);
    /* check every part before touching the disk */
    for (char *p = buf;;) {
        char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return GALE_EINVAL;
        if (!slash) break;
        p = slash + 1;
    }
    int cur = dup(dirfd);
    if (cur < 0) return GALE_EIO;
    char *p = buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_DIRECTORY : O_NONBLOCK);
        int next = openat(cur, p, flags);
        close(cur);
        if (next < 0) return GALE_ENOENT; /* missing, a symlink (ELOOP), not a dir */
        if (!slash) {
            struct stat st;
            if (fstat(next, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(next);
                return GALE_ENOENT;
            }
            /* O_NONBLOCK only kept a FIFO from blocking the open */
            fcntl(next, F_SETFL, fcntl(next, F_GETFL) & ~O_NONBLOCK);
            return next;
        }
        cur = next;
        p = slash + 1;
    }
}

/* ---------- listing ---------- */

typedef struct lister {
    gale__lfbuf_t *out;
    const char *prefix;
    size_t count;
    bool truncated;
} lister_t;

static void list_dir(lister_t *ls, int fd, char *rel, size_t rel_len, int depth) {
    DIR *d = fdopendir(fd); /* owns fd from here */
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        if (ls->count >= LIST_MAX) {
            ls->truncated = true;
            break;
        }
        size_t n = strlen(name);
        if (rel_len + n + 2 > REL_MAX) continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        size_t len = rel_len;
        if (len) rel[len++] = '/';
        memcpy(rel + len, name, n + 1);
        len += n;
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= LIST_DEPTH) {
                ls->truncated = true;
            } else {
                int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) list_dir(ls, sub, rel, len, depth + 1);
            }
        } else if (S_ISREG(st.st_mode) &&
                   (!ls->prefix || strncmp(rel, ls->prefix, strlen(ls->prefix)) == 0)) {
            gale__lfbuf_add(ls->out, ls->count ? ",{\"path\":" : "{\"path\":", ls->count ? 9 : 8);
            gale__lfbuf_json_str(ls->out, rel, len);
            gale__lfbuf_printf(ls->out, ",\"size\":%lld,\"mtime\":%lld}", (long long)st.st_size,
                               (long long)st.st_mtime);
            ls->count++;
        }
        rel[rel_len] = '\0';
    }
    closedir(d);
}

int gale__logfiles_list_json(int dirfd, const char *prefix, gale__lfbuf_t *out) {
    int fd = dup(dirfd);
    if (fd < 0) return GALE_EIO;
    /* fdopendir shares the offset with dirfd's dup: rewind for each list */
    lseek(fd, 0, SEEK_SET);
    char rel[REL_MAX + 1] = "";
    lister_t ls = {out, prefix && *prefix ? prefix : NULL, 0, false};
    gale__lfbuf_add(out, "{\"files\":[", 10);
    list_dir(&ls, fd, rel, 0, 0);
    gale__lfbuf_printf(out, "],\"truncated\":%s}\n", ls.truncated ? "true" : "false");
    return out->oom ? GALE_ENOMEM : 0;
}

/* ---------- read a range ---------- */

int gale__logfiles_read(int fd, int64_t start, size_t length, gale__lfbuf_t *out, uint64_t *offset,
                        uint64_t *size) {
    struct stat st;
    if (fstat(fd, &st) != 0) return GALE_EIO;
    uint64_t sz = (uint64_t)st.st_size;
    uint64_t off;
    if (start < 0)
        off = (uint64_t)(-(start + 1)) + 1 >= sz ? 0 : sz - ((uint64_t)(-(start + 1)) + 1);
    else
        off = (uint64_t)start > sz ? 0 : (uint64_t)start;
    if (length > sz - off) length = (size_t)(sz - off);
    *offset = off;
    *size = sz;
    if (!reserve(out, length)) return GALE_ENOMEM;
    size_t got = 0;
    while (got < length) {
        ssize_t r = pread(fd, out->data + out->len + got, length - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* shrank meanwhile: return what was there */
        got += (size_t)r;
    }
    out->len += got;
    out->data[out->len] = '\0';
    return 0;
}

/* ---------- search ---------- */

int gale__logfiles_search_json(int fd, const char *needle, size_t max_matches, gale__lfbuf_t *out) {
    if (!needle || !*needle) return GALE_EINVAL;
    int fd2 = dup(fd);
    if (fd2 < 0) return GALE_EIO;
    FILE *fp = fdopen(fd2, "r");
    if (!fp) {
        close(fd2);
        return GALE_EIO;
    }
    char *line = malloc(SEARCH_LINE);
    if (!line) {
        fclose(fp);
        return GALE_ENOMEM;
    }
    rewind(fp);
    size_t found = 0;
    bool truncated = false;
    gale__lfbuf_add(out, "{\"matches\":[", 12);
    for (;;) {
        off_t off = ftello(fp); /* not summed from strlen: the file may hold NULs */
        if (!fgets(line, SEARCH_LINE, fp)) break;
        size_t n = strlen(line); /* a NUL cuts what is searched of this piece */
        if (strstr(line, needle)) {
            if (found == max_matches) {
                truncated = true;
                break;
            }
            size_t shown = n && line[n - 1] == '\n' ? n - 1 : n;
            gale__lfbuf_printf(out, "%s{\"offset\":%llu,\"line\":", found ? "," : "",
                               (unsigned long long)off);
            gale__lfbuf_json_str(out, line, shown);
            gale__lfbuf_add(out, "}", 1);
            found++;
        }
    }
    gale__lfbuf_printf(out, "],\"truncated\":%s}\n", truncated ? "true" : "false");
    free(line);
    fclose(fp);
    return out->oom ? GALE_ENOMEM : 0;
}
