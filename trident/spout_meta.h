/*
 * spout_meta.h — spout0's side of a batch spout: the per-partition batch
 * metadata in Redis and the drained marks the coordinator reads.
 *
 * Keys (gale:trident:<topology>:<txid name>:...):
 *   meta:<partition>  hash txid → msgpack [drained, metadata]
 *   drained           hash partition → first txid of the run of empty
 *                     batches at the input's end (deleted by a non-empty one)
 * Transactional: a recorded txid is replayed from its record; else the
 * record is written (from txid-1's) BEFORE the batch is emitted. Opaque:
 * always planned from txid-1's record, which is overwritten. Either way,
 * no record of txid-1 while txid-1 is not committed fails the batch
 * (GALE_ESTATE): txid-1 failed before it was planned, and both replay in
 * order; a committed txid-1 without one plans from the start. (Records are
 * not pruned yet: one small hash field per batch and partition.)
 */
#ifndef GALE_TRIDENT_SPOUT_META_H
#define GALE_TRIDENT_SPOUT_META_H

#include "gale/trident.h"

typedef struct gale__spout_meta gale__spout_meta_t;

int gale__spout_meta_open(gale__spout_meta_t **out, const gale_context_t *ctx,
                          const gale_batch_spout_t *sp, const char *txid_name);
void gale__spout_meta_free(gale__spout_meta_t *m);
/** @brief Plan (or replay) and emit one batch into c. 0, or GALE_E* with
 * err (Redis unreachable, a bad record, the spout's own error). */
int gale__spout_meta_emit(gale__spout_meta_t *m, uint64_t txid, uint32_t attempt,
                          gale_trident_collector_t *c, char *err, size_t errlen);

/** @brief Drained-mark hash key (for the coordinator). */
#define GALE__TRIDENT_DRAINED "drained"

#endif
