/* store_wrap.c - keys at rest: AES key wrap (RFC 3394) under the master
 * key, with the IV bound to the row the key belongs to (store.h). */
#include <string.h>

#include "store/store_int.h"

/* RFC 3394 §2.2.3.2 lets the IV carry an integrity check chosen by the
 * application: we take the first 8 bytes of SHA-256(domain || 0x00 || id).
 * Unwrap then only succeeds for the row (psk_id / ticket key id) the key
 * was wrapped for, so swapping wrapped keys between rows is detected. */
static mk_err row_iv(const char *domain, mk_bytes id, uint8_t iv[8])
{
    static const uint8_t sep = 0x00;
    uint8_t h[32];
    const mk_bytes parts[3] = {MK_BYTES(domain, strlen(domain)),
                               MK_BYTES(&sep, 1), id};
    MK_GUARD(mk_sha256(parts, 3, h));
    memcpy(iv, h, 8);
    return MK_OK;
}

mk_err mk_store_wrap(const mk_sqlstore *s, const char *domain, mk_bytes id,
                     mk_bytes plain, uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t iv[8];
    MK_GUARD(row_iv(domain, id, iv));
    return mk_aes_kw_wrap(mk_key_bytes(&s->master), iv, plain, out, cap,
                          outlen);
}

mk_err mk_store_unwrap(const mk_sqlstore *s, const char *domain, mk_bytes id,
                       mk_bytes wrapped, mk_key *out)
{
    uint8_t iv[8];
    uint8_t plain[MK_KEY_MAX];
    size_t n = 0;
    mk_err rc;

    mk_key_wipe(out);
    /* an erased (retired) or damaged value is not a key */
    if (wrapped.n < 24 || wrapped.n > MK_KEY_MAX + 8 || wrapped.n % 8 != 0)
        MK_FAIL(MK_E_UNWRAP, "stored wrapped key has a bad length");
    MK_GUARD(row_iv(domain, id, iv));
    MK_GUARD_GOTO(mk_aes_kw_unwrap(mk_key_bytes(&s->master), iv, wrapped,
                                   plain, sizeof plain, &n),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_key_copy(out, MK_BYTES(plain, n)), rc, cleanup);
cleanup:
    mk_wipe(plain, sizeof plain);
    return rc;
}
