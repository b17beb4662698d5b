/*
 * What a manager reaches (docs/scope.md, "The permission model"): one rule
 * per kind of object, used by every admin route. Admins reach everything.
 * An object out of reach is answered by the routes exactly like one that
 * does not exist.
 */
#include "admin.h"

#include <string.h>

#include "rove/errors.h"

static int is_admin(const roved_user *actor) { return actor->role == ROVE__ROLE_ADMIN; }

int roved_admin_reaches_territory(roved_db *db, const roved_user *actor,
                                  const char *territory_id, int64_t now)
{
    return is_admin(actor) || (territory_id != NULL && territory_id[0] != '\0' &&
                               roved_store_territory_manages(db, territory_id, actor->id, now));
}

int roved_admin_manages_record(roved_db *db, const roved_user *actor, const roved_rowinfo *info,
                               int64_t now)
{
    return roved_admin_reaches_territory(db, actor, info->territory_id, now) ||
           (info->owner_id[0] != '\0' && strcmp(info->owner_id, actor->id) == 0);
}

int roved_admin_manages_user(roved_db *db, const roved_user *actor, const roved_user *user,
                             int64_t now)
{
    return is_admin(actor) || strcmp(user->id, actor->id) == 0 ||
           (user->home_territory_id[0] != '\0' &&
            roved_store_territory_manages(db, user->home_territory_id, actor->id, now)) ||
           strcmp(user->manager_id, actor->id) == 0;
}

int roved_admin_reaches_user_id(roved_db *db, const roved_user *actor, const char *user_id,
                                int64_t now)
{
    if (is_admin(actor))
        return 1;
    roved_user u;
    return user_id != NULL && user_id[0] != '\0' &&
           roved_store_user_by_id(db, user_id, &u) == 0 &&
           roved_admin_manages_user(db, actor, &u, now);
}

int roved_admin_find_user(roved_db *db, const roved_user *actor, const char *username,
                          int64_t now, roved_user *out)
{
    int rc = roved_store_user_by_name(db, username, out);
    if (rc == 0 && !roved_admin_manages_user(db, actor, out, now))
        rc = ROVE_ENOTFOUND;
    if (rc == 0)
        memset(out->password_hash, 0, sizeof(out->password_hash));
    return rc;
}

int roved_admin_reaches_row(roved_db *db, const roved_user *actor, const char *table,
                            const char *row_id, int64_t now)
{
    const rove__table *t = table ? rove__schema_table(table, strlen(table)) : NULL;
    if (t == NULL) /* other subjects (users, devices, leaves, transfers): admins */
        return is_admin(actor);
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    return row_id != NULL && roved_store_row_info(db, t, row_id, &info) == 0 &&
           (is_admin(actor) || roved_admin_manages_record(db, actor, &info, now));
}

int roved_admin_reaches_transfer(roved_db *db, const roved_user *actor, const roved_transfer *t,
                                 int64_t now)
{
    if (t->leaver_id[0] == '\0')
        return is_admin(actor) || strcmp(t->created_by, actor->id) == 0;
    return roved_admin_reaches_user_id(db, actor, t->leaver_id, now);
}

int roved_admin_reaches_delegation(roved_db *db, const roved_user *actor,
                                   const roved_delegation *d, int64_t now)
{
    return roved_admin_reaches_user_id(db, actor, d->delegator_id, now);
}
