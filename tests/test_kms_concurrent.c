/* test_kms_concurrent.c - two KMS processes over one SQLite store (as two
 * kmsd processes would run): 2 x 2000 ticket requests at the same time;
 * every answer is a REQUEST_RESP (no "database is locked" surfaces as any
 * other answer), no record is lost, and one REQUEST_INIT sent to both at
 * once, released to both by one close(2), is answered with keys by exactly
 * one of them and is a replay (Error 1) at the other, whichever wins the
 * race (profile §7: the replay cache is shared by every responder
 * process). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_kms_fixture.h"
#include "util/ntp.h"
#include "lib/check_main.h"

#define PER_PROC 2000

/* What one process made of the shared message, written to the parent. */
#define SHARED_KEYS 'k'   /* REQUEST_RESP */
#define SHARED_REPLAY 'r' /* Error 1 (Invalid TS), HTTP 200 */
#define SHARED_OTHER 'x'

/* Exit status: 0 all as expected, 1..99 failures (capped), 100 setup. */
static int child(const char *path, int id, int ready_fd, int go_fd,
                 int result_fd, const fx_msg *shared)
{
    mk_sqlstore *sql = NULL;
    mk_kms *kms;
    mk_kms_config cfg;
    mk_kms_answer *a = malloc(sizeof *a);
    mk_err e = MK_OK;
    int bad = 0;
    char c = 0;

    if (a == NULL ||
        mk_sqlstore_open_existing(path, MK_BYTES(fx_master, sizeof fx_master), 5000,
                                  &sql) != MK_OK)
        return 100;
    mk_kms_store iface = mk_sqlstore_interface(sql);
    mk_kms_config_defaults(&cfg);
    kms = mk_kms_new(&cfg, &iface, &e);
    if (kms == NULL)
        return 100;
    /* ready (store open, core made); both wait here until the parent,
     * once both are ready, closes the pipe (EOF wakes both), then send
     * the shared message at the same moment */
    if (write(ready_fd, "r", 1) != 1 || read(go_fd, &c, 1) != 0)
        return 100;
    mk_kms_handle(kms, MK_SERVICE_TICKET_REQUEST,
                  MK_BYTES(shared->b, shared->n), mk_ntp_now(), a);
    c = a->err == MK_OK ? SHARED_KEYS
        : a->err == MK_E_MIKEY_TS && a->http_status == 200 ? SHARED_REPLAY
                                                          : SHARED_OTHER;
    if (c == SHARED_OTHER)
        fprintf(stderr, "process %d, shared message: %s (http %d)\n", id,
                mk_err_name(a->err), a->http_status);
    if (write(result_fd, &c, 1) != 1)
        return 100;
    for (int i = 0; i < PER_PROC; i++) {
        mk_ue_request_params p;
        fx_msg m;
        fx_request_params(&p, i % 2 ? &mk_suite_256 : &mk_suite_128,
                          FX_ALICE, FX_BOB);
        p.fixed.t_ntp = mk_ntp_now();
        if (mk_ue_request_init(&p, m.b, sizeof m.b, &m.n) != MK_OK)
            return 100;
        mk_kms_handle(kms, MK_SERVICE_TICKET_REQUEST, MK_BYTES(m.b, m.n),
                      mk_ntp_now(), a);
        if (a->err != MK_OK) {
            if (bad < 5)
                fprintf(stderr, "process %d request %d: %s (http %d)\n", id,
                        i, mk_err_name(a->err), a->http_status);
            bad++;
        }
    }
    mk_kms_free(kms);
    mk_sqlstore_close(sql);
    free(a);
    return bad > 99 ? 99 : bad;
}

START_TEST(test_two_processes_one_store)
{
    int ready[2], go[2], result[2];
    pid_t pid[2];
    char seen[3] = {0};
    fx_msg shared;
    mk_ue_request_params p;
    size_t before = fx_record_count();

    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.fixed.t_ntp = mk_ntp_now();
    fx_request_init(&p, &shared);
    /* the parent's connection must not be inherited by the children */
    mk_kms_free(F.kms);
    F.kms = NULL;
    mk_sqlstore_close(F.sql);
    F.sql = NULL;
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(result), 0);
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(result[0]);
            _exit(child(F.path, i, ready[1], go[0], result[1], &shared));
        }
    }
    close(ready[1]);
    close(go[0]);
    close(result[1]);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(read(ready[0], &seen[i], 1), 1);
    close(ready[0]);
    close(go[1]); /* go */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(read(result[0], &seen[i], 1), 1);
    close(result[0]);
    for (int i = 0; i < 2; i++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
        ck_assert(WIFEXITED(st));
        ck_assert_msg(WEXITSTATUS(st) == 0, "process %d: %d failures", i,
                      WEXITSTATUS(st));
    }
    /* exactly one answer with keys, whichever process won */
    ck_assert_msg((seen[0] == SHARED_KEYS && seen[1] == SHARED_REPLAY) ||
                      (seen[0] == SHARED_REPLAY && seen[1] == SHARED_KEYS),
                  "the shared message at both processes: '%c' and '%c'",
                  seen[0], seen[1]);
    ck_assert_int_eq(mk_sqlstore_open_existing(F.path,
                                               MK_BYTES(fx_master, sizeof fx_master),
                                               5000, &F.sql),
                     MK_OK);
    /* one record per answer: 2 x 2000 + the shared message twice */
    ck_assert_uint_eq(fx_record_count(), before + 2 * PER_PROC + 2);
}
END_TEST

int main(void)
{
    const TTest *const concurrent_tests[] = {test_two_processes_one_store};
    const mk_check_opts o = {
        .suite = "kms_concurrent", .tcase = "concurrent", .timeout = 600,
        .setup = fx_setup, .teardown = fx_teardown
    };
    return mk_check_main_opts(&o, concurrent_tests,
                              MK_CHECK_NELEM(concurrent_tests));
}
