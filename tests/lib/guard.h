/* guard.h - test helper: place bytes flush against an unreadable page, so
 * that a decoder reading one byte past its input faults at once. */
#ifndef MK_TESTS_LIB_GUARD_H
#define MK_TESTS_LIB_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

typedef struct mk_guarded {
    uint8_t *map;   /* whole mapping */
    size_t maplen;
    uint8_t *data;  /* the copy; data + n is the first unreadable byte */
    size_t n;
} mk_guarded;

/* Copy n bytes so that they end exactly at a PROT_NONE page. Aborts the test
 * program if the mapping cannot be made. */
void mk_guarded_init(mk_guarded *g, const void *src, size_t n);
void mk_guarded_free(mk_guarded *g);

/* mk_guarded_init, and a cursor c over the guarded copy: the reads a test
 * makes through c fault at once when they pass the end. */
void mk_guarded_cursor(mk_guarded *g, mk_cursor *c, const void *src,
                       size_t n);


#endif
