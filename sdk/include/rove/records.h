#ifndef ROVE_RECORDS_H
#define ROVE_RECORDS_H

/*
 * Records: reading and writing the replica with no network.
 *
 * Every write lands in the replica and in the durable outbox in one SQLite
 * transaction; rove_client_sync() later pushes the outbox. Column names and
 * types are those of the schema (docs/sdk-guide.md lists them). Writes to
 * system columns (id, version, created_*, updated_*, deleted) and to
 * server-owned columns (e.g. account.owner_id, account.tier) are refused
 * locally with ROVE_ESERVEROWNED / ROVE_EFORBIDDEN, exactly as the server
 * would refuse them.
 *
 * Thread model: as rove_client (one thread at a time per client). A
 * rove_record or rove_rows belongs to the thread that uses it; a rove_rows
 * must be freed before its client.
 */

#include "rove/client.h"

ROVE_BEGIN_DECLS

/* ---- generic records --------------------------------------------------- */

typedef struct rove_record rove_record;

/* A new, empty record of table ("account", "contact", "visit",
 * "service_task"). ROVE_EUNKNOWNTABLE for any other name. */
ROVE_EXTERN(int) rove_record_new(rove_record **out, const char *table);
ROVE_EXTERN(void) rove_record_free(rove_record *r);
ROVE_EXTERN(const char *) rove_record_table(const rove_record *r);
/* The record id; empty string until inserted or loaded. Borrowed. */
ROVE_EXTERN(const char *) rove_record_id(const rove_record *r);

/* Setters mark the column as changed. ROVE_EUNKNOWNCOLUMN, ROVE_EBADVALUE
 * (wrong type or enum value), ROVE_ESERVEROWNED (system or server-owned
 * column), ROVE_ENOMEM. A NULL text sets SQL NULL. An integer may be set on a
 * REAL column. A failed setter is remembered: rove_client_insert() and
 * rove_client_update() then refuse the record with the same code, so a value
 * the app meant to write is never silently dropped. */
ROVE_EXTERN(int) rove_record_set_text(rove_record *r, const char *col, const char *v);
ROVE_EXTERN(int) rove_record_set_int(rove_record *r, const char *col, int64_t v);
ROVE_EXTERN(int) rove_record_set_real(rove_record *r, const char *col, double v);
ROVE_EXTERN(int) rove_record_set_null(rove_record *r, const char *col);

/* Getters. text: borrowed (valid until the record changes or is freed), NULL
 * when the value is NULL or the column unknown. int/real: dflt when NULL. */
ROVE_EXTERN(const char *) rove_record_text(const rove_record *r, const char *col);
ROVE_EXTERN(int64_t) rove_record_int(const rove_record *r, const char *col, int64_t dflt);
ROVE_EXTERN(double) rove_record_real(const rove_record *r, const char *col, double dflt);
ROVE_EXTERN(int) rove_record_is_null(const rove_record *r, const char *col);

/* Inserts r (a new id is generated and readable with rove_record_id()). */
ROVE_EXTERN(int) rove_client_insert(rove_client *c, rove_record *r);
/* Writes the columns changed since r was loaded. ROVE_ENOTFOUND when the
 * record is not in the replica. */
ROVE_EXTERN(int) rove_client_update(rove_client *c, rove_record *r);
ROVE_EXTERN(int) rove_client_delete(rove_client *c, const char *table, const char *id);
/* Loads one record; ROVE_ENOTFOUND when absent or deleted. */
ROVE_EXTERN(int)
rove_client_get(rove_client *c, rove_record **out, const char *table, const char *id);

/* ---- read-only queries --------------------------------------------------- */

typedef struct rove_rows rove_rows;

/*
 * Runs a read-only SQL statement on the replica (anything that would write is
 * refused with ROVE_EREADONLY). params are bound as text to ?1..?n.
 */
ROVE_EXTERN(int)
rove_client_query(rove_client *c, rove_rows **out, const char *sql, const char *const *params,
                  size_t nparams);
/* 1 when a row is available, 0 at the end, or a negative ROVE_E* code. */
ROVE_EXTERN(int) rove_rows_next(rove_rows *q);
ROVE_EXTERN(int) rove_rows_columns(const rove_rows *q);
ROVE_EXTERN(const char *) rove_rows_name(const rove_rows *q, int i);
ROVE_EXTERN(const char *) rove_rows_text(rove_rows *q, int i);
ROVE_EXTERN(int64_t) rove_rows_int(rove_rows *q, int i);
ROVE_EXTERN(double) rove_rows_real(rove_rows *q, int i);
ROVE_EXTERN(int) rove_rows_is_null(rove_rows *q, int i);
ROVE_EXTERN(void) rove_rows_free(rove_rows *q);

