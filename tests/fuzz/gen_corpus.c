/*
 * Writes the seed corpus of the fuzz targets:
 *
 *   fuzz_gen_corpus <dir>      (writes <dir>/<target>/<name>)
 *
 * The committed corpus under tests/fuzz/corpus/ was made with it; re-run it
 * after a protocol change and commit the result. Seeds are valid messages
 * from the real encoders, plus one near-miss per validation error so every
 * error path starts covered. Files are kept small (a few KiB at most).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compress.h"
#include "id.h"
#include "proto.h"
#include "wire.h"

static const char *outdir;
static int nwritten;

static void die(const char *what)
{
    fprintf(stderr, "gen_corpus: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void save(const char *target, const char *name, const void *p, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path);
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (len && fwrite(p, 1, len, f) != len) || fclose(f) != 0)
        die(path);
    nwritten++;
}

static void save_buf(const char *target, const char *name, rove__buf *b)
{
    if (rove__buf_status(b) != 0) {
        fprintf(stderr, "gen_corpus: out of memory\n");
        exit(1);
    }
    save(target, name, b->ptr, b->len);
    rove__buf_clear(b);
}

static const char *ulid(unsigned n)
{
    static char ring[8][ROVE__ID_LEN + 1];
    static unsigned next;
    char *out = ring[next++ % 8];
    unsigned char rnd[10] = {0};
    rnd[9] = (unsigned char)n;
    rove__id_make(out, 1700000000000ull + n, rnd);
    return out;
}

static const rove__table *tbl(const char *name)
{
    return rove__schema_table(name, strlen(name));
}

static int col(const rove__table *t, const char *name)
{
    return rove__schema_col(t, name, strlen(name));
}

static rove__value vi(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}
static rove__value vr(double d)
{
    rove__value v = {ROVE__T_REAL, 0, d, NULL, 0};
    return v;
}
static rove__value vt(const char *s)
{
    rove__value v = {ROVE__T_TEXT, 0, 0, s, strlen(s)};
    return v;
}
static rove__value vn(void)
{
    rove__value v = {ROVE__T_NULL, 0, 0, NULL, 0};
    return v;
}

static char cids[64][ROVE__ID_LEN + 1];

static rove__change change(const char *table, rove__op op, unsigned n)
{
    rove__change c;
    memset(&c, 0, sizeof(c));
    rove__id_make(cids[n % 64], 1700000000000ull + n, (const unsigned char *)"0123456789");
    c.change_id = cids[n % 64];
    c.change_id_len = ROVE__ID_LEN;
    c.table = tbl(table);
    c.op = op;
    strcpy(c.id, ulid(1000 + n));
    c.base_version = op == ROVE__OP_INSERT ? 0 : 17;
    c.hlc = (int64_t)(1700000000000ll << 16) + n;
    return c;
}

static void set(rove__change *c, const char *name, rove__value v)
{
    c->col[c->ncols] = col(c->table, name);
    c->val[c->ncols] = v;
    c->ncols++;
}

/* The valid requests; also reused (compressed) for the inflate target. */
static size_t valid_requests(rove__buf *out, size_t max)
{
    size_t n = 0;
    rove__buf b = ROVE__BUF_INIT;

    rove__sync_req_begin(&b, 0, 5000, 1, 0);
    out[n++] = b, rove__buf_init(&b);

    rove__change acc = change("account", ROVE__OP_INSERT, 1);
    set(&acc, "name", vt("Acme Pty"));
    set(&acc, "source_channel", vt("referral"));
    set(&acc, "lat", vr(-33.8688));
    set(&acc, "lon", vr(151.2093));
    set(&acc, "visit_freq_days", vi(14));
    set(&acc, "notes", vn());
    set(&acc, "discount_pct", vi(50));
    rove__sync_req_begin(&b, 12, 100, 99, 1);
    rove__sync_req_add(&b, &acc);
    out[n++] = b, rove__buf_init(&b);

    rove__change con = change("contact", ROVE__OP_INSERT, 2);
    set(&con, "account_id", vt(acc.id));
    set(&con, "name", vt("Zoë Müller"));
    set(&con, "decision_role", vt("champion"));
    set(&con, "is_primary", vi(1));
    rove__change vis = change("visit", ROVE__OP_UPDATE, 3);
    set(&vis, "status", vt("checked_in"));
    set(&vis, "checkin_at", vi(1700000123456));
    set(&vis, "checkin_lat", vr(48.8566));
    set(&vis, "geo_check", vt("within_range"));
    rove__change task = change("service_task", ROVE__OP_INSERT, 4);
    set(&task, "account_id", vt(acc.id));
    set(&task, "type", vt("complaint"));
    set(&task, "priority", vt("urgent"));
    set(&task, "title", vt("Pump leaking 💧"));
    set(&task, "status", vt("new"));
    set(&task, "satisfaction", vi(-1));
    rove__change del = change("account", ROVE__OP_DELETE, 5);
    rove__sync_req_begin(&b, 7, 1, 7, 5);
    rove__sync_req_add(&b, &acc);
    rove__sync_req_add(&b, &con);
    rove__sync_req_add(&b, &vis);
    rove__sync_req_add(&b, &task);
    rove__sync_req_add(&b, &del);
    out[n++] = b, rove__buf_init(&b);

    /* Every column of one table, extreme numbers. */
    rove__change all = change("service_task", ROVE__OP_INSERT, 6);
    const rove__table *t = all.table;
    for (size_t c = ROVE__SYS_COLS; c < t->ncols; c++) {
        const rove__column *cc = &t->cols[c];
        rove__value v = cc->type == ROVE__T_INT       ? vi(c & 1 ? INT64_MAX : INT64_MIN)
                        : cc->type == ROVE__T_REAL    ? vr(1e308)
                        : cc->enum_values             ? vt(cc->enum_values[0])
                        : (cc->flags & ROVE__COL_REF) ? vt(ulid(7))
                                                      : vt("t");
        all.col[all.ncols] = (int)c;
        all.val[all.ncols++] = v;
    }
    rove__sync_req_begin(&b, INT64_MAX, INT64_MAX, INT64_MAX, 1);
    rove__sync_req_add(&b, &all);
    out[n++] = b, rove__buf_init(&b);

    /* Many small changes. */
    rove__sync_req_begin(&b, 1, 1, 1, 40);
    for (unsigned i = 0; i < 40; i++) {
        rove__change d = change("contact", i % 2 ? ROVE__OP_DELETE : ROVE__OP_UPDATE, 100 + i);
        if (d.op == ROVE__OP_UPDATE)
            set(&d, "title", vt("x"));
        rove__sync_req_add(&b, &d);
    }
    out[n++] = b, rove__buf_init(&b);
    (void)max;
    return n;
}

