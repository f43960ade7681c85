/* mikey-ue - the UE side of MIKEY-TICKET (RFC 6043) on the command line,
 * one step per invocation, messages in and out as base64 so that the two
 * roles can be piped together (library: src/ue/ue.h).
 *
 *   Initiator (Alice)                       Responder (Bob)
 *   request                -> KMS
 *   accept-request-resp    (prints the ticket keys)
 *   transfer-init          -> Bob
 *                                           resolve              -> KMS
 *                                           accept-resolve-resp  (keys)
 *                                           transfer-resp        -> Alice
 *   accept-transfer-resp   (session keys)
 *   srtp-keys                               srtp-keys
 *
 * The CLI keeps no state: each step takes the messages it depends on
 * (--request, --request-resp, --transfer-init, --resolve-init,
 * --resolve-resp: base64 text, @FILE or - for stdin) and re-derives what
 * the earlier steps derived, verifying everything again. The main input of
 * a step (the answer it accepts) is the argument, --in FILE, or stdin.
 * Built messages go out as one base64 line on stdout (ue_sink). With
 * --url (built with libcurl: mikey_ue_http.h) `request` and `resolve` POST
 * their message to the KMS instead, check and accept its answer, and print
 * both messages as name=base64 lines; `chain --url` runs the whole exchange
 * for alice and bob in one process (mikey_ue_chain.h). TRANSFER_INIT and
 * TRANSFER_RESP go to the peer (in SDP), never to the KMS: no --url there.
 * Keys are printed as name=hex lines or, with --json, as one JSON object.
 *
 * Exit status: 0 success; 1 failure (one line on stderr naming the step,
 * the reason and, for a MIKEY Error answer, its Error numbers by name; for
 * a refused HTTP request "HTTP <code> <reason>: <text body>"); 2 bad
 * command line.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "gba/gba.h"
#include "ue/ue.h"
#include "util/base64.h"
#include "util/ntp.h"
#include "mikey_ue_chain.h"
#include "mikey_ue_io.h"
#ifdef MK_HAVE_CURL
#include "mikey_ue_http.h"
#endif

#define PROG "mikey-ue"

/* ------------------------------------------------------------------ */
/* Options */

enum opt {
    O_PSK = 256, O_PSK_FILE, O_PSK_ID, O_IMPU, O_KMS_ID, O_PEER, O_SUITE,
    O_FORK, O_FLAGS, O_VALID_FROM, O_VALID_TO, O_KEY, O_CSB_ID, O_RANDRI,
    O_RANDRR, O_TIME, O_IN, O_REQUEST, O_REQUEST_RESP, O_TRANSFER_INIT,
    O_RESOLVE_INIT, O_RESOLVE_RESP, O_CS_ID, O_SSRC, O_MKI, O_KEY_INDEX,
    O_JSON, O_HELP, O_URL, O_A_PSK, O_A_PSK_FILE, O_A_PSK_ID, O_A_IMPU,
    O_B_PSK, O_B_PSK_FILE, O_B_PSK_ID, O_B_IMPU,
    /* GBA (doc/profile.md §10) */
    O_GBA_BTID, O_GBA_KS, O_GBA_IMPI, O_A_GBA_BTID, O_A_GBA_KS,
    O_A_GBA_IMPI, O_B_GBA_BTID, O_B_GBA_KS, O_B_GBA_IMPI, O_NAF_FQDN,
    O_UA_ID, O_KS, O_RAND, O_IMPI, O_CACERT, O_RESOLVE_URL, O__END
};

#define BIT(o) (1ull << ((o) - O_PSK))
#define NAF (BIT(O_NAF_FQDN) | BIT(O_UA_ID))
#define CREDS (BIT(O_PSK) | BIT(O_PSK_FILE) | BIT(O_PSK_ID) | BIT(O_IMPU) | \
               BIT(O_KMS_ID) | BIT(O_GBA_BTID) | BIT(O_GBA_KS) | \
               BIT(O_GBA_IMPI) | NAF)
#define ALICE (BIT(O_A_PSK) | BIT(O_A_PSK_FILE) | BIT(O_A_PSK_ID) | \
               BIT(O_A_IMPU) | BIT(O_A_GBA_BTID) | BIT(O_A_GBA_KS) | \
               BIT(O_A_GBA_IMPI))
#define BOB (BIT(O_B_PSK) | BIT(O_B_PSK_FILE) | BIT(O_B_PSK_ID) | \
             BIT(O_B_IMPU) | BIT(O_B_GBA_BTID) | BIT(O_B_GBA_KS) | \
             BIT(O_B_GBA_IMPI))

static const struct option long_opts[] = {
    {"psk", required_argument, NULL, O_PSK},
    {"psk-file", required_argument, NULL, O_PSK_FILE},
    {"psk-id", required_argument, NULL, O_PSK_ID},
    {"impu", required_argument, NULL, O_IMPU},
    {"kms-id", required_argument, NULL, O_KMS_ID},
    {"peer", required_argument, NULL, O_PEER},
    {"suite", required_argument, NULL, O_SUITE},
    {"fork", no_argument, NULL, O_FORK},
    {"forking", no_argument, NULL, O_FORK},
    {"flags", required_argument, NULL, O_FLAGS},
    {"valid-from", required_argument, NULL, O_VALID_FROM},
    {"valid-to", required_argument, NULL, O_VALID_TO},
    {"key", required_argument, NULL, O_KEY},
    {"template", required_argument, NULL, O_KEY},
    {"csb-id", required_argument, NULL, O_CSB_ID},
    {"randri", required_argument, NULL, O_RANDRI},
    {"randrr", required_argument, NULL, O_RANDRR},
    {"time", required_argument, NULL, O_TIME},
    {"in", required_argument, NULL, O_IN},
    {"request", required_argument, NULL, O_REQUEST},
    {"request-resp", required_argument, NULL, O_REQUEST_RESP},
    {"transfer-init", required_argument, NULL, O_TRANSFER_INIT},
    {"resolve-init", required_argument, NULL, O_RESOLVE_INIT},
    {"resolve-resp", required_argument, NULL, O_RESOLVE_RESP},
    {"cs-id", required_argument, NULL, O_CS_ID},
    {"ssrc", required_argument, NULL, O_SSRC},
    {"mki", required_argument, NULL, O_MKI},
    {"key-index", required_argument, NULL, O_KEY_INDEX},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
#ifdef MK_HAVE_CURL
    {"url", required_argument, NULL, O_URL},
    {"cacert", required_argument, NULL, O_CACERT},
    {"resolve-url", required_argument, NULL, O_RESOLVE_URL},
#endif
    /* GBA: the PSK is Ks_NAF, the PSK id the B-TID */
    {"gba-btid", required_argument, NULL, O_GBA_BTID},
    {"gba-ks", required_argument, NULL, O_GBA_KS},
    {"gba-impi", required_argument, NULL, O_GBA_IMPI},
    {"alice-gba-btid", required_argument, NULL, O_A_GBA_BTID},
    {"alice-gba-ks", required_argument, NULL, O_A_GBA_KS},
    {"alice-gba-impi", required_argument, NULL, O_A_GBA_IMPI},
    {"bob-gba-btid", required_argument, NULL, O_B_GBA_BTID},
    {"bob-gba-ks", required_argument, NULL, O_B_GBA_KS},
    {"bob-gba-impi", required_argument, NULL, O_B_GBA_IMPI},
    {"naf-fqdn", required_argument, NULL, O_NAF_FQDN},
    {"ua-id", required_argument, NULL, O_UA_ID},
    {"ks", required_argument, NULL, O_KS},
    {"rand", required_argument, NULL, O_RAND},
    {"impi", required_argument, NULL, O_IMPI},
    /* chain: both parties (the second name of each is an alias) */
    {"alice-psk", required_argument, NULL, O_A_PSK},
    {"alice-psk-file", required_argument, NULL, O_A_PSK_FILE},
    {"alice-psk-id", required_argument, NULL, O_A_PSK_ID},
    {"alice-impu", required_argument, NULL, O_A_IMPU},
    {"bob-psk", required_argument, NULL, O_B_PSK},
    {"bob-psk-file", required_argument, NULL, O_B_PSK_FILE},
    {"bob-psk-id", required_argument, NULL, O_B_PSK_ID},
    {"bob-impu", required_argument, NULL, O_B_IMPU},
    {"initiator-psk", required_argument, NULL, O_A_PSK},
    {"initiator-psk-file", required_argument, NULL, O_A_PSK_FILE},
    {"initiator-psk-id", required_argument, NULL, O_A_PSK_ID},
    {"initiator", required_argument, NULL, O_A_IMPU},
    {"responder-psk", required_argument, NULL, O_B_PSK},
    {"responder-psk-file", required_argument, NULL, O_B_PSK_FILE},
    {"responder-psk-id", required_argument, NULL, O_B_PSK_ID},
    {"responder", required_argument, NULL, O_B_IMPU},
    {NULL, 0, NULL, 0},
};

