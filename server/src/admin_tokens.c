/*
 * Admin API endpoints of device tokens (docs/operations.md, "Login limits
 * and tokens"):
 *
 *   GET  users/<username>/tokens   the user's tokens: id, device, created,
 *                                  expires, last used, revoked, state
 *   POST tokens/<id>/revoke        the token is refused from now on (401)
 *
 * A token itself and its hash never leave the store. An admin reaches every
 * user's tokens, a manager those of the users she manages
 * (admin_reach.c); anything out of reach answers exactly like a
 * nonexistent user or token (404).
 */
#include "admin.h"

#include <string.h>

#include <civetweb.h>

#include "log.h"
#include "rove/errors.h"
#include "util.h"

static const char *token_state(const roved_token *t, int64_t now)
{
    return t->revoked_at > 0 ? "revoked" : t->expires_at <= now ? "expired" : "active";
}

static int add_token(const roved_token *t, void *payload)
{
    json_t *arr = payload;
    int64_t now = roved_util_now_ms();
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "id", t->id, "device_id",
                          t->device_id, "device_name", t->device_name, "created_at",
                          (json_int_t)t->created_at, "expires_at", (json_int_t)t->expires_at,
                          "last_used_at", (json_int_t)t->last_used_at, "revoked_at",
                          (json_int_t)t->revoked_at, "state", token_state(t, now));
    if (o == NULL || json_array_append_new(arr, o) != 0)
        return ROVE_ENOMEM;
    if (t->revoked_by[0] != '\0')
        json_object_set_new(o, "revoked_by", json_string(t->revoked_by));
    return 0;
}

int roved_admin_tokens_list(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int variant)
{
    const char *username = arg[0];
    (void)variant;
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_user u;
    json_t *arr = json_array();
    int rc = arr ? roved_admin_find_user(db, actor, username, roved_util_now_ms(), &u)
                 : ROVE_ENOMEM;
    if (rc == 0)
        rc = roved_store_token_list(db, u.id, add_token, arr);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return roved_admin_error(c, rc == ROVE_ENOTFOUND ? rc : ROVE_ESTORE,
                                 rc == ROVE_ENOTFOUND ? "no such user"
                                                      : "the store is unavailable");
    }
    return roved_admin_send_json(c, 200,
                                 json_pack("{s:s,s:o}", "user_id", u.id, "tokens", arr));
}

int roved_admin_token_revoke(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    const char *id = arg[0];
    (void)variant;
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_ENOTFOUND, "no such token");
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    int64_t now = roved_util_now_ms();
    roved_token t;
    int rc = roved_store_token_get(db, id, &t);
    if (rc == 0 && !roved_admin_reaches_user_id(db, actor, t.user_id, now))
        rc = ROVE_ENOTFOUND;
    if (rc == 0)
        rc = roved_store_token_revoke(db, id, now, actor->id);
    if (rc == 0) {
        json_t *diff = json_pack("{s:s,s:s}", "device_id", t.device_id, "user_id", t.user_id);
        rc = diff ? roved_admin_audit(db, actor, "device_token", id, "token_revoke", diff, now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    if (rc == 0)
        rc = roved_store_write_commit(srv->store, db);
    else
        roved_store_write_rollback(srv->store, db);
    if (rc == ROVE_ENOTFOUND)
        return roved_admin_error(c, rc, "no such token");
    if (rc == ROVE_ESTATE)
        return roved_admin_error(c, rc, "the token is revoked already");
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_log_info("token_revoked", "token=%s device=%s user=%s by=%s", id, t.device_id,
                   t.user_id, actor->id);
    return roved_admin_send_json(c, 200,
                                 json_pack("{s:s,s:s,s:I}", "id", id, "state", "revoked",
                                           "revoked_at", (json_int_t)now));
}
