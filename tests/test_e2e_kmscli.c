/* test_e2e_kmscli - helper of tests/mikey-ue.sh (not a test by itself): the
 * real KMS core over an SQLite store in DIR, one request per invocation,
 * base64 in on stdin and out on stdout, so that a shell test can pipe the
 * mikey-ue steps of Alice and Bob through a KMS without an HTTP server.
 *
 *   test_e2e_kmscli DIR init ALICE_PSK_HEX BOB_PSK_HEX
 *       new store: alice (sip:alice@example.com, forking allowed), bob
 *       (sip:bob@example.com), one active ticket key
 *   test_e2e_kmscli DIR ticketrequest|ticketresolve  < base64 > base64
 *       exit 0 with the 200 body (an answer or a MIKEY Error message),
 *       exit 1 with "http NNN" on stderr otherwise
 *
 * The store's master key is a fixed test value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms/kms.h"
#include "store/store.h"
#include "util/base64.h"
#include "util/ntp.h"

static const uint8_t master[MK_MASTER_KEY_LEN] = {
    0x6d, 0x69, 0x6b, 0x65, 0x79, 0x2d, 0x75, 0x65, 0x2d, 0x74, 0x65,
    0x73, 0x74, 0x2d, 0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0x2d, 0x6b,
    0x65, 0x79, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36};

static int die(const char *what, mk_err e)
{
    fprintf(stderr, "test_e2e_kmscli: %s: %s\n", what, mk_err_name(e));
    return 1;
}

static int hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return 0;
}

static int add(mk_sqlstore *st, const char *id, const char *impu,
               const char *psk_hex, bool fork)
{
    mk_subscriber s;
    size_t n = 0;
    mk_err e;
    memset(&s, 0, sizeof s);
    if (hex(psk_hex, s.psk.b, sizeof s.psk.b, &n) != 0)
        return die("PSK is not hex", MK_E_VALUE);
    s.psk.n = n;
    memcpy(s.psk_id, id, strlen(id));
    s.psk_id_len = strlen(id);
    strcpy(s.impu[0], impu);
    s.n_impu = 1;
    s.active = true;
    s.policy.forking_allowed = fork;
    e = mk_sqlstore_subscriber_add(st, &s);
    mk_subscriber_wipe(&s);
    return e == MK_OK ? 0 : die("subscriber_add", e);
}

int main(int argc, char **argv)
{
    char path[4096], *text;
    static uint8_t msg[MK_ANSWER_MAX];
    static char out[2 * MK_ANSWER_MAX];
    static mk_kms_answer ans;
    mk_sqlstore *st = NULL;
    mk_kms_store iface;
    mk_kms_config cfg;
    mk_kms *kms;
    mk_service svc;
    size_t n = 0, len = 0;
    mk_err e;
    int rc = 1;

    if (argc < 3 || snprintf(path, sizeof path, "%s/kms.db", argv[1]) >=
                        (int)sizeof path) {
        fputs("usage: test_e2e_kmscli DIR init|ticketrequest|ticketresolve\n",
              stderr);
        return 2;
    }
    if (strcmp(argv[2], "init") == 0) {
        mk_ticket_key_info tk;
        if (argc != 5)
            return 2;
        if ((e = mk_sqlstore_open(path, MK_BYTES(master, sizeof master), 2000,
                                  &st)) != MK_OK)
            return die("open", e);
        if (add(st, "alice", "sip:alice@example.com", argv[3], true) == 0 &&
            add(st, "bob", "sip:bob@example.com", argv[4], false) == 0) {
            e = mk_sqlstore_ticket_key_rotate(st, mk_ntp_to_unix(mk_ntp_now()),
                                              &tk);
            rc = e == MK_OK ? 0 : die("ticket_key_rotate", e);
        }
        mk_sqlstore_close(st);
        return rc;
    }
    if (strcmp(argv[2], "ticketrequest") == 0)
        svc = MK_SERVICE_TICKET_REQUEST;
    else if (strcmp(argv[2], "ticketresolve") == 0)
        svc = MK_SERVICE_TICKET_RESOLVE;
    else
        return 2;

    text = malloc(1u << 20);
    if (!text)
        return 1;
    len = fread(text, 1, (1u << 20) - 1, stdin);
    if ((e = mk_base64_decode(MK_BYTES(text, len), msg, sizeof msg, &n)) !=
        MK_OK) {
        free(text);
        return die("input is not base64", e);
    }
    free(text);
    if ((e = mk_sqlstore_open_existing(path, MK_BYTES(master, sizeof master),
                                       2000, &st)) != MK_OK)
        return die("open", e);
    iface = mk_sqlstore_interface(st);
    mk_kms_config_defaults(&cfg);
    kms = mk_kms_new(&cfg, &iface, &e);
    if (!kms) {
        mk_sqlstore_close(st);
        return die("mk_kms_new", e);
    }
    mk_kms_handle(kms, svc, MK_BYTES(msg, n), mk_ntp_now(), &ans);
    if (ans.http_status != 200) {
        fprintf(stderr, "http %d (%s)\n", ans.http_status,
                mk_err_name(ans.err));
    } else if ((e = mk_base64_encode(MK_BYTES(ans.body, ans.body_len), out,
                                     sizeof out, &len)) == MK_OK) {
        puts(out);
        rc = 0;
    } else {
        die("encode", e);
    }
    mk_kms_free(kms);
    mk_sqlstore_close(st);
    return rc;
}
