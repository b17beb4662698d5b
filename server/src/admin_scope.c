/*
 * Admin API endpoints of the scope area (see admin.h, docs/scope.md):
 *
 *   POST accounts/<id>/assign        {"owner": USERNAME, "territory": ID, "reason": TEXT}
 *   GET  territories/<id>/members
 *   POST territories/<id>/members    {"user": USERNAME, "role": "rep"|"manager",
 *                                     "from": MS, "to": MS}
 *   POST territories/<id>/members/<username>/end   {"at": MS}
 *
 * Every change is one write transaction: validated first, audited, and the
 * scope epoch moves so the devices concerned re-evaluate what they hold at
 * their next sync (records leave with an eviction, arrive in full).
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "http.h"
#include "log.h"
#include "rove/errors.h"
#include "scope.h"
#include "util.h"

static int opt_ms(json_t *j, const char *key, int64_t *out)
{
    json_t *v = json_object_get(j, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* ---- accounts/<id>/assign ---------------------------------------------- */

int roved_admin_account_assign(roved_server *srv, struct mg_connection *c,
                               const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    const char *account_id = arg[0];
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *owner = json_string_value(json_object_get(j, "owner"));
    const char *territory = json_string_value(json_object_get(j, "territory"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    const char *bad = NULL;
    if (!roved_admin_valid_id(account_id))
        bad = "the account id is not a valid id";
    else if (owner == NULL && territory == NULL)
        bad = "give owner (a user name) and/or territory (a territory id)";
    else if ((json_object_get(j, "owner") && owner == NULL) ||
             (json_object_get(j, "territory") && territory == NULL) ||
             (json_object_get(j, "reason") && reason == NULL))
        bad = "owner, territory and reason must be strings";
    else if (territory != NULL && !roved_admin_valid_id(territory))
        bad = "territory is not a valid id";
    else if (reason != NULL && strlen(reason) > 200)
        bad = "reason is longer than 200 bytes";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }

    size_t nt;
    const rove__table *account = &rove__schema_tables(&nt)[0];
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    roved_rowinfo info;
    roved_user target;
    memset(&info, 0, sizeof(info));
    memset(&target, 0, sizeof(target));
    int status = 0;
    /* What is out of reach answers like what does not exist. */
    rc = roved_store_row_info(db, account, account_id, &info);
    if (rc == ROVE_ENOTFOUND ||
        (rc == 0 && (info.deleted || !roved_admin_manages_record(db, actor, &info, now)))) {
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such account");
    } else if (rc != 0) {
        status = roved_admin_error(c, ROVE_ESTORE, "the account could not be read");
    } else if (owner != NULL &&
               (rc = roved_admin_find_user(db, actor, owner, now, &target)) != 0) {
        status = rc == ROVE_ENOTFOUND ? roved_admin_error(c, ROVE_ENOTFOUND, "no such user")
                                      : roved_admin_error(c, ROVE_ESTORE, "store error");
    } else if (owner != NULL &&
               (target.status != ROVED_USER_ACTIVE ||
                (target.role != ROVE__ROLE_REP && target.role != ROVE__ROLE_MANAGER))) {
        status = roved_admin_error(c, ROVE_EBADVALUE,
                                   "the new owner must be an active rep or manager");
    } else if (territory != NULL &&
               ((rc = roved_store_territory_exists(db, territory)) == ROVE_ENOTFOUND ||
                (rc == 0 && !roved_admin_reaches_territory(db, actor, territory, now)))) {
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such territory");
    } else if (territory != NULL && rc != 0) {
        status = roved_admin_error(c, ROVE_ESTORE, "store error");
    }
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        json_decref(j);
        return status;
    }

    int cols[5];
    rove__value vals[5];
    size_t n = 0;
    int64_t version = 0;
    json_t *diff = json_object();
    const char *why = owner != NULL ? "owner_changed" : "territory_changed";
    if (owner != NULL) {
        cols[n] = rove__schema_col(account, "owner_id", 8);
        vals[n++] = (rove__value){ROVE__T_TEXT, 0, 0, target.id, strlen(target.id)};
        json_object_set_new(diff, "owner_id",
                            json_pack("{s:s?,s:s}", "old",
                                      info.owner_id[0] ? info.owner_id : NULL, "new",
                                      target.id));
    }
    if (territory != NULL) {
        cols[n] = rove__schema_col(account, "territory_id", 12);
        vals[n++] = (rove__value){ROVE__T_TEXT, 0, 0, territory, strlen(territory)};
        json_object_set_new(diff, "territory_id",
                            json_pack("{s:s?,s:s}", "old",
                                      info.territory_id[0] ? info.territory_id : NULL, "new",
                                      territory));
    }
    if (reason != NULL)
        json_object_set_new(diff, "reason", json_string(reason));
    rc = roved_store_version_next(db, &version);
    cols[n] = ROVE__COL_VERSION;
    vals[n++] = (rove__value){ROVE__T_INT, version, 0, NULL, 0};
    cols[n] = ROVE__COL_UPDATED_BY;
    vals[n++] = (rove__value){ROVE__T_TEXT, 0, 0, actor->id, strlen(actor->id)};
    cols[n] = ROVE__COL_UPDATED_AT;
    vals[n++] = (rove__value){ROVE__T_INT, now, 0, NULL, 0};
    if (rc == 0)
        rc = roved_store_row_update(db, account, account_id, cols, vals, n);
    if (rc == 0)
        rc = roved_admin_audit(db, actor, "account", account_id, "assign", diff, now);
    if (rc == 0)
        rc = roved_store_scope_move(db, 'a', account_id, now, why);
    json_decref(diff);
    if (rc == 0)
        rc = roved_store_write_commit(srv->store, db);
    else
        roved_store_write_rollback(srv->store, db);
    if (rc != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    }
    roved_log_info("admin_account_assigned", "actor=%s account=%s reason=%s", actor->id,
                   account_id, why);
    json_t *answer =
        json_pack("{s:s,s:s?,s:s?,s:I}", "account_id", account_id, "owner_id",
                  owner ? target.id : (info.owner_id[0] ? info.owner_id : NULL), "territory_id",
                  territory ? territory : (info.territory_id[0] ? info.territory_id : NULL),
                  "version", (json_int_t)version);
    json_decref(j);
    return roved_admin_send_json(c, 200, answer);
}

