/*
 * The sync engine: push a batch of the outbox, pull one page, apply the page
 * (receipts, rows, evictions and the new cursor) in one replica transaction,
 * repeat until the outbox is empty and the server has nothing more.
 */
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "internal.h"
#include "wire.h"

/* A remote HLC further ahead than this is clamped (a device clock far in the
 * future must not drag ours with it). */
#define MAX_SKEW_MS (5 * 60 * 1000)

/* One outbox entry, copied out of SQLite for the request. */
typedef struct pending {
    char change_id[ROVE_ID_SIZE];
    char row_id[ROVE_ID_SIZE];
    const rove__table *t;
    int op;
    int64_t base_version;
    int64_t hlc;
    unsigned char *payload;
    size_t len;
} pending;

typedef struct receipt_note {
    char change_id[ROVE_ID_SIZE];
    char record_id[ROVE_ID_SIZE];
    const char *table;
    rove_receipt_status status;
    int error;
    char *message;
    int64_t version;
} receipt_note;

typedef struct evict_note {
    const char *table;
    char id[ROVE_ID_SIZE];
    char *reason;
} evict_note;

typedef struct page {
    rove_client *c;
    rove_sync_report *rep;
    /* statements for this page */
    sqlite3_stmt *rc_find;
    sqlite3_stmt *rc_store;
    sqlite3_stmt *rc_unqueue;
    sqlite3_stmt *cf_store;
    sqlite3_stmt *del[ROVE__NTABLES];
    sqlite3_stmt *del_children[ROVE__NTABLES];
    rove__upsert *up; /* current table's upsert */
    const rove__table *cur;
    int id_pos, deleted_pos;
    int outbox_state; /* -1 unknown, 0 empty, 1 has entries */
    uint64_t acked;
    uint64_t rows;
    receipt_note *receipts;
    size_t nreceipts, capreceipts;
    evict_note *evicts;
    size_t nevicts, capevicts;
} page;

static int table_index(const rove__table *t)
{
    size_t n;
    const rove__table *all = rove__schema_tables(&n);
    return (int)(t - all);
}

