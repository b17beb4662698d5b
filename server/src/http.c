/*
 * CivetWeb setup, routing and response helpers (see http.h). One catch-all
 * handler dispatches on the path, so unknown routes and wrong methods get the
 * same structured errors as everything else.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "admin.h"
#include "auth.h"
#include "compress.h"
#include "delegation.h"
#include "id.h"
#include "lease.h"
#include "log.h"
#include "login.h"
#include "proto.h"
#include "routes.h"
#include "rove/errors.h"
#include "rove/version.h"
#include "scope.h"
#include "sync.h"
#include "util.h"
#include "wire.h"

/* ---- helpers ---------------------------------------------------------- */

void roved_http_send(struct mg_connection *c, int status, const char *content_type,
                     const void *body, size_t len)
{
    char clen[32];
    snprintf(clen, sizeof(clen), "%zu", len);
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", content_type, -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_send(c);
    if (len > 0)
        mg_write(c, body, len);
}

void roved_http_error(struct mg_connection *c, int code, const char *message)
{
    /* A device route or /healthz: the admin routes name their own methods. */
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *uri = ri && ri->local_uri ? ri->local_uri : "";
    roved_http_error_allow(c, code, message, strcmp(uri, "/healthz") == 0 ? "GET, HEAD" : "POST");
}

void roved_http_error_allow(struct mg_connection *c, int code, const char *message,
                            const char *allow)
{
    if (message == NULL || message[0] == '\0')
        message = rove_strerror(code);
    /* A header value must be one printable line. */
    char safe[200];
    size_t n = 0;
    for (; message[n] != '\0' && n + 1 < sizeof(safe); n++) {
        unsigned char ch = (unsigned char)message[n];
        safe[n] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    safe[n] = '\0';
    int status = rove_error_http_status(code);
    if (status < 400)
        status = 500;
    json_t *body =
        json_pack("{s:{s:s,s:s}}", "error", "code", rove_error_name(code), "message", safe);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    const char *payload = text ? text : "{\"error\":{\"code\":\"internal\"}}";
    char clen[32];
    snprintf(clen, sizeof(clen), "%zu", strlen(payload));
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", "application/json", -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_add(c, "X-Rove-Error", rove_error_name(code), -1);
    mg_response_header_add(c, "X-Rove-Error-Message", safe, -1);
    if (status == 405)
        mg_response_header_add(c, "Allow", allow, -1);
    mg_response_header_send(c);
    mg_write(c, payload, strlen(payload));
    free(text);
}

const char *roved_http_header(struct mg_connection *c, const char *name)
{
    return mg_get_header(c, name);
}

int roved_http_content_type_is(struct mg_connection *c, const char *type)
{
    const char *ct = mg_get_header(c, "Content-Type");
    if (ct == NULL)
        return 0;
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int roved_http_read_body(struct mg_connection *c, rove__buf *out, size_t max)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > max)
        return ROVE_ETOOBIG;
    if (ri->content_length > 0 && rove__buf_reserve(out, (size_t)ri->content_length) != 0)
        return ROVE_ENOMEM;
    char chunk[16384];
    for (;;) {
        int n = mg_read(c, chunk, sizeof(chunk));
        if (n < 0)
            return ROVE_EPROTO;
        if (n == 0)
            break;
        if (out->len + (size_t)n > max)
            return ROVE_ETOOBIG;
        if (rove__buf_put(out, chunk, (size_t)n) != 0)
            return ROVE_ENOMEM;
    }
    return 0;
}

/* ---- device endpoints ------------------------------------------------- */

/*
 * Frees a buffer that holds no secret (sync bodies: row data and receipts)
 * without rove__buf_free's byte-by-byte wipe, which costs more than building
 * a multi-megabyte page. Login bodies hold passwords and use rove__buf_free.
 */
static void release(rove__buf *b) { free(rove__buf_detach(b, NULL)); }

