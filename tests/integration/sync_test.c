/*
 * Sync end to end against a real roved: two devices of one user, idempotent
 * retries, no lost acknowledged writes across kill -9 and SIGTERM, and the
 * technician's scope.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define RC_APPLIED 0
#define RC_MERGED 1

/* Receipts seen through the SDK callback. */
typedef struct receipts {
    unsigned total, ok, problems;
    char first_problem[300];
} receipts;

static int on_receipt(const rove_receipt *r, void *payload)
{
    receipts *rs = payload;
    rs->total++;
    if ((r->status == ROVE_RECEIPT_APPLIED || r->status == ROVE_RECEIPT_MERGED) &&
        r->version > 0) {
        rs->ok++;
    } else {
        if (rs->problems++ == 0)
            snprintf(rs->first_problem, sizeof(rs->first_problem),
                     "%s %s status %d %s: %s version %lld", r->table, r->record_id,
                     (int)r->status, rove_error_name(r->error), r->message ? r->message : "",
                     (long long)r->version);
    }
    return 0;
}

static int64_t count_problem_receipts(rove_client *c)
{
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(c, rove_client_receipts(c, &q, 1));
    int64_t n = 0;
    int rc;
    while ((rc = rove_rows_next(q)) == 1)
        n++;
    TH_ASSERT_EQ(rc, 0);
    rove_rows_free(q);
    return n;
}

static const char *const tables_sql[] = {
    "SELECT * FROM account ORDER BY id",
    "SELECT * FROM contact ORDER BY id",
    "SELECT * FROM visit ORDER BY id",
    "SELECT * FROM service_task ORDER BY id",
};

/* Asserts that both replicas hold exactly the same rows and values. */
static void assert_same_replicas(rove_client *a, rove_client *b)
{
    for (size_t i = 0; i < sizeof(tables_sql) / sizeof(tables_sql[0]); i++) {
        char *da = th_client_dump(a, tables_sql[i]);
        char *db = th_client_dump(b, tables_sql[i]);
        if (strcmp(da, db) != 0) {
            fprintf(stderr, "device A:\n%s\ndevice B:\n%s\n", da, db);
            th_fail(__FILE__, __LINE__, "replicas differ: %s", tables_sql[i]);
        }
        free(da);
        free(db);
    }
}

/* Asserts that the replica holds the same rows as the raw snapshot pulled by a
 * brand-new device, column for column. */
static void assert_replica_matches_server(rove_client *c, sqlite3 *snap)
{
    for (size_t i = 0; i < sizeof(tables_sql) / sizeof(tables_sql[0]); i++) {
        char *dc = th_client_dump(c, tables_sql[i]);
        char *ds = th_db_dump(snap, tables_sql[i]);
        if (strcmp(dc, ds) != 0) {
            fprintf(stderr, "replica:\n%s\nserver (fresh device):\n%s\n", dc, ds);
            th_fail(__FILE__, __LINE__, "replica differs from the server: %s", tables_sql[i]);
        }
        free(dc);
        free(ds);
    }
}

void test_integration__two_devices(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("two-devices");
    rove_client *a = th_client_open(s, dir, "rita-tablet");
    rove_client *b = th_client_open(s, dir, "rita-phone");
    receipts ra = {0}, rb = {0};
    rove_client_on_receipt(a, on_receipt, &ra);
    rove_client_on_receipt(b, on_receipt, &rb);
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    TH_ASSERT(rove_client_logged_in(a) == 1);
    TH_ASSERT_STR(rove_client_role(a), "rep");
    TH_ASSERT_STR(rove_client_user_id(a), rove_client_user_id(b));
    TH_ASSERT(strcmp(rove_client_device_id(a), rove_client_device_id(b)) != 0);

    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    TH_ASSERT(rep.pulled > 0);
    th_sync_ok(b, &rep, "B bootstrap");
    TH_ASSERT(rep.pulled > 0);
    assert_same_replicas(a, b);

    /* Device A, offline: a visit checked in and out, a new contact, an account
     * field. */
    char visit[ROVE_ID_SIZE], acc_a[ROVE_ID_SIZE], contact[ROVE_ID_SIZE];
    th_client_text(a,
                   "SELECT id FROM visit WHERE status = 'planned' AND planned_for = ?1 "
                   "ORDER BY planned_start, id LIMIT 1",
                   rove_client_user_id(a), visit, sizeof(visit));
    TH_ASSERT_MSG(visit[0] != '\0', "rita has no planned visit in the demo data");
    th_client_text(a, "SELECT account_id FROM visit WHERE id = ?1", visit, acc_a,
                   sizeof(acc_a));
    TH_ASSERT(acc_a[0] != '\0');
    TH_ASSERT_ROVE(a, rove_visit_check_in(a, visit, 52.3702, 4.8952));
    TH_ASSERT_ROVE(a, rove_visit_check_out(a, visit, 52.3703, 4.8953,
                                           "Ordered 20 cases; tasting in March",
                                           "Met the owner", "Send the spring quote"));
    TH_ASSERT_ROVE(a,
                   rove_contact_create(a, contact, acc_a, "Jonas Verhoeven", "Purchasing lead",
                                       "+31 20 555 0101", "jonas@example.com", 0));
    TH_ASSERT_ROVE(a, th_set_text(a, "account", acc_a, "phone", "+31 20 555 0199"));
    uint64_t pending_a = th_client_pending(a);
    TH_ASSERT_MSG(pending_a >= 4, "A has %llu pending changes, expected at least 4",
                  (unsigned long long)pending_a);

    /* Device B, offline: another account and a contact of another account. */
    char acc_b[ROVE_ID_SIZE], contact_b[ROVE_ID_SIZE];
    th_client_text(b, "SELECT id FROM account WHERE id <> ?1 ORDER BY id LIMIT 1", acc_a, acc_b,
                   sizeof(acc_b));
    TH_ASSERT(acc_b[0] != '\0');
    th_client_text(b, "SELECT id FROM contact WHERE account_id = ?1 ORDER BY id LIMIT 1", acc_b,
                   contact_b, sizeof(contact_b));
    TH_ASSERT_ROVE(b,
                   th_set_text(b, "account", acc_b, "address", "Prinsengracht 263, Amsterdam"));
    if (contact_b[0] != '\0')
        TH_ASSERT_ROVE(b, th_set_text(b, "contact", contact_b, "title", "Head of purchasing"));
    uint64_t pending_b = th_client_pending(b);
    TH_ASSERT(pending_b >= 1);

    /* Both come back online. */
    th_sync_ok(a, &rep, "A catch-up");
    TH_ASSERT_EQ(rep.pushed, pending_a);
    TH_ASSERT_EQ(rep.applied, pending_a);
    TH_ASSERT_EQ(rep.rejected, 0);
    th_sync_ok(b, &rep, "B catch-up");
    TH_ASSERT_EQ(rep.pushed, pending_b);
    TH_ASSERT_EQ(rep.applied, pending_b);
    TH_ASSERT(rep.pulled >= 3); /* at least A's visit, contact and account */
    th_sync_ok(a, &rep, "A pull");
    TH_ASSERT_EQ(rep.pushed, 0);
    TH_ASSERT(rep.pulled >= 1);

    TH_ASSERT_EQ(th_client_pending(a), 0);
    TH_ASSERT_EQ(th_client_pending(b), 0);
    TH_ASSERT_MSG(ra.problems == 0, "A got a problem receipt: %s", ra.first_problem);
    TH_ASSERT_MSG(rb.problems == 0, "B got a problem receipt: %s", rb.first_problem);
    TH_ASSERT_EQ(ra.total, pending_a);
    TH_ASSERT_EQ(rb.total, pending_b);
    TH_ASSERT_EQ(count_problem_receipts(a), 0);
    TH_ASSERT_EQ(count_problem_receipts(b), 0);

    /* B sees A's work and A sees B's, with identical values. */
    char text[256];
    th_client_text(b, "SELECT status FROM visit WHERE id = ?1", visit, text, sizeof(text));
    TH_ASSERT_STR(text, "completed");
    th_client_text(b, "SELECT outcome FROM visit WHERE id = ?1", visit, text, sizeof(text));
    TH_ASSERT_STR(text, "Ordered 20 cases; tasting in March");
    TH_ASSERT(th_client_int(b, "SELECT checkin_at FROM visit WHERE id = ?1", visit) > 0);
    TH_ASSERT(th_client_int(b, "SELECT checkout_at FROM visit WHERE id = ?1", visit) > 0);
    th_client_text(b, "SELECT email FROM contact WHERE id = ?1", contact, text, sizeof(text));
    TH_ASSERT_STR(text, "jonas@example.com");
    th_client_text(b, "SELECT phone FROM account WHERE id = ?1", acc_a, text, sizeof(text));
    TH_ASSERT_STR(text, "+31 20 555 0199");
    th_client_text(a, "SELECT address FROM account WHERE id = ?1", acc_b, text, sizeof(text));
    TH_ASSERT_STR(text, "Prinsengracht 263, Amsterdam");
    if (contact_b[0] != '\0') {
        th_client_text(a, "SELECT title FROM contact WHERE id = ?1", contact_b, text,
                       sizeof(text));
        TH_ASSERT_STR(text, "Head of purchasing");
    }
    TH_ASSERT(th_client_int(a, "SELECT version FROM contact WHERE id = ?1", contact) > 0);
    assert_same_replicas(a, b);

    /* And both match what the server gives a brand-new device. */
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    assert_replica_matches_server(a, snap);
    sqlite3_close(snap);

    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}

