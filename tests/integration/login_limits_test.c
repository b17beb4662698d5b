/*
 * Logins against a hostile client (issue 9, items 8-10): the login limiter
 * counts per user and source and cannot be reset or turned against a user
 * from elsewhere; device tokens expire, are refreshed silently on sync and
 * superseded by a new login; admins list and revoke them; rovectl speaks
 * HTTPS only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "compress.h"
#include "harness.h"
#include "wire.h"

/* The limiter before this fix kept one counter per slot of a 1024-entry table
 * (FNV-1a of the name): a failure for a name in the same slot reset it. */
static unsigned old_slot(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (h | 1u) % 1024;
}

static long admin_login_status(const th_server *s, const char *user, const char *pw)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
    th_resp r;
    th_http(s, "POST", "/v1/admin/login", NULL, "application/json", body, strlen(body), &r);
    long st = r.status;
    th_resp_free(&r);
    return st;
}

void test_integration__login_limits(void)
{
    th_server *s = th_server_start(NULL);
    char raj_id[32], rosa_id[32];
    th_login l;

    /* Names that shared raj's slot in the old table. */
    char collide[4][32];
    int ncollide = 0;
    for (int i = 0; ncollide < 4 && i < 1000000; i++) {
        snprintf(collide[ncollide], sizeof(collide[0]), "guest%d", i);
        if (old_slot(collide[ncollide]) == old_slot("raj"))
            ncollide++;
    }
    TH_ASSERT_EQ(ncollide, 4);

    /* 60 wrong guesses for raj from A, each followed by one for a name in
     * raj's old slot: raj ends refused (429), after at most 10 password
     * checks. */
    th_set_source("127.0.0.1");
    int raj_401 = 0, raj_429 = 0;
    long last = 0;
    for (int i = 0; i < 60; i++) {
        last = th_login_raw(s, "raj", "wrong-guess", NULL);
        TH_ASSERT_MSG(last == 401 || last == 429, "raj guess %d: %ld", i, last);
        raj_401 += last == 401;
        raj_429 += last == 429;
        long other = th_login_raw(s, collide[i % 4], "wrong-guess", NULL);
        TH_ASSERT(other == 401 || other == 429);
    }
    th_log("raj from A: %d x 401, %d x 429", raj_401, raj_429);
    TH_ASSERT_EQ(last, 429);
    TH_ASSERT(raj_401 <= 10);
    /* Source A failed across many names: it is refused for anyone, also on
     * the admin API (one limiter for both). */
    TH_ASSERT_EQ(th_login_raw(s, "rosa", "rosa-demo", NULL), 429);
    TH_ASSERT_EQ(admin_login_status(s, "maria", "maria-demo"), 429);

    /* From B, raj still logs in: A's guesses do not lock him out. */
    th_set_source("127.0.0.2");
    TH_ASSERT_EQ(th_login_raw(s, "raj", "raj-demo", &l), 200);
    snprintf(raj_id, sizeof(raj_id), "%s", l.user_id);

    /* Ten bad guesses for rosa from B lock rosa from B only: from C (a clean
     * source) she logs in, on both APIs. */
    for (int i = 0; i < 10; i++)
        TH_ASSERT_EQ(th_login_raw(s, "rosa", "wrong-guess", NULL), 401);
    TH_ASSERT_EQ(th_login_raw(s, "rosa", "rosa-demo", NULL), 429);
    th_set_source("127.0.0.3");
    TH_ASSERT_EQ(th_login_raw(s, "rosa", "rosa-demo", &l), 200);
    snprintf(rosa_id, sizeof(rosa_id), "%s", l.user_id);
    TH_ASSERT_EQ(admin_login_status(s, "maria", "maria-demo"), 200);
    th_set_source(NULL);

    /* The audit trail holds the failures and the lockouts, with the source. */
    int64_t raj_failed =
        th_server_int(s, "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = 'login_failed'",
                      raj_id, NULL);
    int64_t raj_locked =
        th_server_int(s, "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = 'login_locked'",
                      raj_id, NULL);
    th_log("audit: raj %lld failures, %lld lockouts", (long long)raj_failed,
           (long long)raj_locked);
    TH_ASSERT_EQ(raj_failed, raj_401);
    TH_ASSERT(raj_locked >= 1);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = "
                               "'login_locked' AND diff LIKE '%127.0.0.2%'",
                               rosa_id, NULL),
                 1);
    TH_ASSERT(th_server_int(s,
                            "SELECT count(*) FROM audit WHERE table_name = 'login' AND op = "
                            "'login_failed' AND diff LIKE '%guest%'",
                            NULL, NULL) >= 1);
}

