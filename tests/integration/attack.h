#ifndef ROVE_TESTS_INTEGRATION_ATTACK_H
#define ROVE_TESTS_INTEGRATION_ATTACK_H

/*
 * Hostile clients for the slow-client and bomb scenarios (slowclient_test.c,
 * tests/bench/slowclient_bench.c): pools of connections that stay silent,
 * dribble a request header or stall a request body, each reopened as soon as
 * the server drops it, and one-shot raw HTTPS requests sent from any loopback
 * source address (127.0.0.0/8 is all local, so one test can play several
 * clients).
 *
 * Thread model: every pool runs one thread per connection; ta_pool_start and
 * ta_pool_stop are called from one thread. ta_request is thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

typedef enum ta_kind {
    TA_SILENT,         /* TCP connect, then nothing */
    TA_HEADER_DRIBBLE, /* TLS, then a request header one byte per interval, never ended */
    TA_BODY_STALL /* TLS, a whole login request header, then the body one byte per interval */
} ta_kind;

typedef struct ta_stats {
    uint64_t connects;  /* TCP connections made */
    uint64_t refused;   /* closed by the server within 200 ms of connecting */
    uint64_t cut;       /* closed by the server later */
    uint64_t tls_ok;    /* TLS handshakes completed */
    double max_hold_ms; /* longest a connection stayed open (open ones count at stop) */
    double max_cut_ms;  /* longest a connection lasted before the server cut it */
} ta_stats;

typedef struct ta_pool ta_pool;

/*
 * Starts n connections of kind to 127.0.0.1:port. Source address: src (host
 * order, e.g. 0x7f000002 for 127.0.0.2); with distinct, connection i uses
 * src + i. interval_ms: the pace of dribbled bytes. A dropped connection is
 * reopened after backoff_ms.
 */
ta_pool *ta_pool_start(int port, ta_kind kind, int n, uint32_t src, int distinct,
                       int interval_ms, int backoff_ms);
/* Stops and joins every connection, fills out (may be NULL), frees p. */
void ta_pool_stop(ta_pool *p, ta_stats *out);

/*
 * One POST of body to path over a fresh TLS connection from src (host order),
 * with the Rove CBOR content type and Content-Length len; the body is sent at
 * once, or paced at bytes_per_s (> 0). Fills the HTTP status (0: no answer)
 * and X-Rove-Error (code may be NULL). 0, or -1 when no answer came.
 */
int ta_request(int port, uint32_t src, const char *path, const void *body, size_t len,
               int bytes_per_s, int *status, char *code, size_t code_size);

/* A TLS handshake with 127.0.0.1:port offering only the Mbed TLS cipher
 * suite id suite (no certificate check). 0 when the server accepted it. */
int ta_tls_try(int port, int suite);

/* A zlib stream of about raw_size bytes that inflates to about 1000 times as
 * much (zeros). Caller frees. */
unsigned char *ta_zlib_bomb(size_t raw_size, size_t *len);

struct th_server;

/* The legitimate device: logs user in on the replica DIR/label.db (asserts). */
void ta_device_login(const struct th_server *s, const char *dir, const char *label,
                     const char *user, const char *password);
/* The device wakes up and syncs: opens its replica (a fresh connection), one
 * rove_client_sync, closes. Returns the time the sync took (ms) and its code
 * in *rc. */
double ta_device_sync(const struct th_server *s, const char *dir, const char *label, int *rc);

/* VmRSS of process pid in MiB (-1 when unreadable). */
double ta_rss_mb(int pid);

#endif
