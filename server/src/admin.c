/* The admin JSON API (see admin.h). */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"

#define MAX_JSON_BODY (64 * 1024)

int roved_admin_send_json(struct mg_connection *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) {
        roved_http_error(c, ROVE_ENOMEM, "out of memory");
        return 503;
    }
    roved_http_send(c, status, "application/json", text, strlen(text));
    free(text);
    return status;
}

int roved_admin_error(struct mg_connection *c, int code, const char *msg)
{
    roved_http_error(c, code, msg);
    return rove_error_http_status(code);
}

json_t *roved_admin_read_json(struct mg_connection *c, int *code, const char **msg)
{
    if (!roved_http_content_type_is(c, "application/json")) {
        *code = ROVE_EUNSUPPORTED;
        *msg = "Content-Type must be application/json";
        return NULL;
    }
    rove__buf body = ROVE__BUF_INIT;
    int rc = roved_http_read_body(c, &body, MAX_JSON_BODY);
    if (rc != 0) {
        rove__buf_free(&body);
        *code = rc == ROVE_ETOOBIG ? rc : ROVE_EPROTO;
        *msg = rc == ROVE_ETOOBIG ? "body larger than 64 KiB" : "could not read the body";
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
    rove__buf_free(&body);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        *code = ROVE_EPROTO;
        *msg = "body must be a JSON object";
        return NULL;
    }
    return j;
}

int roved_admin_valid_id(const char *s)
{
    if (s == NULL || strlen(s) != 26)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

int64_t roved_admin_number_id(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    return (end != s && *end == '\0' && v > 0) ? (int64_t)v : 0;
}

int roved_admin_send_first(struct mg_connection *c, json_t *arr, const char *missing)
{
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return roved_admin_error(c, ROVE_ENOTFOUND, missing);
    }
    json_t *e = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return roved_admin_send_json(c, 200, e);
}

int roved_admin_audit(roved_db *db, const roved_user *actor, const char *table,
                      const char *row_id, const char *op, json_t *diff, int64_t now)
{
    char *text = json_dumps(diff, JSON_COMPACT);
    if (text == NULL)
        return ROVE_ENOMEM;
    roved_audit a = {now, actor->id, NULL, table, row_id, op, 0, text, NULL, NULL};
    int rc = roved_store_audit_put(db, &a);
    free(text);
    return rc;
}

static int add_audit_json(int64_t id, const roved_audit *a, void *payload)
{
    json_error_t err;
    json_t *diff = json_loads(a->diff_json ? a->diff_json : "{}", 0, &err);
    json_t *o = json_pack("{s:I,s:I,s:s?,s:s?,s:s?,s:o?,s:s?,s:s?}", "id", (json_int_t)id, "at",
                          (json_int_t)a->at, "actor", a->actor_user_id, "device", a->device_id,
                          "op", a->op, "changes", diff, "on_behalf_of", a->on_behalf_of,
                          "delegation", a->delegation_id);
    return o && json_array_append_new(payload, o) == 0 ? 0 : ROVE_ENOMEM;
}

/* GET audit?table=T&record=ID: one record's audit trail, oldest first. A
 * manager reads the trails of records they reach; other subjects (users,
 * devices, leaves, transfers) are for admins. */
int roved_admin_audit_list(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                           const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *q = ri->query_string ? ri->query_string : "";
    char table[32] = "", record[64] = "";
    mg_get_var(q, strlen(q), "table", table, sizeof(table));
    mg_get_var(q, strlen(q), "record", record, sizeof(record));
    if (!roved_admin_valid_id(record) || table[0] == '\0')
        return roved_admin_error(c, ROVE_EBADVALUE, "table and record (an id) are required");
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    json_t *arr = json_array();
    int rc = roved_admin_reaches_row(db, actor, table, record, roved_util_now_ms())
                 ? roved_store_audit_list(db, table, record, 1000, add_audit_json, arr)
                 : ROVE_ENOTFOUND;
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return rc == ROVE_ENOTFOUND
                   ? roved_admin_error(c, rc, "no such record")
                   : roved_admin_error(c, ROVE_ESTORE, "the audit trail could not be read");
    }
    return roved_admin_send_json(c, 200, json_pack("{s:o}", "events", arr));
}

