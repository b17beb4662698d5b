/*
 * HTTPS transport on libcurl: one easy handle per client, reused so the TLS
 * connection is kept alive between requests. curl's error codes are mapped to
 * ROVE_E* here and nowhere else; curl's own text is kept as the detail.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

struct rove__transport {
    CURL *curl;
    char *ca_file;
    char *pinned;
    long timeout_ms;
    char curl_err[CURL_ERROR_SIZE];
};

typedef struct sink {
    rove__buf *buf;
    size_t cap;
    int too_big;
    int nomem;
    rove__http_result *res;
} sink;

static char *dup_or_null(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int rove__transport_new(rove__transport **out, const rove__transport_opts *o)
{
    *out = NULL;
    rove__transport *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ROVE_ENOMEM;
    t->curl = curl_easy_init();
    t->ca_file = dup_or_null(o->ca_file);
    t->pinned = dup_or_null(o->pinned_pubkey);
    t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    if (t->curl == NULL || (o->ca_file && !t->ca_file) || (o->pinned_pubkey && !t->pinned)) {
        rove__transport_free(t);
        return ROVE_ENOMEM;
    }
    *out = t;
    return 0;
}

void rove__transport_free(rove__transport *t)
{
    if (t == NULL)
        return;
    if (t->curl)
        curl_easy_cleanup(t->curl);
    free(t->ca_file);
    free(t->pinned);
    free(t);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->buf->len + n > s->cap) {
        s->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (rove__buf_put(s->buf, ptr, n) != 0) {
        s->nomem = 1;
        return 0;
    }
    return n;
}

/* Copies a header value, trimmed, into dst if the line is "name: value". */
static int header_value(const char *line, size_t len, const char *name, char *dst,
                        size_t size)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':')
        return 0;
    for (size_t i = 0; i < nl; i++)
        if (tolower((unsigned char)line[i]) != tolower((unsigned char)name[i]))
            return 0;
    size_t a = nl + 1, b = len;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == '\r' || line[b - 1] == '\n' || line[b - 1] == ' '))
        b--;
    size_t n = b - a < size - 1 ? b - a : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)line[a + i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[n] = 0;
    return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    /* A new status line starts a new response (e.g. after 100 Continue). */
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        s->res->error_name[0] = 0;
        s->res->error_message[0] = 0;
    }
    if (!header_value(line, n, "X-Rove-Error-Message", s->res->error_message,
                      sizeof(s->res->error_message)))
        header_value(line, n, "X-Rove-Error", s->res->error_name,
                     sizeof(s->res->error_name));
    return n;
}

static int map_curl(CURLcode cc, const sink *s)
{
    switch (cc) {
    case CURLE_OK:
        return 0;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return ROVE_EPIN;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return ROVE_ETLS;
    case CURLE_OUT_OF_MEMORY:
        return ROVE_ENOMEM;
    case CURLE_WRITE_ERROR:
        if (s->too_big)
            return ROVE_ETOOBIG;
        if (s->nomem)
            return ROVE_ENOMEM;
        return ROVE_ENET;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return ROVE_EINVAL;
    default:
        return ROVE_ENET;
    }
}

int rove__transport_post(rove__transport *t, const char *url, const char *token,
                         const void *body, size_t len, rove__buf *resp,
                         rove__http_result *res, char *errbuf, size_t errsize)
{
    CURL *h = t->curl;
    struct curl_slist *hdrs = NULL;
    rove__buf auth = ROVE__BUF_INIT;
    int rc = 0;
    memset(res, 0, sizeof(*res));
    sink s = {resp, ROVE__MAX_INFLATED, 0, 0, res};

    hdrs = curl_slist_append(hdrs, "Content-Type: application/vnd.rove+cbor");
    hdrs = hdrs ? curl_slist_append(hdrs, "Accept: application/vnd.rove+cbor") : NULL;
    hdrs = hdrs ? curl_slist_append(hdrs, "X-Rove-Protocol: 1") : NULL;
    hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (hdrs != NULL && token != NULL) {
        rove__buf_printf(&auth, "Authorization: Bearer %s", token);
        if (rove__buf_status(&auth) != 0) {
            rc = ROVE_ENOMEM;
            goto cleanup;
        }
        struct curl_slist *n = curl_slist_append(hdrs, (const char *)auth.ptr);
        hdrs = n;
    }
    if (hdrs == NULL) {
        rc = ROVE_ENOMEM;
        goto cleanup;
    }

    curl_easy_reset(h); /* keeps live connections and the TLS session cache */
    t->curl_err[0] = 0;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "librove/" ROVE_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (t->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
    if (t->pinned != NULL)
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, t->pinned);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t->timeout_ms < 10000 ? t->timeout_ms
                                                                          : 10000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);

    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = map_curl(cc, &s);
        snprintf(errbuf, errsize, "%s", t->curl_err[0] ? t->curl_err : curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);

cleanup:
    /* The header list holds the bearer token: wipe it. */
    for (struct curl_slist *p = hdrs; p != NULL; p = p->next)
        rove__platform_zero(p->data, strlen(p->data));
    curl_slist_free_all(hdrs);
    rove__buf_free(&auth);
    if (rc != 0)
        rove__buf_clear(resp);
    return rc;
}

int rove__transport_status_error(const rove__http_result *res)
{
    if (res->error_name[0] != 0) {
        int code = rove_error_from_name(res->error_name);
        if (code != ROVE_ESERVER && code != ROVE_OK)
            return code;
    }
    if (res->status == 401)
        return ROVE_EAUTH;
    return ROVE_ESERVER;
}
