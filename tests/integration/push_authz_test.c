/*
 * What a push may write (docs/scope.md, the write rules in server/src/scope.c),
 * tried as a hostile user would: raw CBOR changes a stock app never sends, and
 * the SDK. A technician holds his tasks' accounts and contacts read-only; a
 * rep's device may not write server-owned tables or columns. Every refused
 * change gets a rejected receipt with its code, and the server's stored rows
 * are the same, byte for byte, before and after: nothing is applied, nothing
 * is deleted, and no other device loses a record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* Text result of sql on the server's store (read-only, beside the server). */
static void server_text(const th_server *s, const char *sql, const char *p1, char *out,
                        size_t size)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/rove.db", s->dir);
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    th_db_text(db, sql, p1, out, size);
    sqlite3_close(db);
}

/* Every stored row of the synced tables, and of what a write leaves behind
 * (audit, conflicts, quarantine, column clocks), rendered exactly. */
static const char *const all_rows[] = {
    "SELECT * FROM account ORDER BY id",
    "SELECT * FROM contact ORDER BY id",
    "SELECT * FROM visit ORDER BY id",
    "SELECT * FROM service_task ORDER BY id",
    "SELECT * FROM stage_change ORDER BY id",
    "SELECT count(*), max(id) FROM audit",
    "SELECT count(*), max(id) FROM conflicts",
    "SELECT count(*) FROM quarantine",
    "SELECT table_name, row_id, hex(clocks) FROM row_clocks ORDER BY 1, 2",
    NULL,
};

/* The rows of the records only (account, contact, visit, stage history). */
static const char *const record_rows[] = {
    "SELECT * FROM account ORDER BY id",
    "SELECT * FROM contact ORDER BY id",
    "SELECT * FROM visit ORDER BY id",
    "SELECT * FROM stage_change ORDER BY id",
    NULL,
};

static char *server_dump_of(const th_server *s, const char *const *sql)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/rove.db", s->dir);
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    rove__buf b = ROVE__BUF_INIT;
    for (size_t i = 0; sql[i] != NULL; i++) {
        /* Each value with its storage class and its exact bytes. */
        sqlite3_stmt *st = NULL;
        TH_ASSERT(sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) == SQLITE_OK);
        rove__buf_printf(&b, "-- %s\n", sql[i]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                int ty = sqlite3_column_type(st, c);
                const unsigned char *v = sqlite3_column_text(st, c);
                rove__buf_printf(&b, "%s%d:", c ? "|" : "", ty);
                if (v != NULL)
                    rove__buf_put(&b, v, (size_t)sqlite3_column_bytes(st, c));
            }
            rove__buf_puts(&b, "\n");
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    rove__buf_puts(&b, "");
    TH_ASSERT(rove__buf_status(&b) == 0);
    return (char *)rove__buf_detach(&b, NULL);
}

static char *server_dump(const th_server *s) { return server_dump_of(s, all_rows); }

static void assert_same_dump(const char *before, const char *after, const char *what)
{
    if (strcmp(before, after) == 0)
        return;
    /* Show the first differing line. */
    size_t i = 0;
    while (before[i] && before[i] == after[i])
        i++;
    size_t start = i;
    while (start > 0 && before[start - 1] != '\n')
        start--;
    th_fail(__FILE__, __LINE__,
            "%s: the server's rows changed at:\n  before: %.300s\n  after:  %.300s", what,
            before + start, after + start);
}

typedef struct probe {
    const char *what;
    const char *table;
    int op;
    const char *id;
    int64_t base;
    th_col cols[3];
    size_t ncols;
    const char *code; /* expected receipt code */
} probe;

/* Sends the probes in one push with token; asserts each is rejected with its
 * code, version 0. */
