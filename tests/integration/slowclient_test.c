/*
 * Slow, silent and memory-hungry clients (issue 9, items 6 and 7): a source
 * that opens many silent, header-dribbling and body-stalling connections
 * must not starve the legitimate devices; every slow read ends at its
 * deadline while a slow but steady upload finishes; zlib bombs sent to the
 * unauthenticated /v1/login are refused without costing memory. The full
 * sizes are measured by tests/bench/slowclient_bench.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attack.h"
#include "cases.h"
#include "compress.h"
#include "harness.h"
#include "wire.h"

#define LOOPBACK 0x7f000001u
#define ATTACKER 0x7f000002u /* 127.0.0.2 */

/* n syncs of the legitimate device (127.0.0.1, a fresh connection each);
 * asserts that each succeeded within limit_ms. */
static void device_syncs(const th_server *s, const char *dir, int n, double limit_ms,
                         const char *what)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        int rc = 0;
        double ms = ta_device_sync(s, dir, "device", &rc);
        TH_ASSERT_MSG(rc == 0, "%s: sync %d failed after %.0f ms: %s", what, i, ms,
                      rove_error_name(rc));
        TH_ASSERT_MSG(ms < limit_ms, "%s: sync %d took %.0f ms", what, i, ms);
        if (ms > worst)
            worst = ms;
        usleep(100 * 1000);
    }
    th_log("%s: %d syncs, slowest %.0f ms", what, n, worst);
}

/*
 * One source (127.0.0.2) holds many more silent, header-dribbling and
 * body-stalling connections than roved has workers, and reopens each as
 * soon as it is dropped. The legitimate device keeps syncing quickly: the
 * source gets no more than its share of the workers.
 */
void test_integration__slow_clients_one_source(void)
{
    th_server *s = th_server_start(NULL); /* defaults: 32 workers */
    const char *dir = th_tmpdir("slow-one");
    ta_device_login(s, dir, "device", "rita", "rita-demo");
    ta_pool *silent = ta_pool_start(s->port, TA_SILENT, 40, ATTACKER, 0, 500, 50);
    ta_pool *dribble = ta_pool_start(s->port, TA_HEADER_DRIBBLE, 40, ATTACKER, 0, 500, 50);
    ta_pool *stall = ta_pool_start(s->port, TA_BODY_STALL, 30, ATTACKER, 0, 500, 50);
    sleep(2); /* let them take what they can */
    device_syncs(s, dir, 10, 5000, "under 110 slow connections from one source");
    TH_ASSERT(th_server_healthy(s));
    ta_stats st[3];
    ta_pool_stop(silent, &st[0]);
    ta_pool_stop(dribble, &st[1]);
    ta_pool_stop(stall, &st[2]);
    uint64_t refused = 0;
    for (int i = 0; i < 3; i++) {
        th_log("attacker %d: connects=%llu refused=%llu cut=%llu tls=%llu", i,
               (unsigned long long)st[i].connects, (unsigned long long)st[i].refused,
               (unsigned long long)st[i].cut, (unsigned long long)st[i].tls_ok);
        refused += st[i].refused;
    }
    TH_ASSERT_MSG(refused > 0, "the source's connections beyond its share were not refused");
    th_server_stop(s);
}

/*
 * Deadlines, from sources that each stay under the per-source cap: a header
 * dribbled one byte at a time and a stalled body are cut at their deadline
 * (well before the per-read idle timeout would ever fire), while a body sent
 * slowly but above the minimum rate is accepted. With more slow clients
 * than workers the device still syncs.
 */
