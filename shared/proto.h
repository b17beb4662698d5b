#ifndef ROVE_SHARED_PROTO_H
#define ROVE_SHARED_PROTO_H

/*
 * Sync protocol messages (docs/protocol.md): encoders and validating decoders
 * shared by roved and librove. Bodies on the wire are zlib(CBOR). The functions
 * here work on the decompressed CBOR; compress.h does the framing.
 *
 * Decoders never trust the input: every table, column, id, type and count is
 * checked against the schema before anything is handed to the caller, and on
 * any error nothing is reported as decoded (the caller applies nothing).
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "schema.h"

#define ROVE__PROTO_VERSION 1

/* Limits enforced by both sides. */
#define ROVE__MAX_BODY (8u * 1024u * 1024u)      /* compressed request body */
#define ROVE__MAX_INFLATED (64u * 1024u * 1024u) /* decompressed message */
#define ROVE__MAX_CHANGES 1000u                  /* changes per push */
#define ROVE__MAX_TEXT (64u * 1024u)             /* one text value */
#define ROVE__MAX_PAGE 10000u                    /* rows per pulled page */

typedef enum rove__op {
    ROVE__OP_INSERT = 1,
    ROVE__OP_UPDATE = 2,
    ROVE__OP_DELETE = 3
} rove__op;

typedef enum rove__receipt_status {
    ROVE__RC_APPLIED = 0,     /* stored as sent */
    ROVE__RC_MERGED = 1,      /* stored, merged with concurrent changes */
    ROVE__RC_REJECTED = 2,    /* not stored; code and message say why */
    ROVE__RC_QUARANTINED = 3, /* held for a person's decision */
    ROVE__RC_OVERRIDDEN = 4   /* lost a conflict; kept in the conflict log */
} rove__receipt_status;

/* One column value. Text is borrowed (not NUL-terminated) from the message. */
typedef struct rove__value {
    rove__coltype type; /* ROVE__T_NULL, _INT, _REAL or _TEXT */
    int64_t i;
    double d;
    const char *s;
    size_t len;
} rove__value;

/* Detail of a decode error: the ROVE_E* code and a message for humans. */
typedef struct rove__errinfo {
    int code;
    char msg[200];
} rove__errinfo;

