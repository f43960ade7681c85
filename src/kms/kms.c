/* kms.c - the KMS core entry point: one call per HTTP request.
 *
 * Structure after MIT krb5's do_tgs_req.c: gather (decode, find the PSK)
 * -> check (header, V, timestamp and replay, IDRkms; then per service the
 * ticket and the policy) -> issue (build the answer) -> audit (one record
 * per answer). The check order is that of profile §3; no state is written
 * before V has verified (RFC 6043 §12). Every secret of the request lives in
 * mk_kms_req and is wiped by mk_kms_req_wipe on every path.
 *
 * The store is written once per answer, at the end: the replay-cache entry
 * and the record in one transaction (commit_answer). A replay is therefore
 * detected after the answer is built; the built answer is then discarded.
 *
 * Every answer goes through that commit, whatever it is: decode failures
 * (400), Error answers with or without V (an Error 0 "V does not verify"
 * too, computed with a PSK that may come from the store's cache), policy
 * refusals, 503s and successes; the answers to authenticated messages
 * with their record (profile §8), the others without (§9.39). This matters because the store may answer lookups from a
 * per-connection cache (store/store.h) and checks at that commit that the
 * rows are still current: MK_E_STALE means nothing was written and nothing
 * was sent, and mk_kms_handle runs the request once more from the decode,
 * on current rows (with fresh random values: nothing of the first run left
 * the KMS). So a subscriber disabled or re-keyed by kmsctl is refused from
 * the very next answer that commits after the change, not after a delay,
 * and a replay-cache entry (profile §7) is only ever taken by an answer
 * computed on current rows.
 */
#include "kms/context.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gba/gba.h"
#include "util/ntp.h"

void mk_kms_config_defaults(mk_kms_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->kms_id, "kms.example.org"); /* profile §4 */
    c->skew_seconds = 300;                /* profile §7 */
    c->max_lifetime = 86400;              /* profile §5 */
    c->default_lifetime = 3600;
    c->reuse_grace_seconds = 30;          /* profile §9.37 */
}

static mk_err config_check(const mk_kms_config *cfg)
{
    if (cfg->kms_id[0] == '\0' ||
        memchr(cfg->kms_id, '\0', sizeof cfg->kms_id) == NULL ||
        cfg->max_lifetime == 0 || cfg->default_lifetime == 0)
        MK_FAIL(MK_E_CONFIG, "kms_id empty, or a lifetime of 0 seconds");
    if ((cfg->rate_identity_milli == 0) != (cfg->burst_identity == 0))
        MK_FAIL(MK_E_CONFIG, "a rate limit needs both a rate and a burst");
    return MK_OK;
}

mk_kms *mk_kms_new(const mk_kms_config *cfg, struct mk_kms_store *store,
                   mk_err *err)
{
    mk_err e = MK_OK;
    mk_kms *k = NULL;
    if (cfg == NULL || store == NULL || store->subscriber_by_psk_id == NULL ||
        store->subscriber_by_impu == NULL ||
        store->ticket_key_active == NULL || store->ticket_key_by_id == NULL ||
        store->answer_commit == NULL) {
        e = mk_err_raise(MK_E_ARG, -1, 0, "KMS needs a config and a store");
        goto out;
    }
    if ((e = config_check(cfg)) != MK_OK)
        goto out;
    /* refuse to serve with broken crypto (libsrtp style) */
    if ((e = mk_crypto_selftest()) != MK_OK)
        goto out;
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        e = mk_err_raise(MK_E_INTERNAL, -1, 0, "out of memory");
        goto out;
    }
    k->cfg = *cfg;
    k->store = store;
out:
    if (err != NULL)
        *err = e;
    return k;
}

mk_err mk_kms_set_config(mk_kms *kms, const mk_kms_config *cfg)
{
    MK_ENSURE(kms != NULL && cfg != NULL, MK_E_ARG, "no KMS or no config");
    MK_GUARD(config_check(cfg));
    kms->cfg = *cfg;
    return MK_OK;
}

void mk_kms_free(mk_kms *kms)
{
    if (kms != NULL) {
        mk_wipe(kms, sizeof *kms);
        free(kms);
    }
}