/* POST /v1/login with a given device id; the token into token[80]. */
static long login_device(const th_server *s, const char *user, const char *pw,
                         const char *device_id, char *token)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 4);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    rove__w_text(&b, "user");
    rove__w_text(&b, user);
    rove__w_text(&b, "password");
    rove__w_text(&b, pw);
    rove__w_text(&b, "device_id");
    rove__w_text(&b, device_id);
    th_resp r;
    th_post_cbor(s, "/v1/login", NULL, b.ptr, b.len, &r);
    rove__buf_free(&b);
    long st = r.status;
    if (st == 200) {
        rove__buf plain = ROVE__BUF_INIT;
        TH_ASSERT(rove__inflate(&plain, r.body.ptr, r.body.len, 1u << 20) == 0);
        rove__flat_field f[] = {{"token", 0, {0}}, {"token_expires_at", 0, {0}}};
        rove__errinfo err;
        TH_ASSERT(rove__flat_parse(plain.ptr, plain.len, f, 2, &err) == 0);
        TH_ASSERT(rove__flat_text(&f[0], token, 80) == 0);
        TH_ASSERT(f[1].present && f[1].v.i > th_now_ms());
        rove__buf_free(&plain);
    }
    th_resp_free(&r);
    return st;
}

static long sync_status(const th_server *s, const char *token, char *code, size_t size)
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

static void replica_token(const char *path, char *out, size_t size)
{
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    th_db_text(db, "SELECT value FROM _rove_meta WHERE key = 'token'", NULL, out, size);
    sqlite3_close(db);
}

void test_integration__device_token_lifetime(void)
{
    const char *const extra[] = {"--device-token-test-seconds", "4", NULL};
    th_server *s = th_server_start(extra);
    char dev[ROVE_ID_SIZE], t1[80], t2[80], code[64];

    /* A second login on the same device revokes the first token. */
    th_new_id(dev);
    TH_ASSERT_EQ(login_device(s, "rita", "rita-demo", dev, t1), 200);
    TH_ASSERT_EQ(sync_status(s, t1, code, sizeof(code)), 200);
    TH_ASSERT_EQ(login_device(s, "rita", "rita-demo", dev, t2), 200);
    TH_ASSERT(strcmp(t1, t2) != 0);
    TH_ASSERT_EQ(sync_status(s, t1, code, sizeof(code)), 401);
    TH_ASSERT_STR(code, "unauthorized");
    TH_ASSERT_EQ(sync_status(s, t2, code, sizeof(code)), 200);

    /* An expired token is refused (401 auth); the SDK reports ROVE_EAUTH. */
    const char *dir = th_tmpdir("token");
    char path[700], before[80], after[80];
    rove_client *late = th_client_open(s, dir, "late");
    TH_ASSERT_ROVE(late, rove_client_login(late, "raj", "raj-demo"));
    usleep(4300 * 1000);
    TH_ASSERT_EQ(sync_status(s, t2, code, sizeof(code)), 401);
    TH_ASSERT_STR(code, "unauthorized");
    int rc = rove_client_sync(late, NULL);
    TH_ASSERT_MSG(rc == ROVE_EAUTH, "sync with an expired token: %s", rove_error_name(rc));
    rove_client_free(late);

    /* Silent refresh: a sync past half the lifetime brings a fresh token,
     * kept in the replica; once it is used the old one is refused, and the
     * client syncs on past the old token's expiry without noticing. */
    rove_client *c = th_client_open(s, dir, "rita");
    snprintf(path, sizeof(path), "%s/rita.db", dir);
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_sync_report rep;
    th_sync_ok(c, &rep, "fresh login");
    replica_token(path, before, sizeof(before));
    TH_ASSERT_EQ(strlen(before), 64);
    usleep(2300 * 1000);
    th_sync_ok(c, &rep, "past half the lifetime");
    replica_token(path, after, sizeof(after));
    TH_ASSERT_EQ(strlen(after), 64);
    TH_ASSERT(strcmp(before, after) != 0);
    th_sync_ok(c, &rep, "with the fresh token");
    TH_ASSERT_EQ(sync_status(s, before, code, sizeof(code)), 401);
    usleep(2000 * 1000); /* the first token's lifetime is over */
    th_sync_ok(c, &rep, "after the first token expired");
    rove_client_free(c);
}

