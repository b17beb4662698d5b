/* Sync protocol messages: encoders and validating decoders (see proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "proto.h"
#include "rove/errors.h"
#include "wire.h"

int rove__err(rove__errinfo *e, int code, const char *fmt, ...)
{
    if (e != NULL) {
        e->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies at most 40 bytes of hostile text into dst for an error message,
 * replacing anything but [A-Za-z0-9_.-] so it is safe in logs and headers. */
static const char *safe(char *dst, size_t size, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size && n < 40; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        dst[n++] = ok ? ch : '?';
    }
    dst[n] = 0;
    return dst;
}

/* ---- values ------------------------------------------------------------ */

static void write_value(rove__buf *b, const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_INT:
        rove__w_int(b, v->i);
        break;
    case ROVE__T_REAL:
        rove__w_real(b, v->d);
        break;
    case ROVE__T_TEXT:
        rove__w_textn(b, v->s ? v->s : "", v->s ? v->len : 0);
        break;
    default:
        rove__w_null(b);
        break;
    }
}

/*
 * Reads one value for column c. Integers are accepted for REAL columns (and
 * widened); nothing else is coerced. check_enum: 1 to refuse values outside
 * an enum column's list (pushes); pulls accept newer servers' values.
 */
static int read_value(rove__reader *r, const rove__column *c, rove__value *v, int check_enum,
                      rove__errinfo *err, const char *where)
{
    rove__item it;
    int rc = rove__r_next(r, &it);
    if (rc != 0)
        return rove__err(err, ROVE_EPROTO, "%s: truncated or malformed value", where);
    memset(v, 0, sizeof(*v));
    switch (it.kind) {
    case ROVE__K_NULL:
        v->type = ROVE__T_NULL;
        return 0;
    case ROVE__K_INT:
        if (c->type == ROVE__T_INT) {
            v->type = ROVE__T_INT;
            v->i = it.i;
            return 0;
        }
        if (c->type == ROVE__T_REAL) {
            v->type = ROVE__T_REAL;
            v->d = (double)it.i;
            return 0;
        }
        break;
    case ROVE__K_REAL:
        if (c->type == ROVE__T_REAL && it.d == it.d /* not NaN */) {
            v->type = ROVE__T_REAL;
            v->d = it.d;
            return 0;
        }
        break;
    case ROVE__K_TEXT:
        if (c->type != ROVE__T_TEXT)
            break;
        if (it.len > ROVE__MAX_TEXT)
            return rove__err(err, ROVE_EBADVALUE, "%s: column %s: text longer than %u bytes",
                             where, c->name, ROVE__MAX_TEXT);
        if (!rove__utf8_valid(it.s, it.len))
            return rove__err(err, ROVE_EBADVALUE, "%s: column %s: text is not valid UTF-8",
                             where, c->name);
        if (check_enum && (c->flags & ROVE__COL_ENUM) &&
            !rove__schema_enum_ok(c, it.s, it.len)) {
            char tmp[48];
            return rove__err(err, ROVE_EBADVALUE, "%s: column %s: '%s' is not an allowed value",
                             where, c->name, safe(tmp, sizeof(tmp), it.s, it.len));
        }
        if ((c->flags & ROVE__COL_REF) && !rove__id_valid(it.s, it.len))
            return rove__err(err, ROVE_EBADID, "%s: column %s: not a valid id", where, c->name);
        v->type = ROVE__T_TEXT;
        v->s = it.s;
        v->len = it.len;
        return 0;
    default:
        return rove__err(err, ROVE_EBADVALUE, "%s: column %s: unsupported value kind", where,
                         c->name);
    }
    return rove__err(err, ROVE_EBADVALUE, "%s: column %s: wrong type", where, c->name);
}

/* ---- sync request ------------------------------------------------------ */

