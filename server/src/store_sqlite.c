/*
 * The SQLite store (see store.h). All SQL in roved lives in this file.
 *
 * One writer connection, guarded by a mutex, takes every write transaction;
 * read transactions run on a small pool of connections. The database is in
 * WAL mode, so readers see a consistent snapshot while the writer works, and
 * synchronous=FULL by default, so a commit is on disk before the HTTP response
 * that acknowledges it is sent.
 */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"

#define SCHEMA_VERSION 2
#define FIXED_SLOTS 256
#define DYN_SLOTS 64

/* Synced tables by their position in rove__schema_tables(). */
enum { T_ACCOUNT = 0, T_CONTACT = 1, T_VISIT = 2, T_TASK = 3, T_STAGE = 4, T_COUNT = 5 };

typedef struct slot {
    uint64_t key;
    sqlite3_stmt *st;
} slot;

struct roved_db {
    sqlite3 *h;
    roved_store *s;
    int writer;
    int lazy;          /* current write transaction does not fsync */
    int version_dirty; /* writer: counter advanced in this transaction */
    int pull_drive;    /* current pull: drive by the scope's indexes (see below) */
    slot fixed[FIXED_SLOTS];
    size_t nfixed;
    slot dyn[DYN_SLOTS];
    size_t ndyn, dyn_next;
    roved_db *next_free;
};

struct roved_store {
    char path[1100];
    int sync_full;
    pthread_mutex_t write_lock;
    roved_db *writer;
    int64_t version; /* committed counter (writer side) */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    roved_db *free_readers;
    roved_db **all_readers;
    int nreaders, max_readers;
    const rove__table *tables;
    size_t ntables;
};

/* ---- connection and statement helpers --------------------------------- */

static int fail(roved_db *db, const char *what)
{
    roved_log_error("store_error", "op=%s sqlite=\"%s\"", what,
                    db && db->h ? sqlite3_errmsg(db->h) : "no handle");
    return ROVE_ESTORE;
}

static int exec(roved_db *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK) {
        roved_log_error("store_error", "op=exec sqlite=\"%s\"", err ? err : "?");
        sqlite3_free(err);
        return ROVE_ESTORE;
    }
    return 0;
}

static sqlite3_stmt *prepare(roved_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fail(db, "prepare");
        return NULL;
    }
    return st;
}

/* A cached statement for a fixed key; prepared on first use. */
static sqlite3_stmt *fixed(roved_db *db, uint64_t key, const char *sql)
{
    for (size_t i = 0; i < db->nfixed; i++)
        if (db->fixed[i].key == key) {
            sqlite3_reset(db->fixed[i].st);
            return db->fixed[i].st;
        }
    if (db->nfixed == FIXED_SLOTS) {
        roved_log_error("store_error", "op=prepare reason=statement_cache_full");
        return NULL;
    }
    sqlite3_stmt *st = prepare(db, sql);
    if (st != NULL)
        db->fixed[db->nfixed++] = (slot){key, st};
    return st;
}

/* A cached statement with a built SQL text (looked up first, built on a miss). */
static sqlite3_stmt *dyn_get(roved_db *db, uint64_t key)
{
    for (size_t i = 0; i < db->ndyn; i++)
        if (db->dyn[i].key == key) {
            sqlite3_reset(db->dyn[i].st);
            return db->dyn[i].st;
        }
    return NULL;
}

static sqlite3_stmt *dyn_put(roved_db *db, uint64_t key, const char *sql)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (st == NULL)
        return NULL;
    size_t i;
    if (db->ndyn < DYN_SLOTS) {
        i = db->ndyn++;
    } else {
        i = db->dyn_next++ % DYN_SLOTS;
        sqlite3_finalize(db->dyn[i].st);
    }
    db->dyn[i] = (slot){key, st};
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void bind_value(sqlite3_stmt *st, int i, const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_INT:
        sqlite3_bind_int64(st, i, v->i);
        break;
    case ROVE__T_REAL:
        sqlite3_bind_double(st, i, v->d);
        break;
    case ROVE__T_TEXT:
        sqlite3_bind_text(st, i, v->s ? v->s : "", (int)v->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, i);
    }
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    roved_util_copy(dst, size, (const char *)sqlite3_column_text(st, i));
}

/* Runs a statement that returns no rows. */
static int run(roved_db *db, sqlite3_stmt *st, const char *what)
{
    if (st == NULL)
        return ROVE_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return ROVE_EEXISTS;
    if (rc != SQLITE_DONE)
        return fail(db, what);
    return 0;
}

static const char server_ddl[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value);\n"
    "CREATE TABLE IF NOT EXISTS users (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  username TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL,\n"
    "  role TEXT NOT NULL CHECK (role IN ('rep','technician','manager','admin')),\n"
    "  status TEXT NOT NULL DEFAULT 'active'\n"
    "    CHECK (status IN ('active','frozen','deactivated')),\n"
    "  manager_id TEXT REFERENCES users(id),\n"
    "  home_territory_id TEXT,\n"
    "  skills TEXT,\n"
    "  password_hash TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS territories (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  parent_id TEXT REFERENCES territories(id),\n"
    "  owner_id TEXT REFERENCES users(id));\n"
    "CREATE INDEX IF NOT EXISTS territories_owner ON territories(owner_id);\n"
    "CREATE INDEX IF NOT EXISTS territories_parent ON territories(parent_id);\n"
    "CREATE TABLE IF NOT EXISTS territory_members (\n"
    "  territory_id TEXT NOT NULL REFERENCES territories(id),\n"
    "  user_id TEXT NOT NULL REFERENCES users(id),\n"
    "  role TEXT NOT NULL,\n"
    "  valid_from INTEGER NOT NULL DEFAULT 0,\n"
    "  valid_to INTEGER,\n"
    "  PRIMARY KEY (territory_id, user_id, role, valid_from));\n"
    "CREATE INDEX IF NOT EXISTS territory_members_user ON territory_members(user_id);\n"
    "CREATE TABLE IF NOT EXISTS devices (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  user_id TEXT NOT NULL REFERENCES users(id),\n"
    "  name TEXT,\n"
    "  token_hash TEXT UNIQUE,\n"
    "  registered_at INTEGER NOT NULL,\n"
    "  last_sync_at INTEGER,\n"
    "  last_cursor INTEGER NOT NULL DEFAULT 0,\n"
    "  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','revoked')),\n"
    "  revoked_at INTEGER NOT NULL DEFAULT 0,\n"
    "  drain_until INTEGER NOT NULL DEFAULT 0,\n"
    "  wiped_at INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX IF NOT EXISTS devices_user ON devices(user_id);\n"
    "CREATE TABLE IF NOT EXISTS device_tokens (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  device_id TEXT NOT NULL REFERENCES devices(id),\n"
    "  user_id TEXT NOT NULL REFERENCES users(id),\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER NOT NULL,\n"
    "  last_used_at INTEGER NOT NULL DEFAULT 0,\n"
    "  revoked_at INTEGER NOT NULL DEFAULT 0,\n"
    "  revoked_by TEXT);\n"
    "CREATE INDEX IF NOT EXISTS device_tokens_device ON device_tokens(device_id);\n"
    "CREATE INDEX IF NOT EXISTS device_tokens_user ON device_tokens(user_id);\n"
    "CREATE TABLE IF NOT EXISTS admin_sessions (\n"
    "  token_hash TEXT PRIMARY KEY NOT NULL,\n"
    "  user_id TEXT NOT NULL REFERENCES users(id),\n"
    "  created_at INTEGER NOT NULL,\n"
    "  expires_at INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS receipts (\n"
    "  device_id TEXT NOT NULL,\n"
    "  change_id TEXT NOT NULL,\n"
    "  status INTEGER NOT NULL,\n"
    "  code TEXT,\n"
    "  message TEXT,\n"
    "  version INTEGER NOT NULL DEFAULT 0,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  lost BLOB,\n"
    "  PRIMARY KEY (device_id, change_id)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS audit (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  at INTEGER NOT NULL,\n"
    "  actor_user_id TEXT,\n"
    "  device_id TEXT,\n"
    "  table_name TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  op TEXT NOT NULL,\n"
    "  client_hlc INTEGER,\n"
    "  diff TEXT,\n"
    "  on_behalf_of TEXT,\n"
    "  delegation_id TEXT);\n"
    "CREATE INDEX IF NOT EXISTS audit_row ON audit(table_name, row_id);\n"
    "CREATE INDEX IF NOT EXISTS audit_at ON audit(at);\n"
    "CREATE TABLE IF NOT EXISTS delegations (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  delegator_id TEXT NOT NULL,\n"
    "  status TEXT NOT NULL CHECK (status IN ('planned','revoked','ended')),\n"
    "  starts_at INTEGER NOT NULL,\n"
    "  ends_at INTEGER NOT NULL,\n"
    "  grace_ms INTEGER NOT NULL,\n"
    "  visit_policy TEXT NOT NULL,\n"
    "  created_by TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  activated INTEGER NOT NULL DEFAULT 0,\n"
    "  closed INTEGER NOT NULL DEFAULT 0,\n"
    "  reason TEXT);\n"
    "CREATE INDEX IF NOT EXISTS delegations_delegator ON delegations(delegator_id);\n"
    "CREATE TABLE IF NOT EXISTS delegation_grants (\n"
    "  delegation_id TEXT NOT NULL,\n"
    "  delegate_id TEXT NOT NULL,\n"
    "  scope TEXT NOT NULL,\n"
    "  territory_id TEXT,\n"
    "  actions TEXT NOT NULL,\n"
    "  PRIMARY KEY (delegation_id, delegate_id)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS delegation_grants_delegate ON delegation_grants(delegate_id);\n"
    "CREATE TABLE IF NOT EXISTS delegation_accounts (\n"
    "  delegation_id TEXT NOT NULL,\n"
    "  delegate_id TEXT NOT NULL,\n"
    "  account_id TEXT NOT NULL,\n"
    "  PRIMARY KEY (delegation_id, account_id)) WITHOUT ROWID;\n"
    /* Per-column write clocks (see roved_col_clock), one blob per record. */
    "CREATE TABLE IF NOT EXISTS row_clocks (\n"
    "  table_name TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  clocks BLOB NOT NULL,\n"
    "  PRIMARY KEY (table_name, row_id)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS conflicts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  at INTEGER NOT NULL,\n"
    "  table_name TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  column_name TEXT NOT NULL,\n"
    "  policy TEXT NOT NULL,\n"
    "  device_id TEXT,\n"
    "  user_id TEXT,\n"
    "  client_hlc INTEGER,\n"
    "  lost_value TEXT,\n"
    "  kept_value TEXT,\n"
    "  resolution TEXT,\n"
    "  resolved_by TEXT,\n"
    "  resolved_at INTEGER);\n"
    "CREATE INDEX IF NOT EXISTS conflicts_row ON conflicts(table_name, row_id);\n"
    /* The audit trail is append-only, whoever holds a connection. */
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n"
    /* Pull and scope paths: per-owner and per-territory account lookups. */
    "CREATE INDEX IF NOT EXISTS account_owner_version ON account(owner_id, version);\n"
    "CREATE INDEX IF NOT EXISTS account_territory ON account(territory_id);\n"
    /* What each device holds, for evictions and entries (see store.h, scope). */
    "CREATE TABLE IF NOT EXISTS device_scope (\n"
    "  device_id TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  enter_v INTEGER NOT NULL DEFAULT 0,\n"
    "  evict_v INTEGER,\n"
    "  evict_reason TEXT,\n"
    "  PRIMARY KEY (device_id, kind, row_id)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS device_scope_state (\n"
    "  device_id TEXT PRIMARY KEY NOT NULL,\n"
    "  epoch INTEGER NOT NULL,\n"
    "  evaluated_at INTEGER NOT NULL,\n"
    "  pending_v INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE IF NOT EXISTS scope_moves (\n"
    "  kind TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  at INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, row_id)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS territory_members_bounds ON territory_members(user_id, "
    "valid_from, valid_to);\n"
    "CREATE TABLE IF NOT EXISTS quarantine (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  at INTEGER NOT NULL,\n"
    "  device_id TEXT NOT NULL,\n"
    "  user_id TEXT NOT NULL,\n"
    "  table_name TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  change_id TEXT NOT NULL,\n"
    "  op TEXT NOT NULL,\n"
    "  client_hlc INTEGER,\n"
    "  payload TEXT NOT NULL,\n"
    "  reason_code TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'pending'\n"
    "    CHECK (status IN ('pending','applied','discarded')),\n"
    "  base_version INTEGER NOT NULL DEFAULT 0,\n"
    "  decided_by TEXT,\n"
    "  decided_at INTEGER,\n"
    "  outcome TEXT);\n"
    "CREATE INDEX IF NOT EXISTS quarantine_row ON quarantine(table_name, row_id);\n"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('scope_epoch', 0);\n"
    "CREATE TABLE IF NOT EXISTS transfers (\n"
    "  id TEXT PRIMARY KEY NOT NULL,\n"
    "  leaver_id TEXT,\n"
    "  reason TEXT NOT NULL,\n"
    "  status TEXT NOT NULL CHECK (status IN ('planned','running','done')),\n"
    "  created_by TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  started_at INTEGER,\n"
    "  finished_at INTEGER,\n"
    "  batch_size INTEGER NOT NULL,\n"
    "  plan TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS transfer_items (\n"
    "  transfer_id TEXT NOT NULL,\n"
    "  account_id TEXT NOT NULL,\n"
    "  to_user_id TEXT NOT NULL,\n"
    "  line INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  done_at INTEGER,\n"
    "  PRIMARY KEY (transfer_id, account_id)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS account_owner_history (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  account_id TEXT NOT NULL,\n"
    "  from_owner TEXT,\n"
    "  to_owner TEXT,\n"
    "  from_territory TEXT,\n"
    "  to_territory TEXT,\n"
    "  at INTEGER NOT NULL,\n"
    "  transfer_id TEXT,\n"
    "  reason TEXT,\n"
    "  actor_id TEXT);\n"
    "CREATE INDEX IF NOT EXISTS account_owner_history_acc ON account_owner_history(account_id, "
    "at);\n"
    "CREATE TABLE IF NOT EXISTS user_absences (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  user_id TEXT NOT NULL REFERENCES users(id),\n"
    "  starts_at INTEGER NOT NULL,\n"
    "  ends_at INTEGER NOT NULL,\n"
    "  reason TEXT,\n"
    "  CHECK (ends_at > starts_at));\n"
    "CREATE INDEX IF NOT EXISTS user_absences_user ON user_absences(user_id, starts_at);\n"
    "CREATE INDEX IF NOT EXISTS service_task_queue ON service_task(queue);\n"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('version', 0);\n";

static int db_open(roved_store *s, int writer, roved_db **out)
{
    roved_db *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return ROVE_ENOMEM;
    db->s = s;
    db->writer = writer;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(s->path, &db->h, flags, NULL) != SQLITE_OK) {
        fail(db, "open");
        sqlite3_close(db->h);
        free(db);
        return ROVE_ESTORE;
    }
    char pragmas[512];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
             "PRAGMA foreign_keys=ON; PRAGMA cache_size=%d; PRAGMA temp_store=MEMORY;"
             "PRAGMA mmap_size=268435456;%s",
             s->sync_full ? "FULL" : "NORMAL",
             /* Readers mostly read through the shared mmap; keep their private
              * caches small, since there is one per worker thread. */
             writer ? -32768 : -4096, writer ? "" : " PRAGMA query_only=1;");
    if (exec(db, pragmas) != 0) {
        sqlite3_close(db->h);
        free(db);
        return ROVE_ESTORE;
    }
    *out = db;
    return 0;
}

static void db_close(roved_db *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->nfixed; i++)
        sqlite3_finalize(db->fixed[i].st);
    for (size_t i = 0; i < db->ndyn; i++)
        sqlite3_finalize(db->dyn[i].st);
    sqlite3_close(db->h);
    free(db);
}

static int load_version(roved_db *db, int64_t *out)
{
    sqlite3_stmt *st = fixed(db, 1, "SELECT value FROM meta WHERE key = 'version'");
    if (st == NULL)
        return ROVE_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "load_version");
}

/* Columns added after a store was first created: CREATE TABLE IF NOT EXISTS
 * leaves an older table as it was, so they are added here. */
