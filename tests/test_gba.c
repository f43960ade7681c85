/* test_gba.c - the GBA pieces without I/O: the Ks_NAF key derivation (TS
 * 33.220 Annex B), B-TID and NAF_Id, the IMPUs of a USS, HTTP Digest
 * (RFC 7616 / 2617) and its nonces, the kmsd <-> kms-znd messages.
 *
 * Where the expected values come from:
 * - KDF: computed outside this code base, twice: with Python's hmac and
 *   hashlib (S built by hand from the 33.220 B.2 layout), e.g.
 *     python3 -c 'import hmac,hashlib; S=bytes([1])+b"gba-me"+b"\0\6"+
 *       bytes(range(0xa0,0xb0))+b"\0\x10"+b"alice@ims.example.org"+
 *       b"\0\x15"+b"kms.example.org\1\0\0\0\6"+b"\0\x14";
 *       print(hmac.new(bytes(range(32)),S,hashlib.sha256).hexdigest())'
 *   and with `openssl dgst -sha256 -mac HMAC -macopt hexkey:...` over the
 *   same S written with printf | xxd -r -p. Both gave the values below.
 * - Digest: RFC 7616 §3.9.1 (MD5 and SHA-256) and RFC 2617 §3.5 (MD5) as
 *   published; auth-int (no published vector) with Python's hashlib over
 *   A1, A2 = method:uri:H(body), KD as RFC 7616 §3.4.1 writes them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "gba/digest.h"
#include "gba/gba.h"
#include "gba/zn_wire.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"
#include "util/base64.h"

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static const uint8_t ua_id[5] = {0x01, 0x00, 0x00, 0x00, 0x06};

/* ------------------------------------------------------------------ */

START_TEST(test_ks_naf_vectors)
{
    uint8_t ks[32], rand[16], out[32], naf[300], hex[32];
    char h[65];
    size_t naf_n;
    for (int i = 0; i < 32; i++)
        ks[i] = (uint8_t)i;
    for (int i = 0; i < 16; i++)
        rand[i] = (uint8_t)(0xa0 + i);
    ck_assert_int_eq(mk_gba_naf_id("kms.example.org", ua_id, naf, sizeof naf,
                                   &naf_n),
                     MK_OK);
    ck_assert_uint_eq(naf_n, 20);
    ck_assert_int_eq(mk_gba_ks_naf(MK_BYTES(ks, 32), MK_BYTES(rand, 16),
                                   MK_BYTES("alice@ims.example.org", 21),
                                   MK_BYTES(naf, naf_n), out),
                     MK_OK);
    hex_of(out, 32, h);
    ck_assert_str_eq(h, "3c33baa8606f342d59f214a5a82f99558aba915723557b6b3f076f3a01087a55");

    /* a second, unrelated Ks / RAND and a long IMPI */
    ck_assert_uint_eq(mk_test_hex("5d8e1f0a9b37c64402d1e8a7f36b20c95ea14f7c03b8d62e91a5c074fd3862b1",
                                  ks, sizeof ks), 32);
    ck_assert_uint_eq(mk_test_hex("3f0c9a11d28e4b7765a0c1f2e3d4b5a6", rand,
                                  sizeof rand), 16);
    ck_assert_int_eq(mk_gba_naf_id("kms.operator.example", ua_id, naf,
                                   sizeof naf, &naf_n),
                     MK_OK);
    static const char impi[] =
        "310150123456789@ims.mnc150.mcc310.3gppnetwork.org";
    ck_assert_int_eq(mk_gba_ks_naf(MK_BYTES(ks, 32), MK_BYTES(rand, 16),
                                   MK_BYTES(impi, sizeof impi - 1),
                                   MK_BYTES(naf, naf_n), out),
                     MK_OK);
    hex_of(out, 32, h);
    ck_assert_str_eq(h, "b177728e6df2c682144afef38dc9549e18d42e501d25a3bd5b7a9b165ce98b12");

    /* the generic KDF: another FC, one empty parameter (L0 = 00 00) */
    memset(hex, 'k', 32);
    const mk_bytes p0 = MK_BYTES("", 0);
    ck_assert_int_eq(mk_gba_kdf(MK_BYTES(hex, 32), 0x7f, &p0, 1, out), MK_OK);
    hex_of(out, 32, h);
    ck_assert_str_eq(h, "f52084d2ae879dab458d0fb136bd1d538cb3d75dfa0547d830e34c4804cc33ed");

    /* Ks must be 32 bytes; a parameter cannot exceed its 2-byte length */
    ck_assert_int_eq(mk_gba_ks_naf(MK_BYTES(ks, 16), MK_BYTES(rand, 16),
                                   MK_BYTES(impi, 3), MK_BYTES(naf, naf_n),
                                   out),
                     MK_E_ARG);
    static uint8_t big[70000];
    const mk_bytes pb = MK_BYTES(big, sizeof big);
    ck_assert_int_eq(mk_gba_kdf(MK_BYTES(ks, 32), 1, &pb, 1, out), MK_E_ARG);
    ck_assert_int_eq(mk_gba_kdf(MK_BYTES(ks, 32), 1, &p0, 0, out), MK_E_ARG);
}
END_TEST

