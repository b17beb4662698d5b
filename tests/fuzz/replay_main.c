/*
 * Runs a fuzz target without libFuzzer, so the corpus replays in ordinary CI
 * under gcc (and under ASan/UBSan in the sanitizer build).
 *
 *   replay_<target> [--no-mutate] <file or directory>...
 *
 * Each corpus file is run as is, then every proper prefix of it (truncation
 * is the commonest real-world corruption), then with each of its first 4096
 * bytes replaced by a few interesting values. Every input is passed in a
 * heap block of exactly its size, so ASan catches a read one byte past it.
 * Exits 1 when no input was found: an empty corpus must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* What is running now, printed if the target crashes or aborts. */
static char current[1200];

static void report(void) { fprintf(stderr, "replay: failing input: %s\n", current); }

static void on_signal(int sig)
{
    report();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Provided by the sanitizer runtimes; absent (NULL) in a plain build. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void run(const unsigned char *p, size_t len)
{
    /* malloc(0) may return NULL; keep a valid pointer for empty inputs. */
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(copy, p, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

static unsigned char *slurp(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t size = 4096, len = 0;
    unsigned char *p = malloc(size);
    size_t n;
    while (p != NULL && (n = fread(p + len, 1, size - len, f)) > 0) {
        len += n;
        if (len == size) {
            unsigned char *q = realloc(p, size *= 2);
            if (q == NULL)
                free(p);
            p = q;
        }
    }
    fclose(f);
    *out_len = len;
    return p;
}

static int mutate = 1;
static unsigned long nfiles, nruns;

static int replay_file(const char *path)
{
    size_t len;
    unsigned char *p = slurp(path, &len);
    if (p == NULL) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    nfiles++;
    snprintf(current, sizeof(current), "%s (as is)", path);
    run(p, len);
    nruns++;
    if (mutate) {
        for (size_t cut = 0; cut < len; cut++) {
            snprintf(current, sizeof(current), "%s truncated to %zu bytes", path, cut);
            run(p, cut);
            nruns++;
        }
        static const unsigned char values[] = {0x00, 0xff, 0x7f, 0x80, 0x1b, 0x9b, 0xbf};
        size_t limit = len < 4096 ? len : 4096;
        for (size_t i = 0; i < limit; i++) {
            unsigned char saved = p[i];
            for (size_t v = 0; v < sizeof(values); v++) {
                if (values[v] == saved)
                    continue;
                p[i] = values[v];
                snprintf(current, sizeof(current), "%s with byte %zu set to 0x%02x", path, i,
                         values[v]);
                run(p, len);
                nruns++;
            }
            p[i] = (unsigned char)(saved ^ 0x01);
            snprintf(current, sizeof(current), "%s with byte %zu xor 0x01", path, i);
            run(p, len);
            nruns++;
            p[i] = saved;
        }
    }
    free(p);
    return 0;
}

static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path);
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rc |= replay_path(sub);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(report);
    int rc = 0, i = 1;
    if (i < argc && strcmp(argv[i], "--no-mutate") == 0) {
        mutate = 0;
        i++;
    }
    if (i == argc) {
        fprintf(stderr, "usage: %s [--no-mutate] <file or directory>...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++)
        rc |= replay_path(argv[i]);
    printf("replay: %lu files, %lu runs\n", nfiles, nruns);
    if (nfiles == 0) {
        fprintf(stderr, "replay: no corpus files found\n");
        return 1;
    }
    return rc;
}
