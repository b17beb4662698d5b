/* Tests of the sync protocol codec (shared/proto.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "proto.h"
#include "test.h"
#include "wire.h"

/* ---- helpers ------------------------------------------------------------ */

/* A valid ULID, different for each n; the returned string lives until the
 * next 8 calls. */
static const char *ulid(unsigned n)
{
    static char ring[8][ROVE__ID_LEN + 1];
    static unsigned next;
    char *out = ring[next++ % 8];
    unsigned char rnd[10] = {0};
    rnd[9] = (unsigned char)n;
    rnd[8] = (unsigned char)(n >> 8);
    rove__id_make(out, 1700000000000ull + n, rnd);
    return out;
}

static const rove__table *table(const char *name)
{
    const rove__table *t = rove__schema_table(name, strlen(name));
    ASSERT(t != NULL);
    return t;
}

static int col(const rove__table *t, const char *name)
{
    int c = rove__schema_col(t, name, strlen(name));
    ASSERT(c >= 0);
    return c;
}

static rove__value v_int(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}

static rove__value v_real(double d)
{
    rove__value v = {ROVE__T_REAL, 0, d, NULL, 0};
    return v;
}

static rove__value v_text(const char *s)
{
    rove__value v = {ROVE__T_TEXT, 0, 0, s, strlen(s)};
    return v;
}

static rove__value v_null(void)
{
    rove__value v = {ROVE__T_NULL, 0, 0, NULL, 0};
    return v;
}

/* Parses b as a request from a heap copy (so ASan sees overreads), checks the
 * error contract (code recorded, nothing left decoded on failure) and returns
 * the code. On success the caller owns *req and its borrowed copy. */
static int parse_req(const rove__buf *b, rove__sync_req *req)
{
    rove__errinfo e;
    memset(&e, 0, sizeof(e));
    e.code = 12345;
    int rc = rove__sync_req_parse(req, rove_test_dup(b->ptr, b->len), b->len, &e);
    if (rc != 0) {
        ASSERT_RC(e.code, rc);
        ASSERT(e.msg[0] != 0);
        ASSERT(req->changes == NULL);
        ASSERT_EQ_UINT(req->nchanges, 0);
    }
    return rc;
}

static int parse_req_rc(const rove__buf *b)
{
    rove__sync_req req;
    int rc = parse_req(b, &req);
    rove__sync_req_free(&req);
    return rc;
}

/* Raw request writers for messages the encoder would never produce. */
static void raw_begin(rove__buf *b, int64_t version, size_t nchanges)
{
    rove__w_map(b, 5);
    rove__w_text(b, "v");
    rove__w_int(b, version);
    rove__w_text(b, "cursor");
    rove__w_int(b, 0);
    rove__w_text(b, "limit");
    rove__w_int(b, 100);
    rove__w_text(b, "hlc");
    rove__w_int(b, 1);
    rove__w_text(b, "changes");
    rove__w_array(b, nchanges);
}

/* Writes a change header up to and including its column map head; the caller
 * writes ncols name/value pairs. */
static void raw_change(rove__buf *b, const char *change_id, const char *tbl, int64_t op,
                       const char *id, size_t ncols)
{
    rove__w_array(b, 7);
    rove__w_text(b, change_id);
    rove__w_text(b, tbl);
    rove__w_int(b, op);
    rove__w_text(b, id);
    rove__w_int(b, 0);
    rove__w_int(b, 5);
    rove__w_map(b, ncols);
}

/* One-change request: insert into tbl with a single column `name` whose value
 * the caller writes next. */
static void one_col(rove__buf *b, const char *tbl, const char *name)
{
    rove__buf_clear(b);
    raw_begin(b, ROVE__PROTO_VERSION, 1);
    raw_change(b, ulid(1), tbl, ROVE__OP_INSERT, ulid(2), 1);
    rove__w_text(b, name);
}

/* ---- requests ----------------------------------------------------------- */

void test_proto__request_roundtrip(void)
{
    const rove__table *acc = table("account");
    const rove__table *con = table("contact");
    rove__change ch[3];
    memset(ch, 0, sizeof(ch));
    char cid[3][ROVE__ID_LEN + 1];
    for (int i = 0; i < 3; i++)
        strcpy(cid[i], ulid(10 + (unsigned)i));

    ch[0].change_id = cid[0];
    ch[0].change_id_len = ROVE__ID_LEN;
    ch[0].table = acc;
    ch[0].op = ROVE__OP_INSERT;
    strcpy(ch[0].id, ulid(20));
    ch[0].hlc = 123456789;
    ch[0].ncols = 6;
    ch[0].col[0] = col(acc, "name");
    ch[0].val[0] = v_text("Acme ✓");
    ch[0].col[1] = col(acc, "lat");
    ch[0].val[1] = v_real(-33.8688);
    ch[0].col[2] = col(acc, "visit_freq_days");
    ch[0].val[2] = v_int(INT64_MAX);
    ch[0].col[3] = col(acc, "notes");
    ch[0].val[3] = v_null();
    ch[0].col[4] = col(acc, "source_channel");
    ch[0].val[4] = v_text("face_to_face");
    ch[0].col[5] = col(acc, "address");
    ch[0].val[5] = v_text("");

    ch[1].change_id = cid[1];
    ch[1].change_id_len = ROVE__ID_LEN;
    ch[1].table = con;
    ch[1].op = ROVE__OP_UPDATE;
    strcpy(ch[1].id, ulid(21));
    ch[1].base_version = 42;
    ch[1].hlc = 123456790;
    ch[1].ncols = 2;
    ch[1].col[0] = col(con, "account_id");
    ch[1].val[0] = v_text(ulid(20));
    ch[1].col[1] = col(con, "is_primary");
    ch[1].val[1] = v_int(-1);

    ch[2].change_id = cid[2];
    ch[2].change_id_len = ROVE__ID_LEN;
    ch[2].table = acc;
    ch[2].op = ROVE__OP_DELETE;
    strcpy(ch[2].id, ulid(22));
    ch[2].base_version = INT64_MAX;
    ch[2].hlc = 0;

    rove__buf b = ROVE__BUF_INIT;
    rove__sync_req_begin(&b, 77, 500, 999, 3);
    for (int i = 0; i < 3; i++)
        rove__sync_req_add(&b, &ch[i]);
    ASSERT_OK(rove__buf_status(&b));

    rove__sync_req req;
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_INT(req.version, ROVE__PROTO_VERSION);
    ASSERT_EQ_INT(req.cursor, 77);
    ASSERT_EQ_INT(req.limit, 500);
    ASSERT_EQ_INT(req.hlc, 999);
    ASSERT_EQ_UINT(req.nchanges, 3);
    for (int i = 0; i < 3; i++) {
        const rove__change *got = &req.changes[i];
        ASSERT_EQ_STRN(got->change_id, got->change_id_len, cid[i]);
        ASSERT(got->table == ch[i].table);
        ASSERT_EQ_INT(got->op, ch[i].op);
        ASSERT_EQ_STR(got->id, ch[i].id);
        ASSERT_EQ_INT(got->base_version, ch[i].base_version);
        ASSERT_EQ_INT(got->hlc, ch[i].hlc);
        ASSERT_EQ_UINT(got->ncols, ch[i].ncols);
        for (size_t c = 0; c < got->ncols; c++) {
            const rove__value *w = &ch[i].val[c], *g = &got->val[c];
            ASSERT_EQ_INT(got->col[c], ch[i].col[c]);
            ASSERT_EQ_INT(g->type, w->type);
            if (w->type == ROVE__T_INT)
                ASSERT_EQ_INT(g->i, w->i);
            if (w->type == ROVE__T_REAL)
                ASSERT(g->d == w->d);
            if (w->type == ROVE__T_TEXT)
                ASSERT_EQ_MEM(g->s, g->len, w->s, w->len);
        }
    }
    rove__sync_req_free(&req);
    ASSERT(req.changes == NULL);
    ASSERT_EQ_UINT(req.nchanges, 0);
    rove__sync_req_free(&req); /* twice is harmless */
    rove__buf_free(&b);
}

