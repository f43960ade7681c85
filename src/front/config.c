/* config.c - the KMS configuration file parser (config.h). */
#include "front/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util/mikey_const.h"
#include "gba/gba.h"
#include "store/node.h"
#include "store/pgstore.h"
#include "util/hex.h"

#define LINE_MAX_LEN 4096 /* bytes per line, newline included */

void mk_config_defaults(mk_config *c)
{
    memset(c, 0, sizeof *c);
    /* profile §4, §5, §7 and §2 */
    snprintf(c->kms_id, sizeof c->kms_id, "%s", "kms.example.org");
    c->skew_window = 300;
    c->max_ticket_lifetime = 86400;
    c->default_ticket_lifetime = 3600;
    c->ticket_reuse_grace = 30;
    snprintf(c->accepted_protocols[0], MK_CONFIG_PROTOCOL_LEN, "%s",
             "HTTP/1.1");
    c->n_accepted_protocols = 1;
    c->retry_after = 5;
    c->body_max = 65536;
    c->log_level = MK_LOG_INFO;
    snprintf(c->mount, sizeof c->mount, "%s", "/keymanagement");
    snprintf(c->status_mount, sizeof c->status_mount, "%s", "/kms-status");
    c->ticket_key_max_age = 30u * 86400u;
    c->busy_timeout_ms = 2000;
    mk_node_config n;
    mk_node_config_defaults(&n);
    c->replay_max = n.replay_max;
    c->journal_max = n.journal_max;
    c->kv_max = n.kv_max;
    c->durable = n.durable;
    /* doc/profile.md §10 */
    memcpy(c->ua_protocol_id, MK_GBA_UA_ID_DEFAULT, 5);
    c->ua_digest_alg = MK_HASH_MD5;
    c->ua_nonce_lifetime = 300;
    snprintf(c->zn_socket, sizeof c->zn_socket, "%s",
             MK_CONFIG_ZN_SOCKET_DEFAULT);
    c->zn_timeout_ms = 2000;
}

const char *mk_config_naf_fqdn(const mk_config *c)
{
    return c->kms_fqdn[0] != '\0' ? c->kms_fqdn : c->kms_id;
}

const char *mk_log_level_name(mk_log_level l)
{
    switch (l) {
    case MK_LOG_ERROR: return "error";
    case MK_LOG_WARN: return "warn";
    case MK_LOG_INFO: return "info";
    case MK_LOG_DEBUG: return "debug";
    }
    return "info";
}

void mk_config_kms(const mk_config *c, mk_kms_config *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->kms_id, sizeof out->kms_id, "%s", c->kms_id);
    out->skew_seconds = c->skew_window;
    out->max_lifetime = c->max_ticket_lifetime;
    out->default_lifetime = c->default_ticket_lifetime;
    out->reuse_grace_seconds = c->ticket_reuse_grace;
    out->rate_identity_milli = c->rate_identity.rate_milli;
    out->burst_identity = c->rate_identity.burst;
}

void mk_config_node(const mk_config *c, mk_node_config *out)
{
    mk_node_config_defaults(out);
    snprintf(out->path, sizeof out->path, "%s", c->node_state);
    out->replay_max = c->replay_max;
    out->journal_max = c->journal_max;
    out->kv_max = c->kv_max;
    out->durable = c->durable;
    out->skew_seconds = c->skew_window;
}

bool mk_config_protocol_ok(const mk_config *c, const char *proto)
{
    if (proto == NULL)
        return false;
    for (size_t i = 0; i < c->n_accepted_protocols; i++)
        if (strcmp(c->accepted_protocols[i], proto) == 0)
            return true;
    return false;
}

/* --- parsing --- */