/* ---- territories/<id>/members ------------------------------------------ */

static int add_member_json(const roved_member *m, void *payload)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "user_id", m->user_id, "username", m->username,
                          "role", m->role, "from", (json_int_t)m->valid_from);
    if (o == NULL)
        return ROVE_ENOMEM;
    json_object_set_new(o, "to", m->valid_to ? json_integer(m->valid_to) : json_null());
    return json_array_append_new(payload, o) == 0 ? 0 : ROVE_ENOMEM;
}

int roved_admin_members_list(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    const char *territory = arg[0];
    if (!roved_admin_valid_id(territory))
        return roved_admin_error(c, ROVE_EBADVALUE, "the territory id is not a valid id");
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    json_t *arr = json_array();
    rc = roved_store_territory_exists(db, territory);
    if (rc == 0 && !roved_admin_reaches_territory(db, actor, territory, roved_util_now_ms()))
        rc = ROVE_ENOTFOUND;
    if (rc == 0)
        rc = roved_store_member_list(db, territory, add_member_json, arr);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return rc == ROVE_ENOTFOUND ? roved_admin_error(c, rc, "no such territory")
                                    : roved_admin_error(c, ROVE_ESTORE, "store error");
    }
    return roved_admin_send_json(
        c, 200, json_pack("{s:s,s:o}", "territory_id", territory, "members", arr));
}