/* ---- retried push -------------------------------------------------------- */

static void assert_same_receipts(const th_sync_result *x, const th_sync_result *y)
{
    TH_ASSERT_EQ(x->nreceipts, y->nreceipts);
    for (size_t i = 0; i < x->nreceipts; i++) {
        TH_ASSERT_STR(x->receipts[i].change_id, y->receipts[i].change_id);
        TH_ASSERT_EQ(x->receipts[i].status, y->receipts[i].status);
        TH_ASSERT_STR(x->receipts[i].code, y->receipts[i].code);
        TH_ASSERT_EQ(x->receipts[i].version, y->receipts[i].version);
    }
}

void test_integration__retried_push(void)
{
    th_server *s = th_server_start(NULL);
    th_login l;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &l), 200);
    TH_ASSERT_STR(l.role, "rep");
    sqlite3 *mine = th_snapshot_new();
    int64_t cursor = th_snapshot_pull(s, l.token, mine);
    TH_ASSERT(cursor > 0);

    char acc[ROVE_ID_SIZE], contact[ROVE_ID_SIZE], ch1[ROVE_ID_SIZE], ch2[ROVE_ID_SIZE];
    th_db_text(mine, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    TH_ASSERT(acc[0] != '\0');
    int64_t acc_version =
        th_db_int(mine, "SELECT version FROM account WHERE id = ?1", acc, NULL);
    TH_ASSERT(acc_version > 0);
    th_new_id(contact);
    th_new_id(ch1);
    th_new_id(ch2);
    char name[64];
    snprintf(name, sizeof(name), "Retry Probe %s", contact);
    th_col ins[] = {
        {"account_id", th_text(acc)}, {"name", th_text(name)}, {"title", th_text("Buyer")}};
    th_col upd[] = {{"phone", th_text("+31 20 555 0142")}};
    rove__buf req = ROVE__BUF_INIT;
    th_w_request(&req, 1, cursor, 0, 2);
    th_w_change(&req, ch1, "contact", ROVE__OP_INSERT, contact, 0, ins, 3);
    th_w_change(&req, ch2, "account", ROVE__OP_UPDATE, acc, acc_version, upd, 1);

    static th_sync_result first, second, third;
    TH_ASSERT_EQ(th_sync_raw(s, l.token, &req, &first, NULL), 200);
    TH_ASSERT_EQ(first.nreceipts, 2);
    TH_ASSERT_STR(first.receipts[0].change_id, ch1);
    TH_ASSERT_STR(first.receipts[1].change_id, ch2);
    for (int i = 0; i < 2; i++) {
        TH_ASSERT_MSG(first.receipts[i].status == RC_APPLIED ||
                          first.receipts[i].status == RC_MERGED,
                      "receipt %d: status %d %s %s", i, first.receipts[i].status,
                      first.receipts[i].code, first.receipts[i].message);
        TH_ASSERT(first.receipts[i].version > cursor);
    }
    int64_t v_contact = first.receipts[0].version, v_account = first.receipts[1].version;
    TH_ASSERT(v_contact != v_account);

    int64_t cur1 = 0;
    sqlite3 *after1 = th_snapshot(s, "rita", "rita-demo", &cur1);
    char *fp1 = th_db_fingerprint(after1);
    TH_ASSERT_EQ(th_db_int(after1, "SELECT count(*) FROM contact WHERE name = ?1", name, NULL),
                 1);
    TH_ASSERT_EQ(th_db_int(after1, "SELECT version FROM contact WHERE id = ?1", contact, NULL),
                 v_contact);
    TH_ASSERT_EQ(th_db_int(after1, "SELECT version FROM account WHERE id = ?1", acc, NULL),
                 v_account);

    /* The device never saw the answer: it sends the very same bytes again. */
    TH_ASSERT_EQ(th_sync_raw(s, l.token, &req, &second, NULL), 200);
    assert_same_receipts(&first, &second);

    /* And once more, the update alone in another batch. */
    rove__buf req2 = ROVE__BUF_INIT;
    th_w_request(&req2, 1, cursor, 0, 1);
    th_w_change(&req2, ch2, "account", ROVE__OP_UPDATE, acc, acc_version, upd, 1);
    TH_ASSERT_EQ(th_sync_raw(s, l.token, &req2, &third, NULL), 200);
    TH_ASSERT_EQ(third.nreceipts, 1);
    TH_ASSERT_STR(third.receipts[0].change_id, ch2);
    TH_ASSERT_EQ(third.receipts[0].status, first.receipts[1].status);
    TH_ASSERT_EQ(third.receipts[0].version, v_account);

    /* The global effect happened once: another device sees one contact, the
     * account at the version of the first push, and nothing else changed. */
    int64_t cur2 = 0;
    sqlite3 *after2 = th_snapshot(s, "rita", "rita-demo", &cur2);
    char *fp2 = th_db_fingerprint(after2);
    TH_ASSERT_EQ(th_db_int(after2, "SELECT count(*) FROM contact WHERE name = ?1", name, NULL),
                 1);
    TH_ASSERT_EQ(th_db_int(after2, "SELECT version FROM account WHERE id = ?1", acc, NULL),
                 v_account);
    TH_ASSERT_EQ(cur2, cur1);
    TH_ASSERT_STR(fp2, fp1);
    /* The manager's view (all territories) agrees. */
    sqlite3 *mgr = th_snapshot(s, "maria", "maria-demo", NULL);
    TH_ASSERT_EQ(th_db_int(mgr, "SELECT count(*) FROM contact WHERE name = ?1", name, NULL), 1);

    free(fp1);
    free(fp2);
    sqlite3_close(mine);
    sqlite3_close(after1);
    sqlite3_close(after2);
    sqlite3_close(mgr);
    th_sync_result_free(&first);
    th_sync_result_free(&second);
    th_sync_result_free(&third);
    rove__buf_free(&req);
    rove__buf_free(&req2);
    th_server_stop(s);
}

/* ---- kill -9 and SIGTERM ------------------------------------------------- */

#define K9_N 50

typedef struct versions {
    unsigned n, bad;
    char ids[2 * K9_N][ROVE_ID_SIZE];
    int64_t v[2 * K9_N];
} versions;

static int on_receipt_version(const rove_receipt *r, void *payload)
{
    versions *vs = payload;
    if (r->status != ROVE_RECEIPT_APPLIED && r->status != ROVE_RECEIPT_MERGED)
        vs->bad++;
    if (vs->n < 2 * K9_N && r->record_id != NULL) {
        snprintf(vs->ids[vs->n], ROVE_ID_SIZE, "%s", r->record_id);
        vs->v[vs->n++] = r->version;
    }
    return 0;
}

static void create_contacts(rove_client *c, const char *acc, const char *prefix, int n,
                            char ids[][ROVE_ID_SIZE])
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s %02d", prefix, i);
        TH_ASSERT_ROVE(c, rove_contact_create(c, ids[i], acc, name, "Buyer", NULL, NULL, 0));
    }
}

/* Asserts that a brand-new device sees every acknowledged contact at the
 * version its receipt named. */
static void assert_acknowledged_present(th_server *s, const versions *vs, const char *prefix,
                                        int expect)
{
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    char like[64];
    snprintf(like, sizeof(like), "%s %%", prefix);
    TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM contact WHERE name LIKE ?1", like, NULL),
                 expect);
    for (unsigned i = 0; i < vs->n; i++) {
        int64_t v =
            th_db_int(snap, "SELECT version FROM contact WHERE id = ?1", vs->ids[i], NULL);
        TH_ASSERT_MSG(v == vs->v[i],
                      "acknowledged contact %s: server version %lld, receipt %lld", vs->ids[i],
                      (long long)v, (long long)vs->v[i]);
    }
    sqlite3_close(snap);
}