/* How large a device body may be, compressed and inflated. */
typedef struct body_limits {
    size_t raw, inflated;
    const char *raw_msg, *inflated_msg;
} body_limits;

/* Bodies of authenticated devices (sync pushes can be large). */
static const body_limits device_limits = {ROVE__MAX_BODY, ROVE__MAX_INFLATED,
                                          "request body larger than 8 MiB",
                                          "decompressed body larger than 64 MiB"};

/*
 * The login body is the only device body read before anyone is authenticated.
 * It holds a user name (< 64 bytes), a password (< 256), a device id and a
 * device name (< 128): well under 1 KiB. Small caps keep a flood of
 * unauthenticated zlib bombs from costing more than a few KiB each.
 */
static const body_limits login_limits = {4 * 1024, 16 * 1024, "login body larger than 4 KiB",
                                         "decompressed login body larger than 16 KiB"};

/* Checks headers and reads, size-checks and inflates a device body. */
static int read_device_body(struct mg_connection *c, const body_limits *lim, rove__buf *raw,
                            rove__buf *cbor, const char **msg)
{
    *msg = NULL;
    if (!roved_http_content_type_is(c, ROVED_CBOR_TYPE)) {
        *msg = "Content-Type must be " ROVED_CBOR_TYPE;
        return ROVE_EUNSUPPORTED;
    }
    const char *proto = mg_get_header(c, "X-Rove-Protocol");
    if (proto != NULL && strcmp(proto, "1") != 0) {
        *msg = "this server speaks X-Rove-Protocol 1";
        return ROVE_EVERSION;
    }
    int rc = roved_http_read_body(c, raw, lim->raw);
    if (rc == ROVE_ETOOBIG) {
        *msg = lim->raw_msg;
        return rc;
    }
    if (rc != 0) {
        *msg = "could not read the request body";
        return rc;
    }
    rc = rove__inflate(cbor, raw->ptr, raw->len, lim->inflated);
    if (rc == ROVE_ETOOBIG)
        *msg = lim->inflated_msg;
    else if (rc != 0) {
        *msg = "body is not valid zlib data";
        rc = ROVE_EPROTO;
    }
    return rc;
}

static int send_cbor(roved_server *srv, struct mg_connection *c, const rove__buf *cbor,
                     int secret)
{
    rove__buf z = ROVE__BUF_INIT;
    int rc = rove__deflate(&z, cbor->ptr, cbor->len, srv->cfg->compress_level);
    if (rc == 0) {
        roved_http_send(c, 200, ROVED_CBOR_TYPE, z.ptr, z.len);
        rc = 200;
    } else {
        roved_http_error(c, ROVE_ENOMEM, "could not compress the response");
        rc = 503;
    }
    if (secret)
        rove__buf_free(&z); /* the login answer carries the token */
    else
        release(&z);
    return rc;
}

static int handle_login(roved_server *srv, struct mg_connection *c)
{
    int64_t t0 = roved_util_now_ms();
    rove__buf raw = ROVE__BUF_INIT, cbor = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    const char *msg = NULL;
    rove__errinfo err = {0, ""};
    char user_id[27] = "", device_id[27] = "";
    int rc = read_device_body(c, &login_limits, &raw, &cbor, &msg);
    if (rc == 0) {
        rc = roved_login_run(srv, cbor.ptr, cbor.len, mg_get_request_info(c)->remote_addr,
                             &out, &err, user_id, device_id);
        msg = err.msg;
    }
    int status;
    if (rc == 0) {
        status = send_cbor(srv, c, &out, 1);
    } else {
        roved_http_error(c, rc, msg);
        status = rove_error_http_status(rc);
    }
    roved_log(rc == 0 ? ROVED_LOG_INFO : ROVED_LOG_WARN, "login",
              "remote=%s user=%s device=%s status=%d code=%s ms=%lld",
              mg_get_request_info(c)->remote_addr, user_id[0] ? user_id : "-",
              device_id[0] ? device_id : "-", status, rove_error_name(rc),
              (long long)(roved_util_now_ms() - t0));
    rove__buf_free(&raw);
    rove__buf_free(&cbor);
    rove__buf_free(&out);
    return status;
}

