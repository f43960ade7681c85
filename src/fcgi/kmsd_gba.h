/* kmsd_gba.h - kmsd as a GBA NAF (doc/profile.md §10): the key source the
 * KMS core asks for a B-TID (the node's Ks_NAF cache, else the Zn daemon
 * kms-znd over its Unix socket) and Ua authentication by HTTP Digest
 * (username B-TID, password base64(Ks_NAF)) with nonces counted in the
 * node table MK_NODE_KV_NONCE, so that no process of the node accepts a
 * nonce count twice.
 *
 * Owns: kmsd_gba_conf (what every worker reads, built once from the
 * configuration), kmsd_gba (one per worker thread: its connection to
 * kms-znd, the answer of the request being served), the Digest checks'
 * order (digest.h does each check), the challenge of a 401.
 */
#ifndef MK_FCGI_KMSD_GBA_H
#define MK_FCGI_KMSD_GBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/config.h"
#include "gba/digest.h"
#include "gba/gba.h"
#include "kms/kms_store.h"
#include "store/node.h"

typedef struct kmsd_gba_conf {
    bool on;                 /* gba = yes */
    bool digest;             /* ua_auth = digest */
    uint8_t naf_id[MK_GBA_NAF_ID_MAX];
    size_t naf_id_len;
    char realm[MK_DIGEST_REALM_MAX + 1];
    mk_hash_alg alg;
    uint32_t nonce_lifetime;
    uint8_t nonce_key[32];   /* a secret: from the master key */
    char zn_socket[108];
    uint32_t zn_timeout_ms;
    mk_policy policy;        /* of every GBA subscriber */
} kmsd_gba_conf;

/* From the configuration and the master key (the nonce key is derived from
 * it, so every process of the node recognises every other's nonces). */
mk_err kmsd_gba_conf_make(const mk_config *c, mk_bytes master,
                          kmsd_gba_conf *out) MK_MUST_USE;

typedef struct kmsd_gba kmsd_gba;

/* One per worker; conf, node and master key are borrowed. NULL when out
 * of memory. */
kmsd_gba *kmsd_gba_new(const kmsd_gba_conf *conf, mk_node *node,
                       const mk_key *master);
void kmsd_gba_free(kmsd_gba *g);
/* The key source to hand the core (mk_kms_set_keysource). */
mk_kms_keysource *kmsd_gba_keysource(kmsd_gba *g);
/* A new request begins: forget the last one's answer. */
void kmsd_gba_begin(kmsd_gba *g);
/* The health page's Zn check (doc/profile.md §12.1): MK_OK when kms-znd
 * answers and holds an open Diameter connection to the BSF; else
 * MK_E_UNAVAILABLE or MK_E_HTTP_ZN_TIMEOUT raised with the reason. */
mk_err kmsd_gba_zn_health(kmsd_gba *g) MK_MUST_USE;

/* Ua (ua_auth = digest): check the request's Authorization. MK_OK with
 * *user the authenticated B-TID (valid until the next request); else
 * MK_E_HTTP_AUTH (401; *stale when only the nonce aged), MK_E_POLICY
 * (403), MK_E_HTTP_ZN_TIMEOUT (504) or MK_E_UNAVAILABLE (503), each
 * raised with a static reason. */
mk_err kmsd_gba_ua_check(kmsd_gba *g, const char *method,
                         const char *request_uri, const char *authorization,
                         mk_bytes body, uint64_t now_unix, mk_bytes *user,
                         bool *stale) MK_MUST_USE;

/* The value of WWW-Authenticate for a 401: a fresh nonce. */
mk_err kmsd_gba_challenge(kmsd_gba *g, bool stale, uint64_t now_unix,
                          char *out, size_t cap) MK_MUST_USE;

#endif
