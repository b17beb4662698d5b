#ifndef ROVE_SERVER_TRANSFER_H
#define ROVE_SERVER_TRANSFER_H

/*
 * Moving work between people (docs/delegation-transfer.md): one account at a
 * time, with what follows it, inside the caller's write transaction. Used by
 * transfers on resignation, territory realignment and single account
 * assignments, so they all behave the same.
 */

#include "roved.h"
#include "store.h"

typedef struct roved_move_stats {
    int64_t accounts; /* accounts moved */
    int64_t visits;   /* open visits that followed, keeping their slot */
    int64_t replans;  /* open visits that followed but clash: needs_replan */
    int64_t tasks;    /* open service tasks given to a technician */
    int64_t queued;   /* open service tasks put in the dispatcher queue */
} roved_move_stats;

/*
 * Moves account_id to owner to_user_id and/or territory to_territory (either
 * may be NULL: unchanged). Open visits planned for the previous owner follow
 * to the new one (status needs_replan when they clash with the new owner's
 * calendar); closed visits, closed tasks, stage history and past ownership
 * are never rewritten. Writes the owner history (with transfer_id, may be
 * NULL), an audit event (op: "assign" or "transfer") and a scope move so the
 * devices concerned evict or receive the account. *changed = 0 when the
 * account already had that owner and territory (nothing written).
 */
int roved_transfer_move_account(roved_server *srv, roved_db *db, const roved_user *actor,
                                const char *account_id, const char *to_user_id,
                                const char *to_territory, const char *transfer_id,
                                const char *reason, int64_t now, roved_move_stats *st,
                                int *changed);

/*
 * Gives user_id's open service tasks to technicians who have the required
 * skills and are not absent (fewest open tasks first), else to the
 * dispatcher queue; audited with transfer_id.
 */
int roved_transfer_reassign_tasks(roved_db *db, const roved_user *actor, const char *user_id,
                                  const char *transfer_id, int64_t now, roved_move_stats *st);

#endif