/* One party's credentials (the single-step commands use cli.me; chain
 * uses alice and bob). */
typedef struct party {
    uint8_t psk[MK_KEY_MAX];
    size_t psk_len;
    const char *psk_id, *impu;
    /* GBA: the PSK is derived (Ks_NAF), the PSK id is the B-TID */
    bool gba;
    const char *gba_btid, *gba_impi;
    uint8_t gba_ks[MK_GBA_KEY_LEN];
    bool has_gba_ks;
} party;

typedef struct cli {
    const char *cmd;
    uint64_t given; /* BIT() of every option seen */
    /* credentials */
    party me, alice, bob;
    const char *kms_id;
    /* request */
    const char *peer[MK_UE_IDRR_MAX];
    size_t n_peer;
    const mk_suite *suite;
    bool fork;
    const char *flags;
    uint64_t valid_from, valid_to;
    mk_ue_key_tmpl tmpl[MK_UE_TMPL_MAX];
    size_t n_tmpl;
    /* fixed values */
    mk_ue_fixed fixed;
    uint8_t rand[MK_UE_RAND_MAX];
    /* messages */
    const char *in, *arg;
    const char *request, *request_resp, *transfer_init, *resolve_init,
        *resolve_resp;
    /* crypto session */
    uint64_t cs_id;
    bool has_ssrc;
    uint32_t ssrc;
    uint8_t mki[MK_SPI_MAX];
    size_t mki_len;
    bool has_key_index;
    uint64_t key_index;
    ue_out out;
    const char *url; /* --url: the KMS mount; messages go there */
    const char *cacert;
    ue_sink *sink;
    /* chain --resolve-url: bob's resolve goes to another KMS node (one
     * store shared by several nodes, doc/profile.md §13) */
    const char *resolve_url;
    ue_sink *resolve_sink;
    /* GBA: NAF_Id = naf_fqdn || ua_id; gba-key's inputs */
    const char *naf_fqdn;
    uint8_t ua_id[MK_GBA_UA_ID_LEN];
    uint8_t ks[MK_GBA_KEY_LEN], gba_rand[MK_GBA_RAND_LEN];
    const char *impi;
} cli;

static void usage(FILE *f)
{
    fputs(
        "usage: " PROG " COMMAND [OPTIONS] [MESSAGE]\n"
        "Commands (MESSAGE: base64 argument, --in FILE, else stdin):\n"
        "  request               build REQUEST_INIT_PSK\n"
        "  accept-request-resp   MESSAGE = REQUEST_RESP; needs --request\n"
        "  transfer-init         MESSAGE = REQUEST_RESP; needs --request --peer\n"
        "  resolve               MESSAGE = TRANSFER_INIT; build RESOLVE_INIT_PSK\n"
        "  accept-resolve-resp   MESSAGE = RESOLVE_RESP; needs --transfer-init\n"
        "                        --resolve-init\n"
        "  transfer-resp         MESSAGE = RESOLVE_RESP; needs --transfer-init\n"
        "                        --resolve-init\n"
        "  accept-transfer-resp  MESSAGE = TRANSFER_RESP; needs --request\n"
        "                        --request-resp --transfer-init\n"
        "  srtp-keys             MESSAGE = TRANSFER_RESP; Initiator: --request\n"
        "                        --request-resp --transfer-init; Responder:\n"
        "                        --transfer-init --resolve-init --resolve-resp\n"
        "Credentials: --psk HEX | --psk-file FILE (hex), --psk-id TEXT,\n"
        "  --impu URI (own identity), --kms-id URI (default kms.example.org)\n"
        "Request: --peer URI (repeatable), --suite 128|256, --fork,\n"
        "  --flags LETTERS (default DEFGH), --valid-from/--valid-to UNIX,\n"
        "  --key TYPE:LEN[:SALTLEN] (KEMAC template, repeatable; TYPE tgk,\n"
        "  tgk+salt, tek, tek+salt, gtgk, gtgk+salt)\n"
        "Fixed values: --csb-id HEX, --randri HEX, --randrr HEX,\n"
        "  --time NTPHEX16|UNIX\n"
        "Crypto session: --cs-id N (default 1), --ssrc HEX, --mki HEX;\n"
        "  srtp-keys: --cs-id N, --key-index N\n"
        "Messages: --request, --request-resp, --transfer-init, --resolve-init,\n"
        "  --resolve-resp take base64, @FILE or -\n"
        "Output: --json\n"
        "GBA (TS 33.220; the PSK is Ks_NAF, the PSK id the B-TID):\n"
        "  gba-key               print Ks_NAF as hex: --ks HEX (Ks = CK || IK,\n"
        "                        32 bytes) --rand HEX (16 bytes) --impi IMPI\n"
        "                        --naf-fqdn FQDN [--ua-id HEX]\n"
        "  --gba-btid B-TID --gba-ks HEX --gba-impi IMPI instead of --psk...\n"
        "  (chain: --alice-gba-btid, --alice-gba-ks, --alice-gba-impi,\n"
        "  --bob-gba-btid, --bob-gba-ks, --bob-gba-impi);\n"
        "  --naf-fqdn FQDN (default the --kms-id),\n"
        "  --ua-id HEX (Ua security protocol id, default 0100000006)\n",
        f);
#ifdef MK_HAVE_CURL
    fputs(
        "Over HTTP (annex X1.1: POST, HTTP/1.1, application/mikey, base64):\n"
        "  request, resolve --url URL   send to the KMS mount URL (e.g.\n"
        "                        http://127.0.0.1:8080/keymanagement), accept\n"
        "                        its answer, print request=/request_resp= or\n"
        "                        resolve_init=/resolve_resp= (base64)\n"
        "  chain --url URL       alice's request, her transfer-init to bob, his\n"
        "                        resolve and transfer-resp, both sides' SRTP\n"
        "                        keys; exit 0 only if they match. Options:\n"
        "    --alice-impu URI, --alice-psk HEX | --alice-psk-file FILE,\n"
        "    --alice-psk-id ID, --bob-impu URI, --bob-psk HEX |\n"
        "    --bob-psk-file FILE, --bob-psk-id ID (aliases: --initiator,\n"
        "    --initiator-psk..., --responder, --responder-psk...), --kms-id URI,\n"
        "    --suite 128|256, --forking, --template TYPE:LEN[:SALTLEN]\n"
        "    (repeatable, as --key), --ssrc HEX, --resolve-url URL (bob's\n"
        "    resolve to another KMS node sharing the store)\n"
        "  --cacert FILE         trust this PEM certificate (https://)\n"
        "  With GBA credentials a 401 is answered with HTTP Digest (username the\n"
        "  B-TID, password base64(Ks_NAF)) and the request repeated.\n",
        f);
#endif
}

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (try " PROG " --help)\n", stderr);
    exit(2);
}

