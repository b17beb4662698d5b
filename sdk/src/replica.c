/*
 * The replica: one SQLite file in WAL mode with synchronous=FULL, so a
 * committed local write survives a crash. Synced tables come from the schema
 * (rove__schema_ddl); the SDK's own tables start with _rove_.
 */
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "internal.h"

static const char sdk_ddl[] =
    "CREATE TABLE IF NOT EXISTS _rove_meta(key TEXT PRIMARY KEY NOT NULL, value);\n"
    "CREATE TABLE IF NOT EXISTS _rove_outbox(\n"
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  change_id TEXT UNIQUE NOT NULL,\n"
    "  tbl TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  op INTEGER NOT NULL,\n"
    "  base_version INTEGER NOT NULL DEFAULT 0,\n"
    "  hlc INTEGER NOT NULL,\n"
    "  payload BLOB,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  before_image BLOB);\n"
    "CREATE INDEX IF NOT EXISTS _rove_outbox_row ON _rove_outbox(tbl, row_id);\n"
    "CREATE TABLE IF NOT EXISTS _rove_receipts(\n"
    "  change_id TEXT PRIMARY KEY NOT NULL,\n"
    "  tbl TEXT,\n"
    "  row_id TEXT,\n"
    "  status INTEGER NOT NULL,\n"
    "  code TEXT,\n"
    "  message TEXT,\n"
    "  version INTEGER,\n"
    "  received_at INTEGER NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS _rove_receipts_row ON _rove_receipts(tbl, row_id);\n"
    "CREATE TABLE IF NOT EXISTS _rove_conflicts(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  change_id TEXT NOT NULL,\n"
    "  tbl TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  col TEXT NOT NULL,\n"
    "  mine,\n"
    "  theirs,\n"
    "  policy TEXT NOT NULL,\n"
    "  received_at INTEGER NOT NULL,\n"
    "  seen INTEGER NOT NULL DEFAULT 0,\n"
    "  UNIQUE(change_id, col));\n"
    "CREATE INDEX IF NOT EXISTS _rove_conflicts_row ON _rove_conflicts(tbl, row_id);\n"
    "CREATE TABLE IF NOT EXISTS _rove_leases(\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  delegator TEXT NOT NULL,\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  to_ms INTEGER NOT NULL,\n"
    "  grace_ms INTEGER NOT NULL,\n"
    "  actions TEXT NOT NULL,\n"
    "  payload BLOB NOT NULL,\n"
    "  sig BLOB NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS _rove_lease_accounts(\n"
    "  lease_id TEXT NOT NULL,\n"
    "  account_id TEXT NOT NULL,\n"
    "  PRIMARY KEY (lease_id, account_id));\n"
    "CREATE INDEX IF NOT EXISTS _rove_lease_accounts_acc ON _rove_lease_accounts(account_id);\n"
    "CREATE TABLE IF NOT EXISTS _rove_digest(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  section TEXT NOT NULL,\n"
    "  tbl TEXT,\n"
    "  row_id TEXT,\n"
    "  at INTEGER,\n"
    "  by_user TEXT,\n"
    "  detail TEXT);\n"
    "CREATE TABLE IF NOT EXISTS _rove_history(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  at INTEGER,\n"
    "  actor TEXT,\n"
    "  on_behalf_of TEXT,\n"
    "  delegation_id TEXT,\n"
    "  op TEXT,\n"
    "  late_sync INTEGER,\n"
    "  changes TEXT);\n";

static int map_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_NOMEM:
        return ROVE_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return ROVE_ECORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ROVE_EBUSY;
    case SQLITE_READONLY:
        return ROVE_EREADONLY;
    case SQLITE_CONSTRAINT:
        return ROVE_EEXISTS;
    default:
        return ROVE_ESTORE;
    }
}

int rove__client_sqlerr(rove_client *c, sqlite3 *db, int sqlite_rc, const char *what)
{
    int code = map_sqlite(sqlite_rc);
    if (code == 0)
        code = ROVE_ESTORE;
    return rove__client_error(c, code, "%s: %s", what,
                              db ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc));
}

int rove__replica_exec(rove_client *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = map_sqlite(rc);
        rove__client_error(c, code ? code : ROVE_ESTORE, "replica: %s",
                           msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code ? code : ROVE_ESTORE;
    }
    return 0;
}

int rove__replica_begin(rove_client *c) { return rove__replica_exec(c, "BEGIN IMMEDIATE"); }

int rove__replica_commit(rove_client *c)
{
    int rc = rove__replica_exec(c, "COMMIT");
    if (rc != 0)
        rove__replica_rollback(c);
    return rc;
}

