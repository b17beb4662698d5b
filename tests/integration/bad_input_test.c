/*
 * Hostile input against a real roved: every bad request gets the documented
 * status and X-Rove-Error code, nothing of it is applied (a brand-new device
 * pulls exactly what it pulled before), and the server keeps serving.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zlib.h>

#include "cases.h"
#include "compress.h"
#include "harness.h"
#include "wire.h"

static th_server *srv;
static th_login rita;
static char *baseline;      /* rita's scope as seen by a new device */
static char *baseline_rosa; /* rosa's */
static char acc_rita[ROVE_ID_SIZE], acc_rosa[ROVE_ID_SIZE];
static int64_t v_rita, v_rosa, cursor0;

static char *scope_fingerprint(const char *user)
{
    char pw[64];
    snprintf(pw, sizeof(pw), "%s-demo", user);
    sqlite3 *db = th_snapshot(srv, user, pw, NULL);
    char *fp = th_db_fingerprint(db);
    sqlite3_close(db);
    return fp;
}

static void take_baseline(void)
{
    free(baseline);
    free(baseline_rosa);
    baseline = scope_fingerprint("rita");
    baseline_rosa = scope_fingerprint("rosa");
}

/* Nothing was applied anywhere rita or rosa can see, and the server serves. */
static void assert_nothing_applied(const char *what)
{
    TH_ASSERT_MSG(th_server_healthy(srv), "%s: /healthz stopped answering", what);
    char *now = scope_fingerprint("rita");
    if (strcmp(now, baseline) != 0) {
        fprintf(stderr, "before:\n%s\nafter:\n%s\n", baseline, now);
        th_fail(__FILE__, __LINE__, "%s: something was applied to rita's scope", what);
    }
    free(now);
    now = scope_fingerprint("rosa");
    TH_ASSERT_MSG(strcmp(now, baseline_rosa) == 0, "%s: something changed in rosa's scope",
                  what);
    free(now);
}

static void assert_error(const char *what, const th_resp *r, long status, const char *code)
{
    TH_ASSERT_MSG(r->curl_rc == 0, "%s: no HTTP answer (curl error %d)", what, r->curl_rc);
    TH_ASSERT_MSG(r->status == status, "%s: HTTP %ld (%s: %s), expected %ld %s", what,
                  r->status, r->error, r->errmsg, status, code);
    TH_ASSERT_MSG(strcmp(r->error, code) == 0, "%s: X-Rove-Error '%s', expected '%s'", what,
                  r->error, code);
    TH_ASSERT_MSG(r->errmsg[0] != '\0', "%s: no X-Rove-Error-Message", what);
    char needle[96];
    snprintf(needle, sizeof(needle), "\"code\":\"%s\"", code);
    TH_ASSERT_MSG(r->body.len > 0 && strstr((const char *)r->body.ptr, needle) != NULL,
                  "%s: JSON body lacks %s: %s", what, needle,
                  r->body.len ? (const char *)r->body.ptr : "(empty)");
    th_log("%-40s -> %ld %s (%s)", what, r->status, r->error, r->errmsg);
    TH_ASSERT_MSG(th_server_healthy(srv), "%s: /healthz stopped answering", what);
}

/* POSTs raw bytes (no compression) to /v1/sync with rita's token. */
static void post_raw(const void *body, size_t len, th_resp *out)
{
    th_http(srv, "POST", "/v1/sync", rita.token, NULL, body, len, out);
}

/* Compresses cbor and POSTs it with rita's token. */
static void post_cbor(const rove__buf *cbor, th_resp *out)
{
    TH_ASSERT(rove__buf_status(cbor) == 0);
    th_post_cbor(srv, "/v1/sync", rita.token, cbor->ptr, cbor->len, out);
}

static void expect_sync_error(const char *what, const rove__buf *cbor, long status,
                              const char *code)
{
    th_resp r;
    post_cbor(cbor, &r);
    assert_error(what, &r, status, code);
    th_resp_free(&r);
    assert_nothing_applied(what);
}

/* A valid contact insert on rita's account, used inside bad batches. */
static void w_valid_insert(rove__buf *b, char *record_id)
{
    char ch[ROVE_ID_SIZE];
    th_new_id(ch);
    th_new_id(record_id);
    th_col cols[] = {{"account_id", th_text(acc_rita)}, {"name", th_text("Should Not Exist")}};
    th_w_change(b, ch, "contact", ROVE__OP_INSERT, record_id, 0, cols, 2);
}

