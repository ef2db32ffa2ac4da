/*
 * log.c — one line per event, written with a single write(2).
 *
 *   2026-11-22T19:07:30.123456Z INFO gale[1234] split:3 message
 *
 * Every process of a cluster (nimbus, supervisors, workers) writes this
 * format, so `gale logs` and grep work the same on all of them. A line is
 * built in a stack buffer and written at once so lines from different
 * threads never interleave; embedded newlines become spaces so one event
 * is always one line.
 *
 * A file sink (gale__log_open_file) rolls by size the way Storm's log4j2
 * worker.xml does (SizeBasedTriggeringPolicy + DefaultRolloverStrategy):
 * worker.log -> worker.log.1 -> ... -> worker.log.N, the oldest deleted.
 * The size is counted here (started from fstat at open), not re-read per
 * line; one mutex orders the write, the count and the roll, so a line is
 * never split across two files and lines never interleave. Logging is
 * rare (per-tuple errors are rate-limited), so the mutex costs nothing
 * measurable. If a roll fails (renames refused), lines keep going to the
 * current file: a log that cannot roll is better than no log.
 *
 * The initial level comes from GALE_LOG_LEVEL (debug|info|warn|error). It
 * is read by a load-time constructor because the GALE_* macros test
 * gale__log_min_level before calling in here, so a lazy read on the first
 * call would never happen for DEBUG lines. An explicit
 * gale__log_set_level() always wins over the environment.
 */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fileio.h"

#define LOG_LINE_MAX 4096

int gale__log_min_level = GALE_LOG_INFO;

/* Sink state, guarded by log_lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = 2;
static struct {
    char *path; /* NULL: no file, lines go to log_fd */
    int fd;
    uint64_t size, max_bytes;
    int max_files;
    bool also_stderr;
    /* a daemon starting: its ERROR lines also go to stderr, so that a
     * start that fails says why where it was started, not only in the
     * log file (cleared by gale__log_daemon_started) */
    bool errors_stderr;
} log_file = {.fd = -1};
static char log_process[64] = "gale";
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static const char *env_bad; /* an unrecognised GALE_LOG_LEVEL, reported once */

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int gale__log_level_parse(const char *name) {
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0 || (i == 2 && strcasecmp(name, "warning") == 0))
            return i;
    return -1;
}

static void read_env_level(void) {
    const char *s = getenv("GALE_LOG_LEVEL");
    if (!s || !*s) return;
    int level = gale__log_level_parse(s);
    if (level >= 0)
        __atomic_store_n(&gale__log_min_level, level, __ATOMIC_RELAXED);
    else
        env_bad = s;
}

__attribute__((constructor)) static void log_init(void) {
    pthread_once(&env_once, read_env_level);
    if (env_bad)
        gale__log_write(GALE_LOG_WARN, NULL, 0,
                        "GALE_LOG_LEVEL=%s is not a level: use debug, info, warn or error",
                        env_bad);
}

void gale__log_set_process(const char *name) {
    if (!name || !*name) name = "gale";
    snprintf(log_process, sizeof log_process, "%s", name);
}

void gale__log_set_fd(int fd) {
    pthread_mutex_lock(&log_lock);
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
}

int gale__log_fd(void) {
    return log_fd;
}

const char *gale__log_process(void) {
    return log_process;
}

void gale__log_set_level(gale_log_level_t level) {
    pthread_once(&env_once, read_env_level);
    if ((int)level < GALE_LOG_DEBUG) level = GALE_LOG_DEBUG;
    if ((int)level > GALE_LOG_ERROR) level = GALE_LOG_ERROR;
    __atomic_store_n(&gale__log_min_level, (int)level, __ATOMIC_RELAXED);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere left to report a failing log */
        }
        p += w;
        n -= (size_t)w;
    }
}

static int open_append(const char *path, uint64_t *size) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    struct stat st;
    *size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

/* Shift path.(k-1) -> path.k down to path -> path.1 and reopen path.
 * Called with log_lock held. Renames of missing files fail harmlessly. */