void test_integration__device_token_admin(void)
{
    th_server *s = th_server_start(NULL);
    char admin[80], manager[80], code[64], path[200], id[32], body[300];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    th_admin_login(s, "maria", "maria-demo", manager, sizeof(manager));
    th_login l;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &l), 200);

    /* The admin lists rita's tokens: id, device, times, never the token. */
    th_resp r;
    th_http(s, "GET", "/v1/admin/users/rita/tokens", admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    TH_ASSERT(th_json_str(&r, "id", id, sizeof(id)) == 0);
    TH_ASSERT(strstr((const char *)r.body.ptr, l.device_id) != NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, l.token) == NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"expires_at\"") != NULL);
    TH_ASSERT(strstr((const char *)r.body.ptr, "\"last_used_at\"") != NULL);
    th_resp_free(&r);

    /* A manager of rita's territory sees them too. A user she does not
     * manage answers exactly like a nonexistent one. */
    th_http(s, "GET", "/v1/admin/users/rita/tokens", manager, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    th_resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"username\":\"ezra\",\"name\":\"Ezra East\",\"role\":\"rep\","
             "\"password\":\"ezra-secret-1\"}");
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/users", body, code, sizeof(code)), 201);
    th_login le;
    TH_ASSERT_EQ(th_login_raw(s, "ezra", "ezra-secret-1", &le), 200);
    th_resp other, none;
    th_http(s, "GET", "/v1/admin/users/ezra/tokens", manager, NULL, NULL, 0, &other);
    th_http(s, "GET", "/v1/admin/users/nobody/tokens", manager, NULL, NULL, 0, &none);
    TH_ASSERT_EQ(other.status, 404);
    TH_ASSERT_EQ(none.status, 404);
    TH_ASSERT_STR(other.error, none.error);
    TH_ASSERT_STR(other.errmsg, none.errmsg);
    th_resp_free(&other);
    th_resp_free(&none);
    char ezra_tok[32];
    th_http(s, "GET", "/v1/admin/users/ezra/tokens", admin, NULL, NULL, 0, &r);
    TH_ASSERT_EQ(r.status, 200);
    TH_ASSERT(th_json_str(&r, "id", ezra_tok, sizeof(ezra_tok)) == 0);
    th_resp_free(&r);
    char bogus[ROVE_ID_SIZE];
    th_new_id(bogus);
    snprintf(path, sizeof(path), "/v1/admin/tokens/%s/revoke", ezra_tok);
    TH_ASSERT_EQ(th_admin_post(s, manager, path, "{}", code, sizeof(code)), 404);
    snprintf(path, sizeof(path), "/v1/admin/tokens/%s/revoke", bogus);
    TH_ASSERT_EQ(th_admin_post(s, manager, path, "{}", code, sizeof(code)), 404);
    TH_ASSERT_EQ(sync_status(s, le.token, code, sizeof(code)), 200);

    /* The manager revokes rita's token: it is refused from then on. */
    TH_ASSERT_EQ(sync_status(s, l.token, code, sizeof(code)), 200);
    snprintf(path, sizeof(path), "/v1/admin/tokens/%s/revoke", id);
    TH_ASSERT_EQ(th_admin_post(s, manager, path, "{}", code, sizeof(code)), 200);
    TH_ASSERT_EQ(sync_status(s, l.token, code, sizeof(code)), 401);
    TH_ASSERT_EQ(th_admin_post(s, manager, path, "{}", code, sizeof(code)), 409);
    TH_ASSERT_EQ(th_server_int(s,
                               "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = "
                               "'token_revoke'",
                               id, NULL),
                 1);

    /* rovectl: list and revoke (as admin). */
    char out[4096];
    TH_ASSERT_EQ(th_rovectl(s, "tokens list ezra", out, sizeof(out)), 0);
    TH_ASSERT(strstr(out, ezra_tok) != NULL && strstr(out, "active") != NULL);
    TH_ASSERT(strstr(out, le.token) == NULL);
    char args[200];
    snprintf(args, sizeof(args), "tokens revoke %s", ezra_tok);
    TH_ASSERT_EQ(th_rovectl(s, args, out, sizeof(out)), 0);
    TH_ASSERT_EQ(sync_status(s, le.token, code, sizeof(code)), 401);
    TH_ASSERT(th_rovectl(s, "tokens list nobody", out, sizeof(out)) != 0);
}

void test_integration__rovectl_https_only(void)
{
    const char *build = th_arg("build-dir");
    TH_ASSERT(build != NULL);
    /* A plain listener: rovectl must not send it a single byte. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    TH_ASSERT(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    TH_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 8) == 0);
    socklen_t alen = sizeof(a);
    TH_ASSERT(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char cmd[2048], out[2048];
    snprintf(cmd, sizeof(cmd),
             "timeout 5 %s/server/rovectl --server http://127.0.0.1:%d --user admin --password "
             "admin-demo users list 2>&1",
             build, ntohs(a.sin_port));
    FILE *p = popen(cmd, "r");
    TH_ASSERT(p != NULL);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    th_log("rovectl over http: %s", out);
    TH_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    /* Nothing connected, so nothing was sent (a connection made is still
     * pending in the backlog, with whatever was sent on it). */
    struct pollfd pf = {fd, POLLIN, 0};
    int ready = poll(&pf, 1, 200);
    size_t got = 0;
    if (ready > 0) {
        int cfd = accept(fd, NULL, NULL);
        char buf[512];
        ssize_t k;
        while (cfd >= 0 && (k = recv(cfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
            got += (size_t)k;
        if (cfd >= 0)
            close(cfd);
    }
    close(fd);
    th_log("plain listener: %d connection(s), %zu bytes", ready > 0, got);
    TH_ASSERT_EQ(got, 0);
    TH_ASSERT_EQ(ready, 0);
    TH_ASSERT(strstr(out, "https://") != NULL);
}