void rove__sync_req_begin(rove__buf *b, int64_t cursor, int64_t limit, int64_t hlc,
                          size_t nchanges)
{
    rove__w_map(b, 5);
    rove__w_text(b, "v");
    rove__w_int(b, ROVE__PROTO_VERSION);
    rove__w_text(b, "cursor");
    rove__w_int(b, cursor);
    rove__w_text(b, "limit");
    rove__w_int(b, limit);
    rove__w_text(b, "hlc");
    rove__w_int(b, hlc);
    rove__w_text(b, "changes");
    rove__w_array(b, nchanges);
}

void rove__sync_req_add(rove__buf *b, const rove__change *c)
{
    rove__w_array(b, 7);
    rove__w_textn(b, c->change_id, c->change_id_len);
    rove__w_text(b, c->table->name);
    rove__w_int(b, c->op);
    rove__w_text(b, c->id);
    rove__w_int(b, c->base_version);
    rove__w_int(b, c->hlc);
    rove__w_map(b, c->ncols);
    for (size_t i = 0; i < c->ncols; i++) {
        rove__w_text(b, c->table->cols[c->col[i]].name);
        write_value(b, &c->val[i]);
    }
}

static int parse_change(rove__reader *r, rove__change *ch, size_t index, rove__errinfo *err)
{
    char where[48], tmp[48];
    snprintf(where, sizeof(where), "change %zu", index);
    size_t n;
    const char *s;
    size_t len;
    if (rove__r_array(r, &n) != 0 || n != 7)
        return rove__err(err, ROVE_EPROTO, "%s: expected an array of 7 items", where);
    if (rove__r_text(r, &s, &len) != 0)
        return rove__err(err, ROVE_EPROTO, "%s: change id must be text", where);
    if (!rove__id_valid(s, len))
        return rove__err(err, ROVE_EBADID, "%s: change id is not a valid ULID", where);
    ch->change_id = s;
    ch->change_id_len = len;
    if (rove__r_text(r, &s, &len) != 0)
        return rove__err(err, ROVE_EPROTO, "%s: table must be text", where);
    ch->table = rove__schema_table(s, len);
    if (ch->table == NULL)
        return rove__err(err, ROVE_EUNKNOWNTABLE, "%s: unknown table '%s'", where,
                         safe(tmp, sizeof(tmp), s, len));
    int64_t op;
    if (rove__r_int(r, &op) != 0 || op < ROVE__OP_INSERT || op > ROVE__OP_DELETE)
        return rove__err(err, ROVE_EPROTO,
                         "%s: op must be 1 (insert), 2 (update) or 3 (delete)", where);
    ch->op = (rove__op)op;
    if (rove__r_text(r, &s, &len) != 0)
        return rove__err(err, ROVE_EPROTO, "%s: record id must be text", where);
    if (!rove__id_valid(s, len))
        return rove__err(err, ROVE_EBADID, "%s: record id is not a valid ULID", where);
    memcpy(ch->id, s, len);
    ch->id[len] = 0;
    if (rove__r_int(r, &ch->base_version) != 0 || ch->base_version < 0)
        return rove__err(err, ROVE_EPROTO, "%s: base version must be a non-negative integer",
                         where);
    if (rove__r_int(r, &ch->hlc) != 0 || ch->hlc < 0)
        return rove__err(err, ROVE_EPROTO, "%s: hlc must be a non-negative integer", where);
    size_t ncols;
    if (rove__r_map(r, &ncols) != 0)
        return rove__err(err, ROVE_EPROTO, "%s: columns must be a map", where);
    if (ncols > ch->table->ncols)
        return rove__err(err, ROVE_EPROTO, "%s: too many columns", where);
    if (ch->op == ROVE__OP_DELETE && ncols != 0)
        return rove__err(err, ROVE_EPROTO, "%s: a delete carries no columns", where);
    if (ch->op == ROVE__OP_UPDATE && ncols == 0)
        return rove__err(err, ROVE_EPROTO, "%s: an update changes at least one column", where);
    ch->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        if (rove__r_text(r, &s, &len) != 0)
            return rove__err(err, ROVE_EPROTO, "%s: column names must be text", where);
        int col = rove__schema_col(ch->table, s, len);
        if (col < 0)
            return rove__err(err, ROVE_EUNKNOWNCOLUMN, "%s: unknown column '%s' in table %s",
                             where, safe(tmp, sizeof(tmp), s, len), ch->table->name);
        if (ch->table->cols[col].flags & ROVE__COL_SYSTEM)
            return rove__err(err, ROVE_EFORBIDDEN, "%s: column %s is maintained by the server",
                             where, ch->table->cols[col].name);
        for (size_t k = 0; k < i; k++)
            if (ch->col[k] == col)
                return rove__err(err, ROVE_EPROTO, "%s: column %s given twice", where,
                                 ch->table->cols[col].name);
        ch->col[i] = col;
        int rc = read_value(r, &ch->table->cols[col], &ch->val[i], 1, err, where);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rove__sync_req_parse(rove__sync_req *req, const void *buf, size_t len, rove__errinfo *err)
{
    memset(req, 0, sizeof(*req));
    req->version = -1;
    rove__reader r;
    rove__r_init(&r, buf, len);
    size_t npairs;
    int rc;
    int have_changes = 0;
    if (rove__r_map(&r, &npairs) != 0)
        return rove__err(err, ROVE_EPROTO, "request must be a CBOR map");
    for (size_t p = 0; p < npairs; p++) {
        const char *key;
        size_t klen;
        if (rove__r_text(&r, &key, &klen) != 0) {
            rc = rove__err(err, ROVE_EPROTO, "request keys must be text");
            goto fail;
        }
        int64_t *field = rove__text_eq(key, klen, "v")        ? &req->version
                         : rove__text_eq(key, klen, "cursor") ? &req->cursor
                         : rove__text_eq(key, klen, "limit")  ? &req->limit
                         : rove__text_eq(key, klen, "hlc")    ? &req->hlc
                                                              : NULL;
        if (field != NULL) {
            if (rove__r_int(&r, field) != 0 || *field < 0) {
                char tmp[48];
                rc = rove__err(err, ROVE_EPROTO, "'%s' must be a non-negative integer",
                               safe(tmp, sizeof(tmp), key, klen));
                goto fail;
            }
            if (field == &req->version && req->version != ROVE__PROTO_VERSION) {
                rc = rove__err(err, ROVE_EVERSION,
                               "protocol version %lld is not supported "
                               "(this server speaks %d)",
                               (long long)req->version, ROVE__PROTO_VERSION);
                goto fail;
            }
        } else if (rove__text_eq(key, klen, "changes")) {
            size_t n;
            if (have_changes || rove__r_array(&r, &n) != 0) {
                rc = rove__err(err, ROVE_EPROTO, "'changes' must be one array");
                goto fail;
            }
            have_changes = 1;
            if (n > ROVE__MAX_CHANGES) {
                rc = rove__err(err, ROVE_ETOOBIG, "%zu changes in one request (max %u)", n,
                               ROVE__MAX_CHANGES);
                goto fail;
            }
            if (n > 0) {
                req->changes = calloc(n, sizeof(*req->changes));
                if (req->changes == NULL) {
                    rc = rove__err(err, ROVE_ENOMEM, "out of memory");
                    goto fail;
                }
            }
            for (size_t i = 0; i < n; i++) {
                if ((rc = parse_change(&r, &req->changes[i], i, err)) != 0)
                    goto fail;
                req->nchanges = i + 1;
            }
        } else if (rove__r_skip_value(&r) != 0) {
            rc = rove__err(err, ROVE_EPROTO, "malformed value in request");
            goto fail;
        }
    }
    if (req->version < 0) {
        rc = rove__err(err, ROVE_EVERSION, "request has no protocol version");
        goto fail;
    }
    if (!rove__r_done(&r)) {
        rc = rove__err(err, ROVE_EPROTO, "trailing bytes after the request");
        goto fail;
    }
    return 0;
fail:
    rove__sync_req_free(req);
    return rc;
}

void rove__sync_req_free(rove__sync_req *req)
{
    free(req->changes);
    req->changes = NULL;
    req->nchanges = 0;
}

/* ---- sync response ----------------------------------------------------- */

void rove__sync_resp_begin(rove__buf *b, size_t nreceipts)
{
    rove__w_map(b, 11);
    rove__w_text(b, "v");
    rove__w_int(b, ROVE__PROTO_VERSION);
    rove__w_text(b, "receipts");
    rove__w_array(b, nreceipts);
}

void rove__sync_resp_receipt(rove__buf *b, const rove__receipt *r)
{
    int lost = r->lost_cbor != NULL && r->lost_cbor_len > 0;
    rove__w_array(b, lost ? 6 : 5);
    rove__w_textn(b, r->change_id, r->change_id_len);
    rove__w_int(b, r->status);
    rove__w_textn(b, r->code, r->code_len);
    rove__w_textn(b, r->message, r->message_len);
    rove__w_int(b, r->version);
    if (lost)
        rove__buf_put(b, r->lost_cbor, r->lost_cbor_len);
}

void rove__lost_begin(rove__buf *b, const rove__table *t, size_t n)
{
    rove__w_array(b, 2);
    rove__w_text(b, t->name);
    rove__w_array(b, n);
}

void rove__lost_add(rove__buf *b, const rove__column *c, const rove__value *winner,
                    const char *policy)
{
    rove__w_array(b, 3);
    rove__w_text(b, c->name);
    write_value(b, winner);
    rove__w_text(b, policy);
}

/* [table, [[column, winning value, policy], ...]] */
static int parse_lost(rove__reader *r, rove__receipt *rc_, size_t i, rove__errinfo *err)
{
    size_t m, n;
    const char *s;
    size_t len;
    if (rove__r_array(r, &m) != 0 || m != 2 || rove__r_text(r, &s, &len) != 0)
        return rove__err(err, ROVE_EPROTO, "receipt %zu: malformed lost columns", i);
    rc_->lost_table = rove__schema_table(s, len);
    if (rc_->lost_table == NULL)
        return rove__err(err, ROVE_EUNKNOWNTABLE, "receipt %zu: unknown table", i);
    if (rove__r_array(r, &n) != 0 || n > ROVE__MAX_COLS)
        return rove__err(err, ROVE_EPROTO, "receipt %zu: malformed lost columns", i);
    for (size_t k = 0; k < n; k++) {
        rove__lost *l = &rc_->lost[rc_->nlost];
        if (rove__r_array(r, &m) != 0 || m != 3 || rove__r_text(r, &s, &len) != 0)
            return rove__err(err, ROVE_EPROTO, "receipt %zu: malformed lost column", i);
        int col = rove__schema_col(rc_->lost_table, s, len);
        if (col < 0) { /* a newer server's column: skip it */
            if (rove__r_skip_value(r) != 0 || rove__r_skip_value(r) != 0)
                return rove__err(err, ROVE_EPROTO, "receipt %zu: malformed lost column", i);
            continue;
        }
        char where[48];
        snprintf(where, sizeof(where), "receipt %zu", i);
        int rc = read_value(r, &rc_->lost_table->cols[col], &l->winner, 0, err, where);
        if (rc != 0)
            return rc;
        if (rove__r_text(r, &l->policy, &l->policy_len) != 0 || l->policy_len > 64 ||
            !rove__utf8_valid(l->policy, l->policy_len))
            return rove__err(err, ROVE_EPROTO, "receipt %zu: malformed policy", i);
        for (size_t j = 0; j < rc_->nlost; j++)
            if (rc_->lost[j].col == col)
                return rove__err(err, ROVE_EPROTO, "receipt %zu: column %s lost twice", i,
                                 rc_->lost_table->cols[col].name);
        l->col = col;
        rc_->nlost++;
    }
    return 0;
}

void rove__sync_resp_tables_begin(rove__buf *b, size_t ntables)
{
    rove__w_text(b, "tables");
    rove__w_array(b, ntables);
}

void rove__sync_resp_table_begin(rove__buf *b, const rove__table *t, const int *cols,
                                 size_t ncols, size_t nrows)
{
    rove__w_array(b, 3);
    rove__w_text(b, t->name);
    rove__w_array(b, ncols);
    for (size_t i = 0; i < ncols; i++)
        rove__w_text(b, t->cols[cols[i]].name);
    rove__w_array(b, nrows);
}

void rove__sync_resp_row_begin(rove__buf *b, size_t ncols) { rove__w_array(b, ncols); }

void rove__sync_resp_value(rove__buf *b, const rove__value *v) { write_value(b, v); }

void rove__sync_resp_evictions_begin(rove__buf *b, size_t n)
{
    rove__w_text(b, "evict");
    rove__w_array(b, n);
}

void rove__sync_resp_eviction(rove__buf *b, const rove__table *t, const char *id,
                              const char *reason)
{
    rove__w_array(b, 3);
    rove__w_text(b, t->name);
    rove__w_text(b, id);
    rove__w_text(b, reason);
}

void rove__sync_resp_finish(rove__buf *b, const rove__sync_resp_hdr *h)
{
    rove__w_text(b, "cursor");
    rove__w_int(b, h->cursor);
    rove__w_text(b, "more");
    rove__w_bool(b, h->more);
    rove__w_text(b, "server_time");
    rove__w_int(b, h->server_time);
    rove__w_text(b, "hlc");
    rove__w_int(b, h->hlc);
    rove__w_text(b, "revoked");
    rove__w_int(b, h->revoked_until);
    rove__w_text(b, "leases");
    rove__w_int(b, h->lease_gen);
    rove__w_text(b, "token");
    if (h->token != NULL)
        rove__w_textn(b, h->token, h->token_len);
    else
        rove__w_null(b);
}

static int parse_receipts(rove__reader *r, const rove__sync_resp_handler *h, void *payload,
                          rove__errinfo *err)
{
    size_t n;
    if (rove__r_array(r, &n) != 0)
        return rove__err(err, ROVE_EPROTO, "'receipts' must be an array");
    for (size_t i = 0; i < n; i++) {
        rove__receipt rc_ = {0};
        size_t m;
        int64_t status;
        if (rove__r_array(r, &m) != 0 || (m != 5 && m != 6) ||
            rove__r_text(r, &rc_.change_id, &rc_.change_id_len) != 0 ||
            rove__r_int(r, &status) != 0 ||
            rove__r_text_or_null(r, &rc_.code, &rc_.code_len) != 0 ||
            rove__r_text_or_null(r, &rc_.message, &rc_.message_len) != 0 ||
            rove__r_int(r, &rc_.version) != 0)
            return rove__err(err, ROVE_EPROTO, "receipt %zu is malformed", i);
        if (!rove__id_valid(rc_.change_id, rc_.change_id_len))
            return rove__err(err, ROVE_EBADID, "receipt %zu: invalid change id", i);
        if (status < ROVE__RC_APPLIED || status > ROVE__RC_OVERRIDDEN)
            return rove__err(err, ROVE_EPROTO, "receipt %zu: unknown status %lld", i,
                             (long long)status);
        if ((rc_.code && rc_.code_len > 64) || (rc_.message && rc_.message_len > 1024))
            return rove__err(err, ROVE_EPROTO, "receipt %zu: oversized code or message", i);
        /* Receipts reach the app and its UI: text must be text. */
        if ((rc_.code && !rove__utf8_valid(rc_.code, rc_.code_len)) ||
            (rc_.message && !rove__utf8_valid(rc_.message, rc_.message_len)))
            return rove__err(err, ROVE_EPROTO, "receipt %zu: code or message is not UTF-8", i);
        rc_.status = (rove__receipt_status)status;
        if (m == 6) {
            int rc = parse_lost(r, &rc_, i, err);
            if (rc != 0)
                return rc;
        }
        if (h->receipt != NULL) {
            int rc = h->receipt(&rc_, payload);
            if (rc != 0)
                return rove__err(err, rc, "receipt callback aborted");
        }
    }
    return 0;
}

static int parse_tables(rove__reader *r, const rove__sync_resp_handler *h, void *payload,
                        rove__errinfo *err)
{
    size_t ntables;
    char tmp[48];
    if (rove__r_array(r, &ntables) != 0)
        return rove__err(err, ROVE_EPROTO, "'tables' must be an array");
    for (size_t t = 0; t < ntables; t++) {
        size_t m, ncols, nrows;
        const char *s;
        size_t len;
        if (rove__r_array(r, &m) != 0 || m != 3 || rove__r_text(r, &s, &len) != 0)
            return rove__err(err, ROVE_EPROTO, "table block %zu is malformed", t);
        const rove__table *tbl = rove__schema_table(s, len);
        if (tbl == NULL)
            return rove__err(err, ROVE_EUNKNOWNTABLE, "unknown table '%s'",
                             safe(tmp, sizeof(tmp), s, len));
        if (rove__r_array(r, &ncols) != 0 || ncols == 0 || ncols > ROVE__MAX_COLS)
            return rove__err(err, ROVE_EPROTO, "table %s: bad column list", tbl->name);
        int cols[ROVE__MAX_COLS];
        int id_pos = -1;
        for (size_t c = 0; c < ncols; c++) {
            if (rove__r_text(r, &s, &len) != 0)
                return rove__err(err, ROVE_EPROTO, "table %s: column names must be text",
                                 tbl->name);
            cols[c] = rove__schema_col(tbl, s, len);
            for (size_t k = 0; k < c && cols[c] >= 0; k++)
                if (cols[k] == cols[c])
                    return rove__err(err, ROVE_EPROTO, "table %s: column %s listed twice",
                                     tbl->name, tbl->cols[cols[c]].name);
            if (cols[c] == ROVE__COL_ID)
                id_pos = (int)c;
        }
        if (id_pos < 0)
            return rove__err(err, ROVE_EPROTO, "table %s: rows carry no id", tbl->name);
        if (h->table != NULL) {
            int rc = h->table(tbl, cols, ncols, payload);
            if (rc != 0)
                return rove__err(err, rc, "table callback aborted");
        }
        if (rove__r_array(r, &nrows) != 0)
            return rove__err(err, ROVE_EPROTO, "table %s: rows must be an array", tbl->name);
        for (size_t i = 0; i < nrows; i++) {
            rove__value vals[ROVE__MAX_COLS];
            size_t rn;
            if (rove__r_array(r, &rn) != 0 || rn != ncols)
                return rove__err(err, ROVE_EPROTO, "table %s: row %zu has the wrong shape",
                                 tbl->name, i);
            for (size_t c = 0; c < ncols; c++) {
                if (cols[c] < 0) {
                    memset(&vals[c], 0, sizeof(vals[c]));
                    if (rove__r_skip_value(r) != 0)
                        return rove__err(err, ROVE_EPROTO, "table %s: row %zu malformed",
                                         tbl->name, i);
                    continue;
                }
                char where[64];
                snprintf(where, sizeof(where), "table %s row %zu", tbl->name, i);
                int rc = read_value(r, &tbl->cols[cols[c]], &vals[c], 0, err, where);
                if (rc != 0)
                    return rc;
            }
            if (vals[id_pos].type != ROVE__T_TEXT ||
                !rove__id_valid(vals[id_pos].s, vals[id_pos].len))
                return rove__err(err, ROVE_EBADID, "table %s: row %zu has an invalid id",
                                 tbl->name, i);
            if (h->row != NULL) {
                int rc = h->row(tbl, cols, vals, ncols, payload);
                if (rc != 0)
                    return rove__err(err, rc, "row callback aborted");
            }
        }
    }
    return 0;
}

static int parse_evictions(rove__reader *r, const rove__sync_resp_handler *h, void *payload,
                           rove__errinfo *err)
{
    size_t n;
    if (rove__r_array(r, &n) != 0)
        return rove__err(err, ROVE_EPROTO, "'evict' must be an array");
    for (size_t i = 0; i < n; i++) {
        size_t m;
        const char *ts, *ids, *why;
        size_t tl, il, wl;
        if (rove__r_array(r, &m) != 0 || m != 3 || rove__r_text(r, &ts, &tl) != 0 ||
            rove__r_text(r, &ids, &il) != 0 || rove__r_text(r, &why, &wl) != 0)
            return rove__err(err, ROVE_EPROTO, "eviction %zu is malformed", i);
        const rove__table *tbl = rove__schema_table(ts, tl);
        if (tbl == NULL)
            return rove__err(err, ROVE_EUNKNOWNTABLE, "eviction %zu: unknown table", i);
        if (!rove__id_valid(ids, il))
            return rove__err(err, ROVE_EBADID, "eviction %zu: invalid id", i);
        if (wl > 256 || !rove__utf8_valid(why, wl))
            return rove__err(err, ROVE_EPROTO, "eviction %zu: bad reason", i);
        char id[ROVE__ID_LEN + 1];
        memcpy(id, ids, il);
        id[il] = 0;
        if (h->evict != NULL) {
            int rc = h->evict(tbl, id, why, wl, payload);
            if (rc != 0)
                return rove__err(err, rc, "eviction callback aborted");
        }
    }
    return 0;
}

static int token_valid(const char *t, size_t len)
{
    if (len != 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    return 1;
}

int rove__sync_resp_parse(const void *buf, size_t len, const rove__sync_resp_handler *h,
                          void *payload, rove__sync_resp_hdr *hdr, rove__errinfo *err)
{
    memset(hdr, 0, sizeof(*hdr));
    hdr->version = -1;
    hdr->cursor = -1;
    rove__reader r;
    rove__r_init(&r, buf, len);
    size_t npairs;
    if (rove__r_map(&r, &npairs) != 0)
        return rove__err(err, ROVE_EPROTO, "response must be a CBOR map");
    for (size_t p = 0; p < npairs; p++) {
        const char *key;
        size_t klen;
        int rc = 0;
        if (rove__r_text(&r, &key, &klen) != 0)
            return rove__err(err, ROVE_EPROTO, "response keys must be text");
        if (rove__text_eq(key, klen, "v")) {
            if (rove__r_int(&r, &hdr->version) != 0)
                return rove__err(err, ROVE_EPROTO, "'v' must be an integer");
            if (hdr->version != ROVE__PROTO_VERSION)
                return rove__err(err, ROVE_EVERSION, "server speaks protocol %lld",
                                 (long long)hdr->version);
        } else if (hdr->version != ROVE__PROTO_VERSION) {
            /* The version comes first so nothing is applied from a message of
             * an unknown version. */
            return rove__err(err, ROVE_EVERSION, "response does not start with its version");
        } else if (rove__text_eq(key, klen, "receipts")) {
            rc = parse_receipts(&r, h, payload, err);
        } else if (rove__text_eq(key, klen, "tables")) {
            rc = parse_tables(&r, h, payload, err);
        } else if (rove__text_eq(key, klen, "evict")) {
            rc = parse_evictions(&r, h, payload, err);
        } else if (rove__text_eq(key, klen, "cursor")) {
            if (rove__r_int(&r, &hdr->cursor) != 0 || hdr->cursor < 0)
                return rove__err(err, ROVE_EPROTO, "'cursor' must be a non-negative integer");
        } else if (rove__text_eq(key, klen, "more")) {
            if (rove__r_bool(&r, &hdr->more) != 0)
                return rove__err(err, ROVE_EPROTO, "'more' must be a boolean");
        } else if (rove__text_eq(key, klen, "server_time")) {
            if (rove__r_int(&r, &hdr->server_time) != 0)
                return rove__err(err, ROVE_EPROTO, "'server_time' must be an integer");
        } else if (rove__text_eq(key, klen, "hlc")) {
            if (rove__r_int(&r, &hdr->hlc) != 0)
                return rove__err(err, ROVE_EPROTO, "'hlc' must be an integer");
        } else if (rove__text_eq(key, klen, "leases")) {
            if (rove__r_int(&r, &hdr->lease_gen) != 0)
                return rove__err(err, ROVE_EPROTO, "'leases' must be an integer");
        } else if (rove__text_eq(key, klen, "token")) {
            if (rove__r_text_or_null(&r, &hdr->token, &hdr->token_len) != 0 ||
                (hdr->token != NULL && !token_valid(hdr->token, hdr->token_len)))
                return rove__err(err, ROVE_EPROTO, "'token' must be 64 hex digits or null");
        } else if (rove__text_eq(key, klen, "revoked")) {
            if (rove__r_int(&r, &hdr->revoked_until) != 0 || hdr->revoked_until < 0)
                return rove__err(err, ROVE_EPROTO, "'revoked' must be a non-negative integer");
        } else if (rove__r_skip_value(&r) != 0) {
            return rove__err(err, ROVE_EPROTO, "malformed value in response");
        }
        if (rc != 0)
            return rc;
    }
    if (hdr->cursor < 0)
        return rove__err(err, ROVE_EPROTO, "response has no cursor");
    if (!rove__r_done(&r))
        return rove__err(err, ROVE_EPROTO, "trailing bytes after the response");
    return 0;
}

/* ---- flat maps --------------------------------------------------------- */

int rove__flat_parse(const void *buf, size_t len, rove__flat_field *fields, size_t nfields,
                     rove__errinfo *err)
{
    for (size_t i = 0; i < nfields; i++) {
        fields[i].present = 0;
        memset(&fields[i].v, 0, sizeof(fields[i].v));
    }
    rove__reader r;
    rove__r_init(&r, buf, len);
    size_t npairs;
    if (rove__r_map(&r, &npairs) != 0)
        return rove__err(err, ROVE_EPROTO, "message must be a CBOR map");
    for (size_t p = 0; p < npairs; p++) {
        const char *key;
        size_t klen;
        rove__item it;
        if (rove__r_text(&r, &key, &klen) != 0)
            return rove__err(err, ROVE_EPROTO, "keys must be text");
        if (rove__r_next(&r, &it) != 0)
            return rove__err(err, ROVE_EPROTO, "malformed value");
        if (it.kind == ROVE__K_ARRAY || it.kind == ROVE__K_MAP || it.kind == ROVE__K_BYTES)
            return rove__err(err, ROVE_EPROTO, "values must be scalars");
        for (size_t i = 0; i < nfields; i++) {
            if (!rove__text_eq(key, klen, fields[i].key))
                continue;
            if (fields[i].present)
                return rove__err(err, ROVE_EPROTO, "key '%s' given twice", fields[i].key);
            rove__value *v = &fields[i].v;
            fields[i].present = 1;
            switch (it.kind) {
            case ROVE__K_INT:
            case ROVE__K_BOOL:
                v->type = ROVE__T_INT;
                v->i = it.i;
                break;
            case ROVE__K_REAL:
                v->type = ROVE__T_REAL;
                v->d = it.d;
                break;
            case ROVE__K_TEXT:
                if (it.len > ROVE__MAX_TEXT || !rove__utf8_valid(it.s, it.len))
                    return rove__err(err, ROVE_EPROTO, "key '%s': bad text", fields[i].key);
                v->type = ROVE__T_TEXT;
                v->s = it.s;
                v->len = it.len;
                break;
            default:
                v->type = ROVE__T_NULL;
                break;
            }
        }
    }
    if (!rove__r_done(&r))
        return rove__err(err, ROVE_EPROTO, "trailing bytes after the message");
    return 0;
}

int rove__flat_text(const rove__flat_field *f, char *dst, size_t size)
{
    if (!f->present || f->v.type != ROVE__T_TEXT)
        return ROVE_EPROTO;
    if (f->v.len >= size)
        return ROVE_ETOOBIG;
    memcpy(dst, f->v.s, f->v.len);
    dst[f->v.len] = 0;
    return 0;
}
