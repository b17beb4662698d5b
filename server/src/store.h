#ifndef ROVE_SERVER_STORE_H
#define ROVE_SERVER_STORE_H

/*
 * The store: every byte of SQL in roved lives behind this interface
 * (store_sqlite.c today; a PostgreSQL backend later implements the same
 * functions). Callers think in users, devices, receipts and synced rows.
 *
 * Thread model: a roved_store is shared by all worker threads. Writes go
 * through one writer handle guarded by a mutex (roved_store_write_begin ..
 * commit/rollback): writes are serialized, so the global version counter has
 * no gaps visible to readers. Reads take a pooled handle for the duration of
 * one request (roved_store_read_begin .. read_end) inside one read
 * transaction, i.e. one consistent snapshot. A roved_db is used by one thread
 * at a time.
 *
 * Functions return 0, ROVE_ENOTFOUND where a lookup found nothing, or
 * ROVE_ESTORE (detail in the log) on a storage error.
 */

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "schema.h"

typedef struct roved_store roved_store;
typedef struct roved_db roved_db;

typedef struct roved_store_options {
    const char *dir;      /* data directory; the database is dir/rove.db */
    int synchronous_full; /* 1: fsync at every commit */
    int readers;          /* most pooled read handles */
} roved_store_options;

int roved_store_open(roved_store **out, const roved_store_options *opts);
/* Checkpoints the WAL and closes every handle. NULL is a no-op. */
void roved_store_close(roved_store *s);

/* Write transaction on the single writer (BEGIN IMMEDIATE, under the mutex). */
int roved_store_write_begin(roved_store *s, roved_db **out);
int roved_store_write_commit(roved_store *s, roved_db *db);
void roved_store_write_rollback(roved_store *s, roved_db *db);
/*
 * Like write_begin, but the commit does not wait for fsync (bookkeeping such
 * as a device's last sync time). A later durable commit flushes it too.
 */
int roved_store_write_begin_lazy(roved_store *s, roved_db **out);

/* Read transaction on a pooled handle: one snapshot. */
int roved_store_read_begin(roved_store *s, roved_db **out);
void roved_store_read_end(roved_store *s, roved_db *db);

/* The global version counter: the next value (writer only) and the latest
 * committed value as seen by this handle's snapshot. */
int roved_store_version_next(roved_db *db, int64_t *out);
int roved_store_version_current(roved_db *db, int64_t *out);

/* ---- users ------------------------------------------------------------ */

enum roved_user_status {
    ROVED_USER_ACTIVE = 0,
    ROVED_USER_FROZEN = 1,
    ROVED_USER_DEACTIVATED = 2
};

typedef struct roved_user {
    char id[27];
    char username[64];
    char name[128];
    unsigned role; /* ROVE__ROLE_* */
    int status;    /* roved_user_status */
    char manager_id[27];
    char home_territory_id[27];
    char skills[256];
    char password_hash[160];
    int64_t created_at;
} roved_user;

const char *roved_user_status_name(int status);
int roved_user_status_parse(const char *name);

int roved_store_user_by_name(roved_db *db, const char *username, roved_user *out);
int roved_store_user_by_id(roved_db *db, const char *id, roved_user *out);
/* ROVE_EEXISTS when the user name is taken. */
int roved_store_user_insert(roved_db *db, const roved_user *u);
typedef int (*roved_user_cb)(const roved_user *u, void *payload);
int roved_store_user_list(roved_db *db, roved_user_cb cb, void *payload);
int roved_store_user_count(roved_db *db, int64_t *out);
/* Sets a user's status by user name; ROVE_ENOTFOUND when unknown. */
int roved_store_user_set_status(roved_db *db, const char *username, int status);

/* ---- territories ------------------------------------------------------ */

int roved_store_territory_insert(roved_db *db, const char *id, const char *name,
                                 const char *parent_id, const char *owner_id);
int roved_store_territory_member_insert(roved_db *db, const char *territory_id,
                                        const char *user_id, const char *role,
                                        int64_t valid_from, int64_t valid_to);