/* The session's user, who must be an active manager or admin. */
static int session_user(roved_server *srv, struct mg_connection *c, roved_user *u)
{
    char hash[65], user_id[27];
    int rc = roved_auth_bearer_hash(roved_http_header(c, "Authorization"), hash);
    if (rc != 0)
        return rc;
    roved_db *db = NULL;
    rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return rc;
    rc = roved_store_session_user(db, hash, roved_util_now_ms(), user_id);
    if (rc == 0)
        rc = roved_store_user_by_id(db, user_id, u);
    roved_store_read_end(srv->store, db);
    if (rc == ROVE_ENOTFOUND)
        return ROVE_EAUTH;
    if (rc != 0)
        return rc;
    memset(u->password_hash, 0, sizeof(u->password_hash));
    if (u->status != ROVED_USER_ACTIVE ||
        (u->role != ROVE__ROLE_ADMIN && u->role != ROVE__ROLE_MANAGER))
        return ROVE_EFORBIDDEN;
    return 0;
}

static int do_login(roved_server *srv, struct mg_connection *c)
{
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *username = json_string_value(json_object_get(j, "user"));
    const char *password = json_string_value(json_object_get(j, "password"));
    if (username == NULL || password == NULL || strlen(username) >= 64) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EPROTO, "want {\"user\": ..., \"password\": ...}");
    }
    if (!roved_auth_limit_ok(username, srv->cfg->login_max_failures)) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ERATELIMIT, "too many failed logins; try again later");
    }
    roved_user u;
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_user_by_name(db, username, &u);
        roved_store_read_end(srv->store, db);
    }
    int ok = 0;
    if (rc == 0)
        ok = roved_auth_verify_password(u.password_hash, password);
    else if (rc == ROVE_ENOTFOUND)
        roved_auth_verify_dummy(password, srv->cfg->pbkdf2_iterations);
    char name_copy[64];
    roved_util_copy(name_copy, sizeof(name_copy), username);
    json_decref(j); /* also drops the password text */
    if (rc != 0 && rc != ROVE_ENOTFOUND)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    if (!ok) {
        roved_auth_limit_fail(name_copy);
        roved_log_warn("admin_login", "status=401");
        return roved_admin_error(c, ROVE_EAUTH, "wrong user name or password");
    }
    if (u.status != ROVED_USER_ACTIVE ||
        (u.role != ROVE__ROLE_ADMIN && u.role != ROVE__ROLE_MANAGER))
        return roved_admin_error(c, ROVE_EFORBIDDEN,
                                 "only active managers and admins may use this API");
    roved_auth_limit_reset(name_copy);
    char token[65], hash[65];
    if (roved_auth_new_token(token, hash) != 0)
        return roved_admin_error(c, ROVE_EGENERIC, "no randomness");
    int64_t expires = roved_util_now_ms() + (int64_t)srv->cfg->admin_session_hours * 3600000;
    rc = roved_store_write_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_session_insert(db, hash, u.id, expires);
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    if (rc != 0) {
        memset(token, 0, sizeof(token));
        return roved_admin_error(c, ROVE_ESTORE, "the session could not be stored");
    }
    roved_log_info("admin_login", "user=%s status=200", u.id);
    json_t *out =
        json_pack("{s:s,s:I,s:s,s:s}", "token", token, "expires_at", (json_int_t)expires,
                  "user_id", u.id, "role", rove__role_name(u.role));
    memset(token, 0, sizeof(token));
    return roved_admin_send_json(c, 200, out);
}

static json_t *user_json(const roved_user *u)
{
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", u->id, "username", u->username, "name",
                  u->name, "role", rove__role_name(u->role), "status",
                  roved_user_status_name(u->status), "created_at", (json_int_t)u->created_at);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "home_territory_id",
                        u->home_territory_id[0] ? json_string(u->home_territory_id)
                                                : json_null());
    json_object_set_new(o, "manager_id",
                        u->manager_id[0] ? json_string(u->manager_id) : json_null());
    json_object_set_new(o, "skills", u->skills[0] ? json_string(u->skills) : json_null());
    return o;
}