void test_proto__request_with_no_changes(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_req_begin(&b, 0, 0, 0, 0);
    rove__sync_req req;
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_UINT(req.nchanges, 0);
    rove__sync_req_free(&req);

    /* A request without a "changes" key at all is a pull-only request. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_UINT(req.nchanges, 0);
    rove__sync_req_free(&req);
    rove__buf_free(&b);
}

void test_proto__request_int_widened_for_real_column(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "lat");
    rove__w_int(&b, -7);
    rove__sync_req req;
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_INT(req.changes[0].val[0].type, ROVE__T_REAL);
    ASSERT(req.changes[0].val[0].d == -7.0);
    rove__sync_req_free(&req);
    rove__buf_free(&b);
}

void test_proto__request_unknown_keys_are_skipped(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 3);
    rove__w_text(&b, "future");
    rove__w_map(&b, 1);
    rove__w_text(&b, "nested");
    rove__w_array(&b, 2);
    rove__w_int(&b, 1);
    rove__w_bytes(&b, "xy", 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 9);
    rove__sync_req req;
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_INT(req.cursor, 9);
    rove__sync_req_free(&req);
    rove__buf_free(&b);
}

void test_proto__request_server_owned_column_is_left_to_the_server(void)
{
    /* proto.h: server-owned columns parse; the server rejects them per change. */
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "owner_id");
    rove__w_text(&b, ulid(3));
    ASSERT_OK(parse_req_rc(&b));
    rove__buf_free(&b);
}

void test_proto__request_unknown_table(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "accounts", "name");
    rove__w_text(&b, "x");
    ASSERT_RC(parse_req_rc(&b), ROVE_EUNKNOWNTABLE);
    one_col(&b, "", "name");
    rove__w_text(&b, "x");
    ASSERT_RC(parse_req_rc(&b), ROVE_EUNKNOWNTABLE);
    /* A prefix of a real name is not that name. */
    one_col(&b, "acc", "name");
    rove__w_text(&b, "x");
    ASSERT_RC(parse_req_rc(&b), ROVE_EUNKNOWNTABLE);
    /* Hostile bytes in the name reach only the sanitised message. */
    one_col(&b, "a\n\r%s%n\x01", "name");
    rove__w_text(&b, "x");
    rove__sync_req req;
    rove__errinfo e;
    ASSERT_RC(rove__sync_req_parse(&req, b.ptr, b.len, &e), ROVE_EUNKNOWNTABLE);
    ASSERT(strchr(e.msg, '\n') == NULL && strchr(e.msg, '%') == NULL);
    rove__buf_free(&b);
}

void test_proto__request_unknown_column(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "nmae");
    rove__w_text(&b, "x");
    ASSERT_RC(parse_req_rc(&b), ROVE_EUNKNOWNCOLUMN);
    /* A column of another table. */
    one_col(&b, "account", "account_id");
    rove__w_text(&b, ulid(5));
    ASSERT_RC(parse_req_rc(&b), ROVE_EUNKNOWNCOLUMN);
    rove__buf_free(&b);
}

void test_proto__request_system_columns_are_forbidden(void)
{
    static const char *const sys[] = {"id",         "version",    "created_by", "created_at",
                                      "updated_by", "updated_at", "deleted"};
    rove__buf b = ROVE__BUF_INIT;
    for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++) {
        one_col(&b, "visit", sys[k]);
        rove__w_int(&b, 1);
        int rc = parse_req_rc(&b);
        if (rc != ROVE_EFORBIDDEN)
            ROVE_TEST_FAIL_("system column %s gave %d", sys[k], rc);
    }
    rove__buf_free(&b);
}

void test_proto__request_bad_ids(void)
{
    rove__buf b = ROVE__BUF_INIT;
    /* Bad record id. */
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, "not-a-ulid", 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    /* Lower case is not canonical. */
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, "01arz3ndektsv4rrffq69g5fav", 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    /* Bad change id. */
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, "01ARZ3NDEKTSV4RRFFQ69G5FA", "account", ROVE__OP_DELETE, ulid(1), 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    /* A reference column must hold an id. */
    one_col(&b, "contact", "account_id");
    rove__w_text(&b, "8ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    one_col(&b, "contact", "account_id");
    rove__w_text(&b, ulid(9));
    ASSERT_OK(parse_req_rc(&b));
    /* Exact length boundary: 26 good, 25 and 27 bad. */
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, "0000000000000000000000000", 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, "000000000000000000000000000", 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADID);
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, "00000000000000000000000000", 0);
    ASSERT_OK(parse_req_rc(&b));
    rove__buf_free(&b);
}

void test_proto__request_wrong_value_types(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "name"); /* TEXT */
    rove__w_int(&b, 5);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "name");
    rove__w_real(&b, 1.5);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "name");
    rove__w_bool(&b, 1);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "name");
    rove__w_bytes(&b, "abc", 3);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "visit_freq_days"); /* INT */
    rove__w_text(&b, "7");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "visit_freq_days");
    rove__w_real(&b, 7.0); /* reals are not narrowed */
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "lat"); /* REAL */
    rove__w_text(&b, "1.0");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "lat");
    rove__w_real(&b, NAN);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    /* Containers as values: refused without being walked. */
    one_col(&b, "account", "lat");
    rove__w_array(&b, 1);
    rove__w_int(&b, 1);
    ASSERT(parse_req_rc(&b) != 0);
    one_col(&b, "account", "notes");
    rove__w_map(&b, 0);
    ASSERT(parse_req_rc(&b) != 0);
    /* null is fine for any column. */
    one_col(&b, "account", "lat");
    rove__w_null(&b);
    ASSERT_OK(parse_req_rc(&b));
    rove__buf_free(&b);
}

