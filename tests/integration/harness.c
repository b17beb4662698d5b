/* The integration test harness (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "compress.h"
#include "hlc.h"
#include "id.h"
#include "schema.h"
#include "wire.h"

#ifndef ROVE_ROVED_PATH
#define ROVE_ROVED_PATH "roved"
#endif

#define MAX_SERVERS 32
#define MAX_DIRS 64

static const char *roved_path = ROVE_ROVED_PATH;
#define MAX_ARGS 16
static const char *arg_names[MAX_ARGS];
static const char *arg_values[MAX_ARGS];
static size_t nargs;
static th_server *servers[MAX_SERVERS];
static size_t nservers;
static char *dirs[MAX_DIRS];
static size_t ndirs;
static int in_cleanup;
static pid_t main_pid; /* forked helpers must not clean up the parent's things */
static pid_t tracked[16];
static size_t ntracked;
static double startup_timeout = 60.0;
static long http_timeout_s = 60; /* per raw request */
static unsigned rng_state;

/* ---- assertions and logging -------------------------------------------- */

void th_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void th_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    for (size_t i = 0; i < nservers; i++)
        if (servers[i] != NULL)
            th_server_dump_log(servers[i], 25);
    th_cleanup();
    _exit(1);
}

/* ---- setup and cleanup ------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void th_cleanup(void)
{
    if (in_cleanup || (main_pid != 0 && getpid() != main_pid))
        return;
    in_cleanup = 1;
    for (size_t i = 0; i < nservers; i++) {
        th_server *s = servers[i];
        if (s != NULL && s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
    }
    for (size_t i = 0; i < ntracked; i++) {
        if (tracked[i] > 0) {
            kill(tracked[i], SIGKILL);
            waitpid(tracked[i], NULL, 0);
        }
    }
    ntracked = 0;
    const char *keep = getenv("TH_KEEP");
    for (size_t i = 0; i < ndirs; i++) {
        if (keep == NULL || strcmp(keep, "1") != 0)
            nftw(dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        else
            fprintf(stderr, "  kept %s\n", dirs[i]);
        free(dirs[i]);
        dirs[i] = NULL;
    }
    ndirs = 0;
    for (size_t i = 0; i < nservers; i++) {
        free(servers[i]);
        servers[i] = NULL;
    }
    nservers = 0;
    in_cleanup = 0;
}

static void on_signal(int sig)
{
    (void)sig;
    th_cleanup();
    _exit(1);
}

void th_init(int *argc, char **argv)
{
    const char *env = getenv("ROVED");
    if (env != NULL && env[0] != '\0')
        roved_path = env;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--roved") == 0 && i + 1 < *argc) {
            roved_path = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0' && i + 1 < *argc &&
            nargs < MAX_ARGS) {
            arg_names[nargs] = argv[i] + 2;
            arg_values[nargs++] = argv[++i];
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    main_pid = getpid();
    rng_state = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)(th_mono() * 1e6);
    TH_ASSERT(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    TH_ASSERT(rove_global_init() == 0);
    atexit(th_cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
}

const char *th_roved_path(void) { return roved_path; }

const char *th_arg(const char *name)
{
    for (size_t i = 0; i < nargs; i++)
        if (strcmp(arg_names[i], name) == 0)
            return arg_values[i];
    return NULL;
}

const char *th_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char path[512];
    snprintf(path, sizeof(path), "%s/rove-%s-XXXXXX", base, tag);
    TH_ASSERT_MSG(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
    TH_ASSERT(ndirs < MAX_DIRS);
    dirs[ndirs] = strdup(path);
    TH_ASSERT(dirs[ndirs] != NULL);
    return dirs[ndirs++];
}

int64_t th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double th_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned next_rand(void)
{
    /* xorshift32: the harness only needs distinct ids and ports, not secrecy. */
    unsigned x = rng_state ? rng_state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

void th_new_id(char *out)
{
    unsigned char rnd[10];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, rnd, sizeof(rnd)) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(rnd))
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (unsigned char)next_rand();
    rove__id_make(out, (uint64_t)th_now_ms(), rnd);
}

/* ---- servers ------------------------------------------------------------ */

static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static int pick_port(void)
{
    for (int i = 0; i < 200; i++) {
        int p = 20000 + (int)(next_rand() % 40000u);
        if (port_free(p))
            return p;
    }
    return 20000 + (int)(next_rand() % 40000u);
}

static void set_port(th_server *s, int port)
{
    s->port = port;
    snprintf(s->url, sizeof(s->url), "https://localhost:%d", port);
    snprintf(s->hostport, sizeof(s->hostport), "127.0.0.1:%d", port);
}

