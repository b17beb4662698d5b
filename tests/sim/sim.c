/*
 * Deterministic simulation of one roved and N devices in one process
 * (issue 4, docs/conflicts.md "Simulation").
 *
 * Each seed builds a fresh server store and a small org (one territory, a
 * manager and three reps, one rep with two devices) whose people edit the
 * same accounts, contacts, visits and service tasks. Then, driven only by the
 * seed: offline edits of random columns (last-writer-wins, server-wins, rank
 * and append policies), contact inserts and deletes, syncs in random order
 * with lost requests and lost answers (the server applied the push, the
 * device never heard), device clocks that skew and jump, and device restarts.
 * Time and randomness come from the seed (shared/testhook.h) and every request
 * goes through an in-process transport (rove__client_set_post_hook), so a seed
 * replays exactly. At the end every device syncs until quiet, and:
 *
 *   1. every replica equals the server's rows in its scope, column by column;
 *   2. every value a device wrote is the server's current value, is in the
 *      conflict log as a lost value, was replaced by a later accepted change
 *      made by someone who had seen it, or belongs to a change the server
 *      rejected (domain rules; counted and reported);
 *   3. no receipt says applied, merged or overridden for a change whose values
 *      are neither stored nor logged (checked when the receipt arrives), and a
 *      retried push gets the very receipts of the answer that was lost;
 *   4. every change gets a receipt.
 *
 * Environment: ROVE_SIM_SEED=n runs seed n alone and prints its step log;
 * ROVE_SIM_FIRST=n and ROVE_SIM_SEEDS=count choose a range (default 1, 200);
 * ROVE_SIM_STEPS=n steps per seed (default 60); ROVE_SIM_DIR=dir for the
 * temporary stores (default /dev/shm, else /tmp); ROVE_SIM_VERBOSE=1 prints
 * every seed's log; ROVE_SIM_REPLAY=1 runs each seed twice and compares.
 * A failure prints the seed, what broke and the step log, and exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "auth.h"
#include "compress.h"
#include "config.h"
#include "delegation.h"
#include "domain.h"
#include "internal.h"
#include "lease.h"
#include "log.h"
#include "login.h"
#include "roved.h"
#include "store.h"
#include "sync.h"
#include "testhook.h"
#include "transfer.h"
#include "util.h"
#include "wire.h"

#include "rove/rove.h"

#define MAX_DEV 5
#define MAX_ROWS 256
#define MAX_CHANGES 4096
#define MAX_WRITES 8192
#define MAX_OBS 32768
#define TOK_SIZE 160
#define MAX_MOVES 64
#define MAX_CODES 16

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int rnd(int n) { return n <= 1 ? 0 : (int)(rnd64() % (uint64_t)n); }

static int chance(int percent) { return rnd(100) < percent; }

/* The SDK's and roved's random bytes (ULIDs, tokens, salts) come from a
 * stream of their own, so the decisions above do not shift with them. */
static uint64_t bytes_state;

static void sim_random(void *p, size_t n)
{
    unsigned char *o = p;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (bytes_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        o[i] = (unsigned char)(z ^ (z >> 31));
    }
}

/* ---- simulated time ---------------------------------------------------- */

#define SIM_EPOCH 1780000000000LL /* 2026-05-28: every seed starts here */

static int64_t sim_now;
static int sim_actor = -1;            /* device index whose clock is read; -1: the server */
static int64_t dev_skew[MAX_DEV + 1]; /* the last: fresh devices, never skewed */

static int64_t sim_clock(void) { return sim_now + (sim_actor >= 0 ? dev_skew[sim_actor] : 0); }

/* ---- the model ----------------------------------------------------------- */

enum { T_ACCOUNT, T_CONTACT, T_VISIT, T_TASK, NT };
static const char *const tnames[NT] = {"account", "contact", "visit", "service_task"};

enum { K_EQ, K_LINE }; /* a token is a whole value, or one line of an append text */

typedef struct change {
    char id[ROVE_ID_SIZE];
    int dev, op, table;
    char row[ROVE_ID_SIZE];
    int status; /* rove_receipt_status, -1 until a receipt arrives */
    int64_t version;
    int lost_status; /* the receipt of an answer that was lost, -1 if none */
    int64_t lost_version;
    int error;
    int64_t made_at; /* server time when the device made it */
    int wiped;       /* still in the outbox when the device was wiped */
} change;

typedef struct wval {
    int change, table, col, kind;
    char row[ROVE_ID_SIZE];
    char tok[TOK_SIZE];
} wval;

/* What a device's replica showed for a column when it wrote or deleted. */
typedef struct obs {
    int change, table, col;
    char row[ROVE_ID_SIZE];
    char val[TOK_SIZE];
} obs;

enum { MONA, RITA, RAJ, ROSA, NPEOPLE };
static const char *const usernames[NPEOPLE] = {"mona", "rita", "raj", "rosa"};

typedef struct device {
    int idx;
    int person;
    const char *user;
    int revoked, wiped, drained;
    int64_t revoked_at, drain_until;
    rove_client *c;
    char path[600];
    unsigned page_size, push_batch;
} device;

/* The one leave open at a time (created, not yet past its end and grace). */
typedef struct leave {
    int open, stopped;
    char id[27];
    int delegator, delegates[2], ndelegates;
    int64_t starts_at, ends_at, grace_ms;
} leave;

/* One account a transfer moved: what the audit and owner history must show. */
typedef struct move {
    char account[27], transfer[27], from[27], to[27];
} move;

typedef struct sim {
    uint64_t seed;
    char dir[512];
    sqlite3 *q; /* a reader of the server's database, for the checks */
    char uid[NPEOPLE][27];
    char terr[27];
    int active[NPEOPLE], member[NPEOPLE];
    leave lv;
    move moves[MAX_MOVES];
    int nmoves;
    int leaves, returns, transfers, revocations, wipes, wiped_changes, quarantined;
    int lease_refusals; /* local writes a delegation lease refused (no change made) */
    const char *code_name[MAX_CODES];
    int code_count[MAX_CODES];
    roved_config cfg;
    roved_server srv;
    device dev[MAX_DEV];
    int ndev;
    device fresh[NPEOPLE]; /* the final scope check's reference replicas */
    char ids[NT][MAX_ROWS][ROVE_ID_SIZE];
    int nids[NT];
    change *ch;
    int nch;
    wval *wr;
    int nwr;
    obs *ob;
    int nob;
    int serial;         /* makes every written value unique */
    int p_lose, p_drop; /* percent of requests / answers lost right now */
    int rejected, overridden, merged, applied, dropped, lost, restarts;
    char *log;
    size_t log_len, log_size;
    char failure[1024];
} sim;

static void slog(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void slog(sim *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    if (s->log_len + (size_t)n + 2 > s->log_size) {
        size_t ns = s->log_size ? s->log_size * 2 : 65536;
        while (ns < s->log_len + (size_t)n + 2)
            ns *= 2;
        char *p = realloc(s->log, ns);
        if (p == NULL)
            return;
        s->log = p;
        s->log_size = ns;
    }
    memcpy(s->log + s->log_len, line, (size_t)n);
    s->log_len += (size_t)n;
    s->log[s->log_len++] = '\n';
    s->log[s->log_len] = 0;
}

static int fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(sim *s, const char *fmt, ...)
{
    if (s->failure[0] == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
        va_end(ap);
        slog(s, "FAIL: %s", s->failure);
    }
    return -1;
}

/* ---- values as text, the one form every comparison uses ----------------- */

static void fmt_value(char *out, size_t size, const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_INT:
        snprintf(out, size, "%lld", (long long)v->i);
        break;
    case ROVE__T_REAL:
        snprintf(out, size, "%.17g", v->d);
        break;
    case ROVE__T_TEXT:
        snprintf(out, size, "%.*s", (int)v->len, v->s ? v->s : "");
        break;
    default:
        snprintf(out, size, "<null>");
        break;
    }
}

static void fmt_json(char *out, size_t size, const char *json)
{
    json_error_t e;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &e);
    if (j == NULL || json_is_null(j))
        snprintf(out, size, "<null>");
    else if (json_is_string(j))
        snprintf(out, size, "%s", json_string_value(j));
    else if (json_is_integer(j))
        snprintf(out, size, "%lld", (long long)json_integer_value(j));
    else if (json_is_real(j))
        snprintf(out, size, "%.17g", json_real_value(j));
    else
        snprintf(out, size, "%s", json);
    json_decref(j);
}

static void fmt_record(char *out, size_t size, const rove_record *r, const rove__column *cd)
{
    if (rove_record_is_null(r, cd->name))
        snprintf(out, size, "<null>");
    else if (cd->type == ROVE__T_INT)
        snprintf(out, size, "%lld", (long long)rove_record_int(r, cd->name, 0));
    else if (cd->type == ROVE__T_REAL)
        snprintf(out, size, "%.17g", rove_record_real(r, cd->name, 0));
    else
        snprintf(out, size, "%s", rove_record_text(r, cd->name));
}

/* 1 when tok matches text: equal, or (K_LINE) one of its lines. */
static int tok_in(const char *tok, int kind, const char *text)
{
    if (kind == K_EQ)
        return strcmp(tok, text) == 0;
    size_t n = strlen(tok);
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, tok, n) == 0)
            return 1;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

static const rove__table *table_of(int t)
{
    return rove__schema_table(tnames[t], strlen(tnames[t]));
}

static int col_of(int t, const char *name)
{
    return rove__schema_col(table_of(t), name, strlen(name));
}

/* ---- reading the server's truth ------------------------------------------ */

/* The server's current value of row/col as text; 0, or ROVE_ENOTFOUND when
 * the row does not exist; *deleted is set. */
static int server_value(sim *s, int t, const char *row, int col, char *out, size_t size,
                        int *deleted)
{
    roved_db *db = NULL;
    rove__value v[ROVE__MAX_COLS];
    rove__buf text = ROVE__BUF_INIT;
    int rc = roved_store_read_begin(s->srv.store, &db);
    if (rc != 0)
        return rc;
    rc = roved_store_row_get(db, table_of(t), row, v, &text);
    if (rc == 0) {
        fmt_value(out, size, &v[col]);
        *deleted = v[ROVE__COL_DELETED].type == ROVE__T_INT && v[ROVE__COL_DELETED].i != 0;
    }
    rove__buf_free(&text);
    roved_store_read_end(s->srv.store, db);
    return rc;
}

