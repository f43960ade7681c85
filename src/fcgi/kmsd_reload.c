/* kmsd_reload.c - see kmsd_reload.h. */
#include "fcgi/kmsd_reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/kmsd_log.h"
#include "fcgi/kmsd_maint.h"

mk_err kmsd_live_from_config(const mk_config *cfg, kmsd_live *out)
{
    memset(out, 0, sizeof *out);
    mk_http_binding_defaults(&out->binding);
    MK_GUARD(mk_http_binding_set_mount(&out->binding, cfg->mount));
    char list[MK_CONFIG_PROTOCOLS_MAX * (MK_CONFIG_PROTOCOL_LEN + 1) + 1];
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_accepted_protocols; i++) {
        int w = snprintf(list + n, sizeof list - n, "%s ",
                         cfg->accepted_protocols[i]);
        MK_ENSURE(w > 0 && (size_t)w < sizeof list - n, MK_E_CONFIG,
                  "accepted_protocols too long");
        n += (size_t)w;
    }
    list[n] = '\0';
    MK_GUARD(mk_http_binding_set_protocols(&out->binding, list));
    MK_GUARD(mk_http_binding_set_body_max(&out->binding, cfg->body_max));
    mk_config_kms(cfg, &out->kms_config);
    out->retry_after = cfg->retry_after;
    snprintf(out->status_mount, sizeof out->status_mount, "%s",
             cfg->status_mount);
    out->ticket_key_max_age = cfg->ticket_key_max_age;
    out->rate_address = cfg->rate_address;
    return MK_OK;
}

/* ---- comparing two loads of the file ---- */

typedef struct names {
    char text[256];
    size_t n;
} names;

static void names_add(names *l, const char *name)
{
    int w = snprintf(l->text + l->n, sizeof l->text - l->n, "%s%s",
                     l->n > 0 ? ", " : "", name);
    if (w > 0 && (size_t)w < sizeof l->text - l->n)
        l->n += (size_t)w;
}

static bool same_protocols(const mk_config *a, const mk_config *b)
{
    if (a->n_accepted_protocols != b->n_accepted_protocols)
        return false;
    for (size_t i = 0; i < a->n_accepted_protocols; i++)
        if (strcmp(a->accepted_protocols[i], b->accepted_protocols[i]) != 0)
            return false;
    return true;
}

/* The settings that apply at once: their names, when they changed. The
 * field names are the configuration keys. */
static void live_changes(const mk_config *run, const mk_config *next,
                         names *out)
{
#define LIVE_STR(f) if (strcmp(run->f, next->f) != 0) names_add(out, #f)
#define LIVE_NUM(f) if (run->f != next->f) names_add(out, #f)
    LIVE_STR(kms_id);
    LIVE_NUM(skew_window);
    LIVE_NUM(max_ticket_lifetime);
    LIVE_NUM(default_ticket_lifetime);
    if (!same_protocols(run, next))
        names_add(out, "accepted_protocols");
    LIVE_NUM(retry_after);
    LIVE_NUM(log_level);
    LIVE_STR(mount);
    LIVE_STR(log_file);
    LIVE_NUM(ticket_reuse_grace);
    LIVE_NUM(records_keep_days);
    LIVE_STR(status_mount);
    LIVE_NUM(ticket_key_max_age);
    if (run->rate_address.rate_milli != next->rate_address.rate_milli ||
        run->rate_address.burst != next->rate_address.burst)
        names_add(out, "rate_limit_address");
    if (run->rate_identity.rate_milli != next->rate_identity.rate_milli ||
        run->rate_identity.burst != next->rate_identity.burst)
        names_add(out, "rate_limit_identity");
#undef LIVE_STR
#undef LIVE_NUM
}

/* The settings that need a restart: a warning for each that changed, and
 * the running value put back into next. */
