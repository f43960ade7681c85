/* test_store_fill.c - helper of tests/kmsctl.sh (not run by itself):
 * writes known records and replay entries into a store through the
 * mk_kms_store interface, as kmsd would.
 *
 * usage: test_store_fill STORE MASTER_KEY_FILE
 * records: alice at 1000 (ticketrequest), bob at 2000 (ticketresolve),
 * alice at 3000 (refused; its outcome holds a quote, a backslash and a tab
 * to check the JSON escaping; its responder is not a JSON array). Each is committed with a replay entry that
 * has expired since (answer_commit): 3 entries for `replay prune`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/master_key.h"
#include "store/store.h"

static mk_record rec(uint64_t t, int service, const char *sub)
{
    mk_record r;
    memset(&r, 0, sizeof r);
    r.time_unix = t;
    r.service = service;
    snprintf(r.subscriber, sizeof r.subscriber, "%s", sub);
    snprintf(r.initiator, sizeof r.initiator, "sip:%s@example.org", sub);
    snprintf(r.responder, sizeof r.responder, "[\"sip:bob@example.org\"]");
    snprintf(r.ticket_id, sizeof r.ticket_id, "%064llx",
             (unsigned long long)t);
    r.valid_from = t;
    r.valid_to = t + 3600;
    snprintf(r.spis, sizeof r.spis, "0000abcd,0000abce");
    snprintf(r.outcome, sizeof r.outcome, "ok");
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_store_fill STORE MASTER_KEY_FILE\n");
        return 2;
    }
    mk_key k;
    mk_sqlstore *s = NULL;
    mk_err e = mk_master_key_load(argv[2], &k);
    if (e == MK_OK)
        e = mk_sqlstore_open_existing(argv[1], mk_key_bytes(&k), 2000, &s);
    mk_key_wipe(&k);
    if (e != MK_OK) {
        fprintf(stderr, "test_store_fill: %s\n", mk_err_name(e));
        return 1;
    }
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_record r[3] = {rec(1000, 1, "alice"), rec(2000, 2, "bob"),
                      rec(3000, 1, "alice")};
    snprintf(r[2].outcome, sizeof r[2].outcome, "refused \"x\\y\"\tz");
    /* two responders, one with a comma; and one not in the records' form
     * (a row edited by hand), printed as a one-element array */
    snprintf(r[1].responder, sizeof r[1].responder,
             "[\"sip:bob@example.org\",\"sip:a,b@example.org\"]");
    snprintf(r[2].responder, sizeof r[2].responder, "sip:\"c\"@example.org");
    r[2].ticket_id[0] = '\0';
    r[2].spis[0] = '\0';
    r[2].valid_from = r[2].valid_to = 0;
    uint64_t now = (uint64_t)time(NULL);
    for (uint8_t i = 0; i < 3 && e == MK_OK; i++) {
        uint8_t d[32] = {i, 0x55};
        e = t.answer_commit(t.ctx, &(mk_answer_write){.digest = d, .expires_unix = now - 10, .now_unix = now - 20, .record = &r[i]});
    }
    mk_sqlstore_close(s);
    if (e != MK_OK) {
        fprintf(stderr, "test_store_fill: %s\n", mk_err_name(e));
        return 1;
    }
    return 0;
}