typedef struct logged_q {
    const char *column;
    const char *tok;
    int kind;
    int found;
} logged_q;

static int logged_cb(int64_t id, const roved_conflict *c, void *payload)
{
    logged_q *q = payload;
    (void)id;
    if (q->found || strcmp(c->column, q->column) != 0)
        return 0;
    char v[4096];
    fmt_json(v, sizeof(v), c->lost_json);
    if (tok_in(q->tok, q->kind, v))
        q->found = 1;
    return 0;
}

/* 1 when the conflict log holds tok as a lost value of row/col. */
static int in_conflict_log(sim *s, int t, const char *row, int col, const char *tok, int kind)
{
    roved_db *db = NULL;
    if (roved_store_read_begin(s->srv.store, &db) != 0)
        return 0;
    logged_q q = {table_of(t)->cols[col].name, tok, kind, 0};
    roved_store_conflict_list(db, row, 1000000, logged_cb, &q);
    roved_store_read_end(s->srv.store, db);
    return q.found;
}

/* 1 when the quarantine holds change ci pending; with col >= 0, holding tok
 * in that column. */
static int in_quarantine(sim *s, int ci, int col, const char *tok, int kind)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->q,
                           "SELECT payload FROM quarantine WHERE change_id = ?1 AND "
                           "status = 'pending'",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, s->ch[ci].id, -1, SQLITE_STATIC);
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        if (col < 0) {
            found = 1;
            break;
        }
        json_error_t e;
        json_t *o = json_loads((const char *)sqlite3_column_text(st, 0), 0, &e);
        json_t *v = json_object_get(o, table_of(s->ch[ci].table)->cols[col].name);
        if (v != NULL) {
            char *js = json_dumps(v, JSON_ENCODE_ANY);
            char val[4096];
            fmt_json(val, sizeof(val), js ? js : "null");
            found = tok_in(tok, kind, val);
            free(js);
        }
        json_decref(o);
    }
    sqlite3_finalize(st);
    return found;
}

/* 1 when a change after `after` by anyone saw tok in row/col and was stored
 * (applied or merged; with any_status, also one without a receipt yet). */
static int seen_later(sim *s, int after, int t, const char *row, int col, const char *tok,
                      int kind, int any_status)
{
    for (int i = 0; i < s->nob; i++) {
        obs *o = &s->ob[i];
        if (o->change <= after || o->table != t || o->col != col || strcmp(o->row, row) != 0)
            continue;
        if (!tok_in(tok, kind, o->val))
            continue;
        int st = s->ch[o->change].status;
        if (st == ROVE_RECEIPT_APPLIED || st == ROVE_RECEIPT_MERGED || (any_status && st < 0))
            return 1;
        if (st != ROVE_RECEIPT_REJECTED && st != ROVE_RECEIPT_QUARANTINED)
            continue;
        /* The change that saw tok was refused: what it wrote in its place may
         * have been replaced knowingly in turn (the same person editing the
         * field again before the refusal arrived). */
        for (int k = 0; k < s->nwr; k++) {
            wval *w = &s->wr[k];
            if (w->change == o->change && w->table == t && w->col == col &&
                strcmp(w->row, row) == 0 &&
                seen_later(s, o->change, t, row, col, w->tok, w->kind, any_status))
                return 1;
        }
    }
    return 0;
}

/* Where a written value is now: 0 when accounted for, else -1 with why. */
static int account_for(sim *s, const wval *w, int any_status, char *why, size_t size)
{
    char cur[4096];
    int deleted = 0;
    int rc = server_value(s, w->table, w->row, w->col, cur, sizeof(cur), &deleted);
    if (rc == 0 && !deleted && tok_in(w->tok, w->kind, cur))
        return 0;
    if (in_conflict_log(s, w->table, w->row, w->col, w->tok, w->kind))
        return 0;
    if (s->ch[w->change].status == ROVE_RECEIPT_QUARANTINED &&
        in_quarantine(s, w->change, w->col, w->tok, w->kind))
        return 0;
    if (seen_later(s, w->change, w->table, w->row, w->col, w->tok, w->kind, any_status))
        return 0;
    snprintf(why, size, "server has %s%.200s%s",
             rc != 0   ? "no row"
             : deleted ? "(deleted) "
                       : "",
             rc == 0 ? cur : "", "");
    return -1;
}

/* ---- the in-process transport --------------------------------------------- */

typedef struct lost_q {
    sim *s;
} lost_q;

static change *find_change(sim *s, const char *id, size_t len)
{
    for (int i = s->nch - 1; i >= 0; i--)
        if (strlen(s->ch[i].id) == len && memcmp(s->ch[i].id, id, len) == 0)
            return &s->ch[i];
    return NULL;
}

static int lost_receipt(const rove__receipt *r, void *payload)
{
    sim *s = payload;
    change *c = find_change(s, r->change_id, r->change_id_len);
    if (c != NULL) {
        c->lost_status = (int)r->status;
        c->lost_version = r->version;
    }
    return 0;
}

static int lost_table(const rove__table *t, const int *cols, size_t ncols, void *payload)
{
    return 0;
}

static int lost_row(const rove__table *t, const int *cols, const rove__value *vals,
                    size_t ncols, void *payload)
{
    return 0;
}

static int lost_evict(const rove__table *t, const char *id, const char *reason,
                      size_t reason_len, void *payload)
{
    return 0;
}

static sim *the_sim;

/* Frees a buffer; without the zeroing pass unless it may hold a password or
 * token (sync bodies hold neither; as in http.c). */
static void release(rove__buf *b, int secret)
{
    if (secret)
        rove__buf_free(b);
    else
        free(rove__buf_detach(b, NULL));
}

static int post_hook(void *ud, const char *path, const char *token, const void *body,
                     size_t len, rove__buf *resp, rove__http_result *res)
{
    device *d = ud;
    sim *s = the_sim;
    int is_sync = strcmp(path, "/v1/sync") == 0, is_wiped = strcmp(path, "/v1/wiped") == 0;
    int is_leases = strcmp(path, "/v1/leases") == 0;
    if (is_sync && chance(s->p_lose)) {
        s->lost++;
        slog(s, "  dev%d: request lost", d->idx);
        return ROVE_ENET;
    }
    rove__buf cbor = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    rove__errinfo err = {0, ""};
    int rc = rove__inflate(&cbor, body, len, ROVE__MAX_INFLATED);
    int saved = sim_actor;
    sim_actor = -1;
    if (rc == 0 && is_wiped) {
        /* A revoked device reports its wipe (http.c handle_wiped). */
        char auth[128];
        snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "");
        roved_device dev;
        rc = roved_sync_wiped(&s->srv, auth, &dev);
        if (rc == 0) {
            rove__w_map(&out, 1);
            rove__w_text(&out, "wiped");
            rove__w_bool(&out, 1);
            s->wipes++;
        }
    } else if (rc == 0 && is_leases) {
        /* A delegate fetches its signed leases (http.c handle_leases). */
        char auth[128];
        snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "");
        roved_device dev;
        roved_user user;
        roved_db *db = NULL;
        rc = roved_store_read_begin(s->srv.store, &db);
        if (rc == 0) {
            rc = roved_auth_device(db, auth, &dev, &user);
            roved_store_read_end(s->srv.store, db);
        }
        if (rc == 0 && dev.status != ROVED_DEVICE_ACTIVE)
            rc = ROVE_EREVOKED;
        if (rc == 0)
            rc = roved_lease_run(&s->srv, &user, &out, &err);
    } else if (rc == 0 && !is_sync) {
        char user_id[27] = "", device_id[27] = "";
        rc =
            roved_login_run(&s->srv, cbor.ptr, cbor.len, "sim", &out, &err, user_id, device_id);
    } else if (rc == 0) {
        roved_device dev;
        roved_user user;
        memset(&dev, 0, sizeof(dev));
        memset(&user, 0, sizeof(user));
        char auth[128];
        snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "");
        roved_db *db = NULL;
        rc = roved_store_read_begin(s->srv.store, &db);
        if (rc == 0) {
            rc = roved_auth_device(db, auth, &dev, &user);
            roved_store_read_end(s->srv.store, db);
        }
        roved_sync_stats st;
        memset(&st, 0, sizeof(st));
        if (rc == 0)
            rc = roved_sync_run(&s->srv, &dev, &user, cbor.ptr, cbor.len, &out, &err, &st);
    }
    sim_actor = saved;
    if (rc != 0) {
        res->status = rove_error_http_status(rc);
        snprintf(res->error_name, sizeof(res->error_name), "%s", rove_error_name(rc));
        snprintf(res->error_message, sizeof(res->error_message), "%s", err.msg);
        slog(s, "  dev%d: %s answered %ld %s: %s", d->idx, path, res->status,
             rove_error_name(rc), err.msg);
        release(&cbor, !is_sync);
        release(&out, !is_sync);
        return 0;
    }
    if (is_sync && chance(s->p_drop)) {
        /* The server committed; the device never hears. Remember the receipts
         * the retry must repeat. */
        static const rove__sync_resp_handler h = {lost_receipt, lost_table, lost_row,
                                                  lost_evict};
        rove__sync_resp_hdr hdr;
        rove__errinfo pe = {0, ""};
        if (rove__sync_resp_parse(out.ptr, out.len, &h, s, &hdr, &pe) != 0)
            fail(s, "cannot parse the server's answer: %s", pe.msg);
        s->dropped++;
        slog(s, "  dev%d: answer lost", d->idx);
        release(&cbor, !is_sync);
        release(&out, !is_sync);
        return ROVE_ENET;
    }
    rc = rove__deflate(resp, out.ptr, out.len, 1);
    res->status = 200;
    release(&cbor, !is_sync);
    release(&out, !is_sync);
    return rc;
}

/* ---- receipts ---------------------------------------------------------------- */

static const char *status_name(int st)
{
    static const char *const n[] = {"applied", "merged", "rejected", "quarantined",
                                    "overridden"};
    return st >= 0 && st <= 4 ? n[st] : "none";
}

