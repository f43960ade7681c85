/* kms_store.h - what the KMS core needs from a store, as an interface.
 *
 * Owns: the records the core reads and writes (subscriber, ticket key,
 * audit record) and mk_kms_store, a table of functions over an opaque
 * context. The SQLite store (store/store.h) is one implementation; tests may
 * bring others. Keys cross this interface in clear inside mk_key buffers;
 * at rest they are wrapped by the implementation.
 *
 * Every function returns MK_OK, MK_E_NOT_FOUND where a lookup found nothing,
 * or MK_E_UNAVAILABLE when the store is locked or down past its timeout
 * (mapped to 503, profile §2).
 */
#ifndef MK_KMS_KMS_STORE_H
#define MK_KMS_KMS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_PSK_ID_MAX 128   /* IDRpsk ID Data (a B-TID fits) */
#define MK_URI_MAX 256      /* one IMPU or responder pattern */
#define MK_IMPU_MAX 8       /* IMPUs per subscriber */
#define MK_PATTERN_MAX 8    /* allowed-responder patterns per subscriber */
#define MK_TK_ID_MAX 32     /* ticket key id (IDRpsk in Ticket Data) */

/* Subscriber policy (profile §5). */
typedef struct mk_policy {
    /* fnmatch(3) patterns an IDRr must match; none = any sip:/tel: URI */
    char responder_patterns[MK_PATTERN_MAX][MK_URI_MAX];
    size_t n_patterns;
    uint32_t max_lifetime; /* seconds; 0 = the KMS default */
    bool forking_allowed;
    bool reuse_allowed;
    /* RFC 6043 §6.10 L and M: the Initiator / the Responder may supply
     * session keys (bypassing KMS-generated ones); default no */
    bool initiator_keys_allowed;
    bool responder_keys_allowed;
} mk_policy;

/* A subscriber (profile §4). */
typedef struct mk_subscriber {
    uint8_t psk_id[MK_PSK_ID_MAX];
    size_t psk_id_len;
    mk_key psk; /* 16 or 32 bytes */
    char impu[MK_IMPU_MAX][MK_URI_MAX];
    size_t n_impu;
    bool active;
    mk_policy policy;
} mk_subscriber;

/* Inline, with the struct: GBA (below the KMS core) and the stores
 * (beside it, behind this interface) fill an mk_subscriber and may not
 * call into the core (tests/layers.sh). */
static inline void mk_subscriber_wipe(mk_subscriber *s)
{
    /* the PSK is the one secret (wiped); IMPUs and policy (some 4 KiB of
     * fixed arrays) are only cleared, for the store that fills *s */
    if (s != NULL) {
        mk_key_wipe(&s->psk);
        memset(s, 0, sizeof *s);
    }
}

typedef enum mk_tk_state {
    MK_TK_ACTIVE = 0,       /* seals new tickets (exactly one at a time) */
    MK_TK_RESOLVE_ONLY = 1, /* resolves tickets it sealed, seals none */
    MK_TK_RETIRED = 2,      /* resolves nothing */
} mk_tk_state;

/* A ticket protection key, TPK (profile §6). */
typedef struct mk_ticket_key {
    uint8_t id[MK_TK_ID_MAX];
    size_t id_len;
    mk_key key; /* 32 bytes */
    mk_tk_state state;
} mk_ticket_key;

/* One audit record (profile §8). Strings are NUL-terminated. */
#define MK_RECORD_SPIS_MAX 160
/* Responders a requested TP may name (doc/profile.md §9.35); the record
 * lists them all as a JSON array of strings, each an IDRr of at most
 * MK_URI_MAX - 1 characters: ["sip:bob@example.org","tel:+1555"]. */
#define MK_RECORD_RESPONDERS 8
#define MK_RECORD_RESPONDER_MAX (2 + MK_RECORD_RESPONDERS * (MK_URI_MAX + 2))
typedef struct mk_record {
    uint64_t time_unix;
    int service;                          /* mk_service */
    char subscriber[2 * MK_PSK_ID_MAX + 1]; /* PSK id, printable or hex */
    char initiator[MK_URI_MAX];
    char responder[MK_RECORD_RESPONDER_MAX]; /* JSON array, "[]" = none */
    char ticket_id[65];                   /* hex SHA-256 of Ticket Data */
    uint64_t valid_from;                  /* unix seconds, 0 = none */
    uint64_t valid_to;
    char spis[MK_RECORD_SPIS_MAX];        /* hex SPIs, comma separated */
    char outcome[48];                     /* "ok" or mk_err_name() */
} mk_record;

/* The J = 0 rule (doc/profile.md §9.37) as an answer carries it to its
 * commit: the Ticket Resolve that got keys for a ticket of TP flag J = 0
 * notes it, in the same transaction as its replay entry and record, so
 * that the rule costs no round trip of its own to a remote store. */