static void raw_begin(rove__buf *b, int64_t v, size_t nchanges, int extra_key)
{
    rove__w_map(b, extra_key ? 6 : 5);
    if (extra_key) {
        rove__w_text(b, "future");
        rove__w_map(b, 1);
        rove__w_text(b, "k");
        rove__w_array(b, 2);
        rove__w_bytes(b, "\x00\x01", 2);
        rove__w_real(b, 0.5);
    }
    rove__w_text(b, "v");
    rove__w_int(b, v);
    rove__w_text(b, "cursor");
    rove__w_int(b, 3);
    rove__w_text(b, "limit");
    rove__w_int(b, 10);
    rove__w_text(b, "hlc");
    rove__w_int(b, 4);
    rove__w_text(b, "changes");
    rove__w_array(b, nchanges);
}

static void raw_change(rove__buf *b, const char *cid, const char *table, int64_t op,
                       const char *id, size_t ncols)
{
    rove__w_array(b, 7);
    rove__w_text(b, cid);
    rove__w_text(b, table);
    rove__w_int(b, op);
    rove__w_text(b, id);
    rove__w_int(b, 0);
    rove__w_int(b, 1);
    rove__w_map(b, ncols);
}

static void one(rove__buf *b, const char *table, const char *column)
{
    raw_begin(b, 1, 1, 0);
    raw_change(b, ulid(1), table, 1, ulid(2), 1);
    rove__w_text(b, column);
}

