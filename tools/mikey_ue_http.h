/* mikey_ue_http.h - the HTTP transport of mikey-ue (and of the load test
 * client): one MIKEY message POSTed to the KMS as the annex (X1.1) asks of
 * a UE, and the answer checked as the annex asks of a UE.
 *
 * Owns: one keep-alive connection to a KMS mount (ue_http, one libcurl easy
 * handle: use it from one thread at a time), the check of an answer
 * (ue_http_check_answer: no I/O, so the test client and the CLI agree on
 * what a valid answer is), the one-line description of a failed exchange,
 * and the sink that swaps the stdout sink of mikey_ue_io.h for a POST.
 * The only libcurl user of the project.
 *
 * Request (annex X1.1, profile §2): POST <url>?requesttype=ticketrequest|
 * ticketresolve ('&' instead of '?' when the URL has a query already),
 * HTTP/1.1, Host from the URL, Content-Type: application/mikey, body =
 * base64 (RFC 4648, no line breaks) of the message. No "Expect:
 * 100-continue", no redirects followed, http and https only. Connect
 * timeout 5 s, whole exchange 15 s.
 *
 * GBA (doc/profile.md §10): with credentials added (ue_http_add_gba), a
 * 401 whose WWW-Authenticate is a Digest challenge is answered (RFC 7616,
 * own code: libcurl's Digest hashes an empty body for auth-int) and the
 * request repeated, at most twice (a stale nonce, then a fresh one); the
 * credentials are those of the message's IDRpsk (the B-TID: username
 * B-TID, password base64(Ks_NAF), TS 33.222 §5.3), qop auth-int when the
 * KMS offers it, else auth. The nonce is kept for the next requests (nc
 * counts up), and User-Agent carries the "3gpp-gba" token (TS 24.109
 * §5.2.1).
 *
 * Answer: valid only when the status is 200, the Content-Type is
 * application/mikey (type and subtype case-insensitive, parameters
 * allowed: RFC 7231 §3.1.1.1) and the body is base64 of a non-empty
 * message. That the message is the REQUEST_RESP / RESOLVE_RESP (or MIKEY
 * Error message) of the request is for the UE library to check.
 */
#ifndef MK_TOOLS_MIKEY_UE_HTTP_H
#define MK_TOOLS_MIKEY_UE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mikey_ue_io.h"
#include "util/cursor.h"
#include "util/err.h"

#define UE_HTTP_CONNECT_TIMEOUT_S 5L
#define UE_HTTP_TIMEOUT_S 15L
#define UE_HTTP_BODY_MAX (64u * 1024u) /* largest answer body read */

/* What came back for one POST. */
typedef struct ue_http_answer {
    long status;           /* 0: no HTTP answer at all */
    char reason[64];       /* reason phrase of the (last) status line */
    char content_type[128];
    char retry_after[32];  /* Retry-After of a 503 / 401, "" if absent */
    int digest_rounds;     /* 401s answered with Digest credentials */
    char text[160];        /* a refusal's text/plain body: first line,
                              printable ASCII, "..." when cut */
    char why[512];         /* why the exchange failed, "" on success */
    size_t body_len;       /* bytes of body received */
    ue_msg msg;            /* 200: the decoded MIKEY message */
} ue_http_answer;

typedef struct ue_http ue_http;

/* libcurl's global set-up: once, before any thread uses ue_http. */
mk_err ue_http_global_init(void) MK_MUST_USE;
void ue_http_global_cleanup(void);

/* A connection to the KMS mount `url` (e.g.
 * http://127.0.0.1:8080/keymanagement). MK_E_ARG for a URL that is not
 * http:// or https://, MK_E_IO when libcurl cannot be set up. */
mk_err ue_http_open(const char *url, ue_http **out) MK_MUST_USE;
void ue_http_close(ue_http *h);

/* Answer Digest challenges for messages whose IDRpsk is btid (at most 2
 * B-TIDs: chain's alice and bob). MK_E_LIMIT when full, MK_E_ARG for a
 * key that is not 32 bytes. */
mk_err ue_http_add_gba(ue_http *h, mk_bytes btid, mk_bytes ks_naf) MK_MUST_USE;
/* Trust the certificates in file (PEM) for https:// (a self-signed KMS). */
mk_err ue_http_set_cacert(ue_http *h, const char *file) MK_MUST_USE;

/* POST msg with ?requesttype=requesttype and check the answer. MK_OK: a
 * 200 with application/mikey and a base64 MIKEY message, decoded into
 * a->msg. Otherwise a->why says what went wrong and:
 *   MK_E_IO     no HTTP answer (connect, timeout, ...: a->status 0), or a
 *               refusal (a->status != 200, a->reason / a->text / a->
 *               retry_after filled);
 *   MK_E_HTTP_CONTENT_TYPE, MK_E_HTTP_BODY, MK_E_BASE64: a 200 that is
 *               not a valid annex answer (ue_http_check_answer). */
mk_err ue_http_post(ue_http *h, const char *requesttype, mk_bytes msg,
                    ue_http_answer *a) MK_MUST_USE;



/* "HTTP 403 Forbidden: <text>" and the like: what to print for a failed
 * exchange (a->why as it is for checks that failed on a 200). */
void ue_http_describe(const ue_http_answer *a, char *buf, size_t cap);


/* A sink that POSTs REQUEST_INIT / RESOLVE_INIT over h and hands back the
 * decoded answer (ue_sink.deliver's answer); any other message is
 * MK_E_ARG. The sink's why() describes the last failed exchange. h stays
 * the caller's. One sink per program (static storage). */
ue_sink *ue_sink_http(ue_http *h);

#endif
