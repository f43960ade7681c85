/* http_binding.h - the HTTP binding of the annex (X1.1, X1.2) as pure logic.
 *
 * Owns: mk_http_binding (mount, accepted protocols, body cap), mk_http_cgi
 * (the CGI/1.1 variables of one request, RFC 3875 §4.1), the decision of
 * profile §2 (505 -> 405 -> 404 -> 501 -> 400, in that order) that turns a
 * request into an mk_service plus the decoded MIKEY bytes, and the writer of
 * the complete CGI response (header block + body) for any (status, error).
 *
 * No FastCGI, no I/O, no allocation: the responder (kmsd) reads the
 * variables and at most body_max + 1 bytes of the body and hands them here.
 * CONTENT_LENGTH is never trusted: the bytes actually received decide.
 */
#ifndef MK_FCGI_HTTP_BINDING_H
#define MK_FCGI_HTTP_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_HTTP_MOUNT_DEFAULT "/keymanagement"
#define MK_HTTP_MOUNT_MAX 256
#define MK_HTTP_PROTOCOLS_MAX 8
#define MK_HTTP_PROTOCOL_MAX 16     /* "HTTP/1.1" + room */
#define MK_HTTP_BODY_MAX_DEFAULT (64u * 1024u) /* profile §2: 64 KiB */
#define MK_HTTP_BODY_MAX_LIMIT (16u * 1024u * 1024u) /* largest cap accepted */
#define MK_HTTP_RETRY_AFTER_DEFAULT 5

typedef struct mk_http_binding {
    char mount[MK_HTTP_MOUNT_MAX];  /* absolute path, no trailing '/' */
    char protocols[MK_HTTP_PROTOCOLS_MAX][MK_HTTP_PROTOCOL_MAX];
    size_t n_protocols;             /* SERVER_PROTOCOL values accepted */
    size_t body_max;                /* cap on the (base64) body in bytes */
} mk_http_binding;

/* Mount /keymanagement, HTTP/1.1 only, 64 KiB body cap. */
void mk_http_binding_defaults(mk_http_binding *b);
/* Replace the mount. It must start with '/', must not end with '/' (unless
 * it is "/"), and hold no '?', '#', '%' or control characters:
 * MK_E_CONFIG otherwise (b unchanged). */
mk_err mk_http_binding_set_mount(mk_http_binding *b, const char *mount) MK_MUST_USE;
/* Replace the accepted protocols with a list separated by spaces or commas
 * ("HTTP/1.1, HTTP/1.0"). Each must look like HTTP/<digit>.<digit>;
 * MK_E_CONFIG on an empty or bad list (b unchanged). */
mk_err mk_http_binding_set_protocols(mk_http_binding *b, const char *list) MK_MUST_USE;
/* 1 .. MK_HTTP_BODY_MAX_LIMIT, else MK_E_CONFIG. */
mk_err mk_http_binding_set_body_max(mk_http_binding *b, size_t body_max) MK_MUST_USE;

/* Largest MIKEY message a body within the cap can decode to. */
size_t mk_http_msg_max(const mk_http_binding *b);

/* The CGI variables of one request; NULL = not set by the server. */
typedef struct mk_http_cgi {
    const char *request_method;  /* REQUEST_METHOD */
    const char *server_protocol; /* SERVER_PROTOCOL */
    const char *script_name;     /* SCRIPT_NAME (decoded path) */
    const char *path_info;       /* PATH_INFO (decoded path) */
    const char *request_uri;     /* REQUEST_URI (raw, fallback only) */
    const char *query_string;    /* QUERY_STRING (raw) */
    const char *content_type;    /* CONTENT_TYPE */
    const char *content_length;  /* CONTENT_LENGTH: informative, never used to size a read */
    const char *remote_addr;     /* REMOTE_ADDR: the rate limit's key only */
    const char *authorization;   /* HTTP_AUTHORIZATION (Ua, doc/profile.md §10) */
} mk_http_cgi;

/* Steps 505, 405, 404, 501 and the Content-Type half of 400, in the order of
 * profile §2. On MK_OK *service is the requested service. Errors:
 * MK_E_HTTP_VERSION, MK_E_HTTP_METHOD, MK_E_HTTP_URI, MK_E_HTTP_SERVICE,
 * MK_E_HTTP_CONTENT_TYPE, each raised with a static reason (mk_err_last). */
