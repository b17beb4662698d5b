/*
 * Generic records and local writes. Every write puts the row change and its
 * outbox entry (with a fresh HLC) into the replica in one transaction.
 * Validation mirrors the server's, so what the server would refuse is refused
 * here first: unknown columns, wrong types, bad enum values, missing required
 * columns, and writes to system or server-owned columns.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "internal.h"
#include "wire.h"

typedef struct rv {
    unsigned char set;     /* has a value (possibly NULL) */
    unsigned char changed; /* set since creation or load */
    rove__coltype type;    /* ROVE__T_NULL when the value is NULL */
    int64_t i;
    double d;
    char *s;
    size_t len;
} rv;

struct rove_record {
    const rove__table *t;
    char id[ROVE_ID_SIZE];
    int loaded; /* exists in the replica */
    int poison; /* first setter error: writes are refused with it */
    rv v[ROVE__MAX_COLS];
};

static void rv_clear(rv *x)
{
    if (x->s != NULL) {
        rove__platform_zero(x->s, x->len);
        free(x->s);
    }
    memset(x, 0, sizeof(*x));
}

int rove_record_new(rove_record **out, const char *table)
{
    if (out == NULL)
        return ROVE_EINVAL;
    *out = NULL;
    if (table == NULL)
        return ROVE_EINVAL;
    const rove__table *t = rove__schema_table(table, strlen(table));
    if (t == NULL)
        return ROVE_EUNKNOWNTABLE;
    rove_record *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ROVE_ENOMEM;
    r->t = t;
    *out = r;
    return 0;
}

void rove_record_free(rove_record *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->t->ncols; i++)
        rv_clear(&r->v[i]);
    free(r);
}

const char *rove_record_table(const rove_record *r) { return r ? r->t->name : NULL; }

const char *rove_record_id(const rove_record *r) { return r ? r->id : ""; }

const rove__table *rove__record_schema(const rove_record *r) { return r->t; }

static int poison(rove_record *r, int code)
{
    if (r->poison == 0)
        r->poison = code;
    return code;
}

/* Finds a column a caller may write; system and server-owned ones are
 * refused (and poison the record, so a write cannot silently drop them). */
static int writable_col(rove_record *r, const char *col, int *idx)
{
    if (r == NULL || col == NULL)
        return ROVE_EINVAL;
    int i = rove__schema_col(r->t, col, strlen(col));
    if (i < 0)
        return poison(r, ROVE_EUNKNOWNCOLUMN);
    if (r->t->cols[i].flags & (ROVE__COL_SYSTEM | ROVE__COL_SERVER_OWNED))
        return poison(r, ROVE_ESERVEROWNED);
    *idx = i;
    return 0;
}

static int store_text(rv *x, const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d == NULL)
        return ROVE_ENOMEM;
    memcpy(d, s, len);
    d[len] = 0;
    rv_clear(x);
    x->type = ROVE__T_TEXT;
    x->s = d;
    x->len = len;
    x->set = 1;
    return 0;
}

int rove_record_set_text(rove_record *r, const char *col, const char *v)
{
    int i;
    ROVE_TRY(writable_col(r, col, &i));
    const rove__column *c = &r->t->cols[i];
    if (v == NULL)
        return rove_record_set_null(r, col);
    size_t len = strlen(v);
    if (c->type != ROVE__T_TEXT || len > ROVE__MAX_TEXT || !rove__utf8_valid(v, len))
        return poison(r, ROVE_EBADVALUE);
    if ((c->flags & ROVE__COL_ENUM) && !rove__schema_enum_ok(c, v, len))
        return poison(r, ROVE_EBADVALUE);
    if (store_text(&r->v[i], v, len) != 0)
        return poison(r, ROVE_ENOMEM);
    r->v[i].changed = 1;
    return 0;
}

int rove_record_set_int(rove_record *r, const char *col, int64_t v)
{
    int i;
    ROVE_TRY(writable_col(r, col, &i));
    const rove__column *c = &r->t->cols[i];
    if (c->type == ROVE__T_REAL)
        return rove_record_set_real(r, col, (double)v);
    if (c->type != ROVE__T_INT)
        return poison(r, ROVE_EBADVALUE);
    rv_clear(&r->v[i]);
    r->v[i].type = ROVE__T_INT;
    r->v[i].i = v;
    r->v[i].set = r->v[i].changed = 1;
    return 0;
}

