/* test_crypto_mac.c - HMACs (RFC 2202, RFC 4231), constant-time MAC
 * verification, SHA-256 (FIPS 180-2), randomness, mk_key, and the self
 * test. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"

START_TEST(test_hmac_published_vectors)
{
    uint8_t out[32];
    uint8_t k0b[20];
    memset(k0b, 0x0b, sizeof k0b);
    const mk_bytes hi = MK_BYTES("Hi There", 8);
    const mk_bytes jefe = MK_BYTES("Jefe", 4);
    const mk_bytes what = MK_BYTES("what do ya want for nothing?", 28);
    /* RFC 2202 §3 test cases 1 and 2 */
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, MK_BYTES(k0b, 20), &hi, 1,
                            out, sizeof out),
                     MK_OK);
    ck_hex(out, 20, "b617318655057264e28bc0b6fb378c8ef146be00");
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, jefe, &what, 1, out, 20),
                     MK_OK);
    ck_hex(out, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    /* RFC 4231 §4.2 and §4.3 (HMAC-SHA-256) */
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA256_256, MK_BYTES(k0b, 20), &hi, 1,
                            out, sizeof out),
                     MK_OK);
    ck_hex(out, 32,
           "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA256_256, jefe, &what, 1, out, 32),
                     MK_OK);
    ck_hex(out, 32,
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* the parts are concatenated (empty parts included) */
    const mk_bytes parts[4] = {MK_BYTES("what do ya", 10), MK_BYTES_NONE,
                               MK_BYTES(" want for ", 10),
                               MK_BYTES("nothing?", 8)};
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA256_256, jefe, parts, 4, out, 32),
                     MK_OK);
    ck_hex(out, 32,
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

/* Keys of B = 64 bytes and more (RFC 2104 §2: a longer key is hashed
 * first): RFC 2202 §3 case 6, RFC 4231 §4.7, and the boundary 64 / 65
 * (values from OpenSSL's own HMAC: `openssl mac -digest SHA256 -macopt
 * hexkey:000102...3f HMAC`). */
START_TEST(test_hmac_long_keys)
{
    uint8_t out[32], kaa[131], kseq[65];
    memset(kaa, 0xaa, sizeof kaa);
    for (size_t i = 0; i < sizeof kseq; i++)
        kseq[i] = (uint8_t)i;
    const mk_bytes big =
        MK_BYTES("Test Using Larger Than Block-Size Key - Hash Key First", 54);
    const mk_bytes abc = MK_BYTES("abc", 3);
    static const struct {
        int alg;
        bool seq; /* key 00 01 02 ..., else aa aa ... */
        size_t key_n;
        const char *want;
    } v[] = {
        {MK_MAC_HMAC_SHA1_160, false, 80,
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {MK_MAC_HMAC_SHA256_256, false, 131,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {MK_MAC_HMAC_SHA1_160, true, 64,
         "89e392852da6b647490d3f287218824a2e2101b0"},
        {MK_MAC_HMAC_SHA256_256, true, 64,
         "6ab541b4869dca71c4ca11d8bb1b02533b789a557583161429292c7404bc21f6"},
        {MK_MAC_HMAC_SHA256_256, true, 65,
         "dfbffee4671bad00ed5d1e1999d55ed3b0cc774ac357f9ebf649c1612414fcec"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        mk_bytes key = MK_BYTES(v[i].seq ? kseq : kaa, v[i].key_n);
        ck_assert_int_eq(mk_mac(v[i].alg, key, v[i].seq ? &abc : &big, 1, out,
                                sizeof out),
                         MK_OK);
        ck_hex(out, mk_mac_len(v[i].alg), v[i].want);
    }
}
END_TEST

START_TEST(test_mac_arguments)
{
    uint8_t out[32];
    memset(out, 0x77, sizeof out);
    const mk_bytes d = MK_BYTES("x", 1);
    const mk_bytes key = MK_BYTES("k", 1);
    /* NULL MAC: nothing written */
    ck_assert_int_eq(mk_mac(MK_MAC_NULL, key, &d, 1, out, 0), MK_OK);
    ck_assert_uint_eq(out[0], 0x77);
    ck_assert_int_eq(mk_mac(3, key, &d, 1, out, sizeof out), MK_E_VALUE);
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, key, &d, 1, out, 19),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA256_256, key, &d, 1, out, 31),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, MK_BYTES_NONE, &d, 1, out,
                            sizeof out),
                     MK_E_ARG);
}
END_TEST

