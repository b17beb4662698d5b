/* Write-side scope rules (see scope.h). */
#include "scope.h"

#include <stdio.h>
#include <string.h>

#include "rove/errors.h"

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

/*
 * The write grant per role and table (the permission table of docs/scope.md):
 * the operations allowed, as bits (1 << ROVE__OP_*). A table not listed for a
 * role is read-only to it: the stage history is written only by server
 * commands, and a technician works only the fields of his service tasks (which
 * ones are his is the record rule below); he creates and deletes nothing.
 */
#define INS (1u << ROVE__OP_INSERT)
#define UPD (1u << ROVE__OP_UPDATE)
#define DEL (1u << ROVE__OP_DELETE)
#define OFFICE (ROVE__ROLE_REP | ROVE__ROLE_MANAGER | ROVE__ROLE_ADMIN)

// clang-format off
static const struct grant {
    unsigned roles;
    const char *table;
    unsigned ops;
} grants[] = {
    {OFFICE,          "account",      INS | UPD | DEL},
    {OFFICE,          "contact",      INS | UPD | DEL},
    {OFFICE,          "visit",        INS | UPD | DEL},
    {OFFICE,          "service_task", INS | UPD | DEL},
    {ROVE__ROLE_TECH, "service_task", UPD},
};
// clang-format on

static unsigned granted_ops(unsigned role, const rove__table *t)
{
    unsigned ops = 0;
    if ((t->visible & role) == 0)
        return 0; /* a table the role never receives */
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
        if ((grants[i].roles & role) != 0 && is_table(t, grants[i].table))
            ops |= grants[i].ops;
    return ops;
}

int roved_scope_grant(unsigned role, const rove__table *t, int op, const int *cols, size_t n,
                      char *msg, size_t size)
{
    static const char *const verbs[] = {"write", "create", "change", "delete"};
    const char *who = rove__role_name(role);
    who = who ? who : "device";
    if (op < ROVE__OP_INSERT || op > ROVE__OP_DELETE ||
        (granted_ops(role, t) & (1u << op)) == 0) {
        int v = op >= ROVE__OP_INSERT && op <= ROVE__OP_DELETE ? op : 0;
        snprintf(msg, size, "%ss may not %s %s records", who, verbs[v], t->name);
        return ROVE_EFORBIDDEN;
    }
    /* Server-owned first, so the answer does not depend on the columns' order. */
    for (size_t i = 0; i < n; i++) {
        const rove__column *c = &t->cols[cols[i]];
        if (c->flags & (ROVE__COL_SYSTEM | ROVE__COL_SERVER_OWNED)) {
            snprintf(msg, size, "column %s is changed only by the server", c->name);
            return ROVE_ESERVEROWNED;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const rove__column *c = &t->cols[cols[i]];
        if ((c->visible & role) == 0) {
            snprintf(msg, size, "%ss may not write %s.%s", who, t->name, c->name);
            return ROVE_EFORBIDDEN;
        }
    }
    return 0;
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