static int on_receipt(const rove_receipt *r, void *payload)
{
    device *d = payload;
    sim *s = the_sim;
    change *c = find_change(s, r->change_id, strlen(r->change_id));
    if (c == NULL) {
        fail(s, "dev%d: receipt for unknown change %s", d->idx, r->change_id);
        return 0;
    }
    int ci = (int)(c - s->ch);
    slog(s, "  dev%d: receipt c%d %s %s %s v%lld%s%s", d->idx, ci, status_name((int)r->status),
         tnames[c->table], c->row, (long long)r->version, r->message ? " " : "",
         r->message ? r->message : "");
    if (c->status >= 0)
        fail(s, "c%d got a second receipt (%s after %s)", ci, status_name((int)r->status),
             status_name(c->status));
    if (c->lost_status >= 0 &&
        (c->lost_status != (int)r->status || c->lost_version != r->version))
        fail(s, "c%d: the retry answered %s v%lld, the lost answer said %s v%lld", ci,
             status_name((int)r->status), (long long)r->version, status_name(c->lost_status),
             (long long)c->lost_version);
    c->status = (int)r->status;
    c->version = r->version;
    c->error = r->error;
    switch (r->status) {
    case ROVE_RECEIPT_REJECTED: {
        s->rejected++;
        const char *code = rove_error_name(r->error);
        int k = 0;
        while (k < MAX_CODES - 1 && s->code_name[k] != NULL && strcmp(s->code_name[k], code))
            k++;
        s->code_name[k] = code;
        s->code_count[k]++;
        return 0;
    }
    case ROVE_RECEIPT_QUARANTINED:
        /* Invariant 3 for a quarantine: the change waits there, pending,
         * with every value it wrote. */
        s->quarantined++;
        if (!in_quarantine(s, ci, -1, NULL, K_EQ))
            fail(s, "c%d: receipt quarantined but no pending quarantine entry holds it", ci);
        for (int i = 0; i < s->nwr; i++)
            if (s->wr[i].change == ci &&
                !in_quarantine(s, ci, s->wr[i].col, s->wr[i].tok, s->wr[i].kind))
                fail(s, "c%d: quarantined, but the entry lacks %s = \"%s\"", ci,
                     table_of(s->wr[i].table)->cols[s->wr[i].col].name, s->wr[i].tok);
        return 0;
    case ROVE_RECEIPT_OVERRIDDEN:
        s->overridden++;
        break;
    case ROVE_RECEIPT_MERGED:
        s->merged++;
        break;
    default:
        s->applied++;
        break;
    }
    /* Invariant 3: what the receipt claims holds right now. */
    if (c->op == ROVE__OP_DELETE) {
        char cur[64];
        int deleted = 0;
        if (r->status == ROVE_RECEIPT_APPLIED &&
            (server_value(s, c->table, c->row, ROVE__COL_ID, cur, sizeof(cur), &deleted) != 0 ||
             !deleted))
            fail(s, "c%d: delete receipt applied but %s %s is not deleted", ci,
                 tnames[c->table], c->row);
        return 0;
    }
    for (int i = 0; i < s->nwr; i++) {
        wval *w = &s->wr[i];
        if (w->change != ci)
            continue;
        char why[300];
        if (account_for(s, w, 1, why, sizeof(why)) != 0)
            fail(s,
                 "c%d: receipt %s but %s %s.%s value \"%s\" is neither stored nor logged "
                 "(%s)",
                 ci, status_name((int)r->status), tnames[w->table], w->row,
                 table_of(w->table)->cols[w->col].name, w->tok, why);
    }
    return 0;
}

/* ---- devices ------------------------------------------------------------------ */

static int dev_open(sim *s, device *d)
{
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = d->path;
    o.server_url = "sim://roved";
    o.device_name = d->user;
    o.page_size = d->page_size;
    o.push_batch = d->push_batch;
    sim_actor = d->idx;
    int rc = rove_client_open(&d->c, &o);
    sim_actor = -1;
    if (rc != 0)
        return fail(s, "dev%d: open: %s", d->idx, rove_last_open_error());
    rove__client_set_post_hook(d->c, post_hook, d);
    rove_client_on_receipt(d->c, on_receipt, d);
    return 0;
}

static int last_change_id(device *d, char *out)
{
    rove_rows *q = NULL;
    int rc = rove_client_outbox(d->c, &q);
    out[0] = 0;
    while (rc == 0 && rove_rows_next(q) == 1)
        snprintf(out, ROVE_ID_SIZE, "%s", rove_rows_text(q, 1));
    rove_rows_free(q);
    return out[0] ? 0 : -1;
}

static int add_change(sim *s, device *d, int op, int t, const char *row)
{
    if (s->nch >= MAX_CHANGES)
        return -1;
    change *c = &s->ch[s->nch];
    memset(c, 0, sizeof(*c));
    if (last_change_id(d, c->id) != 0)
        return fail(s, "dev%d: the edit left no outbox entry", d->idx);
    c->dev = d->idx;
    c->op = op;
    c->table = t;
    snprintf(c->row, sizeof(c->row), "%s", row);
    c->status = -1;
    c->lost_status = -1;
    c->made_at = sim_now;
    return s->nch++;
}

static void add_obs(sim *s, int ci, int t, const char *row, int col, const char *val)
{
    const rove__column *cd = &table_of(t)->cols[col];
    if (cd->merge == ROVE__MERGE_APPEND) {
        /* One observation per line, so a line is matched whole. */
        for (const char *p = val; *p;) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (s->nob < MAX_OBS && len < TOK_SIZE) {
                obs *o = &s->ob[s->nob++];
                o->change = ci;
                o->table = t;
                o->col = col;
                snprintf(o->row, sizeof(o->row), "%s", row);
                snprintf(o->val, sizeof(o->val), "%.*s", (int)len, p);
            }
            if (e == NULL)
                break;
            p = e + 1;
        }
        return;
    }
    if (s->nob < MAX_OBS) {
        obs *o = &s->ob[s->nob++];
        o->change = ci;
        o->table = t;
        o->col = col;
        snprintf(o->row, sizeof(o->row), "%s", row);
        snprintf(o->val, sizeof(o->val), "%s", val);
    }
}

static void add_write(sim *s, int ci, int t, const char *row, int col, int kind,
                      const char *tok)
{
    if (s->nwr >= MAX_WRITES)
        return;
    wval *w = &s->wr[s->nwr++];
    w->change = ci;
    w->table = t;
    w->col = col;
    w->kind = kind;
    snprintf(w->row, sizeof(w->row), "%s", row);
    snprintf(w->tok, sizeof(w->tok), "%s", tok);
}

/* Columns a device edits, per table, and how. */
typedef struct edit_col {
    const char *name;
    char how; /* 't' text, 'a' append a line, 'r' real, 'i' int, 's' status */
} edit_col;

static const edit_col account_edits[] = {
    {"name", 't'},         {"phone", 't'},           {"address", 't'}, {"campaign", 't'},
    {"discount_pct", 'r'}, {"visit_freq_days", 'i'}, {"notes", 'a'},   {"price_notes", 'a'}};
static const edit_col contact_edits[] = {
    {"name", 't'}, {"title", 't'}, {"phone", 't'}, {"email", 't'}, {"mobile", 't'}};
static const edit_col visit_edits[] = {
    {"purpose", 't'}, {"outcome", 't'}, {"next_action", 't'}, {"notes", 'a'}, {"status", 's'}};
static const edit_col task_edits[] = {{"title", 't'},      {"description", 't'},
                                      {"resolution", 't'}, {"close_reason", 't'},
                                      {"notes", 'a'},      {"status", 's'}};

static const edit_col *edits_of(int t, int *n)
{
    switch (t) {
    case T_ACCOUNT:
        *n = (int)(sizeof(account_edits) / sizeof(account_edits[0]));
        return account_edits;
    case T_CONTACT:
        *n = (int)(sizeof(contact_edits) / sizeof(contact_edits[0]));
        return contact_edits;
    case T_VISIT:
        *n = (int)(sizeof(visit_edits) / sizeof(visit_edits[0]));
        return visit_edits;
    default:
        *n = (int)(sizeof(task_edits) / sizeof(task_edits[0]));
        return task_edits;
    }
}

/* A delegate's device refused a write by its signed lease (before the start,
 * after the end, a delete, an action not granted): nothing was written, so
 * there is nothing to track. */
static int lease_refused(sim *s, device *d, const char *why)
{
    s->lease_refusals++;
    slog(s, "dev%d: refused by its lease: %s", d->idx, why);
    return 0;
}

