#ifndef ROVE_TESTS_INTEGRATION_AUTHZ_H
#define ROVE_TESTS_INTEGRATION_AUTHZ_H

/*
 * The authorization suite (docs/scope.md, "The permission model"): every
 * route of server/src/routes.h x every role x in scope / out of scope /
 * nonexistent, with the expected answer, and for every refused write the
 * server's stored tables compared before and after.
 *
 * The routes are enumerated from routes.h; the expectations live in tables
 * keyed by the route (authz_admin_test.c, authz_device_test.c). A route
 * without a row, or a row without a route, fails the suite. Every row is
 * checked (a failing row is logged as "FAIL route / role / case: ..." and the
 * case fails at the end), so one run names every hole.
 *
 * The world (authz_world.c): the demo (maria manages North and South; rita
 * and raj North, rosa South, technicians tom and tara) plus a territory East
 * that maria does not manage, created as admin: erin manages it, ezra, evan,
 * eli and eve are its reps. "In scope" is a North object, "out of scope" the
 * same kind of object in East, "nonexistent" a well-formed id that does not
 * exist.
 */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A route of routes.h: method, path or pattern, and its "who". */
typedef struct authz_route {
    const char *method, *pattern, *who;
} authz_route;

/* ---- failures: logged per row, counted, asserted at the end ------------- */

extern int authz_failures;

void authz_fail(const char *rname, const char *role, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails the case when a row failed. */
void authz_assert_no_failures(void);

/* ---- roles and answers ---------------------------------------------------- */

typedef struct authz_role {
    const char *name;
    const char *token; /* NULL: no token */
} authz_role;

typedef struct authz_answer {
    long status;
    char code[64], msg[256];
    char *body; /* NUL-terminated; authz_answer_free */
} authz_answer;

/* Takes the answer out of r (which is freed); asserts there was one. */
void authz_answer_take(th_resp *r, const char *what, authz_answer *out);
void authz_answer_free(authz_answer *a);
/* Same status, code, message and body. */
int authz_same_answer(const authz_answer *x, const authz_answer *y);

/* ---- the stored tables ---------------------------------------------------- */

/*
 * The server's stored tables (volatile bookkeeping left out) as a baseline.
 * A check after a refused write compares them with the baseline; a
 * difference fails the row and becomes the new baseline. Both cost one
 * query while nothing was committed since the baseline was read.
 */
typedef struct authz_stored authz_stored;

authz_stored *authz_stored_new(const th_server *s);
void authz_stored_free(authz_stored *st);
/* After a success: the stored tables as they are become the baseline. */
void authz_stored_rebase(authz_stored *st);
/* After a refusal: the stored tables must equal the baseline. */
void authz_stored_check(authz_stored *st, const char *rname, const char *role,
                        const char *what);

/* ---- the world ------------------------------------------------------------ */

/* Kinds of objects named in a path (or, for lists, listed). */
enum {
    K_NONE,
    K_USER,
    K_DEVICE,
    K_TOKEN,
    K_KIND,
    K_ACCOUNT,
    K_TERRITORY,
    K_MEMBER,
    K_TASK,
    K_CONFLICT_RESTORE,
    K_CONFLICT_DISMISS,
    K_CONFLICT_ROW,
    K_QUARANTINE_APPLY,
    K_QUARANTINE_DISCARD,
    K_QUARANTINE_ROW,
    K_TRANSFER,
    K_LEAVE,
    K_LEAVE_END,
    K_LEAVE_REVOKE,
    K_COUNT
};

/* n: maria reaches it (her success); e: East, erin reaches it, maria does
 * not (erin's success); e2: East, for the admin's success (e when the write
 * can be repeated); miss: well-formed, does not exist. Path parameters of
 * one object are separated by '/'. */
typedef struct authz_objs {
    char n[80], e[80], e2[80], miss[80];
} authz_objs;

typedef struct authz_world {
    th_server *s;
    authz_stored *stored;
    authz_objs o[K_COUNT];
    char north[27], south[27], east[27], east2[27], missing_id[27];
    char acc_n[5][27], acc_e[7][27]; /* see authz_world_setup */
    char admin[128], maria[128], erin[128];
    th_login rita, ezra, ezra2, tom, rita2; /* rita2: revoked, drained */
    char east_marks[40][40], north_marks[40][40];
    size_t neast, nnorth;
    int64_t serial; /* far-future ms, one day less for every body built */
} authz_world;

/* The whole world for the admin routes, w->stored its baseline. */
void authz_world_setup(authz_world *w);
/* Stops the server and frees w. */
void authz_world_free(authz_world *w);

/* POST body as token to /v1/admin/path; asserts the status; copies member
 * key of the answer into out when out is not NULL. */
void authz_admin_do(const authz_world *w, const char *token, const char *path,
                    const char *ctype, const char *body, long want, const char *key, char *out,
                    size_t size);
/* A device login that must succeed. */
void authz_login(const authz_world *w, const char *user, const char *pw, th_login *out);
/* The text result of sql with ?1 = p1 on the server's store. */
void authz_server_text(const th_server *s, const char *sql, const char *p1, char *out,
                       size_t size);

#endif
