#ifndef ROVE_CLIENT_H
#define ROVE_CLIENT_H

/*
 * The client: an on-device replica, its outbox, and the sync engine.
 *
 * Thread model: a rove_client is not thread-safe. Use one client per thread,
 * or serialise calls on one client. Different clients (even on the same
 * replica file) may be used from different threads. Callbacks run on the
 * thread that called rove_client_sync().
 *
 * Errors: every fallible function returns 0 or a negative ROVE_E* code (see
 * rove/errors.h); rove_client_errmsg() then gives a message for that failure,
 * valid until the next call on the same client.
 */

#include "rove/common.h"
#include "rove/errors.h"

ROVE_BEGIN_DECLS

typedef struct rove_client rove_client;

/* Optional global setup; call once before any other function, from one thread.
 * Initialises libcurl. rove_global_cleanup() undoes it. 0 or ROVE_ENOMEM. */
ROVE_EXTERN(int) rove_global_init(void);
ROVE_EXTERN(void) rove_global_cleanup(void);

/* The version of the library actually loaded ("x.y.z"), to compare with
 * ROVE_VERSION_STRING from the headers an app was built with. Static string. */
ROVE_EXTERN(const char *) rove_version(void);

#define ROVE_CLIENT_OPTIONS_VERSION 1

typedef struct rove_client_options {
    unsigned int version; /* ROVE_CLIENT_OPTIONS_VERSION */
    const char *db_path;  /* replica file; created when missing (required) */
    /* server_url, ca_file and pinned_pubkey are remembered in the replica; NULL
     * means "as remembered" (ca_file: the system CA store if never given). */
    const char *server_url;    /* e.g. "https://localhost:8443" (may be NULL offline) */
    const char *ca_file;       /* PEM CA bundle to verify the server; NULL: system */
    const char *pinned_pubkey; /* "sha256//<base64>" list separated by ';', or NULL */
    const char *device_name;   /* shown to admins; NULL: "librove" */
    long timeout_ms;           /* per request; 0: 30000 */
    unsigned int page_size;    /* rows per pulled page; 0: 5000 (server caps it) */
    unsigned int push_batch;   /* changes per request; 0: 500 */
} rove_client_options;

#define ROVE_CLIENT_OPTIONS_INIT                                                               \
    {                                                                                          \
        ROVE_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, 0                     \
    }

/*
 * Opens (creating if needed) the replica at opts->db_path. *out is set to a new
 * client that the caller frees with rove_client_free(). Works with no network.
 * Returns 0, ROVE_EINVAL, ROVE_EVERSION (unknown opts->version), ROVE_ESTORE,
 * ROVE_ECORRUPT or ROVE_ENOMEM. On failure *out is NULL; the detail of an
 * open failure is available from rove_last_open_error().
 */
ROVE_EXTERN(int) rove_client_open(rove_client **out, const rove_client_options *opts);
ROVE_EXTERN(void) rove_client_free(rove_client *c);
/* Message for the last failed call on c. Borrowed; never NULL. */
ROVE_EXTERN(const char *) rove_client_errmsg(const rove_client *c);
/* Message of the last failed rove_client_open() on this thread. */
ROVE_EXTERN(const char *) rove_last_open_error(void);

/*
 * Logs in as user on this device (network). On success the device token is
 * stored in the replica, so later opens stay logged in. Logging in as a
 * different user than the replica's previous user is refused with
 * ROVE_EFORBIDDEN (wipe the replica first). Returns 0, ROVE_EAUTH, ROVE_ENET,
 * ROVE_ETLS, ROVE_EPIN, ROVE_EFORBIDDEN, ROVE_ESERVER, ...
 */
ROVE_EXTERN(int) rove_client_login(rove_client *c, const char *user, const char *password);
/* 1 when the replica holds a device token. */
ROVE_EXTERN(int) rove_client_logged_in(const rove_client *c);
/* Borrowed ids/names of the logged-in user, or NULL. */
ROVE_EXTERN(const char *) rove_client_user_id(const rove_client *c);
ROVE_EXTERN(const char *) rove_client_user_name(const rove_client *c);
ROVE_EXTERN(const char *) rove_client_role(const rove_client *c);
ROVE_EXTERN(const char *) rove_client_device_id(const rove_client *c);
/* The committed sync cursor (0 before the first sync). */
ROVE_EXTERN(int64_t) rove_client_cursor(const rove_client *c);

/*
 * Wipes the replica: every synced row, the outbox (unsent changes are LOST),
 * the receipts, the device token and user, and the cursor. The replica gets a
 * new device id, so the next login registers a new device. Use it when the
 * server answers ROVE_EREVOKED, or before another user logs in on this
 * replica. Returns 0, ROVE_ESTORE or ROVE_EBUSY.
 */
ROVE_EXTERN(int) rove_client_wipe(rove_client *c);

/* ---- sync -------------------------------------------------------------- */

