/* mikeydump - print every field of one MIKEY / MIKEY-TICKET message.
 *
 *   mikeydump [--hex|--base64|--binary] [--json] [-f FILE | MESSAGE]
 *
 * The message comes from the argument, from FILE, or from stdin. Unless
 * forced, text of only hex digits and white space is read as hex; otherwise
 * as base64 if it is made only of base64 characters or decodes as base64
 * (white space and line breaks allowed, padding required); otherwise as raw
 * bytes (a binary message starts with the unprintable version byte 0x01). Nested RFC 6043 data (TP Data,
 * base-ticket Ticket Data, Initiator Data) and the plaintext of a
 * NULL-encrypted KEMAC are decoded too; encrypted KEMAC data is shown as hex.
 * Ticket Data is opaque to the message decoder (RFC 6043 §6.10): a base
 * ticket's Ticket Data that does not decode is shown as hex with the reason
 * ("Ticket Data (opaque, does not decode as a base ticket: <error>)"; in
 * JSON "ticket_data" plus "ticket_data_error") and does not fail the dump.
 *
 * Exit status: 0 decoded, 1 bad input (one line on stderr:
 * "mikeydump: <error> in <payload> at offset N"), 2 bad command line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "util/base64.h"
#include "util/cursor.h"
#include "util/hex.h"
#include "tool_json.h"

#define IN_MAX (1u << 20)

enum fmt { FMT_AUTO, FMT_HEX, FMT_BASE64, FMT_BINARY };

/* ------------------------------------------------------------------ */
/* Output: the same calls print indented text or one JSON object. */

static bool json;
static int depth;
static bool first_in[64]; /* JSON: no comma needed yet at this depth */

static void indent(void)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", stdout);
}

static void json_key(const char *key)
{
    if (!first_in[depth])
        putchar(',');
    first_in[depth] = false;
    if (key)
        printf("\"%s\":", key);
}

static void open_(const char *key, bool array)
{
    if (json) {
        json_key(key);
        putchar(array ? '[' : '{');
    } else if (key) {
        indent();
        printf("%s\n", key);
    }
    depth++;
    first_in[depth] = true;
}

static void open_obj(const char *key) { open_(key, false); }
/* an element of an array: a label line in text, an anonymous object in JSON */
static void open_item(const char *label) { open_(json ? NULL : label, false); }
static void open_arr(const char *key) { open_(key, true); }

static void close_(bool array)
{
    depth--;
    if (json)
        putchar(array ? ']' : '}');
}

static void close_obj(void) { close_(false); }
static void close_arr(void) { close_(true); }

static void put_uint(const char *key, unsigned long long v)
{
    if (json) {
        json_key(key);
        printf("%llu", v);
    } else {
        indent();
        printf("%s: %llu\n", key, v);
    }
}

/* a value with its registry name: "5 (T)" / "key":5,"key_name":"T" */
static void put_named(const char *key, unsigned long long v, const char *name)
{
    if (json) {
        char k[64];
        json_key(key);
        printf("%llu", v);
        snprintf(k, sizeof k, "%s_name", key);
        json_key(k);
        tool_json_str((const uint8_t *)name, strlen(name));
    } else {
        indent();
        printf("%s: %llu (%s)\n", key, v, name);
    }
}

static void put_cstr(const char *key, const char *s)
{
    if (json) {
        json_key(key);
        tool_json_str((const uint8_t *)s, strlen(s));
    } else {
        indent();
        printf("%s: %s\n", key, s);
    }
}

static void put_hex(const char *key, mk_bytes b)
{
    if (json) {
        json_key(key);
        putchar('"');
        for (size_t i = 0; i < b.n; i++)
            printf("%02x", b.p[i]);
        putchar('"');
    } else {
        indent();
        printf("%s (%zu bytes):%s", key, b.n, b.n ? " " : "");
        for (size_t i = 0; i < b.n; i++)
            printf("%02x", b.p[i]);
        putchar('\n');
    }
}

