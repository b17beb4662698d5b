/*
 * Device revocation and user status changes made through the admin API take
 * effect on the device endpoints and in the SDK at once, and nothing pending
 * on the device is thrown away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

static long raw_sync_status(const th_server *s, const char *token, char *code, size_t size)
{
    rove__buf b = ROVE__BUF_INIT;
    th_w_request(&b, 1, 0, 1, 0);
    static th_sync_result res;
    long st = th_sync_raw(s, token, &b, &res, NULL);
    snprintf(code, size, "%s", res.resp.error);
    th_sync_result_free(&res);
    rove__buf_free(&b);
    return st;
}

void test_integration__revocation(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("revoke");
    char admin[80], manager[80], code[64], path[200];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    th_admin_login(s, "maria", "maria-demo", manager, sizeof(manager));

    /* A raw device of rita, revoked: its token stops working, and so does
     * logging in again with the same device id. */
    th_login l;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &l), 200);
    TH_ASSERT_EQ(raw_sync_status(s, l.token, code, sizeof(code)), 200);
    snprintf(path, sizeof(path), "/v1/admin/devices/%s/revoke", l.device_id);
    TH_ASSERT_EQ(th_admin_post(s, NULL, path, "{}", code, sizeof(code)), 401);
    TH_ASSERT_EQ(th_admin_post(s, manager, path, "{}", code, sizeof(code)), 403);
    TH_ASSERT_EQ(raw_sync_status(s, l.token, code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"drain_seconds\":-1}", code, sizeof(code)),
                 400);
    TH_ASSERT_EQ(raw_sync_status(s, l.token, code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"drain_seconds\":0}", code, sizeof(code)),
                 200);
    TH_ASSERT_EQ(raw_sync_status(s, l.token, code, sizeof(code)), 403);
    TH_ASSERT_STR(code, "device_revoked");
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 409);

    /* The SDK, revoked with a drain window: what was typed before the
     * revocation is applied (a late sync), what is typed after it is
     * quarantined, nothing comes down; after the drain the replica is wiped
     * and the server told. The same keep-alive connection is refused at once. */
    rove_client *c = th_client_open(s, dir, "rita");
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    char acc[ROVE_ID_SIZE], dev[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    snprintf(dev, sizeof(dev), "%s", rove_client_device_id(c));
    TH_ASSERT_ROVE(
        c, rove_contact_create(c, NULL, acc, "Typed Before Revocation", NULL, NULL, NULL, 0));
    usleep(20 * 1000);
    snprintf(path, sizeof(path), "/v1/admin/devices/%s/revoke", dev);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"drain_seconds\":4}", code, sizeof(code)),
                 200);
    usleep(20 * 1000);
    TH_ASSERT_ROVE(
        c, rove_contact_create(c, NULL, acc, "Typed After Revocation", NULL, NULL, NULL, 0));
    rove_sync_report rep;
    int rc = rove_client_sync(c, &rep);
    TH_ASSERT_MSG(rc == ROVE_EREVOKED, "sync of a draining device: %s (%s)",
                  rove_error_name(rc), rove_client_errmsg(c));
    th_log("draining device: %s", rove_client_errmsg(c));
    TH_ASSERT_EQ(th_client_pending(c), 0);
    TH_ASSERT_EQ(rep.pushed, 2);
    TH_ASSERT_EQ(rep.applied, 1);
    TH_ASSERT_EQ(rep.quarantined, 1);
    TH_ASSERT_EQ(rep.pulled, 0);
    TH_ASSERT_EQ(rep.wiped, 0);
    {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
        sqlite3 *sdb = NULL;
        TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        sqlite3_busy_timeout(sdb, 5000);
        TH_ASSERT_EQ(th_db_int(sdb, "SELECT count(*) FROM contact WHERE name = ?1",
                               "Typed Before Revocation", NULL),
                     1);
        TH_ASSERT_EQ(th_db_int(sdb, "SELECT count(*) FROM contact WHERE name = ?1",
                               "Typed After Revocation", NULL),
                     0);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM audit WHERE device_id = ?1 AND op = "
                               "'insert' AND diff LIKE '%_late_sync_revoked_at%'",
                               dev, NULL),
                     1);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM quarantine WHERE device_id = ?1 AND "
                               "reason_code = 'device_revoked' AND status = 'pending'",
                               dev, NULL),
                     1);
        sqlite3_close(sdb);
    }
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM account", NULL) > 0, 1);
    usleep(4200 * 1000); /* the drain ends */
    memset(&rep, 0, sizeof(rep));
    rc = rove_client_sync(c, &rep);
    TH_ASSERT_MSG(rc == ROVE_EREVOKED, "sync after the drain: %s (%s)", rove_error_name(rc),
                  rove_client_errmsg(c));
    th_log("after the drain: %s", rove_client_errmsg(c));
    TH_ASSERT_EQ(rep.wiped, 1);
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM account", NULL), 0);
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM contact", NULL), 0);
    TH_ASSERT(!rove_client_logged_in(c));
    TH_ASSERT(strcmp(rove_client_device_id(c), dev) != 0);
    {
        char dbpath[700];
        snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
        sqlite3 *sdb = NULL;
        TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        sqlite3_busy_timeout(sdb, 5000);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM devices WHERE id = ?1 AND wiped_at > 0",
                               dev, NULL),
                     1);
        TH_ASSERT_EQ(th_db_int(sdb,
                               "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = "
                               "'device_wiped'",
                               dev, NULL),
                     1);
        sqlite3_close(sdb);
    }
    /* The wiped replica is a new device: logging in again works. */
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_client_free(c);

    /* A frozen user: sync and login are refused (403 forbidden), and work
     * again once the user is active. */
    rove_client *raj = th_client_open(s, dir, "raj");
    TH_ASSERT_ROVE(raj, rove_client_login(raj, "raj", "raj-demo"));
    TH_ASSERT_ROVE(raj, rove_client_sync(raj, NULL));
    TH_ASSERT_EQ(th_admin_post(s, manager, "/v1/admin/users/raj/status",
                               "{\"status\":\"frozen\"}", code, sizeof(code)),
                 403);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/users/raj/status",
                               "{\"status\":\"frozen\"}", code, sizeof(code)),
                 200);
    rc = rove_client_sync(raj, NULL);
    TH_ASSERT_MSG(rc == ROVE_EFORBIDDEN, "sync of a frozen user: %s (%s)", rove_error_name(rc),
                  rove_client_errmsg(raj));
    TH_ASSERT_EQ(th_login_raw(s, "raj", "raj-demo", NULL), 403);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/users/raj/status", "{\"status\":\"bogus\"}",
                               code, sizeof(code)),
                 400);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/users/raj/status",
                               "{\"status\":\"active\"}", code, sizeof(code)),
                 200);
    TH_ASSERT_ROVE(raj, rove_client_sync(raj, NULL));
    rove_client_free(raj);
    th_server_stop(s);
}