void test_proto__request_enum_values(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "service_task", "priority");
    rove__w_text(&b, "urgent");
    ASSERT_OK(parse_req_rc(&b));
    one_col(&b, "service_task", "priority");
    rove__w_text(&b, "URGENT");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "service_task", "priority");
    rove__w_text(&b, "");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "service_task", "priority");
    rove__w_text(&b, "urgen");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "service_task", "priority");
    rove__w_text(&b, "urgentt");
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "visit", "status");
    rove__w_text(&b, "completed");
    ASSERT_OK(parse_req_rc(&b));
    rove__buf_free(&b);
}

void test_proto__request_text_size_limit(void)
{
    char *big = malloc(ROVE__MAX_TEXT + 2);
    ASSERT(big != NULL);
    memset(big, 'x', ROVE__MAX_TEXT + 1);
    big[ROVE__MAX_TEXT + 1] = 0;
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "notes");
    rove__w_textn(&b, big, ROVE__MAX_TEXT); /* exactly the limit */
    ASSERT_OK(parse_req_rc(&b));
    one_col(&b, "account", "notes");
    rove__w_textn(&b, big, ROVE__MAX_TEXT + 1);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    free(big);
    rove__buf_free(&b);
}

void test_proto__request_invalid_utf8_text(void)
{
    rove__buf b = ROVE__BUF_INIT;
    one_col(&b, "account", "name");
    rove__w_textn(&b, "\xed\xa0\x80", 3);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    one_col(&b, "account", "name");
    rove__w_textn(&b, "a\0b", 3);
    ASSERT_RC(parse_req_rc(&b), ROVE_EBADVALUE);
    rove__buf_free(&b);
}

static void write_changes(rove__buf *b, size_t n)
{
    raw_begin(b, ROVE__PROTO_VERSION, n);
    for (size_t i = 0; i < n; i++)
        raw_change(b, ulid((unsigned)i), "account", ROVE__OP_DELETE, ulid((unsigned)i + 1), 0);
}

void test_proto__request_change_count_limit(void)
{
    rove__buf b = ROVE__BUF_INIT;
    write_changes(&b, ROVE__MAX_CHANGES);
    rove__sync_req req;
    ASSERT_OK(parse_req(&b, &req));
    ASSERT_EQ_UINT(req.nchanges, ROVE__MAX_CHANGES);
    rove__sync_req_free(&req);
    rove__buf_clear(&b);
    write_changes(&b, ROVE__MAX_CHANGES + 1);
    ASSERT_RC(parse_req_rc(&b), ROVE_ETOOBIG);
    /* The limit is checked on the count, before any change is read. */
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 100000);
    for (int i = 0; i < 100000; i++)
        rove__w_int(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_ETOOBIG);
    rove__buf_free(&b);
}