static int step_update(sim *s, device *d)
{
    int t = rnd(NT);
    if (s->nids[t] == 0)
        return 0;
    const char *row = s->ids[t][rnd(s->nids[t])];
    rove_record *r = NULL;
    int rc = rove_client_get(d->c, &r, tnames[t], row);
    if (rc == ROVE_ENOTFOUND)
        return 0; /* not here (yet, or any more) */
    if (rc != 0)
        return fail(s, "dev%d: get %s %s: %s", d->idx, tnames[t], row,
                    rove_client_errmsg(d->c));
    int ne;
    const edit_col *ec = edits_of(t, &ne);
    int ncols = 1 + rnd(3), chosen[4], nchosen = 0;
    char toks[4][TOK_SIZE], olds[4][4096];
    int kinds[4];
    for (int k = 0; k < ncols; k++) {
        int e = rnd(ne), dup = 0;
        for (int j = 0; j < nchosen; j++)
            dup |= chosen[j] == e;
        if (dup)
            continue;
        const rove__column *cd = &table_of(t)->cols[col_of(t, ec[e].name)];
        fmt_record(olds[nchosen], sizeof(olds[0]), r, cd);
        int serial = ++s->serial;
        kinds[nchosen] = K_EQ;
        switch (ec[e].how) {
        case 'r': {
            double v = (double)(serial % 40) + (double)serial / 4096.0;
            rove_record_set_real(r, ec[e].name, v);
            snprintf(toks[nchosen], TOK_SIZE, "%.17g", v);
            break;
        }
        case 'i':
            rove_record_set_int(r, ec[e].name, 1000 + serial);
            snprintf(toks[nchosen], TOK_SIZE, "%d", 1000 + serial);
            break;
        case 's': {
            /* Mostly a step forward along the state machine; sometimes any. */
            int cur = rove__schema_enum_rank(cd, olds[nchosen], strlen(olds[nchosen]));
            int nv = 0;
            while (cd->enum_values[nv] != NULL)
                nv++;
            int to = chance(70) && cur >= 0 ? cur + 1 + rnd(2) : rnd(nv);
            if (to >= nv)
                to = nv - 1;
            rove_record_set_text(r, ec[e].name, cd->enum_values[to]);
            snprintf(toks[nchosen], TOK_SIZE, "%s", cd->enum_values[to]);
            break;
        }
        case 'a': {
            char line[64], *text = malloc(strlen(olds[nchosen]) + sizeof(line) + 2);
            if (text == NULL)
                break;
            snprintf(line, sizeof(line), "d%d line %d", d->idx, serial);
            const char *old = rove_record_is_null(r, ec[e].name) ? "" : olds[nchosen];
            sprintf(text, "%s%s%s", old, old[0] ? "\n" : "", line);
            rove_record_set_text(r, ec[e].name, text);
            free(text);
            snprintf(toks[nchosen], TOK_SIZE, "%s", line);
            kinds[nchosen] = K_LINE;
            break;
        }
        default:
            snprintf(toks[nchosen], TOK_SIZE, "d%d %s %d", d->idx, ec[e].name, serial);
            rove_record_set_text(r, ec[e].name, toks[nchosen]);
            break;
        }
        chosen[nchosen++] = e;
    }
    rc = rove_client_update(d->c, r);
    rove_record_free(r);
    if (rc == ROVE_EFORBIDDEN) /* the device's lease: outside the window */
        return lease_refused(s, d, rove_client_errmsg(d->c));
    if (rc != 0)
        return fail(s, "dev%d: update %s %s: %s", d->idx, tnames[t], row,
                    rove_client_errmsg(d->c));
    int ci = add_change(s, d, ROVE__OP_UPDATE, t, row);
    if (ci < 0)
        return -1;
    char desc[512];
    size_t dl = 0;
    desc[0] = 0;
    for (int k = 0; k < nchosen; k++) {
        int col = col_of(t, ec[chosen[k]].name);
        add_obs(s, ci, t, row, col, olds[k]);
        add_write(s, ci, t, row, col, kinds[k], toks[k]);
        if (dl < sizeof(desc))
            dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl, " %s=\"%s\" (was \"%.40s\")",
                                   ec[chosen[k]].name, toks[k], olds[k]);
    }
    slog(s, "dev%d: c%d update %s %s%s", d->idx, ci, tnames[t], row, desc);
    return 0;
}

static int step_insert_contact(sim *s, device *d)
{
    if (s->nids[T_CONTACT] >= MAX_ROWS)
        return 0;
    /* An account the device holds (one outside its scope is refused). */
    const char *acct = NULL;
    rove_record *r = NULL;
    for (int k = 0; k < 4 && acct == NULL; k++) {
        const char *a = s->ids[T_ACCOUNT][rnd(s->nids[T_ACCOUNT])];
        if (rove_client_get(d->c, &r, "account", a) == 0)
            acct = a;
        rove_record_free(r);
        r = NULL;
    }
    if (acct == NULL)
        return 0;
    if (rove_record_new(&r, "contact") != 0)
        return fail(s, "rove_record_new");
    char name[64], title[64];
    int serial = ++s->serial;
    snprintf(name, sizeof(name), "d%d name %d", d->idx, serial);
    snprintf(title, sizeof(title), "d%d title %d", d->idx, serial);
    rove_record_set_text(r, "account_id", acct);
    rove_record_set_text(r, "name", name);
    rove_record_set_text(r, "title", title);
    int rc = rove_client_insert(d->c, r);
    if (rc != 0) {
        rove_record_free(r);
        if (rc == ROVE_EFORBIDDEN)
            return lease_refused(s, d, rove_client_errmsg(d->c));
        return fail(s, "dev%d: insert contact: %s", d->idx, rove_client_errmsg(d->c));
    }
    char id[ROVE_ID_SIZE];
    snprintf(id, sizeof(id), "%s", rove_record_id(r));
    rove_record_free(r);
    snprintf(s->ids[T_CONTACT][s->nids[T_CONTACT]++], ROVE_ID_SIZE, "%s", id);
    int ci = add_change(s, d, ROVE__OP_INSERT, T_CONTACT, id);
    if (ci < 0)
        return -1;
    add_write(s, ci, T_CONTACT, id, col_of(T_CONTACT, "name"), K_EQ, name);
    add_write(s, ci, T_CONTACT, id, col_of(T_CONTACT, "title"), K_EQ, title);
    slog(s, "dev%d: c%d insert contact %s account %s name=\"%s\"", d->idx, ci, id, acct, name);
    return 0;
}

static int step_delete_contact(sim *s, device *d)
{
    const char *row = s->ids[T_CONTACT][rnd(s->nids[T_CONTACT])];
    rove_record *r = NULL;
    int rc = rove_client_get(d->c, &r, "contact", row);
    if (rc == ROVE_ENOTFOUND)
        return 0;
    if (rc != 0)
        return fail(s, "dev%d: get contact: %s", d->idx, rove_client_errmsg(d->c));
    const rove__table *tb = table_of(T_CONTACT);
    char vals[ROVE__MAX_COLS][1024];
    for (size_t i = ROVE__SYS_COLS; i < tb->ncols; i++)
        fmt_record(vals[i], sizeof(vals[i]), r, &tb->cols[i]);
    rove_record_free(r);
    rc = rove_client_delete(d->c, "contact", row);
    if (rc == ROVE_EFORBIDDEN)
        return lease_refused(s, d, rove_client_errmsg(d->c));
    if (rc != 0)
        return fail(s, "dev%d: delete contact %s: %s", d->idx, row, rove_client_errmsg(d->c));
    int ci = add_change(s, d, ROVE__OP_DELETE, T_CONTACT, row);
    if (ci < 0)
        return -1;
    for (size_t i = ROVE__SYS_COLS; i < tb->ncols; i++)
        add_obs(s, ci, T_CONTACT, row, (int)i, vals[i]);
    slog(s, "dev%d: c%d delete contact %s", d->idx, ci, row);
    return 0;
}

/* The server told revoked device d to wipe and it did: what was still in
 * its outbox is gone, which is allowed only for changes made after the drain
 * (until then the device could upload them; the sim makes it sync just
 * before its drain ends). */
static void dev_wiped(sim *s, device *d)
{
    d->wiped = 1;
    slog(s, "dev%d: wiped (revoked at %lld, drain until %lld)", d->idx,
         (long long)(d->revoked_at - SIM_EPOCH), (long long)(d->drain_until - SIM_EPOCH));
    for (int i = 0; i < s->nch; i++) {
        change *c = &s->ch[i];
        if (c->dev != d->idx || c->status >= 0)
            continue;
        c->wiped = 1;
        s->wiped_changes++;
        if (c->made_at < d->drain_until)
            fail(s,
                 "c%d (dev%d) was made at %lld, inside the drain (until %lld), and wiped "
                 "unsent",
                 i, d->idx, (long long)(c->made_at - SIM_EPOCH),
                 (long long)(d->drain_until - SIM_EPOCH));
    }
}

static int dev_sync(sim *s, device *d, int must_succeed)
{
    if (d->wiped)
        return 0; /* signed out; nothing left to sync */
    rove_sync_report rep;
    sim_actor = d->idx;
    int rc = rove_client_sync(d->c, &rep);
    sim_actor = -1;
    slog(s, "dev%d: sync rc=%s pushed=%llu pulled=%llu trips=%u cursor=%lld%s", d->idx,
         rove_error_name(rc), (unsigned long long)rep.pushed, (unsigned long long)rep.pulled,
         rep.round_trips, (long long)rep.cursor, rep.wiped ? " wiped" : "");
    if (rc == ROVE_EREVOKED && d->revoked) {
        /* Draining: everything was uploaded, nothing comes down. Past the
         * drain: refused, and the replica is wiped. */
        if (rep.wiped)
            dev_wiped(s, d);
        else if (sim_now >= d->drain_until)
            return fail(s, "dev%d: refused after its drain but not wiped", d->idx);
        return 0;
    }
    if (rep.wiped)
        return fail(s, "dev%d: wiped but never revoked", d->idx);
    if (rc != 0 && (must_succeed || rc != ROVE_ENET))
        return fail(s, "dev%d: sync failed: %s", d->idx, rove_client_errmsg(d->c));
    return 0;
}

/* ---- the server and the org -------------------------------------------------- */

typedef struct rowb {
    const rove__table *t;
    rove__value v[ROVE__MAX_COLS];
    char text[ROVE__MAX_COLS][96];
} rowb;

static void rowb_start(rowb *b, const rove__table *t, const char *id, const char *actor)
{
    b->t = t;
    for (size_t i = 0; i < t->ncols; i++)
        b->v[i] = (rove__value){ROVE__T_NULL, 0, 0, NULL, 0};
    snprintf(b->text[ROVE__COL_ID], sizeof(b->text[0]), "%s", id);
    b->v[ROVE__COL_ID] = (rove__value){ROVE__T_TEXT, 0, 0, b->text[ROVE__COL_ID], strlen(id)};
    b->v[ROVE__COL_CREATED_BY] = (rove__value){ROVE__T_TEXT, 0, 0, actor, strlen(actor)};
    b->v[ROVE__COL_UPDATED_BY] = b->v[ROVE__COL_CREATED_BY];
    b->v[ROVE__COL_CREATED_AT] = (rove__value){ROVE__T_INT, sim_now, 0, NULL, 0};
    b->v[ROVE__COL_UPDATED_AT] = b->v[ROVE__COL_CREATED_AT];
    b->v[ROVE__COL_DELETED] = (rove__value){ROVE__T_INT, 0, 0, NULL, 0};
}

static void rowb_text(rowb *b, const char *name, const char *v)
{
    int c = rove__schema_col(b->t, name, strlen(name));
    snprintf(b->text[c], sizeof(b->text[c]), "%s", v);
    b->v[c] = (rove__value){ROVE__T_TEXT, 0, 0, b->text[c], strlen(b->text[c])};
}

static void rowb_real(rowb *b, const char *name, double d)
{
    int c = rove__schema_col(b->t, name, strlen(name));
    b->v[c] = (rove__value){ROVE__T_REAL, 0, d, NULL, 0};
}

