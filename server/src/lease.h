#ifndef ROVE_SERVER_LEASE_H
#define ROVE_SERVER_LEASE_H

/*
 * Signed delegation leases (docs/delegation-transfer.md, docs/protocol.md).
 * A delegate's device holds one lease per current delegation: which accounts
 * it may work for whom, which actions, and until when. The server signs each
 * with its lease key (ECDSA P-256 over SHA-256, DATA_DIR/lease-key.pem,
 * created at the first start), so the SDK enforces the window offline and a
 * tampered lease is refused.
 *
 * Lease payload (CBOR map): id (delegation), delegator, delegate, from, to
 * (ms), grace (ms), actions ("visits,accounts,tasks"), accounts (the ids the
 * delegate works only through this delegation).
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "roved.h"

typedef struct roved_lease_key roved_lease_key; /* struct tag used in roved.h */

/* Loads DATA_DIR/lease-key.pem, creating it (mode 0600) when missing. */
int roved_lease_key_load(const char *data_dir, roved_lease_key **out, char *err, size_t size);
void roved_lease_key_free(roved_lease_key *k);

/* A digest of the user's current leases (0: none), cheap enough for every
 * sync response: their delegations' windows and states and the scope epoch.
 * A device fetches the leases only when it changes. */
int roved_lease_gen(roved_db *db, const roved_user *user, int64_t now, int64_t *gen);

/*
 * POST /v1/leases for an authenticated device: appends the CBOR answer
 * {"v", "key": DER public key, "leases": [[payload, signature], ...]}.
 */
int roved_lease_run(roved_server *srv, const roved_user *user, rove__buf *out,
                    rove__errinfo *err);

#endif