/*
 * Authenticates a device request (Bearer token). draining: a revoked device
 * inside its drain window is let through (sync uploads only); otherwise it
 * is refused like a revoked one. 0, or the HTTP status of the error sent.
 */
static int device_auth(roved_server *srv, struct mg_connection *c, roved_device *dev,
                       roved_user *user, int draining)
{
    memset(dev, 0, sizeof(*dev));
    memset(user, 0, sizeof(*user));
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc == 0) {
        rc = roved_auth_device(db, mg_get_header(c, "Authorization"), dev, user);
        roved_store_read_end(srv->store, db);
    }
    if (rc == 0 && !draining && dev->status != ROVED_DEVICE_ACTIVE)
        rc = ROVE_EREVOKED;
    if (rc == 0)
        return 0;
    const char *msg = rc == ROVE_EAUTH        ? "missing or unknown bearer token"
                      : rc == ROVE_EREVOKED   ? "this device has been revoked"
                      : rc == ROVE_EFORBIDDEN ? "the user is not active"
                                              : "the store is unavailable";
    roved_http_error(c, rc, msg);
    roved_log_warn("device_refused", "remote=%s device=%s code=%s",
                   mg_get_request_info(c)->remote_addr, dev->id[0] ? dev->id : "-",
                   rove_error_name(rc));
    return rove_error_http_status(rc);
}

static int handle_sync(roved_server *srv, struct mg_connection *c)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    roved_device dev;
    roved_user user;
    int refused = device_auth(srv, c, &dev, &user, 1);
    if (refused != 0)
        return refused;
    int rc = 0;
    rove__buf raw = ROVE__BUF_INIT, cbor = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    const char *msg = NULL;
    rove__errinfo err = {0, ""};
    roved_sync_stats st;
    memset(&st, 0, sizeof(st));
    rc = read_device_body(c, &device_limits, &raw, &cbor, &msg);
    size_t in_len = raw.len;
    release(&raw);
    if (rc == 0) {
        /* The response is built in a buffer sized for a typical page up front. */
        rove__buf_reserve(&out, 256 * 1024);
        rc = roved_sync_run(srv, &dev, &user, cbor.ptr, cbor.len, &out, &err, &st);
        msg = err.msg;
    }
    int status;
    if (rc == 0) {
        status = send_cbor(srv, c, &out, 0);
    } else {
        roved_http_error(c, rc, msg);
        status = rove_error_http_status(rc);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    roved_log(rc == 0 ? ROVED_LOG_INFO : ROVED_LOG_WARN, "sync",
              "device=%s user=%s status=%d code=%s in_bytes=%zu pushed=%zu applied=%zu "
              "rejected=%zu replayed=%zu pulled=%zu cursor=%lld more=%d ms=%.1f",
              dev.id, user.id, status, rove_error_name(rc), in_len, st.pushed, st.applied,
              st.rejected, st.replayed, st.pulled, (long long)st.cursor, st.more, ms);
    release(&cbor);
    release(&out);
    return status;
}

/*
 * POST /v1/wiped: a revoked device reports that it wiped its replica, with
 * its (revoked) token, which is accepted for nothing else. Recorded on the
 * device and in the audit trail.
 */