static int rowb_insert(roved_db *db, rowb *b)
{
    int64_t version;
    int rc = roved_store_version_next(db, &version);
    if (rc != 0)
        return rc;
    b->v[ROVE__COL_VERSION] = (rove__value){ROVE__T_INT, version, 0, NULL, 0};
    return roved_store_row_insert(db, b->t, b->v);
}

typedef struct person {
    const char *username, *role;
    char id[27];
} person;

static int add_user(sim *s, roved_db *db, person *p, const char *territory, const char *manager)
{
    roved_user u;
    memset(&u, 0, sizeof(u));
    roved_util_new_id(p->id);
    snprintf(u.id, sizeof(u.id), "%s", p->id);
    snprintf(u.username, sizeof(u.username), "%s", p->username);
    snprintf(u.name, sizeof(u.name), "%s", p->username);
    u.role = rove__role_from_name(p->role);
    u.status = ROVED_USER_ACTIVE;
    snprintf(u.home_territory_id, sizeof(u.home_territory_id), "%s", territory);
    snprintf(u.manager_id, sizeof(u.manager_id), "%s", manager ? manager : "");
    u.created_at = sim_now;
    int rc = roved_auth_hash_password(u.password_hash, sizeof(u.password_hash), "pw",
                                      s->cfg.pbkdf2_iterations);
    return rc ? rc : roved_store_user_insert(db, &u);
}

static int seed_org(sim *s)
{
    roved_db *db = NULL;
    int rc = roved_store_write_begin(s->srv.store, &db);
    if (rc != 0)
        return fail(s, "write_begin: %s", rove_strerror(rc));
    person people[NPEOPLE] = {
        {"mona", "manager", ""}, {"rita", "rep", ""}, {"raj", "rep", ""}, {"rosa", "rep", ""}};
    char *terr = s->terr;
    roved_util_new_id(terr);
    for (int i = 0; i < NPEOPLE && rc == 0; i++) {
        rc = add_user(s, db, &people[i], terr, i == MONA ? NULL : people[MONA].id);
        snprintf(s->uid[i], sizeof(s->uid[i]), "%s", people[i].id);
        s->active[i] = 1;
    }
    if (rc == 0)
        rc = roved_store_territory_insert(db, terr, "North", NULL, people[MONA].id);
    /* A rep who is a member of the territory sees all of its accounts; the
     * others see the accounts they own (and those delegated to them), so
     * leaves and transfers move records in and out of their replicas. */
    for (int i = RITA; i < NPEOPLE && rc == 0; i++) {
        s->member[i] = chance(30);
        if (s->member[i])
            rc = roved_store_territory_member_insert(db, terr, people[i].id, "rep", sim_now - 1,
                                                     0);
    }
    const char *actor = people[MONA].id;
    int naccounts = 2 + rnd(3);
    for (int a = 0; a < naccounts && rc == 0; a++) {
        rowb b;
        char id[27], txt[64];
        roved_util_new_id(id);
        rowb_start(&b, table_of(T_ACCOUNT), id, actor);
        snprintf(txt, sizeof(txt), "seed account %d", a);
        rowb_text(&b, "name", txt);
        rowb_text(&b, "stage", "prospect");
        rowb_text(&b, "tier", "B");
        rowb_text(&b, "owner_id", people[RITA + a % 3].id);
        rowb_text(&b, "territory_id", terr);
        rowb_real(&b, "discount_pct", 5);
        rowb_text(&b, "notes", "seed note");
        rc = rowb_insert(db, &b);
        snprintf(s->ids[T_ACCOUNT][s->nids[T_ACCOUNT]++], ROVE_ID_SIZE, "%s", id);
        for (int k = 0; k < 2 && rc == 0; k++) {
            char cid[27];
            roved_util_new_id(cid);
            rowb_start(&b, table_of(T_CONTACT), cid, actor);
            rowb_text(&b, "account_id", id);
            snprintf(txt, sizeof(txt), "seed contact %d.%d", a, k);
            rowb_text(&b, "name", txt);
            rc = rowb_insert(db, &b);
            snprintf(s->ids[T_CONTACT][s->nids[T_CONTACT]++], ROVE_ID_SIZE, "%s", cid);
        }
        if (rc == 0) {
            char vid[27];
            roved_util_new_id(vid);
            rowb_start(&b, table_of(T_VISIT), vid, actor);
            rowb_text(&b, "account_id", id);
            rowb_text(&b, "planned_for", people[RITA + a % 3].id);
            rowb_text(&b, "status", "planned");
            rc = rowb_insert(db, &b);
            snprintf(s->ids[T_VISIT][s->nids[T_VISIT]++], ROVE_ID_SIZE, "%s", vid);
        }
        if (rc == 0) {
            char tid[27];
            roved_util_new_id(tid);
            rowb_start(&b, table_of(T_TASK), tid, actor);
            rowb_text(&b, "account_id", id);
            rowb_text(&b, "type", "request");
            rowb_text(&b, "title", "seed task");
            rowb_text(&b, "priority", "normal");
            rowb_text(&b, "status", "new");
            rowb_text(&b, "queue", "dispatcher");
            rc = rowb_insert(db, &b);
            snprintf(s->ids[T_TASK][s->nids[T_TASK]++], ROVE_ID_SIZE, "%s", tid);
        }
    }
    if (rc == 0)
        rc = roved_store_write_commit(s->srv.store, db);
    else
        roved_store_write_rollback(s->srv.store, db);
    if (rc != 0)
        return fail(s, "seeding the org: %s", rove_strerror(rc));
    return 0;
}

/* ---- admin events: leaves, transfers, revocations ---------------------------- */

static int admin_begin(sim *s, roved_db **db)
{
    int rc = roved_store_write_begin(s->srv.store, db);
    if (rc != 0)
        fail(s, "write_begin: %s", rove_strerror(rc));
    return rc;
}

static int admin_end(sim *s, roved_db *db, int rc, const char *what)
{
    if (rc == 0)
        rc = roved_store_write_commit(s->srv.store, db);
    else
        roved_store_write_rollback(s->srv.store, db);
    if (rc != 0)
        fail(s, "%s: %s", what, rove_strerror(rc));
    return rc;
}

static void tick(sim *s)
{
    int steps = 0;
    int rc = roved_delegation_tick(&s->srv, sim_now, &steps);
    if (rc != 0)
        fail(s, "delegation tick: %s", rove_strerror(rc));
    else if (steps > 0)
        slog(s, "server: %d delegation step(s) at %lld", steps,
             (long long)(sim_now - SIM_EPOCH));
}

typedef struct id_list {
    char id[MAX_ROWS][27];
    int n;
} id_list;

static int add_id(const char *id, void *payload)
{
    id_list *l = payload;
    if (l->n < MAX_ROWS)
        snprintf(l->id[l->n++], sizeof(l->id[0]), "%s", id);
    return 0;
}

static int involved_in_leave(sim *s, int p)
{
    if (!s->lv.open)
        return 0;
    if (s->lv.delegator == p)
        return 1;
    for (int i = 0; i < s->lv.ndelegates; i++)
        if (s->lv.delegates[i] == p)
            return 1;
    return 0;
}

/* Active reps (other than `except`, and not in the open leave when free is
 * set) into out; returns how many. */
static int active_reps(sim *s, int except, int free_only, int out[NPEOPLE])
{
    int n = 0;
    for (int p = RITA; p < NPEOPLE; p++)
        if (s->active[p] && p != except && !(free_only && involved_in_leave(s, p)))
            out[n++] = p;
    return n;
}

/* A rep goes on leave: one delegate takes all or some of their accounts, or
 * two split them (admin_leave.c create_leave, without the HTTP layer). */
static int event_leave(sim *s)
{
    if (s->lv.open)
        return 0;
    int reps[NPEOPLE], others[NPEOPLE];
    int nreps = active_reps(s, -1, 0, reps);
    if (nreps < 2)
        return 0;
    int p = reps[rnd(nreps)];
    int nothers = active_reps(s, p, 0, others);
    roved_db *db = NULL;
    if (admin_begin(s, &db) != 0)
        return -1;
    id_list *accs = calloc(1, sizeof(*accs));
    int rc = accs ? roved_store_accounts_matching(db, s->uid[p], NULL, NULL, add_id, accs)
                  : ROVE_ENOMEM;
    leave *lv = &s->lv;
    memset(lv, 0, sizeof(*lv));
    lv->delegator = p;
    lv->ndelegates = nothers >= 2 && accs && accs->n >= 2 && chance(40) ? 2 : 1;
    int first = rnd(nothers);
    for (int i = 0; i < lv->ndelegates; i++)
        lv->delegates[i] = others[(first + i) % nothers];
    lv->starts_at = sim_now + (chance(30) ? 0 : (int64_t)rnd(30) * 60000);
    lv->ends_at = lv->starts_at + 20 * 60000 + (int64_t)rnd(100) * 60000;
    lv->grace_ms = (int64_t)rnd(31) * 60000;
    static const char *const policies[] = {"cover", "reschedule", "cancel"};
    roved_delegation dg;
    memset(&dg, 0, sizeof(dg));
    roved_util_new_id(dg.id);
    snprintf(lv->id, sizeof(lv->id), "%s", dg.id);
    snprintf(dg.delegator_id, sizeof(dg.delegator_id), "%s", s->uid[p]);
    snprintf(dg.status, sizeof(dg.status), "planned");
    dg.starts_at = lv->starts_at;
    dg.ends_at = lv->ends_at;
    dg.grace_ms = lv->grace_ms;
    snprintf(dg.visit_policy, sizeof(dg.visit_policy), "%s", policies[rnd(3)]);
    snprintf(dg.created_by, sizeof(dg.created_by), "%s", s->uid[MONA]);
    dg.created_at = sim_now;
    snprintf(dg.reason, sizeof(dg.reason), "sim leave");
    if (rc == 0)
        rc = roved_store_delegation_put(db, &dg);
    /* One delegate: scope all, or some of the accounts; two: a split. */
    int all = lv->ndelegates == 1 && (accs->n == 0 || chance(50));
    char desc[256] = "";
    size_t dl = 0;
    for (int i = 0; rc == 0 && i < lv->ndelegates; i++) {
        roved_grant g;
        memset(&g, 0, sizeof(g));
        snprintf(g.delegation_id, sizeof(g.delegation_id), "%s", dg.id);
        snprintf(g.delegate_id, sizeof(g.delegate_id), "%s", s->uid[lv->delegates[i]]);
        snprintf(g.scope, sizeof(g.scope), "%s", all ? "all" : "accounts");
        snprintf(g.actions, sizeof(g.actions), "visits,accounts,tasks");
        rc = roved_store_grant_put(db, &g);
        int given = 0;
        for (int a = 0; rc == 0 && !all && a < accs->n; a++) {
            /* Two delegates: account 0 to the first, 1 to the second, the
             * rest at random; one delegate: a random non-empty subset. */
            int to = lv->ndelegates == 1 ? (chance(60) || (a == accs->n - 1 && !given) ? 0 : -1)
                     : a < 2             ? a
                                         : rnd(2);
            if (to != i)
                continue;
            rc = roved_store_grant_account_put(db, dg.id, g.delegate_id, accs->id[a]);
            given++;
        }
        if (dl < sizeof(desc))
            dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl, " %s(%s)",
                                   usernames[lv->delegates[i]], all ? "all" : "some");
    }
    char why[64];
    snprintf(why, sizeof(why), "leave %s", dg.id);
    if (rc == 0)
        rc = roved_store_absence_add(db, s->uid[p], lv->starts_at, lv->ends_at, why);
    if (rc == 0)
        rc = roved_store_scope_bump(db); /* the delegates receive the records now */
    free(accs);
    if (admin_end(s, db, rc, "leave") != 0)
        return -1;
    lv->open = 1;
    s->leaves++;
    slog(s,
         "admin: leave %s of %s from %+lld min to %+lld min, grace %lld min, visits %s,"
         " delegates%s",
         dg.id, usernames[p], (long long)(lv->starts_at - sim_now) / 60000,
         (long long)(lv->ends_at - sim_now) / 60000, (long long)lv->grace_ms / 60000,
         dg.visit_policy, desc);
    tick(s);
    return 0;
}