int rove_record_set_real(rove_record *r, const char *col, double v)
{
    int i;
    ROVE_TRY(writable_col(r, col, &i));
    const rove__column *c = &r->t->cols[i];
    if (c->type != ROVE__T_REAL || !isfinite(v))
        return poison(r, ROVE_EBADVALUE);
    rv_clear(&r->v[i]);
    r->v[i].type = ROVE__T_REAL;
    r->v[i].d = v;
    r->v[i].set = r->v[i].changed = 1;
    return 0;
}

int rove_record_set_null(rove_record *r, const char *col)
{
    int i;
    ROVE_TRY(writable_col(r, col, &i));
    rv_clear(&r->v[i]);
    r->v[i].set = r->v[i].changed = 1;
    return 0;
}

static const rv *get_rv(const rove_record *r, const char *col)
{
    if (r == NULL || col == NULL)
        return NULL;
    int i = rove__schema_col(r->t, col, strlen(col));
    if (i < 0 || !r->v[i].set)
        return NULL;
    return &r->v[i];
}

const char *rove_record_text(const rove_record *r, const char *col)
{
    if (r != NULL && col != NULL && strcmp(col, "id") == 0)
        return r->id[0] ? r->id : NULL;
    const rv *x = get_rv(r, col);
    return x && x->type == ROVE__T_TEXT ? x->s : NULL;
}

int64_t rove_record_int(const rove_record *r, const char *col, int64_t dflt)
{
    const rv *x = get_rv(r, col);
    if (x == NULL)
        return dflt;
    if (x->type == ROVE__T_INT)
        return x->i;
    if (x->type == ROVE__T_REAL)
        return (int64_t)x->d;
    return dflt;
}

double rove_record_real(const rove_record *r, const char *col, double dflt)
{
    const rv *x = get_rv(r, col);
    if (x == NULL)
        return dflt;
    if (x->type == ROVE__T_REAL)
        return x->d;
    if (x->type == ROVE__T_INT)
        return (double)x->i;
    return dflt;
}

int rove_record_is_null(const rove_record *r, const char *col)
{
    if (r != NULL && col != NULL && strcmp(col, "id") == 0)
        return r->id[0] == 0;
    const rv *x = get_rv(r, col);
    return x == NULL || x->type == ROVE__T_NULL;
}

static void rv_to_value(const rv *x, rove__value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = x->type;
    v->i = x->i;
    v->d = x->d;
    v->s = x->s;
    v->len = x->len;
}

/* ---- the outbox --------------------------------------------------------- */

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
        rove__w_textn(b, v->s ? v->s : "", v->len);
        break;
    default:
        rove__w_null(b);
        break;
    }
}