static void push_refused(const th_server *s, const char *token, int64_t cursor, const probe *p,
                         size_t n, th_sync_result *res)
{
    char ids[32][ROVE_ID_SIZE];
    TH_ASSERT(n <= 32);
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, cursor, 1, n);
    for (size_t i = 0; i < n; i++) {
        th_new_id(ids[i]);
        th_w_change(&b, ids[i], p[i].table, p[i].op, p[i].id, p[i].base, p[i].cols, p[i].ncols);
    }
    TH_ASSERT_EQ(th_sync_raw(s, token, &b, res, NULL), 200);
    rove__buf_free(&b);
    TH_ASSERT_EQ(res->nreceipts, n);
    for (size_t i = 0; i < n; i++)
        th_log("%-44s -> status %d %s (%s)", p[i].what, res->receipts[i].status,
               res->receipts[i].code, res->receipts[i].message);
    for (size_t i = 0; i < n; i++) {
        const th_receipt *r = &res->receipts[i];
        TH_ASSERT_STR(r->change_id, ids[i]);
        TH_ASSERT_MSG(r->status == 2 && r->version == 0 && strcmp(r->code, p[i].code) == 0,
                      "%s: status %d code %s version %lld, expected rejected %s", p[i].what,
                      r->status, r->code, (long long)r->version, p[i].code);
    }
}

typedef struct fixture {
    th_server *s;
    th_login tom;
    int64_t tom_cursor;
    char task[ROVE_ID_SIZE], acc[ROVE_ID_SIZE], contact[ROVE_ID_SIZE];
    char tara_task[ROVE_ID_SIZE], owner[32];
    int64_t v_task, v_acc, v_contact, v_tara;
} fixture;

static int64_t version_of(const th_server *s, const char *table, const char *id)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT version FROM %s WHERE id = ?1", table);
    int64_t v = th_server_int(s, sql, id, NULL);
    TH_ASSERT(v > 0);
    return v;
}

/* tom's raw device, holding his scope; one of his open tasks on an account a
 * rep owns, with a contact; one of tara's tasks. */
static void fixture_open(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->s = th_server_start(NULL);
    TH_ASSERT_EQ(th_login_raw(f->s, "tom", "tom-demo", &f->tom), 200);
    sqlite3 *snap = th_snapshot_new();
    f->tom_cursor = th_snapshot_pull(f->s, f->tom.token, snap);
    sqlite3_close(snap);
    server_text(f->s,
                "SELECT t.id FROM service_task t JOIN account a ON a.id = t.account_id "
                "JOIN users u ON u.id = a.owner_id WHERE t.assignee_id = ?1 AND t.deleted = 0 "
                "AND u.role = 'rep' AND t.status NOT IN ('resolved', 'closed', 'cancelled') "
                "AND EXISTS (SELECT 1 FROM contact c WHERE c.account_id = a.id AND "
                "c.deleted = 0) ORDER BY ifnull(t.required_skills, '') LIKE 'refrig%', t.id "
                "LIMIT 1",
                f->tom.user_id, f->task, sizeof(f->task));
    TH_ASSERT_MSG(f->task[0] != '\0', "tom has no open task on a rep's account");
    server_text(f->s, "SELECT account_id FROM service_task WHERE id = ?1", f->task, f->acc,
                sizeof(f->acc));
    server_text(f->s,
                "SELECT u.username FROM account a JOIN users u ON u.id = a.owner_id "
                "WHERE a.id = ?1",
                f->acc, f->owner, sizeof(f->owner));
    server_text(f->s,
                "SELECT id FROM contact WHERE account_id = ?1 AND deleted = 0 ORDER BY id "
                "LIMIT 1",
                f->acc, f->contact, sizeof(f->contact));
    server_text(f->s,
                "SELECT t.id FROM service_task t JOIN users u ON u.id = t.assignee_id "
                "WHERE u.username = 'tara' AND t.deleted = 0 AND t.status NOT IN "
                "('resolved', 'closed', 'cancelled') AND ?1 IS NOT NULL ORDER BY t.id LIMIT 1",
                "x", f->tara_task, sizeof(f->tara_task));
    TH_ASSERT(f->contact[0] != '\0' && f->tara_task[0] != '\0' && f->owner[0] != '\0');
    f->v_task = version_of(f->s, "service_task", f->task);
    f->v_acc = version_of(f->s, "account", f->acc);
    f->v_contact = version_of(f->s, "contact", f->contact);
    f->v_tara = version_of(f->s, "service_task", f->tara_task);
    th_log("tom's task %s on account %s (owner %s), contact %s; tara's task %s", f->task,
           f->acc, f->owner, f->contact, f->tara_task);
}

/* The owner's device, bootstrapped: it holds the account and the contact. */
static rove_client *owner_device(const fixture *f, const char *dir)
{
    char pw[48];
    snprintf(pw, sizeof(pw), "%s-demo", f->owner);
    rove_client *c = th_client_open(f->s, dir, f->owner);
    TH_ASSERT_ROVE(c, rove_client_login(c, f->owner, pw));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "owner bootstrap");
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM account WHERE id = ?1", f->acc), 1);
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM contact WHERE id = ?1", f->contact), 1);
    return c;
}

