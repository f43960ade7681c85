/* uri.c - see uri.h. */
#include "util/uri.h"

#include <string.h>

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* RFC 3261 §25.1: unreserved (alphanum, mark), reserved, and the "[" "]"
 * of IPv6 references and of param-unreserved / hnv-unreserved. */
static bool is_uri_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-_.!~*'();/?:@&=+$,[]", c) != NULL;
}

bool mk_uri_sip_tel_ok(mk_bytes u)
{
    static const struct {
        const char *scheme;
        bool tel;
    } schemes[] = {{"sip:", false}, {"sips:", false}, {"tel:", true}};
    size_t start = 0;
    bool tel = false;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (u.n > n && memcmp(u.p, schemes[i].scheme, n) == 0) {
            start = n;
            tel = schemes[i].tel;
        }
    }
    if (start == 0)
        return false;
    for (size_t i = start; i < u.n; i++) {
        uint8_t c = u.p[i];
        if (c == '%') {
            if (u.n - i < 3 || !is_hex(u.p[i + 1]) || !is_hex(u.p[i + 2]))
                return false;
            i += 2;
        } else if (!is_uri_char(c) && !(tel && c == '#')) {
            return false;
        }
    }
    return true;
}
