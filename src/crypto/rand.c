/* rand.c - the only source of randomness: OpenSSL's DRBG (RAND_bytes). */
#include "crypto/crypto.h"

#include <limits.h>

#include "crypto/ossl.h"

mk_err mk_random(uint8_t *out, size_t n)
{
    if (n == 0)
        return MK_OK;
    if (out == NULL)
        MK_FAIL(MK_E_ARG, "random output missing");
    for (size_t done = 0; done < n;) {
        size_t left = n - done;
        int k = left > INT_MAX ? INT_MAX : (int)left;
        if (RAND_bytes(out + done, k) != 1) {
            /* no half-random secret is left for a caller that ignores rc */
            mk_wipe(out, n);
            MK_FAIL(MK_E_RANDOM, "RAND_bytes failed");
        }
        done += (size_t)k;
    }
    return MK_OK;
}