int rove__outbox_add(rove_client *c, const rove__table *t, rove__op op, const char *id,
                     int64_t base_version, int64_t hlc, const int *cols,
                     const rove__value *vals, size_t n, const rove__buf *before)
{
    rove__buf payload = ROVE__BUF_INIT;
    char change_id[ROVE_ID_SIZE];
    int64_t now = rove__platform_now_ms();
    int rc;

    rove__w_map(&payload, n);
    for (size_t k = 0; k < n; k++) {
        rove__w_text(&payload, t->cols[cols[k]].name);
        write_value(&payload, &vals[k]);
    }
    if ((rc = rove__buf_status(&payload)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    if ((rc = rove__rng_ulid(c->rng, change_id, now)) != 0) {
        rove__client_error(c, rc, "random generator failed");
        goto cleanup;
    }
    if (c->st_outbox_add == NULL) {
        rc = sqlite3_prepare_v3(c->db,
                                "INSERT INTO _rove_outbox(change_id, tbl, row_id, op, "
                                "base_version, hlc, payload, created_at, before_image) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                -1, SQLITE_PREPARE_PERSISTENT, &c->st_outbox_add, NULL);
        if (rc != SQLITE_OK) {
            rc = rove__client_sqlerr(c, c->db, rc, "outbox");
            goto cleanup;
        }
    }
    sqlite3_stmt *st = c->st_outbox_add;
    sqlite3_bind_text(st, 1, change_id, ROVE__ID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)op);
    sqlite3_bind_int64(st, 5, base_version);
    sqlite3_bind_int64(st, 6, hlc);
    sqlite3_bind_blob(st, 7, payload.ptr ? (const void *)payload.ptr : "", (int)payload.len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now);
    if (before != NULL && before->len > 0)
        sqlite3_bind_blob(st, 9, before->ptr, (int)before->len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    rc = rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "outbox");

cleanup:
    rove__buf_free(&payload);
    return rc;
}

int rove__payload_decode(const rove__table *t, const void *p, size_t len, rove__change *ch)
{
    rove__reader r;
    size_t n;
    rove__r_init(&r, p, len);
    ch->ncols = 0;
    if (rove__r_map(&r, &n) != 0 || n > ROVE__MAX_COLS)
        return ROVE_ECORRUPT;
    for (size_t k = 0; k < n; k++) {
        const char *key;
        size_t klen;
        rove__item it;
        if (rove__r_text(&r, &key, &klen) != 0 || rove__r_next(&r, &it) != 0)
            return ROVE_ECORRUPT;
        int col = rove__schema_col(t, key, klen);
        if (col < 0)
            return ROVE_ECORRUPT;
        rove__value *v = &ch->val[ch->ncols];
        memset(v, 0, sizeof(*v));
        switch (it.kind) {
        case ROVE__K_NULL:
            v->type = ROVE__T_NULL;
            break;
        case ROVE__K_INT:
            v->type = ROVE__T_INT;
            v->i = it.i;
            break;
        case ROVE__K_REAL:
            v->type = ROVE__T_REAL;
            v->d = it.d;
            break;
        case ROVE__K_TEXT:
            v->type = ROVE__T_TEXT;
            v->s = it.s;
            v->len = it.len;
            break;
        default:
            return ROVE_ECORRUPT;
        }
        ch->col[ch->ncols++] = col;
    }
    return rove__r_done(&r) ? 0 : ROVE_ECORRUPT;
}

/* UPDATE t SET cols WHERE id; used to lay local values over a row. */
static int apply_values(rove_client *c, const rove__table *t, const char *id, const int *cols,
                        const rove__value *vals, size_t n, int64_t updated_at,
                        const char *updated_by)
{
    rove__buf sql = ROVE__BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc;
    rove__buf_printf(&sql, "UPDATE %s SET ", t->name);
    for (size_t k = 0; k < n; k++)
        rove__buf_printf(&sql, "%s%s = ?%zu", k ? ", " : "", t->cols[cols[k]].name, k + 1);
    if (updated_at > 0)
        rove__buf_printf(&sql, "%supdated_at = ?%zu, updated_by = ?%zu", n ? ", " : "", n + 1,
                         n + 2);
    rove__buf_printf(&sql, " WHERE id = ?%zu", n + 3);
    if ((rc = rove__buf_status(&sql)) != 0)
        return rove__client_error(c, rc, "out of memory");
    if (n == 0 && updated_at <= 0)
        goto cleanup;
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = rove__client_sqlerr(c, c->db, rc, "update");
        goto cleanup;
    }
    for (size_t k = 0; k < n; k++)
        rove__bind_value(st, (int)k + 1, &vals[k], 0);
    if (updated_at > 0) {
        sqlite3_bind_int64(st, (int)n + 1, updated_at);
        if (updated_by)
            sqlite3_bind_text(st, (int)n + 2, updated_by, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, (int)n + 3, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "update");
cleanup:
    sqlite3_finalize(st);
    rove__buf_free(&sql);
    return rc;
}

/* Encodes the row's current values of cols (all columns when cols is NULL)
 * as a CBOR map: the before-image of a change. ROVE_ENOTFOUND when the row
 * is absent. */
static int read_before(rove_client *c, const rove__table *t, const char *id, const int *cols,
                       size_t n, rove__buf *out)
{
    rove__buf sql = ROVE__BUF_INIT;
    sqlite3_stmt *st = NULL;
    int all[ROVE__MAX_COLS];
    int rc;
    if (cols == NULL) {
        for (size_t i = 0; i < t->ncols; i++)
            all[i] = (int)i;
        cols = all;
        n = t->ncols;
    }
    rove__buf_puts(&sql, "SELECT ");
    for (size_t k = 0; k < n; k++)
        rove__buf_printf(&sql, "%s%s", k ? ", " : "", t->cols[cols[k]].name);
    if (n == 0)
        rove__buf_puts(&sql, "1");
    rove__buf_printf(&sql, " FROM %s WHERE id = ?1", t->name);
    if ((rc = rove__buf_status(&sql)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = rove__client_sqlerr(c, c->db, rc, "before-image");
        goto cleanup;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = ROVE_ENOTFOUND;
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = rove__client_sqlerr(c, c->db, rc, "before-image");
        goto cleanup;
    }
    rove__buf_clear(out);
    rove__w_map(out, n);
    for (size_t k = 0; k < n; k++) {
        rove__w_text(out, t->cols[cols[k]].name);
        switch (sqlite3_column_type(st, (int)k)) {
        case SQLITE_INTEGER:
            rove__w_int(out, sqlite3_column_int64(st, (int)k));
            break;
        case SQLITE_FLOAT:
            rove__w_real(out, sqlite3_column_double(st, (int)k));
            break;
        case SQLITE_NULL:
            rove__w_null(out);
            break;
        default:
            rove__w_textn(out, (const char *)sqlite3_column_text(st, (int)k),
                          (size_t)sqlite3_column_bytes(st, (int)k));
            break;
        }
    }
    rc = rove__buf_status(out);
    if (rc != 0)
        rove__client_error(c, rc, "out of memory");
cleanup:
    sqlite3_finalize(st);
    rove__buf_free(&sql);
    return rc;
}

static int delete_local(rove_client *c, const rove__table *t, const char *id)
{
    char sql[96];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", t->name);
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "delete");
}

static int set_before(rove_client *c, int64_t seq, const rove__buf *before)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        c->db, "UPDATE _rove_outbox SET before_image = ?1 WHERE seq = ?2", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (before != NULL)
            sqlite3_bind_blob(st, 1, before->ptr, (int)before->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seq);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "outbox");
}

