/*
 * The authorization suite (docs/scope.md, "The permission model"): every
 * route of server/src/routes.h x every role x in scope / out of scope /
 * nonexistent, with the expected answer, and for every refused write the
 * server's stored tables compared before and after.
 *
 * The routes are enumerated from routes.h; the expectations live in the
 * tables below, keyed by (method, pattern). A route without a row, or a row
 * without a route, fails the suite. Every row is checked (a failing row is
 * logged as "FAIL route / role / case: ..." and the case fails at the end),
 * so one run names every hole.
 *
 * The world: the demo (maria manages North and South; rita and raj North,
 * rosa South, technicians tom and tara) plus a territory East that maria does
 * not manage, created here as admin: erin manages it, ezra, evan, eli and eve
 * are its reps. "In scope" is a North object, "out of scope" the same kind of
 * object in East, "nonexistent" a well-formed id that does not exist.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/src/routes.h"
#include "cases.h"
#include "harness.h"
#include "wire.h"

/* ---- the routes, from routes.h ------------------------------------------ */

typedef struct route_def {
    const char *method, *pattern, *who;
} route_def;

#define AUTHZ_ADMIN_ROUTE(method, pattern, who, ...) {#method, pattern, #who},
static const route_def admin_routes[] = {ROVED_ADMIN_ROUTES(AUTHZ_ADMIN_ROUTE)};
#undef AUTHZ_ADMIN_ROUTE

#define AUTHZ_DEVICE_ROUTE(path, handler, who, ...) {"POST", path, #who},
static const route_def device_routes[] = {ROVED_DEVICE_ROUTES(AUTHZ_DEVICE_ROUTE)};
#undef AUTHZ_DEVICE_ROUTE

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- failures: logged per row, counted, asserted at the end ------------- */

static int failures;

