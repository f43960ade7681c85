/* mikey_ue_http.c - see mikey_ue_http.h. */
#include "config.h"

#include "mikey_ue_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "gba/digest.h"
#include "util/base64.h"

#define GBA_CREDS_MAX 2
#define DIGEST_ROUNDS_MAX 2

typedef struct gba_cred {
    uint8_t btid[MK_GBA_BTID_MAX];
    size_t btid_len;
    char password[64]; /* base64(Ks_NAF): a secret */
} gba_cred;

struct ue_http {
    CURL *curl;
    struct curl_slist *headers;
    char *url;             /* the mount, as given */
    char *full;            /* url + requesttype of the current POST */
    size_t full_cap;
    char *post;            /* base64 of the current message */
    size_t post_cap;
    uint8_t *body;         /* answer body, UE_HTTP_BODY_MAX bytes */
    size_t body_len;
    bool body_over;        /* the answer was longer than the cap */
    ue_http_answer *a;     /* filled by the header callback */
    char curl_err[CURL_ERROR_SIZE];
    /* GBA Digest (mikey_ue_http.h) */
    gba_cred gba[GBA_CREDS_MAX];
    size_t n_gba;
    char www_auth[MK_DIGEST_HEADER_MAX]; /* last Digest challenge seen */
    mk_digest_challenge ch;  /* the nonce in use */
    bool have_ch;
    uint32_t nc;
};

mk_err ue_http_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return mk_err_raise(MK_E_IO, -1, 0, "libcurl global init failed");
    return MK_OK;
}

void ue_http_global_cleanup(void)
{
    curl_global_cleanup();
}

/* --- callbacks ---------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    ue_http *h = userdata;
    size_t len = size * n;
    if (len > UE_HTTP_BODY_MAX - h->body_len) {
        h->body_over = true;
        return 0; /* CURLE_WRITE_ERROR: stop reading */
    }
    memcpy(h->body + h->body_len, p, len);
    h->body_len += len;
    return len;
}

/* Copy at most cap - 1 printable ASCII characters of p[0..n) into out,
 * stopping at CR/LF; "..." replaces the end when it does not fit. */
static void printable(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0, i;
    for (i = 0; i < n && p[i] != '\r' && p[i] != '\n'; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (k + 1 >= cap)
            break;
        out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[k] = '\0';
    if (i < n && p[i] != '\r' && p[i] != '\n' && cap >= 4)
        memcpy(out + cap - 4, "...", 4);
}

/* Headers one line at a time (libcurl passes every response, also 1xx,
 * each starting with its status line). */
static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
    ue_http *h = userdata;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* "HTTP/1.1 403 Forbidden": the reason follows the second space */
        size_t i = 0, sp = 0;
        while (i < len && sp < 2) {
            if (p[i] == ' ')
                sp++;
            i++;
        }
        h->a->reason[0] = '\0';
        h->a->retry_after[0] = '\0';
        if (sp == 2)
            printable(p + i, len - i, h->a->reason, sizeof h->a->reason);
    } else if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0) {
        size_t i = 17, k = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        /* the first Digest challenge; a longer one is no challenge of ours */
        if (h->www_auth[0] == '\0' && len - i >= 7 &&
            strncasecmp(p + i, "Digest ", 7) == 0 &&
            len - i < sizeof h->www_auth) {
            while (i < len && p[i] != '\r' && p[i] != '\n')
                h->www_auth[k++] = p[i++];
            h->www_auth[k] = '\0';
        }
    } else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t i = 12;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        printable(p + i, len - i, h->a->retry_after,
                  sizeof h->a->retry_after);
    }
    return len;
}

/* --- connection --------------------------------------------------- */

