/* derive.c - the key derivations built on the PRF: message protection keys
 * (RFC 3830 §4.1.4, RFC 6043 §5.1.2), base-ticket keys (RFC 6043 App. A.2.1),
 * MPKi/MPKr (App. A.2.2), forking (§5.1.1), the Initiator Data Vr key
 * (§6.10) and the SRTP master key and salt (§5.1.3).
 *
 * Every derived key lives in an mk_key or in the caller's buffer; on failure
 * everything written so far is wiped.
 *
 * The keys derived from one inkey share one HMAC context (mk_prf_with):
 * it is keyed with the inkey once, not once per key.
 */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/ossl.h"

/* An HMAC context for prf_func's hash; MK_E_VALUE for an unknown PRF. */
static mk_err prf_open(mk_hmac_ctx *h, int prf_func)
{
    if (!mk_prf_supported(prf_func))
        MK_FAIL(MK_E_VALUE, "unknown PRF func");
    return mk_hmac_open(h, prf_func == MK_PRF_HMAC_SHA256);
}

/* One key of n bytes into k; more: another key from inkey follows. */
static mk_err derive_key(mk_hmac_ctx *h, mk_bytes inkey, const mk_label *l,
                         size_t n, mk_key *k, bool more)
{
    mk_key_wipe(k);
    if (n > MK_KEY_MAX)
        MK_FAIL(MK_E_LIMIT, "derived key longer than MK_KEY_MAX");
    if (n == 0)
        return MK_OK;
    mk_err rc = mk_prf_with(h, inkey, MK_BYTES(l->b, l->n), k->b, n, more);
    if (rc != MK_OK) {
        mk_key_wipe(k);
        return rc;
    }
    k->n = n;
    return MK_OK;
}

typedef mk_err (*label_fn)(mk_label *l, uint32_t c, const void *arg);

/* encr_key, salt_key, auth_key with the RFC 3830 §4.1.4 constants; the label
 * of each comes from make(c). Lengths follow the algorithms (0 for NULL). */
static mk_err derive_msg_keys(int prf_func, mk_bytes inkey, int encr_alg,
                              int mac_alg, label_fn make, const void *arg,
                              mk_msg_keys *out)
{
    mk_label l;
    mk_hmac_ctx h;
    mk_err rc;
    memset(out, 0, sizeof *out);
    out->encr_alg = encr_alg;
    out->mac_alg = mac_alg;
    if (!mk_prf_supported(prf_func))
        MK_FAIL(MK_E_VALUE, "unknown PRF func");
    if (!mk_encr_supported(encr_alg))
        MK_FAIL(MK_E_VALUE, "unknown Encr alg");
    if (!mk_mac_supported(mac_alg))
        MK_FAIL(MK_E_VALUE, "unknown MAC alg");

    MK_GUARD(prf_open(&h, prf_func));
    MK_GUARD_GOTO(make(&l, MK_C_ENCR_KEY, arg), rc, done);
    MK_GUARD_GOTO(derive_key(&h, inkey, &l, mk_encr_key_len(encr_alg),
                             &out->encr, true), rc, done);
    MK_GUARD_GOTO(make(&l, MK_C_SALT_KEY, arg), rc, done);
    MK_GUARD_GOTO(derive_key(&h, inkey, &l, mk_salt_key_len(encr_alg),
                             &out->salt, true), rc, done);
    MK_GUARD_GOTO(make(&l, MK_C_AUTH_KEY, arg), rc, done);
    MK_GUARD_GOTO(derive_key(&h, inkey, &l, mk_auth_key_len(mac_alg),
                             &out->auth, false), rc, done);
    rc = MK_OK;
done:
    mk_hmac_close(&h);
    if (rc != MK_OK)
        mk_msg_keys_wipe(out);
    return rc;
}

/* --- RFC 6043 §5.1.2 --- */
typedef struct msg6043_arg {
    uint32_t csb_id;
    uint8_t kind;
    mk_bytes randri, randrr;
} msg6043_arg;

static mk_err make_6043_msg(mk_label *l, uint32_t c, const void *arg)
{
    const msg6043_arg *a = arg;
    return mk_label_6043_msg(l, c, a->csb_id, a->kind, a->randri, a->randrr);
}

mk_err mk_msg_keys_6043(int prf_func, mk_bytes inkey, uint32_t csb_id,
                        uint8_t kind, mk_bytes randri, mk_bytes randrr,
                        int encr_alg, int mac_alg, mk_msg_keys *out)
{
    const msg6043_arg a = {csb_id, kind, randri, randrr};
    return derive_msg_keys(prf_func, inkey, encr_alg, mac_alg, make_6043_msg,
                           &a, out);
}

/* --- RFC 3830 §4.1.4 --- */
typedef struct msg3830_arg {
    uint32_t csb_id;
    mk_bytes rand;
} msg3830_arg;

static mk_err make_3830_psk(mk_label *l, uint32_t c, const void *arg)
{
    const msg3830_arg *a = arg;
    return mk_label_3830_psk(l, c, a->csb_id, a->rand);
}

mk_err mk_msg_keys_3830(int prf_func, mk_bytes inkey, uint32_t csb_id,
                        mk_bytes rand, int encr_alg, int mac_alg,
                        mk_msg_keys *out)
{
    const msg3830_arg a = {csb_id, rand};
    return derive_msg_keys(prf_func, inkey, encr_alg, mac_alg, make_3830_psk,
                           &a, out);
}

