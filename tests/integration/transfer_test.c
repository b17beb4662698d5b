/*
 * Transfers on resignation and territory realignment, through a real roved
 * and SDK devices over TLS (docs/delegation-transfer.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

static rove_client *device(const th_server *s, const char *dir, const char *user,
                           const char *label)
{
    char pw[40];
    snprintf(pw, sizeof(pw), "%s-demo", user);
    rove_client *c = th_client_open(s, dir, label);
    TH_ASSERT_ROVE(c, rove_client_login(c, user, pw));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "bootstrap");
    return c;
}

/* POSTs json and returns the status; the answer's body (NUL-terminated) in r. */
static long post_json(const th_server *s, const char *token, const char *path, const char *json,
                      th_resp *r)
{
    th_http(s, "POST", path, token, "application/json", json, strlen(json), r);
    rove__buf_put(&r->body, "", 1);
    return r->status;
}

static void get_json(const th_server *s, const char *token, const char *path, th_resp *r)
{
    th_http(s, "GET", path, token, NULL, NULL, 0, r);
    rove__buf_put(&r->body, "", 1);
    TH_ASSERT_MSG(r->status == 200, "GET %s: %ld %s", path, r->status, r->error);
}

static const char *body(const th_resp *r) { return (const char *)r->body.ptr; }

/*
 * Rita resigns with unsynced offline edits on her phone. Her accounts are
 * split by territory: North to raj, South to rosa, while both of them edit.
 * The run is interrupted after one batch (roved killed) and resumed. Her
 * phone comes back inside the drain window (its edits made before the
 * revocation are applied as a late sync, one typed after it is quarantined),
 * then after it (wiped). Invariants: no account without an active owner,
 * nothing still references rita, every move audited with the owner history,
 * closed visits keep crediting rita, and every device's replica equals its
 * scope.
 */