static void roll_locked(void) {
    size_t n = strlen(log_file.path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (!from || !to) goto out;
    if (log_file.max_files <= 0) {
        if (ftruncate(log_file.fd, 0) == 0) log_file.size = 0;
        goto out;
    }
    snprintf(to, n, "%s.%d", log_file.path, log_file.max_files);
    unlink(to);
    for (int k = log_file.max_files; k >= 2; k--) {
        snprintf(from, n, "%s.%d", log_file.path, k - 1);
        snprintf(to, n, "%s.%d", log_file.path, k);
        rename(from, to);
    }
    snprintf(to, n, "%s.1", log_file.path);
    if (rename(log_file.path, to) != 0) goto out; /* keep writing where we are */
    uint64_t size;
    int fd = open_append(log_file.path, &size);
    if (fd < 0) goto out; /* the old fd still writes to path.1: better than nothing */
    close(log_file.fd);
    log_file.fd = fd;
    log_file.size = size;
out:
    free(from);
    free(to);
}

/* One line to the sink(s), under log_lock. */
static void emit_line(gale_log_level_t level, const char *line, size_t len) {
    pthread_mutex_lock(&log_lock);
    if (log_file.path) {
        if (log_file.max_bytes && log_file.size > 0 && log_file.size + len > log_file.max_bytes)
            roll_locked();
        write_all(log_file.fd, line, len);
        log_file.size += len;
        if (log_file.also_stderr || (log_file.errors_stderr && level == GALE_LOG_ERROR))
            write_all(2, line, len);
    } else {
        write_all(log_fd, line, len);
    }
    pthread_mutex_unlock(&log_lock);
}

int gale__log_open_file(const char *path, uint64_t max_bytes, int max_files, bool also_stderr,
                        char *err, size_t errlen) {
    if (!path || !*path) {
        if (err && errlen) snprintf(err, errlen, "log file: no path given");
        return GALE_EINVAL;
    }
    uint64_t size;
    int fd = open_append(path, &size);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "cannot open log file %s: %s (check the directory exists and "
                     "is writable, or set gale.log.dir)",
                     path, strerror(errno));
        return GALE_EIO;
    }
    char *copy = strdup(path);
    if (!copy) {
        close(fd);
        if (err && errlen) snprintf(err, errlen, "log file %s: out of memory", path);
        return GALE_ENOMEM;
    }
    pthread_mutex_lock(&log_lock);
    if (log_file.path) close(log_file.fd);
    free(log_file.path);
    log_file.path = copy;
    log_file.fd = fd;
    log_file.size = size;
    log_file.max_bytes = max_bytes;
    log_file.max_files = max_files;
    log_file.also_stderr = also_stderr;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void gale__log_close_file(void) {
    pthread_mutex_lock(&log_lock);
    if (log_file.path) close(log_file.fd);
    free(log_file.path);
    log_file.path = NULL;
    log_file.fd = -1;
    pthread_mutex_unlock(&log_lock);
}

void gale__log_vwrite(gale_log_level_t level, const char *component, int task, const char *fmt,
                      va_list ap) {
    if ((int)level < __atomic_load_n(&gale__log_min_level, __ATOMIC_RELAXED)) return;
    if ((int)level < GALE_LOG_DEBUG || (int)level > GALE_LOG_ERROR) level = GALE_LOG_ERROR;

    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s %s[%ld] %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(ts.tv_nsec / 1000), level_names[level], log_process, (long)getpid(),
                     component ? component : "-");
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (task != 0 && len < sizeof line - 1) {
        n = snprintf(line + len, sizeof line - len, ":%d", task);
        if (n > 0) len += (size_t)n < sizeof line - len ? (size_t)n : sizeof line - len - 1;
    }
    if (len < sizeof line - 1) line[len++] = ' ';

    /* Keep the last byte for the newline. Line breaks become spaces (one
     * event, one line); other control characters, which may come from
     * user input (file names, tuples), are escaped as \xNN so they never
     * reach a terminal raw. */
    char msg[LOG_LINE_MAX];
    n = vsnprintf(msg, sizeof msg, fmt ? fmt : "", ap);
    size_t mlen = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    bool cut = n > 0 && (size_t)n >= sizeof msg;
    for (size_t i = 0; i < mlen; i++) {
        unsigned char ch = (unsigned char)msg[i];
        if (ch == '\n' || ch == '\r') ch = ' ';
        size_t need = ch < 0x20 || ch == 0x7f ? 4 : 1;
        if (len + need > sizeof line - 1) {
            cut = true;
            break;
        }
        if (need == 1) {
            line[len++] = (char)ch;
        } else {
            static const char hex[] = "0123456789abcdef";
            line[len++] = '\\';
            line[len++] = 'x';
            line[len++] = hex[ch >> 4];
            line[len++] = hex[ch & 15];
        }
    }
    if (cut && len >= 3) memcpy(line + len - 3, "...", 3); /* mark truncation */
    line[len++] = '\n';
    emit_line(level, line, len);
}

void gale__log_write(gale_log_level_t level, const char *component, int task, const char *fmt,
                     ...) {
    va_list ap;
    va_start(ap, fmt);
    gale__log_vwrite(level, component, task, fmt, ap);
    va_end(ap);
}

int gale__log_open_daemon(const gale_conf_t *conf, const char *verb, const char *file) {
    const char *dir = gale_conf_get_str(conf, GALE_CONF_LOG_DIR, "logs");
    char err[512], path[4096];
    if (gale__mkdirs(dir, err, sizeof err)) {
        fprintf(stderr, "gale %s: gale.log.dir: %s\n", verb, err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = gale__log_open_file(path, 0, 0, isatty(2), err, sizeof err);
    if (rc) {
        fprintf(stderr, "gale %s: %s\n", verb, err);
        return rc;
    }
    pthread_mutex_lock(&log_lock);
    log_file.errors_stderr = true;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void gale__log_daemon_started(void) {
    pthread_mutex_lock(&log_lock);
    log_file.errors_stderr = false;
    pthread_mutex_unlock(&log_lock);
}
