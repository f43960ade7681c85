/* tmpdir.c - see tmpdir.h. */
#include "tmpdir.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

void mk_test_dir_make(char *dir, size_t cap, const char *tag)
{
    int n = snprintf(dir, cap, "/tmp/mk-test-%s-XXXXXX", tag);
    ck_assert(n > 0 && (size_t)n < cap);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void mk_test_dir_remove(const char *dir)
{
    char cmd[160];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