/* The delegator comes back early (admin_leave.c stop): ended, or revoked
 * when the leave had not started. */
static int event_return(sim *s)
{
    leave *lv = &s->lv;
    if (!lv->open || lv->stopped || sim_now >= lv->ends_at)
        return 0;
    const char *status = sim_now < lv->starts_at ? "revoked" : "ended";
    roved_db *db = NULL;
    if (admin_begin(s, &db) != 0)
        return -1;
    int rc = roved_store_delegation_stop(db, lv->id, status, sim_now);
    char why[64];
    snprintf(why, sizeof(why), "leave %s", lv->id);
    if (rc == 0)
        rc = roved_store_absence_cut(db, s->uid[lv->delegator], why, sim_now);
    if (admin_end(s, db, rc, "leave stop") != 0)
        return -1;
    lv->stopped = 1;
    lv->ends_at = sim_now;
    s->returns++;
    slog(s, "admin: leave %s of %s %s early", lv->id, usernames[lv->delegator], status);
    tick(s);
    return 0;
}

static void mark_revoked(sim *s, device *d, int64_t drain_until)
{
    d->revoked = 1;
    d->revoked_at = sim_now;
    d->drain_until = drain_until;
    slog(s, "admin: dev%d (%s) revoked, drain until %+lld min", d->idx, d->user,
         (long long)(drain_until - sim_now) / 60000);
}

/* A rep resigns (admin_transfer.c plan and run, without the HTTP layer):
 * their accounts go to one or two other reps, their open tasks to the
 * dispatcher, their devices are revoked with a drain window, and they are
 * deactivated. Two active reps always remain. */
static int event_transfer(sim *s)
{
    int reps[NPEOPLE], targets[NPEOPLE];
    if (active_reps(s, -1, 0, reps) < 3)
        return 0;
    int nfree = active_reps(s, -1, 1, reps);
    if (nfree == 0)
        return 0;
    int p = reps[rnd(nfree)];
    /* Not to someone on leave right now. */
    int ntargets = 0;
    for (int q = RITA; q < NPEOPLE; q++)
        if (s->active[q] && q != p && !(s->lv.open && s->lv.delegator == q))
            targets[ntargets++] = q;
    if (ntargets == 0)
        return 0;
    if (ntargets > 1 && chance(50))
        ntargets = 1 + rnd(ntargets); /* sometimes only one of them */
    int64_t drain = 10 * 60000 + (int64_t)rnd(80) * 60000;
    roved_db *db = NULL;
    if (admin_begin(s, &db) != 0)
        return -1;
    roved_user mona;
    id_list *accs = calloc(1, sizeof(*accs));
    int rc = accs ? roved_store_user_by_id(db, s->uid[MONA], &mona) : ROVE_ENOMEM;
    roved_transfer t;
    memset(&t, 0, sizeof(t));
    roved_util_new_id(t.id);
    snprintf(t.leaver_id, sizeof(t.leaver_id), "%s", s->uid[p]);
    snprintf(t.reason, sizeof(t.reason), "resignation");
    snprintf(t.status, sizeof(t.status), "planned");
    snprintf(t.created_by, sizeof(t.created_by), "%s", s->uid[MONA]);
    t.created_at = sim_now;
    t.batch_size = 50;
    t.plan_json = "[]";
    if (rc == 0)
        rc = roved_store_transfer_create(db, &t);
    if (rc == 0)
        rc = roved_store_accounts_matching(db, s->uid[p], NULL, NULL, add_id, accs);
    roved_move_stats st;
    memset(&st, 0, sizeof(st));
    int nmoved = 0;
    for (int a = 0; rc == 0 && a < accs->n; a++) {
        int to = targets[rnd(ntargets)], changed = 0;
        rc = roved_store_transfer_item_add(db, t.id, accs->id[a], s->uid[to], 0);
        if (rc == 0)
            rc = roved_transfer_move_account(&s->srv, db, &mona, accs->id[a], s->uid[to], NULL,
                                             t.id, t.reason, sim_now, &st, &changed);
        if (rc == 0)
            rc = roved_store_transfer_item_done(db, t.id, accs->id[a], sim_now);
        if (rc == 0 && changed && s->nmoves < MAX_MOVES) {
            move *m = &s->moves[s->nmoves++];
            snprintf(m->account, sizeof(m->account), "%s", accs->id[a]);
            snprintf(m->transfer, sizeof(m->transfer), "%s", t.id);
            memcpy(m->from, s->uid[p], sizeof(m->from)); /* both hold 26 + NUL */
            memcpy(m->to, s->uid[to], sizeof(m->to));
            nmoved++;
            slog(s, "admin: account %s %s -> %s", accs->id[a], usernames[p], usernames[to]);
        }
    }
    if (rc == 0)
        rc = roved_transfer_reassign_tasks(db, &mona, s->uid[p], t.id, sim_now, &st);
    int64_t acc = 0, vis = 0, tasks = 0;
    if (rc == 0)
        rc = roved_store_user_references(db, s->uid[p], &acc, &vis, &tasks);
    if (rc == 0 && (acc > 0 || vis > 0 || tasks > 0)) {
        /* The admin API refuses to finish; so does the sim. */
        roved_store_write_rollback(s->srv.store, db);
        free(accs);
        slog(s, "admin: transfer of %s refused: %lld accounts, %lld visits, %lld tasks left",
             usernames[p], (long long)acc, (long long)vis, (long long)tasks);
        s->nmoves -= nmoved;
        return 0;
    }
    int revoked = 0;
    if (rc == 0)
        rc = roved_store_user_devices_revoke(db, s->uid[p], sim_now, sim_now + drain, &revoked);
    if (rc == 0)
        rc = roved_store_user_set_status(db, usernames[p], ROVED_USER_DEACTIVATED);
    if (rc == 0)
        rc = roved_store_transfer_set_status(db, t.id, "done", sim_now);
    free(accs);
    if (admin_end(s, db, rc, "transfer") != 0)
        return -1;
    s->active[p] = 0;
    s->transfers++;
    slog(s,
         "admin: %s resigned, transfer %s: %d accounts, %lld visits followed, %d devices"
         " revoked",
         usernames[p], t.id, nmoved, (long long)st.visits, revoked);
    for (int i = 0; i < s->ndev; i++)
        if (s->dev[i].person == p && !s->dev[i].revoked)
            mark_revoked(s, &s->dev[i], sim_now + drain);
    return 0;
}

/* One device is revoked (lost tablet); at least two others stay. */
static int event_revoke(sim *s)
{
    int live[MAX_DEV], n = 0;
    for (int i = 0; i < s->ndev; i++)
        if (!s->dev[i].revoked)
            live[n++] = i;
    if (n < 3)
        return 0;
    device *d = &s->dev[live[rnd(n)]];
    int64_t drain = 10 * 60000 + (int64_t)rnd(80) * 60000;
    roved_db *db = NULL;
    if (admin_begin(s, &db) != 0)
        return -1;
    int rc = roved_store_device_revoke(db, d->c->device_id, sim_now, sim_now + drain);
    if (admin_end(s, db, rc, "device revoke") != 0)
        return -1;
    s->revocations++;
    mark_revoked(s, d, sim_now + drain);
    return 0;
}

/* Moves server time forward by ms. Delegation steps run at their times (as
 * roved's tick thread would), and a revoked device syncs for the last time
 * in the last millisecond of its drain, over a reliable link: a change it made inside
 * the drain is then never lost to the wipe. */
static void advance(sim *s, int64_t ms)
{
    int64_t target = sim_now + ms;
    while (s->failure[0] == 0) {
        int64_t next = target;
        int drain = -1;
        for (int i = 0; i < s->ndev; i++) {
            device *d = &s->dev[i];
            /* When time crosses the end of the drain: the sync comes
             * after every edit made inside it. */
            int64_t at = d->drain_until - 1;
            if (d->revoked && !d->wiped && !d->drained && d->drain_until <= target &&
                at >= sim_now && at <= next) {
                next = at;
                drain = i;
            }
        }
        if (s->lv.open && s->lv.starts_at > sim_now && s->lv.starts_at < next) {
            next = s->lv.starts_at;
            drain = -1;
        }
        if (s->lv.open && s->lv.ends_at > sim_now && s->lv.ends_at < next) {
            next = s->lv.ends_at;
            drain = -1;
        }
        sim_now = next;
        tick(s);
        if (drain >= 0) {
            s->dev[drain].drained = 1;
            slog(s, "dev%d: last sync before its drain ends", drain);
            dev_sync(s, &s->dev[drain], 1);
        }
        if (s->lv.open && sim_now > s->lv.ends_at + s->lv.grace_ms)
            s->lv.open = 0; /* over, grace included: another leave may come */
        if (sim_now >= target)
            break;
    }
}

