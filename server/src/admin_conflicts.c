/*
 * Admin API endpoints of the conflict log (docs/conflicts.md):
 *
 *   GET  conflicts[?record=ID][&open=1]   the newest 500 entries
 *   GET  conflicts/<id>                   one entry
 *   POST conflicts/<id>/restore           write the losing value back
 *   POST conflicts/<id>/dismiss           keep what won; close the entry
 *
 * Restoring is a server write of one column, made by the manager: it gets a
 * new version (every device pulls it), the column's write clock (so a stale
 * device edit still conflicts with it), an audit event, and the value it
 * replaces goes to the conflict log in turn (policy "restore"). Managers may
 * act on records of the territories they manage; admins on any.
 */
#include "admin.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "hlc.h"
#include "log.h"
#include "rove/errors.h"
#include "sync.h"
#include "util.h"
#include "value.h"

/* The write clock tag of server commands (device tags are odd). */
#define SERVER_TAG 2

static int add_conflict_json(int64_t id, const roved_conflict *cf, void *payload)
{
    roved_admin_lister *l = payload;
    if (!roved_admin_reaches_row(l->db, l->actor, cf->table, cf->row_id, l->now))
        return 0;
    json_error_t err;
    json_t *lost = json_loads(cf->lost_json ? cf->lost_json : "null", JSON_DECODE_ANY, &err);
    json_t *kept = json_loads(cf->kept_json ? cf->kept_json : "null", JSON_DECODE_ANY, &err);
    json_t *o = json_pack("{s:I,s:I,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:o?,s:o?,s:s?,s:s?}",
                          "id", (json_int_t)id, "at", (json_int_t)cf->at, "table", cf->table,
                          "row_id", cf->row_id, "column", cf->column, "policy", cf->policy,
                          "device_id", cf->device_id, "user_id", cf->user_id, "client_hlc",
                          (json_int_t)cf->client_hlc, "lost", lost ? lost : json_null(), "kept",
                          kept ? kept : json_null(), "resolution", cf->resolution,
                          "resolved_by", cf->resolved_by);
    if (o == NULL)
        return ROVE_ENOMEM;
    if (cf->resolution != NULL)
        json_object_set_new(o, "resolved_at", json_integer(cf->resolved_at));
    return json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

/* GET conflicts[?record=ID][&open=1] and GET conflicts/<id>. */
int roved_admin_conflicts_get(roved_server *srv, struct mg_connection *c,
                              const roved_user *actor, const char *const *arg, int variant)
{
    const char *one = arg[0];
    (void)variant;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *q = ri->query_string;
    char record[64] = "", open[8] = "";
    if (q != NULL && mg_get_var(q, strlen(q), "record", record, sizeof(record)) > 0 &&
        !roved_admin_valid_id(record))
        return roved_admin_error(c, ROVE_EBADVALUE, "record must be a record id");
    if (q != NULL && mg_get_var(q, strlen(q), "open", open, sizeof(open)) > 0 &&
        strcmp(open, "1") != 0 && strcmp(open, "0") != 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "open must be 0 or 1");
    int64_t id = 0;
    if (one != NULL && (id = roved_admin_number_id(one)) == 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "the conflict id must be a number");
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_admin_lister l = {db, actor, roved_util_now_ms(), json_array()};
    json_t *arr = l.arr;
    int rc = roved_store_conflict_query(db, record[0] ? record : NULL, id, open[0] == '1', 500,
                                        add_conflict_json, &l);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return roved_admin_error(c, ROVE_ESTORE, "the conflict log could not be read");
    }
    if (one != NULL)
        return roved_admin_send_first(c, arr, "no such conflict");
    return roved_admin_send_json(c, 200, json_pack("{s:o}", "conflicts", arr));
}

/* The entry being decided on, copied out of the store. */
typedef struct entry {
    int found;
    char table[32], row_id[32], column[64], resolution[16];
    char *lost_json;
} entry;

static int keep_entry(int64_t id, const roved_conflict *cf, void *payload)
{
    (void)id;
    entry *e = payload;
    e->found = 1;
    roved_util_copy(e->table, sizeof(e->table), cf->table ? cf->table : "");
    roved_util_copy(e->row_id, sizeof(e->row_id), cf->row_id ? cf->row_id : "");
    roved_util_copy(e->column, sizeof(e->column), cf->column ? cf->column : "");
    roved_util_copy(e->resolution, sizeof(e->resolution), cf->resolution ? cf->resolution : "");
    e->lost_json = strdup(cf->lost_json ? cf->lost_json : "null");
    return e->lost_json ? 0 : ROVE_ENOMEM;
}

/*
 * Writes the entry's losing value back (restore) or closes the entry
 * (dismiss). Everything in one write transaction; any refusal changes
 * nothing.
 */
