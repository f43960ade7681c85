/* digest.h - HTTP Digest access authentication (RFC 7616, RFC 2617) as Ua
 * uses it (TS 33.222 §5.3, TS 24.109 §5.2): username = B-TID, password =
 * base64(Ks_NAF), realm "3GPP-bootstrapping@<NAF FQDN>".
 *
 * Owns: the parsers of the two headers (Authorization: Digest on the
 * server, WWW-Authenticate: Digest on the client), their writers, the
 * request-digest (RFC 7616 §3.4.1, qop auth and auth-int, MD5 or SHA-256),
 * the server's nonces (self-authenticating: expiry, random, a MAC under a
 * key of the KMS, so any process of the node recognises them without a
 * lookup) and the server's checks of a request's credentials.
 *
 * Pure logic: no I/O. Counting a nonce's uses across processes is the
 * caller's (kmsd: the node table MK_NODE_KV_NONCE, doc/profile.md §10).
 * Header text is untrusted: read through the cursor, every field bounded.
 */
#ifndef MK_GBA_DIGEST_H
#define MK_GBA_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "gba/gba.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_DIGEST_USER_MAX MK_GBA_BTID_MAX
#define MK_DIGEST_REALM_MAX 300 /* "3GPP-bootstrapping@" + an FQDN */
#define MK_DIGEST_NONCE_MAX 128
#define MK_DIGEST_URI_MAX 1024
#define MK_DIGEST_CNONCE_MAX 128
#define MK_DIGEST_OPAQUE_MAX 128
#define MK_DIGEST_HEX_MAX 65     /* SHA-256 as hex + NUL */
#define MK_DIGEST_HEADER_MAX 2048 /* longest header value we write */
#define MK_DIGEST_REALM_PREFIX "3GPP-bootstrapping@" /* 24.109 §5.2 */

/* qop values (a mask in a challenge, one of them in credentials) */
#define MK_DIGEST_QOP_AUTH 1u
#define MK_DIGEST_QOP_AUTH_INT 2u

/* The parameters of "Authorization: Digest ..." (RFC 7616 §3.4). */
typedef struct mk_digest_creds {
    char username[MK_DIGEST_USER_MAX + 1];
    char realm[MK_DIGEST_REALM_MAX + 1];
    char nonce[MK_DIGEST_NONCE_MAX + 1];
    char uri[MK_DIGEST_URI_MAX + 1];
    char cnonce[MK_DIGEST_CNONCE_MAX + 1];
    char opaque[MK_DIGEST_OPAQUE_MAX + 1];
    char response[MK_DIGEST_HEX_MAX];
    mk_hash_alg alg;  /* MD5 when the header names none (RFC 7616 §3.4) */
    unsigned qop;     /* MK_DIGEST_QOP_*, 0 when absent */
    uint32_t nc;      /* nonce-count, 0 when absent */
} mk_digest_creds;

/* The parameters of "WWW-Authenticate: Digest ..." (RFC 7616 §3.3). */
typedef struct mk_digest_challenge {
    char realm[MK_DIGEST_REALM_MAX + 1];
    char nonce[MK_DIGEST_NONCE_MAX + 1];
    char opaque[MK_DIGEST_OPAQUE_MAX + 1];
    mk_hash_alg alg;
    unsigned qop;     /* mask of MK_DIGEST_QOP_* offered */
    bool stale;
} mk_digest_challenge;

/* Parse a header value ("Digest k=v, k="v", ..."). Names are
 * case-insensitive, quoted strings may hold \-escapes, unknown parameters
 * are ignored; a parameter given twice, a value over its field, an
 * unknown algorithm or qop, or another scheme is MK_E_HTTP_AUTH (with a
 * static reason). Credentials must hold username, realm, nonce, uri and
 * response. A challenge must hold realm and nonce; an unknown qop in its
 * list is skipped. */
mk_err mk_digest_parse_credentials(const char *value, mk_digest_creds *out) MK_MUST_USE;
mk_err mk_digest_parse_challenge(const char *value, mk_digest_challenge *out) MK_MUST_USE;

/* Write the header values (without the header name). */
mk_err mk_digest_format_challenge(const mk_digest_challenge *c, char *out,
                                  size_t cap) MK_MUST_USE;
mk_err mk_digest_format_credentials(const mk_digest_creds *c, char *out,
                                    size_t cap) MK_MUST_USE;

/* The request-digest (RFC 7616 §3.4.1) as lowercase hex into out:
 * KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)), A1 = username ":"
 * realm ":" password, A2 = method ":" uri [":" H(body)] (auth-int). qop 0:
 * the RFC 2069 form H(H(A1) ":" nonce ":" H(A2)). */
typedef struct mk_digest_input {
    mk_hash_alg alg;
    const char *username, *realm, *nonce, *cnonce, *method, *uri;
    mk_bytes password;
    unsigned qop;
    uint32_t nc;
    mk_bytes body;
} mk_digest_input;
mk_err mk_digest_response(const mk_digest_input *in,
                          char out[MK_DIGEST_HEX_MAX]) MK_MUST_USE;

/* "3GPP-bootstrapping@" fqdn into out (MK_E_NOSPACE when it does not fit). */
mk_err mk_digest_realm(const char *fqdn, char *out, size_t cap) MK_MUST_USE;

/* --- the server's nonces ---
 * nonce = base64(expiry (8 bytes, big-endian unix seconds) || random (16)
 * || the first 16 bytes of HMAC-SHA-256(key, "mikeykms-digest-nonce" ||
 * expiry || random)). The first 24 bytes name the nonce (its count's key). */
#define MK_DIGEST_NONCE_RND 16
#define MK_DIGEST_NONCE_ID 24
#define MK_DIGEST_NONCE_RAW 40
mk_err mk_digest_nonce_make(mk_bytes key, uint64_t expires_unix,
                            const uint8_t rnd[MK_DIGEST_NONCE_RND],
                            char *out, size_t cap) MK_MUST_USE;
typedef enum mk_digest_nonce_verdict {
    MK_DIGEST_NONCE_BAD = 0,   /* not one of ours (or damaged) */
    MK_DIGEST_NONCE_STALE = 1, /* ours, past its expiry */
    MK_DIGEST_NONCE_FRESH = 2, /* ours, in time: *expires and id filled */
} mk_digest_nonce_verdict;
mk_digest_nonce_verdict mk_digest_nonce_check(
    mk_bytes key, const char *nonce, uint64_t now_unix,
    uint8_t id[MK_DIGEST_NONCE_ID], uint64_t *expires_unix);

/* The server's checks of credentials that do not need the password
 * (RFC 7616 §3.4, §3.5): realm and algorithm are ours, uri is the
 * request's REQUEST_URI, qop is auth or auth-int with a cnonce and a
 * non-zero nc, the username looks like a B-TID. MK_E_HTTP_AUTH with a
 * static reason otherwise. */
mk_err mk_digest_check_fields(const mk_digest_creds *c, const char *realm,
                              mk_hash_alg alg, const char *request_uri) MK_MUST_USE;
/* Recompute the response with the password and compare in constant time:
 * MK_OK or MK_E_HTTP_AUTH. */
mk_err mk_digest_check_response(const mk_digest_creds *c, mk_bytes password,
                                const char *method, mk_bytes body) MK_MUST_USE;

#endif
