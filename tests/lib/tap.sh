# tap.sh - the TAP output of every shell test (sourced; tests/lib_servers.sh
# builds its checks on it): one "ok N - ..." / "not ok N - ..." line per
# check and the plan "1..N" at the end, which automake's tap-driver.sh
# (SH_LOG_DRIVER, Makefile.am) counts one by one. A test that cannot run
# says "1..0 # SKIP reason".
# shellcheck shell=bash

TAP_N=0
TAP_FAILS=0

tap_ok() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $*"
}

tap_not_ok() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILS=$((TAP_FAILS + 1))
    echo "not ok $TAP_N - $*"
}

# tap_check NAME COMMAND...: one check that passes when COMMAND succeeds;
# returns its status.
tap_check() {
    local name=$1
    shift
    if "$@"; then tap_ok "$name"; else
        tap_not_ok "$name"
        return 1
    fi
}

# tap_skip NAME REASON: a check that cannot be made here (counted as
# skipped, not passed).
tap_skip() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1 # SKIP $2"
}

# tap_unless STATUS MESSAGE: the check of the caller's line just made
# (STATUS 0: passed, named by the line; else failed, with MESSAGE), for
# tests written as `COMMAND || fail MESSAGE`.
tap_unless() {
    if [ "$1" = 0 ]; then
        tap_ok "$(basename "$0"):${BASH_LINENO[0]}"
    else
        tap_not_ok "$2"
    fi
}

# tap_run DIR NAME WANT_STATUS COMMAND...: run COMMAND with its stdout in
# DIR/out and its stderr in DIR/err; one check: it exits with WANT_STATUS.
tap_run() {
    local dir=$1 name=$2 want=$3
    shift 3
    "$@" >"$dir/out" 2>"$dir/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then tap_ok "$name: exit status $want"; else
        tap_not_ok "$name: exit status $got, want $want ($(cat "$dir/err"))"
    fi
}

# tap_skip_all REASON: nothing checked yet: the whole test is skipped;
# else the checks so far count and the rest is left out, said so.
tap_skip_all() {
    if [ "$TAP_N" = 0 ]; then
        echo "1..0 # SKIP $*"
        exit 0
    fi
    echo "# SKIP the rest: $*"
    tap_done
}

# The plan; exit 0 when every check passed, 1 otherwise.
tap_done() {
    echo "1..$TAP_N"
    echo "# $TAP_FAILS of $TAP_N failed"
    [ "$TAP_FAILS" -eq 0 ]
    exit $?
}