/* zlib stream of n zero bytes, compressed chunk by chunk (never holds n). */
static void deflate_zeros(rove__buf *out, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    TH_ASSERT(deflateInit(&z, 9) == Z_OK);
    static unsigned char zeros[1 << 20];
    unsigned char chunk[1 << 16];
    size_t left = n;
    int flush;
    do {
        size_t take = left < sizeof(zeros) ? left : sizeof(zeros);
        left -= take;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = zeros;
        z.avail_in = (uInt)take;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof(chunk);
            int rc = deflate(&z, flush);
            TH_ASSERT(rc != Z_STREAM_ERROR);
            TH_ASSERT(rove__buf_put(out, chunk, sizeof(chunk) - z.avail_out) == 0);
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
}

static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

void test_integration__bad_input(void)
{
    srv = th_server_start(NULL);
    TH_ASSERT_EQ(th_login_raw(srv, "rita", "rita-demo", &rita), 200);
    sqlite3 *mine = th_snapshot_new();
    cursor0 = th_snapshot_pull(srv, rita.token, mine);
    th_db_text(mine, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc_rita,
               sizeof(acc_rita));
    TH_ASSERT(acc_rita[0] != '\0');
    v_rita = th_db_int(mine, "SELECT version FROM account WHERE id = ?1", acc_rita, NULL);
    sqlite3_close(mine);
    sqlite3 *rosa = th_snapshot(srv, "rosa", "rosa-demo", NULL);
    th_db_text(rosa, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc_rosa,
               sizeof(acc_rosa));
    TH_ASSERT(acc_rosa[0] != '\0');
    v_rosa = th_db_int(rosa, "SELECT version FROM account WHERE id = ?1", acc_rosa, NULL);
    sqlite3_close(rosa);
    TH_ASSERT(strcmp(acc_rita, acc_rosa) != 0);
    take_baseline();
    char rec[ROVE_ID_SIZE], ch[ROVE_ID_SIZE];
    th_resp r;

    /* ---- framing -------------------------------------------------------- */
    {
        static const unsigned char junk[] = {0xff, 0xff, 0x00, 'g', 'a',  'r',
                                             'b',  'a',  'g',  'e', 0x9f, 0xbf};
        rove__buf b = ROVE__BUF_INIT;
        rove__buf_put(&b, junk, sizeof(junk));
        expect_sync_error("malformed CBOR", &b, 400, "malformed");
        rove__buf_free(&b);
    }
    {
        /* Well-formed CBOR of the wrong shape: an array, not a map. */
        rove__buf b = ROVE__BUF_INIT;
        rove__w_array(&b, 2);
        rove__w_int(&b, 1);
        rove__w_text(&b, "x");
        expect_sync_error("CBOR of the wrong shape", &b, 400, "malformed");
        rove__buf_free(&b);
    }
    {
        /* A valid request with one insert, then trailing bytes. */
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        w_valid_insert(&b, rec);
        rove__w_int(&b, 7);
        expect_sync_error("trailing bytes after the request", &b, 400, "malformed");
        rove__buf_free(&b);
    }
    {
        /* The zlib stream of a valid push, cut in half. */
        rove__buf b = ROVE__BUF_INIT, z = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        w_valid_insert(&b, rec);
        TH_ASSERT(rove__deflate(&z, b.ptr, b.len, 6) == 0);
        post_raw(z.ptr, z.len / 2, &r);
        assert_error("truncated zlib", &r, 400, "malformed");
        th_resp_free(&r);
        assert_nothing_applied("truncated zlib");
        rove__buf_free(&b);
        rove__buf_free(&z);
    }
    {
        /* Bytes that are not zlib at all. */
        unsigned char garbage[4096];
        for (size_t i = 0; i < sizeof(garbage); i++)
            garbage[i] = (unsigned char)(i * 131u + 17u);
        post_raw(garbage, sizeof(garbage), &r);
        assert_error("not zlib", &r, 400, "malformed");
        th_resp_free(&r);
        assert_nothing_applied("not zlib");
        /* And valid zlib around garbage. */
        rove__buf b = ROVE__BUF_INIT;
        rove__buf_put(&b, garbage, sizeof(garbage));
        expect_sync_error("zlib of garbage", &b, 400, "malformed");
        rove__buf_free(&b);
    }
    {
        /* Empty body. */
        post_raw("", 0, &r);
        TH_ASSERT_MSG(r.status == 400 && (strcmp(r.error, "malformed") == 0),
                      "empty body: %ld %s", r.status, r.error);
        th_resp_free(&r);
        assert_nothing_applied("empty body");
    }
    {
        /* Decompression bomb: 200 MB of zeros in ~200 KB. */
        rove__buf z = ROVE__BUF_INIT;
        deflate_zeros(&z, 200u * 1024u * 1024u);
        th_log("bomb: %zu bytes of zlib for 200 MiB", z.len);
        TH_ASSERT(z.len < 1024 * 1024);
        post_raw(z.ptr, z.len, &r);
        assert_error("decompression bomb", &r, 413, "too_large");
        th_resp_free(&r);
        long hwm = vm_hwm_kb(srv->pid);
        th_log("roved peak RSS after the bomb: %ld KiB", hwm);
        /* Under AddressSanitizer freed memory sits in quarantine, so the peak
         * says nothing there. */
#if defined(__SANITIZE_ADDRESS__)
        hwm = -1;
#endif
        TH_ASSERT_MSG(hwm < 0 || hwm < 190 * 1024,
                      "roved peak RSS %ld KiB: the bomb was inflated past the cap", hwm);
        assert_nothing_applied("decompression bomb");
        rove__buf_free(&z);
    }
    {
        /* A body over 8 MiB. */
        size_t n = 9u * 1024u * 1024u;
        unsigned char *big = malloc(n);
        TH_ASSERT(big != NULL);
        for (size_t i = 0; i < n; i++)
            big[i] = (unsigned char)((i * 2654435761u) >> 13);
        post_raw(big, n, &r);
        assert_error("body over 8 MiB", &r, 413, "too_large");
        th_resp_free(&r);
        free(big);
        assert_nothing_applied("body over 8 MiB");
    }

    {
        /* The limits exactly: 8 MiB of body is read (and refused as not zlib),
         * one byte more is too large; 64 MiB inflated is decoded (and refused
         * as not a request), one byte more is too large. */
        size_t n = 8u * 1024u * 1024u;
        unsigned char *big = malloc(n + 1);
        TH_ASSERT(big != NULL);
        for (size_t i = 0; i <= n; i++)
            big[i] = (unsigned char)((i * 2654435761u) >> 13);
        big[0] = 0x00; /* not a zlib header */
        post_raw(big, n, &r);
        assert_error("body of exactly 8 MiB", &r, 400, "malformed");
        th_resp_free(&r);
        post_raw(big, n + 1, &r);
        assert_error("body of 8 MiB + 1", &r, 413, "too_large");
        th_resp_free(&r);
        free(big);
        rove__buf z = ROVE__BUF_INIT;
        deflate_zeros(&z, 64u * 1024u * 1024u);
        post_raw(z.ptr, z.len, &r);
        assert_error("64 MiB inflated exactly", &r, 400, "malformed");
        th_resp_free(&r);
        rove__buf_clear(&z);
        deflate_zeros(&z, 64u * 1024u * 1024u + 1u);
        post_raw(z.ptr, z.len, &r);
        assert_error("64 MiB + 1 inflated", &r, 413, "too_large");
        th_resp_free(&r);
        rove__buf_free(&z);
        assert_nothing_applied("limits exactly");
    }

    /* ---- protocol and schema -------------------------------------------- */
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 2, cursor0, 0, 1);
        w_valid_insert(&b, rec);
        expect_sync_error("protocol v=2", &b, 400, "unsupported_version");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_new_id(rec);
        th_col cols[] = {{"name", th_text("x")}};
        th_w_change(&b, ch, "gizmo", ROVE__OP_INSERT, rec, 0, cols, 1);
        expect_sync_error("unknown table", &b, 400, "unknown_table");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_new_id(rec);
        th_col cols[] = {{"account_id", th_text(acc_rita)},
                         {"name", th_text("x")},
                         {"shoe_size", th_int(44)}};
        th_w_change(&b, ch, "contact", ROVE__OP_INSERT, rec, 0, cols, 3);
        expect_sync_error("unknown column", &b, 400, "unknown_column");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_col cols[] = {{"account_id", th_text(acc_rita)}, {"name", th_text("x")}};
        th_w_change(&b, ch, "contact", ROVE__OP_INSERT, "not-a-ulid", 0, cols, 2);
        expect_sync_error("invalid record id", &b, 400, "invalid_id");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(rec);
        th_col cols[] = {{"account_id", th_text(acc_rita)}, {"name", th_text("x")}};
        th_w_change(&b, "change-1", "contact", ROVE__OP_INSERT, rec, 0, cols, 2);
        expect_sync_error("invalid change id", &b, 400, "invalid_id");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_col bad[] = {{"lat", th_text("north")}};
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc_rita, v_rita, bad, 1);
        expect_sync_error("wrong value type", &b, 400, "invalid_value");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_col cols[] = {{"source_channel", th_text("carrier_pigeon")}};
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc_rita, v_rita, cols, 1);
        expect_sync_error("enum value not allowed", &b, 400, "invalid_value");
        rove__buf_free(&b);
    }
    {
        size_t n = 64 * 1024 + 1;
        char *text = malloc(n + 1);
        TH_ASSERT(text != NULL);
        memset(text, 'a', n);
        text[n] = '\0';
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_col cols[] = {{"notes", th_text(text)}};
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc_rita, v_rita, cols, 1);
        expect_sync_error("text over 64 KiB", &b, 400, "invalid_value");
        rove__buf_free(&b);
        free(text);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        th_new_id(ch);
        th_col cols[] = {{"version", th_int(999999)}};
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc_rita, v_rita, cols, 1);
        expect_sync_error("system column", &b, 403, "forbidden");
        rove__buf_free(&b);
    }
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1001);
        for (int i = 0; i < 1001; i++)
            w_valid_insert(&b, rec);
        expect_sync_error("1001 changes in one push", &b, 413, "too_large");
        rove__buf_free(&b);
    }
    {
        /* One valid change, then one with an unknown column: the whole batch
         * is refused, the valid one included. */
        char valid[ROVE_ID_SIZE];
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 2);
        w_valid_insert(&b, valid);
        th_new_id(ch);
        th_col cols[] = {{"phone", th_text("+1 555")}, {"fax", th_text("+1 556")}};
        th_w_change(&b, ch, "account", ROVE__OP_UPDATE, acc_rita, v_rita, cols, 2);
        expect_sync_error("valid change + unknown column", &b, 400, "unknown_column");
        sqlite3 *snap = th_snapshot(srv, "rita", "rita-demo", NULL);
        TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM contact WHERE id = ?1", valid, NULL),
                     0);
        sqlite3_close(snap);
        rove__buf_free(&b);
    }

    /* ---- HTTP level -------------------------------------------------------- */
    {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 1);
        w_valid_insert(&b, rec);
        th_post_cbor(srv, "/v1/sync", NULL, b.ptr, b.len, &r);
        assert_error("missing token", &r, 401, "unauthorized");
        th_resp_free(&r);
        th_post_cbor(srv, "/v1/sync",
                     "0000000000000000000000000000000000000000000000000000000000000000", b.ptr,
                     b.len, &r);
        assert_error("unknown token", &r, 401, "unauthorized");
        th_resp_free(&r);
        th_post_cbor(srv, "/v1/sync", "not-a-token", b.ptr, b.len, &r);
        assert_error("garbage token", &r, 401, "unauthorized");
        th_resp_free(&r);
        /* Content-Type other than the Rove CBOR type. */
        rove__buf z = ROVE__BUF_INIT;
        TH_ASSERT(rove__deflate(&z, b.ptr, b.len, 6) == 0);
        th_http(srv, "POST", "/v1/sync", rita.token, "application/json", z.ptr, z.len, &r);
        assert_error("wrong Content-Type", &r, 415, "unsupported_media_type");
        th_resp_free(&r);
        rove__buf_free(&z);
        rove__buf_free(&b);
        assert_nothing_applied("HTTP-level refusals");
    }
    {
        TH_ASSERT_EQ(th_login_raw(srv, "rita", "wrong-password", NULL), 401);
        TH_ASSERT_EQ(th_login_raw(srv, "nobody", "nobody-demo", NULL), 401);
        /* Check the error code and message of a refused login too. */
        char dev[ROVE_ID_SIZE];
        th_new_id(dev);
        rove__buf b = ROVE__BUF_INIT;
        rove__w_map(&b, 4);
        rove__w_text(&b, "v");
        rove__w_int(&b, 1);
        rove__w_text(&b, "user");
        rove__w_text(&b, "rita");
        rove__w_text(&b, "password");
        rove__w_text(&b, "rita-wrong");
        rove__w_text(&b, "device_id");
        rove__w_text(&b, dev);
        th_post_cbor(srv, "/v1/login", NULL, b.ptr, b.len, &r);
        assert_error("wrong password login", &r, 401, "unauthorized");
        th_resp_free(&r);
        rove__buf_free(&b);
        /* A device id already bound to rita cannot log in as raj; a bad device
         * id and a missing version are refused too. */
        rove__buf_clear(&b);
        rove__w_map(&b, 4);
        rove__w_text(&b, "v");
        rove__w_int(&b, 1);
        rove__w_text(&b, "user");
        rove__w_text(&b, "rita");
        rove__w_text(&b, "password");
        rove__w_text(&b, "rita-demo");
        rove__w_text(&b, "device_id");
        rove__w_text(&b, dev);
        th_post_cbor(srv, "/v1/login", NULL, b.ptr, b.len, &r);
        TH_ASSERT_EQ(r.status, 200);
        th_resp_free(&r);
        rove__buf_clear(&b);
        rove__w_map(&b, 4);
        rove__w_text(&b, "v");
        rove__w_int(&b, 1);
        rove__w_text(&b, "user");
        rove__w_text(&b, "raj");
        rove__w_text(&b, "password");
        rove__w_text(&b, "raj-demo");
        rove__w_text(&b, "device_id");
        rove__w_text(&b, dev);
        th_post_cbor(srv, "/v1/login", NULL, b.ptr, b.len, &r);
        assert_error("rita's device id logging in as raj", &r, 403, "forbidden");
        th_resp_free(&r);
        rove__buf_clear(&b);
        rove__w_map(&b, 4);
        rove__w_text(&b, "v");
        rove__w_int(&b, 1);
        rove__w_text(&b, "user");
        rove__w_text(&b, "raj");
        rove__w_text(&b, "password");
        rove__w_text(&b, "raj-demo");
        rove__w_text(&b, "device_id");
        rove__w_text(&b, "my-phone");
        th_post_cbor(srv, "/v1/login", NULL, b.ptr, b.len, &r);
        assert_error("login with an invalid device id", &r, 400, "invalid_id");
        th_resp_free(&r);
        rove__buf_clear(&b);
        rove__w_map(&b, 3);
        rove__w_text(&b, "user");
        rove__w_text(&b, "raj");
        rove__w_text(&b, "password");
        rove__w_text(&b, "raj-demo");
        rove__w_text(&b, "device_id");
        rove__w_text(&b, dev);
        th_post_cbor(srv, "/v1/login", NULL, b.ptr, b.len, &r);
        assert_error("login without a version", &r, 400, "unsupported_version");
        th_resp_free(&r);
        rove__buf_free(&b);
        assert_nothing_applied("refused logins");
    }
    {
        /* Broken HTTP below the Rove layer: a control character in a header
         * and a 64 KiB header. Refused with a 4xx in Rove's error format
         * (CivetWeb answers these itself, through roved's http_error
         * callback), and the server serves on. */
        th_http(srv, "POST", "/v1/sync",
                "abc\x01"
                "def",
                NULL, "x", 1, &r);
        TH_ASSERT_MSG(r.curl_rc == 0 && r.status >= 400 && r.status < 500,
                      "control character in a header: curl %d HTTP %ld", r.curl_rc, r.status);
        TH_ASSERT_MSG(strcmp(r.error, "malformed") == 0,
                      "control character in a header: X-Rove-Error \"%s\"", r.error);
        th_log("%-40s -> %ld %s", "control character in a header", r.status,
               r.error[0] ? r.error : "(no X-Rove-Error)");
        th_resp_free(&r);
        char *huge = malloc(64 * 1024 + 1);
        TH_ASSERT(huge != NULL);
        memset(huge, 'a', 64 * 1024);
        huge[64 * 1024] = '\0';
        th_http(srv, "POST", "/v1/sync", huge, NULL, "x", 1, &r);
        TH_ASSERT_MSG(r.curl_rc != 0 || (r.status >= 400 && r.status < 500),
                      "64 KiB header: HTTP %ld", r.status);
        th_log("%-40s -> curl %d, %ld %s", "64 KiB header", r.curl_rc, r.status,
               r.error[0] ? r.error : "(no X-Rove-Error)");
        th_resp_free(&r);
        free(huge);
        TH_ASSERT(th_server_healthy(srv));
    }
    th_http(srv, "GET", "/v1/sync", rita.token, NULL, NULL, 0, &r);
    assert_error("GET /v1/sync", &r, 405, "method_not_allowed");
    th_resp_free(&r);
    th_http(srv, "GET", "/v1/nothing-here", NULL, NULL, NULL, 0, &r);
    assert_error("unknown route", &r, 404, "not_found");
    th_resp_free(&r);
    assert_nothing_applied("after every refused request");

    /* ---- per-change refusals: 200 with rejected receipts --------------------- */
    {
        char after[ROVE_ID_SIZE], ch_scope[ROVE_ID_SIZE], ch_tier[ROVE_ID_SIZE],
            ch_owner[ROVE_ID_SIZE], ch_ok[ROVE_ID_SIZE];
        th_new_id(ch_scope);
        th_new_id(ch_tier);
        th_new_id(ch_owner);
        th_new_id(ch_ok);
        th_new_id(after);
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 4);
        th_col phone[] = {{"phone", th_text("+34 600 000 000")}};
        th_w_change(&b, ch_scope, "account", ROVE__OP_UPDATE, acc_rosa, v_rosa, phone, 1);
        th_col tier[] = {{"tier", th_text("VIP")}};
        th_w_change(&b, ch_tier, "account", ROVE__OP_UPDATE, acc_rita, v_rita, tier, 1);
        th_col owner[] = {{"owner_id", th_text(rita.user_id)}};
        th_w_change(&b, ch_owner, "account", ROVE__OP_UPDATE, acc_rosa, v_rosa, owner, 1);
        th_col ok[] = {{"account_id", th_text(acc_rita)}, {"name", th_text("Valid After Bad")}};
        th_w_change(&b, ch_ok, "contact", ROVE__OP_INSERT, after, 0, ok, 2);
        static th_sync_result res;
        TH_ASSERT_EQ(th_sync_raw(srv, rita.token, &b, &res, NULL), 200);
        TH_ASSERT_EQ(res.nreceipts, 4);
        TH_ASSERT_STR(res.receipts[0].change_id, ch_scope);
        TH_ASSERT_EQ(res.receipts[0].status, 2);
        TH_ASSERT_STR(res.receipts[0].code, "out_of_scope");
        TH_ASSERT_EQ(res.receipts[0].version, 0);
        TH_ASSERT_STR(res.receipts[1].change_id, ch_tier);
        TH_ASSERT_EQ(res.receipts[1].status, 2);
        TH_ASSERT_STR(res.receipts[1].code, "server_owned");
        TH_ASSERT_STR(res.receipts[2].change_id, ch_owner);
        TH_ASSERT_EQ(res.receipts[2].status, 2);
        TH_ASSERT_MSG(strcmp(res.receipts[2].code, "out_of_scope") == 0 ||
                          strcmp(res.receipts[2].code, "server_owned") == 0,
                      "owner_id of rosa's account: %s", res.receipts[2].code);
        TH_ASSERT_STR(res.receipts[3].change_id, ch_ok);
        TH_ASSERT_MSG(res.receipts[3].status == 0 || res.receipts[3].status == 1,
                      "the valid change after the rejected ones: status %d %s",
                      res.receipts[3].status, res.receipts[3].code);
        th_log("rejected receipts: %s (%s), %s (%s), %s (%s)", res.receipts[0].code,
               res.receipts[0].message, res.receipts[1].code, res.receipts[1].message,
               res.receipts[2].code, res.receipts[2].message);
        th_sync_result_free(&res);
        rove__buf_free(&b);

        /* Rosa's account and rita's tier are untouched; the valid one is there. */
        char *now_rosa = scope_fingerprint("rosa");
        TH_ASSERT_MSG(strcmp(now_rosa, baseline_rosa) == 0,
                      "rosa's scope changed after rita's out-of-scope push");
        free(now_rosa);
        sqlite3 *snap = th_snapshot(srv, "rita", "rita-demo", NULL);
        TH_ASSERT_EQ(
            th_db_int(snap, "SELECT version FROM account WHERE id = ?1", acc_rita, NULL),
            v_rita);
        TH_ASSERT_EQ(
            th_db_int(snap, "SELECT count(*) FROM account WHERE id = ?1", acc_rosa, NULL), 0);
        TH_ASSERT_EQ(th_db_int(snap, "SELECT count(*) FROM contact WHERE id = ?1", after, NULL),
                     1);
        sqlite3_close(snap);
        sqlite3 *mgr = th_snapshot(srv, "maria", "maria-demo", NULL);
        char tier_now[32];
        th_db_text(mgr, "SELECT tier FROM account WHERE id = ?1", acc_rita, tier_now,
                   sizeof(tier_now));
        TH_ASSERT(strcmp(tier_now, "VIP") != 0 ||
                  v_rita == th_db_int(mgr, "SELECT version FROM account WHERE id = ?1",
                                      acc_rita, NULL));
        TH_ASSERT_EQ(
            th_db_int(mgr, "SELECT version FROM account WHERE id = ?1", acc_rosa, NULL),
            v_rosa);
        sqlite3_close(mgr);
    }
    {
        /* More ways to reach outside the scope: a contact inserted under rosa's
         * account, a delete of her account, an insert reusing her account's
         * id. Each is rejected on its own; nothing of rosa's changes. */
        char ch_a[ROVE_ID_SIZE], ch_b[ROVE_ID_SIZE], ch_c[ROVE_ID_SIZE], ch_d[ROVE_ID_SIZE];
        char foreign_contact[ROVE_ID_SIZE], ghost[ROVE_ID_SIZE];
        th_new_id(ch_a);
        th_new_id(ch_b);
        th_new_id(ch_c);
        th_new_id(ch_d);
        th_new_id(foreign_contact);
        th_new_id(ghost);
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor0, 0, 4);
        th_col c1[] = {{"account_id", th_text(acc_rosa)}, {"name", th_text("Planted Contact")}};
        th_w_change(&b, ch_a, "contact", ROVE__OP_INSERT, foreign_contact, 0, c1, 2);
        th_w_change(&b, ch_b, "account", ROVE__OP_DELETE, acc_rosa, v_rosa, NULL, 0);
        th_col c3[] = {{"name", th_text("Hijacked Account")}};
        th_w_change(&b, ch_c, "account", ROVE__OP_INSERT, acc_rosa, 0, c3, 1);
        th_col c4[] = {{"phone", th_text("+1 555 0100")}};
        th_w_change(&b, ch_d, "account", ROVE__OP_UPDATE, ghost, 1, c4, 1);
        static th_sync_result res;
        TH_ASSERT_EQ(th_sync_raw(srv, rita.token, &b, &res, NULL), 200);
        TH_ASSERT_EQ(res.nreceipts, 4);
        for (int i = 0; i < 4; i++) {
            TH_ASSERT_MSG(res.receipts[i].status == 2 && res.receipts[i].version == 0,
                          "change %d: status %d (%s) version %lld, expected rejected", i,
                          res.receipts[i].status, res.receipts[i].code,
                          (long long)res.receipts[i].version);
            th_log("out-of-scope change %d -> rejected %s (%s)", i, res.receipts[i].code,
                   res.receipts[i].message);
        }
        TH_ASSERT_STR(res.receipts[0].code, "out_of_scope");
        TH_ASSERT_STR(res.receipts[1].code, "out_of_scope");
        /* No existence leak: an id outside the scope and an id that does not
         * exist get the same answer, whatever the operation. */
        TH_ASSERT_MSG(strcmp(res.receipts[2].code, "out_of_scope") == 0,
                      "insert over rosa's account id: %s", res.receipts[2].code);
        TH_ASSERT_MSG(strcmp(res.receipts[3].code, "out_of_scope") == 0,
                      "update of a record that does not exist: %s", res.receipts[3].code);
        TH_ASSERT_STR(res.receipts[2].message, res.receipts[3].message);
        th_sync_result_free(&res);
        rove__buf_free(&b);
        char *now_rosa = scope_fingerprint("rosa");
        TH_ASSERT_MSG(strcmp(now_rosa, baseline_rosa) == 0,
                      "rosa's scope changed after rita's out-of-scope inserts/deletes");
        free(now_rosa);
        sqlite3 *mgr = th_snapshot(srv, "maria", "maria-demo", NULL);
        TH_ASSERT_EQ(
            th_db_int(mgr, "SELECT count(*) FROM contact WHERE id = ?1", foreign_contact, NULL),
            0);
        TH_ASSERT_EQ(th_db_int(mgr, "SELECT count(*) FROM account WHERE id = ?1", ghost, NULL),
                     0);
        sqlite3_close(mgr);
    }
    TH_ASSERT(th_server_healthy(srv));
    free(baseline);
    free(baseline_rosa);
    baseline = baseline_rosa = NULL;
    th_server_stop(srv);
}