static int handle_wiped(roved_server *srv, struct mg_connection *c)
{
    roved_device dev;
    int rc = roved_sync_wiped(srv, mg_get_header(c, "Authorization"), &dev);
    if (rc != 0) {
        roved_http_error(c, rc == ROVE_ESTORE ? ROVE_ESTORE : rc,
                         rc == ROVE_ESTATE  ? "only a revoked device reports a wipe"
                         : rc == ROVE_EAUTH ? "missing or unknown bearer token"
                                            : "the report could not be stored");
        return rove_error_http_status(rc);
    }
    roved_log_info("device_wiped", "device=%s user=%s", dev.id, dev.user_id);
    rove__buf out = ROVE__BUF_INIT;
    rove__w_map(&out, 1);
    rove__w_text(&out, "wiped");
    rove__w_bool(&out, 1);
    int status = send_cbor(srv, c, &out, 0);
    rove__buf_free(&out);
    return status;
}

/* POST /v1/leases: the device's signed delegation leases (lease.h). */
static int handle_leases(roved_server *srv, struct mg_connection *c)
{
    roved_device dev;
    roved_user user;
    int refused = device_auth(srv, c, &dev, &user, 0); /* a draining device only uploads */
    if (refused != 0)
        return refused;
    int rc;
    rove__buf out = ROVE__BUF_INIT;
    rove__errinfo err = {0, ""};
    rc = roved_lease_run(srv, &user, &out, &err);
    int status;
    if (rc == 0) {
        status = send_cbor(srv, c, &out, 0);
    } else {
        roved_http_error(c, rc, err.msg);
        status = rove_error_http_status(rc);
    }
    rove__buf_free(&out);
    return status;
}

typedef struct digest_out {
    rove__buf items;
    size_t n;
    const char *section;
} digest_out;

static int digest_item(const char *table, const char *row_id, int64_t at, const char *who,
                       const char *detail, void *payload)
{
    digest_out *d = payload;
    rove__w_array(&d->items, 6);
    rove__w_text(&d->items, d->section);
    rove__w_textn(&d->items, table ? table : "", table ? strlen(table) : 0);
    rove__w_textn(&d->items, row_id ? row_id : "", row_id ? strlen(row_id) : 0);
    rove__w_int(&d->items, at);
    rove__w_textn(&d->items, who, who ? strlen(who) : 0);
    rove__w_textn(&d->items, detail, detail ? strlen(detail) : 0);
    d->n++;
    return rove__buf_status(&d->items) ? ROVE_ENOMEM : 0;
}

typedef struct latest {
    roved_delegation d;
    int found;
    int64_t now;
} latest;

static int keep_latest(const roved_delegation *d, void *payload)
{
    latest *l = payload;
    if (!l->found && d->starts_at <= l->now) {
        l->d = *d;
        l->found = 1;
    }
    return 0;
}

/* POST /v1/digest: the "while you were away" digest of the device's user,
 * for their latest leave that has started (docs/delegation-transfer.md). */
static int handle_digest(roved_server *srv, struct mg_connection *c)
{
    roved_device dev;
    roved_user user;
    int refused = device_auth(srv, c, &dev, &user, 0);
    if (refused != 0)
        return refused;
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0) {
        roved_http_error(c, ROVE_ESTORE, "the store is unavailable");
        return 500;
    }
    latest l;
    memset(&l, 0, sizeof(l));
    l.now = roved_util_now_ms();
    digest_out d = {ROVE__BUF_INIT, 0, NULL};
    rc = roved_store_delegation_list(db, user.id, keep_latest, &l);
    int64_t to = l.d.ends_at < l.now ? l.d.ends_at + l.d.grace_ms : l.now;
    for (int k = 0; rc == 0 && l.found && k < ROVED_DIGEST_NKINDS; k++) {
        d.section = roved_delegation_digest_section((roved_digest_kind)k);
        rc = roved_store_digest(db, (roved_digest_kind)k, user.id, l.d.starts_at, to, l.now,
                                digest_item, &d);
    }
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        rove__buf_free(&d.items);
        roved_http_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                         "the digest could not be built");
        return rove_error_http_status(rc);
    }
    rove__buf out = ROVE__BUF_INIT;
    rove__w_map(&out, 5);
    rove__w_text(&out, "v");
    rove__w_int(&out, ROVE__PROTO_VERSION);
    rove__w_text(&out, "delegation");
    if (l.found)
        rove__w_text(&out, l.d.id);
    else
        rove__w_null(&out);
    rove__w_text(&out, "from");
    rove__w_int(&out, l.found ? l.d.starts_at : 0);
    rove__w_text(&out, "to");
    rove__w_int(&out, l.found ? l.d.ends_at : 0);
    rove__w_text(&out, "items");
    rove__w_array(&out, d.n);
    rove__buf_put(&out, d.items.ptr, d.items.len);
    rove__buf_free(&d.items);
    int status = rove__buf_status(&out) == 0 ? send_cbor(srv, c, &out, 0) : 503;
    rove__buf_free(&out);
    return status;
}

