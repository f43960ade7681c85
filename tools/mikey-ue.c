/* mikey-ue - the UE side of MIKEY-TICKET (RFC 6043) on the command line,
 * one step per invocation, messages in and out as base64 so that the two
 * roles can be piped together (library: src/ue/ue.h).
 *
 *   Initiator (Alice)                       Responder (Bob)
 *   request                -> KMS
 *   accept-request-resp    (prints the ticket keys)
 *   transfer-init          -> Bob
 *                                           resolve              -> KMS
 *                                           accept-resolve-resp  (keys)
 *                                           transfer-resp        -> Alice
 *   accept-transfer-resp   (session keys)
 *   srtp-keys                               srtp-keys
 *
 * The CLI keeps no state: each step takes the messages it depends on
 * (--request, --request-resp, --transfer-init, --resolve-init,
 * --resolve-resp: base64 text, @FILE or - for stdin) and re-derives what
 * the earlier steps derived, verifying everything again. The main input of
 * a step (the answer it accepts) is the argument, --in FILE, or stdin.
 * Built messages go out as one base64 line on stdout (ue_sink). With
 * --url (built with libcurl: mikey_ue_http.h) `request` and `resolve` POST
 * their message to the KMS instead, check and accept its answer, and print
 * both messages as name=base64 lines; `chain --url` runs the whole exchange
 * for alice and bob in one process (mikey_ue_chain.h). TRANSFER_INIT and
 * TRANSFER_RESP go to the peer (in SDP), never to the KMS: no --url there.
 * Keys are printed as name=hex lines or, with --json, as one JSON object.
 *
 * Exit status: 0 success; 1 failure (one line on stderr naming the step,
 * the reason and, for a MIKEY Error answer, its Error numbers by name; for
 * a refused HTTP request "HTTP <code> <reason>: <text body>"); 2 bad
 * command line.
 *
 * This file holds the command table, main and the KMS exchange of
 * request / resolve; the options and each group of commands have a file
 * of their own (mikey_ue_cli.h lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "mikey_ue_chain.h"
#include "mikey_ue_cli.h"
#include "util/base64.h"
#ifdef MK_HAVE_CURL
#include "mikey_ue_http.h"
#endif

/* ------------------------------------------------------------------ */
/* Failing */

/* One line for a failed step. */
int cli_fail(const cli *c, mk_err e, const mk_ue_peer_error *pe)
{
    const mk_err_detail *d = mk_err_last();
    fprintf(stderr, PROG ": %s: ", c->cmd);
    if (pe && pe->present) {
        fprintf(stderr, "peer answered with a MIKEY Error message:");
        for (size_t i = 0; i < pe->n; i++)
            fprintf(stderr, " %u (%s)", pe->err_no[i],
                    mk_name_error_no(pe->err_no[i]));
        fprintf(stderr, "%s\n", !pe->v_present ? ", no V"
                                : pe->v_verified ? ", V verified"
                                                 : ", V does NOT verify");
        return 1;
    }
    fprintf(stderr, "%s", mk_err_name(e));
    if (d && d->code == e && d->what)
        fprintf(stderr, ": %s", d->what);
    if (d && d->code == e && d->payload >= 0)
        fprintf(stderr, " (%s at offset %zu)", mk_name_payload(d->payload),
                d->offset);
    fputc('\n', stderr);
    return 1;
}

/* ------------------------------------------------------------------ */
/* Sending to the KMS */

/* Hand a REQUEST_INIT / RESOLVE_INIT to the sink. The stdout sink prints
 * it and that is all. A sink that answers (--url) hands back the KMS's
 * answer: it is accepted here exactly as accept-request-resp /
 * accept-resolve-resp would (V, KEMAC, policy; ti is the TRANSFER_INIT a
 * RESOLVE_INIT came from), and both messages are printed as
 * request=/request_resp= or resolve_init=/resolve_resp= (base64), ready for
 * the next steps. A refusal prints "HTTP <code> <reason>: <text>", a
 * MIKEY Error message "MIKEY Error <n> (<name>)", and exits 1. */
