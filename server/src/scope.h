#ifndef ROVE_SERVER_SCOPE_H
#define ROVE_SERVER_SCOPE_H

/*
 * Who may see and write what (docs/scope.md). The read side of a device's
 * scope (what it pulls) is the store's roved_store_pull_* given a roved_scope;
 * these functions decide the write side from the facts the store gives about a
 * row (roved_rowinfo), at time now:
 *
 *   rep:        accounts they own, and accounts of territories they are a
 *               member of as 'rep' (valid now); contacts, visits, service
 *               tasks and stage history of those accounts; may create
 *               accounts (they become the owner).
 *   technician: service tasks assigned to them (and, read-only, the basics of
 *               those tasks' accounts and contacts); creates nothing.
 *   manager:    accounts in territories they own or manage (membership as
 *               'manager', valid now), with their children, or that they own;
 *               and everything under those accounts.
 *   admin:      everything.
 */

#include "schema.h"
#include "store.h"

/*
 * The write grant: what role may do in table t whatever the record, from the
 * change alone (docs/scope.md, the permission table). op is a ROVE__OP_*; the
 * change writes columns cols[0..n). A role may
 *
 *   - insert, update and delete only in the tables of its grant (the table
 *     below in scope.c; no role has a grant on a server-written table such as
 *     the stage history), and only in tables its devices receive;
 *   - write only the columns it receives (the schema's `visible` mask) that
 *     are neither system nor server-owned.
 *
 * Returns 0 when granted; else ROVE_EFORBIDDEN (the operation on the table,
 * or a column the role does not receive) or ROVE_ESERVEROWNED (a server-owned
 * column), with a sentence in msg[0..size). The answer depends on nothing
 * stored, so it reveals nothing about records; every push path (insert,
 * update, delete; own, delegated, held and quarantined changes) asks it first,
 * and then asks roved_scope_can_write/_insert about the record.
 */
int roved_scope_grant(unsigned role, const rove__table *t, int op, const int *cols, size_t n,
                      char *msg, size_t size);

/* 1 when user may change the existing row of table t described by info. */
int roved_scope_can_write(roved_db *db, const roved_user *u, const rove__table *t,
                          const roved_rowinfo *info, int64_t now);
/* 1 when user may create a row of table t; account is the info of the
 * referenced account (NULL when t is the account table). */
int roved_scope_can_insert(roved_db *db, const roved_user *u, const rove__table *t,
                           const roved_rowinfo *account, int64_t now);

#endif
