/* http_binding.c - the decision of profile §2 and the CGI response writer.
 * See http_binding.h. The order of the checks is the order of the profile
 * table (505, 405, 404, 501, 400); the annex (X1.2) fixes the codes. */
#include "fcgi/http_binding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/base64.h"
#include "util/hex.h"

/* ------------------------------------------------------------------ */
/* configuration                                                       */

void mk_http_binding_defaults(mk_http_binding *b)
{
    memset(b, 0, sizeof *b);
    memcpy(b->mount, MK_HTTP_MOUNT_DEFAULT, sizeof MK_HTTP_MOUNT_DEFAULT);
    memcpy(b->protocols[0], "HTTP/1.1", sizeof "HTTP/1.1");
    b->n_protocols = 1;
    b->body_max = MK_HTTP_BODY_MAX_DEFAULT;
}

mk_err mk_http_binding_set_mount(mk_http_binding *b, const char *mount)
{
    MK_ENSURE(mount != NULL, MK_E_CONFIG, "mount missing");
    size_t n = strlen(mount);
    MK_ENSURE(n >= 1 && n < MK_HTTP_MOUNT_MAX, MK_E_CONFIG, "mount length");
    MK_ENSURE(mount[0] == '/', MK_E_CONFIG, "mount must start with /");
    MK_ENSURE(n == 1 || mount[n - 1] != '/', MK_E_CONFIG,
              "mount must not end with /");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)mount[i];
        MK_ENSURE(ch > 0x20 && ch < 0x7f && ch != '?' && ch != '#' &&
                      ch != '%',
                  MK_E_CONFIG, "mount holds a character a path cannot");
    }
    memcpy(b->mount, mount, n + 1);
    return MK_OK;
}

static bool is_list_sep(char ch) { return ch == ' ' || ch == ',' || ch == '\t'; }

/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 7230 §2.6). */
static bool protocol_ok(const char *s, size_t n)
{
    return n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' &&
           s[5] <= '9' && s[6] == '.' && s[7] >= '0' && s[7] <= '9';
}

mk_err mk_http_binding_set_protocols(mk_http_binding *b, const char *list)
{
    MK_ENSURE(list != NULL, MK_E_CONFIG, "accepted protocols missing");
    char tmp[MK_HTTP_PROTOCOLS_MAX][MK_HTTP_PROTOCOL_MAX];
    size_t count = 0;
    const char *p = list;
    for (;;) {
        while (*p != '\0' && is_list_sep(*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && !is_list_sep(*p))
            p++;
        size_t n = (size_t)(p - start);
        MK_ENSURE(protocol_ok(start, n), MK_E_CONFIG,
                  "accepted protocol is not HTTP/<digit>.<digit>");
        MK_ENSURE(count < MK_HTTP_PROTOCOLS_MAX, MK_E_CONFIG,
                  "too many accepted protocols");
        memcpy(tmp[count], start, n);
        tmp[count][n] = '\0';
        count++;
    }
    MK_ENSURE(count > 0, MK_E_CONFIG, "no accepted protocol");
    memcpy(b->protocols, tmp, sizeof tmp);
    b->n_protocols = count;
    return MK_OK;
}

mk_err mk_http_binding_set_body_max(mk_http_binding *b, size_t body_max)
{
    MK_ENSURE(body_max >= 1 && body_max <= MK_HTTP_BODY_MAX_LIMIT,
              MK_E_CONFIG, "body cap out of range");
    b->body_max = body_max;
    return MK_OK;
}

size_t mk_http_msg_max(const mk_http_binding *b)
{
    /* base64: 4 characters carry 3 bytes; white space only shrinks it */
    return (b->body_max / 4 + 1) * 3;
}

const char *mk_http_service_name(int service)
{
    switch (service) {
    case MK_SERVICE_TICKET_REQUEST:
        return "ticketrequest";
    case MK_SERVICE_TICKET_RESOLVE:
        return "ticketresolve";
    default:
        return "-";
    }
}

/* ------------------------------------------------------------------ */
/* request                                                             */

/* Percent-decode s[0..n) (RFC 3986 §2.1; '+' is a space as in form
 * encoding when plus_is_space). Writes at most cap bytes to out; *outlen is
 * the full decoded length even when it exceeds cap. Returns false when the
 * text is not decodable: a '%' without two hex digits after it, or an
 * encoded NUL. */
static bool pct_decode(const char *s, size_t n, bool plus_is_space,
                       char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (n - i < 3)
                return false;
            int hi = mk_hex_digit(s[i + 1]);
            int lo = mk_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            ch = ' ';
        }
        if (o < cap)
            out[o] = ch;
        o++;
    }
    *outlen = o;
    return true;
}