static char *dupn(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d != NULL) {
        if (len)
            memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

static int prep(page *pg, sqlite3_stmt **st, const char *sql)
{
    if (*st != NULL)
        return 0;
    int rc = sqlite3_prepare_v2(pg->c->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : rove__client_sqlerr(pg->c, pg->c->db, rc, "sync");
}

static int store_receipt(page *pg, const rove__receipt *r, const char *tbl, const char *row);
static int unqueue(page *pg, const rove__receipt *r, const char *tbl, const char *row, int op,
                   const unsigned char *before, size_t before_len);
static int note_receipt(page *pg, const rove__receipt *r, const char *tbl, const char *row);

/*
 * Keeps each lost value of a pushed change: what this device wrote (from the
 * outbox payload) next to the value that won. A receipt answered again after
 * a lost response adds nothing twice. Returns SQLITE_ROW on success (the
 * caller's step result), else an error code.
 */
static int store_conflicts(page *pg, const rove__receipt *r, const rove__table *t,
                           const char *row, const void *payload, size_t payload_len)
{
    rove_client *c = pg->c;
    rove__change mine;
    memset(&mine, 0, sizeof(mine));
    if (payload_len > 0 && rove__payload_decode(t, payload, payload_len, &mine) != 0)
        mine.ncols = 0; /* unreadable: the winner is still worth keeping */
    int rc;
    ROVE_TRY(prep(pg, &pg->cf_store,
                  "INSERT OR IGNORE INTO _rove_conflicts(change_id, tbl, row_id, col, mine, "
                  "theirs, policy, received_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    sqlite3_stmt *st = pg->cf_store;
    int64_t now = rove__platform_now_ms();
    for (size_t i = 0; i < r->nlost; i++) {
        const rove__lost *l = &r->lost[i];
        sqlite3_bind_text(st, 1, r->change_id, (int)r->change_id_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, row, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, t->cols[l->col].name, -1, SQLITE_STATIC);
        sqlite3_bind_null(st, 5);
        for (size_t k = 0; k < mine.ncols; k++)
            if (mine.col[k] == l->col)
                rove__bind_value(st, 5, &mine.val[k], 0);
        rove__bind_value(st, 6, &l->winner, 0);
        sqlite3_bind_text(st, 7, l->policy, (int)l->policy_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, now);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return rove__client_sqlerr(c, c->db, rc, "conflict");
    }
    return SQLITE_ROW;
}

/*
 * The values that beat this device's change are written into the replica at
 * once (the pending changes of the row are laid over them again), so the
 * user sees what the server kept, and the next edit of the row is made over
 * it, not over the device's own losing value.
 */
static int apply_winners(page *pg, const rove__receipt *r, const char *tbl, const char *row)
{
    rove_client *c = pg->c;
    if (r->nlost == 0 || (r->status != ROVE__RC_MERGED && r->status != ROVE__RC_OVERRIDDEN))
        return 0;
    const rove__table *t = rove__schema_table(tbl, strlen(tbl));
    if (t == NULL || t != r->lost_table)
        return 0;
    rove__buf sql = ROVE__BUF_INIT;
    size_t n = 0;
    rove__buf_printf(&sql, "UPDATE %s SET ", t->name);
    for (size_t i = 0; i < r->nlost; i++) {
        const rove__lost *l = &r->lost[i];
        if (l->policy_len == 6 && memcmp(l->policy, "delete", 6) == 0)
            continue; /* the record is gone: its tombstone arrives with the pull */
        rove__buf_printf(&sql, "%s%s = ?%zu", n ? ", " : "", t->cols[l->col].name, n + 1);
        n++;
    }
    rove__buf_printf(&sql, " WHERE id = ?%zu", n + 1);
    int rc = rove__buf_status(&sql);
    if (rc != 0 || n == 0) {
        rove__buf_free(&sql);
        return rc ? rove__client_error(c, rc, "out of memory") : 0;
    }
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db, (const char *)sql.ptr, -1, &st, NULL);
    rove__buf_free(&sql);
    if (rc == SQLITE_OK) {
        size_t k = 0;
        for (size_t i = 0; i < r->nlost; i++) {
            const rove__lost *l = &r->lost[i];
            if (!(l->policy_len == 6 && memcmp(l->policy, "delete", 6) == 0))
                rove__bind_value(st, (int)++k, &l->winner, 0);
        }
        sqlite3_bind_text(st, (int)n + 1, row, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "receipt");
    return rove__outbox_reapply(c, t, row);
}

static int on_receipt(const rove__receipt *r, void *ud)
{
    page *pg = ud;
    rove_client *c = pg->c;
    char tbl[32] = "", row[ROVE_ID_SIZE] = "";
    int rc;

    int op = 0;
    unsigned char *before = NULL;
    size_t before_len = 0;
    ROVE_TRY(prep(pg, &pg->rc_find,
                  "SELECT tbl, row_id, op, before_image, payload FROM _rove_outbox WHERE "
                  "change_id = ?1"));
    sqlite3_bind_text(pg->rc_find, 1, r->change_id, (int)r->change_id_len, SQLITE_STATIC);
    rc = sqlite3_step(pg->rc_find);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(pg->rc_find, 0);
        const char *i = (const char *)sqlite3_column_text(pg->rc_find, 1);
        snprintf(tbl, sizeof(tbl), "%s", t ? t : "");
        snprintf(row, sizeof(row), "%s", i ? i : "");
        op = sqlite3_column_int(pg->rc_find, 2);
        before_len = (size_t)sqlite3_column_bytes(pg->rc_find, 3);
        if ((r->status == ROVE__RC_REJECTED || r->status == ROVE__RC_OVERRIDDEN) &&
            before_len > 0 && (before = malloc(before_len)) != NULL)
            memcpy(before, sqlite3_column_blob(pg->rc_find, 3), before_len);
        if (r->nlost > 0) {
            const rove__table *lt = rove__schema_table(tbl, strlen(tbl));
            if (lt != NULL && lt == r->lost_table)
                rc = store_conflicts(pg, r, lt, row, sqlite3_column_blob(pg->rc_find, 4),
                                     (size_t)sqlite3_column_bytes(pg->rc_find, 4));
            if (rc != SQLITE_ROW) {
                sqlite3_reset(pg->rc_find);
                free(before);
                return rc;
            }
        }
    }
    sqlite3_reset(pg->rc_find);
    if (before_len > 0 && before == NULL &&
        (r->status == ROVE__RC_REJECTED || r->status == ROVE__RC_OVERRIDDEN))
        return rove__client_error(c, ROVE_ENOMEM, "out of memory");
    int in_outbox = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(before);
        return rove__client_sqlerr(c, c->db, rc, "receipt");
    }
    rc = store_receipt(pg, r, in_outbox ? tbl : NULL, in_outbox ? row : NULL);
    if (rc == 0 && in_outbox)
        rc = unqueue(pg, r, tbl, row, op, before, before_len);
    if (rc == 0 && in_outbox)
        rc = apply_winners(pg, r, tbl, row);
    free(before);
    if (rc != 0)
        return rc;
    return note_receipt(pg, r, in_outbox ? tbl : NULL, row);
}

static int store_receipt(page *pg, const rove__receipt *r, const char *tbl, const char *row)
{
    rove_client *c = pg->c;
    int rc;
    ROVE_TRY(
        prep(pg, &pg->rc_store,
             "INSERT INTO _rove_receipts(change_id, tbl, row_id, status, code, message, "
             "version, received_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
             "ON CONFLICT(change_id) DO UPDATE SET status = excluded.status, "
             "code = excluded.code, message = excluded.message, "
             "version = excluded.version, received_at = excluded.received_at, "
             "tbl = COALESCE(excluded.tbl, tbl), row_id = COALESCE(excluded.row_id, row_id)"));
    sqlite3_stmt *st = pg->rc_store;
    sqlite3_bind_text(st, 1, r->change_id, (int)r->change_id_len, SQLITE_STATIC);
    if (tbl != NULL) {
        sqlite3_bind_text(st, 2, tbl, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, row, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 2);
        sqlite3_bind_null(st, 3);
    }
    sqlite3_bind_int(st, 4, (int)r->status);
    if (r->code)
        sqlite3_bind_text(st, 5, r->code, (int)r->code_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    if (r->message)
        sqlite3_bind_text(st, 6, r->message, (int)r->message_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, r->version);
    sqlite3_bind_int64(st, 8, rove__platform_now_ms());
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "receipt");
    return 0;
}

/* Removes an acknowledged change from the outbox; a refused or overridden
 * change is undone from its before-image unless newer local changes to the
 * same record are still pending (they are overlaid on the next pull). */
static int unqueue(page *pg, const rove__receipt *r, const char *tbl, const char *row, int op,
                   const unsigned char *before, size_t before_len)
{
    rove_client *c = pg->c;
    int rc;
    ROVE_TRY(prep(pg, &pg->rc_unqueue, "DELETE FROM _rove_outbox WHERE change_id = ?1"));
    sqlite3_bind_text(pg->rc_unqueue, 1, r->change_id, (int)r->change_id_len, SQLITE_STATIC);
    rc = sqlite3_step(pg->rc_unqueue);
    sqlite3_reset(pg->rc_unqueue);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "receipt");
    pg->acked++;

    const rove__table *t = rove__schema_table(tbl, strlen(tbl));
    if (t != NULL && before != NULL) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(c->db,
                                "SELECT EXISTS(SELECT 1 FROM _rove_outbox "
                                "WHERE tbl = ?1 AND row_id = ?2)",
                                -1, &st, NULL);
        int newer = 1;
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, row, -1, SQLITE_STATIC);
            if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                newer = sqlite3_column_int(st, 0);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_OK)
            return rove__client_sqlerr(c, c->db, rc, "receipt");
        if (!newer)
            ROVE_TRY(rove__outbox_undo(c, t, row, op, before, before_len));
        else if (r->status == ROVE__RC_REJECTED || r->status == ROVE__RC_QUARANTINED)
            ROVE_TRY(rove__outbox_carry_before(c, t, row, before, before_len));
    }
    return 0;
}