static int add_columns(roved_db *db)
{
    static const struct {
        const char *table, *column, *decl;
    } added[] = {{"receipts", "lost", "BLOB"},
                 {"conflicts", "resolution", "TEXT"},
                 {"conflicts", "resolved_by", "TEXT"},
                 {"conflicts", "resolved_at", "INTEGER"},
                 {"quarantine", "base_version", "INTEGER NOT NULL DEFAULT 0"},
                 {"quarantine", "decided_by", "TEXT"},
                 {"quarantine", "decided_at", "INTEGER"},
                 {"quarantine", "outcome", "TEXT"},
                 {"devices", "revoked_at", "INTEGER NOT NULL DEFAULT 0"},
                 {"devices", "drain_until", "INTEGER NOT NULL DEFAULT 0"},
                 {"devices", "wiped_at", "INTEGER NOT NULL DEFAULT 0"},
                 {"audit", "on_behalf_of", "TEXT"},
                 {"audit", "delegation_id", "TEXT"}};
    for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s') WHERE name = '%s'",
                 added[i].table, added[i].column);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
            return ROVE_ESTORE;
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW)
            continue;
        if (rc != SQLITE_DONE)
            return ROVE_ESTORE;
        snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", added[i].table,
                 added[i].column, added[i].decl);
        if (exec(db, sql) != 0)
            return ROVE_ESTORE;
    }
    return 0;
}

/* Schema 1 kept one token per device in devices.token_hash, without a
 * lifetime. Each becomes a device_tokens row that expires one default
 * lifetime after the upgrade (a device is not logged out by it), and the
 * old column is emptied so it authenticates nothing any more. Idempotent. */
static int migrate_tokens(roved_db *db)
{
    char sql[700];
    snprintf(sql, sizeof(sql),
             "INSERT OR IGNORE INTO device_tokens"
             " (id, device_id, user_id, token_hash, created_at, expires_at)"
             " SELECT '0' || substr(upper(hex(randomblob(13))), 1, 25), id, user_id,"
             " token_hash, registered_at, %lld FROM devices WHERE token_hash IS NOT NULL;"
             "UPDATE devices SET token_hash = NULL WHERE token_hash IS NOT NULL;"
             "UPDATE meta SET value = %d WHERE key = 'schema_version' AND value < %d;",
             (long long)(roved_util_now_ms() + ROVED_DEVICE_TOKEN_DAYS_DEFAULT * 86400000LL),
             SCHEMA_VERSION, SCHEMA_VERSION);
    return exec(db, sql);
}

static int check_tables(roved_store *s)
{
    static const char *const want[T_COUNT] = {"account", "contact", "visit", "service_task",
                                              "stage_change"};
    s->tables = rove__schema_tables(&s->ntables);
    if (s->ntables != T_COUNT)
        goto bad;
    for (size_t i = 0; i < T_COUNT; i++)
        if (strcmp(s->tables[i].name, want[i]) != 0)
            goto bad;
    return 0;
bad:
    roved_log_error("store_error", "op=open reason=schema_tables_unexpected");
    return ROVE_ESTORE;
}

int roved_store_open(roved_store **out, const roved_store_options *opts)
{
    *out = NULL;
    roved_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ROVE_ENOMEM;
    snprintf(s->path, sizeof(s->path), "%s/rove.db", opts->dir);
    s->sync_full = opts->synchronous_full;
    s->max_readers = opts->readers > 0 ? opts->readers : 8;
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    s->all_readers = calloc((size_t)s->max_readers, sizeof(roved_db *));
    int rc = s->all_readers ? check_tables(s) : ROVE_ENOMEM;
    if (rc == 0)
        rc = db_open(s, 1, &s->writer);
    rove__buf ddl = ROVE__BUF_INIT;
    if (rc == 0) {
        rc = rove__schema_ddl(&ddl, ROVE__DDL_SERVER);
        rove__buf_puts(&ddl, server_ddl);
        if (rc == 0)
            rc = rove__buf_status(&ddl);
    }
    if (rc == 0)
        rc = exec(s->writer, "BEGIN IMMEDIATE");
    if (rc == 0) {
        rc = exec(s->writer, (const char *)ddl.ptr);
        if (rc == 0) {
            char sql[128];
            snprintf(sql, sizeof(sql),
                     "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', %d)",
                     SCHEMA_VERSION);
            rc = exec(s->writer, sql);
        }
        if (rc == 0)
            rc = add_columns(s->writer);
        if (rc == 0)
            rc = migrate_tokens(s->writer);
        rc = exec(s->writer, rc == 0 ? "COMMIT" : "ROLLBACK") ? ROVE_ESTORE : rc;
    }
    rove__buf_free(&ddl);
    if (rc == 0)
        rc = load_version(s->writer, &s->version);
    if (rc != 0) {
        roved_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void roved_store_close(roved_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nreaders; i++)
        db_close(s->all_readers[i]);
    free(s->all_readers);
    if (s->writer != NULL) {
        sqlite3_wal_checkpoint_v2(s->writer->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        db_close(s->writer);
    }
    pthread_mutex_destroy(&s->write_lock);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->pool_cond);
    free(s);
}

/* ---- transactions ----------------------------------------------------- */

static int write_begin(roved_store *s, roved_db **out, int lazy)
{
    pthread_mutex_lock(&s->write_lock);
    roved_db *db = s->writer;
    if (lazy && s->sync_full && exec(db, "PRAGMA synchronous=NORMAL") != 0) {
        pthread_mutex_unlock(&s->write_lock);
        return ROVE_ESTORE;
    }
    db->lazy = lazy && s->sync_full;
    db->version_dirty = 0;
    sqlite3_stmt *st = fixed(db, 2, "BEGIN IMMEDIATE");
    if (run(db, st, "begin") != 0) {
        if (db->lazy)
            exec(db, "PRAGMA synchronous=FULL");
        pthread_mutex_unlock(&s->write_lock);
        return ROVE_ESTORE;
    }
    *out = db;
    return 0;
}

int roved_store_write_begin(roved_store *s, roved_db **out) { return write_begin(s, out, 0); }

int roved_store_write_begin_lazy(roved_store *s, roved_db **out)
{
    return write_begin(s, out, 1);
}

static void write_end(roved_store *s, roved_db *db)
{
    if (db->lazy) {
        exec(db, "PRAGMA synchronous=FULL");
        db->lazy = 0;
    }
    pthread_mutex_unlock(&s->write_lock);
}

int roved_store_write_commit(roved_store *s, roved_db *db)
{
    int rc = 0;
    if (db->version_dirty) {
        sqlite3_stmt *st = fixed(db, 3, "UPDATE meta SET value = ?1 WHERE key = 'version'");
        if (st != NULL)
            sqlite3_bind_int64(st, 1, s->version);
        rc = run(db, st, "version_save");
    }
    if (rc == 0)
        rc = run(db, fixed(db, 4, "COMMIT"), "commit");
    if (rc != 0) {
        sqlite3_stmt *rb = fixed(db, 5, "ROLLBACK");
        if (rb != NULL && !sqlite3_get_autocommit(db->h))
            run(db, rb, "rollback");
        load_version(db, &s->version);
    }
    db->version_dirty = 0;
    write_end(s, db);
    return rc;
}

void roved_store_write_rollback(roved_store *s, roved_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        run(db, fixed(db, 5, "ROLLBACK"), "rollback");
    if (db->version_dirty)
        load_version(db, &s->version);
    db->version_dirty = 0;
    write_end(s, db);
}

int roved_store_read_begin(roved_store *s, roved_db **out)
{
    roved_db *db = NULL;
    int64_t v;
    pthread_mutex_lock(&s->pool_lock);
    for (;;) {
        if (s->free_readers != NULL) {
            db = s->free_readers;
            s->free_readers = db->next_free;
            break;
        }
        if (s->nreaders < s->max_readers) {
            s->nreaders++; /* reserve the slot; open outside the lock */
            pthread_mutex_unlock(&s->pool_lock);
            int rc = db_open(s, 0, &db);
            pthread_mutex_lock(&s->pool_lock);
            if (rc != 0) {
                s->nreaders--;
                pthread_mutex_unlock(&s->pool_lock);
                return rc;
            }
            /* Find a free slot in the table of all readers. */
            for (int i = 0; i < s->max_readers; i++)
                if (s->all_readers[i] == NULL) {
                    s->all_readers[i] = db;
                    break;
                }
            break;
        }
        pthread_cond_wait(&s->pool_cond, &s->pool_lock);
    }
    pthread_mutex_unlock(&s->pool_lock);
    if (run(db, fixed(db, 2, "BEGIN"), "begin_read") != 0) {
        roved_store_read_end(s, db);
        return ROVE_ESTORE;
    }
    /* A deferred transaction takes its snapshot at the first read: take it now. */
    db->pull_drive = 0;
    if (load_version(db, &v) != 0) {
        roved_store_read_end(s, db);
        return ROVE_ESTORE;
    }
    *out = db;
    return 0;
}

void roved_store_read_end(roved_store *s, roved_db *db)
{
    if (db == NULL)
        return;
    if (!sqlite3_get_autocommit(db->h))
        run(db, fixed(db, 4, "COMMIT"), "end_read");
    pthread_mutex_lock(&s->pool_lock);
    db->next_free = s->free_readers;
    s->free_readers = db;
    pthread_cond_signal(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_lock);
}

int roved_store_version_next(roved_db *db, int64_t *out)
{
    if (!db->writer)
        return ROVE_EINVAL;
    db->version_dirty = 1;
    *out = ++db->s->version;
    return 0;
}

int roved_store_version_current(roved_db *db, int64_t *out)
{
    if (db->writer) {
        *out = db->s->version;
        return 0;
    }
    return load_version(db, out);
}

/* ---- users ------------------------------------------------------------ */

static const char *const user_status_names[] = {"active", "frozen", "deactivated"};

const char *roved_user_status_name(int status)
{
    return status >= 0 && status <= 2 ? user_status_names[status] : "active";
}

int roved_user_status_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name != NULL && strcmp(name, user_status_names[i]) == 0)
            return i;
    return -1;
}

#define USER_COLS                                                                              \
    "id, username, name, role, status, manager_id, home_territory_id, skills, "                \
    "password_hash, created_at"

static void read_user(sqlite3_stmt *st, roved_user *u)
{
    memset(u, 0, sizeof(*u));
    col_text(st, 0, u->id, sizeof(u->id));
    col_text(st, 1, u->username, sizeof(u->username));
    col_text(st, 2, u->name, sizeof(u->name));
    u->role = rove__role_from_name((const char *)sqlite3_column_text(st, 3));
    int status = roved_user_status_parse((const char *)sqlite3_column_text(st, 4));
    u->status = status < 0 ? ROVED_USER_FROZEN : status;
    col_text(st, 5, u->manager_id, sizeof(u->manager_id));
    col_text(st, 6, u->home_territory_id, sizeof(u->home_territory_id));
    col_text(st, 7, u->skills, sizeof(u->skills));
    col_text(st, 8, u->password_hash, sizeof(u->password_hash));
    u->created_at = sqlite3_column_int64(st, 9);
}

static int user_one(roved_db *db, sqlite3_stmt *st, const char *key, roved_user *out)
{
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_user(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "user_get");
}

int roved_store_user_by_name(roved_db *db, const char *username, roved_user *out)
{
    return user_one(db, fixed(db, 10, "SELECT " USER_COLS " FROM users WHERE username = ?1"),
                    username, out);
}

int roved_store_user_by_id(roved_db *db, const char *id, roved_user *out)
{
    return user_one(db, fixed(db, 11, "SELECT " USER_COLS " FROM users WHERE id = ?1"), id,
                    out);
}

int roved_store_user_insert(roved_db *db, const roved_user *u)
{
    sqlite3_stmt *st = fixed(db, 12,
                             "INSERT INTO users (" USER_COLS ") VALUES "
                             "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return ROVE_ESTORE;
    const char *role = rove__role_name(u->role);
    if (role == NULL)
        return ROVE_EINVAL;
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->username);
    sqlite3_bind_text(st, 3, u->name, -1, SQLITE_STATIC);
    bind_text(st, 4, role);
    bind_text(st, 5, roved_user_status_name(u->status));
    bind_text(st, 6, u->manager_id);
    bind_text(st, 7, u->home_territory_id);
    bind_text(st, 8, u->skills);
    bind_text(st, 9, u->password_hash);
    sqlite3_bind_int64(st, 10, u->created_at);
    return run(db, st, "user_insert");
}

int roved_store_user_list(roved_db *db, roved_user_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 13, "SELECT " USER_COLS " FROM users ORDER BY username");
    if (st == NULL)
        return ROVE_ESTORE;
    int rc, cbrc = 0;
    roved_user u;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_user(st, &u);
        memset(u.password_hash, 0, sizeof(u.password_hash));
        cbrc = cb(&u, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "user_list");
}

static int count(roved_db *db, uint64_t key, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = fixed(db, key, sql);
    if (st == NULL)
        return ROVE_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "count");
}

int roved_store_user_count(roved_db *db, int64_t *out)
{
    return count(db, 14, "SELECT count(*) FROM users", out);
}