/* ---- final checks -------------------------------------------------------------- */

static int count_rows(device *d, const char *table, int64_t *out)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
    rove_rows *q = NULL;
    int rc = rove_client_query(d->c, &q, sql, NULL, 0);
    if (rc == 0 && (rc = rove_rows_next(q)) == 1) {
        *out = rove_rows_int(q, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = ROVE_EGENERIC;
    }
    rove_rows_free(q);
    return rc;
}

/* Invariant 1: the replica of d holds exactly the rows of ref, a replica
 * of the same user freshly pulled (its scope now), and every row equals the
 * server's; with ref NULL (a wiped device), nothing at all. */
static int check_replica(sim *s, device *d, rove_client *ref)
{
    roved_db *db = NULL;
    int rc = roved_store_read_begin(s->srv.store, &db);
    if (rc != 0)
        return fail(s, "read_begin: %s", rove_strerror(rc));
    for (int t = 0; t < NT && s->failure[0] == 0; t++) {
        const rove__table *tb = table_of(t);
        int64_t want = 0, here = 0;
        device rd = {.idx = -1, .c = ref};
        if (count_rows(d, tb->name, &here) != 0)
            fail(s, "dev%d: count %s: %s", d->idx, tb->name, rove_client_errmsg(d->c));
        else if (ref != NULL && count_rows(&rd, tb->name, &want) != 0)
            fail(s, "fresh %s: count %s: %s", d->user, tb->name, rove_client_errmsg(ref));
        else if (here != want)
            fail(s, "dev%d (%s%s) holds %lld %s rows, its scope %lld", d->idx, d->user,
                 d->wiped ? ", wiped" : "", (long long)here, tb->name, (long long)want);
        for (int i = 0; ref != NULL && i < s->nids[t] && s->failure[0] == 0; i++) {
            const char *id = s->ids[t][i];
            rove__value v[ROVE__MAX_COLS];
            rove__buf text = ROVE__BUF_INIT;
            int src = roved_store_row_get(db, tb, id, v, &text);
            int on_server = src == 0 && !(v[ROVE__COL_DELETED].type == ROVE__T_INT &&
                                          v[ROVE__COL_DELETED].i != 0);
            rove_record *r = NULL, *rr = NULL;
            int drc = rove_client_get(d->c, &r, tb->name, id);
            int in_scope = rove_client_get(ref, &rr, tb->name, id) == 0;
            rove_record_free(rr);
            if (in_scope && !on_server)
                fail(s, "fresh %s: pulled %s %s, which is not live on the server", d->user,
                     tb->name, id);
            else if (in_scope != (drc == 0))
                fail(s, "dev%d: %s %s is %s the scope of %s but %s in the replica", d->idx,
                     tb->name, id, in_scope ? "in" : "outside", d->user,
                     drc == 0 ? "present" : "absent");
            for (size_t k = 0; in_scope && drc == 0 && k < tb->ncols; k++) {
                char a[4096], b[4096];
                fmt_value(a, sizeof(a), &v[k]);
                fmt_record(b, sizeof(b), r, &tb->cols[k]);
                if (strcmp(a, b) != 0) {
                    fail(s, "dev%d: %s %s.%s is \"%s\" on the server, \"%s\" in the replica",
                         d->idx, tb->name, id, tb->cols[k].name, a, b);
                    break;
                }
            }
            rove_record_free(r);
            rove__buf_free(&text);
        }
    }
    roved_store_read_end(s->srv.store, db);
    return s->failure[0] ? -1 : 0;
}

/* A new device of person p, logged in and synced to the end: the scope of
 * its user as the server sees it now. */
static rove_client *fresh_replica(sim *s, int p)
{
    device *f = &s->fresh[p];
    if (f->c != NULL)
        return f->c;
    f->idx = MAX_DEV; /* no skew */
    f->person = p;
    f->user = usernames[p];
    f->page_size = 50;
    f->push_batch = 50;
    snprintf(f->path, sizeof(f->path), "%s/fresh-%s.db", s->dir, usernames[p]);
    if (dev_open(s, f) != 0)
        return NULL;
    sim_actor = -1;
    rove_sync_report rep;
    int rc = rove_client_login(f->c, f->user, "pw");
    if (rc == 0)
        rc = rove_client_sync(f->c, &rep);
    if (rc != 0) {
        fail(s, "fresh device of %s: %s", f->user, rove_client_errmsg(f->c));
        return NULL;
    }
    return f->c;
}