int rove__outbox_carry_before(rove_client *c, const rove__table *t, const char *id,
                              const void *before, size_t len)
{
    sqlite3_stmt *st = NULL;
    rove__buf merged = ROVE__BUF_INIT;
    rove__change older, newer;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT seq, before_image FROM _rove_outbox "
                                "WHERE tbl = ?1 AND row_id = ?2 ORDER BY seq LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "outbox");
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "outbox");
        goto cleanup;
    }
    int64_t seq = sqlite3_column_int64(st, 0);
    const void *nb = sqlite3_column_blob(st, 1);
    size_t nlen = (size_t)sqlite3_column_bytes(st, 1);
    rc = 0;
    if (nb == NULL || nlen == 0)
        goto cleanup; /* nothing to undo there: leave it so */
    if (rove__payload_decode(t, before, len, &older) != 0 ||
        rove__payload_decode(t, nb, nlen, &newer) != 0) {
        rc = rove__client_error(c, ROVE_ECORRUPT, "outbox before-image is corrupt");
        goto cleanup;
    }
    /* The older image wins where both have a column: it is the state before
     * either change. */
    size_t n = older.ncols;
    for (size_t k = 0; k < newer.ncols; k++) {
        int dup = 0;
        for (size_t j = 0; j < older.ncols; j++)
            dup |= older.col[j] == newer.col[k];
        n += !dup;
    }
    rove__w_map(&merged, n);
    for (size_t j = 0; j < older.ncols; j++) {
        rove__w_text(&merged, t->cols[older.col[j]].name);
        write_value(&merged, &older.val[j]);
    }
    for (size_t k = 0; k < newer.ncols; k++) {
        int dup = 0;
        for (size_t j = 0; j < older.ncols; j++)
            dup |= older.col[j] == newer.col[k];
        if (dup)
            continue;
        rove__w_text(&merged, t->cols[newer.col[k]].name);
        write_value(&merged, &newer.val[k]);
    }
    if ((rc = rove__buf_status(&merged)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    sqlite3_stmt *done = st; /* newer's text borrows from st: finish first */
    st = NULL;
    rc = set_before(c, seq, &merged);
    sqlite3_finalize(done);
cleanup:
    sqlite3_finalize(st);
    rove__buf_free(&merged);
    return rc;
}

int rove__outbox_reapply(rove_client *c, const rove__table *t, const char *id)
{
    int rc;
    if (c->st_outbox_for_row == NULL) {
        rc = sqlite3_prepare_v3(c->db,
                                "SELECT op, payload, seq FROM _rove_outbox "
                                "WHERE tbl = ?1 AND row_id = ?2 ORDER BY seq",
                                -1, SQLITE_PREPARE_PERSISTENT, &c->st_outbox_for_row, NULL);
        if (rc != SQLITE_OK)
            return rove__client_sqlerr(c, c->db, rc, "outbox");
    }
    sqlite3_stmt *st = c->st_outbox_for_row;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    /* Collect first: the overlay runs other statements on the connection. */
    struct pend {
        int op;
        int64_t seq;
        unsigned char *p;
        size_t len;
    } *list = NULL;
    size_t n = 0, cap = 0;
    rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct pend *nl = realloc(list, ncap * sizeof(*nl));
            if (nl == NULL) {
                rc = ROVE_ENOMEM;
                break;
            }
            list = nl;
            cap = ncap;
        }
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        list[n].op = sqlite3_column_int(st, 0);
        list[n].seq = sqlite3_column_int64(st, 2);
        list[n].len = len;
        list[n].p = malloc(len ? len : 1);
        if (list[n].p == NULL) {
            rc = ROVE_ENOMEM;
            break;
        }
        if (len)
            memcpy(list[n].p, sqlite3_column_blob(st, 1), len);
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == ROVE_ENOMEM)
        rove__client_error(c, rc, "out of memory");

    /* Lay the pending changes over the server's row, oldest first. Each
     * change's before-image becomes what it overlays now (the server's value
     * plus the older pending changes), so undoing a refused change restores
     * the server's state rather than a stale local one. */
    rove__buf before = ROVE__BUF_INIT;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        rove__change ch;
        int gone = 0;
        if (list[k].op == ROVE__OP_DELETE) {
            rc = read_before(c, t, id, NULL, 0, &before);
            if (rc == ROVE_ENOTFOUND) {
                gone = 1;
                rc = 0;
            }
            if (rc == 0)
                rc = set_before(c, list[k].seq, gone ? NULL : &before);
            if (rc == 0 && !gone)
                rc = delete_local(c, t, id);
            continue;
        }
        if (rove__payload_decode(t, list[k].p, list[k].len, &ch) != 0) {
            rc =
                rove__client_error(c, ROVE_ECORRUPT, "outbox entry for %s is corrupt", t->name);
            break;
        }
        rc = read_before(c, t, id, ch.col, ch.ncols, &before);
        if (rc == ROVE_ENOTFOUND) {
            rc = 0; /* deleted by an older pending change: nothing to overlay */
            continue;
        }
        if (rc == 0)
            rc = set_before(c, list[k].seq, &before);
        if (rc == 0)
            rc = apply_values(c, t, id, ch.col, ch.val, ch.ncols, 0, NULL);
    }
    rove__buf_free(&before);
    for (size_t k = 0; k < n; k++)
        free(list[k].p);
    free(list);
    return rc;
}