/* After a sync, the owner's device still holds the account, its contact and
 * the task, with the server's values, and was told of no eviction. */
static void owner_still_holds(const fixture *f, rove_client *c)
{
    rove_sync_report rep;
    th_sync_ok(c, &rep, "owner after the probes");
    TH_ASSERT_EQ(rep.evicted, 0);
    TH_ASSERT_EQ(
        th_client_int(c, "SELECT count(*) FROM account WHERE id = ?1 AND deleted = 0", f->acc),
        1);
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM contact WHERE id = ?1 AND deleted = 0",
                               f->contact),
                 1);
    TH_ASSERT_EQ(th_client_int(c,
                               "SELECT count(*) FROM account WHERE id = ?1 AND "
                               "(discount_pct = 95 OR name = 'Tom Was Here')",
                               f->acc),
                 0);
    char pw[48];
    snprintf(pw, sizeof(pw), "%s-demo", f->owner);
    TH_ASSERT(th_matches_fresh(f->s, c, f->owner, pw, "owner after the probes"));
}

/*
 * Technician tom, assigned a task on an account a rep owns, pushes what his
 * role may not write: the account's name, its commercial columns (which he
 * never receives), a contact's decision role, deletes of the contact and the
 * account, new records under the account, another technician's task, the
 * server-owned columns of his own task. Each is refused, nothing changes on
 * the server, and the owner's device keeps the account. What he may write,
 * the fields of his own task, is applied.
 */
