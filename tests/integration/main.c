/*
 * Runner for the integration cases: `test_integration [--roved PATH]
 * [--name VALUE ...] <case>`. CMake registers each case as its own ctest test
 * test_integration__<case>; running without a case lists them.
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

typedef struct tcase {
    const char *name;
    void (*fn)(void);
} tcase;

static const tcase cases[] = {
#define TH_CASE_ROW(name) {#name, test_integration__##name},
    TH_CASES(TH_CASE_ROW)
#undef TH_CASE_ROW
        {NULL, NULL},
};

int main(int argc, char **argv)
{
    th_init(&argc, argv);
    if (argc != 2) {
        fprintf(stderr, "usage: test_integration [--roved PATH] <case>\ncases:\n");
        for (const tcase *t = cases; t->name != NULL; t++)
            fprintf(stderr, "  %s\n", t->name);
        return 2;
    }
    for (const tcase *t = cases; t->name != NULL; t++) {
        if (strcmp(t->name, argv[1]) != 0)
            continue;
        double t0 = th_mono();
        fprintf(stderr, "test_integration__%s (roved: %s)\n", t->name, th_roved_path());
        t->fn();
        th_cleanup();
        fprintf(stderr, "PASS test_integration__%s (%.1f s)\n", t->name, th_mono() - t0);
        return 0;
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