/* 1 when user_id owns territory_id or one of its ancestors, or is a manager
 * member of one of them valid at now; else 0. */
int roved_store_territory_manages(roved_db *db, const char *territory_id, const char *user_id,
                                  int64_t now);
/* 1 when user_id is a member of territory_id with role, valid at now. */
int roved_store_territory_member_of(roved_db *db, const char *territory_id, const char *user_id,
                                    const char *role, int64_t now);

/* ---- devices and admin sessions -------------------------------------- */

enum roved_device_status { ROVED_DEVICE_ACTIVE = 0, ROVED_DEVICE_REVOKED = 1 };

typedef struct roved_device {
    char id[27];
    char user_id[27];
    char name[128];
    int status;
    int64_t registered_at;
    int64_t last_sync_at;
    int64_t last_cursor;
    int64_t revoked_at;  /* 0 while active */
    int64_t drain_until; /* revoked: may upload (no data) until then */
    int64_t wiped_at;    /* when the device reported its replica wiped */
    /* Set by roved_store_device_by_token only: the token it was found by. */
    char token_id[27];
    int64_t token_created_at;
    int64_t token_expires_at;
    int64_t token_last_used_at;
} roved_device;

/* A device token's record; the token itself and its hash never leave the
 * store. revoked_by: the admin who revoked it, "" when a login or a refresh
 * superseded it. */
typedef struct roved_token {
    char id[27];
    char device_id[27];
    char user_id[27];
    char device_name[128];
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at; /* 0: never used */
    int64_t revoked_at;   /* 0 while valid */
    char revoked_by[27];
} roved_token;

/* Device token lifetime when none is configured (also for tokens of a store
 * upgraded from schema 1). */
#define ROVED_DEVICE_TOKEN_DAYS_DEFAULT 30

int roved_store_device_get(roved_db *db, const char *id, roved_device *out);
/* The device of a valid (unrevoked, unexpired) token; ROVE_ENOTFOUND else. */
int roved_store_device_by_token(roved_db *db, const char *token_hash, roved_device *out);
/* Creates the device, or re-binds it (new name) when it exists, revokes its
 * older tokens and stores token t. ROVE_EREVOKED (device revoked),
 * ROVE_EFORBIDDEN (the id belongs to another user). */
int roved_store_device_bind(roved_db *db, const roved_device *d, const roved_token *t,
                            const char *token_hash);
/* Device tokens (t->id, device_id, user_id, created_at, expires_at used). */
int roved_store_token_insert(roved_db *db, const roved_token *t, const char *token_hash);
int roved_store_token_get(roved_db *db, const char *id, roved_token *out);
typedef int (*roved_token_cb)(const roved_token *t, void *payload);
/* A user's tokens, oldest first, revoked and expired ones included. */
int roved_store_token_list(roved_db *db, const char *user_id, roved_token_cb cb,
                           void *payload);
/* ROVE_ENOTFOUND, or ROVE_ESTATE when it was revoked already. by may be NULL. */
int roved_store_token_revoke(roved_db *db, const char *id, int64_t at, const char *by);
/* Revokes every valid token of a device except except_id (may be NULL). */
int roved_store_device_tokens_revoke(roved_db *db, const char *device_id, const char *except_id,
                                     int64_t at, int *count);
int roved_store_token_used(roved_db *db, const char *id, int64_t at);
int roved_store_device_touch(roved_db *db, const char *id, int64_t at, int64_t cursor);
/* Sets a device's status (roved_device_status); ROVE_ENOTFOUND when unknown. */
int roved_store_device_set_status(roved_db *db, const char *id, int status);
/* Revokes an active device at `at`, letting it upload until drain_until;
 * ROVE_ENOTFOUND, or ROVE_ESTATE when it is revoked already. */
int roved_store_device_revoke(roved_db *db, const char *id, int64_t at, int64_t drain_until);
/* Revokes every active device of user_id (*count: how many). */
int roved_store_user_devices_revoke(roved_db *db, const char *user_id, int64_t at,
                                    int64_t drain_until, int *count);