mk_err ue_http_open(const char *url, ue_http **out)
{
    ue_http *h;
    *out = NULL;
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0)
        return mk_err_raise(MK_E_ARG, -1, 0, "the URL is not http:// or https://");
    h = calloc(1, sizeof *h);
    if (!h)
        return mk_err_raise(MK_E_IO, -1, 0, "out of memory");
    h->curl = curl_easy_init();
    h->url = strdup(url);
    h->body = malloc(UE_HTTP_BODY_MAX);
    h->headers = curl_slist_append(NULL, "Content-Type: application/mikey");
    if (h->headers)
        h->headers = curl_slist_append(h->headers, "Accept: application/mikey");
    if (h->headers) /* no "Expect: 100-continue" round trip */
        h->headers = curl_slist_append(h->headers, "Expect:");
    if (!h->curl || !h->url || !h->body || !h->headers) {
        ue_http_close(h);
        return mk_err_raise(MK_E_IO, -1, 0, "cannot set up libcurl");
    }
    if (curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") !=
            CURLE_OK ||
#else
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS,
                         (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
        curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT,
                         UE_HTTP_CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, UE_HTTP_TIMEOUT_S) !=
            CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_USERAGENT,
                         PACKAGE_NAME "-ue/" PACKAGE_VERSION) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers) !=
            CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body) !=
            CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header) !=
            CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->curl_err) !=
            CURLE_OK) {
        ue_http_close(h);
        return mk_err_raise(MK_E_IO, -1, 0, "libcurl lacks a needed option");
    }
    *out = h;
    return MK_OK;
}

mk_err ue_http_add_gba(ue_http *h, mk_bytes btid, mk_bytes ks_naf)
{
    gba_cred *g;
    size_t n = 0;
    if (h->n_gba == GBA_CREDS_MAX)
        return mk_err_raise(MK_E_LIMIT, -1, 0, "too many GBA credentials");
    if (ks_naf.n != MK_GBA_KEY_LEN || btid.n == 0 ||
        btid.n > MK_GBA_BTID_MAX)
        return mk_err_raise(MK_E_ARG, -1, 0, "GBA credentials");
    g = &h->gba[h->n_gba];
    memcpy(g->btid, btid.p, btid.n);
    g->btid_len = btid.n;
    MK_GUARD(mk_base64_encode(ks_naf, g->password, sizeof g->password, &n));
    h->n_gba++;
    /* TS 24.109 §5.2.1: a GBA-aware client says so */
    if (curl_easy_setopt(h->curl, CURLOPT_USERAGENT,
                         PACKAGE_NAME "-ue/" PACKAGE_VERSION " 3gpp-gba") !=
        CURLE_OK)
        return mk_err_raise(MK_E_IO, -1, 0, "libcurl: User-Agent");
    return MK_OK;
}

mk_err ue_http_set_cacert(ue_http *h, const char *file)
{
    if (curl_easy_setopt(h->curl, CURLOPT_CAINFO, file) != CURLE_OK)
        return mk_err_raise(MK_E_IO, -1, 0, "libcurl: CA file");
    return MK_OK;
}

void ue_http_close(ue_http *h)
{
    if (!h)
        return;
    mk_wipe(h->gba, sizeof h->gba);
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->url);
    free(h->full);
    free(h->post);
    free(h->body);
    free(h);
}

/* --- the answer check (annex X1.1: "The UE shall check that the HTTP
 * response is valid") ---------------------------------------------- */

/* Is `value` (a Content-Type header value) application/mikey? */
static bool ue_http_is_mikey_type(const char *v)
{
    static const char want[] = "application/mikey";
    size_t n = sizeof want - 1;
    if (!v)
        return false;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, want, n) != 0)
        return false;
    v += n;
    while (*v == ' ' || *v == '\t')
        v++;
    return *v == '\0' || *v == ';';
}

static mk_err why(ue_http_answer *a, mk_err e, const char *text)
{
    snprintf(a->why, sizeof a->why, "%s", text);
    return mk_err_raise(e, -1, 0, "invalid HTTP answer");
}

/* The check of an answer already received, filling a->why on failure:
 * status 200 (else MK_E_IO), Content-Type application/mikey (else
 * MK_E_HTTP_CONTENT_TYPE), a body of 1..UE_HTTP_BODY_MAX bytes (else
 * MK_E_HTTP_BODY) that is base64 of 1..sizeof a->msg.b bytes (else
 * MK_E_BASE64). content_type may be NULL (header absent). */