START_TEST(test_mac_verify)
{
    uint8_t key[20], tag[33] = {0};
    memset(key, 0x42, sizeof key);
    uint8_t msg[100];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7);
    const mk_bytes parts[2] = {MK_BYTES(msg, 60), MK_BYTES(msg + 60, 40)};
    static const int algs[2] = {MK_MAC_HMAC_SHA1_160, MK_MAC_HMAC_SHA256_256};
    for (int a = 0; a < 2; a++) {
        size_t len = mk_mac_len(algs[a]);
        ck_assert_int_eq(mk_mac(algs[a], MK_BYTES(key, 20), parts, 2, tag,
                                sizeof tag),
                         MK_OK);
        mk_guarded g;
        mk_guarded_init(&g, tag, len);
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES(g.data, g.n)),
                         MK_OK);
        mk_guarded_free(&g);
        /* every single-bit change of the tag is rejected */
        for (size_t bit = 0; bit < len * 8; bit++) {
            uint8_t t2[32];
            memcpy(t2, tag, len);
            t2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts,
                                           2, MK_BYTES(t2, len)),
                             MK_E_MIKEY_AUTH);
        }
        /* a one-bit change of the message or the key */
        msg[99] ^= 0x80;
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES(tag, len)),
                         MK_E_MIKEY_AUTH);
        msg[99] ^= 0x80;
        key[0] ^= 1;
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES(tag, len)),
                         MK_E_MIKEY_AUTH);
        key[0] ^= 1;
        /* wrong lengths: a prefix, one byte more, empty */
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES(tag, len - 1)),
                         MK_E_MIKEY_AUTH);
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES(tag, len + 1)),
                         MK_E_MIKEY_AUTH);
        ck_assert_int_eq(mk_mac_verify(algs[a], MK_BYTES(key, 20), parts, 2,
                                       MK_BYTES_NONE),
                         MK_E_MIKEY_AUTH);
    }
    /* a 20-byte prefix of the SHA-256 tag is not a SHA-1 tag */
    ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, MK_BYTES(key, 20),
                                   parts, 2, MK_BYTES(tag, 20)),
                     MK_E_MIKEY_AUTH);
    /* NULL MAC: only the empty tag */
    ck_assert_int_eq(mk_mac_verify(MK_MAC_NULL, MK_BYTES(key, 20), parts, 2,
                                   MK_BYTES_NONE),
                     MK_OK);
    ck_assert_int_eq(mk_mac_verify(MK_MAC_NULL, MK_BYTES(key, 20), parts, 2,
                                   MK_BYTES(tag, 1)),
                     MK_E_MIKEY_AUTH);
    ck_assert_int_eq(mk_mac_verify(5, MK_BYTES(key, 20), parts, 2,
                                   MK_BYTES(tag, 20)),
                     MK_E_VALUE);
}
END_TEST

START_TEST(test_ct_equal)
{
    const uint8_t a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 6};
    ck_assert(mk_ct_equal(a, a, 5));
    ck_assert(!mk_ct_equal(a, b, 5));
    ck_assert(mk_ct_equal(a, b, 4));
    ck_assert(mk_ct_equal(a, b, 0));
}
END_TEST

