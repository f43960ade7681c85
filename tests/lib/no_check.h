/* no_check.h - forced into every unit test (CHECK_CFLAGS) when configure
 * did not find the check library: `make` needs no test library, `make
 * check` stops here and says why. */
#error "make check needs the check library >= 0.10 (Debian: check); configure did not find it: install it and run configure again"
