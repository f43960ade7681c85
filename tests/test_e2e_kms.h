/* test_e2e_kms.h - the real KMS core (kms/kms.h) over an SQLite store in a
 * temporary directory, for the end-to-end tests (test_e2e.c, test_srtp.c).
 * Subscribers alice (sip:alice@example.com, forking allowed) and bob
 * (sip:bob@example.com) are added through the store's admin API; one ticket
 * key is made active. */
#ifndef MK_TESTS_TEST_E2E_KMS_H
#define MK_TESTS_TEST_E2E_KMS_H

#include "kms/kms.h"
#include "kms/kms_store.h"
#include "store/store.h"
#include "test_ue_chain.h"

typedef struct e2e_kms {
    char dir[64];
    char path[128];
    mk_sqlstore *store;
    mk_kms_store iface;
    mk_kms *kms;
    uint8_t alice_psk[32], bob_psk[32];
    int last_status; /* HTTP status of the last answer */
} e2e_kms;

/* Aborts the test (check) on failure. */
void e2e_open(e2e_kms *k);
void e2e_close(e2e_kms *k);
/* chain_kms_fn over mk_kms_handle: a 200 answer (REQUEST_RESP,
 * RESOLVE_RESP or MIKEY Error message) is MK_OK with its body; any other
 * status returns the refusal class (e.g. MK_E_POLICY for 403). */
mk_err e2e_call(void *ctx, int service, mk_bytes req, uint8_t *out,
                size_t cap, size_t *n) MK_MUST_USE;
/* chain options with alice's and bob's PSKs (and PSK ids). */
void e2e_opts(const e2e_kms *k, chain_opts *o, const mk_suite *s);

#endif
