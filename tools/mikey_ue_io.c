/* mikey_ue_io.c - see mikey_ue_io.h. */
#include "mikey_ue_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "util/base64.h"
#include "util/hex.h"
#include "tool_json.h"
#include "util/ntp.h"

mk_err ue_read_all(const char *path, char **text, size_t *n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf;
    size_t len = 0, r;
    *text = NULL;
    *n = 0;
    if (!f)
        return mk_err_raise(MK_E_IO, -1, 0, "cannot open input file");
    buf = malloc(UE_IN_MAX + 1);
    if (!buf) {
        if (f != stdin)
            fclose(f);
        return mk_err_raise(MK_E_IO, -1, 0, "out of memory");
    }
    while ((r = fread(buf + len, 1, UE_IN_MAX + 1 - len, f)) > 0) {
        len += r;
        if (len > UE_IN_MAX)
            break;
    }
    if (ferror(f) || len > UE_IN_MAX) {
        bool big = len > UE_IN_MAX;
        free(buf);
        if (f != stdin)
            fclose(f);
        return mk_err_raise(big ? MK_E_LIMIT : MK_E_IO, -1, 0,
                            big ? "input too large" : "cannot read input");
    }
    if (f != stdin)
        fclose(f);
    buf[len] = '\0';
    *text = buf;
    *n = len;
    return MK_OK;
}

static mk_err b64(const char *text, size_t n, ue_msg *m)
{
    mk_err rc = mk_base64_decode(MK_BYTES(text, n), m->b, sizeof m->b, &m->n);
    if (rc == MK_OK && m->n == 0)
        return mk_err_raise(MK_E_BASE64, -1, 0, "empty message");
    return rc;
}

mk_err ue_msg_from_arg(const char *arg, ue_msg *m)
{
    char *text = NULL;
    size_t n = 0;
    mk_err rc;
    m->n = 0;
    if (strcmp(arg, "-") != 0 && arg[0] != '@')
        return b64(arg, strlen(arg), m);
    MK_GUARD(ue_read_all(arg[0] == '@' ? arg + 1 : "-", &text, &n));
    rc = b64(text, n, m);
    free(text);
    return rc;
}

mk_err ue_hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    /* a key pasted from a dump: white space and colons between digits */
    return mk_hex_decode_text(s, strlen(s), " \t\n\r:", out, cap, n);
}

mk_err ue_uint(const char *s, uint64_t max, uint64_t *v)
{
    char *end = NULL;
    unsigned long long x;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return mk_err_raise(MK_E_VALUE, -1, 0, "not a number");
    errno = 0;
    x = strtoull(s, &end, 0);
    if (errno || *end || x > max)
        return mk_err_raise(MK_E_VALUE, -1, 0, "number out of range");
    *v = x;
    return MK_OK;
}

mk_err ue_time(const char *s, uint64_t *ntp)
{
    size_t len = strlen(s);
    bool hex16 = len == 16;
    for (size_t i = 0; hex16 && i < len; i++)
        hex16 = mk_hex_digit(s[i]) >= 0;
    if (hex16 || (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
        uint64_t v = 0;
        const char *p = hex16 ? s : s + 2;
        if (strlen(p) > 16 || !*p)
            return mk_err_raise(MK_E_VALUE, -1, 0, "NTP time has 16 hex digits");
        for (; *p; p++) {
            int d = mk_hex_digit(*p);
            if (d < 0)
                return mk_err_raise(MK_E_VALUE, -1, 0, "NTP time is not hex");
            v = v << 4 | (uint64_t)d;
        }
        *ntp = v;
        return MK_OK;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return mk_err_raise(MK_E_VALUE, -1, 0,
                                "time is unix seconds or 16 hex digits (NTP)");
    {
        uint64_t u;
        /* 2104-02-07: the end of NTP era 1 (util/ntp.h) */
        MK_GUARD(ue_uint(s, 4294967295ull + 2085978496ull, &u));
        *ntp = mk_ntp_from_unix(u, 0);
    }
    return MK_OK;
}

void ue_flags_text(uint16_t f, char out[16])
{
    static const char letters[] = "DEFGHIJKLMNO";
    size_t k = 0;
    for (int i = 0; i < 12; i++)
        if (f & (1u << i))
            out[k++] = letters[i];
    out[k] = '\0';
}

void ue_peer_error_text(const mk_ue_peer_error *pe, char *buf, size_t cap)
{
    size_t l = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < pe->n && l < cap; i++) {
        int w = snprintf(buf + l, cap - l, "%sMIKEY Error %u (%s)",
                         i ? ", " : "", pe->err_no[i],
                         mk_name_error_no(pe->err_no[i]));
        if (w < 0)
            return;
        l += (size_t)w;
    }
    if (l < cap)
        snprintf(buf + l, cap - l, "%s",
                 pe->n == 0          ? "MIKEY Error message without ERR"
                 : !pe->v_present    ? ", no V"
                 : pe->v_verified    ? ", V verified"
                                     : ", V does NOT verify");
}

/* --- results --- */

static void name_(ue_out *o, const char *name)
{
    if (o->json) {
        fputs(o->started ? "," : "{", stdout);
        printf("\"%s\":", name);
    } else {
        printf("%s=", name);
    }
    o->started = true;
}

void ue_out_hex(ue_out *o, const char *name, mk_bytes v)
{
    name_(o, name);
    if (o->json)
        putchar('"');
    for (size_t i = 0; i < v.n; i++)
        printf("%02x", v.p[i]);
    fputs(o->json ? "\"" : "\n", stdout);
}

void ue_out_str(ue_out *o, const char *name, const char *v)
{
    name_(o, name);
    if (!o->json) {
        printf("%s\n", v);
        return;
    }
    tool_json_str((const uint8_t *)v, strlen(v));
}

void ue_out_uint(ue_out *o, const char *name, uint64_t v)
{
    name_(o, name);
    printf(o->json ? "%llu" : "%llu\n", (unsigned long long)v);
}

void ue_out_end(ue_out *o)
{
    if (o->json)
        puts(o->started ? "}" : "{}");
    fflush(stdout);
}

/* --- the stdout sink --- */

static mk_err deliver_stdout(ue_sink *self, const char *what, mk_bytes msg,
                             ue_msg *answer)
{
    char *text;
    size_t cap = mk_base64_encoded_len(msg.n) + 1, n = 0;
    mk_err rc;
    (void)self;
    (void)what;
    if (answer)
        answer->n = 0;
    text = malloc(cap);
    if (!text)
        return mk_err_raise(MK_E_IO, -1, 0, "out of memory");
    rc = mk_base64_encode(msg, text, cap, &n);
    if (rc == MK_OK && (puts(text) == EOF || fflush(stdout) != 0))
        rc = mk_err_raise(MK_E_IO, -1, 0, "cannot write to stdout");
    free(text);
    return rc;
}

static const char *no_why(ue_sink *self)
{
    (void)self;
    return NULL;
}

ue_sink *ue_sink_stdout(void)
{
    static ue_sink s = {deliver_stdout, no_why};
    return &s;
}