static void row_fail(const char *rname, const char *role, const char *what, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void row_fail(const char *rname, const char *role, const char *what, const char *fmt,
                     ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    th_log("FAIL %s / %s / %s: %s", rname, role, what, msg);
    failures++;
}

/* ---- the stored tables, fingerprinted ------------------------------------ */

/* The domain tables; volatile bookkeeping (sessions, last sync, cursors,
 * tokens, receipts, login counters and the audit of logins) is left out. */
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

typedef struct stored {
    char *t[NELEM(stored_sql)];
} stored;

static void stored_read(const th_server *s, stored *out)
{
    sqlite3 *db = th_server_db(s);
    for (size_t i = 0; i < NELEM(stored_sql); i++)
        out->t[i] = th_db_dump(db, stored_sql[i]);
    sqlite3_close(db);
}

static void stored_free(stored *st)
{
    for (size_t i = 0; i < NELEM(stored_sql); i++)
        free(st->t[i]);
}

/* Replaces a baseline after a success. */
static void stored_reread(const th_server *s, stored *st)
{
    stored_free(st);
    stored_read(s, st);
}

/* Compares the stored tables with before; a difference fails the row and
 * becomes the new baseline. */
static void stored_check(const th_server *s, stored *before, const char *rname,
                         const char *role, const char *what)
{
    stored now;
    stored_read(s, &now);
    for (size_t i = 0; i < NELEM(stored_sql); i++)
        if (strcmp(before->t[i], now.t[i]) != 0)
            row_fail(rname, role, what, "a refused write changed the stored tables (%s)",
                     stored_sql[i]);
    stored_free(before);
    *before = now;
}

/* ---- the world ------------------------------------------------------------ */

/* Kinds of objects named in a path (or, for lists, listed). */
enum {
    K_NONE,
    K_USER,
    K_DEVICE,
    K_TOKEN,
    K_KIND,
    K_ACCOUNT,
    K_TERRITORY,
    K_MEMBER,
    K_TASK,
    K_CONFLICT_RESTORE,
    K_CONFLICT_DISMISS,
    K_CONFLICT_ROW,
    K_QUARANTINE_APPLY,
    K_QUARANTINE_DISCARD,
    K_QUARANTINE_ROW,
    K_TRANSFER,
    K_LEAVE,
    K_LEAVE_END,
    K_LEAVE_REVOKE,
    K_COUNT
};

/* n: maria reaches it (her success); e: East, erin reaches it, maria does
 * not (erin's success); e2: East, for the admin's success (e when the write
 * can be repeated); miss: well-formed, does not exist. Path parameters of
 * one object are separated by '/'. */
typedef struct objs {
    char n[80], e[80], e2[80], miss[80];
} objs;

typedef struct world {
    th_server *s;
    objs o[K_COUNT];
    char north[27], south[27], east[27], east2[27], missing_id[27];
    char acc_n[5][27], acc_e[7][27]; /* see setup */
    char admin[128], maria[128], erin[128];
    th_login rita, ezra, ezra2, tom, rita2; /* rita2: revoked, drained */
    char east_marks[40][40], north_marks[40][40];
    size_t neast, nnorth;
    int64_t serial; /* far-future ms, one day less for every body built */
} world;

/* Remembers a string that only East (east = 1) or only North/South entries
 * contain; quoted: as a JSON string. */
static void mark(world *w, int east, int quoted, const char *v)
{
    size_t *n = east ? &w->neast : &w->nnorth;
    char(*marks)[40] = east ? w->east_marks : w->north_marks;
    TH_ASSERT(*n < NELEM(w->east_marks) && strlen(v) < 30);
    if (quoted)
        snprintf(marks[(*n)++], sizeof(marks[0]), "\"%.30s\"", v);
    else
        snprintf(marks[(*n)++], sizeof(marks[0]), "%.30s", v);
}

static void server_text(const th_server *s, const char *sql, const char *p1, char *out,
                        size_t size)
{
    sqlite3 *db = th_server_db(s);
    th_db_text(db, sql, p1, out, size);
    sqlite3_close(db);
}

/* POST json as token to /v1/admin/path; asserts status; copies member key
 * of the answer into out when out is not NULL. */
static void admin_do(const world *w, const char *token, const char *path, const char *ctype,
                     const char *body, long want, const char *key, char *out, size_t size)
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

static void login_ok(const world *w, const char *user, const char *pw, th_login *out)
{
    TH_ASSERT_MSG(th_login_raw(w->s, user, pw, out) == 200, "setup: device login %s", user);
}

/* A raw push of changes (already written into b after the request header). */
static void push(const world *w, const char *token, rove__buf *b, const char *what)
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
static void make_conflicts(const world *w, const char *token_new, const char *token_old,
                           const char *acc)
{
    static const char *const cols[] = {"name", "address", "phone"};
    int64_t base = th_server_int(w->s, "SELECT version FROM account WHERE id = ?1", acc, NULL);
    for (int older = 0; older < 2; older++) {
        th_col c[4];
        for (size_t i = 0; i < 3; i++)
            c[i] = (th_col){cols[i], th_text(older ? "authz older value" : "authz newer value")};
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
    TH_ASSERT_MSG(th_server_int(w->s, "SELECT count(*) FROM conflicts WHERE row_id = ?1", acc,
                                NULL) >= 4,
                  "setup: the conflicting edits of %s left no conflict-log entries", acc);
}

/* The device pulls its scope, acc moves to new_owner in territory (out of
 * the device's scope), then the device adds n contacts under acc: n
 * quarantine entries. */
static void make_quarantine(world *w, const th_login *dev, const char *acc,
                            const char *new_owner, const char *territory, int n)
{
    sqlite3 *snap = th_snapshot_new();
    th_snapshot_pull(w->s, dev->token, snap);
    sqlite3_close(snap);
    char path[128], body[200];
    snprintf(path, sizeof(path), "accounts/%s/assign", acc);
    snprintf(body, sizeof(body), "{\"owner\":\"%s\",\"territory\":\"%s\"}", new_owner,
             territory);
    admin_do(w, w->admin, path, NULL, body, 200, NULL, NULL, 0);
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
static void make_task(const world *w, const th_login *dev, const char *acc, char *id)
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
    TH_ASSERT_MSG(th_server_int(w->s, "SELECT count(*) FROM service_task WHERE id = ?1", id,
                                NULL) == 1,
                  "setup: task under %s not stored", acc);
}

static void make_leave(world *w, const char *token, const char *who, const char *delegate,
                       char *id)
{
    char body[300];
    int64_t from = w->serial;
    w->serial -= 86400000;
    snprintf(body, sizeof(body),
             "{\"user\":\"%s\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":\"%s\"}]}",
             who, (long long)from, (long long)(from + 3600000), delegate);
    admin_do(w, token, "leaves", NULL, body, 201, "id", id, 27);
}

static void objset(world *w, int k, const char *n, const char *e, const char *e2,
                   const char *miss)
{
    snprintf(w->o[k].n, sizeof(w->o[k].n), "%s", n);
    snprintf(w->o[k].e, sizeof(w->o[k].e), "%s", e);
    snprintf(w->o[k].e2, sizeof(w->o[k].e2), "%s", e2 ? e2 : e);
    snprintf(w->o[k].miss, sizeof(w->o[k].miss), "%s", miss);
}

static void setup_world(world *w)
{
    double t0 = th_mono();
    w->s = th_server_start(NULL);
    w->serial = 4000000000000ll; /* 2096 */
    th_new_id(w->missing_id);
    th_admin_login(w->s, "admin", "admin-demo", w->admin, sizeof(w->admin));
    th_admin_login(w->s, "maria", "maria-demo", w->maria, sizeof(w->maria));
    char rita_id[27], tmp[64];
    server_text(w->s, "SELECT id FROM users WHERE username = ?1", "rita", rita_id,
                sizeof(rita_id));
    server_text(w->s, "SELECT home_territory_id FROM users WHERE username = ?1", "rita",
                w->north, sizeof(w->north));
    server_text(w->s, "SELECT home_territory_id FROM users WHERE username = ?1", "rosa",
                w->south, sizeof(w->south));

    /* East: a territory, its manager erin, reps ezra, evan, eli and eve. */
    admin_do(w, w->admin, "import/territories", "text/csv", "name,parent,owner\nEast,,\n", 200,
             NULL, NULL, 0);
    server_text(w->s, "SELECT id FROM territories WHERE name = ?1", "East", w->east,
                sizeof(w->east));
    admin_do(w, w->admin, "import/users", "text/csv",
             "username,name,role,manager,home_territory,skills,password\n"
             "erin,Erin East,manager,admin,East,,erin-pass-1\n",
             200, NULL, NULL, 0);
    admin_do(w, w->admin, "import/users", "text/csv",
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
        admin_do(w, w->admin, path, NULL, body, 201, NULL, NULL, 0);
        mark(w, 1, 1, east_people[i][0]);
        server_text(w->s, "SELECT id FROM users WHERE username = ?1", east_people[i][0], tmp,
                    sizeof(tmp));
        mark(w, 1, 0, tmp);
    }
    mark(w, 1, 1, "eve"); /* home East, no membership */
    /* East Two: erin owns it; none of the reps is a member. */
    admin_do(w, w->admin, "import/territories", "text/csv",
             "name,parent,owner\nEast Two,,erin\n", 200, NULL, NULL, 0);
    server_text(w->s, "SELECT id FROM territories WHERE name = ?1", "East Two", w->east2,
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
    admin_do(w, w->admin, "import/accounts", "text/csv", (const char *)csv.ptr, 200, NULL,
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
    login_ok(w, "rita", "rita-demo", &w->rita);
    login_ok(w, "rita", "rita-demo", &w->rita2);
    login_ok(w, "ezra", "ezra-pass-1", &w->ezra);
    login_ok(w, "ezra", "ezra-pass-1", &w->ezra2);
    login_ok(w, "tom", "tom-demo", &w->tom);
    mark(w, 0, 0, w->rita.device_id);
    mark(w, 1, 0, w->ezra.device_id);
    /* Device tokens to revoke: rita's (North), two of ezra's (East). */
    static const char *const tok_user[3][2] = {
        {"rita", "rita-demo"}, {"ezra", "ezra-pass-1"}, {"ezra", "ezra-pass-1"}};
    char tok[3][27];
    for (int i = 0; i < 3; i++) {
        th_login dev;
        login_ok(w, tok_user[i][0], tok_user[i][1], &dev);
        server_text(w->s, "SELECT id FROM device_tokens WHERE device_id = ?1", dev.device_id,
                    tok[i], sizeof(tok[i]));
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
    admin_do(w, w->admin, path, NULL, "{\"drain_seconds\":0}", 200, NULL, NULL, 0);

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
    admin_do(w, w->admin, "transfers", NULL,
             "{\"leaver\":\"nick\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,"
             "\"to\":[\"raj\"]}]}",
             201, "id", tn, sizeof(tn));
    admin_do(w, w->admin, "transfers", NULL,
             "{\"leaver\":\"eli\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,"
             "\"to\":[\"evan\"]}]}",
             201, "id", te, sizeof(te));
    snprintf(body, sizeof(body),
             "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"%s\"],\"to\":[\"evan\"]}]"
             "}",
             w->acc_e[3]);
    admin_do(w, w->admin, "transfers", NULL, body, 201, "id", te2, sizeof(te2));
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
    th_log("setup: %.1f s", th_mono() - t0);
}

/* ---- bodies -------------------------------------------------------------- */

/* Expands a template: {S} a fresh far-future time (one day earlier at every
 * expansion), {T} one hour after it, {NT} {ET} {MT} the North, East and a
 * missing territory id, {AN} {AE} {AA} accounts for transfer lines (maria's,
 * erin's, the admin's), {AP} maria's account for the body probes. */
static void expand(world *w, const char *tmpl, char *out, size_t size)
{
    int64_t s = w->serial;
    w->serial -= 86400000;
    char num[2][24];
    snprintf(num[0], sizeof(num[0]), "%lld", (long long)s);
    snprintf(num[1], sizeof(num[1]), "%lld", (long long)(s + 3600000));
    const struct {
        const char *key, *val;
    } subst[] = {{"{S}", num[0]},           {"{T}", num[1]},      {"{NT}", w->north},
                 {"{ET}", w->east},         {"{MT}", w->missing_id}, {"{AN}", w->acc_n[2]},
                 {"{AE}", w->acc_e[2]},     {"{AA}", w->acc_e[4]},
                 {"{AP}", w->acc_n[4]}};
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        size_t k;
        for (k = 0; k < NELEM(subst); k++)
            if (strncmp(p, subst[k].key, strlen(subst[k].key)) == 0)
                break;
        const char *piece = k < NELEM(subst) ? subst[k].val : p;
        size_t len = k < NELEM(subst) ? strlen(piece) : 1;
        TH_ASSERT(n + len < size);
        memcpy(out + n, piece, len);
        n += len;
        p += k < NELEM(subst) ? strlen(subst[k].key) : 1;
    }
    out[n] = '\0';
}

/* ---- the admin table ------------------------------------------------------ */

typedef struct row {
    const char *method, *pattern, *who; /* who must match routes.h */
    int kind;                           /* the object in the path, or K_NONE */
    int listed;      /* list routes: the kind whose entries are listed (n, e) */
    const char *query;                  /* appended; {ID} is the object */
    const char *ctype;                  /* NULL: application/json */
    const char *body_n, *body_e, *body_a; /* maria's, erin's, the admin's body */
    int ok;                             /* status of a success */
    int miss; /* status for a nonexistent object; 0: any 4xx; -1: not specified (docs/scope.md
               * says only that out of reach answers the same) */
} row;

#define LEAVE_BODY(who, del)                                                                   \
    "{\"user\":\"" who "\",\"from\":{S},\"to\":{T},\"delegates\":[{\"user\":\"" del "\"}]}"
#define REALIGN_BODY(acc, to)                                                                  \
    "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"" acc "\"],\"to\":[\"" to "\"]}]}"

static const row admin_rows[] = {
    {"POST", "login", "ANYONE", K_NONE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "users", "MANAGER", K_NONE, K_USER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "users", "ADMIN", K_NONE, K_NONE, NULL, NULL,
     "{\"username\":\"authz{S}\",\"name\":\"A\",\"role\":\"rep\",\"password\":\"pass-word-1\"}",
     NULL, NULL, 201, 0},
    {"POST", "users/:username/status", "ADMIN", K_USER, K_NONE, NULL, NULL,
     "{\"status\":\"active\"}", NULL, NULL, 200, 404},
    {"POST", "users/:username/absences", "MANAGER", K_USER, K_NONE, NULL, NULL,
     "{\"from\":{S},\"to\":{T},\"reason\":\"authz\"}", NULL, NULL, 201, 404},
    {"GET", "users/:username/tokens", "MANAGER", K_USER, K_NONE, NULL, NULL, NULL, NULL, NULL,
     200, 404},
    {"POST", "tokens/:id/revoke", "MANAGER", K_TOKEN, K_NONE, NULL, NULL, "{}", NULL, NULL, 200,
     404},
    {"GET", "absences", "MANAGER", K_NONE, K_USER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "devices", "MANAGER", K_NONE, K_DEVICE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "devices/:id/revoke", "ADMIN", K_DEVICE, K_NONE, NULL, NULL,
     "{\"drain_seconds\":0}", NULL, NULL, 200, 404},
    {"GET", "stats", "ADMIN", K_NONE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "audit", "MANAGER", K_ACCOUNT, K_NONE, "?table=account&record={ID}", NULL, NULL,
     NULL, NULL, 200, -1},
    {"POST", "import/:kind", "ADMIN", K_KIND, K_NONE, "?dry_run=1", "text/csv",
     "name,parent,owner\nAuthz Territory,,\n", NULL, NULL, 200, 0},
    {"POST", "accounts/:id/assign", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"owner\":\"rita\",\"reason\":\"authz\"}", "{\"owner\":\"ezra\",\"reason\":\"authz\"}",
     NULL, 200, 404},
    {"POST", "accounts/:id/stage", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"stage\":\"churned\",\"reason\":\"authz\"}", "{\"stage\":\"churned\"}",
     "{\"stage\":\"prospect\"}", 200, 404},
    {"POST", "accounts/:id/tier", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"tier\":\"VIP\"}", "{\"tier\":\"VIP\"}", "{\"tier\":\"B\"}", 200, 404},
    {"GET", "territories/:id/members", "MANAGER", K_TERRITORY, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "territories/:id/members", "MANAGER", K_TERRITORY, K_NONE, NULL, NULL,
     "{\"user\":\"rosa\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}",
     "{\"user\":\"eve\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}", NULL, 201, 404},
    {"POST", "territories/:id/members/:username/end", "MANAGER", K_MEMBER, K_NONE, NULL, NULL,
     "{\"at\":{S}}", NULL, NULL, 200, 404},
    {"GET", "tasks/queue", "MANAGER", K_NONE, K_TASK, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "tasks/:id/assign", "MANAGER", K_TASK, K_NONE, NULL, NULL, "{\"auto\":true}", NULL,
     NULL, 200, 404},
    {"GET", "conflicts", "MANAGER", K_NONE, K_CONFLICT_ROW, NULL, NULL, NULL, NULL, NULL, 200,
     0},
    {"GET", "conflicts/:id", "MANAGER", K_CONFLICT_RESTORE, K_NONE, NULL, NULL, NULL, NULL, NULL,
     200, 404},
    {"POST", "conflicts/:id/restore", "MANAGER", K_CONFLICT_RESTORE, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"POST", "conflicts/:id/dismiss", "MANAGER", K_CONFLICT_DISMISS, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"GET", "quarantine", "MANAGER", K_NONE, K_QUARANTINE_ROW, NULL, NULL, NULL, NULL, NULL, 200,
     0},
    {"GET", "quarantine/:id", "MANAGER", K_QUARANTINE_APPLY, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "quarantine/:id/apply", "MANAGER", K_QUARANTINE_APPLY, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"POST", "quarantine/:id/discard", "MANAGER", K_QUARANTINE_DISCARD, K_NONE, NULL, NULL,
     "{\"reason\":\"authz\"}", NULL, NULL, 200, 404},
    {"GET", "transfers", "MANAGER", K_NONE, K_TRANSFER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "transfers", "MANAGER", K_NONE, K_NONE, NULL, NULL, REALIGN_BODY("{AN}", "raj"),
     REALIGN_BODY("{AE}", "evan"), REALIGN_BODY("{AA}", "evan"), 201, 0},
    {"GET", "transfers/:id", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, NULL, NULL, NULL, 200,
     404},
    {"GET", "transfers/:id/preview", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, NULL, NULL, NULL,
     200, 404},
    {"POST", "transfers/:id/run", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, "{}", NULL, NULL,
     200, 404},
    {"GET", "leaves", "MANAGER", K_NONE, K_LEAVE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "leaves", "MANAGER", K_NONE, K_NONE, NULL, NULL, LEAVE_BODY("rita", "raj"),
     LEAVE_BODY("ezra", "evan"), NULL, 201, 0},
    {"GET", "leaves/:id", "MANAGER", K_LEAVE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 404},
    {"GET", "leaves/:id/digest", "MANAGER", K_LEAVE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200,
     404},
    {"POST", "leaves/:id/end", "MANAGER", K_LEAVE_END, K_NONE, NULL, NULL, "{}", NULL, NULL, 200,
     404},
    {"POST", "leaves/:id/revoke", "MANAGER", K_LEAVE_REVOKE, K_NONE, NULL, NULL, "{}", NULL,
     NULL, 200, 404},
};

/*
 * Objects named in a body: maria's request naming an East person or East
 * (out of her reach) must answer exactly like one naming nobody, and change
 * nothing.
 */
typedef struct body_probe {
    const char *pattern, *path, *out, *missing; /* path: {AN} etc. expanded */
} body_probe;

static const body_probe body_probes[] = {
    {"accounts/:id/assign", "accounts/{AP}/assign", "{\"owner\":\"ezra\"}",
     "{\"owner\":\"nosuchuser\"}"},
    {"accounts/:id/assign", "accounts/{AP}/assign", "{\"territory\":\"{ET}\"}",
     "{\"territory\":\"{MT}\"}"},
    {"territories/:id/members", "territories/{NT}/members",
     "{\"user\":\"ezra\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}",
     "{\"user\":\"nosuchuser\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}"},
    {"transfers", "transfers", REALIGN_BODY("{AP}", "evan"), REALIGN_BODY("{AP}", "nosuchuser")},
    {"transfers", "transfers",
     "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"{AP}\"],\"to\":[\"raj\"],"
     "\"to_territory\":\"{ET}\"}]}",
     "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"{AP}\"],\"to\":[\"raj\"],"
     "\"to_territory\":\"{MT}\"}]}"},
    {"transfers", "transfers",
     "{\"leaver\":\"eli\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,\"to\":[\"raj\"]}]}",
     "{\"leaver\":\"nosuchuser\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,\"to\":["
     "\"raj\"]}]}"},
    {"leaves", "leaves", LEAVE_BODY("eve", "evan"), LEAVE_BODY("nosuchuser", "evan")},
    {"leaves", "leaves", LEAVE_BODY("rita", "ezra"), LEAVE_BODY("rita", "nosuchuser")},
};

/* ---- calling ------------------------------------------------------------- */

typedef struct role {
    const char *name;
    const char *token;
} role;

/* Builds /v1/admin/<pattern> with the object's parts for the ":" segments,
 * then the row's query with {ID} = the object. */
static void build_path(const row *r, const char *obj, char *out, size_t size)
{
    char parts[4][80];
    size_t np = 0;
    for (const char *p = obj; p && *p && np < 4;) {
        size_t len = strcspn(p, "/");
        snprintf(parts[np++], sizeof(parts[0]), "%.*s", (int)len, p);
        p += len + (p[len] == '/');
    }
    size_t n = (size_t)snprintf(out, size, "/v1/admin/");
    size_t used = 0;
    for (const char *p = r->pattern; *p;) {
        size_t len = strcspn(p, "/");
        if (*p == ':') {
            TH_ASSERT(used < np);
            n += (size_t)snprintf(out + n, size - n, "%s", parts[used++]);
        } else {
            n += (size_t)snprintf(out + n, size - n, "%.*s", (int)len, p);
        }
        p += len;
        if (*p == '/') {
            n += (size_t)snprintf(out + n, size - n, "/");
            p++;
        }
    }
    if (r->query != NULL) {
        const char *id = strstr(r->query, "{ID}");
        if (id != NULL)
            n += (size_t)snprintf(out + n, size - n, "%.*s%s%s", (int)(id - r->query), r->query,
                                  obj, id + 4);
        else
            n += (size_t)snprintf(out + n, size - n, "%s", r->query);
    }
    TH_ASSERT(n < size);
}

typedef struct answer {
    long status;
    char code[64], msg[256];
    char *body;
} answer;

static void call(world *w, const row *r, const char *token, const char *obj,
                 const char *body_tmpl, answer *a)
{
    char path[400], body[2048] = "";
    build_path(r, obj, path, sizeof(path));
    int post = strcmp(r->method, "POST") == 0;
    if (post)
        expand(w, body_tmpl ? body_tmpl : "{}", body, sizeof(body));
    th_resp resp;
    th_http(w->s, r->method, path, token, r->ctype ? r->ctype : "application/json",
            post ? body : NULL, strlen(body), &resp);
    TH_ASSERT_MSG(resp.curl_rc == 0, "%s %s: no answer", r->method, path);
    a->status = resp.status;
    snprintf(a->code, sizeof(a->code), "%s", resp.error);
    snprintf(a->msg, sizeof(a->msg), "%s", resp.errmsg);
    a->body = calloc(1, resp.body.len + 1);
    TH_ASSERT(a->body != NULL);
    if (resp.body.len)
        memcpy(a->body, resp.body.ptr, resp.body.len);
    th_resp_free(&resp);
}

static void answer_free(answer *a) { free(a->body); }

static void route_name(const row *r, char *out, size_t size)
{
    snprintf(out, size, "%s %s", r->method, r->pattern);
}

/* One call expected to be refused with status/code; for a POST the stored
 * tables must not change. */
static void expect_refusal(world *w, const row *r, stored *base, const role *ro,
                           const char *obj, const char *what, long status, const char *code)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    answer a;
    call(w, r, ro->token, obj, r->body_n, &a);
    if (a.status != status || strcmp(a.code, code) != 0)
        row_fail(rn, ro->name, what, "expected %ld %s, got %ld %s (%s)", status, code, a.status,
                 a.code, a.msg);
    answer_free(&a);
    if (strcmp(r->method, "POST") == 0)
        stored_check(w->s, base, rn, ro->name, what);
}

static void expect_ok(world *w, const row *r, const char *token, const char *who,
                      const char *obj, const char *body, const char *what)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    answer a;
    call(w, r, token, obj, body, &a);
    if (a.status != r->ok)
        row_fail(rn, who, what, "expected %d, got %ld %s (%s)", r->ok, a.status, a.code, a.msg);
    answer_free(&a);
}

static int same_answer(const answer *x, const answer *y)
{
    return x->status == y->status && strcmp(x->code, y->code) == 0 &&
           strcmp(x->msg, y->msg) == 0 && strcmp(x->body, y->body) == 0;
}

/* A manager naming an object out of reach: exactly the nonexistent answer,
 * nothing changed. */
static void expect_like_missing(world *w, const row *r, stored *base, const role *ro,
                                const char *out_obj, const char *body)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    answer out, miss;
    call(w, r, ro->token, out_obj, body, &out);
    if (strcmp(r->method, "POST") == 0)
        stored_check(w->s, base, rn, ro->name, "out of reach");
    call(w, r, ro->token, w->o[r->kind].miss, body, &miss);
    if (strcmp(r->method, "POST") == 0)
        stored_check(w->s, base, rn, ro->name, "nonexistent");
    if (r->miss > 0 && miss.status != r->miss)
        row_fail(rn, ro->name, "nonexistent", "expected %d, got %ld %s (%s)", r->miss,
                 miss.status, miss.code, miss.msg);
    if (!same_answer(&out, &miss))
        row_fail(rn, ro->name, "out of reach vs nonexistent",
                 "answers differ: out of reach %ld %s \"%s\" %.200s; nonexistent %ld %s \"%s\" "
                 "%.200s",
                 out.status, out.code, out.msg, out.body, miss.status, miss.code, miss.msg,
                 miss.body);
    answer_free(&out);
    answer_free(&miss);
}

/* A list as one role: status 200, the wanted entry present, none of the
 * forbidden markers. */
static void check_list(world *w, const row *r, const char *token, const char *who,
                       const char *want, char (*marks)[40], size_t nmarks)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    answer a;
    call(w, r, token, NULL, NULL, &a);
    if (a.status != 200)
        row_fail(rn, who, "list", "expected 200, got %ld %s (%s)", a.status, a.code, a.msg);
    else if (want != NULL && strstr(a.body, want) == NULL)
        row_fail(rn, who, "list", "an entry in reach (%s) is missing", want);
    char leaked[600] = "";
    for (size_t i = 0; a.status == 200 && i < nmarks; i++)
        if (strstr(a.body, marks[i]) != NULL && strlen(leaked) + strlen(marks[i]) + 2 < 600)
            strcat(strcat(leaked, " "), marks[i]);
    if (leaked[0] != '\0')
        row_fail(rn, who, "list", "lists entries out of reach (they mention:%s)", leaked);
    answer_free(&a);
}

