/* mikey_ue_io.h - the I/O of the mikey-ue CLI (tools/mikey-ue.c): reading
 * messages (base64 argument, @FILE, '-' for stdin), hex and time values,
 * printing results as name=value lines or one JSON object, and the sink a
 * built message is delivered to.
 *
 * The sink is the one place a message leaves the program: the stdout sink
 * prints one base64 line; the HTTP sink (mikey_ue_http.h, --url) POSTs it
 * to the KMS and hands back the answer.
 */
#ifndef MK_TOOLS_MIKEY_UE_IO_H
#define MK_TOOLS_MIKEY_UE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ue/ue.h"
#include "util/cursor.h"
#include "util/err.h"

#define UE_IN_MAX (1u << 20) /* largest text input read */

/* A decoded message held by the CLI. */
typedef struct ue_msg {
    uint8_t b[8192];
    size_t n;
} ue_msg;

static inline mk_bytes ue_msg_bytes(const ue_msg *m)
{
    return MK_BYTES(m->b, m->n);
}

/* Read a whole file ("-": stdin) into a malloc'd NUL-terminated buffer.
 * MK_E_IO when it cannot be read, MK_E_LIMIT over UE_IN_MAX. */
mk_err ue_read_all(const char *path, char **text, size_t *n) MK_MUST_USE;

/* A message given as base64 text, "@FILE" (base64 in a file) or "-"
 * (base64 on stdin). MK_E_BASE64 / MK_E_NOSPACE / MK_E_IO. */
mk_err ue_msg_from_arg(const char *arg, ue_msg *m) MK_MUST_USE;

/* Hex (white space allowed) into out[0..cap); MK_E_VALUE if not hex. */
mk_err ue_hex(const char *s, uint8_t *out, size_t cap, size_t *n) MK_MUST_USE;
/* An unsigned decimal or 0x-hex number up to max. */
mk_err ue_uint(const char *s, uint64_t max, uint64_t *v) MK_MUST_USE;
/* --time: 16 hex digits or 0x... = 64-bit NTP-UTC, decimal = unix seconds. */
mk_err ue_time(const char *s, uint64_t *ntp) MK_MUST_USE;

/* The TP flags as letters (RFC 6043 §6.10: D..O), e.g. "DEFGH". */
void ue_flags_text(uint16_t flags, char out[16]);

/* A peer's MIKEY Error message as one phrase: "MIKEY Error 1 (Invalid TS),
 * V verified" (every Error number, then whether its V verified). */
void ue_peer_error_text(const mk_ue_peer_error *pe, char *buf, size_t cap);

/* --- results: name=value lines, or one flat JSON object (--json) --- */
typedef struct ue_out {
    bool json;
    bool started;
} ue_out;

void ue_out_hex(ue_out *o, const char *name, mk_bytes v);
void ue_out_str(ue_out *o, const char *name, const char *v);
void ue_out_uint(ue_out *o, const char *name, uint64_t v);
void ue_out_end(ue_out *o); /* closes the JSON object */

/* --- where a built message goes --- */
typedef struct ue_sink {
    /* Deliver msg (what = "REQUEST_INIT", "TRANSFER_INIT", ...). A sink
     * that talks to the KMS puts the decoded answer into *answer (NULL:
     * the caller expects none); a sink without answers sets answer->n = 0.
     * The stdout sink prints one base64 line. */
    mk_err (*deliver)(struct ue_sink *self, const char *what, mk_bytes msg,
                      ue_msg *answer);
    /* One line on why the last deliver failed beyond its mk_err (e.g.
     * "HTTP 403 Forbidden: ..."), or NULL. */
    const char *(*why)(struct ue_sink *self);
} ue_sink;

ue_sink *ue_sink_stdout(void);

#endif
