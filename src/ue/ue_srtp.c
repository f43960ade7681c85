/* ue_srtp.c - SRTP master key and salt of a crypto session (RFC 6043
 * §5.1.3): derived from a TGK / TGK' / GTGK with the TEK label
 * (const || CS ID || 0xFFFFFFFF || 0x03 || RANDRi iff H || RANDRr iff G),
 * or a TEK used as it is. */
#include "ue/ue_internal.h"

#include <string.h>

static const mk_ue_cs *find_cs(const mk_ue_session *s, uint8_t cs_id)
{
    for (size_t i = 0; i < s->n_cs; i++)
        if (s->cs[i].cs_id == cs_id)
            return &s->cs[i];
    return NULL;
}

mk_err mk_ue_srtp_keys_from(const mk_ue_session *s, size_t key_index,
                            uint8_t cs_id, mk_ue_srtp *out)
{
    const mk_ue_cs *cs;
    const mk_key_entry *e;
    size_t keylen, saltlen;
    mk_bytes randri, randrr;
    mk_err rc;

    memset(out, 0, sizeof *out);
    MK_ENSURE(s && s->suite, MK_E_ARG, "no session");
    cs = find_cs(s, cs_id);
    MK_ENSURE(cs, MK_E_ARG, "no crypto session with this CS ID");
    MK_ENSURE(key_index >= s->first_key && key_index < s->keys.count,
              MK_E_ARG, "key index is not a session key");
    e = &s->keys.e[key_index];
    keylen = cs->policy.encr_key_len ? cs->policy.encr_key_len
                                     : s->suite->key_len;
    saltlen = cs->policy.salt_len;
    MK_ENSURE(keylen <= MK_KEY_MAX && saltlen <= MK_KEY_MAX, MK_E_VALUE,
              "SRTP key or salt length");

    out->cs_id = cs_id;
    out->key_type = e->type;
    out->key_index = key_index;
    MK_GUARD_GOTO(mk_bytes_copy(out->mki, sizeof out->mki, &out->mki_len,
                             MK_BYTES(cs->spi, cs->spi_len)),
                  rc, fail);

    switch (e->type) {
    case MK_KEY_TEK:
    case MK_KEY_TEK_SALT:
        /* a TEK is the master key; its salt only from the Key data */
        MK_GUARD_GOTO(mk_key_copy(&out->master_key, mk_key_bytes(&e->key)),
                      rc, fail);
        if (e->type == MK_KEY_TEK_SALT)
            MK_GUARD_GOTO(mk_key_copy(&out->master_salt,
                                      mk_key_bytes(&e->salt)),
                          rc, fail);
        return MK_OK;
    case MK_KEY_TGK:
    case MK_KEY_TGK_SALT:
    case MK_KEY_GTGK:
    case MK_KEY_GTGK_SALT:
        break;
    default:
        rc = mk_err_raise(MK_E_ARG, MK_PT_KEYDATA, 0,
                          "not a TGK, GTGK or TEK");
        goto fail;
    }

    /* §5.1.3: RANDRi iff H, RANDRr (TRANSFER_RESP's) iff G */
    randri = (s->flags & MK_TPF_H) ? MK_BYTES(s->randri, s->randri_len)
                                   : MK_BYTES_NONE;
    randrr = (s->flags & MK_TPF_G) ? MK_BYTES(s->randrr, s->randrr_len)
                                   : MK_BYTES_NONE;
    MK_GUARD_GOTO(mk_srtp_master(s->suite->prf_func, mk_key_bytes(&e->key),
                                 cs_id, randri, randrr, out->master_key.b,
                                 keylen, out->master_salt.b, saltlen),
                  rc, fail);
    out->master_key.n = keylen;
    out->master_salt.n = saltlen;
    if (mk_key_type_has_salt(e->type)) {
        /* a salt that came with the key replaces the derived one */
        MK_GUARD_GOTO(mk_key_copy(&out->master_salt, mk_key_bytes(&e->salt)),
                      rc, fail);
    }
    return MK_OK;
fail:
    mk_ue_srtp_wipe(out);
    return rc;
}

mk_err mk_ue_srtp_keys(const mk_ue_session *s, uint8_t cs_id,
                       mk_ue_srtp *out)
{
    const mk_ue_cs *cs;
    size_t idx;
    memset(out, 0, sizeof *out);
    MK_ENSURE(s && s->suite, MK_E_ARG, "no session");
    cs = find_cs(s, cs_id);
    MK_ENSURE(cs, MK_E_ARG, "no crypto session with this CS ID");
    MK_GUARD(mk_ue_key_for_cs(&s->keys, s->first_key, cs, &idx));
    return mk_ue_srtp_keys_from(s, idx, cs_id, out);
}
