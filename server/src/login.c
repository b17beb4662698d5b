/* Device login (see login.h). */
#include "login.h"

#include <string.h>

#include "auth.h"
#include "id.h"
#include "rove/errors.h"
#include "util.h"
#include "wire.h"

int roved_login_run(roved_server *srv, const void *cbor, size_t len, rove__buf *out,
                    rove__errinfo *err, char *user_id, char *device_id)
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

    if (!roved_auth_limit_ok(username, srv->cfg->login_max_failures)) {
        memset(password, 0, sizeof(password));
        return rove__err(err, ROVE_ERATELIMIT, "too many failed logins; try again later");
    }
    roved_user u;
    roved_db *db = NULL;
    rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0) {
        memset(password, 0, sizeof(password));
        return rove__err(err, ROVE_ESTORE, "the store is unavailable");
    }
    rc = roved_store_user_by_name(db, username, &u);
    roved_store_read_end(srv->store, db);
    int ok = 0;
    if (rc == 0)
        ok = roved_auth_verify_password(u.password_hash, password);
    else if (rc == ROVE_ENOTFOUND)
        roved_auth_verify_dummy(password, srv->cfg->pbkdf2_iterations);
    memset(password, 0, sizeof(password));
    memset(u.password_hash, 0, sizeof(u.password_hash));
    if (rc != 0 && rc != ROVE_ENOTFOUND)
        return rove__err(err, ROVE_ESTORE, "the store is unavailable");
    if (!ok) {
        roved_auth_limit_fail(username);
        return rove__err(err, ROVE_EAUTH, "wrong user name or password");
    }
    roved_util_copy(user_id, 27, u.id);
    if (u.status != ROVED_USER_ACTIVE)
        return rove__err(err, ROVE_EFORBIDDEN, "the user is %s",
                         roved_user_status_name(u.status));
    roved_auth_limit_reset(username);

    char token[65], hash[65];
    rc = roved_auth_new_token(token, hash);
    if (rc != 0)
        return rove__err(err, ROVE_EGENERIC, "no randomness");
    roved_device d;
    memset(&d, 0, sizeof(d));
    roved_util_copy(d.id, sizeof(d.id), dev_id);
    roved_util_copy(d.user_id, sizeof(d.user_id), u.id);
    roved_util_copy(d.name, sizeof(d.name), dev_name);
    d.registered_at = roved_util_now_ms();
    rc = roved_store_write_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_device_bind(db, &d, hash);
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
    rove__w_map(out, 7);
    rove__w_text(out, "v");
    rove__w_int(out, ROVE__PROTO_VERSION);
    rove__w_text(out, "token");
    rove__w_text(out, token);
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
