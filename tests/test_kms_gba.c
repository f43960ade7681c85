/* test_kms_gba.c - the KMS core with a GBA key source (doc/profile.md
 * §10): subscribers that no store holds, named by a B-TID in IDRpsk, their
 * PSK Ks_NAF and their IMPUs those of the USS; the answers each verdict of
 * the BSF maps to (401, 403, 504, 503), the IMPUs of the USS as the
 * subscriber's, and the B-TID of Ua credentials against IDRpsk. The key
 * source here is a table (kmsd's talks to the Zn daemon). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "gba/gba.h"
#include "test_kms_fixture.h"
#include "util/ntp.h"
#include "lib/check_main.h"

#define BT_ALICE "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org"
#define BT_BOB "sbGxsbGxsbGxsbGxsbGxsQ==@bsf.example.org"
#define BT_UNKNOWN "wsLCwsLCwsLCwsLCwsLCwg==@bsf.example.org"
#define BT_FORBIDDEN "09PT09PT09PT09PT09PT0w==@bsf.example.org"
#define BT_SLOW "5OTk5OTk5OTk5OTk5OTk5A==@bsf.example.org"
#define BT_DOWN "9fX19fX19fX19fX19fX19Q==@bsf.example.org"

static uint8_t ks_alice[32], ks_bob[32];
static unsigned lookups;

static mk_err bsf_verdicts(void *ctx, mk_bytes btid, uint64_t now,
                           mk_subscriber *out)
{
    static mk_gba_info g;
    mk_policy pol;
    (void)ctx;
    (void)now;
    lookups++;
    memset(&g, 0, sizeof g);
    memset(&pol, 0, sizeof pol);
    pol.forking_allowed = true;
    if (mk_bytes_equal(btid, fx_str(BT_ALICE))) {
        ck_assert_int_eq(mk_key_copy(&g.ks_naf, MK_BYTES(ks_alice, 32)), MK_OK);
        strcpy(g.impu[0], FX_ALICE);
        g.n_impu = 1;
    } else if (mk_bytes_equal(btid, fx_str(BT_BOB))) {
        ck_assert_int_eq(mk_key_copy(&g.ks_naf, MK_BYTES(ks_bob, 32)), MK_OK);
        strcpy(g.impu[0], "tel:+15550002");
        strcpy(g.impu[1], FX_BOB);
        g.n_impu = 2;
    } else if (mk_bytes_equal(btid, fx_str(BT_FORBIDDEN))) {
        return mk_err_raise(MK_E_POLICY, -1, 0, "5402");
    } else if (mk_bytes_equal(btid, fx_str(BT_SLOW))) {
        return mk_err_raise(MK_E_HTTP_ZN_TIMEOUT, -1, 0, "timeout");
    } else if (mk_bytes_equal(btid, fx_str(BT_DOWN))) {
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0, "down");
    } else {
        return mk_err_raise(MK_E_HTTP_AUTH, -1, 0, "5401");
    }
    mk_err e = mk_gba_subscriber(btid, &g, &pol, out);
    mk_gba_info_wipe(&g);
    return e;
}

static mk_kms_keysource ks_table = {.ctx = NULL, .subscriber_by_btid = bsf_verdicts};

static void setup(void)
{
    fx_setup();
    memset(ks_alice, 0xa1, sizeof ks_alice);
    memset(ks_bob, 0xb0, sizeof ks_bob);
    lookups = 0;
    mk_kms_set_keysource(F.kms, &ks_table);
}

/* Alice's REQUEST_INIT as a GBA UE: IDRpsk = btid, PSK = ks. */
static void gba_request(const char *btid, const uint8_t *ks, const char *idri,
                        fx_msg *out)
{
    mk_ue_request_params p;
    mk_ue_request_params_init(&p, &mk_suite_256);
    p.creds.psk = MK_BYTES(ks, 32);
    p.creds.psk_id = fx_str(btid);
    p.creds.impu = fx_str(idri);
    p.creds.kms_id = fx_str(FX_KMS_ID);
    p.idrr[0] = fx_str(FX_BOB);
    p.n_idrr = 1;
    p.fixed.has_t = true;
    p.fixed.t_ntp = F.now;
    fx_request_init(&p, out);
}

START_TEST(test_gba_chain)
{
    static const mk_suite *const suites[2] = {&mk_suite_128, &mk_suite_256};
    for (int s = 0; s < 2; s++) {
        chain_opts o;
        chain_result *r = calloc(1, sizeof *r);
        ck_assert_ptr_nonnull(r);
        chain_opts_init(&o, suites[s]);
        o.fork = s == 1;
        o.alice_psk = MK_BYTES(ks_alice, 32);
        o.bob_psk = MK_BYTES(ks_bob, 32);
        o.alice_psk_id = fx_str(BT_ALICE);
        o.bob_psk_id = fx_str(BT_BOB);
        o.kms_id = FX_KMS_ID;
        size_t before = fx_record_count();
        ck_assert_int_eq(chain_run(&o, fx_chain_kms, NULL, r), MK_OK);
        ck_assert_uint_ge(chain_assert_srtp_equal(r), 1);
        fx_drain();
        ck_assert_uint_eq(fx_record_count(), before + 2);
        fx_chain_free(r);
    }
    ck_assert_uint_eq(lookups, 4);
}
END_TEST

