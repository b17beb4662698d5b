#ifndef ROVE_SERVER_LOGIN_H
#define ROVE_SERVER_LOGIN_H

/*
 * POST /v1/login (docs/protocol.md), the password check every login goes
 * through, and the lifecycle of device tokens (issue, refresh on sync).
 */

#include <stddef.h>

#include "buf.h"
#include "proto.h"
#include "roved.h"

/*
 * cbor[0..len) is the inflated request; remote the client address (for the
 * login limiter). On success appends the CBOR answer to out. Errors:
 * ROVE_EPROTO, ROVE_EVERSION, ROVE_EAUTH (wrong user or password),
 * ROVE_EFORBIDDEN (user not active; device bound to another user),
 * ROVE_ERATELIMIT, ROVE_ESTORE. user_id (27 bytes) is set for logging.
 */
int roved_login_run(roved_server *srv, const void *cbor, size_t len, const char *remote,
                    rove__buf *out, rove__errinfo *err, char *user_id, char *device_id);

/*
 * The password check of every login (device and admin, via names which in
 * logs and the audit trail): the limiter (auth.h) first, then the password;
 * a failure is counted, logged and audited, a lock it starts too. 0 with *u
 * filled (password hash wiped; the caller checks status and role), or
 * ROVE_ERATELIMIT, ROVE_EAUTH, ROVE_ESTORE.
 */
int roved_login_password(roved_server *srv, const char *username, const char *password,
                         const char *source, const char *via, roved_user *u);

/*
 * Called on each sync of an active device, dev as found by its token
 * (roved_store_device_by_token). Stamps the token's last use; on its first
 * use revokes the device's other tokens; past half its life issues a fresh
 * token into fresh[65] (durably stored before it is returned; "" when none).
 * 0 or a store error (the current token then stays valid: callers go on).
 */
int roved_login_token_seen(roved_server *srv, const roved_device *dev, char fresh[65]);

#endif
