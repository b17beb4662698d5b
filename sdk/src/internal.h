#ifndef ROVE_SDK_INTERNAL_H
#define ROVE_SDK_INTERNAL_H

/*
 * Internals of librove shared by the files in sdk/src. Nothing here is API.
 * Functions named rove__<module>_<verb> cross files; statics stay unprefixed.
 */

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "hlc.h"
#include "proto.h"
#include "schema.h"

#include "rove/client.h"
#include "rove/domain.h"
#include "rove/records.h"

#define ROVE_TRY(expr)                                                                         \
    do {                                                                                       \
        int rove__try_rc = (expr);                                                             \
        if (rove__try_rc < 0)                                                                  \
            return rove__try_rc;                                                               \
    } while (0)

/* ---- platform.c: the only file with OS-specific calls ------------------- */

/* Wall clock, milliseconds since the Unix epoch (UTC). */
int64_t rove__platform_now_ms(void);
/* Monotonic clock in milliseconds, for durations only. */
int64_t rove__platform_mono_ms(void);
/* Bounds [start, end) in epoch ms of the local calendar day containing t_ms. */
void rove__platform_local_day(int64_t t_ms, int64_t *start, int64_t *end);
/* Zeroes memory in a way the compiler may not optimise away. */
void rove__platform_zero(void *p, size_t n);

/* ---- crypto.c: Mbed TLS randomness and hashing ------------------------- */

typedef struct rove__rng rove__rng;
int rove__rng_new(rove__rng **out, const char *personal);
void rove__rng_free(rove__rng *r);
int rove__rng_bytes(rove__rng *r, unsigned char *out, size_t n);
/* Writes a fresh ULID (ROVE_ID_SIZE bytes with the NUL). */
int rove__rng_ulid(rove__rng *r, char *out, int64_t now_ms);
/* SHA-256 of p[0..n) into out[32]. */
int rove__sha256(const void *p, size_t n, unsigned char out[32]);

/* ---- transport.c: HTTPS with libcurl ----------------------------------- */

typedef struct rove__transport rove__transport;

typedef struct rove__transport_opts {
    const char *ca_file;
    const char *pinned_pubkey;
    long timeout_ms;
} rove__transport_opts;

typedef struct rove__http_result {
    long status;
    char error_name[64];     /* X-Rove-Error, or "" */
    char error_message[256]; /* X-Rove-Error-Message, or "" */
} rove__http_result;

int rove__transport_new(rove__transport **out, const rove__transport_opts *o);
void rove__transport_free(rove__transport *t);
/*
 * POSTs body to url (already zlib-compressed CBOR). token may be NULL. The raw
 * response body is appended to resp (capped at ROVE__MAX_INFLATED). Returns 0
 * when an HTTP response arrived (any status, see res->status), or ROVE_ENET,
 * ROVE_ETLS, ROVE_EPIN, ROVE_ETOOBIG, ROVE_ENOMEM, ROVE_EINVAL with a message
 * written to errbuf.
 */
int rove__transport_post(rove__transport *t, const char *url, const char *token,
                         const void *body, size_t len, rove__buf *resp, rove__http_result *res,
                         char *errbuf, size_t errsize);
/* Maps a non-200 result to a ROVE_E* code. */
int rove__transport_status_error(const rove__http_result *res);

/* ---- client ------------------------------------------------------------ */

/*
 * Test-only (tests/sim): a function that replaces the HTTP transport. Called
 * by rove__client_post with what it would send (path such as "/v1/sync",
 * token or NULL, the compressed body) and answers like rove__transport_post:
 * appends the raw (compressed) answer to resp, fills res and returns 0, or
 * returns ROVE_ENET to play a lost request or answer.
 */
typedef int (*rove__post_hook)(void *ud, const char *path, const char *token, const void *body,
                               size_t len, rove__buf *resp, rove__http_result *res);

/* Cached upsert statement for pulled rows of one table. */
typedef struct rove__upsert {
    sqlite3_stmt *stmt;
    int cols[ROVE__MAX_COLS]; /* wire column -> schema column (-1 skipped) */
    size_t ncols;
} rove__upsert;

#define ROVE__NTABLES 8 /* at least the number of schema tables (checked at open) */

struct rove_client {
    sqlite3 *db; /* read-write connection */
    sqlite3 *ro; /* read-only connection for rove_client_query; opened lazily */
    char *db_path;
    char *server_url;
    char *ca_file;
    char *pinned_pubkey;
    char *device_name;
    long timeout_ms;
    unsigned int page_size;
    unsigned int push_batch;

    char device_id[ROVE_ID_SIZE];
    char *token; /* secret: zeroed before free */
    char *user_id;
    char *user_name;
    char *user_login;
    char *role;
    int64_t cursor;
    rove__hlc hlc;

    rove__rng *rng;
    rove__transport *transport;
    rove__post_hook post_hook; /* tests only; NULL: the transport */
    void *post_hook_ud;

    rove_progress_cb progress_cb;
    void *progress_payload;
    rove_receipt_cb receipt_cb;
    void *receipt_payload;
    rove_evict_cb evict_cb;
    void *evict_payload;
    rove_conflict_cb conflict_cb;
    void *conflict_payload;