static int history_event(int64_t id, const roved_audit *a, void *payload)
{
    digest_out *d = payload;
    (void)id;
    int late = a->diff_json != NULL && strstr(a->diff_json, "_late_sync_revoked_at") != NULL;
    rove__w_array(&d->items, 7);
    rove__w_int(&d->items, a->at);
    rove__w_textn(&d->items, a->actor_user_id, a->actor_user_id ? strlen(a->actor_user_id) : 0);
    rove__w_textn(&d->items, a->on_behalf_of, a->on_behalf_of ? strlen(a->on_behalf_of) : 0);
    rove__w_textn(&d->items, a->delegation_id, a->delegation_id ? strlen(a->delegation_id) : 0);
    rove__w_text(&d->items, a->op ? a->op : "");
    rove__w_bool(&d->items, late);
    rove__w_textn(&d->items, a->diff_json, a->diff_json ? strlen(a->diff_json) : 0);
    d->n++;
    return rove__buf_status(&d->items) ? ROVE_ENOMEM : 0;
}

/* POST /v1/history {"table", "id"}: who changed a record the device's user
 * may see, when, for whom (delegations) and whether it came late from a
 * revoked device (docs/protocol.md). */
static int handle_history(roved_server *srv, struct mg_connection *c)
{
    roved_device dev;
    roved_user user;
    int refused = device_auth(srv, c, &dev, &user, 0);
    if (refused != 0)
        return refused;
    rove__buf raw = ROVE__BUF_INIT, cbor = ROVE__BUF_INIT;
    const char *msg = NULL;
    int rc = read_device_body(c, &device_limits, &raw, &cbor, &msg);
    release(&raw);
    rove__flat_field f[] = {{"table", 0, {0}}, {"id", 0, {0}}};
    rove__errinfo err = {0, ""};
    char table[32] = "", id[32] = "";
    if (rc == 0 && (rc = rove__flat_parse(cbor.ptr, cbor.len, f, 2, &err)) != 0)
        msg = err.msg;
    if (rc == 0 && (rove__flat_text(&f[0], table, sizeof(table)) != 0 ||
                    rove__flat_text(&f[1], id, sizeof(id)) != 0)) {
        rc = ROVE_EPROTO;
        msg = "table and id are required";
    }
    release(&cbor);
    const rove__table *t = rc == 0 ? rove__schema_table(table, strlen(table)) : NULL;
    if (rc == 0 && (t == NULL || !rove__id_valid(id, strlen(id)))) {
        rc = ROVE_EBADVALUE;
        msg = "unknown table or invalid id";
    }
    if (rc != 0) {
        roved_http_error(c, rc, msg ? msg : "bad request");
        return rove_error_http_status(rc);
    }
    roved_db *db = NULL;
    digest_out d = {ROVE__BUF_INIT, 0, NULL};
    rc = roved_store_read_begin(srv->store, &db);
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    if (rc == 0) {
        rc = roved_store_row_info(db, t, id, &info);
        /* A record the user may not see answers like one that does not exist. */
        int64_t now = roved_util_now_ms();
        if (rc == 0 && !roved_scope_can_write(db, &user, t, &info, now)) {
            /* ... or one delegated to them (held until the delegation ends). */
            roved_delegation dl;
            roved_grant g;
            int held = info.account_id[0] != '\0' &&
                       roved_store_delegation_covering(db, user.id, info.account_id, 0, &dl,
                                                       &g) == 0 &&
                       strcmp(dl.status, "planned") == 0 && dl.ends_at > now;
            if (!held)
                rc = ROVE_ENOTFOUND;
        }
        if (rc == 0)
            rc = roved_store_audit_list(db, t->name, id, 1000, history_event, &d);
        roved_store_read_end(srv->store, db);
    }
    if (rc != 0) {
        rove__buf_free(&d.items);
        roved_http_error(c, rc == ROVE_ENOTFOUND ? rc : ROVE_ESTORE,
                         rc == ROVE_ENOTFOUND ? "no such record"
                                              : "the history could not be read");
        return rove_error_http_status(rc == ROVE_ENOTFOUND ? rc : ROVE_ESTORE);
    }
    rove__buf out = ROVE__BUF_INIT;
    rove__w_map(&out, 2);
    rove__w_text(&out, "v");
    rove__w_int(&out, ROVE__PROTO_VERSION);
    rove__w_text(&out, "events");
    rove__w_array(&out, d.n);
    rove__buf_put(&out, d.items.ptr, d.items.len);
    rove__buf_free(&d.items);
    int status = rove__buf_status(&out) == 0 ? send_cbor(srv, c, &out, 0) : 503;
    rove__buf_free(&out);
    return status;
}

