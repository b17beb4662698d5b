/*
 * The authorization suite's fixtures (authz.h): failure counting, answers,
 * the stored-table baseline and the world every admin route is checked in.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "wire.h"

/* ---- failures ------------------------------------------------------------- */

int authz_failures;

void authz_fail(const char *rname, const char *role, const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    th_log("FAIL %s / %s / %s: %s", rname, role, what, msg);
    authz_failures++;
}

void authz_assert_no_failures(void)
{
    TH_ASSERT_MSG(authz_failures == 0, "%d authorization rows failed (see FAIL lines above)",
                  authz_failures);
}

/* ---- answers -------------------------------------------------------------- */

void authz_answer_take(th_resp *r, const char *what, authz_answer *out)
{
    TH_ASSERT_MSG(r->curl_rc == 0, "%s: no answer", what);
    out->status = r->status;
    snprintf(out->code, sizeof(out->code), "%s", r->error);
    snprintf(out->msg, sizeof(out->msg), "%s", r->errmsg);
    out->body = calloc(1, r->body.len + 1);
    TH_ASSERT(out->body != NULL);
    if (r->body.len)
        memcpy(out->body, r->body.ptr, r->body.len);
    th_resp_free(r);
}

void authz_answer_free(authz_answer *a) { free(a->body); }

int authz_same_answer(const authz_answer *x, const authz_answer *y)
{
    return x->status == y->status && strcmp(x->code, y->code) == 0 &&
           strcmp(x->msg, y->msg) == 0 && strcmp(x->body, y->body) == 0;
}

/* ---- the stored tables ---------------------------------------------------- */

/* The domain tables and device tokens; volatile bookkeeping (sessions, last
 * sync, a token's last use, cursors, receipts, login counters and the audit
 * of logins) is left out. */
static const char *const stored_sql[] = {
    "SELECT * FROM account ORDER BY id",
    "SELECT * FROM contact ORDER BY id",
    "SELECT * FROM visit ORDER BY id",
    "SELECT * FROM service_task ORDER BY id",
    "SELECT * FROM stage_change ORDER BY id",
    "SELECT * FROM users ORDER BY id",
    "SELECT * FROM territories ORDER BY id",
    "SELECT * FROM territory_members ORDER BY territory_id, user_id, role, valid_from",
    "SELECT id, user_id, status, revoked_at, drain_until, wiped_at FROM devices ORDER BY id",
    "SELECT id, device_id, user_id, token_hash, created_at, expires_at, revoked_at, revoked_by "
    "FROM device_tokens ORDER BY id",
    "SELECT * FROM delegations ORDER BY id",
    "SELECT * FROM delegation_grants ORDER BY delegation_id, delegate_id",
    "SELECT * FROM delegation_accounts ORDER BY delegation_id, account_id",
    "SELECT * FROM transfers ORDER BY id",
    "SELECT * FROM transfer_items ORDER BY transfer_id, account_id",
    "SELECT * FROM account_owner_history ORDER BY id",
    "SELECT * FROM user_absences ORDER BY id",
    "SELECT * FROM quarantine ORDER BY id",
    "SELECT * FROM conflicts ORDER BY id",
    "SELECT * FROM row_clocks ORDER BY table_name, row_id",
    "SELECT * FROM scope_moves ORDER BY kind, row_id",
    "SELECT key, value FROM meta WHERE key IN ('version', 'scope_epoch') ORDER BY key",
    "SELECT * FROM audit WHERE op NOT LIKE '%login%' AND op NOT LIKE '%lockout%' ORDER BY id",
};

/*
 * db stays open for the whole case: its PRAGMA data_version changes exactly
 * when another connection (roved) commits, so while it equals version
 * nothing was committed since the baseline t was read and the tables need
 * not be read again.
 */
struct authz_stored {
    sqlite3 *db;
    int64_t version;
    char *t[NELEM(stored_sql)];
    size_t reads; /* full reads, for the log */
};

static void exec(sqlite3 *db, const char *sql)
{
    TH_ASSERT_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
}

static int64_t data_version(sqlite3 *db)
{
    return th_db_int(db, "PRAGMA data_version", NULL, NULL);
}

