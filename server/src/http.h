#ifndef ROVE_SERVER_HTTP_H
#define ROVE_SERVER_HTTP_H

/*
 * The HTTPS front: CivetWeb setup, routing and the response helpers every
 * endpoint uses. Handlers run on CivetWeb worker threads; each helper works on
 * the connection it is given and nothing else.
 */

#include <stddef.h>

#include "buf.h"
#include "roved.h"

struct mg_connection;
struct mg_context;

#define ROVED_CBOR_TYPE "application/vnd.rove+cbor"

/* Starts listening; 0, or ROVE_EINVAL with a message logged. */
int roved_http_start(roved_server *srv, struct mg_context **out);
/* Stops accepting and waits for in-flight requests. */
void roved_http_stop(struct mg_context *ctx);

/* Sends a complete response with Content-Length. */
void roved_http_send(struct mg_connection *c, int status, const char *content_type,
                     const void *body, size_t len);
/* Sends an error: status from the code table, X-Rove-Error headers and the
 * JSON body {"error":{"code","message"}}. message may be NULL. */
void roved_http_error(struct mg_connection *c, int code, const char *message);
/* The same, naming the allowed methods of a 405 answer (e.g. "GET, POST"). */
void roved_http_error_allow(struct mg_connection *c, int code, const char *message,
                            const char *allow);
/* Reads the request body (at most max bytes). ROVE_ETOOBIG when larger. */
int roved_http_read_body(struct mg_connection *c, rove__buf *out, size_t max);
/* The request header value, or NULL. */
const char *roved_http_header(struct mg_connection *c, const char *name);
/* 1 when the Content-Type header names type (parameters ignored). */
int roved_http_content_type_is(struct mg_connection *c, const char *type);

#endif