static int handle_healthz(struct mg_connection *c, int head)
{
    char body[128], clen[16];
    int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"version\":\"%s\"}",
                     ROVE_VERSION_STRING);
    if (!head) {
        roved_http_send(c, 200, "application/json", body, (size_t)n);
        return 200;
    }
    /* HEAD: the headers of the GET answer, no body. */
    snprintf(clen, sizeof(clen), "%d", n);
    mg_response_header_start(c, 200);
    mg_response_header_add(c, "Content-Type", "application/json", -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_send(c);
    return 200;
}

/* ---- routing ---------------------------------------------------------- */

static int route(struct mg_connection *c, void *cbdata)
{
    roved_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *uri = ri->local_uri ? ri->local_uri : "";
    const char *method = ri->request_method ? ri->request_method : "";
    int is_post = strcmp(method, "POST") == 0;

    if (strcmp(uri, "/healthz") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            roved_http_error(c, ROVE_EMETHOD, "use GET");
            return 405;
        }
        return handle_healthz(c, strcmp(method, "HEAD") == 0);
    }
    /* The device endpoints (routes.h): POST only, CBOR bodies (docs/protocol.md). */
    static const struct {
        const char *uri;
        int (*handle)(roved_server *, struct mg_connection *);
    } device_endpoints[] = {
#define ROVED_DEVICE_ROW(path, handler, who) {path, handler},
        ROVED_DEVICE_ROUTES(ROVED_DEVICE_ROW)
#undef ROVED_DEVICE_ROW
    };
    for (size_t i = 0; i < sizeof(device_endpoints) / sizeof(device_endpoints[0]); i++) {
        if (strcmp(uri, device_endpoints[i].uri) != 0)
            continue;
        if (!is_post) {
            roved_http_error(c, ROVE_EMETHOD, "use POST");
            return 405;
        }
        return device_endpoints[i].handle(srv, c);
    }
    if (strncmp(uri, "/v1/admin/", 10) == 0)
        return roved_admin_handle(srv, c, method, uri + 10);
    roved_http_error(c, ROVE_ENOTFOUND, "no such endpoint");
    return 404;
}

