/*
 * acker.c — the acker's state machine, apart from any thread or queue so
 * it can be tested message by message.
 *
 * Per tree root the acker keeps the XOR of every value it heard. The
 * spout's init carries the XOR of the edges it emitted and the spout task;
 * each bolt's ack carries (input edge XOR edges emitted anchored to the
 * input). Every edge is XORed in exactly twice — once when created, once
 * when acked — so the running XOR is zero exactly when the tree is done.
 * Messages may arrive in any order (an ack before the init): the tree is
 * complete only once the init was seen and the XOR is zero. A timeout
 * reset before the init is kept and passed to the spout with the init. A
 * fail carries the XOR too (the failed input's edge and the edges emitted
 * anchored to it), so a failed tree's entry also reaches zero and goes.
 */
#include "worker/runtime.h"

int gale__acker_apply(gale__pendmap_t *m, uint32_t gen, int sys, uint64_t root, uint64_t val,
                      int32_t spout_task, int32_t *to_task) {
    gale__pend_t *p;
    bool ins;
    if (sys < GALE__SYS_ACK_INIT || sys > GALE__SYS_ACK_RESET) return -1;
    p = gale__pendmap_put(m, root, &ins);
    if (!p) return -1; /* out of memory: the tree times out at the spout */
    if (ins) p->gen = gen;
    if (sys == GALE__SYS_ACK_RESET) {
        p->gen = gen;
        if (p->flags & GALE__PEND_NOTIFIED) return -1; /* failed already */
        if (p->flags & GALE__PEND_INIT) {
            *to_task = p->task;
            return GALE__SYS_SPOUT_RESET;
        }
        /* before the init (another path): keep it, the init passes it on;
         * a reset of a tree long gone stays an orphan rotation removes */
        p->flags |= GALE__PEND_RESET;
        return -1;
    }
    if (sys == GALE__SYS_ACK_INIT) {
        p->a ^= val;
        p->task = spout_task;
        p->flags |= GALE__PEND_INIT;
    } else if (sys == GALE__SYS_ACK_ACK) {
        p->a ^= val;
    } else {
        p->a ^= val; /* the failed input's edge and what was emitted anchored to it */
        p->flags |= GALE__PEND_FAILED;
    }
    if (!(p->flags & GALE__PEND_INIT)) return -1;
    if (p->flags & GALE__PEND_NOTIFIED) { /* failed already: forget it once all came */
        if (p->a == 0) gale__pendmap_del(m, p);
        return -1;
    }
    int out = (p->flags & GALE__PEND_FAILED) ? GALE__SYS_SPOUT_FAIL
              : p->a == 0                    ? GALE__SYS_SPOUT_ACK
                                             : -1;
    if (out < 0) {
        if (!(p->flags & GALE__PEND_RESET)) return -1;
        p->flags &= (uint8_t)~GALE__PEND_RESET; /* a reset that came before the init */
        *to_task = p->task;
        return GALE__SYS_SPOUT_RESET;
    }
    *to_task = p->task;
    /* A failed tree's other branches still ack (a replay storm sends many):
     * keep a tombstone that absorbs them and goes when the XOR is zero,
     * rather than let each ack create an orphan only rotation removes. */
    if (out == GALE__SYS_SPOUT_FAIL && p->a != 0)
        p->flags |= GALE__PEND_NOTIFIED;
    else
        gale__pendmap_del(m, p);
    return out;
}
