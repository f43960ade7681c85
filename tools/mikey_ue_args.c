/* mikey_ue_args.c - the command line of mikey-ue (mikey_ue_cli.h): the
 * options, --help, what each command takes and needs, the credentials of
 * a party (a PSK in hex or in a file, or GBA: Ks_NAF of TS 33.220 B.3) and
 * the messages a step reads. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey_ue_cli.h"

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

void cli_usage(FILE *f)
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

void cli_die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (try " PROG " --help)\n", stderr);
    exit(2);
}

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

static void psk_hex(party *pt, const char *hex, const char *opt)
{
    if (ue_hex(hex, pt->psk, sizeof pt->psk, &pt->psk_len) != MK_OK ||
        pt->psk_len == 0)
        cli_die_usage("%s is a hex string of 1..64 bytes", opt);
}

static void psk_file(party *pt, const char *path, const char *opt)
{
    char *text = NULL;
    size_t n = 0;
    if (ue_read_all(path, &text, &n) != MK_OK)
        cli_die_usage("%s: cannot read '%s'", opt, path);
    if (ue_hex(text, pt->psk, sizeof pt->psk, &pt->psk_len) != MK_OK ||
        pt->psk_len == 0) {
        mk_wipe(text, n);
        free(text);
        cli_die_usage("%s: '%s' does not hold a hex PSK", opt, path);
    }
    mk_wipe(text, n);
    free(text);
}

static void gba_ks(party *pt, const char *hex, const char *opt)
{
    size_t n = 0;
    if (ue_hex(hex, pt->gba_ks, sizeof pt->gba_ks, &n) != MK_OK ||
        n != MK_GBA_KEY_LEN)
        cli_die_usage("%s is 64 hex digits (Ks = CK || IK)", opt);
    pt->has_gba_ks = true;
}

/* 4 bytes of hex (--csb-id, --ssrc) as a 32-bit value. */
static bool hex_u32(const char *h, uint32_t *v)
{
    uint8_t b[4];
    size_t n = 0;
    if (ue_hex(h, b, 4, &n) != MK_OK || n != 4)
        return false;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         b[3];
    return true;
}

/* Hex of exactly len bytes into out, else the usage error msg. */
static void hex_exact(const char *s, uint8_t *out, size_t len, const char *msg)
{
    size_t n = 0;
    if (ue_hex(s, out, len, &n) != MK_OK || n != len)
        cli_die_usage("%s", msg);
}

/* The options of credentials and of where messages go (true: o was one). */
static bool credential_opt(cli *c, int o, const char *arg)
{
    switch (o) {
    case O_PSK: psk_hex(&c->me, arg, "--psk"); break;
    case O_PSK_FILE: psk_file(&c->me, arg, "--psk-file"); break;
    case O_PSK_ID: c->me.psk_id = arg; break;
    case O_IMPU: c->me.impu = arg; break;
    case O_A_PSK: psk_hex(&c->alice, arg, "--alice-psk"); break;
    case O_A_PSK_FILE: psk_file(&c->alice, arg, "--alice-psk-file"); break;
    case O_A_PSK_ID: c->alice.psk_id = arg; break;
    case O_A_IMPU: c->alice.impu = arg; break;
    case O_B_PSK: psk_hex(&c->bob, arg, "--bob-psk"); break;
    case O_B_PSK_FILE: psk_file(&c->bob, arg, "--bob-psk-file"); break;
    case O_B_PSK_ID: c->bob.psk_id = arg; break;
    case O_B_IMPU: c->bob.impu = arg; break;
    case O_URL: c->url = arg; break;
    case O_CACERT: c->cacert = arg; break;
    case O_RESOLVE_URL: c->resolve_url = arg; break;
    case O_GBA_BTID: c->me.gba_btid = arg; break;
    case O_GBA_KS: gba_ks(&c->me, arg, "--gba-ks"); break;
    case O_GBA_IMPI: c->me.gba_impi = arg; break;
    case O_A_GBA_BTID: c->alice.gba_btid = arg; break;
    case O_A_GBA_KS: gba_ks(&c->alice, arg, "--alice-gba-ks"); break;
    case O_A_GBA_IMPI: c->alice.gba_impi = arg; break;
    case O_B_GBA_BTID: c->bob.gba_btid = arg; break;
    case O_B_GBA_KS: gba_ks(&c->bob, arg, "--bob-gba-ks"); break;
    case O_B_GBA_IMPI: c->bob.gba_impi = arg; break;
    case O_NAF_FQDN: c->naf_fqdn = arg; break;
    case O_UA_ID:
        hex_exact(arg, c->ua_id, MK_GBA_UA_ID_LEN, "--ua-id is 10 hex digits");
        break;
    case O_KS:
        hex_exact(arg, c->ks, MK_GBA_KEY_LEN,
                  "--ks is 64 hex digits (CK || IK)");
        break;
    case O_RAND:
        hex_exact(arg, c->gba_rand, MK_GBA_RAND_LEN,
                  "--rand is 32 hex digits");
        break;
    case O_IMPI: c->impi = arg; break;
    case O_KMS_ID: c->kms_id = arg; break;
    default: return false;
    }
    return true;
}

