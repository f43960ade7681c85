/* mikey_ue_cli.h - what the files of the mikey-ue CLI share: the parsed
 * command line (cli), one party's credentials, the option numbers and the
 * helpers every command uses. Not a library: one program's rooms.
 *
 *   mikey-ue.c            the command table, main, the sink (--url), the
 *                         KMS exchange of request / resolve, chain
 *   mikey_ue_args.c       options, --help, what each command takes,
 *                         credentials (PSK, GBA), the step's messages
 *   mikey_ue_initiator.c  request, accept-request-resp, transfer-init,
 *                         accept-transfer-resp (Alice)
 *   mikey_ue_responder.c  resolve, accept-resolve-resp, transfer-resp (Bob)
 *   mikey_ue_keys.c       printing key sets and sessions, srtp-keys, gba-key
 *
 * Errors of the command line end the program with status 2
 * (cli_die_usage); a failed step prints one line and returns 1 (cli_fail).
 */
#ifndef MK_TOOLS_MIKEY_UE_CLI_H
#define MK_TOOLS_MIKEY_UE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gba/gba.h"
#include "mikey_ue_io.h"
#include "ue/ue.h"

#define PROG "mikey-ue"

enum opt {
    O_PSK = 256, O_PSK_FILE, O_PSK_ID, O_IMPU, O_KMS_ID, O_PEER, O_SUITE,
    O_FORK, O_FLAGS, O_VALID_FROM, O_VALID_TO, O_KEY, O_CSB_ID, O_RANDRI,
    O_RANDRR, O_TIME, O_IN, O_REQUEST, O_REQUEST_RESP, O_TRANSFER_INIT,
    O_RESOLVE_INIT, O_RESOLVE_RESP, O_CS_ID, O_SSRC, O_MKI, O_KEY_INDEX,
    O_JSON, O_HELP, O_URL, O_A_PSK, O_A_PSK_FILE, O_A_PSK_ID, O_A_IMPU,
    O_B_PSK, O_B_PSK_FILE, O_B_PSK_ID, O_B_IMPU,
    /* GBA (doc/profile.md §10) */
    O_GBA_BTID, O_GBA_KS, O_GBA_IMPI, O_A_GBA_BTID, O_A_GBA_KS,
    O_A_GBA_IMPI, O_B_GBA_BTID, O_B_GBA_KS, O_B_GBA_IMPI, O_NAF_FQDN,
    O_UA_ID, O_KS, O_RAND, O_IMPI, O_CACERT, O_RESOLVE_URL, O__END
};

#define BIT(o) (1ull << ((o) - O_PSK))
#define NAF (BIT(O_NAF_FQDN) | BIT(O_UA_ID))
#define CREDS (BIT(O_PSK) | BIT(O_PSK_FILE) | BIT(O_PSK_ID) | BIT(O_IMPU) | \
               BIT(O_KMS_ID) | BIT(O_GBA_BTID) | BIT(O_GBA_KS) | \
               BIT(O_GBA_IMPI) | NAF)
#define ALICE (BIT(O_A_PSK) | BIT(O_A_PSK_FILE) | BIT(O_A_PSK_ID) | \
               BIT(O_A_IMPU) | BIT(O_A_GBA_BTID) | BIT(O_A_GBA_KS) | \
               BIT(O_A_GBA_IMPI))
#define BOB (BIT(O_B_PSK) | BIT(O_B_PSK_FILE) | BIT(O_B_PSK_ID) | \
             BIT(O_B_IMPU) | BIT(O_B_GBA_BTID) | BIT(O_B_GBA_KS) | \
             BIT(O_B_GBA_IMPI))

/* One party's credentials (the single-step commands use cli.me; chain
 * uses alice and bob). */
typedef struct party {
    uint8_t psk[MK_KEY_MAX];
    size_t psk_len;
    const char *psk_id, *impu;
    /* GBA: the PSK is derived (Ks_NAF), the PSK id is the B-TID */
    bool gba;
    const char *gba_btid, *gba_impi;
    uint8_t gba_ks[MK_GBA_KEY_LEN];
    bool has_gba_ks;
} party;