void test_integration__kill9_restart(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("kill9");
    rove_client *a = th_client_open(s, dir, "rita-tablet");
    static versions vs;
    rove_client_on_receipt(a, on_receipt_version, &vs);
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    char acc[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    TH_ASSERT(acc[0] != '\0');

    static char ids[2 * K9_N][ROVE_ID_SIZE];
    create_contacts(a, acc, "K9 contact", K9_N, ids);
    TH_ASSERT_EQ(th_client_pending(a), K9_N);
    th_sync_ok(a, &rep, "A push 50");
    TH_ASSERT_EQ(rep.pushed, K9_N);
    TH_ASSERT_EQ(rep.applied, K9_N);
    TH_ASSERT_EQ(th_client_pending(a), 0);
    TH_ASSERT_EQ(vs.n, K9_N);
    TH_ASSERT_EQ(vs.bad, 0);

    /* Acknowledged: now the server dies without a chance to flush anything. */
    th_server_kill(s);
    th_server_restart(s);
    th_log("restarted after SIGKILL on %s", s->url);
    assert_acknowledged_present(s, &vs, "K9 contact", K9_N);

    /* A second SDK device bootstraps and sees all 50. */
    rove_client *b = th_client_open(s, dir, "rita-phone");
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    th_sync_ok(b, &rep, "B bootstrap after kill -9");
    TH_ASSERT_EQ(
        th_client_int(b, "SELECT count(*) FROM contact WHERE name LIKE 'K9 contact %'", NULL),
        K9_N);
    for (int i = 0; i < K9_N; i++)
        TH_ASSERT_EQ(th_client_int(b, "SELECT count(*) FROM contact WHERE id = ?1", ids[i]), 1);

    /* Device A keeps its token across the restart (the url may have changed). */
    rove_client_free(a);
    a = th_client_open(s, dir, "rita-tablet");
    rove_client_on_receipt(a, on_receipt_version, &vs);
    TH_ASSERT(rove_client_logged_in(a) == 1);
    create_contacts(a, acc, "TERM contact", K9_N, ids + K9_N);
    th_sync_ok(a, &rep, "A push 50 more");
    TH_ASSERT_EQ(rep.pushed, K9_N);
    TH_ASSERT_EQ(rep.applied, K9_N);
    TH_ASSERT_EQ(vs.n, 2 * K9_N);
    TH_ASSERT_EQ(vs.bad, 0);

    /* A clean shutdown exits 0 and loses nothing either. */
    th_server_stop(s);
    th_server_restart(s);
    assert_acknowledged_present(s, &vs, "TERM contact", K9_N);
    assert_acknowledged_present(s, &vs, "K9 contact", K9_N);

    rove_client_free(a);
    a = th_client_open(s, dir, "rita-tablet");
    th_sync_ok(a, &rep, "A after restart");
    TH_ASSERT_EQ(rep.pushed, 0);
    TH_ASSERT_EQ(th_client_int(a,
                               "SELECT count(*) FROM contact WHERE name LIKE 'K9 contact %' "
                               "OR name LIKE 'TERM contact %'",
                               NULL),
                 2 * K9_N);
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}

/*
 * kill -9 of the server at arbitrary moments while a device is pushing: after
 * every crash the device syncs again, and in the end every change it made is
 * on the server exactly once (no acknowledged write lost, no duplicate).
 */
void test_integration__kill9_during_sync(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("kill9-sync");
    rove_client *a = th_client_open(s, dir, "rita-tablet");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    char acc[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    rove_client_free(a);

    char path[700];
    snprintf(path, sizeof(path), "%s/rita-tablet.db", dir);
    int total = 0, interrupted = 0;
    static const int delay_us[] = {0, 2000, 5000, 10000, 20000, 40000, 80000, 150000};
    const int rounds = (int)(sizeof(delay_us) / sizeof(delay_us[0]));
    for (int round = 0; round < rounds; round++) {
        /* The device works in a child process, so the server can be killed
         * while its request is in flight: the child says when it starts the
         * sync, and the server dies a varying moment later. */
        int fds[2];
        TH_ASSERT(pipe(fds) == 0);
        pid_t pid = fork();
        TH_ASSERT(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            rove_client *c = NULL;
            if (th_client_open_opts(&c, path, s->url, s->ca, NULL) != 0)
                _exit(3);
            for (int i = 0; i < 40; i++) {
                char name[64];
                snprintf(name, sizeof(name), "Crash %d-%02d", round, i);
                if (rove_contact_create(c, NULL, acc, name, NULL, NULL, NULL, 0) != 0)
                    _exit(4);
            }
            if (write(fds[1], "s", 1) != 1)
                _exit(5);
            int rc = rove_client_sync(c, NULL);
            rove_client_free(c);
            _exit(rc == 0 ? 0 : 10);
        }
        close(fds[1]);
        char go;
        TH_ASSERT(read(fds[0], &go, 1) == 1);
        close(fds[0]);
        total += 40;
        if (delay_us[round] > 0)
            usleep((useconds_t)delay_us[round]);
        th_server_kill(s);
        int status = 0;
        waitpid(pid, &status, 0);
        TH_ASSERT_MSG(WIFEXITED(status) &&
                          (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 10),
                      "device child failed (status %d)", status);
        if (WEXITSTATUS(status) == 10)
            interrupted++;
        th_server_restart(s);
    }
    th_log("%d of %d syncs were cut off by the kill", interrupted, rounds);
    /* Back online for good: the outbox drains and everything is there once. */
    a = th_client_open(s, dir, "rita-tablet");
    th_sync_ok(a, &rep, "A final");
    TH_ASSERT_EQ(th_client_pending(a), 0);
    TH_ASSERT_EQ(count_problem_receipts(a), 0);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(
        th_db_int(snap, "SELECT count(*) FROM contact WHERE name LIKE 'Crash %'", NULL, NULL),
        total);
    TH_ASSERT_EQ(th_db_int(snap,
                           "SELECT count(DISTINCT name) FROM contact WHERE name LIKE "
                           "'Crash %'",
                           NULL, NULL),
                 total);
    TH_ASSERT_EQ(th_client_int(a,
                               "SELECT count(*) FROM contact WHERE name LIKE 'Crash %' "
                               "AND version > 0",
                               NULL),
                 total);
    sqlite3_close(snap);
    rove_client_free(a);
    th_server_stop(s);
}

/* ---- technician scope ---------------------------------------------------- */

void test_integration__technician_scope(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("tech");
    rove_client *t = th_client_open(s, dir, "tom-phone");
    TH_ASSERT_ROVE(t, rove_client_login(t, "tom", "tom-demo"));
    TH_ASSERT_STR(rove_client_role(t), "technician");
    rove_sync_report rep;
    th_sync_ok(t, &rep, "tom bootstrap");
    const char *tom = rove_client_user_id(t);
    TH_ASSERT(tom != NULL);
    char tom_id[ROVE_ID_SIZE];
    snprintf(tom_id, sizeof(tom_id), "%s", tom);

    int64_t tasks = th_client_int(t, "SELECT count(*) FROM service_task", NULL);
    TH_ASSERT_MSG(tasks > 0, "tom has no service tasks");
    TH_ASSERT_EQ(th_client_int(t,
                               "SELECT count(*) FROM service_task WHERE assignee_id IS NULL "
                               "OR assignee_id <> ?1",
                               tom_id),
                 0);
    TH_ASSERT_EQ(
        th_client_int(t, "SELECT count(*) FROM account WHERE discount_pct IS NOT NULL", NULL),
        0);
    TH_ASSERT_EQ(
        th_client_int(t, "SELECT count(*) FROM account WHERE price_notes IS NOT NULL", NULL),
        0);
    TH_ASSERT_EQ(th_client_int(t, "SELECT count(*) FROM visit", NULL), 0);
    /* Only the basics of the accounts his tasks are for. */
    TH_ASSERT(th_client_int(t, "SELECT count(*) FROM account", NULL) > 0);
    TH_ASSERT_EQ(th_client_int(t,
                               "SELECT count(*) FROM account WHERE id NOT IN "
                               "(SELECT account_id FROM service_task)",
                               NULL),
                 0);

    /* On the wire: the commercial columns are never even sent to him. */
    sqlite3 *snap = th_snapshot(s, "tom", "tom-demo", NULL);
    TH_ASSERT(th_db_int(snap, "SELECT count(*) FROM _wire_cols WHERE tbl = 'account'", NULL,
                        NULL) > 0);
    TH_ASSERT_EQ(th_db_int(snap,
                           "SELECT count(*) FROM _wire_cols WHERE col IN ('discount_pct', "
                           "'price_notes', 'source_channel', 'visit_freq_days', "
                           "'next_visit_due', 'decision_role')",
                           NULL, NULL),
                 0);
    TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM service_task", NULL, NULL), tasks);
    sqlite3_close(snap);

    /* ...while a rep does receive them (so the check above means something),
     * and the demo data does hold discounts. */
    sqlite3 *rita = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(th_db_int(rita,
                           "SELECT count(*) FROM _wire_cols WHERE tbl = 'account' AND "
                           "col = 'discount_pct'",
                           NULL, NULL),
                 1);
    sqlite3_close(rita);
    sqlite3 *mgr = th_snapshot(s, "maria", "maria-demo", NULL);
    TH_ASSERT_MSG(th_db_int(mgr, "SELECT count(*) FROM account WHERE discount_pct IS NOT NULL",
                            NULL, NULL) > 0,
                  "the demo data holds no discount, the technician check proves little");
    /* Tara's tasks never reach Tom. */
    sqlite3 *tara = th_snapshot(s, "tara", "tara-demo", NULL);
    char *tara_tasks = th_db_dump(tara, "SELECT id FROM service_task ORDER BY id");
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(tara, "SELECT id FROM service_task", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        TH_ASSERT_EQ(th_client_int(t, "SELECT count(*) FROM service_task WHERE id = ?1", id),
                     0);
    }
    sqlite3_finalize(st);
    free(tara_tasks);
    sqlite3_close(tara);
    sqlite3_close(mgr);
    rove_client_free(t);
    th_server_stop(s);
}

/* ---- paging, deletes, conflicts ------------------------------------------ */

typedef struct conflicts {
    unsigned n;
    int64_t last_id;
} conflicts;

static int on_conflict(const rove_conflict *cf, void *payload)
{
    conflicts *x = payload;
    TH_ASSERT(cf->id > 0 && cf->change_id != NULL && cf->table != NULL &&
              cf->record_id != NULL && cf->column != NULL && cf->policy != NULL);
    th_log("conflict: %s.%s of %s: mine \"%s\" lost to \"%s\" (%s)", cf->table, cf->column,
           cf->record_id, cf->mine ? cf->mine : "null", cf->theirs ? cf->theirs : "null",
           cf->policy);
    x->n++;
    x->last_id = cf->id;
    return 0;
}

/* Runs sql (a count over table c) against rove_client_conflicts(). */
static int64_t count_conflicts(rove_client *cl, const char *sql)
{
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(cl, rove_client_conflicts(cl, &q, NULL, NULL, 0));
    sqlite3 *mem = NULL;
    TH_ASSERT(sqlite3_open(":memory:", &mem) == SQLITE_OK);
    TH_ASSERT(sqlite3_exec(mem,
                           "CREATE TABLE c(id, change_id, \"table\", record_id, \"column\", "
                           "mine, theirs, policy, received_at, seen)",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    TH_ASSERT(sqlite3_prepare_v2(mem, "INSERT INTO c VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                                 -1, &ins, NULL) == SQLITE_OK);
    TH_ASSERT_EQ(rove_rows_columns(q), 10);
    int rc;
    while ((rc = rove_rows_next(q)) == 1) {
        for (int i = 0; i < 10; i++) {
            if (rove_rows_is_null(q, i))
                sqlite3_bind_null(ins, i + 1);
            else if (i == 0 || i >= 8) /* id, received_at, seen */
                sqlite3_bind_int64(ins, i + 1, rove_rows_int(q, i));
            else
                sqlite3_bind_text(ins, i + 1, rove_rows_text(q, i), -1, SQLITE_TRANSIENT);
        }
        TH_ASSERT(sqlite3_step(ins) == SQLITE_DONE);
        sqlite3_reset(ins);
    }
    TH_ASSERT_EQ(rc, 0);
    rove_rows_free(q);
    sqlite3_finalize(ins);
    int64_t n = th_db_int(mem, sql, NULL, NULL);
    sqlite3_close(mem);
    return n;
}

/* A bootstrap in many small pages gives exactly what one big page gives. */
void test_integration__paged_bootstrap(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("paged");
    char path[700];
    snprintf(path, sizeof(path), "%s/rita-paged.db", dir);
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = path;
    o.server_url = s->url;
    o.ca_file = s->ca;
    o.page_size = 7;
    rove_client *c = NULL;
    TH_ASSERT_EQ(rove_client_open(&c, &o), 0);
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "paged bootstrap");
    int64_t cursor = 0;
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", &cursor);
    int64_t rows = th_db_int(snap,
                             "SELECT (SELECT count(*) FROM account) + (SELECT count(*) "
                             "FROM contact) + (SELECT count(*) FROM visit) + (SELECT "
                             "count(*) FROM service_task)",
                             NULL, NULL);
    TH_ASSERT(rows > 14);
    TH_ASSERT_EQ(rep.pulled, rows);
    TH_ASSERT_MSG(rep.pages >= (uint64_t)(rows / 7), "%llu pages for %lld rows of 7",
                  (unsigned long long)rep.pages, (long long)rows);
    TH_ASSERT_EQ(rep.cursor, cursor);
    assert_replica_matches_server(c, snap);
    sqlite3_close(snap);
    rove_client_free(c);
    th_server_stop(s);
}

typedef struct evictions {
    unsigned n;
    char table[32], id[ROVE_ID_SIZE], reason[64];
} evictions;

static int on_evict(const char *table, const char *id, const char *reason, void *payload)
{
    evictions *e = payload;
    e->n++;
    snprintf(e->table, sizeof(e->table), "%s", table);
    snprintf(e->id, sizeof(e->id), "%s", id);
    snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
    return 0;
}

/*
 * A deletes a contact while B, offline, edits it. B's edit is not dropped
 * silently: it gets a rejected receipt, the record shows as rejected, and B's
 * replica loses the row with reason "deleted".
 */
void test_integration__delete_propagates(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("delete");
    rove_client *a = th_client_open(s, dir, "rita-a");
    rove_client *b = th_client_open(s, dir, "rita-b");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    th_sync_ok(b, &rep, "B bootstrap");
    evictions ev = {0};
    receipts rb = {0};
    rove_client_on_evict(b, on_evict, &ev);
    rove_client_on_receipt(b, on_receipt, &rb);

    char contact[ROVE_ID_SIZE], other[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1", NULL, contact,
                   sizeof(contact));
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1 OFFSET 1", NULL, other,
                   sizeof(other));
    TH_ASSERT(contact[0] != '\0' && other[0] != '\0');
    TH_ASSERT_ROVE(a, rove_client_delete(a, "contact", contact));
    TH_ASSERT_EQ(th_client_int(a, "SELECT count(*) FROM contact WHERE id = ?1", contact), 0);
    TH_ASSERT_ROVE(a, rove_client_delete(a, "contact", other));
    th_sync_ok(a, &rep, "A pushes the deletes");
    TH_ASSERT_EQ(rep.pushed, 2);
    TH_ASSERT_EQ(rep.applied, 2);

    /* B edits the first one offline, before it hears of the delete. */
    TH_ASSERT_ROVE(b, th_set_text(b, "contact", contact, "title", "Edited while deleted"));
    th_sync_ok(b, &rep, "B syncs");
    TH_ASSERT_EQ(rep.pushed, 1);
    TH_ASSERT_EQ(rb.total, 1);
    TH_ASSERT_MSG(rb.problems == 1,
                  "B's edit of a deleted contact was not reported (%u problems)", rb.problems);
    th_log("B's edit of the deleted contact: %s", rb.first_problem);
    TH_ASSERT_EQ(th_client_pending(b), 0);
    TH_ASSERT_EQ(count_problem_receipts(b), 1);
    TH_ASSERT_EQ(th_client_int(b, "SELECT count(*) FROM contact WHERE id = ?1", contact), 0);
    TH_ASSERT_EQ(th_client_int(b, "SELECT count(*) FROM contact WHERE id = ?1", other), 0);
    TH_ASSERT_MSG(ev.n >= 2, "B was told of %u removals, expected 2", ev.n);
    TH_ASSERT_STR(ev.table, "contact");
    TH_ASSERT_STR(ev.reason, "deleted");
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE \"column\" = 'title' AND "
                                    "mine = 'Edited while deleted' AND theirs IS NULL AND "
                                    "policy = 'delete'"),
                 1);
    rove_sync_state st = ROVE_SYNC_SYNCED;
    const char *msg = NULL;
    TH_ASSERT_ROVE(b, rove_client_record_state(b, "contact", contact, &st, &msg));
    /* The edit lost to the delete: not resurrected, not lost either. */
    TH_ASSERT_MSG(st == ROVE_SYNC_OVERRIDDEN, "state of B's edit of a deleted record: %s",
                  rove_sync_state_name(st));
    {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
        sqlite3 *sdb = NULL;
        TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        sqlite3_busy_timeout(sdb, 5000);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM conflicts WHERE row_id = ?1 AND policy = "
                               "'delete' AND column_name = 'title' AND lost_value = "
                               "'\"Edited while deleted\"'",
                               contact, NULL),
                     1);
        sqlite3_close(sdb);
    }
    th_sync_ok(a, &rep, "A pull");
    assert_same_replicas(a, b);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM contact WHERE id = ?1", contact, NULL),
                 0);
    assert_replica_matches_server(a, snap);
    sqlite3_close(snap);
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}

