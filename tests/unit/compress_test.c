/* Tests of zlib framing with the inflate cap (shared/compress.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"
#include "test.h"

/* Deterministic, moderately compressible test data. */
static unsigned char *sample(size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    ASSERT(p != NULL);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)("abcdefgh      \n{}"[x % 17]);
    }
    return p;
}

static void deflated(rove__buf *z, const void *p, size_t len)
{
    rove__buf_clear(z);
    ASSERT_OK(rove__deflate(z, p, len, -1));
    ASSERT(z->len > 0);
}

void test_compress__roundtrip(void)
{
    const size_t lens[] = {0, 1, 100, 65536, 256 * 1024, 256 * 1024 + 1, 1000000};
    const int levels[] = {-1, 0, 1, 9};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        unsigned char *data = sample(lens[k]);
        for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
            rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
            ASSERT_OK(rove__deflate(&z, data, lens[k], levels[l]));
            ASSERT_OK(rove__inflate(&out, rove_test_dup(z.ptr, z.len), z.len, lens[k]));
            ASSERT_EQ_MEM(out.ptr, out.len, data, lens[k]);
            if (out.ptr)
                ASSERT_EQ_INT(out.ptr[out.len], 0);
            rove__buf_free(&z);
            rove__buf_free(&out);
        }
        free(data);
    }
}

void test_compress__appends_to_existing_content(void)
{
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&z, "HDR"));
    ASSERT_OK(rove__deflate(&z, "hello", 5, 6));
    ASSERT_EQ_MEM(z.ptr, 3, "HDR", 3);
    ASSERT_OK(rove__buf_puts(&out, "pre:"));
    ASSERT_OK(rove__inflate(&out, z.ptr + 3, z.len - 3, 5));
    ASSERT_EQ_STR((char *)out.ptr, "pre:hello");
    /* max_out counts only the new bytes, not what the buffer held before. */
    rove__buf_clear(&out);
    ASSERT_OK(rove__buf_puts(&out, "0123456789"));
    ASSERT_RC(rove__inflate(&out, z.ptr + 3, z.len - 3, 4), ROVE_ETOOBIG);
    /* A failed inflate leaves the earlier content as it was. */
    ASSERT_EQ_UINT(out.len, 10);
    ASSERT_EQ_STR((char *)out.ptr, "0123456789");
    rove__buf_free(&z);
    rove__buf_free(&out);
}

void test_compress__exact_max_out_boundary(void)
{
    const size_t lens[] = {0, 1, 1000, 256 * 1024, 256 * 1024 + 7, 600000};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t len = lens[k];
        unsigned char *data = sample(len);
        rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
        deflated(&z, data, len);
        ASSERT_OK(rove__inflate(&out, z.ptr, z.len, len));
        ASSERT_EQ_UINT(out.len, len);
        rove__buf_clear(&out);
        ASSERT_OK(rove__inflate(&out, z.ptr, z.len, len + 1));
        ASSERT_EQ_UINT(out.len, len);
        if (len > 0) {
            rove__buf_clear(&out);
            ASSERT_RC(rove__inflate(&out, z.ptr, z.len, len - 1), ROVE_ETOOBIG);
            ASSERT_EQ_UINT(out.len, 0);
        }
        rove__buf_free(&z);
        rove__buf_free(&out);
        free(data);
    }
}

void test_compress__truncated_stream(void)
{
    size_t len = 5000;
    unsigned char *data = sample(len);
    rove__buf z = ROVE__BUF_INIT;
    deflated(&z, data, len);
    for (size_t cut = 0; cut < z.len; cut++) {
        rove__buf out = ROVE__BUF_INIT;
        int rc = rove__inflate(&out, rove_test_dup(z.ptr, cut), cut, 1u << 20);
        if (rc != ROVE_EPROTO)
            ROVE_TEST_FAIL_("cut at %zu of %zu gave %d", cut, z.len, rc);
        ASSERT_EQ_UINT(out.len, 0);
        rove__buf_free(&out);
    }
    rove__buf_free(&z);
    free(data);
}

void test_compress__truncated_stream_at_exact_max_out(void)
{
    /* The output is complete and exactly max_out bytes, but the stream lacks
     * (part of) its Adler-32 trailer: that is a corrupt message, not a large
     * one. */
    size_t len = 5000;
    unsigned char *data = sample(len);
    rove__buf z = ROVE__BUF_INIT;
    deflated(&z, data, len);
    for (size_t drop = 1; drop <= 4; drop++) {
        rove__buf out = ROVE__BUF_INIT;
        size_t cut = z.len - drop;
        int rc = rove__inflate(&out, rove_test_dup(z.ptr, cut), cut, len);
        if (rc != ROVE_EPROTO)
            ROVE_TEST_FAIL_("trailer missing %zu bytes, max_out == len: got %d (%s)", drop, rc,
                            rove_error_name(rc));
        rove__buf_free(&out);
    }
    rove__buf_free(&z);
    free(data);
}

