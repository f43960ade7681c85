/* mikey_ue_chain.h - `mikey-ue chain`: the whole MIKEY-TICKET exchange of
 * RFC 6043 §4 (mode 1) in one process, Initiator (alice) and Responder
 * (bob) both played here, the two KMS exchanges through a sink (the HTTP
 * sink of mikey_ue_http.h for a live KMS):
 *
 *   1 request               alice builds REQUEST_INIT_PSK     -> KMS
 *   2 accept-request-resp   alice checks REQUEST_RESP (V, KEMAC, policy)
 *   3 transfer-init         alice builds TRANSFER_INIT        -> bob
 *   4 resolve               bob builds RESOLVE_INIT_PSK       -> KMS
 *   5 accept-resolve-resp   bob checks RESOLVE_RESP and TRANSFER_INIT's V
 *   6 transfer-resp         bob builds TRANSFER_RESP          -> alice
 *   7 accept-transfer-resp  alice checks TRANSFER_RESP (forks MPKr/TGK)
 *   8 srtp-keys             both derive SRTP master key and salt
 *                           (RFC 6043 §5.1.3) and compare them
 *
 * Owns: the order of the steps and what is printed; every check is the UE
 * library's (src/ue/ue.h).
 */
#ifndef MK_TOOLS_MIKEY_UE_CHAIN_H
#define MK_TOOLS_MIKEY_UE_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mikey_ue_io.h"
#include "ue/ue.h"

typedef struct ue_chain_params {
    const char *via;      /* where the KMS is (printed only), e.g. the URL */
    ue_sink *kms;         /* takes REQUEST_INIT / RESOLVE_INIT, answers */
    /* bob's RESOLVE_INIT to another node of the KMS (NULL: to kms) */
    const char *via_resolve;
    ue_sink *kms_resolve;
    mk_ue_creds alice;    /* impu = IDRi */
    mk_ue_creds bob;      /* impu = IDRr, the peer alice asks for */
    const mk_suite *suite;
    bool forking;         /* request TP flag I (RFC 6043 §6.10) */
    mk_ue_key_tmpl tmpl[MK_UE_TMPL_MAX]; /* KEMAC template; none: default */
    size_t n_tmpl;
    bool has_ssrc;        /* SSRC of crypto session 1 in TRANSFER_INIT; */
    uint32_t ssrc;        /* else bob fills in a random one */
} ue_chain_params;

/* Run the chain: one line per step on out, then "alice: cs1
 * master_key=HEX master_salt=HEX [mki=HEX]" and the same for bob for every
 * crypto session, then "keys match" (return 0) or "KEYS DIFFER" (1). A
 * step that fails prints one line "mikey-ue: chain: step N NAME: ..." on
 * err (the sink's why() for a failed KMS exchange, "KMS answered ...
 * MIKEY Error 1 (Invalid TS), V verified" for a MIKEY Error message) and
 * returns 1. Secrets are wiped before return. */
int ue_chain_run(const ue_chain_params *p, FILE *out, FILE *err);

#endif