void test_proto__request_version(void)
{
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION + 1, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EVERSION);
    rove__buf_clear(&b);
    raw_begin(&b, 0, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EVERSION);
    /* No version at all. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EVERSION);
    /* A version that is not a non-negative integer is malformed. */
    rove__buf_clear(&b);
    raw_begin(&b, -1, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "v");
    rove__w_text(&b, "1");
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_duplicate_column(void)
{
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_UPDATE, ulid(2), 2);
    rove__w_text(&b, "name");
    rove__w_text(&b, "a");
    rove__w_text(&b, "name");
    rove__w_text(&b, "b");
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_delete_with_columns(void)
{
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_DELETE, ulid(2), 1);
    rove__w_text(&b, "name");
    rove__w_text(&b, "a");
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_update_without_columns(void)
{
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_UPDATE, ulid(2), 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_too_many_columns(void)
{
    const rove__table *acc = table("account");
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    raw_change(&b, ulid(1), "account", ROVE__OP_INSERT, ulid(2), acc->ncols + 1);
    for (size_t i = 0; i < acc->ncols + 1; i++) {
        rove__w_text(&b, "name");
        rove__w_text(&b, "a");
    }
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_bad_ops_and_numbers(void)
{
    static const int64_t ops[] = {0, 4, -1, INT64_MAX};
    rove__buf b = ROVE__BUF_INIT;
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        rove__buf_clear(&b);
        raw_begin(&b, ROVE__PROTO_VERSION, 1);
        raw_change(&b, ulid(1), "account", ops[k], ulid(2), 0);
        ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    }
    /* Negative base version and hlc. */
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    rove__w_array(&b, 7);
    rove__w_text(&b, ulid(1));
    rove__w_text(&b, "account");
    rove__w_int(&b, ROVE__OP_DELETE);
    rove__w_text(&b, ulid(2));
    rove__w_int(&b, -1);
    rove__w_int(&b, 0);
    rove__w_map(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&b);
    raw_begin(&b, ROVE__PROTO_VERSION, 1);
    rove__w_array(&b, 7);
    rove__w_text(&b, ulid(1));
    rove__w_text(&b, "account");
    rove__w_int(&b, ROVE__OP_DELETE);
    rove__w_text(&b, ulid(2));
    rove__w_int(&b, 0);
    rove__w_int(&b, -1);
    rove__w_map(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    /* Negative cursor. */
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, -5);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_structure_errors(void)
{
    rove__buf b = ROVE__BUF_INIT;
    /* Not a map. */
    rove__w_array(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    /* Empty input. */
    rove__buf_clear(&b);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    /* Non-text key. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_int(&b, 1);
    rove__w_int(&b, 1);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    /* Change with 6 and 8 items. */
    for (size_t items = 6; items <= 8; items += 2) {
        rove__buf_clear(&b);
        raw_begin(&b, ROVE__PROTO_VERSION, 1);
        rove__w_array(&b, items);
        for (size_t i = 0; i < items; i++)
            rove__w_int(&b, 0);
        ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    }
    /* "changes" twice. */
    rove__buf_clear(&b);
    rove__w_map(&b, 3);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "changes");
    rove__w_array(&b, 0);
    rove__w_text(&b, "changes");
    rove__w_array(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    /* Changes not an array. */
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "changes");
    rove__w_map(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_trailing_bytes(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_req_begin(&b, 1, 2, 3, 0);
    ASSERT_OK(parse_req_rc(&b));
    rove__w_int(&b, 0);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__sync_req_begin(&b, 1, 2, 3, 0);
    rove__buf_put(&b, "\0", 1);
    ASSERT_RC(parse_req_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__request_truncation_at_every_offset(void)
{
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, ROVE__PROTO_VERSION, 2);
    raw_change(&b, ulid(1), "visit", ROVE__OP_INSERT, ulid(2), 4);
    rove__w_text(&b, "account_id");
    rove__w_text(&b, ulid(3));
    rove__w_text(&b, "checkin_lat");
    rove__w_real(&b, 48.85);
    rove__w_text(&b, "planned_start");
    rove__w_int(&b, 1700000000000);
    rove__w_text(&b, "notes");
    rove__w_null(&b);
    raw_change(&b, ulid(4), "account", ROVE__OP_DELETE, ulid(5), 0);
    ASSERT_OK(parse_req_rc(&b));
    for (size_t cut = 0; cut < b.len; cut++) {
        rove__sync_req req;
        rove__errinfo e;
        int rc = rove__sync_req_parse(&req, rove_test_dup(b.ptr, cut), cut, &e);
        if (rc == 0)
            ROVE_TEST_FAIL_("prefix of %zu of %zu bytes accepted", cut, b.len);
        ASSERT(req.changes == NULL);
        ASSERT_RC(e.code, rc);
    }
    rove__buf_free(&b);
}

void test_proto__request_null_errinfo(void)
{
    rove__sync_req req;
    ASSERT_RC(rove__sync_req_parse(&req, "\xa0", 1, NULL), ROVE_EVERSION);
    ASSERT_RC(rove__sync_req_parse(&req, "", 0, NULL), ROVE_EPROTO);
}

void test_proto__err_truncates_long_messages(void)
{
    rove__errinfo e;
    char big[500];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ASSERT_RC(rove__err(&e, ROVE_EPROTO, "%s", big), ROVE_EPROTO);
    ASSERT_EQ_INT(e.code, ROVE_EPROTO);
    ASSERT_EQ_UINT(strlen(e.msg), sizeof(e.msg) - 1);
    ASSERT_RC(rove__err(NULL, ROVE_EBADID, "x"), ROVE_EBADID);
}

/* ---- responses ---------------------------------------------------------- */

struct seen {
    int nreceipts, ntables, nrows, nevict;
    rove__receipt receipts[8];
    const rove__table *tables[4];
    int cols[4][ROVE__MAX_COLS];
    size_t ncols[4];
    char row_ids[16][ROVE__ID_LEN + 1];
    rove__value row_vals[16][ROVE__MAX_COLS];
    char evict_ids[4][ROVE__ID_LEN + 1];
    const rove__table *evict_tables[4];
    char evict_reasons[4][300];
    int abort_in; /* 1..4: which callback returns abort_rc */
    int abort_rc;
};

static int on_receipt(const rove__receipt *r, void *payload)
{
    struct seen *s = payload;
    if (s->nreceipts < 8)
        s->receipts[s->nreceipts] = *r;
    s->nreceipts++;
    return s->abort_in == 1 ? s->abort_rc : 0;
}

static int on_table(const rove__table *t, const int *cols, size_t ncols, void *payload)
{
    struct seen *s = payload;
    if (s->ntables < 4) {
        s->tables[s->ntables] = t;
        memcpy(s->cols[s->ntables], cols, ncols * sizeof(int));
        s->ncols[s->ntables] = ncols;
    }
    s->ntables++;
    return s->abort_in == 2 ? s->abort_rc : 0;
}

static int on_row(const rove__table *t, const int *cols, const rove__value *vals, size_t ncols,
                  void *payload)
{
    struct seen *s = payload;
    if (s->nrows < 16) {
        for (size_t c = 0; c < ncols; c++) {
            s->row_vals[s->nrows][c] = vals[c];
            if (cols[c] == ROVE__COL_ID) {
                ASSERT_EQ_UINT(vals[c].len, ROVE__ID_LEN);
                memcpy(s->row_ids[s->nrows], vals[c].s, ROVE__ID_LEN);
                s->row_ids[s->nrows][ROVE__ID_LEN] = 0;
            }
        }
    }
    s->nrows++;
    return s->abort_in == 3 ? s->abort_rc : 0;
}

static int on_evict(const rove__table *t, const char *id, const char *reason, size_t reason_len,
                    void *payload)
{
    struct seen *s = payload;
    if (s->nevict < 4) {
        ASSERT_EQ_UINT(strlen(id), ROVE__ID_LEN);
        strcpy(s->evict_ids[s->nevict], id);
        s->evict_tables[s->nevict] = t;
        ASSERT(reason_len < sizeof(s->evict_reasons[0]));
        memcpy(s->evict_reasons[s->nevict], reason, reason_len);
        s->evict_reasons[s->nevict][reason_len] = 0;
    }
    s->nevict++;
    return s->abort_in == 4 ? s->abort_rc : 0;
}

static const rove__sync_resp_handler handler = {on_receipt, on_table, on_row, on_evict};

static int parse_resp(const rove__buf *b, struct seen *s, rove__sync_resp_hdr *hdr)
{
    rove__errinfo e;
    memset(&e, 0, sizeof(e));
    int rc = rove__sync_resp_parse(rove_test_dup(b->ptr, b->len), b->len, &handler, s, hdr, &e);
    if (rc != 0) {
        ASSERT_RC(e.code, rc);
        ASSERT(e.msg[0] != 0);
    }
    return rc;
}

static int parse_resp_rc(const rove__buf *b)
{
    struct seen *s = calloc(1, sizeof(*s));
    ASSERT(s != NULL);
    rove__sync_resp_hdr hdr;
    int rc = parse_resp(b, s, &hdr);
    free(s);
    return rc;
}

/* The full response used by several tests: 3 receipts, two tables (3 account
 * rows, 1 contact row), 2 evictions. */
static void build_response(rove__buf *b)
{
    const rove__table *acc = table("account");
    const rove__table *con = table("contact");
    rove__sync_resp_begin(b, 3);
    rove__receipt r1 = {.change_id = ulid(1),
                        .change_id_len = ROVE__ID_LEN,
                        .status = ROVE__RC_APPLIED,
                        .code = NULL,
                        .code_len = 0,
                        .message = NULL,
                        .message_len = 0,
                        .version = 10};
    rove__receipt r2 = {.change_id = ulid(2),
                        .change_id_len = ROVE__ID_LEN,
                        .status = ROVE__RC_REJECTED,
                        .code = "out_of_scope",
                        .code_len = 12,
                        .message = "not yours",
                        .message_len = 9,
                        .version = 0};
    rove__receipt r3 = {.change_id = ulid(3),
                        .change_id_len = ROVE__ID_LEN,
                        .status = ROVE__RC_OVERRIDDEN,
                        .code = NULL,
                        .code_len = 0,
                        .message = "lost",
                        .message_len = 4,
                        .version = INT64_MAX};
    rove__sync_resp_receipt(b, &r1);
    rove__sync_resp_receipt(b, &r2);
    rove__sync_resp_receipt(b, &r3);
    rove__sync_resp_tables_begin(b, 2);

    int acols[5] = {col(acc, "id"), col(acc, "version"), col(acc, "name"), col(acc, "lat"),
                    col(acc, "stage")};
    rove__sync_resp_table_begin(b, acc, acols, 5, 3);
    for (unsigned i = 0; i < 3; i++) {
        rove__sync_resp_row_begin(b, 5);
        rove__value v[5] = {v_text(ulid(100 + i)), v_int(1000 + i), v_text("Acme"),
                            i == 1 ? v_null() : v_real(1.25 * i), v_text("prospect")};
        for (int c = 0; c < 5; c++)
            rove__sync_resp_value(b, &v[c]);
    }
    int ccols[3] = {col(con, "account_id"), col(con, "id"), col(con, "deleted")};
    rove__sync_resp_table_begin(b, con, ccols, 3, 1);
    rove__sync_resp_row_begin(b, 3);
    rove__value cv[3] = {v_text(ulid(100)), v_text(ulid(200)), v_int(1)};
    for (int c = 0; c < 3; c++)
        rove__sync_resp_value(b, &cv[c]);

    rove__sync_resp_evictions_begin(b, 2);
    rove__sync_resp_eviction(b, acc, ulid(300), "transferred");
    rove__sync_resp_eviction(b, con, ulid(301), "");
    rove__sync_resp_hdr h = {ROVE__PROTO_VERSION, 4242, 1, 1700000000123, 99999, 0, 0, NULL, 0};
    rove__sync_resp_finish(b, &h);
    ASSERT_OK(rove__buf_status(b));
}

void test_proto__response_roundtrip(void)
{
    rove__buf b = ROVE__BUF_INIT;
    build_response(&b);
    struct seen *s = calloc(1, sizeof(*s));
    ASSERT(s != NULL);
    rove__sync_resp_hdr hdr;
    ASSERT_OK(parse_resp(&b, s, &hdr));
    ASSERT_EQ_INT(hdr.version, ROVE__PROTO_VERSION);
    ASSERT_EQ_INT(hdr.cursor, 4242);
    ASSERT_EQ_INT(hdr.more, 1);
    ASSERT_EQ_INT(hdr.server_time, 1700000000123);
    ASSERT_EQ_INT(hdr.hlc, 99999);

    ASSERT_EQ_INT(s->nreceipts, 3);
    ASSERT_EQ_STRN(s->receipts[0].change_id, s->receipts[0].change_id_len, ulid(1));
    ASSERT_EQ_INT(s->receipts[0].status, ROVE__RC_APPLIED);
    ASSERT(s->receipts[0].code == NULL);
    ASSERT(s->receipts[0].message == NULL);
    ASSERT_EQ_INT(s->receipts[0].version, 10);
    ASSERT_EQ_INT(s->receipts[1].status, ROVE__RC_REJECTED);
    ASSERT_EQ_STRN(s->receipts[1].code, s->receipts[1].code_len, "out_of_scope");
    ASSERT_EQ_STRN(s->receipts[1].message, s->receipts[1].message_len, "not yours");
    ASSERT_EQ_INT(s->receipts[2].status, ROVE__RC_OVERRIDDEN);
    ASSERT(s->receipts[2].code == NULL);
    ASSERT_EQ_STRN(s->receipts[2].message, s->receipts[2].message_len, "lost");
    ASSERT(s->receipts[2].version == INT64_MAX);

    ASSERT_EQ_INT(s->ntables, 2);
    ASSERT(s->tables[0] == table("account"));
    ASSERT(s->tables[1] == table("contact"));
    ASSERT_EQ_UINT(s->ncols[0], 5);
    ASSERT_EQ_INT(s->cols[0][0], ROVE__COL_ID);
    ASSERT_EQ_INT(s->cols[0][1], ROVE__COL_VERSION);
    ASSERT_EQ_INT(s->cols[0][3], col(table("account"), "lat"));
    ASSERT_EQ_UINT(s->ncols[1], 3);
    ASSERT_EQ_INT(s->cols[1][1], ROVE__COL_ID);

    ASSERT_EQ_INT(s->nrows, 4);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_STR(s->row_ids[i], ulid(100 + (unsigned)i));
        ASSERT_EQ_INT(s->row_vals[i][1].type, ROVE__T_INT);
        ASSERT_EQ_INT(s->row_vals[i][1].i, 1000 + i);
    }
    ASSERT_EQ_INT(s->row_vals[1][3].type, ROVE__T_NULL);
    ASSERT_EQ_INT(s->row_vals[2][3].type, ROVE__T_REAL);
    ASSERT(s->row_vals[2][3].d == 2.5);
    ASSERT_EQ_STR(s->row_ids[3], ulid(200));
    ASSERT_EQ_INT(s->row_vals[3][2].i, 1);

    ASSERT_EQ_INT(s->nevict, 2);
    ASSERT(s->evict_tables[0] == table("account"));
    ASSERT_EQ_STR(s->evict_ids[0], ulid(300));
    ASSERT_EQ_STR(s->evict_reasons[0], "transferred");
    ASSERT_EQ_STR(s->evict_ids[1], ulid(301));
    ASSERT_EQ_STR(s->evict_reasons[1], "");
    free(s);
    rove__buf_free(&b);
}

void test_proto__response_minimal_and_null_handlers(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_resp_begin(&b, 0);
    rove__sync_resp_tables_begin(&b, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_hdr h = {ROVE__PROTO_VERSION, 0, 0, 0, 0, 0, 0, NULL, 0};
    rove__sync_resp_finish(&b, &h);
    ASSERT_OK(parse_resp_rc(&b));

    /* Handlers may be left NULL: the whole message is still validated. */
    rove__buf_clear(&b);
    build_response(&b);
    rove__sync_resp_handler none = {NULL, NULL, NULL, NULL};
    rove__sync_resp_hdr hdr;
    ASSERT_OK(rove__sync_resp_parse(b.ptr, b.len, &none, NULL, &hdr, NULL));
    ASSERT_EQ_INT(hdr.cursor, 4242);
    rove__buf_free(&b);
}

void test_proto__response_unknown_columns_are_skipped(void)
{
    /* A newer server sends columns this build does not know, with values of
     * any shape; they reach the callbacks as -1 and are otherwise skipped. */
    const rove__table *acc = table("account");
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 3);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "tables");
    rove__w_array(&b, 1);
    rove__w_array(&b, 3);
    rove__w_text(&b, "account");
    rove__w_array(&b, 4);
    rove__w_text(&b, "future_a");
    rove__w_text(&b, "id");
    rove__w_text(&b, "future_b");
    rove__w_text(&b, "name");
    rove__w_array(&b, 2);
    for (unsigned i = 0; i < 2; i++) {
        rove__w_array(&b, 4);
        rove__w_map(&b, 1); /* a container value in an unknown column */
        rove__w_text(&b, "k");
        rove__w_array(&b, 2);
        rove__w_bytes(&b, "zz", 2);
        rove__w_bool(&b, 0);
        rove__w_text(&b, ulid(50 + i));
        rove__w_real(&b, 1.5);
        rove__w_text(&b, "n");
    }
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 3);
    struct seen *s = calloc(1, sizeof(*s));
    ASSERT(s != NULL);
    rove__sync_resp_hdr hdr;
    ASSERT_OK(parse_resp(&b, s, &hdr));
    ASSERT_EQ_INT(s->ntables, 1);
    ASSERT_EQ_UINT(s->ncols[0], 4);
    ASSERT_EQ_INT(s->cols[0][0], -1);
    ASSERT_EQ_INT(s->cols[0][1], ROVE__COL_ID);
    ASSERT_EQ_INT(s->cols[0][2], -1);
    ASSERT_EQ_INT(s->cols[0][3], col(acc, "name"));
    ASSERT_EQ_INT(s->nrows, 2);
    ASSERT_EQ_STR(s->row_ids[0], ulid(50));
    ASSERT_EQ_STR(s->row_ids[1], ulid(51));
    ASSERT_EQ_INT(s->row_vals[0][0].type, ROVE__T_NULL);
    ASSERT_EQ_INT(s->row_vals[0][3].type, ROVE__T_TEXT);
    ASSERT_EQ_STRN(s->row_vals[0][3].s, s->row_vals[0][3].len, "n");
    ASSERT_EQ_INT(hdr.cursor, 3);
    free(s);
    rove__buf_free(&b);
}

void test_proto__response_unknown_keys_are_skipped(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 3);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "future");
    rove__w_array(&b, 2);
    rove__w_map(&b, 0);
    rove__w_real(&b, 0.5);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    ASSERT_OK(parse_resp_rc(&b));
    rove__buf_free(&b);
}

