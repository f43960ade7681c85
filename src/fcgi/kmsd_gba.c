/* kmsd_gba.c - the GBA key source and Ua Digest checks of kmsd
 * (kmsd_gba.h). */
#include "fcgi/kmsd_gba.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/kmsd_io.h"
#include "fcgi/kmsd_log.h"
#include "fcgi/kmsd_stats.h"
#include "gba/zn_wire.h"
#include "store/node_gba.h"
#include "util/base64.h"

struct kmsd_gba {
    const kmsd_gba_conf *conf;
    mk_node *node;
    const mk_key *master;
    int zn_fd;                 /* connection to kms-znd, -1 when none */
    mk_kms_keysource iface;
    /* the bootstrapping info of this request's B-TID (Ua check, then the
     * core), a secret */
    bool memo_ok;
    uint8_t memo_btid[MK_GBA_BTID_MAX];
    size_t memo_btid_len;
    mk_gba_info memo;
    uint8_t frame[MK_ZN_FRAME_MAX];
};

mk_err kmsd_gba_conf_make(const mk_config *c, mk_bytes master,
                          kmsd_gba_conf *out)
{
    static const char label[] = "mikeykms-digest-nonce-key";
    const mk_bytes l = MK_BYTES(label, sizeof label - 1);
    memset(out, 0, sizeof *out);
    out->on = c->gba;
    if (!c->gba)
        return MK_OK;
    out->digest = c->ua_digest;
    MK_GUARD(mk_gba_naf_id(mk_config_naf_fqdn(c), c->ua_protocol_id,
                           out->naf_id, sizeof out->naf_id,
                           &out->naf_id_len));
    MK_GUARD(mk_digest_realm(mk_config_naf_fqdn(c), out->realm,
                             sizeof out->realm));
    out->alg = (mk_hash_alg)c->ua_digest_alg;
    out->nonce_lifetime = c->ua_nonce_lifetime;
    MK_GUARD(mk_mac(MK_MAC_HMAC_SHA256_256, master, &l, 1, out->nonce_key,
                    sizeof out->nonce_key));
    size_t n = strlen(c->zn_socket);
    MK_ENSURE(n > 0 && n < sizeof out->zn_socket, MK_E_CONFIG,
              "zn_socket path too long for a unix socket");
    memcpy(out->zn_socket, c->zn_socket, n + 1);
    out->zn_timeout_ms = c->zn_timeout_ms;
    /* GBA subscribers are provisioned by nobody: the KMS's defaults, with
     * forking as configured (doc/profile.md §10) */
    out->policy.forking_allowed = c->gba_forking;
    return MK_OK;
}

kmsd_gba *kmsd_gba_new(const kmsd_gba_conf *conf, mk_node *node,
                       const mk_key *master)
{
    kmsd_gba *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->conf = conf;
    g->node = node;
    g->master = master;
    g->zn_fd = -1;
    return g;
}

void kmsd_gba_free(kmsd_gba *g)
{
    if (g == NULL)
        return;
    if (g->zn_fd >= 0)
        close(g->zn_fd);
    mk_gba_info_wipe(&g->memo);
    mk_wipe(g->frame, sizeof g->frame);
    free(g);
}

void kmsd_gba_begin(kmsd_gba *g)
{
    if (g != NULL && g->memo_ok) {
        mk_gba_info_wipe(&g->memo);
        g->memo_ok = false;
    }
}

/* ------------------------------------------------------------------ */
/* kms-znd                                                             */

static void zn_close(kmsd_gba *g)
{
    if (g->zn_fd >= 0)
        close(g->zn_fd);
    g->zn_fd = -1;
}

static mk_err zn_connect(kmsd_gba *g)
{
    struct sockaddr_un sa;
    if (g->zn_fd >= 0)
        return MK_OK;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        MK_FAIL(MK_E_UNAVAILABLE, "no socket for the Zn daemon");
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, g->conf->zn_socket, strlen(g->conf->zn_socket) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        MK_FAIL(MK_E_UNAVAILABLE, "the Zn daemon (kms-znd) is not running");
    }
    g->zn_fd = fd;
    return MK_OK;
}

/* One question to kms-znd (rq, framed into g->frame), its answer within
 * wait_ms. A connection the daemon closed since the last question (idle,
 * restarted) is opened again once. */
