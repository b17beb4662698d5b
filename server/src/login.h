#ifndef ROVE_SERVER_LOGIN_H
#define ROVE_SERVER_LOGIN_H

/* POST /v1/login: password check and device registration (docs/protocol.md). */

#include <stddef.h>

#include "buf.h"
#include "proto.h"
#include "roved.h"

/*
 * cbor[0..len) is the inflated request. On success appends the CBOR answer to
 * out. Errors: ROVE_EPROTO, ROVE_EVERSION, ROVE_EAUTH (wrong user or password),
 * ROVE_EFORBIDDEN (user not active; device bound to another user),
 * ROVE_ERATELIMIT, ROVE_ESTORE. user_id (27 bytes) is set for logging.
 */
int roved_login_run(roved_server *srv, const void *cbor, size_t len, rove__buf *out,
                    rove__errinfo *err, char *user_id, char *device_id);

#endif