/* Records that a revoked device wiped its replica. */
int roved_store_device_wiped(roved_db *db, const char *id, int64_t at);
typedef int (*roved_device_cb)(const roved_device *d, void *payload);
int roved_store_device_list(roved_db *db, roved_device_cb cb, void *payload);

int roved_store_session_insert(roved_db *db, const char *token_hash, const char *user_id,
                               int64_t expires_at);
/* The user of an unexpired session; ROVE_ENOTFOUND otherwise. */
int roved_store_session_user(roved_db *db, const char *token_hash, int64_t now,
                             char user_id[27]);

/* ---- receipts and audit ---------------------------------------------- */

typedef struct roved_receipt_row {
    int status;
    char code[40];
    char message[200];
    int64_t version;
    /* The columns that lost, with the winning values (rove__lost_begin/add
     * CBOR), malloc'd; NULL when none. The caller frees it. */
    unsigned char *lost;
    size_t lost_len;
} roved_receipt_row;

int roved_store_receipt_get(roved_db *db, const char *device_id, const char *change_id,
                            size_t change_id_len, roved_receipt_row *out);
int roved_store_receipt_put(roved_db *db, const char *device_id, const char *change_id,
                            size_t change_id_len, const roved_receipt_row *r, int64_t at);

typedef struct roved_audit {
    int64_t at;
    const char *actor_user_id;
    const char *device_id;
    const char *table;
    const char *row_id;
    const char *op;
    int64_t client_hlc;
    const char *diff_json;
    const char *on_behalf_of;  /* a delegate's write: the delegator, else NULL */
    const char *delegation_id; /* the delegation it was made under, else NULL */
} roved_audit;

int roved_store_audit_put(roved_db *db, const roved_audit *a);

/* ---- synced rows ------------------------------------------------------ */

/* What the server needs to know about a row to decide scope. */
typedef struct roved_rowinfo {
    int deleted;
    char account_id[27];   /* the row itself for accounts, else its account */
    char owner_id[27];     /* account owner (of the row's account) */
    char territory_id[27]; /* account territory (of the row's account) */
    char assignee_id[27];  /* service tasks */
    char task_id[27];      /* service tasks: the row itself */
} roved_rowinfo;

/* ROVE_ENOTFOUND when no row (tombstoned or not) has this id. */
int roved_store_row_info(roved_db *db, const rove__table *t, const char *id,
                         roved_rowinfo *out);
/* Inserts a row; vals[i] is the value of schema column i (t->ncols values). */
int roved_store_row_insert(roved_db *db, const rove__table *t, const rove__value *vals);
/* Sets the given columns of row id (schema column indexes). */
/* A server command's write of cols[0..n) (at most 12) of row id: a new
 * version (in *version_out, may be NULL), updated_at = at and, when by is
 * not NULL, updated_by = by. Every device in scope pulls it. */
int roved_store_row_write(roved_db *db, const rove__table *t, const char *id, const int *cols,
                          const rove__value *vals, size_t n, const char *by, int64_t at,
                          int64_t *version_out);
int roved_store_row_update(roved_db *db, const rove__table *t, const char *id, const int *cols,
                           const rove__value *vals, size_t n);
int roved_store_row_count(roved_db *db, const rove__table *t, int64_t *live,
                          int64_t *tombstones);
/*
 * Reads the current values of row id: vals[i] for schema column i. Text values
 * point into text, which the caller frees (rove__buf_free) after use.
 */
int roved_store_row_get(roved_db *db, const rove__table *t, const char *id, rove__value *vals,
                        rove__buf *text);

/* Per-column write clocks of a row, for conflict resolution: the device HLC
 * and server version of the last accepted write, and a tag of the device that
 * made it. A column never written by a push has all zeros. */
typedef struct roved_col_clock {
    int64_t hlc;
    int64_t version;
    int64_t device_tag;
} roved_col_clock;

/* Fills clocks[0..t->ncols) (zeros when the row has none stored). */
int roved_store_clock_get(roved_db *db, const rove__table *t, const char *id,
                          roved_col_clock *clocks);
int roved_store_clock_put(roved_db *db, const rove__table *t, const char *id,
                          const roved_col_clock *clocks);