void mk_kms_vector_random(mk_kms *kms, mk_kms_vector_random_fn fn, void *ctx)
{
    kms->vector_random = fn;
    kms->vector_ctx = ctx;
}

static void mk_kms_req_wipe(mk_kms_req *r)
{
    /* the secrets only: of the subscriber row, the PSK (the rest of the
     * 4 KiB row, IMPUs and policy, is not secret) */
    mk_key_wipe(&r->sub.psk);
    mk_msg_keys_wipe(&r->keys_init);
    mk_key_set_wipe(&r->keys);
    mk_wipe(r->rnd, sizeof r->rnd);
}

mk_err mk_kms_random(mk_kms_req *r, size_t total, uint8_t *out, size_t n)
{
    if (r->rnd_used == r->rnd_len) {
        if (total < n || total > sizeof r->rnd)
            MK_FAIL(MK_E_INTERNAL, "random pool request out of range");
        if (r->kms->vector_random == NULL) /* every server */
            MK_GUARD(mk_random(r->rnd, total));
        else /* the test-vector seam (kms/kms_vector.h) */
            MK_GUARD(r->kms->vector_random(r->kms->vector_ctx, r->rnd,
                                           total));
        r->rnd_len = total;
        r->rnd_used = 0;
    }
    if (n > r->rnd_len - r->rnd_used)
        MK_FAIL(MK_E_INTERNAL, "random pool exhausted");
    memcpy(out, r->rnd + r->rnd_used, n);
    mk_wipe(r->rnd + r->rnd_used, n);
    r->rnd_used += n;
    return MK_OK;
}

/* --- responses (REQUEST_RESP, RESOLVE_RESP) --- */

/* RFC 6043 §5.1.2: response label (0x02) with the same RANDs as the
 * initial message: RANDRi for the request, RANDRr for the resolve (RANDRi
 * empty, mikey.md §7 item 4). */
static mk_err resp_keys(const mk_kms_req *r, mk_msg_keys *k)
{
    mk_bytes rand = r->msg.chain.p[r->i_rand].u.randr.rand;
    bool req = r->service == MK_SERVICE_TICKET_REQUEST;
    return mk_msg_keys_6043(r->hdr.prf_func, mk_key_bytes(&r->sub.psk),
                            r->hdr.csb_id, MK_LABEL_KIND_RESPONSE,
                            req ? rand : MK_BYTES_NONE,
                            req ? MK_BYTES_NONE : rand, r->suite->encr_alg,
                            r->suite->mac_alg, k);
}

mk_err mk_kms_resp_begin(const mk_kms_req *r, uint8_t data_type,
                         const mk_key_set *ak, mk_msg_keys *k,
                         uint8_t *cipher, size_t cipher_cap,
                         mk_payload *kemac, mk_message *m)
{
    const char *kid = r->kms->cfg.kms_id;
    MK_GUARD(resp_keys(r, k));
    /* the KEMAC IV takes this response's CSB ID and T (mikey.md §7 item 3) */
    MK_GUARD(mk_kemac_seal(ak, k, r->hdr.csb_id, r->now_ntp, cipher,
                           cipher_cap, kemac));
    memset(m, 0, sizeof *m);
    /* RFC 6043 §4.2.1.5 / §4.2.3.5: version, PRF, CSB ID, #CS and map type
     * copied from the request (checked to be 1, 0, Empty), V = 0. */
    m->hdr.version = r->hdr.version;
    m->hdr.data_type = data_type;
    m->hdr.v = false;
    m->hdr.prf_func = r->hdr.prf_func;
    m->hdr.csb_id = r->hdr.csb_id;
    m->hdr.n_cs = 0;
    m->hdr.map_type = MK_MAP_EMPTY;
    m->hdr.map_info = MK_BYTES_NONE;
    mk_chain_init(&m->chain);
    MK_GUARD(mk_chain_add(&m->chain, mk_pl_t(MK_TS_NTP_UTC, r->now_ntp)));
    return mk_chain_add(&m->chain,
                        mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                  MK_BYTES(kid, strlen(kid))));
}