/* One line for a failed step. */
static int fail(const cli *c, mk_err e, const mk_ue_peer_error *pe)
{
    const mk_err_detail *d = mk_err_last();
    fprintf(stderr, PROG ": %s: ", c->cmd);
    if (pe && pe->present) {
        fprintf(stderr, "peer answered with a MIKEY Error message:");
        for (size_t i = 0; i < pe->n; i++)
            fprintf(stderr, " %u (%s)", pe->err_no[i],
                    mk_name_error_no(pe->err_no[i]));
        fprintf(stderr, "%s\n", !pe->v_present ? ", no V"
                                : pe->v_verified ? ", V verified"
                                                 : ", V does NOT verify");
        return 1;
    }
    fprintf(stderr, "%s", mk_err_name(e));
    if (d && d->code == e && d->what)
        fprintf(stderr, ": %s", d->what);
    if (d && d->code == e && d->payload >= 0)
        fprintf(stderr, " (%s at offset %zu)", mk_name_payload(d->payload),
                d->offset);
    fputc('\n', stderr);
    return 1;
}

#define TRY(expr)                        \
    do {                                 \
        mk_err try_e_ = (expr);          \
        if (try_e_ != MK_OK)             \
            return fail(c, try_e_, NULL); \
    } while (0)

static int parse_key_tmpl(const char *s, mk_ue_key_tmpl *t)
{
    static const struct {
        const char *name;
        uint8_t type;
    } types[] = {
        {"tgk", MK_KEY_TGK},   {"tgk+salt", MK_KEY_TGK_SALT},
        {"tek", MK_KEY_TEK},   {"tek+salt", MK_KEY_TEK_SALT},
        {"gtgk", MK_KEY_GTGK}, {"gtgk+salt", MK_KEY_GTGK_SALT},
    };
    char name[16];
    unsigned len = 0, salt = 0;
    int n = 0;
    if (sscanf(s, "%15[a-z+]:%u%n:%u%n", name, &len, &n, &salt, &n) < 2 ||
        s[n] != '\0' || len == 0 || len > MK_KEY_MAX || salt > MK_KEY_MAX)
        return -1;
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0) {
            t->type = types[i].type;
            t->key_len = (uint8_t)len;
            t->salt_len = (uint8_t)(mk_key_type_has_salt(t->type)
                                        ? (salt ? salt : 14)
                                        : 0);
            if (!mk_key_type_has_salt(t->type) && salt)
                return -1;
            t->kv = MK_KV_SPI; /* the KMS draws the real SPI */
            t->spi_len = 4;
            return 0;
        }
    return -1;
}

static int parse_flags(const char *s, uint16_t *flags)
{
    static const char letters[] = "DEFGHIJKLMNO";
    uint16_t f = 0;
    for (; *s; s++) {
        const char *p = strchr(letters, *s);
        if (!p || !*s)
            return -1;
        f |= (uint16_t)(1u << (p - letters));
    }
    *flags = f;
    return 0;
}

static void psk_hex(party *pt, const char *hex, const char *opt)
{
    if (ue_hex(hex, pt->psk, sizeof pt->psk, &pt->psk_len) != MK_OK ||
        pt->psk_len == 0)
        die_usage("%s is a hex string of 1..64 bytes", opt);
}

static void psk_file(party *pt, const char *path, const char *opt)
{
    char *text = NULL;
    size_t n = 0;
    if (ue_read_all(path, &text, &n) != MK_OK)
        die_usage("%s: cannot read '%s'", opt, path);
    if (ue_hex(text, pt->psk, sizeof pt->psk, &pt->psk_len) != MK_OK ||
        pt->psk_len == 0) {
        mk_wipe(text, n);
        free(text);
        die_usage("%s: '%s' does not hold a hex PSK", opt, path);
    }
    mk_wipe(text, n);
    free(text);
}

static void gba_ks(party *pt, const char *hex, const char *opt)
{
    size_t n = 0;
    if (ue_hex(hex, pt->gba_ks, sizeof pt->gba_ks, &n) != MK_OK ||
        n != MK_GBA_KEY_LEN)
        die_usage("%s is 64 hex digits (Ks = CK || IK)", opt);
    pt->has_gba_ks = true;
}

