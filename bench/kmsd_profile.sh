#!/usr/bin/env bash
# kmsd_profile.sh - where one kmsd process spends per request (not a test):
# user-space instructions per request by function (valgrind callgrind) and
# system calls per request (strace -c), for Ticket Request and Ticket
# Resolve, next to the null responder. Counts, not times: they do not
# depend on the other load of the machine, so they show what a change to
# kmsd, the store or the crypto module gained. See doc/benchmarks.md.
#
#   bench/kmsd_profile.sh [BUILD_DIR]       (default ./build/plain)
#
# Same setup as http_bench.sh: a temporary store made with kmsctl (alice,
# bob, one ticket key), lighttpd on a free 127.0.0.1 port, spawn-fcgi -F 1,
# requests made by gen_requests, sent by wrk over ONE connection (each
# request once, exactly PROFILE_N of them).
#
# Environment: PROFILE_N=1000 requests per measurement, PROFILE_TOP=40
# functions shown, PROFILE_KEEP=1 keeps the directory (callgrind.*.out can
# be opened with callgrind_annotate or kcachegrind).
set -u

BUILD=${1:-./build/plain}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory ${1:-./build/plain}" >&2; exit 2; }
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the loopback helpers of the integration tests (ms_free_port, ms_wait_port)
# shellcheck source=../tests/lib_servers.sh
top_srcdir=$SRC top_builddir=$BUILD . "$SRC/tests/lib_servers.sh"
N=${PROFILE_N:-1000}
TOP=${PROFILE_TOP:-40}
KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
NULLR=$BUILD/bench/null_responder
GEN=$BUILD/bench/gen_requests
LUA=$SRC/bench/post_lines.lua

die() { echo "kmsd_profile: $*" >&2; exit 1; }
for c in wrk lighttpd spawn-fcgi valgrind callgrind_annotate strace; do
    command -v "$c" >/dev/null 2>&1 || die "$c is not installed"
done
# spawn-fcgi runs its program with execv: absolute paths
VALGRIND=$(command -v valgrind)
STRACE=$(command -v strace)
for p in "$KMSD" "$KMSCTL" "$NULLR" "$GEN"; do
    [ -x "$p" ] || die "$p not built (make && make bench in $BUILD)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-profile.XXXXXX") || exit 1
chmod 755 "$T"
PIDS=()

stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do ms_stop "$pid"; done
    PIDS=()
}