static int query_int(sim *s, const char *sql, const char *a, const char *b, const char *c,
                     const char *d, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    const char *args[4] = {a, b, c, d};
    *out = -1;
    if (sqlite3_prepare_v2(s->q, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, "check query: %s", sqlite3_errmsg(s->q));
    for (int i = 0; i < 4 && args[i]; i++)
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Invariants 5 and 6: every account not deleted has an active owner; every
 * account a transfer moved has its audit event and owner history row. */
static int check_owners(sim *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->q,
                           "SELECT a.id, a.owner_id, u.status FROM account a LEFT JOIN users u "
                           "ON u.id = a.owner_id WHERE a.deleted = 0 AND (u.id IS NULL OR "
                           "u.status <> 'active')",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "owner query: %s", sqlite3_errmsg(s->q));
    if (sqlite3_step(st) == SQLITE_ROW)
        fail(s, "account %s has owner %s, who is %s", sqlite3_column_text(st, 0),
             sqlite3_column_text(st, 1),
             sqlite3_column_type(st, 2) == SQLITE_NULL
                 ? "unknown"
                 : (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    for (int i = 0; i < s->nmoves && s->failure[0] == 0; i++) {
        move *m = &s->moves[i];
        int64_t audits = 0, history = 0;
        query_int(s,
                  "SELECT COUNT(*) FROM audit WHERE table_name = 'account' AND row_id = ?1 AND "
                  "op = 'transfer' AND instr(diff, ?2) > 0 AND instr(diff, ?3) > 0 AND "
                  "instr(diff, ?4) > 0",
                  m->account, m->transfer, m->from, m->to, &audits);
        query_int(s,
                  "SELECT COUNT(*) FROM account_owner_history WHERE account_id = ?1 AND "
                  "transfer_id = ?2 AND from_owner = ?3 AND to_owner = ?4",
                  m->account, m->transfer, m->from, m->to, &history);
        if (audits != 1 || history != 1)
            fail(s, "transfer %s moved account %s: %lld audit events, %lld owner history rows",
                 m->transfer, m->account, (long long)audits, (long long)history);
    }
    return s->failure[0] ? -1 : 0;
}

static int check_writes(sim *s)
{
    for (int i = 0; i < s->nch && s->failure[0] == 0; i++)
        if (s->ch[i].status < 0 && !s->ch[i].wiped)
            fail(s, "c%d (%s %s by dev%d) never got a receipt", i, tnames[s->ch[i].table],
                 s->ch[i].row, s->ch[i].dev);
    for (int i = 0; i < s->nwr && s->failure[0] == 0; i++) {
        wval *w = &s->wr[i];
        int st = s->ch[w->change].status;
        if (st == ROVE_RECEIPT_REJECTED || s->ch[w->change].wiped)
            continue;
        char why[300];
        if (account_for(s, w, 0, why, sizeof(why)) != 0)
            fail(s,
                 "lost write: c%d (%s, dev%d) %s %s.%s = \"%s\": not stored, not in the "
                 "conflict log, not seen by a later change (%s)",
                 w->change, status_name(st), s->ch[w->change].dev, tnames[w->table], w->row,
                 table_of(w->table)->cols[w->col].name, w->tok, why);
    }
    return s->failure[0] ? -1 : 0;
}

/* ---- one seed -------------------------------------------------------------------- */

static void rm_tree(const char *dir)
{
    DIR *dp = opendir(dir);
    if (dp != NULL) {
        struct dirent *e;
        while ((e = readdir(dp)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[1024];
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(p);
            else
                unlink(p);
        }
        closedir(dp);
    }
    rmdir(dir);
}

static const char *base_dir(void)
{
    const char *d = getenv("ROVE_SIM_DIR");
    if (d != NULL && d[0] != 0)
        return d;
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    d = getenv("TMPDIR");
    return d != NULL && d[0] != 0 ? d : "/tmp";
}

static int run_steps(sim *s, int nsteps)
{
    static const char *const users[MAX_DEV] = {"rita", "rita", "raj", "rosa", "mona"};
    s->ndev = 3 + rnd(MAX_DEV - 2);
    for (int i = 0; i < s->ndev; i++) {
        device *d = &s->dev[i];
        d->idx = i;
        /* Device 1 is rita's second device; with three devices mona joins. */
        d->user = s->ndev == 3 && i == 2 ? "mona" : users[i];
        for (int p = 0; p < NPEOPLE; p++)
            if (strcmp(usernames[p], d->user) == 0)
                d->person = p;
        d->page_size = 1 + (unsigned)rnd(8);
        d->push_batch = 1 + (unsigned)rnd(6);
        dev_skew[i] = chance(50) ? 0 : (int64_t)rnd(1200001) - 600000;
        snprintf(d->path, sizeof(d->path), "%s/dev%d.db", s->dir, i);
        if (dev_open(s, d) != 0)
            return -1;
        sim_actor = i;
        int rc = rove_client_login(d->c, d->user, "pw");
        sim_actor = -1;
        if (rc != 0)
            return fail(s, "dev%d: login %s: %s", i, d->user, rove_client_errmsg(d->c));
        slog(s, "dev%d: %s page=%u batch=%u skew=%lld", i, d->user, d->page_size, d->push_batch,
             (long long)dev_skew[i]);
        if (dev_sync(s, d, 1) != 0)
            return -1;
    }
    int p_lose = rnd(15), p_drop = rnd(30);
    slog(s, "seed %llu: %d devices, lose %d%%, drop %d%%", (unsigned long long)s->seed, s->ndev,
         p_lose, p_drop);
    for (int step = 0; step < nsteps && s->failure[0] == 0; step++) {
        advance(s, rnd(120000));
        device *d = &s->dev[rnd(s->ndev)];
        int what = rnd(100);
        if (what >= 94) {
            /* An admin event; delegations also end by time (advance). */
            int e = rnd(100);
            if (e < 30)
                event_leave(s);
            else if (e < 50)
                event_return(s);
            else if (e < 70)
                event_transfer(s);
            else
                event_revoke(s);
            continue;
        }
        sim_actor = d->idx;
        if (what < 45) {
            step_update(s, d);
        } else if (what < 50) {
            step_insert_contact(s, d);
        } else if (what < 53) {
            step_delete_contact(s, d);
        } else if (what < 84) {
            s->p_lose = p_lose;
            s->p_drop = p_drop;
            dev_sync(s, d, 0);
            s->p_lose = s->p_drop = 0;
        } else if (what < 89) {
            dev_skew[d->idx] = (int64_t)rnd(1200001) - 600000;
            slog(s, "dev%d: clock skew now %lld ms", d->idx, (long long)dev_skew[d->idx]);
        } else if (what < 92) {
            /* A restart: everything the device knows comes from its file. */
            rove_client_free(d->c);
            d->c = NULL;
            s->restarts++;
            slog(s, "dev%d: restart", d->idx);
            dev_open(s, d);
        } else {
            slog(s, "an hour passes");
            advance(s, 3600000); /* a long offline stretch */
        }
        sim_actor = -1;
    }
    if (s->failure[0])
        return -1;
    /* Everyone syncs until there is nothing left to push, then once more so
     * the last pushes reach every replica. */
    /* First past every drain, and past the end (and grace) of the leave. */
    int64_t until = sim_now;
    for (int i = 0; i < s->ndev; i++)
        if (s->dev[i].revoked && s->dev[i].drain_until > until)
            until = s->dev[i].drain_until;
    if (s->lv.open && s->lv.ends_at + s->lv.grace_ms > until)
        until = s->lv.ends_at + s->lv.grace_ms;
    slog(s, "-- quiesce");
    advance(s, until - sim_now + 60000);
    for (int round = 0, extra = 0; round < 12 && s->failure[0] == 0; round++) {
        uint64_t pending = 0;
        advance(s, 1000);
        for (int i = 0; i < s->ndev && s->failure[0] == 0; i++) {
            dev_sync(s, &s->dev[i], 1);
            uint64_t p = 0;
            rove_client_pending(s->dev[i].c, &p);
            pending += p;
        }
        if (pending == 0 && ++extra == 2)
            break;
        if (round == 11)
            fail(s, "still %llu changes pending after 12 rounds", (unsigned long long)pending);
    }
    for (int i = 0; i < s->ndev && s->failure[0] == 0; i++) {
        device *d = &s->dev[i];
        if (d->revoked && !d->wiped)
            fail(s, "dev%d: revoked, past its drain, not wiped", i);
        else
            check_replica(s, d, d->wiped ? NULL : fresh_replica(s, d->person));
    }
    if (s->failure[0] == 0)
        check_writes(s);
    if (s->failure[0] == 0)
        check_owners(s);
    return s->failure[0] ? -1 : 0;
}

/* Runs one seed; 0 when every invariant held. *digest summarises the run for
 * the replay check. */
static int run_seed(uint64_t seed, int nsteps, int verbose, uint64_t *digest)
{
    sim *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    s->ch = calloc(MAX_CHANGES, sizeof(*s->ch));
    s->wr = calloc(MAX_WRITES, sizeof(*s->wr));
    s->ob = calloc(MAX_OBS, sizeof(*s->ob));
    if (s->ch == NULL || s->wr == NULL || s->ob == NULL) {
        free(s->ch);
        free(s->wr);
        free(s->ob);
        free(s);
        return -1;
    }
    the_sim = s;
    s->seed = seed;
    rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
    bytes_state = seed ^ 0x5DEECE66Dull;
    sim_now = SIM_EPOCH;
    sim_actor = -1;
    memset(dev_skew, 0, sizeof(dev_skew));

    snprintf(s->dir, sizeof(s->dir), "%s/rove-sim-%d-%llu", base_dir(), (int)getpid(),
             (unsigned long long)seed);
    rm_tree(s->dir);
    char srvdir[600];
    snprintf(srvdir, sizeof(srvdir), "%s/server", s->dir);
    int rc = 0;
    if (mkdir(s->dir, 0700) != 0 || mkdir(srvdir, 0700) != 0) {
        fail(s, "cannot create %s: %s", s->dir, strerror(errno));
        rc = -1;
    }
    char *argv[] = {"rove-sim", NULL};
    if (rc == 0 && roved_config_load(&s->cfg, 1, argv) != 0)
        rc = fail(s, "roved_config_load");
    if (rc == 0) {
        snprintf(s->cfg.data_dir, sizeof(s->cfg.data_dir), "%s", srvdir);
        s->cfg.pbkdf2_iterations = 1; /* logins cost nothing here */
        char perr[300];
        if (roved_policy_load(&s->srv.policy, &s->cfg, perr, sizeof(perr)) != 0)
            rc = fail(s, "policy: %s", perr);
    }
    if (rc == 0) {
        s->srv.cfg = &s->cfg;
        pthread_mutex_init(&s->srv.hlc_lock, NULL);
        roved_store_options so = {srvdir, 0, 2};
        if (roved_store_open(&s->srv.store, &so) != 0)
            rc = fail(s, "cannot open the store in %s", srvdir);
        char kerr[300];
        if (rc == 0 && roved_lease_key_load(srvdir, &s->srv.lease_key, kerr, sizeof(kerr)) != 0)
            rc = fail(s, "lease key: %s", kerr);
    }
    if (rc == 0) {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", srvdir);
        if (sqlite3_open_v2(dbpath, &s->q, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
            rc = fail(s, "cannot open %s for the checks", dbpath);
        else
            sqlite3_busy_timeout(s->q, 5000);
    }
    if (rc == 0)
        rc = seed_org(s);
    if (rc == 0)
        rc = run_steps(s, nsteps);
    slog(s,
         "seed %llu: %d changes, %d values; receipts: %d applied, %d merged, %d "
         "overridden, %d refused; %d requests and %d answers lost, %d restarts",
         (unsigned long long)seed, s->nch, s->nwr, s->applied, s->merged, s->overridden,
         s->rejected, s->lost, s->dropped, s->restarts);
    char codes[256] = "";
    size_t cl = 0;
    for (int k = 0; k < MAX_CODES && s->code_name[k] != NULL && cl < sizeof(codes); k++)
        cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, " %s %d", s->code_name[k],
                               s->code_count[k]);
    slog(s,
         "seed %llu: %d quarantined; refused by code:%s; %d leaves (%d ended early), %d "
         "transfers (%d accounts), %d revocations, %d wipes reported, %d unsent changes "
         "wiped, %d writes refused by a lease",
         (unsigned long long)seed, s->quarantined, codes[0] ? codes : " none", s->leaves,
         s->returns, s->transfers, s->nmoves, s->revocations, s->wipes, s->wiped_changes,
         s->lease_refusals);

    /* The digest: the step log (ids included) and the final server version. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s->log_len; i++)
        h = (h ^ (unsigned char)s->log[i]) * 1099511628211ull;
    *digest = h;

    if (rc != 0 || s->failure[0]) {
        fprintf(stderr, "\n==== rove-sim: seed %llu FAILED: %s\n", (unsigned long long)seed,
                s->failure);
        fprintf(stderr, "---- step log ----\n%s---- end of seed %llu ----\n",
                s->log ? s->log : "", (unsigned long long)seed);
        fprintf(stderr, "replay: ROVE_SIM_SEED=%llu %s\n", (unsigned long long)seed,
                "tests/sim/rove_sim");
        rc = -1;
    } else if (verbose) {
        printf("%s", s->log ? s->log : "");
    }
    for (int i = 0; i < s->ndev; i++)
        rove_client_free(s->dev[i].c);
    for (int p = 0; p < NPEOPLE; p++)
        rove_client_free(s->fresh[p].c);
    sqlite3_close(s->q);
    if (s->srv.store != NULL) {
        roved_store_close(s->srv.store);
        pthread_mutex_destroy(&s->srv.hlc_lock);
    }
    roved_lease_key_free(s->srv.lease_key);
    s->srv.lease_key = NULL;
    if (rc == 0 || getenv("ROVE_SIM_KEEP") == NULL)
        rm_tree(s->dir);
    else
        fprintf(stderr, "kept: %s\n", s->dir);
    free(s->log);
    free(s->ch);
    free(s->wr);
    free(s->ob);
    free(s);
    the_sim = NULL;
    return rc;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == 0)
        return dflt;
    return strtoull(v, NULL, 10);
}

int main(void)
{
    roved_log_set_level(ROVED_LOG_ERROR + 1); /* the server's log is noise here */
    rove__test_clock = sim_clock;
    rove__test_random = sim_random;
    int one = getenv("ROVE_SIM_SEED") != NULL;
    uint64_t first = one ? env_u64("ROVE_SIM_SEED", 1) : env_u64("ROVE_SIM_FIRST", 1);
    uint64_t count = one ? 1 : env_u64("ROVE_SIM_SEEDS", 200);
    int nsteps = (int)env_u64("ROVE_SIM_STEPS", 60);
    int verbose = one || env_u64("ROVE_SIM_VERBOSE", 0) != 0;
    int replay = env_u64("ROVE_SIM_REPLAY", 0) != 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int failed = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        uint64_t d1 = 0, d2 = 0;
        if (run_seed(seed, nsteps, verbose, &d1) != 0) {
            failed = 1;
            break;
        }
        if (replay) {
            if (run_seed(seed, nsteps, 0, &d2) != 0) {
                failed = 1;
                break;
            }
            if (d1 != d2) {
                fprintf(stderr, "rove-sim: seed %llu did not replay identically\n",
                        (unsigned long long)seed);
                failed = 1;
                break;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("rove-sim: seeds %llu..%llu %s in %.1f s\n", (unsigned long long)first,
           (unsigned long long)(first + count - 1), failed ? "FAILED" : "passed", secs);
    return failed ? 1 : 0;
}