static int note_receipt(page *pg, const rove__receipt *r, const char *tbl, const char *row)
{
    rove_client *c = pg->c;
    const rove__table *t = tbl ? rove__schema_table(tbl, strlen(tbl)) : NULL;
    /* The row's version is not raised to the receipt's: other devices' changes
     * may lie between the version this replica holds and ours, and an edit
     * based on the raised version would overwrite them unseen. The pull
     * brings the row with its version. */
    switch (r->status) {
    case ROVE__RC_APPLIED:
    case ROVE__RC_MERGED:
        pg->rep->applied++;
        break;
    case ROVE__RC_REJECTED:
        pg->rep->rejected++;
        break;
    case ROVE__RC_QUARANTINED:
        pg->rep->quarantined++;
        break;
    default:
        break;
    }

    if (c->receipt_cb != NULL) {
        if (pg->nreceipts == pg->capreceipts) {
            size_t ncap = pg->capreceipts ? pg->capreceipts * 2 : 16;
            receipt_note *n = realloc(pg->receipts, ncap * sizeof(*n));
            if (n == NULL)
                return rove__client_error(c, ROVE_ENOMEM, "out of memory");
            pg->receipts = n;
            pg->capreceipts = ncap;
        }
        receipt_note *n = &pg->receipts[pg->nreceipts];
        memset(n, 0, sizeof(*n));
        memcpy(n->change_id, r->change_id, r->change_id_len);
        snprintf(n->record_id, sizeof(n->record_id), "%s", row);
        n->table = t ? t->name : NULL;
        n->status = (rove_receipt_status)r->status;
        n->version = r->version;
        if (r->code != NULL) {
            char code[72];
            size_t cl = r->code_len < sizeof(code) - 1 ? r->code_len : sizeof(code) - 1;
            memcpy(code, r->code, cl);
            code[cl] = 0;
            n->error = rove_error_from_name(code);
            if (n->error == ROVE_OK)
                n->error = 0;
        }
        if (r->message != NULL && (n->message = dupn(r->message, r->message_len)) == NULL)
            return rove__client_error(c, ROVE_ENOMEM, "out of memory");
        pg->nreceipts++;
    }
    return 0;
}

