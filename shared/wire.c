/* Bounds-checked CBOR writer and pull reader on top of libcbor (see wire.h). */
#include <string.h>

#include <cbor.h>

#include "rove/errors.h"
#include "wire.h"

/* ---- writer ------------------------------------------------------------ */

/* Every CBOR head fits in 9 bytes. */
#define HEAD_MAX 9

static unsigned char *head_room(rove__buf *b)
{
    if (rove__buf_reserve(b, HEAD_MAX) != 0)
        return NULL;
    return b->ptr + b->len;
}

static void commit(rove__buf *b, size_t n)
{
    if (n == 0) {
        b->failed = 1; /* cannot happen with HEAD_MAX of room; stay safe */
        return;
    }
    b->len += n;
    b->ptr[b->len] = 0;
}

void rove__w_map(rove__buf *b, size_t npairs)
{
    unsigned char *p = head_room(b);
    if (p)
        commit(b, cbor_encode_map_start(npairs, p, HEAD_MAX));
}

void rove__w_array(rove__buf *b, size_t n)
{
    unsigned char *p = head_room(b);
    if (p)
        commit(b, cbor_encode_array_start(n, p, HEAD_MAX));
}

void rove__w_int(rove__buf *b, int64_t v)
{
    unsigned char *p = head_room(b);
    if (p == NULL)
        return;
    if (v >= 0)
        commit(b, cbor_encode_uint((uint64_t)v, p, HEAD_MAX));
    else
        commit(b, cbor_encode_negint((uint64_t)(-1 - v), p, HEAD_MAX));
}

void rove__w_real(rove__buf *b, double v)
{
    unsigned char *p = head_room(b);
    if (p)
        commit(b, cbor_encode_double(v, p, HEAD_MAX));
}

void rove__w_bool(rove__buf *b, int v)
{
    unsigned char *p = head_room(b);
    if (p)
        commit(b, cbor_encode_bool(v != 0, p, HEAD_MAX));
}

void rove__w_null(rove__buf *b)
{
    unsigned char *p = head_room(b);
    if (p)
        commit(b, cbor_encode_null(p, HEAD_MAX));
}

void rove__w_textn(rove__buf *b, const char *s, size_t len)
{
    if (s == NULL) {
        rove__w_null(b);
        return;
    }
    unsigned char *p = head_room(b);
    if (p == NULL)
        return;
    commit(b, cbor_encode_string_start(len, p, HEAD_MAX));
    rove__buf_put(b, s, len);
}

void rove__w_text(rove__buf *b, const char *s) { rove__w_textn(b, s, s ? strlen(s) : 0); }

void rove__w_bytes(rove__buf *b, const void *data, size_t len)
{
    unsigned char *p = head_room(b);
    if (p == NULL)
        return;
    commit(b, cbor_encode_bytestring_start(len, p, HEAD_MAX));
    rove__buf_put(b, data, len);
}

/* ---- reader ------------------------------------------------------------ */

struct decode_ctx {
    rove__item *it;
    int bad;
};

static void on_uint(struct decode_ctx *c, uint64_t v)
{
    if (v > (uint64_t)INT64_MAX) {
        c->bad = 1;
        return;
    }
    c->it->kind = ROVE__K_INT;
    c->it->i = (int64_t)v;
}

static void on_negint(struct decode_ctx *c, uint64_t v)
{
    /* The value is -1 - v. */
    if (v > (uint64_t)INT64_MAX) {
        c->bad = 1;
        return;
    }
    c->it->kind = ROVE__K_INT;
    c->it->i = -1 - (int64_t)v;
}

static void cb_u8(void *c, uint8_t v) { on_uint(c, v); }
static void cb_u16(void *c, uint16_t v) { on_uint(c, v); }
static void cb_u32(void *c, uint32_t v) { on_uint(c, v); }
static void cb_u64(void *c, uint64_t v) { on_uint(c, v); }
static void cb_n8(void *c, uint8_t v) { on_negint(c, v); }
static void cb_n16(void *c, uint16_t v) { on_negint(c, v); }
static void cb_n32(void *c, uint32_t v) { on_negint(c, v); }
static void cb_n64(void *c, uint64_t v) { on_negint(c, v); }

static void cb_bad(void *ctx) { ((struct decode_ctx *)ctx)->bad = 1; }
static void cb_bad64(void *ctx, uint64_t v) { ((struct decode_ctx *)ctx)->bad = 1; }

static void cb_bytes(void *ctx, cbor_data data, size_t len)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_BYTES;
    c->it->s = (const char *)data;
    c->it->len = len;
}

static void cb_text(void *ctx, cbor_data data, size_t len)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_TEXT;
    c->it->s = (const char *)data;
    c->it->len = len;
}

static void cb_array(void *ctx, size_t n)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_ARRAY;
    c->it->len = n;
}

static void cb_map(void *ctx, size_t n)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_MAP;
    c->it->len = n;
}

static void cb_float(void *ctx, float v)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_REAL;
    c->it->d = v;
}

static void cb_double(void *ctx, double v)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_REAL;
    c->it->d = v;
}