static void check_admin_route(world *w, const row *r, const role *unauth, size_t nunauth,
                              const role *maria, const role *erin, const role *admin)
{
    stored base;
    stored_read(w->s, &base);
    const objs *o = &w->o[r->kind];
    int obj = r->kind != K_NONE;
    int post = strcmp(r->method, "POST") == 0;

    /* No session: 401 auth, whatever the object. */
    for (size_t i = 0; i < nunauth; i++) {
        expect_refusal(w, r, &base, &unauth[i], obj ? o->n : NULL, "in scope", 401, rove_error_name(ROVE_EAUTH));
        if (obj)
            expect_refusal(w, r, &base, &unauth[i], o->e, "out of scope", 401, rove_error_name(ROVE_EAUTH));
    }
    const role *mgr[2] = {maria, erin};
    if (strcmp(r->who, "ADMIN") == 0) {
        for (int m = 0; m < 2; m++) {
            expect_refusal(w, r, &base, mgr[m], obj ? o->n : NULL, "North object", 403,
                           rove_error_name(ROVE_EFORBIDDEN));
            if (obj) {
                expect_refusal(w, r, &base, mgr[m], o->e, "East object", 403, rove_error_name(ROVE_EFORBIDDEN));
                expect_refusal(w, r, &base, mgr[m], o->miss, "nonexistent", 403, rove_error_name(ROVE_EFORBIDDEN));
            }
        }
    } else if (obj) {
        expect_like_missing(w, r, &base, maria, o->e, r->body_n);
        expect_like_missing(w, r, &base, erin, o->n, r->body_e ? r->body_e : r->body_n);
    }
    stored_free(&base);

    /* Successes (and the admin on a nonexistent object). */
    const char *be = r->body_e ? r->body_e : r->body_n;
    const char *ba = r->body_a ? r->body_a : be;
    if (strcmp(r->who, "MANAGER") == 0 && r->listed != K_NONE) {
        const objs *l = &w->o[r->listed];
        check_list(w, r, maria->token, maria->name, l->n, w->east_marks, w->neast);
        check_list(w, r, erin->token, erin->name, l->e, w->north_marks, w->nnorth);
        check_list(w, r, admin->token, admin->name, l->e, NULL, 0);
        check_list(w, r, admin->token, admin->name, l->n, NULL, 0);
    } else if (strcmp(r->who, "MANAGER") == 0) {
        expect_ok(w, r, maria->token, maria->name, obj ? o->n : NULL, r->body_n, "in scope");
        expect_ok(w, r, erin->token, erin->name, obj ? o->e : NULL, be, "in scope");
        expect_ok(w, r, admin->token, admin->name, obj ? o->e2 : NULL, ba, "East object");
    } else {
        expect_ok(w, r, admin->token, admin->name, obj ? o->e2 : NULL, ba, "East object");
    }
    if (obj) {
        char rn[128];
        route_name(r, rn, sizeof(rn));
        answer a;
        call(w, r, admin->token, o->miss, ba, &a);
        if ((r->miss > 0 && a.status != r->miss) ||
            (r->miss == 0 && (a.status < 400 || a.status >= 500)))
            row_fail(rn, admin->name, "nonexistent", "expected %d, got %ld %s (%s)", r->miss,
                     a.status, a.code, a.msg);
        answer_free(&a);
    }
    (void)post;
}