void test_proto__response_enum_values_not_checked_on_pull(void)
{
    /* A newer server may know more enum values than this build. */
    const rove__table *acc = table("account");
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_resp_begin(&b, 0);
    rove__sync_resp_tables_begin(&b, 1);
    int cols[2] = {col(acc, "id"), col(acc, "stage")};
    rove__sync_resp_table_begin(&b, acc, cols, 2, 1);
    rove__sync_resp_row_begin(&b, 2);
    rove__value v[2] = {v_text(ulid(1)), v_text("hibernating")};
    rove__sync_resp_value(&b, &v[0]);
    rove__sync_resp_value(&b, &v[1]);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_hdr h = {ROVE__PROTO_VERSION, 1, 0, 0, 0, 0, 0, NULL, 0};
    rove__sync_resp_finish(&b, &h);
    ASSERT_OK(parse_resp_rc(&b));
    rove__buf_free(&b);
}

void test_proto__response_callback_abort_returns_its_code(void)
{
    rove__buf b = ROVE__BUF_INIT;
    build_response(&b);
    static const int codes[] = {ROVE_EUSER, -1000, 7};
    for (int where = 1; where <= 4; where++) {
        for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
            struct seen *s = calloc(1, sizeof(*s));
            ASSERT(s != NULL);
            s->abort_in = where;
            s->abort_rc = codes[k];
            rove__sync_resp_hdr hdr;
            rove__errinfo e;
            int rc = rove__sync_resp_parse(b.ptr, b.len, &handler, s, &hdr, &e);
            ASSERT_EQ_INT(rc, codes[k]);
            ASSERT_EQ_INT(e.code, codes[k]);
            /* Nothing runs after the aborting callback. */
            if (where == 1)
                ASSERT(s->nreceipts == 1 && s->ntables == 0);
            if (where == 2)
                ASSERT(s->ntables == 1 && s->nrows == 0);
            if (where == 3)
                ASSERT(s->nrows == 1 && s->ntables == 1 && s->nevict == 0);
            if (where == 4)
                ASSERT_EQ_INT(s->nevict, 1);
            free(s);
        }
    }
    rove__buf_free(&b);
}