static void parse_args(cli *c, int argc, char **argv)
{
    int o;
    uint64_t v;
    size_t n;
    opterr = 0;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (o == '?' || o == ':')
            die_usage("%s: unknown option or missing value '%s'", c->cmd,
                      argv[optind - 1]);
        if (o == O_HELP) {
            usage(stdout);
            exit(0);
        }
        if (o != O_PEER && o != O_KEY && (c->given & BIT(o)))
            die_usage("%s: option '%s' given twice", c->cmd,
                      argv[optind - 1]);
        c->given |= BIT(o);
        switch (o) {
        case O_PSK: psk_hex(&c->me, optarg, "--psk"); break;
        case O_PSK_FILE: psk_file(&c->me, optarg, "--psk-file"); break;
        case O_PSK_ID: c->me.psk_id = optarg; break;
        case O_IMPU: c->me.impu = optarg; break;
        case O_A_PSK: psk_hex(&c->alice, optarg, "--alice-psk"); break;
        case O_A_PSK_FILE:
            psk_file(&c->alice, optarg, "--alice-psk-file");
            break;
        case O_A_PSK_ID: c->alice.psk_id = optarg; break;
        case O_A_IMPU: c->alice.impu = optarg; break;
        case O_B_PSK: psk_hex(&c->bob, optarg, "--bob-psk"); break;
        case O_B_PSK_FILE: psk_file(&c->bob, optarg, "--bob-psk-file"); break;
        case O_B_PSK_ID: c->bob.psk_id = optarg; break;
        case O_B_IMPU: c->bob.impu = optarg; break;
        case O_URL: c->url = optarg; break;
        case O_CACERT: c->cacert = optarg; break;
        case O_RESOLVE_URL: c->resolve_url = optarg; break;
        case O_GBA_BTID: c->me.gba_btid = optarg; break;
        case O_GBA_KS: gba_ks(&c->me, optarg, "--gba-ks"); break;
        case O_GBA_IMPI: c->me.gba_impi = optarg; break;
        case O_A_GBA_BTID: c->alice.gba_btid = optarg; break;
        case O_A_GBA_KS: gba_ks(&c->alice, optarg, "--alice-gba-ks"); break;
        case O_A_GBA_IMPI: c->alice.gba_impi = optarg; break;
        case O_B_GBA_BTID: c->bob.gba_btid = optarg; break;
        case O_B_GBA_KS: gba_ks(&c->bob, optarg, "--bob-gba-ks"); break;
        case O_B_GBA_IMPI: c->bob.gba_impi = optarg; break;
        case O_NAF_FQDN: c->naf_fqdn = optarg; break;
        case O_UA_ID:
            if (ue_hex(optarg, c->ua_id, sizeof c->ua_id, &n) != MK_OK ||
                n != MK_GBA_UA_ID_LEN)
                die_usage("--ua-id is 10 hex digits");
            break;
        case O_KS:
            if (ue_hex(optarg, c->ks, sizeof c->ks, &n) != MK_OK ||
                n != MK_GBA_KEY_LEN)
                die_usage("--ks is 64 hex digits (CK || IK)");
            break;
        case O_RAND:
            if (ue_hex(optarg, c->gba_rand, sizeof c->gba_rand, &n) !=
                    MK_OK ||
                n != MK_GBA_RAND_LEN)
                die_usage("--rand is 32 hex digits");
            break;
        case O_IMPI: c->impi = optarg; break;
        case O_KMS_ID: c->kms_id = optarg; break;
        case O_PEER:
            if (c->n_peer >= MK_UE_IDRR_MAX)
                die_usage("at most %d --peer", MK_UE_IDRR_MAX);
            c->peer[c->n_peer++] = optarg;
            break;
        case O_SUITE:
            if (strcmp(optarg, "128") == 0)
                c->suite = &mk_suite_128;
            else if (strcmp(optarg, "256") == 0)
                c->suite = &mk_suite_256;
            else
                die_usage("--suite is 128 or 256");
            break;
        case O_FORK: c->fork = true; break;
        case O_FLAGS: c->flags = optarg; break;
        case O_VALID_FROM:
        case O_VALID_TO:
            if (ue_uint(optarg, UINT32_MAX * 2ull, &v) != MK_OK || v == 0)
                die_usage("--valid-from/--valid-to take unix seconds");
            *(o == O_VALID_FROM ? &c->valid_from : &c->valid_to) = v;
            break;
        case O_KEY:
            if (c->n_tmpl >= MK_UE_TMPL_MAX)
                die_usage("at most %d --key", MK_UE_TMPL_MAX);
            if (parse_key_tmpl(optarg, &c->tmpl[c->n_tmpl++]) != 0)
                die_usage("--key is TYPE:LEN[:SALTLEN], e.g. tgk:16");
            break;
        case O_CSB_ID: {
            uint8_t b[4];
            const char *h = optarg;
            if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
                h += 2;
            if (ue_hex(h, b, 4, &n) != MK_OK || n != 4)
                die_usage("--csb-id is 8 hex digits");
            v = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 |
                (uint64_t)b[2] << 8 | b[3];
            c->fixed.has_csb_id = true;
            c->fixed.csb_id = (uint32_t)v;
            break;
        }
        case O_RANDRI:
        case O_RANDRR:
            if (c->fixed.rand.n)
                die_usage("give one of --randri / --randrr");
            if (ue_hex(optarg, c->rand, sizeof c->rand, &n) != MK_OK || n == 0)
                die_usage("--randri/--randrr is 1..255 bytes of hex");
            c->fixed.rand = MK_BYTES(c->rand, n);
            break;
        case O_TIME:
            if (ue_time(optarg, &c->fixed.t_ntp) != MK_OK)
                die_usage("--time is 16 hex digits (NTP) or unix seconds");
            c->fixed.has_t = true;
            break;
        case O_IN: c->in = optarg; break;
        case O_REQUEST: c->request = optarg; break;
        case O_REQUEST_RESP: c->request_resp = optarg; break;
        case O_TRANSFER_INIT: c->transfer_init = optarg; break;
        case O_RESOLVE_INIT: c->resolve_init = optarg; break;
        case O_RESOLVE_RESP: c->resolve_resp = optarg; break;
        case O_CS_ID:
            if (ue_uint(optarg, 255, &c->cs_id) != MK_OK || c->cs_id == 0)
                die_usage("--cs-id is 1..255");
            break;
        case O_SSRC: {
            uint8_t b[4];
            if (ue_hex(optarg, b, 4, &n) != MK_OK || n != 4)
                die_usage("--ssrc is 8 hex digits");
            c->has_ssrc = true;
            c->ssrc = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                      (uint32_t)b[2] << 8 | b[3];
            break;
        }
        case O_MKI:
            if (ue_hex(optarg, c->mki, sizeof c->mki, &c->mki_len) != MK_OK ||
                c->mki_len == 0)
                die_usage("--mki is 1..%d bytes of hex", MK_SPI_MAX);
            break;
        case O_KEY_INDEX:
            if (ue_uint(optarg, MK_KEYSET_MAX, &c->key_index) != MK_OK)
                die_usage("--key-index is 0..%d", MK_KEYSET_MAX);
            c->has_key_index = true;
            break;
        case O_JSON: c->out.json = true; break;
        default: die_usage("unexpected option");
        }
    }
    if (optind < argc)
        c->arg = argv[optind++];
    if (optind < argc)
        die_usage("%s: unexpected argument '%s'", c->cmd, argv[optind]);
    if (c->arg && c->in)
        die_usage("%s: give the message as argument or --in, not both",
                  c->cmd);
}

/* Every option given must be one the command takes; required ones must be
 * there. */
static void need(const cli *c, uint64_t allowed, uint64_t required)
{
    allowed |= BIT(O_JSON) | required;
    for (int o = O_PSK; o < O__END; o++) {
        if ((c->given & BIT(o)) && !(allowed & BIT(o)))
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == o)
                    die_usage("%s does not take --%s", c->cmd, lo->name);
        if ((required & BIT(o)) && !(c->given & BIT(o)))
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == o)
                    die_usage("%s needs --%s", c->cmd, lo->name);
    }
}

/* A party's credentials are complete: one PSK (hex or file) and an IMPU. */
static void need_party(const cli *c, const party *pt, uint64_t psk,
                       uint64_t psk_file, const char *prefix)
{
    if (pt->gba && (c->given & (psk | psk_file)))
        die_usage("give --%spsk... or --%sgba-..., not both", prefix, prefix);
    if (pt->gba) {
        if (!pt->impu)
            die_usage("%s needs --%simpu", c->cmd, prefix);
        return;
    }
    if (!(c->given & (psk | psk_file)))
        die_usage("%s needs --%spsk or --%spsk-file", c->cmd, prefix, prefix);
    if ((c->given & psk) && (c->given & psk_file))
        die_usage("give --%spsk or --%spsk-file, not both", prefix, prefix);
    if (!pt->impu)
        die_usage("%s needs --%simpu", c->cmd, prefix);
}

static mk_bytes str(const char *s);

/* A party with GBA credentials (doc/profile.md §10): PSK = Ks_NAF =
 * KDF(Ks, "gba-me", RAND, IMPI, NAF_Id) (TS 33.220 B.3), RAND the base64
 * part of the B-TID, NAF_Id = --naf-fqdn (default the --kms-id) || Ua
 * security protocol id; PSK id = the B-TID. */
