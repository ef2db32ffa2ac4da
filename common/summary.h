/*
 * summary.h — what a component adds to the end-of-run summary.
 *
 * A component (a built-in, for now) can contribute counted keys to a
 * named tally of its component, e.g. the counter bolt's tasks each add
 * their final top words to "top words". The process running the topology
 * (gale local) prints each tally after the component's stats line as one
 * merged top-N: counts of the same key from different tasks are summed.
 * That is exact when each key is counted by one task (a counter behind a
 * fields grouping on the word), as the contributing component documents.
 *
 * Thread-safe (one mutex); bounded: a tally keeps at most
 * GALE__SUMMARY_MAX_KEYS keys, keys are cut at 64 bytes.
 */
#ifndef GALE_COMMON_SUMMARY_H
#define GALE_COMMON_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#define GALE__SUMMARY_MAX_KEYS 4096

/** @brief Add n to key (klen bytes) in the tally `title` of component. */
void gale__summary_add(const char *component, const char *title, const char *key, size_t klen,
                       int64_t n);

/**
 * @brief Write the tallies of component, each as "<title>: k=v k=v ..."
 * with its top_n keys (highest first, ties by key), into line (cap
 * bytes), one tally per call: idx picks the tally. Returns 0 when there
 * is no tally idx.
 */
int gale__summary_format(const char *component, size_t idx, size_t top_n, char *line, size_t cap);

/** @brief Forget every tally (the end of a run). */
void gale__summary_reset(void);

#endif
