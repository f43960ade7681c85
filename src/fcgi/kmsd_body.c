/* kmsd_body.c - see kmsd_body.h. */
#include "fcgi/kmsd_body.h"

size_t kmsd_body_read(FCGX_Stream *in, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        size_t want = cap - n;
        int chunk = want > 65536 ? 65536 : (int)want;
        int got = FCGX_GetStr((char *)buf + n, chunk, in);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    return n;
}

void kmsd_body_drain(FCGX_Stream *in, size_t max)
{
    char scratch[4096];
    size_t total = 0;
    while (total < max) {
        int got = FCGX_GetStr(scratch, (int)sizeof scratch, in);
        if (got <= 0)
            break;
        total += (size_t)got;
    }
}
