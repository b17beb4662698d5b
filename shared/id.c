/* ULIDs in Crockford base32 (see id.h). */
#include <string.h>

#include "id.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void rove__id_make(char *out, uint64_t ms, const unsigned char rnd[10])
{
    unsigned char b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    memcpy(b + 6, rnd, 10);
    /* 128 bits -> 26 base32 digits; the first digit carries only 3 bits. */
    int bit = -2; /* 130 bits of output, 2 leading zero bits */
    for (int i = 0; i < ROVE__ID_LEN; i++) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++, bit++) {
            v <<= 1;
            if (bit >= 0)
                v |= (b[bit / 8] >> (7 - bit % 8)) & 1u;
        }
        out[i] = alphabet[v];
    }
    out[ROVE__ID_LEN] = 0;
}

int rove__id_valid(const char *s, size_t len)
{
    if (s == NULL || len != ROVE__ID_LEN)
        return 0;
    if (s[0] < '0' || s[0] > '7')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == 0 || strchr(alphabet, s[i]) == NULL)
            return 0;
    return 1;
}