static mk_err zn_exchange(kmsd_gba *g, const mk_zn_request *rq, int wait_ms,
                          mk_zn_answer *a)
{
    size_t n = 0, body = 0;
    MK_GUARD(mk_zn_request_encode(rq, g->frame, sizeof g->frame, &n));
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = g->zn_fd >= 0;
        MK_GUARD(zn_connect(g));
        int r = kmsd_io_write_all(g->zn_fd, g->frame, n)
                    ? kmsd_io_read_all(g->zn_fd, g->frame, 4, wait_ms)
                    : 0;
        if (r == 1 && mk_zn_frame_len(g->frame, &body) == MK_OK)
            r = kmsd_io_read_all(g->zn_fd, g->frame + 4, body, wait_ms);
        else if (r == 1)
            r = -1;
        if (r == 1) {
            mk_err e = mk_zn_answer_decode(MK_BYTES(g->frame + 4, body),
                                           rq->op, a);
            mk_wipe(g->frame, sizeof g->frame);
            if (e != MK_OK) {
                zn_close(g);
                MK_FAIL(MK_E_UNAVAILABLE, "the Zn daemon's answer is garbled");
            }
            return MK_OK;
        }
        zn_close(g);
        if (r == -2)
            MK_FAIL(MK_E_HTTP_ZN_TIMEOUT, "the Zn daemon did not answer");
        if (!(r == 0 && reused))
            break;
    }
    MK_FAIL(MK_E_UNAVAILABLE, "the Zn daemon went away");
}

/* The BSF's verdict on btid through kms-znd, timed into the node's Zn
 * histogram and counted by verdict (fcgi/kmsd_stats.h). */
static mk_err zn_ask(kmsd_gba *g, mk_bytes btid, mk_zn_answer *a)
{
    mk_zn_request rq;
    memset(&rq, 0, sizeof rq);
    rq.op = MK_ZN_OP_LOOKUP;
    MK_GUARD(mk_bytes_copy(rq.btid, sizeof rq.btid, &rq.btid_len, btid));
    memcpy(rq.naf_id, g->conf->naf_id, g->conf->naf_id_len);
    rq.naf_id_len = g->conf->naf_id_len;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* kms-znd answers within the Zn timeout; past it plus a margin, the
     * daemon itself is stuck: no answer over Zn either */
    mk_err e = zn_exchange(g, &rq, (int)g->conf->zn_timeout_ms + 1000, a);
    kmsd_stats_zn_lookup(g->node, e, e == MK_OK ? a->status : MK_ZN_OK,
                         kmsd_stats_since_us(&t0));
    return e;
}

mk_err kmsd_gba_zn_health(kmsd_gba *g)
{
    mk_zn_request rq;
    mk_zn_answer a;
    memset(&rq, 0, sizeof rq);
    rq.op = MK_ZN_OP_STATUS;
    /* kms-znd answers a status question at once, from its peer table */
    MK_GUARD(zn_exchange(g, &rq, 1000, &a));
    if (a.status != MK_ZN_OK)
        MK_FAIL(MK_E_UNAVAILABLE, "kms-znd has no Diameter connection to "
                                  "the BSF");
    return MK_OK;
}

/* The bootstrapping info of btid into g->memo: this request's, the node's
 * cache, else the BSF through kms-znd (then kept in the cache). */
static mk_err lookup(kmsd_gba *g, mk_bytes btid, uint64_t now)
{
    const mk_bytes master = mk_key_bytes(g->master);
    const mk_bytes naf = MK_BYTES(g->conf->naf_id, g->conf->naf_id_len);
    mk_zn_answer a;
    mk_err e;
    if (g->memo_ok && g->memo_btid_len == btid.n &&
        memcmp(g->memo_btid, btid.p, btid.n) == 0 &&
        g->memo.expires_unix > now)
        return MK_OK;
    kmsd_gba_begin(g);
    if (btid.n == 0 || btid.n > sizeof g->memo_btid)
        MK_FAIL(MK_E_HTTP_AUTH, "not a B-TID");
    e = mk_node_gba_get(g->node, master, naf, btid, now, &g->memo);
    if (e == MK_E_NOT_FOUND) {
        MK_GUARD(zn_ask(g, btid, &a));
        if (a.status != MK_ZN_OK)
            return mk_zn_status_err(a.status);
        g->memo = a.info;
        mk_gba_info_wipe(&a.info);
        /* a full or failing cache costs the next request a BIR, nothing
         * more: this answer stands */
        if (mk_node_gba_put(g->node, master, naf, btid, &g->memo, now) !=
            MK_OK)
            kmsd_log(MK_LOG_WARN, "GBA: Ks_NAF not cached: %s",
                     mk_err_last()->what ? mk_err_last()->what : "?");
        e = MK_OK;
    }
    if (e != MK_OK)
        return e;
    if (g->memo.expires_unix <= now) {
        mk_gba_info_wipe(&g->memo);
        MK_FAIL(MK_E_HTTP_AUTH, "Ks_NAF expired");
    }
    memcpy(g->memo_btid, btid.p, btid.n);
    g->memo_btid_len = btid.n;
    g->memo_ok = true;
    return MK_OK;
}

