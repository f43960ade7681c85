/* test_codec_samples.c - see codec_samples.h. */
#include "codec_samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "util/base64.h"

/* RFC 4567 §5.1, the base64 text as printed in mikey.md §6.1. */
const char cs_rfc4567_i_b64[] =
    "AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxk"
    "QGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9i"
    "emnGUIZ19fWQUOSrzKTAv9zV";
const char cs_rfc4567_r_b64[] =
    "AQEFgM0XflABAAAAAAAAAAAAAAYAyONQ6gAAAAAJAAAQbWlja2V5QG1vdXNlLmNvbQABn8HdGE5B"
    "MDXFIuGEga+62AgY5cc=";
/* mikey.md §6.2 A (self-computed RFC 3830 PSK exchange). */
const char cs_digest_a_i_hex[] =
    "010005801234567801000011223344000000000b00e7d4a5b0000000000610a0a1a2a3a4"
    "a5a6a7a8a9aaabacadaeaf060100157369703a616c696365406578616d706c652e636f6d"
    "0a0100137369703a626f62406578616d706c652e636f6d010000000c0001010101100201"
    "010b010a00010016738f41e122754f316d7234ee748c375560349ff4be8f01ed3ae60fc4"
    "1a6d4f4100341645da2bd7dd4afbcc";
const char cs_digest_a_r_hex[] =
    "010105001234567801000011223344000000000600e7d4a5b000000000090100137369"
    "703a626f62406578616d706c652e636f6d00017f33af764c0062c0f28f8b3479b5366e"
    "21b153cc";

#define MSG_MAX 16
#define PLAIN_MAX 12

static cs_sample msgs[MSG_MAX];
static size_t n_msgs;
static cs_sample plains[PLAIN_MAX];
static size_t n_plains;
static int built;

/* Backing bytes for built messages: everything they point at stays alive. */
static uint8_t fill[512];
static uint8_t scratch[32][CS_MAX];
static size_t n_scratch;

static mk_bytes F(size_t n, uint8_t seed)
{
    /* a distinct run of bytes for each seed; never all zero */
    static uint8_t pool[64][512];
    static size_t used;
    if (used >= 64 || n > sizeof pool[0])
        abort();
    for (size_t i = 0; i < n; i++)
        pool[used][i] = (uint8_t)(seed + 7 * i + 1);
    return MK_BYTES(pool[used++], n);
}

static mk_bytes S(const char *s) { return MK_BYTES(s, strlen(s)); }

static void die(const char *what, mk_err e)
{
    const mk_err_detail *d = mk_err_last();
    fprintf(stderr, "sample %s: %s (%s) payload %d offset %zu\n", what,
            mk_err_name(e), d->what ? d->what : "", d->payload, d->offset);
    abort();
}

static mk_buf new_scratch(void)
{
    mk_buf b;
    if (n_scratch >= 32)
        abort();
    mk_buf_init(&b, scratch[n_scratch++], CS_MAX);
    return b;
}

static void chain_of(mk_chain *c, const mk_payload *pl, size_t n)
{
    mk_chain_init(c);
    for (size_t i = 0; i < n; i++)
        if (mk_chain_add(c, pl[i]) != MK_OK)
            abort();
}

/* TP Data / Initiator Data bytes (first-payload byte + chain). */
static mk_bytes tp_data(const char *what, const mk_payload *pl, size_t n)
{
    static mk_chain c;
    mk_buf b = new_scratch();
    mk_err e;
    chain_of(&c, pl, n);
    if ((e = mk_tp_data_encode(&c, &b)) != MK_OK)
        die(what, e);
    return mk_buf_view(&b);
}

static mk_bytes base_ticket(const char *what, const char *thdr,
                            const mk_payload *pl, size_t n)
{
    static mk_chain c;
    mk_thdr th = {0, S(thdr)};
    mk_buf b = new_scratch();
    mk_err e;
    chain_of(&c, pl, n);
    if ((e = mk_base_ticket_encode(&th, &c, &b)) != MK_OK)
        die(what, e);
    return mk_buf_view(&b);
}

