/*
 * Allocation-failure torture (STYLE.md "Fault injection"): each operation is
 * run with the 1st, 2nd, 3rd ... allocation failing until it runs with no
 * failure left to inject. Every run must report ROVE_ENOMEM when a failure
 * was injected and succeed with the right result when none was; the ASan
 * build's LeakSanitizer checks that no failure path leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "faultalloc.h"
#include "id.h"
#include "proto.h"
#include "schema.h"
#include "test.h"
#include "wire.h"

typedef int (*op_fn)(void *ctx);

/* Runs op under injection and returns how many runs had a failure injected. */
static unsigned long torture(const char *what, op_fn op, void *ctx, int sticky)
{
    unsigned long n;
    for (n = 1; n < 100000; n++) {
        rove_fault_arm(n, sticky);
        int rc = op(ctx);
        unsigned long failed;
        rove_fault_disarm(&failed);
        if (failed == 0) {
            if (rc != 0)
                ROVE_TEST_FAIL_("%s: no failure injected at N=%lu, yet rc %d", what, n, rc);
            return n - 1;
        }
        if (rc != ROVE_ENOMEM)
            ROVE_TEST_FAIL_("%s: allocation %lu failed (sticky %d) but rc was %d (%s)", what, n,
                            sticky, rc, rove_error_name(rc));
    }
    ROVE_TEST_FAIL_("%s: still failing after %lu allocations", what, n);
}

static void torture_both(const char *what, op_fn op, void *ctx)
{
    unsigned long a = torture(what, op, ctx, 0);
    unsigned long b = torture(what, op, ctx, 1);
    rove_test_note("%s: %lu / %lu failure points", what, a, b);
    /* The operation must allocate at all, or the test proves nothing. */
    ASSERT(a > 0 && b > 0);
}

/* ---- operations --------------------------------------------------------- */

static int op_buf(void *ctx)
{
    rove__buf b = ROVE__BUF_INIT;
    for (int i = 0; i < 500; i++) {
        rove__buf_puts(&b, "line ");
        rove__buf_printf(&b, "%d: %s\n", i, "some text to make it grow");
    }
    int rc = rove__buf_status(&b);
    if (rc == 0) {
        ASSERT(b.len > 10000);
        ASSERT(memcmp(b.ptr, "line 0: some", 12) == 0);
    }
    rove__buf_free(&b);
    return rc;
}

static const char *ulid(unsigned n)
{
    static char ring[4][ROVE__ID_LEN + 1];
    char *out = ring[n % 4];
    unsigned char rnd[10] = {0};
    rnd[9] = (unsigned char)n;
    rove__id_make(out, 1700000000000ull + n, rnd);
    return out;
}

static void encode_request(rove__buf *b, size_t nchanges)
{
    const rove__table *acc = rove__schema_table("account", 7);
    rove__sync_req_begin(b, 1, 2, 3, nchanges);
    for (size_t i = 0; i < nchanges; i++) {
        rove__change c;
        memset(&c, 0, sizeof(c));
        char cid[ROVE__ID_LEN + 1];
        strcpy(cid, ulid((unsigned)i));
        c.change_id = cid;
        c.change_id_len = ROVE__ID_LEN;
        c.table = acc;
        c.op = ROVE__OP_INSERT;
        strcpy(c.id, ulid((unsigned)i + 100));
        c.ncols = 2;
        c.col[0] = rove__schema_col(acc, "name", 4);
        c.val[0].type = ROVE__T_TEXT;
        c.val[0].s = "a name that takes some room in the buffer";
        c.val[0].len = strlen(c.val[0].s);
        c.col[1] = rove__schema_col(acc, "lat", 3);
        c.val[1].type = ROVE__T_REAL;
        c.val[1].d = 1.5;
        rove__sync_req_add(b, &c);
    }
}

static int op_encode_request(void *ctx)
{
    rove__buf b = ROVE__BUF_INIT;
    encode_request(&b, 50);
    int rc = rove__buf_status(&b);
    rove__buf_free(&b);
    return rc;
}

static int op_parse_request(void *ctx)
{
    const rove__buf *in = ctx;
    rove__sync_req req;
    rove__errinfo e;
    int rc = rove__sync_req_parse(&req, in->ptr, in->len, &e);
    if (rc == 0) {
        ASSERT_EQ_UINT(req.nchanges, 50);
        ASSERT_EQ_STR(req.changes[49].id, ulid(149));
    } else {
        ASSERT(req.changes == NULL);
        ASSERT_EQ_INT(e.code, rc);
    }
    rove__sync_req_free(&req);
    return rc;
}

static int op_encode_response(void *ctx)
{
    const rove__table *acc = rove__schema_table("account", 7);
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_resp_begin(&b, 1);
    rove__receipt r = {.change_id = ulid(1),
                       .change_id_len = ROVE__ID_LEN,
                       .status = ROVE__RC_APPLIED,
                       .code = NULL,
                       .code_len = 0,
                       .message = "ok",
                       .message_len = 2,
                       .version = 5};
    rove__sync_resp_receipt(&b, &r);
    rove__sync_resp_tables_begin(&b, 1);
    int cols[2] = {ROVE__COL_ID, rove__schema_col(acc, "notes", 5)};
    rove__sync_resp_table_begin(&b, acc, cols, 2, 100);
    for (unsigned i = 0; i < 100; i++) {
        rove__sync_resp_row_begin(&b, 2);
        rove__value v = {ROVE__T_TEXT, 0, 0, ulid(i), ROVE__ID_LEN};
        rove__sync_resp_value(&b, &v);
        rove__value t = {ROVE__T_TEXT, 0, 0, "notes notes notes notes", 23};
        rove__sync_resp_value(&b, &t);
    }
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_hdr h = {ROVE__PROTO_VERSION, 9, 0, 0, 0, 0, 0, NULL, 0};
    rove__sync_resp_finish(&b, &h);
    int rc = rove__buf_status(&b);
    if (rc == 0) {
        rove__sync_resp_handler none = {NULL, NULL, NULL, NULL};
        rove__sync_resp_hdr got;
        ASSERT_OK(rove__sync_resp_parse(b.ptr, b.len, &none, NULL, &got, NULL));
        ASSERT_EQ_INT(got.cursor, 9);
    }
    rove__buf_free(&b);
    return rc;
}