START_TEST(test_hashes)
{
    uint8_t out[32];
    char h[65];
    const mk_bytes abc = MK_BYTES("abc", 3);
    ck_assert_int_eq(mk_hash(MK_HASH_MD5, &abc, 1, out, sizeof out), MK_OK);
    hex_of(out, 16, h);
    ck_assert_str_eq(h, "900150983cd24fb0d6963f7d28e17f72"); /* RFC 1321 A.5 */
    ck_assert_int_eq(mk_hash(MK_HASH_SHA256, &abc, 1, out, sizeof out), MK_OK);
    hex_of(out, 32, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(mk_hash(MK_HASH_SHA256, &abc, 1, out, 16), MK_E_NOSPACE);
    ck_assert_int_eq(mk_hash((mk_hash_alg)9, &abc, 1, out, 32), MK_E_VALUE);
}
END_TEST

START_TEST(test_btid)
{
    uint8_t rand[16];
    mk_bytes dom;
    static const char ok[] = "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org";
    ck_assert(mk_gba_btid_parse(MK_BYTES(ok, sizeof ok - 1), rand, &dom));
    ck_assert_uint_eq(rand[0], 0xa0);
    ck_assert_uint_eq(rand[15], 0xa0);
    ck_assert_uint_eq(dom.n, 15);
    ck_assert(memcmp(dom.p, "bsf.example.org", 15) == 0);
    static const char *const bad[] = {
        "alice",
        "oKCgoKCgoKCgoKCgoKCgoA==@",                 /* no domain */
        "oKCgoKCgoKCgoKCgoKCgoA==bsf.example.org",   /* no '@' */
        "oKCgoKCgoKCgoKCgoKCgoA=@bsf.example.org",   /* 23 characters */
        "oKCgoKCgoKCgoKCgoKCgoKC=@bsf.example.org",  /* 17 bytes, bad bits */
        "oKCgoKCgoKCgoKCgoK gooA==@bsf.example.org", /* a blank */
        "oKCgoKCgoKCgoKCgoKCgoA==@bsf..example.org", /* empty label */
        "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org-",
        "oKCgoKCgoKCgoKCgoKCgoA==@bsf_example.org",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!mk_gba_btid_parse(MK_BYTES(bad[i], strlen(bad[i])),
                                         rand, NULL),
                      "%s", bad[i]);
    /* bounded: 129 bytes is no B-TID, whatever it holds */
    char longer[140];
    memcpy(longer, ok, 25);
    memset(longer + 25, 'a', 104);
    ck_assert(!mk_gba_btid_parse(MK_BYTES(longer, 129), rand, NULL));
    ck_assert(mk_gba_fqdn_ok("kms.example.org", 15));
    ck_assert(!mk_gba_fqdn_ok("-kms.example.org", 16));
    ck_assert(!mk_gba_fqdn_ok("", 0));
    uint8_t naf[8];
    size_t n;
    ck_assert_int_eq(mk_gba_naf_id("kms.example.org", ua_id, naf, sizeof naf,
                                   &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_gba_naf_id("kms example", ua_id, naf, sizeof naf, &n),
                     MK_E_ARG);
}
END_TEST

START_TEST(test_uss)
{
    static mk_gba_info g, back;
    char doc[MK_GBA_USS_MAX];
    size_t n;
    memset(&g, 0, sizeof g);
    strcpy(g.impu[0], "sip:alice@example.org");
    strcpy(g.impu[1], "tel:+15551234567;x=<&>\"'");
    g.n_impu = 2;
    ck_assert_int_eq(mk_gba_uss_write(&g, doc, sizeof doc, &n), MK_OK);
    ck_assert_ptr_nonnull(strstr(doc, "<uid>sip:alice@example.org</uid>"));
    ck_assert_ptr_nonnull(strstr(doc, "x=&lt;&amp;&gt;&quot;&apos;</uid>"));
    ck_assert_int_eq(mk_gba_uss_impus(MK_BYTES(doc, n), &back), MK_OK);
    ck_assert_uint_eq(back.n_impu, 2);
    ck_assert_str_eq(back.impu[0], g.impu[0]);
    ck_assert_str_eq(back.impu[1], g.impu[1]);

    static const char *const bad[] = {
        "<uid>sip:a@b</uid><uid>sip:c", /* not closed */
        "<uid></uid>",                  /* empty */
        "<uid>sip:&nbsp;</uid>",        /* unknown entity */
        "<uid>sip:<b/></uid>",          /* markup */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(mk_gba_uss_impus(MK_BYTES(bad[i], strlen(bad[i])),
                                          &back),
                         MK_E_VALUE);
    char nine[512] = "";
    for (int i = 0; i < 9; i++)
        strcat(nine, "<uid>sip:x@y</uid>");
    ck_assert_int_eq(mk_gba_uss_impus(MK_BYTES(nine, strlen(nine)), &back),
                     MK_E_LIMIT);
    ck_assert_int_eq(mk_gba_uss_impus(MK_BYTES("<uss/>", 6), &back), MK_OK);
    ck_assert_uint_eq(back.n_impu, 0);
    char too_long[400] = "<uid>sip:";
    memset(too_long + 9, 'a', 300);
    strcpy(too_long + 309, "</uid>");
    ck_assert_int_eq(mk_gba_uss_impus(MK_BYTES(too_long, strlen(too_long)),
                                      &back),
                     MK_E_VALUE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Digest                                                              */

START_TEST(test_digest_rfc_vectors)
{
    char out[MK_DIGEST_HEX_MAX];
    static const char pw7616[] = "Circle of Life";
    mk_digest_input in = {
        .alg = MK_HASH_MD5,
        .username = "Mufasa",
        .realm = "http-auth@example.org",
        .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        .method = "GET",
        .uri = "/dir/index.html",
        .password = MK_BYTES(pw7616, sizeof pw7616 - 1),
        .qop = MK_DIGEST_QOP_AUTH,
        .nc = 1,
    };
    ck_assert_int_eq(mk_digest_response(&in, out), MK_OK);
    ck_assert_str_eq(out, "8ca523f5e9506fed4657c9700eebdbec");
    in.alg = MK_HASH_SHA256;
    ck_assert_int_eq(mk_digest_response(&in, out), MK_OK);
    ck_assert_str_eq(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

    /* RFC 2617 §3.5 */
    static const char pw2617[] = "Circle Of Life";
    mk_digest_input old = {
        .alg = MK_HASH_MD5,
        .username = "Mufasa",
        .realm = "testrealm@host.com",
        .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        .cnonce = "0a4f113b",
        .method = "GET",
        .uri = "/dir/index.html",
        .password = MK_BYTES(pw2617, sizeof pw2617 - 1),
        .qop = MK_DIGEST_QOP_AUTH,
        .nc = 1,
    };
    ck_assert_int_eq(mk_digest_response(&old, out), MK_OK);
    ck_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");

    /* auth-int: H(body) enters A2 (hashlib, see the top of this file) */
    mk_digest_input ai = {
        .alg = MK_HASH_MD5,
        .username = "AAECAwQFBgcICQoLDA0ODw==@bsf.example.org",
        .realm = "3GPP-bootstrapping@kms.example.org",
        .nonce = "NONCE",
        .cnonce = "CNONCE",
        .method = "POST",
        .uri = "/keymanagement?requesttype=ticketrequest",
        .password = MK_BYTES("PASSWORD", 8),
        .qop = MK_DIGEST_QOP_AUTH_INT,
        .nc = 2,
        .body = MK_BYTES("AQIDBA==", 8),
    };
    ck_assert_int_eq(mk_digest_response(&ai, out), MK_OK);
    ck_assert_str_eq(out, "bbab08114a70b5e1f71091008dfd2d0c");
    ai.alg = MK_HASH_SHA256;
    ck_assert_int_eq(mk_digest_response(&ai, out), MK_OK);
    ck_assert_str_eq(out, "7f38f05b44d7f74b1d2f3af5e7d431ea5b9d21795aa3bfbe823a12e2a6fc097a");
    /* another body, another response */
    ai.body = MK_BYTES("AQIDBQ==", 8);
    ck_assert_int_eq(mk_digest_response(&ai, out), MK_OK);
    ck_assert_str_ne(out, "7f38f05b44d7f74b1d2f3af5e7d431ea5b9d21795aa3bfbe823a12e2a6fc097a");
}
END_TEST

START_TEST(test_digest_parse)
{
    static mk_digest_creds c;
    static mk_digest_challenge ch;
    /* RFC 7616 §3.9.1, as a client sends it (quoted and unquoted values,
     * names in any case, blanks around '=' and ',') */
    ck_assert_int_eq(mk_digest_parse_credentials(
                         "Digest username=\"Mufasa\", realm=\"http-auth@example.org\",\r"
                         "uri=\"/dir/index.html\", ALGORITHM=SHA-256 , "
                         "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                         "nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
                         "qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
                         "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", x-unknown=\"a\\\"b\"",
                         &c),
                     MK_E_HTTP_AUTH); /* a CR is no blank */
    ck_assert_int_eq(mk_digest_parse_credentials(
                         "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
                         "uri=\"/dir/index.html\", ALGORITHM=SHA-256 , "
                         "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                         "nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
                         "qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
                         "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", x-unknown=\"a\\\"b\"",
                         &c),
                     MK_OK);
    ck_assert_str_eq(c.username, "Mufasa");
    ck_assert_str_eq(c.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    /* no blanks at all, a quoted qop */
    ck_assert_int_eq(mk_digest_parse_credentials(
                         "digest username=\"Mufasa\",realm=\"http-auth@example.org\","
                         "uri=\"/dir/index.html\",algorithm=SHA-256,"
                         "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
                         "nc=00000001,cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\","
                         "qop=\"auth\",response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\"",
                         &c),
                     MK_OK);
    ck_assert_str_eq(c.username, "Mufasa");
    ck_assert_uint_eq(c.alg, MK_HASH_SHA256);
    ck_assert_uint_eq(c.qop, MK_DIGEST_QOP_AUTH);
    ck_assert_uint_eq(c.nc, 1);
    ck_assert_int_eq(mk_digest_check_response(&c, MK_BYTES("Circle of Life", 14),
                                              "GET", MK_BYTES_NONE),
                     MK_OK);
    ck_assert_int_eq(mk_digest_check_response(&c, MK_BYTES("Circle of life", 14),
                                              "GET", MK_BYTES_NONE),
                     MK_E_HTTP_AUTH);
    ck_assert_int_eq(mk_digest_check_response(&c, MK_BYTES("Circle of Life", 14),
                                              "POST", MK_BYTES_NONE),
                     MK_E_HTTP_AUTH);

    static const char *const bad[] = {
        NULL,
        "",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Digestusername=\"a\"",
        "Digest username=\"a\", username=\"b\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\"",
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\"", /* no response */
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", algorithm=MD5-sess",
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", qop=auth-conf",
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", nc=1",
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", nc=0000000g",
        "Digest username=\"a, realm=\"r\"",
        "Digest username=\"a\" realm=\"r\"",
        "Digest username",
        "Digest =\"a\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(mk_digest_parse_credentials(bad[i], &c) ==
                          MK_E_HTTP_AUTH,
                      "%s", bad[i] ? bad[i] : "(null)");
    /* a field over its bound */
    char big[3000] = "Digest username=\"";
    memset(big + 17, 'a', 2000);
    strcpy(big + 2017, "\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\"");
    ck_assert_int_eq(mk_digest_parse_credentials(big, &c), MK_E_HTTP_AUTH);

    /* challenge */
    ck_assert_int_eq(mk_digest_parse_challenge(
                         "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                         "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                         "opaque=\"FQhe\", stale=TRUE",
                         &ch),
                     MK_OK);
    ck_assert_str_eq(ch.realm, "http-auth@example.org");
    ck_assert_uint_eq(ch.qop, MK_DIGEST_QOP_AUTH | MK_DIGEST_QOP_AUTH_INT);
    ck_assert_uint_eq(ch.alg, MK_HASH_SHA256);
    ck_assert(ch.stale);
    ck_assert_str_eq(ch.opaque, "FQhe");
    ck_assert_int_eq(mk_digest_parse_challenge("Digest realm=\"r\"", &ch),
                     MK_E_HTTP_AUTH);
    ck_assert_int_eq(mk_digest_parse_challenge("Digest realm=\"r\", nonce=\"n\"", &ch),
                     MK_OK);
    ck_assert_uint_eq(ch.alg, MK_HASH_MD5);
    ck_assert_uint_eq(ch.qop, 0);
    ck_assert(!ch.stale);
}
END_TEST

START_TEST(test_digest_roundtrip_and_checks)
{
    static mk_digest_challenge ch, ch2;
    static mk_digest_creds c, c2;
    char hdr[MK_DIGEST_HEADER_MAX];
    static const char btid[] = "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org";
    memset(&ch, 0, sizeof ch);
    ck_assert_int_eq(mk_digest_realm("kms.example.org", ch.realm,
                                     sizeof ch.realm),
                     MK_OK);
    ck_assert_str_eq(ch.realm, "3GPP-bootstrapping@kms.example.org");
    strcpy(ch.nonce, "bm9uY2U=");
    ch.alg = MK_HASH_SHA256;
    ch.qop = MK_DIGEST_QOP_AUTH | MK_DIGEST_QOP_AUTH_INT;
    ch.stale = true;
    ck_assert_int_eq(mk_digest_format_challenge(&ch, hdr, sizeof hdr), MK_OK);
    ck_assert_str_eq(hdr, "Digest realm=\"3GPP-bootstrapping@kms.example.org\", "
                          "nonce=\"bm9uY2U=\", qop=\"auth-int,auth\", "
                          "algorithm=SHA-256, stale=true");
    ck_assert_int_eq(mk_digest_parse_challenge(hdr, &ch2), MK_OK);
    ck_assert_str_eq(ch2.nonce, ch.nonce);
    ck_assert(ch2.stale);
    ck_assert_int_eq(mk_digest_format_challenge(&ch, hdr, 40), MK_E_NOSPACE);

    memset(&c, 0, sizeof c);
    strcpy(c.username, btid);
    strcpy(c.realm, ch.realm);
    strcpy(c.nonce, ch.nonce);
    strcpy(c.uri, "/keymanagement?requesttype=ticketrequest");
    strcpy(c.cnonce, "abc");
    c.alg = MK_HASH_SHA256;
    c.qop = MK_DIGEST_QOP_AUTH_INT;
    c.nc = 0x1f;
    mk_digest_input in = {
        .alg = c.alg, .username = c.username, .realm = c.realm,
        .nonce = c.nonce, .cnonce = c.cnonce, .method = "POST",
        .uri = c.uri, .password = MK_BYTES("pw", 2), .qop = c.qop,
        .nc = c.nc, .body = MK_BYTES("AQID", 4),
    };
    ck_assert_int_eq(mk_digest_response(&in, c.response), MK_OK);
    ck_assert_int_eq(mk_digest_format_credentials(&c, hdr, sizeof hdr), MK_OK);
    ck_assert_ptr_nonnull(strstr(hdr, "qop=auth-int, nc=0000001f, cnonce=\"abc\""));
    ck_assert_int_eq(mk_digest_parse_credentials(hdr, &c2), MK_OK);
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_SHA256,
                                            "/keymanagement?requesttype=ticketrequest"),
                     MK_OK);
    ck_assert_int_eq(mk_digest_check_response(&c2, MK_BYTES("pw", 2), "POST",
                                              MK_BYTES("AQID", 4)),
                     MK_OK);
    /* auth-int: the body is covered */
    ck_assert_int_eq(mk_digest_check_response(&c2, MK_BYTES("pw", 2), "POST",
                                              MK_BYTES("AQIE", 4)),
                     MK_E_HTTP_AUTH);
    /* fields: realm, algorithm, uri, qop, the username a B-TID */
    ck_assert_int_eq(mk_digest_check_fields(&c2, "3GPP-bootstrapping@other", MK_HASH_SHA256,
                                            c2.uri),
                     MK_E_HTTP_AUTH);
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_MD5, c2.uri),
                     MK_E_HTTP_AUTH);
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_SHA256,
                                            "/keymanagement?requesttype=ticketresolve"),
                     MK_E_HTTP_AUTH);
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_SHA256, NULL),
                     MK_E_HTTP_AUTH);
    c2.qop = 0;
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_SHA256, c2.uri),
                     MK_E_HTTP_AUTH);
    c2.qop = MK_DIGEST_QOP_AUTH;
    strcpy(c2.username, "alice");
    ck_assert_int_eq(mk_digest_check_fields(&c2, ch.realm, MK_HASH_SHA256, c2.uri),
                     MK_E_HTTP_AUTH);
    /* nothing we write can be broken out of its quotes */
    strcpy(c.uri, "/a\"b");
    ck_assert_int_eq(mk_digest_format_credentials(&c, hdr, sizeof hdr), MK_E_ARG);
}
END_TEST