int cli_send_to_kms(cli *c, const char *what, const mk_ue_creds *cr,
                    const ue_msg *ti, const ue_msg *msg)
{
    static ue_msg ans;
    static mk_ue_ticket tk;
    static mk_ue_session s;
    mk_ue_peer_error pe;
    mk_err e = c->sink->deliver(c->sink, what, ue_msg_bytes(msg), &ans);
    bool request = strcmp(what, "REQUEST_INIT") == 0;
    memset(&pe, 0, sizeof pe);
    if (e != MK_OK) {
        const char *why = c->sink->why(c->sink);
        if (!why)
            return cli_fail(c, e, NULL);
        fprintf(stderr, PROG ": %s: %s\n", c->cmd, why);
        return 1;
    }
    if (ans.n == 0)
        return 0; /* printed, no answer */
    if (request)
        e = mk_ue_accept_request_resp(cr, ue_msg_bytes(msg), ue_msg_bytes(&ans),
                                      MK_TPF_I, &tk, &pe);
    else
        e = mk_ue_accept_resolve_resp(cr, ue_msg_bytes(ti), ue_msg_bytes(msg),
                                      ue_msg_bytes(&ans), &s, &pe);
    mk_ue_ticket_wipe(&tk);
    mk_ue_session_wipe(&s);
    if (e != MK_OK && pe.present) {
        char t[256];
        ue_peer_error_text(&pe, t, sizeof t);
        fprintf(stderr, PROG ": %s: KMS answered HTTP 200 with %s\n", c->cmd,
                t);
        return 1;
    }
    if (e != MK_OK)
        return cli_fail(c, e, NULL);
    {
        char *b64 = NULL;
        size_t cap = mk_base64_encoded_len(sizeof msg->b) + 1, n;
        b64 = malloc(cap);
        if (!b64)
            return cli_fail(c, mk_err_raise(MK_E_IO, -1, 0, "out of memory"),
                            NULL);
        if (mk_base64_encode(ue_msg_bytes(msg), b64, cap, &n) == MK_OK)
            ue_out_str(&c->out, request ? "request" : "resolve_init", b64);
        if (mk_base64_encode(ue_msg_bytes(&ans), b64, cap, &n) == MK_OK)
            ue_out_str(&c->out, request ? "request_resp" : "resolve_resp", b64);
        free(b64);
    }
    ue_out_end(&c->out);
    return 0;
}

/* The whole exchange against a live KMS (mikey_ue_chain.h). */
static int cmd_chain(cli *c)
{
    static ue_chain_params p;
    cli_need(c,
             ALICE | BOB | BIT(O_KMS_ID) | BIT(O_SUITE) | BIT(O_FORK) |
                 BIT(O_KEY) | BIT(O_SSRC) | NAF | BIT(O_CACERT) |
                 BIT(O_RESOLVE_URL),
             BIT(O_URL));
    if (c->out.json)
        cli_die_usage("chain prints text; the single steps take --json");
    cli_need_party(c, &c->alice, BIT(O_A_PSK), BIT(O_A_PSK_FILE), "alice-");
    cli_need_party(c, &c->bob, BIT(O_B_PSK), BIT(O_B_PSK_FILE), "bob-");
    memset(&p, 0, sizeof p);
    p.via = c->url;
    p.kms = c->sink;
    p.via_resolve = c->resolve_url;
    p.kms_resolve = c->resolve_sink;
    cli_party_creds(c, &c->alice, &p.alice);
    cli_party_creds(c, &c->bob, &p.bob);
    p.suite = c->suite ? c->suite : &mk_suite_128;
    p.forking = c->fork;
    memcpy(p.tmpl, c->tmpl, sizeof p.tmpl);
    p.n_tmpl = c->n_tmpl;
    p.has_ssrc = c->has_ssrc;
    p.ssrc = c->ssrc;
    return ue_chain_run(&p, stdout, stderr);
}

