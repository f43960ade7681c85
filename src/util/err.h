/* err.h - the one error type of mikeykms and its guard macros.
 *
 * Owns: mk_err (every failure the code base can produce), the table that maps
 * each one to the HTTP status of the annex / profile §2 and, where profile §3
 * says so, a MIKEY Error number (RFC 3830 §6.12, RFC 6043 §6.9); a per-thread
 * detail record (payload, byte offset, short reason) set where an error is
 * first raised, so that a decoder error can name the payload and offset.
 *
 * Style (after s2n's safety macros): functions return mk_err; MK_OK is 0.
 * Raise with MK_FAIL / MK_FAIL_AT, propagate with MK_GUARD, check conditions
 * with MK_ENSURE.
 */
#ifndef MK_UTIL_ERR_H
#define MK_UTIL_ERR_H

#include <stddef.h>
#include <stdint.h>

typedef enum mk_err {
    MK_OK = 0,

    /* --- decoding / encoding (a malformed message is HTTP 400) --- */
    MK_E_TRUNCATED,       /* a field runs past the end of its enclosing data */
    MK_E_LENGTH,          /* a length field disagrees with its enclosing payload */
    MK_E_TRAILING,        /* bytes left after the last payload or field */
    MK_E_UNKNOWN_PAYLOAD, /* a payload type we do not know (cannot be skipped) */
    MK_E_VALUE,           /* a field value that makes the layout undecidable or is forbidden */
    MK_E_LIMIT,           /* more payloads / keys / entries than we hold */
    MK_E_BASE64,          /* body is not base64 */
    MK_E_NOSPACE,         /* an output buffer is too small (internal) */
    MK_E_ARG,             /* a caller passed an impossible argument (internal) */

    /* --- crypto --- */
    MK_E_CRYPTO,          /* OpenSSL failed (internal) */
    MK_E_RANDOM,          /* RAND_bytes failed (internal) */
    MK_E_UNWRAP,          /* AES key unwrap integrity check failed */
    MK_E_SELFTEST,        /* a known-answer self test failed: do not serve */

    /* --- MIKEY checks: answered 200 + MIKEY Error message (profile §3) --- */
    MK_E_MIKEY_AUTH,          /* 0  Auth failure */
    MK_E_MIKEY_TS,            /* 1  Invalid TS */
    MK_E_MIKEY_PRF,           /* 2  Invalid PRF */
    MK_E_MIKEY_MAC,           /* 3  Invalid MAC */
    MK_E_MIKEY_EA,            /* 4  Invalid EA */
    MK_E_MIKEY_ID,            /* 7  Invalid ID */
    MK_E_MIKEY_DT,            /* 11 Invalid DT */
    MK_E_MIKEY_UNSPEC,        /* 12 Unspecified error */
    MK_E_MIKEY_TICKET,        /* 14 Invalid TICKET */
    MK_E_MIKEY_TPPAR,         /* 15 Invalid TPpar */

    /* --- KMS decisions and service state --- */
    MK_E_POLICY,          /* 403: authenticated and well-formed, policy says no */
    MK_E_UNAVAILABLE,     /* 503: store busy/down, keys not loaded, draining */
    MK_E_INTERNAL,        /* 503: a bug that still yields an answer (logged) */
    MK_E_NOT_FOUND,       /* a store lookup found nothing (internal meaning) */
    MK_E_EXISTS,          /* a store insert met an existing row */
    MK_E_IO,              /* a file could not be read or written (CLIs) */
    MK_E_CONFIG,          /* a configuration value is wrong */
    MK_E_STALE,           /* a store commit found the rows the answer was
                           * computed on changed: nothing written, run the
                           * request again (never reaches a UE; 503 if it did) */

    /* --- HTTP binding (annex X1.2, profile §2) --- */
    MK_E_HTTP_VERSION,    /* 505 */
    MK_E_HTTP_METHOD,     /* 405 + Allow: POST */
    MK_E_HTTP_URI,        /* 404 */
    MK_E_HTTP_SERVICE,    /* 501 */
    MK_E_HTTP_CONTENT_TYPE, /* 400 */
    MK_E_HTTP_BODY,       /* 400: missing, empty or over the cap */
    MK_E_HTTP_AUTH,       /* 401 (Ua authentication, later) */
    MK_E_HTTP_ZN_TIMEOUT, /* 504 (BSF over Zn, later) */
    MK_E_RATE_LIMITED,    /* 503 + Retry-After: over a rate limit
                           * (doc/profile.md §12.2) */

    MK_E__COUNT
} mk_err;

