/* guard.c - see guard.h. */
#include "guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void mk_guarded_init(mk_guarded *g, const void *src, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (n + page - 1) / page;
    if (data_pages == 0)
        data_pages = 1;
    g->maplen = (data_pages + 1) * page;
    g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    if (mprotect(g->map + data_pages * page, page, PROT_NONE) != 0) {
        perror("mprotect");
        abort();
    }
    g->data = g->map + data_pages * page - n;
    g->n = n;
    if (n)
        memcpy(g->data, src, n);
}

void mk_guarded_free(mk_guarded *g)
{
    if (g->map && g->map != MAP_FAILED)
        munmap(g->map, g->maplen);
    g->map = NULL;
    g->data = NULL;
    g->n = 0;
}

size_t mk_test_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *s = hex; *s; s++) {
        int v;
        if (isspace((unsigned char)*s))
            continue;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            abort();
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                abort();
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0)
        abort();
    return n;
}