void test_integration__transfer_resignation(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("transfer");
    char admin[128], code[64], path[200], json[600];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    rove_client *phone = device(s, dir, "rita", "rita-phone");
    rove_client *raj = device(s, dir, "raj", "raj-tablet");
    rove_client *rosa = device(s, dir, "rosa", "rosa-tablet");
    char rita_id[ROVE_ID_SIZE], north[ROVE_ID_SIZE], south[ROVE_ID_SIZE];
    snprintf(rita_id, sizeof(rita_id), "%s", rove_client_user_id(phone));
    th_client_text(phone, "SELECT territory_id FROM account WHERE owner_id = ?1 LIMIT 1",
                   rita_id, north, sizeof(north));
    th_client_text(rosa, "SELECT territory_id FROM account LIMIT 1", NULL, south,
                   sizeof(south));
    TH_ASSERT(strcmp(north, south) != 0);
    int64_t owned =
        th_server_int(s, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id, NULL);
    TH_ASSERT(owned >= 4);
    int64_t credited = th_server_int(
        s, "SELECT count(*) FROM visit WHERE performed_by = ?1 AND status = 'completed'",
        rita_id, NULL);

    /* Two of rita's accounts are in the South (she keeps them). */
    char south_acc[2][ROVE_ID_SIZE], north_acc[ROVE_ID_SIZE];
    for (int i = 0; i < 2; i++) {
        char sql[200];
        snprintf(
            sql, sizeof(sql),
            "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET %d", i);
        th_client_text(phone, sql, rita_id, south_acc[i], sizeof(south_acc[i]));
        snprintf(path, sizeof(path), "/v1/admin/accounts/%s/assign", south_acc[i]);
        snprintf(json, sizeof(json), "{\"territory\":\"%s\"}", south);
        TH_ASSERT_EQ(th_admin_post(s, admin, path, json, code, sizeof(code)), 200);
    }
    th_client_text(phone, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                   rita_id, north_acc, sizeof(north_acc));
    rove_sync_report rep;
    th_sync_ok(phone, &rep, "phone before going offline");
    TH_ASSERT_EQ(
        th_client_int(phone, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id),
        owned);

    /* Offline on rita's phone: an edit and a new contact, never synced. */
    TH_ASSERT_ROVE(phone, th_set_text(phone, "account", north_acc, "address",
                                      "Typed By Rita Before Leaving"));
    char late_contact[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(phone,
                   rove_contact_create(phone, late_contact, south_acc[0],
                                       "Met By Rita Before Leaving", NULL, NULL, NULL, 0));
    usleep(30 * 1000);

    /* Bad plans are refused and change nothing. */
    th_resp r;
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers",
                           "{\"leaver\":\"rita\",\"reason\":\"resignation\",\"lines\":[{"
                           "\"territory\":\"North\",\"to\":[\"raj\"]}]}",
                           &r),
                 400); /* the South accounts are not covered */
    TH_ASSERT(strstr(body(&r), "not covered") != NULL);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers",
                           "{\"leaver\":\"rita\",\"reason\":\"resignation\",\"lines\":[{"
                           "\"all\":true,\"to\":[\"rita\"]}]}",
                           &r),
                 400);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers",
                           "{\"leaver\":\"rita\",\"reason\":\"resignation\",\"lines\":[{"
                           "\"all\":true,\"to\":[\"tom\"]}]}",
                           &r),
                 400); /* a technician owns no accounts */
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers",
                           "{\"leaver\":\"nobody\",\"reason\":\"resignation\",\"lines\":[]}",
                           &r),
                 404);
    th_resp_free(&r);
    TH_ASSERT_EQ(th_server_int(s, "SELECT count(*) FROM transfers", NULL, NULL), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM users WHERE id = ?1 AND status = "
                               "'active'",
                               rita_id, NULL),
                 1);

    /* The plan: North to raj, South to rosa; batches of 2. */
    snprintf(
        json, sizeof(json),
        "{\"leaver\":\"rita\",\"reason\":\"resignation\",\"batch_size\":2,\"lines\":["
        "{\"territory\":\"%s\",\"to\":[\"raj\"]},{\"territory\":\"%s\",\"to\":[\"rosa\"]}]}",
        north, south);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers", json, &r), 201);
    char tid[ROVE_ID_SIZE];
    TH_ASSERT(th_json_str(&r, "id", tid, sizeof(tid)) == 0);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/transfers", json, &r), 409); /* one at a time */
    th_resp_free(&r);
    /* Rita is frozen: her phone cannot sync until it is revoked. */
    TH_ASSERT_EQ(rove_client_sync(phone, NULL), ROVE_EFORBIDDEN);

    snprintf(path, sizeof(path), "/v1/admin/transfers/%s/preview", tid);
    get_json(s, admin, path, &r);
    th_log("preview: %s", body(&r));
    TH_ASSERT(strstr(body(&r), "\"username\": \"raj\"") != NULL ||
              strstr(body(&r), "\"username\":\"raj\"") != NULL);
    TH_ASSERT(strstr(body(&r), "rosa") != NULL);
    th_resp_free(&r);

    /* Run one batch, then roved dies; the rest runs after the restart. */
    snprintf(path, sizeof(path), "/v1/admin/transfers/%s/run", tid);
    TH_ASSERT_EQ(post_json(s, admin, path, "{\"max_batches\":1,\"drain_seconds\":5}", &r), 200);
    TH_ASSERT(strstr(body(&r), "running") != NULL);
    th_resp_free(&r);
    int64_t moved_early =
        th_server_int(s,
                      "SELECT count(*) FROM transfer_items WHERE transfer_id = ?1 AND "
                      "done_at IS NOT NULL",
                      tid, NULL);
    TH_ASSERT_EQ(moved_early, 2);
    th_server_kill(s);
    th_server_restart(s);
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    /* While the transfer waits, raj and rosa work on. */
    th_sync_ok(raj, &rep, "raj mid-transfer");
    TH_ASSERT_EQ(post_json(s, admin, path, "{\"drain_seconds\":5}", &r), 200);
    th_log("run: %s", body(&r));
    TH_ASSERT(strstr(body(&r), "\"done\"") != NULL);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, path, "{}", &r), 200); /* idempotent */
    TH_ASSERT(strstr(body(&r), "\"done\"") != NULL);
    th_resp_free(&r);

    /* Invariants on the server. */
    TH_ASSERT_EQ(
        th_server_int(s, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id, NULL), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account a WHERE a.deleted = 0 AND NOT "
                               "EXISTS (SELECT 1 FROM users u WHERE u.id = a.owner_id AND "
                               "u.status = 'active')",
                               NULL, NULL),
                 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account_owner_history WHERE transfer_id = "
                               "?1 AND from_owner = ?2",
                               tid, rita_id),
                 owned);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM audit WHERE op = 'transfer' AND "
                               "table_name = 'account' AND diff LIKE '%' || ?1 || '%'",
                               tid, NULL),
                 owned);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account WHERE id = ?1 AND owner_id = "
                               "(SELECT id FROM users WHERE username = 'rosa')",
                               south_acc[0], NULL),
                 1);
    TH_ASSERT_EQ(
        th_server_int(s,
                      "SELECT count(*) FROM visit WHERE planned_for = ?1 AND status IN "
                      "('planned', 'needs_replan')",
                      rita_id, NULL),
        0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM visit WHERE performed_by = ?1 AND status "
                               "= 'completed'",
                               rita_id, NULL),
                 credited); /* past work keeps crediting rita */
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM users WHERE id = ?1 AND status = "
                               "'deactivated'",
                               rita_id, NULL),
                 1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM devices WHERE user_id = ?1 AND status "
                               "= 'active'",
                               rita_id, NULL),
                 0);

    /* Raj edits a moved account; rosa syncs. */
    th_sync_ok(raj, &rep, "raj after the transfer");
    TH_ASSERT_EQ(th_client_int(raj, "SELECT count(*) FROM account WHERE id = ?1", north_acc),
                 1);
    TH_ASSERT_ROVE(raj, th_set_text(raj, "account", north_acc, "phone", "+31 20 555 1234"));
    th_sync_ok(raj, &rep, "raj edits");
    th_sync_ok(rosa, &rep, "rosa after the transfer");
    TH_ASSERT_EQ(
        th_client_int(rosa, "SELECT count(*) FROM account WHERE id = ?1", south_acc[0]), 1);

    /* Rita's phone comes back inside the drain: what she typed before the
     * revocation is applied; what she types now is quarantined. */
    TH_ASSERT_ROVE(phone, rove_contact_create(phone, NULL, south_acc[1],
                                              "Typed After Revocation", NULL, NULL, NULL, 0));
    memset(&rep, 0, sizeof(rep));
    int rc = rove_client_sync(phone, &rep);
    TH_ASSERT_MSG(rc == ROVE_EREVOKED, "leaver's phone in the drain: %s (%s)",
                  rove_error_name(rc), rove_client_errmsg(phone));
    TH_ASSERT_EQ(rep.pushed, 3);
    TH_ASSERT_EQ(rep.applied, 2);
    TH_ASSERT_EQ(rep.quarantined, 1);
    TH_ASSERT_EQ(th_client_pending(phone), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM quarantine WHERE reason_code = "
                               "'device_revoked' AND status = 'pending'",
                               NULL, NULL),
                 1);
    th_sync_ok(raj, &rep, "raj gets rita's late edit");
    char addr[128];
    th_client_text(raj, "SELECT address FROM account WHERE id = ?1", north_acc, addr,
                   sizeof(addr));
    TH_ASSERT_STR(addr, "Typed By Rita Before Leaving");
    th_client_text(raj, "SELECT phone FROM account WHERE id = ?1", north_acc, addr,
                   sizeof(addr));
    TH_ASSERT_STR(addr, "+31 20 555 1234"); /* raj's own edit stands too */
    /* Raj, the new owner, sees the address came late from rita's revoked phone. */
    rove_rows *hq = NULL;
    TH_ASSERT_ROVE(raj, rove_client_history(raj, &hq, "account", north_acc));
    int late = 0, transfers = 0;
    while (rove_rows_next(hq) == 1) {
        if (rove_rows_int(hq, 5) == 1 && strcmp(rove_rows_text(hq, 1), rita_id) == 0 &&
            strstr(rove_rows_text(hq, 6), "Typed By Rita Before Leaving") != NULL)
            late++;
        transfers += strcmp(rove_rows_text(hq, 4), "transfer") == 0;
    }
    rove_rows_free(hq);
    TH_ASSERT_EQ(late, 1);
    TH_ASSERT_EQ(transfers, 1);
    /* The manager's view of the same trail. */
    char out[16384], args[128];
    snprintf(args, sizeof(args), "audit account %s", north_acc);
    TH_ASSERT_EQ(th_rovectl(s, args, out, sizeof(out)), 0);
    TH_ASSERT(strstr(out, "late sync from a revoked device") != NULL);
    TH_ASSERT(strstr(out, "transfer") != NULL);
    /* A record raj may not see has no history for him (no existence leak). */
    TH_ASSERT_EQ(rove_client_history(raj, &hq, "account", south_acc[0]), ROVE_ENOTFOUND);
    th_sync_ok(rosa, &rep, "rosa gets rita's late contact");
    TH_ASSERT_EQ(
        th_client_int(rosa, "SELECT count(*) FROM contact WHERE id = ?1", late_contact), 1);
    TH_ASSERT(th_matches_fresh(s, raj, "raj", "raj-demo", "raj after the transfer"));
    TH_ASSERT(th_matches_fresh(s, rosa, "rosa", "rosa-demo", "rosa after the transfer"));

    /* After the drain the phone is told to wipe. */
    usleep(5200 * 1000);
    memset(&rep, 0, sizeof(rep));
    rc = rove_client_sync(phone, &rep);
    TH_ASSERT_EQ(rc, ROVE_EREVOKED);
    TH_ASSERT_EQ(rep.wiped, 1);
    TH_ASSERT_EQ(th_client_int(phone, "SELECT count(*) FROM account", NULL), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM devices WHERE user_id = ?1 AND "
                               "wiped_at > 0",
                               rita_id, NULL),
                 1);
    rove_client_free(phone);
    rove_client_free(raj);
    rove_client_free(rosa);
    th_server_stop(s);
}

