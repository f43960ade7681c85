/* zn_wire.h - what kmsd and the Zn daemon (kms-znd, src/zn) say to each
 * other over the daemon's Unix socket: one lookup of a B-TID, one answer
 * (doc/profile.md §10), or one question whether the BSF is connected.
 *
 * Owns: the frame (4-byte big-endian length, then the message; at most
 * MK_ZN_FRAME_MAX bytes), the lookup request, the answer (the verdict of
 * the BSF mapped to what the KMS answers, and on success the bootstrapping
 * information), their encoders and decoders (bounds-checked cursor), and
 * the mapping of a verdict to the KMS's error.
 *
 * The socket is local and only the KMS's user may open it: Ks_NAF crosses
 * it in clear, as it crosses the Diameter connection (inside TLS there).
 */
#ifndef MK_GBA_ZN_WIRE_H
#define MK_GBA_ZN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "gba/gba.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_ZN_VERSION 1
#define MK_ZN_FRAME_MAX 8192
#define MK_ZN_OP_LOOKUP 1 /* the bootstrapping info of a B-TID */
#define MK_ZN_OP_STATUS 2 /* is the BSF connected? (kmsd's health page) */

/* The verdict of one lookup. */
typedef enum mk_zn_status {
    MK_ZN_OK = 0,          /* BIA 2001: *info filled */
    MK_ZN_UNKNOWN = 1,     /* 5401 / 5403: B-TID unknown or expired -> 401 */
    MK_ZN_FORBIDDEN = 2,   /* 5402: not authorised for this NAF -> 403 */
    MK_ZN_TIMEOUT = 3,     /* no BIA within the Zn timeout -> 504 */
    MK_ZN_UNAVAILABLE = 4, /* no Diameter connection, BSF busy, a BIA we
                              cannot use -> 503 */
} mk_zn_status;

/* A lookup carries a B-TID and NAF_Id; a status question nothing more:
 * its answer is MK_ZN_OK while the Diameter connection to the BSF is
 * open, MK_ZN_UNAVAILABLE otherwise. */
typedef struct mk_zn_request {
    uint8_t op; /* MK_ZN_OP_* */
    uint8_t btid[MK_GBA_BTID_MAX];
    size_t btid_len;
    uint8_t naf_id[MK_GBA_NAF_ID_MAX];
    size_t naf_id_len;
} mk_zn_request;

/* The answer to a lookup carries the bootstrapping info when its status
 * is MK_ZN_OK; the answer to a status question never does. */
typedef struct mk_zn_answer {
    uint8_t op;            /* MK_ZN_OP_* of the question answered */
    mk_zn_status status;
    uint32_t result_code;  /* Result-Code or Experimental-Result-Code, 0 none */
    mk_gba_info info;      /* status MK_ZN_OK only; a secret (Ks_NAF) */
} mk_zn_answer;

/* Frames: body of n bytes after a 4-byte length. The encoders write the
 * whole frame (length included) into out. */
mk_err mk_zn_request_encode(const mk_zn_request *r, uint8_t *out, size_t cap,
                            size_t *len) MK_MUST_USE;
mk_err mk_zn_request_decode(mk_bytes body, mk_zn_request *r) MK_MUST_USE;
mk_err mk_zn_answer_encode(const mk_zn_answer *a, uint8_t *out, size_t cap,
                           size_t *len) MK_MUST_USE;
/* The answer to a question of operation op (the asker knows which). */
mk_err mk_zn_answer_decode(mk_bytes body, uint8_t op, mk_zn_answer *a) MK_MUST_USE;
/* The body length announced by a frame's first 4 bytes; MK_E_LENGTH when
 * it is 0 or over MK_ZN_FRAME_MAX - 4. */
mk_err mk_zn_frame_len(const uint8_t head[4], size_t *body_len) MK_MUST_USE;

/* MK_OK, MK_E_HTTP_AUTH (401), MK_E_POLICY (403), MK_E_HTTP_ZN_TIMEOUT
 * (504), MK_E_UNAVAILABLE (503), each raised with a static reason. */
mk_err mk_zn_status_err(mk_zn_status s) MK_MUST_USE;
const char *mk_zn_status_name(mk_zn_status s);

#endif