/*
 * Concurrent offline edits of the same fields are resolved by the schema's
 * per-column policies (docs/protocol.md, BRIEF "Sync"), whatever order the
 * devices come back in: last writer by HLC wins for plain columns, the higher
 * state-machine rank wins for statuses, and both devices converge.
 */
void test_integration__conflicts(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("conflicts");
    rove_client *a = th_client_open(s, dir, "rita-a");
    rove_client *b = th_client_open(s, dir, "rita-b");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    th_sync_ok(b, &rep, "B bootstrap");

    char acc[ROVE_ID_SIZE], visit[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    th_client_text(a,
                   "SELECT id FROM visit WHERE status = 'planned' ORDER BY planned_start, id "
                   "LIMIT 1",
                   NULL, visit, sizeof(visit));
    TH_ASSERT(acc[0] != '\0' && visit[0] != '\0');

    /* Notes are appended to, not overwritten: give them a common start. */
    TH_ASSERT_ROVE(a, th_set_text(a, "account", acc, "notes", "Base note"));
    th_sync_ok(a, &rep, "A sets the base note");
    th_sync_ok(b, &rep, "B pulls the base note");

    /* B edits first (older HLC), A a little later (newer HLC). */
    TH_ASSERT_ROVE(b, th_set_text(b, "account", acc, "notes", "Base note\nLine from B"));
    TH_ASSERT_ROVE(b, th_set_text(b, "account", acc, "address", "Older edit by B"));
    TH_ASSERT_ROVE(b, rove_visit_cancel(b, visit));
    usleep(20 * 1000);
    TH_ASSERT_ROVE(a, th_set_text(a, "account", acc, "address", "Newer edit by A"));
    TH_ASSERT_ROVE(a, th_set_text(a, "account", acc, "notes", "Base note\nLine from A"));
    TH_ASSERT_ROVE(a, rove_visit_check_in(a, visit, ROVE_NO_GEO, ROVE_NO_GEO));
    TH_ASSERT_ROVE(
        a, rove_visit_check_out(a, visit, ROVE_NO_GEO, ROVE_NO_GEO, "Signed", NULL, NULL));

    /* A comes back first, B (the older edits) last. */
    th_sync_ok(a, &rep, "A (newer edits) syncs first");
    TH_ASSERT_EQ(rep.rejected, 0);
    receipts rb = {0};
    rove_client_on_receipt(b, on_receipt, &rb);
    conflicts cb = {0};
    rove_client_on_conflict(b, on_conflict, &cb);
    th_sync_ok(b, &rep, "B (older edits) syncs last");
    /* B's app is told which values lost, to what, and by which policy. */
    TH_ASSERT_MSG(cb.n == 2, "B's conflict callback ran %u times, expected 2", cb.n);
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE \"column\" = 'address' AND "
                                    "mine = 'Older edit by B' AND theirs = 'Newer edit by A' "
                                    "AND policy = 'lww' AND seen = 0"),
                 1);
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE \"column\" = 'status' AND "
                                    "mine = 'cancelled' AND theirs = 'completed' AND policy "
                                    "= 'rank'"),
                 1);
    TH_ASSERT_EQ(count_conflicts(a, "SELECT count(*) FROM c"), 0);
    TH_ASSERT_ROVE(b, rove_client_conflict_dismiss(b, cb.last_id));
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE seen = 1"), 1);
    TH_ASSERT_EQ(rove_client_conflict_dismiss(b, 999999), ROVE_ENOTFOUND);
    TH_ASSERT_ROVE(b, rove_client_conflict_dismiss(b, 0));
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE seen = 0"), 0);
    /* B is told its address and its cancellation lost (overridden), not
     * silently dropped; nothing was rejected. */
    TH_ASSERT_EQ(rep.rejected, 0);
    TH_ASSERT_MSG(rb.problems >= 2,
                  "B got %u overridden receipts, expected 2 (address, status)", rb.problems);
    th_log("B's first losing change: %s", rb.first_problem);
    TH_ASSERT(count_problem_receipts(b) >= 2);
    TH_ASSERT_EQ(count_problem_receipts(a), 0);
    th_sync_ok(a, &rep, "A pulls");
    TH_ASSERT_EQ(th_client_pending(a), 0);
    TH_ASSERT_EQ(th_client_pending(b), 0);
    assert_same_replicas(a, b);

    char text[128];
    th_client_text(a, "SELECT address FROM account WHERE id = ?1", acc, text, sizeof(text));
    TH_ASSERT_MSG(strcmp(text, "Newer edit by A") == 0,
                  "last writer by HLC should win for account.address, got \"%s\" (the older "
                  "edit, which merely arrived last)",
                  text);
    th_client_text(a, "SELECT status FROM visit WHERE id = ?1", visit, text, sizeof(text));
    TH_ASSERT_MSG(strcmp(text, "completed") == 0,
                  "visit.status merges by state-machine rank: completed outranks cancelled, "
                  "got \"%s\"",
                  text);
    /* Both appended lines are kept, and the common start only once. */
    char notes[512];
    th_client_text(a, "SELECT notes FROM account WHERE id = ?1", acc, notes, sizeof(notes));
    TH_ASSERT_MSG(strstr(notes, "Line from A") != NULL && strstr(notes, "Line from B") != NULL,
                  "append merge lost a line: \"%s\"", notes);
    const char *first = strstr(notes, "Base note");
    TH_ASSERT_MSG(first != NULL && strstr(first + 1, "Base note") == NULL,
                  "append merge repeats the text both devices started from: \"%s\"", notes);
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}

