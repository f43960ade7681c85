/* guard.c - see guard.h. */
#include "guard.h"

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

void mk_guarded_cursor(mk_guarded *g, mk_cursor *c, const void *src,
                       size_t n)
{
    mk_guarded_init(g, src, n);
    mk_cur_init(c, MK_BYTES(g->data, g->n));
}

void mk_guarded_free(mk_guarded *g)
{
    if (g->map && g->map != MAP_FAILED)
        munmap(g->map, g->maplen);
    g->map = NULL;
    g->data = NULL;
    g->n = 0;
}