typedef struct parse_ctx {
    mk_config *c;
    const char *path;
    size_t line;
    char dir[MK_CONFIG_PATH_MAX]; /* directory of the file with its final
                                     slash, "" for the working directory */
} parse_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static mk_err fail(parse_ctx *p, const char *fmt, ...)
{
    char *e = p->c->error;
    size_t cap = sizeof p->c->error;
    int k = p->line > 0 ? snprintf(e, cap, "%s:%zu: ", p->path, p->line)
                        : snprintf(e, cap, "%s: ", p->path);
    /* a message cut at MK_CONFIG_ERROR_MAX still names file and line */
    if (k >= 0 && (size_t)k < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e + k, cap - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return mk_err_raise(MK_E_CONFIG, -1, 0, "error in the configuration file");
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
                     s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Only printable non-blank bytes: ids, URIs, paths without surprises. */
static bool no_blanks(const char *v)
{
    for (const unsigned char *q = (const unsigned char *)v; *q; q++)
        if (*q <= 0x20 || *q == 0x7f)
            return false;
    return true;
}

static mk_err set_u64(parse_ctx *p, const char *key, const char *v,
                      uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t n = 0;
    if (*v == '\0')
        return fail(p, "%s: a number is needed", key);
    for (const char *q = v; *q; q++) {
        if (!isdigit((unsigned char)*q))
            return fail(p, "%s: '%s' is not a decimal number", key, v);
        uint64_t d = (uint64_t)(*q - '0');
        if (n > (hi - d) / 10)
            return fail(p, "%s: %s is above the maximum %llu", key, v,
                        (unsigned long long)hi);
        n = n * 10 + d;
    }
    if (n < lo)
        return fail(p, "%s: %s is below the minimum %llu", key, v,
                    (unsigned long long)lo);
    *out = n;
    return MK_OK;
}

static mk_err set_u32(parse_ctx *p, const char *key, const char *v,
                      uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t n = 0;
    MK_GUARD(set_u64(p, key, v, lo, hi, &n));
    *out = (uint32_t)n; /* at most hi */
    return MK_OK;
}

/* "RATE[/BURST]" (doc/profile.md §12.2): RATE requests a second, a
 * decimal with at most three digits after the point (0.001 to 1000000),
 * BURST requests at once (default twice RATE, at least 1); "off": no
 * limit. */
static mk_err set_rate(parse_ctx *p, const char *key, const char *v,
                       mk_rate_limit *out)
{
    if (strcmp(v, "off") == 0) {
        out->rate_milli = out->burst = 0;
        return MK_OK;
    }
    uint64_t milli = 0;
    size_t i = 0, frac = 0;
    bool point = false, digits = false;
    for (; v[i] != '\0' && v[i] != '/'; i++) {
        if (v[i] == '.' && !point) {
            point = true;
            continue;
        }
        if (v[i] < '0' || v[i] > '9' || (point && ++frac > 3) ||
            milli > 1000000000u)
            return fail(p, "%s: '%s' is not RATE[/BURST] (RATE a number "
                           "of requests a second, at most 3 decimals) or "
                           "off", key, v);
        milli = milli * 10 + (uint64_t)(v[i] - '0');
        digits = true;
    }
    while (frac++ < 3)
        milli *= 10;
    if (!digits || milli == 0 || milli > 1000000000u)
        return fail(p, "%s: rate '%s' is not between 0.001 and 1000000", key,
                    v);
    out->rate_milli = (uint32_t)milli;
    if (v[i] == '\0') {
        out->burst = (uint32_t)((2 * milli + 999) / 1000);
        return MK_OK;
    }
    return set_u32(p, key, v + i + 1, 1, 2000000, &out->burst);
}

static mk_err set_bool(parse_ctx *p, const char *key, const char *v,
                       bool *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
        *out = v[0] == 'y';
        return MK_OK;
    }
    return fail(p, "%s: '%s' is not yes or no", key, v);
}

static mk_err set_str(parse_ctx *p, const char *key, const char *v,
                      char *out, size_t cap)
{
    if (*v == '\0')
        return fail(p, "%s: empty value", key);
    if (!no_blanks(v))
        return fail(p, "%s: value contains blanks or control characters",
                    key);
    if (strlen(v) >= cap)
        return fail(p, "%s: value longer than %zu bytes", key, cap - 1);
    memcpy(out, v, strlen(v) + 1);
    return MK_OK;
}

/* A path, relative ones taken from the configuration file's directory. */
static mk_err set_path(parse_ctx *p, const char *key, const char *v,
                       char *out, size_t cap)
{
    if (*v == '\0')
        return fail(p, "%s: empty path", key);
    for (const unsigned char *q = (const unsigned char *)v; *q; q++)
        if (*q < 0x20 || *q == 0x7f)
            return fail(p, "%s: path contains control characters", key);
    int n = v[0] == '/' ? snprintf(out, cap, "%s", v)
                        : snprintf(out, cap, "%s%s", p->dir, v);
    if (n < 0 || (size_t)n >= cap)
        return fail(p, "%s: path too long", key);
    return MK_OK;
}

static mk_err set_protocols(parse_ctx *p, const char *v)
{
    mk_config *c = p->c;
    char buf[LINE_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", v);
    c->n_accepted_protocols = 0;
    /* strtok would skip empty items; walk the commas by hand */
    char *item = buf;
    for (;;) {
        char *comma = strchr(item, ',');
        if (comma != NULL)
            *comma = '\0';
        char *t = trim(item);
        if (*t == '\0')
            return fail(p, "accepted_protocols: empty item in the list");
        if (strncmp(t, "HTTP/", 5) != 0 || t[5] == '\0' || !no_blanks(t))
            return fail(p, "accepted_protocols: '%s' is not an HTTP "
                           "version like HTTP/1.1", t);
        if (strlen(t) >= MK_CONFIG_PROTOCOL_LEN)
            return fail(p, "accepted_protocols: '%s' is too long", t);
        if (c->n_accepted_protocols == MK_CONFIG_PROTOCOLS_MAX)
            return fail(p, "accepted_protocols: more than %d items",
                        MK_CONFIG_PROTOCOLS_MAX);
        memcpy(c->accepted_protocols[c->n_accepted_protocols++], t,
               strlen(t) + 1);
        if (comma == NULL)
            break;
        item = comma + 1;
    }
    return MK_OK;
}

static mk_err set_log_level(parse_ctx *p, const char *v)
{
    static const mk_log_level all[] = {MK_LOG_ERROR, MK_LOG_WARN, MK_LOG_INFO,
                                       MK_LOG_DEBUG};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(v, mk_log_level_name(all[i])) == 0) {
            p->c->log_level = all[i];
            return MK_OK;
        }
    return fail(p, "log_level: '%s' is not one of error, warn, info, debug",
                v);
}

static mk_err set_mount(parse_ctx *p, const char *v)
{
    MK_GUARD(set_str(p, "mount", v, p->c->mount, sizeof p->c->mount));
    if (v[0] != '/' || strpbrk(v, "?#") != NULL)
        return fail(p, "mount: '%s' must be a path starting with / and "
                       "without ? or #", v);
    return MK_OK;
}

/* The health and metrics mount (kmsd_status.h): "off" turns it off. It
 * must not overlap the annex's mount, so that every status of the table
 * there stays what the annex says. */
static mk_err set_status_mount(parse_ctx *p, const char *v)
{
    mk_config *c = p->c;
    if (strcmp(v, "off") == 0) {
        c->status_mount[0] = '\0';
        return MK_OK;
    }
    MK_GUARD(set_str(p, "status_mount", v, c->status_mount,
                     sizeof c->status_mount));
    size_t n = strlen(v);
    if (v[0] != '/' || n < 2 || v[n - 1] == '/' ||
        strpbrk(v, "?#%") != NULL)
        return fail(p, "status_mount: '%s' must be a path starting with / "
                       "and not ending with /, without ?, # or %%, or off",
                    v);
    return MK_OK;
}

/* GBA keys (doc/profile.md §10) */
static mk_err set_fqdn(parse_ctx *p, const char *key, const char *v,
                       char *out, size_t cap)
{
    MK_GUARD(set_str(p, key, v, out, cap));
    if (!mk_gba_fqdn_ok(v, strlen(v)))
        return fail(p, "%s: '%s' is not a host name", key, v);
    return MK_OK;
}

static mk_err set_ua_id(parse_ctx *p, const char *v)
{
    uint8_t id[5];
    size_t n = 0;
    if (strlen(v) != 10)
        return fail(p, "ua_protocol_id: 10 hex digits (5 bytes)");
    if (mk_hex_decode(v, 10, id, sizeof id, &n) != MK_OK)
        return fail(p, "ua_protocol_id: '%s' is not hex", v);
    memcpy(p->c->ua_protocol_id, id, 5);
    return MK_OK;
}

static mk_err set_ua_auth(parse_ctx *p, const char *v)
{
    if (strcmp(v, "none") != 0 && strcmp(v, "digest") != 0)
        return fail(p, "ua_auth: '%s' is not none or digest", v);
    p->c->ua_digest = v[0] == 'd';
    return MK_OK;
}

static mk_err set_digest_alg(parse_ctx *p, const char *v)
{
    if (strcmp(v, "MD5") == 0)
        p->c->ua_digest_alg = MK_HASH_MD5;
    else if (strcmp(v, "SHA-256") == 0)
        p->c->ua_digest_alg = MK_HASH_SHA256;
    else
        return fail(p, "ua_digest_algorithm: '%s' is not MD5 or SHA-256", v);
    return MK_OK;
}

enum key_id {
    K_KMS_ID, K_STORE, K_MASTER_KEY, K_SKEW, K_MAX_LIFE, K_DEF_LIFE,
    K_PROTOCOLS, K_RETRY_AFTER, K_BODY_MAX, K_LOG_LEVEL, K_MOUNT,
    K_BUSY_TIMEOUT, K_LISTEN, K_NODE_STATE, K_REPLAY_MAX, K_JOURNAL_MAX,
    K_DURABLE, K_LOG_FILE, K_REUSE_GRACE, K_KV_MAX, K_KEEP_DAYS,
    K_STATUS_MOUNT, K_TK_MAX_AGE, K_RATE_ADDRESS, K_RATE_IDENTITY, K_GBA,
    K_KMS_FQDN, K_UA_ID, K_UA_AUTH, K_UA_ALG, K_UA_NONCE, K_GBA_FORKING,
    K_ZN_SOCKET, K_ZN_TIMEOUT, K_ZN_REALM, K_ZN_BSF, K_ZN_DIAMETER, K__COUNT
};

static const char *const key_names[K__COUNT] = {
    [K_KMS_ID] = "kms_id",
    [K_STORE] = "store",
    [K_MASTER_KEY] = "master_key",
    [K_SKEW] = "skew_window",
    [K_MAX_LIFE] = "max_ticket_lifetime",
    [K_DEF_LIFE] = "default_ticket_lifetime",
    [K_PROTOCOLS] = "accepted_protocols",
    [K_RETRY_AFTER] = "retry_after",
    [K_BODY_MAX] = "body_max",
    [K_LOG_LEVEL] = "log_level",
    [K_MOUNT] = "mount",
    [K_BUSY_TIMEOUT] = "busy_timeout_ms",
    [K_LISTEN] = "listen",
    [K_NODE_STATE] = "node_state",
    [K_REPLAY_MAX] = "replay_max",
    [K_JOURNAL_MAX] = "journal_max",
    [K_DURABLE] = "durable",
    [K_LOG_FILE] = "log_file",
    [K_REUSE_GRACE] = "ticket_reuse_grace",
    [K_KV_MAX] = "kv_max",
    [K_KEEP_DAYS] = "records_keep_days",
    [K_STATUS_MOUNT] = "status_mount",
    [K_TK_MAX_AGE] = "ticket_key_max_age",
    [K_RATE_ADDRESS] = "rate_limit_address",
    [K_RATE_IDENTITY] = "rate_limit_identity",
    [K_GBA] = "gba",
    [K_KMS_FQDN] = "kms_fqdn",
    [K_UA_ID] = "ua_protocol_id",
    [K_UA_AUTH] = "ua_auth",
    [K_UA_ALG] = "ua_digest_algorithm",
    [K_UA_NONCE] = "ua_nonce_lifetime",
    [K_GBA_FORKING] = "gba_forking",
    [K_ZN_SOCKET] = "zn_socket",
    [K_ZN_TIMEOUT] = "zn_timeout_ms",
    [K_ZN_REALM] = "zn_realm",
    [K_ZN_BSF] = "zn_bsf",
    [K_ZN_DIAMETER] = "zn_diameter_conf",
};

static mk_err set_store(parse_ctx *p, const char *v)
{
    mk_config *c = p->c;
    /* a file, or a PostgreSQL URI (doc/profile.md §13) */
    if (mk_pgstore_is_uri(v))
        return set_str(p, "store", v, c->store, sizeof c->store);
    return set_path(p, "store", v, c->store, sizeof c->store);
}

static mk_err set_body_max(parse_ctx *p, const char *v)
{
    uint32_t u = 0;
    /* a REQUEST_INIT is well under 4 KiB; 16 MiB caps memory use */
    MK_GUARD(set_u32(p, "body_max", v, 1024, 16u << 20, &u));
    p->c->body_max = u;
    return MK_OK;
}

static mk_err set_listen(parse_ctx *p, const char *v)
{
    mk_config *c = p->c;
    MK_GUARD(set_str(p, "listen", v, c->listen, sizeof c->listen));
    c->has_listen = true;
    return MK_OK;
}

/* Every key: most only check their value and store it in a field of
 * mk_config (the kind of value, its bounds for numbers, the field); the
 * others have a setter of their own. */
typedef enum field_kind {
    F_OWN = 0, /* a setter of its own */
    F_U32,
    F_U64,
    F_BOOL,
    F_STR,
    F_PATH,
    F_FQDN,
    F_RATE,
} field_kind;

typedef struct key_field {
    field_kind kind;
    uint64_t lo, hi;
    size_t off, size;
    mk_err (*own)(parse_ctx *p, const char *v);
} key_field;

#define FIELD(kind, lo, hi, f)                                               \
    {(kind), (lo), (hi), offsetof(mk_config, f), sizeof ((mk_config *)0)->f, \
     NULL}
#define OWN(setter) {F_OWN, 0, 0, 0, 0, (setter)}
static const key_field key_fields[K__COUNT] = {
    [K_KMS_ID] = FIELD(F_STR, 0, 0, kms_id),
    [K_STORE] = OWN(set_store),
    [K_MASTER_KEY] = FIELD(F_PATH, 0, 0, master_key),
    /* profile §7; a day is far beyond any sane clock skew */
    [K_SKEW] = FIELD(F_U32, 1, 86400, skew_window),
    [K_MAX_LIFE] = FIELD(F_U32, 1, 31536000, max_ticket_lifetime),
    [K_DEF_LIFE] = FIELD(F_U32, 1, 31536000, default_ticket_lifetime),
    [K_PROTOCOLS] = OWN(set_protocols),
    [K_RETRY_AFTER] = FIELD(F_U32, 1, 86400, retry_after),
    [K_BODY_MAX] = OWN(set_body_max),
    [K_LOG_LEVEL] = OWN(set_log_level),
    [K_MOUNT] = OWN(set_mount),
    [K_BUSY_TIMEOUT] = FIELD(F_U32, 0, 600000, busy_timeout_ms),
    [K_LISTEN] = OWN(set_listen),
    [K_NODE_STATE] = FIELD(F_PATH, 0, 0, node_state),
    /* node.h bounds */
    [K_REPLAY_MAX] = FIELD(F_U64, 10, (uint64_t)1 << 36, replay_max),
    [K_JOURNAL_MAX] = FIELD(F_U64, 10, (uint64_t)1 << 32, journal_max),
    [K_KV_MAX] = FIELD(F_U64, 10, (uint64_t)1 << 32, kv_max),
    [K_DURABLE] = FIELD(F_BOOL, 0, 0, durable),
    [K_LOG_FILE] = FIELD(F_PATH, 0, 0, log_file),
    /* doc/profile.md §9.37 */
    [K_REUSE_GRACE] = FIELD(F_U32, 0, 3600, ticket_reuse_grace),
    /* a hundred years at most */
    [K_KEEP_DAYS] = FIELD(F_U32, 0, 36500, records_keep_days),
    /* seconds; 0 = age not checked; a year at most */
    [K_STATUS_MOUNT] = OWN(set_status_mount),
    [K_TK_MAX_AGE] = FIELD(F_U32, 0, 31536000, ticket_key_max_age),
    [K_RATE_ADDRESS] = FIELD(F_RATE, 0, 0, rate_address),
    [K_RATE_IDENTITY] = FIELD(F_RATE, 0, 0, rate_identity),
    [K_GBA] = FIELD(F_BOOL, 0, 0, gba),
    [K_KMS_FQDN] = FIELD(F_FQDN, 0, 0, kms_fqdn),
    [K_UA_ID] = OWN(set_ua_id),
    [K_UA_AUTH] = OWN(set_ua_auth),
    [K_UA_ALG] = OWN(set_digest_alg),
    [K_UA_NONCE] = FIELD(F_U32, 1, 86400, ua_nonce_lifetime),
    [K_GBA_FORKING] = FIELD(F_BOOL, 0, 0, gba_forking),
    [K_ZN_SOCKET] = FIELD(F_PATH, 0, 0, zn_socket),
    /* the UE waits for the 504: keep it short */
    [K_ZN_TIMEOUT] = FIELD(F_U32, 10, 60000, zn_timeout_ms),
    [K_ZN_REALM] = FIELD(F_FQDN, 0, 0, zn_realm),
    [K_ZN_BSF] = FIELD(F_FQDN, 0, 0, zn_bsf),
    [K_ZN_DIAMETER] = FIELD(F_PATH, 0, 0, zn_diameter_conf),
};
#undef FIELD
#undef OWN

static mk_err set_key(parse_ctx *p, enum key_id k, const char *v)
{
    const key_field *f = &key_fields[k];
    const char *key = key_names[k];
    void *at = (char *)p->c + f->off;
    switch (f->kind) {
    case F_U32:
        return set_u32(p, key, v, (uint32_t)f->lo, (uint32_t)f->hi, at);
    case F_U64:
        return set_u64(p, key, v, f->lo, f->hi, at);
    case F_BOOL:
        return set_bool(p, key, v, at);
    case F_STR:
        return set_str(p, key, v, at, f->size);
    case F_PATH:
        return set_path(p, key, v, at, f->size);
    case F_FQDN:
        return set_fqdn(p, key, v, at, f->size);
    case F_RATE:
        return set_rate(p, key, v, at);
    case F_OWN:
        if (f->own != NULL)
            return f->own(p, v);
        break;
    }
    return fail(p, "internal: key without a setter");
}

static mk_err parse_line(parse_ctx *p, char *line, size_t seen[K__COUNT])
{
    char *t = trim(line);
    if (*t == '\0' || *t == '#')
        return MK_OK;
    char *eq = strchr(t, '=');
    if (eq == NULL)
        return fail(p, "expected 'key = value'");
    *eq = '\0';
    char *key = trim(t);
    char *val = trim(eq + 1);
    if (*key == '\0')
        return fail(p, "missing key before '='");
    for (int k = 0; k < K__COUNT; k++) {
        if (strcmp(key, key_names[k]) != 0)
            continue;
        if (seen[k] != 0)
            return fail(p, "%s given twice (first on line %zu)", key,
                        seen[k]);
        seen[k] = p->line;
        return set_key(p, (enum key_id)k, val);
    }
    return fail(p, "unknown key '%s'", key);
}

/* Is path `a` the mount `b` or below it? */
static bool mount_under(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1) /* "/": everything */
        return true;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

static mk_err check_whole(parse_ctx *p)
{
    mk_config *c = p->c;
    p->line = 0;
    if (c->store[0] == '\0')
        return fail(p, "store is not set");
    if (c->master_key[0] == '\0')
        return fail(p, "master_key is not set");
    if (mk_pgstore_is_uri(c->store) && !mk_pgstore_built())
        return fail(p, "store: %s", MK_PGSTORE_NOT_BUILT);
    /* the default node file is named after the store file */
    if (mk_pgstore_is_uri(c->store) && c->node_state[0] == '\0')
        return fail(p, "node_state must be set with a postgresql:// store "
                       "(the machine's rate limits and GBA cache)");
    if (c->status_mount[0] != '\0' &&
        (mount_under(c->status_mount, c->mount) ||
         mount_under(c->mount, c->status_mount)))
        return fail(p, "status_mount %s overlaps mount %s", c->status_mount,
                    c->mount);
    if (c->default_ticket_lifetime > c->max_ticket_lifetime)
        return fail(p, "default_ticket_lifetime (%u) is above "
                       "max_ticket_lifetime (%u)",
                    (unsigned)c->default_ticket_lifetime,
                    (unsigned)c->max_ticket_lifetime);
    if (c->ua_digest && !c->gba)
        return fail(p, "ua_auth = digest needs gba = yes");
    const char *fqdn = mk_config_naf_fqdn(c);
    if (c->gba && !mk_gba_fqdn_ok(fqdn, strlen(fqdn)))
        return fail(p, "gba = yes needs a host name in kms_fqdn (kms_id "
                       "'%s' is none)", c->kms_id);
    if (c->gba && strlen(c->zn_socket) >= 108) /* sun_path */
        return fail(p, "zn_socket: path longer than a unix socket's");
    return MK_OK;
}

mk_err mk_config_load(const char *path, mk_config *out)
{
    parse_ctx p = {.c = out, .path = path, .line = 0};
    size_t seen[K__COUNT] = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    mk_err rc = MK_OK;

    mk_config_defaults(out);
    if (path == NULL || path[0] == '\0') {
        p.path = "(none)";
        return fail(&p, "no configuration file given");
    }
    const char *slash = strrchr(path, '/');
    if (slash != NULL) {
        size_t dn = (size_t)(slash - path) + 1; /* keep the slash */
        if (dn >= sizeof p.dir)
            return fail(&p, "path too long");
        memcpy(p.dir, path, dn);
        p.dir[dn] = '\0';
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(out->error, sizeof out->error, "%s: %s", path,
                 strerror(errno));
        MK_FAIL(MK_E_IO, "cannot open the configuration file");
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        p.line++;
        if (n > LINE_MAX_LEN) {
            rc = fail(&p, "line longer than %d bytes", LINE_MAX_LEN);
            break;
        }
        /* a NUL would silently cut the line short */
        if (memchr(line, '\0', (size_t)n) != NULL) {
            rc = fail(&p, "line contains a NUL byte");
            break;
        }
        rc = parse_line(&p, line, seen);
        if (rc != MK_OK)
            break;
    }
    if (rc == MK_OK && ferror(f)) {
        snprintf(out->error, sizeof out->error, "%s: read error", path);
        rc = mk_err_raise(MK_E_IO, -1, 0, "cannot read the configuration file");
    }
    free(line);
    fclose(f);
    if (rc == MK_OK)
        rc = check_whole(&p);
    if (rc == MK_OK)
        out->error[0] = '\0';
    return rc;
}