static void gen_requests(void)
{
    const char *T = "sync_req";
    rove__buf v[8];
    size_t nv = valid_requests(v, 8);
    for (size_t i = 0; i < nv; i++) {
        char name[32];
        snprintf(name, sizeof(name), "valid_%zu", i);
        save_buf(T, name, &v[i]);
        rove__buf_free(&v[i]);
    }
    rove__buf b = ROVE__BUF_INIT;
    raw_begin(&b, 1, 0, 1);
    save_buf(T, "unknown_key", &b);
    one(&b, "accounts", "name");
    rove__w_text(&b, "x");
    save_buf(T, "unknown_table", &b);
    one(&b, "account", "nmae");
    rove__w_text(&b, "x");
    save_buf(T, "unknown_column", &b);
    one(&b, "account", "version");
    rove__w_int(&b, 1);
    save_buf(T, "system_column", &b);
    one(&b, "account", "owner_id");
    rove__w_text(&b, ulid(3));
    save_buf(T, "server_owned_column", &b);
    one(&b, "contact", "account_id");
    rove__w_text(&b, "8ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    save_buf(T, "bad_ref_id", &b);
    raw_begin(&b, 1, 1, 0);
    raw_change(&b, ulid(1), "account", 3, "01arz3ndektsv4rrffq69g5fav", 0);
    save_buf(T, "bad_record_id", &b);
    one(&b, "account", "name");
    rove__w_int(&b, 5);
    save_buf(T, "wrong_type", &b);
    one(&b, "account", "lat");
    rove__w_int(&b, 5);
    save_buf(T, "int_for_real", &b);
    one(&b, "service_task", "priority");
    rove__w_text(&b, "URGENT");
    save_buf(T, "bad_enum", &b);
    one(&b, "account", "name");
    rove__w_textn(&b, "\xed\xa0\x80", 3);
    save_buf(T, "surrogate_text", &b);
    one(&b, "account", "name");
    rove__w_real(&b, NAN);
    save_buf(T, "nan", &b);
    raw_begin(&b, 2, 0, 0);
    save_buf(T, "version_2", &b);
    raw_begin(&b, 1, 1, 0);
    raw_change(&b, ulid(1), "account", 2, ulid(2), 2);
    rove__w_text(&b, "name");
    rove__w_text(&b, "a");
    rove__w_text(&b, "name");
    rove__w_text(&b, "b");
    save_buf(T, "duplicate_column", &b);
    raw_begin(&b, 1, 1, 0);
    raw_change(&b, ulid(1), "account", 3, ulid(2), 1);
    rove__w_text(&b, "name");
    rove__w_text(&b, "a");
    save_buf(T, "delete_with_columns", &b);
    raw_begin(&b, 1, 1, 0);
    raw_change(&b, ulid(1), "account", 2, ulid(2), 0);
    save_buf(T, "update_without_columns", &b);
    raw_begin(&b, 1, 0, 0);
    rove__w_int(&b, 0);
    save_buf(T, "trailing_byte", &b);
    raw_begin(&b, 1, ROVE__MAX_CHANGES + 1, 0);
    for (unsigned i = 0; i < ROVE__MAX_CHANGES + 1; i++)
        rove__w_int(&b, 0);
    save_buf(T, "too_many_changes", &b);
    raw_begin(&b, 1, 1, 0);
    for (int i = 0; i < 20; i++)
        rove__w_array(&b, 1);
    rove__w_int(&b, 0);
    save_buf(T, "deep_nesting", &b);
    rove__buf_free(&b);
}

/* Inflate target inputs start with a mode byte (see inflate_fuzzer.c): even
 * for a zlib stream to inflate as is, odd for plain bytes it deflates. */
static void save_mode(const char *name, int mode, rove__buf *payload)
{
    rove__buf b = ROVE__BUF_INIT;
    unsigned char m = (unsigned char)mode;
    rove__buf_put(&b, &m, 1);
    rove__buf_put(&b, payload->ptr, payload->len);
    save_buf("inflate", name, &b);
    rove__buf_free(&b);
    rove__buf_clear(payload);
}

static void gen_compressed(void)
{
    rove__buf v[8], z = ROVE__BUF_INIT;
    size_t nv = valid_requests(v, 8);
    for (size_t i = 0; i < nv; i++) {
        char name[32];
        snprintf(name, sizeof(name), "valid_%zu", i);
        rove__deflate(&z, v[i].ptr, v[i].len, i % 2 ? 9 : 1);
        save_mode(name, 0, &z);
        if (i == 2) {
            rove__deflate(&z, v[i].ptr, v[i].len, 0); /* stored blocks */
            save_mode("stored", 0, &z);
            rove__deflate(&z, v[i].ptr, v[i].len, -1);
            z.len -= 3;
            save_mode("truncated", 0, &z);
            rove__deflate(&z, v[i].ptr, v[i].len, -1);
            rove__buf_put(&z, "junk", 4);
            save_mode("trailing", 0, &z);
            rove__deflate(&z, v[i].ptr, v[i].len, -1);
            z.ptr[z.len - 1] ^= 1;
            save_mode("bad_checksum", 0, &z);
        }
        if (i == 1 || i == 3) {
            snprintf(name, sizeof(name), "plain_%zu", i);
            save_mode(name, 1 + 2 * (int)i, &v[i]);
        }
        rove__buf_free(&v[i]);
    }
    /* A bomb: 256 KiB of zeros, four times the inflate target's cap. */
    unsigned char *zeros = calloc(1, 256 * 1024);
    if (zeros == NULL)
        die("calloc");
    rove__deflate(&z, zeros, 256 * 1024, 9);
    save_mode("bomb_256k", 0, &z);
    rove__deflate(&z, zeros, 64 * 1024, 9);
    save_mode("zeros_at_cap", 0, &z);
    free(zeros);
    rove__deflate(&z, "", 0, 9);
    save_mode("empty", 0, &z);
    rove__buf_free(&z);
}

static void gen_responses(void)
{
    const char *T = "sync_resp";
    const rove__table *acc = tbl("account"), *con = tbl("contact"), *task = tbl("service_task");
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_resp_hdr h = {1, 42, 0, 1700000000000, 123456, 0, 0, NULL, 0};

    rove__sync_resp_begin(&b, 0);
    rove__sync_resp_tables_begin(&b, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_finish(&b, &h);
    save_buf(T, "empty", &b);

    /* A silent token refresh (docs/protocol.md). */
    rove__sync_resp_hdr ht = h;
    ht.token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ht.token_len = 64;
    rove__sync_resp_begin(&b, 0);
    rove__sync_resp_tables_begin(&b, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_finish(&b, &ht);
    save_buf(T, "token_refresh", &b);

    /* An overridden receipt with its lost columns, a revoked device, leases. */
    rove__buf lost = ROVE__BUF_INIT;
    rove__lost_begin(&lost, acc, 2);
    rove__value w1 = {ROVE__T_TEXT, 0, 0, "Newer address", 13};
    rove__value w2 = {ROVE__T_REAL, 0, 15.0, NULL, 0};
    rove__lost_add(&lost, &acc->cols[rove__schema_col(acc, "address", 7)], &w1, "lww");
    rove__lost_add(&lost, &acc->cols[rove__schema_col(acc, "discount_pct", 12)], &w2, "server");
    rove__sync_resp_begin(&b, 1);
    rove__receipt lr = {.change_id = ulid(5),
                        .change_id_len = ROVE__ID_LEN,
                        .status = ROVE__RC_OVERRIDDEN,
                        .code = "conflict",
                        .code_len = 8,
                        .version = 12,
                        .lost_cbor = lost.ptr,
                        .lost_cbor_len = lost.len};
    rove__sync_resp_receipt(&b, &lr);
    rove__sync_resp_tables_begin(&b, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_hdr hr = {1, 42, 0, 1700000000000, 123456, 1700000900000, 77, NULL, 0};
    rove__sync_resp_finish(&b, &hr);
    save_buf(T, "lost_revoked_leases", &b);
    rove__buf_free(&lost);

    rove__sync_resp_begin(&b, 4);
    rove__receipt r[4] = {
        {.change_id = ulid(1),
         .change_id_len = ROVE__ID_LEN,
         .status = ROVE__RC_APPLIED,
         .code = NULL,
         .code_len = 0,
         .message = NULL,
         .message_len = 0,
         .version = 10},
        {.change_id = ulid(2),
         .change_id_len = ROVE__ID_LEN,
         .status = ROVE__RC_MERGED,
         .code = NULL,
         .code_len = 0,
         .message = "merged with a concurrent edit",
         .message_len = 29,
         .version = 11},
        {.change_id = ulid(3),
         .change_id_len = ROVE__ID_LEN,
         .status = ROVE__RC_REJECTED,
         .code = "server_owned",
         .code_len = 12,
         .message = "owner_id",
         .message_len = 8,
         .version = 0},
        {.change_id = ulid(4),
         .change_id_len = ROVE__ID_LEN,
         .status = ROVE__RC_QUARANTINED,
         .code = "conflict",
         .code_len = 8,
         .message = NULL,
         .message_len = 0,
         .version = 0},
    };
    for (int i = 0; i < 4; i++)
        rove__sync_resp_receipt(&b, &r[i]);
    rove__sync_resp_tables_begin(&b, 3);
    int ac[6] = {col(acc, "id"),   col(acc, "version"), col(acc, "deleted"),
                 col(acc, "name"), col(acc, "lat"),     col(acc, "tier")};
    rove__sync_resp_table_begin(&b, acc, ac, 6, 2);
    for (unsigned i = 0; i < 2; i++) {
        rove__value vals[6] = {vt(ulid(50 + i)), vi(100 + i),        vi(0),
                               vt("Acme"),       i ? vn() : vr(1.5), vt("VIP")};
        rove__sync_resp_row_begin(&b, 6);
        for (int c = 0; c < 6; c++)
            rove__sync_resp_value(&b, &vals[c]);
    }
    int cc[3] = {col(con, "id"), col(con, "account_id"), col(con, "email")};
    rove__sync_resp_table_begin(&b, con, cc, 3, 1);
    rove__value cv[3] = {vt(ulid(60)), vt(ulid(50)), vt("a@b.example")};
    rove__sync_resp_row_begin(&b, 3);
    for (int c = 0; c < 3; c++)
        rove__sync_resp_value(&b, &cv[c]);
    int tc[4] = {col(task, "status"), col(task, "id"), col(task, "sla_resolve_due"),
                 col(task, "notes")};
    rove__sync_resp_table_begin(&b, task, tc, 4, 1);
    rove__value tv[4] = {vt("follow_up"), vt(ulid(70)), vi(INT64_MAX), vt("line 1\nline 2")};
    rove__sync_resp_row_begin(&b, 4);
    for (int c = 0; c < 4; c++)
        rove__sync_resp_value(&b, &tv[c]);
    rove__sync_resp_evictions_begin(&b, 2);
    rove__sync_resp_eviction(&b, acc, ulid(80), "transferred");
    rove__sync_resp_eviction(&b, task, ulid(81), "reassigned");
    h.more = 1;
    rove__sync_resp_finish(&b, &h);
    save_buf(T, "full", &b);

    /* Forward compatibility: unknown key, unknown columns with odd values. */
    rove__w_map(&b, 4);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    rove__w_text(&b, "future");
    rove__w_array(&b, 1);
    rove__w_map(&b, 0);
    rove__w_text(&b, "tables");
    rove__w_array(&b, 1);
    rove__w_array(&b, 3);
    rove__w_text(&b, "visit");
    rove__w_array(&b, 3);
    rove__w_text(&b, "x_new");
    rove__w_text(&b, "id");
    rove__w_text(&b, "status");
    rove__w_array(&b, 1);
    rove__w_array(&b, 3);
    rove__w_array(&b, 2);
    rove__w_bytes(&b, "\xff", 1);
    rove__w_bool(&b, 1);
    rove__w_text(&b, ulid(90));
    rove__w_text(&b, "some_future_status");
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    save_buf(T, "forward_compat", &b);

    /* Near misses. */
    rove__w_map(&b, 2);
    rove__w_text(&b, "cursor");
    rove__w_int(&b, 0);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    save_buf(T, "version_not_first", &b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    save_buf(T, "no_cursor", &b);
    rove__sync_resp_begin(&b, 0);
    rove__sync_resp_tables_begin(&b, 1);
    int nid[1] = {col(acc, "name")};
    rove__sync_resp_table_begin(&b, acc, nid, 1, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_finish(&b, &h);
    save_buf(T, "table_without_id", &b);
    rove__sync_resp_begin(&b, 1);
    rove__receipt bad = {.change_id = "short",
                         .change_id_len = 5,
                         .status = ROVE__RC_APPLIED,
                         .code = NULL,
                         .code_len = 0,
                         .message = NULL,
                         .message_len = 0,
                         .version = 0};
    rove__sync_resp_receipt(&b, &bad);
    rove__sync_resp_tables_begin(&b, 0);
    rove__sync_resp_evictions_begin(&b, 0);
    rove__sync_resp_finish(&b, &h);
    save_buf(T, "bad_receipt_id", &b);
    rove__buf_free(&b);
}

static void gen_flat(void)
{
    const char *T = "flat";
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 5);
    rove__w_text(&b, "token");
    rove__w_text(&b, "tok_0123456789abcdef");
    rove__w_text(&b, "user");
    rove__w_text(&b, ulid(1));
    rove__w_text(&b, "expires");
    rove__w_int(&b, 1700000000000);
    rove__w_text(&b, "ok");
    rove__w_bool(&b, 1);
    rove__w_text(&b, "ratio");
    rove__w_real(&b, 0.75);
    save_buf(T, "login", &b);
    rove__w_map(&b, 3);
    rove__w_text(&b, "device");
    rove__w_null(&b);
    rove__w_text(&b, "unknown");
    rove__w_text(&b, "skipped");
    rove__w_text(&b, "");
    rove__w_text(&b, "1234567");
    save_buf(T, "null_unknown_empty_key", &b);
    rove__w_map(&b, 2);
    rove__w_text(&b, "token");
    rove__w_text(&b, "a");
    rove__w_text(&b, "token");
    rove__w_text(&b, "b");
    save_buf(T, "duplicate", &b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "token");
    rove__w_array(&b, 0);
    save_buf(T, "container", &b);
    rove__w_map(&b, 0);
    save_buf(T, "empty", &b);
    rove__w_map(&b, 1);
    rove__w_text(&b, "user");
    rove__w_text(&b, "12345678");
    save_buf(T, "text_size_8", &b);
    rove__buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        die(outdir);
    gen_requests();
    gen_compressed();
    gen_responses();
    gen_flat();
    printf("gen_corpus: wrote %d files under %s\n", nwritten, outdir);
    return 0;
}