static bool printable(mk_bytes b)
{
    for (size_t i = 0; i < b.n; i++)
        if (b.p[i] < 0x20 || b.p[i] >= 0x7f)
            return false;
    return b.n > 0;
}

/* identities: as text when printable, always also as hex in JSON */
static void put_data(const char *key, mk_bytes b)
{
    if (!printable(b)) {
        put_hex(key, b);
        return;
    }
    if (json) {
        char k[64];
        put_hex(key, b);
        snprintf(k, sizeof k, "%s_text", key);
        json_key(k);
        tool_json_str(b.p, b.n);
    } else {
        indent();
        printf("%s (%zu bytes): \"%.*s\"\n", key, b.n, (int)b.n, (const char *)b.p);
    }
}

/* ------------------------------------------------------------------ */
/* Printing the model */

static int data_type; /* of the message, for the KEMAC plaintext */

static void put_chain(const char *key, const mk_chain *c, size_t base);

static void put_kv(const mk_kv *kv)
{
    put_named("kv", kv->type, mk_name_kv(kv->type));
    if (kv->type == MK_KV_SPI)
        put_hex("spi", kv->spi);
    if (kv->type == MK_KV_INTERVAL) {
        put_hex("valid_from", kv->valid_from);
        put_hex("valid_to", kv->valid_to);
    }
}

static void put_ts(uint8_t ts_type, uint64_t v)
{
    char s[32];
    put_named("ts_type", ts_type, mk_name_ts_type(ts_type));
    snprintf(s, sizeof s, mk_ts_len_of(ts_type) == 4 ? "%08llx" : "%016llx",
             (unsigned long long)v);
    put_cstr("ts_value", s);
}

static void put_tp_flags(uint16_t flags, uint8_t res)
{
    static const char letters[] = "DEFGHIJKLMNO";
    char s[2 * sizeof letters + 1];
    size_t n = 0;
    for (unsigned i = 0; i < 12; i++) {
        if (flags & (1u << i)) {
            if (n)
                s[n++] = ' ';
            s[n++] = letters[i];
        }
    }
    s[n] = 0;
    put_cstr("flags", n ? s : "-");
    put_uint("res", res);
}

/* "<error> in <payload> at offset N" for the last codec error; base is
 * added to the offset (the offset of the decoded data in the message). */
static void err_text(mk_err e, size_t base, char *buf, size_t cap)
{
    const mk_err_detail *d = mk_err_last();
    const char *name = d->payload < 0 ? "message" : mk_name_payload(d->payload);
    char unk[32];
    if (strcmp(name, "Unknown") == 0) {
        snprintf(unk, sizeof unk, "payload type %d", d->payload);
        name = unk;
    }
    snprintf(buf, cap, "%s in %s at offset %zu", mk_err_name(e), name,
             base + d->offset);
}

/* base: absolute offset of b in the message, so nested payloads show
 * message offsets */
static void put_nested(const char *key, mk_bytes b, size_t base)
{
    mk_chain *c = malloc(sizeof *c);
    if (!c) {
        put_hex(key, b);
        return;
    }
    if (mk_tp_data_decode(b, c) == MK_OK) /* validated by the message decoder */
        put_chain(key, c, base);
    else
        put_hex(key, b);
    free(c);
}

/* Ticket Data: opaque to the message decoder (RFC 6043 §6.10); decoded here
 * when it is a MIKEY base ticket (App. A), else hex, with the reason when a
 * base ticket's does not decode. */
