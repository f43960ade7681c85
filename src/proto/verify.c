/* verify.c - the V payload (RFC 3830 §6.9) over the MAC inputs of RFC 6043
 * §5.5 Table 5.2: the message without its MAC field, followed by extra data
 * (identities or the entire initial message). */
#include "proto/proto.h"

#define V_PARTS_MAX 8

static mk_err gather(mk_bytes first, const mk_bytes *extra, size_t nextra,
                     mk_bytes parts[V_PARTS_MAX], size_t *nparts)
{
    if (nextra > V_PARTS_MAX - 1 || (nextra && extra == NULL))
        MK_FAIL(MK_E_ARG, "too many MAC input parts");
    parts[0] = first;
    for (size_t i = 0; i < nextra; i++)
        parts[1 + i] = extra[i];
    *nparts = 1 + nextra;
    return MK_OK;
}

mk_err mk_v_encode_signed(const mk_message *m, mk_bytes auth_key,
                          const mk_bytes *extra, size_t nextra, mk_buf *out)
{
    mk_bytes parts[V_PARTS_MAX];
    size_t nparts = 0, start = out->n, maclen;
    const mk_payload *v;

    if (m->chain.count == 0 || m->chain.p[m->chain.count - 1].type != MK_PT_V)
        MK_FAIL(MK_E_ARG, "last payload is not V");
    v = &m->chain.p[m->chain.count - 1];
    maclen = mk_mac_len(v->u.v.auth_alg);
    if (!mk_mac_supported(v->u.v.auth_alg) || maclen == 0 ||
        v->u.v.mac.p != NULL || v->u.v.mac.n != maclen)
        MK_FAIL(MK_E_ARG, "V must be a placeholder of a real MAC alg");
    MK_GUARD(mk_message_encode(m, out));
    MK_GUARD(gather(MK_BYTES(out->p + start, out->n - start - maclen), extra,
                    nextra, parts, &nparts));
    return mk_mac(v->u.v.auth_alg, auth_key, parts, nparts,
                  out->p + out->n - maclen, maclen);
}

mk_err mk_v_verify(const mk_message *m, mk_bytes auth_key,
                   const mk_bytes *extra, size_t nextra)
{
    mk_bytes parts[V_PARTS_MAX], signed_part;
    size_t nparts = 0;
    const mk_payload *v;

    if (m->chain.count == 0 || m->chain.p[m->chain.count - 1].type != MK_PT_V)
        MK_FAIL_AT(MK_E_MIKEY_AUTH, MK_PT_V, 0, "message has no V");
    v = &m->chain.p[m->chain.count - 1];
    /* a NULL auth alg would "verify" an empty MAC: never accept it */
    if (!mk_mac_supported(v->u.v.auth_alg) ||
        mk_mac_len(v->u.v.auth_alg) == 0)
        MK_FAIL_AT(MK_E_MIKEY_AUTH, MK_PT_V, v->off, "V auth alg unusable");
    MK_GUARD(mk_message_signed_part(m, &signed_part));
    MK_GUARD(gather(signed_part, extra, nextra, parts, &nparts));
    return mk_mac_verify(v->u.v.auth_alg, auth_key, parts, nparts,
                         v->u.v.mac);
}
