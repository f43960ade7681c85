/* node_gba.h - the Ks_NAF cache of the node (doc/profile.md §10): what the
 * BSF answered for a B-TID (IMPI, Ks_NAF, validity, the IMPUs of the USS),
 * kept in the node table MK_NODE_KV_GBA until its Key-ExpiryTime, so that
 * every kmsd process and thread of the machine asks the BSF once per
 * B-TID.
 *
 * Owns: the entry's layout and its protection. Ks_NAF is never on disk in
 * clear: it is AES key-wrapped (RFC 3394) under the master key together
 * with 16 bytes of SHA-256 over the rest of the entry (B-TID, NAF_Id,
 * times, IMPI, IMPUs), with the wrap's IV bound to the B-TID; an entry
 * moved to another B-TID, changed in any byte, or read under another
 * master key does not unwrap and is a miss. An entry of another NAF_Id
 * (kms_fqdn or the Ua id changed) is a miss.
 *
 * An entry longer than one node table value is stored in pieces under
 * keys derived from the B-TID; a reader that meets pieces of two writes
 * finds the check value wrong and takes it as a miss.
 */
#ifndef MK_STORE_NODE_GBA_H
#define MK_STORE_NODE_GBA_H

#include <stdint.h>

#include "gba/gba.h"
#include "store/node.h"
#include "util/cursor.h"
#include "util/err.h"

/* Keep g for btid until g->expires_unix (nothing is kept when that is not
 * after now). master: the 32-byte master key. MK_E_UNAVAILABLE when the
 * table is full or cannot be written. */
mk_err mk_node_gba_put(mk_node *n, mk_bytes master, mk_bytes naf_id,
                       mk_bytes btid, const mk_gba_info *g, uint64_t now_unix) MK_MUST_USE;
/* The live entry of btid for naf_id: MK_OK and *out filled, or
 * MK_E_NOT_FOUND (none, expired, another NAF_Id, damaged); MK_E_UNAVAILABLE
 * when the node cannot be read. */
mk_err mk_node_gba_get(mk_node *n, mk_bytes master, mk_bytes naf_id,
                       mk_bytes btid, uint64_t now_unix, mk_gba_info *out) MK_MUST_USE;
/* Forget btid's entry (every piece). */
mk_err mk_node_gba_delete(mk_node *n, mk_bytes btid) MK_MUST_USE;

#endif
