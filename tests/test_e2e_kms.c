/* test_e2e_kms.c - see test_e2e_kms.h. */
#include "test_e2e_kms.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/tmpdir.h"
#include "util/ntp.h"

static void add_sub(e2e_kms *k, const char *id, const char *impu,
                    const uint8_t *psk, size_t psk_len, bool fork)
{
    mk_subscriber s;
    memset(&s, 0, sizeof s);
    memcpy(s.psk_id, id, strlen(id));
    s.psk_id_len = strlen(id);
    ck_assert_int_eq(mk_key_copy(&s.psk, MK_BYTES(psk, psk_len)), MK_OK);
    strcpy(s.impu[0], impu);
    s.n_impu = 1;
    s.active = true;
    s.policy.forking_allowed = fork;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(k->store, &s), MK_OK);
    mk_subscriber_wipe(&s);
}

void e2e_open(e2e_kms *k)
{
    uint8_t master[MK_MASTER_KEY_LEN];
    mk_kms_config cfg;
    mk_ticket_key_info tk;
    mk_err e = MK_OK;

    memset(k, 0, sizeof *k);
    mk_test_dir_make(k->dir, sizeof k->dir, "e2e");
    snprintf(k->path, sizeof k->path, "%s/kms.db", k->dir);
    ck_assert_int_eq(mk_random(master, sizeof master), MK_OK);
    ck_assert_int_eq(mk_sqlstore_open(k->path, MK_BYTES(master, sizeof master),
                                      2000, &k->store),
                     MK_OK);
    mk_wipe(master, sizeof master);
    ck_assert_int_eq(mk_random(k->alice_psk, sizeof k->alice_psk), MK_OK);
    ck_assert_int_eq(mk_random(k->bob_psk, sizeof k->bob_psk), MK_OK);
    add_sub(k, "alice", CHAIN_ALICE, k->alice_psk, sizeof k->alice_psk, true);
    add_sub(k, "bob", CHAIN_BOB, k->bob_psk, sizeof k->bob_psk, false);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(k->store,
                                                   mk_ntp_to_unix(mk_ntp_now()),
                                                   &tk),
                     MK_OK);
    k->iface = mk_sqlstore_interface(k->store);
    mk_kms_config_defaults(&cfg);
    k->kms = mk_kms_new(&cfg, &k->iface, &e);
    ck_assert_msg(k->kms != NULL, "mk_kms_new: %s", mk_err_name(e));
}

void e2e_close(e2e_kms *k)
{
    mk_kms_free(k->kms);
    mk_sqlstore_close(k->store);
    /* the database, its WAL companions and the node state next to it
       (store/node.h) */
    mk_test_dir_remove(k->dir);
    mk_wipe(k, sizeof *k);
}

mk_err e2e_call(void *ctx, int service, mk_bytes req, uint8_t *out,
                size_t cap, size_t *n)
{
    e2e_kms *k = ctx;
    mk_kms_answer *a = malloc(sizeof *a);
    mk_err e;
    ck_assert_ptr_nonnull(a);
    mk_kms_handle(k->kms, (mk_service)service, req, mk_ntp_now(), a);
    k->last_status = a->http_status;
    if (a->http_status != 200) {
        e = a->err;
    } else if (a->body_len > cap) {
        e = MK_E_NOSPACE;
    } else {
        memcpy(out, a->body, a->body_len);
        *n = a->body_len;
        e = MK_OK;
    }
    mk_wipe(a, sizeof *a);
    free(a);
    return e;
}

void e2e_opts(const e2e_kms *k, chain_opts *o, const mk_suite *s)
{
    chain_opts_init(o, s);
    o->alice_psk = MK_BYTES(k->alice_psk, sizeof k->alice_psk);
    o->bob_psk = MK_BYTES(k->bob_psk, sizeof k->bob_psk);
    o->alice_psk_id = MK_BYTES("alice", 5);
    o->bob_psk_id = MK_BYTES("bob", 3);
}
