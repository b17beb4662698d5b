/*
 * slowclient_bench: a legitimate device under slow-client and bomb load
 * (issue 9, items 6 and 7).
 *
 *   slowclient_bench [--silent 300] [--dribble 300] [--stall 100] [--syncs 200]
 *                    [--bombs 40] [--bomb-kib 1024] [--bomb-rounds 3] [--after-s 2]
 *                    [--mode all|slow|bomb] [--roved PATH]
 *
 * slow: one source (127.0.0.2) holds --silent TCP connections that never
 * start TLS, --dribble connections that send a request header one byte a
 * second and --stall connections that send a login header and then its body
 * one byte a second; each is reopened 100 ms after roved drops it. The
 * device (rita, 127.0.0.1) wakes up and syncs --syncs times, each on a fresh
 * connection, 50 ms apart; the same loop runs first without the attackers.
 *
 * bomb: --bomb-rounds rounds of --bombs parallel POST /v1/login whose body is
 * a zlib stream of --bomb-kib KiB inflating to about 1000 times as much.
 * roved's VmRSS is sampled every 10 ms; "after" is --after-s s after the last
 * round's answers.
 *
 * Output:
 *   slowclient phase=baseline|attack syncs=... failures=... p50_ms=... p90_ms=...
 *     p99_ms=... max_ms=... [attacker counters]
 *   bomb parallel=... bomb_kib=... rounds=... answers_413=... reset=... other=...
 *     baseline_rss_mb=... peak_rss_mb=... after_rss_mb=...
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attack.h"
#include "harness.h"

#define ATTACKER 0x7f000002u /* 127.0.0.2 */

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

static void sync_loop(const th_server *s, const char *dir, int n, const char *phase,
                      const char *extra)
{
    double *ms = calloc((size_t)n, sizeof(double));
    TH_ASSERT(ms != NULL);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        int rc = 0;
        ms[i] = ta_device_sync(s, dir, "device", &rc);
        if (rc != 0)
            failures++;
        usleep(50 * 1000);
    }
    qsort(ms, (size_t)n, sizeof(double), cmp_double);
    size_t un = (size_t)n;
    printf("slowclient phase=%s syncs=%d failures=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
           "max_ms=%.1f%s\n",
           phase, n, failures, pct(ms, un, 0.50), pct(ms, un, 0.90), pct(ms, un, 0.99),
           ms[un - 1], extra);
    fflush(stdout);
    free(ms);
}

static void slow(int silent, int dribble, int stall, int syncs)
{
    th_server *s = th_server_start((const char *const[]){"--log-level", "error", NULL});
    const char *dir = th_tmpdir("slowbench");
    ta_device_login(s, dir, "device", "rita", "rita-demo");
    sync_loop(s, dir, syncs, "baseline", "");

    ta_pool *pools[3] = {
        ta_pool_start(s->port, TA_SILENT, silent, ATTACKER, 0, 1000, 100),
        ta_pool_start(s->port, TA_HEADER_DRIBBLE, dribble, ATTACKER, 0, 1000, 100),
        ta_pool_start(s->port, TA_BODY_STALL, stall, ATTACKER, 0, 1000, 100),
    };
    sleep(3); /* let them take what they can */
    char extra[512];
    snprintf(extra, sizeof(extra), " silent=%d dribble=%d stall=%d", silent, dribble, stall);
    sync_loop(s, dir, syncs, "attack", extra);
    int healthy = th_server_healthy(s);
    static const char *const names[] = {"silent", "dribble", "stall"};
    for (int k = 0; k < 3; k++) {
        ta_stats st;
        ta_pool_stop(pools[k], &st);
        printf("slowclient attacker=%s connects=%llu refused=%llu cut=%llu tls_ok=%llu "
               "max_cut_ms=%.0f\n",
               names[k], (unsigned long long)st.connects, (unsigned long long)st.refused,
               (unsigned long long)st.cut, (unsigned long long)st.tls_ok, st.max_cut_ms);
    }
    printf("slowclient healthz_after=%s\n", healthy ? "ok" : "FAILED");
    th_server_stop(s);
}

