/* prf.c - the MIKEY PRF: MIKEY-1 (RFC 3830 §4.1.2, HMAC-SHA-1, 160-bit
 * blocks) and PRF-HMAC-SHA-256 (RFC 6043 §6.1: HMAC-SHA-256, 256-bit
 * blocks).
 *
 *   P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label),
 *   A_0 = label, A_i = HMAC(s, A_{i-1});
 *   PRF(inkey, label) = leftmost outkey_len bits of
 *                       P(s_1, label, m) XOR ... XOR P(s_n, label, m),
 *
 * where inkey is split into n = ceil(inkey_len / 256 bits) chunks s_1..s_n
 * of 256 bits, the last one possibly shorter but never empty (a 32- or
 * 64-byte inkey is exactly one or two full chunks; minisip's
 * inkeyLength % 32 gets this wrong), and m = ceil(outkey_len / H) with H the
 * hash output length. The chunk size stays 256 bits for PRF-HMAC-SHA-256.
 */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/ossl.h"

#define MK_PRF_CHUNK 32 /* 256-bit inkey chunks [RFC 3830 §4.1.2] */
#define MK_PRF_HMAX 32

/* out[0..outlen) ^= P(s, label, m), block by block. Every HMAC of P is
 * keyed with s: the context is keyed once (mk_hmac_key keeps a context
 * that already holds s). keep: s is used again after this P, else its
 * last HMAC uses the keyed state up. */
static mk_err prf_xor_p(mk_hmac_ctx *h, mk_bytes s, mk_bytes label,
                        uint8_t *out, size_t outlen, bool keep)
{
    uint8_t a[MK_PRF_HMAX];   /* A_i */
    uint8_t blk[MK_PRF_HMAX]; /* HMAC(s, A_i || label) */
    mk_err rc = MK_OK;
    size_t done = 0;
    mk_bytes prev = label; /* A_0 */

    MK_GUARD_GOTO(mk_hmac_key(h, s), rc, cleanup);
    while (done < outlen) {
        MK_GUARD_GOTO(mk_hmac_keyed(h, &prev, 1, a), rc, cleanup);
        prev = MK_BYTES(a, h->len);
        const mk_bytes parts[2] = {prev, label};
        size_t take = outlen - done < h->len ? outlen - done : h->len;
        if (keep || done + take < outlen)
            MK_GUARD_GOTO(mk_hmac_keyed(h, parts, 2, blk), rc, cleanup);
        else
            MK_GUARD_GOTO(mk_hmac_keyed_last(h, parts, 2, blk), rc, cleanup);
        for (size_t j = 0; j < take; j++)
            out[done + j] ^= blk[j];
        done += take;
    }
cleanup:
    mk_wipe(a, sizeof a);
    mk_wipe(blk, sizeof blk);
    return rc;
}

mk_err mk_prf_with(mk_hmac_ctx *h, mk_bytes inkey, mk_bytes label,
                   uint8_t *out, size_t outlen, bool more)
{
    if (inkey.n == 0 || inkey.p == NULL)
        MK_FAIL(MK_E_ARG, "PRF with an empty inkey");
    if (label.n > 0 && label.p == NULL)
        MK_FAIL(MK_E_ARG, "PRF label bytes missing");
    if (outlen == 0)
        return MK_OK;
    if (out == NULL)
        MK_FAIL(MK_E_ARG, "PRF output missing");

    mk_err rc = MK_OK;
    memset(out, 0, outlen);
    mk_cursor c;
    mk_cur_init(&c, inkey);
    while (mk_cur_remaining(&c) > 0) {
        size_t n = mk_cur_remaining(&c);
        mk_bytes s;
        MK_GUARD_GOTO(mk_cur_bytes(&c, n < MK_PRF_CHUNK ? n : MK_PRF_CHUNK, &s),
                      rc, cleanup);
        /* an inkey of several chunks keys h again for each chunk: only a
         * single chunk is kept for the caller's next derivation */
        MK_GUARD_GOTO(prf_xor_p(h, s, label, out, outlen,
                                more && s.n == inkey.n),
                      rc, cleanup);
    }
cleanup:
    if (rc != MK_OK)
        mk_wipe(out, outlen);
    return rc;
}

mk_err mk_prf(int prf_func, mk_bytes inkey, mk_bytes label, uint8_t *out,
              size_t outlen)
{
    if (!mk_prf_supported(prf_func))
        MK_FAIL(MK_E_VALUE, "unknown PRF func");
    /* the arguments are checked by mk_prf_with */
    mk_hmac_ctx h;
    MK_GUARD(mk_hmac_open(&h, prf_func == MK_PRF_HMAC_SHA256));
    mk_err rc = mk_prf_with(&h, inkey, label, out, outlen, false);
    mk_hmac_close(&h);
    return rc;
}
