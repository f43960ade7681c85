/* mikey_const.h - wire constants of MIKEY (RFC 3830) and MIKEY-TICKET
 * (RFC 6043), shared by the codec, the crypto module and the KMS. In util,
 * the bottom layer, because util (ntp.c: the TS types) and crypto (the
 * algorithm numbers) need them and may not use the codec above them.
 *
 * Owns: numbers only. Names for printing live in codec/names.c.
 */
#ifndef MK_UTIL_MIKEY_CONST_H
#define MK_UTIL_MIKEY_CONST_H

#define MK_VERSION 1

/* HDR data type (RFC 3830 §6.1 Table 6.1.a, RFC 6043 §6.1). */
enum mk_data_type {
    MK_DT_PSK_INIT = 0,
    MK_DT_PSK_RESP = 1,
    MK_DT_PK_INIT = 2,
    MK_DT_PK_RESP = 3,
    MK_DT_DH_INIT = 4,
    MK_DT_DH_RESP = 5,
    MK_DT_ERROR = 6,
    MK_DT_DHHMAC_INIT = 7,
    MK_DT_DHHMAC_RESP = 8,
    MK_DT_RSA_R_INIT = 9,
    MK_DT_RSA_R_RESP = 10,
    MK_DT_REQUEST_INIT_PSK = 11,
    MK_DT_REQUEST_INIT_PK = 12,
    MK_DT_REQUEST_RESP = 13,
    MK_DT_TRANSFER_INIT = 14,
    MK_DT_TRANSFER_RESP = 15,
    MK_DT_RESOLVE_INIT_PSK = 16,
    MK_DT_RESOLVE_INIT_PK = 17,
    MK_DT_RESOLVE_RESP = 18,
};

/* Next payload / payload type (RFC 3830 §6.1 Table 6.1.c, RFC 6043 §6). */
enum mk_payload_type {
    MK_PT_LAST = 0,
    MK_PT_KEMAC = 1,
    MK_PT_PKE = 2,
    MK_PT_DH = 3,
    MK_PT_SIGN = 4,
    MK_PT_T = 5,
    MK_PT_ID = 6,
    MK_PT_CERT = 7,
    MK_PT_CHASH = 8,
    MK_PT_V = 9,
    MK_PT_SP = 10,
    MK_PT_RAND = 11,
    MK_PT_ERR = 12,
    MK_PT_TR = 13,
    MK_PT_IDR = 14,
    MK_PT_RANDR = 15,
    MK_PT_TP = 16,
    MK_PT_TICKET = 17,
    MK_PT_KEYDATA = 20,
    MK_PT_GENEXT = 21,
    /* Not a wire number: the base-ticket THDR has none (RFC 6043 App. A.3). */
    MK_PT_THDR = 256,
    /* Not a wire number: the common header, for error details and names. */
    MK_PT_HDR = 257,
};

/* HDR PRF func (RFC 3830 §6.1, RFC 6043 §6.1); also TP PRF Func. */
enum mk_prf_func {
    MK_PRF_MIKEY_1 = 0,
    MK_PRF_HMAC_SHA256 = 1,
};

/* CS ID map type (RFC 3830 §6.1, RFC 4563 §5, RFC 6043 §6.1.1). */
enum mk_map_type {
    MK_MAP_SRTP_ID = 0,
    MK_MAP_EMPTY = 1,
    MK_MAP_GENERIC_ID = 2,
};

/* KEMAC Encr alg (RFC 3830 §6.2, RFC 6043 §6.2). */
enum mk_encr_alg {
    MK_ENCR_NULL = 0,
    MK_ENCR_AES_CM_128 = 1,
    MK_ENCR_AES_KW_128 = 2,
    MK_ENCR_AES_CM_256 = 3,
};

/* KEMAC MAC alg and V Auth alg (RFC 3830 §6.2, RFC 6043 §6.2). */
enum mk_mac_alg {
    MK_MAC_NULL = 0,
    MK_MAC_HMAC_SHA1_160 = 1,
    MK_MAC_HMAC_SHA256_256 = 2,
};

/* T / TR TS type (RFC 3830 §6.6, RFC 6043 §6.3). */
enum mk_ts_type {
    MK_TS_NTP_UTC = 0,
    MK_TS_NTP = 1,
    MK_TS_COUNTER = 2,
    MK_TS_NTP_UTC_32 = 3,
};

/* TR TS Role (RFC 6043 §6.4). */
enum mk_ts_role {
    MK_TSR_TRI = 1,
    MK_TSR_TRS = 2,
    MK_TSR_TRE = 3,
    MK_TSR_TRR = 4,
};

/* ID / IDR ID Type (RFC 3830 §6.7, RFC 6043 §6.5). */
enum mk_id_type {
    MK_IDT_NAI = 0,
    MK_IDT_URI = 1,
    MK_IDT_BYTES = 2,
};

/* CERT Cert Type (RFC 3830 §6.7). */
enum mk_cert_type {
    MK_CERT_X509V3 = 0,
    MK_CERT_X509V3_URL = 1,
    MK_CERT_X509V3_SIGN = 2,
    MK_CERT_X509V3_ENCR = 3,
};

/* IDR ID Role (RFC 6043 §6.6, RFC 6509). */
enum mk_id_role {
    MK_ROLE_IDRI = 1,
    MK_ROLE_IDRR = 2,
    MK_ROLE_IDRKMS = 3,
    MK_ROLE_IDRPSK = 4,
    MK_ROLE_IDRAPP = 5,
    MK_ROLE_IDRKMSI = 6,
    MK_ROLE_IDRKMSR = 7,
};

