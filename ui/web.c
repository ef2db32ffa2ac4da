/*
 * web.c — the UI's static files (DESIGN §7's small web UI), compiled in:
 * the table below maps a URL path to its bytes and content type. It is
 * empty for now: the web pages (a later piece of work) add rows here,
 * e.g. from a file generated at build time out of ui/web/ (xxd -i or a
 * CMake step), and nothing else in the daemon changes. "/" serves
 * "/index.html" when there is one.
 */
#include <string.h>

#include "ui/ui.h"

typedef struct web_file {
    const char *path, *type;
    const unsigned char *data;
    size_t len;
} web_file_t;

static const web_file_t files[] = {
    {NULL, NULL, NULL, 0},
};

bool gale__ui_web(const char *path, gale__ui_answer_t *a) {
    if (strcmp(path, "/") == 0) path = "/index.html";
    for (const web_file_t *f = files; f->path; f++)
        if (strcmp(f->path, path) == 0) {
            a->status = 200;
            a->type = f->type;
            a->body = (char *)f->data;
            a->len = f->len;
            a->borrowed = true;
            return true;
        }
    return false;
}
