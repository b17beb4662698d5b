#ifndef ROVE_TESTS_INTEGRATION_HARNESS_H
#define ROVE_TESTS_INTEGRATION_HARNESS_H

/*
 * Integration test harness: starts real roved processes on 127.0.0.1 with a
 * fresh temporary data directory, talks to them over TLS (libcurl with the
 * generated CA) for raw, hand-crafted requests, and drives the SDK against
 * them. Also used by the benchmarks in tests/bench.
 *
 * Every server and temporary directory the harness creates is registered and
 * removed by th_cleanup(), which runs at exit and on any failed assertion; the
 * server processes also get SIGKILL if the test process dies (PDEATHSIG), so
 * a ctest timeout does not leave a roved behind. TH_KEEP=1 in the environment
 * keeps the temporary directories for inspection.
 *
 * Thread model: single-threaded; call everything from the main thread.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "buf.h"
#include "proto.h"
#include "rove/rove.h"

/* ---- assertions (they survive NDEBUG) ---------------------------------- */

void th_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define TH_ASSERT(cond)                                                                        \
    do {                                                                                       \
        if (!(cond))                                                                           \
            th_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);                        \
    } while (0)

#define TH_ASSERT_MSG(cond, ...)                                                               \
    do {                                                                                       \
        if (!(cond))                                                                           \
            th_fail(__FILE__, __LINE__, __VA_ARGS__);                                          \
    } while (0)

#define TH_ASSERT_EQ(a, b)                                                                     \
    do {                                                                                       \
        long long th_a_ = (long long)(a), th_b_ = (long long)(b);                              \
        if (th_a_ != th_b_)                                                                    \
            th_fail(__FILE__, __LINE__, "expected %s == %s, got %lld and %lld", #a, #b, th_a_, \
                    th_b_);                                                                    \
    } while (0)

#define TH_ASSERT_STR(a, b)                                                                    \
    do {                                                                                       \
        const char *th_a_ = (a), *th_b_ = (b);                                                 \
        if (th_a_ == NULL || th_b_ == NULL || strcmp(th_a_, th_b_) != 0)                       \
            th_fail(__FILE__, __LINE__, "expected %s == %s, got \"%s\" and \"%s\"", #a, #b,    \
                    th_a_ ? th_a_ : "(null)", th_b_ ? th_b_ : "(null)");                       \
    } while (0)

/* Asserts that an SDK call on client c returned 0 (prints code and detail). */
#define TH_ASSERT_ROVE(c, expr)                                                                \
    do {                                                                                       \
        int th_rc_ = (expr);                                                                   \
        if (th_rc_ != 0)                                                                       \
            th_fail(__FILE__, __LINE__, "%s returned %d %s: %s", #expr, th_rc_,                \
                    rove_error_name(th_rc_), (c) ? rove_client_errmsg(c) : "");                \
    } while (0)

/* Prints a progress line (to stderr, so ctest --output-on-failure shows it). */
void th_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- setup ------------------------------------------------------------- */

/*
 * Parses the harness options out of argv (removing them): --roved PATH (else
 * $ROVED, else the path compiled in as ROVE_ROVED_PATH). Initialises libcurl and
 * librove and registers th_cleanup() with atexit.
 */
void th_init(int *argc, char **argv);
const char *th_roved_path(void);
/* The value of another `--name VALUE` option given before the case name
 * (e.g. th_arg("rove-field")), or NULL. */
const char *th_arg(const char *name);
/* Runs every cleanup: kills servers still running, removes temporary dirs. */
void th_cleanup(void);

/* A new empty temporary directory (removed by th_cleanup). Borrowed string. */
const char *th_tmpdir(const char *tag);
/* Wall clock in ms since the epoch; monotonic clock in seconds. */
int64_t th_now_ms(void);
double th_mono(void);
/* A fresh random ULID into out (27 bytes). */
void th_new_id(char *out);

/* ---- servers ------------------------------------------------------------- */

#define TH_MAX_ARGS 16

typedef struct th_server {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[512];                  /* data dir */
    char ca[600];                   /* DIR/ca.pem */
    char cert[600];                 /* DIR/server.pem */
    char log[600];                  /* stdout+stderr of every run, appended */
    char url[64];                   /* https://localhost:PORT */
    char hostport[64];              /* 127.0.0.1:PORT */
    const char *extra[TH_MAX_ARGS]; /* extra arguments, e.g. "--seed-bench", "1000" */
    size_t nextra;
    double startup_s; /* how long the last start took until /healthz answered */
} th_server;

