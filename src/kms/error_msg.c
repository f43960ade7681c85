/* error_msg.c - the MIKEY Error message a failed check is answered with
 * (RFC 3830 §6.12, RFC 6043 §5.4, profile §3):
 *   HDR (version 1; PRF func and CSB ID copied from the request; data type
 *   6; V flag 0; #CS 0; map type Empty), T (fresh NTP-UTC), one ERR, and a V
 *   keyed with the auth_key of the failing message when its sender was
 *   authenticated (V verified); the MAC covers the Error message only
 *   (RFC 6043 §5.5 Table 5.2). */
#include "kms/context.h"

#include <string.h>

mk_err mk_error_msg_build(const mk_kms_req *r, mk_err e, mk_kms_answer *out)
{
    int no = mk_err_mikey_errno(e);
    mk_message m;
    mk_buf b;

    if (no == MK_MIKEY_ERRNO_NONE || !r->hdr_ok)
        MK_FAIL(MK_E_ARG, "no MIKEY Error number, or no header to copy");
    memset(&m, 0, sizeof m);
    /* Version 1, whatever the request said (doc/profile.md §9.27): RFC
     * 6043 §5.4 copies the request's version, but this message has the
     * layout of MIKEY version 1 (RFC 3830 §6.1), the only one this KMS
     * speaks; for a request of version 1 both readings agree. */
    m.hdr.version = MK_VERSION;
    m.hdr.data_type = MK_DT_ERROR;
    m.hdr.v = false;
    m.hdr.prf_func = r->hdr.prf_func;
    m.hdr.csb_id = r->hdr.csb_id;
    m.hdr.n_cs = 0;
    m.hdr.map_type = MK_MAP_EMPTY;
    m.hdr.map_info = MK_BYTES_NONE;
    mk_chain_init(&m.chain);
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, r->now_ntp)));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_err((uint8_t)no)));
    mk_buf_init(&b, out->body, sizeof out->body);
    out->body_len = 0;
    if (r->authenticated) {
        size_t maclen = mk_mac_len(r->keys_init.mac_alg);
        MK_GUARD(mk_chain_add(&m.chain,
                              mk_pl_v((uint8_t)r->keys_init.mac_alg,
                                      MK_BYTES(NULL, maclen))));
        MK_GUARD(mk_v_encode_signed(&m, mk_key_bytes(&r->keys_init.auth),
                                    NULL, 0, &b));
    } else {
        MK_GUARD(mk_message_encode(&m, &b));
    }
    out->body_len = b.n;
    return MK_OK;
}