static int add_user(const roved_user *u, void *payload)
{
    roved_admin_lister *l = payload;
    if (!roved_admin_manages_user(l->db, l->actor, u, l->now))
        return 0;
    return json_array_append_new(l->arr, user_json(u)) == 0 ? 0 : ROVE_ENOMEM;
}

static int add_device(const roved_device *d, void *payload)
{
    roved_admin_lister *l = payload;
    if (!roved_admin_reaches_user_id(l->db, l->actor, d->user_id, l->now))
        return 0;
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", d->id, "user_id", d->user_id, "name",
                  d->name, "status", d->status == ROVED_DEVICE_ACTIVE ? "active" : "revoked",
                  "registered_at", (json_int_t)d->registered_at, "last_sync_at",
                  (json_int_t)d->last_sync_at, "last_cursor", (json_int_t)d->last_cursor);
    if (o != NULL && d->status != ROVED_DEVICE_ACTIVE) {
        json_object_set_new(o, "revoked_at", json_integer(d->revoked_at));
        json_object_set_new(o, "drain_until", json_integer(d->drain_until));
        json_object_set_new(o, "wiped_at",
                            d->wiped_at ? json_integer(d->wiped_at) : json_null());
    }
    return json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

/* GET users and GET devices: those of the people the actor reaches. */
int roved_admin_people_list(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int users)
{
    (void)arg;
    roved_admin_lister l = {NULL, actor, roved_util_now_ms(), json_array()};
    int rc = roved_store_read_begin(srv->store, &l.db);
    if (rc == 0) {
        rc = users ? roved_store_user_list(l.db, add_user, &l)
                   : roved_store_device_list(l.db, add_device, &l);
        roved_store_read_end(srv->store, l.db);
    }
    if (rc != 0) {
        json_decref(l.arr);
        return roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                 "the list could not be read");
    }
    return roved_admin_send_json(c, 200,
                                 json_pack("{s:o}", users ? "users" : "devices", l.arr));
}

int roved_admin_users_create(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *username = json_string_value(json_object_get(j, "username"));
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *role = json_string_value(json_object_get(j, "role"));
    const char *password = json_string_value(json_object_get(j, "password"));
    const char *home = json_string_value(json_object_get(j, "home_territory_id"));
    const char *manager = json_string_value(json_object_get(j, "manager_id"));
    const char *skills = json_string_value(json_object_get(j, "skills"));
    roved_user u;
    memset(&u, 0, sizeof(u));
    const char *bad = NULL;
    if (username == NULL || username[0] == '\0' || strlen(username) >= sizeof(u.username))
        bad = "username is required (at most 63 bytes)";
    else if (name == NULL || strlen(name) >= sizeof(u.name))
        bad = "name is required (at most 127 bytes)";
    else if (rove__role_from_name(role) == 0)
        bad = "role must be rep, technician, manager or admin";
    else if (password == NULL || strlen(password) < 8 || strlen(password) > 200)
        bad = "password must be 8 to 200 bytes";
    else if ((home && strlen(home) > 26) || (manager && strlen(manager) > 26) ||
             (skills && strlen(skills) >= sizeof(u.skills)))
        bad = "home_territory_id, manager_id or skills too long";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }
    roved_util_new_id(u.id);
    roved_util_copy(u.username, sizeof(u.username), username);
    roved_util_copy(u.name, sizeof(u.name), name);
    u.role = rove__role_from_name(role);
    u.status = ROVED_USER_ACTIVE;
    roved_util_copy(u.home_territory_id, sizeof(u.home_territory_id), home);
    roved_util_copy(u.manager_id, sizeof(u.manager_id), manager);
    roved_util_copy(u.skills, sizeof(u.skills), skills);
    u.created_at = roved_util_now_ms();
    int rc = roved_auth_hash_password(u.password_hash, sizeof(u.password_hash), password,
                                      srv->cfg->pbkdf2_iterations);
    json_decref(j);
    if (rc != 0)
        return roved_admin_error(c, ROVE_EGENERIC, "could not hash the password");
    roved_db *db = NULL;
    rc = roved_store_write_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_store_user_insert(db, &u);
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    memset(u.password_hash, 0, sizeof(u.password_hash));
    if (rc == ROVE_EEXISTS)
        return roved_admin_error(c, ROVE_EEXISTS, "user name taken, or unknown manager");
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the user could not be stored");
    roved_log_info("admin_user_created", "actor=%s user=%s role=%s", actor->id, u.id,
                   rove__role_name(u.role));
    return roved_admin_send_json(c, 201, user_json(&u));
}

