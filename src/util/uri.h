/* uri.h - the identities this KMS accepts as SIP or TEL URIs.
 *
 * Owns: mk_uri_sip_tel_ok, the one syntax check of an IMPU (kmsctl, the
 * store) and of every IDRi / IDRr the KMS core acts on (doc/profile.md
 * §9.35). A check of character sets, not a full parser: what matters is
 * that no byte outside the URI alphabets (CR, LF, space, quote, backslash,
 * a non-ASCII byte) reaches a record, a log or a comparison.
 */
#ifndef MK_UTIL_URI_H
#define MK_UTIL_URI_H

#include <stdbool.h>

#include "util/cursor.h"

/* True when u is "sip:", "sips:" (RFC 3261 §25.1) or "tel:" (RFC 3966
 * §3) in lower case followed by at least one character, every character
 * after the scheme in the URI's alphabet: ALPHA DIGIT - _ . ! ~ * ' ( )
 * ; / ? : @ & = + $ , [ ] and "%" HEXDIG HEXDIG; a tel: URI also "#"
 * (RFC 3966 phonedigit-hex). No length limit: callers apply theirs. */
bool mk_uri_sip_tel_ok(mk_bytes u);

#endif