static int on_table(const rove__table *t, const int *cols, size_t ncols, void *ud)
{
    page *pg = ud;
    rove_client *c = pg->c;
    int ti = table_index(t);
    rove__upsert *up = &c->upsert[ti];
    pg->cur = t;
    pg->up = up;
    pg->id_pos = pg->deleted_pos = -1;
    for (size_t k = 0; k < ncols; k++) {
        if (cols[k] == ROVE__COL_ID)
            pg->id_pos = (int)k;
        else if (cols[k] == ROVE__COL_DELETED)
            pg->deleted_pos = (int)k;
    }
    if (pg->id_pos < 0)
        return rove__client_error(c, ROVE_EPROTO, "table %s: rows carry no id", t->name);

    /* Reuse the cached statement when the server sends the same columns. */
    if (up->stmt != NULL && up->ncols == ncols &&
        memcmp(up->cols, cols, ncols * sizeof(int)) == 0)
        return 0;
    sqlite3_finalize(up->stmt);
    up->stmt = NULL;
    up->ncols = 0;

    rove__buf sql = ROVE__BUF_INIT;
    rove__buf_printf(&sql, "INSERT INTO %s(", t->name);
    int first = 1;
    for (size_t k = 0; k < ncols; k++) {
        if (cols[k] < 0)
            continue;
        rove__buf_printf(&sql, "%s%s", first ? "" : ", ", t->cols[cols[k]].name);
        first = 0;
    }
    rove__buf_puts(&sql, ") VALUES(");
    first = 1;
    for (size_t k = 0; k < ncols; k++) {
        if (cols[k] < 0)
            continue;
        rove__buf_printf(&sql, "%s?%zu", first ? "" : ", ", k + 1);
        first = 0;
    }
    rove__buf_puts(&sql, ") ON CONFLICT(id) DO ");
    first = 1;
    for (size_t k = 0; k < ncols; k++) {
        if (cols[k] < 0 || cols[k] == ROVE__COL_ID)
            continue;
        rove__buf_printf(&sql, "%s%s = excluded.%s", first ? "UPDATE SET " : ", ",
                         t->cols[cols[k]].name, t->cols[cols[k]].name);
        first = 0;
    }
    if (first)
        rove__buf_puts(&sql, "NOTHING");
    int rc = rove__buf_status(&sql);
    if (rc != 0) {
        rove__buf_free(&sql);
        return rove__client_error(c, rc, "out of memory");
    }
    rc = sqlite3_prepare_v3(c->db, (const char *)sql.ptr, -1, SQLITE_PREPARE_PERSISTENT,
                            &up->stmt, NULL);
    rove__buf_free(&sql);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "upsert");
    memcpy(up->cols, cols, ncols * sizeof(int));
    up->ncols = ncols;
    return 0;
}

static int delete_row(page *pg, const rove__table *t, const char *id, size_t len, int *gone)
{
    rove_client *c = pg->c;
    int ti = table_index(t);
    if (pg->del[ti] == NULL) {
        char sql[96];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", t->name);
        ROVE_TRY(prep(pg, &pg->del[ti], sql));
    }
    sqlite3_bind_text(pg->del[ti], 1, id, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(pg->del[ti]);
    sqlite3_reset(pg->del[ti]);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "delete");
    *gone = sqlite3_changes(c->db) > 0;
    return 0;
}

static int note_evict(page *pg, const rove__table *t, const char *id, size_t idlen,
                      const char *reason, size_t rlen)
{
    rove_client *c = pg->c;
    pg->rep->evicted++;
    if (c->evict_cb == NULL)
        return 0;
    if (pg->nevicts == pg->capevicts) {
        size_t ncap = pg->capevicts ? pg->capevicts * 2 : 16;
        evict_note *n = realloc(pg->evicts, ncap * sizeof(*n));
        if (n == NULL)
            return rove__client_error(c, ROVE_ENOMEM, "out of memory");
        pg->evicts = n;
        pg->capevicts = ncap;
    }
    evict_note *n = &pg->evicts[pg->nevicts];
    n->table = t->name;
    memcpy(n->id, id, idlen);
    n->id[idlen] = 0;
    if ((n->reason = dupn(reason, rlen)) == NULL)
        return rove__client_error(c, ROVE_ENOMEM, "out of memory");
    pg->nevicts++;
    return 0;
}

