/*
 * The SDK against a hostile or broken server: a small HTTPS server (Python's
 * http.server with the demo certificate) answers each sync with whatever this
 * test put in a file. Every bad answer must fail the sync with an error code
 * and a message, apply nothing (rows, cursor and outbox unchanged), never
 * loop, and the client must recover once the server answers properly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "compress.h"
#include "harness.h"
#include "wire.h"

static const char fake_server_py[] =
    "import http.server, os, ssl, sys\n"
    "cert, port_file, d = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "def rd(n, dflt=None):\n"
    "    p = os.path.join(d, n)\n"
    "    if not os.path.exists(p):\n"
    "        return dflt\n"
    "    with open(p, 'rb') as f:\n"
    "        return f.read()\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        self.rfile.read(n)\n"
    "        name = 'login' if self.path == '/v1/login' else 'sync'\n"
    "        body = rd(name + '.bin', b'')\n"
    "        status = int(rd(name + '.status', b'200'))\n"
    "        err = rd(name + '.error')\n"
    "        self.send_response(status)\n"
    "        self.send_header('Content-Type', 'application/vnd.rove+cbor' if status == 200 "
    "else 'application/json')\n"
    "        if err:\n"
    "            self.send_header('X-Rove-Error', err.decode())\n"
    "            self.send_header('X-Rove-Error-Message', 'fake server says ' + err.decode())\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(cert)\n"
    "srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
    "with open(port_file + '.tmp', 'w') as f:\n"
    "    f.write(str(srv.server_address[1]))\n"
    "os.rename(port_file + '.tmp', port_file)\n"
    "srv.serve_forever()\n";

static const char *answers; /* directory the fake server reads */

static void put_file(const char *name, const void *p, size_t len)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", answers, name);
    if (p == NULL) {
        remove(path);
        return;
    }
    FILE *f = fopen(path, "wb");
    TH_ASSERT(f != NULL);
    TH_ASSERT(fwrite(p, 1, len, f) == len);
    fclose(f);
}

/* Sets the next sync answer: body bytes as they go on the wire. */
static void answer_raw(const void *body, size_t len, const char *status, const char *error)
{
    put_file("sync.bin", body, len);
    put_file("sync.status", status, status ? strlen(status) : 0);
    put_file("sync.error", error, error ? strlen(error) : 0);
}

static void answer_cbor(const rove__buf *cbor)
{
    TH_ASSERT(rove__buf_status(cbor) == 0);
    rove__buf z = ROVE__BUF_INIT;
    TH_ASSERT(rove__deflate(&z, cbor->ptr, cbor->len, 6) == 0);
    answer_raw(z.ptr, z.len, NULL, NULL);
    rove__buf_free(&z);
}

typedef struct fake_row {
    const char *id;
    int64_t version;
    rove__value name;
} fake_row;

/* A sync response with account rows (columns id, version, deleted, name),
 * receipts for change_ids (applied, at version 100 + i), the given cursor and
 * more flag. version_key: "v" normally; anything else to test the check. */
static void w_response(rove__buf *b, const char *version_key, int64_t v, const char *table,
                       const char *const *change_ids, size_t nreceipts, const fake_row *rows,
                       size_t nrows, int64_t cursor, int more)
{
    rove__w_map(b, 8);
    rove__w_text(b, version_key);
    rove__w_int(b, v);
    rove__w_text(b, "receipts");
    rove__w_array(b, nreceipts);
    for (size_t i = 0; i < nreceipts; i++) {
        rove__w_array(b, 5);
        rove__w_text(b, change_ids[i]);
        rove__w_int(b, 0);
        rove__w_null(b);
        rove__w_null(b);
        rove__w_int(b, 100 + (int64_t)i);
    }
    rove__w_text(b, "tables");
    rove__w_array(b, nrows ? 1 : 0);
    if (nrows) {
        rove__w_array(b, 3);
        rove__w_text(b, table);
        rove__w_array(b, 4);
        rove__w_text(b, "id");
        rove__w_text(b, "version");
        rove__w_text(b, "deleted");
        rove__w_text(b, "name");
        rove__w_array(b, nrows);
        for (size_t i = 0; i < nrows; i++) {
            rove__w_array(b, 4);
            rove__w_text(b, rows[i].id);
            rove__w_int(b, rows[i].version);
            rove__w_int(b, 0);
            switch (rows[i].name.type) {
            case ROVE__T_INT:
                rove__w_int(b, rows[i].name.i);
                break;
            case ROVE__T_TEXT:
                rove__w_textn(b, rows[i].name.s, rows[i].name.len);
                break;
            default:
                rove__w_null(b);
                break;
            }
        }
    }
    rove__w_text(b, "evict");
    rove__w_array(b, 0);
    rove__w_text(b, "cursor");
    rove__w_int(b, cursor);
    rove__w_text(b, "more");
    rove__w_bool(b, more);
    rove__w_text(b, "server_time");
    rove__w_int(b, th_now_ms());
    rove__w_text(b, "hlc");
    rove__w_int(b, th_now_ms() << 16);
}

