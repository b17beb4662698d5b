/*
 * The authorization suite, device routes (authz.h): one row per route of
 * ROVED_DEVICE_ROUTES; no device, an active device of every role (its own
 * records, one out of its scope) and a revoked, drained device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/src/routes.h"
#include "authz.h"
#include "cases.h"
#include "wire.h"

#define AUTHZ_DEVICE_ROUTE(path, handler, who, ...) {"POST", path, #who},
static const authz_route device_routes[] = {ROVED_DEVICE_ROUTES(AUTHZ_DEVICE_ROUTE)};
#undef AUTHZ_DEVICE_ROUTE

typedef struct dev_row {
    const char *path, *who;
} dev_row;

static const dev_row device_rows[] = {
    {"/v1/login", "ANYONE"},  {"/v1/sync", "DRAINING"},  {"/v1/leases", "DEVICE"},
    {"/v1/digest", "DEVICE"}, {"/v1/history", "DEVICE"}, {"/v1/wiped", "REVOKED"},
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
                        const char *record, authz_answer *a)
{
    rove__buf b = ROVE__BUF_INIT;
    device_body(path, record, &b);
    th_resp r;
    th_post_cbor(s, path, token, b.ptr, b.len, &r);
    rove__buf_free(&b);
    authz_answer_take(&r, path, a);
}

static void device_expect(const authz_world *w, const char *path, const authz_role *ro,
                          const char *record, const char *what, long status, const char *code)
{
    authz_answer a;
    device_call(w->s, path, ro->token, record, &a);
    if (a.status != status || (code != NULL && strcmp(a.code, code) != 0))
        authz_fail(path, ro->name, what, "expected %ld %s, got %ld %s (%s)", status,
                   code ? code : "", a.status, a.code, a.msg);
    authz_answer_free(&a);
    if (status != 200)
        authz_stored_check(w->stored, path, ro->name, what);
    else
        authz_stored_rebase(w->stored);
}

void test_integration__authz_device(void)
{
    for (size_t i = 0; i < NELEM(device_routes); i++) {
        size_t k = 0;
        while (k < NELEM(device_rows) && strcmp(device_rows[k].path, device_routes[i].pattern))
            k++;
        TH_ASSERT_MSG(k < NELEM(device_rows), "routes.h: %s has no row in authz_device_test.c",
                      device_routes[i].pattern);
        TH_ASSERT_MSG(strcmp(device_rows[k].who, device_routes[i].who) == 0,
                      "%s: routes.h says %s, the authz table %s", device_rows[k].path,
                      device_routes[i].who, device_rows[k].who);
    }
    TH_ASSERT_MSG(NELEM(device_rows) == NELEM(device_routes),
                  "authz_device_test.c has device rows that are not routes in routes.h");

    authz_world *w = calloc(1, sizeof(*w));
    TH_ASSERT(w != NULL);
    w->s = th_server_start(NULL);
    th_admin_login(w->s, "admin", "admin-demo", w->admin, sizeof(w->admin));
    char rita_id[27];
    authz_server_text(w->s, "SELECT id FROM users WHERE username = ?1", "rita", rita_id,
                      sizeof(rita_id));
    authz_server_text(w->s, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                      rita_id, w->acc_n[0], sizeof(w->acc_n[0]));
    authz_admin_do(w, w->admin, "import/territories", "text/csv", "name,parent,owner\nEast,,\n",
                   200, NULL, NULL, 0);
    authz_admin_do(w, w->admin, "import/users", "text/csv",
                   "username,name,role,manager,home_territory,skills,password\n"
                   "ezra,Ezra East,rep,admin,East,,ezra-pass-1\n",
                   200, NULL, NULL, 0);
    th_new_id(w->acc_e[0]);
    char csv[200];
    snprintf(csv, sizeof(csv), "id,name,owner,territory\n%s,East account,ezra,East\n",
             w->acc_e[0]);
    authz_admin_do(w, w->admin, "import/accounts", "text/csv", csv, 200, NULL, NULL, 0);
    th_login maria_dev;
    authz_login(w, "rita", "rita-demo", &w->rita);
    authz_login(w, "rita", "rita-demo", &w->rita2);
    authz_login(w, "ezra", "ezra-pass-1", &w->ezra);
    authz_login(w, "tom", "tom-demo", &w->tom);
    authz_login(w, "maria", "maria-demo", &maria_dev);
    char path[128];
    snprintf(path, sizeof(path), "devices/%s/revoke", w->rita2.device_id);
    authz_admin_do(w, w->admin, path, NULL, "{\"drain_seconds\":0}", 200, NULL, NULL, 0);
    usleep(20 * 1000);
    char missing[27];
    th_new_id(missing);

    /* Active devices: their own record in scope; an out-of-scope record. */
    const struct {
        authz_role r;
        const char *mine, *other;
    } active[] = {{{"rep rita", w->rita.token}, w->acc_n[0], w->acc_e[0]},
                  {{"other rep ezra", w->ezra.token}, w->acc_e[0], w->acc_n[0]},
                  {{"technician tom", w->tom.token}, NULL, w->acc_e[0]},
                  {{"manager maria (device)", maria_dev.token}, w->acc_n[0], w->acc_e[0]}};
    const authz_role unauth[] = {
        {"none", NULL}, {"garbage", "garbage-token-0123456789"}, {"admin session", w->admin}};
    const authz_role revoked = {"revoked device (drained)", w->rita2.token};
    w->stored = authz_stored_new(w->s);
    for (size_t i = 0; i < NELEM(device_rows); i++) {
        const char *p = device_rows[i].path;
        if (strcmp(p, "/v1/login") == 0) {
            authz_role none = {"none", NULL};
            device_expect(w, p, &none, "rita-demo", "right password", 200, NULL);
            device_expect(w, p, &none, "wrong-password", "wrong password", 401,
                          rove_error_name(ROVE_EAUTH));
            continue;
        }
        for (size_t k = 0; k < NELEM(unauth); k++)
            device_expect(w, p, &unauth[k], w->acc_n[0], "no device", 401,
                          rove_error_name(ROVE_EAUTH));
        int wiped = strcmp(p, "/v1/wiped") == 0;
        for (size_t k = 0; k < NELEM(active); k++) {
            if (wiped) {
                device_expect(w, p, &active[k].r, NULL, "active device", 409, NULL);
                continue;
            }
            if (strcmp(p, "/v1/history") != 0) {
                device_expect(w, p, &active[k].r, NULL, "own data", 200, NULL);
                continue;
            }
            if (active[k].mine != NULL)
                device_expect(w, p, &active[k].r, active[k].mine, "in scope", 200, NULL);
            authz_answer out, miss;
            device_call(w->s, p, active[k].r.token, active[k].other, &out);
            device_call(w->s, p, active[k].r.token, missing, &miss);
            if (miss.status != 404 || !authz_same_answer(&out, &miss))
                authz_fail(p, active[k].r.name, "out of scope vs nonexistent",
                           "out of scope %ld %s \"%s\"; nonexistent %ld %s \"%s\"", out.status,
                           out.code, out.msg, miss.status, miss.code, miss.msg);
            authz_answer_free(&out);
            authz_answer_free(&miss);
        }
        device_expect(w, p, &revoked, w->acc_n[0], "revoked after drain", wiped ? 200 : 403,
                      wiped ? NULL : rove_error_name(ROVE_EREVOKED));
    }
    authz_assert_no_failures();
    authz_world_free(w);
}