static int outbox_has_entries(rove_client *c, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(c->db, "SELECT EXISTS(SELECT 1 FROM _rove_outbox)", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = 0;
    } else {
        rc = rove__client_sqlerr(c, c->db, rc, "outbox");
    }
    sqlite3_finalize(st);
    return rc;
}

static int on_row(const rove__table *t, const int *cols, const rove__value *vals, size_t ncols,
                  void *ud)
{
    page *pg = ud;
    rove_client *c = pg->c;
    const rove__value *idv = &vals[pg->id_pos];
    int rc;

    pg->rows++;
    pg->rep->pulled++;
    if (pg->deleted_pos >= 0 && vals[pg->deleted_pos].type == ROVE__T_INT &&
        vals[pg->deleted_pos].i != 0) {
        int gone = 0;
        ROVE_TRY(delete_row(pg, t, idv->s, idv->len, &gone));
        if (gone)
            ROVE_TRY(note_evict(pg, t, idv->s, idv->len, "deleted", 7));
        return 0;
    }
    sqlite3_stmt *st = pg->up->stmt;
    for (size_t k = 0; k < ncols; k++)
        if (cols[k] >= 0)
            rove__bind_value(st, (int)k + 1, &vals[k], 0);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "upsert");

    if (pg->outbox_state < 0)
        ROVE_TRY(outbox_has_entries(c, &pg->outbox_state));
    if (pg->outbox_state > 0) {
        char id[ROVE_ID_SIZE];
        memcpy(id, idv->s, idv->len);
        id[idv->len] = 0;
        ROVE_TRY(rove__outbox_reapply(c, t, id));
    }
    return 0;
}

/* An evicted account takes the rows that belong to it (contacts, visits,
 * tasks, stage history) with it: the server evicts accounts, not each child
 * (docs/protocol.md). Their pending outbox entries stay and are still pushed. */
static int evict_children(page *pg, const char *account_id)
{
    size_t n;
    const rove__table *tables = rove__schema_tables(&n);
    for (size_t i = 0; i < n && i < ROVE__NTABLES; i++) {
        if (strcmp(tables[i].name, "account") == 0 ||
            rove__schema_col(&tables[i], "account_id", 10) < 0)
            continue;
        if (pg->del_children[i] == NULL) {
            char sql[96];
            snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE account_id = ?1", tables[i].name);
            ROVE_TRY(prep(pg, &pg->del_children[i], sql));
        }
        sqlite3_stmt *st = pg->del_children[i];
        sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return rove__client_sqlerr(pg->c, pg->c->db, rc, "evict");
    }
    return 0;
}

static int on_evict(const rove__table *t, const char *id, const char *reason, size_t reason_len,
                    void *ud)
{
    page *pg = ud;
    int gone = 0;
    ROVE_TRY(delete_row(pg, t, id, strlen(id), &gone));
    if (strcmp(t->name, "account") == 0)
        ROVE_TRY(evict_children(pg, id));
    return note_evict(pg, t, id, strlen(id), reason, reason_len);
}

static void page_free(page *pg)
{
    sqlite3_finalize(pg->rc_find);
    sqlite3_finalize(pg->rc_store);
    sqlite3_finalize(pg->rc_unqueue);
    sqlite3_finalize(pg->cf_store);
    for (size_t i = 0; i < ROVE__NTABLES; i++) {
        sqlite3_finalize(pg->del[i]);
        sqlite3_finalize(pg->del_children[i]);
    }
    for (size_t i = 0; i < pg->nreceipts; i++)
        free(pg->receipts[i].message);
    free(pg->receipts);
    for (size_t i = 0; i < pg->nevicts; i++)
        free(pg->evicts[i].reason);
    free(pg->evicts);
}

static void pending_free(pending *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rove__platform_zero(p[i].payload, p[i].len);
        free(p[i].payload);
    }
    free(p);
}