int roved_store_user_set_status(roved_db *db, const char *username, int status)
{
    sqlite3_stmt *st = fixed(db, 15, "UPDATE users SET status = ?2 WHERE username = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, roved_user_status_name(status), -1, SQLITE_STATIC);
    int rc = run(db, st, "user_set_status");
    if (rc == 0 && sqlite3_changes(db->h) == 0)
        rc = ROVE_ENOTFOUND;
    return rc;
}

/* ---- territories ------------------------------------------------------ */

int roved_store_territory_insert(roved_db *db, const char *id, const char *name,
                                 const char *parent_id, const char *owner_id)
{
    sqlite3_stmt *st = fixed(db, 20,
                             "INSERT INTO territories (id, name, parent_id, owner_id) "
                             "VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    bind_text(st, 3, parent_id);
    bind_text(st, 4, owner_id);
    return run(db, st, "territory_insert");
}

int roved_store_territory_member_insert(roved_db *db, const char *territory_id,
                                        const char *user_id, const char *role,
                                        int64_t valid_from, int64_t valid_to)
{
    sqlite3_stmt *st = fixed(db, 21,
                             "INSERT INTO territory_members "
                             "(territory_id, user_id, role, valid_from, valid_to) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, territory_id);
    bind_text(st, 2, user_id);
    bind_text(st, 3, role);
    sqlite3_bind_int64(st, 4, valid_from);
    if (valid_to > 0)
        sqlite3_bind_int64(st, 5, valid_to);
    else
        sqlite3_bind_null(st, 5);
    return run(db, st, "territory_member_insert");
}

int roved_store_territory_manages(roved_db *db, const char *territory_id, const char *user_id,
                                  int64_t now)
{
    if (territory_id == NULL || territory_id[0] == '\0')
        return 0;
    sqlite3_stmt *st = fixed(db, 22,
                             "WITH RECURSIVE up(id, parent_id, owner_id, depth) AS ("
                             " SELECT id, parent_id, owner_id, 0 FROM territories WHERE id = ?1"
                             " UNION ALL SELECT t.id, t.parent_id, t.owner_id, up.depth + 1"
                             " FROM territories t JOIN up ON t.id = up.parent_id"
                             " WHERE up.depth < 32)"
                             " SELECT 1 FROM up WHERE owner_id = ?2 OR EXISTS ("
                             " SELECT 1 FROM territory_members m WHERE m.territory_id = up.id"
                             " AND m.user_id = ?2 AND m.role = 'manager' AND m.valid_from <= ?3"
                             " AND (m.valid_to IS NULL OR m.valid_to > ?3)) LIMIT 1");
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

int roved_store_territory_member_of(roved_db *db, const char *territory_id, const char *user_id,
                                    const char *role, int64_t now)
{
    if (territory_id == NULL || territory_id[0] == '\0')
        return 0;
    sqlite3_stmt *st = fixed(db, 23,
                             "SELECT 1 FROM territory_members WHERE territory_id = ?1"
                             " AND user_id = ?2 AND role = ?3 AND valid_from <= ?4"
                             " AND (valid_to IS NULL OR valid_to > ?4) LIMIT 1");
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

/* ---- devices and sessions --------------------------------------------- */

#define DEVICE_COLS                                                                            \
    "id, user_id, name, status, registered_at, last_sync_at, last_cursor, revoked_at, "        \
    "drain_until, wiped_at"

static void read_device(sqlite3_stmt *st, roved_device *d)
{
    memset(d, 0, sizeof(*d));
    col_text(st, 0, d->id, sizeof(d->id));
    col_text(st, 1, d->user_id, sizeof(d->user_id));
    col_text(st, 2, d->name, sizeof(d->name));
    const char *status = (const char *)sqlite3_column_text(st, 3);
    d->status =
        status && strcmp(status, "active") == 0 ? ROVED_DEVICE_ACTIVE : ROVED_DEVICE_REVOKED;
    d->registered_at = sqlite3_column_int64(st, 4);
    d->last_sync_at = sqlite3_column_int64(st, 5);
    d->last_cursor = sqlite3_column_int64(st, 6);
    d->revoked_at = sqlite3_column_int64(st, 7);
    d->drain_until = sqlite3_column_int64(st, 8);
    d->wiped_at = sqlite3_column_int64(st, 9);
}

static int device_one(roved_db *db, sqlite3_stmt *st, const char *key, roved_device *out)
{
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_device(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "device_get");
}

int roved_store_device_get(roved_db *db, const char *id, roved_device *out)
{
    return device_one(db, fixed(db, 30, "SELECT " DEVICE_COLS " FROM devices WHERE id = ?1"),
                      id, out);
}

int roved_store_device_by_token(roved_db *db, const char *token_hash, roved_device *out)
{
    /* The one rule of a device token's validity: not revoked, not expired. */
    sqlite3_stmt *st = fixed(db, 6100,
                             "SELECT d.id, d.user_id, d.name, d.status, d.registered_at,"
                             " d.last_sync_at, d.last_cursor, d.revoked_at, d.drain_until,"
                             " d.wiped_at, t.id, t.created_at, t.expires_at, t.last_used_at"
                             " FROM device_tokens t JOIN devices d ON d.id = t.device_id"
                             " WHERE t.token_hash = ?1 AND t.revoked_at = 0"
                             " AND t.expires_at > ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, roved_util_now_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_device(st, out);
        col_text(st, 10, out->token_id, sizeof(out->token_id));
        out->token_created_at = sqlite3_column_int64(st, 11);
        out->token_expires_at = sqlite3_column_int64(st, 12);
        out->token_last_used_at = sqlite3_column_int64(st, 13);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "device_by_token");
}

int roved_store_device_bind(roved_db *db, const roved_device *d, const roved_token *t,
                            const char *token_hash)
{
    sqlite3_stmt *st =
        fixed(db, 32,
              "INSERT INTO devices (id, user_id, name, registered_at, status)"
              " VALUES (?1, ?2, ?3, ?4, 'active')"
              " ON CONFLICT(id) DO UPDATE SET name = excluded.name"
              " WHERE devices.user_id = excluded.user_id AND devices.status = 'active'");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, d->id);
    bind_text(st, 2, d->user_id);
    sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, d->registered_at);
    int rc = run(db, st, "device_bind");
    if (rc == 0 && sqlite3_changes(db->h) == 0) {
        /* The id exists and was not re-bound: another user's, or revoked. */
        roved_device old;
        rc = roved_store_device_get(db, d->id, &old);
        if (rc == 0)
            rc = strcmp(old.user_id, d->user_id) == 0 ? ROVE_EREVOKED : ROVE_EFORBIDDEN;
    }
    /* A new login supersedes every older token of the device. */
    if (rc == 0)
        rc = roved_store_device_tokens_revoke(db, d->id, NULL, t->created_at, NULL);
    if (rc == 0)
        rc = roved_store_token_insert(db, t, token_hash);
    return rc;
}

/* ---- device tokens ------------------------------------------------------ */

#define TOKEN_COLS                                                                             \
    "t.id, t.device_id, t.user_id, coalesce(d.name, ''), t.created_at, t.expires_at,"         \
    " t.last_used_at, t.revoked_at, coalesce(t.revoked_by, '')"

static void read_token(sqlite3_stmt *st, roved_token *t)
{
    memset(t, 0, sizeof(*t));
    col_text(st, 0, t->id, sizeof(t->id));
    col_text(st, 1, t->device_id, sizeof(t->device_id));
    col_text(st, 2, t->user_id, sizeof(t->user_id));
    col_text(st, 3, t->device_name, sizeof(t->device_name));
    t->created_at = sqlite3_column_int64(st, 4);
    t->expires_at = sqlite3_column_int64(st, 5);
    t->last_used_at = sqlite3_column_int64(st, 6);
    t->revoked_at = sqlite3_column_int64(st, 7);
    col_text(st, 8, t->revoked_by, sizeof(t->revoked_by));
}

int roved_store_token_insert(roved_db *db, const roved_token *t, const char *token_hash)
{
    /* The device's dead tokens (revoked or expired a day ago) are swept here,
     * so their number stays bounded by how often a device logs in. */
    sqlite3_stmt *sweep = fixed(db, 6101,
                                "DELETE FROM device_tokens WHERE device_id = ?1 AND"
                                " ((revoked_at > 0 AND revoked_at < ?2) OR expires_at < ?2)");
    if (sweep == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(sweep, 1, t->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sweep, 2, t->created_at - 86400000LL);
    int rc = run(db, sweep, "token_sweep");
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = fixed(db, 6102,
                             "INSERT INTO device_tokens (id, device_id, user_id, token_hash,"
                             " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, t->id);
    bind_text(st, 2, t->device_id);
    bind_text(st, 3, t->user_id);
    bind_text(st, 4, token_hash);
    sqlite3_bind_int64(st, 5, t->created_at);
    sqlite3_bind_int64(st, 6, t->expires_at);
    return run(db, st, "token_insert");
}

int roved_store_token_get(roved_db *db, const char *id, roved_token *out)
{
    sqlite3_stmt *st = fixed(db, 6103,
                             "SELECT " TOKEN_COLS " FROM device_tokens t"
                             " LEFT JOIN devices d ON d.id = t.device_id WHERE t.id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_token(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "token_get");
}

int roved_store_token_list(roved_db *db, const char *user_id, roved_token_cb cb,
                           void *payload)
{
    sqlite3_stmt *st = fixed(db, 6104,
                             "SELECT " TOKEN_COLS " FROM device_tokens t"
                             " LEFT JOIN devices d ON d.id = t.device_id"
                             " WHERE t.user_id = ?1 ORDER BY t.created_at, t.id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc, cbrc = 0;
    roved_token t;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_token(st, &t);
        cbrc = cb(&t, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "token_list");
}

int roved_store_token_revoke(roved_db *db, const char *id, int64_t at, const char *by)
{
    sqlite3_stmt *st = fixed(db, 6105,
                             "UPDATE device_tokens SET revoked_at = ?2, revoked_by = ?3"
                             " WHERE id = ?1 AND revoked_at = 0");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    bind_text(st, 3, by);
    int rc = run(db, st, "token_revoke");
    if (rc == 0 && sqlite3_changes(db->h) == 0) {
        roved_token t;
        rc = roved_store_token_get(db, id, &t);
        if (rc == 0)
            rc = ROVE_ESTATE;
    }
    return rc;
}

int roved_store_device_tokens_revoke(roved_db *db, const char *device_id, const char *except_id,
                                     int64_t at, int *count)
{
    sqlite3_stmt *st = fixed(db, 6106,
                             "UPDATE device_tokens SET revoked_at = ?3"
                             " WHERE device_id = ?1 AND id <> coalesce(?2, '') AND"
                             " revoked_at = 0");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    bind_text(st, 2, except_id);
    sqlite3_bind_int64(st, 3, at);
    int rc = run(db, st, "device_tokens_revoke");
    if (count != NULL)
        *count = rc == 0 ? sqlite3_changes(db->h) : 0;
    return rc;
}

int roved_store_token_used(roved_db *db, const char *id, int64_t at)
{
    sqlite3_stmt *st =
        fixed(db, 6107, "UPDATE device_tokens SET last_used_at = ?2 WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    return run(db, st, "token_used");
}

int roved_store_device_touch(roved_db *db, const char *id, int64_t at, int64_t cursor)
{
    sqlite3_stmt *st = fixed(db, 33,
                             "UPDATE devices SET last_sync_at = ?2, last_cursor = ?3 "
                             "WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, cursor);
    return run(db, st, "device_touch");
}

int roved_store_device_set_status(roved_db *db, const char *id, int status)
{
    sqlite3_stmt *st = fixed(db, 38, "UPDATE devices SET status = ?2 WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status == ROVED_DEVICE_ACTIVE ? "active" : "revoked", -1,
                      SQLITE_STATIC);
    int rc = run(db, st, "device_set_status");
    if (rc == 0 && sqlite3_changes(db->h) == 0)
        rc = ROVE_ENOTFOUND;
    return rc;
}

int roved_store_device_revoke(roved_db *db, const char *id, int64_t at, int64_t drain_until)
{
    sqlite3_stmt *st = fixed(db, 39,
                             "UPDATE devices SET status = 'revoked', revoked_at = ?2,"
                             " drain_until = ?3 WHERE id = ?1 AND status = 'active'");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, drain_until);
    int rc = run(db, st, "device_revoke");
    if (rc == 0 && sqlite3_changes(db->h) == 0) {
        roved_device d;
        rc = roved_store_device_get(db, id, &d);
        if (rc == 0)
            rc = ROVE_ESTATE;
    }
    return rc;
}

int roved_store_user_devices_revoke(roved_db *db, const char *user_id, int64_t at,
                                    int64_t drain_until, int *count)
{
    sqlite3_stmt *st = fixed(db, 43,
                             "UPDATE devices SET status = 'revoked', revoked_at = ?2,"
                             " drain_until = ?3 WHERE user_id = ?1 AND status = 'active'");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, drain_until);
    int rc = run(db, st, "user_devices_revoke");
    if (count != NULL)
        *count = rc == 0 ? sqlite3_changes(db->h) : 0;
    return rc;
}

int roved_store_device_wiped(roved_db *db, const char *id, int64_t at)
{
    sqlite3_stmt *st = fixed(db, 44,
                             "UPDATE devices SET wiped_at = ?2 WHERE id = ?1 AND"
                             " status = 'revoked'");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    int rc = run(db, st, "device_wiped");
    if (rc == 0 && sqlite3_changes(db->h) == 0)
        rc = ROVE_ENOTFOUND;
    return rc;
}

int roved_store_device_list(roved_db *db, roved_device_cb cb, void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 34, "SELECT " DEVICE_COLS " FROM devices ORDER BY registered_at, id");
    if (st == NULL)
        return ROVE_ESTORE;
    int rc, cbrc = 0;
    roved_device d;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_device(st, &d);
        cbrc = cb(&d, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "device_list");
}

int roved_store_session_insert(roved_db *db, const char *token_hash, const char *user_id,
                               int64_t expires_at)
{
    /* Expired sessions are swept whenever a new one is made. */
    sqlite3_stmt *sweep = fixed(db, 35, "DELETE FROM admin_sessions WHERE expires_at < ?1");
    if (sweep == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(sweep, 1, roved_util_now_ms());
    int rc = run(db, sweep, "session_sweep");
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = fixed(db, 36,
                             "INSERT INTO admin_sessions "
                             "(token_hash, user_id, created_at, expires_at) "
                             "VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, token_hash);
    bind_text(st, 2, user_id);
    sqlite3_bind_int64(st, 3, roved_util_now_ms());
    sqlite3_bind_int64(st, 4, expires_at);
    return run(db, st, "session_insert");
}

int roved_store_session_user(roved_db *db, const char *token_hash, int64_t now,
                             char user_id[27])
{
    sqlite3_stmt *st = fixed(db, 37,
                             "SELECT user_id FROM admin_sessions "
                             "WHERE token_hash = ?1 AND expires_at > ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, user_id, 27);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "session_user");
}

/* ---- receipts and audit ----------------------------------------------- */

int roved_store_receipt_get(roved_db *db, const char *device_id, const char *change_id,
                            size_t change_id_len, roved_receipt_row *out)
{
    sqlite3_stmt *st = fixed(db, 40,
                             "SELECT status, code, message, version, lost FROM receipts "
                             "WHERE device_id = ?1 AND change_id = ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, change_id, (int)change_id_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->status = sqlite3_column_int(st, 0);
        col_text(st, 1, out->code, sizeof(out->code));
        col_text(st, 2, out->message, sizeof(out->message));
        out->version = sqlite3_column_int64(st, 3);
        out->lost = NULL;
        out->lost_len = (size_t)sqlite3_column_bytes(st, 4);
        if (out->lost_len > 0) {
            out->lost = malloc(out->lost_len);
            if (out->lost == NULL) {
                sqlite3_reset(st);
                return ROVE_ENOMEM;
            }
            memcpy(out->lost, sqlite3_column_blob(st, 4), out->lost_len);
        }
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "receipt_get");
}

int roved_store_receipt_put(roved_db *db, const char *device_id, const char *change_id,
                            size_t change_id_len, const roved_receipt_row *r, int64_t at)
{
    sqlite3_stmt *st = fixed(db, 41,
                             "INSERT INTO receipts "
                             "(device_id, change_id, status, code, message, version, "
                             "created_at, lost) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, change_id, (int)change_id_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, r->status);
    bind_text(st, 4, r->code);
    bind_text(st, 5, r->message);
    sqlite3_bind_int64(st, 6, r->version);
    sqlite3_bind_int64(st, 7, at);
    if (r->lost != NULL && r->lost_len > 0)
        sqlite3_bind_blob(st, 8, r->lost, (int)r->lost_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    return run(db, st, "receipt_put");
}

int roved_store_audit_put(roved_db *db, const roved_audit *a)
{
    sqlite3_stmt *st = fixed(db, 42,
                             "INSERT INTO audit (at, actor_user_id, device_id, "
                             "table_name, row_id, op, client_hlc, diff, on_behalf_of, "
                             "delegation_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, a->at);
    bind_text(st, 2, a->actor_user_id);
    bind_text(st, 3, a->device_id);
    bind_text(st, 4, a->table);
    bind_text(st, 5, a->row_id);
    bind_text(st, 6, a->op);
    sqlite3_bind_int64(st, 7, a->client_hlc);
    bind_text(st, 8, a->diff_json);
    bind_text(st, 9, a->on_behalf_of);
    bind_text(st, 10, a->delegation_id);
    return run(db, st, "audit_put");
}

/* ---- synced rows ------------------------------------------------------ */

static int table_index(const roved_store *s, const rove__table *t)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (&s->tables[i] == t)
            return (int)i;
    return -1;
}

int roved_store_row_info(roved_db *db, const rove__table *t, const char *id, roved_rowinfo *out)
{
    static const char *const sql[T_COUNT] = {
        "SELECT deleted, id, owner_id, territory_id, NULL FROM account WHERE id = ?1",
        "SELECT r.deleted, r.account_id, a.owner_id, a.territory_id, NULL FROM contact r"
        " LEFT JOIN account a ON a.id = r.account_id WHERE r.id = ?1",
        "SELECT r.deleted, r.account_id, a.owner_id, a.territory_id, NULL FROM visit r"
        " LEFT JOIN account a ON a.id = r.account_id WHERE r.id = ?1",
        "SELECT r.deleted, r.account_id, a.owner_id, a.territory_id, r.assignee_id"
        " FROM service_task r LEFT JOIN account a ON a.id = r.account_id WHERE r.id = ?1",
        "SELECT r.deleted, r.account_id, a.owner_id, a.territory_id, NULL FROM stage_change r"
        " LEFT JOIN account a ON a.id = r.account_id WHERE r.id = ?1",
    };
    int ti = table_index(db->s, t);
    if (ti < 0)
        return ROVE_EINVAL;
    sqlite3_stmt *st = fixed(db, 50 + (uint64_t)ti, sql[ti]);
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->deleted = sqlite3_column_int(st, 0) != 0;
        col_text(st, 1, out->account_id, sizeof(out->account_id));
        col_text(st, 2, out->owner_id, sizeof(out->owner_id));
        col_text(st, 3, out->territory_id, sizeof(out->territory_id));
        col_text(st, 4, out->assignee_id, sizeof(out->assignee_id));
        if (ti == T_TASK)
            roved_util_copy(out->task_id, sizeof(out->task_id), id);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "row_info");
}

int roved_store_row_insert(roved_db *db, const rove__table *t, const rove__value *vals)
{
    int ti = table_index(db->s, t);
    if (ti < 0)
        return ROVE_EINVAL;
    sqlite3_stmt *st = dyn_get(db, (1ull << 60) | (uint64_t)ti);
    if (st == NULL) {
        rove__buf sql = ROVE__BUF_INIT;
        rove__buf_printf(&sql, "INSERT INTO %s (", t->name);
        for (size_t c = 0; c < t->ncols; c++)
            rove__buf_printf(&sql, "%s%s", c ? ", " : "", t->cols[c].name);
        rove__buf_puts(&sql, ") VALUES (");
        for (size_t c = 0; c < t->ncols; c++)
            rove__buf_printf(&sql, "%s?%zu", c ? ", " : "", c + 1);
        rove__buf_puts(&sql, ")");
        if (rove__buf_status(&sql) == 0)
            st = dyn_put(db, (1ull << 60) | (uint64_t)ti, (const char *)sql.ptr);
        rove__buf_free(&sql);
        if (st == NULL)
            return ROVE_ESTORE;
    }
    for (size_t c = 0; c < t->ncols; c++)
        bind_value(st, (int)c + 1, &vals[c]);
    int rc = run(db, st, "row_insert");
    if (rc == ROVE_EEXISTS)
        fail(db, "row_insert");
    return rc;
}

int roved_store_row_write(roved_db *db, const rove__table *t, const char *id, const int *cols,
                          const rove__value *vals, size_t n, const char *by, int64_t at,
                          int64_t *version_out)
{
    int c[16];
    rove__value v[16];
    if (n > 12)
        return ROVE_EINVAL;
    memcpy(c, cols, n * sizeof(*c));
    memcpy(v, vals, n * sizeof(*v));
    int64_t version = 0;
    int rc = roved_store_version_next(db, &version);
    if (rc != 0)
        return rc;
    c[n] = ROVE__COL_VERSION;
    v[n++] = (rove__value){ROVE__T_INT, version, 0, NULL, 0};
    if (by != NULL) {
        c[n] = ROVE__COL_UPDATED_BY;
        v[n++] = (rove__value){ROVE__T_TEXT, 0, 0, by, strlen(by)};
    }
    c[n] = ROVE__COL_UPDATED_AT;
    v[n++] = (rove__value){ROVE__T_INT, at, 0, NULL, 0};
    if (version_out != NULL)
        *version_out = version;
    return roved_store_row_update(db, t, id, c, v, n);
}

int roved_store_row_update(roved_db *db, const rove__table *t, const char *id, const int *cols,
                           const rove__value *vals, size_t n)
{
    int ti = table_index(db->s, t);
    if (ti < 0 || n == 0)
        return ROVE_EINVAL;
    /* The statement is keyed by the set of columns; the SQL lists them in schema
     * order, so bind by each column's position in that order. */
    uint64_t mask = 0;
    for (size_t i = 0; i < n; i++) {
        if (cols[i] < 0 || (size_t)cols[i] >= t->ncols || cols[i] >= 56)
            return ROVE_EINVAL;
        mask |= 1ull << cols[i];
    }
    uint64_t key = (2ull << 60) | ((uint64_t)ti << 56) | mask;
    sqlite3_stmt *st = dyn_get(db, key);
    if (st == NULL) {
        rove__buf sql = ROVE__BUF_INIT;
        rove__buf_printf(&sql, "UPDATE %s SET ", t->name);
        int first = 1;
        for (size_t c = 0; c < t->ncols; c++)
            if (mask & (1ull << c)) {
                rove__buf_printf(&sql, "%s%s = ?%zu", first ? "" : ", ", t->cols[c].name,
                                 c + 1);
                first = 0;
            }
        rove__buf_puts(&sql, " WHERE id = ?64");
        if (rove__buf_status(&sql) == 0)
            st = dyn_put(db, key, (const char *)sql.ptr);
        rove__buf_free(&sql);
        if (st == NULL)
            return ROVE_ESTORE;
    }
    for (size_t i = 0; i < n; i++)
        bind_value(st, cols[i] + 1, &vals[i]);
    sqlite3_bind_text(st, 64, id, -1, SQLITE_STATIC);
    return run(db, st, "row_update");
}

int roved_store_row_count(roved_db *db, const rove__table *t, int64_t *live,
                          int64_t *tombstones)
{
    int ti = table_index(db->s, t);
    if (ti < 0)
        return ROVE_EINVAL;
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) - coalesce(sum(deleted), 0), coalesce(sum(deleted), 0) FROM %s",
             t->name);
    sqlite3_stmt *st = fixed(db, 60 + (uint64_t)ti, sql);
    if (st == NULL)
        return ROVE_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *live = sqlite3_column_int64(st, 0);
        *tombstones = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "row_count");
}

int roved_store_row_get(roved_db *db, const rove__table *t, const char *id, rove__value *vals,
                        rove__buf *text)
{
    int ti = table_index(db->s, t);
    if (ti < 0)
        return ROVE_EINVAL;
    sqlite3_stmt *st = dyn_get(db, (4ull << 60) | (uint64_t)ti);
    if (st == NULL) {
        rove__buf sql = ROVE__BUF_INIT;
        rove__buf_puts(&sql, "SELECT ");
        for (size_t c = 0; c < t->ncols; c++)
            rove__buf_printf(&sql, "%s%s", c ? ", " : "", t->cols[c].name);
        rove__buf_printf(&sql, " FROM %s WHERE id = ?1", t->name);
        if (rove__buf_status(&sql) == 0)
            st = dyn_put(db, (4ull << 60) | (uint64_t)ti, (const char *)sql.ptr);
        rove__buf_free(&sql);
        if (st == NULL)
            return ROVE_ESTORE;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "row_get");
    }
    /* Text is copied into one buffer; offsets become pointers once it is final. */
    size_t offs[ROVE__MAX_COLS];
    for (size_t c = 0; c < t->ncols && c < ROVE__MAX_COLS; c++) {
        rove__value *v = &vals[c];
        memset(v, 0, sizeof(*v));
        if (sqlite3_column_type(st, (int)c) == SQLITE_NULL) {
            v->type = ROVE__T_NULL;
        } else if (t->cols[c].type == ROVE__T_INT) {
            v->type = ROVE__T_INT;
            v->i = sqlite3_column_int64(st, (int)c);
        } else if (t->cols[c].type == ROVE__T_REAL) {
            v->type = ROVE__T_REAL;
            v->d = sqlite3_column_double(st, (int)c);
        } else {
            v->type = ROVE__T_TEXT;
            const unsigned char *p = sqlite3_column_text(st, (int)c);
            v->len = (size_t)sqlite3_column_bytes(st, (int)c);
            offs[c] = text->len;
            rove__buf_put(text, p ? (const void *)p : "", v->len);
        }
    }
    sqlite3_reset(st);
    if (rove__buf_status(text) != 0)
        return ROVE_ENOMEM;
    for (size_t c = 0; c < t->ncols && c < ROVE__MAX_COLS; c++)
        if (vals[c].type == ROVE__T_TEXT)
            vals[c].s = (const char *)text->ptr + offs[c];
    return 0;
}

static void put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t get64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    return (int64_t)u;
}

#define CLOCK_BYTES 24 /* hlc, version, device tag: little-endian int64 each */

int roved_store_clock_get(roved_db *db, const rove__table *t, const char *id,
                          roved_col_clock *clocks)
{
    memset(clocks, 0, t->ncols * sizeof(*clocks));
    sqlite3_stmt *st =
        fixed(db, 80, "SELECT clocks FROM row_clocks WHERE table_name = ?1 AND row_id = ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0) / CLOCK_BYTES;
        for (size_t c = 0; p != NULL && c < n && c < t->ncols; c++) {
            clocks[c].hlc = get64(p + c * CLOCK_BYTES);
            clocks[c].version = get64(p + c * CLOCK_BYTES + 8);
            clocks[c].device_tag = get64(p + c * CLOCK_BYTES + 16);
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "clock_get");
}

int roved_store_clock_put(roved_db *db, const rove__table *t, const char *id,
                          const roved_col_clock *clocks)
{
    unsigned char blob[ROVE__MAX_COLS * CLOCK_BYTES];
    size_t n = t->ncols < ROVE__MAX_COLS ? t->ncols : ROVE__MAX_COLS;
    for (size_t c = 0; c < n; c++) {
        put64(blob + c * CLOCK_BYTES, clocks[c].hlc);
        put64(blob + c * CLOCK_BYTES + 8, clocks[c].version);
        put64(blob + c * CLOCK_BYTES + 16, clocks[c].device_tag);
    }
    sqlite3_stmt *st = fixed(db, 81,
                             "INSERT OR REPLACE INTO row_clocks "
                             "(table_name, row_id, clocks) VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, blob, (int)(n * CLOCK_BYTES), SQLITE_STATIC);
    return run(db, st, "clock_put");
}

int roved_store_conflict_put(roved_db *db, const roved_conflict *c)
{
    sqlite3_stmt *st = fixed(db, 82,
                             "INSERT INTO conflicts (at, table_name, row_id, "
                             "column_name, policy, device_id, user_id, client_hlc, "
                             "lost_value, kept_value) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, c->at);
    bind_text(st, 2, c->table);
    bind_text(st, 3, c->row_id);
    bind_text(st, 4, c->column);
    bind_text(st, 5, c->policy);
    bind_text(st, 6, c->device_id);
    bind_text(st, 7, c->user_id);
    sqlite3_bind_int64(st, 8, c->client_hlc);
    bind_text(st, 9, c->lost_json);
    bind_text(st, 10, c->kept_json);
    return run(db, st, "conflict_put");
}

/* ---- pulls ------------------------------------------------------------ */

/*
 * The scope of a device as a SQL predicate on the table aliased `r`, with ?1
 * the user id and ?4 the time the scope is evaluated at (territory
 * memberships have validity dates). NULL when the role may not hold rows of
 * the table.
 *
 * The unary `+` keeps SQLite from driving the query through the account_id or
 * territory_id index (then sorting every row of the scope by version): pulls
 * walk the version index from the cursor and stop at the page limit, which
 * keeps an incremental pull independent of the replica's size.
 */
/* Territories where user ?1 is a member with role R at time NOW. */
#define MEMBER_TERRITORIES(R, NOW)                                                             \
    "(SELECT territory_id FROM territory_members WHERE user_id = ?1 AND role = '" R "'"        \
    " AND valid_from <= " NOW " AND (valid_to IS NULL OR valid_to > " NOW "))"
#define REP_TERRITORIES(NOW) MEMBER_TERRITORIES("rep", NOW)
/* Accounts delegated to user ?1 by a delegation not ended at NOW (from its
 * creation: the delegate's device has them before the start). */
#define DELEGATED(NOW)                                                                         \
    "(SELECT da.id FROM delegation_grants g JOIN delegations d ON d.id = g.delegation_id"      \
    " JOIN account da ON da.owner_id = d.delegator_id WHERE g.delegate_id = ?1 AND d.status"   \
    " = 'planned' AND d.ends_at > " NOW " AND (g.scope = 'all' OR (g.scope = 'territory' AND"  \
    " da.territory_id = g.territory_id) OR (g.scope = 'accounts' AND EXISTS (SELECT 1 FROM"    \
    " delegation_accounts x WHERE x.delegation_id = d.id AND x.delegate_id = ?1 AND"           \
    " x.account_id = da.id))))"
/* Territories a manager covers: owned or managed (a valid membership as
 * manager), and their children, recursively. */
#define MANAGER_TERRITORIES(NOW)                                                               \
    "(WITH RECURSIVE tt(id) AS (SELECT id FROM territories WHERE owner_id = ?1"                \
    " UNION SELECT territory_id FROM territory_members WHERE user_id = ?1"                     \
    " AND role = 'manager' AND valid_from <= " NOW " AND (valid_to IS NULL OR valid_to > " NOW \
    ")"                                                                                        \
    " UNION SELECT c.id FROM territories c JOIN tt ON c.parent_id = tt.id)"                    \
    " SELECT id FROM tt)"
/* Correlated EXISTS costs one primary-key lookup per candidate row, where an
 * IN (subquery) would materialize every account of the scope on each query. */
#define REP_ACCOUNT                                                                            \
    "EXISTS (SELECT 1 FROM account a WHERE a.id = +r.account_id AND (a.owner_id = ?1"          \
    " OR a.territory_id IN " REP_TERRITORIES("?4") " OR a.id IN " DELEGATED("?4") "))"
#define MANAGED_ACCOUNT                                                                        \
    "EXISTS (SELECT 1 FROM account a WHERE a.id = +r.account_id"                               \
    " AND (a.owner_id = ?1 OR a.territory_id IN " MANAGER_TERRITORIES("?4") "))"
#define TECH_ACCOUNT(col)                                                                      \
    "EXISTS (SELECT 1 FROM service_task t WHERE t.account_id = +r." col                        \
    " AND t.assignee_id = ?1)"

/*
 * The same scopes written to drive the query from the scope's own indexes
 * (the accounts of an owner, the tasks of an assignee) and sort the few rows
 * found by version: the faster plan when the scope is small next to the
 * number of versions to walk, e.g. a technician's bootstrap on a big store.
 */
static const char *scope_drive_sql(unsigned role, int ti)
{
    switch (role) {
    case ROVE__ROLE_REP:
        return ti == T_ACCOUNT ? "(r.owner_id = ?1 OR r.territory_id IN " REP_TERRITORIES(
                                     "?4") " OR r.id IN " DELEGATED("?4") ")"
                               : "r.account_id IN (SELECT id FROM account WHERE owner_id = ?1"
                                 " OR territory_id IN " REP_TERRITORIES(
                                     "?4") " OR id IN " DELEGATED("?4") ")";
    case ROVE__ROLE_TECH:
        switch (ti) {
        case T_ACCOUNT:
            return "r.id IN (SELECT account_id FROM service_task WHERE assignee_id = ?1)";
        case T_CONTACT:
            return "r.account_id IN (SELECT account_id FROM service_task"
                   " WHERE assignee_id = ?1)";
        case T_TASK:
            return "r.assignee_id = ?1";
        default:
            return NULL;
        }
    case ROVE__ROLE_MANAGER:
        return ti == T_ACCOUNT
                   ? "(r.owner_id = ?1 OR r.territory_id IN " MANAGER_TERRITORIES("?4") ")"
                   : "r.account_id IN (SELECT id FROM account WHERE owner_id = ?1"
                     " OR territory_id IN " MANAGER_TERRITORIES("?4") ")";
    default:
        return NULL;
    }
}

static const char *scope_walk_sql(unsigned role, int ti)
{
    switch (role) {
    case ROVE__ROLE_ADMIN:
        return "1";
    case ROVE__ROLE_REP:
        return ti == T_ACCOUNT ? "(+r.owner_id = ?1 OR +r.territory_id IN " REP_TERRITORIES(
                                     "?4") " OR +r.id IN " DELEGATED("?4") ")"
                               : REP_ACCOUNT;
    case ROVE__ROLE_TECH:
        switch (ti) {
        case T_ACCOUNT:
            return TECH_ACCOUNT("id");
        case T_CONTACT:
            return TECH_ACCOUNT("account_id");
        case T_TASK:
            return "+r.assignee_id = ?1";
        default:
            return NULL;
        }
    case ROVE__ROLE_MANAGER:
        return ti == T_ACCOUNT
                   ? "(+r.owner_id = ?1 OR +r.territory_id IN " MANAGER_TERRITORIES("?4") ")"
                   : MANAGED_ACCOUNT;
    default:
        return NULL;
    }
}

static const char *scope_sql(unsigned role, int ti, int drive)
{
    const char *sql = drive ? scope_drive_sql(role, ti) : NULL;
    return sql ? sql : scope_walk_sql(role, ti);
}

/*
 * Picks the plan for one pull: drive by the scope when it is small next to
 * the versions to walk. The scope is counted with a LIMIT, so the check costs
 * little even for a scope of many thousand accounts.
 */
static int choose_drive(roved_db *db, const roved_scope *sc, int64_t cursor)
{
    static const char *const sql[3] = {
        "SELECT count(*) FROM (SELECT 1 FROM account WHERE owner_id = ?1"
        " OR territory_id IN " REP_TERRITORIES("?3") " OR id IN " DELEGATED("?3") " LIMIT ?2)",
        "SELECT count(*) FROM (SELECT 1 FROM service_task WHERE assignee_id = ?1 LIMIT ?2)",
        "SELECT count(*) FROM (SELECT 1 FROM account WHERE owner_id = ?1 OR territory_id "
        "IN " MANAGER_TERRITORIES("?3") " LIMIT ?2)",
    };
    int which = sc->role == ROVE__ROLE_REP       ? 0
                : sc->role == ROVE__ROLE_TECH    ? 1
                : sc->role == ROVE__ROLE_MANAGER ? 2
                                                 : -1;
    if (which < 0)
        return 0;
    int64_t global = 0;
    if (roved_store_version_current(db, &global) != 0)
        return 0;
    /* Each account brings a handful of rows; walking costs about one step per
     * version, driving about ten per row in scope. */
    int64_t budget = (global - cursor) / 32;
    if (budget < 1)
        return 0;
    sqlite3_stmt *st = fixed(db, 90 + (uint64_t)which, sql[which]);
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, sc->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, budget);
    sqlite3_bind_int64(st, 3, sc->now);
    int64_t n = budget;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n < budget;
}

static unsigned role_slot(unsigned role)
{
    switch (role) {
    case ROVE__ROLE_REP:
        return 0;
    case ROVE__ROLE_TECH:
        return 1;
    case ROVE__ROLE_MANAGER:
        return 2;
    default:
        return 3;
    }
}

static sqlite3_stmt *plan_stmt(roved_db *db, unsigned role, int ti, int drive)
{
    const char *where = scope_sql(role, ti, drive);
    if (where == NULL || !(db->s->tables[ti].visible & role))
        return NULL;
    uint64_t key = 100 + (uint64_t)drive * 32 + role_slot(role) * 8 + (uint64_t)ti;
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT r.version FROM %s r WHERE r.version > ?2 AND (%s)"
             " ORDER BY r.version LIMIT ?3",
             db->s->tables[ti].name, where);
    return fixed(db, key, sql);
}

int roved_store_pull_plan(roved_db *db, const roved_scope *sc, int64_t cursor, size_t limit,
                          size_t counts[], int64_t *upto, int *more)
{
    sqlite3_stmt *st[T_COUNT] = {NULL};
    int64_t head[T_COUNT];
    int live[T_COUNT] = {0};
    int rc = 0;
    *upto = cursor;
    *more = 0;
    db->pull_drive = choose_drive(db, sc, cursor);
    for (int ti = 0; ti < T_COUNT; ti++) {
        counts[ti] = 0;
        if (scope_sql(sc->role, ti, 0) == NULL || !(db->s->tables[ti].visible & sc->role))
            continue;
        st[ti] = plan_stmt(db, sc->role, ti, db->pull_drive);
        if (st[ti] == NULL) {
            rc = ROVE_ESTORE;
            goto done;
        }
        sqlite3_bind_text(st[ti], 1, sc->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st[ti], 2, cursor);
        sqlite3_bind_int64(st[ti], 3, (int64_t)limit + 1);
        sqlite3_bind_int64(st[ti], 4, sc->now);
        int s = sqlite3_step(st[ti]);
        if (s == SQLITE_ROW) {
            live[ti] = 1;
            head[ti] = sqlite3_column_int64(st[ti], 0);
        } else if (s != SQLITE_DONE) {
            rc = fail(db, "pull_plan");
            goto done;
        }
    }
    /* Merge the four version streams, taking the smallest head each time. */
    size_t taken = 0;
    for (;;) {
        int best = -1;
        for (int ti = 0; ti < T_COUNT; ti++)
            if (live[ti] && (best < 0 || head[ti] < head[best]))
                best = ti;
        if (best < 0)
            break;
        if (taken == limit) {
            *more = 1;
            break;
        }
        taken++;
        counts[best]++;
        *upto = head[best];
        int s = sqlite3_step(st[best]);
        if (s == SQLITE_ROW) {
            head[best] = sqlite3_column_int64(st[best], 0);
        } else if (s == SQLITE_DONE) {
            live[best] = 0;
        } else {
            rc = fail(db, "pull_plan");
            goto done;
        }
    }
done:
    for (int ti = 0; ti < T_COUNT; ti++)
        if (st[ti] != NULL)
            sqlite3_reset(st[ti]);
    return rc;
}

/* The current row of st as values of the schema columns cols[0..ncols). Text
 * values point into the statement (valid until the next step). */
static void read_values(sqlite3_stmt *st, const rove__table *t, const int *cols, size_t ncols,
                        rove__value *vals)
{
    for (size_t i = 0; i < ncols; i++) {
        rove__value *v = &vals[i];
        int ctype = sqlite3_column_type(st, (int)i);
        rove__coltype want = t->cols[cols[i]].type;
        v->len = 0;
        v->s = NULL;
        if (ctype == SQLITE_NULL) {
            v->type = ROVE__T_NULL;
        } else if (want == ROVE__T_INT) {
            v->type = ROVE__T_INT;
            v->i = sqlite3_column_int64(st, (int)i);
        } else if (want == ROVE__T_REAL) {
            v->type = ROVE__T_REAL;
            v->d = sqlite3_column_double(st, (int)i);
        } else {
            v->type = ROVE__T_TEXT;
            v->s = (const char *)sqlite3_column_text(st, (int)i);
            v->len = (size_t)sqlite3_column_bytes(st, (int)i);
        }
    }
}

int roved_store_pull_rows(roved_db *db, const roved_scope *sc, size_t ti, int64_t cursor,
                          int64_t upto, const int *cols, size_t ncols, roved_row_cb cb,
                          void *payload)
{
    if (ti >= T_COUNT || ncols == 0 || ncols > ROVE__MAX_COLS)
        return ROVE_EINVAL;
    int drive = db->pull_drive;
    const char *where = scope_sql(sc->role, (int)ti, drive);
    if (where == NULL)
        return ROVE_EINVAL;
    const rove__table *t = &db->s->tables[ti];
    /* The column list is a function of (table, role): key the statement by both. */
    uint64_t key = (3ull << 60) | ((uint64_t)drive << 58) | ((uint64_t)ti << 52) |
                   ((uint64_t)sc->role << 44) | ncols;
    sqlite3_stmt *st = dyn_get(db, key);
    if (st == NULL) {
        rove__buf sql = ROVE__BUF_INIT;
        rove__buf_puts(&sql, "SELECT ");
        for (size_t i = 0; i < ncols; i++)
            rove__buf_printf(&sql, "%sr.%s", i ? ", " : "", t->cols[cols[i]].name);
        rove__buf_printf(&sql,
                         " FROM %s r WHERE r.version > ?2 AND r.version <= ?3 AND (%s)"
                         " ORDER BY r.version",
                         t->name, where);
        if (rove__buf_status(&sql) == 0)
            st = dyn_put(db, key, (const char *)sql.ptr);
        rove__buf_free(&sql);
        if (st == NULL)
            return ROVE_ESTORE;
    }
    sqlite3_bind_text(st, 1, sc->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    sqlite3_bind_int64(st, 3, upto);
    sqlite3_bind_int64(st, 4, sc->now);
    rove__value vals[ROVE__MAX_COLS];
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_values(st, t, cols, ncols, vals);
        cbrc = cb(vals, ncols, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "pull_rows");
}

/* ---- statistics ------------------------------------------------------- */

int roved_store_stats(roved_db *db, roved_stats *out)
{
    memset(out, 0, sizeof(*out));
    int rc = count(db, 70, "SELECT count(*) FROM users", &out->users);
    if (rc == 0)
        rc = count(db, 71, "SELECT count(*) FROM devices", &out->devices);
    if (rc == 0)
        rc = count(db, 72, "SELECT count(*) FROM receipts", &out->receipts);
    if (rc == 0)
        rc = count(db, 73, "SELECT coalesce(max(id), 0) FROM audit", &out->audit);
    if (rc == 0)
        rc = roved_store_version_current(db, &out->version);
    return rc;
}

/* ---- scope tracking: what each device holds --------------------------------
 *
 * device_scope lists, per device, the accounts ('a') and, for technicians, the
 * service tasks ('t') it was given. When something that decides scope changes
 * (the scope epoch moves, or a territory membership of the user starts or
 * ends), the next sync re-evaluates: ids no longer in scope get evict_v (the
 * version allocated for that evaluation) and ids new in scope get enter_v. The
 * device is told (evictions; the older rows of entered accounts) in every page
 * until its cursor reaches that version, which proves it committed them.
 */

/* The ids in the scope of sc at sc->now: accounts (kind 'a') or tasks ('t'). */
static const char *scope_ids_sql(unsigned role, char kind)
{
    if (kind == 't')
        return role == ROVE__ROLE_TECH ? "SELECT id FROM service_task WHERE assignee_id = ?1"
                                       : NULL;
    switch (role) {
    case ROVE__ROLE_REP:
        return "SELECT id FROM account WHERE owner_id = ?1"
               " OR territory_id IN " REP_TERRITORIES("?2") " OR id IN " DELEGATED("?2");
    case ROVE__ROLE_MANAGER:
        return "SELECT id FROM account WHERE owner_id = ?1"
               " OR territory_id IN " MANAGER_TERRITORIES("?2");
    case ROVE__ROLE_TECH:
        return "SELECT DISTINCT account_id AS id FROM service_task WHERE assignee_id = ?1"
               " AND account_id IS NOT NULL";
    default:
        return NULL; /* admins hold everything: nothing to track */
    }
}

int roved_store_scope_epoch(roved_db *db, int64_t *out)
{
    return count(db, 1000, "SELECT value FROM meta WHERE key = 'scope_epoch'", out);
}

int roved_store_scope_bump(roved_db *db)
{
    sqlite3_stmt *st =
        fixed(db, 1001, "UPDATE meta SET value = value + 1 WHERE key = 'scope_epoch'");
    return st ? run(db, st, "scope_bump") : ROVE_ESTORE;
}

int roved_store_scope_move(roved_db *db, char kind, const char *id, int64_t at,
                           const char *reason)
{
    char k[2] = {kind, 0};
    sqlite3_stmt *st = fixed(db, 1002,
                             "INSERT INTO scope_moves (kind, row_id, at, reason)"
                             " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, row_id)"
                             " DO UPDATE SET at = excluded.at, reason = excluded.reason");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, k, 1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
    int rc = run(db, st, "scope_move");
    return rc == 0 ? roved_store_scope_bump(db) : rc;
}

int roved_store_scope_state(roved_db *db, const char *device_id, roved_scope_state *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = fixed(db, 1003,
                             "SELECT epoch, evaluated_at, pending_v FROM device_scope_state"
                             " WHERE device_id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->known = 1;
        out->epoch = sqlite3_column_int64(st, 0);
        out->evaluated_at = sqlite3_column_int64(st, 1);
        out->pending_v = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "scope_state");
}

int roved_store_scope_boundary(roved_db *db, const char *user_id, int64_t after, int64_t upto,
                               int *out)
{
    *out = 0;
    sqlite3_stmt *st = fixed(db, 1004,
                             "SELECT 1 FROM territory_members WHERE user_id = ?1 AND"
                             " ((valid_from > ?2 AND valid_from <= ?3)"
                             " OR (valid_to > ?2 AND valid_to <= ?3)) LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, upto);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "scope_boundary");
}

int roved_store_scope_ack(roved_db *db, const char *device_id, int64_t cursor)
{
    sqlite3_stmt *st = fixed(db, 1005,
                             "DELETE FROM device_scope WHERE device_id = ?1"
                             " AND evict_v IS NOT NULL AND evict_v <= ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    int rc = run(db, st, "scope_ack");
    if (rc != 0)
        return rc;
    st = fixed(db, 1006,
               "UPDATE device_scope SET enter_v = 0 WHERE device_id = ?1"
               " AND enter_v > 0 AND enter_v <= ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    if ((rc = run(db, st, "scope_ack")) != 0)
        return rc;
    st = fixed(db, 1007,
               "UPDATE device_scope_state SET pending_v = 0 WHERE device_id = ?1"
               " AND pending_v <= ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    return run(db, st, "scope_ack");
}

/* Why an id left: the last recorded move of it (or of its account), else a
 * territory membership that ended. */
static const char *leave_reason(char kind)
{
    return kind == 't' ? "task_reassigned" : "out_of_scope";
}

int roved_store_scope_evaluate(roved_db *db, const char *device_id, const roved_scope *sc,
                               int64_t epoch, int64_t v, size_t *left, size_t *entered)
{
    *left = *entered = 0;
    static const char kinds[2] = {'a', 't'};
    for (int k = 0; k < 2; k++) {
        const char *ids = scope_ids_sql(sc->role, kinds[k]);
        if (ids == NULL)
            continue;
        char kstr[2] = {kinds[k], 0};
        char sql[2048];
        /* Leaving: held, not yet being evicted, no longer in scope. */
        snprintf(sql, sizeof(sql),
                 "UPDATE device_scope SET evict_v = ?3, evict_reason = coalesce("
                 "(SELECT reason FROM scope_moves m WHERE m.kind = device_scope.kind"
                 " AND m.row_id = device_scope.row_id), ?5)"
                 " WHERE device_id = ?4 AND kind = ?6 AND evict_v IS NULL"
                 " AND row_id NOT IN (%s)",
                 ids);
        sqlite3_stmt *st = dyn_get(db, 1100 + (uint64_t)k * 8 + role_slot(sc->role));
        if (st == NULL)
            st = dyn_put(db, 1100 + (uint64_t)k * 8 + role_slot(sc->role), sql);
        if (st == NULL)
            return ROVE_ESTORE;
        sqlite3_bind_text(st, 1, sc->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, sc->now);
        sqlite3_bind_int64(st, 3, v);
        sqlite3_bind_text(st, 4, device_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, leave_reason(kinds[k]), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, kstr, 1, SQLITE_TRANSIENT);
        int rc = run(db, st, "scope_evaluate");
        if (rc != 0)
            return rc;
        *left += (size_t)sqlite3_changes(db->h);
        /* Entering: in scope, not held (or being evicted: take it back, and
         * send its rows again since the device may have dropped them). */
        snprintf(
            sql, sizeof(sql),
            "INSERT INTO device_scope (device_id, kind, row_id, enter_v)"
            " SELECT ?4, ?6, id, ?3 FROM (%s) WHERE id IS NOT NULL"
            " ON CONFLICT (device_id, kind, row_id) DO UPDATE SET enter_v = excluded.enter_v,"
            " evict_v = NULL, evict_reason = NULL WHERE device_scope.evict_v IS NOT NULL",
            ids);
        st = dyn_get(db, 1200 + (uint64_t)k * 8 + role_slot(sc->role));
        if (st == NULL)
            st = dyn_put(db, 1200 + (uint64_t)k * 8 + role_slot(sc->role), sql);
        if (st == NULL)
            return ROVE_ESTORE;
        sqlite3_bind_text(st, 1, sc->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, sc->now);
        sqlite3_bind_int64(st, 3, v);
        sqlite3_bind_text(st, 4, device_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, kstr, 1, SQLITE_TRANSIENT);
        rc = run(db, st, "scope_evaluate");
        if (rc != 0)
            return rc;
        *entered += (size_t)sqlite3_changes(db->h);
    }
    sqlite3_stmt *st =
        fixed(db, 1008,
              "INSERT INTO device_scope_state (device_id, epoch, evaluated_at,"
              " pending_v) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id) DO UPDATE"
              " SET epoch = excluded.epoch, evaluated_at = excluded.evaluated_at,"
              " pending_v = max(pending_v, excluded.pending_v)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, epoch);
    sqlite3_bind_int64(st, 3, sc->now);
    sqlite3_bind_int64(st, 4, (*left || *entered) ? v : 0);
    return run(db, st, "scope_state");
}

int roved_store_scope_held(roved_db *db, const char *device_id, char kind, const char *id,
                           int *held)
{
    *held = 0;
    if (id == NULL || id[0] == '\0')
        return 0;
    char k[2] = {kind, 0};
    sqlite3_stmt *st = fixed(db, 1009,
                             "SELECT 1 FROM device_scope WHERE device_id = ?1 AND kind = ?2"
                             " AND row_id = ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k, 1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *held = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "scope_held");
}

int roved_store_scope_left_at(roved_db *db, const char *user_id, const roved_rowinfo *info,
                              int64_t now, int64_t *at)
{
    *at = 0;
    sqlite3_stmt *st = fixed(
        db, 1010,
        "SELECT max(coalesce((SELECT at FROM scope_moves WHERE kind = 'a' AND row_id = ?1), 0),"
        " coalesce((SELECT at FROM scope_moves WHERE kind = 't' AND row_id = ?2), 0),"
        " coalesce((SELECT max(valid_to) FROM territory_members WHERE user_id = ?3"
        " AND territory_id = ?4 AND valid_to <= ?5), 0))");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, info->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, info->task_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, info->territory_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *at = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "scope_left_at");
}

int roved_store_scope_evictions(roved_db *db, const char *device_id, roved_evict_cb cb,
                                void *payload)
{
    sqlite3_stmt *st = fixed(db, 1011,
                             "SELECT kind, row_id, evict_reason FROM device_scope"
                             " WHERE device_id = ?1 AND evict_v IS NOT NULL"
                             " ORDER BY kind, row_id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        cbrc = cb(kind ? kind[0] : 'a', (const char *)sqlite3_column_text(st, 1),
                  (const char *)sqlite3_column_text(st, 2), payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "scope_evictions");
}

/* The rows of table ti that a device must be sent again because their account
 * (or, for technicians, the task itself) entered its scope after cursor:
 * those with version <= cursor (newer ones come with the normal pull). */
static const char *catchup_where(unsigned role, int ti)
{
    if (role == ROVE__ROLE_TECH && ti == T_TASK)
        return "r.id IN (SELECT row_id FROM device_scope WHERE device_id = ?1 AND kind = 't'"
               " AND enter_v > ?2)";
    if (role == ROVE__ROLE_TECH && ti != T_ACCOUNT && ti != T_CONTACT)
        return NULL;
    return ti == T_ACCOUNT
               ? "r.id IN (SELECT row_id FROM device_scope WHERE device_id = ?1 AND kind = 'a'"
                 " AND enter_v > ?2)"
               : "r.account_id IN (SELECT row_id FROM device_scope WHERE device_id = ?1"
                 " AND kind = 'a' AND enter_v > ?2)";
}

int roved_store_scope_catchup(roved_db *db, const char *device_id, unsigned role, size_t ti,
                              int64_t cursor, const int *cols, size_t ncols, roved_row_cb cb,
                              void *payload, size_t *count_out)
{
    if (ti >= T_COUNT || ncols > ROVE__MAX_COLS)
        return ROVE_EINVAL;
    const char *where = catchup_where(role, (int)ti);
    if (count_out != NULL)
        *count_out = 0;
    if (where == NULL || !(db->s->tables[ti].visible & role))
        return 0;
    const rove__table *t = &db->s->tables[ti];
    int counting = cb == NULL;
    uint64_t key = (5ull << 60) | ((uint64_t)counting << 58) | ((uint64_t)ti << 52) |
                   ((uint64_t)role << 44) | ncols;
    sqlite3_stmt *st = dyn_get(db, key);
    if (st == NULL) {
        rove__buf sql = ROVE__BUF_INIT;
        if (counting) {
            rove__buf_puts(&sql, "SELECT count(*)");
        } else {
            rove__buf_puts(&sql, "SELECT ");
            for (size_t i = 0; i < ncols; i++)
                rove__buf_printf(&sql, "%sr.%s", i ? ", " : "", t->cols[cols[i]].name);
        }
        rove__buf_printf(&sql, " FROM %s r WHERE r.version <= ?2 AND %s", t->name, where);
        if (!counting)
            rove__buf_puts(&sql, " ORDER BY r.version");
        if (rove__buf_status(&sql) == 0)
            st = dyn_put(db, key, (const char *)sql.ptr);
        rove__buf_free(&sql);
        if (st == NULL)
            return ROVE_ESTORE;
    }
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    int rc, cbrc = 0;
    if (counting) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && count_out != NULL)
            *count_out = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : fail(db, "scope_catchup");
    }
    rove__value vals[ROVE__MAX_COLS];
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_values(st, t, cols, ncols, vals);
        cbrc = cb(vals, ncols, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "scope_catchup");
}

int roved_store_quarantine_put(roved_db *db, const roved_quarantine *q)
{
    sqlite3_stmt *st =
        fixed(db, 1012,
              "INSERT INTO quarantine (at, device_id, user_id, table_name, row_id,"
              " change_id, op, client_hlc, payload, reason_code, reason, base_version)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, q->at);
    sqlite3_bind_text(st, 2, q->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, q->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, q->change_id, (int)q->change_id_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, q->op, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, q->client_hlc);
    sqlite3_bind_text(st, 9, q->payload_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, q->reason_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, q->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, q->base_version);
    return run(db, st, "quarantine_put");
}

int roved_store_quarantine_count(roved_db *db, int64_t *out)
{
    return count(db, 1013, "SELECT count(*) FROM quarantine WHERE status = 'pending'", out);
}

/* ---- scope: territories and memberships for server commands ------------- */

int roved_store_territory_exists(roved_db *db, const char *id)
{
    sqlite3_stmt *st = fixed(db, 1020, "SELECT 1 FROM territories WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "territory_exists");
}

int roved_store_member_list(roved_db *db, const char *territory_id, roved_member_cb cb,
                            void *payload)
{
    sqlite3_stmt *st = fixed(db, 1021,
                             "SELECT m.user_id, u.username, m.role, m.valid_from, m.valid_to"
                             " FROM territory_members m JOIN users u ON u.id = m.user_id"
                             " WHERE m.territory_id = ?1 ORDER BY u.username, m.valid_from");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_member m;
        memset(&m, 0, sizeof(m));
        col_text(st, 0, m.user_id, sizeof(m.user_id));
        col_text(st, 1, m.username, sizeof(m.username));
        col_text(st, 2, m.role, sizeof(m.role));
        m.valid_from = sqlite3_column_int64(st, 3);
        m.valid_to =
            sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4);
        cbrc = cb(&m, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "member_list");
}

int roved_store_member_end(roved_db *db, const char *territory_id, const char *user_id,
                           int64_t at, int *changed)
{
    *changed = 0;
    /* Memberships not started by then are withdrawn whole (valid_to =
     * valid_from); running ones end at `at`. */
    sqlite3_stmt *st = fixed(db, 1022,
                             "UPDATE territory_members SET valid_to = max(valid_from, ?3)"
                             " WHERE territory_id = ?1 AND user_id = ?2"
                             " AND (valid_to IS NULL OR valid_to > ?3)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    int rc = run(db, st, "member_end");
    if (rc == 0)
        *changed = sqlite3_changes(db->h);
    return rc;
}

int roved_store_quarantine_list(roved_db *db, roved_quarantine_cb cb, void *payload)
{
    return roved_store_quarantine_query(db, 0, 1, INT64_MAX, cb, payload);
}

int roved_store_quarantine_query(roved_db *db, int64_t id, int pending_only, int64_t limit,
                                 roved_quarantine_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 1023,
                             "SELECT id, at, device_id, user_id, table_name, row_id, change_id,"
                             " op, payload, reason_code, reason, status, client_hlc,"
                             " base_version, decided_by, decided_at, outcome FROM quarantine"
                             " WHERE (?1 = 0 OR id = ?1) AND (?2 = 0 OR status = 'pending')"
                             " ORDER BY id LIMIT ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, pending_only != 0);
    sqlite3_bind_int64(st, 3, limit);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *change = (const char *)sqlite3_column_text(st, 6);
        roved_quarantine q = {sqlite3_column_int64(st, 1),
                              (const char *)sqlite3_column_text(st, 2),
                              (const char *)sqlite3_column_text(st, 3),
                              (const char *)sqlite3_column_text(st, 4),
                              (const char *)sqlite3_column_text(st, 5),
                              change,
                              change ? strlen(change) : 0,
                              (const char *)sqlite3_column_text(st, 7),
                              sqlite3_column_int64(st, 12),
                              (const char *)sqlite3_column_text(st, 8),
                              (const char *)sqlite3_column_text(st, 9),
                              (const char *)sqlite3_column_text(st, 10),
                              sqlite3_column_int64(st, 13),
                              (const char *)sqlite3_column_text(st, 11),
                              (const char *)sqlite3_column_text(st, 14),
                              sqlite3_column_int64(st, 15),
                              (const char *)sqlite3_column_text(st, 16)};
        cbrc = cb(sqlite3_column_int64(st, 0), &q, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "quarantine_list");
}

/*
 * A person's decision on an open entry of a log (the conflict log, the
 * quarantine): update_sql sets ?2 value, ?3 by, ?4 at (and ?5 note) on row
 * ?1 while it is open. ROVE_ENOTFOUND when there is no such entry,
 * ROVE_ESTATE when it was decided already.
 */
static int decide_entry(roved_db *db, uint64_t key, const char *update_sql, uint64_t count_key,
                        const char *count_sql, int64_t id, const char *value, const char *by,
                        int64_t at, const char *note)
{
    sqlite3_stmt *st = fixed(db, key, update_sql);
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, value);
    bind_text(st, 3, by);
    sqlite3_bind_int64(st, 4, at);
    if (sqlite3_bind_parameter_count(st) >= 5)
        bind_text(st, 5, note);
    int rc = run(db, st, "decide");
    if (rc != 0)
        return rc;
    if (sqlite3_changes(db->h) == 1)
        return 0;
    int64_t n = 0;
    st = fixed(db, count_key, count_sql);
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n > 0 ? ROVE_ESTATE : ROVE_ENOTFOUND;
}

int roved_store_quarantine_decide(roved_db *db, int64_t id, const char *status, const char *by,
                                  int64_t at, const char *outcome)
{
    return decide_entry(db, 1026,
                        "UPDATE quarantine SET status = ?2, decided_by = ?3, decided_at = ?4,"
                        " outcome = ?5 WHERE id = ?1 AND status = 'pending'",
                        1027, "SELECT count(*) FROM quarantine WHERE id = ?1", id, status, by,
                        at, outcome);
}

int roved_store_member_overlaps(roved_db *db, const char *territory_id, const char *user_id,
                                const char *role, int64_t from, int64_t to, int *out)
{
    *out = 0;
    sqlite3_stmt *st = fixed(db, 1024,
                             "SELECT 1 FROM territory_members WHERE territory_id = ?1"
                             " AND user_id = ?2 AND role = ?3 AND (valid_to IS NULL OR"
                             " valid_to > ?4) AND (?5 = 0 OR valid_from < ?5) LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, territory_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, from);
    sqlite3_bind_int64(st, 5, to);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "member_overlaps");
}

/* ---- domain ---------------------------------------------------------------- */

/* Streams (id, priority, reported_at) rows of st as roved_open_task. */
static int stream_tasks(roved_db *db, sqlite3_stmt *st, roved_open_task_cb cb, void *payload)
{
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_open_task t;
        memset(&t, 0, sizeof(t));
        col_text(st, 0, t.id, sizeof(t.id));
        col_text(st, 1, t.priority, sizeof(t.priority));
        t.reported_at = sqlite3_column_int64(st, 2);
        cbrc = cb(&t, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "tasks");
}

int roved_store_open_tasks(roved_db *db, const char *account_id, roved_open_task_cb cb,
                           void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 2000,
              "SELECT id, coalesce(priority, 'normal'), coalesce(reported_at, 0)"
              " FROM service_task WHERE account_id = ?1 AND deleted = 0 AND"
              " coalesce(status, 'new') NOT IN ('resolved', 'closed', 'cancelled')"
              " ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    return stream_tasks(db, st, cb, payload);
}

int roved_store_technicians(roved_db *db, int64_t at, roved_tech_cb cb, void *payload)
{
    /* Active technicians not absent at `at`, with their open task load. */
    sqlite3_stmt *st = fixed(
        db, 2001,
        "SELECT u.id, u.username, coalesce(u.skills, ''), (SELECT count(*) FROM service_task t"
        " WHERE t.assignee_id = u.id AND t.deleted = 0 AND coalesce(t.status, 'new') NOT IN"
        " ('resolved', 'follow_up', 'closed', 'cancelled')) FROM users u"
        " WHERE u.role = 'technician' AND u.status = 'active' AND NOT EXISTS (SELECT 1 FROM"
        " user_absences a WHERE a.user_id = u.id AND a.starts_at <= ?1 AND a.ends_at > ?1)"
        " ORDER BY u.username");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, at);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_tech t;
        memset(&t, 0, sizeof(t));
        col_text(st, 0, t.id, sizeof(t.id));
        col_text(st, 1, t.username, sizeof(t.username));
        col_text(st, 2, t.skills, sizeof(t.skills));
        t.open_tasks = sqlite3_column_int64(st, 3);
        cbrc = cb(&t, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "technicians");
}

int roved_store_absence_add(roved_db *db, const char *user_id, int64_t from, int64_t to,
                            const char *reason)
{
    sqlite3_stmt *st = fixed(db, 2002,
                             "INSERT INTO user_absences (user_id, starts_at, ends_at, reason)"
                             " VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    bind_text(st, 4, reason);
    return run(db, st, "absence_add");
}

int roved_store_absence_list(roved_db *db, roved_absence_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 2003,
                             "SELECT u.username, a.starts_at, a.ends_at, coalesce(a.reason, '')"
                             " FROM user_absences a JOIN users u ON u.id = a.user_id"
                             " ORDER BY a.starts_at, u.username");
    if (st == NULL)
        return ROVE_ESTORE;
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cbrc =
            cb((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
               sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3), payload);
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "absence_list");
}

int roved_store_task_queue(roved_db *db, roved_open_task_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 2004,
                             "SELECT id, coalesce(priority, 'normal'), coalesce(reported_at, 0)"
                             " FROM service_task WHERE queue = 'dispatcher' AND deleted = 0 AND"
                             " assignee_id IS NULL AND coalesce(status, 'new') NOT IN"
                             " ('resolved', 'closed', 'cancelled') ORDER BY reported_at, id");
    if (st == NULL)
        return ROVE_ESTORE;
    return stream_tasks(db, st, cb, payload);
}

/* ---- org: territories by id or name --------------------------------------- */

int roved_store_territory_find(roved_db *db, const char *key, char id_out[27])
{
    sqlite3_stmt *st = fixed(db, 3000,
                             "SELECT id FROM territories WHERE id = ?1 OR name = ?1"
                             " ORDER BY id = ?1 DESC LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, id_out, 27);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ROVE_ENOTFOUND : fail(db, "territory_find");
}

/* ---- conflicts: the log for managers ------------------------------------- */

int roved_store_conflict_list(roved_db *db, const char *row_id, int64_t limit,
                              roved_conflict_cb cb, void *payload)
{
    return roved_store_conflict_query(db, row_id, 0, 0, limit, cb, payload);
}

int roved_store_conflict_resolve(roved_db *db, int64_t id, const char *resolution,
                                 const char *by, int64_t at)
{
    return decide_entry(db, 2012,
                        "UPDATE conflicts SET resolution = ?2, resolved_by = ?3, resolved_at ="
                        " ?4 WHERE id = ?1 AND resolution IS NULL",
                        2013, "SELECT count(*) FROM conflicts WHERE id = ?1", id, resolution,
                        by, at, NULL);
}

int roved_store_conflict_query(roved_db *db, const char *row_id, int64_t id, int open_only,
                               int64_t limit, roved_conflict_cb cb, void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 2010,
              "SELECT id, at, table_name, row_id, column_name, policy, device_id,"
              " user_id, client_hlc, lost_value, kept_value, resolution, resolved_by,"
              " resolved_at FROM conflicts"
              " WHERE (?1 IS NULL OR row_id = ?1) AND (?3 = 0 OR id = ?3)"
              " AND (?4 = 0 OR resolution IS NULL) ORDER BY id DESC LIMIT ?2");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, row_id);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, id);
    sqlite3_bind_int(st, 4, open_only != 0);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_conflict cf = {sqlite3_column_int64(st, 1),
                             (const char *)sqlite3_column_text(st, 2),
                             (const char *)sqlite3_column_text(st, 3),
                             (const char *)sqlite3_column_text(st, 4),
                             (const char *)sqlite3_column_text(st, 5),
                             (const char *)sqlite3_column_text(st, 6),
                             (const char *)sqlite3_column_text(st, 7),
                             sqlite3_column_int64(st, 8),
                             (const char *)sqlite3_column_text(st, 9),
                             (const char *)sqlite3_column_text(st, 10),
                             (const char *)sqlite3_column_text(st, 11),
                             (const char *)sqlite3_column_text(st, 12),
                             sqlite3_column_int64(st, 13)};
        cbrc = cb(sqlite3_column_int64(st, 0), &cf, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "conflict_list");
}

/* ---- transfers --------------------------------------------------------- */

int roved_store_transfer_create(roved_db *db, const roved_transfer *t)
{
    sqlite3_stmt *st =
        fixed(db, 4000,
              "INSERT INTO transfers (id, leaver_id, reason, status, created_by,"
              " created_at, batch_size, plan) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
              " ?8)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, t->id);
    bind_text(st, 2, t->leaver_id);
    bind_text(st, 3, t->reason);
    bind_text(st, 4, t->status);
    bind_text(st, 5, t->created_by);
    sqlite3_bind_int64(st, 6, t->created_at);
    sqlite3_bind_int(st, 7, t->batch_size);
    sqlite3_bind_text(st, 8, t->plan_json ? t->plan_json : "[]", -1, SQLITE_STATIC);
    return run(db, st, "transfer_create");
}

#define TRANSFER_COLS                                                                          \
    "id, leaver_id, reason, status, created_by, created_at, coalesce(started_at, 0),"          \
    " coalesce(finished_at, 0), batch_size, plan"

static int read_transfer(sqlite3_stmt *st, roved_transfer *t)
{
    memset(t, 0, sizeof(*t));
    col_text(st, 0, t->id, sizeof(t->id));
    col_text(st, 1, t->leaver_id, sizeof(t->leaver_id));
    col_text(st, 2, t->reason, sizeof(t->reason));
    col_text(st, 3, t->status, sizeof(t->status));
    col_text(st, 4, t->created_by, sizeof(t->created_by));
    t->created_at = sqlite3_column_int64(st, 5);
    t->started_at = sqlite3_column_int64(st, 6);
    t->finished_at = sqlite3_column_int64(st, 7);
    t->batch_size = sqlite3_column_int(st, 8);
    const char *plan = (const char *)sqlite3_column_text(st, 9);
    t->plan_json = strdup(plan ? plan : "[]");
    return t->plan_json ? 0 : ROVE_ENOMEM;
}

int roved_store_transfer_get(roved_db *db, const char *id, roved_transfer *out)
{
    sqlite3_stmt *st = fixed(db, 4001, "SELECT " TRANSFER_COLS " FROM transfers WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW    ? read_transfer(st, out)
            : rc == SQLITE_DONE ? ROVE_ENOTFOUND
                                : fail(db, "transfer_get");
    sqlite3_reset(st);
    return r;
}

int roved_store_transfer_list(roved_db *db, roved_transfer_cb cb, void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 4002, "SELECT " TRANSFER_COLS " FROM transfers ORDER BY created_at DESC, id");
    if (st == NULL)
        return ROVE_ESTORE;
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_transfer t;
        cbrc = read_transfer(st, &t);
        if (cbrc == 0)
            cbrc = cb(&t, payload);
        free(t.plan_json);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "transfer_list");
}

int roved_store_transfer_set_status(roved_db *db, const char *id, const char *status,
                                    int64_t at)
{
    sqlite3_stmt *st = fixed(db, 4003,
                             "UPDATE transfers SET status = ?2,"
                             " started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at,"
                             " ?3) ELSE started_at END,"
                             " finished_at = CASE WHEN ?2 = 'done' THEN ?3 ELSE finished_at END"
                             " WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    return run(db, st, "transfer_set_status");
}

int roved_store_transfer_open_for(roved_db *db, const char *leaver_id, char id_out[27],
                                  int *found)
{
    *found = 0;
    sqlite3_stmt *st =
        fixed(db, 4004,
              "SELECT id FROM transfers WHERE leaver_id = ?1 AND status != 'done'"
              " LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, leaver_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_text(st, 0, id_out, 27);
        *found = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "transfer_open_for");
}

int roved_store_transfer_item_add(roved_db *db, const char *transfer_id, const char *account_id,
                                  const char *to_user_id, int line)
{
    sqlite3_stmt *st = fixed(db, 4005,
                             "INSERT INTO transfer_items (transfer_id, account_id, to_user_id,"
                             " line, seq) VALUES (?1, ?2, ?3, ?4, (SELECT count(*) FROM"
                             " transfer_items WHERE transfer_id = ?1))");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to_user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, line);
    int rc = run(db, st, "transfer_item_add");
    return rc;
}

int roved_store_transfer_items(roved_db *db, const char *transfer_id, int pending_only,
                               int64_t limit, roved_transfer_item_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 4006,
                             "SELECT account_id, to_user_id, line, done_at IS NOT NULL FROM"
                             " transfer_items WHERE transfer_id = ?1 AND (?2 = 0 OR done_at IS"
                             " NULL) ORDER BY seq LIMIT ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, pending_only != 0);
    sqlite3_bind_int64(st, 3, limit);
    /* Read all first: the callback writes to the same tables. */
    roved_transfer_item *items = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            roved_transfer_item *ni = realloc(items, ncap * sizeof(*ni));
            if (ni == NULL) {
                sqlite3_reset(st);
                free(items);
                return ROVE_ENOMEM;
            }
            items = ni;
            cap = ncap;
        }
        roved_transfer_item *it = &items[n++];
        memset(it, 0, sizeof(*it));
        col_text(st, 0, it->account_id, sizeof(it->account_id));
        col_text(st, 1, it->to_user_id, sizeof(it->to_user_id));
        it->line = sqlite3_column_int(st, 2);
        it->done = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(items);
        return fail(db, "transfer_items");
    }
    int cbrc = 0;
    for (size_t i = 0; i < n && cbrc == 0; i++)
        cbrc = cb(&items[i], payload);
    free(items);
    return cbrc;
}

int roved_store_transfer_item_done(roved_db *db, const char *transfer_id,
                                   const char *account_id, int64_t at)
{
    sqlite3_stmt *st = fixed(db, 4007,
                             "UPDATE transfer_items SET done_at = ?3 WHERE transfer_id = ?1 AND"
                             " account_id = ?2 AND done_at IS NULL");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    return run(db, st, "transfer_item_done");
}

static int stream_ids(roved_db *db, sqlite3_stmt *st, roved_id_cb cb, void *payload,
                      const char *what)
{
    /* Collected first: callbacks may write to the same tables. */
    char(*ids)[27] = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char(*ni)[27] = realloc(ids, ncap * sizeof(*ni));
            if (ni == NULL) {
                sqlite3_reset(st);
                free(ids);
                return ROVE_ENOMEM;
            }
            ids = ni;
            cap = ncap;
        }
        col_text(st, 0, ids[n++], 27);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return fail(db, what);
    }
    int cbrc = 0;
    for (size_t i = 0; i < n && cbrc == 0; i++)
        cbrc = cb(ids[i], payload);
    free(ids);
    return cbrc;
}

int roved_store_accounts_matching(roved_db *db, const char *owner_id, const char *territory_id,
                                  const char *tier, roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 4008,
                             "SELECT id FROM account WHERE deleted = 0 AND (?1 IS NULL OR"
                             " owner_id = ?1) AND (?2 IS NULL OR territory_id = ?2) AND (?3 IS"
                             " NULL OR tier = ?3) ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, owner_id);
    bind_text(st, 2, territory_id);
    bind_text(st, 3, tier);
    return stream_ids(db, st, cb, payload, "accounts_matching");
}

int roved_store_workload(roved_db *db, const char *user_id, int64_t *out)
{
    sqlite3_stmt *st =
        fixed(db, 4009,
              "SELECT (SELECT count(*) FROM account WHERE deleted = 0 AND"
              " owner_id = ?1) + (SELECT count(*) FROM visit WHERE deleted = 0"
              " AND planned_for = ?1 AND status IN ('planned', 'needs_replan'))");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "workload");
}

int roved_store_account_counts(roved_db *db, const char *account_id, roved_account_counts *out)
{
    sqlite3_stmt *st = fixed(
        db, 4010,
        "SELECT (SELECT count(*) FROM contact WHERE deleted = 0 AND account_id = ?1),"
        " (SELECT count(*) FROM visit WHERE deleted = 0 AND account_id = ?1 AND status IN"
        " ('planned', 'needs_replan')),"
        " (SELECT count(*) FROM visit WHERE deleted = 0 AND account_id = ?1 AND status NOT IN"
        " ('planned', 'needs_replan')),"
        " (SELECT count(*) FROM service_task WHERE deleted = 0 AND account_id = ?1 AND status"
        " NOT IN ('resolved', 'closed', 'cancelled'))");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->contacts = sqlite3_column_int64(st, 0);
        out->open_visits = sqlite3_column_int64(st, 1);
        out->closed_visits = sqlite3_column_int64(st, 2);
        out->open_tasks = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "account_counts");
}

