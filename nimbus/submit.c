/*
 * submit.c — submissions: submit_begin checks everything it can before
 * one byte of code is accepted (the serialized topology is decoded and
 * validated with the topology module's own decoder and validator, the
 * conf with the config table, the name is not taken), submit_chunk
 * appends code and resources in order, submit_end checks sizes and
 * BLAKE2b sums and that the code is an ELF shared object, then stores
 * the topology (status last, see topologies.c) and schedules it.
 *
 * Nimbus never loads user code: symbols are checked by `gale jar`, which
 * built the topology by calling the entry, and again by each worker.
 * Uploads live in memory, grow only with bytes received (a claimed size
 * allocates nothing), and are dropped after 60 s without a chunk; at
 * most MAX_UPLOADS run at once, announcing at most UPLOAD_BUDGET bytes
 * together (what nimbus may come to hold in memory for them).
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "nimbus/nimbus.h"

#define NB             "nimbus"
#define MAX_UPLOADS    8
#define UPLOAD_IDLE_NS (60 * 1000000000LL)
#define UPLOAD_BUDGET  (2ULL << 30)

typedef struct part {
    uint8_t *data;
    size_t len, cap;
    uint64_t size;
    uint8_t sum[GALE_CHECKSUM_LEN];
} part_t;

struct nb_upload {
    nb_upload_t *next;
    char id[64];
    gale__topology_t *t;
    gale_conf_t *conf;
    void *topology_bytes;
    size_t topology_len;
    part_t code, resources;
    int64_t last_ns;
};

static void upload_free(nb_upload_t *u) {
    if (!u) return;
    gale__topology_destroy(u->t);
    gale_conf_destroy(u->conf);
    free(u->topology_bytes);
    free(u->code.data);
    free(u->resources.data);
    free(u);
}

static void upload_unlink(nimbus_t *nb, nb_upload_t *u) {
    for (nb_upload_t **pp = &nb->uploads; *pp; pp = &(*pp)->next)
        if (*pp == u) {
            *pp = u->next;
            return;
        }
}

void gale__nb_uploads_free(nimbus_t *nb) {
    while (nb->uploads) {
        nb_upload_t *u = nb->uploads;
        nb->uploads = u->next;
        upload_free(u);
    }
}

void gale__nb_uploads_expire(nimbus_t *nb) {
    int64_t now = gale__now_ns();
    for (nb_upload_t *u = nb->uploads, *next; u; u = next) {
        next = u->next;
        if (now - u->last_ns > UPLOAD_IDLE_NS) {
            GALE_WARN(NB, 0, "upload %s of '%s' abandoned (no chunk for 60 s)", u->id, u->t->name);
            upload_unlink(nb, u);
            upload_free(u);
        }
    }
}

static nb_upload_t *upload_find(nimbus_t *nb, const char *id) {
    for (nb_upload_t *u = nb->uploads; u; u = u->next)
        if (strcmp(u->id, id) == 0) return u;
    return NULL;
}

static bool name_uploading(nimbus_t *nb, const char *name) {
    for (nb_upload_t *u = nb->uploads; u; u = u->next)
        if (strcmp(u->t->name, name) == 0) return true;
    return false;
}

void gale__nb_submit_begin(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const gale__ctl_submit_begin_t *s = &m->u.submit_begin;
    char err[1024];
    size_t nu = 0;
    uint64_t announced = s->code_size + s->resources_size;
    for (nb_upload_t *u = nb->uploads; u; u = u->next) {
        nu++;
        announced += u->code.size + u->resources.size;
    }
    if (nu >= MAX_UPLOADS)
        return gale__nb_reply_err(nb, p, m->req,
                                  "nimbus has %zu uploads in progress: try again shortly", nu);
    if (announced > UPLOAD_BUDGET)
        return gale__nb_reply_err(nb, p, m->req,
                                  "nimbus holds at most %llu MiB of uploads at once and %zu "
                                  "upload(s) are in progress: try again shortly",
                                  (unsigned long long)(UPLOAD_BUDGET >> 20), nu);
    gale__topology_t *t = NULL;
    if (gale__topology_unpack(s->topology.ptr, s->topology.len, &t, err, sizeof err))
        return gale__nb_reply_err(nb, p, m->req, "the serialized topology is refused: %s", err);
    if (strcmp(t->name, s->name) != 0) {
        gale__nb_reply_err(nb, p, m->req, "submit_begin names '%s' but the topology is '%s'",
                           s->name, t->name);
        return gale__topology_destroy(t);
    }
    gale__topology_assign_tasks(t);
    if (gale__topology_validate(t, NULL, NULL, err, sizeof err) ||
        gale__conf_validate(s->conf, "topology conf", err, sizeof err)) {
        gale__nb_reply_err(nb, p, m->req, "invalid topology: %s", err);
        return gale__topology_destroy(t);
    }
    size_t execs = gale__nb_exec_count(t, s->conf);
    if (execs > GALE_NB_MAX_EXECUTORS) {
        gale__nb_reply_err(nb, p, m->req,
                           "invalid topology: '%s' runs %zu executors (ackers included), at most "
                           "%d fit a cluster's assignment: lower its components' parallelism",
                           t->name, execs, GALE_NB_MAX_EXECUTORS);
        return gale__topology_destroy(t);
    }
    if (name_uploading(nb, t->name)) {
        gale__nb_reply_err(nb, p, m->req,
                           "a topology named '%s' is being uploaded (an upload left unfinished "
                           "is dropped after 60 s): try again then, or choose another name",
                           t->name);
        return gale__topology_destroy(t);
    }
    const nb_topo_t *running = gale__nb_topo_find(nb, t->name);
    if (running && strcmp(running->status, "KILLED") == 0) {
        gale__nb_reply_err(nb, p, m->req,
                           "a topology named '%s' is being killed (its kill wait ends in %lld "
                           "s): submit again then, or choose another name",
                           t->name, (long long)gale__nb_kill_left_secs(running));
        return gale__topology_destroy(t);
    }
    if (running) {
        gale__nb_reply_err(nb, p, m->req,
                           "a topology named '%s' is already running: kill it first "
                           "(gale kill %s) or choose another name",
                           t->name, t->name);
        return gale__topology_destroy(t);
    }
    nb_upload_t *u = calloc(1, sizeof *u);
    if (u) {
        u->conf = gale_conf_dup(s->conf);
        u->topology_bytes = malloc(s->topology.len);
    }
    if (!u || !u->conf || !u->topology_bytes) {
        upload_free(u);
        gale__topology_destroy(t);
        return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
    }
    u->t = t;
    memcpy(u->topology_bytes, s->topology.ptr, s->topology.len);
    u->topology_len = s->topology.len;
    u->code.size = s->code_size;
    memcpy(u->code.sum, s->code_sum.ptr, GALE_CHECKSUM_LEN);
    u->resources.size = s->resources_size;
    if (s->resources_sum.ptr) memcpy(u->resources.sum, s->resources_sum.ptr, GALE_CHECKSUM_LEN);
    static uint64_t seq;
    snprintf(u->id, sizeof u->id, "upload-%" PRIu64 "-%lld", ++seq, (long long)time(NULL));
    u->last_ns = gale__now_ns();
    u->next = nb->uploads;
    nb->uploads = u;
    GALE_INFO(NB, 0, "upload %s: '%s', %" PRIu64 " bytes of code, %" PRIu64 " of resources", u->id,
              t->name, s->code_size, s->resources_size);
    gale__nb_reply_ok(nb, p, m->req, u->id);
}

void gale__nb_submit_chunk(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const gale__ctl_submit_chunk_t *c = &m->u.submit_chunk;
    nb_upload_t *u = upload_find(nb, c->upload);
    if (!u) return gale__nb_reply_err(nb, p, m->req, "no upload '%s' (expired?)", c->upload);
    part_t *pt = strcmp(c->part, "code") == 0 ? &u->code : &u->resources;
    if (c->offset != pt->len)
        return gale__nb_reply_err(nb, p, m->req, "%s chunk at offset %" PRIu64 ", expected %zu",
                                  c->part, c->offset, pt->len);
    if (pt->len + c->data.len > pt->size)
        return gale__nb_reply_err(
            nb, p, m->req, "%s is larger than the %" PRIu64 " bytes announced", c->part, pt->size);
    if (pt->len + c->data.len > pt->cap) {
        size_t cap = pt->cap ? pt->cap * 2 : c->data.len;
        if (cap < pt->len + c->data.len) cap = pt->len + c->data.len;
        if (cap > pt->size) cap = (size_t)pt->size;
        uint8_t *g = realloc(pt->data, cap);
        if (!g) return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
        pt->data = g;
        pt->cap = cap;
    }
    memcpy(pt->data + pt->len, c->data.ptr, c->data.len);
    pt->len += c->data.len;
    u->last_ns = gale__now_ns();
    gale__nb_reply_ok(nb, p, m->req, NULL);
}

static const char *check_part(const part_t *pt, const char *what, char *why, size_t cap) {
    if (pt->len != pt->size) {
        snprintf(why, cap, "%s: received %zu of %" PRIu64 " bytes", what, pt->len, pt->size);
        return why;
    }
    if (pt->size == 0) return NULL;
    uint8_t sum[GALE_CHECKSUM_LEN];
    if (gale__checksum(pt->data, pt->len, sum) || memcmp(sum, pt->sum, GALE_CHECKSUM_LEN)) {
        snprintf(why, cap, "%s: the BLAKE2b sum does not match (corrupted in transit?)", what);
        return why;
    }
    return NULL;
}

/* An ELF shared object (what dlopen takes): magic, class and ET_DYN. */
static bool is_shared_object(const uint8_t *b, size_t n) {
    if (n < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) != 0) return false;
    uint16_t type;
    memcpy(&type, b + offsetof(Elf64_Ehdr, e_type), sizeof type);
    return b[EI_CLASS] == ELFCLASS64 && type == ET_DYN;
}