void test_integration__slow_clients_deadlines(void)
{
    static const char *const args[] = {
        "--threads",
        "4",
        "--header-timeout-ms",
        "1000",
        "--body-timeout-ms",
        "1000",
        "--body-min-rate",
        "128",
        "--keep-alive-ms",
        "2000",
        NULL,
    };
    th_server *s = th_server_start(args);
    const char *dir = th_tmpdir("slow-deadlines");
    ta_device_login(s, dir, "device", "rita", "rita-demo");

    /* One of each, alone: cut between the deadline and a little after. */
    static const ta_kind kinds[] = {TA_SILENT, TA_HEADER_DRIBBLE, TA_BODY_STALL};
    static const char *const names[] = {"silent", "header dribble", "body stall"};
    for (int k = 0; k < 3; k++) {
        /* One byte a second: about 33 bytes with the TLS record around it,
         * well under --body-min-rate. */
        ta_pool *p =
            ta_pool_start(s->port, kinds[k], 1, 0x7f000101u + (uint32_t)k, 0, 1000, 1000);
        sleep(4);
        ta_stats st;
        ta_pool_stop(p, &st);
        th_log("%s: connects=%llu cut=%llu max_cut=%.0f ms max_hold=%.0f ms", names[k],
               (unsigned long long)st.connects, (unsigned long long)st.cut, st.max_cut_ms,
               st.max_hold_ms);
        TH_ASSERT_MSG(st.cut >= 1, "%s: never cut in 4 s (held %.0f ms)", names[k],
                      st.max_hold_ms);
        /* The silent one meets the handshake deadline (1 s); the others
         * spend a little on the handshake first. */
        TH_ASSERT_MSG(st.max_cut_ms >= 900 && st.max_cut_ms < 2500,
                      "%s: cut after %.0f ms, the deadline is 1000 ms", names[k],
                      st.max_cut_ms);
    }

    /* A slow but steady login body (4 bytes every 100 ms: about 330 B/s with
     * the TLS records, above --body-min-rate 128) takes longer than
     * --body-timeout-ms and is still read. */
    char dev[ROVE_ID_SIZE];
    th_new_id(dev);
    rove__buf b = ROVE__BUF_INIT, z = ROVE__BUF_INIT;
    rove__w_map(&b, 4);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    rove__w_text(&b, "user");
    rove__w_text(&b, "raj");
    rove__w_text(&b, "password");
    rove__w_text(&b, "raj-demo");
    rove__w_text(&b, "device_id");
    rove__w_text(&b, dev);
    TH_ASSERT(rove__deflate(&z, b.ptr, b.len, 0) == 0); /* stored: about 80 bytes */
    int status = 0;
    char code[64];
    double t0 = th_mono();
    TH_ASSERT(ta_request(s->port, 0x7f000110u, "/v1/login", z.ptr, z.len, 40, &status, code,
                         sizeof(code)) == 0);
    double took = th_mono() - t0;
    th_log("slow steady login body (%zu bytes at 40 B/s): %d %s after %.1f s", z.len, status,
           code, took);
    TH_ASSERT_MSG(status == 200, "slow steady login body: %d %s", status, code);
    TH_ASSERT(took > 1.0);
    rove__buf_free(&b);
    rove__buf_free(&z);

    /* Two of each kind, each from its own address (under any per-source
     * cap), more than the 4 workers: the device still gets through. */
    ta_pool *pools[3];
    for (int k = 0; k < 3; k++)
        pools[k] =
            ta_pool_start(s->port, kinds[k], 2, 0x7f000201u + 16u * (uint32_t)k, 1, 1000, 50);
    sleep(1);
    device_syncs(s, dir, 5, 5000, "under 6 slow clients from 6 sources, 4 workers");
    for (int k = 0; k < 3; k++) {
        ta_stats st;
        ta_pool_stop(pools[k], &st);
        TH_ASSERT_MSG(st.cut >= 1, "%s: never cut", names[k]);
    }
    TH_ASSERT(th_server_healthy(s));
    th_server_stop(s);
}

/* ---- zlib bombs before authentication ------------------------------------- */

typedef struct bomb_job {
    int port;
    const unsigned char *bomb;
    size_t len;
    int status;
    char code[64];
} bomb_job;

static void *send_bomb(void *arg)
{
    bomb_job *j = arg;
    ta_request(j->port, ATTACKER, "/v1/login", j->bomb, j->len, 0, &j->status, j->code,
               sizeof(j->code));
    return NULL;
}