static mk_bytes kemac_plain(const char *what, const mk_payload *pl, size_t n)
{
    static mk_chain c;
    mk_buf b = new_scratch();
    mk_err e;
    chain_of(&c, pl, n);
    if ((e = mk_kemac_plain_encode(&c, &b)) != MK_OK)
        die(what, e);
    return mk_buf_view(&b);
}

static void add_msg(const char *name, const mk_hdr *h, const mk_payload *pl,
                    size_t n)
{
    static mk_message m;
    cs_sample *s = &msgs[n_msgs++];
    mk_buf b;
    mk_err e;
    m.hdr = *h;
    chain_of(&m.chain, pl, n);
    mk_buf_init(&b, s->b, sizeof s->b);
    if ((e = mk_message_encode(&m, &b)) != MK_OK)
        die(name, e);
    s->name = name;
    s->n = b.n;
}

static void add_hex(const char *name, const char *hex)
{
    cs_sample *s = &msgs[n_msgs++];
    s->name = name;
    s->n = mk_test_hex(hex, s->b, sizeof s->b);
}

static void add_b64(const char *name, const char *b64)
{
    cs_sample *s = &msgs[n_msgs++];
    mk_err e;
    s->name = name;
    if ((e = mk_base64_decode(MK_BYTES(b64, strlen(b64)), s->b, sizeof s->b, &s->n)) != MK_OK)
        die(name, e);
}

static void add_plain(const char *name, const mk_payload *pl, size_t n)
{
    cs_sample *s = &plains[n_plains++];
    mk_bytes b = kemac_plain(name, pl, n);
    s->name = name;
    memcpy(s->b, b.p, b.n);
    s->n = b.n;
}

static mk_hdr hdr(uint8_t dt, bool v, uint8_t map_type, uint8_t n_cs,
                  mk_bytes map_info)
{
    mk_hdr h = {.version = MK_VERSION, .data_type = dt, .v = v,
                .prf_func = MK_PRF_MIKEY_1, .csb_id = 0x0000abcd,
                .n_cs = n_cs, .map_type = map_type, .map_info = map_info};
    return h;
}