static void put_ticket_data(const mk_tp *tp, size_t base)
{
    mk_thdr th;
    mk_err e = MK_OK;
    bool base_ticket = tp->ticket_type == MK_TICKET_MIKEY_BASE &&
                       tp->subtype == 1 && tp->version == 1;
    mk_chain *c = malloc(sizeof *c);
    if (c && base_ticket) {
        mk_err_clear();
        e = mk_base_ticket_decode(tp->ticket_data, &th, c);
    }
    if (c && base_ticket && e != MK_OK) {
        char why[128], label[192];
        err_text(e, base, why, sizeof why);
        if (json) {
            put_hex("ticket_data", tp->ticket_data);
            put_cstr("ticket_data_error", why);
        } else {
            snprintf(label, sizeof label,
                     "Ticket Data (opaque, does not decode as a base ticket: %s)",
                     why);
            put_hex(label, tp->ticket_data);
        }
    } else if (c && base_ticket) {
        open_obj("ticket_data");
        put_cstr("format", "MIKEY base ticket (RFC 6043 App. A)");
        open_obj("THDR");
        put_named("next_payload", th.next, mk_name_payload(th.next));
        put_hex("thdr_data", th.data);
        close_obj();
        put_chain("payloads", c, base);
        close_obj();
    } else {
        put_hex("ticket_data", tp->ticket_data);
    }
    free(c);
}

static void put_kemac(const mk_kemac *k, size_t base)
{
    put_named("encr_alg", k->encr_alg, mk_name_encr_alg(k->encr_alg));
    put_hex("encr_data", k->encr_data);
    if (k->encr_alg == MK_ENCR_NULL && k->encr_data.n) {
        /* RFC 3830 §6.2: the plaintext starts with Key data, or with ID in
         * the public-key method */
        uint16_t first = data_type == MK_DT_PK_INIT ? MK_PT_ID : MK_PT_KEYDATA;
        mk_chain *c = malloc(sizeof *c);
        if (c && mk_kemac_plain_decode(k->encr_data, first, c) == MK_OK)
            put_chain("plaintext", c, base);
        else
            put_cstr("plaintext", "(not a Key data chain)");
        free(c);
    }
    put_named("mac_alg", k->mac_alg, mk_name_mac_alg(k->mac_alg));
    put_hex("mac", k->mac);
}

/* SP (RFC 3830 §6.10) and its policy parameters */
static void put_sp(const mk_sp *sp)
{
    mk_tlv_iter it;
    mk_sp_param prm;
    put_uint("policy_no", sp->policy_no);
    put_named("prot_type", sp->prot_type, mk_name_prot_type(sp->prot_type));
    open_arr("params");
    mk_sp_iter_init(&it, sp);
    while (mk_sp_next(&it, &prm)) {
        open_item("param");
        put_named("type", prm.type, mk_name_sp_param(sp->prot_type, prm.type));
        put_hex("value", prm.value);
        close_obj();
    }
    close_arr();
}

/* TP or TICKET (RFC 6043 §6.10) at message offset off */
static void put_tp(const mk_payload *p, size_t off)
{
    const mk_tp *tp = &p->u.tp;
    put_named("ticket_type", tp->ticket_type, mk_name_ticket_type(tp->ticket_type));
    put_uint("subtype", tp->subtype);
    put_uint("version", tp->version);
    put_named("prf_func", tp->prf_func, mk_name_prf(tp->prf_func));
    put_tp_flags(tp->flags, tp->res);
    /* RFC 6043 §6.10: TP Data at +10, then the two TICKET fields,
     * each after a 2-byte length */
    size_t td = off + 10 + tp->tp_data.n + 2;
    put_nested("tp_data", tp->tp_data, off + 10);
    if (p->type == MK_PT_TICKET) {
        put_ticket_data(tp, td);
        put_nested("initiator_data", tp->initiator_data, td + tp->ticket_data.n + 2);
    }
}