START_TEST(test_gba_verdicts)
{
    static const struct {
        const char *btid;
        int status;
    } rows[] = {
        {BT_UNKNOWN, 401},   /* 5401 / 5403: bootstrap again */
        {BT_FORBIDDEN, 403}, /* 5402 */
        {BT_SLOW, 504},      /* no BIA in time */
        {BT_DOWN, 503},      /* no Zn */
    };
    fx_msg m;
    fx_drain();
    size_t before = fx_record_count();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        gba_request(rows[i].btid, ks_alice, FX_ALICE, &m);
        fx_handle(MK_SERVICE_TICKET_REQUEST, &m);
        ck_assert_int_eq(F.ans.http_status, rows[i].status);
        ck_assert_uint_eq(F.ans.body_len, 0);
    }
    /* decided before V could be verified (no PSK): no record (profile
     * §2 rows 11a-11d, §8), only counted */
    fx_drain();
    ck_assert_uint_eq(fx_record_count(), before);
    /* the 503 took no replay entry: the same message is answered later */
    ck_assert_uint_eq(F.shim.commits_with_replay, 0);

    /* a wrong Ks_NAF is a wrong PSK: Error 0 without V */
    uint8_t wrong[32];
    memset(wrong, 0x99, sizeof wrong);
    gba_request(BT_ALICE, wrong, FX_ALICE, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ALICE);

    /* an IDRpsk that is no B-TID and no subscriber never reaches the BSF */
    unsigned seen = lookups;
    gba_request("no-such-psk-id", ks_alice, FX_ALICE, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_MIKEY_AUTH);
    ck_assert_uint_eq(lookups, seen);
    /* nor does a provisioned subscriber's */
    fx_msg p;
    mk_ue_request_params rp;
    fx_request_params(&rp, &mk_suite_128, FX_ALICE, FX_BOB);
    fx_request_init(&rp, &p);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &p), MK_OK);
    ck_assert_uint_eq(lookups, seen);
}
END_TEST

START_TEST(test_gba_uss_impus)
{
    fx_msg m;
    /* IDRi must be an IMPU of the USS */
    gba_request(BT_ALICE, ks_alice, FX_ALICE, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    gba_request(BT_ALICE, ks_alice, "sip:eve@example.com", &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    /* Bob's second IMPU is his too */
    gba_request(BT_BOB, ks_bob, "tel:+15550002", &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
}
END_TEST

START_TEST(test_gba_ua_user)
{
    fx_msg m;
    gba_request(BT_ALICE, ks_alice, FX_ALICE, &m);
    ck_assert_int_eq(mk_kms_handle_ua(F.kms, MK_SERVICE_TICKET_REQUEST,
                                      MK_BYTES(m.b, m.n), F.now,
                                      fx_str(BT_ALICE), &F.ans),
                     MK_OK);
    /* the Digest username names Bob, the IDRpsk Alice: 403 */
    gba_request(BT_ALICE, ks_alice, FX_ALICE, &m);
    ck_assert_int_eq(mk_kms_handle_ua(F.kms, MK_SERVICE_TICKET_REQUEST,
                                      MK_BYTES(m.b, m.n), F.now,
                                      fx_str(BT_BOB), &F.ans),
                     MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    /* Ua credentials and no IDRpsk: 403 */
    fx_msg p;
    mk_ue_request_params rp;
    fx_request_params(&rp, &mk_suite_128, FX_ALICE, FX_BOB);
    rp.creds.psk_id = MK_BYTES_NONE;
    fx_request_init(&rp, &p);
    ck_assert_int_eq(mk_kms_handle_ua(F.kms, MK_SERVICE_TICKET_REQUEST,
                                      MK_BYTES(p.b, p.n), F.now,
                                      fx_str(BT_ALICE), &F.ans),
                     MK_E_POLICY);
    /* without a key source GBA is off: an unknown B-TID is Error 0 */
    mk_kms_set_keysource(F.kms, NULL);
    gba_request(BT_UNKNOWN, ks_alice, FX_ALICE, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_MIKEY_AUTH);
}
END_TEST

int main(void)
{
    const TTest *const gba_tests[] = {test_gba_chain, test_gba_verdicts,
        test_gba_uss_impus, test_gba_ua_user};
    const mk_check_opts o = {
        .suite = "kms_gba", .tcase = "gba", .timeout = 60, .setup = setup,
        .teardown = fx_teardown
    };
    return mk_check_main_opts(&o, gba_tests, MK_CHECK_NELEM(gba_tests));
}
