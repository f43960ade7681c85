/* kms.h - the KMS core as the front ends see it: one call per request.
 *
 * Owns: mk_kms (configuration + a store + the loaded ticket keys), the
 * request entry point mk_kms_handle, and mk_kms_answer (either the MIKEY
 * answer bytes for a 200, or a refusal class that the front end maps to an
 * HTTP status with mk_err_http_status). No sockets, no FastCGI, no files: the
 * store is reached only through the mk_kms_store interface (kms/kms_store.h)
 * and time is given by the caller.
 */
#ifndef MK_KMS_KMS_H
#define MK_KMS_KMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/err.h"

struct mk_kms_store;
struct mk_kms_keysource;

/* The two services of the annex (X1.1). */
typedef enum mk_service {
    MK_SERVICE_TICKET_REQUEST = 1, /* requesttype=ticketrequest */
    MK_SERVICE_TICKET_RESOLVE = 2, /* requesttype=ticketresolve */
} mk_service;

#define MK_KMS_ID_MAX 256

typedef struct mk_kms_config {
    char kms_id[MK_KMS_ID_MAX]; /* Identity_kms, ID type URI (profile §4) */
    uint32_t skew_seconds;      /* T window, default 300 (profile §7) */
    uint32_t max_lifetime;      /* ticket lifetime cap, default 86400 (§5) */
    uint32_t default_lifetime;  /* TRe when the request names none: 3600 */
    /* a ticket with J = 0 resolved again by the same responder within
     * this many seconds of its first resolve (a lost RESOLVE_RESP, forked
     * devices of one IMPU): default 30 (doc/profile.md §9.37) */
    uint32_t reuse_grace_seconds;
    /* answers to one PSK identity: rate_identity_milli / 1000 a second,
     * bursts
     * of burst_identity (0: no limit; doc/profile.md §12.2) */
    uint32_t rate_identity_milli, burst_identity;
} mk_kms_config;

void mk_kms_config_defaults(mk_kms_config *c);

/* Largest answer the core produces (REQUEST_RESP with 8 keys is ~1 KiB). */
#define MK_ANSWER_MAX 8192

typedef struct mk_kms_answer {
    mk_err err;        /* MK_OK, a MIKEY check failure (body = Error msg), or
                          the refusal class (no body) */
    int http_status;   /* mk_err_http_status(err) */
    /* The message's V verified (with the sender's PSK): only then was a
     * record written; a front end counts the others (doc/profile.md
     * §9.39) */
    bool authenticated;
    /* the seconds a 503 asks the UE to wait, 0 = the front end's default
     * (set for MK_E_RATE_LIMITED: until the next token) */
    uint32_t retry_after;
    uint8_t body[MK_ANSWER_MAX];
    size_t body_len;   /* MIKEY bytes when http_status == 200 */
} mk_kms_answer;

typedef struct mk_kms mk_kms;

/* Create the core over a store (not owned). Runs the crypto self test;
 * returns NULL and sets *err on failure. */
mk_kms *mk_kms_new(const mk_kms_config *cfg, struct mk_kms_store *store,
                   mk_err *err);
void mk_kms_free(mk_kms *kms);

/* Replace the configuration of a core between two requests (kmsd's reload
 * on SIGHUP); the next mk_kms_handle uses it. MK_E_CONFIG (core unchanged)
 * for a configuration mk_kms_new would refuse. */
mk_err mk_kms_set_config(mk_kms *kms, const mk_kms_config *cfg) MK_MUST_USE;

/* Handle one request: `msg` is the decoded (not base64) MIKEY message of the
 * HTTP body, `now_ntp` the current time as a 64-bit NTP-UTC value. Always
 * fills `out`; returns out->err (so not MK_MUST_USE: the answer is what a
 * caller reads). */
mk_err mk_kms_handle(mk_kms *kms, mk_service service, mk_bytes msg,
                     uint64_t now_ntp, mk_kms_answer *out);

/* GBA (doc/profile.md §10). The key source (not owned; NULL: none) is
 * asked for an IDRpsk that the store does not know and that is a B-TID.
 * mk_kms_handle_ua handles a request whose HTTP layer authenticated
 * ua_user (the B-TID of the Digest username, Ua): its IDRpsk must be that
 * B-TID, else 403. mk_kms_handle is mk_kms_handle_ua without a user. */
void mk_kms_set_keysource(mk_kms *kms, struct mk_kms_keysource *ks);
mk_err mk_kms_handle_ua(mk_kms *kms, mk_service service, mk_bytes msg,
                        uint64_t now_ntp, mk_bytes ua_user,
                        mk_kms_answer *out);

#endif
