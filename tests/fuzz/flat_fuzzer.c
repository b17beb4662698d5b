/*
 * Fuzz target: rove__flat_parse, the decoder of login and other control
 * messages, and rove__flat_text on whatever it found.
 */
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "rove/errors.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rove__flat_field f[] = {
        {"token", 0, {0}}, {"user", 0, {0}},  {"device", 0, {0}}, {"expires", 0, {0}},
        {"ok", 0, {0}},    {"ratio", 0, {0}}, {"", 0, {0}},       {"server_time", 0, {0}},
    };
    size_t n = sizeof(f) / sizeof(f[0]);
    rove__errinfo err;
    int rc = rove__flat_parse(data, size, f, n, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ROVE_EPROTO && err.code == rc);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        static char big[ROVE__MAX_TEXT + 1];
        char small[8];
        int t1 = rove__flat_text(&f[i], small, sizeof(small));
        int t2 = rove__flat_text(&f[i], big, sizeof(big));
        if (!f[i].present) {
            FUZZ_CHECK(f[i].v.type == ROVE__T_NULL);
            FUZZ_CHECK(t1 == ROVE_EPROTO && t2 == ROVE_EPROTO);
            continue;
        }
        switch (f[i].v.type) {
        case ROVE__T_TEXT:
            FUZZ_CHECK(f[i].v.len <= ROVE__MAX_TEXT);
            FUZZ_CHECK(rove__utf8_valid(f[i].v.s, f[i].v.len));
            fuzz_touch(f[i].v.s, f[i].v.len);
            /* Exact-size contract: fits iff len < size, always NUL-terminated. */
            FUZZ_CHECK(t1 == (f[i].v.len < sizeof(small) ? 0 : ROVE_ETOOBIG));
            FUZZ_CHECK(t2 == 0 && strlen(big) == f[i].v.len);
            FUZZ_CHECK(memcmp(big, f[i].v.s, f[i].v.len) == 0);
            break;
        case ROVE__T_INT:
        case ROVE__T_REAL:
        case ROVE__T_NULL:
            FUZZ_CHECK(t1 == ROVE_EPROTO && t2 == ROVE_EPROTO);
            break;
        default:
            FUZZ_CHECK(!"unknown value type");
        }
    }
    return 0;
}
