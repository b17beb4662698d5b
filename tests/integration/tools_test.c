/*
 * The programs users run: the rove-field terminal app against a real server,
 * and examples/embed built against an installed SDK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

typedef struct run_result {
    int status;
    char out[65536];
    char err[8192];
} run_result;

/* Runs cmd with sh, capturing stdout and stderr separately. */
static void run(run_result *r, const char *cmd)
{
    static int seq;
    static const char *dir;
    if (dir == NULL)
        dir = th_tmpdir("run");
    char errfile[600], full[8192];
    snprintf(errfile, sizeof(errfile), "%s/stderr-%d", dir, seq++);
    snprintf(full, sizeof(full), "%s 2>'%s' </dev/null", cmd, errfile);
    FILE *p = popen(full, "r");
    TH_ASSERT(p != NULL);
    size_t n = fread(r->out, 1, sizeof(r->out) - 1, p);
    r->out[n] = '\0';
    int st = pclose(p);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *e = fopen(errfile, "r");
    n = e ? fread(r->err, 1, sizeof(r->err) - 1, e) : 0;
    r->err[n] = '\0';
    if (e)
        fclose(e);
}

static void expect_ok(run_result *r, const char *cmd)
{
    run(r, cmd);
    TH_ASSERT_MSG(r->status == 0, "`%s` exited %d\nstdout:\n%s\nstderr:\n%s", cmd, r->status,
                  r->out, r->err);
}

static void expect_fail(run_result *r, const char *cmd)
{
    run(r, cmd);
    TH_ASSERT_MSG(r->status != 0, "`%s` succeeded but should fail:\n%s", cmd, r->out);
    TH_ASSERT_MSG(strstr(r->err, "error:") != NULL, "`%s`: no 'error:' on stderr:\n%s", cmd,
                  r->err);
    th_log("`%s` -> exit %d: %.*s", strrchr(cmd, ' ') ? strrchr(cmd, ' ') + 1 : cmd, r->status,
           (int)strcspn(r->err, "\n"), r->err);
}

void test_integration__rove_field_cli(void)
{
    const char *exe = th_arg("rove-field");
    TH_ASSERT_MSG(exe != NULL, "no --rove-field PATH given");
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("rove-field");
    static run_result r;
    char base[2048], cmd[4096];
    snprintf(base, sizeof(base), "'%s' --db '%s/rita.db' --server %s --ca '%s'", exe, dir,
             s->url, s->ca);

    snprintf(cmd, sizeof(cmd), "%s login rita rita-demo", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "logged in as") && strstr(r.out, "rep"), "login said:\n%s",
                  r.out);

    snprintf(cmd, sizeof(cmd), "%s sync", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "synced: pushed 0") != NULL, "sync said:\n%s", r.out);
    unsigned long long pulled = 0;
    const char *p = strstr(r.out, "pulled ");
    TH_ASSERT(p != NULL && sscanf(p, "pulled %llu", &pulled) == 1);
    TH_ASSERT_MSG(pulled > 0, "the first sync pulled nothing:\n%s", r.out);

    /* `today` lists exactly the visits the SDK says are planned for today. */
    snprintf(cmd, sizeof(cmd), "%s today", base);
    expect_ok(&r, cmd);
    char db_path[700];
    snprintf(db_path, sizeof(db_path), "%s/rita.db", dir);
    rove_client *c = NULL;
    TH_ASSERT_EQ(th_client_open_opts(&c, db_path, s->url, s->ca, NULL), 0);
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(c, rove_visits_today(c, &q, 0));
    int ncol = rove_rows_columns(q), acol = -1, n = 0;
    for (int i = 0; i < ncol; i++)
        if (strcmp(rove_rows_name(q, i), "account") == 0)
            acol = i;
    TH_ASSERT(acol >= 0);
    while (rove_rows_next(q) == 1) {
        const char *acct = rove_rows_text(q, acol);
        n++;
        if (acct != NULL) {
            char head[24];
            snprintf(head, sizeof(head), "%.12s", acct); /* columns may be cut */
            TH_ASSERT_MSG(strstr(r.out, head) != NULL, "today does not show %s:\n%s", acct,
                          r.out);
        }
    }
    rove_rows_free(q);
    th_log("today: %d visit(s)", n);
    if (n == 0)
        TH_ASSERT_MSG(strstr(r.out, "no visits") != NULL, "today said:\n%s", r.out);
    char acc[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    rove_client_free(c);

    /* An offline write shows up in `pending`, then syncs. */
    snprintf(cmd, sizeof(cmd), "%s pending", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "outbox is empty") != NULL, "pending said:\n%s", r.out);
    snprintf(cmd, sizeof(cmd), "%s new-contact %s Cli Contact --title Buyer", base, acc);
    expect_ok(&r, cmd);
    snprintf(cmd, sizeof(cmd), "%s pending", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "outbox is empty") == NULL &&
                      strstr(r.out, "contact") != NULL && strstr(r.out, "insert") != NULL,
                  "pending after a new contact said:\n%s", r.out);
    snprintf(cmd, sizeof(cmd), "%s sync", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "pushed 1 (1 applied") != NULL, "sync said:\n%s", r.out);
    snprintf(cmd, sizeof(cmd), "%s pending", base);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "outbox is empty") != NULL, "pending said:\n%s", r.out);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(
        th_db_int(snap, "SELECT count(*) FROM contact WHERE name = 'Cli Contact'", NULL, NULL),
        1);
    sqlite3_close(snap);

    /* Failures: nonzero exit and "error:" on stderr. */
    snprintf(cmd, sizeof(cmd), "%s checkin ZZZZZZZZ", base);
    expect_fail(&r, cmd);
    snprintf(cmd, sizeof(cmd), "%s no-such-command", base);
    expect_fail(&r, cmd);
    snprintf(cmd, sizeof(cmd), "'%s' --db '%s/other.db' --server %s --ca '%s' login rita wrong",
             exe, dir, s->url, s->ca);
    expect_fail(&r, cmd);
    TH_ASSERT_MSG(strstr(r.err, rove_strerror(ROVE_EAUTH)) != NULL, "wrong password said:\n%s",
                  r.err);
    snprintf(cmd, sizeof(cmd),
             "'%s' --db '%s/third.db' --server %s --ca /nonexistent/ca.pem "
             "login rita rita-demo",
             exe, dir, s->url);
    expect_fail(&r, cmd);
    snprintf(cmd, sizeof(cmd), "'%s' --db '%s/fourth.db' sync", exe, dir);
    expect_fail(&r, cmd);
    th_server_stop(s);
}