void rove__replica_rollback(rove_client *c)
{
    if (c->db != NULL && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int meta_set(rove_client *c, const char *key, const char *s, const int64_t *i)
{
    int rc;
    if (c->st_meta_set == NULL) {
        rc = sqlite3_prepare_v3(c->db,
                                "INSERT INTO _rove_meta(key, value) VALUES(?1, ?2) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                -1, SQLITE_PREPARE_PERSISTENT, &c->st_meta_set, NULL);
        if (rc != SQLITE_OK)
            return rove__client_sqlerr(c, c->db, rc, "meta");
    }
    sqlite3_stmt *st = c->st_meta_set;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (i != NULL)
        sqlite3_bind_int64(st, 2, *i);
    else if (s != NULL)
        sqlite3_bind_text(st, 2, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "meta");
    return 0;
}

int rove__meta_set_text(rove_client *c, const char *key, const char *v)
{
    return meta_set(c, key, v, NULL);
}

int rove__meta_set_int(rove_client *c, const char *key, int64_t v)
{
    return meta_set(c, key, NULL, &v);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (t == NULL)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, t, n);
        d[n] = 0;
    }
    return d;
}

static void set_str(char **dst, char *v)
{
    if (*dst != NULL) {
        rove__platform_zero(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = v;
}

/* Loads _rove_meta into the handle. */
static int load_meta(rove_client *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT key, value FROM _rove_meta", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "meta");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (k == NULL)
            continue;
        if (strcmp(k, "device_id") == 0) {
            const char *v = (const char *)sqlite3_column_text(st, 1);
            if (v != NULL && rove__id_valid(v, strlen(v)))
                memcpy(c->device_id, v, ROVE_ID_SIZE);
        } else if (strcmp(k, "token") == 0) {
            set_str(&c->token, dup_col(st, 1));
        } else if (strcmp(k, "user_id") == 0) {
            set_str(&c->user_id, dup_col(st, 1));
        } else if (strcmp(k, "user_name") == 0) {
            set_str(&c->user_name, dup_col(st, 1));
        } else if (strcmp(k, "user_login") == 0) {
            set_str(&c->user_login, dup_col(st, 1));
        } else if (strcmp(k, "role") == 0) {
            set_str(&c->role, dup_col(st, 1));
        } else if (strcmp(k, "cursor") == 0) {
            c->cursor = sqlite3_column_int64(st, 1);
        } else if (strcmp(k, "hlc") == 0) {
            c->hlc.last = (uint64_t)sqlite3_column_int64(st, 1);
        } else if (strcmp(k, "server_url") == 0 && c->server_url == NULL) {
            c->server_url = dup_col(st, 1);
        } else if (strcmp(k, "ca_file") == 0 && c->ca_file == NULL) {
            c->ca_file = dup_col(st, 1);
        } else if (strcmp(k, "pinned_pubkey") == 0 && c->pinned_pubkey == NULL) {
            c->pinned_pubkey = dup_col(st, 1);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "meta");
    return 0;
}

/* Brings replicas made by older builds up to date (columns added later). */
static int migrate(rove_client *c)
{
    sqlite3_stmt *st = NULL;
    int has_before = 0;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT 1 FROM pragma_table_info('_rove_outbox') "
                                "WHERE name = 'before_image'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "migrate");
    rc = sqlite3_step(st);
    has_before = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "migrate");
    if (!has_before)
        ROVE_TRY(
            rove__replica_exec(c, "ALTER TABLE _rove_outbox ADD COLUMN before_image BLOB"));
    return rove__meta_set_int(c, "sdk_schema", 2);
}

int rove__replica_open(rove_client *c, char *err, size_t errsize)
{
    rove__buf ddl = ROVE__BUF_INIT;
    size_t ntables;
    rove__schema_tables(&ntables);
    if (ntables > ROVE__NTABLES) {
        /* Per-table statement arrays are sized by ROVE__NTABLES. */
        snprintf(err, errsize, "schema has %zu tables, the SDK was built for %d", ntables,
                 ROVE__NTABLES);
        return ROVE_EGENERIC;
    }
    int rc =
        sqlite3_open_v2(c->db_path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errsize, "cannot open replica: %s",
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        rc = map_sqlite(rc);
        goto cleanup;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 5000);

    /* journal_mode answers with the mode in force; anything but "wal" means
     * the file could not be switched (e.g. it is on a filesystem without
     * shared memory), which breaks the durability promise. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        snprintf(err, errsize, "replica: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        rc = map_sqlite(rc) ? map_sqlite(rc) : ROVE_ESTORE;
        goto cleanup;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    int wal = mode != NULL && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal && strcmp(c->db_path, ":memory:") != 0) {
        snprintf(err, errsize, "replica: cannot enable WAL journal mode");
        rc = ROVE_ESTORE;
        goto cleanup;
    }
    rc = rove__replica_exec(c, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                               "PRAGMA temp_store=MEMORY");
    if (rc != 0)
        goto fail_msg;

    rc = rove__schema_ddl(&ddl, ROVE__DDL_REPLICA);
    if (rc != 0) {
        snprintf(err, errsize, "out of memory");
        goto cleanup;
    }
    rove__buf_puts(&ddl, sdk_ddl);
    if ((rc = rove__buf_status(&ddl)) != 0)
        goto cleanup;
    if ((rc = rove__replica_begin(c)) != 0)
        goto fail_msg;
    if ((rc = rove__replica_exec(c, (const char *)ddl.ptr)) != 0 || (rc = migrate(c)) != 0 ||
        (rc = load_meta(c)) != 0) {
        rove__replica_rollback(c);
        goto fail_msg;
    }
    if (c->device_id[0] == 0) {
        int64_t now = rove__platform_now_ms();
        if ((rc = rove__rng_ulid(c->rng, c->device_id, now)) != 0 ||
            (rc = rove__meta_set_text(c, "device_id", c->device_id)) != 0 ||
            (rc = rove__meta_set_int(c, "created_at", now)) != 0) {
            rove__replica_rollback(c);
            goto fail_msg;
        }
    }
    /* The connection settings given at open are remembered, so a later open
     * of the same replica may omit them. */
    if ((c->server_url != NULL &&
         (rc = rove__meta_set_text(c, "server_url", c->server_url)) != 0) ||
        (c->ca_file != NULL && (rc = rove__meta_set_text(c, "ca_file", c->ca_file)) != 0) ||
        (c->pinned_pubkey != NULL &&
         (rc = rove__meta_set_text(c, "pinned_pubkey", c->pinned_pubkey)) != 0)) {
        rove__replica_rollback(c);
        goto fail_msg;
    }
    if ((rc = rove__replica_commit(c)) != 0)
        goto fail_msg;
    rc = 0;
    goto cleanup;

fail_msg:
    snprintf(err, errsize, "%s", c->errmsg);
cleanup:
    rove__buf_free(&ddl);
    return rc;
}

/* Refuses anything that could change a file through the query connection. */
static int ro_authorizer(void *ud, int action, const char *a, const char *b, const char *d,
                         const char *e)
{
    switch (action) {
    case SQLITE_READ:
        /* _rove_meta holds the device token: its values read as NULL, so a
         * query result an app logs can never carry the secret. */
        if (a != NULL && strcmp(a, "_rove_meta") == 0 && b != NULL && strcmp(b, "key") != 0)
            return SQLITE_IGNORE;
        return SQLITE_OK;
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        /* Introspection pragmas without an argument only. */
        if (b == NULL && a != NULL &&
            (strcmp(a, "table_info") == 0 || strcmp(a, "table_list") == 0 ||
             strcmp(a, "index_list") == 0 || strcmp(a, "user_version") == 0))
            return SQLITE_OK;
        if (b != NULL && a != NULL &&
            (strcmp(a, "table_info") == 0 || strcmp(a, "index_list") == 0 ||
             strcmp(a, "table_xinfo") == 0))
            return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

int rove__replica_ro(rove_client *c, sqlite3 **out)
{
    if (c->ro == NULL) {
        if (strcmp(c->db_path, ":memory:") == 0) {
            *out = c->db;
            return 0;
        }
        sqlite3 *db = NULL;
        int rc =
            sqlite3_open_v2(c->db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
            rc = rove__client_sqlerr(c, db, rc, "read-only connection");
            sqlite3_close(db);
            return rc;
        }
        sqlite3_busy_timeout(db, 5000);
        sqlite3_set_authorizer(db, ro_authorizer, NULL);
        c->ro = db;
    }
    *out = c->ro;
    return 0;
}

void rove__replica_close(rove_client *c)
{
    sqlite3_finalize(c->st_outbox_add);
    sqlite3_finalize(c->st_meta_set);
    sqlite3_finalize(c->st_outbox_for_row);
    c->st_outbox_add = c->st_meta_set = c->st_outbox_for_row = NULL;
    for (size_t i = 0; i < ROVE__NTABLES; i++) {
        sqlite3_finalize(c->upsert[i].stmt);
        c->upsert[i].stmt = NULL;
    }
    if (c->ro != NULL)
        sqlite3_close_v2(c->ro);
    c->ro = NULL;
    if (c->db != NULL)
        sqlite3_close_v2(c->db);
    c->db = NULL;
}

int rove__bind_value(sqlite3_stmt *st, int i, const rove__value *v, int copy)
{
    switch (v->type) {
    case ROVE__T_INT:
        return sqlite3_bind_int64(st, i, v->i);
    case ROVE__T_REAL:
        return sqlite3_bind_double(st, i, v->d);
    case ROVE__T_TEXT:
        return sqlite3_bind_text(st, i, v->s ? v->s : "", (int)v->len,
                                 copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
    default:
        return sqlite3_bind_null(st, i);
    }
}