/* ---- big outbox, callbacks that abort ------------------------------------- */

static int abort_on_receipt(const rove_receipt *r, void *payload)
{
    unsigned *n = payload;
    (*n)++;
    return 1;
}

/*
 * 1,100 offline changes with push_batch set above the protocol's 1,000: the
 * SDK splits them into requests the server accepts. A receipt callback that
 * aborts the sync returns ROVE_EUSER and loses nothing: the batch that was
 * acknowledged stays acknowledged, the rest stays in the outbox, and the next
 * sync finishes the job with every change on the server exactly once.
 */
void test_integration__large_outbox(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("outbox");
    char path[700];
    snprintf(path, sizeof(path), "%s/rita.db", dir);
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = path;
    o.server_url = s->url;
    o.ca_file = s->ca;
    o.push_batch = 5000;
    rove_client *c = NULL;
    TH_ASSERT_EQ(rove_client_open(&c, &o), 0);
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "bootstrap");
    char acc[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    const int n = 1100;
    double t0 = th_mono();
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "Bulk %04d", i);
        TH_ASSERT_ROVE(c, rove_contact_create(c, NULL, acc, name, NULL, NULL, NULL, 0));
    }
    th_log("%d offline inserts in %.2f s", n, th_mono() - t0);
    TH_ASSERT_EQ(th_client_pending(c), n);

    unsigned seen = 0;
    rove_client_on_receipt(c, abort_on_receipt, &seen);
    int rc = rove_client_sync(c, &rep);
    TH_ASSERT_MSG(rc == ROVE_EUSER, "sync with an aborting callback: %s", rove_error_name(rc));
    TH_ASSERT_EQ(seen, 1);
    uint64_t left = th_client_pending(c);
    th_log("aborted after the first batch: %llu acknowledged, %llu left",
           (unsigned long long)rep.pushed, (unsigned long long)left);
    TH_ASSERT_EQ(rep.pushed, 1000);
    TH_ASSERT_EQ(left, (uint64_t)n - 1000);

    receipts rs = {0};
    rove_client_on_receipt(c, on_receipt, &rs);
    th_sync_ok(c, &rep, "sync again");
    TH_ASSERT_EQ(rep.pushed, (uint64_t)n - 1000);
    TH_ASSERT_EQ(rs.problems, 0);
    TH_ASSERT_EQ(th_client_pending(c), 0);
    TH_ASSERT_EQ(count_problem_receipts(c), 0);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(
        th_db_int(snap, "SELECT count(*) FROM contact WHERE name LIKE 'Bulk %'", NULL, NULL),
        n);
    TH_ASSERT_EQ(th_db_int(snap,
                           "SELECT count(DISTINCT name) FROM contact WHERE name LIKE "
                           "'Bulk %'",
                           NULL, NULL),
                 n);
    assert_replica_matches_server(c, snap);
    sqlite3_close(snap);
    rove_client_free(c);
    th_server_stop(s);
}

/* ---- local edits survive pulls of the same record ------------------------- */

typedef struct watch {
    rove_client *c;
    const char *id;
    unsigned calls, bad;
    char seen[128];
} watch;

/* After each committed page: the pending local title must still show. */
static int check_pending_title(const rove_progress *p, void *payload)
{
    watch *w = payload;
    w->calls++;
    char title[128];
    th_client_text(w->c, "SELECT title FROM contact WHERE id = ?1", w->id, title,
                   sizeof(title));
    if (strcmp(title, "Title typed on A") != 0) {
        w->bad++;
        snprintf(w->seen, sizeof(w->seen), "%.100s (pending %llu)", title,
                 (unsigned long long)p->pending);
    }
    return 0;
}