static pid_t spawn(th_server *s, int demo)
{
    const char *argv[TH_MAX_ARGS + 12];
    size_t n = 0;
    argv[n++] = roved_path;
    argv[n++] = "--data-dir";
    argv[n++] = s->dir;
    argv[n++] = "--listen";
    argv[n++] = s->hostport;
    if (demo) {
        argv[n++] = "--demo";
    } else {
        argv[n++] = "--cert";
        argv[n++] = s->cert;
    }
    for (size_t i = 0; i < s->nextra; i++)
        argv[n++] = s->extra[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    TH_ASSERT_MSG(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The server must not outlive a test killed by a ctest timeout. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        execv(roved_path, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", roved_path, strerror(errno));
        _exit(127);
    }
    return pid;
}

/* 1 when the log written since offset `from` says the port was taken. */
static int log_mentions_bind_failure(const th_server *s, long from)
{
    FILE *f = fopen(s->log, "r");
    if (f == NULL)
        return 0;
    if (from > 0)
        fseek(f, from, SEEK_SET);
    char line[1024];
    int hit = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "cannot serve") || strstr(line, "in use") ||
            strstr(line, "http_start_failed"))
            hit = 1;
    fclose(f);
    return hit;
}

/* Starts the process and waits for /healthz; retries on another port when
 * the port turns out to be taken. */
