/* The client handle: open/close, error detail, login and small accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "compress.h"
#include "id.h"
#include "internal.h"
#include "wire.h"

static _Thread_local char open_error[512];

int rove_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : ROVE_ENOMEM;
}

void rove_global_cleanup(void) { curl_global_cleanup(); }

const char *rove_version(void) { return ROVE_VERSION_STRING; }

int64_t rove_client_cursor(const rove_client *c) { return c ? c->cursor : 0; }

const char *rove_last_open_error(void) { return open_error; }

int rove__client_error(rove_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    c->last_error = code;
    return code;
}

void rove__client_clear_error(rove_client *c)
{
    c->errmsg[0] = 0;
    c->last_error = 0;
}

const char *rove_client_errmsg(const rove_client *c)
{
    if (c == NULL)
        return "no client";
    if (c->errmsg[0] != 0)
        return c->errmsg;
    return rove_strerror(c->last_error);
}

const char *rove__client_scratch(rove_client *c, const char *s)
{
    free(c->scratch);
    c->scratch = NULL;
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    c->scratch = malloc(n);
    if (c->scratch != NULL)
        memcpy(c->scratch, s, n);
    return c->scratch;
}

static char *dup_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void free_secret(char **p)
{
    if (*p != NULL) {
        rove__platform_zero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void rove__client_set_token(rove_client *c, char *token, char *discard)
{
    if (token != NULL) {
        free_secret(&c->token);
        c->token = token;
    }
    free_secret(&discard);
}

int rove_client_open(rove_client **out, const rove_client_options *opts)
{
    rove_client *c = NULL;
    int rc;
    char err[512];
    err[0] = 0;
    open_error[0] = 0;
    if (out == NULL || opts == NULL) {
        snprintf(open_error, sizeof(open_error), "out and opts are required");
        return ROVE_EINVAL;
    }
    *out = NULL;
    if (opts->version != ROVE_CLIENT_OPTIONS_VERSION) {
        snprintf(open_error, sizeof(open_error), "unknown options version %u", opts->version);
        return ROVE_EVERSION;
    }
    if (opts->db_path == NULL || opts->db_path[0] == 0) {
        snprintf(open_error, sizeof(open_error), "db_path is required");
        return ROVE_EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = ROVE_ENOMEM;
        goto cleanup;
    }
    c->db_path = dup_str(opts->db_path);
    c->server_url = dup_str(opts->server_url);
    c->ca_file = dup_str(opts->ca_file);
    c->pinned_pubkey = dup_str(opts->pinned_pubkey);
    c->device_name = dup_str(opts->device_name ? opts->device_name : "librove");
    if (!c->db_path || (opts->server_url && !c->server_url) || (opts->ca_file && !c->ca_file) ||
        (opts->pinned_pubkey && !c->pinned_pubkey) || !c->device_name) {
        rc = ROVE_ENOMEM;
        goto cleanup;
    }
    /* Trailing slashes would give "//v1/sync". */
    if (c->server_url != NULL) {
        size_t n = strlen(c->server_url);
        while (n > 0 && c->server_url[n - 1] == '/')
            c->server_url[--n] = 0;
    }
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    /* Fewer, larger pages cost the server less per row; 5000 rows keep the
     * SDK's peak memory during a bootstrap well under 32 MB. */
    c->page_size = opts->page_size == 0 ? 5000 : opts->page_size;
    if (c->page_size > ROVE__MAX_PAGE)
        c->page_size = ROVE__MAX_PAGE;
    c->push_batch = opts->push_batch == 0 ? 500 : opts->push_batch;
    if (c->push_batch > ROVE__MAX_CHANGES)
        c->push_batch = ROVE__MAX_CHANGES;

    if ((rc = rove__rng_new(&c->rng, "librove device")) != 0) {
        snprintf(err, sizeof(err), "cannot seed the random generator");
        goto cleanup;
    }
    if ((rc = rove__replica_open(c, err, sizeof(err))) != 0)
        goto cleanup;
    *out = c;
    c = NULL;
    rc = 0;

