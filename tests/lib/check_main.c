/* check_main.c - see check_main.h. */
#include "check_main.h"

#include <stdlib.h>

int mk_check_run(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

TCase *mk_check_tcase(Suite *s, const char *name, const TTest *const tests[],
                      size_t n)
{
    TCase *tc = tcase_create(name);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tc;
}

int mk_check_main_opts(const mk_check_opts *o, const TTest *const tests[],
                       size_t n)
{
    Suite *s = suite_create(o->suite);
    TCase *tc = tcase_create(o->tcase);
    if (o->loop != NULL)
        tcase_add_loop_test(tc, o->loop, o->loop_start, o->loop_end);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    if (o->timeout > 0)
        tcase_set_timeout(tc, o->timeout);
    if (o->setup != NULL || o->teardown != NULL)
        tcase_add_checked_fixture(tc, o->setup, o->teardown);
    return mk_check_run(s);
}

int mk_check_main(const char *suite, const char *tcase,
                  const TTest *const tests[], size_t n)
{
    const mk_check_opts o = {.suite = suite, .tcase = tcase};
    return mk_check_main_opts(&o, tests, n);
}
