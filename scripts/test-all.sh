#!/usr/bin/env bash
# The README's test command: set up a fresh Debian 12 machine and run every
# test of mikeykms. Steps: dependencies, build, `make check` (unit and
# integration tests, warnings as errors), `make check-faults` (the fault
# figures, about 3 minutes), the same make check under ASan + UBSan,
# `make distcheck`, the Debian package (scripts/deb-test.sh: built in a copy
# of the tree, installed, served through nginx, Apache and lighttpd, purged;
# at most DEB_TEST_TIMEOUT seconds, default 900), and each libFuzzer target
# for FUZZ_SECONDS (default 60).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}

"$here/scripts/deps.sh"

autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

summary=()
run_check() { # dir, configure args...
  local dir=$1; shift
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && "$here/configure" -q "$@" && make -s -j"$JOBS" && make -s -j"$JOBS" check) || {
    echo "== FAILED in $dir; logs:"; find "$dir" -name '*.log' -newer "$dir/config.status" \
      -exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null | xargs -r tail -n 60; return 1; }
  summary+=("$(grep -hE '^# (PASS|FAIL|ERROR|SKIP):' "$dir/test-suite.log" | tr '\n' ' ') [$dir]")
}

echo "== build and make check"
run_check build/plain
echo "== fault figures (make check-faults, issue 9)"
(cd build/plain && make -s check-faults) || { echo "== FAILED: make check-faults"; exit 1; }
echo "== make check under ASan + UBSan"
run_check build/sanitizers --enable-sanitizers
echo "== make distcheck"
(cd build/plain && make -s distcheck >/dev/null)
echo "== Debian package"
deb_rc=0
JOBS=$JOBS timeout "${DEB_TEST_TIMEOUT:-900}" "$here/scripts/deb-test.sh" >build/deb-test.log 2>&1 || deb_rc=$?
grep -E '^(SKIP|not ok|# lintian|# PID 1|# systemd|1\.\.)' build/deb-test.log || true
if [ "$deb_rc" -ne 0 ]; then
    [ "$deb_rc" -eq 124 ] && echo "== the package test ran out of time (${DEB_TEST_TIMEOUT:-900} s)"
    echo "== FAILED: Debian package (build/deb-test.log):"; tail -n 60 build/deb-test.log; exit 1
fi
summary+=("Debian package: $(grep -hE '^(SKIP|1\.\.)' build/deb-test.log | tail -n 1) [build/deb-test.log]")
echo "== clang: every program and test built with -Werror; fuzzing, ${FUZZ_SECONDS}s per target"
rm -rf build/fuzz && mkdir -p build/fuzz
(cd build/fuzz && CC=clang "$here/configure" -q --enable-fuzzing &&
    make -s -j"$JOBS" all && make -s -j"$JOBS" check TESTS= &&
    make -s -j"$JOBS" fuzz FUZZ_SECONDS="$FUZZ_SECONDS")

# One closing line in the plain "N passed, N failed" form, counting every
# check(3) test case and every check of every shell test (TAP: one
# :test-result: line each in its .trs), in both builds.
pass=0; fail=0
for d in build/plain build/sanitizers; do
  for trs in "$d"/tests/*.trs; do
    log=${trs%.trs}.log
    res=$(sed -n 's/^:test-result: //p' "$trs")
    line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then
      c=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
      set -- $c
      pass=$((pass + $1 - $2 - $3)); fail=$((fail + $2 + $3))
      [ "$res" = FAIL ] || [ "$res" = ERROR ] && [ "$2$3" = 00 ] && fail=$((fail + 1))
    else
      p=$(grep -c '^:test-result: PASS' "$trs" || true)
      f=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' "$trs" || true)
      pass=$((pass + p)); fail=$((fail + f))
    fi
  done
done
printf '%s\n' "${summary[@]}"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