/* One overwritten or refused value, kept for the app and the manager. */
typedef struct roved_conflict {
    int64_t at;
    const char *table;
    const char *row_id;
    const char *column;
    const char *policy;    /* "lww", "server", "rank", "append" */
    const char *device_id; /* the device whose value lost */
    const char *user_id;
    int64_t client_hlc;
    const char *lost_json; /* the value that lost, as JSON */
    const char *kept_json; /* the value kept, as JSON */
    /* A manager's decision (reads only): "restored" or "dismissed", or NULL
     * while open; who and when. */
    const char *resolution;
    const char *resolved_by;
    int64_t resolved_at;
} roved_conflict;

int roved_store_conflict_put(roved_db *db, const roved_conflict *c);
typedef int (*roved_conflict_cb)(int64_t id, const roved_conflict *c, void *payload);
/* The newest `limit` entries, of one record when row_id is not NULL. */
int roved_store_conflict_list(roved_db *db, const char *row_id, int64_t limit,
                              roved_conflict_cb cb, void *payload);
/* As roved_store_conflict_list, also narrowed to one entry (id > 0) and to
 * entries nobody decided on yet (open_only). */
int roved_store_conflict_query(roved_db *db, const char *row_id, int64_t id, int open_only,
                               int64_t limit, roved_conflict_cb cb, void *payload);
/* Records a manager's decision on an open entry; ROVE_ENOTFOUND when there
 * is no such entry, ROVE_ESTATE when it was decided already. */
int roved_store_conflict_resolve(roved_db *db, int64_t id, const char *resolution,
                                 const char *by, int64_t at);

/* ---- pulls ------------------------------------------------------------ */

typedef struct roved_scope {
    unsigned role; /* ROVE__ROLE_* */
    const char *user_id;
    int64_t now; /* time the scope is evaluated at (memberships) */
} roved_scope;

/*
 * Plans one page: counts, per table (schema order), the rows in scope with
 * cursor < version, taking rows in global version order until `limit` rows;
 * *upto is the version of the last row taken, *more is 1 when rows remain.
 */
int roved_store_pull_plan(roved_db *db, const roved_scope *sc, int64_t cursor, size_t limit,
                          size_t counts[], int64_t *upto, int *more);

/* Called once per row with the values of the requested columns. */
typedef int (*roved_row_cb)(const rove__value *vals, size_t n, void *payload);

/* Streams the rows of table ti in scope with cursor < version <= upto, in
 * version order, giving the columns cols[0..ncols). */
int roved_store_pull_rows(roved_db *db, const roved_scope *sc, size_t ti, int64_t cursor,
                          int64_t upto, const int *cols, size_t ncols, roved_row_cb cb,
                          void *payload);

/* ---- scope tracking (docs/scope.md) ----------------------------------- */

/* The global scope epoch: moves whenever something that decides scope
 * changes (owners, territories, assignees, memberships). */
int roved_store_scope_epoch(roved_db *db, int64_t *out);
int roved_store_scope_bump(roved_db *db);
/* Records that a row ('a' account, 't' task) moved at time at for reason
 * (e.g. "owner_changed"), and bumps the epoch. */
int roved_store_scope_move(roved_db *db, char kind, const char *id, int64_t at,
                           const char *reason);

typedef struct roved_scope_state {
    int known;            /* 0: never evaluated */
    int64_t epoch;        /* scope epoch of the last evaluation */
    int64_t evaluated_at; /* time of the last evaluation */
    int64_t pending_v;    /* evictions/entries wait until the cursor reaches it */
} roved_scope_state;

int roved_store_scope_state(roved_db *db, const char *device_id, roved_scope_state *out);
/* *out = 1 when a territory membership of user starts or ends in (after, upto]. */
int roved_store_scope_boundary(roved_db *db, const char *user_id, int64_t after, int64_t upto,
                               int *out);
/* The device committed everything up to cursor: forget delivered evictions
 * and entries. */
int roved_store_scope_ack(roved_db *db, const char *device_id, int64_t cursor);
/* Compares what the device holds with its scope now; marks leaving ids with
 * evict_v = v and entering ones with enter_v = v (v: a fresh version). */