static void start(th_server *s, int demo)
{
    double t0 = th_mono();
    for (int attempt = 0; attempt < 10; attempt++) {
        /* Bind failures are looked for in what this run writes only. */
        FILE *lf = fopen(s->log, "a");
        if (lf != NULL) {
            fprintf(lf, "---- harness: starting roved on %s (%s)\n", s->hostport,
                    demo ? "demo" : "restart");
            fclose(lf);
        }
        long log_start = 0;
        struct stat st;
        if (stat(s->log, &st) == 0)
            log_start = (long)st.st_size;
        s->pid = spawn(s, demo);
        int exited = 0, status = 0;
        double deadline = th_mono() + startup_timeout;
        while (th_mono() < deadline) {
            pid_t w = waitpid(s->pid, &status, WNOHANG);
            if (w == s->pid) {
                exited = 1;
                s->pid = 0;
                break;
            }
            if (access(s->ca, R_OK) == 0 && th_server_healthy(s)) {
                s->startup_s = th_mono() - t0;
                return;
            }
            usleep(50 * 1000);
        }
        if (!exited) {
            th_server_dump_log(s, 40);
            th_fail(__FILE__, __LINE__, "roved did not answer /healthz within %.0f s",
                    startup_timeout);
        }
        if (attempt < 9 && log_mentions_bind_failure(s, log_start)) {
            th_log("port %d busy, retrying on another port", s->port);
            set_port(s, pick_port());
            continue;
        }
        th_server_dump_log(s, 40);
        th_fail(__FILE__, __LINE__, "roved exited during startup (status %d)",
                WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    }
    th_fail(__FILE__, __LINE__, "could not find a free port for roved");
}

void th_track_pid(pid_t pid)
{
    TH_ASSERT(ntracked < sizeof(tracked) / sizeof(tracked[0]));
    tracked[ntracked++] = pid;
}

void th_set_startup_timeout(double seconds) { startup_timeout = seconds; }

th_server *th_server_start(const char *const *extra)
{
    TH_ASSERT(nservers < MAX_SERVERS);
    th_server *s = calloc(1, sizeof(*s));
    TH_ASSERT(s != NULL);
    servers[nservers++] = s;
    const char *dir = th_tmpdir("roved");
    snprintf(s->dir, sizeof(s->dir), "%s/data", dir);
    TH_ASSERT(mkdir(s->dir, 0700) == 0);
    snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", s->dir);
    snprintf(s->cert, sizeof(s->cert), "%s/server.pem", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/roved.log", dir);
    for (size_t i = 0; extra != NULL && extra[i] != NULL && i < TH_MAX_ARGS; i++)
        s->extra[s->nextra++] = extra[i];
    /* TH_FIRST_PORT forces the first port tried (to exercise the retry). */
    const char *forced = getenv("TH_FIRST_PORT");
    set_port(s, forced != NULL && atoi(forced) > 0 ? atoi(forced) : pick_port());
    start(s, 1);
    return s;
}

static int wait_exit(pid_t pid, double seconds, int *status)
{
    double deadline = th_mono() + seconds;
    while (th_mono() < deadline) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 1;
        usleep(20 * 1000);
    }
    return 0;
}

void th_server_stop(th_server *s)
{
    TH_ASSERT(s->pid > 0);
    pid_t pid = s->pid;
    double t0 = th_mono();
    TH_ASSERT(kill(pid, SIGTERM) == 0);
    int status = 0;
    int done = wait_exit(pid, 20.0, &status);
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        s->pid = 0;
        th_fail(__FILE__, __LINE__, "roved did not exit within 20 s of SIGTERM");
    }
    s->pid = 0;
    th_log("roved stopped by SIGTERM in %.2f s", th_mono() - t0);
    TH_ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "roved after SIGTERM: %s %d (expected exit status 0)",
                  WIFEXITED(status) ? "exit status" : "killed by signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void th_server_kill(th_server *s)
{
    TH_ASSERT(s->pid > 0);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void th_server_restart(th_server *s)
{
    TH_ASSERT(s->pid == 0);
    if (!port_free(s->port))
        set_port(s, pick_port());
    start(s, 0);
}

void th_server_dump_log(const th_server *s, int lines)
{
    FILE *f = fopen(s->log, "r");
    if (f == NULL)
        return;
    char *ring[200];
    int n = 0;
    if (lines > 200)
        lines = 200;
    char buf[1024];
    memset(ring, 0, sizeof(ring));
    while (fgets(buf, sizeof(buf), f) != NULL) {
        free(ring[n % lines]);
        ring[n % lines] = strdup(buf);
        n++;
    }
    fclose(f);
    fprintf(stderr, "---- last lines of %s\n", s->log);
    int first = n > lines ? n - lines : 0;
    for (int i = first; i < n; i++)
        fputs(ring[i % lines] ? ring[i % lines] : "", stderr);
    for (int i = 0; i < lines; i++)
        free(ring[i]);
    fprintf(stderr, "----\n");
}

/* ---- raw HTTPS ---------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    rove__buf *b = ud;
    size_t n = size * nmemb;
    if (rove__buf_put(b, p, n) != 0)
        return 0;
    return n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= size)
        len = size - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    th_resp *r = ud;
    size_t n = size * nmemb;
    header_value(p, n, "X-Rove-Error", r->error, sizeof(r->error));
    header_value(p, n, "X-Rove-Error-Message", r->errmsg, sizeof(r->errmsg));
    return n;
}

void th_resp_free(th_resp *r) { rove__buf_free(&r->body); }

static char http_source[64];

void th_set_source(const char *addr)
{
    snprintf(http_source, sizeof(http_source), "%s", addr ? addr : "");
}

void th_http(const th_server *s, const char *method, const char *path, const char *token,
             const char *content_type, const void *body, size_t len, th_resp *out)
{
    memset(out, 0, sizeof(*out));
    rove__buf_init(&out->body);
    CURL *h = curl_easy_init();
    TH_ASSERT(h != NULL);
    char url[256], resolve[128], auth[160], ctype[160];
    snprintf(url, sizeof(url), "%s%s", s->url, path);
    snprintf(resolve, sizeof(resolve), "localhost:%d:127.0.0.1", s->port);
    struct curl_slist *res = curl_slist_append(NULL, resolve);
    struct curl_slist *hdr = NULL;
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    int is_post = strcmp(method, "POST") == 0;
    if (is_post) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s",
                 content_type ? content_type : "application/vnd.rove+cbor");
        hdr = curl_slist_append(hdr, ctype);
        hdr = curl_slist_append(hdr, "X-Rove-Protocol: 1");
        hdr = curl_slist_append(hdr, "Expect:");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, res);
    char source[80];
    if (http_source[0] != '\0') {
        snprintf(source, sizeof(source), "host!%s", http_source);
        curl_easy_setopt(h, CURLOPT_INTERFACE, source);
    }
    curl_easy_setopt(h, CURLOPT_CAINFO, s->ca);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, http_timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    if (is_post) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    out->curl_rc = (int)curl_easy_perform(h);
    if (out->curl_rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hdr);
    curl_slist_free_all(res);
    curl_easy_cleanup(h);
}

int th_server_healthy(const th_server *s)
{
    th_resp r;
    long saved = http_timeout_s;
    http_timeout_s = 8; /* a health check that takes longer has failed */
    th_http(s, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
    http_timeout_s = saved;
    int ok = r.curl_rc == 0 && r.status == 200 && r.body.len > 0 &&
             strstr((const char *)r.body.ptr, "\"ok\"") != NULL;
    th_resp_free(&r);
    return ok;
}

void th_post_cbor(const th_server *s, const char *path, const char *token, const void *cbor,
                  size_t len, th_resp *out)
{
    rove__buf z = ROVE__BUF_INIT;
    TH_ASSERT(rove__deflate(&z, cbor, len, 6) == 0);
    th_http(s, "POST", path, token, NULL, z.ptr, z.len, out);
    rove__buf_free(&z);
}

long th_login_raw(const th_server *s, const char *user, const char *password, th_login *out)
{
    char dev[ROVE_ID_SIZE];
    th_new_id(dev);
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 5);
    rove__w_text(&b, "v");
    rove__w_int(&b, 1);
    rove__w_text(&b, "user");
    rove__w_text(&b, user);
    rove__w_text(&b, "password");
    rove__w_text(&b, password);
    rove__w_text(&b, "device_id");
    rove__w_text(&b, dev);
    rove__w_text(&b, "device_name");
    rove__w_text(&b, "integration-test");
    TH_ASSERT(rove__buf_status(&b) == 0);
    th_resp r;
    th_post_cbor(s, "/v1/login", NULL, b.ptr, b.len, &r);
    rove__buf_free(&b);
    TH_ASSERT_MSG(r.curl_rc == 0, "login: no HTTP answer (curl %d)", r.curl_rc);
    long status = r.status;
    if (status == 200 && out != NULL) {
        memset(out, 0, sizeof(*out));
        rove__buf plain = ROVE__BUF_INIT;
        TH_ASSERT(rove__inflate(&plain, r.body.ptr, r.body.len, 1u << 20) == 0);
        rove__flat_field f[] = {
            {"v", 0, {0}},    {"token", 0, {0}},     {"user_id", 0, {0}},
            {"role", 0, {0}}, {"device_id", 0, {0}},
        };
        rove__errinfo err;
        TH_ASSERT(rove__flat_parse(plain.ptr, plain.len, f, 5, &err) == 0);
        TH_ASSERT(f[0].present && f[0].v.i == 1);
        TH_ASSERT(rove__flat_text(&f[1], out->token, sizeof(out->token)) == 0);
        TH_ASSERT(rove__flat_text(&f[2], out->user_id, sizeof(out->user_id)) == 0);
        TH_ASSERT(rove__flat_text(&f[3], out->role, sizeof(out->role)) == 0);
        TH_ASSERT(rove__flat_text(&f[4], out->device_id, sizeof(out->device_id)) == 0);
        TH_ASSERT_EQ(strlen(out->token), 64);
        TH_ASSERT_STR(out->device_id, dev);
        rove__buf_free(&plain);
    }
    th_resp_free(&r);
    return status;
}

/* ---- crafting sync requests -------------------------------------------- */

rove__value th_text(const char *s)
{
    rove__value v = {ROVE__T_TEXT, 0, 0, s, s ? strlen(s) : 0};
    if (s == NULL)
        v.type = ROVE__T_NULL;
    return v;
}

rove__value th_int(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}

rove__value th_real(double d)
{
    rove__value v = {ROVE__T_REAL, 0, d, NULL, 0};
    return v;
}

rove__value th_null(void)
{
    rove__value v = {ROVE__T_NULL, 0, 0, NULL, 0};
    return v;
}

void th_w_request(rove__buf *b, int64_t version, int64_t cursor, int64_t limit, size_t nchanges)
{
    rove__w_map(b, 5);
    rove__w_text(b, "v");
    rove__w_int(b, version);
    rove__w_text(b, "cursor");
    rove__w_int(b, cursor);
    rove__w_text(b, "limit");
    rove__w_int(b, limit);
    rove__w_text(b, "hlc");
    rove__w_int(b, (int64_t)rove__hlc_pack((uint64_t)th_now_ms(), 0));
    rove__w_text(b, "changes");
    rove__w_array(b, nchanges);
}

static int64_t clock_skew_ms;

void th_set_clock_skew(int64_t ms) { clock_skew_ms = ms; }

void th_w_change(rove__buf *b, const char *change_id, const char *table, int op,
                 const char *record_id, int64_t base_version, const th_col *cols, size_t ncols)
{
    rove__w_array(b, 7);
    rove__w_text(b, change_id);
    rove__w_text(b, table);
    rove__w_int(b, op);
    rove__w_text(b, record_id);
    rove__w_int(b, base_version);
    rove__w_int(b, (int64_t)rove__hlc_pack((uint64_t)(th_now_ms() + clock_skew_ms), 1));
    rove__w_map(b, ncols);
    for (size_t i = 0; i < ncols; i++) {
        rove__w_text(b, cols[i].name);
        switch (cols[i].v.type) {
        case ROVE__T_INT:
            rove__w_int(b, cols[i].v.i);
            break;
        case ROVE__T_REAL:
            rove__w_real(b, cols[i].v.d);
            break;
        case ROVE__T_TEXT:
            rove__w_textn(b, cols[i].v.s, cols[i].v.len);
            break;
        default:
            rove__w_null(b);
            break;
        }
    }
}

/* ---- parsing responses into a snapshot ---------------------------------- */

typedef struct pull_ctx {
    th_sync_result *out;
    sqlite3 *db;
    sqlite3_stmt *ins;
    const rove__table *table;
    int fail;
} pull_ctx;

static void copy_n(char *dst, size_t size, const char *s, size_t len)
{
    if (s == NULL) {
        dst[0] = '\0';
        return;
    }
    if (len >= size)
        len = size - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

static int on_receipt(const rove__receipt *r, void *payload)
{
    pull_ctx *p = payload;
    th_sync_result *o = p->out;
    if (o->nreceipts >= TH_MAX_RECEIPTS)
        return 0;
    th_receipt *t = &o->receipts[o->nreceipts++];
    copy_n(t->change_id, sizeof(t->change_id), r->change_id, r->change_id_len);
    t->status = (int)r->status;
    copy_n(t->code, sizeof(t->code), r->code, r->code_len);
    copy_n(t->message, sizeof(t->message), r->message, r->message_len);
    t->version = r->version;
    return 0;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    TH_ASSERT_MSG(rc == SQLITE_OK, "sqlite: %s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

static int on_table(const rove__table *t, const int *cols, size_t ncols, void *payload)
{
    pull_ctx *p = payload;
    if (p->db == NULL)
        return 0;
    sqlite3_finalize(p->ins);
    p->ins = NULL;
    p->table = t;
    rove__buf sql = ROVE__BUF_INIT;
    rove__buf_printf(&sql, "INSERT OR REPLACE INTO %s(", t->name);
    int first = 1;
    for (size_t i = 0; i < ncols; i++) {
        if (cols[i] < 0)
            continue;
        rove__buf_printf(&sql, "%s%s", first ? "" : ",", t->cols[cols[i]].name);
        first = 0;
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(p->db, "INSERT OR IGNORE INTO _wire_cols(tbl, col) VALUES(?1, ?2)",
                           -1, &st, NULL);
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->cols[cols[i]].name, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    rove__buf_puts(&sql, ") VALUES(");
    first = 1;
    for (size_t i = 0; i < ncols; i++) {
        if (cols[i] < 0)
            continue;
        rove__buf_printf(&sql, "%s?%zu", first ? "" : ",", i + 1);
        first = 0;
    }
    rove__buf_puts(&sql, ")");
    int rc = sqlite3_prepare_v2(p->db, (const char *)sql.ptr, -1, &p->ins, NULL);
    TH_ASSERT_MSG(rc == SQLITE_OK, "prepare %s: %s", (const char *)sql.ptr,
                  sqlite3_errmsg(p->db));
    rove__buf_free(&sql);
    return 0;
}

static void bind_value(sqlite3_stmt *st, int i, const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_INT:
        sqlite3_bind_int64(st, i, v->i);
        break;
    case ROVE__T_REAL:
        sqlite3_bind_double(st, i, v->d);
        break;
    case ROVE__T_TEXT:
        sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_bind_null(st, i);
        break;
    }
}

static void delete_row(sqlite3 *db, const char *table, const char *id, size_t idlen)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", table);
    sqlite3_stmt *st = NULL;
    TH_ASSERT(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, id, (int)idlen, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

static int on_row(const rove__table *t, const int *cols, const rove__value *vals, size_t ncols,
                  void *payload)
{
    pull_ctx *p = payload;
    p->out->nrows++;
    if (p->db == NULL)
        return 0;
    const rove__value *id = NULL;
    int deleted = 0;
    for (size_t i = 0; i < ncols; i++) {
        if (cols[i] == ROVE__COL_ID)
            id = &vals[i];
        if (cols[i] == ROVE__COL_DELETED && vals[i].type == ROVE__T_INT && vals[i].i != 0)
            deleted = 1;
    }
    TH_ASSERT_MSG(id != NULL && id->type == ROVE__T_TEXT, "pulled %s row without id", t->name);
    if (deleted) {
        delete_row(p->db, t->name, id->s, id->len);
        return 0;
    }
    sqlite3_reset(p->ins);
    sqlite3_clear_bindings(p->ins);
    for (size_t i = 0; i < ncols; i++)
        if (cols[i] >= 0)
            bind_value(p->ins, (int)i + 1, &vals[i]);
    int rc = sqlite3_step(p->ins);
    TH_ASSERT_MSG(rc == SQLITE_DONE, "snapshot insert into %s: %s", t->name,
                  sqlite3_errmsg(p->db));
    return 0;
}

static int on_evict(const rove__table *t, const char *id, const char *reason, size_t reason_len,
                    void *payload)
{
    pull_ctx *p = payload;
    p->out->nevict++;
    if (p->db != NULL)
        delete_row(p->db, t->name, id, strlen(id));
    return 0;
}

long th_sync_raw(const th_server *s, const char *token, const rove__buf *cbor,
                 th_sync_result *out, sqlite3 *db)
{
    memset(out, 0, sizeof(*out));
    TH_ASSERT(rove__buf_status(cbor) == 0);
    th_post_cbor(s, "/v1/sync", token, cbor->ptr, cbor->len, &out->resp);
    if (out->resp.curl_rc != 0)
        return 0;
    if (out->resp.status != 200)
        return out->resp.status;
    rove__buf plain = ROVE__BUF_INIT;
    int rc = rove__inflate(&plain, out->resp.body.ptr, out->resp.body.len, ROVE__MAX_INFLATED);
    TH_ASSERT_MSG(rc == 0, "sync answer is not zlib (%d)", rc);
    rove__sync_resp_handler h = {on_receipt, on_table, on_row, on_evict};
    pull_ctx p = {out, db, NULL, NULL, 0};
    rove__sync_resp_hdr hdr;
    rove__errinfo err = {0, ""};
    if (db != NULL)
        exec_sql(db, "BEGIN");
    out->parse_rc = rove__sync_resp_parse(plain.ptr, plain.len, &h, &p, &hdr, &err);
    sqlite3_finalize(p.ins);
    if (db != NULL)
        exec_sql(db, out->parse_rc == 0 ? "COMMIT" : "ROLLBACK");
    TH_ASSERT_MSG(out->parse_rc == 0, "sync answer does not parse: %d %s", out->parse_rc,
                  err.msg);
    out->cursor = hdr.cursor;
    out->more = hdr.more;
    rove__buf_free(&plain);
    return 200;
}

void th_sync_result_free(th_sync_result *out) { th_resp_free(&out->resp); }

sqlite3 *th_snapshot_new(void)
{
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open(":memory:", &db) == SQLITE_OK);
    rove__buf ddl = ROVE__BUF_INIT;
    TH_ASSERT(rove__schema_ddl(&ddl, ROVE__DDL_REPLICA) == 0);
    exec_sql(db, (const char *)ddl.ptr);
    rove__buf_free(&ddl);
    exec_sql(db, "CREATE TABLE _wire_cols(tbl TEXT, col TEXT, PRIMARY KEY(tbl, col))");
    return db;
}

int64_t th_snapshot_pull(const th_server *s, const char *token, sqlite3 *db)
{
    int64_t cursor = 0;
    for (int page = 0; page < 10000; page++) {
        rove__buf b = ROVE__BUF_INIT;
        th_w_request(&b, 1, cursor, 0, 0);
        th_sync_result *r = malloc(sizeof(*r));
        TH_ASSERT(r != NULL);
        long st = th_sync_raw(s, token, &b, r, db);
        rove__buf_free(&b);
        TH_ASSERT_MSG(st == 200, "pull: HTTP %ld %s %s (curl %d)", st, r->resp.error,
                      r->resp.errmsg, r->resp.curl_rc);
        TH_ASSERT(r->cursor >= cursor);
        cursor = r->cursor;
        int more = r->more;
        th_sync_result_free(r);
        free(r);
        if (!more)
            return cursor;
    }
    th_fail(__FILE__, __LINE__, "pull did not finish");
}

sqlite3 *th_snapshot(const th_server *s, const char *user, const char *password,
                     int64_t *cursor_out)
{
    th_login l;
    long st = th_login_raw(s, user, password, &l);
    TH_ASSERT_MSG(st == 200, "login %s: HTTP %ld", user, st);
    sqlite3 *db = th_snapshot_new();
    int64_t cursor = th_snapshot_pull(s, l.token, db);
    if (cursor_out != NULL)
        *cursor_out = cursor;
    return db;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    TH_ASSERT_MSG(rc == SQLITE_OK, "prepare %s: %s", sql, sqlite3_errmsg(db));
    if (p1 != NULL)
        sqlite3_bind_text(st, 1, p1, -1, SQLITE_TRANSIENT);
    if (p2 != NULL)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_TRANSIENT);
    return st;
}

int64_t th_db_int(sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st = prep(db, sql, p1, p2);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

void th_db_text(sqlite3 *db, const char *sql, const char *p1, char *out, size_t size)
{
    sqlite3_stmt *st = prep(db, sql, p1, NULL);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

char *th_db_dump(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = prep(db, sql, NULL, NULL);
    rove__buf b = ROVE__BUF_INIT;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            rove__buf_printf(&b, "%s%s", i ? "|" : "", v ? v : "NULL");
        }
        rove__buf_puts(&b, "\n");
    }
    sqlite3_finalize(st);
    rove__buf_puts(&b, "");
    TH_ASSERT(rove__buf_status(&b) == 0);
    return (char *)rove__buf_detach(&b, NULL);
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

char *th_db_fingerprint(sqlite3 *db)
{
    size_t nt;
    const rove__table *t = rove__schema_tables(&nt);
    rove__buf b = ROVE__BUF_INIT;
    for (size_t i = 0; i < nt; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY id", t[i].name);
        char *dump = th_db_dump(db, sql);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t[i].name);
        int64_t n = th_db_int(db, sql, NULL, NULL);
        snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s", t[i].name);
        int64_t mx = th_db_int(db, sql, NULL, NULL);
        rove__buf_printf(&b, "%s: rows=%lld max_version=%lld hash=%016llx\n", t[i].name,
                         (long long)n, (long long)mx,
                         (unsigned long long)fnv(1469598103934665603ull, dump));
        free(dump);
    }
    TH_ASSERT(rove__buf_status(&b) == 0);
    return (char *)rove__buf_detach(&b, NULL);
}

/* ---- SDK helpers --------------------------------------------------------- */

int th_client_open_opts(rove_client **out, const char *db_path, const char *url, const char *ca,
                        const char *pin)
{
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = db_path;
    o.server_url = url;
    o.ca_file = ca;
    o.pinned_pubkey = pin;
    o.device_name = "integration-test";
    o.timeout_ms = 60000;
    return rove_client_open(out, &o);
}

rove_client *th_client_open(const th_server *s, const char *dir, const char *label)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s.db", dir, label);
    rove_client *c = NULL;
    int rc = th_client_open_opts(&c, path, s->url, s->ca, NULL);
    TH_ASSERT_MSG(rc == 0, "rove_client_open %s: %s: %s", path, rove_error_name(rc),
                  rove_last_open_error());
    return c;
}

int64_t th_client_int(rove_client *c, const char *sql, const char *p1)
{
    rove_rows *q = NULL;
    const char *params[1] = {p1};
    TH_ASSERT_ROVE(c, rove_client_query(c, &q, sql, p1 ? params : NULL, p1 ? 1 : 0));
    int64_t v = -1;
    int rc = rove_rows_next(q);
    TH_ASSERT_MSG(rc >= 0, "rove_rows_next: %s", rove_error_name(rc));
    if (rc == 1 && !rove_rows_is_null(q, 0))
        v = rove_rows_int(q, 0);
    rove_rows_free(q);
    return v;
}

void th_client_text(rove_client *c, const char *sql, const char *p1, char *out, size_t size)
{
    rove_rows *q = NULL;
    const char *params[1] = {p1};
    TH_ASSERT_ROVE(c, rove_client_query(c, &q, sql, p1 ? params : NULL, p1 ? 1 : 0));
    out[0] = '\0';
    int rc = rove_rows_next(q);
    TH_ASSERT_MSG(rc >= 0, "rove_rows_next: %s", rove_error_name(rc));
    if (rc == 1 && !rove_rows_is_null(q, 0))
        snprintf(out, size, "%s", rove_rows_text(q, 0));
    rove_rows_free(q);
}

char *th_client_dump(rove_client *c, const char *sql)
{
    rove_rows *q = NULL;
    TH_ASSERT_ROVE(c, rove_client_query(c, &q, sql, NULL, 0));
    rove__buf b = ROVE__BUF_INIT;
    int rc;
    while ((rc = rove_rows_next(q)) == 1) {
        int n = rove_rows_columns(q);
        for (int i = 0; i < n; i++) {
            const char *v = rove_rows_is_null(q, i) ? NULL : rove_rows_text(q, i);
            rove__buf_printf(&b, "%s%s", i ? "|" : "", v ? v : "NULL");
        }
        rove__buf_puts(&b, "\n");
    }
    TH_ASSERT_MSG(rc == 0, "rove_rows_next: %s", rove_error_name(rc));
    rove_rows_free(q);
    rove__buf_puts(&b, "");
    TH_ASSERT(rove__buf_status(&b) == 0);
    return (char *)rove__buf_detach(&b, NULL);
}

uint64_t th_client_pending(rove_client *c)
{
    uint64_t n = 0;
    TH_ASSERT_ROVE(c, rove_client_pending(c, &n));
    return n;
}

/* ---- the admin API ------------------------------------------------------- */

int th_json_str(const th_resp *r, const char *key, char *out, size_t size)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "\"%s\":\"", key);
    const char *p = r->body.len ? strstr((const char *)r->body.ptr, needle) : NULL;
    if (p == NULL) {
        snprintf(needle, sizeof(needle), "\"%s\": \"", key);
        p = r->body.len ? strstr((const char *)r->body.ptr, needle) : NULL;
    }
    if (p == NULL)
        return -1;
    p += strlen(needle);
    size_t n = strcspn(p, "\"");
    if (n >= size)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

void th_admin_login(const th_server *s, const char *user, const char *pw, char *token,
                    size_t size)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
    th_resp r;
    th_http(s, "POST", "/v1/admin/login", NULL, "application/json", body, strlen(body), &r);
    TH_ASSERT_MSG(r.status == 200, "admin login %s: %ld %s %s", user, r.status, r.error,
                  r.errmsg);
    TH_ASSERT(th_json_str(&r, "token", token, size) == 0);
    th_resp_free(&r);
}

