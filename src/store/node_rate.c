/* node_rate.c - token buckets shared by every process of the machine
 * (node.h mk_node_rate_take, doc/profile.md §12.2).
 *
 * One entry per bucket in the node table MK_NODE_KV_RATE: key SHA-256 of
 * the caller's name for it (a client address, a PSK identity: any length,
 * one key size), value the tokens left in millionths and the time they
 * were counted at in milliseconds. Rates are in thousandths of a token a
 * second (0.001 a second and up), so a millisecond adds rate_milli
 * millionths: integers throughout. The read, the refill and the take are
 * one transaction (mk_node_kv_update), so the processes of a node share
 * each bucket exactly. An entry lives until its bucket would be full
 * again: a bucket that is not there is full.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "store/node_int.h"

#define ENTRY_LEN 16
#define ONE 1000000u /* a token, in millionths */

typedef struct take {
    uint64_t rate, burst_micro, now_ms, now_unix;
    bool limited;
    uint64_t wait_ms;
} take;

static mk_err refill_and_take(void *arg, bool found, mk_bytes cur,
                              uint64_t cur_expires, uint8_t *out,
                              size_t *out_len, uint64_t *expires)
{
    take *t = arg;
    uint64_t tokens = t->burst_micro;
    (void)cur_expires;
    if (found && cur.n == ENTRY_LEN) {
        uint64_t left = mk_node_get_u64(cur.p);
        uint64_t at = mk_node_get_u64(cur.p + 8);
        /* a clock that went back refills nothing */
        uint64_t elapsed = t->now_ms > at ? t->now_ms - at : 0;
        /* the product is bounded by the burst before it can overflow */
        uint64_t room = t->burst_micro > left ? t->burst_micro - left : 0;
        uint64_t add = elapsed > room / t->rate ? room : elapsed * t->rate;
        tokens = left + add;
    } /* an entry of another size: damaged, taken as a full bucket */
    if (tokens >= ONE) {
        tokens -= ONE;
        t->limited = false;
    } else {
        t->limited = true;
        t->wait_ms = (ONE - tokens + t->rate - 1) / t->rate;
    }
    mk_node_put_u64(out, tokens);
    mk_node_put_u64(out + 8, t->now_ms);
    *out_len = ENTRY_LEN;
    /* full again after (burst - tokens) / rate: from then on, no entry
     * means the same */
    *expires = t->now_unix + (t->burst_micro - tokens) / t->rate / 1000 + 2;
    return MK_OK;
}

mk_err mk_node_rate_take(mk_node *n, mk_bytes name, uint32_t rate_milli,
                         uint32_t burst, uint64_t now_ms,
                         uint32_t *retry_after_s)
{
    uint8_t key[32];
    *retry_after_s = 0;
    if (rate_milli == 0 || burst == 0)
        MK_FAIL(MK_E_ARG, "rate limit without a rate or a burst");
    take t = {.rate = rate_milli, .burst_micro = (uint64_t)burst * ONE,
              .now_ms = now_ms, .now_unix = now_ms / 1000};
    MK_GUARD(mk_sha256(&name, 1, key));
    MK_GUARD(mk_node_kv_update(n, MK_NODE_KV_RATE, MK_BYTES(key, sizeof key),
                               t.now_unix, refill_and_take, &t));
    if (!t.limited)
        return MK_OK;
    *retry_after_s = (uint32_t)((t.wait_ms + 999) / 1000);
    MK_FAIL(MK_E_RATE_LIMITED, "over the rate limit");
}
