/* Signed delegation leases (see lease.h). */
#include "lease.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "rove/errors.h"
#include "scope.h"
#include "util.h"
#include "wire.h"

struct roved_lease_key {
    mbedtls_pk_context pk;
    unsigned char pub[256]; /* DER SubjectPublicKeyInfo, at the end of the buffer */
    size_t pub_len;
};

static int rng(void *ctx, unsigned char *out, size_t n)
{
    (void)ctx;
    return roved_util_random(out, n) == 0 ? 0 : -1;
}

void roved_lease_key_free(roved_lease_key *k)
{
    if (k == NULL)
        return;
    mbedtls_pk_free(&k->pk);
    free(k);
}

int roved_lease_key_load(const char *data_dir, roved_lease_key **out, char *err, size_t size)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/lease-key.pem", data_dir);
    roved_lease_key *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ROVE_ENOMEM;
    mbedtls_pk_init(&k->pk);
    int rc = 0;
    if (access(path, F_OK) == 0) {
        rc = mbedtls_pk_parse_keyfile(&k->pk, path, NULL);
        if (rc == 0 && !mbedtls_pk_can_do(&k->pk, MBEDTLS_PK_ECDSA))
            rc = -1;
        if (rc != 0)
            snprintf(err, size, "%s is not an EC private key", path);
    } else {
        unsigned char pem[2048];
        rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (rc == 0)
            rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk), rng, NULL);
        if (rc == 0)
            rc = mbedtls_pk_write_key_pem(&k->pk, pem, sizeof(pem));
        int fd = rc == 0 ? open(path, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
        if (fd < 0 || write(fd, pem, strlen((char *)pem)) != (ssize_t)strlen((char *)pem) ||
            fsync(fd) != 0) {
            snprintf(err, size, "cannot write %s: %s", path, strerror(errno));
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
        memset(pem, 0, sizeof(pem));
    }
    if (rc == 0) {
        int n = mbedtls_pk_write_pubkey_der(&k->pk, k->pub, sizeof(k->pub));
        if (n > 0) {
            memmove(k->pub, k->pub + sizeof(k->pub) - (size_t)n, (size_t)n);
            k->pub_len = (size_t)n;
        } else {
            snprintf(err, size, "cannot encode the lease public key");
            rc = -1;
        }
    }
    if (rc != 0) {
        roved_lease_key_free(k);
        return ROVE_EGENERIC;
    }
    *out = k;
    return 0;
}

/* ---- building the leases ------------------------------------------------- */

typedef struct lease_set {
    roved_db *db;
    const roved_user *user;
    int64_t now;
    rove__buf payloads[16];
    size_t n;
    /* the grant being built */
    rove__buf ids;
    size_t nids;
    int rc;
} lease_set;

/* An account the delegate works only through the delegation (not one of
 * their own, nor of a territory they are a rep of). */
static int add_account(const char *id, void *payload)
{
    lease_set *ls = payload;
    size_t nt;
    roved_rowinfo info;
    int rc = roved_store_row_info(ls->db, &rove__schema_tables(&nt)[0], id, &info);
    if (rc != 0)
        return rc == ROVE_ENOTFOUND ? 0 : rc;
    if (roved_scope_can_write(ls->db, ls->user, &rove__schema_tables(&nt)[0], &info, ls->now))
        return 0; /* their own rights: the lease does not limit it */
    rove__w_text(&ls->ids, id);
    ls->nids++;
    return 0;
}

typedef struct grant_of {
    lease_set *ls;
    const roved_delegation *d;
} grant_of;

static int add_grant(const roved_grant *g, void *payload)
{
    grant_of *go = payload;
    lease_set *ls = go->ls;
    const roved_delegation *d = go->d;
    if (strcmp(g->delegate_id, ls->user->id) != 0 || ls->n == 16)
        return 0;
    rove__buf_clear(&ls->ids);
    ls->nids = 0;
    int rc = roved_store_grant_accounts(ls->db, d, g, add_account, ls);
    if (rc != 0)
        return rc;
    rove__buf *b = &ls->payloads[ls->n++];
    rove__buf_init(b);
    rove__w_map(b, 8);
    rove__w_text(b, "id");
    rove__w_text(b, d->id);
    rove__w_text(b, "delegator");
    rove__w_text(b, d->delegator_id);
    rove__w_text(b, "delegate");
    rove__w_text(b, g->delegate_id);
    rove__w_text(b, "from");
    rove__w_int(b, d->starts_at);
    rove__w_text(b, "to");
    rove__w_int(b, d->ends_at);
    rove__w_text(b, "grace");
    rove__w_int(b, d->grace_ms);
    rove__w_text(b, "actions");
    rove__w_text(b, g->actions);
    rove__w_text(b, "accounts");
    rove__w_array(b, ls->nids);
    rove__buf_put(b, ls->ids.ptr, ls->ids.len);
    return rove__buf_status(b) ? ROVE_ENOMEM : 0;
}