/*
 * Territory realignment with rovectl: the South goes from rosa to raj, by
 * the same machinery as a transfer (reason realignment). Rosa's device loses
 * the accounts (told why), raj's receives them in full, open visits follow
 * to raj, the owner history records each move, and refusals change nothing.
 */
void test_integration__transfer_realignment(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("realign");
    rove_client *raj = device(s, dir, "raj", "raj-tablet");
    rove_client *rosa = device(s, dir, "rosa", "rosa-tablet");
    char rosa_id[ROVE_ID_SIZE], south[ROVE_ID_SIZE];
    snprintf(rosa_id, sizeof(rosa_id), "%s", rove_client_user_id(rosa));
    th_client_text(rosa, "SELECT territory_id FROM account LIMIT 1", NULL, south,
                   sizeof(south));
    int64_t owned =
        th_server_int(s, "SELECT count(*) FROM account WHERE owner_id = ?1", rosa_id, NULL);
    TH_ASSERT(owned > 0);
    int64_t open_visits = th_server_int(s,
                                        "SELECT count(*) FROM visit v JOIN account a ON "
                                        "a.id = v.account_id WHERE a.owner_id = ?1 AND "
                                        "v.status IN ('planned', 'needs_replan')",
                                        rosa_id, NULL);
    char out[8192], args[512];
    /* Refusals: no target, unknown territory, a technician as target. */
    TH_ASSERT_EQ(th_rovectl(s, "territory reassign South", out, sizeof(out)), 2);
    TH_ASSERT_EQ(th_rovectl(s, "territory reassign Nowhere --to raj", out, sizeof(out)), 1);
    TH_ASSERT(strstr(out, "territory") != NULL);
    TH_ASSERT_EQ(th_rovectl(s, "territory reassign South --to tom", out, sizeof(out)), 1);
    TH_ASSERT_EQ(th_server_int(s, "SELECT count(*) FROM transfers", NULL, NULL), 0);

    snprintf(args, sizeof(args), "territory reassign %s --to raj --batch-size 7", south);
    TH_ASSERT_MSG(th_rovectl(s, args, out, sizeof(out)) == 0, "reassign: %s", out);
    th_log("rovectl: %s", out);
    TH_ASSERT(strstr(out, ": done") != NULL);
    TH_ASSERT_EQ(
        th_server_int(s, "SELECT count(*) FROM account WHERE owner_id = ?1", rosa_id, NULL), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account_owner_history WHERE from_owner = "
                               "?1 AND reason = 'realignment' AND transfer_id IS NOT NULL",
                               rosa_id, NULL),
                 owned);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM visit WHERE planned_for = ?1 AND status "
                               "IN ('planned', 'needs_replan')",
                               rosa_id, NULL),
                 0);
    TH_ASSERT(th_server_int(s,
                            "SELECT count(*) FROM visit v JOIN users u ON u.id = v.planned_for "
                            "WHERE u.username = 'raj' AND v.status IN ('planned', "
                            "'needs_replan') AND v.account_id IN (SELECT account_id FROM "
                            "account_owner_history WHERE from_owner = ?1)",
                            rosa_id, NULL) >= open_visits);
    /* Rosa stays active (a realignment, not a resignation). */
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM users WHERE id = ?1 AND status = "
                               "'active'",
                               rosa_id, NULL),
                 1);
    TH_ASSERT_EQ(th_rovectl(s, "transfer list", out, sizeof(out)), 0);
    TH_ASSERT(strstr(out, "realignment") != NULL);

    rove_sync_report rep;
    th_sync_ok(rosa, &rep, "rosa after the realignment");
    TH_ASSERT(rep.evicted > 0);
    th_sync_ok(raj, &rep, "raj after the realignment");
    TH_ASSERT(th_matches_fresh(s, rosa, "rosa", "rosa-demo", "rosa"));
    TH_ASSERT(th_matches_fresh(s, raj, "raj", "raj-demo", "raj"));
    TH_ASSERT_EQ(
        th_client_int(raj, "SELECT count(*) FROM account WHERE territory_id = ?1", south),
        th_server_int(s,
                      "SELECT count(*) FROM account WHERE territory_id = ?1 AND "
                      "deleted = 0",
                      south, NULL));
    rove_client_free(raj);
    rove_client_free(rosa);
    th_server_stop(s);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_until(int64_t t)
{
    while (now_ms() < t)
        usleep(50 * 1000);
}

