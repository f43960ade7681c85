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

int mk_check_main(const char *suite, const char *tcase,
                  const TTest *const tests[], size_t n)
{
    Suite *s = suite_create(suite);
    mk_check_tcase(s, tcase, tests, n);
    return mk_check_run(s);
}