cleanup() {
    local rc=$?
    trap - EXIT
    stop_all
    wait 2>/dev/null
    if [ -z "${PROFILE_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP



# ---------------------------------------------------------------- store

mkdir -p "$T/store" "$T/lighttpd/htdocs"
"$KMSCTL" --store "$T/store/kms.db" --master-key "$T/store/master.key" init \
    >"$T/kmsctl.log" 2>&1 || { cat "$T/kmsctl.log"; die "kmsctl init failed"; }
for who in alice bob; do
    (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$T/store/$who.psk")
    "$KMSCTL" --store "$T/store/kms.db" --master-key "$T/store/master.key" \
        subscriber add --psk-id "$who" --psk - --impu "sip:$who@example.org" \
        <"$T/store/$who.psk" >>"$T/kmsctl.log" 2>&1 || die "kmsctl subscriber add $who failed"
done
printf 'store = kms.db\nmaster_key = master.key\n' >"$T/store/kms.conf"
CONF=$T/store/kms.conf

gen() { # RT FILE COUNT
    if [ "$1" = ticketrequest ]; then
        "$GEN" --config "$CONF" --initiator-psk-file "$T/store/alice.psk" \
            --responder-psk-file "$T/store/bob.psk" --requests "$3" --request-out "$2"
    else
        "$GEN" --config "$CONF" --initiator-psk-file "$T/store/alice.psk" \
            --responder-psk-file "$T/store/bob.psk" --resolves "$3" --resolve-out "$2"
    fi >>"$T/gen.log" 2>&1 || { tail "$T/gen.log"; die "gen_requests failed"; }
}

# ---------------------------------------------------------------- one run

# measure TAG RT EXPECT TOOL BINARY ARGS...: one process (spawn-fcgi -F 1),
# exactly N requests over one connection. TOOL callgrind: the process runs
# under valgrind, output $T/callgrind.TAG.out; TOOL strace: strace -c is
# attached to it for the requests only, output $T/strace.TAG.txt.
measure() {
    local tag=$1 rt=$2 expect=$3 tool=$4
    shift 4
    local wrap=()
    [ "$tool" = callgrind ] && wrap=("$VALGRIND" --tool=callgrind "--callgrind-out-file=$T/callgrind.$tag.out")
    rm -f "$T/fcgi.sock" "$T/fcgi.pids" "$T/done".*
    spawn-fcgi -s "$T/fcgi.sock" -M 0600 -F 1 -P "$T/fcgi.pids" -- "${wrap[@]}" "$@" \
        </dev/null >"$T/$tag.spawn.log" 2>&1 || die "spawn-fcgi failed ($tag)"
    local pid
    pid=$(head -n 1 "$T/fcgi.pids")
    PIDS+=("$pid")
    local port lpid
    for _ in 1 2 3 4 5; do
        port=$(ms_free_port) || die "no free port"
        sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
            -e "s|^var.kms_port .*|var.kms_port   = $port|" \
            -e "s|^var.kms_socket .*|var.kms_socket = \"$T/fcgi.sock\"|" \
            -e "s|^var.kms_state .*|var.kms_state  = \"$T/lighttpd\"|" \
            -e "s|^var.kms_errors .*|var.kms_errors = \"$SRC/lighttpd/mikeykms-errors.lua\"|" \
            -e '/# spawn-fcgi: delete this line$/d' \
            "$SRC/lighttpd/lighttpd.conf" >"$T/lighttpd/lighttpd.conf"
        lighttpd -D -f "$T/lighttpd/lighttpd.conf" </dev/null >>"$T/lighttpd/stderr.log" 2>&1 &
        lpid=$!
        PIDS+=("$lpid")
        ms_wait_port "$port" && ms_running "$lpid" && break
        ms_stop "$lpid"
    done
    local lines=$T/$tag.b64
    gen "$rt" "$lines" "$N"
    # the process under valgrind needs a while before it accepts
    [ "$tool" = callgrind ] && sleep 2
    local spid=
    if [ "$tool" = strace ]; then
        "$STRACE" -c -f -p "$pid" -o "$T/strace.$tag.txt" 2>/dev/null &
        spid=$!
        sleep 0.5
    fi
    wrk -t 1 -c 1 -d 600s --timeout 30s -s "$LUA" "http://127.0.0.1:$port" -- \
        file="$lines" threads=1 rt="$rt" mode=once expect="$expect" count="$N" \
        donefile="$T/done" >"$T/$tag.wrk" 2>&1 &
    local wpid=$! i
    for ((i = 0; i < 6000; i++)); do
        [ -e "$T/done.0" ] && break
        ms_running "$wpid" || break
        sleep 0.1
    done
    kill -INT "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    if [ -n "$spid" ]; then
        kill -INT "$spid" 2>/dev/null # detaches and writes the summary
        wait "$spid" 2>/dev/null
    fi
    grep -q "^post_lines: answers=$N ok=$N " "$T/$tag.wrk" ||
        { cat "$T/$tag.wrk"; die "$tag: not $N good answers"; }
    stop_all
    wait 2>/dev/null
}

# callgrind_top FILE: the functions by inclusive instructions per request
# (start-up is in the total but not under kmsd_worker_run).
callgrind_top() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        sed -n '/PROGRAM TOTALS/,$p' | grep -E '^ *[0-9,]+ ' | sed 's/,//g' |
        awk -v n="$N" -v top="$TOP" -v src="$SRC/" '
            {
                ir = $1; name = $0
                sub(/^ *[0-9]+ (\([ 0-9.%]*\))? */, "", name)
                sub(/ \[.*\]$/, "", name)
                # one name per function, whatever the build and source
                # directories: ".../build/plain/../../src/x.c" -> "src/x.c"
                sub(/^.*\.\.\/\.\.\//, "", name); sub(/^\.\//, "", name)
                if (index(name, src) == 1) name = substr(name, length(src) + 1)
                if (name ~ /PROGRAM TOTALS/ || seen[name]++) next
                if (shown < top) { printf "  %9.1fk  %s\n", ir / n / 1000, name; shown++ }
            }'
}

# strace_per_request FILE: system calls per request by name
strace_per_request() {
    awk -v n="$N" '
        /^-+/ { sep++; next }
        sep == 1 && NF >= 5 && $4 / n >= 0.005 { printf "  %6.2f  %s\n", $4 / n, $NF }
        sep == 2 && NF >= 5 { total = $4 / n }
        END { printf "  %6.2f  total\n", total }' "$1" | sort -k1,1nr
}

echo "# kmsd_profile $(date -u +%Y-%m-%dT%H:%M:%SZ), $N requests per measurement, one connection, build $BUILD"
for rt in ticketrequest ticketresolve; do
    exp=13
    [ $rt = ticketresolve ] && exp=18
    measure $rt $rt $exp callgrind "$KMSD" --config "$CONF"
    measure $rt $rt $exp strace "$KMSD" --config "$CONF"
done
measure null ticketrequest any callgrind "$NULLR"
measure null ticketrequest any strace "$NULLR"

for rt in ticketrequest ticketresolve null; do
    echo
    echo "== $rt: user-space instructions per request, inclusive (callgrind Ir / $N)"
    callgrind_top "$T/callgrind.$rt.out"
    [ $rt = null ] && echo "  (the null responder has no worker function: main includes its start-up)"
    echo "== $rt: system calls per request (strace -c / $N)"
    strace_per_request "$T/strace.$rt.txt"
done