/* Copies up to max oldest outbox entries. */
static int load_batch(rove_client *c, unsigned max, pending **out, size_t *n_out)
{
    sqlite3_stmt *st = NULL;
    pending *list = NULL;
    size_t n = 0;
    *out = NULL;
    *n_out = 0;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT change_id, tbl, row_id, op, base_version, hlc, payload "
                                "FROM _rove_outbox ORDER BY seq LIMIT ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "outbox");
    sqlite3_bind_int(st, 1, (int)max);
    list = calloc(max ? max : 1, sizeof(*list));
    if (list == NULL) {
        sqlite3_finalize(st);
        return rove__client_error(c, ROVE_ENOMEM, "out of memory");
    }
    rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        pending *p = &list[n];
        const char *cid = (const char *)sqlite3_column_text(st, 0);
        const char *tbl = (const char *)sqlite3_column_text(st, 1);
        const char *rid = (const char *)sqlite3_column_text(st, 2);
        p->t = tbl ? rove__schema_table(tbl, strlen(tbl)) : NULL;
        if (cid == NULL || rid == NULL || p->t == NULL || !rove__id_valid(cid, strlen(cid)) ||
            !rove__id_valid(rid, strlen(rid))) {
            rc = rove__client_error(c, ROVE_ECORRUPT, "outbox entry is corrupt");
            break;
        }
        memcpy(p->change_id, cid, ROVE_ID_SIZE);
        memcpy(p->row_id, rid, ROVE_ID_SIZE);
        p->op = sqlite3_column_int(st, 3);
        p->base_version = sqlite3_column_int64(st, 4);
        p->hlc = sqlite3_column_int64(st, 5);
        p->len = (size_t)sqlite3_column_bytes(st, 6);
        p->payload = malloc(p->len ? p->len : 1);
        if (p->payload == NULL) {
            rc = rove__client_error(c, ROVE_ENOMEM, "out of memory");
            break;
        }
        if (p->len)
            memcpy(p->payload, sqlite3_column_blob(st, 6), p->len);
        n++;
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        pending_free(list, n + 1);
        return rc;
    }
    *out = list;
    *n_out = n;
    return 0;
}

static int encode_request(rove_client *c, rove__buf *req, const pending *p, size_t n)
{
    uint64_t h = rove__hlc_now(&c->hlc, (uint64_t)rove__platform_now_ms());
    rove__sync_req_begin(req, c->cursor, (int64_t)c->page_size, (int64_t)h, n);
    for (size_t i = 0; i < n; i++) {
        rove__change ch;
        memset(&ch, 0, sizeof(ch));
        ch.change_id = p[i].change_id;
        ch.change_id_len = ROVE__ID_LEN;
        ch.table = p[i].t;
        ch.op = (rove__op)p[i].op;
        memcpy(ch.id, p[i].row_id, ROVE_ID_SIZE);
        ch.base_version = p[i].base_version;
        ch.hlc = p[i].hlc;
        if (p[i].op != ROVE__OP_DELETE &&
            rove__payload_decode(p[i].t, p[i].payload, p[i].len, &ch) != 0)
            return rove__client_error(c, ROVE_ECORRUPT, "outbox entry %s is corrupt",
                                      p[i].change_id);
        rove__sync_req_add(req, &ch);
    }
    int rc = rove__buf_status(req);
    return rc ? rove__client_error(c, rc, "out of memory") : 0;
}

static int last_conflict(rove_client *c, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT COALESCE(MAX(id), 0) FROM _rove_conflicts", -1,
                                &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rove__client_sqlerr(c, c->db, rc, "conflicts");
}

/* Calls the conflict callback for each value lost since id after. */
static int report_conflicts(rove_client *c, int64_t after)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT id, change_id, tbl, row_id, col, mine, theirs, policy "
                                "FROM _rove_conflicts WHERE id > ?1 ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "conflicts");
    sqlite3_bind_int64(st, 1, after);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rove_conflict cf = {sqlite3_column_int64(st, 0),
                            (const char *)sqlite3_column_text(st, 1),
                            (const char *)sqlite3_column_text(st, 2),
                            (const char *)sqlite3_column_text(st, 3),
                            (const char *)sqlite3_column_text(st, 4),
                            (const char *)sqlite3_column_text(st, 5),
                            (const char *)sqlite3_column_text(st, 6),
                            (const char *)sqlite3_column_text(st, 7)};
        if (c->conflict_cb(&cf, c->conflict_payload) != 0) {
            sqlite3_finalize(st);
            return rove__client_error(c, ROVE_EUSER, "conflict callback aborted the sync");
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "conflicts");
}

/*
 * The server refused this revoked device for good: wipe the replica (the
 * unsent outbox goes with it: the server would only quarantine it now) and
 * report the wipe with the old token. Returns ROVE_EREVOKED.
 */
