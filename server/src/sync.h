#ifndef ROVE_SERVER_SYNC_H
#define ROVE_SERVER_SYNC_H

/*
 * POST /v1/sync: apply a device's pushed changes in one write transaction,
 * then build one pulled page from a read snapshot (docs/protocol.md).
 * Thread-safe: any worker may call it; writes serialize in the store.
 */

#include <stddef.h>

#include "buf.h"
#include "proto.h"
#include "roved.h"

typedef struct roved_sync_stats {
    size_t pushed, applied, rejected, replayed, pulled, evicted;
    int64_t cursor;
    int more;
} roved_sync_stats;

/*
 * Runs one round trip for an authenticated device. cbor[0..len) is the
 * inflated request. On success appends the CBOR response to out and returns 0.
 * On error returns a ROVE_E* code with err filled, and nothing was applied.
 */
int roved_sync_run(roved_server *srv, const roved_device *dev, const roved_user *user,
                   const void *cbor, size_t len, rove__buf *out, rove__errinfo *err,
                   roved_sync_stats *stats);

/*
 * A revoked device reports that it wiped its replica (POST /v1/wiped):
 * authorization is the request's Authorization header (the revoked token).
 * Records wiped_at and audits device_wiped. Returns 0 with dev filled,
 * ROVE_EAUTH (no or unknown token), ROVE_ESTATE (the device is not revoked)
 * or ROVE_ESTORE.
 */
int roved_sync_wiped(roved_server *srv, const char *authorization, roved_device *dev);

/* A change held in quarantine, as stored (store.h roved_quarantine). */
typedef struct roved_held {
    const char *device_id, *user_id, *table, *row_id, *op, *change_id;
    const char *payload_json; /* {column: value} */
    int64_t client_hlc, base_version;
} roved_held;

/*
 * Applies a held change inside the caller's write transaction, by the normal
 * merge rules (conflict policies, state machines, derived values), as its
 * author's change; the scope checks are skipped (the manager decided_by made
 * that decision). r gets the outcome (applied, merged, overridden or
 * rejected). Returns 0, ROVE_ESTATE (err says why: the change no longer fits
 * the schema, its author is unknown) or a storage error.
 */
int roved_sync_apply_held(roved_server *srv, roved_db *db, const roved_held *h,
                          const char *decided_by, roved_receipt_row *r, char *err,
                          size_t errsize);

#endif