/* Reads the tables and their version in one snapshot into t. */
static void read_tables(authz_stored *st, char **t)
{
    exec(st->db, "BEGIN");
    st->version = data_version(st->db);
    for (size_t i = 0; i < NELEM(stored_sql); i++)
        t[i] = th_db_dump(st->db, stored_sql[i]);
    exec(st->db, "COMMIT");
    st->reads++;
}

/* Rereads the tables when something was committed since the baseline; with
 * rname, a table that differs from the baseline fails the row. */
static void refresh(authz_stored *st, const char *rname, const char *role, const char *what)
{
    if (data_version(st->db) == st->version)
        return;
    char *now[NELEM(stored_sql)];
    read_tables(st, now);
    for (size_t i = 0; i < NELEM(stored_sql); i++) {
        if (rname != NULL && strcmp(st->t[i], now[i]) != 0)
            authz_fail(rname, role, what, "a refused write changed the stored tables (%s)",
                       stored_sql[i]);
        free(st->t[i]);
        st->t[i] = now[i];
    }
}

authz_stored *authz_stored_new(const th_server *s)
{
    authz_stored *st = calloc(1, sizeof(*st));
    TH_ASSERT(st != NULL);
    st->db = th_server_db(s);
    read_tables(st, st->t);
    return st;
}

void authz_stored_free(authz_stored *st)
{
    if (st == NULL)
        return;
    th_log("stored tables: read %zu times", st->reads);
    for (size_t i = 0; i < NELEM(stored_sql); i++)
        free(st->t[i]);
    sqlite3_close(st->db);
    free(st);
}

void authz_stored_rebase(authz_stored *st) { refresh(st, NULL, NULL, NULL); }

void authz_stored_check(authz_stored *st, const char *rname, const char *role, const char *what)
{
    refresh(st, rname, role, what);
}

/* ---- the world ------------------------------------------------------------ */
/* Remembers a string that only East (east = 1) or only North/South entries
 * contain; quoted: as a JSON string. */
static void mark(authz_world *w, int east, int quoted, const char *v)
{
    size_t *n = east ? &w->neast : &w->nnorth;
    char(*marks)[40] = east ? w->east_marks : w->north_marks;
    TH_ASSERT(*n < NELEM(w->east_marks) && strlen(v) < 30);
    if (quoted)
        snprintf(marks[(*n)++], sizeof(marks[0]), "\"%.30s\"", v);
    else
        snprintf(marks[(*n)++], sizeof(marks[0]), "%.30s", v);
}

void authz_server_text(const th_server *s, const char *sql, const char *p1, char *out,
                       size_t size)
{
    sqlite3 *db = th_server_db(s);
    th_db_text(db, sql, p1, out, size);
    sqlite3_close(db);
}

/* POST json as token to /v1/admin/path; asserts status; copies member key
 * of the answer into out when out is not NULL. */
void authz_admin_do(const authz_world *w, const char *token, const char *path,
                    const char *ctype, const char *body, long want, const char *key, char *out,
                    size_t size)
{
    char full[300];
    snprintf(full, sizeof(full), "/v1/admin/%s", path);
    th_resp r;
    th_http(w->s, "POST", full, token, ctype ? ctype : "application/json", body, strlen(body),
            &r);
    TH_ASSERT_MSG(r.status == want, "setup: POST %s: %ld %s %s: %.*s", path, r.status, r.error,
                  r.errmsg, (int)r.body.len, r.body.len ? (const char *)r.body.ptr : "");
    if (out != NULL)
        TH_ASSERT_MSG(th_json_str(&r, key, out, size) == 0, "setup: %s: no %s", path, key);
    th_resp_free(&r);
}

void authz_login(const authz_world *w, const char *user, const char *pw, th_login *out)
{
    TH_ASSERT_MSG(th_login_raw(w->s, user, pw, out) == 200, "setup: device login %s", user);
}

/* A raw push of changes (already written into b after the request header). */
static void push(const authz_world *w, const char *token, rove__buf *b, const char *what)
{
    th_sync_result *res = calloc(1, sizeof(*res));
    TH_ASSERT(res != NULL);
    long st = th_sync_raw(w->s, token, b, res, NULL);
    TH_ASSERT_MSG(st == 200, "setup: %s: sync %ld %s %s", what, st, res->resp.error,
                  res->resp.errmsg);
    th_sync_result_free(res);
    free(res);
    rove__buf_free(b);
}

