/* context.h - internals of the KMS core (the .c files of src/kms), not part of its API
 * (kms/kms.h).
 *
 * Owns: struct mk_kms, the per-request state mk_kms_req that the stages of
 * mk_kms_handle share (after MIT krb5's do_tgs_req.c: gather -> check ->
 * issue -> audit), and the prototypes that join the files:
 *   kms.c           entry, dispatch, the stages common to both services
 *   request.c       REQUEST_INIT_PSK -> REQUEST_RESP (RFC 6043 §4.2.1)
 *   resolve.c       RESOLVE_INIT_PSK -> RESOLVE_RESP (RFC 6043 §4.2.3)
 *   ticket.c        MIKEY base ticket seal / open (RFC 6043 App. A)
 *   policy_check.c  profile-dependent checks (profile §3-§6) and the list
 *                   of decisions beyond the profile's letter
 *   policy_grant.c  requested TP -> granted policy; resolve (profile §5)
 *   policy_tp.c     the granted TP Data (profile §5, RFC 6043 §6.10)
 *   error_msg.c     the MIKEY Error message (RFC 6043 §5.4, profile §3)
 *   replay.c        timestamp window and replay cache (profile §7)
 *   record.c        the audit record (profile §8)
 */
#ifndef MK_KMS_CONTEXT_H
#define MK_KMS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "kms/kms_store.h"
#include "kms/kms_vector.h"
#include "proto/proto.h"

struct mk_kms {
    mk_kms_config cfg;
    mk_kms_store *store;
    /* test vectors only (kms/kms_vector.h); NULL in every server */
    mk_kms_vector_random_fn vector_random;
    void *vector_ctx;
    mk_kms_keysource *keysource; /* GBA, NULL when off */
};

/* Largest encoded TP Data / Ticket Data / KEMAC ciphertext we produce.
 * The granted TP Data is bounded by the check stage (policy_check.c, doc/
 * profile.md §9.36): IDRkms, IDRi, up to MK_KMS_TP_IDRAPP_MAX IDRapp and
 * MK_RECORD_RESPONDERS IDRr of at most MK_URI_MAX - 1 bytes each, three
 * TR; policy_tp.c checks at compile time that this fits. */
#define MK_KMS_TP_DATA_MAX 4096
#define MK_KMS_TP_IDRAPP_MAX 2
#define MK_KMS_TICKET_DATA_MAX 1024
#define MK_KMS_KEMAC_MAX 1024
#define MK_KMS_RAND_MAX 64
/* MPK + 8 keys x (key + salt + SPI) + ticket RAND */
#define MK_KMS_RND_MAX (MK_KEY_MAX + 8 * (32 + 32 + 16) + MK_KMS_RAND_MAX)

/* The granted ticket policy (profile §5) and what it is built from. */
typedef struct mk_kms_grant {
    uint16_t flags;          /* granted, incl. D = 1 and K */
    uint8_t prf_func;        /* TP PRF = HDR PRF */
    bool changed;            /* -> K = 1 */
    uint64_t trs_ntp, tre_ntp; /* granted validity (NTP-UTC) */
    uint64_t trs_unix, tre_unix;
    /* session keys wanted: type, key/salt length, KV, SPI length */
    struct {
        uint8_t type, key_len, salt_len, kv, spi_len;
    } want[MK_KEYSET_MAX - 2];
    size_t n_want;
    size_t tp_data_len; /* granted TP Data, encoded: mk_kms_req.tp_data */
} mk_kms_grant;

/* Everything one request carries through the stages. Secrets: sub.psk,
 * keys_init (message keys of the received message), keys (session keys),
 * rnd; mk_kms_req_wipe wipes all of them.
 *
 * A run (handle_once) clears the members up to `msg` only: the large
 * members from `msg` on (some 17 KiB) are written before they are read on
 * every path, so clearing them per answer was wasted work. A member added
 * before `msg` is cleared; one added after it must be written before it is
 * read. */