void test_proto__response_truncation_at_every_offset(void)
{
    rove__buf b = ROVE__BUF_INIT;
    build_response(&b);
    for (size_t cut = 0; cut < b.len; cut++) {
        rove__buf p = ROVE__BUF_INIT;
        rove__buf_put(&p, b.ptr, cut);
        int rc = parse_resp_rc(&p);
        if (rc == 0)
            ROVE_TEST_FAIL_("prefix of %zu of %zu bytes accepted", cut, b.len);
        rove__buf_free(&p);
    }
    /* And a trailing byte. */
    rove__w_null(&b);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__response_version(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION + 1);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EVERSION);
    /* The version must come first: nothing is read before it. */
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EVERSION);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "v");
    rove__w_text(&b, "1");
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__response_header_errors(void)
{
    rove__buf b = ROVE__BUF_INIT;
    /* No cursor. */
    rove__w_map(&b, 1);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    /* Negative cursor. */
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, -1);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    /* "more" must be a boolean. */
    rove__buf_clear(&b);
    rove__w_map(&b, 3);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "more");
    rove__w_int(&b, 1);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    /* Not a map, empty. */
    rove__buf_clear(&b);
    rove__w_array(&b, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&b);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

/* A response with one receipt written by the caller's callback-free values. */
static void receipt_msg(rove__buf *b, const char *change_id, int64_t status, const char *code,
                        size_t code_len, const char *msg, size_t msg_len)
{
    rove__buf_clear(b);
    rove__w_map(b, 3);
    rove__w_text(b, "v");
    rove__w_int(b, ROVE__PROTO_VERSION);
    rove__w_text(b, "receipts");
    rove__w_array(b, 1);
    rove__w_array(b, 5);
    rove__w_text(b, change_id);
    rove__w_int(b, status);
    rove__w_textn(b, code, code_len);
    rove__w_textn(b, msg, msg_len);
    rove__w_int(b, 1);
    rove__w_text(b, "cursor");
    rove__w_int(b, 0);
}

void test_proto__response_receipt_validation(void)
{
    char big[1100];
    memset(big, 'c', sizeof(big));
    rove__buf b = ROVE__BUF_INIT;
    receipt_msg(&b, ulid(1), ROVE__RC_QUARANTINED, big, 64, big, 1024);
    ASSERT_OK(parse_resp_rc(&b)); /* both exactly at their limits */
    receipt_msg(&b, ulid(1), ROVE__RC_QUARANTINED, big, 65, NULL, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, ulid(1), ROVE__RC_QUARANTINED, NULL, 0, big, 1025);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, ulid(1), ROVE__RC_OVERRIDDEN + 1, NULL, 0, NULL, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, ulid(1), -1, NULL, 0, NULL, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, "nope", ROVE__RC_APPLIED, NULL, 0, NULL, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADID);
    /* Invalid UTF-8 in the code or the message. */
    receipt_msg(&b, ulid(1), ROVE__RC_REJECTED, "bad\xff", 4, NULL, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, ulid(1), ROVE__RC_REJECTED, NULL, 0, "caf\xc3", 4);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    receipt_msg(&b, ulid(1), ROVE__RC_REJECTED, "conflict", 8, "caf\xc3\xa9", 5);
    ASSERT_OK(parse_resp_rc(&b));
    /* Four items instead of five. */
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, ROVE__PROTO_VERSION);
    rove__w_text(&b, "receipts");
    rove__w_array(&b, 1);
    rove__w_array(&b, 4);
    rove__w_text(&b, ulid(1));
    rove__w_int(&b, 0);
    rove__w_null(&b);
    rove__w_null(&b);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

/* A response with one table block: the given column names, then rows the
 * caller writes (nrows of them). */
