/* mikey_ue_initiator.c - the Initiator's (Alice's) steps of mikey-ue:
 * request (REQUEST_INIT_PSK), accept-request-resp, transfer-init and
 * accept-transfer-resp (RFC 6043 §4.2.1, §4.2.2; mikey_ue_cli.h). */
#include <string.h>

#include "mikey_ue_cli.h"

static int parse_flags(const char *s, uint16_t *flags)
{
    static const char letters[] = "DEFGHIJKLMNO";
    uint16_t f = 0;
    for (; *s; s++) {
        const char *p = strchr(letters, *s);
        if (!p || !*s)
            return -1;
        f |= (uint16_t)(1u << (p - letters));
    }
    *flags = f;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Re-running earlier steps (the CLI keeps no state) */

/* The ticket of REQUEST_INIT / REQUEST_RESP, accepted again. */
static int cli_ticket_of(cli *c, const mk_ue_creds *cr, const ue_msg *req,
                         const ue_msg *resp, mk_ue_ticket *tk)
{
    mk_ue_peer_error pe;
    mk_err e = mk_ue_accept_request_resp(cr, ue_msg_bytes(req),
                                         ue_msg_bytes(resp), MK_TPF_I, tk,
                                         &pe);
    return e == MK_OK ? 0 : cli_fail(c, e, &pe);
}

/* ------------------------------------------------------------------ */
/* Commands */

int cmd_request(cli *c)
{
    mk_ue_request_params p;
    mk_ue_creds cr;
    ue_msg out;
    cli_need(c,
             CREDS | BIT(O_PEER) | BIT(O_SUITE) | BIT(O_FORK) | BIT(O_FLAGS) |
                 BIT(O_VALID_FROM) | BIT(O_VALID_TO) | BIT(O_KEY) |
                 BIT(O_CSB_ID) | BIT(O_RANDRI) | BIT(O_TIME) | BIT(O_URL) |
                 BIT(O_CACERT),
             BIT(O_PEER));
    cli_need_creds(c);
    if (c->given & BIT(O_RANDRR))
        cli_die_usage("request takes --randri");
    cli_creds_of(c, &cr);
    mk_ue_request_params_init(&p, c->suite ? c->suite : &mk_suite_128);
    p.creds = cr;
    for (size_t i = 0; i < c->n_peer; i++)
        p.idrr[i] = cli_str(c->peer[i]);
    p.n_idrr = c->n_peer;
    if (c->flags && parse_flags(c->flags, &p.flags) != 0)
        cli_die_usage("--flags takes letters of DEFGHIJKLMNO");
    if (c->fork)
        p.flags |= MK_TPF_I;
    p.trs_unix = c->valid_from;
    p.tre_unix = c->valid_to;
    memcpy(p.tmpl, c->tmpl, sizeof p.tmpl);
    p.n_tmpl = c->n_tmpl;
    p.fixed = c->fixed;
    TRY(mk_ue_request_init(&p, out.b, sizeof out.b, &out.n));
    return cli_send_to_kms(c, "REQUEST_INIT", &cr, NULL, &out);
}

int cmd_accept_request_resp(cli *c)
{
    static ue_msg req, resp;
    static mk_ue_ticket tk;
    mk_ue_creds cr;
    char f[16];
    int rc;
    cli_need(c, CREDS | BIT(O_IN), BIT(O_REQUEST));
    cli_need_creds(c);
    cli_creds_of(c, &cr);
    TRY(cli_opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(cli_main_msg(c, &resp));
    if ((rc = cli_ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    ue_flags_text(tk.flags, f);
    ue_out_str(&c->out, "flags", f);
    ue_out_uint(&c->out, "k", (tk.flags & MK_TPF_K) != 0);
    if (tk.trs_unix)
        ue_out_uint(&c->out, "valid_from", tk.trs_unix);
    if (tk.tre_unix)
        ue_out_uint(&c->out, "valid_to", tk.tre_unix);
    cli_print_key_set(&c->out, &tk.keys, tk.first_key,
                      (tk.flags & MK_TPF_I) != 0);
    ue_out_end(&c->out);
    mk_ue_ticket_wipe(&tk);
    return 0;
}

int cmd_transfer_init(cli *c)
{
    static ue_msg req, resp, out;
    static mk_ue_ticket tk;
    mk_ue_transfer_params p;
    mk_ue_creds cr;
    int rc;
    cli_need(c,
             CREDS | BIT(O_IN) | BIT(O_CSB_ID) | BIT(O_RANDRI) | BIT(O_TIME) |
                 BIT(O_CS_ID) | BIT(O_SSRC) | BIT(O_MKI),
             BIT(O_REQUEST) | BIT(O_PEER));
    cli_need_creds(c);
    if (c->n_peer != 1)
        cli_die_usage("transfer-init takes one --peer (the Responder)");
    cli_creds_of(c, &cr);
    TRY(cli_opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(cli_main_msg(c, &resp));
    if ((rc = cli_ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    memset(&p, 0, sizeof p);
    p.idri = cr.impu;
    p.idrr = cli_str(c->peer[0]);
    p.n_cs = 1;
    p.cs[0].cs_id = (uint8_t)(c->cs_id ? c->cs_id : 1);
    p.cs[0].has_ssrc = c->has_ssrc;
    p.cs[0].ssrc = c->ssrc;
    memcpy(p.cs[0].spi, c->mki, c->mki_len);
    p.cs[0].spi_len = c->mki_len;
    mk_ue_srtp_policy_default(tk.suite, &p.cs[0].policy);
    p.fixed = c->fixed;
    rc = 0;
    {
        mk_err e = mk_ue_transfer_init(&tk, &p, out.b, sizeof out.b, &out.n);
        if (e == MK_OK)
            e = c->sink->deliver(c->sink, "TRANSFER_INIT", ue_msg_bytes(&out),
                                 NULL);
        if (e != MK_OK)
            rc = cli_fail(c, e, NULL);
    }
    mk_ue_ticket_wipe(&tk);
    return rc;
}

/* The Initiator's session from REQUEST_INIT/RESP, TRANSFER_INIT/RESP. */
int cli_initiator_session(cli *c, mk_ue_session *s)
{
    static ue_msg req, resp, ti, tr;
    static mk_ue_ticket tk;
    mk_ue_creds cr;
    mk_ue_peer_error pe;
    mk_err e;
    int rc;
    cli_creds_of(c, &cr);
    TRY(cli_opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(cli_opt_msg(c->request_resp, "--request-resp is not a base64 message",
                    &resp));
    TRY(cli_opt_msg(c->transfer_init,
                    "--transfer-init is not a base64 message", &ti));
    TRY(cli_main_msg(c, &tr));
    if ((rc = cli_ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    e = mk_ue_accept_transfer_resp(&tk, ue_msg_bytes(&ti), ue_msg_bytes(&tr),
                                   s, &pe);
    mk_ue_ticket_wipe(&tk);
    return e == MK_OK ? 0 : cli_fail(c, e, &pe);
}

int cmd_accept_transfer_resp(cli *c)
{
    static mk_ue_session s;
    int rc;
    cli_need(c, CREDS | BIT(O_IN),
             BIT(O_REQUEST) | BIT(O_REQUEST_RESP) | BIT(O_TRANSFER_INIT));
    cli_need_creds(c);
    if ((rc = cli_initiator_session(c, &s)) != 0)
        return rc;
    cli_print_session(&c->out, &s);
    ue_out_end(&c->out);
    mk_ue_session_wipe(&s);
    return 0;
}