START_TEST(test_digest_nonce)
{
    uint8_t key[32], rnd[16], id[MK_DIGEST_NONCE_ID], other[32];
    char n[80];
    uint64_t exp = 0;
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    memset(rnd, 0x5a, sizeof rnd);
    ck_assert_int_eq(mk_digest_nonce_make(MK_BYTES(key, 32), 1000, rnd, n,
                                          sizeof n),
                     MK_OK);
    ck_assert_uint_eq(strlen(n), 56);
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(key, 32), n, 999, id, &exp),
                     MK_DIGEST_NONCE_FRESH);
    ck_assert_uint_eq(exp, 1000);
    ck_assert_uint_eq(id[7], 1000 & 0xff);
    ck_assert_uint_eq(id[8], 0x5a);
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(key, 32), n, 1000, id, &exp),
                     MK_DIGEST_NONCE_STALE);
    /* another key's, one character changed, cut, padded with a blank */
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(other, 32), n, 1, id, &exp),
                     MK_DIGEST_NONCE_BAD);
    n[10] = n[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(key, 32), n, 1, id, &exp),
                     MK_DIGEST_NONCE_BAD);
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(key, 32), "abc", 1, id, &exp),
                     MK_DIGEST_NONCE_BAD);
    ck_assert_int_eq(mk_digest_nonce_check(MK_BYTES(key, 32), NULL, 1, id, &exp),
                     MK_DIGEST_NONCE_BAD);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the Zn daemon's messages                                            */

