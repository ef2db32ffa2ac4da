/*
 * assignment.h — the assignment file a supervisor writes for each of its
 * workers, L/workers/<topology-id>-<port>/assignment (cluster contract),
 * and the worker reads at start and on SIGHUP. Besides the placement it
 * carries the topology's status: the worker's spouts run only while it
 * is ACTIVE (INACTIVE, KILLED and REBALANCING pause them).
 *
 * The file is one control message, header frame then body frame
 * concatenated: an `assignment_reply` (control.h) holding exactly one
 * topology assignment. So it is versioned like every control message and
 * decoded by the same table-driven, distrustful decoder; nothing here
 * parses fields by hand. Written atomically (common/fileio.h).
 */
#ifndef GALE_COMMON_ASSIGNMENT_H
#define GALE_COMMON_ASSIGNMENT_H

#include "common/control.h"

/** @brief Write a's assignment file at path (atomic). 0 or GALE_E* + err. */
int gale__assignment_write(const char *path, const gale__ctl_topology_assignment_t *a, char *err,
                           size_t errlen);

/**
 * @brief Read and check the assignment file at path into *msg (free it
 * with gale__ctl_msg_destroy); *a points at its one assignment. A file
 * that is missing (GALE_ENOENT), too large, of another version or type,
 * or holding other than one assignment (GALE_EPROTO) gets one line in err
 * naming the path.
 */
int gale__assignment_read(const char *path, gale__ctl_msg_t *msg,
                          const gale__ctl_topology_assignment_t **a, char *err, size_t errlen);

#endif