cleanup:
    if (rc != 0) {
        snprintf(open_error, sizeof(open_error), "%s", err[0] ? err : rove_strerror(rc));
        rove_client_free(c);
    }
    return rc;
}

void rove_client_free(rove_client *c)
{
    if (c == NULL)
        return;
    rove__replica_close(c);
    rove__transport_free(c->transport);
    rove__rng_free(c->rng);
    rove__buf_free(&c->tx_body);
    rove__buf_free(&c->rx_raw);
    free_secret(&c->token);
    free(c->db_path);
    free(c->server_url);
    free(c->ca_file);
    free(c->pinned_pubkey);
    free(c->device_name);
    free(c->user_id);
    free(c->user_name);
    free(c->user_login);
    free(c->role);
    free(c->scratch);
    rove__platform_zero(c, sizeof(*c));
    free(c);
}

int rove_client_logged_in(const rove_client *c)
{
    return c != NULL && c->token != NULL && c->token[0] != 0;
}

const char *rove_client_user_id(const rove_client *c) { return c ? c->user_id : NULL; }

const char *rove_client_user_name(const rove_client *c) { return c ? c->user_name : NULL; }

const char *rove_client_role(const rove_client *c) { return c ? c->role : NULL; }

const char *rove_client_device_id(const rove_client *c) { return c ? c->device_id : NULL; }

void rove_client_on_progress(rove_client *c, rove_progress_cb cb, void *payload)
{
    c->progress_cb = cb;
    c->progress_payload = payload;
}

void rove_client_on_receipt(rove_client *c, rove_receipt_cb cb, void *payload)
{
    c->receipt_cb = cb;
    c->receipt_payload = payload;
}

void rove_client_on_evict(rove_client *c, rove_evict_cb cb, void *payload)
{
    c->evict_cb = cb;
    c->evict_payload = payload;
}

/* ---- network helpers shared with sync.c -------------------------------- */

void rove__client_set_post_hook(rove_client *c, rove__post_hook fn, void *ud)
{
    c->post_hook = fn;
    c->post_hook_ud = ud;
}

int rove__client_post(rove_client *c, const char *path, const rove__buf *cbor, rove__buf *out,
                      int with_token)
{
    rove__buf url = ROVE__BUF_INIT;
    rove__buf *body = &c->tx_body, *raw = &c->rx_raw;
    rove__http_result res;
    char detail[CURL_ERROR_SIZE + 64];
    int rc;

    if (c->server_url == NULL || c->server_url[0] == 0)
        return rove__client_error(c, ROVE_EINVAL, "no server URL configured");
    if (c->transport == NULL && c->post_hook == NULL) {
        rove__transport_opts o = {c->ca_file, c->pinned_pubkey, c->timeout_ms};
        if ((rc = rove__transport_new(&c->transport, &o)) != 0)
            return rove__client_error(c, rc, "cannot create the HTTP transport");
    }
    rove__buf_printf(&url, "%s%s", c->server_url, path);
    if ((rc = rove__buf_status(&url)) != 0)
        goto cleanup;
    rove__buf_clear(body);
    rove__buf_clear(raw);
    if ((rc = rove__deflate(body, cbor->ptr, cbor->len, 1)) != 0) {
        rove__client_error(c, rc, "cannot compress the request");
        goto cleanup;
    }
    detail[0] = 0;
    memset(&res, 0, sizeof(res));
    if (c->post_hook != NULL) {
        rc = c->post_hook(c->post_hook_ud, path, with_token ? c->token : NULL, body->ptr,
                          body->len, raw, &res);
        if (rc != 0)
            snprintf(detail, sizeof(detail), "test transport: %s", rove_strerror(rc));
    } else {
        rc = rove__transport_post(c->transport, (const char *)url.ptr,
                                  with_token ? c->token : NULL, body->ptr, body->len, raw, &res,
                                  detail, sizeof(detail));
    }
    if (rc != 0) {
        rove__client_error(c, rc, "%s: %s", (const char *)url.ptr, detail);
        goto cleanup;
    }
    if (res.status != 200) {
        rc = rove__transport_status_error(&res);
        rove__client_error(c, rc, "server answered %ld %s%s%s", res.status,
                           res.error_name[0] ? res.error_name : "",
                           res.error_message[0] ? ": " : "", res.error_message);
        goto cleanup;
    }
    if ((rc = rove__inflate(out, raw->ptr, raw->len, ROVE__MAX_INFLATED)) != 0) {
        rove__client_error(c, rc == ROVE_ETOOBIG ? ROVE_ETOOBIG : ROVE_EPROTO,
                           "cannot decompress the server's answer (%s)", rove_strerror(rc));
        rc = rc == ROVE_ETOOBIG ? ROVE_ETOOBIG : ROVE_EPROTO;
        goto cleanup;
    }

cleanup:
    rove__buf_free(&url);
    rove__buf_clear(body);
    rove__buf_clear(raw);
    if (rc == ROVE_ENOMEM && c->errmsg[0] == 0)
        rove__client_error(c, rc, "out of memory");
    return rc;
}