/* --- RFC 6043 App. A.2.1: label code 0x05 with the ticket RAND --- */
typedef struct fixed_arg {
    uint8_t code;
    const mk_bytes *rand;
} fixed_arg;

static mk_err make_6043_fixed(mk_label *l, uint32_t c, const void *arg)
{
    const fixed_arg *a = arg;
    return mk_label_6043_fixed(l, c, a->code, a->rand);
}

mk_err mk_ticket_keys(int prf_func, mk_bytes tpk, mk_bytes rand,
                      int encr_alg, int mac_alg, mk_msg_keys *out)
{
    const fixed_arg a = {0x05, &rand};
    return derive_msg_keys(prf_func, tpk, encr_alg, mac_alg, make_6043_fixed,
                           &a, out);
}

/* --- RFC 6043 App. A.2.2: MPKi / MPKr, label code 0x06, same length as the
 * MPK --- */
mk_err mk_mpk_split(int prf_func, mk_bytes mpk, mk_bytes rand, mk_key *mpki,
                    mk_key *mpkr)
{
    mk_label l;
    mk_hmac_ctx h;
    mk_err rc;
    mk_key_wipe(mpki);
    mk_key_wipe(mpkr);
    if (mpk.n == 0)
        MK_FAIL(MK_E_ARG, "empty MPK");
    MK_GUARD(prf_open(&h, prf_func));
    MK_GUARD_GOTO(mk_label_6043_fixed(&l, MK_C_MPKI, 0x06, &rand), rc, done);
    MK_GUARD_GOTO(derive_key(&h, mpk, &l, mpk.n, mpki, true), rc, done);
    MK_GUARD_GOTO(mk_label_6043_fixed(&l, MK_C_MPKR, 0x06, &rand), rc, done);
    MK_GUARD_GOTO(derive_key(&h, mpk, &l, mpk.n, mpkr, false), rc, done);
    rc = MK_OK;
done:
    mk_hmac_close(&h);
    if (rc != MK_OK) {
        mk_key_wipe(mpki);
        mk_key_wipe(mpkr);
    }
    return rc;
}

/* --- RFC 6043 §5.1.1: MPKr' / TGK' keep the length of the input key --- */
mk_err mk_fork_key(int prf_func, uint32_t c, mk_bytes key, mk_bytes id_data,
                   mk_bytes randrkms, mk_key *out)
{
    mk_label l;
    mk_key_wipe(out);
    if (c != MK_C_FORK_MPKR && c != MK_C_FORK_TGK)
        MK_FAIL(MK_E_ARG, "forking constant is neither MPKr' nor TGK'");
    if (key.n == 0)
        MK_FAIL(MK_E_ARG, "empty key to fork");
    MK_GUARD(mk_label_6043_fork(&l, c, id_data, randrkms));
    mk_hmac_ctx h;
    MK_GUARD(prf_open(&h, prf_func));
    mk_err rc = derive_key(&h, key, &l, key.n, out, false);
    mk_hmac_close(&h);
    return rc;
}

/* --- RFC 6043 §6.10: auth key of Vr, label code 0x04 without RAND, from
 * the unforked MPKr --- */
mk_err mk_vr_key(int prf_func, mk_bytes mpkr, int mac_alg, mk_key *out)
{
    mk_label l;
    mk_key_wipe(out);
    if (!mk_mac_supported(mac_alg))
        MK_FAIL(MK_E_VALUE, "unknown MAC alg");
    MK_GUARD(mk_label_6043_fixed(&l, MK_C_AUTH_KEY, 0x04, NULL));
    mk_hmac_ctx h;
    MK_GUARD(prf_open(&h, prf_func));
    mk_err rc = derive_key(&h, mpkr, &l, mk_auth_key_len(mac_alg), out,
                           false);
    mk_hmac_close(&h);
    return rc;
}

/* --- RFC 6043 §5.1.3: TEK (RFC 3830 constant 0x2AD01C64) and salting key
 * (0x39A2C14B) for one CS from a TGK, TGK' or GTGK. At least one of RANDRi
 * (H = 1) and RANDRr (G = 1) is present. --- */
mk_err mk_srtp_master(int prf_func, mk_bytes tgk, uint8_t cs_id,
                      mk_bytes randri, mk_bytes randrr, uint8_t *key,
                      size_t keylen, uint8_t *salt, size_t saltlen)
{
    mk_label l;
    mk_err rc;
    if (randri.n == 0 && randrr.n == 0)
        MK_FAIL(MK_E_ARG, "TEK label needs RANDRi or RANDRr [6043 5.1.3]");
    if ((keylen > 0 && key == NULL) || (saltlen > 0 && salt == NULL))
        MK_FAIL(MK_E_ARG, "SRTP master output missing");
    MK_GUARD_GOTO(mk_label_6043_tek(&l, MK_C_TEK, cs_id, randri, randrr), rc,
                  fail);
    MK_GUARD_GOTO(mk_prf(prf_func, tgk, MK_BYTES(l.b, l.n), key, keylen), rc,
                  fail);
    MK_GUARD_GOTO(mk_label_6043_tek(&l, MK_C_SALT, cs_id, randri, randrr), rc,
                  fail);
    MK_GUARD_GOTO(mk_prf(prf_func, tgk, MK_BYTES(l.b, l.n), salt, saltlen),
                  rc, fail);
    return MK_OK;
fail:
    mk_wipe(key, keylen);
    mk_wipe(salt, saltlen);
    return rc;
}
