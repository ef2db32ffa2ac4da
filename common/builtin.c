/*
 * builtin.c — helpers shared by the built-in spouts and bolts.
 */
#include "common/builtin.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

const char *gale__builtin_file_path(const gale_context_t *ctx) {
    const char *comp = gale_context_component_id(ctx);
    const char *path = gale_conf_get_str(gale_context_conf(ctx), GALE_BUILTIN_FILE_PATH, NULL);
    if (!path || !*path) {
        gale__context_error_once(ctx,
                                 "component '%s': conf " GALE_BUILTIN_FILE_PATH
                                 " is required: set it with gale_component_conf_set_str",
                                 comp);
        return NULL;
    }
    return path;
}

/* The GALE_E* code closest to an errno from open(2). */
static int code_of_errno(int e) {
    switch (e) {
        case ENOENT:
        case ENOTDIR:
            return GALE_ENOENT;
        case ENOMEM:
            return GALE_ENOMEM;
        case EISDIR:
        case EINVAL:
        case ENAMETOOLONG:
            return GALE_EINVAL;
        case EEXIST:
            return GALE_EEXIST;
        default:
            return GALE_EIO;
    }
}

int gale__builtin_open_failed(const gale_context_t *ctx, const char *path) {
    const char *comp = gale_context_component_id(ctx);
    int err = errno;
    /* "No such file or directory" does not say which: name the directory */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    struct stat st;
    if (err == ENOENT && stat(d, &st) != 0) {
        gale__context_error_once(ctx,
                                 "component '%s': cannot open " GALE_BUILTIN_FILE_PATH
                                 " '%s': its directory '%s' does not exist: create it first",
                                 comp, path, d);
        return GALE_ENOENT;
    }
    gale__context_error_once(ctx, "component '%s': cannot open " GALE_BUILTIN_FILE_PATH " '%s': %s",
                             comp, path, strerror(err));
    return code_of_errno(err);
}

/* Files the built-ins have open, by (st_dev, st_ino): a component's tasks
 * share one entry. Few entries (one per built-in component), so a list. */
typedef struct open_file {
    dev_t dev;
    ino_t ino;
    gale__file_use_t use;
    char *comp, *path;
    size_t refs;
    bool refused; /* its tasks log a conflict once, not once per task */
    struct open_file *next;
} open_file_t;

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static open_file_t *files;

int gale__builtin_file_claim(const gale_context_t *ctx, int fd, const char *path,
                             gale__file_use_t use) {
    const char *comp = gale_context_component_id(ctx);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    int rc = 0;
    pthread_mutex_lock(&files_lock);
    open_file_t *mine = NULL;
    for (open_file_t *f = files; f; f = f->next) {
        if (f->dev != st.st_dev || f->ino != st.st_ino) continue;
        if (f->use != use) {
            const char *reader = use == GALE__FILE_READS ? comp : f->comp;
            const char *writer = use == GALE__FILE_READS ? f->comp : comp;
            const char *rpath = use == GALE__FILE_READS ? path : f->path;
            const char *wpath = use == GALE__FILE_READS ? f->path : path;
            if (!f->refused)
                GALE_ERROR(comp, gale_context_task_id(ctx),
                           "component '%s' reads '%s' and component '%s' writes '%s': that is the "
                           "same file, so '%s' would read what '%s' writes and corrupt the input: "
                           "give them different files",
                           reader, rpath, writer, wpath, reader, writer);
            f->refused = true;
            rc = GALE_EINVAL;
            goto out;
        }
        if (strcmp(f->comp, comp) == 0) mine = f;
    }
    if (mine) {
        mine->refs++;
        goto out;
    }
    open_file_t *f = calloc(1, sizeof(*f));
    if (f) {
        f->comp = strdup(comp);
        f->path = strdup(path);
    }
    if (!f || !f->comp || !f->path) {
        if (f) {
            free(f->comp);
            free(f->path);
        }
        free(f);
        rc = GALE_ENOMEM;
        goto out;
    }
    *f = (open_file_t){st.st_dev, st.st_ino, use, f->comp, f->path, 1, false, files};
    files = f;
out:
    pthread_mutex_unlock(&files_lock);
    return rc;
}

void gale__builtin_file_release(int fd, gale__file_use_t use, const char *component) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    pthread_mutex_lock(&files_lock);
    for (open_file_t **p = &files; *p; p = &(*p)->next) {
        open_file_t *f = *p;
        if (f->dev != st.st_dev || f->ino != st.st_ino || f->use != use ||
            strcmp(f->comp, component) != 0)
            continue;
        if (--f->refs == 0) {
            *p = f->next;
            free(f->comp);
            free(f->path);
            free(f);
        }
        break;
    }
    pthread_mutex_unlock(&files_lock);
}

static atomic_bool fatal;

void gale__builtin_fatal(void) {
    atomic_store(&fatal, true);
}

bool gale__builtin_failed(void) {
    return atomic_load(&fatal);
}
