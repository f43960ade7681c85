/* fuzz_http - libFuzzer target: the HTTP binding's decision (mk_http_decide,
 * doc/profile.md §2 rows 1-8) and the response writer, on arbitrary CGI
 * variables and bodies (doc/profile.md §9.41).
 *
 * Input: byte 0 picks the body cap (4 choices) and whether REQUEST_URI
 * and CONTENT_LENGTH are set; byte 1 says which of the other six CGI
 * variables are set (bit i: variable i); then the eight variables, each
 * ended by a NUL, in the order REQUEST_METHOD, SERVER_PROTOCOL,
 * SCRIPT_NAME, PATH_INFO, REQUEST_URI, QUERY_STRING, CONTENT_TYPE,
 * CONTENT_LENGTH; the rest is the body.
 *
 * Beyond ASan / UBSan, it aborts when the decision breaks its contract:
 * an error that is not one of rows 1-8 (505, 405, 404, 501, 400), a
 * service other than the two, a MIKEY message over the buffer or longer
 * than the body could decode to, a decision that routing alone contradicts,
 * or a response the writer does not write as the status it was given.
 *
 * Seeds: MK_FUZZ_SEED_DIR=DIR ./fuzz_http writes requests of every row of
 * §2 into DIR and exits (am/fuzz.am). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/http_binding.h"
#include "util/base64.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_VARS 8

static const size_t caps[4] = {1, 64, 1024, MK_HTTP_BODY_MAX_DEFAULT};

static bool status_ok(int s)
{
    return s == 400 || s == 404 || s == 405 || s == 501 || s == 505;
}

static void check_reply(int status, mk_err e, const char *what,
                        mk_bytes mikey)
{
    static mk_http_reply rep;
    char want[32];
    if (mk_http_reply_format(&rep, status, e, what, mikey, 5) != MK_OK ||
        rep.status != status || rep.len == 0 || rep.len > sizeof rep.text)
        abort();
    int n = snprintf(want, sizeof want, "Status: %d ", status);
    if (rep.len < (size_t)n || memcmp(rep.text, want, (size_t)n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char vars[N_VARS][4096];
    static uint8_t msg[MK_HTTP_BODY_MAX_DEFAULT];
    const char *v[N_VARS];
    mk_http_binding b;
    mk_http_cgi cgi;
    if (size < 2)
        return 0;
    uint8_t opt = data[0], set = data[1];
    size_t off = 2;
    for (size_t i = 0; i < N_VARS; i++) {
        const uint8_t *end = memchr(data + off, 0, size - off);
        size_t n = end != NULL ? (size_t)(end - (data + off)) : size - off;
        if (n >= sizeof vars[i])
            return 0;
        memcpy(vars[i], data + off, n);
        vars[i][n] = '\0';
        off += n + (end != NULL);
        bool on = i == 4 ? (opt & 4) : i == 7 ? (opt & 8) : (set >> i) & 1;
        v[i] = on ? vars[i] : NULL;
    }
    mk_http_binding_defaults(&b);
    if (mk_http_binding_set_body_max(&b, caps[opt & 3]) != MK_OK)
        abort();
    cgi = (mk_http_cgi){
        .request_method = v[0], .server_protocol = v[1],
        .script_name = v[2], .path_info = v[3], .request_uri = v[4],
        .query_string = v[5], .content_type = v[6],
        .content_length = v[7],
    };
    /* the body as kmsd reads it: at most body_max + 1 bytes */
    size_t body_n = size - off;
    if (body_n > b.body_max + 1)
        body_n = b.body_max + 1;
    size_t cap = mk_http_msg_max(&b);
    if (cap > sizeof msg)
        abort();
    mk_service svc = (mk_service)0, routed = (mk_service)0;
    size_t n = 0;
    mk_err e = mk_http_decide(&b, &cgi, MK_BYTES(data + off, body_n), &svc,
                              msg, cap, &n);
    mk_err r = mk_http_route(&b, &cgi, &routed);
    if (e == MK_OK) {
        if ((svc != MK_SERVICE_TICKET_REQUEST &&
             svc != MK_SERVICE_TICKET_RESOLVE) ||
            n == 0 || n > cap || n > (body_n / 4) * 3 || r != MK_OK ||
            routed != svc)
            abort();
        if (n <= MK_ANSWER_MAX) {
            check_reply(200, MK_OK, NULL, MK_BYTES(msg, n));
        } else { /* more than an answer holds: written as 503 */
            static mk_http_reply rep;
            if (mk_http_reply_format(&rep, 200, MK_OK, NULL,
                                     MK_BYTES(msg, n), 5) != MK_E_NOSPACE ||
                rep.status != 503)
                abort();
        }
        return 0;
    }
    /* routing failed: the decision is routing's; else the body's (400) */
    if (!status_ok(mk_err_http_status(e)) ||
        (r != MK_OK && r != e) ||
        (r == MK_OK && mk_err_http_status(e) != 400))
        abort();
    const mk_err_detail *d = mk_err_last();
    check_reply(mk_err_http_status(e), e, d->code == e ? d->what : NULL,
                MK_BYTES_NONE);
    return 0;
}

/* --- seeds --- */

static void seed(const char *dir, const char *name, uint8_t opt, uint8_t set,
                 const char *const vars[N_VARS], const char *body)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        goto fail;
    fputc(opt, f);
    fputc(set, f);
    for (size_t i = 0; i < N_VARS; i++) {
        fputs(vars[i], f);
        fputc(0, f);
    }
    fputs(body, f);
    if (fclose(f) != 0)
        goto fail;
    return;
fail:
    fprintf(stderr, "fuzz_http: cannot write %s\n", path);
    exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("MK_FUZZ_SEED_DIR");
    if (dir == NULL)
        return 0;
    /* the RFC 4567 sample, a MIKEY message (answered Invalid DT) */
    static const char body[] =
        "AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAP"
        "ZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv"
        "3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV";
    const char *ok[N_VARS] = {"POST", "HTTP/1.1", "/keymanagement", "",
                              "/keymanagement?requesttype=ticketrequest",
                              "requesttype=ticketrequest", "application/mikey",
                              "204"};
    seed(dir, "request", 3 | 4 | 8, 0x6f, ok, body);
    const char *resolve[N_VARS] = {"POST", "HTTP/1.1", "", "",
                                   "/key%6Danagement?requesttype=ticketresolve",
                                   "a=b&requesttype=ticket%72esolve",
                                   "Application/MIKEY; charset=x", ""};
    seed(dir, "resolve-uri", 2 | 4, 0x63, resolve, "AAAA\r\nAAAA");
    const char *bad[N_VARS] = {"GET", "HTTP/1.0", "/keymanagement/", "/x",
                               "", "requesttype=ticketrequest&requesttype=x",
                               "text/plain", "100000"};
    seed(dir, "refusals", 1 | 8, 0xff, bad, "not base64!");
    seed(dir, "unknown-service", 3, 0x6f,
         (const char *const[N_VARS]){"POST", "HTTP/1.1", "/keymanagement",
                                     "", "", "requesttype=ticketmint",
                                     "application/mikey", ""},
         "AQID");
    exit(0);
}