int roved_admin_conflict_decide(roved_server *srv, struct mg_connection *c,
                                const roved_user *actor, const char *const *arg, int restore)
{
    const char *id_s = arg[0];
    int64_t id = roved_admin_number_id(id_s);
    if (id == 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "the conflict id must be a number");
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    entry e;
    memset(&e, 0, sizeof(e));
    int status = 0;
    int rc = roved_store_conflict_query(db, NULL, id, 0, 1, keep_entry, &e);
    const rove__table *t =
        rc == 0 && e.found ? rove__schema_table(e.table, strlen(e.table)) : NULL;
    int col = t ? rove__schema_col(t, e.column, strlen(e.column)) : -1;
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    /* An entry out of reach answers like one that does not exist. */
    if (rc == 0 && (!e.found || !roved_admin_reaches_row(db, actor, e.table, e.row_id, now)))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such conflict");
    else if (rc == 0 && e.resolution[0])
        status = roved_admin_error(c, ROVE_ESTATE, "this conflict was decided already");
    else if (rc == 0 && (t == NULL || col < 0))
        status = roved_admin_error(c, ROVE_ESTATE, "the logged column no longer exists");
    else if (rc == 0 && (rc = roved_store_row_info(db, t, e.row_id, &info)) == ROVE_ENOTFOUND)
        rc = 0, info.deleted = 1;
    rove__value restored;
    json_t *lost = NULL;
    if (status == 0 && rc == 0 && restore) {
        json_error_t jerr;
        lost = json_loads(e.lost_json, JSON_DECODE_ANY, &jerr);
        if (info.deleted)
            status = roved_admin_error(c, ROVE_ESTATE,
                                       "the record was deleted; its value cannot be restored");
        else if (t->cols[col].flags & (ROVE__COL_SYSTEM | ROVE__COL_SERVER_OWNED))
            status =
                roved_admin_error(c, ROVE_ESTATE, "the column is maintained by the server");
        else if (lost == NULL || !roved_value_from_json(&t->cols[col], lost, &restored) ||
                 (restored.type == ROVE__T_NULL && (t->cols[col].flags & ROVE__COL_REQUIRED)))
            status =
                roved_admin_error(c, ROVE_ESTATE, "the logged value no longer fits the column");
    }
    int64_t version = 0;
    if (status == 0 && rc == 0 && restore) {
        rove__value cur[ROVE__MAX_COLS];
        rove__buf cur_text = ROVE__BUF_INIT;
        roved_col_clock clocks[ROVE__MAX_COLS];
        rc = roved_store_row_get(db, t, e.row_id, cur, &cur_text);
        if (rc == 0)
            rc = roved_store_clock_get(db, t, e.row_id, clocks);
        if (rc == 0)
            rc = roved_store_row_write(db, t, e.row_id, &col, &restored, 1, actor->id, now,
                                       &version);
        if (rc == 0) {
            pthread_mutex_lock(&srv->hlc_lock);
            clocks[col].hlc = (int64_t)rove__hlc_now(&srv->hlc, (uint64_t)now);
            pthread_mutex_unlock(&srv->hlc_lock);
            clocks[col].version = version;
            clocks[col].device_tag = SERVER_TAG;
            rc = roved_store_clock_put(db, t, e.row_id, clocks);
        }
        char *was = rc == 0 ? roved_value_dump(&cur[col]) : NULL;
        if (rc == 0 && was == NULL)
            rc = ROVE_ENOMEM;
        if (rc == 0) {
            /* The value the restore replaces is not lost either. */
            roved_conflict rec = {now,       t->name,     e.row_id,  e.column,
                                  "restore", NULL,        actor->id, clocks[col].hlc,
                                  was,       e.lost_json, NULL,      NULL,
                                  0};
            rc = roved_store_conflict_put(db, &rec);
        }
        if (rc == 0) {
            json_t *diff = json_pack("{s:{s:o,s:O},s:I}", e.column, "old",
                                     json_loads(was, JSON_DECODE_ANY, NULL), "new", lost,
                                     "conflict", (json_int_t)id);
            rc = diff ? roved_admin_audit(db, actor, t->name, e.row_id, "conflict_restore",
                                          diff, now)
                      : ROVE_ENOMEM;
            json_decref(diff);
        }
        free(was);
        rove__buf_free(&cur_text);
    }
    if (status == 0 && rc == 0 && !restore) {
        json_t *diff = json_pack("{s:I,s:s}", "conflict", (json_int_t)id, "column", e.column);
        rc = diff ? roved_admin_audit(db, actor, e.table, e.row_id, "conflict_dismiss", diff,
                                      now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    if (status == 0 && rc == 0)
        rc = roved_store_conflict_resolve(db, id, restore ? "restored" : "dismissed", actor->id,
                                          now);
    free(e.lost_json);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                   "the decision could not be stored");
    if (status != 0) {
        json_decref(lost);
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0) {
        json_decref(lost);
        return roved_admin_error(c, ROVE_ESTORE, "the decision could not be committed");
    }
    roved_log_info(restore ? "admin_conflict_restore" : "admin_conflict_dismiss",
                   "actor=%s conflict=%lld record=%s column=%s", actor->id, (long long)id,
                   e.row_id, e.column);
    json_t *answer = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "resolution",
                               restore ? "restored" : "dismissed", "table", e.table, "row_id",
                               e.row_id, "column", e.column);
    if (restore) {
        json_object_set_new(answer, "value", lost); /* consumed */
        json_object_set_new(answer, "version", json_integer(version));
    }
    return roved_admin_send_json(c, 200, answer);
}
