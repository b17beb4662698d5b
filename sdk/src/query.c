/*
 * Read-only queries. User SQL runs on a second connection opened with
 * SQLITE_OPEN_READONLY and an authorizer that denies every write, ATTACH and
 * most pragmas; sqlite3_stmt_readonly() is checked as well.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct rove_rows {
    rove_client *c;
    sqlite3_stmt *st;
    int done;
};

int rove__rows_open(rove_client *c, rove_rows **out, const char *sql, const char *const *params,
                    size_t nparams, const int64_t *iparams, size_t niparams, int check_readonly)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc;

    *out = NULL;
    ROVE_TRY(rove__replica_ro(c, &db));
    rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
        /* A denied action reports SQLITE_AUTH, or SQLITE_ERROR with the text
         * "not authorized" for some statement kinds (e.g. CREATE). */
        if ((rc & 0xff) == SQLITE_AUTH || strcmp(sqlite3_errmsg(db), "not authorized") == 0)
            return rove__client_error(c, ROVE_EREADONLY,
                                      "refused on the read-only connection (%s)",
                                      sqlite3_errmsg(db));
        int code = rove__client_sqlerr(c, db, rc, "query");
        /* A syntax error is the caller's mistake, not a storage failure. */
        if ((rc & 0xff) == SQLITE_ERROR)
            c->last_error = code = ROVE_EINVAL;
        return code;
    }
    if (st == NULL)
        return rove__client_error(c, ROVE_EINVAL, "empty statement");
    while (tail != NULL && *tail && (isspace((unsigned char)*tail) || *tail == ';'))
        tail++;
    if (tail != NULL && *tail) {
        sqlite3_finalize(st);
        return rove__client_error(c, ROVE_EINVAL, "only one statement is allowed");
    }
    if (check_readonly && !sqlite3_stmt_readonly(st)) {
        sqlite3_finalize(st);
        return rove__client_error(c, ROVE_EREADONLY, "statement is not read-only");
    }
    int nbind = sqlite3_bind_parameter_count(st);
    if (nparams + niparams > (size_t)nbind) {
        sqlite3_finalize(st);
        return rove__client_error(c, ROVE_EINVAL, "%zu parameters for %d placeholders",
                                  nparams + niparams, nbind);
    }
    for (size_t i = 0; i < nparams; i++) {
        if (params[i] == NULL)
            sqlite3_bind_null(st, (int)i + 1);
        else
            sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_TRANSIENT);
    }
    for (size_t i = 0; i < niparams; i++)
        sqlite3_bind_int64(st, (int)(nparams + i) + 1, iparams[i]);
    rove_rows *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        sqlite3_finalize(st);
        return rove__client_error(c, ROVE_ENOMEM, "out of memory");
    }
    q->c = c;
    q->st = st;
    *out = q;
    return 0;
}

int rove_client_query(rove_client *c, rove_rows **out, const char *sql,
                      const char *const *params, size_t nparams)
{
    if (out != NULL)
        *out = NULL;
    if (c == NULL || out == NULL || sql == NULL || (nparams > 0 && params == NULL))
        return c ? rove__client_error(c, ROVE_EINVAL, "invalid argument") : ROVE_EINVAL;
    rove__client_clear_error(c);
    return rove__rows_open(c, out, sql, params, nparams, NULL, 0, 1);
}

int rove_rows_next(rove_rows *q)
{
    if (q == NULL)
        return ROVE_EINVAL;
    if (q->done)
        return 0;
    int rc = sqlite3_step(q->st);
    if (rc == SQLITE_ROW)
        return 1;
    q->done = 1;
    if (rc == SQLITE_DONE)
        return 0;
    sqlite3 *db = sqlite3_db_handle(q->st);
    if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_AUTH)
        return rove__client_error(q->c, ROVE_EREADONLY, "%s", sqlite3_errmsg(db));
    return rove__client_sqlerr(q->c, db, rc, "query");
}

int rove_rows_columns(const rove_rows *q) { return q ? sqlite3_column_count(q->st) : 0; }

const char *rove_rows_name(const rove_rows *q, int i)
{
    return q ? sqlite3_column_name(q->st, i) : NULL;
}

const char *rove_rows_text(rove_rows *q, int i)
{
    if (q == NULL || i < 0 || i >= sqlite3_column_count(q->st))
        return NULL;
    return (const char *)sqlite3_column_text(q->st, i);
}

int64_t rove_rows_int(rove_rows *q, int i)
{
    if (q == NULL || i < 0 || i >= sqlite3_column_count(q->st))
        return 0;
    return sqlite3_column_int64(q->st, i);
}

double rove_rows_real(rove_rows *q, int i)
{
    if (q == NULL || i < 0 || i >= sqlite3_column_count(q->st))
        return 0;
    return sqlite3_column_double(q->st, i);
}

int rove_rows_is_null(rove_rows *q, int i)
{
    if (q == NULL || i < 0 || i >= sqlite3_column_count(q->st))
        return 1;
    return sqlite3_column_type(q->st, i) == SQLITE_NULL;
}

void rove_rows_free(rove_rows *q)
{
    if (q == NULL)
        return;
    sqlite3_finalize(q->st);
    free(q);
}

/* ---- outbox, receipts and per-record state ------------------------------ */

int rove_client_outbox(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    return rove__rows_open(c, out,
                           "SELECT seq, change_id, tbl AS \"table\", row_id AS record_id, "
                           "CASE op WHEN 1 THEN 'insert' WHEN 2 THEN 'update' "
                           "ELSE 'delete' END AS op, created_at "
                           "FROM _rove_outbox ORDER BY seq",
                           NULL, 0, NULL, 0, 0);
}