/* ---- login ------------------------------------------------------------- */

static int field_dup(const rove__flat_field *f, char **dst)
{
    if (!f->present || f->v.type != ROVE__T_TEXT)
        return ROVE_EPROTO;
    char *d = malloc(f->v.len + 1);
    if (d == NULL)
        return ROVE_ENOMEM;
    memcpy(d, f->v.s, f->v.len);
    d[f->v.len] = 0;
    *dst = d;
    return 0;
}

int rove_client_login(rove_client *c, const char *user, const char *password)
{
    rove__buf req = ROVE__BUF_INIT, resp = ROVE__BUF_INIT;
    char *token = NULL, *uid = NULL, *role = NULL, *name = NULL;
    int rc;

    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (user == NULL || user[0] == 0 || password == NULL)
        return rove__client_error(c, ROVE_EINVAL, "user and password are required");
    /* A replica holds one person's data; another user must start afresh. */
    if (c->user_login != NULL && strcmp(c->user_login, user) != 0)
        return rove__client_error(c, ROVE_EFORBIDDEN,
                                  "this replica belongs to another user; wipe it first");

    rove__w_map(&req, 5);
    rove__w_text(&req, "v");
    rove__w_int(&req, ROVE__PROTO_VERSION);
    rove__w_text(&req, "user");
    rove__w_text(&req, user);
    rove__w_text(&req, "password");
    rove__w_text(&req, password);
    rove__w_text(&req, "device_id");
    rove__w_text(&req, c->device_id);
    rove__w_text(&req, "device_name");
    rove__w_text(&req, c->device_name);
    if ((rc = rove__buf_status(&req)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    if ((rc = rove__client_post(c, "/v1/login", &req, &resp, 0)) != 0)
        goto cleanup;

    rove__flat_field f[] = {{"v", 0, {0}},          {"token", 0, {0}}, {"user_id", 0, {0}},
                            {"role", 0, {0}},       {"name", 0, {0}},  {"device_id", 0, {0}},
                            {"server_time", 0, {0}}};
    rove__errinfo ei = {0};
    if ((rc = rove__flat_parse(resp.ptr, resp.len, f, sizeof(f) / sizeof(f[0]), &ei)) != 0) {
        rove__client_error(c, ROVE_EPROTO, "login answer: %s", ei.msg);
        rc = ROVE_EPROTO;
        goto cleanup;
    }
    if (f[0].present && f[0].v.type == ROVE__T_INT && f[0].v.i != ROVE__PROTO_VERSION) {
        rc = rove__client_error(c, ROVE_EVERSION, "server speaks protocol %lld",
                                (long long)f[0].v.i);
        goto cleanup;
    }
    if ((rc = field_dup(&f[1], &token)) != 0 || (rc = field_dup(&f[2], &uid)) != 0) {
        rove__client_error(c, rc, "login answer lacks token or user_id");
        goto cleanup;
    }
    if (f[3].present && (rc = field_dup(&f[3], &role)) != 0)
        goto cleanup;
    if (f[4].present && (rc = field_dup(&f[4], &name)) != 0)
        goto cleanup;
    if (c->user_id != NULL && strcmp(c->user_id, uid) != 0) {
        rc = rove__client_error(c, ROVE_EFORBIDDEN,
                                "this replica belongs to another user; wipe it first");
        goto cleanup;
    }

    if ((rc = rove__replica_begin(c)) != 0)
        goto cleanup;
    if ((rc = rove__meta_set_text(c, "token", token)) != 0 ||
        (rc = rove__meta_set_text(c, "user_id", uid)) != 0 ||
        (rc = rove__meta_set_text(c, "user_login", user)) != 0 ||
        (rc = rove__meta_set_text(c, "user_name", name ? name : user)) != 0 ||
        (rc = rove__meta_set_text(c, "role", role)) != 0 ||
        (c->server_url && (rc = rove__meta_set_text(c, "server_url", c->server_url)) != 0)) {
        rove__replica_rollback(c);
        goto cleanup;
    }
    if ((rc = rove__replica_commit(c)) != 0)
        goto cleanup;

    free_secret(&c->token);
    c->token = token;
    token = NULL;
    free(c->user_id);
    c->user_id = uid;
    uid = NULL;
    free(c->role);
    c->role = role;
    role = NULL;
    free(c->user_name);
    c->user_name = name ? name : dup_str(user);
    name = NULL;
    free(c->user_login);
    c->user_login = dup_str(user);

cleanup:
    rove__buf_free(&req); /* zeroes the password copy */
    rove__buf_free(&resp);
    rove__buf_free(&c->tx_body); /* the compressed password */
    rove__buf_free(&c->rx_raw);  /* the compressed token */
    free_secret(&token);
    free(uid);
    free(role);
    free(name);
    return rc;
}

/* ---- wipe ---------------------------------------------------------------- */

int rove_client_wipe(rove_client *c)
{
    char id[ROVE_ID_SIZE];
    rove__buf sql = ROVE__BUF_INIT;
    size_t n;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    const rove__table *t = rove__schema_tables(&n);
    /* Children first, so a reader never sees an orphan. */
    for (size_t i = n; i-- > 0;)
        rove__buf_printf(&sql, "DELETE FROM %s;", t[i].name);
    rove__buf_puts(&sql, "DELETE FROM _rove_outbox; DELETE FROM _rove_receipts;"
                         "DELETE FROM _rove_conflicts; DELETE FROM _rove_lease_accounts;"
                         "DELETE FROM _rove_leases; DELETE FROM _rove_digest;"
                         "DELETE FROM _rove_history;"
                         "DELETE FROM _rove_meta WHERE key NOT IN ('server_url', 'ca_file', "
                         "'pinned_pubkey', 'created_at', 'lease_key');");
    if ((rc = rove__buf_status(&sql)) != 0) {
        rove__buf_free(&sql);
        return rove__client_error(c, rc, "out of memory");
    }
    if ((rc = rove__rng_ulid(c->rng, id, rove__platform_now_ms())) != 0) {
        rove__buf_free(&sql);
        return rove__client_error(c, rc, "random generator failed");
    }
    if ((rc = rove__replica_begin(c)) != 0)
        goto cleanup;
    if ((rc = rove__replica_exec(c, (const char *)sql.ptr)) != 0 ||
        (rc = rove__meta_set_text(c, "device_id", id)) != 0) {
        rove__replica_rollback(c);
        goto cleanup;
    }
    if ((rc = rove__replica_commit(c)) != 0)
        goto cleanup;
    memcpy(c->device_id, id, sizeof(id));
    free_secret(&c->token);
    free(c->user_id);
    free(c->user_name);
    free(c->user_login);
    free(c->role);
    c->user_id = c->user_name = c->user_login = c->role = NULL;
    c->cursor = 0;
    /* The pulled-row statements stay valid; nothing else is cached. */
cleanup:
    rove__buf_free(&sql);
    return rc;
}