void test_integration__push_authz_technician(void)
{
    fixture f;
    fixture_open(&f);
    const char *dir = th_tmpdir("push-authz-tech");
    rove_client *owner = owner_device(&f, dir);
    char ghost[ROVE_ID_SIZE], new_contact[ROVE_ID_SIZE], new_visit[ROVE_ID_SIZE],
        new_task[ROVE_ID_SIZE];
    th_new_id(ghost);
    th_new_id(new_contact);
    th_new_id(new_visit);
    th_new_id(new_task);
    const char *F = "forbidden", *S = "out_of_scope", *O = "server_owned";
    const probe probes[] = {
        {"account.name",
         "account",
         ROVE__OP_UPDATE,
         f.acc,
         f.v_acc,
         {{"name", th_text("Tom Was Here")}},
         1,
         F},
        {"account.discount_pct",
         "account",
         ROVE__OP_UPDATE,
         f.acc,
         f.v_acc,
         {{"discount_pct", th_real(95)}},
         1,
         F},
        {"account.price_notes",
         "account",
         ROVE__OP_UPDATE,
         f.acc,
         f.v_acc,
         {{"price_notes", th_text("free of charge")}},
         1,
         F},
        {"account.notes",
         "account",
         ROVE__OP_UPDATE,
         f.acc,
         f.v_acc,
         {{"notes", th_text("tom's note")}},
         1,
         F},
        {"contact.decision_role",
         "contact",
         ROVE__OP_UPDATE,
         f.contact,
         f.v_contact,
         {{"decision_role", th_text("gatekeeper")}},
         1,
         F},
        {"contact.phone",
         "contact",
         ROVE__OP_UPDATE,
         f.contact,
         f.v_contact,
         {{"phone", th_text("+31 6 0000 0000")}},
         1,
         F},
        {"delete contact", "contact", ROVE__OP_DELETE, f.contact, f.v_contact, {{0}}, 0, F},
        {"delete account", "account", ROVE__OP_DELETE, f.acc, f.v_acc, {{0}}, 0, F},
        {"delete a nonexistent account", "account", ROVE__OP_DELETE, ghost, 1, {{0}}, 0, F},
        {"insert contact under the account",
         "contact",
         ROVE__OP_INSERT,
         new_contact,
         0,
         {{"account_id", th_text(f.acc)}, {"name", th_text("Planted")}},
         2,
         F},
        {"insert visit under the account",
         "visit",
         ROVE__OP_INSERT,
         new_visit,
         0,
         {{"account_id", th_text(f.acc)}, {"purpose", th_text("x")}},
         2,
         F},
        {"insert task under the account",
         "service_task",
         ROVE__OP_INSERT,
         new_task,
         0,
         {{"account_id", th_text(f.acc)},
          {"type", th_text("request")},
          {"title", th_text("Self-assigned")}},
         3,
         F},
        {"insert over the account's id",
         "account",
         ROVE__OP_INSERT,
         f.acc,
         0,
         {{"name", th_text("Tom Was Here")}},
         1,
         F},
        {"delete own task", "service_task", ROVE__OP_DELETE, f.task, f.v_task, {{0}}, 0, F},
        {"tara's task title",
         "service_task",
         ROVE__OP_UPDATE,
         f.tara_task,
         f.v_tara,
         {{"title", th_text("Tom Was Here")}},
         1,
         S},
        {"a nonexistent task's title",
         "service_task",
         ROVE__OP_UPDATE,
         ghost,
         1,
         {{"title", th_text("Tom Was Here")}},
         1,
         S},
        {"own task assignee_id",
         "service_task",
         ROVE__OP_UPDATE,
         f.task,
         f.v_task,
         {{"assignee_id", th_text(f.tom.user_id)}},
         1,
         O},
        {"own task title + sla_resolve_due",
         "service_task",
         ROVE__OP_UPDATE,
         f.task,
         f.v_task,
         {{"title", th_text("Tom Was Here")}, {"sla_resolve_due", th_int(1)}},
         2,
         O},
        {"own task queue",
         "service_task",
         ROVE__OP_UPDATE,
         f.task,
         f.v_task,
         {{"queue", th_text("none")}},
         1,
         O},
    };
    size_t n = sizeof(probes) / sizeof(probes[0]);
    char *before = server_dump(f.s);
    static th_sync_result res;
    push_refused(f.s, f.tom.token, f.tom_cursor, probes, n, &res);
    /* A record out of his scope answers exactly like one that does not exist. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            if (strstr(probes[i].what, "nonexistent") != NULL && i != k &&
                probes[k].op == probes[i].op && strcmp(probes[k].table, probes[i].table) == 0 &&
                strcmp(probes[k].code, S) == 0)
                TH_ASSERT_STR(res.receipts[k].message, res.receipts[i].message);
    TH_ASSERT_STR(res.receipts[7].message, res.receipts[8].message);
    char *after = server_dump(f.s);
    assert_same_dump(before, after, "tom's refused raw push");
    free(after);
    th_sync_result_free(&res);

    /* The same through the SDK: tom's phone edits and deletes the account it
     * shows him read-only; both come back rejected, and nothing changes. */
    rove_client *phone = th_client_open(f.s, dir, "tom-phone");
    TH_ASSERT_ROVE(phone, rove_client_login(phone, "tom", "tom-demo"));
    rove_sync_report rep;
    th_sync_ok(phone, &rep, "tom bootstrap");
    TH_ASSERT_ROVE(phone, th_set_text(phone, "account", f.acc, "name", "Tom Was Here"));
    TH_ASSERT_ROVE(phone, th_set_text(phone, "contact", f.contact, "title", "Tom Was Here"));
    TH_ASSERT_ROVE(phone, rove_client_delete(phone, "account", f.acc));
    th_sync_ok(phone, &rep, "tom's SDK edits");
    TH_ASSERT_EQ(rep.rejected, 3);
    TH_ASSERT_EQ(rep.applied, 0);
    after = server_dump(f.s);
    assert_same_dump(before, after, "tom's refused SDK edits");
    free(after);
    /* ...and his phone shows the account again as the server has it. */
    TH_ASSERT_EQ(th_client_int(phone,
                               "SELECT count(*) FROM account WHERE id = ?1 AND "
                               "deleted = 0 AND name <> 'Tom Was Here'",
                               f.acc),
                 1);

    owner_still_holds(&f, owner);

    /* Positive control: the fields of his own task are his to write. */
    char ch[ROVE_ID_SIZE];
    th_new_id(ch);
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, f.tom_cursor, 1, 1);
    th_col mine[] = {{"description", th_text("pump replaced, seal ordered")},
                     {"notes", th_text("customer asks for a call")},
                     {"required_skills", th_text("plumbing")}};
    th_w_change(&b, ch, "service_task", ROVE__OP_UPDATE, f.task, f.v_task, mine, 3);
    TH_ASSERT_EQ(th_sync_raw(f.s, f.tom.token, &b, &res, NULL), 200);
    rove__buf_free(&b);
    TH_ASSERT_EQ(res.nreceipts, 1);
    TH_ASSERT_MSG(res.receipts[0].status == 0 || res.receipts[0].status == 1,
                  "tom's own task: status %d %s (%s)", res.receipts[0].status,
                  res.receipts[0].code, res.receipts[0].message);
    th_sync_result_free(&res);
    TH_ASSERT_EQ(th_server_int(f.s,
                               "SELECT count(*) FROM service_task WHERE id = ?1 AND "
                               "description = 'pump replaced, seal ordered'",
                               f.task, NULL),
                 1);
    /* And through the SDK. */
    th_sync_ok(phone, &rep, "tom pulls");
    TH_ASSERT_ROVE(phone, th_set_text(phone, "service_task", f.task, "resolution", "fixed"));
    th_sync_ok(phone, &rep, "tom's own task");
    TH_ASSERT_EQ(rep.rejected, 0);
    TH_ASSERT_EQ(rep.applied, 1);
    TH_ASSERT_EQ(th_server_int(f.s,
                               "SELECT count(*) FROM service_task WHERE id = ?1 AND "
                               "resolution = 'fixed'",
                               f.task, NULL),
                 1);
    free(before);
    rove_client_free(phone);
    rove_client_free(owner);
    th_server_stop(f.s);
}

