/* mikey_ue_responder.c - the Responder's (Bob's) steps of mikey-ue:
 * resolve (RESOLVE_INIT_PSK), accept-resolve-resp and transfer-resp (RFC
 * 6043 §4.2.3, §4.2.4; mikey_ue_cli.h). */
#include <string.h>

#include "mikey_ue_cli.h"

int cmd_resolve(cli *c)
{
    static ue_msg ti, out;
    mk_ue_creds cr;
    cli_need(c,
             CREDS | BIT(O_IN) | BIT(O_CSB_ID) | BIT(O_RANDRR) | BIT(O_TIME) |
                 BIT(O_URL) | BIT(O_CACERT),
             0);
    cli_need_creds(c);
    if (c->given & BIT(O_RANDRI))
        cli_die_usage("resolve takes --randrr");
    cli_creds_of(c, &cr);
    TRY(cli_main_msg(c, &ti));
    TRY(mk_ue_resolve_init(&cr, ue_msg_bytes(&ti), &c->fixed, out.b,
                           sizeof out.b, &out.n));
    return cli_send_to_kms(c, "RESOLVE_INIT", &cr, &ti, &out);
}

/* The Responder's session from TRANSFER_INIT, RESOLVE_INIT, RESOLVE_RESP. */
int cli_session_of(cli *c, const mk_ue_creds *cr, const ue_msg *ti,
                   const ue_msg *ri, const ue_msg *rr, mk_ue_session *s)
{
    mk_ue_peer_error pe;
    mk_err e = mk_ue_accept_resolve_resp(cr, ue_msg_bytes(ti),
                                         ue_msg_bytes(ri), ue_msg_bytes(rr), s,
                                         &pe);
    return e == MK_OK ? 0 : cli_fail(c, e, &pe);
}

/* The session of accept-resolve-resp and transfer-resp: --transfer-init,
 * --resolve-init and the step's main input (RESOLVE_RESP) accepted
 * again. */
static int resolved_session(cli *c, ue_msg *ti, ue_msg *ri, ue_msg *rr,
                            mk_ue_session *s)
{
    mk_ue_creds cr;
    cli_creds_of(c, &cr);
    TRY(cli_opt_msg(c->transfer_init,
                    "--transfer-init is not a base64 message", ti));
    TRY(cli_opt_msg(c->resolve_init, "--resolve-init is not a base64 message",
                    ri));
    TRY(cli_main_msg(c, rr));
    return cli_session_of(c, &cr, ti, ri, rr, s);
}

int cmd_accept_resolve_resp(cli *c)
{
    static ue_msg ti, ri, rr;
    static mk_ue_session s;
    int rc;
    cli_need(c, CREDS | BIT(O_IN), BIT(O_TRANSFER_INIT) | BIT(O_RESOLVE_INIT));
    cli_need_creds(c);
    if ((rc = resolved_session(c, &ti, &ri, &rr, &s)) != 0)
        return rc;
    cli_print_session(&c->out, &s);
    ue_out_end(&c->out);
    mk_ue_session_wipe(&s);
    return 0;
}

int cmd_transfer_resp(cli *c)
{
    static ue_msg ti, ri, rr, out;
    static mk_ue_session s;
    mk_ue_transfer_resp_params p;
    int rc;
    cli_need(c, CREDS | BIT(O_IN) | BIT(O_RANDRR) | BIT(O_TIME) | BIT(O_SSRC),
             BIT(O_TRANSFER_INIT) | BIT(O_RESOLVE_INIT));
    cli_need_creds(c);
    if ((rc = resolved_session(c, &ti, &ri, &rr, &s)) != 0)
        return rc;
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < MK_UE_CS_MAX; i++) {
        p.has_ssrc[i] = c->has_ssrc;
        p.ssrc[i] = c->ssrc;
    }
    p.fixed = c->fixed;
    {
        mk_err e = mk_ue_transfer_resp(&s, ue_msg_bytes(&ti), &p, out.b,
                                       sizeof out.b, &out.n);
        if (e == MK_OK)
            e = c->sink->deliver(c->sink, "TRANSFER_RESP", ue_msg_bytes(&out),
                                 NULL);
        rc = e == MK_OK ? 0 : cli_fail(c, e, NULL);
    }
    mk_ue_session_wipe(&s);
    return rc;
}
