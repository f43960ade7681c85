/* err.c - names, HTTP mapping and per-thread detail of mk_err. */
#include "util/err.h"

typedef struct err_row {
    const char *name;
    int http;        /* annex X1.2 status when this error reaches a UE */
    int mikey_errno; /* RFC 3830 §6.12 / RFC 6043 §6.9, or none */
} err_row;

/* One row per mk_err, in enum order (checked by tests/test_err.c). The HTTP
 * column is profile §2; the MIKEY column is profile §3. */
static const err_row err_table[MK_E__COUNT] = {
    [MK_OK]                  = {"ok", 200, MK_MIKEY_ERRNO_NONE},
    [MK_E_TRUNCATED]         = {"truncated", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_LENGTH]            = {"bad length", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_TRAILING]          = {"trailing bytes", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_UNKNOWN_PAYLOAD]   = {"unknown payload", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_VALUE]             = {"bad value", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_LIMIT]             = {"too many elements", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_BASE64]            = {"not base64", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_NOSPACE]           = {"output buffer too small", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_ARG]               = {"bad argument", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_CRYPTO]            = {"crypto failure", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_RANDOM]            = {"random generator failure", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_UNWRAP]            = {"key unwrap failed", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_SELFTEST]          = {"self test failed", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_MIKEY_AUTH]        = {"Auth failure", 200, 0},
    [MK_E_MIKEY_TS]          = {"Invalid TS", 200, 1},
    [MK_E_MIKEY_PRF]         = {"Invalid PRF", 200, 2},
    [MK_E_MIKEY_MAC]         = {"Invalid MAC", 200, 3},
    [MK_E_MIKEY_EA]          = {"Invalid EA", 200, 4},
    [MK_E_MIKEY_ID]          = {"Invalid ID", 200, 7},
    [MK_E_MIKEY_DT]          = {"Invalid DT", 200, 11},
    [MK_E_MIKEY_UNSPEC]      = {"Unspecified error", 200, 12},
    [MK_E_MIKEY_TICKET]      = {"Invalid TICKET", 200, 14},
    [MK_E_MIKEY_TPPAR]       = {"Invalid TPpar", 200, 15},
    [MK_E_POLICY]            = {"forbidden by policy", 403, MK_MIKEY_ERRNO_NONE},
    [MK_E_UNAVAILABLE]       = {"service unavailable", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_INTERNAL]          = {"internal error", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_NOT_FOUND]         = {"no such entry", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_EXISTS]            = {"already exists", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_IO]                = {"i/o error", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_CONFIG]            = {"configuration error", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_STALE]             = {"stale lookup", 503, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_VERSION]      = {"HTTP version not supported", 505, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_METHOD]       = {"method not allowed", 405, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_URI]          = {"not found", 404, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_SERVICE]      = {"not implemented", 501, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_CONTENT_TYPE] = {"content type is not application/mikey", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_BODY]         = {"body missing, empty or too large", 400, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_AUTH]         = {"authentication required", 401, MK_MIKEY_ERRNO_NONE},
    [MK_E_HTTP_ZN_TIMEOUT]   = {"BSF did not answer", 504, MK_MIKEY_ERRNO_NONE},
    [MK_E_RATE_LIMITED]      = {"rate limited", 503, MK_MIKEY_ERRNO_NONE},
};

static _Thread_local mk_err_detail last_detail;

static const err_row *row(mk_err e)
{
    if ((unsigned)e >= (unsigned)MK_E__COUNT || err_table[e].name == NULL)
        return &err_table[MK_E_INTERNAL];
    return &err_table[e];
}

const char *mk_err_name(mk_err e) { return row(e)->name; }
int mk_err_http_status(mk_err e) { return row(e)->http; }

const char *mk_http_status_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}
int mk_err_mikey_errno(mk_err e) { return row(e)->mikey_errno; }

mk_err mk_err_raise(mk_err e, int payload, size_t offset, const char *what)
{
    last_detail.code = e;
    last_detail.payload = payload;
    last_detail.offset = offset;
    last_detail.what = what;
    return e;
}

const mk_err_detail *mk_err_last(void) { return &last_detail; }

mk_err mk_err_restore(const mk_err_detail *d)
{
    return mk_err_raise(d->code, d->payload, d->offset, d->what);
}

void mk_err_clear(void)
{
    last_detail.code = MK_OK;
    last_detail.payload = -1;
    last_detail.offset = 0;
    last_detail.what = NULL;
}
