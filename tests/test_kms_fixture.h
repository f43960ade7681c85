/* test_kms_fixture.h - the KMS core over a real SQLite store in a
 * temporary directory, the subscribers the KMS tests use, and helpers to
 * turn a valid UE message (built by the UE library) into an offending one:
 * decode, change, re-sign as its sender would (RFC 6043 §5.1.2, §5.5). */
#ifndef MK_TESTS_TEST_KMS_FIXTURE_H
#define MK_TESTS_TEST_KMS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mikey.h"
#include "kms/kms.h"
#include "kms/kms_store.h"
#include "proto/proto.h"
#include "store/store.h"
#include "test_ue_chain.h"
#include "ue/ue.h"

#define FX_ALICE CHAIN_ALICE /* active; forking, reuse, L and M allowed */
#define FX_ALICE2 "tel:+15550001" /* Alice's second IMPU */
#define FX_BOB CHAIN_BOB
#define FX_CAROL "sip:carol@example.com" /* disabled */
#define FX_DAVE "sip:dave@example.com"   /* restricted policy */
/* Only Alice may ask for L and M (session keys from the UEs). */
#define FX_ERIN "sip:erin@example.com"   /* 16-byte PSK: 128-bit suite only */
/* Alice, Bob and Dave have 32-byte PSKs, Carol and Erin 16-byte ones. */
#define FX_KMS_ID "kms.example.org"

typedef struct fx_msg {
    uint8_t b[MK_UE_MSG_MAX];
    size_t n;
} fx_msg;

/* The store shim: forwards to the SQLite interface, can be told to fail. */
typedef struct fx_shim {
    mk_kms_store real;
    bool fail_replay;  /* answer_commit with a replay entry -> 503 */
    bool fail_record;  /* every answer_commit -> MK_E_UNAVAILABLE */
    bool no_active;    /* ticket_key_active -> MK_E_NOT_FOUND */
    unsigned commits;  /* answer_commits passed on, */
    unsigned commits_with_replay; /* those with a replay entry */
    unsigned commits_with_note; /* those with a J = 0 note */
} fx_shim;

typedef struct fx {
    char dir[64];
    char path[128];
    mk_sqlstore *sql;
    fx_shim shim;
    mk_kms_store iface;
    mk_kms_config cfg;
    mk_kms *kms;
    uint64_t now; /* the time given to mk_kms_handle (NTP-UTC) */
    mk_kms_answer ans;
} fx;

extern fx F;
extern const uint8_t fx_master[MK_MASTER_KEY_LEN]; /* the store's */

/* checked fixture: store with Alice, Bob, Carol, Dave and one ticket key */
void fx_setup(void);
void fx_teardown(void);

mk_bytes fx_str(const char *s);
mk_bytes fx_psk(const char *who); /* FX_ALICE, FX_BOB, ... */
mk_bytes fx_psk_id(const char *who);
void fx_creds(const char *who, mk_ue_creds *c);

/* mk_kms_handle with F.now into F.ans; returns F.ans.err. */
mk_err fx_handle(mk_service svc, const fx_msg *m);
/* chain_run's KMS: http 200 answers are handed to the UE. */
mk_err fx_chain_kms(void *ctx, int service, mk_bytes req, uint8_t *out,
                    size_t cap, size_t *n) MK_MUST_USE;

/* Alice's REQUEST_INIT_PSK (UE library) for one responder. */
void fx_request_params(mk_ue_request_params *p, const mk_suite *s,
                       const char *who, const char *responder);
void fx_request_init(const mk_ue_request_params *p, fx_msg *out);

/* A whole chain through the real KMS (asserts success); r is heap memory
 * the caller frees with fx_chain_free. */
chain_result *fx_chain(const mk_suite *s, bool fork, bool tmpl3);
void fx_chain_free(chain_result *r);
/* A fresh RESOLVE_INIT_PSK for the TRANSFER_INIT of r, from `who`. */
void fx_resolve_init(const chain_result *r, const char *who, fx_msg *out);

/* Re-sign a modified initial message as `who` would: kind-1 keys of the
 * HDR PRF (MIKEY-1 when unknown), the PSK and the message's RANDR; V over
 * message || identity || kms id. The last payload must be V; its auth alg
 * decides the MAC (a NULL alg: encoded without a MAC). */
void fx_resign(mk_message *m, const char *who, mk_bytes identity,
               fx_msg *out);
/* Re-sign message bytes changed in place (same layout as `orig`, its
 * decoded original: HDR, RANDR and V where they were; the CSB ID is read
 * from the bytes): recompute the V MAC over the bytes as `who`. */
void fx_resign_raw(fx_msg *m, const mk_message *orig, const char *who,
                   mk_bytes identity);
/* Replace the TP Data of the TP / TICKET payload at index i. */
void fx_set_tp_data(mk_message *m, int i, const mk_chain *c, uint8_t *buf,
                    size_t cap);

/* Assert that F.ans is a MIKEY Error message answering `req`: HDR version
 * 1, PRF and CSB ID copied, data type 6, V flag 0, #CS 0, map type 1, a fresh
 * NTP-UTC T, one ERR with `no`, and a V iff with_v that verifies with the
 * kind-1 auth key of `who`'s PSK. */
void fx_assert_error(const fx_msg *req, int no, bool with_v, const char *who);
/* Decode m (which must decode) into d; d's views point into m. */
void fx_decode(const fx_msg *m, mk_message *d);
/* fx_handle(svc, req) fails with want, and its answer is the MIKEY Error
 * no as fx_assert_error checks it. */
void fx_expect_error(mk_service svc, const fx_msg *req, mk_err want, int no,
                     bool with_v, const char *who);

/* Number of records in the store. */
/* Move the records from the node's journal into the store (as kmsd's
 * maintenance thread does), so that mk_sqlstore_records sees them. */
void fx_drain(void);
size_t fx_record_count(void);

#endif
