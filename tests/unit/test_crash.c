/*
 * test_crash.c — a component that crashes is named in a last log line
 * (cli/crash.c with the executor's gale__current_task), and the process
 * still dies of the signal.
 *
 * The crash happens in a forked child; the parent reads the child's log
 * through a pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "worker/runtime.h"

static const void *resolve(void *ud, const char *sym) {
    (void)ud;
    return dlsym(RTLD_DEFAULT, sym);
}

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}
static void ticker_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    gale_value_t v = gale_int(1);
    gale_spout_emit_values(c, NULL, &v, 1);
}
GALE_EXPORT const gale_spout_t crash_test_spout = {.declare = one_field, .next_tuple = ticker_next};

/* not NULL: UBSan would report a NULL load before it faults */
static volatile int *volatile nowhere = (volatile int *)(uintptr_t)16;
static int crashing_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st, (void)t, (void)c;
    if (getenv("CRASH_ABORT")) abort();
    return *nowhere; /* SIGSEGV */
}
GALE_EXPORT const gale_bolt_t crash_test_bolt = {.execute = crashing_execute, .basic = true};

/* In the child: run spout -> crasher until the crash. */
static void child(void) {
    /* cmocka catches these signals to report a failing test: the child
     * must die of them instead */
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    gale__crash_handler_install();
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "src", crash_test_spout, 1);
    gale_component_t *k = GALE_BOLT(b, "crasher", crash_test_bolt, 2);
    gale_shuffle_grouping(k, "src", NULL);
    gale__topology_t *t = NULL;
    char err[512];
    if (gale__builder_finish(b, "crash", NULL, &t, err, sizeof err) ||
        gale__topology_validate(t, resolve, NULL, err, sizeof err))
        _exit(90);
    gale__topology_assign_tasks(t);
    gale__rt_t *rt = NULL;
    if (gale__rt_new(&rt, t, NULL, NULL, resolve, NULL, err, sizeof err) ||
        gale__rt_start(rt, err, sizeof err))
        _exit(91);
    sleep(30);
    _exit(92); /* no crash */
}

static void run_crash(const char *abort_env, char *log, size_t cap, int *status) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        gale__log_set_fd(2);
        if (abort_env) setenv("CRASH_ABORT", "1", 1);
        child();
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fds[0], log + len, cap - 1 - len)) > 0) len += (size_t)n;
    log[len] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, status, 0), pid);
}

static void test_segv_names_component(void **state) {
    (void)state;
    static char log[65536];
    int status;
    run_crash(NULL, log, sizeof log, &status);
    /* died of the signal, or of the sanitizer that reported it */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    const char *line = strstr(log, "crashed with SIGSEGV");
    if (!line) fprintf(stderr, "child log:\n%s\n", log);
    assert_non_null(line);
    assert_non_null(strstr(log, "in component 'crasher' task "));
    assert_non_null(strstr(log, " ERROR "));
}

static void test_abort_names_component(void **state) {
    (void)state;
    static char log[65536];
    int status;
    run_crash("1", log, sizeof log, &status);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    if (!strstr(log, "crashed with SIGABRT")) fprintf(stderr, "child log:\n%s\n", log);
    assert_non_null(strstr(log, "crashed with SIGABRT"));
    assert_non_null(strstr(log, "in component 'crasher' task "));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segv_names_component),
        cmocka_unit_test(test_abort_names_component),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