mk_err mk_kms_resp_finish(const mk_kms_req *r, mk_message *m,
                          const mk_msg_keys *k, mk_kms_answer *out)
{
    mk_buf b;
    /* RFC 6043 §5.5 Table 5.2: response-without-MAC || entire initial
     * message (incl. its MAC) */
    mk_bytes init = r->msg.raw;
    MK_GUARD(mk_chain_add(&m->chain,
                          mk_pl_v((uint8_t)r->suite->mac_alg,
                                  MK_BYTES(NULL,
                                           mk_mac_len(r->suite->mac_alg)))));
    mk_buf_init(&b, out->body, sizeof out->body);
    MK_GUARD(mk_v_encode_signed(m, mk_key_bytes(&k->auth), &init, 1, &b));
    out->body_len = b.n;
    return MK_OK;
}

/* --- gather and the checks both services share --- */

/* doc/profile.md §10: an IDRpsk the store does not know, that is a B-TID,
 * goes to the GBA key source. A request authenticated over Ua must name
 * the same B-TID in IDRpsk (403 otherwise). */
static mk_err psk_by_id(mk_kms_req *r, mk_bytes id)
{
    mk_kms_store *st = r->kms->store;
    mk_kms_keysource *ks = r->kms->keysource;
    uint8_t rand[MK_GBA_RAND_LEN];
    if (r->ua_user.n > 0 && !mk_bytes_equal(id, r->ua_user))
        MK_FAIL(MK_E_POLICY, "IDRpsk is not the B-TID of the Ua credentials");
    mk_err e = st->subscriber_by_psk_id(st->ctx, id, &r->sub);
    if (e == MK_E_NOT_FOUND && ks != NULL &&
        mk_gba_btid_parse(id, rand, NULL))
        e = ks->subscriber_by_btid(ks->ctx, id, r->now_unix, &r->sub);
    return e;
}

/* Profile §4: IDRpsk if present, else the IDR naming the sender (IDRi for
 * the request, IDRr for the resolve), an IMPU of exactly one subscriber. */
static mk_err find_psk(mk_kms_req *r)
{
    mk_kms_store *st = r->kms->store;
    mk_err e;
    if (r->i_idrpsk >= 0)
        e = psk_by_id(r, r->msg.chain.p[r->i_idrpsk].u.idr.data);
    else if (r->ua_user.n > 0)
        MK_FAIL(MK_E_POLICY, "Ua credentials but no IDRpsk");
    else if (r->i_idr_self >= 0)
        e = st->subscriber_by_impu(st->ctx,
                                   r->msg.chain.p[r->i_idr_self].u.idr.data,
                                   &r->sub);
    else
        MK_FAIL(MK_E_MIKEY_AUTH, "neither IDRpsk nor an IDR names the PSK");
    if (e == MK_E_NOT_FOUND)
        MK_FAIL(MK_E_MIKEY_AUTH, "no PSK for this IDRpsk / IDR");
    if (e != MK_OK) {
        mk_subscriber_wipe(&r->sub);
        return e;
    }
    if (r->sub.psk.n == 0)
        MK_FAIL(MK_E_MIKEY_AUTH, "subscriber without a PSK");
    r->have_sub = true;
    return MK_OK;
}

/* Verify V with the kind-1 keys (RFC 6043 §5.1.2, §5.5 Table 5.2):
 * message-without-MAC || Identity_i (or _r) || Identity_kms. */
static mk_err verify_v(mk_kms_req *r)
{
    bool req = r->service == MK_SERVICE_TICKET_REQUEST;
    mk_bytes rand = r->msg.chain.p[r->i_rand].u.randr.rand;
    const char *kid = r->kms->cfg.kms_id;
    mk_bytes extra[2] = {r->identity, MK_BYTES(kid, strlen(kid))};
    mk_msg_keys *k = &r->keys_init;
    mk_label l;
    /* Only the auth_key of mk_msg_keys_6043 (same label, RFC 6043 §5.1.2):
     * the initial message carries no KEMAC for the KMS to decrypt, and the
     * key also signs an Error answer (§5.4). */
    k->encr_alg = r->suite->encr_alg;
    k->mac_alg = r->suite->mac_alg;
    k->auth.n = mk_auth_key_len(r->suite->mac_alg);
    MK_GUARD(mk_label_6043_msg(&l, MK_C_AUTH_KEY, r->hdr.csb_id,
                               MK_LABEL_KIND_INITIAL,
                               req ? rand : MK_BYTES_NONE,
                               req ? MK_BYTES_NONE : rand));
    MK_GUARD(mk_prf(r->hdr.prf_func, mk_key_bytes(&r->sub.psk),
                    MK_BYTES(l.b, l.n), k->auth.b, k->auth.n));
    MK_GUARD(mk_v_verify(&r->msg, mk_key_bytes(&r->keys_init.auth), extra, 2));
    r->authenticated = true;
    return MK_OK;
}

