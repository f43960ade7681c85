/* names.c - printable names of wire values, in the wording of the RFCs and
 * the IANA "mikey-payloads" registry; "Unknown" for unassigned values. */
#include "codec/mikey.h"

#define UNKNOWN "Unknown"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *pick(const char *const *tab, size_t n, int v)
{
    if (v < 0 || (size_t)v >= n || tab[v] == NULL)
        return UNKNOWN;
    return tab[v];
}

#define TABLE(fn, ...)                                   \
    const char *fn(int v)                                \
    {                                                    \
        static const char *const tab[] = {__VA_ARGS__};  \
        return pick(tab, NELEM(tab), v);                 \
    }

/* RFC 3830 §6.1 Table 6.1.c, RFC 6043 §6, RFC 6267, RFC 6509. */
const char *mk_name_payload(int type)
{
    static const char *const tab[] = {
        [0] = "Last payload", [1] = "KEMAC", [2] = "PKE", [3] = "DH",
        [4] = "SIGN", [5] = "T", [6] = "ID", [7] = "CERT", [8] = "CHASH",
        [9] = "V", [10] = "SP", [11] = "RAND", [12] = "ERR", [13] = "TR",
        [14] = "IDR", [15] = "RANDR", [16] = "TP", [17] = "TICKET",
        [20] = "Key data", [21] = "General Ext.", [22] = "IBAKE",
        [23] = "ESK", [24] = "SK", [25] = "ECCPT", [26] = "SAKKE",
    };
    if (type == MK_PT_THDR)
        return "THDR";
    if (type == MK_PT_HDR)
        return "HDR";
    return pick(tab, NELEM(tab), type);
}

/* RFC 3830 §6.1 Table 6.1.a, 4650, 4738, 6043 §6.1, 6267, 6509. */
TABLE(mk_name_data_type,
      [0] = "Pre-shared", [1] = "PSK ver msg", [2] = "Public key",
      [3] = "PK ver msg", [4] = "D-H init", [5] = "D-H resp", [6] = "Error",
      [7] = "DHHMAC init", [8] = "DHHMAC resp", [9] = "RSA-R I_MSG",
      [10] = "RSA-R R_MSG", [11] = "REQUEST_INIT_PSK",
      [12] = "REQUEST_INIT_PK", [13] = "REQUEST_RESP", [14] = "TRANSFER_INIT",
      [15] = "TRANSFER_RESP", [16] = "RESOLVE_INIT_PSK",
      [17] = "RESOLVE_INIT_PK", [18] = "RESOLVE_RESP",
      [19] = "REQUEST_KEY_PSK", [20] = "REQUEST_KEY_PKE",
      [21] = "REQUEST_KEY_RESP", [22] = "I_MESSAGE_1", [23] = "R_MESSAGE_1",
      [24] = "I_MESSAGE_2", [25] = "R_MESSAGE_2", [26] = "SAKKE msg")

/* RFC 3830 §6.12, RFC 4738, RFC 6043 §6.9. */
TABLE(mk_name_error_no,
      [0] = "Auth failure", [1] = "Invalid TS", [2] = "Invalid PRF",
      [3] = "Invalid MAC", [4] = "Invalid EA", [5] = "Invalid HA",
      [6] = "Invalid DH", [7] = "Invalid ID", [8] = "Invalid Cert",
      [9] = "Invalid SP", [10] = "Invalid SPpar", [11] = "Invalid DT",
      [12] = "Unspecified error", [13] = "Unsupported message type",
      [14] = "Invalid TICKET", [15] = "Invalid TPpar")

/* RFC 6043 §6.6, RFC 6509. */
TABLE(mk_name_id_role,
      [1] = "IDRi", [2] = "IDRr", [3] = "IDRkms", [4] = "IDRpsk",
      [5] = "IDRapp", [6] = "IDRkmsi", [7] = "IDRkmsr")

/* RFC 3830 §6.7, RFC 6043 §6.5. */
TABLE(mk_name_id_type, [0] = "NAI", [1] = "URI", [2] = "Byte string")

TABLE(mk_name_cert_type,
      [0] = "X.509v3", [1] = "X.509v3 URL", [2] = "X.509v3 Sign",
      [3] = "X.509v3 Encr")

/* RFC 3830 §6.6, RFC 6043 §6.3. */
TABLE(mk_name_ts_type,
      [0] = "NTP-UTC", [1] = "NTP", [2] = "COUNTER", [3] = "NTP-UTC-32")