static void state_is(const th_server *s, const char *admin, const char *id, const char *state)
{
    char path[128], want[64];
    snprintf(path, sizeof(path), "/v1/admin/leaves/%s", id);
    snprintf(want, sizeof(want), "\"state\":\"%s\"", state);
    th_resp r;
    get_json(s, admin, path, &r);
    TH_ASSERT_MSG(strstr(body(&r), want) != NULL, "leave %s: wanted %s: %s", id, state,
                  body(&r));
    th_resp_free(&r);
}

/*
 * Rita goes on leave; two delegates split her accounts by list: rosa (who
 * normally sees nothing of the North) and raj. Rosa's devices receive her
 * accounts before the start; writes before the start are refused, during the
 * window they are applied on rita's behalf (audit, visit on_behalf_of);
 * edits made offline before the end are applied when they arrive within the
 * grace period and quarantined after it; at the end the records leave rosa's
 * devices. Rita returns and reads the digest. Bad leaves are refused and
 * change nothing.
 */
void test_integration__delegation_leave(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("leave");
    char admin[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    rove_client *rita = device(s, dir, "rita", "rita-phone");
    rove_client *tablet = device(s, dir, "rosa", "rosa-tablet");
    rove_client *phone = device(s, dir, "rosa", "rosa-phone");
    char rita_id[ROVE_ID_SIZE], acc[4][ROVE_ID_SIZE];
    snprintf(rita_id, sizeof(rita_id), "%s", rove_client_user_id(rita));
    for (int i = 0; i < 4; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1 OFFSET %d", i);
        th_client_text(rita, sql, rita_id, acc[i], sizeof(acc[i]));
        TH_ASSERT_EQ(
            th_client_int(tablet, "SELECT count(*) FROM account WHERE id = ?1", acc[i]), 0);
    }
    int64_t t0 = now_ms();
    int64_t from = t0 + 3000, to = t0 + 9000;
    char json[1200];
    th_resp r;
    /* Refusals: overlapping lists, the delegator as delegate, too long, a
     * technician for a rep, an unknown delegate. */
    for (int i = 0; i < 5; i++) {
        long long f = (long long)from, t = (long long)to;
        switch (i) {
        case 0: /* overlapping account lists */
            snprintf(json, sizeof(json),
                     "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":"
                     "\"rosa\",\"scope\":\"accounts\",\"accounts\":[\"%s\"]},{\"user\":\"raj\","
                     "\"scope\":\"accounts\",\"accounts\":[\"%s\"]}]}",
                     f, t, acc[0], acc[0]);
            break;
        case 1: /* the delegator as their own delegate */
            snprintf(json, sizeof(json),
                     "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":"
                     "\"rita\"}]}",
                     f, t);
            break;
        case 2: /* longer than the maximum */
            snprintf(json, sizeof(json),
                     "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":"
                     "\"rosa\"}]}",
                     f, t + 400LL * 86400000);
            break;
        case 3: /* a technician for a rep */
            snprintf(json, sizeof(json),
                     "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":"
                     "\"tom\"}]}",
                     f, t);
            break;
        default: /* nobody */
            snprintf(json, sizeof(json),
                     "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":"
                     "\"nobody\"}]}",
                     f, t);
            break;
        }
        long st = post_json(s, admin, "/v1/admin/leaves", json, &r);
        th_log("refused leave %d: %ld %s", i, st, body(&r));
        TH_ASSERT_EQ(st, 400);
        th_resp_free(&r);
    }
    TH_ASSERT_EQ(th_server_int(s, "SELECT count(*) FROM delegations", NULL, NULL), 0);

    snprintf(json, sizeof(json),
             "{\"user\":\"rita\",\"from\":%lld,\"to\":%lld,\"grace_seconds\":4,\"visits\":"
             "\"cover\",\"reason\":\"holiday\",\"delegates\":[{\"user\":\"rosa\",\"scope\":"
             "\"accounts\",\"accounts\":[\"%s\",\"%s\"],\"actions\":[\"visits\",\"accounts\"]},"
             "{\"user\":\"raj\",\"scope\":\"accounts\",\"accounts\":[\"%s\",\"%s\"]}]}",
             (long long)from, (long long)to, acc[0], acc[1], acc[2], acc[3]);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/leaves", json, &r), 201);
    char lid[ROVE_ID_SIZE];
    TH_ASSERT(th_json_str(&r, "id", lid, sizeof(lid)) == 0);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/leaves", json, &r), 409); /* same days again */
    th_resp_free(&r);
    state_is(s, admin, lid, "scheduled");

    /* Before the start: rosa's devices get rita's two accounts, read-only. */
    rove_sync_report rep;
    th_sync_ok(tablet, &rep, "tablet before the start");
    th_sync_ok(phone, &rep, "phone before the start");
    TH_ASSERT_EQ(
        th_client_int(tablet, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id), 2);
    /* The tablet holds a signed lease: it refuses writes before the start
     * by itself, with no network. */
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(tablet, rove_client_leases(tablet, &q));
    TH_ASSERT_EQ(rove_rows_next(q), 1);
    TH_ASSERT_STR(rove_rows_text(q, 1), rita_id);
    TH_ASSERT_EQ(rove_rows_int(q, 6), 2); /* accounts */
    TH_ASSERT_STR(rove_rows_text(q, 7), "scheduled");
    TH_ASSERT_EQ(rove_rows_next(q), 0);
    rove_rows_free(q);
    TH_ASSERT_EQ(th_set_text(tablet, "account", acc[0], "phone", "+31 20 000 0000"),
                 ROVE_EFORBIDDEN);
    th_log("before the start: %s", rove_client_errmsg(tablet));
    TH_ASSERT_EQ(th_client_pending(tablet), 0);

    /* During the window: applied on rita's behalf. */
    wait_until(from + 1200);
    state_is(s, admin, lid, "active");
    TH_ASSERT_ROVE(tablet, th_set_text(tablet, "account", acc[0], "phone", "+31 20 111 1111"));
    char visit[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(tablet, rove_visit_plan(tablet, visit, acc[0], NULL, "covering for rita",
                                           now_ms(), now_ms() + 1800000));
    th_sync_ok(tablet, &rep, "tablet during the window");
    TH_ASSERT_EQ(rep.rejected, 0);
    TH_ASSERT_EQ(rep.applied, 2);
    TH_ASSERT_EQ(
        th_server_int(s,
                      "SELECT count(*) FROM audit WHERE row_id = ?1 AND on_behalf_of = "
                      "?2 AND delegation_id IS NOT NULL",
                      acc[0], rita_id),
        1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM visit WHERE id = ?1 AND on_behalf_of = ?2",
                               visit, rita_id),
                 1);
    /* "Performed by rosa for rita", in the record's history. */
    rove_rows *hq = NULL;
    TH_ASSERT_ROVE(tablet, rove_client_history(tablet, &hq, "account", acc[0]));
    int for_rita = 0;
    while (rove_rows_next(hq) == 1)
        for_rita += !rove_rows_is_null(hq, 2) && strcmp(rove_rows_text(hq, 2), rita_id) == 0 &&
                    strcmp(rove_rows_text(hq, 1), rove_client_user_id(tablet)) == 0;
    rove_rows_free(hq);
    TH_ASSERT_EQ(for_rita, 1);
    /* A lease edited in the replica file (a longer window) is not trusted. */
    {
        char tpath[700];
        snprintf(tpath, sizeof(tpath), "%s/rosa-tablet.db", dir);
        sqlite3 *tdb = NULL;
        TH_ASSERT(sqlite3_open(tpath, &tdb) == SQLITE_OK);
        TH_ASSERT(sqlite3_exec(tdb,
                               "UPDATE _rove_leases SET to_ms = to_ms + 86400000, payload = "
                               "payload || x'00'",
                               NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(tdb);
        TH_ASSERT_EQ(th_set_text(tablet, "account", acc[0], "phone", "+31 20 222 2222"),
                     ROVE_EFORBIDDEN);
        th_log("tampered lease: %s", rove_client_errmsg(tablet));
        /* The next sync's digest differs from nothing: the device fetches the
         * leases again only when the server's digest changes, so restore them
         * by forgetting the digest. */
        TH_ASSERT(sqlite3_open(tpath, &tdb) == SQLITE_OK);
        TH_ASSERT(sqlite3_exec(tdb, "UPDATE _rove_meta SET value = 0 WHERE key = 'lease_gen'",
                               NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(tdb);
        th_sync_ok(tablet, &rep, "tablet fetches its lease again");
    }
    /* A device clock set back cannot reopen a closed window: the SDK never
     * judges by a time before the last server time it saw (here: forged to
     * after the end). */
    {
        char tpath[700], sql[160];
        snprintf(tpath, sizeof(tpath), "%s/rosa-tablet.db", dir);
        sqlite3 *tdb = NULL;
        TH_ASSERT(sqlite3_open(tpath, &tdb) == SQLITE_OK);
        snprintf(sql, sizeof(sql),
                 "UPDATE _rove_meta SET value = %lld WHERE key = 'server_time'",
                 (long long)(to + 1000));
        TH_ASSERT(sqlite3_exec(tdb, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(tdb);
        TH_ASSERT_EQ(th_set_text(tablet, "account", acc[0], "phone", "+31 20 333 3333"),
                     ROVE_EFORBIDDEN);
        th_sync_ok(tablet, &rep, "tablet hears the real server time again");
    }
    /* Rosa may not delete rita's records (refused on the device). */
    TH_ASSERT_EQ(rove_client_delete(tablet, "visit", visit), ROVE_EFORBIDDEN);
    TH_ASSERT_EQ(th_client_int(tablet, "SELECT count(*) FROM visit WHERE id = ?1", visit), 1);

    /* Offline edits made before the end: one arrives within the grace
     * period (applied), one after it (quarantined). */
    TH_ASSERT_ROVE(tablet, th_set_text(tablet, "account", acc[1], "address",
                                       "Edited Before The End, Synced In Grace"));
    TH_ASSERT_ROVE(phone, th_set_text(phone, "account", acc[1], "notes",
                                      "Edited before the end, synced too late"));
    wait_until(to + 1500);
    /* After the end the lease stops the tablet, offline. */
    TH_ASSERT_EQ(th_set_text(tablet, "account", acc[1], "phone", "+31 20 999"),
                 ROVE_EFORBIDDEN);
    th_log("after the end: %s", rove_client_errmsg(tablet));
    state_is(s, admin, lid, "expired");
    th_sync_ok(tablet, &rep, "tablet in the grace period");
    TH_ASSERT_EQ(rep.applied, 1);
    TH_ASSERT_EQ(rep.quarantined, 0);
    TH_ASSERT_EQ(
        th_client_int(tablet, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id),
        0); /* evicted after the push */
    TH_ASSERT(th_matches_fresh(s, tablet, "rosa", "rosa-demo", "tablet after the end"));
    wait_until(to + 4000 + 1200);
    th_sync_ok(phone, &rep, "phone after the grace period");
    TH_ASSERT_EQ(rep.quarantined, 1);
    TH_ASSERT_EQ(
        th_client_int(phone, "SELECT count(*) FROM account WHERE owner_id = ?1", rita_id), 0);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account WHERE id = ?1 AND address = "
                               "'Edited Before The End, Synced In Grace'",
                               acc[1], NULL),
                 1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM quarantine WHERE row_id = ?1 AND "
                               "status = 'pending'",
                               acc[1], NULL),
                 1);
    /* Ownership never changed. */
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM account WHERE id IN (?1, ?2) AND "
                               "owner_id = (SELECT owner_id FROM account WHERE id = ?1)",
                               acc[0], acc[1]),
                 2);

    /* Rita is back: the digest. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/admin/leaves/%s/digest", lid);
    get_json(s, admin, path, &r);
    th_log("digest: %.600s", body(&r));
    TH_ASSERT(strstr(body(&r), "\"quarantined\":[{") != NULL);
    TH_ASSERT(strstr(body(&r), visit) != NULL); /* the covered visit is open, rita's again */
    th_resp_free(&r);
    char out[8192];
    TH_ASSERT_EQ(th_rovectl(s, "digest rita", out, sizeof(out)), 0);
    th_log("rovectl digest rita:\n%s", out);
    TH_ASSERT(strstr(out, "Edits held in quarantine: 1") != NULL);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM visit WHERE id = ?1 AND planned_for = ?2",
                               visit, rita_id),
                 1); /* the covered visit went back to rita */
    /* ... and in her app. */
    rove_rows *dq = NULL;
    TH_ASSERT_ROVE(rita, rove_client_digest(rita, &dq));
    int quarantined = 0, open_visit = 0, nitems = 0;
    while (rove_rows_next(dq) == 1) {
        nitems++;
        quarantined += strcmp(rove_rows_text(dq, 0), "quarantined") == 0;
        open_visit += strcmp(rove_rows_text(dq, 0), "open_visits") == 0 &&
                      strcmp(rove_rows_text(dq, 2), visit) == 0;
    }
    rove_rows_free(dq);
    th_log("rita's digest in the app: %d items", nitems);
    TH_ASSERT_EQ(quarantined, 1);
    TH_ASSERT_EQ(open_visit, 1);
    th_sync_ok(rita, &rep, "rita back");
    TH_ASSERT(th_matches_fresh(s, rita, "rita", "rita-demo", "rita after the leave"));
    rove_client_free(rita);
    rove_client_free(tablet);
    rove_client_free(phone);
    th_server_stop(s);
}

