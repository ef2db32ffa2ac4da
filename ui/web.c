/*
 * web.c — the UI's static files (DESIGN §7's small web UI): the pages in
 * ui/web/, compiled in by cmake/embed.cmake (common/embedded.h). "/"
 * serves "/index.html"; the pages route by the URL's #fragment, so no
 * other path is needed.
 */
#include <string.h>

#include "common/embedded.h"
#include "ui/ui.h"

bool gale__ui_web(const char *path, gale__ui_answer_t *a) {
    if (strcmp(path, "/") == 0) path = "/index.html";
    const gale__embedded_t *f = gale__embedded_find(gale__ui_web_files, path);
    if (!f) return false;
    a->status = 200;
    a->type = f->type;
    a->body = (char *)f->data;
    a->len = f->len;
    a->borrowed = true;
    return true;
}
