/* gen_requests - request bodies for bench/http_bench.sh: distinct valid
 * REQUEST_INIT_PSK and RESOLVE_INIT_PSK messages, base64, one per line.
 *
 *   gen_requests --config KMS_CONF
 *       --initiator-psk-file FILE --responder-psk-file FILE
 *       [--initiator URI] [--initiator-psk-id ID]
 *       [--responder URI] [--responder-psk-id ID] [--suite 128|256]
 *       [--requests N --request-out FILE] [--resolves N --resolve-out FILE]
 *       [--no-check]
 *
 * Defaults: initiator sip:alice@example.org (PSK id alice), responder
 * sip:bob@example.org (PSK id bob), 128-bit suite; PSK files hold the PSK
 * as hex (what tests/lib_servers.sh and http_bench.sh write).
 *
 * Every message is built by the UE library (src/ue) with a fresh T (the
 * clock at generation) and a CSB ID and RAND drawn by mk_random, so no two
 * are equal as replay tuples (PSK id, CSB ID, T, RAND; profile §7) and each
 * is accepted once by a KMS over the same store within the skew window.
 *
 * Ticket Resolves need tickets: for each one the Initiator's Ticket Request
 * is answered IN PROCESS by the KMS core (src/kms) over the SAME SQLite store
 * the benchmarked kmsd uses (the store and kms_id of KMS_CONF), the ticket
 * is accepted with mk_ue_accept_request_resp, put into a TRANSFER_INIT
 * (one SRTP crypto session) and the Responder's RESOLVE_INIT_PSK is built
 * from it. Those in-process Ticket Requests write their replay entries and
 * records to the store like any served request.
 *
 * Unless --no-check, one extra Ticket Request and one extra Ticket Resolve
 * are answered in process and checked by the UE side first (REQUEST_RESP
 * and RESOLVE_RESP verified, the Responder's session accepted), so that a
 * configuration mismatch stops here and not as a benchmark full of errors.
 *
 * Progress and a summary go to stderr; exit 0 on success, 1 on failure,
 * 2 on a usage error.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "front/config.h"
#include "kms/kms.h"
#include "store/master_key.h"
#include "store/store.h"
#include "ue/ue.h"
#include "util/base64.h"
#include "util/hex.h"
#include "util/ntp.h"

#define GEN_LINE_MAX (((MK_UE_MSG_MAX + 2) / 3) * 4 + 2)

typedef struct gen_opts {
    const char *config;
    const char *ipsk_file, *rpsk_file;
    const char *initiator, *initiator_psk_id;
    const char *responder, *responder_psk_id;
    const mk_suite *suite;
    unsigned long n_requests, n_resolves;
    const char *request_out, *resolve_out;
    int check;
} gen_opts;

/* Everything one run works with: the core over the store, both UEs. */
typedef struct gen_ctx {
    mk_config cfg;
    mk_sqlstore *sql;
    mk_kms_store iface;
    mk_kms *kms;
    mk_key ipsk, rpsk;
    mk_ue_creds icreds, rcreds;
    const mk_suite *suite;
    mk_kms_answer answer; /* large: kept here, not on the stack */
    mk_ue_ticket ticket;
    mk_ue_session session;
} gen_ctx;

static int usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "gen_requests: %s\n", why);
    fputs("usage: gen_requests --config KMS_CONF --initiator-psk-file FILE\n"
          "         --responder-psk-file FILE [--initiator URI]\n"
          "         [--initiator-psk-id ID] [--responder URI]\n"
          "         [--responder-psk-id ID] [--suite 128|256]\n"
          "         [--requests N --request-out FILE]\n"
          "         [--resolves N --resolve-out FILE] [--no-check]\n",
          stderr);
    return 2;
}

static int parse_count(const char *s, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
        v > 100000000ul)
        return -1;
    *out = v;
    return 0;
}

/* The options that only name a file, an identity or a URI. */
static const struct {
    const char *name;
    size_t off; /* of the const char * in gen_opts */
} str_opts[] = {
    {"--config", offsetof(gen_opts, config)},
    {"--initiator-psk-file", offsetof(gen_opts, ipsk_file)},
    {"--responder-psk-file", offsetof(gen_opts, rpsk_file)},
    {"--initiator", offsetof(gen_opts, initiator)},
    {"--initiator-psk-id", offsetof(gen_opts, initiator_psk_id)},
    {"--responder", offsetof(gen_opts, responder)},
    {"--responder-psk-id", offsetof(gen_opts, responder_psk_id)},
    {"--request-out", offsetof(gen_opts, request_out)},
    {"--resolve-out", offsetof(gen_opts, resolve_out)},
};