static bool str_eq_n(const char *a, size_t an, const char *lit)
{
    size_t ln = strlen(lit);
    return an == ln && memcmp(a, lit, ln) == 0;
}

/* The request's path (SCRIPT_NAME + PATH_INFO, both already decoded by
 * the server; REQUEST_URI's path, decoded, as a fallback when the server
 * set no SCRIPT_NAME) into out; false when there is none or it does not
 * fit (then it is no path this KMS serves). */
static bool request_path(const mk_http_cgi *v, char *out, size_t cap,
                         size_t *len)
{
    if (v->script_name != NULL) {
        const char *pi = v->path_info != NULL ? v->path_info : "";
        size_t sn = strlen(v->script_name), pn = strlen(pi);
        if (sn + pn >= cap)
            return false;
        memcpy(out, v->script_name, sn);
        memcpy(out + sn, pi, pn);
        *len = sn + pn;
        out[*len] = '\0';
        return true;
    }
    if (v->request_uri == NULL)
        return false;
    const char *q = strchr(v->request_uri, '?');
    size_t rn = q != NULL ? (size_t)(q - v->request_uri)
                          : strlen(v->request_uri);
    /* pct_decode counts past cap: a longer path is no path of ours */
    if (!pct_decode(v->request_uri, rn, false, out, cap - 1, len) ||
        *len >= cap)
        return false;
    out[*len] = '\0';
    return true;
}

/* Is the request's path exactly the mount? */
static bool path_is_mount(const mk_http_binding *b, const mk_http_cgi *v)
{
    char path[MK_HTTP_MOUNT_MAX];
    size_t plen;
    return request_path(v, path, sizeof path, &plen) &&
           plen == strlen(b->mount) && memcmp(path, b->mount, plen) == 0;
}

mk_http_page mk_http_status_page(const char *status_mount,
                                 const mk_http_cgi *v)
{
    char path[2 * MK_HTTP_MOUNT_MAX];
    size_t plen, mlen = strlen(status_mount);
    if (mlen == 0 || !request_path(v, path, sizeof path, &plen) ||
        plen < mlen || memcmp(path, status_mount, mlen) != 0 ||
        (plen > mlen && path[mlen] != '/'))
        return MK_HTTP_PAGE_NONE;
    if (strcmp(path + mlen, "/health") == 0)
        return MK_HTTP_PAGE_HEALTH;
    if (strcmp(path + mlen, "/metrics") == 0)
        return MK_HTTP_PAGE_METRICS;
    return MK_HTTP_PAGE_UNKNOWN;
}

static const char *query_of(const mk_http_cgi *v)
{
    if (v->query_string != NULL)
        return v->query_string;
    if (v->request_uri != NULL) {
        const char *q = strchr(v->request_uri, '?');
        if (q != NULL)
            return q + 1;
    }
    return "";
}

/* Longest service name plus one, so that a longer value stays "unknown". */
#define RT_VALUE_MAX 16

/* Find the one requesttype parameter in the query (RFC 3986 §3.4, split on
 * '&'; parameters other than requesttype are ignored, annex X1.1). */
