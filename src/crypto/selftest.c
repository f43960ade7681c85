/* selftest.c - known-answer tests run before a server starts serving (in the
 * manner of libsrtp's crypto_kernel self tests). Any mismatch, or any
 * primitive that fails, yields MK_E_SELFTEST with the name of the test.
 *
 * Published vectors: RFC 2202 §3 and RFC 4231 §4.3 (HMAC), FIPS 180-2 App.
 * B.1 ("abc", SHA-256), NIST SP 800-38A F.5.1/F.5.5 (AES-CTR), RFC 3394
 * §4.1 (key wrap). MIKEY PRF, labels and IV: the mikey.md §6.2 regression
 * vectors (no public MIKEY PRF vectors exist).
 */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/crypto_internal.h"
#include "util/hex.h"

#define KAT_MAX 80

typedef struct kat_buf {
    uint8_t b[KAT_MAX];
    size_t n;
} kat_buf;

/* Lower-case hex without separators; the strings are ours (one that does
 * not decode gives an empty buffer, and its test fails). */
static kat_buf unhex(const char *s)
{
    kat_buf k = {{0}, 0};
    if (mk_hex_decode(s, strlen(s), k.b, KAT_MAX, &k.n) != MK_OK)
        k.n = 0;
    return k;
}

static mk_bytes kb(const kat_buf *k) { return MK_BYTES(k->b, k->n); }

static mk_err fail(const char *what)
{
    return mk_err_raise(MK_E_SELFTEST, -1, 0, what);
}

/* got must equal the hex string want; got is wiped afterwards. */
static mk_err expect(mk_err rc, uint8_t *got, size_t n, const char *want,
                     const char *what)
{
    kat_buf w = unhex(want);
    bool ok = rc == MK_OK && w.n == n && memcmp(got, w.b, n) == 0;
    mk_wipe(got, n);
    return ok ? MK_OK : fail(what);
}

static mk_err kat_hmac(void)
{
    uint8_t out[32];
    const mk_bytes data =
        MK_BYTES("what do ya want for nothing?", 28);
    const mk_bytes key = MK_BYTES("Jefe", 4);
    MK_GUARD(expect(mk_mac(MK_MAC_HMAC_SHA1_160, key, &data, 1, out,
                           sizeof out),
                    out, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
                    "HMAC-SHA-1 (RFC 2202 case 2)"));
    MK_GUARD(expect(mk_mac(MK_MAC_HMAC_SHA256_256, key, &data, 1, out,
                           sizeof out),
                    out, 32,
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "HMAC-SHA-256 (RFC 4231 case 2)"));
    kat_buf tag = unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    if (mk_mac_verify(MK_MAC_HMAC_SHA1_160, key, &data, 1, kb(&tag)) != MK_OK)
        return fail("HMAC-SHA-1 verify accepts the right tag");
    tag.b[19] ^= 1;
    if (mk_mac_verify(MK_MAC_HMAC_SHA1_160, key, &data, 1, kb(&tag)) !=
        MK_E_MIKEY_AUTH)
        return fail("HMAC-SHA-1 verify rejects a wrong tag");
    return MK_OK;
}

static mk_err kat_sha256(void)
{
    uint8_t out[32];
    const mk_bytes abc = MK_BYTES("abc", 3);
    return expect(mk_sha256(&abc, 1, out), out, 32,
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                  "SHA-256 (FIPS 180-2 B.1)");
}

static mk_err kat_aes_ctr(void)
{
    uint8_t out[32];
    kat_buf iv = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    kat_buf pt = unhex("6bc1bee22e409f96e93d7e117393172a"
                       "ae2d8a571e03ac9c9eb76fac45af8e51");
    kat_buf k128 = unhex("2b7e151628aed2a6abf7158809cf4f3c");
    kat_buf k256 = unhex("603deb1015ca71be2b73aef0857d7781"
                         "1f352c073b6108d72d9810a30914dff4");
    MK_GUARD(expect(mk_aes_ctr(kb(&k128), iv.b, kb(&pt), out), out, 32,
                    "874d6191b620e3261bef6864990db6ce"
                    "9806f66b7970fdff8617187bb9fffdff",
                    "AES-128-CTR (SP 800-38A F.5.1)"));
    MK_GUARD(expect(mk_aes_ctr(kb(&k256), iv.b, kb(&pt), out), out, 32,
                    "601ec313775789a5b7a7f504bbf3d228"
                    "f443e3ca4d62b59aca84e990cacaf5c5",
                    "AES-256-CTR (SP 800-38A F.5.5)"));
    /* RFC 3830 §4.2.3 IV, mikey.md §6.2 A */
    kat_buf salt = unhex("44f89561458faec57b3c630b5095");
    uint8_t ivm[16];
    mk_aes_cm_iv(salt.b, 0x12345678u, 0xe7d4a5b000000000ull, ivm);
    return expect(MK_OK, ivm, 16, "44f8875513f74911de8c630b50950000",
                  "AES-CM IV (RFC 3830 4.2.3)");
}

