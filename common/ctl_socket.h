/*
 * ctl_socket.h — every ZeroMQ socket of the cluster is made here, one
 * helper per role (DESIGN §10 "One way in"), so that socket options, bind
 * addresses and later CURVE keys (§8) are set in one place:
 *
 *   control server  ROUTER, bound   (nimbus; a supervisor for its workers)
 *   control client  DEALER, connected (CLI, supervisors, workers)
 *   data in         PULL, bound     (a worker's tuple socket)
 *   data out        PUSH, connected (a worker to each peer)
 *
 * Control sockets refuse frames larger than a control body
 * (ZMQ_MAXMSGSIZE: a peer sending more is disconnected by libzmq before
 * anything is allocated for it) and do not linger on close.
 *
 * On top: a request client (send a typed request, wait for the reply
 * with the same req up to a deadline, decode it) and the server's
 * receive/reply pair. The client is used by one thread at a time.
 */
#ifndef GALE_COMMON_CTL_SOCKET_H
#define GALE_COMMON_CTL_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "common/control.h"

#define GALE_ENDPOINT_MAX 300

/**
 * @brief A ROUTER bound to endpoint ("tcp://127.0.0.1:0" binds an
 * ephemeral port). The endpoint really bound goes to bound (may be NULL).
 * NULL with one line in err.
 */
void *gale__sock_ctl_server(void *zctx, const char *endpoint, char *bound, size_t boundlen,
                            char *err, size_t errlen);
/** @brief A DEALER connected to endpoint. NULL with one line in err. */
void *gale__sock_ctl_client(void *zctx, const char *endpoint, char *err, size_t errlen);
/**
 * @brief A control client whose connection is watched: *monitor is a
 * PAIR socket receiving the DEALER's HANDSHAKE_SUCCEEDED and DISCONNECTED
 * events (ZeroMQ monitor frames: u16 event, u32 value; then the
 * endpoint), attached before the connect so no event is missed. Close
 * the monitor before the DEALER. NULL with one line in err.
 */
void *gale__sock_ctl_client_monitored(void *zctx, const char *endpoint, void **monitor, char *err,
                                      size_t errlen);
/**
 * @brief A PULL bound to endpoint with receive high-water mark hwm
 * (0 = none) and frames of at most max_msg bytes (-1 = no limit).
 */
void *gale__sock_data_in(void *zctx, const char *endpoint, int hwm, int64_t max_msg, char *bound,
                         size_t boundlen, char *err, size_t errlen);
/**
 * @brief A PUSH connected to endpoint with send high-water mark hwm.
 * linger_ms: how long close waits to hand queued batches over.
 */
void *gale__sock_data_out(void *zctx, const char *endpoint, int hwm, int linger_ms, char *err,
                          size_t errlen);

/** @brief The port of "tcp://host:port", or -1. */
int gale__endpoint_port(const char *endpoint);

/** @brief "tcp://host:port" into out (IPv6 hosts bracketed). */
void gale__endpoint_tcp(char *out, size_t outlen, const char *host, int port);

/* ------------------------------------------------------------------ */
/* Request client                                                       */
/* ------------------------------------------------------------------ */

typedef struct gale__ctl_client {
    void *zctx;
    void *sock;
    char endpoint[GALE_ENDPOINT_MAX];
    uint64_t next_req;
} gale__ctl_client_t;

/** @brief Open a client to endpoint (connects lazily, as ZeroMQ does). 0 or GALE_EIO + err. */
int gale__ctl_client_open(gale__ctl_client_t *c, void *zctx, const char *endpoint, char *err,
                          size_t errlen);
void gale__ctl_client_close(gale__ctl_client_t *c);

/**
 * @brief Send request (type, msg) and wait up to timeout_ms for its
 * reply, decoded into *reply (free with gale__ctl_msg_destroy). The reply
 * is of type `want` or a generic `reply` (how a server refuses what it
 * could not decode): the caller checks reply->type. Replies to earlier
 * requests are dropped. GALE_EIO when nothing came back in time (the
 * socket is then reopened, so a request queued for a peer that is gone
 * is never delivered late), GALE_EPROTO for an undecodable reply, each
 * with one line in err.
 */
int gale__ctl_call(gale__ctl_client_t *c, gale__ctl_type_t type, const void *msg,
                   gale__ctl_type_t want, int timeout_ms, gale__ctl_msg_t *reply, char *err,
                   size_t errlen);

/* A message a server sends unasked (e.g. nimbus telling a supervisor
 * its assignments changed) carries this request id: clients number their
 * requests from 1. */
#define GALE_CTL_PUSH_REQ 0

/**
 * @brief Without waiting: the newest message the server pushed (request
 * id GALE_CTL_PUSH_REQ) into *out, returning 1; 0 when none is there.
 * Late replies to earlier requests met on the way are dropped. Call it
 * only between gale__ctl_call()s (which drop pushes they meet: a pushed
 * message must be a hint that the next call would also give).
 */
int gale__ctl_client_pushed(gale__ctl_client_t *c, gale__ctl_msg_t *out);

/* ------------------------------------------------------------------ */
/* Server side                                                          */
/* ------------------------------------------------------------------ */

/* The ROUTER identity of a requester. */
typedef struct gale__ctl_peer {
    uint8_t id[256];
    size_t len;
} gale__ctl_peer_t;

/**
 * @brief Receive one request without blocking. 0: *msg decoded (free it
 * with gale__ctl_msg_destroy). GALE_ENOENT: nothing waiting.
 * GALE_EPROTO: refused, one line in err; msg->type/req are set when the
 * header decoded (then answer with gale__ctl_reply_error).
 */
int gale__ctl_server_recv(void *router, gale__ctl_peer_t *peer, gale__ctl_msg_t *msg, char *err,
                          size_t errlen);
/** @brief Send a reply (type, body) for req to peer. 0 or GALE_EIO/GALE_EINVAL + err. */
int gale__ctl_server_send(void *router, const gale__ctl_peer_t *peer, gale__ctl_type_t type,
                          uint64_t req, const void *body, char *err, size_t errlen);
/** @brief Reply reply{ok: false, error: why} for req. */
int gale__ctl_reply_error(void *router, const gale__ctl_peer_t *peer, uint64_t req,
                          const char *why);

#endif