int roved_store_scope_evaluate(roved_db *db, const char *device_id, const roved_scope *sc,
                               int64_t epoch, int64_t v, size_t *left, size_t *entered);
/* *held = 1 when the device was given the row ('a' account or 't' task)
 * and has not confirmed its eviction. */
int roved_store_scope_held(roved_db *db, const char *device_id, char kind, const char *id,
                           int *held);
/* When the row described by info left user's scope: the last recorded move
 * of its account or task, or the end of the user's membership of its
 * territory (0 when unknown). */
int roved_store_scope_left_at(roved_db *db, const char *user_id, const roved_rowinfo *info,
                              int64_t now, int64_t *at);

typedef int (*roved_evict_cb)(char kind, const char *id, const char *reason, void *payload);
/* Streams the pending evictions of a device. */
int roved_store_scope_evictions(roved_db *db, const char *device_id, roved_evict_cb cb,
                                void *payload);
/* With cb NULL: counts (into *count_out) the rows of table ti to send again
 * for ids that entered the device's scope after cursor; else streams them. */
int roved_store_scope_catchup(roved_db *db, const char *device_id, unsigned role, size_t ti,
                              int64_t cursor, const int *cols, size_t ncols, roved_row_cb cb,
                              void *payload, size_t *count_out);

/* A pushed change held for a person's decision. */
typedef struct roved_quarantine {
    int64_t at;
    const char *device_id, *user_id, *table, *row_id;
    const char *change_id;
    size_t change_id_len;
    const char *op;
    int64_t client_hlc;
    const char *payload_json; /* the change's columns and values */
    const char *reason_code;  /* wire error name */
    const char *reason;
    int64_t base_version; /* the version the device based the change on */
    /* Reads only: "pending", "applied" or "discarded", who decided, when, and
     * the outcome (applied: the receipt status name; discarded: the reason). */
    const char *status;
    const char *decided_by;
    int64_t decided_at;
    const char *outcome;
} roved_quarantine;

int roved_store_quarantine_put(roved_db *db, const roved_quarantine *q);
int roved_store_quarantine_count(roved_db *db, int64_t *out);

/* The id of the territory whose id or name is key; ROVE_ENOTFOUND. */
int roved_store_territory_find(roved_db *db, const char *key, char id_out[27]);

/* Territories and memberships, for server commands. */
int roved_store_territory_exists(roved_db *db, const char *id); /* 0 or ROVE_ENOTFOUND */

typedef struct roved_member {
    char user_id[27];
    char username[64];
    char role[16];
    int64_t valid_from;
    int64_t valid_to; /* 0: open-ended */
} roved_member;

typedef int (*roved_member_cb)(const roved_member *m, void *payload);
int roved_store_member_list(roved_db *db, const char *territory_id, roved_member_cb cb,
                            void *payload);
/* Ends user's memberships of territory still valid after at (*changed: how
 * many). */
int roved_store_member_end(roved_db *db, const char *territory_id, const char *user_id,
                           int64_t at, int *changed);

/* *out = 1 when user already has a membership of territory with role that
 * overlaps [from, to) (to 0: open-ended). */
int roved_store_member_overlaps(roved_db *db, const char *territory_id, const char *user_id,
                                const char *role, int64_t from, int64_t to, int *out);

typedef int (*roved_quarantine_cb)(int64_t id, const roved_quarantine *q, void *payload);
/* Streams the pending quarantine entries, oldest first. */
int roved_store_quarantine_list(roved_db *db, roved_quarantine_cb cb, void *payload);
/* Streams entries: one (id > 0), or all (pending_only 0) or the pending ones,
 * oldest first, at most limit. */
int roved_store_quarantine_query(roved_db *db, int64_t id, int pending_only, int64_t limit,
                                 roved_quarantine_cb cb, void *payload);
/* Records the decision on a pending entry (status "applied" or "discarded");
 * ROVE_ENOTFOUND, or ROVE_ESTATE when it was decided already. */
int roved_store_quarantine_decide(roved_db *db, int64_t id, const char *status, const char *by,
                                  int64_t at, const char *outcome);

