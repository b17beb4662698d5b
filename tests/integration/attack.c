/* Hostile clients: slow and silent connections, raw requests (see attack.h). */
#include "attack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <zlib.h>

#include "harness.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A TCP connection from src to 127.0.0.1:port; -1 on failure. */
static int tcp_connect(int port, uint32_t src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(src);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    a.sin_addr.s_addr = htonl(0x7f000001);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- a minimal TLS client (no certificate check: these are attackers) ---- */

typedef struct tls {
    int fd;
    const atomic_int *stop; /* may be NULL */
    /* While capturing, records are kept here instead of being sent, so that
     * they can be dribbled byte by byte. */
    int capturing;
    unsigned char cap[2048];
    size_t cap_len;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
} tls;

/* Waits for data in slices of 200 ms so a stop request is seen. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tls *t = ctx;
    struct pollfd p = {t->fd, POLLIN, 0};
    int rc = poll(&p, 1, 200);
    if (rc == 0)
        return (t->stop && atomic_load(t->stop)) ? MBEDTLS_ERR_SSL_TIMEOUT
                                                 : MBEDTLS_ERR_SSL_WANT_READ;
    if (rc < 0)
        return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
    ssize_t n = recv(t->fd, buf, len, 0);
    if (n < 0)
        return MBEDTLS_ERR_NET_RECV_FAILED;
    return (int)n; /* 0: the peer closed */
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tls *t = ctx;
    if (t->capturing) {
        if (len > sizeof(t->cap) - t->cap_len)
            return MBEDTLS_ERR_NET_SEND_FAILED;
        memcpy(t->cap + t->cap_len, buf, len);
        t->cap_len += len;
        return (int)len;
    }
    ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int tls_init(tls *t)
{
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, NULL, 0) != 0 ||
        mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return -1;
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    return 0;
}

static void tls_free(tls *t)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
}

