/*
 * store.h — where nimbus keeps the cluster's state (DESIGN §3 Failures,
 * §10 "State"): a small key/value interface (get, put, delete, list; each
 * put atomic) behind an ops table, so that a ZooKeeper store can later
 * replace the default one — and give leader election and standby nimbuses
 * — without touching the scheduler or anything else that calls these.
 *
 * Keys are '/'-separated paths of segments made of letters, digits, '.',
 * '_' and '-' (not "." or ".."), at most GALE_STORE_KEY_MAX bytes and
 * GALE_STORE_DEPTH_MAX segments: "topologies/wc-1-1700000000/code". They
 * are checked here, before any implementation sees them, so every store
 * refuses the same keys. A key is a leaf or a parent, never both (a
 * directory cannot be a file; ZooKeeper would allow it, Gale never uses
 * it). list("topologies") gives the sorted names directly under a prefix.
 *
 * The default store is a directory (gale__store_dir_open): each key a file,
 * each put a temp file in the same directory, written, fsync'ed, renamed
 * over the key and the directory fsync'ed, so after a crash a key holds
 * either its old or its new value, whole. Temp files left by a crash
 * carry a name no key can have; they are never listed and are removed
 * when the store is opened.
 *
 * A store is used by one thread at a time (nimbus's main loop).
 */
#ifndef GALE_NIMBUS_STORE_H
#define GALE_NIMBUS_STORE_H

#include <stddef.h>

#include "gale/gale.h"

#define GALE_STORE_KEY_MAX   255
#define GALE_STORE_DEPTH_MAX 8
#define GALE_STORE_VALUE_MAX (1ull << 30)

typedef struct gale__store gale__store_t;

/* What an implementation provides; keys reaching it are already valid.
 * Each returns 0 or a GALE_E* code with one line in err. */
typedef struct gale__store_ops {
    const char *name; /* "dir", "zookeeper", ... */
    int (*get)(gale__store_t *s, const char *key, void **val, size_t *len, char *err,
               size_t errlen);
    int (*put)(gale__store_t *s, const char *key, const void *val, size_t len, char *err,
               size_t errlen);
    int (*del)(gale__store_t *s, const char *key, char *err, size_t errlen);
    int (*list)(gale__store_t *s, const char *prefix, char ***names, size_t *n, char *err,
                size_t errlen);
    void (*destroy)(gale__store_t *s);
} gale__store_ops_t;

/* Implementations embed this as their first member. */
struct gale__store {
    const gale__store_ops_t *ops;
};

/**
 * @brief Open (creating it and its parents when missing) the directory
 * store at path, removing temp files a crash left behind. NULL with one
 * line in err when the directory cannot be made or read.
 */
gale__store_t *gale__store_dir_open(const char *path, char *err, size_t errlen);

/** @brief Close a store; accepts NULL. */
void gale__store_destroy(gale__store_t *s);

/** @brief 0 when key is a valid store key, else GALE_EINVAL with the reason in err. */
int gale__store_key_check(const char *key, char *err, size_t errlen);

/**
 * @brief The value of key, in a malloc'ed buffer the caller frees (NUL
 * appended, not counted in *len, so text values read as strings).
 * GALE_ENOENT when key has no value.
 */
int gale__store_get(gale__store_t *s, const char *key, void **val, size_t *len, char *err,
                    size_t errlen);

/** @brief Set key to len bytes of val, atomically (all or nothing), creating parents. */
int gale__store_put(gale__store_t *s, const char *key, const void *val, size_t len, char *err,
                    size_t errlen);

/** @brief Remove key (a leaf). GALE_ENOENT when it has no value. */
int gale__store_delete(gale__store_t *s, const char *key, char *err, size_t errlen);

/**
 * @brief The sorted names directly under prefix ("" = the top), leaves and
 * parents alike, as a malloc'ed array of malloc'ed strings: free with
 * gale__store_list_free. A prefix with nothing under it gives 0 names.
 */
int gale__store_list(gale__store_t *s, const char *prefix, char ***names, size_t *n, char *err,
                     size_t errlen);

void gale__store_list_free(char **names, size_t n);

#endif