static mk_err by_btid(void *ctx, mk_bytes btid, uint64_t now,
                      mk_subscriber *out)
{
    kmsd_gba *g = ctx;
    MK_GUARD(lookup(g, btid, now));
    return mk_gba_subscriber(btid, &g->memo, &g->conf->policy, out);
}

mk_kms_keysource *kmsd_gba_keysource(kmsd_gba *g)
{
    g->iface.ctx = g;
    g->iface.subscriber_by_btid = by_btid;
    return &g->iface;
}

/* ------------------------------------------------------------------ */
/* Ua                                                                  */

/* The nonce's count: strictly above every count used before, by any
 * process (RFC 7616 §3.4: nc). */
static mk_err count_nonce(void *arg, bool found, mk_bytes cur,
                          uint64_t cur_expires, uint8_t *out, size_t *out_len,
                          uint64_t *expires)
{
    const uint64_t *in = arg; /* nc, expiry */
    uint32_t last = 0;
    (void)cur_expires;
    if (found && cur.n == 4)
        last = (uint32_t)cur.p[0] << 24 | (uint32_t)cur.p[1] << 16 |
               (uint32_t)cur.p[2] << 8 | cur.p[3];
    if (found && (uint32_t)in[0] <= last)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: nonce count used before");
    out[0] = (uint8_t)(in[0] >> 24);
    out[1] = (uint8_t)(in[0] >> 16);
    out[2] = (uint8_t)(in[0] >> 8);
    out[3] = (uint8_t)in[0];
    *out_len = 4;
    *expires = in[1];
    return MK_OK;
}

mk_err kmsd_gba_ua_check(kmsd_gba *g, const char *method,
                         const char *request_uri, const char *authorization,
                         mk_bytes body, uint64_t now_unix, mk_bytes *user,
                         bool *stale)
{
    static _Thread_local mk_digest_creds c;
    uint8_t id[MK_DIGEST_NONCE_ID];
    char pw[64];
    size_t pw_n = 0;
    uint64_t exp = 0;
    mk_err e;
    *stale = false;
    *user = MK_BYTES_NONE;
    if (authorization == NULL)
        MK_FAIL(MK_E_HTTP_AUTH, "no credentials");
    MK_GUARD(mk_digest_parse_credentials(authorization, &c));
    MK_GUARD(mk_digest_check_fields(&c, g->conf->realm, g->conf->alg,
                                    request_uri));
    mk_digest_nonce_verdict v = mk_digest_nonce_check(
        MK_BYTES(g->conf->nonce_key, sizeof g->conf->nonce_key), c.nonce,
        now_unix, id, &exp);
    if (v == MK_DIGEST_NONCE_BAD)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: nonce not ours");
    const mk_bytes btid = MK_BYTES(c.username, strlen(c.username));
    MK_GUARD(lookup(g, btid, now_unix));
    /* 33.222 §5.3: the password is base64(Ks_NAF) */
    e = mk_base64_encode(mk_key_bytes(&g->memo.ks_naf), pw, sizeof pw, &pw_n);
    if (e == MK_OK)
        e = mk_digest_check_response(&c, MK_BYTES(pw, pw_n), method, body);
    mk_wipe(pw, sizeof pw);
    if (e != MK_OK)
        return e;
    if (v == MK_DIGEST_NONCE_STALE) {
        /* the right password on an aged nonce (RFC 7616 §3.3 stale) */
        *stale = true;
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: nonce aged");
    }
    uint64_t arg[2] = {c.nc, exp};
    MK_GUARD(mk_node_kv_update(g->node, MK_NODE_KV_NONCE,
                               MK_BYTES(id, sizeof id), now_unix, count_nonce,
                               arg));
    *user = MK_BYTES(g->memo_btid, g->memo_btid_len);
    return MK_OK;
}

mk_err kmsd_gba_challenge(kmsd_gba *g, bool stale, uint64_t now_unix,
                          char *out, size_t cap)
{
    static _Thread_local mk_digest_challenge ch;
    uint8_t rnd[MK_DIGEST_NONCE_RND];
    memset(&ch, 0, sizeof ch);
    MK_GUARD(mk_random(rnd, sizeof rnd));
    memcpy(ch.realm, g->conf->realm, strlen(g->conf->realm) + 1);
    MK_GUARD(mk_digest_nonce_make(
        MK_BYTES(g->conf->nonce_key, sizeof g->conf->nonce_key),
        now_unix + g->conf->nonce_lifetime, rnd, ch.nonce, sizeof ch.nonce));
    ch.alg = g->conf->alg;
    /* both, auth-int first: integrity of the MIKEY body if the UE can */
    ch.qop = MK_DIGEST_QOP_AUTH | MK_DIGEST_QOP_AUTH_INT;
    ch.stale = stale;
    return mk_digest_format_challenge(&ch, out, cap);
}