long th_admin_post(const th_server *s, const char *token, const char *path, const char *json,
                   char *code, size_t size)
{
    th_resp r;
    th_http(s, "POST", path, token, "application/json", json, strlen(json), &r);
    TH_ASSERT_MSG(r.curl_rc == 0, "%s: no answer", path);
    snprintf(code, size, "%s", r.error);
    long st = r.status;
    th_resp_free(&r);
    return st;
}

static const char *const fresh_tables_sql[] = {
    "SELECT * FROM account ORDER BY id",      "SELECT * FROM contact ORDER BY id",
    "SELECT * FROM visit ORDER BY id",        "SELECT * FROM service_task ORDER BY id",
    "SELECT * FROM stage_change ORDER BY id",
};

int th_matches_fresh(const th_server *s, rove_client *c, const char *user, const char *pw,
                     const char *what)
{
    sqlite3 *snap = th_snapshot(s, user, pw, NULL);
    int same = 1;
    for (size_t i = 0; i < sizeof(fresh_tables_sql) / sizeof(fresh_tables_sql[0]); i++) {
        char *dc = th_client_dump(c, fresh_tables_sql[i]);
        char *ds = th_db_dump(snap, fresh_tables_sql[i]);
        if (strcmp(dc, ds) != 0) {
            size_t lc = 0, ls = 0;
            for (const char *p = dc; *p; p++)
                lc += *p == '\n';
            for (const char *p = ds; *p; p++)
                ls += *p == '\n';
            th_log("%s: %s's replica differs from a fresh device: %s (%zu rows vs %zu)", what,
                   user, fresh_tables_sql[i], lc, ls);
            same = 0;
        }
        free(dc);
        free(ds);
    }
    sqlite3_close(snap);
    return same;
}

