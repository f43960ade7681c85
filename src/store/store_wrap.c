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

mk_err mk_store_wrap_under(const mk_key *master, const char *domain,
                           mk_bytes id, mk_bytes plain, uint8_t *out,
                           size_t cap, size_t *outlen)
{
    uint8_t iv[8];
    MK_GUARD(row_iv(domain, id, iv));
    return mk_aes_kw_wrap(mk_key_bytes(master), iv, plain, out, cap, outlen);
}

mk_err mk_store_wrap(const mk_sqlstore *s, const char *domain, mk_bytes id,
                     mk_bytes plain, uint8_t *out, size_t cap, size_t *outlen)
{
    return mk_store_wrap_under(&s->master, domain, id, plain, out, cap,
                               outlen);
}

mk_err mk_store_unwrap_under(const mk_key *master, const char *domain,
                             mk_bytes id, mk_bytes wrapped, mk_key *out)
{
    uint8_t iv[8];
    uint8_t plain[MK_KEY_MAX];
    size_t n = 0;
    mk_err rc;
    mk_key_wipe(out);
    /* an erased (retired) or damaged value is not a key */
    if (wrapped.n < 24 || wrapped.n > MK_WRAPPED_MAX || wrapped.n % 8 != 0)
        MK_FAIL(MK_E_UNWRAP, "stored wrapped key has a bad length");
    MK_GUARD(row_iv(domain, id, iv));
    MK_GUARD_GOTO(mk_aes_kw_unwrap(mk_key_bytes(master), iv, wrapped, plain,
                                   sizeof plain, &n),
                  rc, cleanup);
    rc = mk_key_copy(out, MK_BYTES(plain, n));
cleanup:
    mk_wipe(plain, sizeof plain);
    return rc;
}

/* The slot a wrapped value belongs in: its first bytes are AES output,
 * evenly spread, so they index the table directly. */
static mk_unwrap_slot *slot_of(mk_sqlstore *s, mk_bytes wrapped)
{
    size_t h = ((size_t)wrapped.p[0] << 8 | wrapped.p[1]) %
               MK_UNWRAP_CACHE_SLOTS;
    return &s->unwrapped[h];
}

static bool slot_holds(const mk_unwrap_slot *c, const char *domain,
                       mk_bytes id, mk_bytes wrapped)
{
    /* neither compare needs constant time: ids and wrapped values are
     * what the database holds, not secrets */
    return c->wrapped_len != 0 && c->domain == domain &&
           c->wrapped_len == wrapped.n && c->id_len == id.n &&
           memcmp(c->wrapped, wrapped.p, wrapped.n) == 0 &&
           (id.n == 0 || memcmp(c->id, id.p, id.n) == 0);
}

void mk_store_unwrap_forget(mk_sqlstore *s)
{
    for (size_t i = 0; i < MK_UNWRAP_CACHE_SLOTS; i++) {
        mk_unwrap_slot *c = &s->unwrapped[i];
        if (c->wrapped_len != 0 || c->key.n != 0) {
            mk_key_wipe(&c->key);
            mk_wipe(c, sizeof *c);
        }
    }
}

mk_err mk_store_unwrap(mk_sqlstore *s, const char *domain, mk_bytes id,
                       mk_bytes wrapped, mk_key *out)
{
    uint8_t iv[8];
    uint8_t plain[MK_KEY_MAX];
    size_t n = 0;
    mk_err rc;
    mk_unwrap_slot *c;

    mk_key_wipe(out);
    /* an erased (retired) or damaged value is not a key */
    if (wrapped.n < 24 || wrapped.n > MK_WRAPPED_MAX || wrapped.n % 8 != 0)
        MK_FAIL(MK_E_UNWRAP, "stored wrapped key has a bad length");
    if (id.n > sizeof c->id)
        MK_FAIL(MK_E_INTERNAL, "wrapped key id too long");
    c = slot_of(s, wrapped);
    if (slot_holds(c, domain, id, wrapped))
        return mk_key_copy(out, mk_key_bytes(&c->key));
    MK_GUARD(row_iv(domain, id, iv));
    MK_GUARD_GOTO(mk_aes_kw_unwrap(mk_key_bytes(&s->master), iv, wrapped,
                                   plain, sizeof plain, &n),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_key_copy(out, MK_BYTES(plain, n)), rc, cleanup);
    /* keep it (replacing whatever the slot held) */
    mk_key_wipe(&c->key);
    c->wrapped_len = 0;
    if (mk_key_copy(&c->key, MK_BYTES(plain, n)) == MK_OK) {
        c->domain = domain;
        memcpy(c->wrapped, wrapped.p, wrapped.n);
        c->wrapped_len = wrapped.n;
        if (id.n > 0)
            memcpy(c->id, id.p, id.n);
        c->id_len = id.n;
    }
cleanup:
    mk_wipe(plain, sizeof plain);
    return rc;
}