/* doc/profile.md §12.2: the limit per PSK identity counts only messages
 * that authenticated as it (V verified) and are not replays, so that no
 * one else can spend a subscriber's tokens; it comes before the work of
 * the answer (ticket, keys). Over it: 503 with the time to the next
 * token, recorded, and the message's replay entry taken (§9.36): the UE
 * sends a new message after the wait. */
static mk_err rate_check(mk_kms_req *r)
{
    mk_kms_store *st = r->kms->store;
    const mk_kms_config *c = &r->kms->cfg;
    if (c->rate_identity_milli == 0 || st->rate_take == NULL)
        return MK_OK;
    uint64_t now_ms = r->now_unix * 1000 +
                      (uint64_t)mk_ntp_to_unix_nsec(r->now_ntp) / 1000000;
    return st->rate_take(st->ctx, MK_BYTES(r->sub.psk_id, r->sub.psk_id_len),
                         c->rate_identity_milli, c->burst_identity, now_ms,
                         &r->retry_after);
}

static mk_err check_and_issue(mk_kms_req *r, mk_kms_answer *out)
{
    const mk_payload *v;
    MK_GUARD(mk_policy_check_header(r));     /* 11, 12 */
    MK_GUARD(mk_policy_check_structure(r));  /* 12 */
    v = &r->msg.chain.p[r->i_v];
    MK_GUARD(mk_suite_of(r->hdr.prf_func, v->u.v.auth_alg, &r->suite)); /* 2, 3 */
    MK_GUARD(find_psk(r));                   /* 0 */
    MK_GUARD(mk_policy_check_psk(r));        /* 0 */
    mk_policy_identity(r);
    MK_GUARD(verify_v(r));                   /* 0 */
    MK_GUARD(mk_replay_check(r));            /* 1 (with V from here on) */
    MK_GUARD(rate_check(r));                 /* 503 */
    MK_GUARD(mk_policy_check_idrkms(r, &r->msg.chain)); /* 7 */
    MK_GUARD(mk_policy_check_own_id(r));     /* 7 */
    if (r->service == MK_SERVICE_TICKET_REQUEST)
        return mk_kms_request(r, out);
    return mk_kms_resolve(r, out);
}

/* The audit stage: commit the record of outcome e with the replay-cache
 * entry (record.c), one commit whatever happens. When the entry was taken
 * first (a copy of the message answered, here or in another process or
 * node: RFC 3830 §5.4, profile §7), the answer built for e is wiped and
 * replaced by Error 1 with V, which that commit recorded. When the store
 * refused the J = 0 note of a resolve (another resolve of the ticket came
 * first, profile §9.37), the keys built are wiped and the answer is the
 * 403 that commit recorded. No answer leaves that was not recorded: a
 * failed commit is a 503. Returns the outcome, or MK_E_STALE (nothing
 * recorded, nothing to send: the request is run again). */
static mk_err commit_answer(mk_kms_req *r, mk_err e, mk_kms_answer *out)
{
    mk_err c = mk_record_commit(r, e);
    if (c == MK_E_POLICY || c == MK_E_MIKEY_TS) {
        mk_wipe(out->body, out->body_len);
        out->body_len = 0;
    }
    if (c == MK_E_POLICY)
        return c;
    if (c == MK_E_MIKEY_TS) {
        e = mk_replay_refused(r);
        /* a failure here is a bug (the buffer is sized for any Error
         * message); the 503 then leaves under the record of Error 1 */
        if (mk_error_msg_build(r, e, out) != MK_OK)
            e = MK_E_INTERNAL;
        return e;
    }
    if (c == MK_E_STALE) /* nothing written: mk_kms_handle runs it again */
        return c;
    return c == MK_OK ? e : MK_E_UNAVAILABLE;
}