/*
 * /v1/login is read before anyone is authenticated: a compressed login body
 * that is too large, or inflates to too much, is refused with 413 too_large,
 * and a flood of bombs costs roved next to no memory, during and after.
 */
void test_integration__login_bombs(void)
{
    th_server *s = th_server_start(NULL);
    /* A small bomb (under the raw cap) that inflates to about 4 MiB, and a
     * big one (128 KiB, inflating to about 128 MiB). */
    size_t small_len = 0, big_len = 0;
    unsigned char *small = ta_zlib_bomb(3500, &small_len);
    unsigned char *big = ta_zlib_bomb(128 * 1024, &big_len);
    TH_ASSERT(small != NULL && big != NULL);
    int status = 0;
    char code[64];
    TH_ASSERT(ta_request(s->port, ATTACKER, "/v1/login", small, small_len, 0, &status, code,
                         sizeof(code)) == 0);
    TH_ASSERT_MSG(status == 413 && strcmp(code, "too_large") == 0,
                  "small bomb (%zu bytes): %d %s", small_len, status, code);
    th_resp r;
    th_http(s, "POST", "/v1/login", NULL, NULL, small, small_len, &r);
    TH_ASSERT_EQ(r.status, 413);
    TH_ASSERT_MSG(strstr(r.errmsg, "16 KiB") != NULL, "small bomb (%zu bytes): %s", small_len,
                  r.errmsg);
    th_resp_free(&r);
    th_http(s, "POST", "/v1/login", NULL, NULL, big, big_len, &r);
    TH_ASSERT_EQ(r.status, 413);
    TH_ASSERT_STR(r.error, "too_large");
    TH_ASSERT_MSG(strstr(r.errmsg, "4 KiB") != NULL, "message: %s", r.errmsg);
    th_resp_free(&r);

    /* 8 parallel big bombs, 3 rounds, RSS sampled while they run. */
    enum { PAR = 8, ROUNDS = 3 };
    double base = ta_rss_mb(s->pid), peak = base;
    for (int round = 0; round < ROUNDS; round++) {
        bomb_job jobs[PAR];
        pthread_t th[PAR];
        for (int i = 0; i < PAR; i++) {
            jobs[i] = (bomb_job){s->port, big, big_len, 0, ""};
            TH_ASSERT(pthread_create(&th[i], NULL, send_bomb, &jobs[i]) == 0);
        }
        for (int k = 0; k < 20; k++) {
            double m = ta_rss_mb(s->pid);
            if (m > peak)
                peak = m;
            usleep(10 * 1000);
        }
        for (int i = 0; i < PAR; i++) {
            pthread_join(th[i], NULL);
            TH_ASSERT_MSG(jobs[i].status == 413 && strcmp(jobs[i].code, "too_large") == 0,
                          "bomb %d: %d %s", i, jobs[i].status, jobs[i].code);
        }
        double m = ta_rss_mb(s->pid);
        if (m > peak)
            peak = m;
    }
    sleep(1);
    double after = ta_rss_mb(s->pid);
    th_log("roved RSS: %.1f MB before, %.1f MB peak, %.1f MB after %d x %d bombs of %zu KiB",
           base, peak, after, ROUNDS, PAR, big_len / 1024);
    /* AddressSanitizer keeps freed memory in quarantine and gives every
     * worker thread its own caches: there, only gross growth counts. */
    double slack = th_arg("sanitize") != NULL ? 4.0 : 1.0;
    TH_ASSERT_MSG(peak - base < 48 * slack, "RSS grew by %.1f MB during the bombs",
                  peak - base);
    TH_ASSERT_MSG(after - base < 24 * slack, "RSS stayed %.1f MB higher after the bombs",
                  after - base);
    /* A real login still works. */
    th_login lg;
    TH_ASSERT_EQ(th_login_raw(s, "rita", "rita-demo", &lg), 200);
    free(small);
    free(big);
    th_server_stop(s);
}