static void build_6043(void)
{
    const uint64_t t = 0xe7d4a5b000000000ULL;
    mk_payload tpd[8], td[5], ini[2];
    mk_tp tp;

    /* --- REQUEST_INIT_PSK (RFC 6043 §4.2.1.1) --- */
    mk_payload tmpl_keys[2] = {
        mk_pl_keydata(MK_KEY_MPK, MK_BYTES(fill, 16), MK_BYTES_NONE, mk_kv_null()),
        mk_pl_keydata(MK_KEY_TGK, MK_BYTES(fill, 16), MK_BYTES_NONE,
                      mk_kv_spi(MK_BYTES(fill, 1))),
    };
    mk_bytes tmpl = kemac_plain("template", tmpl_keys, 2);
    tpd[0] = mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org"));
    tpd[1] = mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, S("sip:alice@example.com"));
    tpd[2] = mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC, t);
    tpd[3] = mk_pl_tr(MK_TSR_TRE, MK_TS_NTP_UTC, t + (3600ULL << 32));
    tpd[4] = mk_pl_tr(MK_TSR_TRR, MK_TS_NTP_UTC_32, 600);
    tpd[5] = mk_pl_kemac(MK_ENCR_NULL, tmpl, MK_MAC_NULL, MK_BYTES_NONE);
    tpd[6] = mk_pl_idr(MK_ROLE_IDRAPP, MK_IDT_BYTES, F(4, 0x40));
    tpd[7] = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, S("sip:bob@example.com"));
    memset(&tp, 0, sizeof tp);
    tp.ticket_type = MK_TICKET_MIKEY_BASE;
    tp.subtype = 1;
    tp.version = 1;
    tp.prf_func = MK_PRF_MIKEY_1;
    tp.flags = MK_TPF_F | MK_TPF_G | MK_TPF_H | MK_TPF_J | MK_TPF_L |
               MK_TPF_N | MK_TPF_O;
    tp.tp_data = tp_data("request tp", tpd, 8);
    {
        mk_hdr h = hdr(MK_DT_REQUEST_INIT_PSK, true, MK_MAP_EMPTY, 0, MK_BYTES_NONE);
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC, t),
            mk_pl_randr(MK_RANDR_I, F(16, 0x01)),
            mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, S("sip:alice@example.com")),
            mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org")),
            mk_pl_tp(&tp),
            mk_pl_idr(MK_ROLE_IDRPSK, MK_IDT_BYTES, F(4, 0x50)),
            mk_pl_v(MK_MAC_HMAC_SHA1_160, F(20, 0xaa)),
        };
        add_msg("request_init_psk", &h, pl, sizeof pl / sizeof pl[0]);
    }

    /* --- REQUEST_RESP (§4.2.1.5) with a base ticket (App. A) --- */
    td[0] = mk_pl_t(MK_TS_NTP_UTC, t + 1);
    td[1] = mk_pl_rand(F(16, 0x03));
    td[2] = mk_pl_kemac(MK_ENCR_AES_CM_128, F(44, 0x60), MK_MAC_NULL, MK_BYTES_NONE);
    td[3] = mk_pl_idr(MK_ROLE_IDRPSK, MK_IDT_BYTES, S("tpk-1"));
    td[4] = mk_pl_v(MK_MAC_HMAC_SHA256_256, F(32, 0x70));
    tpd[0] = mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org"));
    tpd[1] = mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, S("sip:alice@example.com"));
    tpd[2] = mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC, t);
    tpd[3] = mk_pl_tr(MK_TSR_TRE, MK_TS_NTP_UTC, t + (3600ULL << 32));
    tpd[4] = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, S("sip:bob@example.com"));
    tp.flags |= MK_TPF_D | MK_TPF_K;
    tp.tp_data = tp_data("granted tp", tpd, 5);
    tp.ticket_data = base_ticket("ticket", "mk1", td, 5);
    tp.initiator_data = MK_BYTES_NONE;
    {
        mk_hdr h = hdr(MK_DT_REQUEST_RESP, false, MK_MAP_EMPTY, 0, MK_BYTES_NONE);
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC, t + 2),
            mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org")),
            mk_pl_ticket(&tp),
            mk_pl_kemac(MK_ENCR_AES_CM_128, F(58, 0x80), MK_MAC_NULL, MK_BYTES_NONE),
            mk_pl_v(MK_MAC_HMAC_SHA1_160, F(20, 0x90)),
        };
        add_msg("request_resp", &h, pl, sizeof pl / sizeof pl[0]);
    }

    /* --- TRANSFER_INIT (§4.2.2.1): GENERIC-ID map, SP, forking ticket --- */
    {
        uint8_t mapmem[64];
        mk_buf mb;
        uint8_t pols2[2] = {1, 2};
        mk_generic_id g1 = {1, MK_PROT_SRTP, false, MK_BYTES(pols2, 1),
                            F(4, 0x11), MK_BYTES_NONE};
        mk_generic_id g2 = {2, MK_PROT_SRTP, true, MK_BYTES(pols2, 2),
                            F(10, 0x12), F(4, 0x13)};
        static uint8_t map_keep[64];
        static uint8_t spmem[32];
        mk_buf sb;
        mk_buf_init(&mb, mapmem, sizeof mapmem);
        if (mk_map_put_generic(&mb, &g1) || mk_map_put_generic(&mb, &g2))
            abort();
        memcpy(map_keep, mapmem, mb.n);
        mk_buf_init(&sb, spmem, sizeof spmem);
        uint8_t v0 = 1, v1 = 16, v4 = 14, v11 = 10;
        if (mk_sp_param_put(&sb, 0, MK_BYTES(&v0, 1)) ||
            mk_sp_param_put(&sb, 1, MK_BYTES(&v1, 1)) ||
            mk_sp_param_put(&sb, 4, MK_BYTES(&v4, 1)) ||
            mk_sp_param_put(&sb, 11, MK_BYTES(&v11, 1)))
            abort();
        ini[0] = mk_pl_v(MK_MAC_HMAC_SHA1_160, F(20, 0xa1));
        ini[1] = mk_pl_v(MK_MAC_HMAC_SHA1_160, F(20, 0xa2));
        tp.flags |= MK_TPF_I | MK_TPF_E;
        tp.initiator_data = tp_data("initiator data", ini, 2);
        mk_hdr h = hdr(MK_DT_TRANSFER_INIT, true, MK_MAP_GENERIC_ID, 2,
                       MK_BYTES(map_keep, mb.n));
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP, t + 3),
            mk_pl_randr(MK_RANDR_I, F(16, 0x01)),
            mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, S("sip:alice@example.com")),
            mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, S("sip:bob@example.com")),
            mk_pl_sp(1, MK_PROT_SRTP, MK_BYTES(spmem, sb.n)),
            mk_pl_sp(2, MK_PROT_TESLA, MK_BYTES_NONE),
            mk_pl_ticket(&tp),
            mk_pl_kemac(MK_ENCR_AES_KW_128, F(24, 0xb0), MK_MAC_NULL, MK_BYTES_NONE),
            mk_pl_v(MK_MAC_HMAC_SHA1_160, F(20, 0xc0)),
        };
        add_msg("transfer_init", &h, pl, sizeof pl / sizeof pl[0]);
    }

    /* --- RESOLVE_INIT_PSK (§4.2.3.1) --- */
    {
        mk_hdr h = hdr(MK_DT_RESOLVE_INIT_PSK, true, MK_MAP_EMPTY, 0, MK_BYTES_NONE);
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC, t + 4),
            mk_pl_randr(MK_RANDR_R, F(16, 0x02)),
            mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, S("sip:bob@example.com")),
            mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org")),
            mk_pl_ticket(&tp),
            mk_pl_idr(MK_ROLE_IDRPSK, MK_IDT_BYTES, F(4, 0x51)),
            mk_pl_v(MK_MAC_HMAC_SHA256_256, F(32, 0xd0)),
        };
        add_msg("resolve_init_psk", &h, pl, sizeof pl / sizeof pl[0]);
    }

    /* --- RESOLVE_RESP (§4.2.3.5) --- */
    {
        mk_hdr h = hdr(MK_DT_RESOLVE_RESP, false, MK_MAP_EMPTY, 0, MK_BYTES_NONE);
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC, t + 5),
            mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, S("kms.example.org")),
            mk_pl_kemac(MK_ENCR_AES_CM_256, F(60, 0xe0), MK_MAC_NULL, MK_BYTES_NONE),
            mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, S("sip:bob@example.com")),
            mk_pl_randr(MK_RANDR_KMS, F(16, 0x04)),
            mk_pl_v(MK_MAC_HMAC_SHA256_256, F(32, 0xf0)),
        };
        add_msg("resolve_resp", &h, pl, sizeof pl / sizeof pl[0]);
    }
}