static int store_part(nimbus_t *nb, const char *id, const char *part, const void *v, size_t n,
                      char *err, size_t errlen) {
    char key[300];
    snprintf(key, sizeof key, "topologies/%s/%s", id, part);
    return gale__store_put(nb->store, key, v, n, err, errlen);
}

void gale__nb_submit_end(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    nb_upload_t *u = upload_find(nb, m->u.submit_end.upload);
    if (!u)
        return gale__nb_reply_err(nb, p, m->req, "no upload '%s' (expired?)",
                                  m->u.submit_end.upload);
    upload_unlink(nb, u);
    char why[512], err[512];
    const char *bad = check_part(&u->code, "code", why, sizeof why);
    if (!bad) bad = check_part(&u->resources, "resources", why, sizeof why);
    if (!bad && !is_shared_object(u->code.data, u->code.len))
        bad = "the code is not an ELF shared library: build it with cc -shared -fPIC";
    if (bad) {
        gale__nb_reply_err(nb, p, m->req, "submission of '%s' refused: %s", u->t->name, bad);
        return upload_free(u);
    }
    char id[200];
    snprintf(id, sizeof id, "%s-%" PRIu64 "-%lld", u->t->name, nb->counter + 1,
             (long long)time(NULL));
    char cnt[32];
    snprintf(cnt, sizeof cnt, "%" PRIu64 "\n", nb->counter + 1);
    msgpack_sbuffer cs;
    msgpack_sbuffer_init(&cs);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &cs, msgpack_sbuffer_write);
    int rc = gale__conf_pack(&pk, u->conf) ? GALE_ENOMEM : 0;
    if (!rc) rc = gale__store_put(nb->store, "meta/counter", cnt, strlen(cnt), err, sizeof err);
    if (!rc) nb->counter++;
    if (!rc)
        rc = store_part(nb, id, "topology", u->topology_bytes, u->topology_len, err, sizeof err);
    if (!rc) rc = store_part(nb, id, "conf", cs.data, cs.size, err, sizeof err);
    if (!rc) rc = store_part(nb, id, "code", u->code.data, u->code.len, err, sizeof err);
    if (!rc && u->resources.len)
        rc = store_part(nb, id, "resources", u->resources.data, u->resources.len, err, sizeof err);
    nb_topo_t *t = NULL;
    if (!rc) {
        t = gale__nb_topo_new(nb, id, u->t, u->conf, err, sizeof err);
        u->t = NULL;
        if (!t) rc = GALE_ENOMEM;
    }
    if (!rc) {
        t->submit_epoch = (int64_t)time(NULL);
        t->size[PART_TOPOLOGY] = u->topology_len;
        gale__checksum(u->topology_bytes, u->topology_len, t->sum[PART_TOPOLOGY]);
        t->size[PART_CONF] = cs.size;
        gale__checksum(cs.data, cs.size, t->sum[PART_CONF]);
        t->size[PART_CODE] = u->code.len;
        memcpy(t->sum[PART_CODE], u->code.sum, GALE_CHECKSUM_LEN);
        t->size[PART_RESOURCES] = u->resources.len;
        gale__checksum(u->resources.data ? (void *)u->resources.data : (void *)"", u->resources.len,
                       t->sum[PART_RESOURCES]);
        rc = gale__nb_topo_save_meta(nb, t); /* last: the topology now exists */
    }
    nb_topo_t **grown = rc ? NULL : realloc(nb->topos, (nb->n_topos + 1) * sizeof *grown);
    if (!rc && !grown) rc = GALE_ENOMEM;
    msgpack_sbuffer_destroy(&cs);
    if (rc) {
        GALE_ERROR(NB, 0, "cannot store '%s': %s", id, err);
        gale__nb_reply_err(nb, p, m->req, "nimbus cannot store the topology: %s", err);
        gale__nb_topo_free(t);
        return upload_free(u);
    }
    nb->topos = grown;
    nb->topos[nb->n_topos++] = t;
    upload_free(u);
    GALE_INFO(NB, 0, "submitted %s: %zu executor(s) on %d worker(s) asked", id, t->n_execs,
              t->workers);
    gale__nb_schedule(nb, t, true);
    gale__nb_reply_ok(nb, p, m->req, id);
}
