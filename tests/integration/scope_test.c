/*
 * Who sees what, and what happens when it changes (docs/scope.md): accounts
 * reassigned while the old owner's device holds offline edits, territory
 * memberships starting and ending on their dates, and a seeded random walk of
 * scope changes after which every device's replica must equal, row for row,
 * what a brand-new device of the same user pulls from the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* 1 when the replica holds exactly what a brand-new device of user pulls. */
static int matches_fresh(const th_server *s, rove_client *c, const char *user, const char *pw,
                         const char *what)
{
    return th_matches_fresh(s, c, user, pw, what);
}

typedef struct evicted {
    int n;
    char ids[64][ROVE_ID_SIZE];
    char reasons[64][40];
} evicted;

static int on_evict(const char *table, const char *id, const char *reason, void *payload)
{
    evicted *e = payload;
    (void)table;
    if (e->n < 64) {
        snprintf(e->ids[e->n], sizeof(e->ids[e->n]), "%s", id);
        snprintf(e->reasons[e->n], sizeof(e->reasons[e->n]), "%s", reason);
    }
    e->n++;
    return 0;
}

typedef struct receipts {
    int n, applied, quarantined, rejected;
    char quarantined_msg[256];
} receipts;

static int on_receipt(const rove_receipt *r, void *payload)
{
    receipts *rs = payload;
    rs->n++;
    if (r->status == ROVE_RECEIPT_APPLIED || r->status == ROVE_RECEIPT_MERGED)
        rs->applied++;
    else if (r->status == ROVE_RECEIPT_QUARANTINED) {
        rs->quarantined++;
        snprintf(rs->quarantined_msg, sizeof(rs->quarantined_msg), "%s",
                 r->message ? r->message : "");
    } else
        rs->rejected++;
    return 0;
}

static void user_id(const th_server *s, const char *user, char *out)
{
    char pw[40];
    snprintf(pw, sizeof(pw), "%s-demo", user);
    th_login l;
    TH_ASSERT(th_login_raw(s, user, pw, &l) == 200);
    TH_ASSERT(strlen(l.user_id) < ROVE_ID_SIZE);
    memcpy(out, l.user_id, strlen(l.user_id) + 1);
}

/* The territory of the first account owner_id owns (from maria's view). */
static void territory_of(const th_server *s, const char *owner_id, char *out)
{
    sqlite3 *snap = th_snapshot(s, "maria", "maria-demo", NULL);
    th_db_text(snap, "SELECT territory_id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
               owner_id, out, ROVE_ID_SIZE);
    sqlite3_close(snap);
    TH_ASSERT(out[0] != '\0');
}

static rove_client *device(const th_server *s, const char *dir, const char *user)
{
    char pw[40];
    snprintf(pw, sizeof(pw), "%s-demo", user);
    rove_client *c = th_client_open(s, dir, user);
    TH_ASSERT_ROVE(c, rove_client_login(c, user, pw));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "bootstrap");
    return c;
}

/*
 * An account of rita's moves to rosa and the South territory while rita's
 * tablet holds offline edits to it: the edits made before the move are
 * applied, the one made after is quarantined, then the account and everything
 * under it leave the tablet (the app is told why), and rosa's phone receives
 * it in full, with rita's applied edits.
 */
