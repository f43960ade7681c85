/* keyset.c - the keys of one KEMAC (RFC 3830 §6.2, §6.13; RFC 6043 §6.2):
 * sealing them as an encrypted Key data chain and opening such a chain. */
#include "proto/proto.h"

#include <string.h>

/* Largest Key data chain we write or read: MK_KEYSET_MAX entries of
 * Next(1) Type|KV(1) len(2) key len(2) salt SPI-len(1) SPI. */
#define KEMAC_PLAIN_MAX \
    (MK_KEYSET_MAX * (6 + 2 * MK_KEY_MAX + 1 + MK_SPI_MAX))

void mk_key_set_wipe(mk_key_set *s)
{
    if (s == NULL)
        return;
    mk_wipe(s, sizeof *s);
}

mk_err mk_kemac_seal(const mk_key_set *ks, const mk_msg_keys *k,
                     uint32_t csb_id, uint64_t t64, uint8_t *cipher,
                     size_t cap, mk_payload *out)
{
    uint8_t plain[KEMAC_PLAIN_MAX];
    mk_chain chain;
    mk_buf b;
    size_t n = 0;
    mk_err rc = MK_OK;

    if (ks->count == 0 || ks->count > MK_KEYSET_MAX)
        MK_FAIL(MK_E_ARG, "a KEMAC carries 1..MK_KEYSET_MAX keys");
    mk_chain_init(&chain);
    for (size_t i = 0; i < ks->count; i++) {
        const mk_key_entry *e = &ks->e[i];
        mk_kv kv;
        if (e->kv == MK_KV_SPI)
            kv = mk_kv_spi(MK_BYTES(e->spi, e->spi_len));
        else if (e->kv == MK_KV_NULL)
            kv = mk_kv_null();
        else
            MK_FAIL(MK_E_ARG, "key entry KV must be NULL or SPI");
        if (e->key.n > MK_KEY_MAX || e->salt.n > MK_KEY_MAX ||
            e->spi_len > MK_SPI_MAX)
            MK_FAIL(MK_E_ARG, "key entry field too long");
        MK_GUARD(mk_chain_add(&chain,
                              mk_pl_keydata(e->type, mk_key_bytes(&e->key),
                                            mk_key_bytes(&e->salt), kv)));
    }
    mk_buf_init(&b, plain, sizeof plain);
    MK_GUARD_GOTO(mk_kemac_plain_encode(&chain, &b), rc, cleanup);
    MK_GUARD_GOTO(mk_kemac_encrypt(k, csb_id, t64, mk_buf_view(&b), cipher,
                                   cap, &n),
                  rc, cleanup);
    /* RFC 6043 §4.2.1.5, §4.2.3.5, App. A.1: MAC alg NULL, V carries it */
    *out = mk_pl_kemac((uint8_t)k->encr_alg, MK_BYTES(cipher, n), MK_MAC_NULL,
                       MK_BYTES_NONE);
cleanup:
    /* the keys in clear: the b.n bytes written (mk_buf writes nothing past
     * them); chain holds only spans into ks */
    mk_wipe(plain, b.n);
    return rc;
}

static mk_err entry_from(const mk_keydata *kd, mk_key_entry *e)
{
    memset(e, 0, sizeof *e);
    e->type = kd->type;
    MK_GUARD(mk_key_copy(&e->key, kd->key));
    MK_GUARD(mk_key_copy(&e->salt, kd->salt));
    switch (kd->kv.type) {
    case MK_KV_NULL:
        e->kv = MK_KV_NULL;
        return MK_OK;
    case MK_KV_SPI:
        if (kd->kv.spi.n > MK_SPI_MAX)
            MK_FAIL_AT(MK_E_LIMIT, MK_PT_KEYDATA, 0, "SPI too long");
        e->kv = MK_KV_SPI;
        /* an SPI of length 0 decodes to an empty span (found by fuzz_kms) */
        return mk_bytes_copy(e->spi, sizeof e->spi, &e->spi_len, kd->kv.spi);
    default:
        MK_FAIL_AT(MK_E_VALUE, MK_PT_KEYDATA, 0,
                   "KV Interval is not used by MIKEY-TICKET keys here");
    }
}

mk_err mk_kemac_open(const mk_kemac *kemac, const mk_msg_keys *k,
                     uint32_t csb_id, uint64_t t64, mk_key_set *out)
{
    uint8_t plain[KEMAC_PLAIN_MAX + 8];
    mk_chain chain;
    size_t n = 0;
    mk_err rc = MK_OK;

    memset(out, 0, sizeof *out);
    if (kemac->encr_alg != k->encr_alg)
        MK_FAIL_AT(MK_E_MIKEY_EA, MK_PT_KEMAC, 0,
                   "KEMAC Encr alg is not the suite's");
    /* RFC 6043: KEMAC MAC alg is NULL, the V payload carries the MAC */
    if (kemac->mac_alg != MK_MAC_NULL || kemac->mac.n != 0)
        MK_FAIL_AT(MK_E_MIKEY_MAC, MK_PT_KEMAC, 0, "KEMAC MAC alg not NULL");
    if (kemac->encr_data.n > sizeof plain)
        MK_FAIL_AT(MK_E_LIMIT, MK_PT_KEMAC, 0, "KEMAC too long");
    MK_GUARD_GOTO(mk_kemac_decrypt(k, csb_id, t64, kemac->encr_data, plain,
                                   sizeof plain, &n),
                  rc, cleanup);
    /* Wrong keys give random bytes that do not parse as a Key data chain. */
    if (mk_kemac_plain_decode(MK_BYTES(plain, n), MK_PT_KEYDATA, &chain) !=
        MK_OK) {
        rc = mk_err_raise(MK_E_MIKEY_AUTH, MK_PT_KEMAC, 0,
                          "KEMAC plaintext is not a Key data chain");
        goto cleanup;
    }
    if (chain.count > MK_KEYSET_MAX) {
        rc = mk_err_raise(MK_E_LIMIT, MK_PT_KEMAC, 0, "too many keys");
        goto cleanup;
    }
    for (size_t i = 0; i < chain.count; i++) {
        MK_GUARD_GOTO(entry_from(&chain.p[i].u.keydata, &out->e[i]), rc,
                      cleanup);
        out->count = i + 1;
    }
cleanup:
    /* decryption writes at most encr_data.n bytes (and wipes them when it
     * fails); chain holds only spans into plain */
    mk_wipe(plain, kemac->encr_data.n);
    if (rc != MK_OK)
        mk_key_set_wipe(out);
    return rc;
}
