#ifndef ROVE_TESTS_INTEGRATION_CASES_H
#define ROVE_TESTS_INTEGRATION_CASES_H

/* Every integration case; tests/integration/CMakeLists.txt keeps the same
 * list to register them with ctest. */
#define TH_CASES(X)                                                                            \
    X(two_devices)                                                                             \
    X(retried_push)                                                                            \
    X(kill9_restart)                                                                           \
    X(kill9_during_sync)                                                                       \
    X(paged_bootstrap)                                                                         \
    X(delete_propagates)                                                                       \
    X(conflicts)                                                                               \
    X(large_outbox)                                                                            \
    X(pending_survives_pull)                                                                   \
    X(concurrent_devices)                                                                      \
    X(server_stall)                                                                            \
    X(bad_input)                                                                               \
    X(hostile_server)                                                                          \
    X(idle_connections)                                                                        \
    X(sdk_auth_errors)                                                                         \
    X(tls)                                                                                     \
    X(technician_scope)                                                                        \
    X(revocation)                                                                              \
    X(rove_field_cli)                                                                          \
    X(embed_example)                                                                           \
    X(cursor_ahead_restarts)                                                                   \
    X(clock_skew_bound)                                                                        \
    X(custom_resolver)                                                                         \
    X(conflict_decisions)                                                                      \
    TH_CASES_SCOPE(X)                                                                          \
    TH_CASES_DOMAIN(X)                                                                         \
    TH_CASES_ORG(X)                                                                            \
    TH_CASES_SDK(X)                                                                            \
    TH_CASES_TRANSFER(X)                                                                       \
    TH_CASES_LOGIN(X)                                                                          \
    TH_CASES_AUTHZ(X)                                                                          \
    TH_CASES_PUSHAUTHZ(X)                                                                      \
    TH_CASES_NET(X)

/* Scope and eviction (scope_test.c). */
#define TH_CASES_SCOPE(X)                                                                      \
    X(scope_reassign)                                                                          \
    X(scope_membership_window)                                                                 \
    X(scope_property)                                                                          \
    X(quarantine_decisions)

/* Domain rules: visits, tasks, SLA, assignment (domain_test.c). */
#define TH_CASES_DOMAIN(X)                                                                     \
    X(domain_visits)                                                                           \
    X(domain_tasks)                                                                            \
    X(domain_stage_tier)                                                                       \
    X(domain_day_helpers)

/* Users, territories, import (org_test.c). */
// clang-format off
#define TH_CASES_ORG(X)                                                                        \
    X(import_csv)
// clang-format on

/* Transfers, revocation, delegation (transfer_test.c). */
// clang-format off
#define TH_CASES_TRANSFER(X)                                                                   \
    X(transfer_resignation)                                                                    \
    X(transfer_realignment)                                                                    \
    X(delegation_leave)                                                                        \
    X(delegation_technician)
// clang-format on

/* SDK field-app helpers (sdk_test.c). */
#define TH_CASES_SDK(X)

/* Login limits, device token lifetime, rovectl over HTTPS only
 * (login_limits_test.c). */
#define TH_CASES_LOGIN(X)                                                                      \
    X(login_limits)                                                                            \
    X(device_token_lifetime)                                                                   \
    X(device_token_admin)                                                                      \
    X(rovectl_https_only)

/* The authorization suite: every route x every role (authz.h). */
// clang-format off
#define TH_CASES_AUTHZ(X)                                                                      \
    X(authz_admin)                                                                             \
    X(authz_device)
// clang-format on

/* What a push may write, per role (push_authz_test.c). */
// clang-format off
#define TH_CASES_PUSHAUTHZ(X)                                                                  \
    X(push_authz_technician)                                                                   \
    X(push_authz_held)                                                                         \
    X(push_authz_server_owned)
// clang-format on

/* Slow and silent clients, bombs before authentication (slowclient_test.c), TLS
 * cipher suites (tls_test.c). */
// clang-format off
#define TH_CASES_NET(X)                                                                        \
    X(slow_clients_one_source)                                                                 \
    X(slow_clients_deadlines)                                                                  \
    X(login_bombs)                                                                             \
    X(tls_suites)
// clang-format on

#define TH_CASE_DECL(name) void test_integration__##name(void);
TH_CASES(TH_CASE_DECL)
#undef TH_CASE_DECL

#endif