static mk_err requesttype_of(const char *query, mk_service *service)
{
    size_t found = 0;
    bool decodable = true;
    char value[RT_VALUE_MAX];
    size_t vlen = 0;

    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t name_n = eq != NULL ? (size_t)(eq - p) : n;
        char name[sizeof "requesttype"];
        size_t dn;
        /* An undecodable name cannot be "requesttype": an extra parameter */
        if (n > 0 &&
            pct_decode(p, name_n, true, name, sizeof name, &dn) &&
            str_eq_n(name, dn, "requesttype")) {
            found++;
            const char *val = eq != NULL ? eq + 1 : p + n;
            size_t val_n = (size_t)(p + n - val);
            decodable = pct_decode(val, val_n, true, value, sizeof value,
                                   &vlen);
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (found == 0)
        MK_FAIL(MK_E_HTTP_URI, "requesttype missing");
    if (found > 1)
        MK_FAIL(MK_E_HTTP_URI, "requesttype repeated");
    if (!decodable)
        MK_FAIL(MK_E_HTTP_URI, "requesttype not decodable");
    if (vlen == 0)
        MK_FAIL(MK_E_HTTP_URI, "requesttype empty");
    if (vlen <= sizeof value && str_eq_n(value, vlen, "ticketrequest")) {
        *service = MK_SERVICE_TICKET_REQUEST;
        return MK_OK;
    }
    if (vlen <= sizeof value && str_eq_n(value, vlen, "ticketresolve")) {
        *service = MK_SERVICE_TICKET_RESOLVE;
        return MK_OK;
    }
    MK_FAIL(MK_E_HTTP_SERVICE, "requesttype names no service of this KMS");
}

static bool is_ows(char ch) { return ch == ' ' || ch == '\t'; }

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* media-type = type "/" subtype *( OWS ";" OWS parameter ) (RFC 7231
 * §3.1.1.1): type and subtype are case-insensitive, parameters allowed. */
static bool content_type_ok(const char *ct)
{
    static const char want[] = "application/mikey";
    const size_t wn = sizeof want - 1;
    if (ct == NULL)
        return false;
    while (is_ows(*ct))
        ct++;
    if (strlen(ct) < wn || !ascii_ieq(ct, want, wn))
        return false;
    ct += wn;
    while (is_ows(*ct))
        ct++;
    return *ct == '\0' || *ct == ';';
}

mk_err mk_http_route(const mk_http_binding *b, const mk_http_cgi *v,
                     mk_service *service)
{
    bool proto_ok = false;
    for (size_t i = 0; v->server_protocol != NULL && i < b->n_protocols; i++)
        if (strcmp(v->server_protocol, b->protocols[i]) == 0)
            proto_ok = true;
    if (!proto_ok)
        MK_FAIL(MK_E_HTTP_VERSION, "use HTTP/1.1");
    /* methods are case-sensitive (RFC 7231 §4.1) */
    if (v->request_method == NULL || strcmp(v->request_method, "POST") != 0)
        MK_FAIL(MK_E_HTTP_METHOD, "only POST");
    if (!path_is_mount(b, v))
        MK_FAIL(MK_E_HTTP_URI, "no such resource");
    MK_GUARD(requesttype_of(query_of(v), service));
    if (!content_type_ok(v->content_type))
        MK_FAIL(MK_E_HTTP_CONTENT_TYPE, "expected application/mikey");
    return MK_OK;
}

mk_err mk_http_body(const mk_http_binding *b, mk_bytes body, uint8_t *msg,
                    size_t msg_cap, size_t *msg_len)
{
    *msg_len = 0;
    if (body.n == 0)
        MK_FAIL(MK_E_HTTP_BODY, "body missing or empty");
    if (body.n > b->body_max)
        MK_FAIL(MK_E_HTTP_BODY, "body over the size cap");
    MK_ENSURE(msg_cap >= mk_http_msg_max(b), MK_E_ARG, "message buffer");
    size_t n = 0;
    MK_GUARD(mk_base64_decode(body, msg, msg_cap, &n));
    if (n == 0)
        MK_FAIL(MK_E_HTTP_BODY, "body holds no data");
    *msg_len = n;
    return MK_OK;
}

mk_err mk_http_decide(const mk_http_binding *b, const mk_http_cgi *v,
                      mk_bytes body, mk_service *service, uint8_t *msg,
                      size_t msg_cap, size_t *msg_len)
{
    *msg_len = 0;
    MK_GUARD(mk_http_route(b, v, service));
    return mk_http_body(b, body, msg, msg_cap, msg_len);
}

/* ------------------------------------------------------------------ */
/* response                                                            */

/* Reason phrase of a status this KMS produces, NULL for any other. */
static const char *mk_http_reason(int status)
{
    switch (status) {
    case 200: case 400: case 401: case 403: case 404: case 405:
    case 501: case 503: case 504: case 505:
        return mk_http_status_phrase(status);
    default:
        return NULL;
    }
}

/* Append formatted text; false when it does not fit. */
static bool put(mk_http_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool put(mk_http_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof r->text - r->len;
    int n = vsnprintf(r->text + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return false;
    r->len += (size_t)n;
    return true;
}

#define REASON_LINE_MAX 160

/* "<name>[: <what>]\n" with anything outside printable ASCII in what
 * replaced by '?', what cut to keep the line short. */
static size_t reason_line(char *line, size_t cap, mk_err err,
                          const char *what)
{
    int n = snprintf(line, cap, "%s", mk_err_name(err));
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= cap)
        len = cap - 1;
    if (what != NULL && what[0] != '\0' && len + 3 < cap - 1) {
        line[len++] = ':';
        line[len++] = ' ';
        for (const char *w = what; *w != '\0' && len < cap - 2; w++) {
            unsigned char ch = (unsigned char)*w;
            line[len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
        }
    }
    line[len++] = '\n';
    line[len] = '\0';
    return len;
}

static void format_error_with(mk_http_reply *out, int status, mk_err err,
                              const char *what, uint32_t retry_after,
                              const char *challenge)
{
    char line[REASON_LINE_MAX];
    size_t ln = reason_line(line, sizeof line, err, what);
    out->status = status;
    out->len = 0;
    /* header block + one short line always fit in MK_HTTP_REPLY_MAX */
    (void)put(out, "Status: %d %s\r\n", status, mk_http_reason(status));
    (void)put(out, "Content-Type: text/plain\r\n");
    if (status == 405)
        (void)put(out, "Allow: POST\r\n");
    if (status == 503)
        (void)put(out, "Retry-After: %u\r\n", (unsigned)retry_after);
    if (challenge != NULL)
        (void)put(out, "WWW-Authenticate: %s\r\n", challenge);
    (void)put(out, "Content-Length: %zu\r\n\r\n%s", ln, line);
}

static void format_error(mk_http_reply *out, int status, mk_err err,
                         const char *what, uint32_t retry_after)
{
    format_error_with(out, status, err, what, retry_after, NULL);
}

mk_err mk_http_reply_format_401(mk_http_reply *out, mk_err err,
                                const char *what, const char *challenge,
                                uint32_t retry_after)
{
    /* the header block must hold it: MK_HTTP_REPLY_MAX leaves room */
    if (challenge == NULL || challenge[0] == '\0' ||
        strpbrk(challenge, "\r\n") != NULL || strlen(challenge) > 1024) {
        format_error(out, 503, MK_E_INTERNAL, "no challenge", retry_after);
        return MK_E_INTERNAL;
    }
    format_error_with(out, 401, err, what, retry_after, challenge);
    return MK_OK;
}

mk_err mk_http_reply_format(mk_http_reply *out, int status, mk_err err,
                            const char *what, mk_bytes mikey,
                            uint32_t retry_after)
{
    if (status == 200 && mikey.n > 0 && mikey.n <= MK_ANSWER_MAX) {
        out->status = 200;
        out->len = 0;
        if (!put(out, "Status: 200 OK\r\n"
                      "Content-Type: application/mikey\r\n"
                      "Cache-Control: no-store\r\n"
                      "Content-Length: %zu\r\n\r\n",
                 ((mikey.n + 2) / 3) * 4))
            goto internal;
        size_t n = 0;
        if (mk_base64_encode(mikey, out->text + out->len,
                             sizeof out->text - out->len, &n) != MK_OK ||
            n != ((mikey.n + 2) / 3) * 4)
            goto internal;
        out->len += n;
        return MK_OK;
    }
    if (status == 200) {
        /* 200 without a MIKEY message (or one too large): a bug */
        mk_err bug = mikey.n > 0 ? MK_E_NOSPACE : MK_E_INTERNAL;
        format_error(out, 503, bug, "no answer", retry_after);
        return bug;
    }
    if (status < 400 || mk_http_reason(status) == NULL) {
        /* a status not produced on purpose (profile §2) */
        format_error(out, 503, err, what, retry_after);
        return MK_E_INTERNAL;
    }
    format_error(out, status, err, what, retry_after);
    return MK_OK;

internal:
    format_error(out, 503, MK_E_INTERNAL, "answer encoding", retry_after);
    return MK_E_NOSPACE;
}