START_TEST(test_zn_wire)
{
    static mk_zn_request rq, rq2;
    static mk_zn_answer a, a2;
    uint8_t buf[MK_ZN_FRAME_MAX];
    size_t n, body;
    memset(&rq, 0, sizeof rq);
    rq.op = MK_ZN_OP_LOOKUP;
    memcpy(rq.btid, "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org", 40);
    rq.btid_len = 40;
    ck_assert_int_eq(mk_gba_naf_id("kms.example.org", ua_id, rq.naf_id,
                                   sizeof rq.naf_id, &rq.naf_id_len),
                     MK_OK);
    ck_assert_int_eq(mk_zn_request_encode(&rq, buf, sizeof buf, &n), MK_OK);
    ck_assert_int_eq(mk_zn_frame_len(buf, &body), MK_OK);
    ck_assert_uint_eq(body + 4, n);
    mk_guarded g;
    mk_guarded_init(&g, buf + 4, body);
    ck_assert_int_eq(mk_zn_request_decode(MK_BYTES(g.data, g.n), &rq2), MK_OK);
    mk_guarded_free(&g);
    ck_assert_uint_eq(rq2.op, MK_ZN_OP_LOOKUP);
    ck_assert_uint_eq(rq2.btid_len, 40);
    ck_assert_uint_eq(rq2.naf_id_len, 20);
    ck_assert(memcmp(rq2.naf_id + 15, ua_id, 5) == 0);
    /* every truncation fails, none reads past the end */
    for (size_t k = 0; k < body; k++) {
        mk_guarded_init(&g, buf + 4, k);
        ck_assert_int_ne(mk_zn_request_decode(MK_BYTES(g.data, g.n), &rq2), MK_OK);
        mk_guarded_free(&g);
    }

    /* the status question: version and operation, nothing else */
    rq.op = MK_ZN_OP_STATUS;
    ck_assert_int_eq(mk_zn_request_encode(&rq, buf, sizeof buf, &n), MK_OK);
    ck_assert_uint_eq(n, 4 + 2);
    ck_assert_uint_eq(buf[4], MK_ZN_VERSION);
    ck_assert_uint_eq(buf[5], MK_ZN_OP_STATUS);
    ck_assert_int_eq(mk_zn_request_decode(MK_BYTES(buf + 4, 2), &rq2), MK_OK);
    ck_assert_uint_eq(rq2.op, MK_ZN_OP_STATUS);
    ck_assert_uint_eq(rq2.btid_len, 0);
    buf[6] = 0;
    ck_assert_int_eq(mk_zn_request_decode(MK_BYTES(buf + 4, 3), &rq2),
                     MK_E_TRAILING);
    rq.op = 3;
    ck_assert_int_eq(mk_zn_request_encode(&rq, buf, sizeof buf, &n), MK_E_ARG);
    buf[4] = MK_ZN_VERSION;
    buf[5] = 3;
    ck_assert_int_eq(mk_zn_request_decode(MK_BYTES(buf + 4, 2), &rq2),
                     MK_E_VALUE);

    memset(&a, 0, sizeof a);
    a.op = MK_ZN_OP_LOOKUP;
    a.status = MK_ZN_OK;
    a.result_code = 2001;
    strcpy(a.info.impi, "alice@ims.example.org");
    a.info.ks_naf.n = 32;
    memset(a.info.ks_naf.b, 0xcc, 32);
    a.info.expires_unix = 2000000000;
    a.info.created_unix = 1700000000;
    strcpy(a.info.impu[0], "sip:alice@example.org");
    strcpy(a.info.impu[1], "tel:+1555");
    a.info.n_impu = 2;
    ck_assert_int_eq(mk_zn_answer_encode(&a, buf, sizeof buf, &n), MK_OK);
    ck_assert_int_eq(mk_zn_frame_len(buf, &body), MK_OK);
    mk_guarded_init(&g, buf + 4, body);
    ck_assert_int_eq(mk_zn_answer_decode(MK_BYTES(g.data, g.n), MK_ZN_OP_LOOKUP, &a2), MK_OK);
    mk_guarded_free(&g);
    ck_assert_int_eq(a2.status, MK_ZN_OK);
    ck_assert_uint_eq(a2.result_code, 2001);
    ck_assert_str_eq(a2.info.impi, "alice@ims.example.org");
    ck_assert(memcmp(a2.info.ks_naf.b, a.info.ks_naf.b, 32) == 0);
    ck_assert_uint_eq(a2.info.expires_unix, 2000000000);
    ck_assert_uint_eq(a2.info.n_impu, 2);
    ck_assert_str_eq(a2.info.impu[1], "tel:+1555");
    for (size_t k = 0; k < body; k++) {
        mk_guarded_init(&g, buf + 4, k);
        ck_assert_int_ne(mk_zn_answer_decode(MK_BYTES(g.data, g.n), MK_ZN_OP_LOOKUP, &a2), MK_OK);
        /* a refused answer leaves no key behind */
        ck_assert_uint_eq(a2.info.ks_naf.n, 0);
        mk_guarded_free(&g);
    }
    /* trailing byte */
    buf[4 + body] = 0;
    ck_assert_int_eq(mk_zn_answer_decode(MK_BYTES(buf + 4, body + 1), MK_ZN_OP_LOOKUP,
                                         &a2),
                     MK_E_TRAILING);

    /* a refusal carries its verdict only */
    memset(&a, 0, sizeof a);
    a.op = MK_ZN_OP_LOOKUP;
    a.status = MK_ZN_FORBIDDEN;
    a.result_code = 5402;
    ck_assert_int_eq(mk_zn_answer_encode(&a, buf, sizeof buf, &n), MK_OK);
    ck_assert_uint_eq(n, 4 + 6);
    ck_assert_int_eq(mk_zn_answer_decode(MK_BYTES(buf + 4, n - 4), MK_ZN_OP_LOOKUP,
                                         &a2), MK_OK);
    ck_assert_int_eq(a2.status, MK_ZN_FORBIDDEN);
    ck_assert_uint_eq(a2.result_code, 5402);

    /* the answer to a status question: "connected" carries no info, and
     * a lookup's OK answer without it is refused */
    memset(&a, 0, sizeof a);
    a.op = MK_ZN_OP_STATUS;
    a.status = MK_ZN_OK;
    ck_assert_int_eq(mk_zn_answer_encode(&a, buf, sizeof buf, &n), MK_OK);
    ck_assert_uint_eq(n, 4 + 6);
    ck_assert_int_eq(mk_zn_answer_decode(MK_BYTES(buf + 4, n - 4),
                                         MK_ZN_OP_STATUS, &a2),
                     MK_OK);
    ck_assert_int_eq(a2.status, MK_ZN_OK);
    ck_assert_uint_eq(a2.op, MK_ZN_OP_STATUS);
    ck_assert_int_eq(mk_zn_answer_decode(MK_BYTES(buf + 4, n - 4),
                                         MK_ZN_OP_LOOKUP, &a2),
                     MK_E_TRUNCATED);
    a.op = 0;
    ck_assert_int_eq(mk_zn_answer_encode(&a, buf, sizeof buf, &n), MK_E_ARG);

    /* the verdicts as the KMS answers them */
    ck_assert_int_eq(mk_err_http_status(mk_zn_status_err(MK_ZN_UNKNOWN)), 401);
    ck_assert_int_eq(mk_err_http_status(mk_zn_status_err(MK_ZN_FORBIDDEN)), 403);
    ck_assert_int_eq(mk_err_http_status(mk_zn_status_err(MK_ZN_TIMEOUT)), 504);
    ck_assert_int_eq(mk_err_http_status(mk_zn_status_err(MK_ZN_UNAVAILABLE)), 503);
    ck_assert_int_eq(mk_zn_status_err(MK_ZN_OK), MK_OK);

    static const uint8_t zero[4] = {0}, huge[4] = {0, 0, 0x20, 0};
    ck_assert_int_eq(mk_zn_frame_len(zero, &body), MK_E_LENGTH);
    ck_assert_int_eq(mk_zn_frame_len(huge, &body), MK_E_LENGTH);
    buf[0] = 9;
    ck_assert_int_eq(mk_zn_request_decode(MK_BYTES(buf, 10), &rq2), MK_E_VALUE);
}
END_TEST