static void gba_party(cli *c, party *pt, const char *prefix)
{
    uint8_t rand[MK_GBA_RAND_LEN], naf[MK_GBA_NAF_ID_MAX], out[MK_GBA_KEY_LEN];
    size_t naf_n = 0;
    if (!pt->gba_btid && !pt->has_gba_ks && !pt->gba_impi)
        return;
    if (!pt->gba_btid || !pt->has_gba_ks || !pt->gba_impi)
        die_usage("--%sgba-btid, --%sgba-ks and --%sgba-impi go together",
                  prefix, prefix, prefix);
    if (pt->psk_id)
        die_usage("--%spsk-id: with GBA the PSK id is the B-TID", prefix);
    if (!mk_gba_btid_parse(str(pt->gba_btid), rand, NULL))
        die_usage("--%sgba-btid '%s' is not base64(RAND)@BSF-domain", prefix,
                  pt->gba_btid);
    const char *fqdn = c->naf_fqdn   ? c->naf_fqdn
                       : c->kms_id ? c->kms_id
                                   : "kms.example.org";
    if (mk_gba_naf_id(fqdn, c->ua_id, naf, sizeof naf, &naf_n) != MK_OK)
        die_usage("the NAF FQDN '%s' (--naf-fqdn, else --kms-id) is not a "
                  "host name", fqdn);
    if (mk_gba_ks_naf(MK_BYTES(pt->gba_ks, sizeof pt->gba_ks),
                      MK_BYTES(rand, sizeof rand), str(pt->gba_impi),
                      MK_BYTES(naf, naf_n), out) != MK_OK)
        die_usage("--%sgba-impi too long", prefix);
    memcpy(pt->psk, out, sizeof out);
    pt->psk_len = sizeof out;
    pt->psk_id = pt->gba_btid;
    pt->gba = true;
    mk_wipe(out, sizeof out);
    mk_wipe(pt->gba_ks, sizeof pt->gba_ks);
}

static void need_creds(const cli *c)
{
    need_party(c, &c->me, BIT(O_PSK), BIT(O_PSK_FILE), "");
}

static mk_bytes str(const char *s)
{
    return s ? MK_BYTES(s, strlen(s)) : MK_BYTES_NONE;
}

static void party_creds(const cli *c, const party *pt, mk_ue_creds *cr)
{
    memset(cr, 0, sizeof *cr);
    cr->psk = MK_BYTES(pt->psk, pt->psk_len);
    cr->psk_id = str(pt->psk_id);
    cr->impu = str(pt->impu);
    cr->kms_id = str(c->kms_id ? c->kms_id : "kms.example.org");
}

static void creds_of(const cli *c, mk_ue_creds *cr)
{
    party_creds(c, &c->me, cr);
}

/* The main input of a step: argument, --in FILE or stdin. */
static mk_err main_msg(const cli *c, ue_msg *m)
{
    if (c->arg)
        return ue_msg_from_arg(c->arg, m);
    if (c->in) {
        char at[4096];
        if (snprintf(at, sizeof at, "@%s", c->in) >= (int)sizeof at)
            return mk_err_raise(MK_E_IO, -1, 0, "--in path too long");
        return ue_msg_from_arg(at, m);
    }
    return ue_msg_from_arg("-", m);
}