typedef struct cli {
    const char *cmd;
    uint64_t given; /* BIT() of every option seen */
    /* credentials */
    party me, alice, bob;
    const char *kms_id;
    /* request */
    const char *peer[MK_UE_IDRR_MAX];
    size_t n_peer;
    const mk_suite *suite;
    bool fork;
    const char *flags;
    uint64_t valid_from, valid_to;
    mk_ue_key_tmpl tmpl[MK_UE_TMPL_MAX];
    size_t n_tmpl;
    /* fixed values */
    mk_ue_fixed fixed;
    uint8_t rand[MK_UE_RAND_MAX];
    /* messages */
    const char *in, *arg;
    const char *request, *request_resp, *transfer_init, *resolve_init,
        *resolve_resp;
    /* crypto session */
    uint64_t cs_id;
    bool has_ssrc;
    uint32_t ssrc;
    uint8_t mki[MK_SPI_MAX];
    size_t mki_len;
    bool has_key_index;
    uint64_t key_index;
    ue_out out;
    const char *url; /* --url: the KMS mount; messages go there */
    const char *cacert;
    ue_sink *sink;
    /* chain --resolve-url: bob's resolve goes to another KMS node (one
     * store shared by several nodes, doc/profile.md §13) */
    const char *resolve_url;
    ue_sink *resolve_sink;
    /* GBA: NAF_Id = naf_fqdn || ua_id; gba-key's inputs */
    const char *naf_fqdn;
    uint8_t ua_id[MK_GBA_UA_ID_LEN];
    uint8_t ks[MK_GBA_KEY_LEN], gba_rand[MK_GBA_RAND_LEN];
    const char *impi;
} cli;

/* --- mikey-ue.c --- */
/* One line for a failed step (pe: a peer's MIKEY Error message, or NULL);
 * returns 1. */
int cli_fail(const cli *c, mk_err e, const mk_ue_peer_error *pe);
#define TRY(expr)                            \
    do {                                     \
        mk_err try_e_ = (expr);              \
        if (try_e_ != MK_OK)                 \
            return cli_fail(c, try_e_, NULL); \
    } while (0)
/* Hand a REQUEST_INIT / RESOLVE_INIT (what) to the sink; with --url accept
 * the KMS's answer and print both messages (ti: the TRANSFER_INIT a
 * RESOLVE_INIT came from). */
int cli_send_to_kms(cli *c, const char *what, const mk_ue_creds *cr,
                    const ue_msg *ti, const ue_msg *msg);

/* --- mikey_ue_args.c --- */
void cli_usage(FILE *f);
/* "mikey-ue: <text> (try mikey-ue --help)" on stderr, exit status 2. */
void cli_die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void cli_parse_args(cli *c, int argc, char **argv);
/* Every option given must be one the command takes (allowed); the
 * required ones must be there. */
void cli_need(const cli *c, uint64_t allowed, uint64_t required);
/* A party's credentials are complete: one PSK (hex or file) or GBA, and an
 * IMPU; cli_need_creds for cli.me. */
void cli_need_party(const cli *c, const party *pt, uint64_t psk,
                    uint64_t psk_file, const char *prefix);
void cli_need_creds(const cli *c);
/* A party with GBA credentials: its PSK is Ks_NAF, its PSK id the B-TID. */
void cli_gba_party(cli *c, party *pt, const char *prefix);
mk_bytes cli_str(const char *s);
void cli_party_creds(const cli *c, const party *pt, mk_ue_creds *cr);
void cli_creds_of(const cli *c, mk_ue_creds *cr);
/* The main input of a step: argument, --in FILE or stdin. */
mk_err cli_main_msg(const cli *c, ue_msg *m) MK_MUST_USE;
/* A message option (--request, ...); `what` names it when it is no
 * base64 message. */
mk_err cli_opt_msg(const char *arg, const char *what, ue_msg *m) MK_MUST_USE;

/* --- mikey_ue_initiator.c --- */
/* The Initiator's session from REQUEST_INIT/RESP, TRANSFER_INIT/RESP. */
int cli_initiator_session(cli *c, mk_ue_session *s);
int cmd_request(cli *c);
int cmd_accept_request_resp(cli *c);
int cmd_transfer_init(cli *c);
int cmd_accept_transfer_resp(cli *c);

/* --- mikey_ue_responder.c --- */
/* The Responder's session from TRANSFER_INIT, RESOLVE_INIT, RESOLVE_RESP. */
int cli_session_of(cli *c, const mk_ue_creds *cr, const ue_msg *ti,
                   const ue_msg *ri, const ue_msg *rr, mk_ue_session *s);
int cmd_resolve(cli *c);
int cmd_accept_resolve_resp(cli *c);
int cmd_transfer_resp(cli *c);

/* --- mikey_ue_keys.c --- */
void cli_print_key_set(ue_out *o, const mk_key_set *ks, size_t first,
                       bool mpkr);
void cli_print_session(ue_out *o, const mk_ue_session *s);
int cmd_srtp_keys(cli *c);
int cmd_gba_key(cli *c);

#endif