static int log_message(const struct mg_connection *c, const char *message)
{
    (void)c;
    char clean[300];
    size_t n = 0;
    for (; message[n] && n + 1 < sizeof(clean); n++)
        clean[n] = message[n] == '"' || message[n] == '\n' ? '\'' : message[n];
    clean[n] = '\0';
    roved_log_warn("http", "civetweb=\"%s\"", clean);
    return 1;
}

/*
 * Errors CivetWeb answers by itself (a malformed request line or headers, a
 * body too large for its buffers, ...) get the same JSON body and X-Rove-Error
 * header as Rove's own, so every client sees one error format.
 */
static int http_error(struct mg_connection *c, int status, const char *message)
{
    int code;
    switch (status) {
    case 401:
        code = ROVE_EAUTH;
        break;
    case 403:
        code = ROVE_EFORBIDDEN;
        break;
    case 404:
        code = ROVE_ENOTFOUND;
        break;
    case 405:
        code = ROVE_EMETHOD;
        break;
    case 413:
    case 414:
    case 431:
        code = ROVE_ETOOBIG;
        break;
    case 415:
        code = ROVE_EUNSUPPORTED;
        break;
    case 429:
        code = ROVE_ERATELIMIT;
        break;
    case 503:
        code = ROVE_EBUSY;
        break;
    default:
        code = status >= 500 ? ROVE_EGENERIC : ROVE_EPROTO;
    }
    roved_log_warn("http_refused", "status=%d code=%s", status, rove_error_name(code));
    roved_http_error(c, code, status == 400 ? "malformed HTTP request" : message);
    return 0;
}

int roved_http_start(roved_server *srv, struct mg_context **out)
{
    const roved_config *cfg = srv->cfg;
    char ports[300], threads[16], keep_alive[16], header_timeout[16], body_timeout[16],
        body_rate[16], per_source[16];
    snprintf(ports, sizeof(ports), "%ss", cfg->listen);
    snprintf(threads, sizeof(threads), "%d", cfg->threads);
    snprintf(keep_alive, sizeof(keep_alive), "%d", cfg->keep_alive_ms);
    snprintf(header_timeout, sizeof(header_timeout), "%d", cfg->header_timeout_ms);
    snprintf(body_timeout, sizeof(body_timeout), "%d", cfg->body_timeout_ms);
    snprintf(body_rate, sizeof(body_rate), "%d", cfg->body_min_rate);
    snprintf(per_source, sizeof(per_source), "%d", cfg->max_conns_per_source);
    /* Slow and silent clients (docs/operations.md, "Slow clients"): deadlines for
     * the TLS handshake plus header and for the body, and a cap per source
     * checked before any TLS work (third_party/civetweb/0003). */
    const char *options[] = {
        "listening_ports",
        ports,
        "ssl_certificate",
        cfg->cert,
        "num_threads",
        threads,
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        keep_alive,
        "request_timeout_ms",
        header_timeout,
        "rove_body_timeout_ms",
        body_timeout,
        "rove_body_min_rate",
        body_rate,
        "rove_max_connections_per_source",
        per_source,
        "tcp_nodelay",
        "1",
        "enable_auth_domain_check",
        "no",
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.log_message = log_message;
    cb.http_error = http_error;
    struct mg_init_data init = {&cb, srv, options};
    unsigned code = 0;
    char text[256] = "";
    struct mg_error_data error = {&code, text, sizeof(text)};
    struct mg_context *ctx = mg_start2(&init, &error);
    if (ctx == NULL) {
        roved_log_error("http_start_failed", "listen=%s reason=\"%s\"", cfg->listen, text);
        fprintf(stderr, "roved: cannot serve HTTPS on %s: %s\n", cfg->listen,
                text[0] ? text : "unknown error");
        return ROVE_EINVAL;
    }
    mg_set_request_handler(ctx, "/", route, srv);
    *out = ctx;
    return 0;
}

void roved_http_stop(struct mg_context *ctx)
{
    if (ctx != NULL)
        mg_stop(ctx);
}