static int wipe_revoked(rove_client *c, rove_sync_report *rep)
{
    char *token = c->token ? dupn(c->token, strlen(c->token)) : NULL;
    char why[300];
    snprintf(why, sizeof(why), "%s", rove_client_errmsg(c));
    int rc = rove_client_wipe(c);
    if (rc != 0) {
        free(token);
        return rove__client_error(c, ROVE_EREVOKED,
                                  "this device has been revoked; wiping its replica failed: "
                                  "%s",
                                  rove_client_errmsg(c));
    }
    rep->wiped = 1;
    int reported = 0;
    if (token != NULL) {
        rove__buf req = ROVE__BUF_INIT, resp = ROVE__BUF_INIT;
        rove__w_map(&req, 0);
        c->token = token; /* the wipe cleared it: the old one, for this report only */
        reported = rove__buf_status(&req) == 0 &&
                   rove__client_post(c, "/v1/wiped", &req, &resp, 1) == 0;
        c->token = NULL;
        rove__platform_zero(token, strlen(token));
        free(token);
        rove__buf_free(&req);
        rove__buf_free(&resp);
    }
    return rove__client_error(c, ROVE_EREVOKED,
                              "this device has been revoked (%s); its replica was wiped%s", why,
                              reported ? " and the server was told" : "");
}

/* Applies one response in one transaction. */
static int apply_page(rove_client *c, page *pg, const rove__buf *resp, rove__sync_resp_hdr *hdr)
{
    static const rove__sync_resp_handler handler = {on_receipt, on_table, on_row, on_evict};
    rove__errinfo ei;
    memset(&ei, 0, sizeof(ei));
    ROVE_TRY(rove__replica_begin(c));
    c->errmsg[0] = 0;
    int rc = rove__sync_resp_parse(resp->ptr, resp->len, &handler, pg, hdr, &ei);
    if (rc != 0) {
        rove__replica_rollback(c);
        if (c->errmsg[0] == 0 || c->last_error != rc)
            rove__client_error(c, rc, "bad sync response: %s", ei.msg);
        /* Reset the cached upserts: their bindings may point into resp. */
        for (size_t i = 0; i < ROVE__NTABLES; i++)
            if (c->upsert[i].stmt)
                sqlite3_clear_bindings(c->upsert[i].stmt);
        return rc;
    }
    uint64_t h = rove__hlc_recv(&c->hlc, (uint64_t)hdr->hlc, (uint64_t)rove__platform_now_ms(),
                                MAX_SKEW_MS, NULL);
    /* A fresh token (silent refresh) is stored with the page it came with:
     * once committed it is the one used; until then the old one stays valid
     * on the server. */
    char *token = hdr->token != NULL ? dupn(hdr->token, hdr->token_len) : NULL;
    if (hdr->token != NULL && (token == NULL || (rc = rove__meta_set_text(c, "token", token)) != 0)) {
        if (token != NULL)
            rove__platform_zero(token, strlen(token));
        free(token);
        rove__replica_rollback(c);
        return rc != 0 ? rc : rove__client_error(c, ROVE_ENOMEM, "out of memory");
    }
    /* The latest server time seen: a device clock set back cannot reopen a
     * delegation window that the server's clock has already closed. */
    if ((rc = rove__meta_set_int(c, "cursor", hdr->cursor)) != 0 ||
        (rc = rove__meta_set_int(c, "hlc", (int64_t)h)) != 0 ||
        (hdr->server_time > 0 &&
         (rc = rove__meta_set_int(c, "server_time", hdr->server_time)) != 0)) {
        rove__replica_rollback(c);
        rove__client_set_token(c, NULL, token);
        return rc;
    }
    for (size_t i = 0; i < ROVE__NTABLES; i++)
        if (c->upsert[i].stmt)
            sqlite3_clear_bindings(c->upsert[i].stmt);
    if ((rc = rove__replica_commit(c)) != 0) {
        rove__client_set_token(c, NULL, token);
        return rc;
    }
    c->cursor = hdr->cursor;
    if (token != NULL)
        rove__client_set_token(c, token, NULL);
    return 0;
}