/* Sets e (if not NULL) and returns code. */
int rove__err(rove__errinfo *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- sync request (device -> server) ---------------------------------- */

typedef struct rove__change {
    const char *change_id; /* ULID, unique per device; borrowed */
    size_t change_id_len;
    const rove__table *table;
    rove__op op;
    char id[27];          /* the record id, NUL-terminated */
    int64_t base_version; /* server version the device last saw (0 = none) */
    int64_t hlc;          /* device HLC when the change was made */
    size_t ncols;
    int col[ROVE__MAX_COLS]; /* schema column index per value */
    rove__value val[ROVE__MAX_COLS];
} rove__change;

typedef struct rove__sync_req {
    int64_t version; /* protocol version, must be ROVE__PROTO_VERSION */
    int64_t cursor;  /* last cursor the device committed (0 = bootstrap) */
    int64_t limit;   /* rows wanted in this page (server caps it) */
    int64_t hlc;     /* device HLC at send time */
    size_t nchanges;
    rove__change *changes; /* owned; free with rove__sync_req_free */
} rove__sync_req;

/*
 * Encoder, used by the SDK: call begin with the number of changes, then
 * rove__sync_req_add once per change, in order.
 */
void rove__sync_req_begin(rove__buf *b, int64_t cursor, int64_t limit, int64_t hlc,
                          size_t nchanges);
void rove__sync_req_add(rove__buf *b, const rove__change *c);

/*
 * Decodes and validates a whole request. Checks: protocol version (else
 * ROVE_EVERSION), structure (ROVE_EPROTO), at most ROVE__MAX_CHANGES changes
 * (ROVE_ETOOBIG), known tables (ROVE_EUNKNOWNTABLE) and columns
 * (ROVE_EUNKNOWNCOLUMN), system columns never pushed (ROVE_EFORBIDDEN), valid
 * ULIDs for record and change ids (ROVE_EBADID), value types matching column
 * types, enum values and text sizes (ROVE_EBADVALUE), no duplicate columns.
 * Server-owned columns are NOT refused here: the server answers those with a
 * per-change rejected receipt. Values borrow from buf, which must outlive req.
 */
int rove__sync_req_parse(rove__sync_req *req, const void *buf, size_t len, rove__errinfo *err);
void rove__sync_req_free(rove__sync_req *req);

/* ---- sync response (server -> device) --------------------------------- */

/* A column of a pushed change that lost a conflict, with the value that won
 * and the policy that decided ("lww", "server", "rank", "delete", or a custom
 * resolver's name). */
typedef struct rove__lost {
    int col; /* schema column index */
    rove__value winner;
    const char *policy;
    size_t policy_len;
} rove__lost;

typedef struct rove__receipt {
    const char *change_id;
    size_t change_id_len;
    rove__receipt_status status;
    const char *code; /* wire error name (rove_error_name) or NULL */
    size_t code_len;
    const char *message; /* human text or NULL */
    size_t message_len;
    int64_t version; /* server version of the record after the change, or 0 */
    /* Encoder: the lost columns, pre-encoded with rove__lost_begin/add (NULL
     * when none). Decoder: lost_table and lost[0..nlost) (columns this build
     * does not know are left out). */
    const void *lost_cbor;
    size_t lost_cbor_len;
    const rove__table *lost_table;
    size_t nlost;
    rove__lost lost[ROVE__MAX_COLS];
} rove__receipt;

/* Builds a receipt's lost-column list: begin with the record's table and the
 * number of entries, then one add per lost column. */
void rove__lost_begin(rove__buf *b, const rove__table *t, size_t n);
void rove__lost_add(rove__buf *b, const rove__column *c, const rove__value *winner,
                    const char *policy);

typedef struct rove__sync_resp_hdr {
    int64_t version;
    int64_t cursor;      /* commit this after applying the page */
    int more;            /* 1 when another page is waiting */
    int64_t server_time; /* ms */
    int64_t hlc;         /* server HLC */
    /* Nonzero when the device is revoked and draining: until this time (ms)
     * it may push its outbox but receives no data (docs/protocol.md). */
    int64_t revoked_until;
    /* Digest of the device's delegation leases (0: none); on a change the
     * device fetches them (POST /v1/leases). */
    int64_t lease_gen;
    /* A fresh device token replacing the one the request carried (64 hex
     * digits, not NUL-terminated when decoded), or NULL. */
    const char *token;
    size_t token_len;
} rove__sync_resp_hdr;

/*
 * Encoder, used by the server. Order: begin (receipt count), receipts,
 * tables_begin (table count), for each table: table_begin then nrows rows of
 * exactly ncols values each (row_begin then rove__sync_resp_value per value),
 * evictions_begin (always, n may be 0) + n evictions, then finish. The encoder
 * writes the map keys; the caller supplies exact counts.
 */
void rove__sync_resp_begin(rove__buf *b, size_t nreceipts);
void rove__sync_resp_receipt(rove__buf *b, const rove__receipt *r);
void rove__sync_resp_tables_begin(rove__buf *b, size_t ntables);
void rove__sync_resp_table_begin(rove__buf *b, const rove__table *t, const int *cols,
                                 size_t ncols, size_t nrows);
void rove__sync_resp_row_begin(rove__buf *b, size_t ncols);
void rove__sync_resp_value(rove__buf *b, const rove__value *v);
void rove__sync_resp_evictions_begin(rove__buf *b, size_t n);
void rove__sync_resp_eviction(rove__buf *b, const rove__table *t, const char *id,
                              const char *reason);
void rove__sync_resp_finish(rove__buf *b, const rove__sync_resp_hdr *h);

/*
 * Streaming decoder, used by the SDK. Callbacks run in message order; a
 * nonzero return aborts the parse with that value. `cols` maps each wire
 * column to a schema column index (-1 for a column this build does not know,
 * whose values are skipped: forward compatibility). The header is filled when
 * the parse returns 0. Rows are validated like pushed values. The caller must
 * apply everything inside one transaction and roll back on any error.
 */
typedef struct rove__sync_resp_handler {
    int (*receipt)(const rove__receipt *r, void *payload);
    int (*table)(const rove__table *t, const int *cols, size_t ncols, void *payload);
    int (*row)(const rove__table *t, const int *cols, const rove__value *vals, size_t ncols,
               void *payload);
    int (*evict)(const rove__table *t, const char *id, const char *reason, size_t reason_len,
                 void *payload);
} rove__sync_resp_handler;

int rove__sync_resp_parse(const void *buf, size_t len, const rove__sync_resp_handler *h,
                          void *payload, rove__sync_resp_hdr *hdr, rove__errinfo *err);

/* ---- small flat maps: login and other control messages ---------------- */

/*
 * A flat map has text keys and scalar values (int, real, text, bool, null).
 * rove__flat_parse fills out[i] for each key keys[i] found (kind ROVE__T_NULL
 * with present[i] = 0 when absent). Unknown keys are skipped. Containers as
 * values are refused (ROVE_EPROTO).
 */
typedef struct rove__flat_field {
    const char *key;
    int present;
    rove__value v;
} rove__flat_field;

int rove__flat_parse(const void *buf, size_t len, rove__flat_field *fields, size_t nfields,
                     rove__errinfo *err);
/* Copies a present text field into dst (size bytes, NUL-terminated);
 * ROVE_EPROTO when absent or not text, ROVE_ETOOBIG when it does not fit. */
int rove__flat_text(const rove__flat_field *f, char *dst, size_t size);

#endif
