#ifndef ROVE_SERVER_ROUTES_H
#define ROVE_SERVER_ROUTES_H

/*
 * Every route roved serves, in one place. http.c dispatches the device routes
 * and admin.c the admin routes from these lists; the authorization suite
 * (tests/integration/authz.h) enumerates the same lists, so a route
 * added here without a row in that suite fails it. The permission model is
 * docs/scope.md ("The permission model").
 *
 * Device routes: X(path, handler, who). POST only, CBOR bodies
 * (docs/protocol.md). who: ANYONE (no token: login), DEVICE (an active
 * device's bearer token), DRAINING (also a revoked device inside its drain
 * window: uploads only), REVOKED (only a revoked device's token).
 */
#define ROVED_DEVICE_ROUTES(X)                                                                 \
    X("/v1/login", handle_login, ANYONE)                                                       \
    X("/v1/sync", handle_sync, DRAINING)                                                       \
    X("/v1/leases", handle_leases, DEVICE)                                                     \
    X("/v1/digest", handle_digest, DEVICE)                                                     \
    X("/v1/history", handle_history, DEVICE)                                                   \
    X("/v1/wiped", handle_wiped, REVOKED)

/*
 * Admin routes under /v1/admin/: X(method, pattern, who, handler, variant). A
 * pattern segment ":name" matches one path segment, handed to the handler in
 * order; variant tells a handler that serves several routes which one it is.
 * who: ANYONE (login), MANAGER (an active manager or admin session; the
 * handler limits the answer to what the manager reaches, and answers an
 * object out of reach exactly like one that does not exist), ADMIN (an admin
 * session; a manager gets 403 forbidden whatever the ids).
 */
#define ROVED_ADMIN_ROUTES(X)                                                                  \
    X(POST, "login", ANYONE, roved_admin_login, 0)                                             \
    X(GET, "users", MANAGER, roved_admin_people_list, 1)                                       \
    X(POST, "users", ADMIN, roved_admin_users_create, 0)                                       \
    X(POST, "users/:username/status", ADMIN, roved_admin_set_status, 0)                        \
    X(POST, "users/:username/absences", MANAGER, roved_admin_absence_add, 0)                   \
    X(GET, "users/:username/tokens", MANAGER, roved_admin_tokens_list, 0)                      \
    X(POST, "tokens/:id/revoke", MANAGER, roved_admin_token_revoke, 0)                         \
    X(GET, "absences", MANAGER, roved_admin_domain_list, 0)                                    \
    X(GET, "devices", MANAGER, roved_admin_people_list, 0)                                     \
    X(POST, "devices/:id/revoke", ADMIN, roved_admin_set_status, 1)                            \
    X(GET, "stats", ADMIN, roved_admin_stats, 0)                                               \
    X(GET, "audit", MANAGER, roved_admin_audit_list, 0)                                        \
    X(POST, "import/:kind", ADMIN, roved_admin_import, 0)                                      \
    X(POST, "accounts/:id/assign", MANAGER, roved_admin_account_assign, 0)                     \
    X(POST, "accounts/:id/stage", MANAGER, roved_admin_account_change, 1)                      \
    X(POST, "accounts/:id/tier", MANAGER, roved_admin_account_change, 0)                       \
    X(GET, "territories/:id/members", MANAGER, roved_admin_members_list, 0)                    \
    X(POST, "territories/:id/members", MANAGER, roved_admin_member_change, 1)                  \
    X(POST, "territories/:id/members/:username/end", MANAGER, roved_admin_member_change, 0)    \
    X(GET, "tasks/queue", MANAGER, roved_admin_domain_list, 1)                                 \
    X(POST, "tasks/:id/assign", MANAGER, roved_admin_task_assign, 0)                           \
    X(GET, "conflicts", MANAGER, roved_admin_conflicts_get, 0)                                 \
    X(GET, "conflicts/:id", MANAGER, roved_admin_conflicts_get, 0)                             \
    X(POST, "conflicts/:id/restore", MANAGER, roved_admin_conflict_decide, 1)                  \
    X(POST, "conflicts/:id/dismiss", MANAGER, roved_admin_conflict_decide, 0)                  \
    X(GET, "quarantine", MANAGER, roved_admin_quarantine_get, 0)                               \
    X(GET, "quarantine/:id", MANAGER, roved_admin_quarantine_get, 0)                           \
    X(POST, "quarantine/:id/apply", MANAGER, roved_admin_quarantine_decide, 1)                 \
    X(POST, "quarantine/:id/discard", MANAGER, roved_admin_quarantine_decide, 0)               \
    X(GET, "transfers", MANAGER, roved_admin_transfers_list, 0)                                \
    X(POST, "transfers", MANAGER, roved_admin_transfer_plan, 0)                                \
    X(GET, "transfers/:id", MANAGER, roved_admin_transfer_show, 0)                             \
    X(GET, "transfers/:id/preview", MANAGER, roved_admin_transfer_show, 1)                     \
    X(POST, "transfers/:id/run", MANAGER, roved_admin_transfer_run, 0)                         \
    X(GET, "leaves", MANAGER, roved_admin_leaves_list, 0)                                      \
    X(POST, "leaves", MANAGER, roved_admin_leave_create, 0)                                    \
    X(GET, "leaves/:id", MANAGER, roved_admin_leave_show, 0)                                   \
    X(GET, "leaves/:id/digest", MANAGER, roved_admin_leave_digest, 0)                          \
    X(POST, "leaves/:id/end", MANAGER, roved_admin_leave_stop, 0)                              \
    X(POST, "leaves/:id/revoke", MANAGER, roved_admin_leave_stop, 1)

#endif