typedef struct bomb_job {
    int port;
    const unsigned char *bomb;
    size_t len;
    int status;
    atomic_int *done;
} bomb_job;

static void *send_bomb(void *arg)
{
    bomb_job *j = arg;
    ta_request(j->port, ATTACKER, "/v1/login", j->bomb, j->len, 0, &j->status, NULL, 0);
    atomic_fetch_add(j->done, 1);
    return NULL;
}

static void bombs(int par, int kib, int rounds, int after_s)
{
    size_t len = 0;
    unsigned char *bomb = ta_zlib_bomb((size_t)kib * 1024, &len);
    TH_ASSERT(bomb != NULL);
    th_server *s = th_server_start((const char *const[]){"--log-level", "error", NULL});
    sleep(1);
    double base = ta_rss_mb(s->pid), peak = base;
    int n413 = 0, none = 0, other = 0;
    bomb_job *jobs = calloc((size_t)par, sizeof(*jobs));
    pthread_t *th = calloc((size_t)par, sizeof(*th));
    TH_ASSERT(jobs != NULL && th != NULL);
    for (int r = 0; r < rounds; r++) {
        atomic_int done;
        atomic_init(&done, 0);
        for (int i = 0; i < par; i++) {
            jobs[i] = (bomb_job){s->port, bomb, len, 0, &done};
            TH_ASSERT(pthread_create(&th[i], NULL, send_bomb, &jobs[i]) == 0);
        }
        while (atomic_load(&done) < par) {
            double m = ta_rss_mb(s->pid);
            if (m > peak)
                peak = m;
            usleep(10 * 1000);
        }
        for (int i = 0; i < par; i++) {
            pthread_join(th[i], NULL);
            if (jobs[i].status == 413)
                n413++;
            else if (jobs[i].status == 0)
                none++; /* refused before the upload ended: the reset beat the answer */
            else
                other++;
        }
    }
    sleep((unsigned)after_s);
    double after = ta_rss_mb(s->pid);
    printf("bomb parallel=%d bomb_kib=%zu rounds=%d answers_413=%d reset=%d other=%d "
           "baseline_rss_mb=%.1f peak_rss_mb=%.1f after_rss_mb=%.1f\n",
           par, len / 1024, rounds, n413, none, other, base, peak, after);
    fflush(stdout);
    free(jobs);
    free(th);
    free(bomb);
    th_server_stop(s);
}

static int int_arg(const char *name, int def)
{
    const char *v = th_arg(name);
    return v ? atoi(v) : def;
}

int main(int argc, char **argv)
{
    th_init(&argc, argv);
    int silent = int_arg("silent", 300), dribble = int_arg("dribble", 300);
    int stall = int_arg("stall", 100), syncs = int_arg("syncs", 200);
    int par = int_arg("bombs", 40), kib = int_arg("bomb-kib", 1024);
    int rounds = int_arg("bomb-rounds", 3), after_s = int_arg("after-s", 2);
    const char *mode = th_arg("mode") ? th_arg("mode") : "all";
    if (argc != 1 || silent < 0 || dribble < 0 || stall < 0 || syncs <= 0 || par <= 0 ||
        kib <= 0 || rounds <= 0 || after_s < 0 ||
        (strcmp(mode, "all") != 0 && strcmp(mode, "slow") != 0 && strcmp(mode, "bomb") != 0)) {
        fprintf(stderr,
                "usage: slowclient_bench [--silent N] [--dribble N] [--stall N] "
                "[--syncs N] [--bombs N] [--bomb-kib N] [--bomb-rounds N] [--after-s N] "
                "[--mode all|slow|bomb] [--roved PATH]\n");
        return 2;
    }
    if (strcmp(mode, "bomb") != 0)
        slow(silent, dribble, stall, syncs);
    if (strcmp(mode, "slow") != 0)
        bombs(par, kib, rounds, after_s);
    return 0;
}
