/*
 * pack_moves.c — moving a process's threads onto one CPU and back, for
 * the packer (packing.h). Only the packer thread calls these (and tests).
 *
 * Which threads are the packer's to move: at a pack, every thread whose
 * mask is the process's own (a thread someone pinned has another); at a
 * spread, those it moved and those created since the pack (they inherited
 * the one CPU from their creator), if their mask is still the one CPU. A
 * thread that existed at the pack with another mask is left alone both
 * ways, even when someone pinned it to the very CPU packed onto.
 *
 * A thread created while a pass reads the thread list may be missed
 * (readdir reads the list once), so a pass repeats until it moves
 * nothing. Processes started while packed inherit the one CPU: a spread
 * gives the whole mask to the direct children started since the pack
 * that still have exactly the one CPU (not to grandchildren, nor to
 * orphans such as `system("cmd &")`'s, whose parent is gone).
 *
 * A thread that exits between the list and the call fails the call,
 * which is fine; one whose id another process's new thread took in that
 * instant would be moved instead: that needs the pid space to wrap
 * between two system calls, and costs that thread its CPU choice.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/packing.h"

enum { MAX_PASSES = 8 };

static int cmp_tid(const void *a, const void *b) {
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static bool has_tid(const gale__tids_t *t, pid_t tid) {
    return t->n && bsearch(&tid, t->v, t->n, sizeof *t->v, cmp_tid);
}

static bool add_tid(gale__tids_t *t, pid_t tid) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        pid_t *v = realloc(t->v, cap * sizeof *v);
        if (!v) return false;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = tid;
    return true;
}

/* The numeric entries of a /proc directory, sorted. */
static bool list_ids(const char *dir, gale__tids_t *out) {
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        char *end;
        long id = strtol(de->d_name, &end, 10);
        if (!*end && id > 0) ok = add_tid(out, (pid_t)id);
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_tid);
    return ok;
}

static bool mask_is(pid_t tid, const cpu_set_t *want) {
    cpu_set_t set;
    return sched_getaffinity(tid, sizeof set, &set) == 0 && CPU_EQUAL(&set, want);
}

/* The direct children of this process, sorted. */
static void list_children(gale__tids_t *out) {
    gale__tids_t procs = {0};
    out->n = 0;
    pid_t self = getpid();
    if (list_ids("/proc", &procs)) {
        for (size_t i = 0; i < procs.n; i++) {
            char path[64], buf[512];
            snprintf(path, sizeof path, "/proc/%d/stat", (int)procs.v[i]);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            size_t len = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[len] = 0;
            /* "pid (comm) state ppid ...": comm may hold spaces and ')' */
            char *close = strrchr(buf, ')');
            int ppid;
            if (close && sscanf(close + 1, " %*c %d", &ppid) == 1 && ppid == self &&
                !add_tid(out, procs.v[i]))
                break;
        }
    }
    free(procs.v); /* procs was sorted: so is out */
}

int gale__pack_move(gale__pack_set_t *s) {
    gale__tids_t now = {0};
    s->moved.n = 0;
    int n = 0;
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        gale__tids_t *t = pass ? &now : &s->known; /* known: the threads at the pack */
        if (!list_ids("/proc/self/task", t)) break;
        int moved = 0;
        for (size_t i = 0; i < t->n; i++) {
            /* a thread that exits meanwhile fails its call: fine */
            if (!mask_is(t->v[i], &s->all) || sched_setaffinity(t->v[i], sizeof s->home, &s->home))
                continue;
            if (!add_tid(&s->moved, t->v[i])) continue; /* it stays: no memory to note it */
            moved++;
        }
        n += moved;
        if (!moved) break;
    }
    free(now.v);
    qsort(s->moved.v, s->moved.n, sizeof *s->moved.v, cmp_tid);
    list_children(&s->children);
    return n;
}

/* Direct children started since the pack, with exactly the one CPU, get
 * the whole mask: each of their threads (one, usually: a process just
 * started). One that was there at the pack kept its own mask. */
static int restore_children(const gale__pack_set_t *s) {
    gale__tids_t kids = {0}, tasks = {0};
    int n = 0;
    list_children(&kids);
    for (size_t i = 0; i < kids.n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)kids.v[i]);
        if (has_tid(&s->children, kids.v[i]) || !list_ids(path, &tasks)) continue;
        for (size_t k = 0; k < tasks.n; k++)
            n += mask_is(tasks.v[k], &s->home) &&
                 sched_setaffinity(tasks.v[k], sizeof s->all, &s->all) == 0;
    }
    free(kids.v);
    free(tasks.v);
    return n;
}

int gale__pack_restore(gale__pack_set_t *s) {
    gale__tids_t now = {0};
    int n = 0;
    for (int pass = 0; pass < MAX_PASSES && list_ids("/proc/self/task", &now); pass++) {
        int moved = 0;
        for (size_t i = 0; i < now.n; i++) {
            pid_t tid = now.v[i];
            bool ours = has_tid(&s->moved, tid) || !has_tid(&s->known, tid);
            moved += ours && mask_is(tid, &s->home) &&
                     sched_setaffinity(tid, sizeof s->all, &s->all) == 0;
        }
        n += moved;
        if (!moved) break;
    }
    free(now.v);
    n += restore_children(s);
    s->moved.n = s->known.n = s->children.n = 0;
    return n;
}

void gale__pack_set_free(gale__pack_set_t *s) {
    free(s->moved.v);
    free(s->known.v);
    free(s->children.v);
    s->moved = s->known = s->children = (gale__tids_t){0};
}