typedef enum rove_receipt_status {
    ROVE_RECEIPT_APPLIED = 0,
    ROVE_RECEIPT_MERGED = 1,
    ROVE_RECEIPT_REJECTED = 2,
    ROVE_RECEIPT_QUARANTINED = 3,
    ROVE_RECEIPT_OVERRIDDEN = 4
} rove_receipt_status;

/* A receipt for one pushed change. Strings are borrowed for the callback. */
typedef struct rove_receipt {
    const char *change_id;
    const char *table;
    const char *record_id;
    rove_receipt_status status;
    int error;           /* ROVE_E* code when rejected/quarantined, else 0 */
    const char *message; /* server's reason, or NULL */
    int64_t version;     /* server version after the change, or 0 */
} rove_receipt;

typedef struct rove_progress {
    int phase;        /* ROVE_PHASE_PUSH or ROVE_PHASE_PULL */
    uint64_t pushed;  /* changes pushed so far in this sync */
    uint64_t pulled;  /* rows pulled so far in this sync */
    uint64_t pending; /* changes still in the outbox */
    int64_t cursor;   /* committed cursor */
} rove_progress;

#define ROVE_PHASE_PUSH 1
#define ROVE_PHASE_PULL 2

/* Callbacks: a nonzero return aborts the sync with ROVE_EUSER (work already
 * committed stays committed; nothing is lost). */
typedef int (*rove_progress_cb)(const rove_progress *p, void *payload);
typedef int (*rove_receipt_cb)(const rove_receipt *r, void *payload);
/* Called when a record is removed from the replica because it left scope or
 * was deleted on the server; reason is e.g. "deleted" or "out_of_scope". */
typedef int (*rove_evict_cb)(const char *table, const char *id, const char *reason,
                             void *payload);

/*
 * A value this device pushed that lost a conflict on the server (the server's
 * conflict log has it too; docs/conflicts.md). Values are shown as text (NULL
 * for null); strings are borrowed for the callback.
 */
typedef struct rove_conflict {
    int64_t id;            /* for rove_client_conflict_dismiss() */
    const char *change_id; /* the pushed change */
    const char *table;
    const char *record_id;
    const char *column;
    const char *mine;   /* the value this device wrote */
    const char *theirs; /* the value that won (NULL when the record was deleted) */
    const char *policy; /* "lww", "server", "rank", "append", "delete" or a
                               custom resolver's name */
} rove_conflict;
typedef int (*rove_conflict_cb)(const rove_conflict *cf, void *payload);

ROVE_EXTERN(void) rove_client_on_progress(rove_client *c, rove_progress_cb cb, void *payload);
ROVE_EXTERN(void) rove_client_on_receipt(rove_client *c, rove_receipt_cb cb, void *payload);
ROVE_EXTERN(void) rove_client_on_evict(rove_client *c, rove_evict_cb cb, void *payload);
/* Called once per lost value, after the page that reported it is committed
 * (rove_client_conflicts() lists them later too). */
ROVE_EXTERN(void) rove_client_on_conflict(rove_client *c, rove_conflict_cb cb, void *payload);

typedef struct rove_sync_report {
    uint64_t pushed;      /* changes sent and acknowledged */
    uint64_t applied;     /* receipts applied or merged */
    uint64_t rejected;    /* receipts rejected */
    uint64_t quarantined; /* receipts quarantined */
    uint64_t pulled;      /* rows received */
    uint64_t evicted;     /* rows removed from the replica */
    uint64_t pages;       /* pull pages */
    int64_t cursor;       /* cursor after the sync */
    unsigned int round_trips;
    int wiped; /* 1: the device was revoked and the replica wiped */
} rove_sync_report;

/*
 * Pushes the whole outbox and pulls everything new, page by page. Each page is
 * applied in one transaction together with its receipts and the new cursor, so
 * a crash or network loss at any moment loses nothing and a retry resumes.
 * Local edits still waiting in the outbox stay visible over pulled rows. A
 * change the server rejects or overrides is undone in the replica (from the
 * values it replaced) unless newer local edits to that record are pending; its
 * receipt stays readable (rove_client_record_state(), rove_client_receipts()).
 * A rejected insert keeps its row so the app can show it with the reason.
 * A revoked device inside its drain window uploads its outbox and then gets
 * ROVE_EREVOKED (no data comes down); once the drain is over the server
 * orders a wipe: the replica is wiped (rove_client_wipe(), unsent changes
 * included), the server is told, out->wiped is 1 and ROVE_EREVOKED returned.
 * out may be NULL. Returns 0, ROVE_ENOTLOGGEDIN, ROVE_ENET, ROVE_ETLS, ROVE_EPIN,
 * ROVE_EAUTH, ROVE_EREVOKED, ROVE_ESERVER, ROVE_EPROTO, ROVE_EUSER, or the code
 * the server answered with.
 */
ROVE_EXTERN(int) rove_client_sync(rove_client *c, rove_sync_report *out);

/* Number of changes waiting in the outbox. */
ROVE_EXTERN(int) rove_client_pending(rove_client *c, uint64_t *out);

ROVE_END_DECLS

#endif
