/* digest.c - HTTP Digest for Ua (digest.h): RFC 7616 §3.3-§3.5. */
#include "gba/digest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/base64.h"
#include "util/hex.h"

static char lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

/* "MD5" / "SHA-256" and back (case-insensitive); 0 when unknown. */
static const char *mk_digest_alg_name(mk_hash_alg alg)
{
    return alg == MK_HASH_SHA256 ? "SHA-256" : "MD5";
}

static mk_hash_alg mk_digest_alg_of(const char *name)
{
    if (ieq(name, "MD5"))
        return MK_HASH_MD5;
    if (ieq(name, "SHA-256"))
        return MK_HASH_SHA256;
    return (mk_hash_alg)0;
}

/* ------------------------------------------------------------------ */
/* auth-param lists (RFC 7235 §2.1)                                    */

static bool is_tchar(uint8_t ch)
{
    /* RFC 7230 §3.2.6 token characters */
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static void skip_ows(mk_cursor *c)
{
    uint8_t ch;
    while (mk_cur_peek_u8(c, &ch) == MK_OK && (ch == ' ' || ch == '\t'))
        c->pos++;
}

#define PARAM_NAME_MAX 16

/* One "name = value" of the list: name lowercased into name, value (token
 * or unescaped quoted-string) into val. *more: a ',' followed. */
static mk_err next_param(mk_cursor *c, char name[PARAM_NAME_MAX], char *val,
                         size_t cap, bool *more)
{
    uint8_t ch = 0;
    size_t n = 0;
    skip_ows(c);
    while (mk_cur_peek_u8(c, &ch) == MK_OK && is_tchar(ch)) {
        c->pos++;
        if (n + 1 >= PARAM_NAME_MAX)
            MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter name too long");
        name[n++] = lower((char)ch);
    }
    name[n] = '\0';
    if (n == 0)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter name expected");
    skip_ows(c);
    if (mk_cur_u8(c, &ch) != MK_OK || ch != '=')
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: '=' expected");
    skip_ows(c);
    n = 0;
    if (mk_cur_peek_u8(c, &ch) == MK_OK && ch == '"') {
        c->pos++;
        for (;;) {
            if (mk_cur_u8(c, &ch) != MK_OK)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: quoted string not closed");
            if (ch == '"')
                break;
            if (ch == '\\' && mk_cur_u8(c, &ch) != MK_OK)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: quoted string not closed");
            /* qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text */
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: control character");
            if (n + 1 >= cap)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter value too long");
            val[n++] = (char)ch;
        }
    } else {
        while (mk_cur_peek_u8(c, &ch) == MK_OK && is_tchar(ch)) {
            c->pos++;
            if (n + 1 >= cap)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter value too long");
            val[n++] = (char)ch;
        }
        if (n == 0)
            MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter value expected");
    }
    val[n] = '\0';
    skip_ows(c);
    *more = false;
    if (mk_cur_remaining(c) == 0)
        return MK_OK;
    if (mk_cur_u8(c, &ch) != MK_OK || ch != ',')
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: ',' expected between parameters");
    *more = true;
    return MK_OK;
}

/* "Digest" then at least one space; the cursor is then on the list. */
static mk_err scheme(const char *value, mk_cursor *c)
{
    static const char want[] = "digest";
    uint8_t ch;
    if (value == NULL)
        MK_FAIL(MK_E_HTTP_AUTH, "no credentials");
    mk_cur_init(c, MK_BYTES(value, strlen(value)));
    skip_ows(c);
    for (size_t i = 0; i < sizeof want - 1; i++)
        if (mk_cur_u8(c, &ch) != MK_OK || lower((char)ch) != want[i])
            MK_FAIL(MK_E_HTTP_AUTH, "not Digest credentials");
    if (mk_cur_peek_u8(c, &ch) != MK_OK || (ch != ' ' && ch != '\t'))
        MK_FAIL(MK_E_HTTP_AUTH, "not Digest credentials");
    return MK_OK;
}

/* A parameter of a known name, and the bit of it in *seen. */
typedef struct param_slot {
    const char *name;
    char *dst;
    size_t cap;
} param_slot;

#define VAL_MAX (MK_DIGEST_URI_MAX + 1)

static mk_err parse_list(const char *value, param_slot *slots, size_t n,
                         uint32_t *seen)
{
    mk_cursor c;
    char name[PARAM_NAME_MAX];
    char val[VAL_MAX];
    bool more = true;
    *seen = 0;
    MK_GUARD(scheme(value, &c));
    while (more) {
        MK_GUARD(next_param(&c, name, val, sizeof val, &more));
        for (size_t i = 0; i < n; i++) {
            if (strcmp(name, slots[i].name) != 0)
                continue;
            if (*seen & (1u << i))
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter given twice");
            if (strlen(val) >= slots[i].cap)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: parameter value too long");
            *seen |= 1u << i;
            memcpy(slots[i].dst, val, strlen(val) + 1);
        }
        /* a trailing ',' with nothing after it is tolerated */
        skip_ows(&c);
        if (mk_cur_remaining(&c) == 0)
            break;
    }
    return MK_OK;
}

static mk_err alg_field(const char *s, bool given, mk_hash_alg *out)
{
    /* RFC 7616 §3.3: no algorithm means MD5 */
    *out = given ? mk_digest_alg_of(s) : MK_HASH_MD5;
    if (*out == 0)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: algorithm not supported");
    return MK_OK;
}

static unsigned qop_of(const char *s, size_t n)
{
    if (n == 4 && strncmp(s, "auth", 4) == 0)
        return MK_DIGEST_QOP_AUTH;
    if (n == 8 && strncmp(s, "auth-int", 8) == 0)
        return MK_DIGEST_QOP_AUTH_INT;
    return 0;
}

mk_err mk_digest_parse_credentials(const char *value, mk_digest_creds *out)
{
    char alg[16] = "", qop[16] = "", nc[16] = "";
    memset(out, 0, sizeof *out);
    param_slot slots[] = {
        {"username", out->username, sizeof out->username},
        {"realm", out->realm, sizeof out->realm},
        {"nonce", out->nonce, sizeof out->nonce},
        {"uri", out->uri, sizeof out->uri},
        {"response", out->response, sizeof out->response},
        {"cnonce", out->cnonce, sizeof out->cnonce},
        {"opaque", out->opaque, sizeof out->opaque},
        {"algorithm", alg, sizeof alg},
        {"qop", qop, sizeof qop},
        {"nc", nc, sizeof nc},
    };
    uint32_t seen = 0;
    MK_GUARD(parse_list(value, slots, sizeof slots / sizeof slots[0], &seen));
    if ((seen & 0x1f) != 0x1f)
        MK_FAIL(MK_E_HTTP_AUTH,
                "Digest: username, realm, nonce, uri or response missing");
    MK_GUARD(alg_field(alg, (seen & (1u << 7)) != 0, &out->alg));
    if (seen & (1u << 8)) {
        out->qop = qop_of(qop, strlen(qop));
        if (out->qop == 0)
            MK_FAIL(MK_E_HTTP_AUTH, "Digest: qop not supported");
    }
    if (seen & (1u << 9)) {
        /* nc-value = 8LHEX (RFC 7616 §3.4) */
        uint32_t v = 0;
        if (strlen(nc) != 8)
            MK_FAIL(MK_E_HTTP_AUTH, "Digest: nc is 8 hex digits");
        for (size_t i = 0; i < 8; i++) {
            int d = mk_hex_digit(nc[i]);
            if (d < 0)
                MK_FAIL(MK_E_HTTP_AUTH, "Digest: nc is 8 hex digits");
            v = v << 4 | (uint32_t)d;
        }
        out->nc = v;
    }
    return MK_OK;
}

mk_err mk_digest_parse_challenge(const char *value, mk_digest_challenge *out)
{
    char alg[16] = "", qop[64] = "", stale[16] = "";
    memset(out, 0, sizeof *out);
    param_slot slots[] = {
        {"realm", out->realm, sizeof out->realm},
        {"nonce", out->nonce, sizeof out->nonce},
        {"opaque", out->opaque, sizeof out->opaque},
        {"algorithm", alg, sizeof alg},
        {"qop", qop, sizeof qop},
        {"stale", stale, sizeof stale},
    };
    uint32_t seen = 0;
    MK_GUARD(parse_list(value, slots, sizeof slots / sizeof slots[0], &seen));
    if ((seen & 3) != 3)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest challenge without realm or nonce");
    MK_GUARD(alg_field(alg, (seen & (1u << 3)) != 0, &out->alg));
    /* qop-options: a comma separated list; unknown ones are skipped */
    for (const char *p = qop; *p != '\0';) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, " \t,");
        out->qop |= qop_of(p, n);
        p += n;
    }
    out->stale = ieq(stale, "true");
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* writers                                                             */