static void build_3830(void)
{
    uint8_t srtp_mem[32];
    static uint8_t srtp_keep[32];
    mk_buf mb;
    mk_srtp_id e1 = {0, 0x11223344, 0}, e2 = {1, 0x55667788, 7};
    mk_buf_init(&mb, srtp_mem, sizeof srtp_mem);
    if (mk_map_put_srtp(&mb, &e1) || mk_map_put_srtp(&mb, &e2))
        abort();
    memcpy(srtp_keep, srtp_mem, mb.n);

    /* PK I_MESSAGE (RFC 3830 §3.2) */
    {
        mk_hdr h = hdr(MK_DT_PK_INIT, true, MK_MAP_SRTP_ID, 1, MK_BYTES(srtp_keep, 9));
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC, 0xc8e350ea00000001ULL),
            mk_pl_rand(F(16, 0x21)),
            mk_pl_cert(MK_CERT_X509V3, F(40, 0x22)),
            mk_pl_id(MK_IDT_URI, S("sip:bob@example.com")),
            mk_pl_sp(0, MK_PROT_SRTP, MK_BYTES_NONE),
            mk_pl_kemac(MK_ENCR_AES_CM_256, F(30, 0x23), MK_MAC_HMAC_SHA256_256,
                        F(32, 0x24)),
            mk_pl_chash(MK_HASH_SHA256, F(32, 0x25)),
            mk_pl_pke(1, F(128, 0x26)),
            mk_pl_sign(MK_SIGN_RSA_PSS, F(128, 0x27)),
        };
        add_msg("pk_init", &h, pl, sizeof pl / sizeof pl[0]);
    }
    /* DH init (RFC 3830 §3.3), every DH group and KV type */
    {
        mk_hdr h = hdr(MK_DT_DH_INIT, true, MK_MAP_SRTP_ID, 2, MK_BYTES(srtp_keep, 18));
        mk_payload pl[] = {
            mk_pl_t(MK_TS_COUNTER, 0x01020304),
            mk_pl_rand(F(16, 0x31)),
            mk_pl_cert(MK_CERT_X509V3_URL, S("http://example.com/c.der")),
            mk_pl_chash(MK_HASH_SHA1, F(20, 0x32)),
            mk_pl_chash(MK_HASH_MD5, F(16, 0x33)),
            mk_pl_dh(MK_DH_OAKLEY5, F(192, 0x34), mk_kv_null()),
            mk_pl_dh(MK_DH_OAKLEY2, F(128, 0x35), mk_kv_interval(F(6, 0x36), F(6, 0x37))),
            mk_pl_dh(MK_DH_OAKLEY1, F(96, 0x38), mk_kv_spi(F(2, 0x39))),
            mk_pl_sign(MK_SIGN_RSA_PKCS1, F(64, 0x3a)),
        };
        add_msg("dh_init", &h, pl, sizeof pl / sizeof pl[0]);
    }
    /* Error message (RFC 3830 §5.1.2, RFC 6043 §5.4) */
    {
        mk_hdr h = hdr(MK_DT_ERROR, false, MK_MAP_EMPTY, 0, MK_BYTES_NONE);
        mk_payload err2 = mk_pl_err(MK_ERRNO_INVALID_TPPAR);
        err2.u.err.reserved = 0x1234;
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP_UTC_32, 0xe7d4a5b0),
            mk_pl_err(MK_ERRNO_INVALID_TICKET),
            err2,
            mk_pl_v(MK_MAC_HMAC_SHA256_256, F(32, 0x41)),
        };
        add_msg("error", &h, pl, sizeof pl / sizeof pl[0]);
    }
    /* General Extensions incl. Key ID (RFC 4563), empty GENERIC-ID map */
    {
        static uint8_t kid[32];
        mk_buf kb;
        mk_buf_init(&kb, kid, sizeof kid);
        if (mk_key_id_put(&kb, 0, F(3, 0x42)) || mk_key_id_put(&kb, 2, F(4, 0x43)))
            abort();
        mk_hdr h = hdr(MK_DT_PSK_INIT, false, MK_MAP_GENERIC_ID, 0, MK_BYTES_NONE);
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP, 0x0102030405060708ULL),
            mk_pl_genext(MK_GENEXT_VENDOR_ID, F(4, 0x44)),
            mk_pl_tr(MK_TSR_TRI, MK_TS_COUNTER, 77),
            mk_pl_genext(MK_GENEXT_KEY_ID, MK_BYTES(kid, kb.n)),
            mk_pl_pke(0, F(3, 0x45)),
            mk_pl_v(MK_MAC_NULL, MK_BYTES_NONE),
        };
        add_msg("genext", &h, pl, sizeof pl / sizeof pl[0]);
    }
    /* GStreamer tests/check/libs/mikey.c create_payloads: T + NULL KEMAC
     * with one TEK (KV Null). */
    {
        static const uint8_t ntp[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        static const uint8_t edata[16] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
                                          0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0,
                                          0xd0, 0xe0, 0xf0, 0x10};
        mk_payload kd = mk_pl_keydata(MK_KEY_TEK, MK_BYTES(edata, 16),
                                      MK_BYTES_NONE, mk_kv_null());
        mk_bytes plain = kemac_plain("gst", &kd, 1);
        uint64_t tv = 0;
        for (int i = 0; i < 8; i++)
            tv = tv << 8 | ntp[i];
        mk_hdr h = hdr(MK_DT_PSK_INIT, false, MK_MAP_SRTP_ID, 0, MK_BYTES_NONE);
        h.csb_id = 0x12345678;
        mk_payload pl[] = {
            mk_pl_t(MK_TS_NTP, tv),
            mk_pl_kemac(MK_ENCR_NULL, plain, MK_MAC_NULL, MK_BYTES_NONE),
        };
        add_msg("gst_t_kemac", &h, pl, 2);
    }
}