/* POST /v1/admin/login: reps and technicians 403 forbidden, managers and
 * admins 200, a wrong password 401 auth. */
static void check_login(world *w)
{
    static const struct {
        const char *user, *pw;
        long status;
        int code;
    } cases[] = {{"rita", "rita-demo", 403, ROVE_EFORBIDDEN},
                 {"ezra", "ezra-pass-1", 403, ROVE_EFORBIDDEN},
                 {"tom", "tom-demo", 403, ROVE_EFORBIDDEN},
                 {"maria", "maria-demo", 200, 0},
                 {"erin", "erin-pass-1", 200, 0},
                 {"admin", "admin-demo", 200, 0},
                 {"maria", "wrong-password", 401, ROVE_EAUTH},
                 {"nosuchuser", "x-password", 401, ROVE_EAUTH}};
    stored base;
    stored_read(w->s, &base);
    for (size_t i = 0; i < NELEM(cases); i++) {
        char body[200];
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", cases[i].user,
                 cases[i].pw);
        th_resp r;
        th_http(w->s, "POST", "/v1/admin/login", NULL, "application/json", body, strlen(body),
                &r);
        const char *code = cases[i].code ? rove_error_name(cases[i].code) : "";
        if (r.status != cases[i].status || strcmp(r.error, code) != 0)
            row_fail("POST login", cases[i].user, cases[i].pw, "expected %ld %s, got %ld %s",
                     cases[i].status, code, r.status, r.error);
        th_resp_free(&r);
        if (cases[i].status != 200)
            stored_check(w->s, &base, "POST login", cases[i].user, "refused login");
        else
            stored_reread(w->s, &base); /* a session is bookkeeping, not checked */
    }
    stored_free(&base);
}

