/*
 * roundtrip_bench: the cost of one incremental sync (push 10, pull 10).
 *
 *   roundtrip_bench [--iterations 500] [--big-rows N] [--roved PATH]
 *
 * Two devices of one user, both bootstrapped. Per iteration device A makes 10
 * local edits and device B makes 10 edits to other records; B syncs (not
 * timed); then A's rove_client_sync() is timed: it pushes its 10 changes and
 * pulls B's 10. Loopback TLS with keep-alive, as the SDK does it.
 *
 * Run twice: on rita's demo replica, and on the `bench` user's replica seeded
 * with --seed-bench N rows (default: 10x rita's replica), to show that the
 * cost of a round trip does not grow with the size of the replica.
 *
 * Output, one line per replica:
 *   roundtrip user=... replica_rows=... iterations=... p50_ms=... p90_ms=...
 *   p99_ms=... max_ms=... mean_ms=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define EDITS 10

typedef struct device {
    rove_client *c;
    char ids[EDITS][ROVE_ID_SIZE];
} device;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static void edit(device *d, int iter, const char *tag)
{
    for (int k = 0; k < EDITS; k++) {
        rove_record *r = NULL;
        char title[64];
        snprintf(title, sizeof(title), "%s edit %d.%d", tag, iter, k);
        TH_ASSERT_ROVE(d->c, rove_client_get(d->c, &r, "contact", d->ids[k]));
        TH_ASSERT_ROVE(d->c, rove_record_set_text(r, "title", title));
        TH_ASSERT_ROVE(d->c, rove_client_update(d->c, r));
        rove_record_free(r);
    }
}

static void pick(rove_client *c, int offset, char ids[EDITS][ROVE_ID_SIZE])
{
    rove_rows *q = NULL;
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT id FROM contact ORDER BY id LIMIT %d OFFSET %d", EDITS,
             offset);
    TH_ASSERT_ROVE(c, rove_client_query(c, &q, sql, NULL, 0));
    int n = 0;
    while (rove_rows_next(q) == 1 && n < EDITS)
        snprintf(ids[n++], ROVE_ID_SIZE, "%s", rove_rows_text(q, 0));
    rove_rows_free(q);
    TH_ASSERT_MSG(n == EDITS, "the replica has too few contacts (%d)", offset + n);
}

/* Runs the scenario for user on s; returns the replica size. */
static int64_t scenario(th_server *s, const char *user, const char *password, int iterations,
                        int quiet)
{
    const char *dir = th_tmpdir("roundtrip");
    device a, b;
    a.c = th_client_open(s, dir, "a");
    b.c = th_client_open(s, dir, "b");
    TH_ASSERT_ROVE(a.c, rove_client_login(a.c, user, password));
    TH_ASSERT_ROVE(b.c, rove_client_login(b.c, user, password));
    double t0 = th_mono();
    TH_ASSERT_ROVE(a.c, rove_client_sync(a.c, NULL));
    double boot = th_mono() - t0;
    TH_ASSERT_ROVE(b.c, rove_client_sync(b.c, NULL));
    int64_t rows = th_client_int(a.c, "SELECT (SELECT count(*) FROM account) + (SELECT count(*) "
                                      "FROM contact) + (SELECT count(*) FROM visit) + (SELECT "
                                      "count(*) FROM service_task)",
                                 NULL);
    if (!quiet)
        fprintf(stderr, "%s: replica of %lld rows bootstrapped in %.2f s\n", user,
                (long long)rows, boot);
    pick(a.c, 0, a.ids);
    pick(b.c, EDITS, b.ids);

    double *ms = calloc((size_t)iterations, sizeof(double));
    TH_ASSERT(ms != NULL);
    double sum = 0, block = 0;
    for (int i = 0; i < iterations; i++) {
        edit(&a, i, "A");
        edit(&b, i, "B");
        rove_sync_report rep;
        TH_ASSERT_ROVE(b.c, rove_client_sync(b.c, &rep));
        TH_ASSERT_EQ(rep.pushed, EDITS);
        double t = th_mono();
        int rc = rove_client_sync(a.c, &rep);
        ms[i] = (th_mono() - t) * 1e3;
        TH_ASSERT_MSG(rc == 0, "A sync: %s: %s", rove_error_name(rc), rove_client_errmsg(a.c));
        TH_ASSERT_EQ(rep.pushed, EDITS);
        TH_ASSERT_EQ(rep.applied, EDITS);
        TH_ASSERT_MSG(rep.pulled >= EDITS, "A pulled %llu rows, expected B's %d edits",
                      (unsigned long long)rep.pulled, EDITS);
        sum += ms[i];
        block += ms[i];
        if ((i + 1) % 100 == 0 && !quiet) {
            fprintf(stderr, "  %s iterations %d-%d: mean %.2f ms\n", user, i - 98, i + 1,
                    block / 100.0);
            block = 0;
        }
    }
    /* The last values made it across. */
    char title[64], want[64];
    th_client_text(a.c, "SELECT title FROM contact WHERE id = ?1", b.ids[EDITS - 1], title,
                   sizeof(title));
    snprintf(want, sizeof(want), "B edit %d.%d", iterations - 1, EDITS - 1);
    TH_ASSERT_STR(title, want);

    qsort(ms, (size_t)iterations, sizeof(double), cmp_double);
    size_t n = (size_t)iterations;
    printf("roundtrip user=%s replica_rows=%lld iterations=%d p50_ms=%.2f p90_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f mean_ms=%.2f\n",
           user, (long long)rows, iterations, pct(ms, n, 0.50), pct(ms, n, 0.90),
           pct(ms, n, 0.99), ms[n - 1], sum / (double)n);
    fflush(stdout);
    free(ms);
    rove_client_free(a.c);
    rove_client_free(b.c);
    return rows;
}

int main(int argc, char **argv)
{
    th_init(&argc, argv);
    int iterations = th_arg("iterations") ? atoi(th_arg("iterations")) : 500;
    long big = th_arg("big-rows") ? strtol(th_arg("big-rows"), NULL, 10) : 0;
    if (iterations <= 0 || big < 0 || argc != 1) {
        fprintf(stderr, "usage: roundtrip_bench [--iterations N] [--big-rows N] [--roved PATH]\n");
        return 2;
    }
    /* Rita's demo replica first. */
    th_server *s = th_server_start((const char *const[]){"--log-level", "warn", NULL});
    int64_t small = scenario(s, "rita", "rita-demo", iterations, 0);
    th_server_stop(s);

    /* Then a replica 10x larger (or --big-rows), on a server seeded for it. */
    if (big == 0)
        big = (long)(small * 10);
    char nbuf[32];
    snprintf(nbuf, sizeof(nbuf), "%ld", big);
    th_set_startup_timeout(600);
    s = th_server_start((const char *const[]){"--seed-bench", nbuf, "--log-level", "warn", NULL});
    scenario(s, "bench", "bench-demo", iterations, 0);
    th_server_stop(s);
    return 0;
}
