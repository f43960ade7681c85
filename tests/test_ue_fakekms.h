/* test_ue_fakekms.h - a minimal in-memory stand-in for the KMS, for the UE
 * unit tests (tests/test_ue.c) only: it answers REQUEST_INIT_PSK and
 * RESOLVE_INIT_PSK the RFC 6043 way (V, KEMAC, forking, Vr) but keeps its
 * tickets in memory (Ticket Data = THDR naming a slot, T, RAND, V of zero
 * bytes) and has knobs to misbehave. It is NOT the KMS: the end-to-end tests
 * (tests/test_e2e.c) run the real core. Every value can be fixed so that the
 * known answers of mikey.md §6.2 B come out. */
#ifndef MK_TESTS_TEST_UE_FAKEKMS_H
#define MK_TESTS_TEST_UE_FAKEKMS_H

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "proto/proto.h"

#define FK_TICKETS 16

typedef struct fk_sub {
    const char *impu;
    mk_key psk;
} fk_sub;

typedef struct fk_ticket {
    mk_key mpk;
    uint8_t rand[32];
    size_t rand_len;
    mk_key_set keys; /* session keys only */
    uint16_t flags;
    int tp_prf;
} fk_ticket;

typedef struct fake_kms {
    const char *kms_id;
    fk_sub sub[2];
    fk_ticket t[FK_TICKETS];
    size_t nt;
    /* fixed values (n == 0: random) */
    mk_key fixed_mpk, fixed_tgk;
    uint8_t fixed_rand[32];
    size_t fixed_rand_len;
    uint8_t fixed_randrkms[32];
    size_t fixed_randrkms_len;
    /* misbehaviour */
    int error_no;          /* >= 0: answer with an Error message */
    bool foreign_idrr;     /* grant an IDRr nobody asked for */
    bool tamper_v;         /* flip a bit of the answer's MAC */
    uint16_t drop_flags;   /* clear these flags in the granted policy */
    bool second_idrkms;    /* REQUEST_RESP: an IDRkms of another KMS after
                              ours (a payload that may stand once only) */
    bool second_tp_idri;   /* granted TP Data: IDRi twice (the same) */
} fake_kms;

void fk_init(fake_kms *k);
mk_err fk_request(fake_kms *k, mk_bytes req, uint8_t *out, size_t cap,
                  size_t *n) MK_MUST_USE;
mk_err fk_resolve(fake_kms *k, mk_bytes req, uint8_t *out, size_t cap,
                  size_t *n) MK_MUST_USE;

#endif
