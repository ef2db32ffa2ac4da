/*
 * logviewer.h — a supervisor's HTTP server for its workers' log files
 * (Storm's logviewer), libmicrohttpd, one thread per connection.
 *
 * It serves the files beneath one directory (<gale.log.dir>/workers-artifacts)
 * and nothing else. Paths are relative to it, e.g.
 * "WordCount-1-1764620000/6700/worker.log". Every answer to a bad request
 * is a status and one text line; nothing a client sends can crash it.
 *
 *   GET /api/v1/log/list[?prefix=P]
 *       200 JSON {"files":[{"path","size","mtime"}…],"truncated":bool}
 *   GET /api/v1/log/read?file=F[&start=S][&length=N]
 *       200 the bytes [S, S+N) (text/plain). S < 0 counts from the end
 *       (-4096 = the last 4 KiB); S past the end (the file rolled) reads
 *       from 0. N defaults to and is capped at 1 MiB.
 *   GET /api/v1/log/follow?file=F&start=S[&wait=MS]
 *       long poll: like read, but when there is nothing at S yet it waits
 *       up to MS milliseconds (default 10000, at most 30000) for the file
 *       to grow; then 200 with the new bytes, possibly none.
 *   GET /api/v1/log/search?file=F&q=TEXT[&max=N]
 *       200 JSON {"matches":[{"offset","line"}…],"truncated":bool}, the
 *       lines holding TEXT (N default 100, at most 1000).
 *
 * read and follow answer with headers X-Gale-Offset (where the bytes
 * start), X-Gale-Size (the file's size) and X-Gale-Next (the start to ask
 * for next): a follower loops on follow?start=<X-Gale-Next>.
 *   GET /api/v1/log?file=F[&q=TEXT][&start=S]   (also /log and /)
 *       the log page (HTML; its script and style under /static/): tail,
 *       page back and forth, follow, search. Static: it reads its query
 *       itself, so nothing a client sends is put into the HTML.
 * Errors: 400 bad parameter or a path with "..", "." or an absolute path;
 * 404 unknown URL, missing file, symlink or not a regular file; 405 a
 * method other than GET; each one line of JSON {"error", "errorMessage"}.
 */
#ifndef GALE_SUPERVISOR_LOGVIEWER_H
#define GALE_SUPERVISOR_LOGVIEWER_H

#include <stddef.h>

#include "gale/gale.h"

typedef struct gale__logviewer gale__logviewer_t;

/**
 * @brief Serve dir (created when missing) over HTTP on port (0 = a free
 * port: read it with gale__logviewer_port). It binds gale.local.hostname
 * from conf when set, else 127.0.0.1 (HTTP binds loopback by default,
 * DESIGN.md §8). conf may be NULL. 0, or GALE_E* with one line in err.
 * Call from one thread; the server runs on its own threads.
 */
/* Connections one client address may hold at once (of 64 in all): one
 * host holding idle connections cannot lock every other reader out. */
#define GALE__LOGVIEWER_PER_IP 8

int gale__logviewer_start(const gale_conf_t *conf, const char *dir, int port,
                          gale__logviewer_t **out, char *err, size_t errlen);
/** @brief The port really bound. */
int gale__logviewer_port(const gale__logviewer_t *lv);
/** @brief Stop serving (ends pending follows at once), free lv. NULL ok. */
void gale__logviewer_stop(gale__logviewer_t *lv);

#endif