/*
 * A's outbox holds an edit of contact X behind another change; B changes
 * another column of X and syncs first. With one change per request, A's first
 * round trip pulls B's version of X while A's edit of X is still unsent: the
 * pulled row must not hide A's pending edit at any moment, and in the end X
 * carries both edits everywhere.
 */
void test_integration__pending_survives_pull(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("pending");
    char path[700];
    snprintf(path, sizeof(path), "%s/rita-a.db", dir);
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = path;
    o.server_url = s->url;
    o.ca_file = s->ca;
    o.push_batch = 1;
    rove_client *a = NULL;
    TH_ASSERT_EQ(rove_client_open(&a, &o), 0);
    rove_client *b = th_client_open(s, dir, "rita-b");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    th_sync_ok(b, &rep, "B bootstrap");

    char x[ROVE_ID_SIZE], z[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1", NULL, x, sizeof(x));
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1 OFFSET 5", NULL, z,
                   sizeof(z));
    TH_ASSERT_ROVE(a, th_set_text(a, "contact", z, "title", "Some other edit"));
    TH_ASSERT_ROVE(a, th_set_text(a, "contact", x, "title", "Title typed on A"));
    TH_ASSERT_ROVE(b, th_set_text(b, "contact", x, "phone", "+31 6 1234 5678"));
    th_sync_ok(b, &rep, "B pushes its edit of X");

    watch w = {a, x, 0, 0, ""};
    rove_client_on_progress(a, check_pending_title, &w);
    th_sync_ok(a, &rep, "A syncs one change per request");
    TH_ASSERT(rep.round_trips >= 2);
    TH_ASSERT(w.calls >= 2);
    TH_ASSERT_MSG(w.bad == 0, "A's pending title disappeared after a pull: saw \"%s\"", w.seen);
    th_sync_ok(b, &rep, "B pulls");
    char text[128];
    for (int i = 0; i < 2; i++) {
        rove_client *c = i ? b : a;
        th_client_text(c, "SELECT title FROM contact WHERE id = ?1", x, text, sizeof(text));
        TH_ASSERT_STR(text, "Title typed on A");
        th_client_text(c, "SELECT phone FROM contact WHERE id = ?1", x, text, sizeof(text));
        TH_ASSERT_STR(text, "+31 6 1234 5678");
    }
    assert_same_replicas(a, b);
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}

/* ---- many devices at once ------------------------------------------------- */

/*
 * Sixteen devices of three reps push and pull at the same time, in separate
 * processes: every sync succeeds (no busy or storage errors under write
 * contention) and every change is on the server exactly once.
 */
void test_integration__concurrent_devices(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("concurrent");
    static const char *const users[] = {"rita", "raj", "rosa"};
    enum { NDEV = 16, ROUNDS = 5, PER = 10 };
    char acc[3][ROVE_ID_SIZE];
    for (int u = 0; u < 3; u++) {
        char pw[32];
        snprintf(pw, sizeof(pw), "%s-demo", users[u]);
        th_login who;
        TH_ASSERT(th_login_raw(s, users[u], pw, &who) == 200);
        sqlite3 *snap = th_snapshot(s, users[u], pw, NULL);
        /* An account the rep owns: reps of one territory see each other's. */
        th_db_text(snap, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                   who.user_id, acc[u], sizeof(acc[u]));
        TH_ASSERT(acc[u][0] != '\0');
        sqlite3_close(snap);
    }
    pid_t pids[NDEV];
    for (int d = 0; d < NDEV; d++) {
        pids[d] = fork();
        TH_ASSERT(pids[d] >= 0);
        if (pids[d] != 0)
            continue;
        int u = d % 3;
        char path[700], pw[32], label[32];
        snprintf(path, sizeof(path), "%s/dev%02d.db", dir, d);
        snprintf(pw, sizeof(pw), "%s-demo", users[u]);
        snprintf(label, sizeof(label), "dev%02d", d);
        rove_client *c = NULL;
        if (th_client_open_opts(&c, path, s->url, s->ca, NULL) != 0)
            _exit(3);
        int rc = rove_client_login(c, users[u], pw);
        if (rc != 0) {
            fprintf(stderr, "%s login: %s: %s\n", label, rove_error_name(rc),
                    rove_client_errmsg(c));
            _exit(4);
        }
        rc = rove_client_sync(c, NULL);
        if (rc != 0) {
            fprintf(stderr, "%s bootstrap: %s: %s\n", label, rove_error_name(rc),
                    rove_client_errmsg(c));
            _exit(7);
        }
        for (int r = 0; r < ROUNDS; r++) {
            for (int i = 0; i < PER; i++) {
                char name[64];
                snprintf(name, sizeof(name), "Conc %02d-%d-%02d", d, r, i);
                if (rove_contact_create(c, NULL, acc[u], name, NULL, NULL, NULL, 0) != 0)
                    _exit(5);
            }
            rove_sync_report rep;
            rc = rove_client_sync(c, &rep);
            if (rc != 0 || rep.pushed != PER || rep.rejected != 0) {
                fprintf(stderr, "%s round %d: %s: %s (pushed %llu rejected %llu)\n", label, r,
                        rove_error_name(rc), rove_client_errmsg(c),
                        (unsigned long long)rep.pushed, (unsigned long long)rep.rejected);
                _exit(6);
            }
        }
        rove_client_free(c);
        _exit(0);
    }
    int failed = 0;
    for (int d = 0; d < NDEV; d++) {
        int status = 0;
        waitpid(pids[d], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            th_log("device %d: %s %d", d, WIFEXITED(status) ? "exit status" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
    }
    TH_ASSERT_MSG(failed == 0, "%d of %d devices failed a sync", failed, NDEV);
    int64_t total = 0;
    for (int u = 0; u < 3; u++) {
        char pw[32];
        snprintf(pw, sizeof(pw), "%s-demo", users[u]);
        sqlite3 *snap = th_snapshot(s, users[u], pw, NULL);
        int64_t n = th_db_int(snap,
                              "SELECT count(*) FROM contact WHERE name LIKE 'Conc %' "
                              "AND account_id = ?1",
                              acc[u], NULL);
        int64_t distinct = th_db_int(snap,
                                     "SELECT count(DISTINCT name) FROM contact WHERE "
                                     "name LIKE 'Conc %' AND account_id = ?1",
                                     acc[u], NULL);
        int devs = NDEV / 3 + (u < NDEV % 3 ? 1 : 0);
        TH_ASSERT_EQ(n, devs * ROUNDS * PER);
        TH_ASSERT_EQ(distinct, n);
        total += n;
        sqlite3_close(snap);
    }
    TH_ASSERT_EQ(total, NDEV * ROUNDS * PER);
    th_server_stop(s);
}

/* ---- a server that stops answering -------------------------------------- */

/*
 * The server freezes (SIGSTOP) while a device pushes: the SDK gives up after
 * its timeout with ROVE_ENET and keeps its outbox. The frozen server then
 * wakes up and applies the request it had already received, but the answer
 * never reaches the device. The device's next sync resends the same change
 * ids and gets the stored receipts: every change exists exactly once.
 */
void test_integration__server_stall(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("stall");
    char path[700];
    snprintf(path, sizeof(path), "%s/rita.db", dir);
    rove_client *c = NULL;
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = path;
    o.server_url = s->url;
    o.ca_file = s->ca;
    o.timeout_ms = 1500;
    TH_ASSERT_EQ(rove_client_open(&c, &o), 0);
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "bootstrap");
    char acc[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof(name), "Stall %d", i);
        TH_ASSERT_ROVE(c, rove_contact_create(c, NULL, acc, name, NULL, NULL, NULL, 0));
    }

    TH_ASSERT(kill(s->pid, SIGSTOP) == 0);
    /* kill() only queues the signal: wait until the kernel reports the
     * process stopped ('T' in /proc/PID/stat) before relying on it. */
    int stopped = 0;
    for (int i = 0; i < 200 && !stopped; i++) {
        char statpath[64], buf[256] = "";
        snprintf(statpath, sizeof(statpath), "/proc/%d/stat", (int)s->pid);
        FILE *f = fopen(statpath, "r");
        if (f != NULL) {
            size_t got = fread(buf, 1, sizeof(buf) - 1, f);
            buf[got] = '\0';
            fclose(f);
        }
        const char *paren = strrchr(buf, ')');
        stopped = paren != NULL && paren[1] == ' ' && paren[2] == 'T';
        if (!stopped)
            usleep(10 * 1000);
    }
    TH_ASSERT_MSG(stopped, "roved (pid %d) did not stop on SIGSTOP", (int)s->pid);
    double t0 = th_mono();
    int rc = rove_client_sync(c, &rep);
    double took = th_mono() - t0;
    char msg[600];
    snprintf(msg, sizeof(msg), "%s", rove_client_errmsg(c));
    TH_ASSERT(kill(s->pid, SIGCONT) == 0);
    th_log("sync against a frozen server: %s after %.1f s: %s", rove_error_name(rc), took, msg);
    TH_ASSERT_MSG(rc == ROVE_ENET, "sync against a frozen server: %s (%s)", rove_error_name(rc),
                  msg);
    TH_ASSERT_MSG(took < 10.0, "the 1.5 s timeout took %.1f s", took);
    TH_ASSERT_EQ(th_client_pending(c), 5);

    /* Let the server finish what it received, then sync again. */
    usleep(500 * 1000);
    receipts rs = {0};
    rove_client_on_receipt(c, on_receipt, &rs);
    th_sync_ok(c, &rep, "after the server wakes up");
    TH_ASSERT_EQ(rep.pushed, 5);
    TH_ASSERT_MSG(rs.problems == 0, "a resent change got a problem receipt: %s",
                  rs.first_problem);
    TH_ASSERT_EQ(th_client_pending(c), 0);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(
        th_db_int(snap, "SELECT count(*) FROM contact WHERE name LIKE 'Stall %'", NULL, NULL),
        5);
    assert_replica_matches_server(c, snap);
    sqlite3_close(snap);
    rove_client_free(c);
    th_server_stop(s);
}

