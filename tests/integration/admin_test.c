/*
 * Device revocation and user status changes made through the admin API take
 * effect on the device endpoints and in the SDK at once, and nothing pending
 * on the device is thrown away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(raw_sync_status(s, l.token, code, sizeof(code)), 403);
    TH_ASSERT_STR(code, "device_revoked");

    /* The SDK: a revoked device gets ROVE_EREVOKED and keeps its outbox. */
    rove_client *c = th_client_open(s, dir, "rita");
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    char acc[ROVE_ID_SIZE], dev[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    snprintf(dev, sizeof(dev), "%s", rove_client_device_id(c));
    TH_ASSERT_ROVE(
        c, rove_contact_create(c, NULL, acc, "Typed Before Revocation", NULL, NULL, NULL, 0));
    snprintf(path, sizeof(path), "/v1/admin/devices/%s/revoke", dev);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{}", code, sizeof(code)), 200);
    int rc = rove_client_sync(c, NULL);
    TH_ASSERT_MSG(rc == ROVE_EREVOKED, "sync of a revoked device: %s (%s)", rove_error_name(rc),
                  rove_client_errmsg(c));
    th_log("revoked device: %s", rove_client_errmsg(c));
    TH_ASSERT_EQ(th_client_pending(c), 1);
    TH_ASSERT_EQ(th_client_int(c,
                               "SELECT count(*) FROM contact WHERE name = "
                               "'Typed Before Revocation'",
                               NULL),
                 1);
    rc = rove_client_login(c, "rita", "rita-demo");
    TH_ASSERT_MSG(rc == ROVE_EREVOKED, "login again on a revoked device: %s (%s)",
                  rove_error_name(rc), rove_client_errmsg(c));
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
