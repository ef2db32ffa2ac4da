/*
 * ui.h — `gale ui`: the UI daemon (DESIGN §7, §9). It owns nothing: every
 * answer is built from what nimbus says (the stats request, nimbus/stats.c).
 *
 *   server.c   the daemon: config, the nimbus link, the HTTP server,
 *              limits, routing to the parts below, JSON errors
 *   rest.c     /api/v1/… with Storm UI's paths and field names
 *   metrics.c  /metrics in Prometheus's text exposition format
 *   web.c      the static files: the pages of ui/web/ (app.js routes by the
 *              URL's #fragment), compiled in by cmake/embed.cmake
 *
 * HTTP handlers run on libmicrohttpd's connection threads; they share a
 * few nimbus links (server.c), each under its own lock, so a slow call to
 * nimbus holds up only its own request.
 */
#ifndef GALE_UI_UI_H
#define GALE_UI_UI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gale/gale.h"

typedef struct gale__ui gale__ui_t;

/* An answer: status, content type and a malloc'd body (owned by the answer). */
typedef struct gale__ui_answer {
    unsigned status;
    const char *type;
    char *body;
    size_t len;
    bool borrowed; /* body is static (web.c): not freed */
} gale__ui_answer_t;

/**
 * @brief Ask nimbus for its stats document (stats request) for one
 * topology (NULL: all) over window_secs (0: all time). 0 with *doc (the
 * caller decrefs), or an HTTP status (404 no such topology, 503 nimbus
 * unreachable, 502 a bad answer) with one line in err. Any thread.
 */
unsigned gale__ui_stats(gale__ui_t *ui, const char *topology, unsigned window_secs, json_t **doc,
                        char *err, size_t errlen);
/** @brief Send a life-cycle request (kill/activate/deactivate/rebalance
 * control message, type and body) and wait for nimbus's reply. 0, or an
 * HTTP status with one line in err. */
unsigned gale__ui_lifecycle(gale__ui_t *ui, int type, const void *msg, char *err, size_t errlen);

/** @brief The conf gale ui runs with. server.c. */
const gale_conf_t *gale__ui_conf(const gale__ui_t *ui);

/** @brief A JSON answer of status (steals doc). */
void gale__ui_json(gale__ui_answer_t *a, unsigned status, json_t *doc);
/** @brief {"error": <reason phrase>, "errorMessage": why} with status. */
void gale__ui_error(gale__ui_answer_t *a, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief Route one REST request (path below /api/v1/, e.g.
 * "topology/wc-1-17/component/split"). query: the window argument or
 * NULL; body: the POST body (may be NULL). rest.c.
 */
void gale__ui_rest(gale__ui_t *ui, const char *method, const char *path, const char *window,
                   const char *body, size_t body_len, gale__ui_answer_t *a);
/** @brief GET /metrics. metrics.c. */
void gale__ui_metrics(gale__ui_t *ui, gale__ui_answer_t *a);
/** @brief A static file for path ("/", "/index.html", …): true with a
 * (body not owned: answer from the table), false when none. web.c. */
bool gale__ui_web(const char *path, gale__ui_answer_t *a);

/** @brief Serve until SIGTERM/SIGINT with the daemon conf. Exit code. */
int gale__ui_run(const gale_conf_t *conf);

#endif