static const struct {
    const char *name;
    int (*run)(cli *c);
} commands[] = {
    {"gba-key", cmd_gba_key},
    {"request", cmd_request},
    {"accept-request-resp", cmd_accept_request_resp},
    {"transfer-init", cmd_transfer_init},
    {"resolve", cmd_resolve},
    {"accept-resolve-resp", cmd_accept_resolve_resp},
    {"transfer-resp", cmd_transfer_resp},
    {"accept-transfer-resp", cmd_accept_transfer_resp},
    {"srtp-keys", cmd_srtp_keys},
    {"chain", cmd_chain},
};

#ifdef MK_HAVE_CURL
/* One HTTP connection to the KMS mount at url, trusting --cacert and
 * answering a 401 for the messages of every party with GBA credentials. */
static mk_err open_http(cli *c, const char *url, const char *opt,
                        ue_http **out)
{
    ue_http *h = NULL;
    mk_err e = ue_http_open(url, &h);
    if (e == MK_E_ARG) {
        ue_http_global_cleanup();
        cli_die_usage("%s is the http:// or https:// URL of a KMS mount",
                      opt);
    }
    if (e == MK_OK && c->cacert)
        e = ue_http_set_cacert(h, c->cacert);
    const party *ps[3] = {&c->me, &c->alice, &c->bob};
    for (size_t i = 0; i < 3 && e == MK_OK; i++)
        if (ps[i]->gba)
            e = ue_http_add_gba(h, cli_str(ps[i]->gba_btid),
                                MK_BYTES(ps[i]->psk, ps[i]->psk_len));
    if (e != MK_OK) {
        ue_http_close(h);
        return e;
    }
    *out = h;
    return MK_OK;
}
#endif

/* Run a command with the stdout sink, or with --url the HTTP sink (and
 * with chain --resolve-url a second one for bob's resolve). */
static int with_sink(cli *c, int (*run)(cli *c))
{
#ifdef MK_HAVE_CURL
    ue_http *h = NULL, *h2 = NULL;
    mk_err e;
    int rc;
    if (!c->url)
        return run(c);
    if ((e = ue_http_global_init()) != MK_OK)
        return cli_fail(c, e, NULL);
    if ((e = open_http(c, c->url, "--url", &h)) != MK_OK ||
        (c->resolve_url &&
         (e = open_http(c, c->resolve_url, "--resolve-url", &h2)) != MK_OK)) {
        ue_http_close(h);
        ue_http_global_cleanup();
        return cli_fail(c, e, NULL);
    }
    c->sink = ue_sink_http(h);
    if (h2 != NULL)
        c->resolve_sink = ue_sink_http(h2);
    rc = run(c);
    ue_http_close(h2);
    ue_http_close(h);
    ue_http_global_cleanup();
    return rc;
#else
    if (strcmp(c->cmd, "chain") == 0)
        cli_die_usage("chain needs --url: this mikey-ue was built without "
                      "libcurl");
    return run(c);
#endif
}

int main(int argc, char **argv)
{
    static cli c;
    int rc;
    if (argc < 2)
        cli_die_usage("no command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    c.cmd = argv[1];
    c.sink = ue_sink_stdout();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        memcpy(c.ua_id, MK_GBA_UA_ID_DEFAULT, MK_GBA_UA_ID_LEN);
        cli_parse_args(&c, argc, argv);
        cli_gba_party(&c, &c.me, "");
        cli_gba_party(&c, &c.alice, "alice-");
        cli_gba_party(&c, &c.bob, "bob-");
        rc = with_sink(&c, commands[i].run);
        mk_wipe(c.me.psk, sizeof c.me.psk);
        mk_wipe(c.alice.psk, sizeof c.alice.psk);
        mk_wipe(c.bob.psk, sizeof c.bob.psk);
        return rc;
    }
    cli_die_usage("unknown command '%s'", argv[1]);
    return 2;
}