void test_integration__scope_reassign(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("scope-reassign");
    char rita_id[ROVE_ID_SIZE], rosa_id[ROVE_ID_SIZE], south[ROVE_ID_SIZE];
    user_id(s, "rita", rita_id);
    user_id(s, "rosa", rosa_id);
    territory_of(s, rosa_id, south);
    rove_client *tablet = device(s, dir, "rita");
    rove_client *phone = device(s, dir, "rosa");

    char acc[ROVE_ID_SIZE];
    th_client_text(tablet,
                   "SELECT a.id FROM account a WHERE a.owner_id = ?1 AND EXISTS (SELECT 1 FROM "
                   "contact c WHERE c.account_id = a.id) ORDER BY a.id LIMIT 1",
                   rita_id, acc, sizeof(acc));
    TH_ASSERT(acc[0] != '\0');
    int64_t children = th_client_int(tablet,
                                     "SELECT (SELECT count(*) FROM contact WHERE "
                                     "account_id = ?1) + (SELECT count(*) FROM visit "
                                     "WHERE account_id = ?1)",
                                     acc);
    TH_ASSERT(children > 0);
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM account WHERE id = ?1", acc), 0);

    /* Offline on the tablet, before the move. */
    TH_ASSERT_ROVE(tablet, th_set_text(tablet, "account", acc, "phone", "+31 20 555 0199"));
    char contact[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(tablet, rove_contact_create(tablet, contact, acc, "Before The Move", NULL,
                                               NULL, NULL, 0));
    usleep(30 * 1000);

    char admin[128], code[64], body[256], path[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/assign", acc);
    snprintf(body, sizeof(body),
             "{\"owner\":\"rosa\",\"territory\":\"%s\",\"reason\":\"test\"}", south);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 200);
    usleep(30 * 1000);

    /* Offline on the tablet, after the move (it does not know yet). */
    TH_ASSERT_ROVE(tablet,
                   th_set_text(tablet, "account", acc, "address", "Written After The Move 1"));

    evicted ev = {0};
    receipts rs = {0};
    rove_client_on_evict(tablet, on_evict, &ev);
    rove_client_on_receipt(tablet, on_receipt, &rs);
    rove_sync_report rep;
    th_sync_ok(tablet, &rep, "tablet after the move");
    th_log("tablet: %d receipts (%d applied, %d quarantined: %s), %d evictions (%s)", rs.n,
           rs.applied, rs.quarantined, rs.quarantined_msg, ev.n, ev.n ? ev.reasons[0] : "-");
    TH_ASSERT_EQ(rs.applied, 2);
    TH_ASSERT_EQ(rs.quarantined, 1);
    TH_ASSERT_EQ(rs.rejected, 0);
    TH_ASSERT_EQ(ev.n, 1);
    TH_ASSERT_STR(ev.ids[0], acc);
    TH_ASSERT_STR(ev.reasons[0], "owner_changed");
    TH_ASSERT_EQ(th_client_int(tablet, "SELECT count(*) FROM account WHERE id = ?1", acc), 0);
    TH_ASSERT_EQ(th_client_int(tablet,
                               "SELECT (SELECT count(*) FROM contact WHERE account_id = ?1) + "
                               "(SELECT count(*) FROM visit WHERE account_id = ?1)",
                               acc),
                 0);
    TH_ASSERT_EQ(th_client_pending(tablet), 0);
    TH_ASSERT(matches_fresh(s, tablet, "rita", "rita-demo", "after the eviction"));

    /* Rosa's phone gets the account with all its rows, old ones included. */
    th_sync_ok(phone, &rep, "phone after the move");
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM account WHERE id = ?1", acc), 1);
    char value[128];
    th_client_text(phone, "SELECT phone FROM account WHERE id = ?1", acc, value, sizeof(value));
    TH_ASSERT_STR(value, "+31 20 555 0199");
    th_client_text(phone, "SELECT coalesce(address, '') FROM account WHERE id = ?1", acc, value,
                   sizeof(value));
    TH_ASSERT(strcmp(value, "Written After The Move 1") != 0);
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM contact WHERE id = ?1", contact),
                 1);
    TH_ASSERT_EQ(th_client_int(phone,
                               "SELECT (SELECT count(*) FROM contact WHERE account_id = ?1) + "
                               "(SELECT count(*) FROM visit WHERE account_id = ?1)",
                               acc),
                 children + 1);
    TH_ASSERT(matches_fresh(s, phone, "rosa", "rosa-demo", "after the entry"));

    /* The late edit waits in the quarantine for a person. */
    th_resp r;
    th_http(s, "GET", "/v1/admin/quarantine", admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    TH_ASSERT(strstr((const char *)r.body.ptr, acc) != NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, "Written After The Move 1") != NULL);
    th_resp_free(&r);

    /* The eviction was confirmed: the next sync evicts nothing again. */
    ev.n = 0;
    th_sync_ok(tablet, &rep, "tablet again");
    TH_ASSERT_EQ(ev.n, 0);
    TH_ASSERT_EQ(rep.evicted, 0);
    TH_ASSERT(matches_fresh(s, tablet, "rita", "rita-demo", "after the confirmation"));

    /* Refusals change nothing. */
    snprintf(body, sizeof(body), "{\"owner\":\"tom\"}");
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 400);
    TH_ASSERT_STR(code, "invalid_value");
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"owner\":\"nobody\"}", code, sizeof(code)),
                 404);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/accounts/01ZZZZZZZZZZZZZZZZZZZZZZZZ/assign",
                               "{\"owner\":\"rita\"}", code, sizeof(code)),
                 404);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"territory\":\"nope\"}", code, sizeof(code)),
                 400);
    char manager[128];
    th_admin_login(s, "maria", "maria-demo", manager, sizeof(manager));
    TH_ASSERT_EQ(th_admin_post(s, NULL, path, "{\"owner\":\"rita\"}", code, sizeof(code)), 401);
    th_sync_ok(phone, &rep, "phone after refusals");
    TH_ASSERT_EQ(rep.evicted, 0);
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM account WHERE id = ?1", acc), 1);

    rove_client_free(tablet);
    rove_client_free(phone);
    th_server_stop(s);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Rosa joins the North territory for a window that starts and ends in the
 * near future: nothing before it, North's accounts in full once it starts,
 * evicted again when it ends, with no server command in between.
 */