void test_integration__embed_example(void)
{
    const char *src = th_arg("source-dir"), *build = th_arg("build-dir");
    const char *cmake = th_arg("cmake"), *gen = th_arg("generator");
    TH_ASSERT(src != NULL && build != NULL && cmake != NULL);
    const char *prefix = th_tmpdir("prefix");
    const char *work = th_tmpdir("embed");
    static run_result r;
    char cmd[4096];

    snprintf(cmd, sizeof(cmd), "'%s' --install '%s' --prefix '%s'", cmake, build, prefix);
    expect_ok(&r, cmd);
    char path[700];
    snprintf(path, sizeof(path), "%s/include/rove/rove.h", prefix);
    TH_ASSERT_MSG(access(path, R_OK) == 0, "no %s after install", path);
    snprintf(path, sizeof(path), "%s/include/rove/version.h", prefix);
    TH_ASSERT_MSG(access(path, R_OK) == 0, "no %s after install", path);

    const char *san = th_arg("sanitize");
    char sanflags[300] = "";
    if (san != NULL)
        snprintf(sanflags, sizeof(sanflags),
                 " -DCMAKE_C_FLAGS='%s' -DCMAKE_EXE_LINKER_FLAGS='%s'", san, san);
    snprintf(cmd, sizeof(cmd),
             "'%s' -S '%s/examples/embed' -B '%s/build' %s%s%s -DCMAKE_PREFIX_PATH='%s' "
             "-DCMAKE_BUILD_TYPE=Release%s",
             cmake, src, work, gen ? "-G '" : "", gen ? gen : "", gen ? "'" : "", prefix,
             sanflags);
    expect_ok(&r, cmd);
    snprintf(cmd, sizeof(cmd), "'%s' --build '%s/build'", cmake, work);
    expect_ok(&r, cmd);

    /* Offline. */
    snprintf(cmd, sizeof(cmd), "'%s/build/embed' '%s/offline.db'", work, work);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "created account") && strstr(r.out, "1 account in the replica"),
                  "embed offline said:\n%s", r.out);

    /* Against a server: the account it creates reaches the server. */
    th_server *s = th_server_start(NULL);
    snprintf(cmd, sizeof(cmd), "'%s/build/embed' '%s/online.db' %s '%s' rita rita-demo", work,
             work, s->url, s->ca);
    expect_ok(&r, cmd);
    TH_ASSERT_MSG(strstr(r.out, "synced: pushed 1") != NULL, "embed online said:\n%s", r.out);
    sqlite3 *snap = th_snapshot(s, "rita", "rita-demo", NULL);
    TH_ASSERT_EQ(th_db_int(snap,
                           "SELECT count(*) FROM account WHERE name = "
                           "'Embedded Example Ltd'",
                           NULL, NULL),
                 1);
    sqlite3_close(snap);

    /* The pkg-config way, as examples/embed/CMakeLists.txt documents it. */
    if (system("pkg-config --version >/dev/null 2>&1") == 0) {
        const char *libdir = "lib";
        snprintf(path, sizeof(path), "%s/lib/pkgconfig/rove.pc", prefix);
        if (access(path, R_OK) != 0)
            libdir = "lib/x86_64-linux-gnu";
        snprintf(
            cmd, sizeof(cmd),
            "PKG_CONFIG_PATH='%s/%s/pkgconfig' sh -c 'cc -std=c11 %s "
            "\"%s/examples/embed/main.c\" "
            "$(pkg-config --cflags --libs rove) -o \"%s/embed-pc\" -Wl,-rpath,\"%s/%s\"' && "
            "'%s/embed-pc' '%s/pc.db'",
            prefix, libdir, san ? san : "", src, work, prefix, libdir, work, work);
        expect_ok(&r, cmd);
        TH_ASSERT_MSG(strstr(r.out, "created account") != NULL, "pkg-config build said:\n%s",
                      r.out);
    }
    th_server_stop(s);
}