/* The options of what a request asks for and of fixed values (true: o was
 * one). */
static bool request_opt(cli *c, int o, const char *arg)
{
    uint64_t v;
    size_t n;
    switch (o) {
    case O_PEER:
        if (c->n_peer >= MK_UE_IDRR_MAX)
            cli_die_usage("at most %d --peer", MK_UE_IDRR_MAX);
        c->peer[c->n_peer++] = arg;
        break;
    case O_SUITE:
        if (strcmp(arg, "128") == 0)
            c->suite = &mk_suite_128;
        else if (strcmp(arg, "256") == 0)
            c->suite = &mk_suite_256;
        else
            cli_die_usage("--suite is 128 or 256");
        break;
    case O_FORK: c->fork = true; break;
    case O_FLAGS: c->flags = arg; break;
    case O_VALID_FROM:
    case O_VALID_TO:
        if (ue_uint(arg, UINT32_MAX * 2ull, &v) != MK_OK || v == 0)
            cli_die_usage("--valid-from/--valid-to take unix seconds");
        *(o == O_VALID_FROM ? &c->valid_from : &c->valid_to) = v;
        break;
    case O_KEY:
        if (c->n_tmpl >= MK_UE_TMPL_MAX)
            cli_die_usage("at most %d --key", MK_UE_TMPL_MAX);
        if (parse_key_tmpl(arg, &c->tmpl[c->n_tmpl++]) != 0)
            cli_die_usage("--key is TYPE:LEN[:SALTLEN], e.g. tgk:16");
        break;
    case O_CSB_ID:
        if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
            arg += 2;
        if (!hex_u32(arg, &c->fixed.csb_id))
            cli_die_usage("--csb-id is 8 hex digits");
        c->fixed.has_csb_id = true;
        break;
    case O_RANDRI:
    case O_RANDRR:
        if (c->fixed.rand.n)
            cli_die_usage("give one of --randri / --randrr");
        if (ue_hex(arg, c->rand, sizeof c->rand, &n) != MK_OK || n == 0)
            cli_die_usage("--randri/--randrr is 1..255 bytes of hex");
        c->fixed.rand = MK_BYTES(c->rand, n);
        break;
    case O_TIME:
        if (ue_time(arg, &c->fixed.t_ntp) != MK_OK)
            cli_die_usage("--time is 16 hex digits (NTP) or unix seconds");
        c->fixed.has_t = true;
        break;
    default: return false;
    }
    return true;
}

/* The options of messages, crypto sessions and output. */
static void message_opt(cli *c, int o, const char *arg)
{
    switch (o) {
    case O_IN: c->in = arg; break;
    case O_REQUEST: c->request = arg; break;
    case O_REQUEST_RESP: c->request_resp = arg; break;
    case O_TRANSFER_INIT: c->transfer_init = arg; break;
    case O_RESOLVE_INIT: c->resolve_init = arg; break;
    case O_RESOLVE_RESP: c->resolve_resp = arg; break;
    case O_CS_ID:
        if (ue_uint(arg, 255, &c->cs_id) != MK_OK || c->cs_id == 0)
            cli_die_usage("--cs-id is 1..255");
        break;
    case O_SSRC:
        if (!hex_u32(arg, &c->ssrc))
            cli_die_usage("--ssrc is 8 hex digits");
        c->has_ssrc = true;
        break;
    case O_MKI:
        if (ue_hex(arg, c->mki, sizeof c->mki, &c->mki_len) != MK_OK ||
            c->mki_len == 0)
            cli_die_usage("--mki is 1..%d bytes of hex", MK_SPI_MAX);
        break;
    case O_KEY_INDEX:
        if (ue_uint(arg, MK_KEYSET_MAX, &c->key_index) != MK_OK)
            cli_die_usage("--key-index is 0..%d", MK_KEYSET_MAX);
        c->has_key_index = true;
        break;
    case O_JSON: c->out.json = true; break;
    default: cli_die_usage("unexpected option");
    }
}

void cli_parse_args(cli *c, int argc, char **argv)
{
    int o;
    opterr = 0;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (o == '?' || o == ':')
            cli_die_usage("%s: unknown option or missing value '%s'", c->cmd,
                          argv[optind - 1]);
        if (o == O_HELP) {
            cli_usage(stdout);
            exit(0);
        }
        if (o != O_PEER && o != O_KEY && (c->given & BIT(o)))
            cli_die_usage("%s: option '%s' given twice", c->cmd,
                          argv[optind - 1]);
        c->given |= BIT(o);
        if (!credential_opt(c, o, optarg) && !request_opt(c, o, optarg))
            message_opt(c, o, optarg);
    }
    if (optind < argc)
        c->arg = argv[optind++];
    if (optind < argc)
        cli_die_usage("%s: unexpected argument '%s'", c->cmd, argv[optind]);
    if (c->arg && c->in)
        cli_die_usage("%s: give the message as argument or --in, not both",
                      c->cmd);
}

/* Every option given must be one the command takes; required ones must be
 * there. */