/*
 * A cursor the server never handed out (beyond its version: a store restored
 * from an older backup, or a forged value) starts the device over: it gets its
 * whole scope again, and nothing outside it, with a cursor the server knows.
 */
void test_integration__cursor_ahead_restarts(void)
{
    th_server *s = th_server_start(NULL);
    th_login rita;
    TH_ASSERT(th_login_raw(s, "rita", "rita-demo", &rita) == 200);
    int64_t cursor = 0;
    sqlite3 *full = th_snapshot(s, "rita", "rita-demo", &cursor);
    TH_ASSERT(cursor > 0);
    char *want = th_db_fingerprint(full);

    sqlite3 *again = th_snapshot_new();
    int64_t ahead = cursor + 1000000000;
    int64_t got_cursor = ahead;
    for (int page = 0; page < 100; page++) {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, got_cursor, 0, 0);
        static th_sync_result r;
        long st = th_sync_raw(s, rita.token, &b, &r, again);
        rove__buf_free(&b);
        TH_ASSERT_MSG(st == 200, "sync with a cursor ahead of the server: HTTP %ld", st);
        TH_ASSERT_MSG(r.cursor <= cursor,
                      "the server answered cursor %lld beyond its version %lld",
                      (long long)r.cursor, (long long)cursor);
        got_cursor = r.cursor;
        int more = r.more;
        th_sync_result_free(&r);
        if (!more)
            break;
    }
    char *got = th_db_fingerprint(again);
    TH_ASSERT_MSG(strcmp(want, got) == 0,
                  "restarted pull differs from a bootstrap:\n%s\nvs\n%s", want, got);
    th_log("cursor %lld (ahead of %lld) restarted: same %s", (long long)ahead,
           (long long)cursor, got);
    free(want);
    free(got);
    sqlite3_close(full);
    sqlite3_close(again);
    th_server_stop(s);
}

/* Pushes one update of account.phone with the given base version; returns
 * the receipt status. */
static int push_phone(const th_server *s, const char *token, const char *acc, int64_t base,
                      const char *phone)
{
    char ch[ROVE_ID_SIZE];
    th_new_id(ch);
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, 0, 1, 1);
    th_col cols[] = {{"phone", th_text(phone)}};
    th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc, base, cols, 1);
    static th_sync_result res;
    TH_ASSERT_EQ(th_sync_raw(s, token, &b, &res, NULL), 200);
    rove__buf_free(&b);
    TH_ASSERT_EQ(res.nreceipts, 1);
    int st = res.receipts[0].status;
    th_sync_result_free(&res);
    return st;
}

/*
 * A device whose clock runs a year ahead cannot win every later
 * last-writer-wins race: its clock counts at most --max-clock-skew-ms (here
 * 1 s) beyond server time. A correct device editing the same field
 * concurrently after that bound wins, and the fast device's value is in the
 * conflict log.
 */
void test_integration__clock_skew_bound(void)
{
    static const char *const extra[] = {"--max-clock-skew-ms", "1000", NULL};
    th_server *s = th_server_start(extra);
    th_login fast, ok;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &fast), 200);
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &ok), 200);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    char acc[ROVE_ID_SIZE];
    th_db_text(snap, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
               fast.user_id, acc, sizeof(acc));
    int64_t base = th_db_int(snap, "SELECT version FROM account WHERE id = ?1", acc, NULL);
    sqlite3_close(snap);

    th_set_clock_skew(365ll * 86400000);
    TH_ASSERT_EQ(push_phone(s, fast.token, acc, base, "+1 555 FAST"), 0);
    th_set_clock_skew(0);
    usleep(1300 * 1000);
    /* Same base: a concurrent edit, decided by last writer wins. */
    int st = push_phone(s, ok.token, acc, base, "+1 555 0K");
    th_log("the correct device's concurrent edit after the bound: status %d", st);
    TH_ASSERT_EQ(st, 0);
    snap = th_snapshot(s, "rita", "rita-demo", NULL);
    char phone[64];
    th_db_text(snap, "SELECT phone FROM account WHERE id = ?1", acc, phone, sizeof(phone));
    TH_ASSERT_STR(phone, "+1 555 0K");
    sqlite3_close(snap);

    /* Without the bound the fast device would keep winning: a second fast
     * edit is clamped to now + 1 s and wins over nothing newer. */
    char dbpath[700];
    snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
    sqlite3 *sdb = NULL;
    TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(sdb, 5000);
    TH_ASSERT_EQ(th_db_int(sdb,
                           "SELECT count(*) FROM conflicts WHERE row_id = ?1 AND column_name = "
                           "'phone' AND lost_value = '\"+1 555 FAST\"' AND policy = 'lww'",
                           acc, NULL),
                 1);
    sqlite3_close(sdb);

    /* Managers read it through the admin API. */
    char admin[128], path[160];
    th_admin_login(s, "maria", "maria-demo", admin, sizeof(admin));
    snprintf(path, sizeof(path), "/v1/admin/conflicts?record=%s", acc);
    th_resp r;
    th_http(s, "GET", path, admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    TH_ASSERT(strstr((const char *)r.body.ptr, "+1 555 FAST") != NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"policy\":\"lww\"") != NULL);
    th_resp_free(&r);
    th_http(s, "GET", "/v1/admin/conflicts?record=bogus", admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 400);
    th_resp_free(&r);
    th_server_stop(s);
}

/* ---- custom resolvers ------------------------------------------------------ */

static int set_real_col(rove_client *c, const char *table, const char *id, const char *col,
                        double value)
{
    rove_record *r = NULL;
    int rc = rove_client_get(c, &r, table, id);
    if (rc == 0)
        rc = rove_record_set_real(r, col, value);
    if (rc == 0)
        rc = rove_client_update(c, r);
    rove_record_free(r);
    return rc;
}

