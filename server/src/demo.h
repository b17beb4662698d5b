#ifndef ROVE_SERVER_DEMO_H
#define ROVE_SERVER_DEMO_H

/*
 * Demo and benchmark data. Both run in one write transaction with prepared
 * statements, before the HTTP workers start, and are deterministic (fixed
 * seed) so tests can rely on the counts:
 *   users 7 (admin, maria, rita, raj, rosa, tom, tara),
 *   territories 2, accounts 300, contacts 600, visits 315, service tasks 60.
 * Passwords are "<username>-demo".
 */

#include <stdio.h>

#include "roved.h"

#define ROVED_DEMO_ACCOUNTS 300

/* Seeds when the store has no users; prints the logins and counts to out.
 * *seeded is set to 1 when it did. */
int roved_demo_seed(roved_server *srv, FILE *out, int *seeded);

/* Creates user "bench" (rep, password bench-demo) owning nrows synced rows,
 * unless that user exists already. */
int roved_demo_seed_bench(roved_server *srv, long nrows, FILE *out);

#endif
