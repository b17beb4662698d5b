/*
 * Delegation leases on the device (docs/delegation-transfer.md): fetched when
 * the server's lease digest changes, verified with the server's lease key
 * (ECDSA P-256, pinned on first use), stored in the replica, and enforced on
 * every local write to a delegated account, with no network: before the
 * start and after the end of the delegation the write is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "internal.h"
#include "wire.h"

static int verify(const unsigned char *key, size_t key_len, const unsigned char *msg,
                  size_t msg_len, const unsigned char *sig, size_t sig_len)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    unsigned char hash[32];
    int ok = mbedtls_pk_parse_public_key(&pk, key, key_len) == 0 &&
             mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA) &&
             mbedtls_sha256_ret(msg, msg_len, hash, 0) == 0 &&
             mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, sig_len) == 0;
    mbedtls_pk_free(&pk);
    return ok;
}

typedef struct lease {
    char id[ROVE_ID_SIZE], delegator[ROVE_ID_SIZE], delegate[ROVE_ID_SIZE];
    int64_t from, to, grace;
    char actions[128];
    const unsigned char *accounts; /* CBOR array of ids, inside the payload */
    size_t naccounts;
    size_t accounts_off;
} lease;

static int text_into(rove__reader *r, char *out, size_t size)
{
    const char *s;
    size_t n;
    if (rove__r_text(r, &s, &n) != 0 || n >= size)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Decodes a lease payload; the accounts are read again by the caller. */
static int parse_lease(const unsigned char *p, size_t len, lease *l, rove__reader *accounts)
{
    rove__reader r;
    size_t n;
    memset(l, 0, sizeof(*l));
    rove__r_init(&r, p, len);
    if (rove__r_map(&r, &n) != 0)
        return -1;
    int have_accounts = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        if (rove__r_text(&r, &k, &kl) != 0)
            return -1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
        int rc = 0;
        if (KEY("id"))
            rc = text_into(&r, l->id, sizeof(l->id));
        else if (KEY("delegator"))
            rc = text_into(&r, l->delegator, sizeof(l->delegator));
        else if (KEY("delegate"))
            rc = text_into(&r, l->delegate, sizeof(l->delegate));
        else if (KEY("from"))
            rc = rove__r_int(&r, &l->from);
        else if (KEY("to"))
            rc = rove__r_int(&r, &l->to);
        else if (KEY("grace"))
            rc = rove__r_int(&r, &l->grace);
        else if (KEY("actions"))
            rc = text_into(&r, l->actions, sizeof(l->actions));
        else if (KEY("accounts")) {
            *accounts = r; /* positioned at the array */
            rc = rove__r_skip_value(&r);
            have_accounts = 1;
        } else
            rc = rove__r_skip_value(&r);
#undef KEY
        if (rc != 0)
            return -1;
    }
    if (!rove__r_done(&r) || !have_accounts || l->id[0] == 0 || l->delegator[0] == 0 ||
        l->to <= l->from)
        return -1;
    return 0;
}