    /* Statements reused on the hot paths. */
    sqlite3_stmt *st_outbox_add;
    sqlite3_stmt *st_meta_set;
    sqlite3_stmt *st_outbox_for_row;
    rove__upsert upsert[ROVE__NTABLES];

    /* Network buffers reused across the round trips of one sync (a fresh
     * multi-megabyte allocation per page costs page faults and zeroing). */
    rove__buf tx_body;
    rove__buf rx_raw;

    /* Borrowed strings handed out by the last call. */
    char *scratch;

    int last_error;
    char errmsg[512];
};

/* Sets the handle's error detail and returns code. */
int rove__client_error(rove_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As rove__client_error, with the SQLite message of db appended; maps the
 * SQLite result to a ROVE_E* code (ESTORE, ECORRUPT, EBUSY, ENOMEM). */
int rove__client_sqlerr(rove_client *c, sqlite3 *db, int sqlite_rc, const char *what);
void rove__client_clear_error(rove_client *c);
/* Copies s into the handle's scratch string and returns it (borrowed). */
const char *rove__client_scratch(rove_client *c, const char *s);

/* Takes token (malloc'd; NULL: keep the current one) as c's bearer token,
 * and frees discard (may be NULL); both secrets are zeroed before free. */
void rove__client_set_token(rove_client *c, char *token, char *discard);

/* Test-only: routes every request of c through fn (NULL: the transport). */
void rove__client_set_post_hook(rove_client *c, rove__post_hook fn, void *ud);

/* POSTs the CBOR in cbor (compressed here) to server_url + path and inflates
 * the 200 answer into out; any other status becomes the mapped ROVE_E*. */
int rove__client_post(rove_client *c, const char *path, const rove__buf *cbor, rove__buf *out,
                      int with_token);

/* ---- replica.c --------------------------------------------------------- */

int rove__replica_open(rove_client *c, char *err, size_t errsize);
void rove__replica_close(rove_client *c);
int rove__replica_exec(rove_client *c, const char *sql);
int rove__replica_begin(rove_client *c);
int rove__replica_commit(rove_client *c);
void rove__replica_rollback(rove_client *c);
int rove__meta_set_text(rove_client *c, const char *key, const char *v);
int rove__meta_set_int(rove_client *c, const char *key, int64_t v);
/* The read-only connection; opened on first use. */
int rove__replica_ro(rove_client *c, sqlite3 **out);
/* Binds a wire value to parameter i of st (text is SQLITE_TRANSIENT when copy). */
int rove__bind_value(sqlite3_stmt *st, int i, const rove__value *v, int copy);

/* ---- records.c --------------------------------------------------------- */

/* One local change, as stored in the outbox. before (may be NULL) is the
 * before-image: a CBOR map of the columns' values before the change (for a
 * delete, the whole row), used to undo a change the server refuses. */
int rove__outbox_add(rove_client *c, const rove__table *t, rove__op op, const char *id,
                     int64_t base_version, int64_t hlc, const int *cols,
                     const rove__value *vals, size_t n, const rove__buf *before);
/* Undoes a refused change from its before-image (op as stored). */
int rove__outbox_undo(rove_client *c, const rove__table *t, const char *id, int op,
                      const void *before, size_t len);
/* Decodes an outbox payload (CBOR map col -> value) into ch->col/val.
 * Text values borrow from p. */
int rove__payload_decode(const rove__table *t, const void *p, size_t len, rove__change *ch);
/* A refused change's before-image (older) is folded into that of the next
 * pending change of the same row, so undoing that one later restores the
 * state before both. */
int rove__outbox_carry_before(rove_client *c, const rove__table *t, const char *id,
                              const void *before, size_t len);
/* Re-applies the pending outbox changes for one row over the replica row. */
int rove__outbox_reapply(rove_client *c, const rove__table *t, const char *id);
/* Writes columns of the record (by schema index) as an update within the
 * caller's transaction; used by the typed helpers. */
int rove__record_update_in_tx(rove_client *c, rove_record *r);
int rove__record_insert_in_tx(rove_client *c, rove_record *r);
/* Internal setter that bypasses the server-owned check (loading rows). */
const rove__table *rove__record_schema(const rove_record *r);

/* ---- query.c ----------------------------------------------------------- */

/* Runs trusted internal SQL (already known to be read-only) as a rove_rows. */
int rove__rows_open(rove_client *c, rove_rows **out, const char *sql, const char *const *params,
                    size_t nparams, const int64_t *iparams, size_t niparams,
                    int check_readonly);

/* ---- lease.c ----------------------------------------------------------- */

/* Fetches and stores the delegation leases when the server's digest gen
 * differs from the stored one (0: drop them). */
int rove__lease_refresh(rove_client *c, int64_t gen);
/* 0 when a local write (op ROVE__OP_*) to a record of t under account_id is
 * allowed by the device's leases (accounts without a lease: always). */
int rove__lease_check(rove_client *c, const rove__table *t, const char *account_id, int op);

#endif