/* ---- domain: open service tasks of an account --------------------------- */

typedef struct roved_open_task {
    char id[27];
    char priority[16];
    int64_t reported_at;
} roved_open_task;

typedef int (*roved_open_task_cb)(const roved_open_task *t, void *payload);
/* Streams the account's service tasks that are not resolved, closed,
 * cancelled or deleted. */
int roved_store_open_tasks(roved_db *db, const char *account_id, roved_open_task_cb cb,
                           void *payload);

/* Technicians who can take work at `at` (active, not absent), with skills
 * and their number of open tasks. */
typedef struct roved_tech {
    char id[27];
    char username[64];
    char skills[256];
    int64_t open_tasks;
} roved_tech;

typedef int (*roved_tech_cb)(const roved_tech *t, void *payload);
int roved_store_technicians(roved_db *db, int64_t at, roved_tech_cb cb, void *payload);

/* Absences (leave, sickness): a user absent then gets no new work. */
int roved_store_absence_add(roved_db *db, const char *user_id, int64_t from, int64_t to,
                            const char *reason);
typedef int (*roved_absence_cb)(const char *username, int64_t from, int64_t to,
                                const char *reason, void *payload);
int roved_store_absence_list(roved_db *db, roved_absence_cb cb, void *payload);

/* Open service tasks waiting in the dispatcher queue (nobody assigned). */
int roved_store_task_queue(roved_db *db, roved_open_task_cb cb, void *payload);

/* ---- statistics ------------------------------------------------------- */

typedef struct roved_stats {
    int64_t users;
    int64_t devices;
    int64_t receipts;
    int64_t audit;
    int64_t version;
} roved_stats;

int roved_store_stats(roved_db *db, roved_stats *out);

/* ---- transfers (docs/delegation-transfer.md) --------------------------- */

typedef struct roved_transfer {
    char id[27];
    char leaver_id[27]; /* "" for a territory realignment */
    char reason[16];    /* "resignation" or "realignment" */
    char status[16];    /* "planned", "running", "done" */
    char created_by[27];
    int64_t created_at, started_at, finished_at;
    int batch_size;
    char *plan_json; /* the lines as given (malloc'd on reads; free it) */
} roved_transfer;

int roved_store_transfer_create(roved_db *db, const roved_transfer *t);
/* ROVE_ENOTFOUND when there is no such transfer; out->plan_json malloc'd. */
int roved_store_transfer_get(roved_db *db, const char *id, roved_transfer *out);
typedef int (*roved_transfer_cb)(const roved_transfer *t, void *payload);
int roved_store_transfer_list(roved_db *db, roved_transfer_cb cb, void *payload);
int roved_store_transfer_set_status(roved_db *db, const char *id, const char *status,
                                    int64_t at);
/* The transfer's open plan for the leaver, if any (*found). */
int roved_store_transfer_open_for(roved_db *db, const char *leaver_id, char id_out[27],
                                  int *found);

/* One account of a plan and where it goes. */
int roved_store_transfer_item_add(roved_db *db, const char *transfer_id, const char *account_id,
                                  const char *to_user_id, int line);
typedef struct roved_transfer_item {
    char account_id[27];
    char to_user_id[27];
    int line;
    int done;
} roved_transfer_item;
typedef int (*roved_transfer_item_cb)(const roved_transfer_item *it, void *payload);
/* Items of a transfer in plan order; pending_only: those not done; limit. */
int roved_store_transfer_items(roved_db *db, const char *transfer_id, int pending_only,
                               int64_t limit, roved_transfer_item_cb cb, void *payload);
int roved_store_transfer_item_done(roved_db *db, const char *transfer_id,
                                   const char *account_id, int64_t at);

/* Accounts (not deleted) matching every given filter, in id order:
 * owner_id, territory_id, tier (each may be NULL). */
typedef int (*roved_id_cb)(const char *id, void *payload);
int roved_store_accounts_matching(roved_db *db, const char *owner_id, const char *territory_id,
                                  const char *tier, roved_id_cb cb, void *payload);