static mk_err ue_http_check_answer(long status, const char *content_type,
                                   mk_bytes body, ue_http_answer *a)
{
    mk_err rc;
    a->status = status;
    a->body_len = body.n;
    a->msg.n = 0;
    a->why[0] = '\0';
    a->text[0] = '\0';
    snprintf(a->content_type, sizeof a->content_type, "%s",
             content_type ? content_type : "");
    if (status != 200) {
        /* a refusal: 4xx/5xx bodies are one text/plain line (profile §2) */
        if (content_type && strncasecmp(content_type, "text/plain", 10) == 0)
            printable((const char *)body.p, body.n, a->text, sizeof a->text);
        snprintf(a->why, sizeof a->why, "refused");
        return mk_err_raise(MK_E_IO, -1, 0, "the KMS refused the request");
    }
    if (!content_type)
        return why(a, MK_E_HTTP_CONTENT_TYPE,
                   "no Content-Type (want application/mikey)");
    if (!ue_http_is_mikey_type(content_type)) {
        char t[96];
        printable(content_type, strlen(content_type), t, sizeof t);
        snprintf(a->why, sizeof a->why,
                 "Content-Type '%s' is not application/mikey", t);
        return mk_err_raise(MK_E_HTTP_CONTENT_TYPE, -1, 0,
                            "invalid HTTP answer");
    }
    if (body.n == 0)
        return why(a, MK_E_HTTP_BODY, "empty body");
    if (body.n > UE_HTTP_BODY_MAX)
        return why(a, MK_E_HTTP_BODY, "body over 64 KiB");
    rc = mk_base64_decode(body, a->msg.b, sizeof a->msg.b, &a->msg.n);
    if (rc == MK_E_NOSPACE) {
        a->msg.n = 0;
        return why(a, MK_E_HTTP_BODY, "MIKEY message over 8 KiB");
    }
    if (rc != MK_OK) {
        a->msg.n = 0;
        return why(a, MK_E_BASE64, "body is not base64");
    }
    if (a->msg.n == 0)
        return why(a, MK_E_HTTP_BODY, "body decodes to nothing");
    return MK_OK;
}

/* --- one exchange ------------------------------------------------- */

static mk_err grow(char **p, size_t *cap, size_t need)
{
    char *n;
    if (need <= *cap)
        return MK_OK;
    n = realloc(*p, need);
    if (!n)
        return mk_err_raise(MK_E_IO, -1, 0, "out of memory");
    *p = n;
    *cap = need;
    return MK_OK;
}

/* The GBA credentials of msg: those of its IDRpsk (the B-TID). */
static const gba_cred *cred_of(const ue_http *h, mk_bytes msg)
{
    static _Thread_local mk_message m;
    if (h->n_gba == 0 || mk_message_decode(msg, &m) != MK_OK) {
        mk_err_clear();
        return NULL;
    }
    for (size_t i = 0; i < m.chain.count; i++) {
        const mk_payload *p = &m.chain.p[i];
        if (p->type != MK_PT_IDR || p->u.idr.role != MK_ROLE_IDRPSK)
            continue;
        for (size_t k = 0; k < h->n_gba; k++)
            if (mk_bytes_equal(p->u.idr.data, MK_BYTES(h->gba[k].btid,
                                                       h->gba[k].btid_len)))
                return &h->gba[k];
    }
    return NULL;
}

/* The request-target of the URL (RFC 7230 §5.3.1): what the server sees
 * as REQUEST_URI, the Digest uri. */