/* Runs roved with args and returns its exit status; its stderr goes to err. */
static int roved_exit_status(const char *const *args, char *err, size_t errsize)
{
    char cmd[2048];
    int n = snprintf(cmd, sizeof(cmd), "'%s'", th_roved_path());
    for (size_t i = 0; args[i] != NULL; i++)
        n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'", args[i]);
    snprintf(cmd + n, sizeof(cmd) - (size_t)n, " 2>&1");
    FILE *p = popen(cmd, "r");
    TH_ASSERT(p != NULL);
    size_t got = fread(err, 1, errsize - 1, p);
    err[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A resolver plugin (examples/resolver) decides two columns instead of the
 * schema's policy: account.discount_pct keeps the lower discount, and
 * contact.phone joins two concurrent numbers. What does not survive is in the
 * conflict log and in the device's receipt with the policy "custom:<name>".
 */
void test_integration__custom_resolver(void)
{
    const char *extra[] = {"--resolver-plugin", ROVE_RESOLVER_PLUGIN, NULL};
    th_server *s = th_server_start(extra);
    const char *dir = th_tmpdir("resolver");
    rove_client *a = th_client_open(s, dir, "rita-a");
    rove_client *b = th_client_open(s, dir, "rita-b");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    th_sync_ok(b, &rep, "B bootstrap");
    char acc[ROVE_ID_SIZE], con[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1", NULL, con, sizeof(con));

    /* A agrees 10 %; B, stale, pushes 12 %: the lower (agreed) one stays. */
    TH_ASSERT_ROVE(a, set_real_col(a, "account", acc, "discount_pct", 10));
    th_sync_ok(a, &rep, "A sets 10 %");
    TH_ASSERT_ROVE(b, set_real_col(b, "account", acc, "discount_pct", 12));
    receipts rb = {0};
    rove_client_on_receipt(b, on_receipt, &rb);
    th_sync_ok(b, &rep, "B pushes a stale 12 %");
    TH_ASSERT_EQ(rb.problems, 1); /* overridden */
    TH_ASSERT_EQ(th_client_int(b, "SELECT discount_pct = 10 FROM account WHERE id = ?1", acc),
                 1);
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE \"column\" = "
                                    "'discount_pct' AND CAST(mine AS REAL) = 12 AND "
                                    "CAST(theirs AS REAL) = 10 AND policy = "
                                    "'custom:lower_discount'"),
                 1);

    /* B raises it to 15 (no conflict: B has seen 10); A, stale, lowers it to
     * 7: the lower one wins, and the 15 it replaced is logged. */
    TH_ASSERT_ROVE(b, set_real_col(b, "account", acc, "discount_pct", 15));
    th_sync_ok(b, &rep, "B sets 15 %");
    TH_ASSERT_EQ(rep.applied, 1);
    TH_ASSERT_ROVE(a, set_real_col(a, "account", acc, "discount_pct", 7));
    th_sync_ok(a, &rep, "A pushes a stale 7 %");
    TH_ASSERT_EQ(rep.applied, 1);
    TH_ASSERT_EQ(count_conflicts(a, "SELECT count(*) FROM c"), 0);
    TH_ASSERT_EQ(th_client_int(a, "SELECT discount_pct = 7 FROM account WHERE id = ?1", acc),
                 1);

    /* Two numbers typed concurrently: both kept, joined by the resolver. */
    TH_ASSERT_ROVE(a, th_set_text(a, "contact", con, "phone", "+31 20 111"));
    TH_ASSERT_ROVE(b, th_set_text(b, "contact", con, "phone", "+31 20 222"));
    th_sync_ok(a, &rep, "A pushes a phone");
    th_sync_ok(b, &rep, "B pushes another phone");
    TH_ASSERT_EQ(rep.applied, 1); /* merged */
    th_sync_ok(a, &rep, "A pulls");
    char phone[128];
    th_client_text(a, "SELECT phone FROM contact WHERE id = ?1", con, phone, sizeof(phone));
    TH_ASSERT_STR(phone, "+31 20 111 / +31 20 222");
    assert_same_replicas(a, b);
    TH_ASSERT_EQ(count_conflicts(b, "SELECT count(*) FROM c WHERE \"column\" = 'phone' AND "
                                    "mine = '+31 20 222' AND theirs = '+31 20 111 / +31 20 "
                                    "222' AND policy = 'custom:joined_phone'"),
                 1);
    {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
        sqlite3 *sdb = NULL;
        TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        sqlite3_busy_timeout(sdb, 5000);
        /* Both inputs of the joined phone, and the 12 % and the 15 %. */
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM conflicts WHERE row_id = ?1 AND policy = "
                               "'custom:joined_phone'",
                               con, NULL),
                     2);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM conflicts WHERE row_id = ?1 AND policy = "
                               "'custom:lower_discount'",
                               acc, NULL),
                     2);
        sqlite3_close(sdb);
    }
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);

    /* A plugin that cannot be loaded stops roved from starting. */
    char out[2048];
    const char *missing[] = {
        "--resolver-plugin", "/nonexistent/plugin.so", "--demo", "--data-dir", dir, NULL};
    TH_ASSERT_EQ(roved_exit_status(missing, out, sizeof(out)), 2);
    TH_ASSERT_MSG(strstr(out, "cannot load resolver plugin") != NULL, "roved said: %s", out);
}

/* ---- a manager's decisions on the conflict log ----------------------------- */

/*
 * A manager restores a value that lost (it comes back on every device, and a
 * stale edit still conflicts with it), dismisses another, and every refusal
 * (decided already, unknown id, not their territory) changes nothing.
 */
void test_integration__conflict_decisions(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("decisions");
    rove_client *a = th_client_open(s, dir, "rita-a");
    rove_client *b = th_client_open(s, dir, "rita-b");
    TH_ASSERT_ROVE(a, rove_client_login(a, "rita", "rita-demo"));
    TH_ASSERT_ROVE(b, rove_client_login(b, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(a, &rep, "A bootstrap");
    th_sync_ok(b, &rep, "B bootstrap");
    char con[ROVE_ID_SIZE];
    th_client_text(a, "SELECT id FROM contact ORDER BY id LIMIT 1", NULL, con, sizeof(con));

    /* B's title loses to A's newer one. */
    TH_ASSERT_ROVE(b, th_set_text(b, "contact", con, "title", "Buyer"));
    usleep(20 * 1000);
    TH_ASSERT_ROVE(a, th_set_text(a, "contact", con, "title", "Head buyer"));
    th_sync_ok(a, &rep, "A");
    th_sync_ok(b, &rep, "B");
    int64_t lost_id =
        th_server_int(s,
                      "SELECT id FROM conflicts WHERE row_id = ?1 AND column_name = "
                      "'title' AND lost_value = '\"Buyer\"'",
                      con, NULL);
    TH_ASSERT(lost_id > 0);

    /* The record's version before the manager acts: what a device that
     * missed the restore bases its edits on. */
    int64_t before = th_server_int(s, "SELECT version FROM contact WHERE id = ?1", con, NULL);
    char admin[128], maria[128], code[64], path[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    th_admin_login(s, "maria", "maria-demo", maria, sizeof(maria));
    snprintf(path, sizeof(path), "/v1/admin/conflicts/%lld/restore", (long long)lost_id);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 409);
    TH_ASSERT_STR(code, "invalid_transition");
    snprintf(path, sizeof(path), "/v1/admin/conflicts/%lld/dismiss", (long long)lost_id);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 409);
    TH_ASSERT_EQ(
        th_admin_post(s, admin, "/v1/admin/conflicts/999999/restore", "{}", code, sizeof(code)),
        404);
    TH_ASSERT_EQ(
        th_admin_post(s, admin, "/v1/admin/conflicts/abc/restore", "{}", code, sizeof(code)),
        400);
    TH_ASSERT_EQ(
        th_admin_post(s, admin, "/v1/admin/conflicts/1/undo", "{}", code, sizeof(code)), 404);

    /* The restored title reaches both devices; the replaced one is logged. */
    th_sync_ok(a, &rep, "A pulls the restore");
    th_sync_ok(b, &rep, "B pulls the restore");
    char title[64];
    th_client_text(a, "SELECT title FROM contact WHERE id = ?1", con, title, sizeof(title));
    TH_ASSERT_STR(title, "Buyer");
    assert_same_replicas(a, b);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM conflicts WHERE row_id = ?1 AND policy = "
                               "'restore' AND lost_value = '\"Head buyer\"' AND kept_value = "
                               "'\"Buyer\"'",
                               con, NULL),
                 1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = "
                               "'conflict_restore'",
                               con, NULL),
                 1);

    /* A device that never saw the restore edits the title: its older edit
     * conflicts with the manager's write (the restore set the column's write
     * clock) and loses by last writer; it is not applied silently. */
    rove_client *c = th_client_open(s, dir, "rita-c");
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    th_sync_ok(c, &rep, "C bootstrap");
    TH_ASSERT_ROVE(c, th_set_text(c, "contact", con, "title", "Stale title"));
    /* Push C's edit as if made before the restore, by rewinding its base. */
    {
        sqlite3 *cdb = NULL;
        char cpath[700];
        snprintf(cpath, sizeof(cpath), "%s/rita-c.db", dir);
        TH_ASSERT(sqlite3_open(cpath, &cdb) == SQLITE_OK);
        char sql[128];
        snprintf(sql, sizeof(sql), "UPDATE _rove_outbox SET base_version = %lld, hlc = 1",
                 (long long)before);
        TH_ASSERT(sqlite3_exec(cdb, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(cdb);
    }
    th_sync_ok(c, &rep, "C pushes a stale title");
    th_client_text(c, "SELECT title FROM contact WHERE id = ?1", con, title, sizeof(title));
    TH_ASSERT_STR(title, "Buyer");
    rove_client_free(c);

    /* Dismiss: the open entry for the title A's edit replaced. */
    int64_t other =
        th_server_int(s,
                      "SELECT id FROM conflicts WHERE row_id = ?1 AND resolution IS "
                      "NULL ORDER BY id LIMIT 1",
                      con, NULL);
    TH_ASSERT(other > 0);
    snprintf(path, sizeof(path), "/v1/admin/conflicts/%lld/dismiss", (long long)other);
    TH_ASSERT_EQ(th_admin_post(s, maria, path, "{}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM conflicts WHERE id = ?1 AND resolution = "
                               "'dismissed' AND resolved_by IS NOT NULL",
                               (snprintf(path, sizeof(path), "%lld", (long long)other), path),
                               NULL),
                 1);
    th_resp r;
    snprintf(path, sizeof(path), "/v1/admin/conflicts?open=1&record=%s", con);
    th_http(s, "GET", path, admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    rove__buf_put(&r.body, "", 1);
    TH_ASSERT(rove__buf_status(&r.body) == 0);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"dismissed\"") == NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"restored\"") == NULL);
    th_resp_free(&r);
    rove_client_free(a);
    rove_client_free(b);
    th_server_stop(s);
}
