/*
 * stormdist.c — loading a cluster worker's topology files (stormdist.h).
 * Everything here was checked by nimbus at submit and by the supervisor
 * against nimbus's checksums; it is still decoded with the distrustful
 * decoders, since a disk can hold anything.
 */
#include "worker/stormdist.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/config.h"
#include "common/control.h"
#include "common/fileio.h"

bool gale__topology_id_ok(const char *id) {
    if (!id || !*id || strlen(id) > 192 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

const void *gale__stormdist_resolve(void *lib, const char *symbol) {
    const void *p = lib ? dlsym(lib, symbol) : NULL;
    return p ? p : dlsym(RTLD_DEFAULT, symbol);
}

static int load_conf(const char *path, gale_conf_t *into, char *err, size_t errlen) {
    void *buf;
    size_t len;
    int rc = gale__file_read(path, GALE_CTL_MAX_BODY, &buf, &len, err, errlen);
    if (rc) return rc;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char why[256] = "";
    gale_conf_t *c = gale_conf_new();
    rc = c ? gale__msgpack_unpack_whole(buf, len, &u, "conf", why, sizeof why) : GALE_ENOMEM;
    if (!rc) rc = gale__conf_from_msgpack(c, &u.data);
    if (!rc) rc = gale__conf_validate(c, path, why, sizeof why);
    if (!rc) rc = gale__conf_merge(into, c);
    if (rc)
        snprintf(err, errlen, "%s is not a valid conf: %s", path, why[0] ? why : gale_strerror(rc));
    gale_conf_destroy(c);
    msgpack_unpacked_destroy(&u);
    free(buf);
    return rc;
}

int gale__stormdist_load(const char *local_dir, const char *topology_id, gale__topology_t **topo,
                         void **lib, char *err, size_t errlen) {
    *topo = NULL;
    *lib = NULL;
    char dir[PATH_MAX], path[PATH_MAX + 16];
    if (snprintf(dir, sizeof dir, "%s/stormdist/%s", local_dir, topology_id) >= (int)sizeof dir) {
        snprintf(err, errlen, "gale.local.dir '%s' is too long", local_dir);
        return GALE_EINVAL;
    }
    snprintf(path, sizeof path, "%s/topology", dir);
    void *buf;
    size_t len;
    int rc = gale__file_read(path, GALE_CTL_MAX_TOPOLOGY, &buf, &len, err, errlen);
    if (rc) return rc;
    char why[512] = "";
    gale__topology_t *t = NULL;
    rc = gale__topology_unpack(buf, len, &t, why, sizeof why);
    free(buf);
    if (rc) {
        snprintf(err, errlen, "%s is not a valid topology: %s", path, why);
        return rc;
    }
    if (t->n_components && t->components[0].first_task == 0) gale__topology_assign_tasks(t);
    snprintf(path, sizeof path, "%s/conf", dir);
    if (!t->conf && !(t->conf = gale_conf_new())) {
        gale__topology_destroy(t);
        snprintf(err, errlen, "out of memory");
        return GALE_ENOMEM;
    }
    rc = load_conf(path, t->conf, err, errlen);
    if (rc) {
        gale__topology_destroy(t);
        return rc;
    }
    snprintf(path, sizeof path, "%s/code.so", dir);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load %s: %s", path, dlerror());
        gale__topology_destroy(t);
        return GALE_EIO;
    }
    *topo = t;
    *lib = h;
    return 0;
}