START_TEST(test_gba_subscriber)
{
    static mk_gba_info g;
    static mk_subscriber s;
    mk_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.forking_allowed = true;
    memset(&g, 0, sizeof g);
    g.ks_naf.n = 32;
    memset(g.ks_naf.b, 0x11, 32);
    strcpy(g.impu[0], "sip:alice@example.org");
    g.n_impu = 1;
    static const char btid[] = "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org";
    ck_assert_int_eq(mk_gba_subscriber(MK_BYTES(btid, 40), &g, &pol, &s), MK_OK);
    ck_assert_uint_eq(s.psk_id_len, 40);
    ck_assert_uint_eq(s.psk.n, 32);
    ck_assert_uint_eq(s.psk.b[31], 0x11);
    ck_assert(s.active);
    ck_assert(s.policy.forking_allowed);
    ck_assert_uint_eq(s.n_impu, 1);
    g.ks_naf.n = 16;
    ck_assert_int_eq(mk_gba_subscriber(MK_BYTES(btid, 40), &g, &pol, &s), MK_E_ARG);
    mk_gba_info_wipe(&g);
    ck_assert_uint_eq(g.ks_naf.b[0], 0);
}
END_TEST

int main(void)
{
    const TTest *const gba_tests[] = {test_ks_naf_vectors, test_hashes,
        test_btid, test_uss, test_digest_rfc_vectors, test_digest_parse,
        test_digest_roundtrip_and_checks, test_digest_nonce, test_zn_wire,
        test_gba_subscriber};
    return mk_check_main("gba", "gba", gba_tests, MK_CHECK_NELEM(gba_tests));
}