mk_err mk_http_route(const mk_http_binding *b, const mk_http_cgi *v,
                     mk_service *service) MK_MUST_USE;

/* The body half of 400: `body` is what was read, at most body_max + 1 bytes
 * (body_max + 1 means "over the cap"). Empty or over the cap ->
 * MK_E_HTTP_BODY; not base64 -> MK_E_BASE64. On MK_OK msg[0..*msg_len) is
 * the MIKEY message. */
mk_err mk_http_body(const mk_http_binding *b, mk_bytes body, uint8_t *msg,
                    size_t msg_cap, size_t *msg_len) MK_MUST_USE;

/* The health and metrics pages (kmsd_status.h) live under a mount of
 * their own, apart from the annex's (doc/profile.md §12.1): which page a
 * request's path names there. NONE: not under status_mount ("" = no
 * pages), and the request goes to the annex's decision unchanged. */
typedef enum mk_http_page {
    MK_HTTP_PAGE_NONE = 0,
    MK_HTTP_PAGE_HEALTH,  /* <status_mount>/health */
    MK_HTTP_PAGE_METRICS, /* <status_mount>/metrics */
    MK_HTTP_PAGE_UNKNOWN, /* anything else under it: 404 */
} mk_http_page;
mk_http_page mk_http_status_page(const char *status_mount,
                                 const mk_http_cgi *v);

/* Both halves: the whole decision of profile §2 up to the MIKEY layer. */
mk_err mk_http_decide(const mk_http_binding *b, const mk_http_cgi *v,
                      mk_bytes body, mk_service *service, uint8_t *msg,
                      size_t msg_cap, size_t *msg_len) MK_MUST_USE;

/* "ticketrequest" / "ticketresolve" / "-" (for logs). */
const char *mk_http_service_name(int service);

/* ---------------- response ---------------- */

/* A 200 body is base64 of at most MK_ANSWER_MAX bytes. */
#define MK_HTTP_REPLY_MAX (((MK_ANSWER_MAX + 2) / 3) * 4 + 512)

typedef struct mk_http_reply {
    int status;                    /* the status actually written */
    char text[MK_HTTP_REPLY_MAX];  /* CGI header block + body */
    size_t len;
} mk_http_reply;


/* Format the complete CGI response for (status, err).
 *   200: "Status: 200 OK", "Content-Type: application/mikey",
 *        "Cache-Control: no-store", Content-Length, body = base64(mikey).
 *   4xx/5xx: "Content-Type: text/plain", Content-Length, body = one line
 *        "<mk_err_name(err)>[: <what>]\n" (what: static reason, printable
 *        ASCII only, may be NULL); 405 adds "Allow: POST", 503 adds
 *        "Retry-After: <retry_after>".
 * A status this KMS never produces on purpose (402, 406-417, 500, 502, any
 * unknown code) and a 200 without MIKEY bytes are written as 503 (profile
 * §2: a bug that still yields an answer makes the UE retry). Lines end in
 * CRLF. Returns MK_OK when `status` itself was written; otherwise the 503
 * was written and the result names the bug for the log: MK_E_INTERNAL (a
 * status not produced on purpose, or 200 without MIKEY bytes) or
 * MK_E_NOSPACE (MIKEY bytes over MK_ANSWER_MAX). */
mk_err mk_http_reply_format(mk_http_reply *out, int status, mk_err err,
                            const char *what, mk_bytes mikey,
                            uint32_t retry_after) MK_MUST_USE;

/* A 401 (RFC 7235 §3.1) with "WWW-Authenticate: <challenge>" (a Digest
 * challenge, doc/profile.md §10), otherwise as mk_http_reply_format. A
 * challenge that is NULL, empty or holds CR / LF is a bug: 503 written,
 * MK_E_INTERNAL returned. */
mk_err mk_http_reply_format_401(mk_http_reply *out, mk_err err,
                                const char *what, const char *challenge,
                                uint32_t retry_after) MK_MUST_USE;

#endif
