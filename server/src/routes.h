#ifndef ROVE_SERVER_ROUTES_H
#define ROVE_SERVER_ROUTES_H

/*
 * Every route roved serves, in one place. http.c dispatches the device routes
 * and admin.c the admin routes from these lists; the authorization suite
 * (tests/integration/authz_test.c) enumerates the same lists, so a route
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
 * Admin routes under /v1/admin/: X(method, pattern, who, handler). A pattern
 * segment ":name" matches one path segment, handed to the handler in order.
 * who: ANYONE (login), MANAGER (an active manager or admin session; the
 * handler limits the answer to what the manager reaches, and answers an
 * object out of reach exactly like one that does not exist), ADMIN (an admin
 * session; a manager gets 403 forbidden whatever the ids).
 */
#define ROVED_ADMIN_ROUTES(X)                                                                  \
    X(POST, "login", ANYONE, roved_admin_login)                                                \
    X(GET, "users", MANAGER, roved_admin_users_list)                                           \
    X(POST, "users", ADMIN, roved_admin_users_create)                                          \
    X(POST, "users/:username/status", ADMIN, roved_admin_user_status)                          \
    X(POST, "users/:username/absences", MANAGER, roved_admin_absence_add)                      \
    X(GET, "absences", MANAGER, roved_admin_absences_list)                                     \
    X(GET, "devices", MANAGER, roved_admin_devices_list)                                       \
    X(POST, "devices/:id/revoke", ADMIN, roved_admin_device_revoke)                            \
    X(GET, "stats", ADMIN, roved_admin_stats)                                                  \
    X(GET, "audit", MANAGER, roved_admin_audit_list)                                           \
    X(POST, "import/:kind", ADMIN, roved_admin_import)                                         \
    X(POST, "accounts/:id/assign", MANAGER, roved_admin_account_assign)                        \
    X(POST, "accounts/:id/stage", MANAGER, roved_admin_account_stage)                          \
    X(POST, "accounts/:id/tier", MANAGER, roved_admin_account_tier)                            \
    X(GET, "territories/:id/members", MANAGER, roved_admin_members_list)                       \
    X(POST, "territories/:id/members", MANAGER, roved_admin_member_add)                        \
    X(POST, "territories/:id/members/:username/end", MANAGER, roved_admin_member_end)          \
    X(GET, "tasks/queue", MANAGER, roved_admin_task_queue)                                     \
    X(POST, "tasks/:id/assign", MANAGER, roved_admin_task_assign)                              \
    X(GET, "conflicts", MANAGER, roved_admin_conflicts_list)                                   \
    X(GET, "conflicts/:id", MANAGER, roved_admin_conflict_show)                                \
    X(POST, "conflicts/:id/restore", MANAGER, roved_admin_conflict_restore)                    \
    X(POST, "conflicts/:id/dismiss", MANAGER, roved_admin_conflict_dismiss)                    \
    X(GET, "quarantine", MANAGER, roved_admin_quarantine_list)                                 \
    X(GET, "quarantine/:id", MANAGER, roved_admin_quarantine_show)                             \
    X(POST, "quarantine/:id/apply", MANAGER, roved_admin_quarantine_apply)                     \
    X(POST, "quarantine/:id/discard", MANAGER, roved_admin_quarantine_discard)                 \
    X(GET, "transfers", MANAGER, roved_admin_transfers_list)                                   \
    X(POST, "transfers", MANAGER, roved_admin_transfer_plan)                                   \
    X(GET, "transfers/:id", MANAGER, roved_admin_transfer_show)                                \
    X(GET, "transfers/:id/preview", MANAGER, roved_admin_transfer_preview)                     \
    X(POST, "transfers/:id/run", MANAGER, roved_admin_transfer_run)                            \
    X(GET, "leaves", MANAGER, roved_admin_leaves_list)                                         \
    X(POST, "leaves", MANAGER, roved_admin_leave_create)                                       \
    X(GET, "leaves/:id", MANAGER, roved_admin_leave_show)                                      \
    X(GET, "leaves/:id/digest", MANAGER, roved_admin_leave_digest)                             \
    X(POST, "leaves/:id/end", MANAGER, roved_admin_leave_end)                                  \
    X(POST, "leaves/:id/revoke", MANAGER, roved_admin_leave_revoke)

#endif
