/* test_ue_chain.h - the whole MIKEY-TICKET chain between two UEs (Alice
 * the Initiator, Bob the Responder) and a KMS given as a function, shared
 * by the UE unit tests (fake KMS) and the end-to-end tests (real KMS core).
 *
 *   Alice: REQUEST_INIT -> KMS -> REQUEST_RESP
 *   Alice: TRANSFER_INIT -> Bob
 *   Bob:   RESOLVE_INIT -> KMS -> RESOLVE_RESP
 *   Bob:   TRANSFER_RESP -> Alice
 */
#ifndef MK_TESTS_TEST_UE_CHAIN_H
#define MK_TESTS_TEST_UE_CHAIN_H

#include "ue/ue.h"

/* service: 1 ticket request, 2 ticket resolve (kms/kms.h mk_service). */
typedef mk_err (*chain_kms_fn)(void *ctx, int service, mk_bytes req,
                               uint8_t *out, size_t cap, size_t *n);

typedef struct chain_opts {
    const mk_suite *suite;
    bool fork;            /* request I (key forking) */
    bool tmpl3;           /* KEMAC template: TGK, TGK, TEK+SALT */
    mk_bytes alice_psk, bob_psk;
    mk_bytes alice_psk_id, bob_psk_id; /* may be empty */
    const char *kms_id;
    /* fixed randoms (empty: drawn) */
    mk_bytes randri_req, randri_tr, randrr_res, randrr_tr;
    uint32_t csb_transfer;  /* 0: drawn */
    /* everything else a published vector fixes (doc/vectors) */
    const char *alice_impu, *bob_impu; /* NULL: CHAIN_ALICE, CHAIN_BOB */
    uint16_t flags;         /* requested TP flags; 0: the UE's default */
    bool omit_idrs;         /* send no IDRi, IDRr, IDRkms (MACs keep them) */
    bool cs_per_key;        /* one CS per session key, its SPI as MKI */
    uint32_t csb_request, csb_resolve;   /* 0: drawn */
    uint64_t t_request, t_transfer, t_resolve, t_transfer_resp; /* 0: now */
} chain_opts;

typedef struct chain_msg {
    uint8_t b[MK_UE_MSG_MAX];
    size_t n;
} chain_msg;

/* The bytes of one message of the chain. */
static inline mk_bytes chain_bytes(const chain_msg *m)
{
    return MK_BYTES(m->b, m->n);
}

typedef struct chain_result {
    chain_msg req_init, req_resp, tr_init, res_init, res_resp, tr_resp;
    mk_ue_ticket ticket;   /* Alice after REQUEST_RESP */
    mk_ue_session alice;   /* after TRANSFER_RESP */
    mk_ue_session bob;     /* after RESOLVE_RESP + TRANSFER_RESP */
    mk_err err;            /* first failure */
    const char *step;      /* where it failed */
} chain_result;

#define CHAIN_ALICE "sip:alice@example.com"
#define CHAIN_BOB "sip:bob@example.com"

void chain_opts_init(chain_opts *o, const mk_suite *s);
/* The SSRC of crypto session i (0-based) of TRANSFER_INIT. */
uint32_t chain_ssrc(size_t i);
/* Run the chain; returns r->err (MK_OK when every step passed). */
mk_err chain_run(const chain_opts *o, chain_kms_fn kms, void *ctx,
                 chain_result *r) MK_MUST_USE;
/* Assert (check) that Alice and Bob derive the same SRTP master key and
 * salt for every CS with every session key; returns the number compared. */
size_t chain_assert_srtp_equal(const chain_result *r);
void chain_result_wipe(chain_result *r);
/* Decode a message of the chain (which must decode) into d; d's views point
 * into m. */
void chain_decode(const chain_msg *m, mk_message *d);

#endif
