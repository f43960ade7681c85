/* check_main.h - the one main of the check(3) unit tests: run a suite,
 * exit status for make check. */
#ifndef MK_TESTS_LIB_CHECK_MAIN_H
#define MK_TESTS_LIB_CHECK_MAIN_H

#include <check.h>

/* Run every test case of s (CK_NORMAL output), free the runner; returns
 * EXIT_SUCCESS when none failed, EXIT_FAILURE otherwise. */
int mk_check_run(Suite *s);

#endif
