/*
 * roved: the Rove sync server. Parses the configuration, opens the store,
 * seeds demo data when asked, starts the HTTPS workers and waits for SIGTERM
 * or SIGINT; then stops accepting, lets in-flight requests finish (mg_stop
 * waits for them), checkpoints and closes the store, and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <civetweb.h>
#include <sqlite3.h>

#include "cert.h"
#include "config.h"
#include "delegation.h"
#include "demo.h"
#include "http.h"
#include "lease.h"
#include "log.h"
#include "resolver.h"
#include "rove/errors.h"
#include "rove/version.h"
#include "roved.h"
#include "store.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/*
 * Memory freed after a burst of large requests must go back to the system.
 * glibc raises its mmap threshold (up to 32 MiB) after the first large buffer
 * is freed, so later multi-megabyte request buffers come from per-thread
 * arenas that rarely shrink: a burst left hundreds of MB allocated. A fixed
 * threshold makes every buffer of 256 KiB or more its own mapping, unmapped
 * when freed, and fewer arenas bound what the small allocations fragment.
 */
static void tune_malloc(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 4);
#endif
}

static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    fprintf(stderr, "roved: cannot use data directory %s: %s\n", dir, strerror(errno));
    return ROVE_EINVAL;
}

int main(int argc, char **argv)
{
    tune_malloc();
    static roved_config cfg;
    if (roved_config_load(&cfg, argc, argv) != 0)
        return 2;
    if (cfg.help) {
        roved_config_print_help(stdout, argv[0]);
        return 0;
    }
    if (cfg.version) {
        printf("roved %s (protocol %d, SQLite %s)\n", ROVE_VERSION_STRING,
               ROVE_PROTOCOL_VERSION, sqlite3_libversion());
        return 0;
    }
    if (cfg.print_config_doc) {
        roved_config_print_doc(stdout);
        return 0;
    }
    int level = roved_log_level_parse(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "roved: unknown log level \"%s\"\n", cfg.log_level);
        return 2;
    }
    roved_log_set_level(level);
    if (roved_util_init() != 0) {
        fprintf(stderr, "roved: cannot seed the random generator\n");
        return 1;
    }
    if (sqlite3_threadsafe() == 0) {
        fprintf(stderr, "roved: SQLite was built without thread support\n");
        return 1;
    }
    roved_policy policy;
    char perr[300];
    if (roved_policy_load(&policy, &cfg, perr, sizeof(perr)) != 0) {
        fprintf(stderr, "roved: %s\n", perr);
        return 2;
    }
    if (cfg.resolver_plugin[0] != '\0' &&
        roved_resolver_load(cfg.resolver_plugin, perr, sizeof(perr)) != 0) {
        fprintf(stderr, "roved: %s\n", perr);
        return 2;
    }
    if (ensure_dir(cfg.data_dir) != 0)
        return 1;
    roved_lease_key *lease_key = NULL;
    if (roved_lease_key_load(cfg.data_dir, &lease_key, perr, sizeof(perr)) != 0) {
        fprintf(stderr, "roved: %s\n", perr);
        return 1;
    }

    /* A certificate is mandatory: there is no plain-HTTP mode. */
    if (cfg.cert[0] == '\0') {
        if (!cfg.demo) {
            fprintf(stderr, "roved: no TLS certificate configured. Pass --cert FILE (a PEM "
                            "file holding the private key and the certificate chain), or "
                            "--demo to create a local CA and a localhost certificate in "
                            "the data directory.\n");
            return 2;
        }
        int created = 0;
        if (roved_cert_ensure_demo(cfg.data_dir, cfg.cert, sizeof(cfg.cert), &created) != 0) {
            fprintf(stderr, "roved: could not create the demo certificates\n");
            return 1;
        }
        if (created)
            printf("Created a local CA: clients verify the server with --cacert %s/ca.pem\n",
                   cfg.data_dir);
    }
    if (access(cfg.cert, R_OK) != 0) {
        fprintf(stderr, "roved: cannot read certificate %s: %s\n", cfg.cert, strerror(errno));
        return 2;
    }

    static roved_server srv;
    srv.policy = policy;
    srv.lease_key = lease_key;
    srv.cfg = &cfg;
    pthread_mutex_init(&srv.hlc_lock, NULL);
    roved_store_options so = {cfg.data_dir, strcmp(cfg.synchronous, "full") == 0,
                              cfg.threads + 2};
    int rc = roved_store_open(&srv.store, &so);
    if (rc != 0) {
        fprintf(stderr, "roved: cannot open the store in %s (%s)\n", cfg.data_dir,
                rove_strerror(rc));
        return 1;
    }
    if (cfg.demo) {
        int seeded = 0;
        rc = roved_demo_seed(&srv, stdout, &seeded);
        if (rc != 0) {
            fprintf(stderr, "roved: seeding demo data failed (%s)\n", rove_strerror(rc));
            roved_store_close(srv.store);
            return 1;
        }
    }
    if (cfg.seed_bench > 0) {
        rc = roved_demo_seed_bench(&srv, cfg.seed_bench, stdout);
        if (rc != 0) {
            fprintf(stderr, "roved: seeding bench data failed (%s)\n", rove_strerror(rc));
            roved_store_close(srv.store);
            return 1;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    mg_init_library(MG_FEATURES_TLS);
    struct mg_context *ctx = NULL;
    if (roved_http_start(&srv, &ctx) != 0) {
        roved_store_close(srv.store);
        mg_exit_library();
        return 1;
    }
    if (roved_delegation_start(&srv) != 0) {
        roved_http_stop(ctx);
        roved_store_close(srv.store);
        mg_exit_library();
        return 1;
    }
    roved_log_info("started", "version=%s listen=%s data_dir=%s threads=%d synchronous=%s",
                   ROVE_VERSION_STRING, cfg.listen, cfg.data_dir, cfg.threads, cfg.synchronous);
    printf("roved %s listening on https://%s\n", ROVE_VERSION_STRING, cfg.listen);
    fflush(stdout);

    while (!stop_requested)
        pause();

    roved_log_info("stopping", "reason=signal");
    roved_delegation_stop();
    roved_http_stop(ctx);
    mg_exit_library();
    roved_store_close(srv.store);
    roved_lease_key_free(srv.lease_key);
    pthread_mutex_destroy(&srv.hlc_lock);
    roved_util_cleanup();
    roved_log_info("stopped", "exit=0");
    return 0;
}