/* Sets the string option a to v; 0 when a is not one of them. */
static int set_str_opt(gen_opts *o, const char *a, const char *v)
{
    for (size_t k = 0; k < sizeof str_opts / sizeof str_opts[0]; k++)
        if (strcmp(a, str_opts[k].name) == 0) {
            *(const char **)(void *)((char *)o + str_opts[k].off) = v;
            return 1;
        }
    return 0;
}

static int parse_args(int argc, char **argv, gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->initiator = "sip:alice@example.org";
    o->initiator_psk_id = "alice";
    o->responder = "sip:bob@example.org";
    o->responder_psk_id = "bob";
    o->suite = &mk_suite_128;
    o->check = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-check") == 0) {
            o->check = 0;
            continue;
        }
        if (v == NULL)
            return usage("option without a value");
        i++;
        if (set_str_opt(o, a, v))
            continue;
        if (strcmp(a, "--suite") == 0) {
            if (strcmp(v, "128") == 0)
                o->suite = &mk_suite_128;
            else if (strcmp(v, "256") == 0)
                o->suite = &mk_suite_256;
            else
                return usage("--suite is 128 or 256");
        } else if (strcmp(a, "--requests") == 0) {
            if (parse_count(v, &o->n_requests) != 0)
                return usage("--requests: a count");
        } else if (strcmp(a, "--resolves") == 0) {
            if (parse_count(v, &o->n_resolves) != 0)
                return usage("--resolves: a count");
        } else {
            fprintf(stderr, "gen_requests: unknown option %s\n", a);
            return usage(NULL);
        }
    }
    if (o->config == NULL || o->ipsk_file == NULL || o->rpsk_file == NULL)
        return usage("--config and both PSK files are required");
    if (o->n_requests > 0 && o->request_out == NULL)
        return usage("--requests needs --request-out");
    if (o->n_resolves > 0 && o->resolve_out == NULL)
        return usage("--resolves needs --resolve-out");
    return 0;
}

/* A PSK file: hex digits, white space ignored; 16 or 32 bytes. */
static int load_psk_hex(const char *path, mk_key *out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "gen_requests: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char text[4 * MK_KEY_MAX + 1];
    uint8_t b[MK_KEY_MAX];
    size_t tn = fread(text, 1, sizeof text, f), n = 0;
    int rc = 0;
    if (ferror(f) || tn == sizeof text ||
        mk_hex_decode_text(text, tn, " \n\r\t", b, sizeof b, &n) != MK_OK ||
        (n != 16 && n != 32) || mk_key_copy(out, MK_BYTES(b, n)) != MK_OK)
        rc = -1;
    fclose(f);
    mk_wipe(text, sizeof text);
    mk_wipe(b, sizeof b);
    if (rc != 0)
        fprintf(stderr, "gen_requests: %s: not a 16- or 32-byte hex PSK\n",
                path);
    return rc;
}