static void keep_restart_only(const char *path, const mk_config *run,
                              mk_config *next)
{
#define KEEP_STR(f, shown)                                                  \
    if (strcmp(run->f, next->f) != 0) {                                     \
        kmsd_log(MK_LOG_WARN, "reload %s: " #f " changed; it needs a "      \
                 "restart, still %s", path, shown);                         \
        memcpy(next->f, run->f, sizeof next->f);                            \
    }
#define KEEP_NUM(f)                                                         \
    if (run->f != next->f) {                                                \
        kmsd_log(MK_LOG_WARN, "reload %s: " #f " changed; it needs a "      \
                 "restart, still %llu", path, (unsigned long long)run->f);  \
        next->f = run->f;                                                   \
    }
    KEEP_STR(store, run->store);
    KEEP_STR(master_key, run->master_key);
    if (run->has_listen != next->has_listen) {
        kmsd_log(MK_LOG_WARN, "reload %s: listen changed; it needs a "
                 "restart", path);
        next->has_listen = run->has_listen;
        memcpy(next->listen, run->listen, sizeof next->listen);
    } else {
        KEEP_STR(listen, run->has_listen ? run->listen : "(not set)");
    }
    KEEP_NUM(body_max);
    KEEP_NUM(busy_timeout_ms);
    /* the node state is opened once per process, at start */
    KEEP_STR(node_state, run->node_state[0] != '\0' ? run->node_state
                                                    : "(the default)");
    KEEP_NUM(replay_max);
    KEEP_NUM(journal_max);
    KEEP_NUM(kv_max);
    if (run->durable != next->durable) {
        kmsd_log(MK_LOG_WARN, "reload %s: durable changed; it needs a "
                 "restart, still %s", path, run->durable ? "yes" : "no");
        next->durable = run->durable;
    }
    /* GBA (doc/profile.md §10): kmsd_gba_conf, the Ks_NAF key and the
     * Digest realm are made once, at start; the NAF_Id that kms_id gives
     * when kms_fqdn is unset too */
#define KEEP_GBA(key, differs, restore)                                     \
    if (differs) {                                                          \
        kmsd_log(MK_LOG_WARN, "reload %s: " key " changed; it needs a "     \
                 "restart", path);                                          \
        restore;                                                            \
    }
    KEEP_GBA("gba", run->gba != next->gba, next->gba = run->gba);
    KEEP_STR(kms_fqdn, mk_config_naf_fqdn(run));
    if (run->kms_fqdn[0] == '\0' && run->gba &&
        strcmp(run->kms_id, next->kms_id) != 0)
        kmsd_log(MK_LOG_WARN, "reload %s: kms_id changed; the NAF_Id of "
                 "GBA needs a restart, still %s", path, run->kms_id);
    KEEP_GBA("ua_protocol_id",
             memcmp(run->ua_protocol_id, next->ua_protocol_id,
                    sizeof run->ua_protocol_id) != 0,
             memcpy(next->ua_protocol_id, run->ua_protocol_id,
                    sizeof next->ua_protocol_id));
    KEEP_GBA("ua_auth", run->ua_digest != next->ua_digest,
             next->ua_digest = run->ua_digest);
    KEEP_GBA("ua_digest_algorithm", run->ua_digest_alg != next->ua_digest_alg,
             next->ua_digest_alg = run->ua_digest_alg);
    KEEP_NUM(ua_nonce_lifetime);
    KEEP_GBA("gba_forking", run->gba_forking != next->gba_forking,
             next->gba_forking = run->gba_forking);
    KEEP_STR(zn_socket, run->zn_socket);
    KEEP_NUM(zn_timeout_ms);
    /* kms-znd's, not kmsd's: it reads them at its own start */
    if (strcmp(run->zn_realm, next->zn_realm) != 0 ||
        strcmp(run->zn_bsf, next->zn_bsf) != 0 ||
        strcmp(run->zn_diameter_conf, next->zn_diameter_conf) != 0)
        kmsd_log(MK_LOG_WARN, "reload %s: zn_realm, zn_bsf or "
                 "zn_diameter_conf changed; kms-znd takes them when it "
                 "restarts", path);
#undef KEEP_GBA
#undef KEEP_STR
#undef KEEP_NUM
}

void kmsd_reload(const char *path, mk_config *running, kmsd_shared *sh)
{
    static mk_config next; /* 20 KiB; only the main thread reloads */
    mk_err e = mk_config_load(path, &next);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "reload: %s; still serving with the "
                 "configuration read before",
                 next.error[0] != '\0' ? next.error : mk_err_name(e));
        return;
    }
    kmsd_live live;
    if ((e = kmsd_live_from_config(&next, &live)) != MK_OK) {
        const char *w = mk_err_last()->what;
        kmsd_log(MK_LOG_ERROR, "reload %s: %s: %s; still serving with the "
                 "configuration read before", path, mk_err_name(e),
                 w != NULL ? w : "");
        return;
    }
    keep_restart_only(path, running, &next);
    /* the workers' buffers hold body_max + 1 bytes: keep the cap */
    live.binding.body_max = sh->live.binding.body_max;

    /* the log first, so that what follows goes where it now should */
    if (kmsd_log_open(next.log_file) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "reload %s: log_file %s: %s; the log stays "
                 "where it was", path, next.log_file, strerror(errno));
        memcpy(next.log_file, running->log_file, sizeof next.log_file);
    }

    names changed = {{0}, 0};
    live_changes(running, &next, &changed);

    pthread_mutex_lock(&sh->live_lock);
    sh->live = live;
    atomic_fetch_add(&sh->live_gen, 1);
    pthread_mutex_unlock(&sh->live_lock);
    kmsd_maint_set_retention(sh->maint, next.records_keep_days);

    /* the line that says what changed is written at the more verbose of
     * the two log levels, so that a change of log_level itself shows */
    kmsd_log_set_level(next.log_level > running->log_level
                           ? next.log_level
                           : running->log_level);
    kmsd_log(MK_LOG_INFO, "reload %s: %s%s", path,
             changed.n > 0 ? "applied " : "no change",
             changed.n > 0 ? changed.text : "");
    kmsd_log_set_level(next.log_level);
    *running = next;
}