/*
 * The "device holds this record" path: tom's task moves to tara. Tom's phone,
 * which held the task and its account, pushes edits made before the move: the
 * task's own fields are applied as a late edit (his rights then), but what
 * his role never had, the account's columns and a delete, is refused all the
 * same and nothing of it is applied.
 */
void test_integration__push_authz_held(void)
{
    fixture f;
    fixture_open(&f);
    const char *dir = th_tmpdir("push-authz-held");
    rove_client *owner = owner_device(&f, dir);
    /* Edits stamped now, before the task leaves tom's scope. */
    th_set_clock_skew(-5000);
    char ch[4][ROVE_ID_SIZE];
    for (int i = 0; i < 4; i++)
        th_new_id(ch[i]);
    rove__buf held = ROVE__BUF_INIT;
    th_w_request(&held, 1, f.tom_cursor, 1, 3);
    th_col name[] = {{"name", th_text("Tom Was Here")}, {"discount_pct", th_real(95)}};
    th_w_change(&held, ch[0], "account", ROVE__OP_UPDATE, f.acc, f.v_acc, name, 2);
    th_w_change(&held, ch[1], "account", ROVE__OP_DELETE, f.acc, f.v_acc, NULL, 0);
    th_col title[] = {{"description", th_text("done before the move")}};
    th_w_change(&held, ch[2], "service_task", ROVE__OP_UPDATE, f.task, f.v_task, title, 1);
    th_set_clock_skew(0);

    char admin[128], code[64], path[160];
    th_admin_login(f.s, "admin", "admin-demo", admin, sizeof(admin));
    snprintf(path, sizeof(path), "/v1/admin/tasks/%s/assign", f.task);
    long st = th_admin_post(f.s, admin, path, "{\"to\":\"tara\"}", code, sizeof(code));
    TH_ASSERT_MSG(st == 200, "reassign to tara: %ld %s", st, code);
    TH_ASSERT_EQ(th_server_int(f.s,
                               "SELECT count(*) FROM service_task t JOIN users u ON "
                               "u.id = t.assignee_id WHERE t.id = ?1 AND u.username = 'tara'",
                               f.task, NULL),
                 1);
    /* The task (and with it the account) left tom's scope. */
    char *before = server_dump_of(f.s, record_rows);
    static th_sync_result res;
    TH_ASSERT_EQ(th_sync_raw(f.s, f.tom.token, &held, &res, NULL), 200);
    rove__buf_free(&held);
    TH_ASSERT_EQ(res.nreceipts, 3);
    for (int i = 0; i < 3; i++)
        th_log("held change %d -> status %d %s (%s)", i, res.receipts[i].status,
               res.receipts[i].code, res.receipts[i].message);
    TH_ASSERT_EQ(res.receipts[0].status, 2);
    TH_ASSERT_STR(res.receipts[0].code, "forbidden");
    TH_ASSERT_EQ(res.receipts[1].status, 2);
    TH_ASSERT_STR(res.receipts[1].code, "forbidden");
    TH_ASSERT_MSG(res.receipts[2].status == 0 || res.receipts[2].status == 1,
                  "tom's own edit before the move: %d %s", res.receipts[2].status,
                  res.receipts[2].code);
    th_sync_result_free(&res);
    /* Only the task changed: the records' rows are as they were, and tom
     * wrote nothing on the account. */
    char *after = server_dump_of(f.s, record_rows);
    assert_same_dump(before, after, "tom's held changes");
    TH_ASSERT_EQ(th_server_int(f.s,
                               "SELECT count(*) FROM audit WHERE table_name = 'account' AND "
                               "row_id = ?1 AND actor_user_id = ?2",
                               f.acc, f.tom.user_id),
                 0);
    TH_ASSERT_EQ(th_server_int(f.s,
                               "SELECT count(*) FROM service_task WHERE id = ?1 AND "
                               "description = 'done before the move'",
                               f.task, NULL),
                 1);
    free(before);
    free(after);
    owner_still_holds(&f, owner);
    rove_client_free(owner);
    th_server_stop(f.s);
}