/* Every route has a row and every row a route, with the same "who". */
static const row *find_row(const route_def *rt)
{
    for (size_t i = 0; i < NELEM(admin_rows); i++)
        if (strcmp(admin_rows[i].method, rt->method) == 0 &&
            strcmp(admin_rows[i].pattern, rt->pattern) == 0)
            return &admin_rows[i];
    return NULL;
}

static void check_table_matches_routes(void)
{
    for (size_t i = 0; i < NELEM(admin_routes); i++) {
        const row *r = find_row(&admin_routes[i]);
        TH_ASSERT_MSG(r != NULL, "routes.h: %s %s has no row in authz_test.c",
                      admin_routes[i].method, admin_routes[i].pattern);
        TH_ASSERT_MSG(strcmp(r->who, admin_routes[i].who) == 0,
                      "%s %s: routes.h says %s, the authz table %s", r->method, r->pattern,
                      admin_routes[i].who, r->who);
    }
    for (size_t i = 0; i < NELEM(admin_rows); i++) {
        int found = 0;
        for (size_t k = 0; k < NELEM(admin_routes); k++)
            found |= strcmp(admin_rows[i].method, admin_routes[k].method) == 0 &&
                     strcmp(admin_rows[i].pattern, admin_routes[k].pattern) == 0;
        TH_ASSERT_MSG(found, "authz_test.c: row %s %s is not a route in routes.h",
                      admin_rows[i].method, admin_rows[i].pattern);
    }
}