void test_integration__scope_membership_window(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("scope-window");
    char rita_id[ROVE_ID_SIZE], north[ROVE_ID_SIZE];
    user_id(s, "rita", rita_id);
    territory_of(s, rita_id, north);
    rove_client *c = device(s, dir, "rosa");
    const char *in_north = "SELECT count(*) FROM account WHERE territory_id = ?1";
    TH_ASSERT_EQ(th_client_int(c, in_north, north), 0);

    char admin[128], code[64], body[256], path[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    int64_t from = now_ms() + 2000, to = from + 2500;
    snprintf(path, sizeof(path), "/v1/admin/territories/%s/members", north);
    snprintf(body, sizeof(body),
             "{\"user\":\"rosa\",\"role\":\"rep\",\"from\":%lld,\"to\":%lld}", (long long)from,
             (long long)to);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 201);
    /* The same membership twice, a bad role, an inverted window: refused. */
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 409);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"user\":\"rosa\",\"role\":\"technician\"}",
                               code, sizeof(code)),
                 400);
    snprintf(body, sizeof(body),
             "{\"user\":\"rosa\",\"role\":\"rep\",\"from\":%lld,\"to\":%lld}", (long long)to,
             (long long)from);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 400);

    rove_sync_report rep;
    th_sync_ok(c, &rep, "before the window");
    TH_ASSERT_EQ(th_client_int(c, in_north, north), 0);

    while (now_ms() < from + 100)
        usleep(50 * 1000);
    th_sync_ok(c, &rep, "in the window");
    int64_t got = th_client_int(c, in_north, north);
    th_log("in the window: %lld North accounts, %llu rows pulled", (long long)got,
           (unsigned long long)rep.pulled);
    TH_ASSERT(got > 0);
    TH_ASSERT(th_client_int(c,
                            "SELECT count(*) FROM contact WHERE account_id IN (SELECT id "
                            "FROM account WHERE territory_id = ?1)",
                            north) > 0);
    TH_ASSERT(matches_fresh(s, c, "rosa", "rosa-demo", "in the window"));

    evicted ev = {0};
    rove_client_on_evict(c, on_evict, &ev);
    while (now_ms() < to + 100)
        usleep(50 * 1000);
    th_sync_ok(c, &rep, "after the window");
    th_log("after the window: %d evictions", ev.n);
    TH_ASSERT_EQ(ev.n, got);
    TH_ASSERT_EQ(th_client_int(c, in_north, north), 0);
    TH_ASSERT(matches_fresh(s, c, "rosa", "rosa-demo", "after the window"));

    rove_client_free(c);
    th_server_stop(s);
}

/* xorshift64*: the random walk replays from its seed. */
static uint64_t rnd(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ull;
}

/*
 * A seeded random walk of scope changes (accounts moved between reps and
 * territories, memberships added and ended) with devices of every role
 * syncing in random order. After every step, each device that synced holds
 * exactly what a fresh device of its user pulls: no more rows, no fewer, no
 * other values. ROVE_SCOPE_SEED=N replays one seed.
 */