int rove__outbox_undo(rove_client *c, const rove__table *t, const char *id, int op,
                      const void *before, size_t len)
{
    rove__change ch;
    if (before == NULL || len == 0 || op == ROVE__OP_INSERT)
        return 0;
    if (rove__payload_decode(t, before, len, &ch) != 0)
        return rove__client_error(c, ROVE_ECORRUPT, "outbox before-image is corrupt");
    if (op == ROVE__OP_UPDATE)
        return apply_values(c, t, id, ch.col, ch.val, ch.ncols, 0, NULL);

    /* A refused delete: put the row back as it was, unless its account has
     * left the replica meanwhile (evicted while the delete waited in the
     * outbox): the row left with it, and restoring it would leave an orphan
     * the server never evicts again. */
    rove__buf sql = ROVE__BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc;
    int acol = rove__schema_col(t, "account_id", 10);
    for (size_t k = 0; acol >= 0 && k < ch.ncols; k++) {
        if (ch.col[k] != acol || ch.val[k].type != ROVE__T_TEXT)
            continue;
        rc = sqlite3_prepare_v2(c->db, "SELECT EXISTS(SELECT 1 FROM account WHERE id = ?1)", -1,
                                &st, NULL);
        int held = 1;
        if (rc == SQLITE_OK) {
            rove__bind_value(st, 1, &ch.val[k], 0);
            if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                held = sqlite3_column_int(st, 0);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc != SQLITE_OK)
            return rove__client_sqlerr(c, c->db, rc, "undo");
        if (!held)
            return 0;
    }
    rove__buf_printf(&sql, "INSERT OR REPLACE INTO %s(", t->name);
    for (size_t k = 0; k < ch.ncols; k++)
        rove__buf_printf(&sql, "%s%s", k ? ", " : "", t->cols[ch.col[k]].name);
    rove__buf_puts(&sql, ") VALUES(");
    for (size_t k = 0; k < ch.ncols; k++)
        rove__buf_printf(&sql, "%s?%zu", k ? ", " : "", k + 1);
    rove__buf_puts(&sql, ")");
    if ((rc = rove__buf_status(&sql)) != 0) {
        rove__buf_free(&sql);
        return rove__client_error(c, rc, "out of memory");
    }
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        for (size_t k = 0; k < ch.ncols; k++)
            rove__bind_value(st, (int)k + 1, &ch.val[k], 0);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    rove__buf_free(&sql);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "undo");
}

/* ---- local writes ------------------------------------------------------- */

static int64_t next_hlc(rove_client *c, int *rc)
{
    uint64_t h = rove__hlc_now(&c->hlc, (uint64_t)rove__platform_now_ms());
    *rc = rove__meta_set_int(c, "hlc", (int64_t)h);
    return (int64_t)h;
}

