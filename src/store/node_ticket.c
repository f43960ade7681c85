/* node_ticket.c - tickets already resolved, for the J = 0 rule
 * (node_int.h mk_node_note_apply, doc/profile.md §9.37).
 *
 * One entry per ticket of TP flag J = 0 that was resolved, in the node
 * table MK_NODE_KV_TICKET, shared by every process of the machine: key the
 * ticket id (SHA-256 of its Ticket Data), value SHA-256 of the responder
 * identity of the first resolve and the time of that resolve, until the
 * ticket's end of validity. The read and the write are in the answer's
 * own transaction (node_answer.c), so of two first resolves by different
 * responders exactly one passes, whichever processes they reach, and a
 * note is never put for an answer that was not committed.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "store/node_int.h"

#define ENTRY_LEN (32 + 8)

typedef struct use {
    uint8_t who[32];  /* SHA-256 of the responder identity */
    uint64_t now, expires;
    uint32_t grace;
} use;

static mk_err decide(void *arg, bool found, mk_bytes cur,
                     uint64_t cur_expires, uint8_t *out, size_t *out_len,
                     uint64_t *expires)
{
    const use *u = arg;
    if (found) {
        /* a resolve before: the same responder within the grace only */
        if (cur.n != ENTRY_LEN)
            MK_FAIL(MK_E_UNAVAILABLE, "resolved-ticket entry damaged");
        uint64_t first = mk_node_get_u64(cur.p + 32);
        if (!mk_ct_equal(cur.p, u->who, 32))
            MK_FAIL(MK_E_POLICY, "ticket (J = 0) already resolved by "
                                 "another responder");
        if (u->now > first + u->grace)
            MK_FAIL(MK_E_POLICY, "ticket (J = 0) already resolved");
        memcpy(out, cur.p, ENTRY_LEN); /* kept as it was */
        *out_len = ENTRY_LEN;
        *expires = cur_expires;
        return MK_OK;
    }
    memcpy(out, u->who, 32);
    mk_node_put_u64(out + 32, u->now);
    *out_len = ENTRY_LEN;
    *expires = u->expires;
    return MK_OK;
}

mk_err mk_node_note_apply(MDB_txn *txn, mk_node *n,
                          const mk_resolve_note *note, uint64_t now_unix,
                          const char **refused)
{
    use u = {.now = now_unix,
             .expires = note->expires_unix,
             .grace = note->grace_seconds};
    *refused = NULL;
    if (note->expires_unix <= now_unix)
        MK_FAIL(MK_E_ARG, "resolved-ticket entry already expired");
    MK_GUARD(mk_sha256(&note->responder, 1, u.who));
    mk_err rc = mk_node_kv_update_in(txn, n, MK_NODE_KV_TICKET,
                                     MK_BYTES(note->ticket_id, 32), now_unix,
                                     decide, &u);
    if (rc == MK_E_POLICY) { /* decide wrote nothing */
        *refused = mk_err_last()->what; /* a literal of decide's */
        mk_err_clear();
        return MK_OK;
    }
    return rc;
}