#define STATUS_NAME_SQL                                                                        \
    "CASE status WHEN 0 THEN 'applied' WHEN 1 THEN 'merged' WHEN 2 THEN 'rejected' "           \
    "WHEN 3 THEN 'quarantined' ELSE 'overridden' END"

int rove_client_receipts(rove_client *c, rove_rows **out, int problems_only)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    static const char all[] =
        "SELECT change_id, tbl AS \"table\", row_id AS record_id, " STATUS_NAME_SQL
        " AS status, code, message, version, received_at FROM _rove_receipts "
        "ORDER BY received_at DESC, rowid DESC";
    static const char problems[] =
        "SELECT change_id, tbl AS \"table\", row_id AS record_id, " STATUS_NAME_SQL
        " AS status, code, message, version, received_at FROM _rove_receipts "
        "WHERE status >= 2 ORDER BY received_at DESC, rowid DESC";
    return rove__rows_open(c, out, problems_only ? problems : all, NULL, 0, NULL, 0, 0);
}

int rove_client_conflicts(rove_client *c, rove_rows **out, const char *table, const char *id,
                          int unseen_only)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    static const char sql[] =
        "SELECT id, change_id, tbl AS \"table\", row_id AS record_id, col AS \"column\", "
        "mine, theirs, policy, received_at, seen FROM _rove_conflicts "
        "WHERE (?1 IS NULL OR tbl = ?1) AND (?2 IS NULL OR row_id = ?2) "
        "AND (?3 = 0 OR seen = 0) ORDER BY id DESC";
    const char *params[2] = {table, id};
    int64_t unseen = unseen_only != 0;
    return rove__rows_open(c, out, sql, params, 2, &unseen, 1, 0);
}

int rove_client_conflict_dismiss(rove_client *c, int64_t id)
{
    if (c == NULL || id < 0)
        return c ? rove__client_error(c, ROVE_EINVAL, "invalid conflict id") : ROVE_EINVAL;
    rove__client_clear_error(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        c->db, "UPDATE _rove_conflicts SET seen = 1 WHERE ?1 = 0 OR id = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    int changed = sqlite3_changes(c->db);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "conflict dismiss");
    if (id != 0 && changed == 0)
        return rove__client_error(c, ROVE_ENOTFOUND, "no conflict %lld", (long long)id);
    return 0;
}

void rove_client_on_conflict(rove_client *c, rove_conflict_cb cb, void *payload)
{
    c->conflict_cb = cb;
    c->conflict_payload = payload;
}

const char *rove_sync_state_name(int state)
{
    switch (state) {
    case ROVE_SYNC_SYNCED:
        return "synced";
    case ROVE_SYNC_PENDING:
        return "pending";
    case ROVE_SYNC_REJECTED:
        return "rejected";
    case ROVE_SYNC_QUARANTINED:
        return "quarantined";
    case ROVE_SYNC_OVERRIDDEN:
        return "overridden";
    default:
        return "unknown";
    }
}

int rove_client_record_state(rove_client *c, const char *table, const char *id,
                             rove_sync_state *state, const char **message)
{
    if (message != NULL)
        *message = NULL;
    if (c == NULL || table == NULL || id == NULL || state == NULL)
        return c ? rove__client_error(c, ROVE_EINVAL, "invalid argument") : ROVE_EINVAL;
    rove__client_clear_error(c);
    const rove__table *t = rove__schema_table(table, strlen(table));
    if (t == NULL)
        return rove__client_error(c, ROVE_EUNKNOWNTABLE, "unknown table '%s'", table);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        c->db,
        "SELECT 1, NULL, NULL FROM _rove_outbox WHERE tbl = ?1 AND row_id = ?2 "
        "UNION ALL SELECT * FROM (SELECT 2, status, COALESCE(message, code) "
        "FROM _rove_receipts WHERE tbl = ?1 AND row_id = ?2 "
        "ORDER BY received_at DESC, rowid DESC LIMIT 1)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "record state");
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1) {
        *state = ROVE_SYNC_PENDING;
        rc = 0;
    } else if (rc == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 1);
        *state = s == 2   ? ROVE_SYNC_REJECTED
                 : s == 3 ? ROVE_SYNC_QUARANTINED
                 : s == 4 ? ROVE_SYNC_OVERRIDDEN
                          : ROVE_SYNC_SYNCED;
        const char *m = (const char *)sqlite3_column_text(st, 2);
        if (message != NULL && *state != ROVE_SYNC_SYNCED)
            *message = rove__client_scratch(c, m);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        /* No local history: synced if the server sent it to us. */
        sqlite3_finalize(st);
        st = NULL;
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = ?1", t->name);
        rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
            return rove__client_sqlerr(c, c->db, rc, "record state");
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *state = ROVE_SYNC_SYNCED;
            rc = 0;
        } else if (rc == SQLITE_DONE) {
            rc = rove__client_error(c, ROVE_ENOTFOUND, "no %s with id %s", table, id);
        } else {
            rc = rove__client_sqlerr(c, c->db, rc, "record state");
        }
    } else {
        rc = rove__client_sqlerr(c, c->db, rc, "record state");
    }
    sqlite3_finalize(st);
    return rc;
}

int rove_client_pending(rove_client *c, uint64_t *out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM _rove_outbox", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "pending");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (uint64_t)sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = rove__client_sqlerr(c, c->db, rc, "pending");
    }
    sqlite3_finalize(st);
    return rc;
}
