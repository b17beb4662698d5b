/* Tests of the CBOR writer and bounds-checked reader (shared/wire.c). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wire.h"

/* Reads everything in p[0..len) as one value and requires the reader to have
 * consumed it all. Returns the first error. The bytes are copied to the heap
 * first so that ASan sees any read past len. */
static int read_whole(const void *p, size_t len)
{
    rove__reader r;
    rove__r_init(&r, rove_test_dup(p, len), len);
    int rc = rove__r_skip_value(&r);
    if (rc == 0 && !rove__r_done(&r))
        return ROVE_EPROTO;
    return rc;
}

static int next_of(const void *p, size_t len, rove__item *it)
{
    rove__reader r;
    rove__r_init(&r, rove_test_dup(p, len), len);
    return rove__r_next(&r, it);
}

void test_wire__roundtrip_every_kind(void)
{
    rove__buf b = ROVE__BUF_INIT;
    const unsigned char blob[] = {0, 1, 2, 0xff};
    rove__w_map(&b, 2);
    rove__w_text(&b, "list");
    rove__w_array(&b, 9);
    rove__w_int(&b, -5);
    rove__w_real(&b, 2.5);
    rove__w_bool(&b, 1);
    rove__w_bool(&b, 0);
    rove__w_null(&b);
    rove__w_text(&b, "héllo");
    rove__w_textn(&b, "abcdef", 3);
    rove__w_bytes(&b, blob, sizeof(blob));
    rove__w_text(&b, NULL); /* NULL text is written as null */
    rove__w_textn(&b, "", 0);
    rove__w_map(&b, 0);
    ASSERT_OK(rove__buf_status(&b));

    rove__reader r;
    rove__r_init(&r, rove_test_dup(b.ptr, b.len), b.len);
    rove__item it;
    size_t n;
    const char *s;
    size_t len;
    int64_t i;
    int flag;
    ASSERT_OK(rove__r_map(&r, &n));
    ASSERT_EQ_UINT(n, 2);
    ASSERT_OK(rove__r_text(&r, &s, &len));
    ASSERT_EQ_STRN(s, len, "list");
    ASSERT_OK(rove__r_array(&r, &n));
    ASSERT_EQ_UINT(n, 9);
    ASSERT_OK(rove__r_int(&r, &i));
    ASSERT_EQ_INT(i, -5);
    ASSERT_OK(rove__r_next(&r, &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_REAL);
    ASSERT(it.d == 2.5);
    ASSERT_OK(rove__r_bool(&r, &flag));
    ASSERT_EQ_INT(flag, 1);
    ASSERT_OK(rove__r_bool(&r, &flag));
    ASSERT_EQ_INT(flag, 0);
    ASSERT_OK(rove__r_next(&r, &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_NULL);
    ASSERT_OK(rove__r_text(&r, &s, &len));
    ASSERT_EQ_STRN(s, len, "héllo");
    ASSERT_OK(rove__r_text(&r, &s, &len));
    ASSERT_EQ_STRN(s, len, "abc");
    ASSERT_OK(rove__r_next(&r, &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_BYTES);
    ASSERT_EQ_MEM(it.s, it.len, blob, sizeof(blob));
    ASSERT_OK(rove__r_text_or_null(&r, &s, &len));
    ASSERT(s == NULL);
    ASSERT_EQ_UINT(len, 0);
    ASSERT_OK(rove__r_text_or_null(&r, &s, &len));
    ASSERT(s != NULL);
    ASSERT_EQ_UINT(len, 0);
    ASSERT_OK(rove__r_map(&r, &n));
    ASSERT_EQ_UINT(n, 0);
    ASSERT(rove__r_done(&r));
    /* Reading past the end is an error, not a crash. */
    ASSERT_RC(rove__r_next(&r, &it), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_wire__int_roundtrip_and_encoded_sizes(void)
{
    static const struct {
        int64_t v;
        size_t size;
    } cases[] = {
        {0, 1},
        {1, 1},
        {23, 1},
        {24, 2},
        {255, 2},
        {256, 3},
        {65535, 3},
        {65536, 5},
        {4294967295LL, 5},
        {4294967296LL, 9},
        {INT64_MAX, 9},
        {-1, 1},
        {-24, 1},
        {-25, 2},
        {-256, 2},
        {-257, 3},
        {-65536, 3},
        {-65537, 5},
        {-4294967296LL, 5},
        {-4294967297LL, 9},
        {INT64_MIN + 1, 9},
        {INT64_MIN, 9},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        rove__buf b = ROVE__BUF_INIT;
        rove__w_int(&b, cases[k].v);
        ASSERT_OK(rove__buf_status(&b));
        ASSERT_EQ_UINT(b.len, cases[k].size);
        rove__reader r;
        rove__r_init(&r, rove_test_dup(b.ptr, b.len), b.len);
        int64_t got = 12345;
        ASSERT_OK(rove__r_int(&r, &got));
        ASSERT_EQ_INT(got, cases[k].v);
        ASSERT(rove__r_done(&r));
        rove__buf_free(&b);
    }
}

void test_wire__int64_extremes_on_the_wire(void)
{
    rove__item it;
    /* uint64 INT64_MAX: accepted. */
    const unsigned char max[] = {0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_OK(next_of(max, sizeof(max), &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_INT);
    ASSERT(it.i == INT64_MAX);
    /* uint64 INT64_MAX + 1 and UINT64_MAX: refused, never wrapped to negative. */
    const unsigned char over[] = {0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_RC(next_of(over, sizeof(over), &it), ROVE_EPROTO);
    const unsigned char umax[] = {0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(umax, sizeof(umax), &it), ROVE_EPROTO);
    /* negint -1 - 0x7fff...ff == INT64_MIN: accepted. */
    const unsigned char min[] = {0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_OK(next_of(min, sizeof(min), &it));
    ASSERT(it.i == INT64_MIN);
    /* One below INT64_MIN, and the most negative CBOR integer: refused. */
    const unsigned char under[] = {0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_RC(next_of(under, sizeof(under), &it), ROVE_EPROTO);
    const unsigned char nmax[] = {0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(nmax, sizeof(nmax), &it), ROVE_EPROTO);
    /* Non-shortest encodings are still valid CBOR and decode to the value. */
    const unsigned char long1[] = {0x1b, 0, 0, 0, 0, 0, 0, 0, 1};
    ASSERT_OK(next_of(long1, sizeof(long1), &it));
    ASSERT_EQ_INT(it.i, 1);
    const unsigned char neg1[] = {0x38, 0x00};
    ASSERT_OK(next_of(neg1, sizeof(neg1), &it));
    ASSERT_EQ_INT(it.i, -1);
}

void test_wire__floats(void)
{
    rove__item it;
    const unsigned char half[] = {0xf9, 0x3c, 0x00}; /* 1.0 */
    ASSERT_OK(next_of(half, sizeof(half), &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_REAL);
    ASSERT(it.d == 1.0);
    const unsigned char single[] = {0xfa, 0x3f, 0xc0, 0x00, 0x00}; /* 1.5 */
    ASSERT_OK(next_of(single, sizeof(single), &it));
    ASSERT(it.d == 1.5);
    const unsigned char inf[] = {0xf9, 0x7c, 0x00};
    ASSERT_OK(next_of(inf, sizeof(inf), &it));
    ASSERT(isinf(it.d) && it.d > 0);
    const unsigned char nan[] = {0xf9, 0x7e, 0x00};
    ASSERT_OK(next_of(nan, sizeof(nan), &it));
    ASSERT(isnan(it.d));

    const double values[] = {0.0, -0.0, 1e-300, DBL_MAX, -DBL_MIN, 3.141592653589793};
    for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
        rove__buf b = ROVE__BUF_INIT;
        rove__w_real(&b, values[k]);
        ASSERT_EQ_UINT(b.len, 9);
        ASSERT_OK(next_of(b.ptr, b.len, &it));
        ASSERT_EQ_INT(it.kind, ROVE__K_REAL);
        ASSERT(memcmp(&it.d, &values[k], sizeof(double)) == 0);
        rove__buf_free(&b);
    }
}

void test_wire__text_and_bytes_lengths(void)
{
    /* Lengths on each side of the 1/2/3-byte head boundaries. */
    const size_t lens[] = {0, 1, 23, 24, 255, 256, 65535, 65536};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        char *text = malloc(lens[k] + 1);
        ASSERT(text != NULL);
        memset(text, 'q', lens[k]);
        text[lens[k]] = 0;
        rove__buf b = ROVE__BUF_INIT;
        rove__w_textn(&b, text, lens[k]);
        rove__w_bytes(&b, text, lens[k]);
        ASSERT_OK(rove__buf_status(&b));
        rove__reader r;
        rove__r_init(&r, b.ptr, b.len);
        const char *s;
        size_t len;
        ASSERT_OK(rove__r_text(&r, &s, &len));
        ASSERT_EQ_MEM(s, len, text, lens[k]);
        rove__item it;
        ASSERT_OK(rove__r_next(&r, &it));
        ASSERT_EQ_INT(it.kind, ROVE__K_BYTES);
        ASSERT_EQ_MEM(it.s, it.len, text, lens[k]);
        ASSERT(rove__r_done(&r));
        /* Strings point into the input; they are not copies. */
        ASSERT((const unsigned char *)s > b.ptr && (const unsigned char *)s < b.ptr + b.len);
        rove__buf_free(&b);
        free(text);
    }
}

static void build_sample(rove__buf *b)
{
    rove__w_map(b, 3);
    rove__w_text(b, "a");
    rove__w_array(b, 4);
    rove__w_int(b, 1000000);
    rove__w_real(b, -0.5);
    rove__w_text(b, "text value");
    rove__w_bytes(b, "\x01\x02\x03", 3);
    rove__w_text(b, "b");
    rove__w_map(b, 1);
    rove__w_text(b, "n");
    rove__w_int(b, INT64_MIN);
    rove__w_text(b, "c");
    rove__w_array(b, 3);
    rove__w_null(b);
    rove__w_bool(b, 1);
    rove__w_array(b, 0);
}

void test_wire__truncation_at_every_offset_is_refused(void)
{
    rove__buf b = ROVE__BUF_INIT;
    build_sample(&b);
    ASSERT_OK(rove__buf_status(&b));
    ASSERT_OK(read_whole(b.ptr, b.len));
    for (size_t cut = 0; cut < b.len; cut++) {
        int rc = read_whole(b.ptr, cut);
        if (rc != ROVE_EPROTO)
            ROVE_TEST_FAIL_("prefix of %zu of %zu bytes gave %d", cut, b.len, rc);
    }
    rove__buf_free(&b);
}

void test_wire__truncated_heads_are_refused(void)
{
    /* Each head announces more bytes than follow. */
    static const struct {
        unsigned char bytes[9];
        size_t len;
    } cases[] = {
        {{0x18}, 1},                      /* uint8 without its byte */
        {{0x19, 0x01}, 2},                /* uint16 missing one byte */
        {{0x1a, 0, 0, 0}, 4},             /* uint32 missing one byte */
        {{0x1b, 0, 0, 0, 0, 0, 0, 0}, 8}, /* uint64 missing one byte */
        {{0x61}, 1},                      /* text of 1, no content */
        {{0x62, 'a'}, 2},                 /* text of 2, one byte */
        {{0x42, 0}, 2},                   /* bytes of 2, one byte */
        {{0x78}, 1},                      /* text with a missing length byte */
        {{0x7a, 0, 0, 0, 1}, 5},          /* text of 1 via uint32 length */
        {{0xf9, 0x3c}, 2},                /* half float */
        {{0xfa, 0, 0, 0}, 4},             /* single float */
        {{0xfb, 0, 0, 0, 0, 0, 0, 0}, 8}, /* double */
        {{0x98}, 1},                      /* array with missing count byte */
        {{0xb9, 0}, 2},                   /* map with missing count byte */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        rove__item it;
        int rc = next_of(cases[k].bytes, cases[k].len, &it);
        if (rc != ROVE_EPROTO)
            ROVE_TEST_FAIL_("case %zu gave %d", k, rc);
    }
    rove__item it;
    ASSERT_RC(next_of("", 0, &it), ROVE_EPROTO);
    rove__reader r;
    rove__r_init(&r, NULL, 10); /* NULL input reads as empty */
    ASSERT(rove__r_done(&r));
    ASSERT_RC(rove__r_next(&r, &it), ROVE_EPROTO);
}

void test_wire__unsupported_items_are_refused(void)
{
    static const struct {
        const char *what;
        unsigned char bytes[4];
        size_t len;
    } cases[] = {
        {"indefinite bytes", {0x5f, 0x41, 0x00, 0xff}, 4},
        {"indefinite text", {0x7f, 0x61, 'a', 0xff}, 4},
        {"indefinite array", {0x9f, 0x01, 0xff}, 3},
        {"indefinite map", {0xbf, 0x01, 0x02, 0xff}, 4},
        {"break", {0xff}, 1},
        {"tag 0", {0xc0, 0x60}, 2},
        {"tag 1", {0xc1, 0x01}, 2},
        {"tag 24 (1-byte)", {0xd8, 0x18, 0x40}, 3},
        {"bignum tag 2", {0xc2, 0x41, 0x01}, 3},
        {"undefined", {0xf7}, 1},
        {"simple value 0", {0xe0}, 1},
        {"simple value 19", {0xf3}, 1},
        {"simple value 32", {0xf8, 0x20}, 2},
        {"reserved ai 28", {0x1c}, 1},
        {"reserved ai 30", {0x5e}, 1},
        {"reserved ai 31 on uint", {0x1f}, 1},
        {"reserved major 7 ai 28", {0xfc}, 1},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int rc = read_whole(cases[k].bytes, cases[k].len);
        if (rc != ROVE_EPROTO)
            ROVE_TEST_FAIL_("%s gave %d", cases[k].what, rc);
    }
}

void test_wire__huge_container_counts_are_refused(void)
{
    rove__item it;
    /* Counts that could never fit in the input: refused by rove__r_next
     * itself, so no caller ever sizes an allocation from them. */
    const unsigned char arr64[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(arr64, sizeof(arr64), &it), ROVE_EPROTO);
    const unsigned char map64[] = {0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(map64, sizeof(map64), &it), ROVE_EPROTO);
    const unsigned char arr32[] = {0x9a, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00};
    ASSERT_RC(next_of(arr32, sizeof(arr32), &it), ROVE_EPROTO);
    const unsigned char text64[] = {0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(text64, sizeof(text64), &it), ROVE_EPROTO);
    const unsigned char bytes64[] = {0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_RC(next_of(bytes64, sizeof(bytes64), &it), ROVE_EPROTO);
}

void test_wire__array_count_exact_and_one_over(void)
{
    rove__item it;
    /* Three elements need at least three bytes. */
    const unsigned char exact[] = {0x83, 0x01, 0x02, 0x03};
    ASSERT_OK(next_of(exact, sizeof(exact), &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_ARRAY);
    ASSERT_EQ_UINT(it.len, 3);
    ASSERT_OK(read_whole(exact, sizeof(exact)));
    const unsigned char over[] = {0x84, 0x01, 0x02, 0x03};
    ASSERT_RC(next_of(over, sizeof(over), &it), ROVE_EPROTO);
    /* Map pairs need at least two bytes each. */
    const unsigned char mexact[] = {0xa2, 0x01, 0x02, 0x03, 0x04};
    ASSERT_OK(next_of(mexact, sizeof(mexact), &it));
    ASSERT_EQ_INT(it.kind, ROVE__K_MAP);
    ASSERT_EQ_UINT(it.len, 2);
    ASSERT_OK(read_whole(mexact, sizeof(mexact)));
    const unsigned char mover[] = {0xa3, 0x01, 0x02, 0x03, 0x04, 0x05};
    ASSERT_RC(next_of(mover, sizeof(mover), &it), ROVE_EPROTO);
    /* An array whose count fits the bytes, but whose elements are larger. */
    const unsigned char short_elems[] = {0x82, 0x19, 0x01};
    ASSERT_RC(read_whole(short_elems, sizeof(short_elems)), ROVE_EPROTO);
}

static void nest(rove__buf *b, int depth)
{
    for (int d = 0; d < depth; d++)
        rove__w_array(b, d + 1 < depth ? 1 : 0);
}

void test_wire__skip_depth_limit(void)
{
    /* wire.h: skip goes "at most ROVE__MAX_DEPTH deep"; the outermost
     * container is depth 1. */
    for (int depth = 1; depth <= ROVE__MAX_DEPTH; depth++) {
        rove__buf b = ROVE__BUF_INIT;
        nest(&b, depth);
        int rc = read_whole(b.ptr, b.len);
        if (rc != 0)
            ROVE_TEST_FAIL_("%d nested arrays (limit %d) gave %d", depth, ROVE__MAX_DEPTH, rc);
        rove__buf_free(&b);
    }
    rove__buf b = ROVE__BUF_INIT;
    nest(&b, ROVE__MAX_DEPTH + 1);
    ASSERT_RC(read_whole(b.ptr, b.len), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_wire__skip_deep_hostile_nesting(void)
{
    /* 100000 nested arrays: refused by the depth limit, no stack overflow. */
    size_t n = 100000;
    unsigned char *p = malloc(n + 1);
    ASSERT(p != NULL);
    memset(p, 0x81, n);
    p[n] = 0x00;
    ASSERT_RC(read_whole(p, n + 1), ROVE_EPROTO);
    /* Same with maps. */
    for (size_t i = 0; i + 1 < n; i += 2) {
        p[i] = 0xa1;
        p[i + 1] = 0x00;
    }
    ASSERT_RC(read_whole(p, n + 1), ROVE_EPROTO);
    free(p);
}

void test_wire__skip_of_scalar_is_noop(void)
{
    const unsigned char two[] = {0x01, 0x02};
    rove__reader r;
    rove__r_init(&r, two, sizeof(two));
    rove__item it;
    ASSERT_OK(rove__r_next(&r, &it));
    ASSERT_OK(rove__r_skip(&r, &it));
    ASSERT_EQ_UINT(r.off, 1);
    ASSERT_OK(rove__r_skip_value(&r));
    ASSERT(rove__r_done(&r));
}

void test_wire__skip_map_skips_keys_and_values(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_map(&b, 2);
    rove__w_text(&b, "k");
    rove__w_array(&b, 2);
    rove__w_int(&b, 1);
    rove__w_map(&b, 1);
    rove__w_int(&b, 2);
    rove__w_text(&b, "v");
    rove__w_int(&b, 3);
    rove__w_null(&b);
    rove__w_int(&b, 77); /* after the map */
    rove__reader r;
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_OK(rove__r_skip_value(&r));
    int64_t v;
    ASSERT_OK(rove__r_int(&r, &v));
    ASSERT_EQ_INT(v, 77);
    ASSERT(rove__r_done(&r));
    rove__buf_free(&b);
}

void test_wire__typed_reads_refuse_other_kinds(void)
{
    rove__buf b = ROVE__BUF_INIT;
    rove__w_text(&b, "x");
    rove__reader r;
    size_t n;
    int64_t i;
    int flag;
    const char *s;
    size_t len;
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_int(&r, &i), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_map(&r, &n), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_array(&r, &n), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_bool(&r, &flag), ROVE_EPROTO);
    rove__buf_clear(&b);

    rove__w_int(&b, 1);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_text(&r, &s, &len), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_text_or_null(&r, &s, &len), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_bool(&r, &flag), ROVE_EPROTO); /* 1 is not true */
    rove__buf_clear(&b);

    rove__w_bytes(&b, "ab", 2);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_text(&r, &s, &len), ROVE_EPROTO); /* bytes are not text */
    rove__buf_clear(&b);

    rove__w_null(&b);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_text(&r, &s, &len), ROVE_EPROTO);
    rove__r_init(&r, b.ptr, b.len);
    ASSERT_RC(rove__r_int(&r, &i), ROVE_EPROTO);
    rove__buf_free(&b);
}

void test_wire__writer_on_failed_buffer_writes_nothing(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX), ROVE_ENOMEM);
    rove__w_map(&b, 1);
    rove__w_array(&b, 1);
    rove__w_int(&b, 1);
    rove__w_real(&b, 1.0);
    rove__w_bool(&b, 1);
    rove__w_null(&b);
    rove__w_text(&b, "x");
    rove__w_bytes(&b, "x", 1);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_RC(rove__buf_status(&b), ROVE_ENOMEM);
    rove__buf_free(&b);
}

void test_wire__text_eq(void)
{
    ASSERT(rove__text_eq("abc", 3, "abc"));
    ASSERT(!rove__text_eq("abc", 2, "abc"));
    ASSERT(!rove__text_eq("abcd", 4, "abc"));
    ASSERT(!rove__text_eq("abd", 3, "abc"));
    ASSERT(rove__text_eq("", 0, ""));
    ASSERT(!rove__text_eq(NULL, 0, ""));
    /* The item is not NUL-terminated: only len bytes count. */
    ASSERT(rove__text_eq("vXYZ", 1, "v"));
}

static int utf8(const char *s)
{
    size_t len = strlen(s);
    return rove__utf8_valid(rove_test_dup(s, len), len);
}

void test_wire__utf8_valid(void)
{
    ASSERT(utf8(""));
    ASSERT(utf8("plain ascii"));
    ASSERT(utf8("\x7f"));
    ASSERT(utf8("\xc2\x80"));         /* U+0080, smallest 2-byte */
    ASSERT(utf8("\xdf\xbf"));         /* U+07FF */
    ASSERT(utf8("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
    ASSERT(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below surrogates */
    ASSERT(utf8("\xee\x80\x80"));     /* U+E000, just above */
    ASSERT(utf8("\xef\xbf\xbf"));     /* U+FFFF */
    ASSERT(utf8("\xf0\x90\x80\x80")); /* U+10000, smallest 4-byte */
    ASSERT(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
    ASSERT(utf8("Ünïcødé ✓ 😀 日本"));
}

void test_wire__utf8_invalid(void)
{
    static const char *const bad[] = {
        "\xc0\x80",                 /* overlong NUL */
        "\xc1\xbf",                 /* overlong U+007F */
        "\xe0\x80\xaf",             /* overlong '/' */
        "\xe0\x9f\xbf",             /* overlong U+07FF */
        "\xf0\x8f\xbf\xbf",         /* overlong U+FFFF */
        "\xed\xa0\x80",             /* U+D800, high surrogate */
        "\xed\xbf\xbf",             /* U+DFFF, low surrogate */
        "\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
        "\xf4\x90\x80\x80",         /* U+110000, past the last code point */
        "\xf5\x80\x80\x80",         /* lead byte F5 */
        "\xf8\x88\x80\x80\x80",     /* 5-byte form */
        "\xfe",
        "\xff",
        "\x80", /* lone continuation byte */
        "a\xbf",
        "\xc2",         /* truncated 2-byte */
        "\xe2\x82",     /* truncated 3-byte */
        "\xf0\x9f\x98", /* truncated 4-byte */
        "\xc2\x41",     /* continuation byte is ASCII */
        "\xe2\x28\xa1",
        "ok\xf0\x9f\x98", /* truncated at the very end */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        if (utf8(bad[k]))
            ROVE_TEST_FAIL_("invalid sequence %zu accepted", k);
    /* NUL bytes are refused anywhere, even though they are valid UTF-8. */
    ASSERT(!rove__utf8_valid("\0", 1));
    ASSERT(!rove__utf8_valid("ab\0cd", 5));
    ASSERT(!rove__utf8_valid("ab\0", 3));
    /* Truncation by len, not by NUL: each prefix of a 4-byte sequence. */
    const char *emoji = "\xf0\x9f\x98\x80";
    for (size_t len = 1; len < 4; len++)
        ASSERT(!rove__utf8_valid(rove_test_dup(emoji, len), len));
    ASSERT(rove__utf8_valid(rove_test_dup(emoji, 4), 4));
}
