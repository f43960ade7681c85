/* hex.h - hex test vectors for the unit tests: hx("0a 1b ...") gives the
 * bytes (spaces ignored; a bad digit aborts the test program), hb / HB
 * the span of them, ck_hex compares bytes with a hex string. */
#ifndef MK_TESTS_LIB_HEX_H
#define MK_TESTS_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* Decode hex (spaces ignored) into out; aborts on a bad digit, an odd
 * count or more than cap bytes. Returns the byte count. */
size_t mk_test_hex(const char *hex, uint8_t *out, size_t cap);

/* room for the longest vector of the tests (the RFC 6043 chains) */
typedef struct hexbuf {
    uint8_t b[2048];
    size_t n;
} hexbuf;

static inline hexbuf hx(const char *s)
{
    hexbuf h;
    h.n = mk_test_hex(s, h.b, sizeof h.b);
    return h;
}

static inline mk_bytes hb(const hexbuf *h) { return MK_BYTES(h->b, h->n); }
#define HB(h) MK_BYTES((h).b, (h).n)

/* got_ (len_ bytes) equals the hex string want_ (check(3) assertions) */
#define ck_hex(got_, len_, want_)                                             \
    do {                                                                     \
        hexbuf w_ = hx(want_);                                               \
        ck_assert_uint_eq((len_), w_.n);                                     \
        ck_assert_mem_eq((got_), w_.b, w_.n);                                \
    } while (0)

#endif
