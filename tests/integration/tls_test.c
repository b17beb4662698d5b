/*
 * TLS: the SDK verifies the server certificate and the optional public-key
 * pin, and roved refuses protocol versions below TLS 1.2 and every cipher
 * suite but ECDHE with AEAD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "attack.h"
#include "cases.h"
#include "harness.h"

/* "sha256//<base64 of SHA-256 of the DER SubjectPublicKeyInfo>" of the first
 * (leaf) certificate in pem_file, as curl's CURLOPT_PINNEDPUBLICKEY expects. */
static void pin_of(const char *pem_file, char *out, size_t size)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = mbedtls_x509_crt_parse_file(&crt, pem_file);
    TH_ASSERT_MSG(rc >= 0 && crt.version != 0, "cannot parse a certificate in %s (%d)",
                  pem_file, rc);
    static unsigned char der[8192];
    int n = mbedtls_pk_write_pubkey_der(&crt.pk, der, sizeof(der));
    TH_ASSERT_MSG(n > 0, "mbedtls_pk_write_pubkey_der: %d", n);
    unsigned char hash[32];
    TH_ASSERT(mbedtls_sha256_ret(der + sizeof(der) - n, (size_t)n, hash, 0) == 0);
    unsigned char b64[64];
    size_t olen = 0;
    TH_ASSERT(mbedtls_base64_encode(b64, sizeof(b64), &olen, hash, sizeof(hash)) == 0);
    snprintf(out, size, "sha256//%.*s", (int)olen, (const char *)b64);
    mbedtls_x509_crt_free(&crt);
}

static int have_openssl(void) { return system("openssl version >/dev/null 2>&1") == 0; }

/* Runs a shell command; returns its exit status and its output in out. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    TH_ASSERT(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int try_login(const th_server *s, const char *dir, const char *label, const char *ca,
                     const char *pin, char *msg, size_t msgsize)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s.db", dir, label);
    rove_client *c = NULL;
    int rc = th_client_open_opts(&c, path, s->url, ca, pin);
    TH_ASSERT_MSG(rc == 0, "open: %s", rove_last_open_error());
    rc = rove_client_login(c, "rita", "rita-demo");
    snprintf(msg, msgsize, "%s", rove_client_errmsg(c));
    if (rc == 0) {
        rove_sync_report rep;
        rc = rove_client_sync(c, &rep);
        snprintf(msg, msgsize, "%s", rove_client_errmsg(c));
        if (rc == 0)
            TH_ASSERT(rep.pulled > 0);
    }
    rove_client_free(c);
    return rc;
}

void test_integration__tls(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("tls");
    char msg[600];
    int rc;

    /* A CA that did not sign the server certificate. */
    const char *system_ca = "/etc/ssl/certs/ca-certificates.crt";
    if (access(system_ca, R_OK) == 0) {
        rc = try_login(s, dir, "wrong-ca", system_ca, NULL, msg, sizeof(msg));
        TH_ASSERT_MSG(rc == ROVE_ETLS, "wrong CA: %d %s (%s)", rc, rove_error_name(rc), msg);
        TH_ASSERT(msg[0] != '\0');
        th_log("wrong CA file -> %s: %s", rove_error_name(rc), msg);
    }
    /* The server certificate file itself is no CA either (and the system
     * store, ca_file NULL, does not know our local CA). */
    rc = try_login(s, dir, "system-store", NULL, NULL, msg, sizeof(msg));
    TH_ASSERT_MSG(rc == ROVE_ETLS, "system store: %d %s (%s)", rc, rove_error_name(rc), msg);
    th_log("system CA store -> %s: %s", rove_error_name(rc), msg);

    /* Pins. */
    char pin[128];
    pin_of(s->cert, pin, sizeof(pin));
    th_log("server pin %s", pin);
    if (have_openssl()) {
        char cmd[1200], out[256];
        snprintf(cmd, sizeof(cmd),
                 "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform der "
                 "| openssl dgst -sha256 -binary | openssl enc -base64",
                 s->cert);
        TH_ASSERT_EQ(run(cmd, out, sizeof(out)), 0);
        out[strcspn(out, "\r\n")] = '\0';
        TH_ASSERT_MSG(strcmp(pin + 8, out) == 0, "pin %s, openssl says %s", pin + 8, out);
    }
    const char *wrong = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    rc = try_login(s, dir, "wrong-pin", s->ca, wrong, msg, sizeof(msg));
    TH_ASSERT_MSG(rc == ROVE_EPIN, "wrong pin: %d %s (%s)", rc, rove_error_name(rc), msg);
    TH_ASSERT(msg[0] != '\0');
    th_log("wrong pin -> %s: %s", rove_error_name(rc), msg);
    rc = try_login(s, dir, "right-pin", s->ca, pin, msg, sizeof(msg));
    TH_ASSERT_MSG(rc == 0, "right pin: %d %s (%s)", rc, rove_error_name(rc), msg);
    char both[256];
    snprintf(both, sizeof(both), "%s;%s", wrong, pin);
    rc = try_login(s, dir, "pin-list", s->ca, both, msg, sizeof(msg));
    TH_ASSERT_MSG(rc == 0, "pin list with the right pin second: %d %s (%s)", rc,
                  rove_error_name(rc), msg);
    /* A pin does not replace certificate verification. */
    if (access(system_ca, R_OK) == 0) {
        rc = try_login(s, dir, "pin-wrong-ca", system_ca, pin, msg, sizeof(msg));
        TH_ASSERT_MSG(rc == ROVE_ETLS, "right pin, wrong CA: %d %s (%s)", rc,
                      rove_error_name(rc), msg);
    }

    /* Protocol versions, with the openssl command-line client. */
    if (!have_openssl()) {
        th_log("SKIPPED the TLS version checks: openssl is not installed");
    } else {
        char cmd[1200], out[16384];
        snprintf(cmd, sizeof(cmd),
                 "openssl s_client -connect %s -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' "
                 "</dev/null 2>&1",
                 s->hostport);
        rc = run(cmd, out, sizeof(out));
        TH_ASSERT_MSG(rc != 0, "TLS 1.1 handshake succeeded:\n%s", out);
        snprintf(cmd, sizeof(cmd),
                 "openssl s_client -connect %s -tls1 -cipher 'DEFAULT:@SECLEVEL=0' "
                 "</dev/null 2>&1",
                 s->hostport);
        rc = run(cmd, out, sizeof(out));
        TH_ASSERT_MSG(rc != 0, "TLS 1.0 handshake succeeded:\n%s", out);
        snprintf(cmd, sizeof(cmd),
                 "openssl s_client -connect %s -tls1_2 -servername localhost -CAfile '%s' "
                 "-verify_return_error </dev/null 2>&1",
                 s->hostport, s->ca);
        rc = run(cmd, out, sizeof(out));
        TH_ASSERT_MSG(rc == 0, "TLS 1.2 handshake failed (%d):\n%s", rc, out);
        TH_ASSERT_MSG(strstr(out, "TLSv1.2") != NULL, "no TLSv1.2 in:\n%s", out);
        TH_ASSERT_MSG(strstr(out, "Verify return code: 0 (ok)") != NULL,
                      "the certificate does not verify against ca.pem:\n%s", out);
        th_log("openssl s_client: TLS 1.0/1.1 refused, TLS 1.2 verified");
    }
    TH_ASSERT(th_server_healthy(s));
    th_server_stop(s);
}

