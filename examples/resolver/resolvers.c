/*
 * Example conflict resolvers for roved (docs/conflicts.md, "Custom
 * resolvers"). Build as a shared object and start roved with
 *
 *     roved --resolver-plugin /path/to/librove_example_resolvers.so ...
 *
 * lower_discount (account.discount_pct): when a rep's offline edit of a
 *   discount meets a newer agreed value, the lower discount stands: nobody
 *   gives away margin by racing a stale tablet, and a reduction is never
 *   lost. (The schema's own policy for this column is "server wins".)
 * joined_phone (contact.phone): two different numbers typed concurrently are
 *   both kept, "server / device", so the rep can call both and clean up.
 */
#include <stdio.h>
#include <string.h>

#include "roved/resolver.h"

static int lower_discount(const roved_conflict_in *in, roved_value *out, void *ud)
{
    (void)out;
    (void)ud;
    double server = in->server.type == ROVED_REAL ? in->server.d : 0.0;
    double device = in->device.type == ROVED_REAL ? in->device.d : 0.0;
    if (in->device.type == ROVED_NULL) /* removing a discount lowers it */
        return ROVED_TAKE_DEVICE;
    if (in->server.type == ROVED_NULL)
        return ROVED_KEEP_SERVER;
    return device < server ? ROVED_TAKE_DEVICE : ROVED_KEEP_SERVER;
}

static int joined_phone(const roved_conflict_in *in, roved_value *out, void *ud)
{
    static char buf[512]; /* valid until this resolver's next call */
    (void)ud;
    if (in->server.type != ROVED_TEXT || in->device.type != ROVED_TEXT)
        return ROVED_TAKE_DEVICE;
    if (in->server.len == in->device.len &&
        memcmp(in->server.s, in->device.s, in->server.len) == 0)
        return ROVED_KEEP_SERVER;
    int n = snprintf(buf, sizeof(buf), "%.*s / %.*s", (int)in->server.len, in->server.s,
                     (int)in->device.len, in->device.s);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -1; /* too long to join: roved applies the schema's policy */
    out->type = ROVED_TEXT;
    out->s = buf;
    out->len = (size_t)n;
    return ROVED_USE_VALUE;
}

__attribute__((visibility("default"))) int roved_plugin_init(int abi, roved_register_fn reg)
{
    if (abi != ROVED_RESOLVER_ABI)
        return 1;
    if (reg("lower_discount", "account", "discount_pct", lower_discount, NULL) != 0)
        return 1;
    return reg("joined_phone", "contact", "phone", joined_phone, NULL);
}