void test_compress__trailing_garbage(void)
{
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    deflated(&z, "payload", 7);
    ASSERT_OK(rove__inflate(&out, z.ptr, z.len, 7));
    rove__buf_clear(&out);
    ASSERT_OK(rove__buf_put(&z, "\0", 1));
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, 100), ROVE_EPROTO);
    ASSERT_EQ_UINT(out.len, 0);
    /* Two concatenated streams are trailing garbage too. */
    z.len -= 1;
    size_t one = z.len;
    ASSERT_OK(rove__deflate(&z, "more", 4, -1));
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, 100), ROVE_EPROTO);
    ASSERT_OK(rove__inflate(&out, z.ptr, one, 100));
    rove__buf_free(&z);
    rove__buf_free(&out);
}

void test_compress__corrupt_stream(void)
{
    size_t len = 3000;
    unsigned char *data = sample(len);
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    deflated(&z, data, len);
    /* Bad header, bad checksum, raw deflate without the zlib header, gzip. */
    z.ptr[0] ^= 0x01;
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, len), ROVE_EPROTO);
    z.ptr[0] ^= 0x01;
    z.ptr[z.len - 1] ^= 0x80;
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, len), ROVE_EPROTO);
    z.ptr[z.len - 1] ^= 0x80;
    ASSERT_OK(rove__inflate(&out, z.ptr, z.len, len));
    rove__buf_clear(&out);
    ASSERT_RC(rove__inflate(&out, z.ptr + 2, z.len - 2, len), ROVE_EPROTO);
    const unsigned char gzip[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                                  0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ASSERT_RC(rove__inflate(&out, gzip, sizeof(gzip), len), ROVE_EPROTO);
    ASSERT_RC(rove__inflate(&out, "not zlib at all", 15, len), ROVE_EPROTO);
    ASSERT_EQ_UINT(out.len, 0);
    rove__buf_free(&z);
    rove__buf_free(&out);
    free(data);
}

/* Compresses `total` zero bytes without ever holding them in memory. */
static void zero_bomb(rove__buf *z, size_t total)
{
    static unsigned char zeros[1 << 16];
    z_stream s;
    memset(&s, 0, sizeof(s));
    ASSERT_EQ_INT(deflateInit(&s, 9), Z_OK);
    unsigned char chunk[1 << 14];
    size_t left = total;
    int flush;
    do {
        size_t n = left < sizeof(zeros) ? left : sizeof(zeros);
        left -= n;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        s.next_in = zeros;
        s.avail_in = (uInt)n;
        do {
            s.next_out = chunk;
            s.avail_out = sizeof(chunk);
            int rc = deflate(&s, flush);
            ASSERT(rc != Z_STREAM_ERROR);
            ASSERT_OK(rove__buf_put(z, chunk, sizeof(chunk) - s.avail_out));
        } while (s.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&s);
}

void test_compress__bomb_is_cut_off(void)
{
    rove__buf z = ROVE__BUF_INIT;
    size_t total = 100u * 1024u * 1024u;
    zero_bomb(&z, total);
    rove_test_note("100 MiB of zeros compress to %zu bytes", z.len);
    ASSERT(z.len < 200 * 1024);
    const size_t caps[] = {1024 * 1024, 256 * 1024, 1, 1024 * 1024 + 1};
    for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
        size_t max_out = caps[k];
        rove__buf out = ROVE__BUF_INIT;
        ASSERT_RC(rove__inflate(&out, z.ptr, z.len, max_out), ROVE_ETOOBIG);
        ASSERT_EQ_UINT(out.len, 0);
        /* The output never grew past max_out: the buffer, which at most
         * doubles its capacity, is bounded by about twice the cap rather than
         * anything near the 100 MiB the stream expands to. */
        if (out.size > 2 * (max_out + 1) && out.size > 512)
            ROVE_TEST_FAIL_("max_out %zu but the buffer grew to %zu", max_out, out.size);
        rove__buf_free(&out);
    }
    /* With a cap above the expanded size, the same stream inflates fully. */
    rove__buf out = ROVE__BUF_INIT;
    ASSERT_OK(rove__inflate(&out, z.ptr, z.len, total));
    ASSERT_EQ_UINT(out.len, total);
    ASSERT(out.ptr[0] == 0 && out.ptr[total - 1] == 0);
    rove__buf_free(&out);
    rove__buf_free(&z);
}

void test_compress__zero_max_out(void)
{
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    deflated(&z, "", 0);
    ASSERT_OK(rove__inflate(&out, z.ptr, z.len, 0));
    ASSERT_EQ_UINT(out.len, 0);
    deflated(&z, "x", 1);
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, 0), ROVE_ETOOBIG);
    rove__buf_free(&z);
    rove__buf_free(&out);
}

void test_compress__bad_level(void)
{
    rove__buf z = ROVE__BUF_INIT;
    ASSERT(rove__deflate(&z, "x", 1, 10) != 0);
    ASSERT(rove__deflate(&z, "x", 1, -2) != 0);
    ASSERT_EQ_UINT(z.len, 0);
    rove__buf_free(&z);
}

void test_compress__failed_buffer(void)
{
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    deflated(&z, "abc", 3);
    ASSERT_RC(rove__buf_reserve(&out, SIZE_MAX), ROVE_ENOMEM);
    ASSERT_RC(rove__inflate(&out, z.ptr, z.len, 3), ROVE_ENOMEM);
    ASSERT_RC(rove__deflate(&out, "abc", 3, -1), ROVE_ENOMEM);
    rove__buf_free(&z);
    rove__buf_free(&out);
}
