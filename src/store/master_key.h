/* master_key.h - the master key file of the store.
 *
 * Owns: reading and creating the file that holds the 32-byte key wrapping
 * every PSK and ticket key in the store (store.h). Format: 64 hex digits and
 * one newline. The file must be readable and writable by its owner only
 * (mode 0600 or stricter): a key file that group or others may read or
 * write is refused, because anyone who read it could unwrap every key. It
 * must be owned by the running user (root may also use the key of the
 * owner of its directory) and be the file itself, not a symbolic link
 * (doc/profile.md §9.31).
 */
#ifndef MK_STORE_MASTER_KEY_H
#define MK_STORE_MASTER_KEY_H

#include "crypto/crypto.h"
#include "util/err.h"

/* Load the key. MK_E_IO if the file cannot be opened or read; MK_E_CONFIG
 * if it is a symbolic link or not a regular file, is owned by another user
 * than the effective one, its mode gives group/others any access, or
 * its content is not exactly 64 hex digits (optionally followed by one
 * newline). mk_err_last()->what says which. out is wiped on failure. */
mk_err mk_master_key_load(const char *path, mk_key *out) MK_MUST_USE;

/* Draw a new key (mk_random) and write it to a NEW file created with mode
 * 0600 (O_EXCL: MK_E_EXISTS if the path exists; it is never overwritten).
 * The file is fsync'ed. out receives the key. */
mk_err mk_master_key_create(const char *path, mk_key *out) MK_MUST_USE;

#endif