int rove_client_sync(rove_client *c, rove_sync_report *out)
{
    rove_sync_report rep;
    rove__buf req = ROVE__BUF_INIT, resp = ROVE__BUF_INIT;
    pending *batch = NULL;
    size_t nbatch = 0;
    int rc = 0;
    int64_t lease_gen = 0;

    memset(&rep, 0, sizeof(rep));
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (!rove_client_logged_in(c)) {
        rc = rove__client_error(c, ROVE_ENOTLOGGEDIN, "log in before syncing");
        goto cleanup;
    }

    for (;;) {
        if ((rc = load_batch(c, c->push_batch, &batch, &nbatch)) != 0)
            goto cleanup;
        rove__buf_clear(&req);
        if ((rc = encode_request(c, &req, batch, nbatch)) != 0)
            goto cleanup;
        rove__buf_clear(&resp);
        rc = rove__client_post(c, "/v1/sync", &req, &resp, 1);
        rep.round_trips++;
        if (rc == ROVE_EREVOKED) {
            /* Revoked and past its drain: the server orders a wipe. */
            rc = wipe_revoked(c, &rep);
            goto cleanup;
        }
        if (rc != 0)
            goto cleanup;

        int64_t cursor_before = c->cursor, conflicts_before = 0;
        if (c->conflict_cb != NULL && (rc = last_conflict(c, &conflicts_before)) != 0)
            goto cleanup;
        page pg;
        memset(&pg, 0, sizeof(pg));
        pg.c = c;
        pg.rep = &rep;
        pg.outbox_state = -1;
        rove__sync_resp_hdr hdr;
        rc = apply_page(c, &pg, &resp, &hdr);
        rove__buf_clear(&resp);
        if (rc != 0) {
            page_free(&pg);
            goto cleanup;
        }
        rep.pushed += pg.acked;
        if (pg.rows > 0 || nbatch == 0)
            rep.pages++;
        rep.cursor = c->cursor;

        /* Callbacks run after the commit: what they see is durable. */
        for (size_t i = 0; rc == 0 && i < pg.nreceipts; i++) {
            receipt_note *n = &pg.receipts[i];
            rove_receipt r = {n->change_id, n->table, n->record_id[0] ? n->record_id : NULL,
                              n->status,    n->error, n->message,
                              n->version};
            if (c->receipt_cb(&r, c->receipt_payload) != 0)
                rc = rove__client_error(c, ROVE_EUSER, "receipt callback aborted the sync");
        }
        if (rc == 0 && c->conflict_cb != NULL)
            rc = report_conflicts(c, conflicts_before);
        for (size_t i = 0; rc == 0 && i < pg.nevicts; i++) {
            evict_note *n = &pg.evicts[i];
            if (c->evict_cb(n->table, n->id, n->reason, c->evict_payload) != 0)
                rc = rove__client_error(c, ROVE_EUSER, "evict callback aborted the sync");
        }
        page_free(&pg);
        if (rc != 0)
            goto cleanup;

        uint64_t left = 0;
        if ((rc = rove_client_pending(c, &left)) != 0)
            goto cleanup;
        if (c->progress_cb != NULL) {
            rove_progress p = {nbatch ? ROVE_PHASE_PUSH : ROVE_PHASE_PULL, rep.pushed,
                               rep.pulled, left, c->cursor};
            if (c->progress_cb(&p, c->progress_payload) != 0) {
                rc = rove__client_error(c, ROVE_EUSER, "progress callback aborted the sync");
                goto cleanup;
            }
        }
        if (nbatch > 0 && pg.acked == 0 && !hdr.more) {
            /* Without this the loop would resend the same batch forever. */
            rc = rove__client_error(c, ROVE_ESERVER,
                                    "server acknowledged none of %zu pushed changes", nbatch);
            goto cleanup;
        }
        if (hdr.more && pg.rows == 0 && pg.acked == 0 && pg.nevicts == 0 &&
            c->cursor == cursor_before) {
            /* "More" with nothing in the page and no progress would loop. */
            rc = rove__client_error(c, ROVE_EPROTO, "server announced more rows but sent none");
            goto cleanup;
        }
        pending_free(batch, nbatch);
        batch = NULL;
        nbatch = 0;
        if (hdr.revoked_until > 0 && left == 0) {
            /* Revoked, draining: everything typed here is uploaded; no data
             * comes down any more. */
            rc = rove__client_error(c, ROVE_EREVOKED,
                                    "this device has been revoked; its changes were uploaded "
                                    "and the server sends it no data (it is told to wipe "
                                    "its replica after %lld)",
                                    (long long)hdr.revoked_until);
            goto cleanup;
        }
        if (hdr.revoked_until > 0 && pg.acked == 0) {
            rc = rove__client_error(c, ROVE_ESERVER,
                                    "server acknowledged none of the pushed changes");
            goto cleanup;
        }
        lease_gen = hdr.lease_gen;
        if (left == 0 && !hdr.more)
            break;
    }
    /* Delegation leases: fetched only when the server's digest changed. */
    if (rc == 0)
        rc = rove__lease_refresh(c, lease_gen);

cleanup:
    pending_free(batch, nbatch);
    rove__buf_free(&req);
    /* Sync bodies hold no secrets: release them without the zeroing pass. */
    free(resp.ptr);
    if (c != NULL) {
        free(c->rx_raw.ptr);
        free(c->tx_body.ptr);
        rove__buf_init(&c->rx_raw);
        rove__buf_init(&c->tx_body);
    }
    rep.cursor = c ? c->cursor : 0;
    if (out != NULL)
        *out = rep;
    return rc;
}
