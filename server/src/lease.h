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

/* The leases of user at now: *gen is a digest of their contents (0: none),
 * sent in every sync response so a device fetches them only on a change. */
int roved_lease_gen(roved_db *db, const roved_user *user, int64_t now, int64_t *gen);

/*
 * POST /v1/leases for an authenticated device: appends the CBOR answer
 * {"v", "key": DER public key, "leases": [[payload, signature], ...]}.
 */
int roved_lease_run(roved_server *srv, const roved_user *user, rove__buf *out,
                    rove__errinfo *err);

#endif