/* What `openssl s_client` makes of a handshake with the given options. */
static int s_client(const th_server *s, const char *opts, char *out, size_t size)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "openssl s_client -connect %s -servername localhost -CAfile '%s' "
             "-verify_return_error %s </dev/null 2>&1",
             s->hostport, s->ca, opts);
    return run(cmd, out, size);
}

/*
 * Only forward-secret key exchanges (ECDHE) with AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305) are accepted. Every suite Mbed TLS knows is offered
 * alone: with the demo certificate (ECDSA P-256) exactly the three
 * ECDHE-ECDSA AEAD suites succeed. Then the same with openssl s_client: CBC,
 * CCM-8 and TLS 1.1 refused, ECDHE-ECDSA-AES128-GCM-SHA256 and
 * ECDHE-ECDSA-CHACHA20-POLY1305 accepted.
 */
static time_t x509_epoch(const mbedtls_x509_time *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    return timegm(&tm);
}

void test_integration__tls_suites(void)
{
    th_server *s = th_server_start(NULL);

    /* The demo certificate is valid for at most 825 days (TLS checkers such
     * as testssl.sh flag longer ones). */
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    TH_ASSERT(mbedtls_x509_crt_parse_file(&crt, s->cert) >= 0);
    double days = difftime(x509_epoch(&crt.valid_to), x509_epoch(&crt.valid_from)) / 86400.0;
    mbedtls_x509_crt_free(&crt);
    TH_ASSERT_MSG(days <= 825.0, "the demo certificate is valid for %.1f days", days);

    int accepted = 0;
    for (const int *id = mbedtls_ssl_list_ciphersuites(); *id != 0; id++) {
        const mbedtls_ssl_ciphersuite_t *cs = mbedtls_ssl_ciphersuite_from_id(*id);
        TH_ASSERT(cs != NULL);
        int ok = ta_tls_try(s->port, *id) == 0;
        int want = cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA &&
                   (cs->cipher == MBEDTLS_CIPHER_AES_128_GCM ||
                    cs->cipher == MBEDTLS_CIPHER_AES_256_GCM ||
                    cs->cipher == MBEDTLS_CIPHER_CHACHA20_POLY1305);
        TH_ASSERT_MSG(ok == want, "%s: %s", cs->name, ok ? "accepted" : "refused");
        accepted += ok;
    }
    TH_ASSERT_EQ(accepted, 3);
    th_log("Mbed TLS client: 3 suites accepted, every other one refused");

    if (!have_openssl()) {
        th_log("SKIPPED the openssl s_client checks: openssl is not installed");
    } else {
        static const struct {
            const char *opts, *what;
            int ok;
        } cases[] = {
            {"-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
             1},
            {"-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305",
             1},
            {"-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256", "CBC (SHA-256)", 0},
            {"-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA", "CBC (SHA-1)", 0},
            {"-tls1_2 -cipher ECDHE-ECDSA-AES128-CCM8", "CCM-8", 0},
            {"-tls1_2 -cipher ECDHE-ECDSA-AES128-CCM", "CCM", 0},
            {"-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'", "TLS 1.1", 0},
        };
        char out[16384];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            int rc = s_client(s, cases[i].opts, out, sizeof(out));
            if (cases[i].ok) {
                TH_ASSERT_MSG(rc == 0 && strstr(out, cases[i].what) != NULL,
                              "%s refused (%d):\n%s", cases[i].what, rc, out);
            } else {
                TH_ASSERT_MSG(rc != 0, "%s accepted:\n%s", cases[i].what, out);
            }
        }
        th_log("openssl s_client: ECDHE-ECDSA GCM and ChaCha20 accepted; CBC, CCM(-8) and "
               "TLS 1.1 refused");
    }
    TH_ASSERT(th_server_healthy(s));
    th_server_stop(s);
}
