/* Local CA and localhost server certificate generation (see cert.h). */
#include "cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "log.h"
#include "rove/errors.h"
#include "util.h"

#define PEM_SIZE 4096

static int rng(void *ctx, unsigned char *out, size_t n)
{
    (void)ctx;
    return roved_util_random(out, n) == 0 ? 0 : -1;
}

static int gen_key(mbedtls_pk_context *key)
{
    int rc = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), rng, NULL);
    return rc;
}

/* "YYYYMMDDhhmmss" in UTC, as mbedtls_x509write_crt_set_validity wants. */
static void x509_time(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int set_common(mbedtls_x509write_cert *crt, long days)
{
    unsigned char raw[16];
    if (roved_util_random(raw, sizeof(raw)) != 0)
        return -1;
    raw[0] &= 0x7f; /* a positive serial */
    raw[0] |= 0x01;
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    int rc = mbedtls_mpi_read_binary(&serial, raw, sizeof(raw));
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_serial(crt, &serial);
    mbedtls_mpi_free(&serial);
    time_t now = time(NULL);
    char from[32], to[32];
    /* Valid from a day ago (clock skew), for days in all: TLS checkers flag a
     * server certificate valid for more than 825 days. */
    x509_time(from, now - 24 * 3600);
    x509_time(to, now + (days - 1) * 24 * 3600);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_validity(crt, from, to);
    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_subject_key_identifier(crt);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_authority_key_identifier(crt);
    return rc;
}

/* subjectAltName: DNS:localhost, IP:127.0.0.1, IP:::1. Mbed TLS 2.28 has no
 * helper, so the DER is written by hand (backwards, as asn1write does). */
static int set_san(mbedtls_x509write_cert *crt)
{
    unsigned char buf[128];
    unsigned char *p = buf + sizeof(buf);
    static const unsigned char v4[4] = {127, 0, 0, 1};
    static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const char dns[] = "localhost";
    size_t len = 0;
    int rc;
#define W(expr)                                                                                \
    do {                                                                                       \
        if ((rc = (expr)) < 0)                                                                 \
            return rc;                                                                         \
        len += (size_t)rc;                                                                     \
    } while (0)
    W(mbedtls_asn1_write_raw_buffer(&p, buf, v6, sizeof(v6)));
    W(mbedtls_asn1_write_len(&p, buf, sizeof(v6)));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
    W(mbedtls_asn1_write_raw_buffer(&p, buf, v4, sizeof(v4)));
    W(mbedtls_asn1_write_len(&p, buf, sizeof(v4)));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
    W(mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)dns, sizeof(dns) - 1));
    W(mbedtls_asn1_write_len(&p, buf, sizeof(dns) - 1));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    W(mbedtls_asn1_write_len(&p, buf, len));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef W
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                                               0, p, len);
}

static int write_file(const char *path, mode_t mode, const char *a, const char *b)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    int ok = 1;
    for (const char *s = a; s != NULL; s = (s == a ? b : NULL)) {
        size_t n = strlen(s);
        if (write(fd, s, n) != (ssize_t)n)
            ok = 0;
    }
    if (fsync(fd) != 0)
        ok = 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int generate(const char *dir, const char *server_path)
{
    mbedtls_pk_context ca_key, srv_key;
    mbedtls_x509write_cert ca, srv;
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&srv_key);
    mbedtls_x509write_crt_init(&ca);
    mbedtls_x509write_crt_init(&srv);
    static char ca_pem[PEM_SIZE], srv_pem[PEM_SIZE], key_pem[PEM_SIZE];
    const char *step = "ca_key";
    int rc = gen_key(&ca_key);
    if (rc == 0) {
        step = "ca_cert";
        mbedtls_x509write_crt_set_subject_key(&ca, &ca_key);
        mbedtls_x509write_crt_set_issuer_key(&ca, &ca_key);
        rc = mbedtls_x509write_crt_set_subject_name(&ca, "CN=Rove Local CA,O=Rove");
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_issuer_name(&ca, "CN=Rove Local CA,O=Rove");
        if (rc == 0)
            rc = set_common(&ca, 3650);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_basic_constraints(&ca, 1, 0);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_key_usage(&ca, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                              MBEDTLS_X509_KU_CRL_SIGN);
        if (rc == 0)
            rc = mbedtls_x509write_crt_pem(&ca, (unsigned char *)ca_pem, sizeof(ca_pem), rng,
                                           NULL);
    }
    if (rc == 0) {
        step = "server_key";
        rc = gen_key(&srv_key);
    }
    if (rc == 0) {
        step = "server_cert";
        mbedtls_x509write_crt_set_subject_key(&srv, &srv_key);
        mbedtls_x509write_crt_set_issuer_key(&srv, &ca_key);
        rc = mbedtls_x509write_crt_set_subject_name(&srv, "CN=localhost,O=Rove");
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_issuer_name(&srv, "CN=Rove Local CA,O=Rove");
        if (rc == 0)
            rc = set_common(&srv, 825);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_basic_constraints(&srv, 0, -1);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_key_usage(&srv, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                               MBEDTLS_X509_KU_KEY_AGREEMENT);
        if (rc == 0)
            rc = set_san(&srv);
        if (rc == 0)
            rc = mbedtls_x509write_crt_pem(&srv, (unsigned char *)srv_pem, sizeof(srv_pem), rng,
                                           NULL);
        if (rc == 0)
            rc = mbedtls_pk_write_key_pem(&srv_key, (unsigned char *)key_pem, sizeof(key_pem));
    }
    if (rc == 0) {
        step = "write";
        char ca_path[1100];
        snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
        if (write_file(ca_path, 0644, ca_pem, NULL) != 0 ||
            write_file(server_path, 0600, key_pem, srv_pem) != 0)
            rc = -1;
    }
    if (rc != 0)
        roved_log_error("cert_failed", "step=%s mbedtls=%d errno=%d", step, rc, errno);
    memset(key_pem, 0, sizeof(key_pem));
    mbedtls_x509write_crt_free(&ca);
    mbedtls_x509write_crt_free(&srv);
    mbedtls_pk_free(&ca_key);
    mbedtls_pk_free(&srv_key);
    return rc == 0 ? 0 : ROVE_EGENERIC;
}

int roved_cert_ensure_demo(const char *dir, char *path, size_t size, int *created)
{
    *created = 0;
    snprintf(path, size, "%s/server.pem", dir);
    if (access(path, R_OK) == 0)
        return 0;
    int rc = generate(dir, path);
    if (rc == 0) {
        *created = 1;
        roved_log_info("cert_created", "ca=%s/ca.pem cert=%s", dir, path);
    }
    return rc;
}