/* 1 when the lease's account list (ar, positioned at it) holds id. */
static int lease_has_account(rove__reader *ar, const char *id)
{
    size_t n;
    if (rove__r_array(ar, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        if (rove__r_text(ar, &s, &len) != 0)
            return 0;
        if (len == strlen(id) && memcmp(s, id, len) == 0)
            return 1;
    }
    return 0;
}

static int exec_sql(rove_client *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : rove__client_sqlerr(c, c->db, rc, "leases");
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Replaces the stored leases with the server's answer, in one transaction. */
static int store_leases(rove_client *c, const rove__buf *resp, int64_t gen)
{
    rove__reader r;
    size_t n;
    rove__r_init(&r, resp->ptr, resp->len);
    const unsigned char *key = NULL;
    size_t key_len = 0;
    rove__reader leases;
    int have = 0;
    if (rove__r_map(&r, &n) != 0)
        return rove__client_error(c, ROVE_EPROTO, "bad leases answer");
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        rove__item it;
        if (rove__r_text(&r, &k, &kl) != 0)
            return rove__client_error(c, ROVE_EPROTO, "bad leases answer");
        if (kl == 3 && memcmp(k, "key", 3) == 0) {
            if (rove__r_next(&r, &it) != 0 || it.kind != ROVE__K_BYTES || it.len > 512)
                return rove__client_error(c, ROVE_EPROTO, "bad lease key");
            key = (const unsigned char *)it.s;
            key_len = it.len;
        } else if (kl == 6 && memcmp(k, "leases", 6) == 0) {
            leases = r;
            have = 1;
            if (rove__r_skip_value(&r) != 0)
                return rove__client_error(c, ROVE_EPROTO, "bad leases answer");
        } else if (rove__r_skip_value(&r) != 0) {
            return rove__client_error(c, ROVE_EPROTO, "bad leases answer");
        }
    }
    if (key == NULL || !have || !rove__r_done(&r))
        return rove__client_error(c, ROVE_EPROTO, "bad leases answer");
    /* The key is pinned on first use: a server that changes it is refused. */
    char key_hex[1025];
    hex(key, key_len, key_hex);
    sqlite3_stmt *st = NULL;
    int changed = 0;
    int rc = sqlite3_prepare_v2(c->db, "SELECT value FROM _rove_meta WHERE key = 'lease_key'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        changed = strcmp((const char *)sqlite3_column_text(st, 0), key_hex) != 0;
    sqlite3_finalize(st);
    if (changed)
        return rove__client_error(c, ROVE_EPROTO,
                                  "the server's lease key changed; leases were not updated");
    ROVE_TRY(rove__replica_begin(c));
    rc = exec_sql(c, "DELETE FROM _rove_lease_accounts; DELETE FROM _rove_leases;");
    sqlite3_stmt *ins = NULL, *acc = NULL;
    if (rc == 0 &&
        ((rc = sqlite3_prepare_v2(
              c->db,
              "INSERT INTO _rove_leases(id, delegator, from_ms, to_ms, "
              "grace_ms, actions, payload, sig) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
              -1, &ins, NULL)) != SQLITE_OK ||
         (rc = sqlite3_prepare_v2(c->db,
                                  "INSERT OR IGNORE INTO _rove_lease_accounts(lease_id, "
                                  "account_id) VALUES(?1, ?2)",
                                  -1, &acc, NULL)) != SQLITE_OK))
        rc = rove__client_sqlerr(c, c->db, rc, "leases");
    size_t nl = 0;
    if (rc == 0 && rove__r_array(&leases, &nl) != 0)
        rc = rove__client_error(c, ROVE_EPROTO, "bad leases answer");
    for (size_t i = 0; rc == 0 && i < nl; i++) {
        size_t m;
        rove__item pl, sg;
        if (rove__r_array(&leases, &m) != 0 || m != 2 || rove__r_next(&leases, &pl) != 0 ||
            pl.kind != ROVE__K_BYTES || rove__r_next(&leases, &sg) != 0 ||
            sg.kind != ROVE__K_BYTES) {
            rc = rove__client_error(c, ROVE_EPROTO, "bad lease %zu", i);
            break;
        }
        const unsigned char *p = (const unsigned char *)pl.s;
        lease l;
        rove__reader ar;
        if (!verify(key, key_len, p, pl.len, (const unsigned char *)sg.s, sg.len) ||
            parse_lease(p, pl.len, &l, &ar) != 0) {
            rc = rove__client_error(c, ROVE_EPROTO, "lease %zu: bad signature or content", i);
            break;
        }
        sqlite3_bind_text(ins, 1, l.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, l.delegator, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, l.from);
        sqlite3_bind_int64(ins, 4, l.to);
        sqlite3_bind_int64(ins, 5, l.grace);
        sqlite3_bind_text(ins, 6, l.actions, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 7, p, (int)pl.len, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 8, sg.s, (int)sg.len, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = rove__client_sqlerr(c, c->db, SQLITE_ERROR, "leases");
        sqlite3_reset(ins);
        size_t na = 0;
        if (rc == 0 && rove__r_array(&ar, &na) != 0)
            rc = rove__client_error(c, ROVE_EPROTO, "bad lease accounts");
        for (size_t a = 0; rc == 0 && a < na; a++) {
            char id[ROVE_ID_SIZE];
            if (text_into(&ar, id, sizeof(id)) != 0) {
                rc = rove__client_error(c, ROVE_EPROTO, "bad lease account");
                break;
            }
            sqlite3_bind_text(acc, 1, l.id, -1, SQLITE_STATIC);
            sqlite3_bind_text(acc, 2, id, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(acc) != SQLITE_DONE)
                rc = rove__client_sqlerr(c, c->db, SQLITE_ERROR, "leases");
            sqlite3_reset(acc);
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(acc);
    if (rc == 0)
        rc = rove__meta_set_text(c, "lease_key", key_hex);
    if (rc == 0)
        rc = rove__meta_set_int(c, "lease_gen", gen);
    if (rc != 0) {
        rove__replica_rollback(c);
        return rc;
    }
    return rove__replica_commit(c);
}

int rove__lease_refresh(rove_client *c, int64_t gen)
{
    int64_t have = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT value FROM _rove_meta WHERE key = 'lease_gen'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (have == gen)
        return 0;
    if (gen == 0) { /* no delegation any more */
        ROVE_TRY(rove__replica_begin(c));
        int rc = exec_sql(c, "DELETE FROM _rove_lease_accounts; DELETE FROM _rove_leases;");
        if (rc == 0)
            rc = rove__meta_set_int(c, "lease_gen", 0);
        if (rc != 0) {
            rove__replica_rollback(c);
            return rc;
        }
        return rove__replica_commit(c);
    }
    rove__buf req = ROVE__BUF_INIT, resp = ROVE__BUF_INIT;
    rove__w_map(&req, 0);
    int rc = rove__buf_status(&req);
    if (rc == 0)
        rc = rove__client_post(c, "/v1/leases", &req, &resp, 1);
    if (rc == 0)
        rc = store_leases(c, &resp, gen);
    rove__buf_free(&req);
    rove__buf_free(&resp);
    return rc;
}

int rove__lease_check(rove_client *c, const rove__table *t, const char *account_id, int op)
{
    if (account_id == NULL || account_id[0] == '\0')
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        c->db,
        "SELECT l.from_ms, l.to_ms, l.actions, l.payload, l.sig, "
        "(SELECT value FROM _rove_meta WHERE key = 'lease_key'), "
        "(SELECT value FROM _rove_meta WHERE key = 'server_time') FROM _rove_leases l JOIN "
        "_rove_lease_accounts a ON a.lease_id = l.id WHERE a.account_id = ?1 "
        "ORDER BY l.to_ms DESC LIMIT 1",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "leases");
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "leases");
    }
    /* Only the delegation lets this device write here: its lease decides,
     * by the signed payload (not the columns beside it, which anyone with
     * the replica file could edit). */
    const char *key_hex = (const char *)sqlite3_column_text(st, 5);
    unsigned char key[512];
    size_t key_len = key_hex ? strlen(key_hex) / 2 : 0;
    for (size_t i = 0; i < key_len && i < sizeof(key); i++) {
        unsigned v = 0;
        sscanf(key_hex + 2 * i, "%2x", &v);
        key[i] = (unsigned char)v;
    }
    int64_t server_seen = sqlite3_column_int64(st, 6);
    const unsigned char *p = sqlite3_column_blob(st, 3);
    size_t plen = (size_t)sqlite3_column_bytes(st, 3);
    lease l;
    rove__reader ar;
    memset(&l, 0, sizeof(l));
    int ok = key_len > 0 && key_len <= sizeof(key) && p != NULL &&
             verify(key, key_len, p, plen, sqlite3_column_blob(st, 4),
                    (size_t)sqlite3_column_bytes(st, 4)) &&
             parse_lease(p, plen, &l, &ar) == 0 && lease_has_account(&ar, account_id);
    sqlite3_finalize(st);
    int64_t from = l.from, to = l.to;
    const char *actions = l.actions;
    if (!ok)
        return rove__client_error(c, ROVE_EFORBIDDEN,
                                  "the delegation lease for this account is not valid");
    /* The device clock, but never before the last server time seen: winding
     * the clock back does not reopen a window that has ended. */
    int64_t now = rove__platform_now_ms();
    if (now < server_seen)
        now = server_seen;
    if (now < from)
        return rove__client_error(c, ROVE_EFORBIDDEN,
                                  "the delegation for this account starts at %lld",
                                  (long long)from);
    if (now >= to)
        return rove__client_error(
            c, ROVE_EFORBIDDEN, "the delegation for this account ended at %lld", (long long)to);
    if (op == ROVE__OP_DELETE)
        return rove__client_error(c, ROVE_EFORBIDDEN,
                                  "a delegate may not delete the delegator's records");
    const char *want = rove__delegation_action(t);
    if (want == NULL || !rove__actions_has(actions, want))
        return rove__client_error(
            c, ROVE_EFORBIDDEN, "the delegation does not allow this (it allows: %s)", actions);
    return 0;
}

int rove_client_leases(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    static const char sql[] =
        "SELECT l.id, l.delegator, l.from_ms, l.to_ms, l.grace_ms, l.actions, "
        "(SELECT count(*) FROM _rove_lease_accounts a WHERE a.lease_id = l.id) AS accounts, "
        "CASE WHEN ?1 < l.from_ms THEN 'scheduled' WHEN ?1 < l.to_ms THEN 'active' "
        "ELSE 'expired' END AS state FROM _rove_leases l ORDER BY l.from_ms";
    int64_t now = rove__platform_now_ms();
    return rove__rows_open(c, out, sql, NULL, 0, &now, 1, 0);
}

/* ---- lists the server builds for the app: digest, record history ------ */

/*
 * Posts body to path and stores the answer's list under key (arrays of
 * ncols scalars: integers, booleans, text or null) into the scratch table
 * (seq, then ncols columns), replacing what it held, in one transaction.
 */
static int fetch_list(rove_client *c, const char *path, const rove__buf *body, const char *key,
                      const char *scratch, size_t ncols)
{
    rove__buf resp = ROVE__BUF_INIT;
    int rc = rove__client_post(c, path, body, &resp, 1);
    if (rc != 0) {
        rove__buf_free(&resp);
        return rc;
    }
    rove__reader r, items;
    size_t n, m;
    int have = 0;
    rove__r_init(&r, resp.ptr, resp.len);
    rc = rove__r_map(&r, &n) == 0 ? 0 : ROVE_EPROTO;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t kl;
        if (rove__r_text(&r, &k, &kl) != 0) {
            rc = ROVE_EPROTO;
            break;
        }
        if (kl == strlen(key) && memcmp(k, key, kl) == 0) {
            items = r;
            have = 1;
        }
        if (rove__r_skip_value(&r) != 0)
            rc = ROVE_EPROTO;
    }
    if (rc == 0 && (!have || !rove__r_done(&r)))
        rc = ROVE_EPROTO;
    if (rc != 0) {
        rove__buf_free(&resp);
        return rove__client_error(c, rc, "bad answer from %s", path);
    }
    char sql[160];
    snprintf(sql, sizeof(sql), "DELETE FROM %s", scratch);
    sqlite3_stmt *ins = NULL;
    rc = rove__replica_begin(c);
    if (rc == 0)
        rc = exec_sql(c, sql);
    size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES(?1", scratch);
    for (size_t k = 0; k < ncols; k++)
        off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",?%zu", k + 2);
    snprintf(sql + off, sizeof(sql) - off, ")");
    if (rc == 0 && sqlite3_prepare_v2(c->db, sql, -1, &ins, NULL) != SQLITE_OK)
        rc = rove__client_sqlerr(c, c->db, SQLITE_ERROR, path);
    if (rc == 0 && (rove__r_array(&items, &m) != 0 || m > 100000))
        rc = rove__client_error(c, ROVE_EPROTO, "bad list from %s", path);
    for (size_t i = 0; rc == 0 && i < m; i++) {
        size_t f;
        if (rove__r_array(&items, &f) != 0 || f != ncols) {
            rc = rove__client_error(c, ROVE_EPROTO, "bad item from %s", path);
            break;
        }
        sqlite3_bind_int64(ins, 1, (int64_t)i);
        for (size_t k = 0; rc == 0 && k < ncols; k++) {
            rove__item it;
            int col = (int)k + 2;
            if (rove__r_next(&items, &it) != 0)
                rc = ROVE_EPROTO;
            else if (it.kind == ROVE__K_INT || it.kind == ROVE__K_BOOL)
                sqlite3_bind_int64(ins, col, it.i);
            else if (it.kind == ROVE__K_NULL)
                sqlite3_bind_null(ins, col);
            else if (it.kind == ROVE__K_TEXT && it.len <= ROVE__MAX_TEXT &&
                     rove__utf8_valid(it.s, it.len))
                sqlite3_bind_text(ins, col, it.s, (int)it.len, SQLITE_STATIC);
            else
                rc = ROVE_EPROTO;
        }
        if (rc != 0) {
            rc = rove__client_error(c, ROVE_EPROTO, "bad value from %s", path);
            break;
        }
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = rove__client_sqlerr(c, c->db, SQLITE_ERROR, path);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    rove__buf_free(&resp);
    if (rc != 0) {
        rove__replica_rollback(c);
        return rc;
    }
    return rove__replica_commit(c);
}

int rove_client_digest(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    *out = NULL;
    if (!rove_client_logged_in(c))
        return rove__client_error(c, ROVE_ENOTLOGGEDIN, "log in first");
    rove__buf req = ROVE__BUF_INIT;
    rove__w_map(&req, 0);
    int rc = rove__buf_status(&req);
    if (rc == 0)
        rc = fetch_list(c, "/v1/digest", &req, "items", "_rove_digest", 6);
    rove__buf_free(&req);
    if (rc != 0)
        return rc;
    return rove__rows_open(c, out,
                           "SELECT section, tbl AS \"table\", row_id AS record_id, at, "
                           "by_user AS \"by\", detail FROM _rove_digest ORDER BY seq",
                           NULL, 0, NULL, 0, 0);
}

int rove_client_history(rove_client *c, rove_rows **out, const char *table, const char *id)
{
    if (c == NULL || out == NULL || table == NULL || id == NULL)
        return c ? rove__client_error(c, ROVE_EINVAL, "invalid argument") : ROVE_EINVAL;
    rove__client_clear_error(c);
    *out = NULL;
    if (!rove_client_logged_in(c))
        return rove__client_error(c, ROVE_ENOTLOGGEDIN, "log in first");
    rove__buf req = ROVE__BUF_INIT;
    rove__w_map(&req, 2);
    rove__w_text(&req, "table");
    rove__w_text(&req, table);
    rove__w_text(&req, "id");
    rove__w_text(&req, id);
    int rc = rove__buf_status(&req);
    if (rc == 0)
        rc = fetch_list(c, "/v1/history", &req, "events", "_rove_history", 7);
    rove__buf_free(&req);
    if (rc != 0)
        return rc;
    return rove__rows_open(c, out,
                           "SELECT at, actor, on_behalf_of, delegation_id, op, late_sync, "
                           "changes FROM _rove_history ORDER BY seq",
                           NULL, 0, NULL, 0, 0);
}