int roved_store_open_visits(roved_db *db, const char *account_id, roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 4011,
                             "SELECT id FROM visit WHERE deleted = 0 AND account_id = ?1 AND"
                             " status IN ('planned', 'needs_replan') ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    return stream_ids(db, st, cb, payload, "open_visits");
}

int roved_store_visit_clash(roved_db *db, const char *user_id, const char *visit_id,
                            int64_t start, int64_t end, int *out)
{
    *out = 0;
    sqlite3_stmt *st = fixed(db, 4012,
                             "SELECT 1 FROM visit WHERE deleted = 0 AND planned_for = ?1 AND"
                             " id != ?2 AND status IN ('planned', 'needs_replan') AND"
                             " planned_start < ?4 AND coalesce(planned_end, planned_start) > ?3"
                             " LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, visit_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, start);
    sqlite3_bind_int64(st, 4, end);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "visit_clash");
}

int roved_store_tasks_assigned(roved_db *db, const char *user_id, roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 4013,
              "SELECT id FROM service_task WHERE deleted = 0 AND assignee_id = ?1"
              " AND status NOT IN ('resolved', 'closed', 'cancelled') ORDER BY"
              " id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    return stream_ids(db, st, cb, payload, "tasks_assigned");
}

int roved_store_user_references(roved_db *db, const char *user_id, int64_t *accounts,
                                int64_t *visits, int64_t *tasks)
{
    sqlite3_stmt *st = fixed(
        db, 4014,
        "SELECT (SELECT count(*) FROM account WHERE deleted = 0 AND owner_id = ?1),"
        " (SELECT count(*) FROM visit WHERE deleted = 0 AND planned_for = ?1 AND status IN"
        " ('planned', 'needs_replan')),"
        " (SELECT count(*) FROM service_task WHERE deleted = 0 AND assignee_id = ?1 AND status"
        " NOT IN ('resolved', 'closed', 'cancelled'))");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *accounts = sqlite3_column_int64(st, 0);
        *visits = sqlite3_column_int64(st, 1);
        *tasks = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "user_references");
}