/* MIKEY Error numbers (RFC 3830 §6.12 Table 6.12, RFC 6043 §6.9). */
#define MK_MIKEY_ERRNO_NONE (-1)

/* Where an error was first raised. offset is absolute within the outermost
 * buffer being decoded; payload is a payload type number (codec/mikey.h) or
 * -1 when none applies. what is a static string. */
typedef struct mk_err_detail {
    mk_err code;
    int payload;
    size_t offset;
    const char *what;
} mk_err_detail;

/* On every function that returns an mk_err (except mk_err_raise and
 * mk_err_restore, whose result is the code they were given, the writer's
 * mk_buf_* calls, whose error is kept in the writer, and mk_kms_handle,
 * whose result is also in its answer): a caller that drops the result does not compile
 * (-Werror; GCC does not take a (void) cast for it). A result dropped on
 * purpose says so: MK_KEEP_FIRST or mk_err_drop below. */
#if defined(__GNUC__) || defined(__clang__)
#define MK_MUST_USE __attribute__((warn_unused_result))
#else
#define MK_MUST_USE
#endif

/* Static name of an error ("MK_E_TRUNCATED" -> "truncated"). */
const char *mk_err_name(mk_err e);
/* HTTP status an error maps to when it reaches a UE (profile §2). Codec
 * errors -> 400, MIKEY check failures -> 200 (with an Error message). */
int mk_err_http_status(mk_err e);
/* The reason phrase of an HTTP status (RFC 9110 §15) for the statuses the
 * KMS, its web servers and its clients meet; "" for any other. */
const char *mk_http_status_phrase(int status);
/* MIKEY Error number for the MIKEY-check errors, MK_MIKEY_ERRNO_NONE else. */
int mk_err_mikey_errno(mk_err e);

/* Record a detail for this thread and return e (so it can be returned). */
mk_err mk_err_raise(mk_err e, int payload, size_t offset, const char *what);
/* The detail of the last raised error on this thread. */
const mk_err_detail *mk_err_last(void);
void mk_err_clear(void);
/* Make a detail saved from mk_err_last the last again (after a cleanup
 * that raised its own); returns its code. */
mk_err mk_err_restore(const mk_err_detail *d);

/* A result dropped on purpose, the reason named at the call: the caller
 * goes on the same whether it failed or not (its detail stays in
 * mk_err_last until the next raise or clear). */
static inline void mk_err_drop(mk_err e, const char *why)
{
    (void)e;
    (void)why;
}

#define MK_FAIL(e, what) return mk_err_raise((e), -1, 0, (what))
#define MK_FAIL_AT(e, payload, offset, what) \
    return mk_err_raise((e), (payload), (offset), (what))

#define MK_GUARD(expr)                      \
    do {                                    \
        mk_err mk_guard_e_ = (expr);        \
        if (mk_guard_e_ != MK_OK)           \
            return mk_guard_e_;             \
    } while (0)

#define MK_ENSURE(cond, e, what)            \
    do {                                    \
        if (!(cond))                        \
            MK_FAIL((e), (what));           \
    } while (0)

/* A cleanup that can fail, run after rc: when rc is an error already, rc
 * and its detail (mk_err_last) are kept and the cleanup's error dropped;
 * else rc becomes the cleanup's result. */
#define MK_KEEP_FIRST(rc, expr)                             \
    do {                                                    \
        mk_err_detail mk_keep_d_ = *mk_err_last();          \
        mk_err mk_keep_e_ = (expr);                         \
        if ((rc) != MK_OK)                                  \
            (void)mk_err_restore(&mk_keep_d_);              \
        else                                                \
            (rc) = mk_keep_e_;                              \
    } while (0)

/* Like MK_GUARD, but jumps to a cleanup label (secrets are wiped there). */
#define MK_GUARD_GOTO(expr, rc, label)      \
    do {                                    \
        (rc) = (expr);                      \
        if ((rc) != MK_OK)                  \
            goto label;                     \
    } while (0)

#endif
