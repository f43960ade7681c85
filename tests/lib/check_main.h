/* check_main.h - the one main of the check(3) unit tests: run a suite,
 * exit status for make check. */
#ifndef MK_TESTS_LIB_CHECK_MAIN_H
#define MK_TESTS_LIB_CHECK_MAIN_H

#include <check.h>
#include <stddef.h>

/* Number of elements of an array (not a pointer). */
#define MK_CHECK_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Run every test case of s (CK_NORMAL output), free the runner; returns
 * EXIT_SUCCESS when none failed, EXIT_FAILURE otherwise. */
int mk_check_run(Suite *s);

/* Create the test case name holding tests[0..n-1] in this order and add it
 * to s; returns it so that the caller can set a timeout or a fixture. The
 * tests are the START_TEST names (check >= 0.13 makes them TTest pointers,
 * which is why the table is built in the caller's main, not at file scope). */
TCase *mk_check_tcase(Suite *s, const char *name, const TTest *const tests[],
                      size_t n);

/* How the one test case of a test program runs. */
typedef struct mk_check_opts {
    const char *suite, *tcase; /* the names check prints */
    double timeout;            /* seconds; 0 keeps check's default */
    SFun setup, teardown;      /* checked fixture (in each test's fork);
                                  both NULL: none */
    const TTest *loop;         /* a loop test over [loop_start, loop_end),
                                  added before the table; NULL: none */
    int loop_start, loop_end;
} mk_check_opts;

/* The whole main of a test program with one test case: suite o->suite,
 * test case o->tcase holding tests[0..n-1] with o's timeout and fixture,
 * run as mk_check_run. */
int mk_check_main_opts(const mk_check_opts *o, const TTest *const tests[],
                       size_t n);

/* mk_check_main_opts with check's default timeout and no fixture. */
int mk_check_main(const char *suite, const char *tcase,
                  const TTest *const tests[], size_t n);

#endif