int roved_admin_stats(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                      const char *const *arg, int variant)
{
    (void)variant;
    (void)actor;
    (void)arg;
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_stats s;
    json_t *tables = json_object();
    rc = roved_store_stats(db, &s);
    size_t nt;
    const rove__table *t = rove__schema_tables(&nt);
    for (size_t i = 0; i < nt && rc == 0; i++) {
        int64_t live = 0, dead = 0;
        rc = roved_store_row_count(db, &t[i], &live, &dead);
        json_object_set_new(
            tables, t[i].name,
            json_pack("{s:I,s:I}", "live", (json_int_t)live, "tombstones", (json_int_t)dead));
    }
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(tables);
        return roved_admin_error(c, ROVE_ESTORE, "statistics could not be read");
    }
    return roved_admin_send_json(
        c, 200,
        json_pack("{s:o,s:I,s:I,s:I,s:I,s:I}", "tables", tables, "users", (json_int_t)s.users,
                  "devices", (json_int_t)s.devices, "receipts", (json_int_t)s.receipts,
                  "audit_events", (json_int_t)s.audit, "version", (json_int_t)s.version));
}

/* POST devices/<id>/revoke and users/<username>/status {"status": ...}: admin only. */
int roved_admin_set_status(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                           const char *const *arg, int device)
{
    const char *key = arg[0];
    int status = ROVED_DEVICE_REVOKED;
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    /* A revoked device may upload (receiving nothing) during its drain. */
    int64_t now = roved_util_now_ms();
    int64_t drain_ms = (int64_t)srv->cfg->drain_hours * 3600 * 1000;
    json_t *ds = json_object_get(j, "drain_seconds");
    if (device && ds != NULL) {
        if (!json_is_integer(ds) || json_integer_value(ds) < 0 ||
            json_integer_value(ds) > 30 * 86400) {
            json_decref(j);
            return roved_admin_error(c, ROVE_EBADVALUE,
                                     "drain_seconds must be an integer from 0 to 2592000");
        }
        drain_ms = (int64_t)json_integer_value(ds) * 1000;
    }
    if (!device) {
        status = roved_user_status_parse(json_string_value(json_object_get(j, "status")));
        if (status < 0) {
            json_decref(j);
            return roved_admin_error(c, ROVE_EBADVALUE,
                                     "status must be active, frozen or deactivated");
        }
    }
    json_decref(j);
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc == 0) {
        rc = device ? roved_store_device_revoke(db, key, now, now + drain_ms)
                    : roved_store_user_set_status(db, key, status);
        if (rc == 0) {
            json_t *diff = device
                               ? json_pack("{s:I,s:I}", "revoked_at", (json_int_t)now,
                                           "drain_until", (json_int_t)(now + drain_ms))
                               : json_pack("{s:s}", "status", roved_user_status_name(status));
            rc = diff ? roved_admin_audit(db, actor, device ? "device" : "user", key,
                                          device ? "device_revoke" : "user_status", diff, now)
                      : ROVE_ENOMEM;
            json_decref(diff);
        }
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    if (rc == ROVE_ENOTFOUND)
        return roved_admin_error(c, rc, device ? "no such device" : "no such user");
    if (rc == ROVE_ESTATE)
        return roved_admin_error(c, rc, "the device is revoked already");
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    roved_log_info(device ? "admin_device_revoked" : "admin_user_status", "actor=%s %s=%s%s%s",
                   actor->id, device ? "device" : "username", key,
                   device ? "" : " status=", device ? "" : roved_user_status_name(status));
    json_t *answer = json_pack("{s:s,s:s}", device ? "device_id" : "username", key, "status",
                               device ? "revoked" : roved_user_status_name(status));
    if (device)
        json_object_set_new(answer, "drain_until", json_integer(now + drain_ms));
    return roved_admin_send_json(c, 200, answer);
}

