/* Write-side scope rules (see scope.h). */
#include "scope.h"

#include <string.h>

static int is_table(const rove__table *t, const char *name)
{
    return strcmp(t->name, name) == 0;
}

static int owns(const roved_user *u, const roved_rowinfo *a)
{
    return a->owner_id[0] != '\0' && strcmp(a->owner_id, u->id) == 0;
}

/* The account part of the rules, shared by every table. */
static int account_ok(roved_db *db, const roved_user *u, const roved_rowinfo *a, int64_t now)
{
    switch (u->role) {
    case ROVE__ROLE_ADMIN:
        return 1;
    case ROVE__ROLE_REP:
        return owns(u, a) ||
               roved_store_territory_member_of(db, a->territory_id, u->id, "rep", now);
    case ROVE__ROLE_MANAGER:
        /* Their territories, and accounts they own themselves (created without
         * a home territory). */
        return owns(u, a) || roved_store_territory_manages(db, a->territory_id, u->id, now);
    default:
        return 0;
    }
}

int roved_scope_can_write(roved_db *db, const roved_user *u, const rove__table *t,
                          const roved_rowinfo *info, int64_t now)
{
    if (u->role == ROVE__ROLE_TECH)
        return is_table(t, "service_task") && info->assignee_id[0] != '\0' &&
               strcmp(info->assignee_id, u->id) == 0;
    return account_ok(db, u, info, now);
}

int roved_scope_can_insert(roved_db *db, const roved_user *u, const rove__table *t,
                           const roved_rowinfo *account, int64_t now)
{
    if (u->role == ROVE__ROLE_TECH)
        return 0;
    if (account == NULL)
        return is_table(t, "account");
    if (account->deleted)
        return 0;
    return account_ok(db, u, account, now);
}
