/*
 * http_server.c — see http_server.h.
 */
#include "common/http_server.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    gale__log_vwrite(GALE_LOG_WARN, (const char *)cls, 0, fmt, ap);
}

struct MHD_Daemon *gale__http_start(const gale__http_opts_t *o, MHD_AccessHandlerCallback cb,
                                    void *cls, int *bound, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", o->port);
    int gai = getaddrinfo(o->host, service, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "%s: cannot resolve %s = '%s': %s (set it to this host's address)",
                 o->role, o->host_key, o->host, gai_strerror(gai));
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* the logger first: libmicrohttpd warns (through it) when it is not */
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, cb, cls, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        (void *)o->role, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
        o->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip, MHD_OPTION_NOTIFY_COMPLETED, o->done, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->mem_limit ? o->mem_limit : (size_t)32 * 1024,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        snprintf(err, errlen, "%s: cannot listen on %s:%d (port in use? set %s)", o->role, o->host,
                 o->port, o->port_key);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound = info ? (int)info->port : o->port;
    return d;
}
