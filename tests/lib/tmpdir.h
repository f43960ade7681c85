/* tmpdir.h - test helper: the scratch directory a test case works in. */
#ifndef MK_TESTS_LIB_TMPDIR_H
#define MK_TESTS_LIB_TMPDIR_H

#include <stddef.h>

/* Create a fresh directory /tmp/mk-test-<tag>-XXXXXX and write its name to
 * dir (cap bytes); fails the running check test when it cannot. */
void mk_test_dir_make(char *dir, size_t cap, const char *tag);

/* Remove dir and all below it; a failure is only reported on stderr (a
 * teardown must not hide the test's own outcome). */
void mk_test_dir_remove(const char *dir);

#endif