int roved_store_owner_history_put(roved_db *db, const char *account_id, const char *from_owner,
                                  const char *to_owner, const char *from_territory,
                                  const char *to_territory, int64_t at, const char *transfer_id,
                                  const char *reason, const char *actor_id)
{
    sqlite3_stmt *st = fixed(db, 4015,
                             "INSERT INTO account_owner_history (account_id, from_owner,"
                             " to_owner, from_territory, to_territory, at, transfer_id, reason,"
                             " actor_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, account_id);
    bind_text(st, 2, from_owner);
    bind_text(st, 3, to_owner);
    bind_text(st, 4, from_territory);
    bind_text(st, 5, to_territory);
    sqlite3_bind_int64(st, 6, at);
    bind_text(st, 7, transfer_id);
    bind_text(st, 8, reason);
    bind_text(st, 9, actor_id);
    return run(db, st, "owner_history_put");
}

int roved_store_transfer_sources(roved_db *db, const char *transfer_id, roved_source_cb cb,
                                 void *payload)
{
    sqlite3_stmt *st = fixed(db, 4016,
                             "SELECT h.from_owner, h.from_territory, (SELECT count(*) FROM"
                             " account a WHERE a.deleted = 0 AND a.owner_id = h.from_owner AND"
                             " a.territory_id = h.from_territory) FROM account_owner_history h"
                             " WHERE h.transfer_id = ?1 AND h.from_owner IS NOT NULL AND"
                             " h.from_territory IS NOT NULL GROUP BY h.from_owner,"
                             " h.from_territory ORDER BY h.from_owner, h.from_territory");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, transfer_id, -1, SQLITE_STATIC);
    struct src {
        char owner[27], territory[27];
        int64_t still;
    } srcs[64];
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64) {
        col_text(st, 0, srcs[n].owner, sizeof(srcs[n].owner));
        col_text(st, 1, srcs[n].territory, sizeof(srcs[n].territory));
        srcs[n++].still = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(db, "transfer_sources");
    int cbrc = 0;
    for (size_t i = 0; i < n && cbrc == 0; i++)
        cbrc = cb(srcs[i].owner, srcs[i].territory, srcs[i].still, payload);
    return cbrc;
}