/* A user's open workload: owned accounts plus open visits planned for them. */
int roved_store_workload(roved_db *db, const char *user_id, int64_t *out);
/* Counts for a preview: contacts of the account, its open visits, its
 * closed visits, its open service tasks. */
typedef struct roved_account_counts {
    int64_t contacts, open_visits, closed_visits, open_tasks;
} roved_account_counts;
int roved_store_account_counts(roved_db *db, const char *account_id, roved_account_counts *out);
/* Open visits (planned, needs_replan) of the account, as ids. */
int roved_store_open_visits(roved_db *db, const char *account_id, roved_id_cb cb,
                            void *payload);
/* 1 in *out when user has another open visit overlapping [start, end). */
int roved_store_visit_clash(roved_db *db, const char *user_id, const char *visit_id,
                            int64_t start, int64_t end, int *out);
/* Open service tasks assigned to user_id, as ids. */
int roved_store_tasks_assigned(roved_db *db, const char *user_id, roved_id_cb cb,
                               void *payload);
/* What still references user_id as a live owner or assignee: accounts owned,
 * open visits planned for them, open tasks assigned to them. */
int roved_store_user_references(roved_db *db, const char *user_id, int64_t *accounts,
                                int64_t *visits, int64_t *tasks);

/* The distinct (previous owner, territory) pairs a transfer moved accounts
 * from, with how many accounts that owner still has in that territory. */
typedef int (*roved_source_cb)(const char *owner_id, const char *territory_id,
                               int64_t still_owned, void *payload);
int roved_store_transfer_sources(roved_db *db, const char *transfer_id, roved_source_cb cb,
                                 void *payload);

/* The account's owner history: one row per change of owner or territory. */
int roved_store_owner_history_put(roved_db *db, const char *account_id, const char *from_owner,
                                  const char *to_owner, const char *from_territory,
                                  const char *to_territory, int64_t at, const char *transfer_id,
                                  const char *reason, const char *actor_id);

/* ---- delegations (docs/delegation-transfer.md) ------------------------- */

typedef struct roved_delegation {
    char id[27];
    char delegator_id[27];
    char status[16]; /* stored: "planned", "revoked" or "ended" */
    int64_t starts_at, ends_at, grace_ms;
    char visit_policy[16]; /* "cover", "reschedule" or "cancel" */
    char created_by[27];
    int64_t created_at;
    int activated, closed; /* the start and end steps have run */
    char reason[200];
} roved_delegation;

typedef struct roved_grant {
    char delegation_id[27];
    char delegate_id[27];
    char scope[16];        /* "all", "territory" or "accounts" */
    char territory_id[27]; /* scope "territory" */
    char actions[128];     /* comma list: visits, accounts, tasks */
} roved_grant;

int roved_store_delegation_put(roved_db *db, const roved_delegation *d);
int roved_store_grant_put(roved_db *db, const roved_grant *g);
int roved_store_grant_account_put(roved_db *db, const char *delegation_id,
                                  const char *delegate_id, const char *account_id);
int roved_store_delegation_get(roved_db *db, const char *id, roved_delegation *out);
typedef int (*roved_delegation_cb)(const roved_delegation *d, void *payload);
/* Delegations of delegator_id (NULL: all), newest first. */
int roved_store_delegation_list(roved_db *db, const char *delegator_id, roved_delegation_cb cb,
                                void *payload);
typedef int (*roved_grant_cb)(const roved_grant *g, void *payload);
int roved_store_grant_list(roved_db *db, const char *delegation_id, roved_grant_cb cb,
                           void *payload);
/* Ends a planned delegation at `at` (status "ended" or "revoked"). */
int roved_store_delegation_stop(roved_db *db, const char *id, const char *status, int64_t at);
int roved_store_delegation_mark(roved_db *db, const char *id, int activated, int closed);
/* Planned delegations whose start step (activate) or end step is due at now. */
int roved_store_delegations_due(roved_db *db, int64_t now, int ending, roved_delegation_cb cb,
                                void *payload);
/* *out = 1 when a planned, not ended delegation of delegator_id overlaps
 * [from, to) (a second leave over the same days). */