void cli_need(const cli *c, uint64_t allowed, uint64_t required)
{
    allowed |= BIT(O_JSON) | required;
    for (int o = O_PSK; o < O__END; o++) {
        if ((c->given & BIT(o)) && !(allowed & BIT(o)))
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == o)
                    cli_die_usage("%s does not take --%s", c->cmd, lo->name);
        if ((required & BIT(o)) && !(c->given & BIT(o)))
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == o)
                    cli_die_usage("%s needs --%s", c->cmd, lo->name);
    }
}

/* A party's credentials are complete: one PSK (hex or file) and an IMPU. */
void cli_need_party(const cli *c, const party *pt, uint64_t psk,
                    uint64_t psk_file, const char *prefix)
{
    if (pt->gba && (c->given & (psk | psk_file)))
        cli_die_usage("give --%spsk... or --%sgba-..., not both", prefix,
                      prefix);
    if (pt->gba) {
        if (!pt->impu)
            cli_die_usage("%s needs --%simpu", c->cmd, prefix);
        return;
    }
    if (!(c->given & (psk | psk_file)))
        cli_die_usage("%s needs --%spsk or --%spsk-file", c->cmd, prefix,
                      prefix);
    if ((c->given & psk) && (c->given & psk_file))
        cli_die_usage("give --%spsk or --%spsk-file, not both", prefix,
                      prefix);
    if (!pt->impu)
        cli_die_usage("%s needs --%simpu", c->cmd, prefix);
}

/* A party with GBA credentials (doc/profile.md §10): PSK = Ks_NAF =
 * KDF(Ks, "gba-me", RAND, IMPI, NAF_Id) (TS 33.220 B.3), RAND the base64
 * part of the B-TID, NAF_Id = --naf-fqdn (default the --kms-id) || Ua
 * security protocol id; PSK id = the B-TID. */
void cli_gba_party(cli *c, party *pt, const char *prefix)
{
    uint8_t rand[MK_GBA_RAND_LEN], naf[MK_GBA_NAF_ID_MAX], out[MK_GBA_KEY_LEN];
    size_t naf_n = 0;
    if (!pt->gba_btid && !pt->has_gba_ks && !pt->gba_impi)
        return;
    if (!pt->gba_btid || !pt->has_gba_ks || !pt->gba_impi)
        cli_die_usage("--%sgba-btid, --%sgba-ks and --%sgba-impi go together",
                      prefix, prefix, prefix);
    if (pt->psk_id)
        cli_die_usage("--%spsk-id: with GBA the PSK id is the B-TID", prefix);
    if (!mk_gba_btid_parse(cli_str(pt->gba_btid), rand, NULL))
        cli_die_usage("--%sgba-btid '%s' is not base64(RAND)@BSF-domain",
                      prefix, pt->gba_btid);
    const char *fqdn = c->naf_fqdn   ? c->naf_fqdn
                       : c->kms_id ? c->kms_id
                                   : "kms.example.org";
    if (mk_gba_naf_id(fqdn, c->ua_id, naf, sizeof naf, &naf_n) != MK_OK)
        cli_die_usage("the NAF FQDN '%s' (--naf-fqdn, else --kms-id) is not a "
                      "host name",
                      fqdn);
    if (mk_gba_ks_naf(MK_BYTES(pt->gba_ks, sizeof pt->gba_ks),
                      MK_BYTES(rand, sizeof rand), cli_str(pt->gba_impi),
                      MK_BYTES(naf, naf_n), out) != MK_OK)
        cli_die_usage("--%sgba-impi too long", prefix);
    memcpy(pt->psk, out, sizeof out);
    pt->psk_len = sizeof out;
    pt->psk_id = pt->gba_btid;
    pt->gba = true;
    mk_wipe(out, sizeof out);
    mk_wipe(pt->gba_ks, sizeof pt->gba_ks);
}

void cli_need_creds(const cli *c)
{
    cli_need_party(c, &c->me, BIT(O_PSK), BIT(O_PSK_FILE), "");
}

mk_bytes cli_str(const char *s)
{
    return s ? MK_BYTES(s, strlen(s)) : MK_BYTES_NONE;
}

void cli_party_creds(const cli *c, const party *pt, mk_ue_creds *cr)
{
    memset(cr, 0, sizeof *cr);
    cr->psk = MK_BYTES(pt->psk, pt->psk_len);
    cr->psk_id = cli_str(pt->psk_id);
    cr->impu = cli_str(pt->impu);
    cr->kms_id = cli_str(c->kms_id ? c->kms_id : "kms.example.org");
}

void cli_creds_of(const cli *c, mk_ue_creds *cr)
{
    cli_party_creds(c, &c->me, cr);
}

/* The main input of a step: argument, --in FILE or stdin. */
mk_err cli_main_msg(const cli *c, ue_msg *m)
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

mk_err cli_opt_msg(const char *arg, const char *what, ue_msg *m)
{
    mk_err rc = ue_msg_from_arg(arg, m);
    if (rc != MK_OK)
        return mk_err_raise(rc, -1, 0, what);
    return MK_OK;
}
