/*
 * embedded.h — files compiled into the binary (the web UI's pages, the
 * log viewer's page): tables generated at build time by cmake/embed.cmake
 * from ui/web/ and supervisor/web/. Static data: nothing to free.
 */
#ifndef GALE_COMMON_EMBEDDED_H
#define GALE_COMMON_EMBEDDED_H

#include <stddef.h>
#include <string.h>

typedef struct gale__embedded {
    const char *path; /* the URL path, e.g. "/index.html"; NULL ends a table */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
} gale__embedded_t;

/* the files of ui/web/: "/index.html", "/app.js", … */
extern const gale__embedded_t gale__ui_web_files[];
/* the files of supervisor/web/: "/static/log.html", … */
extern const gale__embedded_t gale__logviewer_web_files[];

/** @brief The row of path in table, or NULL. */
static inline const gale__embedded_t *gale__embedded_find(const gale__embedded_t *table,
                                                          const char *path) {
    for (const gale__embedded_t *f = table; f->path; f++)
        if (strcmp(f->path, path) == 0) return f;
    return NULL;
}

#endif
