/*
 * Fuzz target: rove__sync_req_parse on raw bytes (what roved sees after
 * inflating a pushed body). Anything accepted must satisfy every promise of
 * proto.h, and must survive a re-encode / re-parse round trip unchanged.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "id.h"
#include "proto.h"
#include "rove/errors.h"
#include "wire.h"

static void check_value(const rove__column *c, const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_NULL:
        break;
    case ROVE__T_INT:
        FUZZ_CHECK(c->type == ROVE__T_INT);
        break;
    case ROVE__T_REAL:
        FUZZ_CHECK(c->type == ROVE__T_REAL);
        FUZZ_CHECK(!isnan(v->d));
        break;
    case ROVE__T_TEXT:
        FUZZ_CHECK(c->type == ROVE__T_TEXT);
        FUZZ_CHECK(v->len <= ROVE__MAX_TEXT);
        FUZZ_CHECK(rove__utf8_valid(v->s, v->len));
        fuzz_touch(v->s, v->len);
        if (c->flags & ROVE__COL_ENUM)
            FUZZ_CHECK(rove__schema_enum_ok(c, v->s, v->len));
        if (c->flags & ROVE__COL_REF)
            FUZZ_CHECK(rove__id_valid(v->s, v->len));
        break;
    default:
        FUZZ_CHECK(!"unknown value type");
    }
}

static void check_request(const rove__sync_req *req)
{
    FUZZ_CHECK(req->version == ROVE__PROTO_VERSION);
    FUZZ_CHECK(req->cursor >= 0 && req->limit >= 0 && req->hlc >= 0);
    FUZZ_CHECK(req->nchanges <= ROVE__MAX_CHANGES);
    FUZZ_CHECK((req->nchanges == 0) || req->changes != NULL);
    for (size_t i = 0; i < req->nchanges; i++) {
        const rove__change *ch = &req->changes[i];
        FUZZ_CHECK(rove__id_valid(ch->change_id, ch->change_id_len));
        FUZZ_CHECK(ch->table != NULL);
        FUZZ_CHECK(ch->op >= ROVE__OP_INSERT && ch->op <= ROVE__OP_DELETE);
        FUZZ_CHECK(strlen(ch->id) == ROVE__ID_LEN && rove__id_valid(ch->id, ROVE__ID_LEN));
        FUZZ_CHECK(ch->base_version >= 0 && ch->hlc >= 0);
        FUZZ_CHECK(ch->ncols <= ch->table->ncols);
        FUZZ_CHECK(ch->op != ROVE__OP_DELETE || ch->ncols == 0);
        FUZZ_CHECK(ch->op != ROVE__OP_UPDATE || ch->ncols > 0);
        for (size_t c = 0; c < ch->ncols; c++) {
            FUZZ_CHECK(ch->col[c] >= ROVE__SYS_COLS && (size_t)ch->col[c] < ch->table->ncols);
            for (size_t k = 0; k < c; k++)
                FUZZ_CHECK(ch->col[k] != ch->col[c]);
            check_value(&ch->table->cols[ch->col[c]], &ch->val[c]);
        }
    }
}

static int same_value(const rove__value *a, const rove__value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case ROVE__T_INT:
        return a->i == b->i;
    case ROVE__T_REAL:
        return memcmp(&a->d, &b->d, sizeof(double)) == 0;
    case ROVE__T_TEXT:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    default:
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rove__sync_req req;
    rove__errinfo err;
    int rc = rove__sync_req_parse(&req, data, size, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err.code == rc);
        FUZZ_CHECK(req.changes == NULL && req.nchanges == 0);
        FUZZ_CHECK(memchr(err.msg, 0, sizeof(err.msg)) != NULL);
        return 0;
    }
    check_request(&req);

    /* Round trip through the encoder the SDK uses. */
    rove__buf b = ROVE__BUF_INIT;
    rove__sync_req_begin(&b, req.cursor, req.limit, req.hlc, req.nchanges);
    for (size_t i = 0; i < req.nchanges; i++)
        rove__sync_req_add(&b, &req.changes[i]);
    FUZZ_CHECK(rove__buf_status(&b) == 0);
    rove__sync_req again;
    rc = rove__sync_req_parse(&again, b.ptr, b.len, &err);
    if (rc != 0)
        fprintf(stderr, "re-encoded request refused: %s\n", err.msg);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(again.cursor == req.cursor && again.limit == req.limit && again.hlc == req.hlc &&
               again.nchanges == req.nchanges);
    for (size_t i = 0; i < req.nchanges; i++) {
        const rove__change *x = &req.changes[i], *y = &again.changes[i];
        FUZZ_CHECK(x->change_id_len == y->change_id_len &&
                   memcmp(x->change_id, y->change_id, x->change_id_len) == 0);
        FUZZ_CHECK(x->table == y->table && x->op == y->op && strcmp(x->id, y->id) == 0);
        FUZZ_CHECK(x->base_version == y->base_version && x->hlc == y->hlc);
        FUZZ_CHECK(x->ncols == y->ncols);
        for (size_t c = 0; c < x->ncols; c++) {
            FUZZ_CHECK(x->col[c] == y->col[c]);
            FUZZ_CHECK(same_value(&x->val[c], &y->val[c]));
        }
    }
    rove__sync_req_free(&again);
    rove__buf_free(&b);
    rove__sync_req_free(&req);
    return 0;
}