/* A handshake on fd (a fresh session each time); 0 on success. */
static int tls_handshake(tls *t, int fd)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0)
        return -1;
    t->fd = fd;
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    int rc;
    while ((rc = mbedtls_ssl_handshake(&t->ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
           rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        ;
    return rc == 0 ? 0 : -1;
}

static int tls_write_all(tls *t, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        int n = mbedtls_ssl_write(&t->ssl, p, len);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ta_tls_try(int port, int suite)
{
    int fd = tcp_connect(port, 0x7f000001);
    if (fd < 0)
        return -1;
    tls t;
    memset(&t, 0, sizeof(t));
    int suites[2] = {suite, 0};
    int rc = tls_init(&t);
    if (rc == 0) {
        mbedtls_ssl_conf_ciphersuites(&t.conf, suites);
        rc = tls_handshake(&t, fd);
    }
    tls_free(&t);
    close(fd);
    return rc;
}

/* ---- pools of slow connections -------------------------------------------- */

typedef struct conn_thread {
    struct ta_pool *pool;
    pthread_t thread;
    uint32_t src;
    ta_stats st;
} conn_thread;

struct ta_pool {
    int port, n, interval_ms, backoff_ms;
    ta_kind kind;
    atomic_int stop;
    conn_thread *threads;
};

/* 1 when the server closed fd (or sent something: an alert or an error). */
static int peer_done(int fd, int wait_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, wait_ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

/* Sends text as one TLS record, one byte every interval_ms: the server's
 * TLS layer waits inside a single record read all along. 1 when the server
 * dropped the connection, 0 when the pool stopped. */
static int dribble_record(ta_pool *p, tls *t, int fd, const char *text)
{
    t->capturing = 1;
    t->cap_len = 0;
    int rc = tls_write_all(t, text, strlen(text));
    t->capturing = 0;
    if (rc != 0)
        return 1;
    for (size_t i = 0; i < t->cap_len; i++) {
        if (atomic_load(&p->stop))
            return 0;
        if (send(fd, t->cap + i, 1, MSG_NOSIGNAL) != 1 || peer_done(fd, p->interval_ms))
            return 1;
    }
    return -1; /* the record is complete and the server still waits */
}

/* Holds one connection the hostile way until the server drops it (returns 1)
 * or the pool stops (returns 0). */
static int hold(conn_thread *ct, tls *t, int fd)
{
    ta_pool *p = ct->pool;
    if (p->kind == TA_SILENT) {
        while (!atomic_load(&p->stop))
            if (peer_done(fd, 100))
                return 1;
        return 0;
    }
    if (tls_handshake(t, fd) != 0)
        return !atomic_load(&p->stop);
    ct->st.tls_ok++;
    static const char dribble_head[] = "POST /v1/sync HTTP/1.1\r\nHost: localhost\r\n";
    static const char stall_head[] = "POST /v1/login HTTP/1.1\r\nHost: localhost\r\n"
                                     "Content-Type: application/vnd.rove+cbor\r\n"
                                     "X-Rove-Protocol: 1\r\nContent-Length: 1000\r\n\r\n";
    /* The header dribbler sends even its first line byte by byte; the
     * staller sends a whole header, then its body byte by byte. Header
     * lines and body bytes go on for as long as the server listens. */
    if (p->kind == TA_BODY_STALL && tls_write_all(t, stall_head, strlen(stall_head)) != 0)
        return 1;
    const char *text = p->kind == TA_HEADER_DRIBBLE ? dribble_head : "\x78\x01";
    for (;;) {
        int rc = dribble_record(p, t, fd, text);
        if (rc >= 0)
            return rc;
        text = p->kind == TA_HEADER_DRIBBLE ? "X-Padding: aaaaaaaaaaaaaaaa\r\n" : "aaaaaaaa";
    }
}

static void *conn_main(void *arg)
{
    conn_thread *ct = arg;
    ta_pool *p = ct->pool;
    tls t;
    memset(&t, 0, sizeof(t));
    t.stop = &p->stop;
    if (tls_init(&t) != 0) {
        tls_free(&t);
        return NULL;
    }
    while (!atomic_load(&p->stop)) {
        int fd = tcp_connect(p->port, ct->src);
        if (fd < 0) {
            sleep_ms(p->backoff_ms);
            continue;
        }
        ct->st.connects++;
        double t0 = now_ms();
        int dropped = hold(ct, &t, fd);
        double held = now_ms() - t0;
        close(fd);
        if (held > ct->st.max_hold_ms)
            ct->st.max_hold_ms = held;
        if (dropped && held < 200)
            ct->st.refused++;
        else if (dropped) {
            ct->st.cut++;
            if (held > ct->st.max_cut_ms)
                ct->st.max_cut_ms = held;
        }
        if (!atomic_load(&p->stop))
            sleep_ms(p->backoff_ms);
    }
    tls_free(&t);
    return NULL;
}

ta_pool *ta_pool_start(int port, ta_kind kind, int n, uint32_t src, int distinct,
                       int interval_ms, int backoff_ms)
{
    ta_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->port = port;
    p->kind = kind;
    p->n = n;
    p->interval_ms = interval_ms;
    p->backoff_ms = backoff_ms;
    atomic_init(&p->stop, 0);
    p->threads = calloc((size_t)n, sizeof(*p->threads));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; p->threads != NULL && i < n; i++) {
        p->threads[i].pool = p;
        p->threads[i].src = distinct ? src + (uint32_t)i : src;
        if (pthread_create(&p->threads[i].thread, &attr, conn_main, &p->threads[i]) != 0) {
            p->n = i;
            break;
        }
    }
    pthread_attr_destroy(&attr);
    return p;
}

void ta_pool_stop(ta_pool *p, ta_stats *out)
{
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (p == NULL)
        return;
    atomic_store(&p->stop, 1);
    for (int i = 0; p->threads != NULL && i < p->n; i++) {
        pthread_join(p->threads[i].thread, NULL);
        const ta_stats *s = &p->threads[i].st;
        if (out == NULL)
            continue;
        out->connects += s->connects;
        out->refused += s->refused;
        out->cut += s->cut;
        out->tls_ok += s->tls_ok;
        if (s->max_hold_ms > out->max_hold_ms)
            out->max_hold_ms = s->max_hold_ms;
        if (s->max_cut_ms > out->max_cut_ms)
            out->max_cut_ms = s->max_cut_ms;
    }
    free(p->threads);
    free(p);
}

/* ---- one-shot requests ---------------------------------------------------- */

/* The value of header name in the response head (NUL-terminated), or "". */
static void header_value(const char *head, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
            h += nlen + 1;
            while (*h == ' ')
                h++;
            size_t n = strcspn(h, "\r\n");
            snprintf(out, size, "%.*s", (int)n, h);
            return;
        }
    }
}

int ta_request(int port, uint32_t src, const char *path, const void *body, size_t len,
               int bytes_per_s, int *status, char *code, size_t code_size)
{
    *status = 0;
    if (code != NULL && code_size > 0)
        code[0] = '\0';
    int fd = tcp_connect(port, src);
    if (fd < 0)
        return -1;
    tls t;
    memset(&t, 0, sizeof(t));
    int rc = -1;
    char head[1024];
    int hlen = snprintf(head, sizeof(head),
                        "POST %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        "Content-Type: application/vnd.rove+cbor\r\n"
                        "X-Rove-Protocol: 1\r\nContent-Length: %zu\r\n\r\n",
                        path, len);
    if (tls_init(&t) != 0 || tls_handshake(&t, fd) != 0 ||
        tls_write_all(&t, head, (size_t)hlen) != 0)
        goto done;
    /* The server may answer (and close) before the whole body is sent. */
    if (bytes_per_s <= 0) {
        (void)tls_write_all(&t, body, len);
    } else {
        /* A slow but steady link: 10 slices a second. */
        size_t slice = (size_t)bytes_per_s / 10 > 0 ? (size_t)bytes_per_s / 10 : 1;
        const unsigned char *p = body;
        for (size_t off = 0; off < len; off += slice) {
            size_t n = len - off < slice ? len - off : slice;
            if (tls_write_all(&t, p + off, n) != 0)
                break;
            if (off + n < len)
                sleep_ms(100);
        }
    }
    char resp[4096];
    size_t got = 0;
    double deadline = now_ms() + 30000;
    while (got + 1 < sizeof(resp) && now_ms() < deadline) {
        int n = mbedtls_ssl_read(&t.ssl, (unsigned char *)resp + got, sizeof(resp) - 1 - got);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        resp[got] = '\0';
        if (strstr(resp, "\r\n\r\n") != NULL)
            break;
    }
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.%*d %d", status) == 1) {
        rc = 0;
        if (code != NULL)
            header_value(resp, "X-Rove-Error", code, code_size);
    }
done:
    tls_free(&t);
    close(fd);
    return rc;
}