static rove_client *cli;
static int64_t rows_before, cursor_before;

static int64_t account_rows(void)
{
    return th_client_int(cli, "SELECT count(*) FROM account", NULL);
}

/* The sync fails with one of the expected codes, says why, and changes
 * nothing in the replica. */
static void expect_refused(const char *what, int want1, int want2)
{
    int rc = rove_client_sync(cli, NULL);
    char msg[600];
    snprintf(msg, sizeof(msg), "%s", rove_client_errmsg(cli));
    TH_ASSERT_MSG(rc != 0, "%s: the sync succeeded", what);
    TH_ASSERT_MSG(rc == want1 || rc == want2, "%s: %d %s (%s), expected %s or %s", what, rc,
                  rove_error_name(rc), msg, rove_error_name(want1), rove_error_name(want2));
    TH_ASSERT_MSG(msg[0] != '\0', "%s: no error message", what);
    TH_ASSERT_MSG(account_rows() == rows_before, "%s: rows changed (%lld, was %lld)", what,
                  (long long)account_rows(), (long long)rows_before);
    TH_ASSERT_MSG(rove_client_cursor(cli) == cursor_before, "%s: cursor moved to %lld", what,
                  (long long)rove_client_cursor(cli));
    TH_ASSERT_MSG(th_client_pending(cli) == 1, "%s: the outbox changed (%llu pending)", what,
                  (unsigned long long)th_client_pending(cli));
    th_log("%-36s -> %s: %s", what, rove_error_name(rc), msg);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "FAIL hostile_server: a sync never returned (endless loop?)\n";
    if (write(2, m, sizeof(m) - 1) < 0) {
        /* nothing else to do */
    }
    th_cleanup();
    _exit(1);
}

