/*
 * resources.c — pack a resources directory, unpack it safely (resources.h).
 */
#include "common/resources.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "common/fileio.h"
#include "common/text.h"
#include "gale/gale.h"

#define MAX_FILES 10000
#define MAX_PATH  255

typedef struct walk {
    char **paths;
    size_t n, cap;
} walk_t;

static int collect(const char *root, const char *rel, walk_t *w, char *err, size_t errlen) {
    char full[4096];
    snprintf(full, sizeof full, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(full);
    if (!d) return gale__errf(err, errlen, GALE_EIO, "cannot read '%s': %s", full, strerror(errno));
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char sub[4096], path[4096];
        int n1 = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        int n2 = snprintf(path, sizeof path, "%s/%s", root, sub);
        if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof sub || (size_t)n2 >= sizeof path) continue;
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            rc = collect(root, sub, w, err, errlen);
        } else if (S_ISREG(st.st_mode)) {
            if (strlen(sub) > MAX_PATH || w->n >= MAX_FILES) {
                rc = gale__errf(err, errlen, GALE_EIO,
                                "resources: '%s': too many files or too deep", sub);
                break;
            }
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 16;
                char **g = realloc(w->paths, cap * sizeof *g);
                if (!g) {
                    rc = GALE_ENOMEM;
                    break;
                }
                w->paths = g;
                w->cap = cap;
            }
            w->paths[w->n++] = strdup(sub);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gale__resources_pack(const char *dir, msgpack_sbuffer *out, char *err, size_t errlen) {
    msgpack_sbuffer_clear(out);
    walk_t w = {0};
    int rc = collect(dir, "", &w, err, errlen);
    /* sorted: the same directory always packs to the same bytes (and sum) */
    if (!rc) qsort(w.paths, w.n, sizeof *w.paths, cmp_str);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    if (!rc) msgpack_pack_array(&pk, (uint32_t)w.n);
    for (size_t i = 0; !rc && i < w.n; i++) {
        char path[4096];
        void *buf;
        size_t len;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, w.paths[i]) >= sizeof path) {
            rc = gale__errf(err, errlen, GALE_EIO, "resources: path too long");
            break;
        }
        rc = gale__file_read(path, 1u << 30, &buf, &len, err, errlen);
        if (rc) break;
        msgpack_pack_array(&pk, 2);
        msgpack_pack_str_with_body(&pk, w.paths[i], strlen(w.paths[i]));
        msgpack_pack_bin_with_body(&pk, buf, len);
        free(buf);
    }
    for (size_t i = 0; i < w.n; i++) free(w.paths[i]);
    free(w.paths);
    return rc;
}

static bool safe_path(const char *p, size_t n) {
    if (n == 0 || n > MAX_PATH || p[0] == '/' || memchr(p, '\0', n)) return false;
    for (size_t s = 0; s <= n;) {
        size_t e = s;
        while (e < n && p[e] != '/') e++;
        size_t len = e - s;
        if (len == 0 || (len == 1 && p[s] == '.') || (len == 2 && p[s] == '.' && p[s + 1] == '.'))
            return false;
        s = e + 1;
    }
    return true;
}

int gale__resources_unpack(const void *buf, size_t len, const char *dir, char *err, size_t errlen) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "resources", err, errlen);
    const msgpack_object *o = &u.data;
    if (!rc && o->type != MSGPACK_OBJECT_ARRAY)
        rc = gale__errf(err, errlen, GALE_EPROTO, "resources: not an array");
    /* check every entry before writing any */
    for (uint32_t i = 0; !rc && i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
            e->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
            e->via.array.ptr[1].type != MSGPACK_OBJECT_BIN ||
            !safe_path(e->via.array.ptr[0].via.str.ptr, e->via.array.ptr[0].via.str.size))
            rc =
                gale__errf(err, errlen, GALE_EPROTO,
                           "resources: entry %u is not [relative path, bytes] with a safe path", i);
    }
    if (!rc) rc = gale__mkdirs(dir, err, errlen);
    for (uint32_t i = 0; !rc && i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        char path[4096];
        (void)!snprintf(path, sizeof path, "%s/%.*s", dir, (int)e->via.array.ptr[0].via.str.size,
                        e->via.array.ptr[0].via.str.ptr);
        char *slash = strrchr(path, '/');
        *slash = '\0'; /* its directory first: the archive names files only */
        rc = gale__mkdirs(path, err, errlen);
        *slash = '/';
        if (!rc)
            rc = gale__file_write_atomic(path, e->via.array.ptr[1].via.bin.ptr,
                                         e->via.array.ptr[1].via.bin.size, err, errlen);
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}
