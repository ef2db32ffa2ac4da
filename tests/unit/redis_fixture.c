/*
 * redis_fixture.c — a real redis-server per test (redis_fixture.h).
 */
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Servers still running at exit (a test that forgot, or failed early). */
static redis_fixture_t *running[8];

static void kill_running(void) {
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i]) redis_fixture_stop(running[i]);
}

static void track(redis_fixture_t *f, bool on) {
    static bool registered;
    if (!registered) registered = atexit(kill_running) == 0;
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
        if (on && !running[i]) {
            running[i] = f;
            return;
        }
        if (!on && running[i] == f) running[i] = NULL;
    }
}

/* A port the kernel says is free now (bind 0, read it, close). */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drop_admin(redis_fixture_t *f) {
    if (f->admin) redisFree(f->admin);
    f->admin = NULL;
}

/* Up when a connection answers PING (NOAUTH counts: it is listening). */
static bool answers(int port) {
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && (r->type == REDIS_REPLY_STATUS ||
                   (r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOAUTH")));
        if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
}

static int spawn(redis_fixture_t *f) {
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", f->port);
    snprintf(log, sizeof log, "%s/redis.log", f->dir);
    const char *argv[32 + REDIS_FIXTURE_MAX_ARGS] = {
        "redis-server", "--port", port,        "--bind", "127.0.0.1",   "--dir", f->dir,
        "--save",       "",       "--logfile", log,      "--daemonize", "no"};
    size_t n = 13;
    for (size_t i = 0; f->extra[i]; i++) argv[n++] = f->extra[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* die with the test process, whatever kills it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execvp("redis-server", (char *const *)argv);
        fprintf(stderr, "redis_fixture: cannot run redis-server: %s\n", strerror(errno));
        _exit(127);
    }
    f->pid = pid;
    track(f, true);
    for (double end = now_s() + 10; now_s() < end;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            f->pid = 0;
            track(f, false);
            return -1; /* exited: most likely the port was taken meanwhile */
        }
        if (answers(f->port)) return 0;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL); /* polling interval, not synchronisation */
    }
    fprintf(stderr, "redis_fixture: redis-server on port %d did not answer in 10 s (see %s)\n",
            f->port, log);
    redis_fixture_kill(f);
    return -1;
}

int redis_fixture_start(redis_fixture_t *f, const char *const *extra) {
    memset(f, 0, sizeof(*f));
    size_t n = 0;
    for (; extra && extra[n]; n++) {
        if (n == REDIS_FIXTURE_MAX_ARGS) {
            fprintf(stderr, "redis_fixture: more than %d extra arguments\n",
                    REDIS_FIXTURE_MAX_ARGS);
            return -1;
        }
        f->extra[n] = extra[n];
    }
    f->extra[n] = NULL;
    snprintf(f->dir, sizeof f->dir, "/tmp/gale-redis-XXXXXX");
    if (!mkdtemp(f->dir)) {
        fprintf(stderr, "redis_fixture: mkdtemp: %s\n", strerror(errno));
        f->dir[0] = '\0';
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) { /* a free port can be taken before use */
        if ((f->port = free_port()) > 0 && spawn(f) == 0) return 0;
    }
    fprintf(stderr, "redis_fixture: could not start redis-server (see %s/redis.log)\n", f->dir);
    return -1;
}

void redis_fixture_kill(redis_fixture_t *f) {
    drop_admin(f);
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
    track(f, false);
}

int redis_fixture_restart(redis_fixture_t *f) {
    redis_fixture_kill(f);
    /* the old socket may linger a moment; redis sets SO_REUSEADDR */
    for (int attempt = 0; attempt < 50; attempt++) {
        if (spawn(f) == 0) return 0;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redis_fixture: could not restart redis-server on port %d\n", f->port);
    return -1;
}

void redis_fixture_stop(redis_fixture_t *f) {
    redis_fixture_kill(f);
    if (f->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0) fprintf(stderr, "redis_fixture: could not remove %s\n", f->dir);
        f->dir[0] = '\0';
    }
}

int redis_fixture_port(const redis_fixture_t *f) {
    return f->port;
}

gale_conf_t *redis_fixture_conf(const redis_fixture_t *f) {
    gale_conf_t *c = gale_conf_new();
    if (!c) return NULL;
    gale_conf_set_str(c, "redis.host", "127.0.0.1");
    gale_conf_set_int(c, "redis.port", f->port);
    return c;
}

redisReply *redis_fixture_cmd(redis_fixture_t *f, const char *password, const char *fmt, ...) {
    if (!f->admin) {
        struct timeval tv = {2, 0};
        f->admin = redisConnectWithTimeout("127.0.0.1", f->port, tv);
        if (!f->admin || f->admin->err) {
            drop_admin(f);
            return NULL;
        }
        if (password) {
            redisReply *r = redisCommand(f->admin, "AUTH %s", password);
            if (r) freeReplyObject(r);
        }
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(f->admin, fmt, ap);
    va_end(ap);
    if (!r) drop_admin(f);
    return r;
}

long long redis_fixture_calls(redis_fixture_t *f, const char *password, const char *command) {
    redisReply *r = redis_fixture_cmd(f, password, "INFO commandstats");
    if (!r || r->type != REDIS_REPLY_STRING) {
        if (r) freeReplyObject(r);
        return -1;
    }
    char want[80];
    snprintf(want, sizeof want, "cmdstat_%s:calls=", command);
    const char *p = strstr(r->str, want);
    long long calls = p ? strtoll(p + strlen(want), NULL, 10) : 0;
    freeReplyObject(r);
    return calls;
}