/*
 * Reps and managers write all the columns they see, but never a server-owned
 * one nor a server-written table: the stage history of an account is written
 * only by stage commands (no device inserts, updates or deletes it), tier and
 * the task's assignee only by server commands. A rep's commercial columns are
 * hers to write (positive control).
 */
void test_integration__push_authz_server_owned(void)
{
    th_server *s = th_server_start(NULL);
    th_login rita;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &rita), 200);
    sqlite3 *snap = th_snapshot_new();
    int64_t cursor = th_snapshot_pull(s, rita.token, snap);
    char acc[ROVE_ID_SIZE], task[ROVE_ID_SIZE];
    th_db_text(snap, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
               rita.user_id, acc, sizeof(acc));
    TH_ASSERT(acc[0] != '\0');
    sqlite3_close(snap);
    server_text(s,
                "SELECT t.id FROM service_task t JOIN account a ON a.id = t.account_id "
                "WHERE a.owner_id = ?1 AND t.deleted = 0 ORDER BY t.id LIMIT 1",
                rita.user_id, task, sizeof(task));
    TH_ASSERT(task[0] != '\0');

    /* A stage change leaves a history row on rita's account. */
    char admin[128], code[64], path[160];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/stage", acc);
    long st = th_admin_post(s, admin, path, "{\"stage\":\"opportunity\",\"reason\":\"test\"}",
                            code, sizeof(code));
    if (st != 200)
        st = th_admin_post(s, admin, path, "{\"stage\":\"ordered\",\"reason\":\"test\"}", code,
                           sizeof(code));
    TH_ASSERT_EQ(st, 200);
    char hist[ROVE_ID_SIZE], new_hist[ROVE_ID_SIZE];
    server_text(s, "SELECT id FROM stage_change WHERE account_id = ?1 LIMIT 1", acc, hist,
                sizeof(hist));
    TH_ASSERT(hist[0] != '\0');
    th_new_id(new_hist);
    int64_t v_acc = version_of(s, "account", acc), v_task = version_of(s, "service_task", task),
            v_hist = version_of(s, "stage_change", hist);
    const probe probes[] = {
        {"delete stage history",
         "stage_change",
         ROVE__OP_DELETE,
         hist,
         v_hist,
         {{0}},
         0,
         "forbidden"},
        {"update stage history",
         "stage_change",
         ROVE__OP_UPDATE,
         hist,
         v_hist,
         {{"to_stage", th_text("user")}},
         1,
         "forbidden"},
        {"insert stage history",
         "stage_change",
         ROVE__OP_INSERT,
         new_hist,
         0,
         {{"account_id", th_text(acc)}, {"to_stage", th_text("user")}},
         2,
         "forbidden"},
        {"account.tier",
         "account",
         ROVE__OP_UPDATE,
         acc,
         v_acc,
         {{"tier", th_text("VIP")}},
         1,
         "server_owned"},
        {"account.next_visit_due + phone",
         "account",
         ROVE__OP_UPDATE,
         acc,
         v_acc,
         {{"phone", th_text("+31 20 000")}, {"next_visit_due", th_int(1)}},
         2,
         "server_owned"},
        {"task.assignee_id",
         "service_task",
         ROVE__OP_UPDATE,
         task,
         v_task,
         {{"assignee_id", th_text(rita.user_id)}},
         1,
         "server_owned"},
    };
    char *before = server_dump(s);
    static th_sync_result res;
    push_refused(s, rita.token, cursor, probes, sizeof(probes) / sizeof(probes[0]), &res);
    th_sync_result_free(&res);
    char *after = server_dump(s);
    assert_same_dump(before, after, "rita's refused push");
    free(before);
    free(after);

    /* The delegated path: raj covers rita's account during her leave; the
     * same refusals hold for him, and nothing changes. */
    char json[512];
    int64_t from = th_now_ms() + 1500;
    snprintf(json, sizeof(json),
             "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"reason\":\"holiday\","
             "\"delegates\":[{\"user\":\"raj\",\"scope\":\"accounts\",\"accounts\":[\"%s\"],"
             "\"actions\":[\"visits\",\"accounts\",\"tasks\"]}]}",
             (long long)from, (long long)(from + 3600000), acc);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/leaves", json, code, sizeof(code)), 201);
    while (th_now_ms() < from + 500)
        usleep(100 * 1000);
    th_login raj;
    TH_ASSERT_EQ(th_login_raw(s, "raj", "raj-demo", &raj), 200);
    snap = th_snapshot_new();
    int64_t raj_cursor = th_snapshot_pull(s, raj.token, snap);
    TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM account WHERE id = ?1", acc, NULL), 1);
    sqlite3_close(snap);
    const probe deleg[] = {
        {"delegate: delete stage history",
         "stage_change",
         ROVE__OP_DELETE,
         hist,
         v_hist,
         {{0}},
         0,
         "forbidden"},
        {"delegate: account.tier",
         "account",
         ROVE__OP_UPDATE,
         acc,
         v_acc,
         {{"tier", th_text("VIP")}},
         1,
         "server_owned"},
        {"delegate: task.sla_resolve_due",
         "service_task",
         ROVE__OP_UPDATE,
         task,
         v_task,
         {{"sla_resolve_due", th_int(1)}},
         1,
         "server_owned"},
    };
    before = server_dump(s);
    push_refused(s, raj.token, raj_cursor, deleg, sizeof(deleg) / sizeof(deleg[0]), &res);
    th_sync_result_free(&res);
    after = server_dump(s);
    assert_same_dump(before, after, "raj's refused delegated push");
    free(before);
    free(after);
    /* ...while the delegation itself works: his phone number edit is applied
     * on rita's behalf. */
    char dch[ROVE_ID_SIZE];
    th_new_id(dch);
    rove__buf db = ROVE__BUF_INIT;
    th_w_request(&db, 1, raj_cursor, 1, 1);
    th_col phone[] = {{"phone", th_text("+31 20 555 0100")}};
    th_w_change(&db, dch, "account", ROVE__OP_UPDATE, acc, v_acc, phone, 1);
    TH_ASSERT_EQ(th_sync_raw(s, raj.token, &db, &res, NULL), 200);
    rove__buf_free(&db);
    TH_ASSERT_EQ(res.nreceipts, 1);
    TH_ASSERT_MSG(res.receipts[0].status <= 1 && strstr(res.receipts[0].message, "behalf"),
                  "raj's delegated edit: %d %s (%s)", res.receipts[0].status,
                  res.receipts[0].code, res.receipts[0].message);
    th_sync_result_free(&res);
    v_acc = version_of(s, "account", acc);

    /* Positive control: the commercial columns are a rep's to write. */
    char ch[ROVE_ID_SIZE];
    th_new_id(ch);
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, cursor, 1, 1);
    th_col ok[] = {{"discount_pct", th_real(7.5)}, {"campaign", th_text("spring")}};
    th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc, v_acc, ok, 2);
    TH_ASSERT_EQ(th_sync_raw(s, rita.token, &b, &res, NULL), 200);
    rove__buf_free(&b);
    TH_ASSERT_EQ(res.nreceipts, 1);
    TH_ASSERT_MSG(res.receipts[0].status == 0 || res.receipts[0].status == 1,
                  "rita's commercial columns: %d %s (%s)", res.receipts[0].status,
                  res.receipts[0].code, res.receipts[0].message);
    th_sync_result_free(&res);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account WHERE id = ?1 AND "
                               "campaign = 'spring'",
                               acc, NULL),
                 1);
    th_server_stop(s);
}