void test_integration__hostile_server(void)
{
    if (system("python3 -c 'import ssl, http.server' >/dev/null 2>&1") != 0) {
        th_log("SKIPPED: python3 with ssl is not installed (needed for the fake server)");
        return;
    }
    /* A real roved only to make a certificate and CA. */
    th_server *real = th_server_start(NULL);
    th_server_stop(real);
    const char *dir = th_tmpdir("hostile");
    answers = dir;
    char script[700], portfile[700];
    snprintf(script, sizeof(script), "%s/fake.py", dir);
    snprintf(portfile, sizeof(portfile), "%s/port", dir);
    put_file("fake.py", fake_server_py, strlen(fake_server_py));
    pid_t pid = fork();
    TH_ASSERT(pid >= 0);
    if (pid == 0) {
        execlp("python3", "python3", script, real->cert, portfile, dir, (char *)NULL);
        _exit(127);
    }
    th_track_pid(pid);
    int port = 0;
    for (int i = 0; i < 200 && port == 0; i++) {
        FILE *f = fopen(portfile, "r");
        if (f != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port == 0)
            usleep(50 * 1000);
    }
    TH_ASSERT_MSG(port > 0, "the fake server did not start");
    char url[64];
    snprintf(url, sizeof(url), "https://localhost:%d", port);

    char db[700];
    snprintf(db, sizeof(db), "%s/replica.db", dir);
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = db;
    o.server_url = url;
    o.ca_file = real->ca;
    o.timeout_ms = 20000;
    TH_ASSERT_EQ(rove_client_open(&cli, &o), 0);

    /* Login answer. */
    char uid[ROVE_ID_SIZE];
    th_new_id(uid);
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 7);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    rove__w_text(&b, "token");
    rove__w_text(&b, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    rove__w_text(&b, "user_id");
    rove__w_text(&b, uid);
    rove__w_text(&b, "role");
    rove__w_text(&b, "rep");
    rove__w_text(&b, "name");
    rove__w_text(&b, "Fake Rep");
    rove__w_text(&b, "device_id");
    rove__w_text(&b, rove_client_device_id(cli));
    rove__w_text(&b, "server_time");
    rove__w_int(&b, th_now_ms());
    rove__buf z = ROVE__BUF_INIT;
    TH_ASSERT(rove__deflate(&z, b.ptr, b.len, 6) == 0);
    put_file("login.bin", z.ptr, z.len);
    rove__buf_free(&z);
    TH_ASSERT_ROVE(cli, rove_client_login(cli, "fake", "fake"));

    signal(SIGALRM, on_alarm);
    alarm(90);

    /* A good first page: three accounts. */
    char ids[6][ROVE_ID_SIZE];
    for (int i = 0; i < 6; i++)
        th_new_id(ids[i]);
    fake_row good[3] = {{ids[0], 1, th_text("Alpha")},
                        {ids[1], 2, th_text("Beta")},
                        {ids[2], 3, th_text("Gamma")}};
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, good, 3, 3, 0);
    answer_cbor(&b);
    TH_ASSERT_ROVE(cli, rove_client_sync(cli, NULL));
    TH_ASSERT_EQ(account_rows(), 3);
    TH_ASSERT_EQ(rove_client_cursor(cli), 3);

    /* One local change waits in the outbox through everything below. */
    char mine[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(cli, rove_account_create(cli, mine, "Local Only", NULL, NULL, ROVE_NO_GEO,
                                            ROVE_NO_GEO));
    rows_before = account_rows();
    cursor_before = rove_client_cursor(cli);
    TH_ASSERT_EQ(rows_before, 4);

    answer_raw("hello", 5, NULL, NULL);
    expect_refused("200 with a body that is not zlib", ROVE_EPROTO, ROVE_ESERVER);

    static const unsigned char junk[] = {0xff, 0xff, 0x9f, 0x01};
    rove__buf j = ROVE__BUF_INIT;
    rove__buf_put(&j, junk, sizeof(junk));
    answer_cbor(&j);
    expect_refused("zlib of garbage", ROVE_EPROTO, ROVE_EPROTO);
    rove__buf_free(&j);

    fake_row one[1] = {{ids[3], 10, th_text("Delta")}};
    rove__buf_clear(&b);
    w_response(&b, "v", 2, "account", NULL, 0, one, 1, 10, 0);
    answer_cbor(&b);
    expect_refused("protocol v=2", ROVE_EVERSION, ROVE_EPROTO);

    rove__buf_clear(&b);
    w_response(&b, "cursor", 10, "account", NULL, 0, one, 1, 10, 0);
    answer_cbor(&b);
    expect_refused("first key is not v", ROVE_EVERSION, ROVE_EPROTO);

    fake_row mixed[2] = {{ids[3], 10, th_text("Delta")}, {ids[4], 11, th_int(42)}};
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, mixed, 2, 11, 0);
    answer_cbor(&b);
    expect_refused("good row then a wrongly typed one", ROVE_EBADVALUE, ROVE_EPROTO);
    TH_ASSERT_EQ(th_client_int(cli, "SELECT count(*) FROM account WHERE id = ?1", ids[3]), 0);

    rove__buf_clear(&b);
    w_response(&b, "v", 1, "gizmo", NULL, 0, one, 1, 10, 0);
    answer_cbor(&b);
    expect_refused("unknown table", ROVE_EUNKNOWNTABLE, ROVE_EPROTO);

    fake_row badid[2] = {{ids[3], 10, th_text("Delta")}, {"not-a-ulid", 11, th_text("E")}};
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, badid, 2, 11, 0);
    answer_cbor(&b);
    expect_refused("invalid record id", ROVE_EBADID, ROVE_EPROTO);

    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, one, 1, 10, 0);
    TH_ASSERT(rove__deflate(&z, b.ptr, b.len, 6) == 0);
    answer_raw(z.ptr, z.len - 3, NULL, NULL);
    rove__buf_free(&z);
    expect_refused("truncated zlib", ROVE_EPROTO, ROVE_EPROTO);

    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, one, 1, 10, 0);
    rove__w_int(&b, 0);
    answer_cbor(&b);
    expect_refused("trailing bytes", ROVE_EPROTO, ROVE_EPROTO);

    /* Receipts for changes this device never sent, and none for its own. */
    char stranger[ROVE_ID_SIZE];
    th_new_id(stranger);
    const char *strangers[1] = {stranger};
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", strangers, 1, NULL, 0, cursor_before, 0);
    answer_cbor(&b);
    {
        int rc = rove_client_sync(cli, NULL);
        char msg[600];
        snprintf(msg, sizeof(msg), "%s", rove_client_errmsg(cli));
        TH_ASSERT_MSG(rc != 0, "a push answered with a stranger's receipt succeeded");
        TH_ASSERT(msg[0] != '\0');
        TH_ASSERT_EQ(th_client_pending(cli), 1);
        th_log("%-36s -> %s: %s", "receipt for an unknown change", rove_error_name(rc), msg);
    }

    /* "More" forever with nothing in it must not spin. */
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", NULL, 0, NULL, 0, cursor_before, 1);
    answer_cbor(&b);
    {
        int rc = rove_client_sync(cli, NULL);
        char msg[600];
        snprintf(msg, sizeof(msg), "%s", rove_client_errmsg(cli));
        TH_ASSERT_MSG(rc != 0, "endless 'more' with empty pages succeeded");
        TH_ASSERT(msg[0] != '\0');
        TH_ASSERT_EQ(th_client_pending(cli), 1);
        th_log("%-36s -> %s: %s", "empty pages with more=true", rove_error_name(rc), msg);
    }

    /* A compressed answer that inflates past the limit. */
    {
        size_t n = 80u * 1024u * 1024u;
        unsigned char *zeros = calloc(1, n);
        TH_ASSERT(zeros != NULL);
        TH_ASSERT(rove__deflate(&z, zeros, n, 9) == 0);
        free(zeros);
        answer_raw(z.ptr, z.len, NULL, NULL);
        rove__buf_free(&z);
        expect_refused("decompression bomb", ROVE_ETOOBIG, ROVE_EPROTO);
    }

    /* Error statuses carry their codes and messages through. */
    answer_raw("{}", 2, "500", "storage");
    expect_refused("500 storage", ROVE_ESTORE, ROVE_ESTORE);
    answer_raw("{}", 2, "503", "busy");
    expect_refused("503 busy", ROVE_EBUSY, ROVE_EBUSY);
    answer_raw("<html>teapot</html>", 19, "418", NULL);
    expect_refused("418 without a Rove error", ROVE_ESERVER, ROVE_EGENERIC);

    /* And a proper answer at last: the client recovers. */
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(cli, rove_client_outbox(cli, &q));
    TH_ASSERT_EQ(rove_rows_next(q), 1);
    char change_id[64];
    for (int i = 0; i < rove_rows_columns(q); i++)
        if (strcmp(rove_rows_name(q, i), "change_id") == 0)
            snprintf(change_id, sizeof(change_id), "%s", rove_rows_text(q, i));
    rove_rows_free(q);
    const char *acked[1] = {change_id};
    fake_row fin[2] = {{ids[3], 20, th_text("Delta")}, {mine, 21, th_text("Local Only")}};
    rove__buf_clear(&b);
    w_response(&b, "v", 1, "account", acked, 1, fin, 2, 21, 0);
    answer_cbor(&b);
    rove_sync_report rep;
    TH_ASSERT_ROVE(cli, rove_client_sync(cli, &rep));
    alarm(0);
    TH_ASSERT_EQ(rep.pushed, 1);
    TH_ASSERT_EQ(th_client_pending(cli), 0);
    TH_ASSERT_EQ(rove_client_cursor(cli), 21);
    TH_ASSERT_EQ(account_rows(), 5);
    rove_client_free(cli);
    rove__buf_free(&b);
}
