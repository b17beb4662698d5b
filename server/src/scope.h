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

/* 1 when user may change the existing row of table t described by info. */
int roved_scope_can_write(roved_db *db, const roved_user *u, const rove__table *t,
                          const roved_rowinfo *info, int64_t now);
/* 1 when user may create a row of table t; account is the info of the
 * referenced account (NULL when t is the account table). */
int roved_scope_can_insert(roved_db *db, const roved_user *u, const rove__table *t,
                           const roved_rowinfo *account, int64_t now);

#endif