static void table_msg_begin(rove__buf *b, const char *tbl, const char *const *names,
                            size_t ncols, size_t nrows)
{
    rove__buf_clear(b);
    rove__w_map(b, 3);
    rove__w_text(b, "v");
    rove__w_int(b, ROVE__PROTO_VERSION);
    rove__w_text(b, "cursor");
    rove__w_int(b, 0);
    rove__w_text(b, "tables");
    rove__w_array(b, 1);
    rove__w_array(b, 3);
    rove__w_text(b, tbl);
    rove__w_array(b, ncols);
    for (size_t i = 0; i < ncols; i++)
        rove__w_text(b, names[i]);
    rove__w_array(b, nrows);
}

void test_proto__response_table_validation(void)
{
    rove__buf b = ROVE__BUF_INIT;
    static const char *const id_name[] = {"id", "name"};
    static const char *const no_id[] = {"name"};
    static const char *const twice[] = {"id", "name", "name"};

    table_msg_begin(&b, "ghost", id_name, 2, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EUNKNOWNTABLE);
    table_msg_begin(&b, "account", no_id, 1, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    table_msg_begin(&b, "account", twice, 3, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    table_msg_begin(&b, "account", NULL, 0, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);

    /* Row with the wrong number of values. */
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 1);
    rove__w_text(&b, ulid(1));
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    /* Row with an invalid or null id. */
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 2);
    rove__w_text(&b, "bad");
    rove__w_text(&b, "n");
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADID);
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 2);
    rove__w_null(&b);
    rove__w_text(&b, "n");
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADID);
    /* Row with a wrongly typed value. */
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 2);
    rove__w_text(&b, ulid(1));
    rove__w_int(&b, 5);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADVALUE);
    /* Oversized text in a pulled row. */
    char *big = malloc(ROVE__MAX_TEXT + 1);
    ASSERT(big != NULL);
    memset(big, 'b', ROVE__MAX_TEXT + 1);
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 2);
    rove__w_text(&b, ulid(1));
    rove__w_textn(&b, big, ROVE__MAX_TEXT + 1);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADVALUE);
    table_msg_begin(&b, "account", id_name, 2, 1);
    rove__w_array(&b, 2);
    rove__w_text(&b, ulid(1));
    rove__w_textn(&b, big, ROVE__MAX_TEXT);
    ASSERT_OK(parse_resp_rc(&b));
    free(big);
    rove__buf_free(&b);
}

void test_proto__response_column_count_limit(void)
{
    /* ROVE__MAX_COLS column names (unknown ones count too) are accepted;
     * one more is refused before any row is read. */
    char names[ROVE__MAX_COLS + 1][16];
    const char *ptrs[ROVE__MAX_COLS + 1];
    strcpy(names[0], "id");
    ptrs[0] = names[0];
    for (int i = 1; i <= ROVE__MAX_COLS; i++) {
        snprintf(names[i], sizeof(names[i]), "x%d", i);
        ptrs[i] = names[i];
    }
    rove__buf b = ROVE__BUF_INIT;
    table_msg_begin(&b, "account", ptrs, ROVE__MAX_COLS, 0);
    ASSERT_OK(parse_resp_rc(&b));
    table_msg_begin(&b, "account", ptrs, ROVE__MAX_COLS + 1, 0);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&b);
}

static void evict_msg(rove__buf *b, const char *tbl, const char *id, const char *why,
                      size_t why_len)
{
    rove__buf_clear(b);
    rove__w_map(b, 3);
    rove__w_text(b, "v");
    rove__w_int(b, ROVE__PROTO_VERSION);
    rove__w_text(b, "evict");
    rove__w_array(b, 1);
    rove__w_array(b, 3);
    rove__w_text(b, tbl);
    rove__w_text(b, id);
    rove__w_textn(b, why, why_len);
    rove__w_text(b, "cursor");
    rove__w_int(b, 0);
}

void test_proto__response_eviction_validation(void)
{
    char why[300];
    memset(why, 'w', sizeof(why));
    rove__buf b = ROVE__BUF_INIT;
    evict_msg(&b, "visit", ulid(1), why, 256);
    ASSERT_OK(parse_resp_rc(&b));
    evict_msg(&b, "visit", ulid(1), why, 257);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    evict_msg(&b, "visit", ulid(1), "\xc0\x80", 2);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    evict_msg(&b, "visits", ulid(1), "x", 1);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EUNKNOWNTABLE);
    evict_msg(&b, "visit", "0123", "x", 1);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADID);
    rove__buf_free(&b);
}

/* ---- flat maps ---------------------------------------------------------- */

static int flat(const rove__buf *b, rove__flat_field *f, size_t n)
{
    rove__errinfo e;
    int rc = rove__flat_parse(rove_test_dup(b->ptr, b->len), b->len, f, n, &e);
    if (rc != 0)
        ASSERT_RC(e.code, rc);
    return rc;
}