unsigned char *ta_zlib_bomb(size_t raw_size, size_t *len)
{
    size_t cap = raw_size + 4096;
    unsigned char *out = malloc(cap);
    static const unsigned char zeros[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (out == NULL || deflateInit(&z, 9) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_out = out;
    z.avail_out = (uInt)cap;
    /* Level 9 turns about 1030 zero bytes into one. */
    for (size_t in = 0; in < raw_size * 1000; in += sizeof(zeros)) {
        z.next_in = (Bytef *)(uintptr_t)zeros;
        z.avail_in = sizeof(zeros);
        deflate(&z, Z_NO_FLUSH);
    }
    z.avail_in = 0;
    deflate(&z, Z_FINISH);
    *len = z.total_out;
    deflateEnd(&z);
    return out;
}

double ta_rss_mb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    double mb = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
            mb = (double)kb / 1024.0;
            break;
        }
    }
    fclose(f);
    return mb;
}

void ta_device_login(const th_server *s, const char *dir, const char *label, const char *user,
                     const char *password)
{
    rove_client *c = th_client_open(s, dir, label);
    TH_ASSERT_ROVE(c, rove_client_login(c, user, password));
    rove_client_free(c);
}

double ta_device_sync(const th_server *s, const char *dir, const char *label, int *rc)
{
    rove_client *c = th_client_open(s, dir, label);
    rove_sync_report rep;
    double t0 = now_ms();
    *rc = rove_client_sync(c, &rep);
    double ms = now_ms() - t0;
    rove_client_free(c);
    return ms;
}
