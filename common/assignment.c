/*
 * assignment.c — the assignment file (see assignment.h): an encoded
 * assignment_reply, header then body. The reader finds the boundary by
 * unpacking the first msgpack object (the header is a small map) and
 * hands both parts to gale__ctl_decode, which checks everything else.
 */
#include "common/assignment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"

int gale__assignment_write(const char *path, const gale__ctl_topology_assignment_t *a, char *err,
                           size_t errlen) {
    gale__ctl_assignment_reply_t r = {.ok = true, .version = a->version};
    r.topologies.items = (gale__ctl_topology_assignment_t *)a;
    r.topologies.n = 1;
    msgpack_sbuffer hdr, body;
    msgpack_sbuffer_init(&hdr);
    msgpack_sbuffer_init(&body);
    int rc = gale__ctl_encode(&hdr, &body, GALE_CTL_ASSIGNMENT_REPLY, 0, &r, err, errlen);
    if (rc == 0) {
        char *all = malloc(hdr.size + body.size);
        if (!all) {
            rc = GALE_ENOMEM;
            snprintf(err, errlen, "%s: out of memory", path);
        } else {
            memcpy(all, hdr.data, hdr.size);
            memcpy(all + hdr.size, body.data, body.size);
            rc = gale__file_write_atomic(path, all, hdr.size + body.size, err, errlen);
            free(all);
        }
    }
    msgpack_sbuffer_destroy(&hdr);
    msgpack_sbuffer_destroy(&body);
    return rc;
}

int gale__assignment_read(const char *path, gale__ctl_msg_t *msg,
                          const gale__ctl_topology_assignment_t **a, char *err, size_t errlen) {
    memset(msg, 0, sizeof *msg);
    *a = NULL;
    void *buf;
    size_t len;
    int rc =
        gale__file_read(path, GALE_CTL_MAX_HEADER + GALE_CTL_MAX_BODY, &buf, &len, err, errlen);
    if (rc) return rc;
    /* the header's end: where the first msgpack object stops */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur =
        msgpack_unpack_next(&u, buf, len < GALE_CTL_MAX_HEADER ? len : GALE_CTL_MAX_HEADER, &off);
    msgpack_unpacked_destroy(&u);
    char why[256] = "";
    if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES) {
        rc = GALE_EPROTO;
        snprintf(why, sizeof why, "no message header at its start");
    } else {
        rc = gale__ctl_decode(buf, off, (char *)buf + off, len - off, msg, why, sizeof why);
        if (rc == 0 && msg->type != GALE_CTL_ASSIGNMENT_REPLY) {
            rc = GALE_EPROTO;
            snprintf(why, sizeof why, "a '%s' message, not an assignment",
                     gale__ctl_type_name(msg->type));
        } else if (rc == 0 && msg->u.assignment_reply.topologies.n != 1) {
            rc = GALE_EPROTO;
            snprintf(why, sizeof why, "%u topology assignments, not one",
                     (unsigned)msg->u.assignment_reply.topologies.n);
        }
    }
    free(buf);
    if (rc) {
        gale__ctl_msg_destroy(msg);
        memset(msg, 0, sizeof *msg);
        snprintf(err, errlen, "assignment file %s is not valid: %s (its supervisor rewrites it)",
                 path, why);
        return rc;
    }
    *a = &msg->u.assignment_reply.topologies.items[0];
    return 0;
}