/* General Extension (RFC 3830 §6.15); Key ID sub-payloads (RFC 4563 §4) */
static void put_genext(const mk_genext *g)
{
    put_named("ext_type", g->type, mk_name_genext(g->type));
    if (g->type == MK_GENEXT_KEY_ID) {
        mk_tlv_iter it;
        mk_key_id kid;
        open_arr("key_ids");
        mk_key_id_iter_init(&it, g);
        while (mk_key_id_next(&it, &kid)) {
            open_item("key_id");
            put_named("type", kid.type, mk_name_key_id_type(kid.type));
            put_hex("value", kid.value);
            close_obj();
        }
        close_arr();
        if (it.err != MK_OK)
            put_hex("data", g->data); /* not Key ID sub-payloads */
    } else {
        put_hex("data", g->data);
    }
}

static void put_payload(const mk_payload *p, size_t base)
{
    const char *name = mk_name_payload(p->type);
    size_t off = base + p->off;
    if (json) {
        open_obj(NULL);
        put_cstr("payload", name);
        put_uint("type", p->type);
    } else {
        indent();
        printf("%s (type %u, offset %zu, %zu bytes)\n", name, p->type, off, p->raw.n);
        open_obj(NULL);
    }
    if (json) {
        put_uint("offset", off);
        put_uint("length", p->raw.n);
    }
    if (p->type != MK_PT_SIGN)
        put_named("next_payload", p->next, mk_name_payload(p->next));

    switch (p->type) {
    case MK_PT_KEMAC:
        /* NULL encryption: the plaintext is Encr data, at +4 */
        put_kemac(&p->u.kemac, off + 4);
        break;
    case MK_PT_PKE:
        put_named("c", p->u.pke.c, mk_name_pke_c(p->u.pke.c));
        put_hex("data", p->u.pke.data);
        break;
    case MK_PT_DH:
        put_named("dh_group", p->u.dh.group, mk_name_dh_group(p->u.dh.group));
        put_hex("dh_value", p->u.dh.value);
        put_uint("reserved", p->u.dh.res);
        put_kv(&p->u.dh.kv);
        break;
    case MK_PT_SIGN:
        put_named("s_type", p->u.sign.s_type, mk_name_sign_type(p->u.sign.s_type));
        put_hex("signature", p->u.sign.signature);
        break;
    case MK_PT_T:
        put_ts(p->u.t.ts_type, p->u.t.value);
        break;
    case MK_PT_ID:
        put_named("id_type", p->u.id.type, mk_name_id_type(p->u.id.type));
        put_data("id_data", p->u.id.data);
        break;
    case MK_PT_CERT:
        put_named("cert_type", p->u.id.type, mk_name_cert_type(p->u.id.type));
        put_hex("cert_data", p->u.id.data);
        break;
    case MK_PT_CHASH:
        put_named("hash_func", p->u.chash.hash_func, mk_name_hash_func(p->u.chash.hash_func));
        put_hex("hash", p->u.chash.hash);
        break;
    case MK_PT_V:
        put_named("auth_alg", p->u.v.auth_alg, mk_name_mac_alg(p->u.v.auth_alg));
        put_hex("ver_data", p->u.v.mac);
        break;
    case MK_PT_SP:
        put_sp(&p->u.sp);
        break;
    case MK_PT_RAND:
        put_hex("rand", p->u.rand.rand);
        break;
    case MK_PT_ERR:
        put_named("error_no", p->u.err.err_no, mk_name_error_no(p->u.err.err_no));
        put_uint("reserved", p->u.err.reserved);
        break;
    case MK_PT_TR:
        put_named("ts_role", p->u.tr.role, mk_name_ts_role(p->u.tr.role));
        put_ts(p->u.tr.ts_type, p->u.tr.value);
        break;
    case MK_PT_IDR:
        put_named("id_role", p->u.idr.role, mk_name_id_role(p->u.idr.role));
        put_named("id_type", p->u.idr.id_type, mk_name_id_type(p->u.idr.id_type));
        put_data("id_data", p->u.idr.data);
        break;
    case MK_PT_RANDR:
        put_named("rand_role", p->u.randr.role, mk_name_rand_role(p->u.randr.role));
        put_hex("rand", p->u.randr.rand);
        break;
    case MK_PT_TP:
    case MK_PT_TICKET:
        put_tp(p, off);
        break;
    case MK_PT_KEYDATA: {
        const mk_keydata *k = &p->u.keydata;
        put_named("key_type", k->type, mk_name_key_type(k->type));
        put_hex("key", k->key);
        if (mk_key_type_has_salt(k->type))
            put_hex("salt", k->salt);
        put_kv(&k->kv);
        break;
    }
    case MK_PT_GENEXT:
        put_genext(&p->u.genext);
        break;
    default:
        break;
    }
    close_obj();
}

