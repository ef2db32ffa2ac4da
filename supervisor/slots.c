/*
 * slots.c — the supervisor's persistent id (L/supervisor/id, made once
 * from random bytes, kept across restarts so nimbus and the adopted
 * workers recognise it) and the slots it can really offer: each port of
 * supervisor.slots.ports that it can bind on gale.local.hostname now, or
 * that a worker of its own already holds (an adopted worker).
 *
 * A free port is not enough: two supervisors on one host given the same
 * supervisor.slots.ports would both offer them (no worker binds a slot
 * until it runs), and their workers would then collide. So each slot is
 * also claimed for the supervisor's life by binding the abstract unix
 * socket "gale-slot:<host>:<port>": a second supervisor's claim fails,
 * it says so and does not offer the slot. The kernel drops the claim when
 * the process dies however it dies (a kill -9 leaves nothing stale), and
 * the claim is close-on-exec, so workers do not hold it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "supervisor/supervisor.h"

#define SV "supervisor"

int gale__sv_load_id(supervisor_t *sv, char *err, size_t errlen) {
    char path[4096], *buf;
    void *raw;
    size_t n;
    snprintf(path, sizeof path, "%s/supervisor/id", sv->local);
    int rc = gale__file_read(path, 128, &raw, &n, err, errlen);
    buf = raw;
    if (rc == 0) {
        buf[strcspn(buf, "\r\n")] = '\0';
        bool ok = n > 0 && strlen(buf) < sizeof sv->id;
        for (const char *c = buf; ok && *c; c++)
            ok = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || *c == '-';
        if (ok) snprintf(sv->id, sizeof sv->id, "%s", buf);
        free(buf);
        if (ok) return 0;
        GALE_WARN(SV, 0, "%s does not hold an id: making a new one", path);
    } else if (rc != GALE_ENOENT) {
        return rc;
    }
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        snprintf(err, errlen, "cannot get random bytes for the supervisor id: %s", strerror(errno));
        return GALE_EIO;
    }
    char line[64];
    int k = 0;
    for (size_t i = 0; i < sizeof r; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, "%02x", r[i]);
    snprintf(sv->id, sizeof sv->id, "%s", line);
    line[k++] = '\n';
    return gale__file_write_atomic(path, line, (size_t)k, err, errlen);
}

static bool can_bind(const char *host, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return true; /* a name: let the worker try */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Claim (host, port) for this process; false: another process holds it. */
static bool claim_slot(const char *host, int port) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "gale-slot:%s:%d", host, port);
    if (n < 0 || (size_t)n >= sizeof a.sun_path - 1) return true; /* cannot name it: no claim */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true; /* no claim possible: the bind test alone decides */
    if (bind(fd, (struct sockaddr *)&a,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0)
        return true; /* fd kept open: the claim lasts as long as this process */
    close(fd);
    return false;
}

size_t gale__sv_find_ports(supervisor_t *sv) {
    const gale_value_t *v = gale_conf_get(sv->conf, GALE_CONF_SUPERVISOR_SLOTS_PORTS);
    size_t n = 0;
    for (uint32_t i = 0; v && v->type == GALE_T_ARRAY && i < v->len && n < 1024; i++) {
        if (v->u.a[i].type != GALE_T_INT) continue;
        int port = (int)v->u.a[i].u.i;
        bool ours = false;
        for (size_t w = 0; w < sv->n_workers && !ours; w++)
            ours = sv->workers[w].port == port && sv->workers[w].pid > 0;
        if (!claim_slot(sv->host, port))
            GALE_WARN(SV, 0,
                      "slot port %d on %s is a slot of another supervisor on this host: not "
                      "offered (give each supervisor its own supervisor.slots.ports)",
                      port, sv->host);
        else if (ours || can_bind(sv->host, port))
            sv->ports[n++] = port;
        else
            GALE_WARN(SV, 0, "slot port %d on %s is in use by another program: not offered", port,
                      sv->host);
    }
    sv->n_ports = n;
    return v && v->type == GALE_T_ARRAY ? v->len : 0;
}