void test_integration__scope_property(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("scope-property");
    static const char *const users[] = {"rita", "raj", "rosa", "maria", "tom"};
    enum { NUSERS = 5, STEPS = 14 };
    static const char *const reps[] = {"rita", "raj", "rosa"};
    char ids[NUSERS][ROVE_ID_SIZE], terr[2][ROVE_ID_SIZE];
    for (int u = 0; u < NUSERS; u++)
        user_id(s, users[u], ids[u]);
    territory_of(s, ids[0], terr[0]); /* North */
    territory_of(s, ids[2], terr[1]); /* South */
    sqlite3 *all = th_snapshot(s, "maria", "maria-demo", NULL);
    char *acc_lines = th_db_dump(all, "SELECT id FROM account ORDER BY id");
    sqlite3_close(all);
    char accounts[400][ROVE_ID_SIZE];
    int naccounts = 0;
    for (char *p = acc_lines; *p && naccounts < 400;) {
        size_t n = strcspn(p, "\n");
        if (n >= 26) {
            memcpy(accounts[naccounts], p, 26);
            accounts[naccounts++][26] = '\0';
        }
        p += n + (p[n] == '\n');
    }
    free(acc_lines);
    TH_ASSERT(naccounts > 10);

    rove_client *dev[NUSERS];
    for (int u = 0; u < NUSERS; u++)
        dev[u] = device(s, dir, users[u]);
    char admin[128], code[64], body[256], path[160];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));

    const char *env = getenv("ROVE_SCOPE_SEED");
    uint64_t seeds[3] = {0x5eed1, 0x5eed2, 0x5eed3};
    int nseeds = env ? 1 : 3;
    if (env)
        seeds[0] = strtoull(env, NULL, 0);
    for (int k = 0; k < nseeds; k++) {
        uint64_t st = seeds[k] | 1;
        th_log("seed 0x%llx (replay: ROVE_SCOPE_SEED=0x%llx)", (unsigned long long)seeds[k],
               (unsigned long long)seeds[k]);
        for (int step = 0; step < STEPS; step++) {
            int what = (int)(rnd(&st) % 4);
            const char *rep = reps[rnd(&st) % 3];
            const char *t = terr[rnd(&st) % 2];
            long want;
            if (what <= 1) {
                const char *a = accounts[rnd(&st) % (uint64_t)naccounts];
                snprintf(path, sizeof(path), "/v1/admin/accounts/%s/assign", a);
                snprintf(body, sizeof(body), "{\"owner\":\"%s\",\"territory\":\"%s\"}", rep, t);
                want = 200;
            } else if (what == 2) {
                /* A membership already running, or one far in the future
                 * (never one whose dates pass during the check). */
                int64_t from = rnd(&st) % 2 ? now_ms() - 3600000 : now_ms() + 86400000;
                snprintf(path, sizeof(path), "/v1/admin/territories/%s/members", t);
                snprintf(body, sizeof(body), "{\"user\":\"%s\",\"role\":\"rep\",\"from\":%lld}",
                         rep, (long long)from);
                want = -1; /* 201, or 409 when it overlaps one the rep has */
            } else {
                snprintf(path, sizeof(path), "/v1/admin/territories/%s/members/%s/end", t, rep);
                snprintf(body, sizeof(body), "{}");
                want = 0; /* 200, or 404 when there is nothing to end */
            }
            long got = th_admin_post(s, admin, path, body, code, sizeof(code));
            TH_ASSERT_MSG(want == 0    ? (got == 200 || got == 404)
                          : want == -1 ? (got == 201 || got == 409)
                                       : got == want,
                          "seed 0x%llx step %d: %s %s -> %ld %s", (unsigned long long)seeds[k],
                          step, path, body, got, code);
            /* A random half of the devices sync, and must then be exact. */
            for (int u = 0; u < NUSERS; u++) {
                if (rnd(&st) % 2)
                    continue;
                rove_sync_report r;
                th_sync_ok(dev[u], &r, users[u]);
                char pw[40], what_[64];
                snprintf(pw, sizeof(pw), "%s-demo", users[u]);
                snprintf(what_, sizeof(what_), "seed 0x%llx step %d",
                         (unsigned long long)seeds[k], step);
                TH_ASSERT_MSG(matches_fresh(s, dev[u], users[u], pw, what_),
                              "seed 0x%llx step %d: %s's replica is not its scope",
                              (unsigned long long)seeds[k], step, users[u]);
            }
        }
    }
    for (int u = 0; u < NUSERS; u++)
        rove_client_free(dev[u]);
    th_server_stop(s);
}

/*
 * Held changes wait for a person: rita's tablet edits an account and adds a
 * contact to it after the account moved to rosa. A manager applies the
 * contact (it reaches rosa's phone, attributed to rita, by the merge rules)
 * and discards the edit with a reason; each decision is audited and final,
 * and every refusal changes nothing.
 */
