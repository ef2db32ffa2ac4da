/*
 * log_fixture.h — a test's log lines go to a temp file it can count in.
 */
#ifndef GALE_TESTS_LOG_FIXTURE_H
#define GALE_TESTS_LOG_FIXTURE_H

/** @brief From now on, log lines go to a new temp file. */
void log_capture_start(void);
/** @brief Lines logged since the start that contain needle. */
int log_capture_count(const char *needle);
/** @brief Back to stderr; the temp file is removed. */
void log_capture_stop(void);

#endif