static void put_chain(const char *key, const mk_chain *c, size_t base)
{
    if (!json && c->count == 0) {
        put_cstr(key, "(none)");
        return;
    }
    open_arr(key);
    for (size_t i = 0; i < c->count; i++)
        put_payload(&c->p[i], base);
    close_arr();
}

static void put_hdr(const mk_hdr *h)
{
    char s[16];
    mk_map_iter it;
    open_obj("HDR");
    put_uint("version", h->version);
    put_named("data_type", h->data_type, mk_name_data_type(h->data_type));
    put_named("next_payload", h->next_payload, mk_name_payload(h->next_payload));
    put_uint("v", h->v);
    put_named("prf_func", h->prf_func, mk_name_prf(h->prf_func));
    snprintf(s, sizeof s, "%08lx", (unsigned long)h->csb_id);
    put_cstr("csb_id", s);
    put_uint("n_cs", h->n_cs);
    put_named("map_type", h->map_type, mk_name_map_type(h->map_type));
    if (!json && h->n_cs == 0) {
        close_obj();
        return;
    }
    open_arr("map");
    mk_map_iter_init(&it, h);
    if (h->map_type == MK_MAP_SRTP_ID) {
        mk_srtp_id e;
        for (unsigned i = 1; mk_map_next_srtp(&it, &e); i++) {
            open_item("srtp_id");
            put_uint("cs_id", i);
            put_uint("policy_no", e.policy_no);
            snprintf(s, sizeof s, "%08lx", (unsigned long)e.ssrc);
            put_cstr("ssrc", s);
            put_uint("roc", e.roc);
            close_obj();
        }
    } else if (h->map_type == MK_MAP_GENERIC_ID) {
        mk_generic_id g;
        while (mk_map_next_generic(&it, &g)) {
            open_item("generic_id");
            put_uint("cs_id", g.cs_id);
            put_named("prot_type", g.prot_type, mk_name_prot_type(g.prot_type));
            put_uint("s", g.s);
            put_hex("policies", g.policies);
            put_hex("session_data", g.session_data);
            put_hex("spi", g.spi);
            close_obj();
        }
    }
    close_arr();
    close_obj();
}

/* ------------------------------------------------------------------ */
/* Input */

static int fail_input(const char *what)
{
    fprintf(stderr, "mikeydump: %s\n", what);
    return 1;
}