/* Two devices write the same four columns of acc, the older write last: four
 * conflict-log entries. */
static void make_conflicts(const authz_world *w, const char *token_new, const char *token_old,
                           const char *acc)
{
    static const char *const cols[] = {"name", "address", "phone"};
    int64_t base = th_server_int(w->s, "SELECT version FROM account WHERE id = ?1", acc, NULL);
    for (int older = 0; older < 2; older++) {
        th_col c[4];
        for (size_t i = 0; i < 3; i++)
            c[i] =
                (th_col){cols[i], th_text(older ? "authz older value" : "authz newer value")};
        c[3] = (th_col){"lat", th_real(older ? 50.5 : 51.5)};
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, 0, 1, 1);
        char ch[27];
        th_new_id(ch);
        th_set_clock_skew(older ? -120000 : 0);
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc, base, c, 4);
        th_set_clock_skew(0);
        push(w, older ? token_old : token_new, &b, "conflicting edit");
    }
    TH_ASSERT_MSG(
        th_server_int(w->s, "SELECT count(*) FROM conflicts WHERE row_id = ?1", acc, NULL) >= 4,
        "setup: the conflicting edits of %s left no conflict-log entries", acc);
}

/* The device pulls its scope, acc moves to new_owner in territory (out of
 * the device's scope), then the device adds n contacts under acc: n
 * quarantine entries. */
static void make_quarantine(authz_world *w, const th_login *dev, const char *acc,
                            const char *new_owner, const char *territory, int n)
{
    sqlite3 *snap = th_snapshot_new();
    th_snapshot_pull(w->s, dev->token, snap);
    sqlite3_close(snap);
    char path[128], body[200];
    snprintf(path, sizeof(path), "accounts/%s/assign", acc);
    snprintf(body, sizeof(body), "{\"owner\":\"%s\",\"territory\":\"%s\"}", new_owner,
             territory);
    authz_admin_do(w, w->admin, path, NULL, body, 200, NULL, NULL, 0);
    usleep(30 * 1000);
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, 0, 1, (size_t)n);
    for (int i = 0; i < n; i++) {
        char ch[27], id[27];
        th_new_id(ch);
        th_new_id(id);
        th_col c[2] = {{"account_id", th_text(acc)}, {"name", th_text("Late contact")}};
        th_w_change(&b, ch, "contact", ROVE__OP_INSERT, id, 0, c, 2);
    }
    push(w, dev->token, &b, "late contacts");
    TH_ASSERT_MSG(th_server_int(w->s,
                                "SELECT count(*) FROM quarantine WHERE status = 'pending' AND "
                                "payload LIKE '%' || ?1 || '%'",
                                acc, NULL) == n,
                  "setup: the late contacts under %s were not quarantined", acc);
}

/* A service task nobody has the skills for: it stays in the queue. */
static void make_task(const authz_world *w, const th_login *dev, const char *acc, char *id)
{
    th_new_id(id);
    th_col c[5] = {{"account_id", th_text(acc)},
                   {"type", th_text("complaint")},
                   {"priority", th_text("normal")},
                   {"title", th_text("authz task")},
                   {"required_skills", th_text("authz:5")}};
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, 0, 1, 1);
    char ch[27];
    th_new_id(ch);
    th_w_change(&b, ch, "service_task", ROVE__OP_INSERT, id, 0, c, 5);
    push(w, dev->token, &b, "new task");
    TH_ASSERT_MSG(
        th_server_int(w->s, "SELECT count(*) FROM service_task WHERE id = ?1", id, NULL) == 1,
        "setup: task under %s not stored", acc);
}

static void make_leave(authz_world *w, const char *token, const char *who, const char *delegate,
                       char *id)
{
    char body[300];
    int64_t from = w->serial;
    w->serial -= 86400000;
    snprintf(body, sizeof(body),
             "{\"user\":\"%s\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":\"%s\"}]}",
             who, (long long)from, (long long)(from + 3600000), delegate);
    authz_admin_do(w, token, "leaves", NULL, body, 201, "id", id, 27);
}