/* ---- per-record sync state ---------------------------------------------- */

typedef enum rove_sync_state {
    ROVE_SYNC_SYNCED = 0,      /* matches the server as far as the device knows */
    ROVE_SYNC_PENDING = 1,     /* local changes wait in the outbox */
    ROVE_SYNC_REJECTED = 2,    /* the server refused the last change (see message) */
    ROVE_SYNC_QUARANTINED = 3, /* held on the server for a person's decision */
    ROVE_SYNC_OVERRIDDEN = 4   /* the last change lost a conflict (kept in the log) */
} rove_sync_state;

/*
 * The sync state of one record, for showing "pending / synced / rejected:
 * reason" next to it. Pending outbox changes win; otherwise the latest receipt
 * for the record decides; a record with neither is synced. *message (may be
 * NULL) receives the server's reason or NULL; it is borrowed, valid until the
 * next call on c. ROVE_ENOTFOUND when the replica has never seen the record.
 */
ROVE_EXTERN(int)
rove_client_record_state(rove_client *c, const char *table, const char *id,
                         rove_sync_state *state, const char **message);
/* "synced", "pending", "rejected", "quarantined", "overridden" or "unknown". */
ROVE_EXTERN(const char *) rove_sync_state_name(int state);

/*
 * The outbox, oldest first. Columns: seq, change_id, table, record_id, op
 * ("insert", "update", "delete"), created_at.
 */
ROVE_EXTERN(int) rove_client_outbox(rove_client *c, rove_rows **out);
/*
 * Stored receipts, newest first; problems_only: just rejected, quarantined and
 * overridden ones. Columns: change_id, table, record_id, status (name), code,
 * message, version, received_at.
 */
ROVE_EXTERN(int) rove_client_receipts(rove_client *c, rove_rows **out, int problems_only);

/*
 * The values this device lost to conflicts, newest first: columns id,
 * change_id, table, record_id, column, mine, theirs, policy, received_at,
 * seen. table and id (both may be NULL) narrow it to one table or record;
 * unseen_only leaves out dismissed ones. Free with rove_rows_free().
 */
ROVE_EXTERN(int)
rove_client_conflicts(rove_client *c, rove_rows **out, const char *table, const char *id,
                      int unseen_only);
/* Marks a conflict (id from the query or callback; 0 = all) as seen. */
ROVE_EXTERN(int) rove_client_conflict_dismiss(rove_client *c, int64_t id);

/*
 * The delegation leases this device holds (it is a delegate): columns id,
 * delegator (user id), from_ms, to_ms, grace_ms, actions, accounts (how many
 * accounts it covers), state ("scheduled", "active", "expired" by the device
 * clock). Writes to those accounts are refused locally (ROVE_EFORBIDDEN)
 * before the start and after the end, for actions the lease does not allow,
 * and for deletes, with no network. Visits written under a delegation carry
 * on_behalf_of = the delegator ("performed by B for A").
 */
ROVE_EXTERN(int) rove_client_leases(rove_client *c, rove_rows **out);

/*
 * The "while you were away" digest of the logged-in user's latest leave
 * (needs the network): columns section ("visits_done", "tasks_resolved",
 * "new_accounts", "new_contacts", "stage_changes", "open_visits",
 * "open_tasks", "quarantined", "sla_breaches"), table, record_id, at (ms),
 * by (user id), detail. Empty when the user has had no leave.
 */
ROVE_EXTERN(int) rove_client_digest(rove_client *c, rove_rows **out);

/*
 * Who changed a record, from the server's audit trail (needs the network):
 * columns at (ms), actor (user id), on_behalf_of (the delegator when a
 * delegate wrote it, else NULL), delegation_id, op ("insert", "update",
 * "delete", "transfer", ...), late_sync (1: uploaded late by a revoked
 * device), changes (JSON: {"column": {"old": ..., "new": ...}}). Oldest first.
 * ROVE_ENOTFOUND when the record is not one the user may see.
 */
ROVE_EXTERN(int)
rove_client_history(rove_client *c, rove_rows **out, const char *table, const char *id);

ROVE_END_DECLS

#endif