static mk_err opt_msg(const char *arg, const char *what, ue_msg *m)
{
    mk_err rc = ue_msg_from_arg(arg, m);
    if (rc != MK_OK)
        return mk_err_raise(rc, -1, 0, what);
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* Printing keys */

static void print_key_set(ue_out *o, const mk_key_set *ks, size_t first,
                          bool mpkr)
{
    char name[32];
    ue_out_hex(o, "mpki", mk_key_bytes(&ks->e[0].key));
    if (mpkr)
        ue_out_hex(o, "mpkr", mk_key_bytes(&ks->e[1].key));
    for (size_t i = first; i < ks->count; i++) {
        const mk_key_entry *e = &ks->e[i];
        size_t k = i - first + 1;
        snprintf(name, sizeof name, "key%zu_type", k);
        ue_out_str(o, name, mk_name_key_type(e->type));
        snprintf(name, sizeof name, "key%zu", k);
        ue_out_hex(o, name, mk_key_bytes(&e->key));
        if (e->salt.n) {
            snprintf(name, sizeof name, "key%zu_salt", k);
            ue_out_hex(o, name, mk_key_bytes(&e->salt));
        }
        if (e->kv == MK_KV_SPI) {
            snprintf(name, sizeof name, "key%zu_spi", k);
            ue_out_hex(o, name, MK_BYTES(e->spi, e->spi_len));
        }
    }
}

static void print_session(ue_out *o, const mk_ue_session *s)
{
    char f[16];
    ue_flags_text(s->flags, f);
    ue_out_str(o, "flags", f);
    {
        uint8_t csb[4] = {(uint8_t)(s->csb_id >> 24), (uint8_t)(s->csb_id >> 16),
                          (uint8_t)(s->csb_id >> 8), (uint8_t)s->csb_id};
        ue_out_hex(o, "csb_id", MK_BYTES(csb, 4));
    }
    ue_out_hex(o, "randri", MK_BYTES(s->randri, s->randri_len));
    if (s->randrr_len)
        ue_out_hex(o, "randrr", MK_BYTES(s->randrr, s->randrr_len));
    if (s->forked) {
        char id[MK_UE_ID_MAX + 1];
        memcpy(id, s->idrr, s->idrr_len);
        id[s->idrr_len] = '\0';
        ue_out_str(o, "idrr", id);
        ue_out_hex(o, "randrkms", MK_BYTES(s->randrkms, s->randrkms_len));
    }
    print_key_set(o, &s->keys, s->first_key, s->forked);
}

/* ------------------------------------------------------------------ */
/* Re-running earlier steps (the CLI keeps no state) */

static int ticket_of(cli *c, const mk_ue_creds *cr, const ue_msg *req,
                     const ue_msg *resp, mk_ue_ticket *tk)
{
    mk_ue_peer_error pe;
    mk_err e = mk_ue_accept_request_resp(cr, ue_msg_bytes(req),
                                         ue_msg_bytes(resp), MK_TPF_I, tk,
                                         &pe);
    return e == MK_OK ? 0 : fail(c, e, &pe);
}

/* ------------------------------------------------------------------ */
/* Sending to the KMS */

/* Hand a REQUEST_INIT / RESOLVE_INIT to the sink. The stdout sink prints
 * it and that is all. A sink that answers (--url) hands back the KMS's
 * answer: it is accepted here exactly as accept-request-resp /
 * accept-resolve-resp would (V, KEMAC, policy; ti is the TRANSFER_INIT a
 * RESOLVE_INIT came from), and both messages are printed as
 * request=/request_resp= or resolve_init=/resolve_resp= (base64), ready for
 * the next steps. A refusal prints "HTTP <code> <reason>: <text>", a
 * MIKEY Error message "MIKEY Error <n> (<name>)", and exits 1. */
static int send_to_kms(cli *c, const char *what, const mk_ue_creds *cr,
                       const ue_msg *ti, const ue_msg *msg)
{
    static ue_msg ans;
    static mk_ue_ticket tk;
    static mk_ue_session s;
    mk_ue_peer_error pe;
    mk_err e = c->sink->deliver(c->sink, what, ue_msg_bytes(msg), &ans);
    bool request = strcmp(what, "REQUEST_INIT") == 0;
    memset(&pe, 0, sizeof pe);
    if (e != MK_OK) {
        const char *why = c->sink->why(c->sink);
        if (!why)
            return fail(c, e, NULL);
        fprintf(stderr, PROG ": %s: %s\n", c->cmd, why);
        return 1;
    }
    if (ans.n == 0)
        return 0; /* printed, no answer */
    if (request)
        e = mk_ue_accept_request_resp(cr, ue_msg_bytes(msg), ue_msg_bytes(&ans),
                                      MK_TPF_I, &tk, &pe);
    else
        e = mk_ue_accept_resolve_resp(cr, ue_msg_bytes(ti), ue_msg_bytes(msg),
                                      ue_msg_bytes(&ans), &s, &pe);
    mk_ue_ticket_wipe(&tk);
    mk_ue_session_wipe(&s);
    if (e != MK_OK && pe.present) {
        char t[256];
        ue_peer_error_text(&pe, t, sizeof t);
        fprintf(stderr, PROG ": %s: KMS answered HTTP 200 with %s\n", c->cmd,
                t);
        return 1;
    }
    if (e != MK_OK)
        return fail(c, e, NULL);
    {
        char *b64 = NULL;
        size_t cap = mk_base64_encoded_len(sizeof msg->b) + 1, n;
        b64 = malloc(cap);
        if (!b64)
            return fail(c, mk_err_raise(MK_E_IO, -1, 0, "out of memory"),
                        NULL);
        if (mk_base64_encode(ue_msg_bytes(msg), b64, cap, &n) == MK_OK)
            ue_out_str(&c->out, request ? "request" : "resolve_init", b64);
        if (mk_base64_encode(ue_msg_bytes(&ans), b64, cap, &n) == MK_OK)
            ue_out_str(&c->out, request ? "request_resp" : "resolve_resp", b64);
        free(b64);
    }
    ue_out_end(&c->out);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Commands */

static int cmd_request(cli *c)
{
    mk_ue_request_params p;
    mk_ue_creds cr;
    ue_msg out;
    need(c, CREDS | BIT(O_PEER) | BIT(O_SUITE) | BIT(O_FORK) | BIT(O_FLAGS) |
                BIT(O_VALID_FROM) | BIT(O_VALID_TO) | BIT(O_KEY) |
                BIT(O_CSB_ID) | BIT(O_RANDRI) | BIT(O_TIME) | BIT(O_URL) |
                BIT(O_CACERT),
         BIT(O_PEER));
    need_creds(c);
    if (c->given & BIT(O_RANDRR))
        die_usage("request takes --randri");
    creds_of(c, &cr);
    mk_ue_request_params_init(&p, c->suite ? c->suite : &mk_suite_128);
    p.creds = cr;
    for (size_t i = 0; i < c->n_peer; i++)
        p.idrr[i] = str(c->peer[i]);
    p.n_idrr = c->n_peer;
    if (c->flags && parse_flags(c->flags, &p.flags) != 0)
        die_usage("--flags takes letters of DEFGHIJKLMNO");
    if (c->fork)
        p.flags |= MK_TPF_I;
    p.trs_unix = c->valid_from;
    p.tre_unix = c->valid_to;
    memcpy(p.tmpl, c->tmpl, sizeof p.tmpl);
    p.n_tmpl = c->n_tmpl;
    p.fixed = c->fixed;
    TRY(mk_ue_request_init(&p, out.b, sizeof out.b, &out.n));
    return send_to_kms(c, "REQUEST_INIT", &cr, NULL, &out);
}

static int cmd_accept_request_resp(cli *c)
{
    static ue_msg req, resp;
    static mk_ue_ticket tk;
    mk_ue_creds cr;
    char f[16];
    int rc;
    need(c, CREDS | BIT(O_IN), BIT(O_REQUEST));
    need_creds(c);
    creds_of(c, &cr);
    TRY(opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(main_msg(c, &resp));
    if ((rc = ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    ue_flags_text(tk.flags, f);
    ue_out_str(&c->out, "flags", f);
    ue_out_uint(&c->out, "k", (tk.flags & MK_TPF_K) != 0);
    if (tk.trs_unix)
        ue_out_uint(&c->out, "valid_from", tk.trs_unix);
    if (tk.tre_unix)
        ue_out_uint(&c->out, "valid_to", tk.tre_unix);
    print_key_set(&c->out, &tk.keys, tk.first_key,
                  (tk.flags & MK_TPF_I) != 0);
    ue_out_end(&c->out);
    mk_ue_ticket_wipe(&tk);
    return 0;
}

static int cmd_transfer_init(cli *c)
{
    static ue_msg req, resp, out;
    static mk_ue_ticket tk;
    mk_ue_transfer_params p;
    mk_ue_creds cr;
    int rc;
    need(c, CREDS | BIT(O_IN) | BIT(O_CSB_ID) | BIT(O_RANDRI) | BIT(O_TIME) |
                BIT(O_CS_ID) | BIT(O_SSRC) | BIT(O_MKI),
         BIT(O_REQUEST) | BIT(O_PEER));
    need_creds(c);
    if (c->n_peer != 1)
        die_usage("transfer-init takes one --peer (the Responder)");
    creds_of(c, &cr);
    TRY(opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(main_msg(c, &resp));
    if ((rc = ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    memset(&p, 0, sizeof p);
    p.idri = cr.impu;
    p.idrr = str(c->peer[0]);
    p.n_cs = 1;
    p.cs[0].cs_id = (uint8_t)(c->cs_id ? c->cs_id : 1);
    p.cs[0].has_ssrc = c->has_ssrc;
    p.cs[0].ssrc = c->ssrc;
    memcpy(p.cs[0].spi, c->mki, c->mki_len);
    p.cs[0].spi_len = c->mki_len;
    mk_ue_srtp_policy_default(tk.suite, &p.cs[0].policy);
    p.fixed = c->fixed;
    rc = 0;
    {
        mk_err e = mk_ue_transfer_init(&tk, &p, out.b, sizeof out.b, &out.n);
        if (e == MK_OK)
            e = c->sink->deliver(c->sink, "TRANSFER_INIT", ue_msg_bytes(&out),
                                 NULL);
        if (e != MK_OK)
            rc = fail(c, e, NULL);
    }
    mk_ue_ticket_wipe(&tk);
    return rc;
}

static int cmd_resolve(cli *c)
{
    static ue_msg ti, out;
    mk_ue_creds cr;
    need(c, CREDS | BIT(O_IN) | BIT(O_CSB_ID) | BIT(O_RANDRR) | BIT(O_TIME) |
                BIT(O_URL) | BIT(O_CACERT),
         0);
    need_creds(c);
    if (c->given & BIT(O_RANDRI))
        die_usage("resolve takes --randrr");
    creds_of(c, &cr);
    TRY(main_msg(c, &ti));
    TRY(mk_ue_resolve_init(&cr, ue_msg_bytes(&ti), &c->fixed, out.b,
                           sizeof out.b, &out.n));
    return send_to_kms(c, "RESOLVE_INIT", &cr, &ti, &out);
}

/* The Responder's session from TRANSFER_INIT, RESOLVE_INIT, RESOLVE_RESP. */
static int session_of(cli *c, const mk_ue_creds *cr, const ue_msg *ti,
                      const ue_msg *ri, const ue_msg *rr, mk_ue_session *s)
{
    mk_ue_peer_error pe;
    mk_err e = mk_ue_accept_resolve_resp(cr, ue_msg_bytes(ti),
                                         ue_msg_bytes(ri), ue_msg_bytes(rr), s,
                                         &pe);
    return e == MK_OK ? 0 : fail(c, e, &pe);
}

static int cmd_accept_resolve_resp(cli *c)
{
    static ue_msg ti, ri, rr;
    static mk_ue_session s;
    mk_ue_creds cr;
    int rc;
    need(c, CREDS | BIT(O_IN), BIT(O_TRANSFER_INIT) | BIT(O_RESOLVE_INIT));
    need_creds(c);
    creds_of(c, &cr);
    TRY(opt_msg(c->transfer_init, "--transfer-init is not a base64 message",
                &ti));
    TRY(opt_msg(c->resolve_init, "--resolve-init is not a base64 message",
                &ri));
    TRY(main_msg(c, &rr));
    if ((rc = session_of(c, &cr, &ti, &ri, &rr, &s)) != 0)
        return rc;
    print_session(&c->out, &s);
    ue_out_end(&c->out);
    mk_ue_session_wipe(&s);
    return 0;
}

static int cmd_transfer_resp(cli *c)
{
    static ue_msg ti, ri, rr, out;
    static mk_ue_session s;
    mk_ue_transfer_resp_params p;
    mk_ue_creds cr;
    int rc;
    need(c, CREDS | BIT(O_IN) | BIT(O_RANDRR) | BIT(O_TIME) | BIT(O_SSRC),
         BIT(O_TRANSFER_INIT) | BIT(O_RESOLVE_INIT));
    need_creds(c);
    creds_of(c, &cr);
    TRY(opt_msg(c->transfer_init, "--transfer-init is not a base64 message",
                &ti));
    TRY(opt_msg(c->resolve_init, "--resolve-init is not a base64 message",
                &ri));
    TRY(main_msg(c, &rr));
    if ((rc = session_of(c, &cr, &ti, &ri, &rr, &s)) != 0)
        return rc;
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < MK_UE_CS_MAX; i++) {
        p.has_ssrc[i] = c->has_ssrc;
        p.ssrc[i] = c->ssrc;
    }
    p.fixed = c->fixed;
    {
        mk_err e = mk_ue_transfer_resp(&s, ue_msg_bytes(&ti), &p, out.b,
                                       sizeof out.b, &out.n);
        if (e == MK_OK)
            e = c->sink->deliver(c->sink, "TRANSFER_RESP", ue_msg_bytes(&out),
                                 NULL);
        rc = e == MK_OK ? 0 : fail(c, e, NULL);
    }
    mk_ue_session_wipe(&s);
    return rc;
}

/* The Initiator's session from REQUEST_INIT/RESP, TRANSFER_INIT/RESP. */
static int initiator_session(cli *c, mk_ue_session *s)
{
    static ue_msg req, resp, ti, tr;
    static mk_ue_ticket tk;
    mk_ue_creds cr;
    mk_ue_peer_error pe;
    mk_err e;
    int rc;
    creds_of(c, &cr);
    TRY(opt_msg(c->request, "--request is not a base64 message", &req));
    TRY(opt_msg(c->request_resp, "--request-resp is not a base64 message",
                &resp));
    TRY(opt_msg(c->transfer_init, "--transfer-init is not a base64 message",
                &ti));
    TRY(main_msg(c, &tr));
    if ((rc = ticket_of(c, &cr, &req, &resp, &tk)) != 0)
        return rc;
    e = mk_ue_accept_transfer_resp(&tk, ue_msg_bytes(&ti), ue_msg_bytes(&tr),
                                   s, &pe);
    mk_ue_ticket_wipe(&tk);
    return e == MK_OK ? 0 : fail(c, e, &pe);
}

static int cmd_accept_transfer_resp(cli *c)
{
    static mk_ue_session s;
    int rc;
    need(c, CREDS | BIT(O_IN),
         BIT(O_REQUEST) | BIT(O_REQUEST_RESP) | BIT(O_TRANSFER_INIT));
    need_creds(c);
    if ((rc = initiator_session(c, &s)) != 0)
        return rc;
    print_session(&c->out, &s);
    ue_out_end(&c->out);
    mk_ue_session_wipe(&s);
    return 0;
}

static int print_srtp(cli *c, const mk_ue_session *s)
{
    char name[32];
    size_t printed = 0;
    for (size_t i = 0; i < s->n_cs; i++) {
        mk_ue_srtp k;
        uint8_t id = s->cs[i].cs_id;
        mk_err e;
        if (c->cs_id && c->cs_id != id)
            continue;
        e = c->has_key_index
                ? mk_ue_srtp_keys_from(s, (size_t)c->key_index, id, &k)
                : mk_ue_srtp_keys(s, id, &k);
        if (e != MK_OK)
            return fail(c, e, NULL);
#define NAME(suffix) (snprintf(name, sizeof name, "cs%u_%s", id, suffix), name)
        if (s->cs[i].has_ssrc) {
            uint8_t b[4] = {(uint8_t)(s->cs[i].ssrc >> 24),
                            (uint8_t)(s->cs[i].ssrc >> 16),
                            (uint8_t)(s->cs[i].ssrc >> 8),
                            (uint8_t)s->cs[i].ssrc};
            ue_out_hex(&c->out, NAME("ssrc"), MK_BYTES(b, 4));
        }
        ue_out_str(&c->out, NAME("key_type"), mk_name_key_type(k.key_type));
        ue_out_uint(&c->out, NAME("key_index"), k.key_index);
        ue_out_hex(&c->out, NAME("master_key"), mk_key_bytes(&k.master_key));
        ue_out_hex(&c->out, NAME("master_salt"), mk_key_bytes(&k.master_salt));
        if (k.mki_len)
            ue_out_hex(&c->out, NAME("mki"), MK_BYTES(k.mki, k.mki_len));
#undef NAME
        mk_ue_srtp_wipe(&k);
        printed++;
    }
    if (printed == 0) {
        fprintf(stderr, PROG ": %s: no crypto session %u\n", c->cmd,
                (unsigned)c->cs_id);
        return 1;
    }
    ue_out_end(&c->out);
    return 0;
}

static int cmd_srtp_keys(cli *c)
{
    static ue_msg ti, ri, rr, tr;
    static mk_ue_session s;
    int rc;
    need(c, CREDS | BIT(O_IN) | BIT(O_REQUEST) | BIT(O_REQUEST_RESP) |
                BIT(O_RESOLVE_INIT) | BIT(O_RESOLVE_RESP) | BIT(O_CS_ID) |
                BIT(O_KEY_INDEX),
         BIT(O_TRANSFER_INIT));
    need_creds(c);
    if (c->request || c->request_resp) { /* the Initiator */
        if (!c->request || !c->request_resp || c->resolve_init ||
            c->resolve_resp)
            die_usage("srtp-keys: the Initiator gives --request and "
                      "--request-resp, the Responder --resolve-init and "
                      "--resolve-resp");
        rc = initiator_session(c, &s);
    } else {
        mk_ue_creds cr;
        if (!c->resolve_init || !c->resolve_resp)
            die_usage("srtp-keys: the Responder gives --resolve-init and "
                      "--resolve-resp");
        creds_of(c, &cr);
        TRY(opt_msg(c->transfer_init,
                    "--transfer-init is not a base64 message", &ti));
        TRY(opt_msg(c->resolve_init, "--resolve-init is not a base64 message",
                    &ri));
        TRY(opt_msg(c->resolve_resp, "--resolve-resp is not a base64 message",
                    &rr));
        TRY(main_msg(c, &tr));
        rc = session_of(c, &cr, &ti, &ri, &rr, &s);
        if (rc == 0) {
            mk_err e = mk_ue_session_take_transfer_resp(&s, ue_msg_bytes(&ti),
                                                        ue_msg_bytes(&tr));
            if (e != MK_OK)
                rc = fail(c, e, NULL);
        }
    }
    if (rc == 0)
        rc = print_srtp(c, &s);
    mk_ue_session_wipe(&s);
    return rc;
}

/* The whole exchange against a live KMS (mikey_ue_chain.h). */
static int cmd_chain(cli *c)
{
    static ue_chain_params p;
    need(c, ALICE | BOB | BIT(O_KMS_ID) | BIT(O_SUITE) | BIT(O_FORK) |
                BIT(O_KEY) | BIT(O_SSRC) | NAF | BIT(O_CACERT) |
                BIT(O_RESOLVE_URL),
         BIT(O_URL));
    if (c->out.json)
        die_usage("chain prints text; the single steps take --json");
    need_party(c, &c->alice, BIT(O_A_PSK), BIT(O_A_PSK_FILE), "alice-");
    need_party(c, &c->bob, BIT(O_B_PSK), BIT(O_B_PSK_FILE), "bob-");
    memset(&p, 0, sizeof p);
    p.via = c->url;
    p.kms = c->sink;
    p.via_resolve = c->resolve_url;
    p.kms_resolve = c->resolve_sink;
    party_creds(c, &c->alice, &p.alice);
    party_creds(c, &c->bob, &p.bob);
    p.suite = c->suite ? c->suite : &mk_suite_128;
    p.forking = c->fork;
    memcpy(p.tmpl, c->tmpl, sizeof p.tmpl);
    p.n_tmpl = c->n_tmpl;
    p.has_ssrc = c->has_ssrc;
    p.ssrc = c->ssrc;
    return ue_chain_run(&p, stdout, stderr);
}

/* Ks_NAF (TS 33.220 B.3) of a bootstrapping, for a NAF FQDN. */
static int cmd_gba_key(cli *c)
{
    uint8_t naf[MK_GBA_NAF_ID_MAX], out[MK_GBA_KEY_LEN];
    size_t naf_n = 0;
    need(c, BIT(O_KS) | BIT(O_RAND) | BIT(O_IMPI) | NAF,
         BIT(O_KS) | BIT(O_RAND) | BIT(O_IMPI) | BIT(O_NAF_FQDN));
    if (mk_gba_naf_id(c->naf_fqdn, c->ua_id, naf, sizeof naf, &naf_n) !=
        MK_OK)
        die_usage("--naf-fqdn '%s' is not a host name", c->naf_fqdn);
    TRY(mk_gba_ks_naf(MK_BYTES(c->ks, sizeof c->ks),
                      MK_BYTES(c->gba_rand, sizeof c->gba_rand), str(c->impi),
                      MK_BYTES(naf, naf_n), out));
    for (size_t i = 0; i < sizeof out; i++)
        printf("%02x", out[i]);
    putchar('\n');
    mk_wipe(out, sizeof out);
    mk_wipe(c->ks, sizeof c->ks);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(cli *c);
} commands[] = {
    {"gba-key", cmd_gba_key},
    {"request", cmd_request},
    {"accept-request-resp", cmd_accept_request_resp},
    {"transfer-init", cmd_transfer_init},
    {"resolve", cmd_resolve},
    {"accept-resolve-resp", cmd_accept_resolve_resp},
    {"transfer-resp", cmd_transfer_resp},
    {"accept-transfer-resp", cmd_accept_transfer_resp},
    {"srtp-keys", cmd_srtp_keys},
    {"chain", cmd_chain},
};

/* Run a command with the stdout sink, or with --url the HTTP sink. */
static int with_sink(cli *c, int (*run)(cli *c))
{
#ifdef MK_HAVE_CURL
    ue_http *h = NULL;
    mk_err e;
    int rc;
    if (!c->url)
        return run(c);
    if ((e = ue_http_global_init()) != MK_OK)
        return fail(c, e, NULL);
    if ((e = ue_http_open(c->url, &h)) != MK_OK) {
        ue_http_global_cleanup();
        if (e == MK_E_ARG)
            die_usage("--url is the http:// or https:// URL of the KMS "
                      "mount");
        return fail(c, e, NULL);
    }
    if (c->cacert && (e = ue_http_set_cacert(h, c->cacert)) != MK_OK) {
        ue_http_close(h);
        ue_http_global_cleanup();
        return fail(c, e, NULL);
    }
    /* GBA: answer a 401 for the messages of these B-TIDs */
    const party *ps[3] = {&c->me, &c->alice, &c->bob};
    for (size_t i = 0; i < 3; i++)
        if (ps[i]->gba &&
            (e = ue_http_add_gba(h, str(ps[i]->gba_btid),
                                 MK_BYTES(ps[i]->psk, ps[i]->psk_len))) !=
                MK_OK) {
            ue_http_close(h);
            ue_http_global_cleanup();
            return fail(c, e, NULL);
        }
    c->sink = ue_sink_http(h);
    ue_http *h2 = NULL;
    if (c->resolve_url) {
        if ((e = ue_http_open(c->resolve_url, &h2)) != MK_OK ||
            (c->cacert && (e = ue_http_set_cacert(h2, c->cacert)) != MK_OK)) {
            ue_http_close(h2);
            ue_http_close(h);
            ue_http_global_cleanup();
            if (e == MK_E_ARG)
                die_usage("--resolve-url is the http:// or https:// URL of "
                          "a KMS mount");
            return fail(c, e, NULL);
        }
        c->resolve_sink = ue_sink_http(h2);
    }
    rc = run(c);
    ue_http_close(h2);
    ue_http_close(h);
    ue_http_global_cleanup();
    return rc;
#else
    if (strcmp(c->cmd, "chain") == 0)
        die_usage("chain needs --url: this mikey-ue was built without "
                  "libcurl");
    return run(c);
#endif
}

int main(int argc, char **argv)
{
    static cli c;
    int rc;
    if (argc < 2)
        die_usage("no command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    c.cmd = argv[1];
    c.sink = ue_sink_stdout();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        memcpy(c.ua_id, MK_GBA_UA_ID_DEFAULT, MK_GBA_UA_ID_LEN);
        parse_args(&c, argc, argv);
        gba_party(&c, &c.me, "");
        gba_party(&c, &c.alice, "alice-");
        gba_party(&c, &c.bob, "bob-");
        rc = with_sink(&c, commands[i].run);
        mk_wipe(c.me.psk, sizeof c.me.psk);
        mk_wipe(c.alice.psk, sizeof c.alice.psk);
        mk_wipe(c.bob.psk, sizeof c.bob.psk);
        return rc;
    }
    die_usage("unknown command '%s'", argv[1]);
    return 2;
}
