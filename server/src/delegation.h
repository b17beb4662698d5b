#ifndef ROVE_SERVER_DELEGATION_H
#define ROVE_SERVER_DELEGATION_H

/*
 * Delegations on leave, driven by server time (docs/delegation-transfer.md):
 * states scheduled -> active -> expired, or revoked / ended early by a
 * manager. The start and end steps run from roved_delegation_tick, which
 * roved calls every second:
 *
 *   start: a technician's open service tasks go to the delegate (the
 *          original assignee is kept); the delegator's planned visits in the
 *          window are covered by the delegate, rescheduled (needs_replan) or
 *          cancelled, as the delegation says;
 *   end:   covered tasks not closed and covered visits still planned go back
 *          to the delegator; the delegates' devices re-evaluate their scope
 *          (the delegated records are evicted after their edits are pushed).
 */

#include <stdint.h>

#include "roved.h"
#include "store.h"

/* "scheduled", "active", "expired", "revoked" or "ended" at now. */
const char *roved_delegation_state(const roved_delegation *d, int64_t now);

/* The name of a digest section ("visits_done", "tasks_resolved", ...). */
const char *roved_delegation_digest_section(roved_digest_kind kind);

/* Runs the start and end steps that are due at now; *steps counts them. */
int roved_delegation_tick(roved_server *srv, int64_t now, int *steps);

/* Starts the thread that calls roved_delegation_tick every second. */
int roved_delegation_start(roved_server *srv);
void roved_delegation_stop(void);

#endif
