/*
 * stormdist.h — a cluster worker's view of its topology's files, which
 * its supervisor fetched and verified before starting it (DESIGN §10
 * "Code"): <gale.local.dir>/stormdist/<topology-id>/{topology,conf,code.so}.
 */
#ifndef GALE_WORKER_STORMDIST_H
#define GALE_WORKER_STORMDIST_H

#include <stdbool.h>
#include <stddef.h>

#include "topology/topology.h"

/** @brief True when id can name a directory: [A-Za-z0-9._-], not "." or
 * "..", at most 192 bytes. Topology ids come from command lines. */
bool gale__topology_id_ok(const char *id);

/**
 * @brief Load the topology (tasks assigned), merge the submission's conf
 * file into its conf (the file wins), and dlopen code.so (RTLD_NOW,
 * RTLD_LOCAL), kept open in *lib for the components' symbols. GALE_E* with
 * one line in err naming the file and what is wrong.
 */
int gale__stormdist_load(const char *local_dir, const char *topology_id, gale__topology_t **topo,
                         void **lib, char *err, size_t errlen);

/** @brief dlsym in lib, then in the process (libgale's built-ins). */
const void *gale__stormdist_resolve(void *lib, const char *symbol);

#endif