START_TEST(test_sha256)
{
    uint8_t out[32];
    const mk_bytes abc = MK_BYTES("abc", 3);
    ck_assert_int_eq(mk_sha256(&abc, 1, out), MK_OK);
    ck_hex(out, 32,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* FIPS 180-2 App. B.2, in two parts */
    const mk_bytes two[2] = {
        MK_BYTES("abcdbcdecdefdefgefghfghighijhijk", 32),
        MK_BYTES("ijkljklmklmnlmnomnopnopq", 24)};
    ck_assert_int_eq(mk_sha256(two, 2, out), MK_OK);
    ck_hex(out, 32,
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    ck_assert_int_eq(mk_sha256(NULL, 0, out), MK_OK);
    ck_hex(out, 32,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

/* The HMAC contexts are kept per thread and re-keyed at every call
 * (mac.c): threads at the same time, alternating hashes and keys, with
 * failing calls in between, still get the published values; the PRF
 * (HMAC context held across blocks) matches its single-thread result. */
#define HM_THREADS 4
#define HM_ROUNDS 1500

typedef struct hm_job {
    const uint8_t *prf_want; /* 64 bytes */
    int bad;
} hm_job;

static void *hm_thread(void *arg)
{
    hm_job *j = arg;
    uint8_t k0b[20], out[64];
    memset(k0b, 0x0b, sizeof k0b);
    const mk_bytes hi = MK_BYTES("Hi There", 8);
    const mk_bytes what = MK_BYTES("what do ya want for nothing?", 28);
    hexbuf v1 = hx("b617318655057264e28bc0b6fb378c8ef146be00");
    hexbuf v2 = hx("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
                   "64ec3843");
    for (int i = 0; i < HM_ROUNDS; i++) {
        if (mk_mac(MK_MAC_HMAC_SHA1_160, MK_BYTES(k0b, 20), &hi, 1, out,
                   sizeof out) != MK_OK ||
            memcmp(out, v1.b, 20) != 0)
            j->bad++;
        /* a failing call leaves nothing behind for the next one */
        if (mk_mac(MK_MAC_HMAC_SHA256_256, MK_BYTES_NONE, &what, 1, out,
                   sizeof out) != MK_E_ARG)
            j->bad++;
        if (mk_mac(MK_MAC_HMAC_SHA256_256, MK_BYTES("Jefe", 4), &what, 1,
                   out, sizeof out) != MK_OK ||
            memcmp(out, v2.b, 32) != 0)
            j->bad++;
        if (mk_prf(MK_PRF_HMAC_SHA256, MK_BYTES(k0b, 20), what, out, 64) !=
                MK_OK ||
            memcmp(out, j->prf_want, 64) != 0)
            j->bad++;
    }
    return NULL;
}

START_TEST(test_hmac_threads)
{
    uint8_t k0b[20], want[64];
    memset(k0b, 0x0b, sizeof k0b);
    ck_assert_int_eq(mk_prf(MK_PRF_HMAC_SHA256, MK_BYTES(k0b, 20),
                            MK_BYTES("what do ya want for nothing?", 28),
                            want, sizeof want),
                     MK_OK);
    pthread_t th[HM_THREADS];
    hm_job jobs[HM_THREADS];
    for (int i = 0; i < HM_THREADS; i++) {
        jobs[i] = (hm_job){want, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, hm_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < HM_THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(jobs[i].bad, 0);
    }
}
END_TEST

START_TEST(test_random)
{
    uint8_t a[32] = {0}, b[32] = {0};
    static const uint8_t zero[32];
    ck_assert_int_eq(mk_random(a, sizeof a), MK_OK);
    ck_assert_int_eq(mk_random(b, sizeof b), MK_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert(memcmp(a, zero, sizeof a) != 0);
    ck_assert_int_eq(mk_random(NULL, 0), MK_OK);
    ck_assert_int_eq(mk_random(NULL, 1), MK_E_ARG);
}
END_TEST

START_TEST(test_key)
{
    mk_key k;
    uint8_t src[MK_KEY_MAX + 1];
    memset(src, 0xab, sizeof src);
    memset(&k, 0x11, sizeof k);
    ck_assert_int_eq(mk_key_copy(&k, MK_BYTES(src, MK_KEY_MAX)), MK_OK);
    ck_assert_uint_eq(k.n, MK_KEY_MAX);
    mk_bytes v = mk_key_bytes(&k);
    ck_assert_ptr_eq(v.p, k.b);
    ck_assert_uint_eq(v.n, MK_KEY_MAX);
    ck_assert_int_eq(mk_key_copy(&k, MK_BYTES(src, MK_KEY_MAX + 1)),
                     MK_E_LIMIT);
    ck_assert_int_eq(mk_key_copy(&k, MK_BYTES(src, 16)), MK_OK);
    /* a shorter key leaves nothing of the longer one behind */
    static const uint8_t zero[MK_KEY_MAX];
    ck_assert_mem_eq(k.b + 16, zero, MK_KEY_MAX - 16);
    mk_key_wipe(&k);
    ck_assert_uint_eq(k.n, 0);
    ck_assert_mem_eq(k.b, zero, MK_KEY_MAX);
    uint8_t s[8];
    memset(s, 0xff, sizeof s);
    mk_wipe(s, sizeof s);
    ck_assert_mem_eq(s, zero, sizeof s);
    mk_wipe(NULL, 4);
}
END_TEST

START_TEST(test_selftest)
{
    ck_assert_int_eq(mk_crypto_selftest(), MK_OK);
    ck_assert_int_eq(mk_crypto_selftest(), MK_OK);
}
END_TEST

int main(void)
{
    const TTest *const mac_tests[] = {test_hmac_published_vectors,
        test_hmac_long_keys, test_mac_arguments, test_mac_verify,
        test_hmac_threads, test_ct_equal, test_sha256, test_random, test_key,
        test_selftest};
    return mk_check_main("crypto_mac", "mac", mac_tests,
                         MK_CHECK_NELEM(mac_tests));
}
