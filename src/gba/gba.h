/* gba.h - the KMS as a GBA NAF (TS 33.220, 33.222, 29.109): what the
 * identifiers and answers of GBA look like, as pure logic shared by kmsd,
 * the Zn daemon (src/zn), the test BSF and mikey-ue.
 *
 * Owns: the B-TID (base64(RAND) "@" BSF server domain name, 33.220
 * §4.5.2), NAF_Id (NAF FQDN || Ua security protocol identifier, 33.220
 * §4.5.3 / Annex H), the GBA user security settings carried over Zn (the
 * IMPUs of the USS, 29.109 Annex A: doc/profile.md §10), mk_gba_info (one
 * answer of the BSF: IMPI, Ks_NAF, validity, IMPUs) and the subscriber the
 * KMS core sees for a B-TID.
 *
 * No I/O, no allocation. The key derivation itself is crypto's
 * (mk_gba_ks_naf).
 */
#ifndef MK_GBA_GBA_H
#define MK_GBA_GBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "kms/kms_store.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_GBA_RAND_LEN 16       /* RAND of the AKA run (33.220 §4.5.2) */
#define MK_GBA_BTID_MAX MK_PSK_ID_MAX /* a B-TID is an IDRpsk (128 bytes) */
#define MK_GBA_IMPI_MAX 255
#define MK_GBA_FQDN_MAX 253
#define MK_GBA_UA_ID_LEN 5
/* NAF_Id: FQDN || Ua security protocol identifier */
#define MK_GBA_NAF_ID_MAX (MK_GBA_FQDN_MAX + MK_GBA_UA_ID_LEN)
/* The Ua security protocol identifier of these HTTP exchanges (the issue's
 * reading of 33.220 Annex H; configurable, doc/profile.md §10). */
#define MK_GBA_UA_ID_DEFAULT "\x01\x00\x00\x00\x06"
#define MK_GBA_USS_MAX 4096      /* GBA-UserSecSettings bytes accepted */

/* A B-TID (33.220 §4.5.2): the base64 (RFC 4648 §4, padded) of a 16-byte
 * RAND, '@', a domain name (letters, digits, '-', '.'; no empty label).
 * On true, rand receives the RAND and *domain points into btid. */
bool mk_gba_btid_parse(mk_bytes btid, uint8_t rand[MK_GBA_RAND_LEN],
                       mk_bytes *domain);

/* A host name as the KMS FQDN: 1..253 bytes of labels of letters, digits
 * and '-' separated by single dots (also what mk_gba_btid_parse asks of
 * the BSF domain). */
bool mk_gba_fqdn_ok(const char *s, size_t n);

/* NAF_Id = fqdn || ua_id (5 bytes) into out; MK_E_ARG when fqdn is not
 * mk_gba_fqdn_ok, MK_E_NOSPACE when cap is short. */
mk_err mk_gba_naf_id(const char *fqdn, const uint8_t ua_id[MK_GBA_UA_ID_LEN],
                     uint8_t *out, size_t cap, size_t *len) MK_MUST_USE;

/* What the BSF told about one B-TID (a BIA with Result-Code 2001). */
typedef struct mk_gba_info {
    char impi[MK_GBA_IMPI_MAX + 1];   /* User-Name, NUL-terminated */
    mk_key ks_naf;                    /* ME-Key-Material, 32 bytes */
    uint64_t expires_unix;            /* Key-ExpiryTime */
    uint64_t created_unix;            /* BootstrapInfoCreationTime, 0 = absent */
    char impu[MK_IMPU_MAX][MK_URI_MAX]; /* the IMPUs of the USS */
    size_t n_impu;
} mk_gba_info;

void mk_gba_info_wipe(mk_gba_info *g);

/* The IMPUs of a USS (GBA-UserSecSettings, an XML document): the text of
 * every <uid> element, in order, with the five predefined XML entities
 * decoded (doc/profile.md §10). MK_E_VALUE when an element is not closed,
 * empty, too long for MK_URI_MAX or holds another '&' or '<'; MK_E_LIMIT
 * for more than MK_IMPU_MAX. No <uid> at all is 0 IMPUs (MK_OK). */
mk_err mk_gba_uss_impus(mk_bytes uss, mk_gba_info *g) MK_MUST_USE;
/* The USS document the test BSF sends for g's IMPUs (entities escaped). */
mk_err mk_gba_uss_write(const mk_gba_info *g, char *out, size_t cap,
                        size_t *len) MK_MUST_USE;

/* The subscriber the KMS core serves for a B-TID (doc/profile.md §10):
 * PSK id = the B-TID, PSK = Ks_NAF, IMPUs = those of the USS, active, with
 * the policy given (the KMS's policy for GBA subscribers). */
mk_err mk_gba_subscriber(mk_bytes btid, const mk_gba_info *g,
                         const mk_policy *policy, mk_subscriber *out) MK_MUST_USE;

#endif