typedef struct mk_kms_req {
    mk_kms *kms;
    mk_service service;
    uint64_t now_ntp, now_unix;
    mk_bytes ua_user;        /* B-TID authenticated over Ua, or none */

    /* gather */
    bool hdr_ok;             /* HDR decoded: an Error message is possible */
    mk_hdr hdr;              /* of the request (also when msg did not decode) */
    const mk_suite *suite;
    int i_t, i_rand, i_idr_self, i_idrkms, i_idrpsk, i_tp, i_v;
    bool have_sub;           /* sub holds the subscriber of the PSK */
    mk_bytes identity;       /* Identity_i (request) / Identity_r (resolve) */
    uint8_t identity_type;   /* ID type of that identity */
    mk_msg_keys keys_init;   /* kind-1 keys of the received message */
    bool authenticated;      /* V verified: Error answers carry a V */
    uint32_t retry_after;    /* of a rate-limited answer (seconds) */
    /* replay-cache entry of this message (replay.c), set once T is in the
     * window; written with the answer's record, in one transaction */
    uint8_t replay_digest[32];
    uint64_t replay_expires;
    bool have_replay;

    /* request: the granted policy; resolve: contents of the presented
     * ticket */
    mk_kms_grant grant;
    uint16_t ticket_flags;
    uint8_t ticket_prf;
    mk_bytes ticket_rand;    /* RAND of the sealed / presented ticket */
    int matched_idrr;        /* index in tp_chain of the responder's IDRr */
    /* a resolve of a J = 0 ticket that the policy let through: its note
     * (doc/profile.md §9.37) goes with the answer's commit, to be kept
     * until note_expires */
    bool note_reuse;
    uint64_t note_expires;

    /* issue */
    size_t rnd_len, rnd_used; /* of rnd */
    uint8_t ticket_id[32];   /* SHA-256 of Ticket Data */
    bool have_ticket_id;

    /* audit */
    mk_record rec;

    /* --- written before read: not cleared per run (above) --- */
    mk_message msg;          /* decoded request (spans into the input);
                                read only once it decoded */
    mk_subscriber sub;       /* filled by the store; read once have_sub */
    mk_chain tp_chain;       /* TP Data (requested TP / presented TICKET),
                                decoded before any use */
    uint8_t tp_data[MK_KMS_TP_DATA_MAX]; /* granted TP Data (grant) */
    mk_key_set keys;         /* MPK (or MPKi, MPKr) + session keys; filled
                                by key generation / the ticket's KEMAC */
    /* all randomness of one answer, drawn with ONE mk_random call (each
     * RAND_bytes costs a getpid() and the DRBG lock); a secret; refilled
     * when rnd_used == rnd_len */
    uint8_t rnd[MK_KMS_RND_MAX];
    uint8_t ticket_rand_buf[MK_KMS_RAND_MAX]; /* behind ticket_rand */
} mk_kms_req;

/* Draw n random bytes for this answer: refill the pool with one mk_random
 * call of `total` bytes when it is empty (for test vectors only: one call of
 * the kms_vector.h seam), then hand out slices. */
mk_err mk_kms_random(mk_kms_req *r, size_t total, uint8_t *out, size_t n) MK_MUST_USE;

/* --- kms.c: stages shared by request and resolve --- */
/* Responses (REQUEST_RESP, RESOLVE_RESP). begin: the kind-2 message keys k
 * (RFC 6043 §5.1.2), the answer keys ak sealed into *kemac (ciphertext in
 * cipher), and m started with the HDR copied from the request, a fresh T
 * and IDRkms; the caller adds its payloads (the KEMAC among them). finish:
 * the V over response || entire initial message (§5.5 Table 5.2), the
 * message written into out->body. */
mk_err mk_kms_resp_begin(const mk_kms_req *r, uint8_t data_type,
                         const mk_key_set *ak, mk_msg_keys *k,
                         uint8_t *cipher, size_t cipher_cap,
                         mk_payload *kemac, mk_message *m) MK_MUST_USE;
mk_err mk_kms_resp_finish(const mk_kms_req *r, mk_message *m,
                          const mk_msg_keys *k, mk_kms_answer *out) MK_MUST_USE;

/* --- request.c / resolve.c --- */
mk_err mk_kms_request(mk_kms_req *r, mk_kms_answer *out) MK_MUST_USE;
mk_err mk_kms_resolve(mk_kms_req *r, mk_kms_answer *out) MK_MUST_USE;

/* --- policy_check.c, policy_grant.c, policy_tp.c --- */
/* Header checks of profile §3 (data type, version, #CS, map type) and the
 * mandatory payloads of each initial message. */
mk_err mk_policy_check_header(const mk_kms_req *r) MK_MUST_USE;
mk_err mk_policy_check_structure(mk_kms_req *r) MK_MUST_USE;
/* The subscriber's PSK is as long as the suite's keys (Error 0). */
mk_err mk_policy_check_psk(const mk_kms_req *r) MK_MUST_USE;
/* Identity_i / Identity_r (profile §4): the claimed IDR, else first IMPU. */
void mk_policy_identity(mk_kms_req *r);
/* Profile §3: IDRkms, if present, names this KMS (Error 7). */
mk_err mk_policy_check_idrkms(const mk_kms_req *r, const mk_chain *c) MK_MUST_USE;
/* The sender's own IDR (IDRi / IDRr), when present, is a SIP or TEL URI
 * (Error 7, doc/profile.md §9.35). */