static void check_body_probes(world *w, const role *maria)
{
    for (size_t i = 0; i < NELEM(body_probes); i++) {
        const body_probe *p = &body_probes[i];
        row r = {"POST", p->path, "MANAGER", K_NONE, K_NONE, NULL, NULL, NULL, NULL, NULL, 0, 0};
        char path[200];
        expand(w, p->path, path, sizeof(path));
        r.pattern = path;
        stored base;
        stored_read(w->s, &base);
        answer out, miss;
        call(w, &r, maria->token, NULL, p->out, &out);
        stored_check(w->s, &base, p->pattern, maria->name, p->out);
        call(w, &r, maria->token, NULL, p->missing, &miss);
        stored_check(w->s, &base, p->pattern, maria->name, p->missing);
        stored_free(&base);
        if (out.status < 400 || !same_answer(&out, &miss))
            row_fail(p->pattern, maria->name, p->out,
                     "a body naming East must answer like one naming nothing: got %ld %s \"%s\", "
                     "nonexistent %ld %s \"%s\"",
                     out.status, out.code, out.msg, miss.status, miss.code, miss.msg);
        answer_free(&out);
        answer_free(&miss);
    }
}

void test_integration__authz_admin(void)
{
    check_table_matches_routes();
    world *w = calloc(1, sizeof(*w));
    TH_ASSERT(w != NULL);
    setup_world(w);
    double t0 = th_mono();
    const role unauth[] = {{"none", NULL},
                           {"garbage", "garbage-token-0123456789"},
                           {"rep rita (device)", w->rita.token},
                           {"other rep ezra (device)", w->ezra.token},
                           {"technician tom (device)", w->tom.token},
                           {"revoked device", w->rita2.token}};
    const role maria = {"manager maria", w->maria}, erin = {"manager erin (East)", w->erin},
               admin = {"admin", w->admin};
    check_login(w);
    check_body_probes(w, &maria);
    for (size_t i = 0; i < NELEM(admin_routes); i++) {
        const row *r = find_row(&admin_routes[i]);
        if (strcmp(r->who, "ANYONE") == 0)
            continue; /* login: check_login */
        check_admin_route(w, r, unauth, NELEM(unauth), &maria, &erin, &admin);
    }
    th_log("admin routes: %zu routes checked in %.1f s, %d failures", NELEM(admin_routes),
           th_mono() - t0, failures);
    TH_ASSERT_MSG(failures == 0, "%d authorization rows failed (see FAIL lines above)",
                  failures);
    th_server_stop(w->s);
    free(w);
}