/*
 * A technician on leave with open SLA tasks: at the start they go to the
 * delegate (the original assignee kept), who resolves one; at the end the
 * others go back to tom, the resolved one stays where it was worked. While
 * tom is away, automatic assignment skips him.
 */
void test_integration__delegation_technician(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("tech-leave");
    char admin[128], json[600];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    rove_client *tom = device(s, dir, "tom", "tom-phone");
    rove_client *tara = device(s, dir, "tara", "tara-phone");
    char tom_id[ROVE_ID_SIZE];
    snprintf(tom_id, sizeof(tom_id), "%s", rove_client_user_id(tom));
    int64_t open = th_server_int(s,
                                 "SELECT count(*) FROM service_task WHERE assignee_id = ?1 AND "
                                 "status NOT IN ('resolved', 'closed', 'cancelled')",
                                 tom_id, NULL);
    TH_ASSERT(open >= 2);
    int64_t tara_before = th_client_int(tara, "SELECT count(*) FROM service_task", NULL);
    int64_t t0 = now_ms(), from = t0 + 2000, to = t0 + 7000;
    snprintf(json, sizeof(json),
             "{\"user\":\"tom\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":\"tara\"}]}",
             (long long)from, (long long)to);
    th_resp r;
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/leaves", json, &r), 201);
    th_resp_free(&r);
    wait_until(from + 1500);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM service_task WHERE original_assignee_id = "
                               "?1 AND assignee_id = (SELECT id FROM users WHERE username = "
                               "'tara')",
                               tom_id, NULL),
                 open);
    rove_sync_report rep;
    th_sync_ok(tara, &rep, "tara covers");
    TH_ASSERT_EQ(th_client_int(tara, "SELECT count(*) FROM service_task", NULL),
                 tara_before + open);
    th_sync_ok(tom, &rep, "tom away");
    TH_ASSERT_EQ(th_client_int(tom,
                               "SELECT count(*) FROM service_task WHERE status NOT IN "
                               "('resolved', 'closed', 'cancelled')",
                               NULL),
                 0);
    char task[ROVE_ID_SIZE];
    th_client_text(tara, "SELECT id FROM service_task WHERE original_assignee_id = ?1 LIMIT 1",
                   tom_id, task, sizeof(task));
    TH_ASSERT_ROVE(tara, rove_task_set_status(tara, task, "in_progress", NULL));
    TH_ASSERT_ROVE(tara, rove_task_set_status(tara, task, "resolved", "replaced the fuse"));
    th_sync_ok(tara, &rep, "tara resolves one");
    TH_ASSERT_EQ(rep.rejected, 0);
    /* Automatic assignment skips the absent technician. */
    TH_ASSERT_EQ(th_server_int(
                     s,
                     "SELECT count(*) FROM user_absences WHERE user_id = ?1 AND "
                     "starts_at <= ?2 AND ends_at > ?2",
                     tom_id, (snprintf(json, sizeof(json), "%lld", (long long)now_ms()), json)),
                 1);

    /* A task a dispatcher gives tom while he is away goes to tara, and back
     * to tom when the leave ends. */
    char routed[ROVE_ID_SIZE] = "", path[160], code[64];
    {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
        sqlite3 *sdb = NULL;
        TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        sqlite3_busy_timeout(sdb, 5000);
        th_db_text(sdb,
                   "SELECT id FROM service_task WHERE coalesce(assignee_id, '') != ?1 AND "
                   "coalesce(original_assignee_id, '') != ?1 AND coalesce(required_skills, '') "
                   "= '' AND status IN ('new', 'assigned') ORDER BY id LIMIT 1",
                   tom_id, routed, sizeof(routed));
        sqlite3_close(sdb);
    }
    TH_ASSERT(routed[0] != '\0');
    snprintf(path, sizeof(path), "/v1/admin/tasks/%s/assign", routed);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"to\":\"tom\"}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(
        th_server_int(s,
                      "SELECT count(*) FROM service_task WHERE id = ?1 AND assignee_id "
                      "= (SELECT id FROM users WHERE username = 'tara') AND "
                      "original_assignee_id = ?2",
                      routed, tom_id),
        1);

    /* A second leave, revoked before it starts: nothing moves. */
    snprintf(json, sizeof(json),
             "{\"user\":\"tara\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":\"tom\"}]}",
             (long long)(now_ms() + 500), (long long)(to + 60000));
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/leaves", json, &r), 400);
    th_log("tara's overlapping leave: %s", body(&r)); /* covering for tom: re-delegation */
    TH_ASSERT(strstr(body(&r), "re-delegation") != NULL ||
              strstr(body(&r), "on leave") != NULL);
    th_resp_free(&r);

    wait_until(to + 1500);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM service_task WHERE assignee_id = ?1 AND "
                               "status NOT IN ('resolved', 'closed', 'cancelled')",
                               tom_id, NULL),
                 open); /* open - 1 of his own, plus the routed one */
    snprintf(json, sizeof(json),
             "{\"user\":\"tara\",\"from\":%lld,\"to\":%lld,\"delegates\":[{\"user\":\"tom\"}]}",
             (long long)(now_ms() + 60000), (long long)(now_ms() + 120000));
    TH_ASSERT_EQ(post_json(s, admin, "/v1/admin/leaves", json, &r), 201);
    char lid[ROVE_ID_SIZE];
    TH_ASSERT(th_json_str(&r, "id", lid, sizeof(lid)) == 0);
    th_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/admin/leaves/%s/revoke", lid);
    TH_ASSERT_EQ(post_json(s, admin, path, "{}", &r), 200);
    th_resp_free(&r);
    TH_ASSERT_EQ(post_json(s, admin, path, "{}", &r), 409);
    th_resp_free(&r);
    state_is(s, admin, lid, "revoked");
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM service_task WHERE id = ?1 AND status = "
                               "'resolved' AND assignee_id = (SELECT id FROM users WHERE "
                               "username = 'tara')",
                               task, NULL),
                 1);
    th_sync_ok(tara, &rep, "tara after the leave");
    th_sync_ok(tom, &rep, "tom back");
    TH_ASSERT(th_matches_fresh(s, tara, "tara", "tara-demo", "tara after the leave"));
    TH_ASSERT(th_matches_fresh(s, tom, "tom", "tom-demo", "tom back"));
    TH_ASSERT_EQ(th_client_int(tom,
                               "SELECT count(*) FROM service_task WHERE status NOT IN "
                               "('resolved', 'closed', 'cancelled')",
                               NULL),
                 open); /* his own but the resolved one, and the routed one */
    rove_client_free(tom);
    rove_client_free(tara);
    th_server_stop(s);
}
