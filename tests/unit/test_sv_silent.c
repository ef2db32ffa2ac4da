/*
 * test_sv_silent.c — when a supervisor counts a worker as silent
 * (gale__sv_worker_silent, supervisor/workers.c): its next heartbeat,
 * due worker.heartbeat.frequency.secs after the last, is
 * supervisor.worker.timeout.secs late; before its first one, the start
 * timeout. With the timeout equal to the period (both 1 s, as fault tests
 * set them) a heartbeat a little late must not get a healthy worker
 * killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "supervisor/supervisor.h"

#define S 1000000000LL

static void late_heartbeat_is_not_silence(void **state) {
    (void)state;
    supervisor_t sv;
    memset(&sv, 0, sizeof sv);
    sv.worker_hb_ns = 1 * S;
    sv.worker_timeout_ns = 1 * S;
    sv.start_timeout_ns = 5 * S;
    sv_worker_t w;
    memset(&w, 0, sizeof w);
    int64_t now = 100 * S;

    w.last_hb_ns = now - 1 * S - S / 5; /* the next one 0.2 s late */
    assert_false(gale__sv_worker_silent(&sv, &w, now));
    w.last_hb_ns = now - 2 * S + 1; /* just within a period and a timeout */
    assert_false(gale__sv_worker_silent(&sv, &w, now));
    w.last_hb_ns = now - 2 * S - 1; /* the next one a whole timeout late */
    assert_true(gale__sv_worker_silent(&sv, &w, now));
}

static void first_heartbeat_gets_the_start_timeout(void **state) {
    (void)state;
    supervisor_t sv;
    memset(&sv, 0, sizeof sv);
    sv.worker_hb_ns = 1 * S;
    sv.worker_timeout_ns = 1 * S;
    sv.start_timeout_ns = 5 * S;
    sv_worker_t w;
    memset(&w, 0, sizeof w);
    int64_t now = 100 * S;
    w.started_ns = now - 4 * S; /* no heartbeat yet, 4 s after its start */
    assert_false(gale__sv_worker_silent(&sv, &w, now));
    w.started_ns = now - 5 * S - 1;
    assert_true(gale__sv_worker_silent(&sv, &w, now));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(late_heartbeat_is_not_silence),
        cmocka_unit_test(first_heartbeat_gets_the_start_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
