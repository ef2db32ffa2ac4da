/*
 * test_ctl_socket.c — the control request client and server helpers
 * (common/ctl_socket.c): a request gets its reply; with nobody listening
 * the call ends at its deadline with GALE_EIO; a late reply to an earlier
 * request is dropped; a message with the wrong number of frames or
 * garbage bytes is refused by the server with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <zmq.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/ctl_socket.h"

/* Answer one list request: first a reply to another req (must be
 * dropped by the client), then the real one. */
static void *serve_one(void *router) {
    for (;;) {
        zmq_pollitem_t pi = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, 5000) != 1) return NULL;
        gale__ctl_peer_t peer;
        gale__ctl_msg_t m;
        char err[256];
        int rc = gale__ctl_server_recv(router, &peer, &m, err, sizeof err);
        if (rc == GALE_ENOENT) continue;
        if (rc || m.type != GALE_CTL_LIST) return NULL;
        gale__ctl_topology_summary_t t = {"stale", "stale-1-1", "ACTIVE", 0, 0, 0, 0, false, 0};
        gale__ctl_list_reply_t stale = {.ok = true, .topologies = {&t, 1}};
        gale__ctl_list_reply_t r = {.ok = true};
        gale__ctl_server_send(router, &peer, GALE_CTL_LIST_REPLY, m.req + 1000, &stale, err,
                              sizeof err);
        gale__ctl_server_send(router, &peer, GALE_CTL_LIST_REPLY, m.req, &r, err, sizeof err);
        gale__ctl_msg_destroy(&m);
        return router;
    }
}

static void request_reply(void **state) {
    (void)state;
    void *ctx = zmq_ctx_new();
    char bound[GALE_ENDPOINT_MAX], err[256] = "";
    void *router =
        gale__sock_ctl_server(ctx, "tcp://127.0.0.1:0", bound, sizeof bound, err, sizeof err);
    assert_non_null(router);
    assert_true(gale__endpoint_port(bound) > 0);
    gale__ctl_client_t c;
    assert_int_equal(gale__ctl_client_open(&c, ctx, bound, err, sizeof err), 0);
    gale__ctl_list_t l = {NULL};
    gale__ctl_msg_t reply;

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve_one, router), 0);
    assert_int_equal(
        gale__ctl_call(&c, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, 10000, &reply, err, sizeof err),
        0);
    void *ok;
    pthread_join(th, &ok);
    assert_non_null(ok);
    assert_int_equal(reply.type, GALE_CTL_LIST_REPLY);
    assert_true(reply.u.list_reply.ok);
    assert_int_equal(reply.u.list_reply.topologies.n, 0); /* not the stale one */
    gale__ctl_msg_destroy(&reply);

    /* nobody answers: the deadline ends the call */
    int64_t t0 = gale__now_ns();
    assert_int_equal(
        gale__ctl_call(&c, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, 200, &reply, err, sizeof err),
        GALE_EIO);
    assert_non_null(strstr(err, "no reply to list"));
    assert_true(gale__now_ns() - t0 < 5000000000LL);
    gale__ctl_client_close(&c);

    /* nobody listening at all */
    zmq_close(router);
    assert_int_equal(gale__ctl_client_open(&c, ctx, bound, err, sizeof err), 0);
    assert_int_equal(
        gale__ctl_call(&c, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, 200, &reply, err, sizeof err),
        GALE_EIO);
    gale__ctl_client_close(&c);
    zmq_ctx_term(ctx);
}

static void server_refuses_garbage(void **state) {
    (void)state;
    void *ctx = zmq_ctx_new();
    char bound[GALE_ENDPOINT_MAX], err[256] = "";
    void *router =
        gale__sock_ctl_server(ctx, "tcp://127.0.0.1:0", bound, sizeof bound, err, sizeof err);
    void *d = gale__sock_ctl_client(ctx, bound, err, sizeof err);
    assert_non_null(d);
    zmq_send(d, "\xc1\xc1", 2, 0); /* one frame of garbage */
    zmq_send(d, "\x81", 1, ZMQ_SNDMORE);
    zmq_send(d, "\x80", 1, 0); /* header and body, both malformed */
    for (int got = 0; got < 2;) {
        zmq_pollitem_t pi = {router, 0, ZMQ_POLLIN, 0};
        assert_true(zmq_poll(&pi, 1, 5000) == 1);
        gale__ctl_peer_t peer;
        gale__ctl_msg_t m;
        int rc = gale__ctl_server_recv(router, &peer, &m, err, sizeof err);
        if (rc == GALE_ENOENT) continue;
        assert_int_equal(rc, GALE_EPROTO);
        assert_true(peer.len > 0);
        if (got == 0) assert_non_null(strstr(err, "frame"));
        gale__ctl_msg_destroy(&m);
        got++;
    }
    zmq_close(d);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_reply),
        cmocka_unit_test(server_refuses_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