/*
 * Starts roved --demo on a fresh temporary data dir on a free port and waits
 * for /healthz. extra (may be NULL) is a NULL-terminated list of more
 * arguments. Asserts success. The server is registered for cleanup.
 */
th_server *th_server_start(const char *const *extra);
/* How long th_server_start/restart wait for /healthz (default 60 s; seeding
 * large bench data sets takes longer). */
void th_set_startup_timeout(double seconds);
/* SIGTERM; asserts a clean exit with status 0 within 20 s. */
void th_server_stop(th_server *s);
/* SIGKILL; waits for the process. */
void th_server_kill(th_server *s);
/* Starts the server again on the same data dir (with --cert DIR/server.pem
 * instead of --demo), on the same port when possible (the url may change). */
void th_server_restart(th_server *s);
/* 1 when GET /healthz answers 200 within 8 s. */
int th_server_healthy(const th_server *s);
/* Registers another child process (e.g. a fake server) to be killed by
 * th_cleanup(). */
void th_track_pid(pid_t pid);
/* Prints the last lines of the server log to stderr. */
void th_server_dump_log(const th_server *s, int lines);

/* ---- raw HTTPS ---------------------------------------------------------- */

typedef struct th_resp {
    int curl_rc;      /* CURLcode; nonzero when no HTTP answer arrived */
    long status;      /* HTTP status */
    char error[64];   /* X-Rove-Error, or "" */
    char errmsg[256]; /* X-Rove-Error-Message, or "" */
    rove__buf body;   /* raw response body */
} th_resp;

void th_resp_free(th_resp *r);

/*
 * One HTTPS request to s (a new connection each time). method "GET" or "POST";
 * token (may be NULL) goes into Authorization: Bearer; content_type (NULL: the
 * Rove CBOR type) and X-Rove-Protocol: 1 are sent with POST bodies.
 */
void th_http(const th_server *s, const char *method, const char *path, const char *token,
             const char *content_type, const void *body, size_t len, th_resp *out);
/* The local address th_http connects from (e.g. "127.0.0.2", so the server
 * sees another source); NULL or "" for the default. */
void th_set_source(const char *addr);

/* ---- the admin API (JSON) ----------------------------------------------- */

/* Copies the JSON string member "key" of r's body into out; 0, or -1 when
 * absent or too long (a crude reader for the flat admin answers). */
int th_json_str(const th_resp *r, const char *key, char *out, size_t size);
/* Logs in to the admin API and copies the session token into token. Asserts. */
void th_admin_login(const th_server *s, const char *user, const char *pw, char *token,
                    size_t size);
/* POSTs json to path with the session token; returns the HTTP status and copies
 * X-Rove-Error into code. */
long th_admin_post(const th_server *s, const char *token, const char *path, const char *json,
                   char *code, size_t size);

/* Compresses cbor with zlib and POSTs it to path. */
void th_post_cbor(const th_server *s, const char *path, const char *token, const void *cbor,
                  size_t len, th_resp *out);

typedef struct th_login {
    char token[80];
    char user_id[32];
    char device_id[32];
    char role[32];
} th_login;

/* POST /v1/login with a new device id; returns the HTTP status, fills out on 200. */
long th_login_raw(const th_server *s, const char *user, const char *password, th_login *out);

/* ---- crafting sync requests --------------------------------------------- */

typedef struct th_col {
    const char *name;
    rove__value v;
} th_col;

rove__value th_text(const char *s);
rove__value th_int(int64_t i);
rove__value th_real(double d);
rove__value th_null(void);

/* Writes the request map header: v, cursor, limit, hlc, changes (n). */
void th_w_request(rove__buf *b, int64_t version, int64_t cursor, int64_t limit,
                  size_t nchanges);
/* Makes th_w_change stamp changes with a clock ms ahead (negative: behind). */
void th_set_clock_skew(int64_t ms);
/* Writes one change array (no validation: anything can be crafted). */
void th_w_change(rove__buf *b, const char *change_id, const char *table, int op,
                 const char *record_id, int64_t base_version, const th_col *cols, size_t ncols);