/* ---- delegations ------------------------------------------------------- */

int roved_store_delegation_put(roved_db *db, const roved_delegation *d)
{
    sqlite3_stmt *st = fixed(db, 5000,
                             "INSERT INTO delegations (id, delegator_id, status, starts_at,"
                             " ends_at, grace_ms, visit_policy, created_by, created_at, reason)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, d->id);
    bind_text(st, 2, d->delegator_id);
    bind_text(st, 3, d->status);
    sqlite3_bind_int64(st, 4, d->starts_at);
    sqlite3_bind_int64(st, 5, d->ends_at);
    sqlite3_bind_int64(st, 6, d->grace_ms);
    bind_text(st, 7, d->visit_policy);
    bind_text(st, 8, d->created_by);
    sqlite3_bind_int64(st, 9, d->created_at);
    bind_text(st, 10, d->reason);
    return run(db, st, "delegation_put");
}

int roved_store_grant_put(roved_db *db, const roved_grant *g)
{
    sqlite3_stmt *st = fixed(db, 5001,
                             "INSERT INTO delegation_grants (delegation_id, delegate_id, scope,"
                             " territory_id, actions) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, g->delegation_id);
    bind_text(st, 2, g->delegate_id);
    bind_text(st, 3, g->scope);
    bind_text(st, 4, g->territory_id);
    bind_text(st, 5, g->actions);
    return run(db, st, "grant_put");
}

int roved_store_grant_account_put(roved_db *db, const char *delegation_id,
                                  const char *delegate_id, const char *account_id)
{
    sqlite3_stmt *st = fixed(db, 5002,
                             "INSERT INTO delegation_accounts (delegation_id, delegate_id,"
                             " account_id) VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, delegation_id);
    bind_text(st, 2, delegate_id);
    bind_text(st, 3, account_id);
    return run(db, st, "grant_account_put");
}

#define DELEGATION_COLS                                                                        \
    "d.id, d.delegator_id, d.status, d.starts_at, d.ends_at, d.grace_ms, d.visit_policy,"      \
    " d.created_by, d.created_at, d.activated, d.closed, coalesce(d.reason, '')"

static void read_delegation(sqlite3_stmt *st, int c0, roved_delegation *d)
{
    memset(d, 0, sizeof(*d));
    col_text(st, c0 + 0, d->id, sizeof(d->id));
    col_text(st, c0 + 1, d->delegator_id, sizeof(d->delegator_id));
    col_text(st, c0 + 2, d->status, sizeof(d->status));
    d->starts_at = sqlite3_column_int64(st, c0 + 3);
    d->ends_at = sqlite3_column_int64(st, c0 + 4);
    d->grace_ms = sqlite3_column_int64(st, c0 + 5);
    col_text(st, c0 + 6, d->visit_policy, sizeof(d->visit_policy));
    col_text(st, c0 + 7, d->created_by, sizeof(d->created_by));
    d->created_at = sqlite3_column_int64(st, c0 + 8);
    d->activated = sqlite3_column_int(st, c0 + 9);
    d->closed = sqlite3_column_int(st, c0 + 10);
    col_text(st, c0 + 11, d->reason, sizeof(d->reason));
}

int roved_store_delegation_get(roved_db *db, const char *id, roved_delegation *out)
{
    sqlite3_stmt *st =
        fixed(db, 5003, "SELECT " DELEGATION_COLS " FROM delegations d WHERE d.id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_delegation(st, 0, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW    ? 0
           : rc == SQLITE_DONE ? ROVE_ENOTFOUND
                               : fail(db, "delegation_get");
}

static int stream_delegations(roved_db *db, sqlite3_stmt *st, roved_delegation_cb cb,
                              void *payload, const char *what)
{
    roved_delegation *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            roved_delegation *nl = realloc(list, ncap * sizeof(*nl));
            if (nl == NULL) {
                sqlite3_reset(st);
                free(list);
                return ROVE_ENOMEM;
            }
            list = nl;
            cap = ncap;
        }
        read_delegation(st, 0, &list[n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(list);
        return fail(db, what);
    }
    int cbrc = 0;
    for (size_t i = 0; i < n && cbrc == 0; i++)
        cbrc = cb(&list[i], payload);
    free(list);
    return cbrc;
}

int roved_store_delegation_list(roved_db *db, const char *delegator_id, roved_delegation_cb cb,
                                void *payload)
{
    sqlite3_stmt *st = fixed(db, 5004,
                             "SELECT " DELEGATION_COLS " FROM delegations d WHERE ?1 IS NULL OR"
                             " d.delegator_id = ?1 ORDER BY d.starts_at DESC, d.id");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, delegator_id);
    return stream_delegations(db, st, cb, payload, "delegation_list");
}

int roved_store_grant_list(roved_db *db, const char *delegation_id, roved_grant_cb cb,
                           void *payload)
{
    sqlite3_stmt *st = fixed(db, 5005,
                             "SELECT delegation_id, delegate_id, scope, coalesce(territory_id,"
                             " ''), actions FROM delegation_grants WHERE delegation_id = ?1"
                             " ORDER BY delegate_id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, delegation_id, -1, SQLITE_STATIC);
    roved_grant g[16];
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 16) {
        memset(&g[n], 0, sizeof(g[n]));
        col_text(st, 0, g[n].delegation_id, sizeof(g[n].delegation_id));
        col_text(st, 1, g[n].delegate_id, sizeof(g[n].delegate_id));
        col_text(st, 2, g[n].scope, sizeof(g[n].scope));
        col_text(st, 3, g[n].territory_id, sizeof(g[n].territory_id));
        col_text(st, 4, g[n].actions, sizeof(g[n].actions));
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(db, "grant_list");
    int cbrc = 0;
    for (size_t i = 0; i < n && cbrc == 0; i++)
        cbrc = cb(&g[i], payload);
    return cbrc;
}

int roved_store_delegation_stop(roved_db *db, const char *id, const char *status, int64_t at)
{
    sqlite3_stmt *st = fixed(db, 5006,
                             "UPDATE delegations SET status = ?2, ends_at = min(ends_at, ?3),"
                             " starts_at = min(starts_at, ?3) WHERE id = ?1 AND status ="
                             " 'planned' AND ends_at > ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    int rc = run(db, st, "delegation_stop");
    if (rc == 0 && sqlite3_changes(db->h) == 0) {
        roved_delegation d;
        rc = roved_store_delegation_get(db, id, &d);
        if (rc == 0)
            rc = ROVE_ESTATE;
    }
    return rc;
}

int roved_store_delegation_mark(roved_db *db, const char *id, int activated, int closed)
{
    sqlite3_stmt *st = fixed(db, 5007,
                             "UPDATE delegations SET activated = max(activated, ?2),"
                             " closed = max(closed, ?3) WHERE id = ?1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, activated);
    sqlite3_bind_int(st, 3, closed);
    return run(db, st, "delegation_mark");
}

int roved_store_delegations_due(roved_db *db, int64_t now, int ending, roved_delegation_cb cb,
                                void *payload)
{
    sqlite3_stmt *st =
        ending ? fixed(db, 5008,
                       "SELECT " DELEGATION_COLS " FROM delegations d WHERE d.closed = 0 AND"
                       " d.ends_at <= ?1 ORDER BY d.ends_at, d.id")
               : fixed(db, 5009,
                       "SELECT " DELEGATION_COLS " FROM delegations d WHERE d.activated = 0 AND"
                       " d.status = 'planned' AND d.starts_at <= ?1 AND d.ends_at > ?1 ORDER BY"
                       " d.starts_at, d.id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    return stream_delegations(db, st, cb, payload, "delegations_due");
}

int roved_store_delegation_overlaps(roved_db *db, const char *delegator_id, int64_t from,
                                    int64_t to, int *out)
{
    sqlite3_stmt *st = fixed(db, 5010,
                             "SELECT 1 FROM delegations WHERE delegator_id = ?1 AND status ="
                             " 'planned' AND starts_at < ?3 AND ends_at > ?2 LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, delegator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "delegation_overlaps");
}

int roved_store_user_delegating(roved_db *db, const char *user_id, int64_t from, int64_t to,
                                int *out)
{
    return roved_store_delegation_overlaps(db, user_id, from, to, out);
}

/* The accounts of a grant: the delegator's own accounts, all of them, those
 * of a territory, or those listed. ?1 delegation, ?2 delegate. */
#define GRANT_ACCOUNTS                                                                         \
    "SELECT a.id FROM account a JOIN delegations d ON d.id = ?1 JOIN delegation_grants g ON"   \
    " g.delegation_id = d.id AND g.delegate_id = ?2 WHERE a.deleted = 0 AND a.owner_id ="      \
    " d.delegator_id AND (g.scope = 'all' OR (g.scope = 'territory' AND a.territory_id ="      \
    " g.territory_id) OR (g.scope = 'accounts' AND EXISTS (SELECT 1 FROM delegation_accounts"  \
    " x WHERE x.delegation_id = d.id AND x.delegate_id = g.delegate_id AND x.account_id ="     \
    " a.id)))"

int roved_store_grant_accounts(roved_db *db, const roved_delegation *d, const roved_grant *g,
                               roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 5011, GRANT_ACCOUNTS " ORDER BY a.id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->delegate_id, -1, SQLITE_STATIC);
    return stream_ids(db, st, cb, payload, "grant_accounts");
}

int roved_store_delegation_covering(roved_db *db, const char *delegate_id,
                                    const char *account_id, int64_t at, roved_delegation *d,
                                    roved_grant *g)
{
    sqlite3_stmt *st = fixed(
        db, 5012,
        "SELECT " DELEGATION_COLS ", g.scope, coalesce(g.territory_id, ''), g.actions FROM"
        " delegations d JOIN delegation_grants g ON g.delegation_id = d.id AND g.delegate_id ="
        " ?1 JOIN account a ON a.id = ?2 AND a.owner_id = d.delegator_id WHERE (?3 = 0 OR"
        " (d.starts_at <= ?3 AND d.ends_at >= ?3)) AND (g.scope = 'all' OR (g.scope = "
        "'territory' AND"
        " a.territory_id = g.territory_id) OR (g.scope = 'accounts' AND EXISTS (SELECT 1 FROM"
        " delegation_accounts x WHERE x.delegation_id = d.id AND x.delegate_id = g.delegate_id"
        " AND x.account_id = a.id))) ORDER BY d.ends_at DESC LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, delegate_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_delegation(st, 0, d);
        memset(g, 0, sizeof(*g));
        roved_util_copy(g->delegation_id, sizeof(g->delegation_id), d->id);
        roved_util_copy(g->delegate_id, sizeof(g->delegate_id), delegate_id);
        col_text(st, 12, g->scope, sizeof(g->scope));
        col_text(st, 13, g->territory_id, sizeof(g->territory_id));
        col_text(st, 14, g->actions, sizeof(g->actions));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW    ? 0
           : rc == SQLITE_DONE ? ROVE_ENOTFOUND
                               : fail(db, "delegation_covering");
}

int roved_store_visits_in_window(roved_db *db, const char *account_id, const char *user_id,
                                 int64_t from, int64_t to, roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 5013,
                             "SELECT id FROM visit WHERE deleted = 0 AND account_id = ?1 AND"
                             " planned_for = ?2 AND status IN ('planned', 'needs_replan') AND"
                             " planned_start >= ?3 AND planned_start < ?4 ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    return stream_ids(db, st, cb, payload, "visits_in_window");
}

int roved_store_tasks_covered(roved_db *db, const char *user_id, const char *delegate_id,
                              roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 5014,
                             "SELECT id FROM service_task WHERE deleted = 0 AND"
                             " original_assignee_id = ?1 AND assignee_id = ?2 ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, delegate_id, -1, SQLITE_STATIC);
    return stream_ids(db, st, cb, payload, "tasks_covered");
}

int roved_store_visits_covered(roved_db *db, const char *user_id, const char *delegate_id,
                               roved_id_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 5015,
                             "SELECT id FROM visit WHERE deleted = 0 AND on_behalf_of = ?1 AND"
                             " planned_for = ?2 AND status IN ('planned', 'needs_replan')"
                             " ORDER BY id");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, delegate_id, -1, SQLITE_STATIC);
    return stream_ids(db, st, cb, payload, "visits_covered");
}

int roved_store_absence_cut(roved_db *db, const char *user_id, const char *reason, int64_t at)
{
    sqlite3_stmt *st = fixed(db, 5020,
                             "UPDATE user_absences SET ends_at = max(starts_at + 1, ?3) WHERE"
                             " user_id = ?1 AND reason = ?2 AND ends_at > ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    bind_text(st, 1, user_id);
    bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, at);
    return run(db, st, "absence_cut");
}

/* ?1 delegator, ?2 from, ?3 to, ?4 now. Each row: table, id, at, who, detail. */
static const char *const digest_sql[ROVED_DIGEST_NKINDS] = {
    /* visits completed in the window on the delegator's accounts */
    "SELECT 'visit', v.id, coalesce(v.checkout_at, v.updated_at), coalesce(v.performed_by,"
    " v.updated_by), coalesce(v.outcome, '') FROM visit v JOIN account a ON a.id ="
    " v.account_id WHERE v.deleted = 0 AND a.owner_id = ?1 AND v.status = 'completed' AND"
    " coalesce(v.checkout_at, v.updated_at) >= ?2 AND coalesce(v.checkout_at, v.updated_at) <"
    " ?3 ORDER BY 3",
    /* service tasks resolved or closed in the window */
    "SELECT 'service_task', t.id, t.resolved_at, t.updated_by, t.title || ' (' || t.status ||"
    " ')' FROM service_task t JOIN account a ON a.id = t.account_id WHERE t.deleted = 0 AND"
    " (a.owner_id = ?1 OR t.original_assignee_id = ?1) AND t.resolved_at >= ?2 AND"
    " t.resolved_at < ?3 ORDER BY 3",
    /* new accounts the delegator owns, created in the window */
    "SELECT 'account', id, created_at, created_by, name FROM account WHERE deleted = 0 AND"
    " owner_id = ?1 AND created_at >= ?2 AND created_at < ?3 ORDER BY 3",
    /* new contacts on the delegator's accounts */
    "SELECT 'contact', c.id, c.created_at, c.created_by, c.name FROM contact c JOIN account a"
    " ON a.id = c.account_id WHERE c.deleted = 0 AND a.owner_id = ?1 AND c.created_at >= ?2"
    " AND c.created_at < ?3 ORDER BY 3",
    /* stage changes */
    "SELECT 'stage_change', s.account_id, s.changed_at, s.changed_by, coalesce(s.from_stage,"
    " '-') || ' -> ' || s.to_stage FROM stage_change s JOIN account a ON a.id = s.account_id"
    " WHERE a.owner_id = ?1 AND s.changed_at >= ?2 AND s.changed_at < ?3 ORDER BY 3",
    /* open visits planned for the delegator now */
    "SELECT 'visit', v.id, v.planned_start, v.planned_for, v.status FROM visit v WHERE"
    " v.deleted = 0 AND v.planned_for = ?1 AND v.status IN ('planned', 'needs_replan') ORDER"
    " BY 3",
    /* open service tasks on the delegator's accounts now */
    "SELECT 'service_task', t.id, t.sla_resolve_due, t.assignee_id, t.title || ' (' ||"
    " t.status || ')' FROM service_task t JOIN account a ON a.id = t.account_id WHERE"
    " t.deleted = 0 AND (a.owner_id = ?1 OR t.assignee_id = ?1) AND t.status NOT IN"
    " ('resolved', 'closed', 'cancelled') ORDER BY 3",
    /* edits held in quarantine for the delegator's records */
    "SELECT q.table_name, q.row_id, q.at, q.user_id, q.reason FROM quarantine q WHERE"
    " q.status = 'pending' AND q.at >= ?2 AND EXISTS (SELECT 1 FROM account a WHERE a.owner_id"
    " = ?1 AND (a.id = q.row_id OR a.id IN (SELECT account_id FROM contact WHERE id = q.row_id"
    " UNION SELECT account_id FROM visit WHERE id = q.row_id UNION SELECT account_id FROM"
    " service_task WHERE id = q.row_id))) ORDER BY 3",
    /* SLA breaches: resolution due in the window, resolved late or not at all */
    "SELECT 'service_task', t.id, t.sla_resolve_due, t.assignee_id, t.title FROM service_task t"
    " JOIN account a ON a.id = t.account_id WHERE t.deleted = 0 AND (a.owner_id = ?1 OR"
    " t.original_assignee_id = ?1) AND t.sla_resolve_due >= ?2 AND t.sla_resolve_due < ?3 AND"
    " t.sla_resolve_due < ?4 AND (t.resolved_at IS NULL OR t.resolved_at > t.sla_resolve_due)"
    " ORDER BY 3",
};

int roved_store_digest(roved_db *db, roved_digest_kind kind, const char *delegator_id,
                       int64_t from, int64_t to, int64_t now, roved_digest_cb cb, void *payload)
{
    if ((int)kind < 0 || kind >= ROVED_DIGEST_NKINDS)
        return ROVE_EINVAL;
    sqlite3_stmt *st = fixed(db, 5100 + (uint64_t)kind, digest_sql[kind]);
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, delegator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, now);
    int rc, cbrc = 0, n = 0;
    while (cbrc == 0 && n < 1000 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cbrc = cb((const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                  (const char *)sqlite3_column_text(st, 3),
                  (const char *)sqlite3_column_text(st, 4), payload);
        n++;
    }
    if (n >= 1000)
        rc = SQLITE_DONE;
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(db, "digest");
}

static int exists3(roved_db *db, uint64_t key, const char *sql, const char *id, int64_t from,
                   int64_t to, int *out)
{
    sqlite3_stmt *st = fixed(db, key, sql);
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "exists");
}

int roved_store_absent_during(roved_db *db, const char *user_id, int64_t from, int64_t to,
                              int *out)
{
    return exists3(db, 5030,
                   "SELECT 1 FROM user_absences WHERE user_id = ?1 AND starts_at < ?3 AND"
                   " ends_at > ?2 LIMIT 1",
                   user_id, from, to, out);
}

int roved_store_user_covering(roved_db *db, const char *user_id, int64_t from, int64_t to,
                              int *out)
{
    return exists3(db, 5031,
                   "SELECT 1 FROM delegation_grants g JOIN delegations d ON d.id ="
                   " g.delegation_id WHERE g.delegate_id = ?1 AND d.status = 'planned' AND"
                   " d.starts_at < ?3 AND d.ends_at > ?2 LIMIT 1",
                   user_id, from, to, out);
}

int roved_store_delegations_of_delegate(roved_db *db, const char *user_id,
                                        roved_delegation_cb cb, void *payload)
{
    sqlite3_stmt *st =
        fixed(db, 5032,
              "SELECT " DELEGATION_COLS " FROM delegations d WHERE EXISTS (SELECT"
              " 1 FROM delegation_grants g WHERE g.delegation_id = d.id AND"
              " g.delegate_id = ?1) ORDER BY d.starts_at DESC, d.id LIMIT 64");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    return stream_delegations(db, st, cb, payload, "delegations_of_delegate");
}

int roved_store_active_delegate(roved_db *db, const char *delegator_id, int64_t now,
                                char delegate_out[27])
{
    sqlite3_stmt *st =
        fixed(db, 5033,
              "SELECT g.delegate_id FROM delegations d JOIN delegation_grants g"
              " ON g.delegation_id = d.id WHERE d.delegator_id = ?1 AND d.status ="
              " 'planned' AND d.starts_at <= ?2 AND d.ends_at > ?2 AND g.scope ="
              " 'all' ORDER BY d.starts_at DESC LIMIT 1");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, delegator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, delegate_out, 27);
    sqlite3_reset(st);
    return rc == SQLITE_ROW    ? 0
           : rc == SQLITE_DONE ? ROVE_ENOTFOUND
                               : fail(db, "active_delegate");
}

int roved_store_audit_list(roved_db *db, const char *table, const char *row_id, int64_t limit,
                           roved_audit_cb cb, void *payload)
{
    sqlite3_stmt *st = fixed(db, 5040,
                             "SELECT id, at, actor_user_id, device_id, table_name, row_id, op,"
                             " client_hlc, diff, on_behalf_of, delegation_id FROM audit WHERE"
                             " table_name = ?1 AND row_id = ?2 ORDER BY id LIMIT ?3");
    if (st == NULL)
        return ROVE_ESTORE;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit);
    int rc, cbrc = 0;
    while (cbrc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        roved_audit a = {sqlite3_column_int64(st, 1),
                         (const char *)sqlite3_column_text(st, 2),
                         (const char *)sqlite3_column_text(st, 3),
                         (const char *)sqlite3_column_text(st, 4),
                         (const char *)sqlite3_column_text(st, 5),
                         (const char *)sqlite3_column_text(st, 6),
                         sqlite3_column_int64(st, 7),
                         (const char *)sqlite3_column_text(st, 8),
                         (const char *)sqlite3_column_text(st, 9),
                         (const char *)sqlite3_column_text(st, 10)};
        cbrc = cb(sqlite3_column_int64(st, 0), &a, payload);
    }
    sqlite3_reset(st);
    if (cbrc != 0)
        return cbrc;
    return rc == SQLITE_DONE ? 0 : fail(db, "audit_list");
}