static int check_required(rove_client *c, rove_record *r, int insert)
{
    for (size_t i = ROVE__SYS_COLS; i < r->t->ncols; i++) {
        const rove__column *col = &r->t->cols[i];
        if (!(col->flags & ROVE__COL_REQUIRED))
            continue;
        const rv *x = &r->v[i];
        if ((insert && (!x->set || x->type == ROVE__T_NULL)) ||
            (!insert && x->changed && x->type == ROVE__T_NULL))
            return rove__client_error(c, ROVE_EBADVALUE, "%s.%s is required", r->t->name,
                                      col->name);
    }
    return 0;
}

/* Reads the version of a live row; ROVE_ENOTFOUND when absent or deleted. */
static int row_version(rove_client *c, const rove__table *t, const char *id, int64_t *out)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT version FROM %s WHERE id = ?1 AND deleted = 0", t->name);
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "lookup");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = rove__client_error(c, ROVE_ENOTFOUND, "no %s with id %s", t->name, id);
    } else {
        rc = rove__client_sqlerr(c, c->db, rc, "lookup");
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * The base version of an update of cols. A column still overlaid by a pending
 * change of this device shows that change's value, not what later pulls
 * brought: for it the device knows only the server state that change was
 * based on. Taking the oldest such base lets the server see the edits of
 * others in between as concurrent, so they are resolved and logged rather
 * than overwritten unseen.
 */
static int update_base(rove_client *c, const rove__table *t, const char *id, const int *cols,
                       size_t n, int64_t *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT base_version, payload FROM _rove_outbox "
                                "WHERE tbl = ?1 AND row_id = ?2 AND op = ?3",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "outbox");
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, ROVE__OP_UPDATE);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t base = sqlite3_column_int64(st, 0);
        rove__change ch;
        if (base >= *version ||
            rove__payload_decode(t, sqlite3_column_blob(st, 1),
                                 (size_t)sqlite3_column_bytes(st, 1), &ch) != 0)
            continue;
        int overlaid = 0;
        for (size_t k = 0; k < ch.ncols && !overlaid; k++)
            for (size_t j = 0; j < n && !overlaid; j++)
                overlaid = ch.col[k] == cols[j];
        if (overlaid)
            *version = base;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "outbox");
}

/* The account a record belongs to (the record itself for accounts), from
 * its values, or "" when unknown. */
static const char *record_account(const rove_record *r)
{
    if (strcmp(r->t->name, "account") == 0)
        return r->id;
    int col = rove__schema_col(r->t, "account_id", 10);
    if (col < 0 || r->v[col].type != ROVE__T_TEXT || r->v[col].s == NULL)
        return "";
    return r->v[col].s;
}