/* Delegations the user is a delegate of and that are not over (their end,
 * or their grace, is ahead). */
static int add_delegation(const roved_delegation *d, void *payload)
{
    lease_set *ls = payload;
    if (strcmp(d->status, "revoked") == 0 || d->ends_at <= ls->now)
        return 0;
    grant_of go = {ls, d};
    return roved_store_grant_list(ls->db, d->id, add_grant, &go);
}

static void lease_set_free(lease_set *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        rove__buf_free(&ls->payloads[i]);
    rove__buf_free(&ls->ids);
}

static int build(roved_db *db, const roved_user *user, int64_t now, lease_set *ls)
{
    memset(ls, 0, sizeof(*ls));
    ls->db = db;
    ls->user = user;
    ls->now = now;
    rove__buf_init(&ls->ids);
    if (user->role != ROVE__ROLE_REP)
        return 0;
    return roved_store_delegations_of_delegate(db, user->id, add_delegation, ls);
}

typedef struct gen_acc {
    int64_t now;
    uint64_t h;
    size_t n;
} gen_acc;

static void mix(gen_acc *g, const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        g->h = (g->h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
}

static int gen_delegation(const roved_delegation *d, void *payload)
{
    gen_acc *g = payload;
    if (strcmp(d->status, "revoked") == 0 || d->ends_at <= g->now)
        return 0;
    mix(g, d->id, strlen(d->id));
    mix(g, &d->starts_at, sizeof(d->starts_at));
    mix(g, &d->ends_at, sizeof(d->ends_at));
    mix(g, d->status, strlen(d->status));
    g->n++;
    return 0;
}

/*
 * Cheap, on every sync response: the current delegations (their window and
 * state) and the scope epoch, which moves whenever ownership or membership
 * changes and so whenever the accounts a lease lists may change. The leases
 * themselves are built and signed only when a device asks (roved_lease_run).
 */
int roved_lease_gen(roved_db *db, const roved_user *user, int64_t now, int64_t *gen)
{
    *gen = 0;
    if (user->role != ROVE__ROLE_REP)
        return 0;
    gen_acc g = {now, 1469598103934665603ull, 0};
    int rc = roved_store_delegations_of_delegate(db, user->id, gen_delegation, &g);
    if (rc != 0 || g.n == 0)
        return rc;
    int64_t epoch = 0;
    if ((rc = roved_store_scope_epoch(db, &epoch)) != 0)
        return rc;
    mix(&g, &epoch, sizeof(epoch));
    *gen = (int64_t)(g.h >> 1) | 1;
    return 0;
}

int roved_lease_run(roved_server *srv, const roved_user *user, rove__buf *out,
                    rove__errinfo *err)
{
    if (srv->lease_key == NULL)
        return rove__err(err, ROVE_EGENERIC, "this server has no lease key");
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return rove__err(err, ROVE_ESTORE, "the store is unavailable");
    lease_set ls;
    rc = build(db, user, roved_util_now_ms(), &ls);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        lease_set_free(&ls);
        return rove__err(err, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                         "the leases could not be read");
    }
    rove__w_map(out, 3);
    rove__w_text(out, "v");
    rove__w_int(out, ROVE__PROTO_VERSION);
    rove__w_text(out, "key");
    rove__w_bytes(out, srv->lease_key->pub, srv->lease_key->pub_len);
    rove__w_text(out, "leases");
    rove__w_array(out, ls.n);
    for (size_t i = 0; rc == 0 && i < ls.n; i++) {
        unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
        size_t sig_len = 0;
        mbedtls_sha256_ret(ls.payloads[i].ptr, ls.payloads[i].len, hash, 0);
        if (mbedtls_pk_sign(&srv->lease_key->pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                            &sig_len, rng, NULL) != 0) {
            rc = rove__err(err, ROVE_EGENERIC, "a lease could not be signed");
            break;
        }
        rove__w_array(out, 2);
        rove__w_bytes(out, ls.payloads[i].ptr, ls.payloads[i].len);
        rove__w_bytes(out, sig, sig_len);
    }
    lease_set_free(&ls);
    if (rc == 0 && rove__buf_status(out) != 0)
        rc = rove__err(err, ROVE_ENOMEM, "out of memory");
    return rc;
}