int roved_store_delegation_overlaps(roved_db *db, const char *delegator_id, int64_t from,
                                    int64_t to, int *out);
/* *out = 1 when user_id is a delegator of a planned delegation overlapping
 * [from, to) (away themselves: cannot be a delegate). */
int roved_store_user_delegating(roved_db *db, const char *user_id, int64_t from, int64_t to,
                                int *out);
/* The delegation (planned or stopped) under which delegate_id covers
 * account_id at time `at` (between its start and end; at 0: the one ending
 * last, whatever the time), with the grant's actions; ROVE_ENOTFOUND when
 * none. */
int roved_store_delegation_covering(roved_db *db, const char *delegate_id,
                                    const char *account_id, int64_t at, roved_delegation *d,
                                    roved_grant *g);
/* Accounts a grant covers (the delegator's accounts in its scope). */
int roved_store_grant_accounts(roved_db *db, const roved_delegation *d, const roved_grant *g,
                               roved_id_cb cb, void *payload);
/* Open visits of account planned for user whose start is in [from, to). */
int roved_store_visits_in_window(roved_db *db, const char *account_id, const char *user_id,
                                 int64_t from, int64_t to, roved_id_cb cb, void *payload);
/* Open tasks whose original assignee is user and assignee is delegate (ids). */
int roved_store_tasks_covered(roved_db *db, const char *user_id, const char *delegate_id,
                              roved_id_cb cb, void *payload);
/* Open visits on behalf of user planned for delegate (ids). */
int roved_store_visits_covered(roved_db *db, const char *user_id, const char *delegate_id,
                               roved_id_cb cb, void *payload);

/* Ends user's absences with reason at `at` (a leave ended early). */
int roved_store_absence_cut(roved_db *db, const char *user_id, const char *reason, int64_t at);

/* The "while you were away" digest of delegator over [from, to) at now. */
typedef enum roved_digest_kind {
    ROVED_DIGEST_VISITS_DONE,
    ROVED_DIGEST_TASKS_RESOLVED,
    ROVED_DIGEST_NEW_ACCOUNTS,
    ROVED_DIGEST_NEW_CONTACTS,
    ROVED_DIGEST_STAGE_CHANGES,
    ROVED_DIGEST_OPEN_VISITS,
    ROVED_DIGEST_OPEN_TASKS,
    ROVED_DIGEST_QUARANTINED,
    ROVED_DIGEST_SLA_BREACHES,
    ROVED_DIGEST_NKINDS
} roved_digest_kind;
/* One item: the record, when, who (user id), and a short detail. */
typedef int (*roved_digest_cb)(const char *table, const char *row_id, int64_t at,
                               const char *who, const char *detail, void *payload);
int roved_store_digest(roved_db *db, roved_digest_kind kind, const char *delegator_id,
                       int64_t from, int64_t to, int64_t now, roved_digest_cb cb,
                       void *payload);

/* *out = 1 when user_id has an absence overlapping [from, to). */
int roved_store_absent_during(roved_db *db, const char *user_id, int64_t from, int64_t to,
                              int *out);
/* *out = 1 when user_id is a delegate of a planned delegation overlapping
 * [from, to). */
int roved_store_user_covering(roved_db *db, const char *user_id, int64_t from, int64_t to,
                              int *out);

/* Delegations user_id is a delegate of (any state), newest first. */
int roved_store_delegations_of_delegate(roved_db *db, const char *user_id,
                                        roved_delegation_cb cb, void *payload);

/* The delegate covering delegator_id now (an active delegation with one
 * delegate of scope all: a technician's); ROVE_ENOTFOUND when none. */
int roved_store_active_delegate(roved_db *db, const char *delegator_id, int64_t now,
                                char delegate_out[27]);

/* The audit events of one record, oldest first (at most limit); fields of
 * the event are borrowed for the call. */
typedef int (*roved_audit_cb)(int64_t id, const roved_audit *a, void *payload);
int roved_store_audit_list(roved_db *db, const char *table, const char *row_id, int64_t limit,
                           roved_audit_cb cb, void *payload);

#endif
