/* Write-side scope rules (see scope.h). */
#include "scope.h"

#include <string.h>

static int is_table(const rove__table *t, const char *name)
{
    return strcmp(t->name, name) == 0;
}

/* The account part of the rules, shared by every table. */
static int account_ok(roved_db *db, const roved_user *u, const roved_rowinfo *a)
{
    switch (u->role) {
    case ROVE__ROLE_ADMIN:
        return 1;
    case ROVE__ROLE_REP:
        return a->owner_id[0] != '\0' && strcmp(a->owner_id, u->id) == 0;
    case ROVE__ROLE_MANAGER:
        /* Their territories, and accounts they own themselves (created without
         * a home territory). */
        return (a->owner_id[0] != '\0' && strcmp(a->owner_id, u->id) == 0) ||
               roved_store_territory_owned_by(db, a->territory_id, u->id);
    default:
        return 0;
    }
}

int roved_scope_can_write(roved_db *db, const roved_user *u, const rove__table *t,
                          const roved_rowinfo *info)
{
    if (u->role == ROVE__ROLE_TECH)
        return is_table(t, "service_task") && info->assignee_id[0] != '\0' &&
               strcmp(info->assignee_id, u->id) == 0;
    return account_ok(db, u, info);
}

int roved_scope_can_insert(roved_db *db, const roved_user *u, const rove__table *t,
                           const roved_rowinfo *account)
{
    if (u->role == ROVE__ROLE_TECH)
        return 0;
    if (account == NULL)
        return is_table(t, "account");
    if (account->deleted)
        return 0;
    return account_ok(db, u, account);
}