/* What reaches the front end: codec errors of the input stay (400), the
 * MIKEY checks, policy and unavailability stay; everything else is a bug
 * that maps to 503 (profile §2). */
static bool is_kept(mk_err e)
{
    return mk_err_mikey_errno(e) != MK_MIKEY_ERRNO_NONE ||
           e == MK_E_POLICY || e == MK_E_UNAVAILABLE ||
           e == MK_E_RATE_LIMITED ||
           e == MK_E_HTTP_AUTH || e == MK_E_HTTP_ZN_TIMEOUT; /* GBA */
}

/* One run of a request: gather -> check -> issue -> audit. Returns the
 * outcome, or MK_E_STALE when the store found at the commit that the
 * lookups were not current (nothing written). */
static mk_err handle_once(mk_kms *kms, mk_service service, mk_bytes msg,
                          uint64_t now_ntp, mk_bytes ua_user, mk_kms_req *r,
                          mk_kms_answer *out)
{
    mk_err e;

    out->body_len = 0;
    /* the members from msg on are written before they are read
     * (context.h) */
    memset(r, 0, offsetof(mk_kms_req, msg));
    r->kms = kms;
    r->service = service;
    r->ua_user = ua_user;
    r->now_ntp = now_ntp;
    r->now_unix = mk_ntp_to_unix(now_ntp);
    r->i_t = r->i_rand = r->i_idr_self = r->i_idrkms = r->i_idrpsk = -1;
    r->i_tp = r->i_v = r->matched_idrr = -1;

    e = mk_message_decode(msg, &r->msg);
    if (e == MK_OK && r->msg.hdr.data_type == MK_DT_ERROR)
        /* RFC 3830 §5.1.2: an Error message is never answered with one */
        e = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 1,
                         "an Error message is not answered");
    if (e == MK_OK) {
        r->hdr = r->msg.hdr;
        r->hdr_ok = true;
        e = check_and_issue(r, out);
        if (e != MK_OK && !is_kept(e))
            e = MK_E_INTERNAL;
        if (mk_err_mikey_errno(e) != MK_MIKEY_ERRNO_NONE &&
            mk_error_msg_build(r, e, out) != MK_OK)
            e = MK_E_INTERNAL;
    }
    /* profile §8: one record per answer, refusals too (without keys) */
    return commit_answer(r, e, out);
}

void mk_kms_set_keysource(mk_kms *kms, mk_kms_keysource *ks)
{
    kms->keysource = ks;
}

mk_err mk_kms_handle(mk_kms *kms, mk_service service, mk_bytes msg,
                     uint64_t now_ntp, mk_kms_answer *out)
{
    return mk_kms_handle_ua(kms, service, msg, now_ntp, MK_BYTES_NONE, out);
}

mk_err mk_kms_handle_ua(mk_kms *kms, mk_service service, mk_bytes msg,
                        uint64_t now_ntp, mk_bytes ua_user,
                        mk_kms_answer *out)
{
    mk_kms_req req_mem;
    mk_kms_req *r = &req_mem;
    mk_err e = handle_once(kms, service, msg, now_ntp, ua_user, r, out);

    if (e == MK_E_STALE) {
        /* Nothing was written or sent: forget this run and run again. The
         * store dropped the rows it had cached, so the rerun reads current
         * ones; a second MK_E_STALE is not expected (no cached row left to
         * be stale) and is answered 503, the UE retries. */
        mk_wipe(out->body, out->body_len);
        out->body_len = 0;
        mk_kms_req_wipe(r);
        e = handle_once(kms, service, msg, now_ntp, ua_user, r, out);
        if (e == MK_E_STALE)
            e = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                             "store rows changed under two runs");
    }
    if (e != MK_OK && mk_err_http_status(e) != 200) {
        mk_wipe(out->body, out->body_len);
        out->body_len = 0;
    }
    out->err = e;
    out->http_status = mk_err_http_status(e);
    out->authenticated = r->authenticated;
    out->retry_after = e == MK_E_RATE_LIMITED ? r->retry_after : 0;
    mk_kms_req_wipe(r);
    return e;
}
