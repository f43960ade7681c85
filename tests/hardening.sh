#!/bin/bash
# hardening.sh - the hardening flags configure applied (doc/profile.md
# §9.42) are in the installed programs: a stack protector, fortified libc
# calls, a position-independent executable, full RELRO (BIND_NOW). Only
# what configure found the toolchain able to do is required ($HARDENING,
# set by `make check`); a build with --disable-hardening checks nothing.
set -u
B=$(cd "${top_builddir:-.}" && pwd)
command -v readelf >/dev/null 2>&1 || { echo "SKIP: no readelf"; exit 77; }
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
echo "configure applied: ${HARDENING:-(nothing)}"
progs="src/fcgi/kmsd tools/kmsctl tools/mikey-ue tools/mikeydump"
# kms-znd is built with freeDiameter only (am/zn.am)
[ -x "$B/src/zn/kms-znd" ] && progs+=" src/zn/kms-znd"
for p in $progs; do
    f=$B/$p
    [ -x "$f" ] || { fail "$p not built"; continue; }
    syms=$(readelf -W --dyn-syms "$f")
    for h in ${HARDENING:-}; do
        case $h in
        stack-protector)
            grep -q '__stack_chk_fail' <<<"$syms" ||
                fail "$p: no stack protector (__stack_chk_fail not used)" ;;
        fortify)
            grep -qE '__[a-z]+_chk(@|$| )' <<<"$syms" ||
                fail "$p: no fortified call (no __*_chk symbol)" ;;
        pie)
            readelf -h "$f" | grep -qE 'Type:[[:space:]]+DYN' ||
                fail "$p: not a position-independent executable" ;;
        relro-now)
            readelf -l "$f" | grep -q GNU_RELRO ||
                fail "$p: no RELRO segment"
            readelf -d "$f" | grep -qE 'BIND_NOW|FLAGS_1.*NOW' ||
                fail "$p: no BIND_NOW (RELRO only partial)" ;;
        *) fail "unknown hardening '$h'" ;;
        esac
    done
done
[ "$fails" = 0 ] || exit 1
echo "hardening.sh: every applied flag found in the programs"
