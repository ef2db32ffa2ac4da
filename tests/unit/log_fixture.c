/*
 * log_fixture.c — capture log lines in a temp file (log_fixture.h).
 */
#include "log_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static char path[64];

void log_capture_start(void) {
    snprintf(path, sizeof path, "/tmp/gale-test-log-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gale__log_set_fd(fd);
}

int log_capture_count(const char *needle) {
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, fp)) n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

void log_capture_stop(void) {
    close(gale__log_fd());
    gale__log_set_fd(2);
    unlink(path);
}