void test_proto__flat_parse(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 6);
    rove__w_text(&b, "token");
    rove__w_text(&b, "abc");
    rove__w_text(&b, "expires");
    rove__w_int(&b, -9);
    rove__w_text(&b, "ok");
    rove__w_bool(&b, 1);
    rove__w_text(&b, "ratio");
    rove__w_real(&b, 0.25);
    rove__w_text(&b, "unknown");
    rove__w_text(&b, "skipped");
    rove__w_text(&b, "nothing");
    rove__w_null(&b);
    rove__flat_field f[6] = {{"token", 7, {0}}, {"expires", 7, {0}}, {"ok", 7, {0}},
                             {"ratio", 7, {0}}, {"nothing", 7, {0}}, {"absent", 7, {0}}};
    ASSERT_OK(flat(&b, f, 6));
    ASSERT(f[0].present);
    ASSERT_EQ_INT(f[0].v.type, ROVE__T_TEXT);
    ASSERT_EQ_STRN(f[0].v.s, f[0].v.len, "abc");
    ASSERT(f[1].present);
    ASSERT_EQ_INT(f[1].v.type, ROVE__T_INT);
    ASSERT_EQ_INT(f[1].v.i, -9);
    ASSERT(f[2].present);
    ASSERT_EQ_INT(f[2].v.type, ROVE__T_INT); /* booleans read as 0/1 */
    ASSERT_EQ_INT(f[2].v.i, 1);
    ASSERT(f[3].present);
    ASSERT_EQ_INT(f[3].v.type, ROVE__T_REAL);
    ASSERT(f[3].v.d == 0.25);
    ASSERT(f[4].present);
    ASSERT_EQ_INT(f[4].v.type, ROVE__T_NULL);
    ASSERT(!f[5].present); /* reset from the 7 it had */
    ASSERT_EQ_INT(f[5].v.type, ROVE__T_NULL);

    char dst[4];
    ASSERT_OK(rove__flat_text(&f[0], dst, sizeof(dst))); /* "abc" + NUL: exact fit */
    ASSERT_EQ_STR(dst, "abc");
    ASSERT_RC(rove__flat_text(&f[0], dst, 3), ROVE_ETOOBIG); /* size - 1 */
    ASSERT_RC(rove__flat_text(&f[1], dst, sizeof(dst)), ROVE_EPROTO);
    ASSERT_RC(rove__flat_text(&f[4], dst, sizeof(dst)), ROVE_EPROTO);
    ASSERT_RC(rove__flat_text(&f[5], dst, sizeof(dst)), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_proto__flat_parse_errors(void)
{
    rove__flat_field f[1] = {{"k", 0, {0}}};
    rove__buf b = ROVE__BUF_INIT;
    /* Key given twice. */
    rove__w_map(&b, 2);
    rove__w_text(&b, "k");
    rove__w_int(&b, 1);
    rove__w_text(&b, "k");
    rove__w_int(&b, 2);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    /* Containers and byte strings as values, even under unknown keys. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "other");
    rove__w_array(&b, 0);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "k");
    rove__w_map(&b, 0);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "k");
    rove__w_bytes(&b, "x", 1);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    /* Non-text key. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_int(&b, 1);
    rove__w_int(&b, 1);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    /* Bad UTF-8 and oversized text. */
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "k");
    rove__w_textn(&b, "\xff", 1);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    char *big = malloc(ROVE__MAX_TEXT + 1);
    ASSERT(big != NULL);
    memset(big, 'a', ROVE__MAX_TEXT + 1);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "k");
    rove__w_textn(&b, big, ROVE__MAX_TEXT + 1);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "k");
    rove__w_textn(&b, big, ROVE__MAX_TEXT);
    ASSERT_OK(flat(&b, f, 1));
    free(big);
    /* Not a map; trailing bytes; truncated. */
    rove__buf_clear(&b);
    rove__w_array(&b, 0);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 0);
    ASSERT_OK(flat(&b, f, 1));
    rove__w_map(&b, 0);
    ASSERT_RC(flat(&b, f, 1), ROVE_EPROTO);
    rove__buf_clear(&b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "k");
    rove__w_text(&b, "value");
    rove__w_text(&b, "n");
    rove__w_int(&b, 100000);
    for (size_t cut = 0; cut < b.len; cut++) {
        rove__buf p = ROVE__BUF_INIT;
        rove__buf_put(&p, b.ptr, cut);
        ASSERT_RC(flat(&p, f, 1), ROVE_EPROTO);
        rove__buf_free(&p);
    }
    rove__buf_free(&b);
}

/* A response with one overridden receipt whose lost list is lost[0..len). */
static void lost_msg(rove__buf *b, const rove__buf *lost)
{
    rove__buf_clear(b);
    rove__sync_resp_begin(b, 1);
    rove__receipt r = {.change_id = ulid(1),
                       .change_id_len = ROVE__ID_LEN,
                       .status = ROVE__RC_OVERRIDDEN,
                       .code = "conflict",
                       .code_len = 8,
                       .version = 7,
                       .lost_cbor = lost->ptr,
                       .lost_cbor_len = lost->len};
    rove__sync_resp_receipt(b, &r);
    rove__sync_resp_tables_begin(b, 0);
    rove__sync_resp_evictions_begin(b, 0);
    rove__sync_resp_hdr h = {ROVE__PROTO_VERSION, 1, 0, 1, 1, 0, 0, NULL, 0};
    rove__sync_resp_finish(b, &h);
}

/* Receipts carry the columns that lost, with the winning values. */
void test_proto__response_lost_columns(void)
{
    const rove__table *acc = table("account");
    rove__buf lost = ROVE__BUF_INIT, b = ROVE__BUF_INIT;
    rove__lost_begin(&lost, acc, 3);
    rove__value w1 = v_text("Newer address"), w2 = v_real(15.0), w3 = v_null();
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &w1, "lww");
    rove__lost_add(&lost, &acc->cols[col(acc, "discount_pct")], &w2, "server");
    rove__lost_add(&lost, &acc->cols[col(acc, "notes")], &w3, "delete");
    lost_msg(&b, &lost);
    struct seen *s = calloc(1, sizeof(*s));
    ASSERT(s != NULL);
    rove__sync_resp_hdr hdr;
    ASSERT_OK(parse_resp(&b, s, &hdr));
    ASSERT_EQ_INT(s->nreceipts, 1);
    const rove__receipt *r = &s->receipts[0];
    ASSERT(r->lost_table == acc);
    ASSERT_EQ_UINT(r->nlost, 3);
    ASSERT_EQ_INT(r->lost[0].col, col(acc, "address"));
    ASSERT_EQ_STRN(r->lost[0].winner.s, r->lost[0].winner.len, "Newer address");
    ASSERT_EQ_STRN(r->lost[0].policy, r->lost[0].policy_len, "lww");
    ASSERT_EQ_INT(r->lost[1].winner.type, ROVE__T_REAL);
    ASSERT(r->lost[1].winner.d == 15.0);
    ASSERT_EQ_INT(r->lost[2].winner.type, ROVE__T_NULL);
    ASSERT_EQ_STRN(r->lost[2].policy, r->lost[2].policy_len, "delete");
    free(s);

    /* A newer server's column is skipped; the rest still arrives. */
    rove__buf_clear(&lost);
    rove__w_array(&lost, 2);
    rove__w_text(&lost, "account");
    rove__w_array(&lost, 2);
    rove__w_array(&lost, 3);
    rove__w_text(&lost, "future_column");
    rove__w_array(&lost, 0); /* any value */
    rove__w_text(&lost, "lww");
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &w1, "lww");
    lost_msg(&b, &lost);
    s = calloc(1, sizeof(*s));
    ASSERT(s != NULL);
    ASSERT_OK(parse_resp(&b, s, &hdr));
    ASSERT_EQ_UINT(s->receipts[0].nlost, 1);
    free(s);

    /* Hostile lists: unknown table, wrong value type, a column twice, not UTF-8. */
    rove__buf_clear(&lost);
    rove__w_array(&lost, 2);
    rove__w_text(&lost, "nope");
    rove__w_array(&lost, 0);
    lost_msg(&b, &lost);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EUNKNOWNTABLE);
    rove__buf_clear(&lost);
    rove__lost_begin(&lost, acc, 1);
    rove__value wrong = v_int(3);
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &wrong, "lww");
    lost_msg(&b, &lost);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EBADVALUE);
    rove__buf_clear(&lost);
    rove__lost_begin(&lost, acc, 2);
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &w1, "lww");
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &w1, "lww");
    lost_msg(&b, &lost);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&lost);
    rove__lost_begin(&lost, acc, 1);
    rove__lost_add(&lost, &acc->cols[col(acc, "address")], &w1, "ll\xff");
    lost_msg(&b, &lost);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_clear(&lost);
    rove__w_array(&lost, 3); /* not [table, list] */
    lost_msg(&b, &lost);
    ASSERT_RC(parse_resp_rc(&b), ROVE_EPROTO);
    rove__buf_free(&lost);
    rove__buf_free(&b);
}