typedef struct mk_resolve_note {
    const uint8_t *ticket_id;  /* 32 bytes, SHA-256 of the Ticket Data */
    mk_bytes responder;        /* Identity_r of this resolve */
    uint64_t expires_unix;     /* keep the note until then (the TRe) */
    uint32_t grace_seconds;    /* the same responder may resolve again */
    /* written instead of the answer's record when the note is refused
     * (the refusal is recorded, not the keys that are not sent) */
    const mk_record *refused;
} mk_resolve_note;

/* Everything one answer writes, committed by answer_commit. */
typedef struct mk_answer_write {
    /* the replay-cache entry (32 bytes naming an authenticated message by
     * PSK id, CSB ID, T, RAND, profile §7: T first, so that keys sort by
     * time) that lives until expires_unix; NULL: none */
    const uint8_t *digest;
    uint64_t expires_unix;
    uint64_t now_unix;              /* the answer's clock */
    const mk_record *record;        /* the answer's (profile §8); NULL: none */
    const mk_resolve_note *note;    /* the J = 0 note; NULL: none */
    /* with a digest: the record of the Error 1 the answer becomes when a
     * copy of the message took the entry first; NULL: nothing then */
    const mk_record *replayed;
} mk_answer_write;

typedef struct mk_kms_store {
    void *ctx;
    /* The subscriber lookups fill all of *out when they return MK_OK (the
     * core does not clear it first). */
    mk_err (*subscriber_by_psk_id)(void *ctx, mk_bytes psk_id,
                                   mk_subscriber *out);
    /* The one subscriber that owns this IMPU; MK_E_NOT_FOUND when none or
     * more than one does (profile §4). */
    mk_err (*subscriber_by_impu)(void *ctx, mk_bytes impu, mk_subscriber *out);
    mk_err (*ticket_key_active)(void *ctx, mk_ticket_key *out);
    mk_err (*ticket_key_by_id)(void *ctx, mk_bytes id, mk_ticket_key *out);
    /* Every write of one answer w, in ONE transaction (one round trip to
     * a remote store): the replay entry, the record and the note. All are
     * written or none, with two exceptions that are answers too:
     *
     * - MK_E_MIKEY_TS: the digest is already there and unexpired (a copy
     *   of the message was answered first, by this or by another process
     *   or node sharing the store), or its expiry is at or before the
     *   store's replay mark; w->replayed is recorded in place of
     *   w->record, nothing else is written.
     * - MK_E_POLICY: the note was refused. The note passes for the first
     *   resolve of note->ticket_id (or over a note that expired) and for
     *   a later one by the same responder within grace_seconds of the
     *   first; any other is refused, and then the replay entry and
     *   note->refused are written in place of w->record (doc/profile.md
     *   §9.36: every authenticated answer takes its entry), the note left
     *   as it was. Exact across every process and node sharing the store.
     *
     * MK_E_ARG if a record field is not NUL-terminated, or a note or a
     * replayed record comes without what it goes with.
     *
     * MK_E_STALE, with NOTHING written: the lookups of this answer (the
     * calls above since the previous answer_commit on this store) came
     * from a snapshot that is no longer current (an implementation that
     * caches rows finds at commit that they changed since); the caller
     * runs the request again, and the new lookups read current rows. An
     * implementation that returns it must check, inside the transaction
     * that writes, every answer whose lookups it served from a cache,
     * including record-only ones (digest NULL), so that no answer is ever
     * committed on rows older than its commit. */
    mk_err (*answer_commit)(void *ctx, const mk_answer_write *w);
    /* The rate limit per PSK identity (doc/profile.md §12.2): take a token
     * of the bucket `name` (rate_milli / 1000 a second, at most burst),
     * shared by every process that shares the store's node. MK_OK, or
     * MK_E_RATE_LIMITED with *retry_after_s set. NULL: no limits. */
    mk_err (*rate_take)(void *ctx, mk_bytes name, uint32_t rate_milli,
                        uint32_t burst, uint64_t now_ms,
                        uint32_t *retry_after_s);
} mk_kms_store;

/* A second source of PSKs (doc/profile.md §10): subscribers no store
 * holds, named by an IDRpsk that is a GBA B-TID (TS 33.220 §4.5.2). kmsd
 * fills it with its client of the Zn daemon and the node's Ks_NAF cache;
 * the core asks it only after the store found no subscriber for the
 * IDRpsk. subscriber_by_btid returns MK_OK with out filled (PSK = Ks_NAF,
 * IMPUs = those the BSF's user security settings list), MK_E_HTTP_AUTH
 * (the BSF does not know the B-TID or its key expired: 401, the UE
 * bootstraps again), MK_E_POLICY (the BSF does not authorise this NAF:
 * 403), MK_E_HTTP_ZN_TIMEOUT (no answer over Zn in time: 504) or
 * MK_E_UNAVAILABLE (no Zn: 503). */
typedef struct mk_kms_keysource {
    void *ctx;
    mk_err (*subscriber_by_btid)(void *ctx, mk_bytes btid, uint64_t now_unix,
                                 mk_subscriber *out);
} mk_kms_keysource;

#endif