#define TH_MAX_RECEIPTS 1100

typedef struct th_receipt {
    char change_id[32];
    int status;
    char code[64];
    char message[256];
    int64_t version;
} th_receipt;

typedef struct th_sync_result {
    th_resp resp;
    int parse_rc; /* rove__sync_resp_parse result on 200 */
    size_t nreceipts;
    th_receipt receipts[TH_MAX_RECEIPTS];
    size_t nrows; /* rows received */
    size_t nevict;
    int64_t cursor;
    int more;
} th_sync_result;

/*
 * POSTs the CBOR request (compressed here) to /v1/sync. On 200 the response is
 * parsed; when db is not NULL its rows are applied to db (a snapshot made by
 * th_snapshot_new). Returns the HTTP status (0: no answer).
 */
long th_sync_raw(const th_server *s, const char *token, const rove__buf *cbor,
                 th_sync_result *out, sqlite3 *db);
/* Frees the response memory kept in out. */
void th_sync_result_free(th_sync_result *out);

/* ---- snapshots: a device's whole scope in an in-memory SQLite db --------- */

/* A new in-memory db with the replica DDL and a table _wire_cols(tbl, col)
 * that records every column the server sent. */
sqlite3 *th_snapshot_new(void);
/* Pulls everything in scope with the given token from cursor 0 into db
 * (page after page until more is false); returns the final cursor. */
int64_t th_snapshot_pull(const th_server *s, const char *token, sqlite3 *db);
/* Logs in user as a brand-new device and pulls its whole scope. */
sqlite3 *th_snapshot(const th_server *s, const char *user, const char *password,
                     int64_t *cursor_out);

/* Integer result of sql (first column of the first row; -1 when no row).
 * Up to 3 text parameters (NULL ends the list). */
int64_t th_db_int(sqlite3 *db, const char *sql, const char *p1, const char *p2);
/* Text result of sql into out (empty string when NULL or no row). */
void th_db_text(sqlite3 *db, const char *sql, const char *p1, char *out, size_t size);
/* Every row of sql rendered as text, one line per row; caller frees. */
char *th_db_dump(sqlite3 *db, const char *sql);
/* A fingerprint of a snapshot: per table count, total(version), max(version),
 * and a hash of every value; caller frees. */
char *th_db_fingerprint(sqlite3 *db);

/* ---- SDK helpers -------------------------------------------------------- */

/* Opens a client on DIR/label.db against s (ca_file = s->ca). Asserts. */
rove_client *th_client_open(const th_server *s, const char *dir, const char *label);
/* Same with explicit options (any may be NULL); returns the rove code. */
int th_client_open_opts(rove_client **out, const char *db_path, const char *url, const char *ca,
                        const char *pin);
/* Integer result of a read-only query on the replica (-1: no row). */
int64_t th_client_int(rove_client *c, const char *sql, const char *p1);
void th_client_text(rove_client *c, const char *sql, const char *p1, char *out, size_t size);
/* Every row of sql as text lines; caller frees. */
char *th_client_dump(rove_client *c, const char *sql);
/* Pending outbox count. */
uint64_t th_client_pending(rove_client *c);

/* 1 when the replica of c holds exactly what a brand-new device of user
 * pulls (every synced table); logs the tables that differ. */
int th_matches_fresh(const th_server *s, rove_client *c, const char *user, const char *pw,
                     const char *what);
/* One integer from the server's store file (read-only, beside the server). */
int64_t th_server_int(const th_server *s, const char *sql, const char *p1, const char *p2);

/* Runs the built rovectl as admin against s with args (a shell fragment);
 * its output (stdout and stderr) goes to out. Returns the exit status. */
int th_rovectl(const th_server *s, const char *args, char *out, size_t size);

/* Syncs c and asserts it worked (rep is cleared first, then filled). */
void th_sync_ok(rove_client *c, rove_sync_report *rep, const char *what);
/* Sets one text column of a stored record through the SDK; the SDK's code. */
int th_set_text(rove_client *c, const char *table, const char *id, const char *col,
                const char *value);

/* A read-only connection to the server's store file (caller closes it with
 * sqlite3_close); use th_db_int/th_db_text/th_db_dump on it. */
sqlite3 *th_server_db(const th_server *s);

#endif