static mk_err kat_keywrap(void)
{
    uint8_t out[24];
    uint8_t back[16];
    size_t n = 0;
    kat_buf kek = unhex("000102030405060708090a0b0c0d0e0f");
    kat_buf data = unhex("00112233445566778899aabbccddeeff");
    kat_buf wrapped = unhex("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    /* n is set by the call: evaluate it before passing n on */
    mk_err rc = mk_aes_kw_wrap(kb(&kek), NULL, kb(&data), out, sizeof out, &n);
    MK_GUARD(expect(rc, out, n,
                    "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
                    "AES key wrap (RFC 3394 4.1)"));
    rc = mk_aes_kw_unwrap(kb(&kek), NULL, kb(&wrapped), back, sizeof back, &n);
    MK_GUARD(expect(rc, back, n, "00112233445566778899aabbccddeeff",
                    "AES key unwrap (RFC 3394 4.1)"));
    wrapped.b[0] ^= 0x80;
    if (mk_aes_kw_unwrap(kb(&kek), NULL, kb(&wrapped), back, sizeof back,
                         &n) != MK_E_UNWRAP)
        return fail("AES key unwrap detects a corrupted block");
    return MK_OK;
}

static mk_err kat_prf(void)
{
    uint8_t out[32];
    mk_label l;
    kat_buf rand = unhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    kat_buf psk = unhex("000102030405060708090a0b0c0d0e0f");
    kat_buf key32 = unhex("000102030405060708090a0b0c0d0e0f"
                          "101112131415161718191a1b1c1d1e1f");
    kat_buf key40 = unhex("000102030405060708090a0b0c0d0e0f"
                          "101112131415161718191a1b1c1d1e1f"
                          "2021222324252627");

    MK_GUARD(mk_label_3830_psk(&l, MK_C_ENCR_KEY, 0x12345678u, kb(&rand)));
    MK_GUARD(expect(MK_OK, l.b, l.n,
                    "150533e1ff12345678a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
                    "RFC 3830 4.1.4 label"));
    MK_GUARD(mk_label_3830_psk(&l, MK_C_ENCR_KEY, 0x12345678u, kb(&rand)));
    MK_GUARD(expect(mk_prf(MK_PRF_MIKEY_1, kb(&psk), MK_BYTES(l.b, l.n), out,
                           16),
                    out, 16, "728ffc4e7bea1d0d8106d39a7403f137",
                    "MIKEY-1 PRF, 128-bit inkey"));

    MK_GUARD(mk_label_3830_tgk(&l, MK_C_TEK, 1, 0x12345678u, kb(&rand)));
    MK_GUARD(expect(mk_prf(MK_PRF_MIKEY_1, kb(&key32), MK_BYTES(l.b, l.n),
                           out, 16),
                    out, 16, "7e5a6762973f433719e65bc508c7726a",
                    "MIKEY-1 PRF, 256-bit inkey (one full chunk)"));
    MK_GUARD(expect(mk_prf(MK_PRF_MIKEY_1, kb(&key40), MK_BYTES(l.b, l.n),
                           out, 16),
                    out, 16, "2a266c6b08a2414f2923b9ca4d62f116",
                    "MIKEY-1 PRF, 320-bit inkey (two chunks)"));

    kat_buf randri = unhex("01010101010101010101010101010101");
    MK_GUARD(mk_label_6043_msg(&l, MK_C_AUTH_KEY, 0x0000abcdu,
                               MK_LABEL_KIND_INITIAL, kb(&randri),
                               MK_BYTES_NONE));
    MK_GUARD(expect(mk_prf(MK_PRF_HMAC_SHA256, kb(&key32),
                           MK_BYTES(l.b, l.n), out, 32),
                    out, 32,
                    "ebee4e6210d19671b3701044ca12a94a9c787bca33ef4882e1f9cb42a4b2dc71",
                    "PRF-HMAC-SHA-256 (RFC 6043 6.1)"));

    kat_buf rk = unhex("04040404040404040404040404040404");
    MK_GUARD(mk_label_6043_fork(&l, MK_C_FORK_TGK,
                                MK_BYTES("sip:bob@example.com", 19), kb(&rk)));
    return expect(MK_OK, l.b, l.n,
                  "1512b54affffffffff000013"
                  "7369703a626f62406578616d706c652e636f6d"
                  "1004040404040404040404040404040404",
                  "RFC 6043 5.1.1 forking label");
}

static mk_err kat_random(void)
{
    uint8_t a[16] = {0}, b[16] = {0};
    if (mk_random(a, sizeof a) != MK_OK || mk_random(b, sizeof b) != MK_OK)
        return fail("RAND_bytes");
    /* Two 128-bit draws that are equal mean a stuck generator. */
    bool same = memcmp(a, b, sizeof a) == 0;
    mk_wipe(a, sizeof a);
    mk_wipe(b, sizeof b);
    return same ? fail("RAND_bytes repeats itself") : MK_OK;
}

mk_err mk_crypto_selftest(void)
{
    static const struct {
        mk_err (*run)(void);
        const char *name;
    } kats[] = {
        {kat_sha256, "SHA-256 self test"},
        {kat_hmac, "HMAC self test"},
        {kat_aes_ctr, "AES-CTR self test"},
        {kat_keywrap, "AES key wrap self test"},
        {kat_prf, "MIKEY PRF self test"},
        {kat_random, "RAND_bytes self test"},
    };
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        mk_err rc = kats[i].run();
        /* A primitive that errors out fails the self test as well. */
        if (rc != MK_OK)
            return rc == MK_E_SELFTEST ? rc : fail(kats[i].name);
    }
    return MK_OK;
}
