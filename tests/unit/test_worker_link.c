/*
 * test_worker_link.c — the supervisor answers its workers' heartbeats
 * from a thread of its own (supervisor/worker_link.c): a worker gets its
 * reply while the main loop is stuck in a long nimbus call (it never
 * calls apply here), and the main loop's next apply brings the worker
 * table up to date; garbage on the socket gets a refusal, not a crash,
 * and is not queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/ctl_socket.h"
#include "supervisor/supervisor.h"

static void heartbeat_answered_while_main_loop_busy(void **state) {
    (void)state;
    void *ctx = zmq_ctx_new();
    char bound[GALE_ENDPOINT_MAX], err[256] = "";
    void *router =
        gale__sock_ctl_server(ctx, "tcp://127.0.0.1:0", bound, sizeof bound, err, sizeof err);
    assert_non_null(router);
    gale__sv_link_t *link = NULL;
    assert_int_equal(gale__sv_link_start(router, &link), 0);

    supervisor_t sv;
    memset(&sv, 0, sizeof sv);
    sv_worker_t *w = gale__sv_worker(&sv, "wc-1-1", 6700, true);
    assert_non_null(w);
    w->pid = 4242;

    gale__ctl_client_t c;
    assert_int_equal(gale__ctl_client_open(&c, ctx, bound, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) { /* every one answered, none applied yet */
        gale__ctl_worker_heartbeat_t hb = {"wc-1-1", 6700, 4242, 1, {NULL, 0}, i == 2, {NULL, 0}};
        gale__ctl_msg_t r;
        assert_int_equal(gale__ctl_call(&c, GALE_CTL_WORKER_HEARTBEAT, &hb, GALE_CTL_REPLY, 5000,
                                        &r, err, sizeof err),
                         0);
        assert_true(r.u.reply.ok);
        gale__ctl_msg_destroy(&r);
    }
    /* a message of the wrong type: refused, not queued */
    gale__ctl_list_t l = {NULL};
    gale__ctl_msg_t r;
    int rc = gale__ctl_call(&c, GALE_CTL_LIST, &l, GALE_CTL_LIST_REPLY, 5000, &r, err, sizeof err);
    assert_true(rc != 0 || r.type != GALE_CTL_LIST_REPLY);
    if (rc == 0) gale__ctl_msg_destroy(&r);
    assert_int_equal(w->last_hb_ns, 0); /* the table is the main loop's: untouched */

    gale__sv_link_apply(link, &sv);
    w = gale__sv_worker(&sv, "wc-1-1", 6700, false);
    assert_true(w->last_hb_ns > 0);
    assert_true(w->done); /* the last heartbeat's */
    assert_string_equal(w->state, "running");

    gale__ctl_client_close(&c);
    gale__sv_link_stop(link);
    zmq_close(router);
    zmq_ctx_term(ctx);
    gale__sv_workers_free(&sv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heartbeat_answered_while_main_loop_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