int rove__record_insert_in_tx(rove_client *c, rove_record *r)
{
    rove__buf sql = ROVE__BUF_INIT;
    sqlite3_stmt *st = NULL;
    char id[ROVE_ID_SIZE];
    int cols[ROVE__MAX_COLS];
    rove__value vals[ROVE__MAX_COLS];
    size_t n = 0;
    int rc;

    if (r->poison)
        return rove__client_error(c, r->poison, "a column of this %s record was refused: %s",
                                  r->t->name, rove_strerror(r->poison));
    if (r->loaded)
        return rove__client_error(c, ROVE_EEXISTS, "record is already stored");
    ROVE_TRY(check_required(c, r, 1));
    ROVE_TRY(rove__lease_check(c, r->t, record_account(r), ROVE__OP_INSERT));
    int64_t now = rove__platform_now_ms();
    if ((rc = rove__rng_ulid(c->rng, id, now)) != 0)
        return rove__client_error(c, rc, "random generator failed");

    rove__buf_printf(&sql,
                     "INSERT INTO %s(id, version, created_by, created_at, updated_by, "
                     "updated_at, deleted",
                     r->t->name);
    for (size_t i = ROVE__SYS_COLS; i < r->t->ncols; i++) {
        if (!r->v[i].set)
            continue;
        rove__buf_printf(&sql, ", %s", r->t->cols[i].name);
        cols[n] = (int)i;
        rv_to_value(&r->v[i], &vals[n]);
        n++;
    }
    rove__buf_puts(&sql, ") VALUES(?1, 0, ?2, ?3, ?2, ?3, 0");
    for (size_t k = 0; k < n; k++)
        rove__buf_printf(&sql, ", ?%zu", k + 4);
    rove__buf_puts(&sql, ")");
    if ((rc = rove__buf_status(&sql)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = rove__client_sqlerr(c, c->db, rc, "insert");
        goto cleanup;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (c->user_id)
        sqlite3_bind_text(st, 2, c->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    for (size_t k = 0; k < n; k++)
        rove__bind_value(st, (int)k + 4, &vals[k], 0);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = rove__client_sqlerr(c, c->db, rc, "insert");
        goto cleanup;
    }
    int64_t hlc = next_hlc(c, &rc);
    if (rc != 0)
        goto cleanup;
    if ((rc = rove__outbox_add(c, r->t, ROVE__OP_INSERT, id, 0, hlc, cols, vals, n, NULL)) != 0)
        goto cleanup;

    memcpy(r->id, id, sizeof(id));
    r->loaded = 1;
    for (size_t i = 0; i < r->t->ncols; i++)
        r->v[i].changed = 0;
    r->v[ROVE__COL_VERSION].set = 1;
    r->v[ROVE__COL_VERSION].type = ROVE__T_INT;
    r->v[ROVE__COL_VERSION].i = 0;
    r->v[ROVE__COL_CREATED_AT].set = r->v[ROVE__COL_UPDATED_AT].set = 1;
    r->v[ROVE__COL_CREATED_AT].type = r->v[ROVE__COL_UPDATED_AT].type = ROVE__T_INT;
    r->v[ROVE__COL_CREATED_AT].i = r->v[ROVE__COL_UPDATED_AT].i = now;
    if (c->user_id) {
        store_text(&r->v[ROVE__COL_CREATED_BY], c->user_id, strlen(c->user_id));
        store_text(&r->v[ROVE__COL_UPDATED_BY], c->user_id, strlen(c->user_id));
    }

cleanup:
    sqlite3_finalize(st);
    rove__buf_free(&sql);
    return rc;
}

int rove__record_update_in_tx(rove_client *c, rove_record *r)
{
    int cols[ROVE__MAX_COLS];
    rove__value vals[ROVE__MAX_COLS];
    size_t n = 0;
    int64_t version = 0;
    int rc;

    if (r->poison)
        return rove__client_error(c, r->poison, "a column of this %s record was refused: %s",
                                  r->t->name, rove_strerror(r->poison));
    if (!r->loaded || r->id[0] == 0)
        return rove__client_error(c, ROVE_ENOTFOUND, "record was never stored or loaded");
    ROVE_TRY(check_required(c, r, 0));
    ROVE_TRY(rove__lease_check(c, r->t, record_account(r), ROVE__OP_UPDATE));
    for (size_t i = ROVE__SYS_COLS; i < r->t->ncols; i++) {
        if (!r->v[i].changed)
            continue;
        cols[n] = (int)i;
        rv_to_value(&r->v[i], &vals[n]);
        n++;
    }
    if (n == 0)
        return 0;
    ROVE_TRY(row_version(c, r->t, r->id, &version));
    ROVE_TRY(update_base(c, r->t, r->id, cols, n, &version));
    rove__buf before = ROVE__BUF_INIT;
    int64_t now = rove__platform_now_ms();
    int64_t hlc = 0;
    /* The before-image holds updated_at and updated_by too: the local write
     * sets them, and undoing a refused change must restore them as well. */
    int before_cols[ROVE__MAX_COLS + 2];
    memcpy(before_cols, cols, n * sizeof(cols[0]));
    before_cols[n] = ROVE__COL_UPDATED_AT;
    before_cols[n + 1] = ROVE__COL_UPDATED_BY;
    if ((rc = read_before(c, r->t, r->id, before_cols, n + 2, &before)) == 0 &&
        (rc = apply_values(c, r->t, r->id, cols, vals, n, now, c->user_id)) == 0)
        hlc = next_hlc(c, &rc);
    if (rc == 0)
        rc = rove__outbox_add(c, r->t, ROVE__OP_UPDATE, r->id, version, hlc, cols, vals, n,
                              &before);
    rove__buf_free(&before);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < r->t->ncols; i++)
        r->v[i].changed = 0;
    r->v[ROVE__COL_UPDATED_AT].set = 1;
    r->v[ROVE__COL_UPDATED_AT].type = ROVE__T_INT;
    r->v[ROVE__COL_UPDATED_AT].i = now;
    return 0;
}

int rove_client_insert(rove_client *c, rove_record *r)
{
    if (c == NULL || r == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    ROVE_TRY(rove__replica_begin(c));
    int rc = rove__record_insert_in_tx(c, r);
    if (rc == 0)
        rc = rove__replica_commit(c);
    else
        rove__replica_rollback(c);
    if (rc != 0 && !r->loaded)
        r->id[0] = 0;
    return rc;
}

int rove_client_update(rove_client *c, rove_record *r)
{
    if (c == NULL || r == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    ROVE_TRY(rove__replica_begin(c));
    int rc = rove__record_update_in_tx(c, r);
    if (rc == 0)
        rc = rove__replica_commit(c);
    else
        rove__replica_rollback(c);
    return rc;
}

int rove_client_delete(rove_client *c, const char *table, const char *id)
{
    if (c == NULL || table == NULL || id == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    const rove__table *t = rove__schema_table(table, strlen(table));
    if (t == NULL)
        return rove__client_error(c, ROVE_EUNKNOWNTABLE, "unknown table '%s'", table);
    if (!rove__id_valid(id, strlen(id)))
        return rove__client_error(c, ROVE_EBADID, "invalid record id");
    int64_t version = 0;
    char sql[96];
    sqlite3_stmt *st = NULL;
    char account[ROVE_ID_SIZE] = "";
    if (strcmp(t->name, "account") == 0) {
        snprintf(account, sizeof(account), "%s", id);
    } else if (rove__schema_col(t, "account_id", 10) >= 0) {
        snprintf(sql, sizeof(sql), "SELECT account_id FROM %s WHERE id = ?1", t->name);
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
                snprintf(account, sizeof(account), "%s", sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    ROVE_TRY(rove__lease_check(c, t, account, ROVE__OP_DELETE));
    ROVE_TRY(rove__replica_begin(c));
    rove__buf before = ROVE__BUF_INIT;
    int rc = row_version(c, t, id, &version);
    if (rc != 0)
        goto cleanup;
    if ((rc = read_before(c, t, id, NULL, 0, &before)) != 0)
        goto cleanup;
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", t->name);
    rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = rove__client_sqlerr(c, c->db, rc, "delete");
        goto cleanup;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = rove__client_sqlerr(c, c->db, rc, "delete");
        goto cleanup;
    }
    int64_t hlc = next_hlc(c, &rc);
    if (rc != 0)
        goto cleanup;
    rc = rove__outbox_add(c, t, ROVE__OP_DELETE, id, version, hlc, NULL, NULL, 0, &before);
cleanup:
    rove__buf_free(&before);
    sqlite3_finalize(st);
    if (rc == 0)
        rc = rove__replica_commit(c);
    else
        rove__replica_rollback(c);
    return rc;
}

int rove_client_get(rove_client *c, rove_record **out, const char *table, const char *id)
{
    if (out == NULL)
        return ROVE_EINVAL;
    *out = NULL;
    if (c == NULL || table == NULL || id == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    rove_record *r = NULL;
    rove__buf sql = ROVE__BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = rove_record_new(&r, table);
    if (rc != 0)
        return rove__client_error(c, rc, "unknown table '%s'", table);
    if (strlen(id) != ROVE__ID_LEN) {
        rc = rove__client_error(c, ROVE_ENOTFOUND, "no %s with id %s", table, id);
        goto cleanup;
    }
    rove__buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < r->t->ncols; i++)
        rove__buf_printf(&sql, "%s%s", i ? ", " : "", r->t->cols[i].name);
    rove__buf_printf(&sql, " FROM %s WHERE id = ?1 AND deleted = 0", r->t->name);
    if ((rc = rove__buf_status(&sql)) != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = rove__client_sqlerr(c, c->db, rc, "get");
        goto cleanup;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = rove__client_error(c, ROVE_ENOTFOUND, "no %s with id %s", table, id);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        rc = rove__client_sqlerr(c, c->db, rc, "get");
        goto cleanup;
    }
    rc = 0;
    for (size_t i = 0; i < r->t->ncols && rc == 0; i++) {
        rv *x = &r->v[i];
        x->set = 1;
        switch (sqlite3_column_type(st, (int)i)) {
        case SQLITE_INTEGER:
            x->type = ROVE__T_INT;
            x->i = sqlite3_column_int64(st, (int)i);
            break;
        case SQLITE_FLOAT:
            x->type = ROVE__T_REAL;
            x->d = sqlite3_column_double(st, (int)i);
            break;
        case SQLITE_TEXT:
        case SQLITE_BLOB:
            rc = store_text(x, (const char *)sqlite3_column_text(st, (int)i),
                            (size_t)sqlite3_column_bytes(st, (int)i));
            break;
        default:
            x->type = ROVE__T_NULL;
            break;
        }
    }
    if (rc != 0) {
        rove__client_error(c, rc, "out of memory");
        goto cleanup;
    }
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->loaded = 1;
    *out = r;
    r = NULL;

cleanup:
    sqlite3_finalize(st);
    rove__buf_free(&sql);
    rove_record_free(r);
    return rc;
}
