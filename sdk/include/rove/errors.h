#ifndef ROVE_ERRORS_H
#define ROVE_ERRORS_H

/*
 * Error codes shared by librove and roved.
 *
 * Every fallible function returns 0 or a negative ROVE_E* code. The one table
 * below gives each code its number, its machine-readable wire name (sent by
 * roved in the X-Rove-Error header and JSON bodies), the HTTP status roved
 * answers with, and the default message. HTTP status 0 means the code is only
 * ever produced locally (never sent by the server).
 *
 * Thread model: rove_strerror() is thread-safe and returns static strings.
 */

#include "rove/common.h"

ROVE_BEGIN_DECLS

/* X(NAME, number, wire name, HTTP status, message) */
#define ROVE_ERROR_TABLE(X)                                                        \
    X(OK, 0, "ok", 200, "success")                                                 \
    X(EGENERIC, -1, "internal", 500, "internal error")                              \
    X(ENOMEM, -2, "no_memory", 503, "out of memory")                                \
    X(EINVAL, -3, "invalid_argument", 400, "invalid argument")                      \
    X(EVERSION, -4, "unsupported_version", 400, "unsupported version")              \
    X(EPROTO, -5, "malformed", 400, "malformed message")                            \
    X(ETOOBIG, -6, "too_large", 413, "message too large")                           \
    X(EAUTH, -7, "unauthorized", 401, "authentication failed")                      \
    X(EFORBIDDEN, -8, "forbidden", 403, "not allowed")                              \
    X(ESCOPE, -9, "out_of_scope", 403, "record is outside the device's scope")      \
    X(ESERVEROWNED, -10, "server_owned", 403, "column is server-owned")             \
    X(ENOTFOUND, -11, "not_found", 404, "not found")                                \
    X(ECONFLICT, -12, "conflict", 409, "conflicting change")                        \
    X(EUNKNOWNTABLE, -13, "unknown_table", 400, "unknown table")                    \
    X(EUNKNOWNCOLUMN, -14, "unknown_column", 400, "unknown column")                 \
    X(EBADID, -15, "invalid_id", 400, "invalid record id")                          \
    X(EBADVALUE, -16, "invalid_value", 400, "invalid column value")                 \
    X(ESTATE, -17, "invalid_transition", 409, "invalid state transition")           \
    X(EEXISTS, -18, "exists", 409, "already exists")                                \
    X(EBUSY, -19, "busy", 503, "busy, retry later")                                 \
    X(ESTORE, -20, "storage", 500, "storage error")                                 \
    X(ENET, -21, "network", 0, "network error")                                     \
    X(ETLS, -22, "tls", 0, "TLS error (certificate or handshake)")                  \
    X(EPIN, -23, "pin_mismatch", 0, "server public key does not match the pin")     \
    X(ESERVER, -24, "server_error", 0, "unexpected server response")                \
    X(EUSER, -25, "aborted", 0, "aborted by callback")                              \
    X(ENOTLOGGEDIN, -26, "not_logged_in", 0, "not logged in")                       \
    X(ECORRUPT, -27, "corrupt", 0, "replica is corrupt")                            \
    X(EREADONLY, -28, "read_only", 400, "statement is not read-only")               \
    X(EREVOKED, -29, "device_revoked", 403, "device has been revoked")              \
    X(ERATELIMIT, -30, "rate_limited", 429, "too many requests")                    \
    X(EMETHOD, -31, "method_not_allowed", 405, "method not allowed")                \
    X(EUNSUPPORTED, -32, "unsupported_media_type", 415, "unsupported media type")

typedef enum rove_error_code {
#define ROVE__ERR_ENUM(name, num, wire, http, msg) ROVE_##name = (num),
    ROVE_ERROR_TABLE(ROVE__ERR_ENUM)
#undef ROVE__ERR_ENUM
    ROVE__ERR_LAST = -33
} rove_error_code;

/* Returns the default message for code, or "unknown error". Never NULL. */
ROVE_EXTERN(const char *) rove_strerror(int code);

/* Returns the wire name of code (e.g. "out_of_scope"), or "internal". */
ROVE_EXTERN(const char *) rove_error_name(int code);

/* Maps a wire name back to its code; unknown names give ROVE_ESERVER. */
ROVE_EXTERN(int) rove_error_from_name(const char *name);

/* Returns the HTTP status roved uses for code (0 for local-only codes). */
ROVE_EXTERN(int) rove_error_http_status(int code);

ROVE_END_DECLS

#endif
