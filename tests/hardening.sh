#!/bin/bash
# hardening.sh - the hardening flags configure applied (doc/profile.md
# §9.42) are in the installed programs: a stack protector, fortified libc
# calls, a position-independent executable, full RELRO (BIND_NOW). Only
# what configure found the toolchain able to do is required ($HARDENING,
# set by `make check`); a build with --disable-hardening checks nothing.
set -u
B=$(cd "${top_builddir:-.}" && pwd)
command -v readelf >/dev/null 2>&1 || { echo "1..0 # SKIP no readelf"; exit 0; }
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"
echo "# configure applied: ${HARDENING:-(nothing)}"
progs="src/fcgi/kmsd tools/kmsctl tools/mikey-ue tools/mikeydump"
# kms-znd is built with freeDiameter only (am/zn.am)
[ -x "$B/src/zn/kms-znd" ] && progs+=" src/zn/kms-znd"
for p in $progs; do
    f=$B/$p
    [ -x "$f" ] || { tap_not_ok "$p not built"; continue; }
    syms=$(readelf -W --dyn-syms "$f")
    for h in ${HARDENING:-}; do
        case $h in
        stack-protector)
            tap_check "$p: stack protector (__stack_chk_fail used)" \
                grep -q '__stack_chk_fail' <<<"$syms" ;;
        fortify)
            tap_check "$p: fortified calls (a __*_chk symbol)" \
                grep -qE '__[a-z]+_chk(@|$| )' <<<"$syms" ;;
        pie)
            tap_check "$p: a position-independent executable" \
                grep -qE 'Type:[[:space:]]+DYN' <<<"$(readelf -h "$f")" ;;
        relro-now)
            tap_check "$p: a RELRO segment" grep -q GNU_RELRO <<<"$(readelf -l "$f")"
            tap_check "$p: BIND_NOW (full RELRO)" \
                grep -qE 'BIND_NOW|FLAGS_1.*NOW' <<<"$(readelf -d "$f")" ;;
        *) tap_not_ok "unknown hardening '$h'" ;;
        esac
    done
done
tap_done