/* ---- device routes -------------------------------------------------------- */

typedef struct dev_row {
    const char *path, *who;
} dev_row;

static const dev_row device_rows[] = {
    {"/v1/login", "ANYONE"},   {"/v1/sync", "DRAINING"},   {"/v1/leases", "DEVICE"},
    {"/v1/digest", "DEVICE"},  {"/v1/history", "DEVICE"},  {"/v1/wiped", "REVOKED"},
};

/* The CBOR body of a device request. */
static void device_body(const char *path, const char *record, rove__buf *b)
{
    if (strcmp(path, "/v1/sync") == 0) {
        th_w_request(b, 1, 0, 10, 0);
    } else if (strcmp(path, "/v1/history") == 0) {
        rove__w_map(b, 3);
        rove__w_text(b, "v");
        rove__w_int(b, 1);
        rove__w_text(b, "table");
        rove__w_text(b, "account");
        rove__w_text(b, "id");
        rove__w_text(b, record);
    } else if (strcmp(path, "/v1/login") == 0) {
        char dev[27];
        th_new_id(dev);
        rove__w_map(b, 5);
        rove__w_text(b, "v");
        rove__w_int(b, 1);
        rove__w_text(b, "user");
        rove__w_text(b, "rita");
        rove__w_text(b, "password");
        rove__w_text(b, record); /* the password */
        rove__w_text(b, "device_id");
        rove__w_text(b, dev);
        rove__w_text(b, "device_name");
        rove__w_text(b, "authz");
    } else {
        rove__w_map(b, 1);
        rove__w_text(b, "v");
        rove__w_int(b, 1);
    }
    TH_ASSERT(rove__buf_status(b) == 0);
}

static void device_call(const th_server *s, const char *path, const char *token,
                        const char *record, answer *a)
{
    rove__buf b = ROVE__BUF_INIT;
    device_body(path, record, &b);
    th_resp r;
    th_post_cbor(s, path, token, b.ptr, b.len, &r);
    rove__buf_free(&b);
    TH_ASSERT_MSG(r.curl_rc == 0, "%s: no answer", path);
    a->status = r.status;
    snprintf(a->code, sizeof(a->code), "%s", r.error);
    snprintf(a->msg, sizeof(a->msg), "%s", r.errmsg);
    a->body = calloc(1, r.body.len + 1);
    TH_ASSERT(a->body != NULL);
    if (r.body.len)
        memcpy(a->body, r.body.ptr, r.body.len);
    th_resp_free(&r);
}