static const char *target_of(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

/* "Authorization: Digest ..." for the next request with credentials g
 * under the kept challenge (RFC 7616 §3.4). */
static mk_err authorization(ue_http *h, const gba_cred *g, mk_bytes body,
                            char *out, size_t cap)
{
    static _Thread_local mk_digest_creds c;
    uint8_t rnd[16];
    char hex[33];
    static const char d[] = "0123456789abcdef";
    memset(&c, 0, sizeof c);
    if (g->btid_len >= sizeof c.username ||
        strlen(target_of(h->full)) >= sizeof c.uri)
        return mk_err_raise(MK_E_ARG, -1, 0, "Digest fields too long");
    memcpy(c.username, g->btid, g->btid_len);
    memcpy(c.realm, h->ch.realm, sizeof c.realm);
    memcpy(c.nonce, h->ch.nonce, sizeof c.nonce);
    memcpy(c.opaque, h->ch.opaque, sizeof c.opaque);
    snprintf(c.uri, sizeof c.uri, "%s", target_of(h->full));
    c.alg = h->ch.alg;
    c.qop = (h->ch.qop & MK_DIGEST_QOP_AUTH_INT) ? MK_DIGEST_QOP_AUTH_INT
            : (h->ch.qop & MK_DIGEST_QOP_AUTH)   ? MK_DIGEST_QOP_AUTH
                                                 : 0;
    c.nc = ++h->nc;
    MK_GUARD(mk_random(rnd, sizeof rnd));
    for (size_t i = 0; i < sizeof rnd; i++) {
        hex[2 * i] = d[rnd[i] >> 4];
        hex[2 * i + 1] = d[rnd[i] & 15];
    }
    hex[32] = '\0';
    memcpy(c.cnonce, hex, sizeof hex);
    mk_digest_input in = {
        .alg = c.alg, .username = c.username, .realm = c.realm,
        .nonce = c.nonce, .cnonce = c.cnonce, .method = "POST",
        .uri = c.uri,
        .password = MK_BYTES(g->password, strlen(g->password)),
        .qop = c.qop, .nc = c.nc, .body = body,
    };
    MK_GUARD(mk_digest_response(&in, c.response));
    int k = snprintf(out, cap, "Authorization: ");
    if (k < 0 || (size_t)k >= cap)
        return mk_err_raise(MK_E_NOSPACE, -1, 0, "Authorization too long");
    return mk_digest_format_credentials(&c, out + k, cap - (size_t)k);
}

/* One POST of the prepared body, with an Authorization line or none. */
static mk_err post_once(ue_http *h, const char *auth, size_t n,
                        ue_http_answer *a)
{
    struct curl_slist *hdrs = NULL;
    char *ct = NULL;
    long status = 0;
    CURLcode cc;

    memset(a, 0, sizeof *a);
    h->a = a;
    h->body_len = 0;
    h->body_over = false;
    h->curl_err[0] = '\0';
    h->www_auth[0] = '\0';
    if (auth != NULL) {
        for (struct curl_slist *l = h->headers; l != NULL; l = l->next)
            if ((hdrs = curl_slist_append(hdrs, l->data)) == NULL)
                return why(a, MK_E_IO, "out of memory");
        if ((hdrs = curl_slist_append(hdrs, auth)) == NULL)
            return why(a, MK_E_IO, "out of memory");
    }
    if (curl_easy_setopt(h->curl, CURLOPT_URL, h->full) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, h->post) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)n) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER,
                         hdrs ? hdrs : h->headers) != CURLE_OK) {
        curl_slist_free_all(hdrs);
        return why(a, MK_E_IO, "libcurl refused the request options");
    }
    cc = curl_easy_perform(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK && !h->body_over) {
        snprintf(a->why, sizeof a->why, "no HTTP answer from %.200s: %.200s",
                 h->full, h->curl_err[0] ? h->curl_err : curl_easy_strerror(cc));
        return mk_err_raise(MK_E_IO, -1, 0, "no HTTP answer");
    }
    if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) !=
            CURLE_OK ||
        curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
        return why(a, MK_E_IO, "libcurl has no status for the answer");
    {
        /* keep what the header callback saw: check_answer clears a */
        char reason[sizeof a->reason], retry[sizeof a->retry_after];
        mk_err rc;
        memcpy(reason, a->reason, sizeof reason);
        memcpy(retry, a->retry_after, sizeof retry);
        if (h->body_over && status == 200) {
            a->status = status;
            a->body_len = h->body_len;
            rc = why(a, MK_E_HTTP_BODY, "body over 64 KiB");
        }
        else /* a refusal with a long body is still a refusal */
            rc = ue_http_check_answer(status, ct,
                                      MK_BYTES(h->body, h->body_len), a);
        memcpy(a->reason, reason, sizeof reason);
        memcpy(a->retry_after, retry, sizeof retry);
        return rc;
    }
}