static void build_plains(void)
{
    mk_payload mpk = mk_pl_keydata(MK_KEY_MPK, F(16, 0x90), MK_BYTES_NONE, mk_kv_null());
    struct {
        const char *name;
        mk_payload last;
    } k[] = {
        {"plain_tgk", mk_pl_keydata(MK_KEY_TGK, F(16, 0x91), MK_BYTES_NONE, mk_kv_null())},
        {"plain_tgk_salt", mk_pl_keydata(MK_KEY_TGK_SALT, F(16, 0x92), F(14, 0x93),
                                         mk_kv_spi(F(1, 0x94)))},
        {"plain_tek", mk_pl_keydata(MK_KEY_TEK, F(16, 0x95), MK_BYTES_NONE,
                                    mk_kv_interval(F(6, 0x96), F(6, 0x97)))},
        {"plain_tek_salt", mk_pl_keydata(MK_KEY_TEK_SALT, F(16, 0x98), F(14, 0x99),
                                         mk_kv_spi(F(4, 0x9a)))},
        {"plain_gtgk", mk_pl_keydata(MK_KEY_GTGK, F(32, 0x9b), MK_BYTES_NONE,
                                     mk_kv_spi(F(2, 0x9c)))},
        {"plain_gtgk_salt", mk_pl_keydata(MK_KEY_GTGK_SALT, F(32, 0x9d), F(14, 0x9e),
                                          mk_kv_interval(F(1, 0x9f), F(2, 0xa0)))},
        {"plain_mpk", mk_pl_keydata(MK_KEY_MPK, F(16, 0xa1), MK_BYTES_NONE, mk_kv_null())},
        {"plain_k_pr", mk_pl_keydata(MK_KEY_K_PR, F(16, 0xa2), MK_BYTES_NONE, mk_kv_null())},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        mk_payload pl[2] = {mpk, k[i].last};
        add_plain(k[i].name, pl, 2);
    }
}

static void build(void)
{
    if (built)
        return;
    built = 1;
    for (size_t i = 0; i < sizeof fill; i++)
        fill[i] = 0;
    add_b64("rfc4567_i", cs_rfc4567_i_b64);
    add_b64("rfc4567_r", cs_rfc4567_r_b64);
    add_hex("digest_a_i", cs_digest_a_i_hex);
    add_hex("digest_a_r", cs_digest_a_r_hex);
    add_hex("gst_header", "01 00 00 00 12 34 56 78 00 00");
    build_6043();
    build_3830();
    build_plains();
}

size_t cs_message_count(void)
{
    build();
    return n_msgs;
}

const cs_sample *cs_message(size_t i)
{
    build();
    return i < n_msgs ? &msgs[i] : NULL;
}

const cs_sample *cs_message_by_name(const char *name)
{
    build();
    for (size_t i = 0; i < n_msgs; i++)
        if (strcmp(msgs[i].name, name) == 0)
            return &msgs[i];
    fprintf(stderr, "no sample %s\n", name);
    abort();
}

size_t cs_plain_count(void)
{
    build();
    return n_plains;
}

const cs_sample *cs_plain(size_t i)
{
    build();
    return i < n_plains ? &plains[i] : NULL;
}