static void device_expect(const th_server *s, stored *base, const char *path, const role *ro,
                          const char *record, const char *what, long status, const char *code)
{
    answer a;
    device_call(s, path, ro->token, record, &a);
    if (a.status != status || (code != NULL && strcmp(a.code, code) != 0))
        row_fail(path, ro->name, what, "expected %ld %s, got %ld %s (%s)", status,
                 code ? code : "", a.status, a.code, a.msg);
    answer_free(&a);
    if (status != 200)
        stored_check(s, base, path, ro->name, what);
    else
        stored_reread(s, base);
}

void test_integration__authz_device(void)
{
    for (size_t i = 0; i < NELEM(device_routes); i++) {
        size_t k = 0;
        while (k < NELEM(device_rows) && strcmp(device_rows[k].path, device_routes[i].pattern))
            k++;
        TH_ASSERT_MSG(k < NELEM(device_rows), "routes.h: %s has no row in authz_test.c",
                      device_routes[i].pattern);
        TH_ASSERT_MSG(strcmp(device_rows[k].who, device_routes[i].who) == 0,
                      "%s: routes.h says %s, the authz table %s", device_rows[k].path,
                      device_routes[i].who, device_rows[k].who);
    }
    TH_ASSERT_MSG(NELEM(device_rows) == NELEM(device_routes),
                  "authz_test.c has device rows that are not routes in routes.h");

    world *w = calloc(1, sizeof(*w));
    TH_ASSERT(w != NULL);
    w->s = th_server_start(NULL);
    th_admin_login(w->s, "admin", "admin-demo", w->admin, sizeof(w->admin));
    char rita_id[27];
    server_text(w->s, "SELECT id FROM users WHERE username = ?1", "rita", rita_id,
                sizeof(rita_id));
    server_text(w->s, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1", rita_id,
                w->acc_n[0], sizeof(w->acc_n[0]));
    admin_do(w, w->admin, "import/territories", "text/csv", "name,parent,owner\nEast,,\n", 200,
             NULL, NULL, 0);
    admin_do(w, w->admin, "import/users", "text/csv",
             "username,name,role,manager,home_territory,skills,password\n"
             "ezra,Ezra East,rep,admin,East,,ezra-pass-1\n",
             200, NULL, NULL, 0);
    th_new_id(w->acc_e[0]);
    char csv[200];
    snprintf(csv, sizeof(csv), "id,name,owner,territory\n%s,East account,ezra,East\n",
             w->acc_e[0]);
    admin_do(w, w->admin, "import/accounts", "text/csv", csv, 200, NULL, NULL, 0);
    th_login maria_dev;
    login_ok(w, "rita", "rita-demo", &w->rita);
    login_ok(w, "rita", "rita-demo", &w->rita2);
    login_ok(w, "ezra", "ezra-pass-1", &w->ezra);
    login_ok(w, "tom", "tom-demo", &w->tom);
    login_ok(w, "maria", "maria-demo", &maria_dev);
    char path[128];
    snprintf(path, sizeof(path), "devices/%s/revoke", w->rita2.device_id);
    admin_do(w, w->admin, path, NULL, "{\"drain_seconds\":0}", 200, NULL, NULL, 0);
    usleep(20 * 1000);
    char missing[27];
    th_new_id(missing);

    /* Active devices: their own record in scope; an out-of-scope record. */
    const struct {
        role r;
        const char *mine, *other;
    } active[] = {{{"rep rita", w->rita.token}, w->acc_n[0], w->acc_e[0]},
                  {{"other rep ezra", w->ezra.token}, w->acc_e[0], w->acc_n[0]},
                  {{"technician tom", w->tom.token}, NULL, w->acc_e[0]},
                  {{"manager maria (device)", maria_dev.token}, w->acc_n[0], w->acc_e[0]}};
    const role unauth[] = {{"none", NULL},
                           {"garbage", "garbage-token-0123456789"},
                           {"admin session", w->admin}};
    const role revoked = {"revoked device (drained)", w->rita2.token};
    stored base;
    stored_read(w->s, &base);
    for (size_t i = 0; i < NELEM(device_rows); i++) {
        const char *p = device_rows[i].path;
        if (strcmp(p, "/v1/login") == 0) {
            role none = {"none", NULL};
            device_expect(w->s, &base, p, &none, "rita-demo", "right password", 200, NULL);
            device_expect(w->s, &base, p, &none, "wrong-password", "wrong password", 401,
                          rove_error_name(ROVE_EAUTH));
            continue;
        }
        for (size_t k = 0; k < NELEM(unauth); k++)
            device_expect(w->s, &base, p, &unauth[k], w->acc_n[0], "no device", 401, rove_error_name(ROVE_EAUTH));
        int wiped = strcmp(p, "/v1/wiped") == 0;
        for (size_t k = 0; k < NELEM(active); k++) {
            if (wiped) {
                device_expect(w->s, &base, p, &active[k].r, NULL, "active device", 409, NULL);
                continue;
            }
            if (strcmp(p, "/v1/history") != 0) {
                device_expect(w->s, &base, p, &active[k].r, NULL, "own data", 200, NULL);
                continue;
            }
            if (active[k].mine != NULL)
                device_expect(w->s, &base, p, &active[k].r, active[k].mine, "in scope", 200,
                              NULL);
            answer out, miss;
            device_call(w->s, p, active[k].r.token, active[k].other, &out);
            device_call(w->s, p, active[k].r.token, missing, &miss);
            if (miss.status != 404 || !same_answer(&out, &miss))
                row_fail(p, active[k].r.name, "out of scope vs nonexistent",
                         "out of scope %ld %s \"%s\"; nonexistent %ld %s \"%s\"", out.status,
                         out.code, out.msg, miss.status, miss.code, miss.msg);
            answer_free(&out);
            answer_free(&miss);
        }
        device_expect(w->s, &base, p, &revoked, w->acc_n[0], "revoked after drain",
                      wiped ? 200 : 403, wiped ? NULL : rove_error_name(ROVE_EREVOKED));
    }
    stored_free(&base);
    TH_ASSERT_MSG(failures == 0, "%d authorization rows failed (see FAIL lines above)",
                  failures);
    th_server_stop(w->s);
    free(w);
}