static void cb_null(void *ctx)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_NULL;
}

static void cb_bool(void *ctx, bool v)
{
    struct decode_ctx *c = ctx;
    c->it->kind = ROVE__K_BOOL;
    c->it->i = v ? 1 : 0;
}

static const struct cbor_callbacks callbacks = {
    .uint8 = cb_u8,
    .uint16 = cb_u16,
    .uint32 = cb_u32,
    .uint64 = cb_u64,
    .negint8 = cb_n8,
    .negint16 = cb_n16,
    .negint32 = cb_n32,
    .negint64 = cb_n64,
    .byte_string_start = cb_bad,
    .byte_string = cb_bytes,
    .string = cb_text,
    .string_start = cb_bad,
    .indef_array_start = cb_bad,
    .array_start = cb_array,
    .indef_map_start = cb_bad,
    .map_start = cb_map,
    .tag = cb_bad64,
    .float2 = cb_float,
    .float4 = cb_float,
    .float8 = cb_double,
    .undefined = cb_bad,
    .null = cb_null,
    .boolean = cb_bool,
    .indef_break = cb_bad,
};

void rove__r_init(rove__reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
}

int rove__r_done(const rove__reader *r) { return r->off == r->len; }

int rove__r_next(rove__reader *r, rove__item *it)
{
    memset(it, 0, sizeof(*it));
    it->kind = (rove__kind)-1;
    if (r->off >= r->len)
        return ROVE_EPROTO;
    struct decode_ctx ctx = {it, 0};
    size_t left = r->len - r->off;
    struct cbor_decoder_result res = cbor_stream_decode(r->p + r->off, left, &callbacks, &ctx);
    if (res.status != CBOR_DECODER_FINISHED || ctx.bad || res.read == 0 || res.read > left ||
        it->kind == (rove__kind)-1)
        return ROVE_EPROTO;
    r->off += res.read;
    left -= res.read;
    /* A container's elements need at least one byte each (two per map pair);
     * refuse counts the rest of the input could never hold. */
    if (it->kind == ROVE__K_ARRAY && it->len > left)
        return ROVE_EPROTO;
    if (it->kind == ROVE__K_MAP && it->len > left / 2)
        return ROVE_EPROTO;
    return 0;
}

static int skip_children(rove__reader *r, const rove__item *it, int depth)
{
    if (it->kind != ROVE__K_ARRAY && it->kind != ROVE__K_MAP)
        return 0;
    if (depth > ROVE__MAX_DEPTH)
        return ROVE_EPROTO;
    size_t n = it->kind == ROVE__K_MAP ? it->len * 2 : it->len;
    for (size_t i = 0; i < n; i++) {
        rove__item child;
        int rc = rove__r_next(r, &child);
        if (rc != 0)
            return rc;
        if ((rc = skip_children(r, &child, depth + 1)) != 0)
            return rc;
    }
    return 0;
}

int rove__r_skip(rove__reader *r, const rove__item *it) { return skip_children(r, it, 1); }

int rove__r_skip_value(rove__reader *r)
{
    rove__item it;
    int rc = rove__r_next(r, &it);
    return rc != 0 ? rc : rove__r_skip(r, &it);
}

static int expect(rove__reader *r, rove__item *it, rove__kind kind)
{
    int rc = rove__r_next(r, it);
    if (rc != 0)
        return rc;
    return it->kind == kind ? 0 : ROVE_EPROTO;
}

int rove__r_map(rove__reader *r, size_t *npairs)
{
    rove__item it;
    int rc = expect(r, &it, ROVE__K_MAP);
    if (rc == 0)
        *npairs = it.len;
    return rc;
}

int rove__r_array(rove__reader *r, size_t *n)
{
    rove__item it;
    int rc = expect(r, &it, ROVE__K_ARRAY);
    if (rc == 0)
        *n = it.len;
    return rc;
}

int rove__r_int(rove__reader *r, int64_t *v)
{
    rove__item it;
    int rc = expect(r, &it, ROVE__K_INT);
    if (rc == 0)
        *v = it.i;
    return rc;
}

int rove__r_text(rove__reader *r, const char **s, size_t *len)
{
    rove__item it;
    int rc = expect(r, &it, ROVE__K_TEXT);
    if (rc == 0) {
        *s = it.s;
        *len = it.len;
    }
    return rc;
}

int rove__r_text_or_null(rove__reader *r, const char **s, size_t *len)
{
    rove__item it;
    int rc = rove__r_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == ROVE__K_NULL) {
        *s = NULL;
        *len = 0;
        return 0;
    }
    if (it.kind != ROVE__K_TEXT)
        return ROVE_EPROTO;
    *s = it.s;
    *len = it.len;
    return 0;
}

int rove__r_bool(rove__reader *r, int *v)
{
    rove__item it;
    int rc = expect(r, &it, ROVE__K_BOOL);
    if (rc == 0)
        *v = (int)it.i;
    return rc;
}

int rove__text_eq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return s != NULL && n == len && memcmp(s, lit, n) == 0;
}

int rove__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (n > len - i - 1)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}