/* RFC 6043 §6.4. */
TABLE(mk_name_ts_role,
      [1] = "TRi (time of issue)", [2] = "TRs (start of validity)",
      [3] = "TRe (end of validity)", [4] = "TRr (rekeying interval)")

/* RFC 6043 §6.8. */
TABLE(mk_name_rand_role, [1] = "RANDRi", [2] = "RANDRr", [3] = "RANDRkms")

/* RFC 3830 §6.2, RFC 6043 §6.2. */
TABLE(mk_name_encr_alg,
      [0] = "NULL", [1] = "AES-CM-128", [2] = "AES-KW-128",
      [3] = "AES-CM-256")

TABLE(mk_name_mac_alg,
      [0] = "NULL", [1] = "HMAC-SHA-1-160", [2] = "HMAC-SHA-256-256")

/* RFC 3830 §6.1, RFC 6043 §6.1. */
TABLE(mk_name_prf, [0] = "MIKEY-1", [1] = "PRF-HMAC-SHA-256")

/* RFC 3830 §6.13, RFC 6043 §6.2.1, RFC 6267. */
TABLE(mk_name_key_type,
      [0] = "TGK", [1] = "TGK+SALT", [2] = "TEK", [3] = "TEK+SALT",
      [4] = "GTGK", [5] = "GTGK+SALT", [6] = "MPK", [7] = "K_PR")

TABLE(mk_name_kv, [0] = "Null", [1] = "SPI/MKI", [2] = "Interval")

/* RFC 3830 §6.1, RFC 4563 §5, RFC 6043 §6.1.1. */
TABLE(mk_name_map_type, [0] = "SRTP-ID", [1] = "Empty map", [2] = "GENERIC-ID")

/* RFC 3830 §6.8, RFC 6043 §6.7. */
TABLE(mk_name_hash_func, [0] = "SHA-1", [1] = "MD5", [2] = "SHA-256")

/* RFC 3830 §6.4. */
TABLE(mk_name_dh_group, [0] = "OAKLEY 5", [1] = "OAKLEY 1", [2] = "OAKLEY 2")

/* RFC 3830 §6.5, RFC 6509. */
TABLE(mk_name_sign_type,
      [0] = "RSA/PKCS#1/1.5", [1] = "RSA/PSS", [2] = "ECCSI")

/* RFC 3830 §6.10, RFC 4442. */
TABLE(mk_name_prot_type, [0] = "SRTP", [1] = "TESLA")

/* RFC 3830 §6.15, RFC 4442, 4563, 4738, 4909. */
TABLE(mk_name_genext,
      [0] = "Vendor ID", [1] = "SDP IDs", [2] = "TESLA I-Key",
      [3] = "Key ID", [4] = "CSB_ID", [5] = "OMA BCAST")

/* RFC 4563 §4 (IANA says "MBMS Transport Key ID" for 2). */
TABLE(mk_name_key_id_type,
      [0] = "MBMS Key Domain ID", [1] = "MBMS Service Key ID",
      [2] = "MBMS Traffic Key ID")

/* RFC 6043 §6.10. */
TABLE(mk_name_ticket_type, [1] = "MIKEY base ticket", [2] = "3GPP base ticket")

/* RFC 3830 §6.3. */
TABLE(mk_name_pke_c, [0] = "No cache", [1] = "Cache", [2] = "Cache for CSB")

/* SRTP policy parameters: RFC 3830 §6.10.1, RFC 4771, RFC 7714. */
const char *mk_name_sp_param(int prot_type, int param)
{
    static const char *const srtp[] = {
        [0] = "Encryption algorithm",
        [1] = "Session Encr. key length",
        [2] = "Authentication algorithm",
        [3] = "Session Auth. key length",
        [4] = "Session Salt key length",
        [5] = "SRTP Pseudo Random Function",
        [6] = "Key derivation rate",
        [7] = "SRTP encryption off/on",
        [8] = "SRTCP encryption off/on",
        [9] = "sender's FEC order",
        [10] = "SRTP authentication off/on",
        [11] = "Authentication tag length",
        [12] = "SRTP prefix length",
        [13] = "ROC transmission rate",
        [14] = "SRTP Authentication algorithm",
        [15] = "SRTCP Authentication algorithm",
        [16] = "SRTP Session Auth. key length",
        [17] = "SRTCP Session Auth. key length",
        [18] = "SRTP Authentication tag length",
        [19] = "SRTCP Authentication tag length",
        [20] = "AEAD authentication tag length",
    };
    if (prot_type != MK_PROT_SRTP)
        return UNKNOWN;
    return pick(srtp, NELEM(srtp), param);
}