static int usage(void)
{
    fputs("usage: mikeydump [--hex|--base64|--binary] [--json] [-f FILE | MESSAGE]\n",
          stderr);
    return 2;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* only hex digits and white space, at least one digit */
static bool looks_hex(mk_bytes in)
{
    mk_cursor c;
    uint8_t ch;
    size_t digits = 0;
    mk_cur_init(&c, in);
    while (mk_cur_u8(&c, &ch) == MK_OK) {
        if (mk_hex_digit((char)ch) >= 0)
            digits++;
        else if (!is_space(ch))
            return false;
    }
    return digits > 0;
}

/* only base64 alphabet, '=' and white space: never a binary MIKEY message,
 * whose first byte (version 1) is not printable */
static bool looks_base64(mk_bytes in)
{
    mk_cursor c;
    uint8_t ch;
    mk_cur_init(&c, in);
    while (mk_cur_u8(&c, &ch) == MK_OK)
        if (!(mk_hex_digit((char)ch) >= 0 || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '+' || ch == '/' || ch == '=' || is_space(ch)))
            return false;
    return in.n > 0;
}

static int read_all(FILE *f, uint8_t *buf, size_t cap, size_t *n)
{
    *n = fread(buf, 1, cap, f);
    if (ferror(f))
        return -1;
    if (*n == cap && fgetc(f) != EOF)
        return -2;
    return 0;
}

int main(int argc, char **argv)
{
    enum fmt fmt = FMT_AUTO;
    const char *file = NULL, *arg = NULL;
    static uint8_t text[IN_MAX], bin[IN_MAX];
    static mk_message m;
    size_t tn = 0, bn = 0;
    mk_err e;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hex") == 0)
            fmt = FMT_HEX;
        else if (strcmp(argv[i], "--base64") == 0)
            fmt = FMT_BASE64;
        else if (strcmp(argv[i], "--binary") == 0)
            fmt = FMT_BINARY;
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc && !file)
            file = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage() - 2;
        else if (argv[i][0] == '-' && argv[i][1] != 0)
            return usage();
        else if (!arg)
            arg = argv[i];
        else
            return usage();
    }
    if (file && arg)
        return usage();

    if (arg) {
        tn = strlen(arg);
        if (tn > sizeof text)
            return fail_input("input too large");
        memcpy(text, arg, tn);
    } else {
        FILE *f = file ? fopen(file, "rb") : stdin;
        int r;
        if (!f) {
            fprintf(stderr, "mikeydump: cannot open %s\n", file);
            return 1;
        }
        r = read_all(f, text, sizeof text, &tn);
        if (file)
            fclose(f);
        if (r == -1)
            return fail_input("read error");
        if (r == -2)
            return fail_input("input too large");
    }

    mk_bytes in = MK_BYTES(text, tn);
    if (fmt == FMT_AUTO) {
        if (looks_hex(in))
            fmt = FMT_HEX;
        else if (looks_base64(in) ||
                 (mk_base64_decode(in, bin, sizeof bin, &bn) == MK_OK && bn > 0))
            fmt = FMT_BASE64;
        else
            fmt = FMT_BINARY;
    }
    switch (fmt) {
    case FMT_HEX:
        if ((e = mk_hex_decode_text((const char *)in.p, in.n, " \t\r\n", bin,
                                    sizeof bin, &bn)) != MK_OK) {
            fprintf(stderr, "mikeydump: %s in input at offset %zu\n",
                    mk_err_last()->what, mk_err_last()->offset);
            return 1;
        }
        break;
    case FMT_BASE64:
        if ((e = mk_base64_decode(in, bin, sizeof bin, &bn)) != MK_OK) {
            fprintf(stderr, "mikeydump: %s in input at offset %zu\n",
                    mk_err_name(e), mk_err_last()->offset);
            return 1;
        }
        break;
    default:
        memcpy(bin, text, tn);
        bn = tn;
        break;
    }

    mk_err_clear();
    if ((e = mk_message_decode(MK_BYTES(bin, bn), &m)) != MK_OK) {
        char why[128];
        err_text(e, 0, why, sizeof why);
        fprintf(stderr, "mikeydump: %s\n", why);
        return 1;
    }

    data_type = m.hdr.data_type;
    if (json) {
        first_in[0] = true;
        open_obj(NULL);
        put_uint("length", m.raw.n);
        put_hdr(&m.hdr);
        put_chain("payloads", &m.chain, 0);
        close_obj();
        putchar('\n');
    } else {
        printf("MIKEY message, %zu bytes\n", m.raw.n);
        put_hdr(&m.hdr);
        for (size_t i = 0; i < m.chain.count; i++)
            put_payload(&m.chain.p[i], 0);
    }
    return ferror(stdout) ? 1 : 0;
}