int64_t th_server_int(const th_server *s, const char *sql, const char *p1, const char *p2)
{
    char dbpath[700];
    snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
    sqlite3 *sdb = NULL;
    TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(sdb, 5000);
    int64_t v = th_db_int(sdb, sql, p1, p2);
    sqlite3_close(sdb);
    return v;
}

int th_rovectl(const th_server *s, const char *args, char *out, size_t size)
{
    const char *build = th_arg("build-dir");
    TH_ASSERT(build != NULL);
    char cmd[3072];
    snprintf(cmd, sizeof(cmd),
             "%s/server/rovectl --server %s --ca %s --user admin --password admin-demo %s 2>&1",
             build, s->url, s->ca, args);
    FILE *p = popen(cmd, "r");
    TH_ASSERT(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void th_sync_ok(rove_client *c, rove_sync_report *rep, const char *what)
{
    memset(rep, 0, sizeof(*rep));
    int rc = rove_client_sync(c, rep);
    TH_ASSERT_MSG(rc == 0, "%s: rove_client_sync: %s: %s", what, rove_error_name(rc),
                  rove_client_errmsg(c));
    th_log("%s: pushed %llu applied %llu rejected %llu pulled %llu round trips %u", what,
           (unsigned long long)rep->pushed, (unsigned long long)rep->applied,
           (unsigned long long)rep->rejected, (unsigned long long)rep->pulled,
           rep->round_trips);
}

int th_set_text(rove_client *c, const char *table, const char *id, const char *col,
                const char *value)
{
    rove_record *r = NULL;
    int rc = rove_client_get(c, &r, table, id);
    if (rc == 0)
        rc = rove_record_set_text(r, col, value);
    if (rc == 0)
        rc = rove_client_update(c, r);
    rove_record_free(r);
    return rc;
}

sqlite3 *th_server_db(const th_server *s)
{
    char dbpath[700];
    snprintf(dbpath, sizeof(dbpath), "%s/rove.db", s->dir);
    sqlite3 *sdb = NULL;
    TH_ASSERT(sqlite3_open_v2(dbpath, &sdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(sdb, 5000);
    return sdb;
}