static mk_bytes str_bytes(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

static void fail(const char *step, mk_err e)
{
    const mk_err_detail *d = mk_err_last();
    fprintf(stderr, "gen_requests: %s: %s%s%s\n", step, mk_err_name(e),
            d->code == e && d->what != NULL ? ": " : "",
            d->code == e && d->what != NULL ? d->what : "");
}

static int open_ctx(const gen_opts *o, gen_ctx *c)
{
    mk_err e = mk_config_load(o->config, &c->cfg);
    if (e != MK_OK) {
        fprintf(stderr, "gen_requests: %s\n",
                c->cfg.error[0] != '\0' ? c->cfg.error : mk_err_name(e));
        return -1;
    }
    mk_key mkey;
    if ((e = mk_master_key_load(c->cfg.master_key, &mkey)) != MK_OK) {
        fail("master key", e);
        return -1;
    }
    e = mk_sqlstore_open_existing(c->cfg.store, mk_key_bytes(&mkey),
                                  c->cfg.busy_timeout_ms, &c->sql);
    mk_key_wipe(&mkey);
    if (e != MK_OK) {
        fail("store", e);
        return -1;
    }
    /* the node state with the configuration's bounds, as kmsd opens it:
     * without them the store would adopt the default sizes for its checks
     * (a kv_max raised for a long run would not count here) */
    mk_node_config ncfg;
    mk_node *node = NULL;
    mk_config_node(&c->cfg, &ncfg);
    if ((e = mk_sqlstore_node_open(c->sql, &ncfg, &node)) != MK_OK) {
        fail("node state", e);
        return -1;
    }
    c->iface = mk_sqlstore_interface(c->sql);
    mk_kms_config kc;
    mk_config_kms(&c->cfg, &kc);
    e = MK_OK;
    c->kms = mk_kms_new(&kc, &c->iface, &e);
    if (c->kms == NULL) {
        fail("KMS core", e);
        return -1;
    }
    if (load_psk_hex(o->ipsk_file, &c->ipsk) != 0 ||
        load_psk_hex(o->rpsk_file, &c->rpsk) != 0)
        return -1;
    c->suite = o->suite;
    c->icreds = (mk_ue_creds){
        .psk = mk_key_bytes(&c->ipsk),
        .psk_id = str_bytes(o->initiator_psk_id),
        .impu = str_bytes(o->initiator),
        .kms_id = str_bytes(c->cfg.kms_id),
    };
    c->rcreds = (mk_ue_creds){
        .psk = mk_key_bytes(&c->rpsk),
        .psk_id = str_bytes(o->responder_psk_id),
        .impu = str_bytes(o->responder),
        .kms_id = str_bytes(c->cfg.kms_id),
    };
    return 0;
}

static void close_ctx(gen_ctx *c)
{
    mk_kms_free(c->kms);
    mk_sqlstore_close(c->sql);
    mk_key_wipe(&c->ipsk);
    mk_key_wipe(&c->rpsk);
    mk_ue_ticket_wipe(&c->ticket);
    mk_ue_session_wipe(&c->session);
    mk_wipe(&c->answer, sizeof c->answer);
}

/* REQUEST_INIT_PSK from the Initiator to the Responder: T now, CSB ID and
 * RANDRi drawn. */
static mk_err build_request(gen_ctx *c, uint8_t *out, size_t cap,
                            size_t *len)
{
    mk_ue_request_params p;
    mk_ue_request_params_init(&p, c->suite);
    p.creds = c->icreds;
    p.idrr[0] = c->rcreds.impu;
    p.n_idrr = 1;
    return mk_ue_request_init(&p, out, cap, len);
}

/* Ticket Request answered in process; the accepted ticket in c->ticket. */
static mk_err obtain_ticket(gen_ctx *c, uint8_t *req, size_t *req_len)
{
    mk_err e = build_request(c, req, MK_UE_MSG_MAX, req_len);
    if (e != MK_OK) {
        fail("mk_ue_request_init", e);
        return e;
    }
    mk_kms_handle(c->kms, MK_SERVICE_TICKET_REQUEST, MK_BYTES(req, *req_len),
                  mk_ntp_now(), &c->answer);
    if (c->answer.http_status != 200) {
        fprintf(stderr, "gen_requests: in-process Ticket Request: HTTP %d "
                        "(%s)\n", c->answer.http_status,
                mk_err_name(c->answer.err));
        return c->answer.err != MK_OK ? c->answer.err : MK_E_INTERNAL;
    }
    mk_ue_peer_error perr;
    mk_ue_ticket_wipe(&c->ticket);
    e = mk_ue_accept_request_resp(
        &c->icreds, MK_BYTES(req, *req_len),
        MK_BYTES(c->answer.body, c->answer.body_len), 0, &c->ticket, &perr);
    if (e != MK_OK)
        fail("mk_ue_accept_request_resp", e);
    return e;
}

/* TRANSFER_INIT with the ticket (one SRTP crypto session), then the
 * Responder's RESOLVE_INIT_PSK; the TRANSFER_INIT stays in ti. */
static mk_err build_resolve(gen_ctx *c, uint8_t *ti, size_t *ti_len,
                            uint8_t *out, size_t cap, size_t *len)
{
    mk_ue_transfer_params tp;
    memset(&tp, 0, sizeof tp);
    tp.idri = c->icreds.impu;
    tp.idrr = c->rcreds.impu;
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    tp.cs[0].has_ssrc = true;
    uint8_t ssrc[4];
    mk_err e = mk_random(ssrc, sizeof ssrc);
    if (e != MK_OK)
        return e;
    tp.cs[0].ssrc = (uint32_t)ssrc[0] << 24 | (uint32_t)ssrc[1] << 16 |
                    (uint32_t)ssrc[2] << 8 | ssrc[3];
    mk_ue_srtp_policy_default(c->suite, &tp.cs[0].policy);
    e = mk_ue_transfer_init(&c->ticket, &tp, ti, MK_UE_MSG_MAX, ti_len);
    if (e != MK_OK) {
        fail("mk_ue_transfer_init", e);
        return e;
    }
    mk_ue_fixed none;
    memset(&none, 0, sizeof none);
    e = mk_ue_resolve_init(&c->rcreds, MK_BYTES(ti, *ti_len), &none, out,
                           cap, len);
    if (e != MK_OK)
        fail("mk_ue_resolve_init", e);
    return e;
}

static int put_line(FILE *f, const uint8_t *msg, size_t n)
{
    char line[GEN_LINE_MAX];
    size_t ln = 0;
    if (mk_base64_encode(MK_BYTES(msg, n), line, sizeof line, &ln) != MK_OK)
        return -1;
    line[ln++] = '\n';
    return fwrite(line, 1, ln, f) == ln ? 0 : -1;
}

/* One complete chain in process: request -> ticket -> transfer -> resolve
 * -> RESOLVE_RESP accepted by the Responder. */
static int self_check(gen_ctx *c)
{
    static uint8_t req[MK_UE_MSG_MAX], ti[MK_UE_MSG_MAX], ri[MK_UE_MSG_MAX];
    size_t req_len = 0, ti_len = 0, ri_len = 0;
    if (obtain_ticket(c, req, &req_len) != MK_OK)
        return -1;
    if (build_resolve(c, ti, &ti_len, ri, sizeof ri, &ri_len) != MK_OK)
        return -1;
    mk_kms_handle(c->kms, MK_SERVICE_TICKET_RESOLVE, MK_BYTES(ri, ri_len),
                  mk_ntp_now(), &c->answer);
    if (c->answer.http_status != 200) {
        const mk_err_detail *d = mk_err_last();
        fprintf(stderr, "gen_requests: check: Ticket Resolve HTTP %d (%s: %s)\n",
                c->answer.http_status, mk_err_name(c->answer.err),
                d->what != NULL ? d->what : "no detail");
        return -1;
    }
    mk_ue_peer_error perr;
    mk_err e = mk_ue_accept_resolve_resp(
        &c->rcreds, MK_BYTES(ti, ti_len), MK_BYTES(ri, ri_len),
        MK_BYTES(c->answer.body, c->answer.body_len), &c->session, &perr);
    mk_ue_session_wipe(&c->session);
    if (e != MK_OK) {
        fail("check: mk_ue_accept_resolve_resp", e);
        return -1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_requests(gen_ctx *c, const char *path, unsigned long n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gen_requests: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static uint8_t msg[MK_UE_MSG_MAX];
    int rc = 0;
    for (unsigned long i = 0; i < n && rc == 0; i++) {
        size_t len = 0;
        mk_err e = build_request(c, msg, sizeof msg, &len);
        if (e != MK_OK) {
            fail("mk_ue_request_init", e);
            rc = -1;
        } else if (put_line(f, msg, len) != 0) {
            rc = -1;
        }
    }
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "gen_requests: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

static int write_resolves(gen_ctx *c, const char *path, unsigned long n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gen_requests: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static uint8_t req[MK_UE_MSG_MAX], ti[MK_UE_MSG_MAX], ri[MK_UE_MSG_MAX];
    int rc = 0;
    for (unsigned long i = 0; i < n && rc == 0; i++) {
        size_t req_len = 0, ti_len = 0, ri_len = 0;
        if (obtain_ticket(c, req, &req_len) != MK_OK ||
            build_resolve(c, ti, &ti_len, ri, sizeof ri, &ri_len) != MK_OK ||
            put_line(f, ri, ri_len) != 0)
            rc = -1;
    }
    mk_ue_ticket_wipe(&c->ticket);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "gen_requests: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gen_opts o;
    int pa = parse_args(argc, argv, &o);
    if (pa != 0)
        return pa;
    static gen_ctx c;
    int rc = 1;
    if (open_ctx(&o, &c) != 0)
        goto out;
    if (o.check && self_check(&c) != 0)
        goto out;
    double t0 = now_s();
    if (o.n_requests > 0 &&
        write_requests(&c, o.request_out, o.n_requests) != 0)
        goto out;
    double t1 = now_s();
    if (o.n_resolves > 0 &&
        write_resolves(&c, o.resolve_out, o.n_resolves) != 0)
        goto out;
    double t2 = now_s();
    fprintf(stderr,
            "gen_requests: %lu REQUEST_INIT_PSK in %.2f s, %lu "
            "RESOLVE_INIT_PSK (ticket requested in process) in %.2f s\n",
            o.n_requests, t1 - t0, o.n_resolves, t2 - t1);
    rc = 0;
out:
    close_ctx(&c);
    return rc;
}