/* Adds a membership (add = 1) or ends the user's memberships (add = 0). */
int roved_admin_member_change(roved_server *srv, struct mg_connection *c,
                              const roved_user *actor, const char *const *arg, int add)
{
    const char *territory = arg[0], *username = add ? NULL : arg[1];
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    int64_t now = roved_util_now_ms(), from = now, to = 0, at = now;
    const char *role = NULL;
    const char *bad = NULL;
    if (add) {
        username = json_string_value(json_object_get(j, "user"));
        role = json_string_value(json_object_get(j, "role"));
    }
    if (!roved_admin_valid_id(territory))
        bad = "the territory id is not a valid id";
    else if (username == NULL || username[0] == '\0' || strlen(username) > 63)
        bad = "user (a user name) is required";
    else if (add &&
             (role == NULL || (strcmp(role, "rep") != 0 && strcmp(role, "manager") != 0)))
        bad = "role must be rep or manager";
    else if (add && (opt_ms(j, "from", &from) != 0 || opt_ms(j, "to", &to) != 0))
        bad = "from and to must be times in ms since the epoch";
    else if (add && to != 0 && to <= from)
        bad = "to must be after from";
    else if (!add && opt_ms(j, "at", &at) != 0)
        bad = "at must be a time in ms since the epoch";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    roved_user u;
    memset(&u, 0, sizeof(u));
    int status = 0, changed = 0;
    /* What is out of reach answers like what does not exist: the territory,
     * and a new member (the member of one's territory may always be ended). */
    rc = roved_store_territory_exists(db, territory);
    if (rc == ROVE_ENOTFOUND ||
        (rc == 0 && !roved_admin_reaches_territory(db, actor, territory, now)))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such territory");
    else if (rc == 0 &&
             (rc = add ? roved_admin_find_user(db, actor, username, now, &u)
                       : roved_store_user_by_name(db, username, &u)) == ROVE_ENOTFOUND)
        status = roved_admin_error(c, rc, "no such user");
    else if (rc == 0 && add && u.status != ROVED_USER_ACTIVE)
        status = roved_admin_error(c, ROVE_EBADVALUE, "the user is not active");
    else if (rc == 0 && add &&
             u.role != (strcmp(role, "rep") == 0 ? ROVE__ROLE_REP : ROVE__ROLE_MANAGER))
        status =
            roved_admin_error(c, ROVE_EBADVALUE, "the membership role must be the user's role");
    int overlap = 0;
    if (status == 0 && rc == 0 && add &&
        (rc = roved_store_member_overlaps(db, territory, u.id, role, from, to, &overlap)) ==
            0 &&
        overlap)
        status = roved_admin_error(c, ROVE_EEXISTS,
                                   "the user already has a membership overlapping these dates");
    if (status == 0 && rc == 0) {
        if (add)
            rc = roved_store_territory_member_insert(db, territory, u.id, role, from, to);
        else
            rc = roved_store_member_end(db, territory, u.id, at, &changed);
        if (rc == ROVE_EEXISTS)
            status = roved_admin_error(c, rc, "this membership already exists");
        else if (rc == 0 && !add && changed == 0)
            status = roved_admin_error(c, ROVE_ENOTFOUND, "no membership to end");
    }
    if (status == 0 && rc == 0) {
        json_t *diff =
            add ? json_pack("{s:s,s:s,s:I,s:o}", "user_id", u.id, "role", role, "from",
                            (json_int_t)from, "to", to ? json_integer(to) : json_null())
                : json_pack("{s:s,s:I}", "user_id", u.id, "to", (json_int_t)at);
        rc = roved_admin_audit(db, actor, "territory_members", territory,
                               add ? "member_add" : "member_end", diff, now);
        json_decref(diff);
        if (rc == 0)
            rc = roved_store_scope_bump(db);
    }
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        json_decref(j);
        return status;
    }
    rc = roved_store_write_commit(srv->store, db);
    if (rc != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be committed");
    }
    roved_log_info(add ? "admin_member_added" : "admin_member_ended",
                   "actor=%s territory=%s user=%s", actor->id, territory, u.id);
    json_t *answer = json_pack("{s:s,s:s,s:s}", "territory_id", territory, "user_id", u.id,
                               "username", u.username);
    if (add) {
        json_object_set_new(answer, "role", json_string(role));
        json_object_set_new(answer, "from", json_integer(from));
        json_object_set_new(answer, "to", to ? json_integer(to) : json_null());
    } else {
        json_object_set_new(answer, "ended", json_integer(changed));
        json_object_set_new(answer, "at", json_integer(at));
    }
    json_decref(j); /* role points into it */
    return roved_admin_send_json(c, add ? 201 : 200, answer);
}