static bool put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *n)
        return false;
    *n += (size_t)k;
    return true;
}

/* A value we write inside quotes: no '"', '\\' or control characters (ours
 * never hold one; refusing keeps the header well-formed whatever). */
static bool quotable(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '"' || *s == '\\' || (uint8_t)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

mk_err mk_digest_format_challenge(const mk_digest_challenge *c, char *out,
                                  size_t cap)
{
    size_t n = 0;
    const char *qop = c->qop == (MK_DIGEST_QOP_AUTH | MK_DIGEST_QOP_AUTH_INT)
                          ? "auth-int,auth"
                      : c->qop == MK_DIGEST_QOP_AUTH_INT ? "auth-int"
                                                         : "auth";
    if (cap == 0 || !quotable(c->realm) || !quotable(c->nonce) ||
        !quotable(c->opaque))
        MK_FAIL(MK_E_ARG, "Digest challenge field not quotable");
    out[0] = '\0';
    if (!put(out, cap, &n, "Digest realm=\"%s\", nonce=\"%s\", qop=\"%s\", "
             "algorithm=%s", c->realm, c->nonce, qop,
             mk_digest_alg_name(c->alg)) ||
        (c->opaque[0] != '\0' &&
         !put(out, cap, &n, ", opaque=\"%s\"", c->opaque)) ||
        (c->stale && !put(out, cap, &n, ", stale=true")))
        MK_FAIL(MK_E_NOSPACE, "Digest challenge too long");
    return MK_OK;
}

static const char *qop_name(unsigned qop)
{
    return qop == MK_DIGEST_QOP_AUTH_INT ? "auth-int" : "auth";
}

mk_err mk_digest_format_credentials(const mk_digest_creds *c, char *out,
                                    size_t cap)
{
    size_t n = 0;
    if (cap == 0 || !quotable(c->username) || !quotable(c->realm) ||
        !quotable(c->nonce) || !quotable(c->uri) || !quotable(c->cnonce) ||
        !quotable(c->opaque) || !quotable(c->response))
        MK_FAIL(MK_E_ARG, "Digest credential field not quotable");
    out[0] = '\0';
    if (!put(out, cap, &n, "Digest username=\"%s\", realm=\"%s\", "
             "nonce=\"%s\", uri=\"%s\", algorithm=%s, response=\"%s\"",
             c->username, c->realm, c->nonce, c->uri,
             mk_digest_alg_name(c->alg), c->response) ||
        (c->qop != 0 &&
         !put(out, cap, &n, ", qop=%s, nc=%08x, cnonce=\"%s\"",
              qop_name(c->qop), (unsigned)c->nc, c->cnonce)) ||
        (c->opaque[0] != '\0' &&
         !put(out, cap, &n, ", opaque=\"%s\"", c->opaque)))
        MK_FAIL(MK_E_NOSPACE, "Digest credentials too long");
    return MK_OK;
}

mk_err mk_digest_realm(const char *fqdn, char *out, size_t cap)
{
    int k = snprintf(out, cap, "%s%s", MK_DIGEST_REALM_PREFIX, fqdn);
    if (k < 0 || (size_t)k >= cap)
        MK_FAIL(MK_E_NOSPACE, "realm too long");
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* request-digest (RFC 7616 §3.4.1)                                    */

static mk_bytes cstr(const char *s)
{
    return s != NULL ? MK_BYTES(s, strlen(s)) : MK_BYTES_NONE;
}

/* hex(H(parts joined by ':')) */
static mk_err h_hex(mk_hash_alg alg, const mk_bytes *p, size_t np,
                    char out[MK_DIGEST_HEX_MAX])
{
    enum { PARTS_MAX = 6 };
    mk_bytes parts[2 * PARTS_MAX];
    uint8_t h[32];
    size_t n = 0;
    for (size_t i = 0; i < np && i < PARTS_MAX; i++) {
        if (i > 0)
            parts[n++] = MK_BYTES(":", 1);
        parts[n++] = p[i];
    }
    mk_err rc = mk_hash(alg, parts, n, h, sizeof h);
    if (rc == MK_OK)
        mk_hex_encode(h, mk_hash_len(alg), out);
    mk_wipe(h, sizeof h);
    return rc;
}

mk_err mk_digest_response(const mk_digest_input *in,
                          char out[MK_DIGEST_HEX_MAX])
{
    char ha1[MK_DIGEST_HEX_MAX], ha2[MK_DIGEST_HEX_MAX];
    char body_h[MK_DIGEST_HEX_MAX], nc[9];
    mk_err rc;
    if (mk_hash_len(in->alg) == 0 || in->method == NULL || in->uri == NULL)
        MK_FAIL(MK_E_ARG, "Digest response inputs");
    const mk_bytes a1[3] = {cstr(in->username), cstr(in->realm),
                            in->password};
    MK_GUARD_GOTO(h_hex(in->alg, a1, 3, ha1), rc, cleanup);
    if (in->qop == MK_DIGEST_QOP_AUTH_INT) {
        /* H(entity-body): the body as sent, before any decoding */
        MK_GUARD_GOTO(h_hex(in->alg, &in->body, 1, body_h), rc, cleanup);
        const mk_bytes a2[3] = {cstr(in->method), cstr(in->uri),
                                cstr(body_h)};
        MK_GUARD_GOTO(h_hex(in->alg, a2, 3, ha2), rc, cleanup);
    } else {
        const mk_bytes a2[2] = {cstr(in->method), cstr(in->uri)};
        MK_GUARD_GOTO(h_hex(in->alg, a2, 2, ha2), rc, cleanup);
    }
    if (in->qop != 0) {
        snprintf(nc, sizeof nc, "%08x", (unsigned)in->nc);
        const mk_bytes kd[6] = {cstr(ha1), cstr(in->nonce), cstr(nc),
                                cstr(in->cnonce), cstr(qop_name(in->qop)),
                                cstr(ha2)};
        rc = h_hex(in->alg, kd, 6, out);
    } else {
        const mk_bytes kd[3] = {cstr(ha1), cstr(in->nonce), cstr(ha2)};
        rc = h_hex(in->alg, kd, 3, out);
    }
cleanup:
    /* H(A1) stands for the password */
    mk_wipe(ha1, sizeof ha1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* nonces                                                              */

static const char nonce_domain[] = "mikeykms-digest-nonce";

static mk_err nonce_tag(mk_bytes key, const uint8_t id[MK_DIGEST_NONCE_ID],
                        uint8_t tag[16])
{
    uint8_t mac[32];
    const mk_bytes parts[2] = {MK_BYTES(nonce_domain, sizeof nonce_domain - 1),
                               MK_BYTES(id, MK_DIGEST_NONCE_ID)};
    mk_err rc = mk_mac(MK_MAC_HMAC_SHA256_256, key, parts, 2, mac,
                       sizeof mac);
    if (rc == MK_OK)
        memcpy(tag, mac, 16);
    mk_wipe(mac, sizeof mac);
    return rc;
}

mk_err mk_digest_nonce_make(mk_bytes key, uint64_t expires_unix,
                            const uint8_t rnd[MK_DIGEST_NONCE_RND],
                            char *out, size_t cap)
{
    uint8_t raw[MK_DIGEST_NONCE_RAW];
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        raw[i] = (uint8_t)(expires_unix >> (56 - 8 * i));
    memcpy(raw + 8, rnd, MK_DIGEST_NONCE_RND);
    MK_GUARD(nonce_tag(key, raw, raw + MK_DIGEST_NONCE_ID));
    return mk_base64_encode(MK_BYTES(raw, sizeof raw), out, cap, &n);
}

mk_digest_nonce_verdict mk_digest_nonce_check(
    mk_bytes key, const char *nonce, uint64_t now_unix,
    uint8_t id[MK_DIGEST_NONCE_ID], uint64_t *expires_unix)
{
    uint8_t raw[MK_DIGEST_NONCE_RAW + 3], tag[16];
    size_t n = 0;
    size_t len = nonce != NULL ? strlen(nonce) : 0;
    /* 40 bytes are 56 base64 characters; the decoder would skip blanks */
    if (len != 56 || strpbrk(nonce, " \t\r\n") != NULL ||
        mk_base64_decode(MK_BYTES(nonce, len), raw, sizeof raw, &n) != MK_OK ||
        n != MK_DIGEST_NONCE_RAW || nonce_tag(key, raw, tag) != MK_OK ||
        !mk_ct_equal(tag, raw + MK_DIGEST_NONCE_ID, sizeof tag)) {
        mk_err_clear();
        return MK_DIGEST_NONCE_BAD;
    }
    uint64_t e = 0;
    for (int i = 0; i < 8; i++)
        e = e << 8 | raw[i];
    if (e <= now_unix)
        return MK_DIGEST_NONCE_STALE;
    memcpy(id, raw, MK_DIGEST_NONCE_ID);
    if (expires_unix != NULL)
        *expires_unix = e;
    return MK_DIGEST_NONCE_FRESH;
}

/* ------------------------------------------------------------------ */
/* the server's checks                                                 */

mk_err mk_digest_check_fields(const mk_digest_creds *c, const char *realm,
                              mk_hash_alg alg, const char *request_uri)
{
    uint8_t rand[MK_GBA_RAND_LEN];
    if (strcmp(c->realm, realm) != 0)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: realm is not this KMS's");
    if (c->alg != alg)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: algorithm not the one offered");
    /* RFC 7616 §3.4.6: the uri must name the requested resource */
    if (request_uri == NULL || strcmp(c->uri, request_uri) != 0)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: uri is not the request's");
    if (c->qop == 0 || c->cnonce[0] == '\0' || c->nc == 0)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: qop, cnonce and nc required");
    if (!mk_gba_btid_parse(cstr(c->username), rand, NULL))
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: username is not a B-TID");
    return MK_OK;
}

mk_err mk_digest_check_response(const mk_digest_creds *c, mk_bytes password,
                                const char *method, mk_bytes body)
{
    char want[MK_DIGEST_HEX_MAX];
    mk_digest_input in = {
        .alg = c->alg,
        .username = c->username,
        .realm = c->realm,
        .nonce = c->nonce,
        .cnonce = c->cnonce,
        .method = method,
        .uri = c->uri,
        .password = password,
        .qop = c->qop,
        .nc = c->nc,
        .body = body,
    };
    MK_GUARD(mk_digest_response(&in, want));
    /* hex compared case-insensitively would allow two spellings; RFC 7616
     * writes lowercase, and so do the clients we know */
    size_t n = strlen(want);
    bool ok = strlen(c->response) == n && mk_ct_equal(want, c->response, n);
    mk_wipe(want, sizeof want);
    if (!ok)
        MK_FAIL(MK_E_HTTP_AUTH, "Digest: response does not verify");
    return MK_OK;
}