mk_err ue_http_post(ue_http *h, const char *requesttype, mk_bytes msg,
                    ue_http_answer *a)
{
    size_t b64_len = mk_base64_encoded_len(msg.n), n = 0;
    size_t url_len = strlen(h->url) + strlen(requesttype) + 14;
    const char *sep = strchr(h->url, '?') ? "&" : "?";
    const gba_cred *g = cred_of(h, msg);
    char auth[MK_DIGEST_HEADER_MAX + 32];
    mk_err rc;

    memset(a, 0, sizeof *a);
    if (b64_len == SIZE_MAX)
        return mk_err_raise(MK_E_ARG, -1, 0, "message too large");
    MK_GUARD(grow(&h->post, &h->post_cap, b64_len + 1));
    MK_GUARD(grow(&h->full, &h->full_cap, url_len));
    MK_GUARD(mk_base64_encode(msg, h->post, h->post_cap, &n));
    snprintf(h->full, h->full_cap, "%s%srequesttype=%s", h->url, sep,
             requesttype);
    /* with a nonce from an earlier exchange, authenticate at once */
    for (int round = 0;; round++) {
        bool with = g != NULL && h->have_ch;
        if (with)
            MK_GUARD(authorization(h, g, MK_BYTES(h->post, n), auth,
                                   sizeof auth));
        rc = post_once(h, with ? auth : NULL, n, a);
        a->digest_rounds = round;
        if (a->status != 401 || g == NULL || round == DIGEST_ROUNDS_MAX ||
            h->www_auth[0] == '\0')
            break;
        if (mk_digest_parse_challenge(h->www_auth, &h->ch) != MK_OK) {
            h->have_ch = false;
            break;
        }
        /* RFC 7616 §3.3: a new nonce, counted from 1 */
        h->have_ch = true;
        h->nc = 0;
    }
    mk_wipe(auth, sizeof auth);
    return rc;
}

void ue_http_describe(const ue_http_answer *a, char *buf, size_t cap)
{
    /* a server that sent no reason phrase: the standard one */
    const char *reason =
        a->reason[0] ? a->reason : mk_http_status_phrase((int)a->status);
    if (a->status == 0) {
        snprintf(buf, cap, "%s", a->why[0] ? a->why : "no HTTP answer");
        return;
    }
    if (a->status == 200) {
        snprintf(buf, cap, "HTTP 200 %.63s: invalid answer: %.300s", reason,
                 a->why);
        return;
    }
    if (a->text[0])
        snprintf(buf, cap, "HTTP %ld %s: %s", a->status, reason, a->text);
    else if (a->body_len)
        snprintf(buf, cap, "HTTP %ld %s: (%s body, %zu bytes)", a->status,
                 reason, a->content_type[0] ? a->content_type : "untyped",
                 a->body_len);
    else
        snprintf(buf, cap, "HTTP %ld %s: (no body)", a->status, reason);
    if (a->retry_after[0]) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, " (Retry-After: %s)", a->retry_after);
    }
}

/* The requesttype value of a message the UE sends to the KMS ("REQUEST_INIT"
 * -> "ticketrequest", "RESOLVE_INIT" -> "ticketresolve"), NULL for any
 * other message (TRANSFER_* go to the peer, never to the KMS). */
static const char *ue_http_requesttype_of(const char *what)
{
    if (strcmp(what, "REQUEST_INIT") == 0)
        return "ticketrequest";
    if (strcmp(what, "RESOLVE_INIT") == 0)
        return "ticketresolve";
    return NULL;
}

/* --- the HTTP sink ------------------------------------------------ */

typedef struct http_sink {
    ue_sink base; /* first: the sink functions get &base */
    ue_http *h;
    ue_http_answer last;
    char why[1024];
} http_sink;

static mk_err deliver_http(ue_sink *self, const char *what, mk_bytes msg,
                           ue_msg *answer)
{
    http_sink *s = (http_sink *)self;
    const char *rt = ue_http_requesttype_of(what);
    mk_err rc;
    s->why[0] = '\0';
    if (answer)
        answer->n = 0;
    if (!rt) {
        snprintf(s->why, sizeof s->why,
                 "%s goes to the peer, not to the KMS", what);
        return mk_err_raise(MK_E_ARG, -1, 0, "not a message for the KMS");
    }
    rc = ue_http_post(s->h, rt, msg, &s->last);
    if (rc != MK_OK) {
        ue_http_describe(&s->last, s->why, sizeof s->why);
        return rc;
    }
    if (answer) {
        memcpy(answer->b, s->last.msg.b, s->last.msg.n);
        answer->n = s->last.msg.n;
    }
    return MK_OK;
}

static const char *why_http(ue_sink *self)
{
    http_sink *s = (http_sink *)self;
    return s->why[0] ? s->why : NULL;
}

ue_sink *ue_sink_http(ue_http *h)
{
    static http_sink s;
    s.base.deliver = deliver_http;
    s.base.why = why_http;
    s.h = h;
    s.why[0] = '\0';
    return &s.base;
}