/* RANDR RAND Role (RFC 6043 §6.8). */
enum mk_rand_role {
    MK_RANDR_I = 1,
    MK_RANDR_R = 2,
    MK_RANDR_KMS = 3,
};

/* CHASH Hash func (RFC 3830 §6.8, RFC 6043 §6.7). */
enum mk_hash_func {
    MK_HASH_SHA1 = 0,
    MK_HASH_MD5 = 1,
    MK_HASH_SHA256 = 2,
};

/* DH-Group (RFC 3830 §6.4). */
enum mk_dh_group {
    MK_DH_OAKLEY5 = 0,
    MK_DH_OAKLEY1 = 1,
    MK_DH_OAKLEY2 = 2,
};

/* Key data Type (RFC 3830 §6.13, RFC 6043 §6.2.1, RFC 6267). */
enum mk_key_type {
    MK_KEY_TGK = 0,
    MK_KEY_TGK_SALT = 1,
    MK_KEY_TEK = 2,
    MK_KEY_TEK_SALT = 3,
    MK_KEY_GTGK = 4,
    MK_KEY_GTGK_SALT = 5,
    MK_KEY_MPK = 6,
    MK_KEY_K_PR = 7,
};

/* Key validity type KV (RFC 3830 §6.13). */
enum mk_kv_type {
    MK_KV_NULL = 0,
    MK_KV_SPI = 1,
    MK_KV_INTERVAL = 2,
};

/* SIGN S type (RFC 3830 §6.5, RFC 6509). */
enum mk_sign_type {
    MK_SIGN_RSA_PKCS1 = 0,
    MK_SIGN_RSA_PSS = 1,
    MK_SIGN_ECCSI = 2,
};

/* SP Prot type (RFC 3830 §6.10). */
enum mk_prot_type {
    MK_PROT_SRTP = 0,
    MK_PROT_TESLA = 1,
};

/* General Extension type (RFC 3830 §6.15, RFC 4563). */
enum mk_genext_type {
    MK_GENEXT_VENDOR_ID = 0,
    MK_GENEXT_SDP_IDS = 1,
    MK_GENEXT_TESLA_IKEY = 2,
    MK_GENEXT_KEY_ID = 3,
    MK_GENEXT_CSB_ID = 4,
    MK_GENEXT_OMA_BCAST = 5,
};

/* ERR Error no (RFC 3830 §6.12, RFC 4738, RFC 6043 §6.9). */
enum mk_error_no {
    MK_ERRNO_AUTH_FAILURE = 0,
    MK_ERRNO_INVALID_TS = 1,
    MK_ERRNO_INVALID_PRF = 2,
    MK_ERRNO_INVALID_MAC = 3,
    MK_ERRNO_INVALID_EA = 4,
    MK_ERRNO_INVALID_HA = 5,
    MK_ERRNO_INVALID_DH = 6,
    MK_ERRNO_INVALID_ID = 7,
    MK_ERRNO_INVALID_CERT = 8,
    MK_ERRNO_INVALID_SP = 9,
    MK_ERRNO_INVALID_SPPAR = 10,
    MK_ERRNO_INVALID_DT = 11,
    MK_ERRNO_UNSPECIFIED = 12,
    MK_ERRNO_UNSUPPORTED_MSG = 13,
    MK_ERRNO_INVALID_TICKET = 14,
    MK_ERRNO_INVALID_TPPAR = 15,
};

/* TP / TICKET Ticket Type (RFC 6043 §6.10). */
enum mk_ticket_type {
    MK_TICKET_MIKEY_BASE = 1,
    MK_TICKET_3GPP_BASE = 2,
};

/* TP / TICKET flags (RFC 6043 §6.10), as bits of mk_tp.flags. D is bit 0 of
 * octet 5 on the wire (low bit, after the 7-bit PRF func), E..L octet 6, M..O
 * the top three bits of octet 7. */
enum mk_tp_flag {
    MK_TPF_D = 1u << 0,
    MK_TPF_E = 1u << 1,
    MK_TPF_F = 1u << 2,
    MK_TPF_G = 1u << 3,
    MK_TPF_H = 1u << 4,
    MK_TPF_I = 1u << 5,
    MK_TPF_J = 1u << 6,
    MK_TPF_K = 1u << 7,
    MK_TPF_L = 1u << 8,
    MK_TPF_M = 1u << 9,
    MK_TPF_N = 1u << 10,
    MK_TPF_O = 1u << 11,
};

/* Label constants (RFC 3830 §4.1.3, §4.1.4; RFC 6043 §5.1.1, App. A.2.2). */
#define MK_C_TEK 0x2AD01C64u
#define MK_C_SP_AUTH 0x1B5C7973u
#define MK_C_SP_ENCR 0x15798CEFu
#define MK_C_SALT 0x39A2C14Bu
#define MK_C_ENCR_KEY 0x150533E1u
#define MK_C_AUTH_KEY 0x2D22AC75u
#define MK_C_SALT_KEY 0x29B88916u
#define MK_C_FORK_MPKR 0x2B288856u
#define MK_C_FORK_TGK 0x1512B54Au
#define MK_C_MPKI 0x220E99A2u
#define MK_C_MPKR 0x1F4D675Bu

#endif
