/*
 * Fuzz target: rove__sync_resp_parse (what the SDK sees after inflating a
 * pulled page), with handlers that read every value they are given and check
 * what proto.h promises about it.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "id.h"
#include "proto.h"
#include "rove/errors.h"
#include "wire.h"

struct state {
    const rove__table *table; /* the table block being read */
    size_t ncols;
    int cols[ROVE__MAX_COLS];
    unsigned calls;
};

static int on_receipt(const rove__receipt *r, void *payload)
{
    struct state *st = payload;
    st->calls++;
    FUZZ_CHECK(rove__id_valid(r->change_id, r->change_id_len));
    FUZZ_CHECK(r->status >= ROVE__RC_APPLIED && r->status <= ROVE__RC_OVERRIDDEN);
    FUZZ_CHECK(r->code == NULL || r->code_len <= 64);
    FUZZ_CHECK(r->message == NULL || r->message_len <= 1024);
    if (r->code)
        fuzz_touch(r->code, r->code_len);
    if (r->message)
        fuzz_touch(r->message, r->message_len);
    fuzz_touch(&r->version, sizeof(r->version));
    return 0;
}

static int on_table(const rove__table *t, const int *cols, size_t ncols, void *payload)
{
    struct state *st = payload;
    st->calls++;
    FUZZ_CHECK(t != NULL && rove__schema_table(t->name, strlen(t->name)) == t);
    FUZZ_CHECK(ncols > 0 && ncols <= ROVE__MAX_COLS);
    int has_id = 0;
    for (size_t c = 0; c < ncols; c++) {
        FUZZ_CHECK(cols[c] >= -1 && cols[c] < (int)t->ncols);
        has_id |= cols[c] == ROVE__COL_ID;
        for (size_t k = 0; k < c; k++)
            FUZZ_CHECK(cols[c] < 0 || cols[k] != cols[c]);
    }
    FUZZ_CHECK(has_id);
    st->table = t;
    st->ncols = ncols;
    memcpy(st->cols, cols, ncols * sizeof(int));
    return 0;
}

static int on_row(const rove__table *t, const int *cols, const rove__value *vals, size_t ncols,
                  void *payload)
{
    struct state *st = payload;
    st->calls++;
    FUZZ_CHECK(t == st->table && ncols == st->ncols);
    FUZZ_CHECK(memcmp(cols, st->cols, ncols * sizeof(int)) == 0);
    int id_seen = 0;
    for (size_t c = 0; c < ncols; c++) {
        const rove__value *v = &vals[c];
        if (cols[c] < 0) {
            FUZZ_CHECK(v->type == ROVE__T_NULL); /* skipped unknown column */
            continue;
        }
        const rove__column *col = &t->cols[cols[c]];
        switch (v->type) {
        case ROVE__T_NULL:
            break;
        case ROVE__T_INT:
            FUZZ_CHECK(col->type == ROVE__T_INT);
            fuzz_touch(&v->i, sizeof(v->i));
            break;
        case ROVE__T_REAL:
            FUZZ_CHECK(col->type == ROVE__T_REAL && !isnan(v->d));
            fuzz_touch(&v->d, sizeof(v->d));
            break;
        case ROVE__T_TEXT:
            FUZZ_CHECK(col->type == ROVE__T_TEXT);
            FUZZ_CHECK(v->len <= ROVE__MAX_TEXT && rove__utf8_valid(v->s, v->len));
            fuzz_touch(v->s, v->len);
            if (col->flags & ROVE__COL_REF)
                FUZZ_CHECK(rove__id_valid(v->s, v->len));
            break;
        default:
            FUZZ_CHECK(!"unknown value type");
        }
        if (cols[c] == ROVE__COL_ID) {
            FUZZ_CHECK(v->type == ROVE__T_TEXT && rove__id_valid(v->s, v->len));
            id_seen = 1;
        }
    }
    FUZZ_CHECK(id_seen);
    return 0;
}

static int on_evict(const rove__table *t, const char *id, const char *reason, size_t reason_len,
                    void *payload)
{
    struct state *st = payload;
    st->calls++;
    FUZZ_CHECK(t != NULL);
    FUZZ_CHECK(strlen(id) == ROVE__ID_LEN && rove__id_valid(id, ROVE__ID_LEN));
    FUZZ_CHECK(reason_len <= 256 && rove__utf8_valid(reason, reason_len));
    fuzz_touch(reason, reason_len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rove__sync_resp_handler h = {on_receipt, on_table, on_row, on_evict};
    struct state st;
    memset(&st, 0, sizeof(st));
    rove__sync_resp_hdr hdr;
    rove__errinfo err;
    int rc = rove__sync_resp_parse(data, size, &h, &st, &hdr, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err.code == rc);
        FUZZ_CHECK(memchr(err.msg, 0, sizeof(err.msg)) != NULL);
        return 0;
    }
    FUZZ_CHECK(hdr.version == ROVE__PROTO_VERSION);
    FUZZ_CHECK(hdr.cursor >= 0);
    FUZZ_CHECK(hdr.more == 0 || hdr.more == 1);

    /* Handlers are optional: the same input must parse the same way without. */
    static const rove__sync_resp_handler none = {NULL, NULL, NULL, NULL};
    rove__sync_resp_hdr hdr2;
    FUZZ_CHECK(rove__sync_resp_parse(data, size, &none, NULL, &hdr2, NULL) == 0);
    FUZZ_CHECK(memcmp(&hdr, &hdr2, sizeof(hdr)) == 0);
    return 0;
}