mk_err mk_policy_check_own_id(const mk_kms_req *r) MK_MUST_USE;
/* Requested TP -> granted TP (Errors 14, 15, 7; 403), profile §5. */
mk_err mk_policy_grant(mk_kms_req *r) MK_MUST_USE;
/* Resolve: ticket content and responder policy (403), profile §5. */
mk_err mk_policy_resolve(mk_kms_req *r) MK_MUST_USE;
/* Length of the ticket RAND / RANDRkms: >= every key, >= 16 (profile §4). */
size_t mk_policy_rand_len(const mk_key_set *ks);
/* Between the three files: this KMS's identity (IDRkms); whether id is an
 * IMPU of s; the MIKEY checks of the requested TP (Errors 14, 15, 7: TP
 * Data decoded into r->tp_chain, its TRs / TRe, KEMAC template index and
 * IDRr count found, the wanted keys in r->grant); the granted TP Data
 * encoded into r->tp_data. */
mk_bytes mk_policy_kms_id(const mk_kms_req *r);
bool mk_policy_is_impu_of(const mk_subscriber *s, mk_bytes id);
mk_err mk_policy_check_tp(mk_kms_req *r, const mk_tp *tp, const mk_tr **trs,
                          const mk_tr **tre, int *i_tmpl, size_t *n_idrr) MK_MUST_USE;
mk_err mk_policy_encode_tp(mk_kms_req *r) MK_MUST_USE;

/* --- ticket.c --- */
/* Seal r->keys (MPK first) into a base ticket with the active TPK and write
 * the TICKET payload (granted TP + Ticket Data + Initiator Data length 0)
 * into buf; *ticket is a payload pointing into buf. */
mk_err mk_ticket_seal(mk_kms_req *r, uint8_t *buf, size_t cap,
                      mk_payload *ticket) MK_MUST_USE;
/* Open a presented TICKET (Type 1/1/1 already checked): verify its MAC
 * with the named TPK, decrypt its keys into r->keys (MPK first), decode
 * its TP Data into r->ticket_tp. Error 0 on any failure, 503 when the store
 * is unavailable. */
mk_err mk_ticket_open(mk_kms_req *r, const mk_payload *ticket) MK_MUST_USE;

/* --- replay.c --- */
/* T type and skew window (Error 1), then the replay-cache entry of the
 * message (profile §7); the entry is written, and a replay detected, when
 * the answer is committed (mk_record_commit). */
mk_err mk_replay_check(mk_kms_req *r) MK_MUST_USE;
/* Raise Error 1 for a message whose copy was answered first. */
mk_err mk_replay_refused(const mk_kms_req *r) MK_MUST_USE;

/* --- error_msg.c --- */
/* Build the Error message for failure e into out (profile §3). */
mk_err mk_error_msg_build(const mk_kms_req *r, mk_err e, mk_kms_answer *out) MK_MUST_USE;

/* --- record.c --- */
/* Unauthenticated (V did not verify, or was never reached): commit no
 * record, only the check of the rows used (§9.39). Otherwise fill the
 * fields common to every record (time, service, subscriber,
 * identities) and commit it with outcome e, in one transaction with the
 * replay-cache entry when the answer carries one (an answer to an
 * authenticated message in the window, whatever the outcome, §9.36) and
 * with the J = 0 note of a resolve that got keys (§9.37). MK_E_MIKEY_TS:
 * the entry was taken first, and the same commit recorded the Error 1
 * the answer becomes. MK_E_POLICY: the store refused the note, and the
 * same commit recorded the refusal, which is the answer. */
mk_err mk_record_commit(mk_kms_req *r, mk_err e) MK_MUST_USE;
/* Append a responder to the record's JSON array of responders
 * (MK_E_INTERNAL past MK_RECORD_RESPONDERS or MK_URI_MAX - 1 bytes). */
mk_err mk_record_add_responder(mk_kms_req *r, mk_bytes id) MK_MUST_USE;
/* Append the SPI of every session key to the record. */
void mk_record_spis(mk_kms_req *r, const mk_key_set *ks, size_t first);
void mk_record_set_str(char *dst, size_t cap, mk_bytes src);

#endif