static void objset(authz_world *w, int k, const char *n, const char *e, const char *e2,
                   const char *miss)
{
    snprintf(w->o[k].n, sizeof(w->o[k].n), "%s", n);
    snprintf(w->o[k].e, sizeof(w->o[k].e), "%s", e);
    snprintf(w->o[k].e2, sizeof(w->o[k].e2), "%s", e2 ? e2 : e);
    snprintf(w->o[k].miss, sizeof(w->o[k].miss), "%s", miss);
}

void authz_world_setup(authz_world *w)
{
    double t0 = th_mono();
    w->s = th_server_start(NULL);
    w->serial = 4000000000000ll; /* 2096 */
    th_new_id(w->missing_id);
    th_admin_login(w->s, "admin", "admin-demo", w->admin, sizeof(w->admin));
    th_admin_login(w->s, "maria", "maria-demo", w->maria, sizeof(w->maria));
    char rita_id[27], tmp[64];
    authz_server_text(w->s, "SELECT id FROM users WHERE username = ?1", "rita", rita_id,
                      sizeof(rita_id));
    authz_server_text(w->s, "SELECT home_territory_id FROM users WHERE username = ?1", "rita",
                      w->north, sizeof(w->north));
    authz_server_text(w->s, "SELECT home_territory_id FROM users WHERE username = ?1", "rosa",
                      w->south, sizeof(w->south));

    /* East: a territory, its manager erin, reps ezra, evan, eli and eve. */
    authz_admin_do(w, w->admin, "import/territories", "text/csv", "name,parent,owner\nEast,,\n",
                   200, NULL, NULL, 0);
    authz_server_text(w->s, "SELECT id FROM territories WHERE name = ?1", "East", w->east,
                      sizeof(w->east));
    authz_admin_do(w, w->admin, "import/users", "text/csv",
                   "username,name,role,manager,home_territory,skills,password\n"
                   "erin,Erin East,manager,admin,East,,erin-pass-1\n",
                   200, NULL, NULL, 0);
    authz_admin_do(w, w->admin, "import/users", "text/csv",
                   "username,name,role,manager,home_territory,skills,password\n"
                   "ezra,Ezra East,rep,erin,East,,ezra-pass-1\n"
                   "evan,Evan East,rep,erin,East,,evan-pass-1\n"
                   "eli,Eli East,rep,erin,East,,eli-pass-1\n"
                   "eve,Eve East,rep,erin,East,,eve-pass-1\n"
                   "nick,Nick North,rep,maria,North,,nick-pass-1\n",
                   200, NULL, NULL, 0);
    static const char *const east_people[][2] = {
        {"erin", "manager"}, {"ezra", "rep"}, {"evan", "rep"}, {"eli", "rep"}};
    char path[200], body[1024];
    snprintf(path, sizeof(path), "territories/%s/members", w->east);
    for (size_t i = 0; i < NELEM(east_people); i++) {
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"role\":\"%s\"}", east_people[i][0],
                 east_people[i][1]);
        authz_admin_do(w, w->admin, path, NULL, body, 201, NULL, NULL, 0);
        mark(w, 1, 1, east_people[i][0]);
        authz_server_text(w->s, "SELECT id FROM users WHERE username = ?1", east_people[i][0],
                          tmp, sizeof(tmp));
        mark(w, 1, 0, tmp);
    }
    mark(w, 1, 1, "eve"); /* home East, no membership */
    /* East Two: erin owns it; none of the reps is a member. */
    authz_admin_do(w, w->admin, "import/territories", "text/csv",
                   "name,parent,owner\nEast Two,,erin\n", 200, NULL, NULL, 0);
    authz_server_text(w->s, "SELECT id FROM territories WHERE name = ?1", "East Two", w->east2,
                      sizeof(w->east2));
    mark(w, 1, 0, w->east2);
    mark(w, 1, 0, w->east);
    th_admin_login(w->s, "erin", "erin-pass-1", w->erin, sizeof(w->erin));

    /* East accounts: acc_e[0..4] ezra's, [5] eli's, [6] ezra's. */
    rove__buf csv = ROVE__BUF_INIT;
    rove__buf_puts(&csv, "id,name,owner,territory\n");
    for (size_t i = 0; i < NELEM(w->acc_e); i++) {
        th_new_id(w->acc_e[i]);
        rove__buf_printf(&csv, "%s,East account %zu,%s,East\n", w->acc_e[i], i,
                         i == 5 ? "eli" : "ezra");
        mark(w, 1, 0, w->acc_e[i]);
    }
    TH_ASSERT(rove__buf_status(&csv) == 0);
    authz_admin_do(w, w->admin, "import/accounts", "text/csv", (const char *)csv.ptr, 200, NULL,
                   NULL, 0);
    rove__buf_free(&csv);
    /* North accounts: rita's. */
    sqlite3 *db = th_server_db(w->s);
    for (size_t i = 0; i < NELEM(w->acc_n); i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM account WHERE owner_id = ?1 AND deleted = 0 ORDER BY id "
                 "LIMIT 1 OFFSET %zu",
                 i);
        th_db_text(db, sql, rita_id, w->acc_n[i], sizeof(w->acc_n[i]));
        TH_ASSERT(w->acc_n[i][0] != '\0');
        mark(w, 0, 0, w->acc_n[i]);
    }
    sqlite3_close(db);
    mark(w, 0, 0, w->north);
    mark(w, 0, 0, w->south);
    mark(w, 0, 0, rita_id);
    mark(w, 0, 1, "rita");
    mark(w, 0, 1, "raj");
    mark(w, 0, 1, "rosa");
    mark(w, 0, 1, "nick");

    /* Devices. */
    authz_login(w, "rita", "rita-demo", &w->rita);
    authz_login(w, "rita", "rita-demo", &w->rita2);
    authz_login(w, "ezra", "ezra-pass-1", &w->ezra);
    authz_login(w, "ezra", "ezra-pass-1", &w->ezra2);
    authz_login(w, "tom", "tom-demo", &w->tom);
    mark(w, 0, 0, w->rita.device_id);
    mark(w, 1, 0, w->ezra.device_id);
    /* Device tokens to revoke: rita's (North), two of ezra's (East). */
    static const char *const tok_user[3][2] = {
        {"rita", "rita-demo"}, {"ezra", "ezra-pass-1"}, {"ezra", "ezra-pass-1"}};
    char tok[3][27];
    for (int i = 0; i < 3; i++) {
        th_login dev;
        authz_login(w, tok_user[i][0], tok_user[i][1], &dev);
        authz_server_text(w->s, "SELECT id FROM device_tokens WHERE device_id = ?1",
                          dev.device_id, tok[i], sizeof(tok[i]));
        TH_ASSERT_MSG(tok[i][0] != '\0', "setup: no device token for %s", dev.device_id);
    }

    /* Conflict-log entries (4 each) and quarantine entries. */
    make_conflicts(w, w->rita.token, w->rita2.token, w->acc_n[0]);
    make_conflicts(w, w->ezra.token, w->ezra2.token, w->acc_e[0]);
    make_quarantine(w, &w->rita, w->acc_n[1], "rosa", w->south, 2);
    make_quarantine(w, &w->ezra, w->acc_e[1], "evan", w->east2, 4);

    /* Tasks in the queue. */
    char task_n[27], task_e[27];
    make_task(w, &w->rita, w->acc_n[0], task_n);
    make_task(w, &w->ezra, w->acc_e[0], task_e);
    mark(w, 0, 0, task_n);
    mark(w, 1, 0, task_e);

    /* The drained revoked device (rita's second). */
    snprintf(path, sizeof(path), "devices/%s/revoke", w->rita2.device_id);
    authz_admin_do(w, w->admin, path, NULL, "{\"drain_seconds\":0}", 200, NULL, NULL, 0);

    /* Leaves: rita's (North) and ezra's (East). */
    char ln[2][27], le[4][27];
    for (int i = 0; i < 2; i++) {
        make_leave(w, w->admin, "rita", "raj", ln[i]);
        mark(w, 0, 0, ln[i]);
    }
    for (int i = 0; i < 4; i++) {
        make_leave(w, w->admin, "ezra", "evan", le[i]);
        mark(w, 1, 0, le[i]);
    }

    /* Transfers: nick's resignation in North; eli's resignation and an
     * admin's realignment in East. */
    char tn[27], te[27], te2[27];
    authz_admin_do(w, w->admin, "transfers", NULL,
                   "{\"leaver\":\"nick\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,"
                   "\"to\":[\"raj\"]}]}",
                   201, "id", tn, sizeof(tn));
    authz_admin_do(w, w->admin, "transfers", NULL,
                   "{\"leaver\":\"eli\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,"
                   "\"to\":[\"evan\"]}]}",
                   201, "id", te, sizeof(te));
    snprintf(body, sizeof(body),
             "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"%s\"],\"to\":[\"evan\"]}]"
             "}",
             w->acc_e[3]);
    authz_admin_do(w, w->admin, "transfers", NULL, body, 201, "id", te2, sizeof(te2));
    mark(w, 0, 0, tn);
    mark(w, 1, 0, te);
    mark(w, 1, 0, te2);

    /* The objects of every kind. */
    char a[4][64], b[4][64], c[64];
    objset(w, K_USER, "rita", "ezra", NULL, "nosuchuser");
    objset(w, K_DEVICE, w->rita.device_id, w->ezra.device_id, w->ezra2.device_id,
           w->missing_id);
    objset(w, K_TOKEN, tok[0], tok[1], tok[2], w->missing_id);
    objset(w, K_KIND, "territories", "territories", NULL, "nosuchkind");
    objset(w, K_ACCOUNT, w->acc_n[0], w->acc_e[0], NULL, w->missing_id);
    objset(w, K_TERRITORY, w->north, w->east, NULL, w->missing_id);
    snprintf(a[0], sizeof(a[0]), "%s/rita", w->north);
    snprintf(b[0], sizeof(b[0]), "%s/ezra", w->east);
    snprintf(c, sizeof(c), "%s/rita", w->missing_id);
    objset(w, K_MEMBER, a[0], b[0], NULL, c);
    objset(w, K_TASK, task_n, task_e, NULL, w->missing_id);
    db = th_server_db(w->s);
    for (int i = 0; i < 4; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM conflicts WHERE row_id = ?1 ORDER BY id LIMIT 1 OFFSET %d", i);
        snprintf(a[i], sizeof(a[i]), "%lld", (long long)th_db_int(db, sql, w->acc_n[0], NULL));
        snprintf(b[i], sizeof(b[i]), "%lld", (long long)th_db_int(db, sql, w->acc_e[0], NULL));
    }
    objset(w, K_CONFLICT_RESTORE, a[0], b[0], b[1], "999999");
    objset(w, K_CONFLICT_DISMISS, a[1], b[2], b[3], "999999");
    objset(w, K_CONFLICT_ROW, w->acc_n[0], w->acc_e[0], NULL, w->missing_id);
    for (int i = 0; i < 4; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM quarantine WHERE payload LIKE '%%' || ?1 || '%%' ORDER BY id "
                 "LIMIT 1 OFFSET %d",
                 i % 2);
        snprintf(a[i], sizeof(a[i]), "%lld", (long long)th_db_int(db, sql, w->acc_n[1], NULL));
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM quarantine WHERE payload LIKE '%%' || ?1 || '%%' ORDER BY id "
                 "LIMIT 1 OFFSET %d",
                 i);
        snprintf(b[i], sizeof(b[i]), "%lld", (long long)th_db_int(db, sql, w->acc_e[1], NULL));
    }
    sqlite3_close(db);
    objset(w, K_QUARANTINE_APPLY, a[0], b[0], b[1], "999999");
    objset(w, K_QUARANTINE_DISCARD, a[1], b[2], b[3], "999999");
    objset(w, K_QUARANTINE_ROW, w->acc_n[1], w->acc_e[1], NULL, w->missing_id);
    objset(w, K_TRANSFER, tn, te, te2, w->missing_id);
    objset(w, K_LEAVE, ln[0], le[0], NULL, w->missing_id);
    objset(w, K_LEAVE_END, ln[0], le[0], le[1], w->missing_id);
    objset(w, K_LEAVE_REVOKE, ln[1], le[2], le[3], w->missing_id);
    w->stored = authz_stored_new(w->s);
    th_log("setup: %.1f s", th_mono() - t0);
}

void authz_world_free(authz_world *w)
{
    authz_stored_free(w->stored);
    th_server_stop(w->s);
    free(w);
}
