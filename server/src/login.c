/* Device login, the shared password check and device tokens (see login.h). */
#include "login.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "id.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"
#include "wire.h"

/* ---- the password check (device and admin login) ----------------------- */

/* Audits a failed password check and the locks it started, on a
 * non-fsyncing transaction: the trail of an attack is worth keeping, but
 * not an fsync per guess. */
static void audit_failure(roved_server *srv, const char *username, const char *user_id,
                          const char *source, const char *via, int locked)
{
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin_lazy(srv->store, &db) != 0)
        return;
    const char *table = user_id[0] ? "user" : "login";
    const char *row = user_id[0] ? user_id : "unknown";
    int rc = 0;
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        if (pass == 1 && locked == 0)
            break;
        json_t *d = json_pack("{s:s,s:s,s:s}", "user", username, "source", source ? source : "-",
                              "via", via);
        if (d != NULL && pass == 1) {
            static const struct {
                int bit;
                const char *name;
            } counters[] = {{ROVED_LIMIT_PAIR, "user_source"},
                            {ROVED_LIMIT_SOURCE, "source"},
                            {ROVED_LIMIT_USER, "user"}};
            json_t *which = json_array();
            for (size_t i = 0; i < 3; i++)
                if (locked & counters[i].bit)
                    json_array_append_new(which, json_string(counters[i].name));
            json_object_set_new(d, "locked", which);
        }
        char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        if (text == NULL) {
            rc = ROVE_ENOMEM;
            break;
        }
        roved_audit a = {now,  NULL, NULL, table, row, pass ? "login_locked" : "login_failed",
                         0,    text, NULL, NULL};
        rc = roved_store_audit_put(db, &a);
        free(text);
    }
    if (rc == 0)
        rc = roved_store_write_commit(srv->store, db);
    else
        roved_store_write_rollback(srv->store, db);
    if (rc != 0)
        roved_log_warn("login_audit", "status=failed code=%s", rove_error_name(rc));
}

int roved_login_password(roved_server *srv, const char *username, const char *password,
                         const char *source, const char *via, roved_user *u)
{
    memset(u, 0, sizeof(*u));
    int64_t wait = 0;
    if (roved_auth_limit_check(username, source, srv->cfg->login_max_failures, &wait) != 0) {
        roved_log_warn("login_limited", "via=%s remote=%s retry_ms=%lld", via,
                       source ? source : "-", (long long)wait);
        return ROVE_ERATELIMIT;
    }
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return ROVE_ESTORE;
    rc = roved_store_user_by_name(db, username, u);
    roved_store_read_end(srv->store, db);
    int ok = 0;
    if (rc == 0)
        ok = roved_auth_verify_password(u->password_hash, password);
    else if (rc == ROVE_ENOTFOUND)
        roved_auth_verify_dummy(password, srv->cfg->pbkdf2_iterations);
    memset(u->password_hash, 0, sizeof(u->password_hash));
    if (rc != 0 && rc != ROVE_ENOTFOUND)
        return ROVE_ESTORE;
    if (!ok) {
        int locked = roved_auth_limit_fail(username, source, srv->cfg->login_max_failures);
        roved_log_warn("login_failed", "via=%s remote=%s user=%s locked=%d", via,
                       source ? source : "-", rc == 0 ? u->id : "-", locked);
        audit_failure(srv, username, rc == 0 ? u->id : "", source, via, locked);
        memset(u, 0, sizeof(*u));
        return ROVE_EAUTH;
    }
    roved_auth_limit_success(username, source);
    return 0;
}

/* ---- device tokens ------------------------------------------------------ */

static int64_t token_lifetime_ms(const roved_config *cfg)
{
    if (cfg->device_token_test_seconds > 0)
        return (int64_t)cfg->device_token_test_seconds * 1000;
    return (int64_t)cfg->device_token_days * 86400000LL;
}

/* A new token for dev/user: t filled, token[65] and hash[65] made. */
static int token_new(const roved_config *cfg, const char *device_id, const char *user_id,
                     roved_token *t, char *token, char *hash)
{
    memset(t, 0, sizeof(*t));
    int rc = roved_auth_new_token(token, hash);
    if (rc != 0)
        return rc;
    roved_util_new_id(t->id);
    roved_util_copy(t->device_id, sizeof(t->device_id), device_id);
    roved_util_copy(t->user_id, sizeof(t->user_id), user_id);
    t->created_at = roved_util_now_ms();
    t->expires_at = t->created_at + token_lifetime_ms(cfg);
    return 0;
}

