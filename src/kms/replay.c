/* replay.c - timestamp window and replay cache of the initial messages
 * (RFC 3830 §5.3-5.4, RFC 6043 §12.4, profile §7).
 *
 * T must be NTP-UTC or NTP-UTC-32 and within the skew window of now. The
 * cache key is a SHA-256 digest of (PSK id, CSB ID, T, RAND) of an
 * AUTHENTICATED message (this runs after V has verified, so an attacker
 * cannot fill the cache); the entry lives until T leaves the window. The
 * cache is the store's, shared by every responder process; when it cannot
 * be written the answer is 503 (MK_E_UNAVAILABLE passes through).
 */
#include "kms/context.h"

#include <string.h>

#include "util/ntp.h"

static const char domain[] = "mikeykms replay v1";

mk_err mk_replay_check(mk_kms_req *r)
{
    const mk_t *t = &r->msg.chain.p[r->i_t].u.t;
    mk_bytes rand = r->msg.chain.p[r->i_rand].u.randr.rand;
    uint32_t skew = r->kms->cfg.skew_seconds;
    uint64_t t_unix = 0;
    uint8_t digest[32], fixed[1 + 4 + 1 + 8 + 1], pl[1];
    mk_buf b;
    mk_err e;

    if (t->ts_type != MK_TS_NTP_UTC && t->ts_type != MK_TS_NTP_UTC_32)
        MK_FAIL_AT(MK_E_MIKEY_TS, MK_PT_T, r->msg.chain.p[r->i_t].off,
                   "T is not NTP-UTC / NTP-UTC-32");
    if (mk_ts_to_unix(t->ts_type, t->value, &t_unix) != MK_OK ||
        t_unix + skew < r->now_unix || t_unix > r->now_unix + skew)
        MK_FAIL_AT(MK_E_MIKEY_TS, MK_PT_T, r->msg.chain.p[r->i_t].off,
                   "T outside the skew window");

    /* length-prefixed fields: no two tuples share an encoding */
    pl[0] = (uint8_t)r->sub.psk_id_len;
    mk_buf_init(&b, fixed, sizeof fixed);
    MK_GUARD(mk_buf_u32(&b, r->hdr.csb_id));
    MK_GUARD(mk_buf_u8(&b, t->ts_type));
    MK_GUARD(mk_buf_u64(&b, t->value));
    MK_GUARD(mk_buf_u8(&b, (uint8_t)rand.n));
    mk_bytes parts[5] = {
        MK_BYTES(domain, sizeof domain),
        MK_BYTES(pl, 1),
        MK_BYTES(r->sub.psk_id, r->sub.psk_id_len),
        mk_buf_view(&b),
        rand,
    };
    MK_GUARD(mk_sha256(parts, 5, digest));
    e = r->kms->store->replay_insert(r->kms->store->ctx, digest,
                                     t_unix + skew + 1, r->now_unix);
    if (e == MK_E_MIKEY_TS)
        MK_FAIL_AT(MK_E_MIKEY_TS, MK_PT_T, r->msg.chain.p[r->i_t].off,
                   "replayed message");
    return e;
}