int roved_admin_login(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                      const char *const *arg, int variant)
{
    (void)actor;
    (void)arg;
    (void)variant;
    return do_login(srv, c);
}

/* ---- dispatch ------------------------------------------------------------ */

enum { WHO_ANYONE, WHO_MANAGER, WHO_ADMIN };

static const struct route {
    const char *method, *pattern;
    int who;
    roved_admin_handler *handle;
    int variant;
} routes[] = {
#define ROVED_ADMIN_ROW(method, pattern, who, handler, variant)                                \
    {#method, pattern, WHO_##who, handler, variant},
    ROVED_ADMIN_ROUTES(ROVED_ADMIN_ROW)
#undef ROVED_ADMIN_ROW
};

#define MAX_SEGMENTS 6
#define MAX_SEGMENT 128

/* Splits path at '/' into seg (copies in buf): the count, or -1 when a
 * segment is empty, too long, or there are too many. */
static int split(const char *path, char buf[MAX_SEGMENTS][MAX_SEGMENT], const char **seg)
{
    int n = 0;
    for (const char *p = path;; n++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == MAX_SEGMENTS || len == 0 || len >= MAX_SEGMENT)
            return -1;
        memcpy(buf[n], p, len);
        buf[n][len] = '\0';
        seg[n] = buf[n];
        if (slash == NULL)
            return n + 1;
        p = slash + 1;
    }
}

/* 1 when the path's segments fit pattern; the ":name" segments go to arg. */
static int fits(const char *pattern, const char **seg, int n, const char **arg)
{
    int k = 0, nargs = 0;
    for (const char *p = pattern; k < n; k++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (p[0] == ':')
            arg[nargs++] = seg[k];
        else if (strlen(seg[k]) != len || strncmp(seg[k], p, len) != 0)
            return 0;
        if (slash == NULL)
            return k + 1 == n;
        p = slash + 1;
    }
    return 0;
}

int roved_admin_handle(roved_server *srv, struct mg_connection *c, const char *method,
                       const char *path)
{
    char buf[MAX_SEGMENTS][MAX_SEGMENT];
    const char *seg[MAX_SEGMENTS], *arg[MAX_SEGMENTS] = {NULL};
    int n = split(path, buf, seg);
    const struct route *hit = NULL;
    char allow[64] = "";
    for (size_t i = 0; n > 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!fits(routes[i].pattern, seg, n, arg))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            hit = &routes[i];
            break;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "",
                 routes[i].method);
    }
    roved_user actor;
    memset(&actor, 0, sizeof(actor));
    if (hit == NULL || hit->who != WHO_ANYONE) {
        int rc = session_user(srv, c, &actor);
        if (rc != 0)
            return roved_admin_error(
                c, rc,
                rc == ROVE_EAUTH        ? "missing, unknown or expired session token"
                : rc == ROVE_EFORBIDDEN ? "only active managers and admins may use this API"
                                        : "the store is unavailable");
    }
    if (hit == NULL && allow[0] != '\0') {
        roved_http_error_allow(c, ROVE_EMETHOD, "method not allowed", allow);
        return 405;
    }
    if (hit == NULL)
        return roved_admin_error(c, ROVE_ENOTFOUND, "no such endpoint");
    if (hit->who == WHO_ADMIN && actor.role != ROVE__ROLE_ADMIN)
        return roved_admin_error(c, ROVE_EFORBIDDEN, "only admins may do this");
    return hit->handle(srv, c, &actor, arg, hit->variant);
}