void test_integration__quarantine_decisions(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("quarantine");
    char rita_id[ROVE_ID_SIZE], rosa_id[ROVE_ID_SIZE], south[ROVE_ID_SIZE];
    user_id(s, "rita", rita_id);
    user_id(s, "rosa", rosa_id);
    territory_of(s, rosa_id, south);
    rove_client *tablet = device(s, dir, "rita");
    rove_client *phone = device(s, dir, "rosa");
    char acc[ROVE_ID_SIZE];
    th_client_text(tablet, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                   rita_id, acc, sizeof(acc));
    TH_ASSERT(acc[0] != '\0');

    char admin[128], maria[128], code[64], body[256], path[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    th_admin_login(s, "maria", "maria-demo", maria, sizeof(maria));
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/assign", acc);
    snprintf(body, sizeof(body), "{\"owner\":\"rosa\",\"territory\":\"%s\"}", south);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 200);
    usleep(30 * 1000);

    /* After the move, offline: an edit and a new contact. */
    TH_ASSERT_ROVE(tablet, th_set_text(tablet, "account", acc, "address", "Late Address"));
    char contact[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(
        tablet, rove_contact_create(tablet, contact, acc, "Late Contact", NULL, NULL, NULL, 0));
    receipts rs = {0};
    rove_client_on_receipt(tablet, on_receipt, &rs);
    rove_sync_report rep;
    th_sync_ok(tablet, &rep, "tablet after the move");
    TH_ASSERT_EQ(rs.quarantined, 2);
    int64_t edit =
        th_server_int(s,
                      "SELECT id FROM quarantine WHERE row_id = ?1 AND op = 'update' "
                      "AND status = 'pending'",
                      acc, NULL);
    int64_t insert =
        th_server_int(s,
                      "SELECT id FROM quarantine WHERE row_id = ?1 AND op = 'insert' "
                      "AND status = 'pending'",
                      contact, NULL);
    TH_ASSERT(edit > 0 && insert > 0);

    /* Refusals: unknown entry, bad id, discard without a reason, no session. */
    TH_ASSERT_EQ(
        th_admin_post(s, maria, "/v1/admin/quarantine/999999/apply", "{}", code, sizeof(code)),
        404);
    TH_ASSERT_EQ(
        th_admin_post(s, maria, "/v1/admin/quarantine/x1/apply", "{}", code, sizeof(code)),
        400);
    snprintf(path, sizeof(path), "/v1/admin/quarantine/%lld/discard", (long long)edit);
    TH_ASSERT_EQ(th_admin_post(s, maria, path, "{}", code, sizeof(code)), 400);
    TH_ASSERT_STR(code, "invalid_value");
    TH_ASSERT_EQ(th_admin_post(s, NULL, path, "{\"reason\":\"x\"}", code, sizeof(code)), 401);
    TH_ASSERT_EQ(th_server_int(s, "SELECT count(*) FROM quarantine WHERE status = 'pending'",
                               NULL, NULL),
                 2);

    /* Apply the contact: it reaches rosa's phone, made by rita. */
    snprintf(path, sizeof(path), "/v1/admin/quarantine/%lld/apply", (long long)insert);
    TH_ASSERT_EQ(th_admin_post(s, maria, path, "{}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, maria, path, "{}", code, sizeof(code)), 409);
    TH_ASSERT_STR(code, "invalid_transition");
    th_sync_ok(phone, &rep, "phone after the apply");
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM contact WHERE id = ?1", contact),
                 1);
    {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM contact WHERE id = ?1 AND created_by = '%s'", rita_id);
        TH_ASSERT_EQ(th_server_int(s, sql, contact, NULL), 1);
    }

    /* Discard the edit, with a reason: the address stays as it was. */
    snprintf(path, sizeof(path), "/v1/admin/quarantine/%lld/discard", (long long)edit);
    TH_ASSERT_EQ(
        th_admin_post(s, maria, path, "{\"reason\":\"rosa owns it now\"}", code, sizeof(code)),
        200);
    TH_ASSERT_EQ(th_admin_post(s, maria, path, "{\"reason\":\"again\"}", code, sizeof(code)),
                 409);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account WHERE id = ?1 AND address = "
                               "'Late Address'",
                               acc, NULL),
                 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM quarantine WHERE status = 'discarded' AND "
                               "outcome = 'rosa owns it now' AND decided_by IS NOT NULL",
                               NULL, NULL),
                 1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM audit WHERE op IN ('quarantine_apply', "
                               "'quarantine_discard')",
                               NULL, NULL),
                 2);
    th_resp r;
    th_http(s, "GET", "/v1/admin/quarantine", maria, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    rove__buf_put(&r.body, "", 1);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"quarantine\": []") != NULL ||
              strstr((const char *)r.body.ptr, "\"quarantine\":[]") != NULL);
    th_resp_free(&r);
    th_http(s, "GET", "/v1/admin/quarantine?all=1", maria, NULL, NULL, 0, &r);
    rove__buf_put(&r.body, "", 1);
    TH_ASSERT(strstr((const char *)r.body.ptr, "discarded") != NULL &&
              strstr((const char *)r.body.ptr, "applied") != NULL);
    th_resp_free(&r);
    rove_client_free(tablet);
    rove_client_free(phone);
    th_server_stop(s);
}