int roved_login_token_seen(roved_server *srv, const roved_device *dev, char fresh[65])
{
    fresh[0] = '\0';
    if (dev->token_id[0] == '\0')
        return 0;
    int64_t now = roved_util_now_ms();
    int first_use = dev->token_last_used_at == 0;
    int64_t life = dev->token_expires_at - dev->token_created_at;
    int due = now - dev->token_created_at >= life / 2;
    int stale = now - dev->token_last_used_at >= 60000;
    if (!first_use && !due && !stale)
        return 0;
    roved_token t;
    char token[65], hash[65];
    if (due && token_new(srv->cfg, dev->id, dev->user_id, &t, token, hash) != 0)
        return ROVE_EGENERIC;
    /* A new token must survive a crash once sent; a use stamp need not. */
    roved_db *db = NULL;
    int rc = first_use || due ? roved_store_write_begin(srv->store, &db)
                              : roved_store_write_begin_lazy(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_token_used(db, dev->token_id, now);
        /* The first use of a token proves the device holds it: the older
         * ones go. A refresh drops any earlier fresh token that never
         * arrived, so a device holds at most two valid tokens. */
        if (rc == 0 && (first_use || due))
            rc = roved_store_device_tokens_revoke(db, dev->id, dev->token_id, now, NULL);
        if (rc == 0 && due)
            rc = roved_store_token_insert(db, &t, hash);
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    if (rc == 0 && due) {
        memcpy(fresh, token, 65);
        roved_log_info("token_refreshed", "device=%s token=%s expires_at=%lld", dev->id, t.id,
                       (long long)t.expires_at);
    }
    memset(token, 0, sizeof(token));
    return rc;
}

/* ---- POST /v1/login ------------------------------------------------------ */

int roved_login_run(roved_server *srv, const void *cbor, size_t len, const char *remote,
                    rove__buf *out, rove__errinfo *err, char *user_id, char *device_id)
{
    rove__flat_field f[] = {
        {"v", 0, {0}},         {"user", 0, {0}},        {"password", 0, {0}},
        {"device_id", 0, {0}}, {"device_name", 0, {0}},
    };
    int rc = rove__flat_parse(cbor, len, f, sizeof(f) / sizeof(f[0]), err);
    if (rc != 0)
        return rc;
    if (!f[0].present || f[0].v.type != ROVE__T_INT || f[0].v.i != ROVE__PROTO_VERSION)
        return rove__err(err, ROVE_EVERSION, "protocol version must be %d",
                         ROVE__PROTO_VERSION);
    char username[64], password[256], dev_id[32], dev_name[128] = "";
    if (rove__flat_text(&f[1], username, sizeof(username)) != 0 ||
        rove__flat_text(&f[2], password, sizeof(password)) != 0)
        return rove__err(err, ROVE_EAUTH, "wrong user name or password");
    if (rove__flat_text(&f[3], dev_id, sizeof(dev_id)) != 0 ||
        !rove__id_valid(dev_id, strlen(dev_id)))
        return rove__err(err, ROVE_EBADID, "device_id must be a ULID");
    if (f[4].present && rove__flat_text(&f[4], dev_name, sizeof(dev_name)) != 0)
        return rove__err(err, ROVE_EBADVALUE, "device_name must be text of at most 127 bytes");
    roved_util_copy(device_id, 27, dev_id);

    roved_user u;
    rc = roved_login_password(srv, username, password, remote, "device", &u);
    memset(password, 0, sizeof(password));
    if (rc == ROVE_ERATELIMIT)
        return rove__err(err, rc, "too many failed logins; try again later");
    if (rc == ROVE_EAUTH)
        return rove__err(err, rc, "wrong user name or password");
    if (rc != 0)
        return rove__err(err, ROVE_ESTORE, "the store is unavailable");
    roved_util_copy(user_id, 27, u.id);
    if (u.status != ROVED_USER_ACTIVE)
        return rove__err(err, ROVE_EFORBIDDEN, "the user is %s",
                         roved_user_status_name(u.status));

    char token[65], hash[65];
    roved_token t;
    rc = token_new(srv->cfg, dev_id, u.id, &t, token, hash);
    if (rc != 0)
        return rove__err(err, ROVE_EGENERIC, "no randomness");
    roved_device d;
    memset(&d, 0, sizeof(d));
    roved_util_copy(d.id, sizeof(d.id), dev_id);
    roved_util_copy(d.user_id, sizeof(d.user_id), u.id);
    roved_util_copy(d.name, sizeof(d.name), dev_name);
    d.registered_at = t.created_at;
    roved_db *db = NULL;
    rc = roved_store_write_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_device_bind(db, &d, &t, hash);
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    if (rc == ROVE_EREVOKED) {
        memset(token, 0, sizeof(token));
        return rove__err(err, ROVE_EREVOKED, "the device has been revoked");
    }
    if (rc == ROVE_EFORBIDDEN) {
        memset(token, 0, sizeof(token));
        return rove__err(err, ROVE_EFORBIDDEN, "the device is registered to another user");
    }
    if (rc != 0) {
        memset(token, 0, sizeof(token));
        return rove__err(err, ROVE_ESTORE, "the device could not be registered");
    }
    rove__w_map(out, 8);
    rove__w_text(out, "v");
    rove__w_int(out, ROVE__PROTO_VERSION);
    rove__w_text(out, "token");
    rove__w_text(out, token);
    rove__w_text(out, "token_expires_at");
    rove__w_int(out, t.expires_at);
    rove__w_text(out, "user_id");
    rove__w_text(out, u.id);
    rove__w_text(out, "role");
    rove__w_text(out, rove__role_name(u.role));
    rove__w_text(out, "name");
    rove__w_text(out, u.name);
    rove__w_text(out, "device_id");
    rove__w_text(out, d.id);
    rove__w_text(out, "server_time");
    rove__w_int(out, roved_util_now_ms());
    memset(token, 0, sizeof(token));
    return rove__buf_status(out) ? rove__err(err, ROVE_ENOMEM, "out of memory") : 0;
}
