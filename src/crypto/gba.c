/* gba.c - the key derivation function of GBA (TS 33.220 Annex B).
 *
 * KDF (33.220 B.2): derived key = HMAC-SHA-256(Key, S),
 * S = FC || P0 || L0 || P1 || L1 || ... || Pn || Ln, each Li the length of
 * Pi in octets as two bytes, big-endian. Ks_NAF (B.3, GBA_ME) uses FC =
 * 0x01, P0 = "gba-me", P1 = RAND, P2 = IMPI, P3 = NAF_Id, Key = Ks = CK ||
 * IK. S is handed to the MAC as a list of spans, never copied.
 */
#include "crypto/crypto.h"

#include <string.h>

mk_err mk_gba_kdf(mk_bytes key, uint8_t fc, const mk_bytes *p, size_t np,
                  uint8_t out[MK_GBA_KEY_LEN])
{
    /* FC, then (Pi, Li) per parameter */
    mk_bytes parts[1 + 2 * MK_GBA_KDF_PARAMS_MAX];
    uint8_t len[MK_GBA_KDF_PARAMS_MAX][2];
    size_t n = 0;
    if (np == 0 || np > MK_GBA_KDF_PARAMS_MAX || p == NULL)
        MK_FAIL(MK_E_ARG, "GBA KDF: 1 to 8 parameters");
    if (key.n == 0 || key.p == NULL)
        MK_FAIL(MK_E_ARG, "GBA KDF: empty key");
    parts[n++] = MK_BYTES(&fc, 1);
    for (size_t i = 0; i < np; i++) {
        /* Li is two octets: a longer parameter cannot be encoded */
        if (p[i].n > 0xffff || (p[i].n > 0 && p[i].p == NULL))
            MK_FAIL(MK_E_ARG, "GBA KDF: parameter over 65535 bytes");
        len[i][0] = (uint8_t)(p[i].n >> 8);
        len[i][1] = (uint8_t)p[i].n;
        parts[n++] = p[i];
        parts[n++] = MK_BYTES(len[i], 2);
    }
    return mk_mac(MK_MAC_HMAC_SHA256_256, key, parts, n, out,
                  MK_GBA_KEY_LEN);
}

mk_err mk_gba_ks_naf(mk_bytes ks, mk_bytes rand, mk_bytes impi,
                     mk_bytes naf_id, uint8_t out[MK_GBA_KEY_LEN])
{
    static const char p0[] = "gba-me"; /* 33.220 B.3: GBA_ME */
    const mk_bytes p[4] = {MK_BYTES(p0, sizeof p0 - 1), rand, impi, naf_id};
    if (ks.n != MK_GBA_KEY_LEN)
        MK_FAIL(MK_E_ARG, "Ks is CK || IK, 32 bytes");
    return mk_gba_kdf(ks, MK_GBA_FC_KS_NAF, p, 4, out);
}
