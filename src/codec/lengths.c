/* lengths.c - lengths that the wire does not carry but a field value
 * implies. The codec keeps its own table so that it does not depend on the
 * crypto module; tests/test_codec.c checks it against crypto's mk_mac_len
 * when both are built. */
#include "codec/mikey.h"

/* KEMAC MAC alg / V Auth alg: RFC 3830 §6.2, RFC 6043 §6.2. */
int mk_mac_len_of(int mac_alg)
{
    switch (mac_alg) {
    case MK_MAC_NULL: return 0;
    case MK_MAC_HMAC_SHA1_160: return 20;
    case MK_MAC_HMAC_SHA256_256: return 32;
    default: return -1;
    }
}

/* TS type: RFC 3830 §6.6, RFC 6043 §6.3. */
int mk_ts_len_of(int ts_type)
{
    switch (ts_type) {
    case MK_TS_NTP_UTC: return 8;
    case MK_TS_NTP: return 8;
    case MK_TS_COUNTER: return 4;
    case MK_TS_NTP_UTC_32: return 4;
    default: return -1;
    }
}

/* CHASH Hash func: RFC 3830 §6.8, RFC 6043 §6.7. */
int mk_hash_len_of(int hash_func)
{
    switch (hash_func) {
    case MK_HASH_SHA1: return 20;
    case MK_HASH_MD5: return 16;
    case MK_HASH_SHA256: return 32;
    default: return -1;
    }
}

/* DH-Group: RFC 3830 §6.4 (OAKLEY 5 = 1536-bit MODP, 1 = 768, 2 = 1024). */
int mk_dh_len_of(int group)
{
    switch (group) {
    case MK_DH_OAKLEY5: return 1536 / 8;
    case MK_DH_OAKLEY1: return 768 / 8;
    case MK_DH_OAKLEY2: return 1024 / 8;
    default: return -1;
    }
}

/* Key data Type: RFC 3830 §6.13, RFC 6043 §6.2.1, RFC 6267 (K_PR). */
bool mk_key_type_known(int key_type)
{
    return key_type >= MK_KEY_TGK && key_type <= MK_KEY_K_PR;
}

bool mk_key_type_has_salt(int key_type)
{
    return key_type == MK_KEY_TGK_SALT || key_type == MK_KEY_TEK_SALT ||
           key_type == MK_KEY_GTGK_SALT;
}