/* ---- the SDK's side of authentication errors ------------------------------ */

void test_integration__sdk_auth_errors(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("sdk-auth");

    /* Wrong password: ROVE_EAUTH with a message, and still not logged in. */
    rove_client *c = th_client_open(s, dir, "wrong-password");
    int rc = rove_client_login(c, "rita", "not-her-password");
    TH_ASSERT_MSG(rc == ROVE_EAUTH, "login with a wrong password: %d %s (%s)", rc,
                  rove_error_name(rc), rove_client_errmsg(c));
    TH_ASSERT(rove_client_errmsg(c) != NULL && rove_client_errmsg(c)[0] != '\0');
    th_log("wrong password: %s", rove_client_errmsg(c));
    TH_ASSERT_EQ(rove_client_logged_in(c), 0);
    rc = rove_client_sync(c, NULL);
    TH_ASSERT_MSG(rc == ROVE_ENOTLOGGEDIN, "sync without login: %s", rove_error_name(rc));
    rove_client_free(c);

    /* A bad token stored in the replica: sync fails with ROVE_EAUTH and the
     * pending local write stays in the outbox. */
    c = th_client_open(s, dir, "bad-token");
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    char acc[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account ORDER BY id LIMIT 1", NULL, acc, sizeof(acc));
    TH_ASSERT_ROVE(
        c, rove_contact_create(c, NULL, acc, "Kept Through Auth Error", NULL, NULL, NULL, 0));
    rove_client_free(c);
    char path[700];
    snprintf(path, sizeof(path), "%s/bad-token.db", dir);
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
    int changed = 0;
    sqlite3_stmt *st = NULL;
    TH_ASSERT(sqlite3_prepare_v2(db, "UPDATE _rove_meta SET value = ?1 WHERE key = 'token'", -1,
                                 &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                      -1, SQLITE_STATIC);
    TH_ASSERT(sqlite3_step(st) == SQLITE_DONE);
    changed = sqlite3_changes(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    TH_ASSERT_MSG(changed == 1, "the replica keeps no 'token' key in _rove_meta");
    c = th_client_open(s, dir, "bad-token");
    rc = rove_client_sync(c, NULL);
    TH_ASSERT_MSG(rc == ROVE_EAUTH, "sync with a bad token: %d %s (%s)", rc,
                  rove_error_name(rc), rove_client_errmsg(c));
    TH_ASSERT(rove_client_errmsg(c)[0] != '\0');
    th_log("bad token: %s", rove_client_errmsg(c));
    TH_ASSERT_EQ(th_client_pending(c), 1);
    /* Logging in again (same user) repairs it, and the write goes through. */
    TH_ASSERT_ROVE(c, rove_client_login(c, "rita", "rita-demo"));
    rove_sync_report rep;
    TH_ASSERT_ROVE(c, rove_client_sync(c, &rep));
    TH_ASSERT_EQ(rep.pushed, 1);
    TH_ASSERT_EQ(th_client_pending(c), 0);
    rove_client_free(c);

    /* Repeated wrong passwords: the user name is locked for a while (429
     * rate_limited), and the SDK says so. */
    int limited = 0;
    for (int i = 0; i < 12 && !limited; i++) {
        long status = th_login_raw(s, "rosa", "guess", NULL);
        TH_ASSERT_MSG(status == 401 || status == 429, "guess %d: HTTP %ld", i, status);
        limited = status == 429;
    }
    TH_ASSERT_MSG(limited, "12 wrong passwords in a row were never rate limited");
    c = th_client_open(s, dir, "rosa");
    rc = rove_client_login(c, "rosa", "rosa-demo");
    TH_ASSERT_MSG(rc == ROVE_ERATELIMIT, "login while rate limited: %s (%s)",
                  rove_error_name(rc), rove_client_errmsg(c));
    th_log("rate limited: %s", rove_client_errmsg(c));
    rove_client_free(c);

    /* A different user on the same replica is refused. */
    c = th_client_open(s, dir, "bad-token");
    rc = rove_client_login(c, "raj", "raj-demo");
    TH_ASSERT_MSG(rc == ROVE_EFORBIDDEN, "another user on rita's replica: %s",
                  rove_error_name(rc));
    rove_client_free(c);
    th_server_stop(s);
}

/* ---- connections that say nothing ----------------------------------------- */

/*
 * Unauthenticated clients that open TCP connections and never start TLS (or
 * a slow network doing the same) must not take the server down: with more
 * idle connections than worker threads (--threads, default 32), /healthz and
 * a sync must still be answered promptly. The idle connections come from
 * 127.0.0.2: the source that holds them gets no more than its share
 * (--max-connections-per-source, slowclient_test.c).
 */
void test_integration__idle_connections(void)
{
    th_server *s = th_server_start(NULL);
    enum { NIDLE = 40 };
    int fds[NIDLE];
    for (int i = 0; i < NIDLE; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        TH_ASSERT(fds[i] >= 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
        TH_ASSERT(bind(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0);
        a.sin_port = htons((uint16_t)s->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        TH_ASSERT_MSG(connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0,
                      "connection %d refused", i);
    }
    usleep(300 * 1000);
    double t0 = th_mono();
    int healthy = th_server_healthy(s);
    double took = th_mono() - t0;
    th_log("/healthz with %d idle connections open: %s after %.1f s", NIDLE,
           healthy ? "answered" : "NO ANSWER", took);
    int answered_in_time = healthy && took < 5.0;
    for (int i = 0; i < NIDLE; i++)
        close(fds[i]);
    TH_ASSERT_MSG(answered_in_time,
                  "%d idle TCP connections (no TLS handshake) starve every worker thread: "
                  "/healthz %s after %.1f s",
                  NIDLE, healthy ? "answered only" : "got no answer", took);
    TH_ASSERT(th_server_healthy(s));
    th_server_stop(s);
}
