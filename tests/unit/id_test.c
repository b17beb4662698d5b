/* Tests of ULID ids (shared/id.c). */
#include <stdint.h>
#include <string.h>

#include "id.h"
#include "test.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Decodes a ULID back to its 16 bytes (test oracle, independent of id.c). */
static void decode(const char *s, unsigned char out[16])
{
    memset(out, 0, 16);
    /* 26 digits = 130 bits; the top 2 are zero. */
    int bit = -2;
    for (int i = 0; i < ROVE__ID_LEN; i++) {
        const char *p = strchr(alphabet, s[i]);
        ASSERT(p != NULL);
        unsigned v = (unsigned)(p - alphabet);
        for (int k = 4; k >= 0; k--, bit++) {
            unsigned b = (v >> k) & 1u;
            if (bit < 0) {
                ASSERT_EQ_UINT(b, 0);
                continue;
            }
            out[bit / 8] |= (unsigned char)(b << (7 - bit % 8));
        }
    }
}

static int valid(const char *s) { return rove__id_valid(s, strlen(s)); }

void test_id__known_vectors(void)
{
    char out[ROVE__ID_LEN + 1];
    unsigned char zero[10] = {0}, ones[10];
    memset(ones, 0xff, sizeof(ones));
    rove__id_make(out, 0, zero);
    ASSERT_EQ_STR(out, "00000000000000000000000000");
    rove__id_make(out, (1ull << 48) - 1, ones);
    ASSERT_EQ_STR(out, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    /* The timestamp example of the ULID specification. */
    rove__id_make(out, 1469918176385ull, zero);
    ASSERT(memcmp(out, "01ARYZ6S41", 10) == 0);
    ASSERT_EQ_STR(out + 10, "0000000000000000");
    /* The last random bit is the last bit of the last digit. */
    unsigned char one[10] = {0};
    one[9] = 1;
    rove__id_make(out, 0, one);
    ASSERT_EQ_STR(out, "00000000000000000000000001");
    one[9] = 0x20;
    rove__id_make(out, 0, one);
    ASSERT_EQ_STR(out, "00000000000000000000000010");
}

void test_id__make_valid_roundtrip(void)
{
    uint32_t x = 123456789u;
    char prev[ROVE__ID_LEN + 1] = "";
    for (int i = 0; i < 5000; i++) {
        unsigned char rnd[10];
        for (int k = 0; k < 10; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            rnd[k] = (unsigned char)x;
        }
        uint64_t ms = (1700000000000ull + (uint64_t)i * 997) & ((1ull << 48) - 1);
        char out[ROVE__ID_LEN + 2];
        memset(out, 'Q', sizeof(out));
        rove__id_make(out, ms, rnd);
        ASSERT_EQ_INT(out[ROVE__ID_LEN], 0);
        ASSERT_EQ_INT(out[ROVE__ID_LEN + 1], 'Q'); /* writes exactly 27 bytes */
        ASSERT(rove__id_valid(out, ROVE__ID_LEN));
        unsigned char bytes[16];
        decode(out, bytes);
        uint64_t got = 0;
        for (int k = 0; k < 6; k++)
            got = (got << 8) | bytes[k];
        ASSERT_EQ_UINT(got, ms);
        ASSERT(memcmp(bytes + 6, rnd, 10) == 0);
        /* Ids sort by time as plain strings. */
        ASSERT(strcmp(prev, out) < 0);
        memcpy(prev, out, sizeof(prev));
    }
}

void test_id__invalid_characters(void)
{
    /* Crockford base32 leaves out I, L, O and U; ids are upper case. */
    const char *base = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    ASSERT(valid(base));
    const char bad[] = {'I', 'L', 'O', 'U', 'a', 'z', 'i', '-', ' ', '*', '\x80', '\xff'};
    for (size_t k = 0; k < sizeof(bad); k++) {
        for (int pos = 0; pos < ROVE__ID_LEN; pos += 5) {
            char s[ROVE__ID_LEN + 1];
            strcpy(s, base);
            s[pos] = bad[k];
            if (rove__id_valid(s, ROVE__ID_LEN))
                ROVE_TEST_FAIL_("char 0x%02x at %d accepted", (unsigned char)bad[k], pos);
        }
    }
    ASSERT(!valid("01arz3ndektsv4rrffq69g5fav"));
    /* A NUL inside the 26 bytes. */
    char s[ROVE__ID_LEN + 1];
    strcpy(s, base);
    s[13] = 0;
    ASSERT(!rove__id_valid(s, ROVE__ID_LEN));
    /* Every letter of the alphabet is accepted. */
    for (size_t k = 0; k < 32; k++) {
        strcpy(s, base);
        s[25] = alphabet[k];
        ASSERT(rove__id_valid(s, ROVE__ID_LEN));
    }
}

void test_id__wrong_length(void)
{
    const char *s = "01ARZ3NDEKTSV4RRFFQ69G5FAVX";
    ASSERT(rove__id_valid(s, 26));
    ASSERT(!rove__id_valid(s, 25));
    ASSERT(!rove__id_valid(s, 27));
    ASSERT(!rove__id_valid(s, 0));
    ASSERT(!rove__id_valid("", 0));
    ASSERT(!rove__id_valid(NULL, 26));
    ASSERT(!rove__id_valid(NULL, 0));
}

void test_id__first_char_range(void)
{
    /* 26 digits carry 130 bits; 128 fit only when the first digit is 0..7. */
    char s[] = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
    ASSERT(valid(s));
    const char *over = "89ABCDEFGHJKMNPQRSTVWXYZ";
    for (const char *p = over; *p; p++) {
        s[0] = *p;
        if (valid(s))
            ROVE_TEST_FAIL_("first char %c accepted", *p);
    }
    for (char ch = '0'; ch <= '7'; ch++) {
        s[0] = ch;
        ASSERT(valid(s));
    }
}
