/* replay.c - timestamp window and replay cache of the initial messages
 * (RFC 3830 §5.3-5.4, RFC 6043 §12.4, profile §7).
 *
 * T must be NTP-UTC or NTP-UTC-32 and within the skew window of now. The
 * cache key is T (unix seconds) followed by a SHA-256 digest of (PSK id,
 * CSB ID, T, RAND) of an AUTHENTICATED message (this runs after V has verified, so an attacker
 * cannot fill the cache); the entry lives until T leaves the window. The
 * cache is the store's, shared by every responder process.
 *
 * The entry is not written here but with the answer's record, in ONE store
 * transaction (mk_record_commit; one commit per answer instead of two).
 * The answer is built first; if the store then finds the digest taken (a
 * copy was answered first, by this or another process) it writes nothing,
 * and kms.c discards the built answer and answers Error 1 instead. If the
 * cache cannot be written the answer is 503 and nothing is written. Every
 * other answer takes the entry, a 503 of the core included (doc/
 * profile.md §9.36): an authenticated message is processed once.
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
    uint8_t fixed[1 + 4 + 1 + 8 + 1], pl[1];
    mk_buf b;

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
    uint8_t h[32];
    MK_GUARD(mk_sha256(parts, 5, h));
    /* The key: T in unix seconds (big-endian), then 24 bytes of the digest.
     * The store keeps the cache in key order; with T first, new entries
     * land next to one another at the end of the index (a few hot pages)
     * instead of at random places of a cache that holds every message of
     * the last 2 x skew seconds. */
    for (int i = 0; i < 8; i++)
        r->replay_digest[i] = (uint8_t)(t_unix >> (56 - 8 * i));
    memcpy(r->replay_digest + 8, h, 24);
    r->replay_expires = t_unix + skew + 1;
    r->have_replay = true;
    return MK_OK;
}

mk_err mk_replay_refused(const mk_kms_req *r)
{
    MK_FAIL_AT(MK_E_MIKEY_TS, MK_PT_T, r->msg.chain.p[r->i_t].off,
               "replayed message");
}