static int op_ddl(void *ctx)
{
    rove__buf b = ROVE__BUF_INIT;
    int rc = rove__schema_ddl(&b, ROVE__DDL_SERVER);
    if (rc == 0)
        ASSERT(strstr((char *)b.ptr, "CREATE TABLE IF NOT EXISTS service_task") != NULL);
    rove__buf_free(&b);
    return rc;
}

struct zctx {
    unsigned char *plain;
    size_t plain_len;
    rove__buf z;
};

static int op_deflate(void *ctx)
{
    struct zctx *c = ctx;
    rove__buf out = ROVE__BUF_INIT;
    int rc = rove__deflate(&out, c->plain, c->plain_len, 6);
    if (rc == 0)
        ASSERT_EQ_MEM(out.ptr, out.len, c->z.ptr, c->z.len);
    rove__buf_free(&out);
    return rc;
}

static int op_inflate(void *ctx)
{
    struct zctx *c = ctx;
    rove__buf out = ROVE__BUF_INIT;
    rove__buf_puts(&out, "keep");
    int rc = rove__buf_status(&out);
    if (rc == 0) {
        rc = rove__inflate(&out, c->z.ptr, c->z.len, c->plain_len);
        if (rc == 0) {
            ASSERT_EQ_UINT(out.len, 4 + c->plain_len);
            ASSERT_EQ_MEM(out.ptr + 4, c->plain_len, c->plain, c->plain_len);
        } else {
            /* The earlier content survives a failed inflate. */
            ASSERT_EQ_UINT(out.len, 4);
            ASSERT_EQ_MEM(out.ptr, 4, "keep", 4);
        }
    }
    rove__buf_free(&out);
    return rc;
}

/* ---- cases -------------------------------------------------------------- */

void test_alloc__buf(void) { torture_both("buf", op_buf, NULL); }

void test_alloc__encode_request(void)
{
    torture_both("encode request", op_encode_request, NULL);
}

void test_alloc__parse_request(void)
{
    rove__buf in = ROVE__BUF_INIT;
    encode_request(&in, 50);
    ASSERT_OK(rove__buf_status(&in));
    torture_both("parse request", op_parse_request, &in);
    rove__buf_free(&in);
}

void test_alloc__encode_response(void)
{
    torture_both("encode response", op_encode_response, NULL);
}

void test_alloc__schema_ddl(void) { torture_both("schema ddl", op_ddl, NULL); }

void test_alloc__compress(void)
{
    struct zctx c;
    c.plain_len = 700000; /* several inflate chunks */
    c.plain = malloc(c.plain_len);
    ASSERT(c.plain != NULL);
    for (size_t i = 0; i < c.plain_len; i++)
        c.plain[i] = (unsigned char)("rove sync "[i % 10] + (i / 9973) % 3);
    rove__buf_init(&c.z);
    ASSERT_OK(rove__deflate(&c.z, c.plain, c.plain_len, 6));
    torture_both("deflate", op_deflate, &c);
    torture_both("inflate", op_inflate, &c);
    rove__buf_free(&c.z);
    free(c.plain);
}

void test_alloc__hostile_counts_allocate_nothing(void)
{
    /* Declared counts far beyond what the input holds are refused before
     * anything is allocated: every allocation is made to fail, and none may
     * even be attempted. */
    static const struct {
        const char *what;
        unsigned char bytes[24];
        size_t len;
    } cases[] = {
        {"changes: array of 2^64-1",
         {0xa2, 0x61, 'v',  0x01, 0x67, 'c',  'h',  'a',  'n',  'g', 'e',
          's',  0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         21},
        {"changes: array of 1000 in 3 bytes",
         {0xa2, 0x61, 'v', 0x01, 0x67, 'c', 'h', 'a', 'n', 'g', 'e', 's', 0x99, 0x03, 0xe8,
          0x00, 0x00, 0x00},
         18},
        {"top-level map of 2^32 pairs", {0xba, 0xff, 0xff, 0xff, 0xff, 0x61, 'v'}, 7},
        {"text of 2^63 bytes",
         {0xa1, 0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00},
         11},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        rove__sync_req req;
        rove__sync_resp_hdr hdr;
        rove__sync_resp_handler none = {NULL, NULL, NULL, NULL};
        rove__flat_field f[1] = {{"v", 0, {0}}};
        rove_fault_arm(1, 1);
        int r1 = rove__sync_req_parse(&req, cases[k].bytes, cases[k].len, NULL);
        int r2 = rove__sync_resp_parse(cases[k].bytes, cases[k].len, &none, NULL, &hdr, NULL);
        int r3 = rove__flat_parse(cases[k].bytes, cases[k].len, f, 1, NULL);
        unsigned long attempts = rove_fault_disarm(NULL);
        if (attempts != 0)
            ROVE_TEST_FAIL_("%s: %lu allocations attempted", cases[k].what, attempts);
        ASSERT_RC(r1, ROVE_EPROTO);
        ASSERT(r2 != 0);
        ASSERT_RC(r3, ROVE_EPROTO);
    }
}
