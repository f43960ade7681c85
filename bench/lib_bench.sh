# shellcheck shell=bash
# the variables are for the scripts that source this file
# shellcheck disable=SC2034
# lib_bench.sh - what bench/http_bench.sh and bench/kmsd_profile.sh share:
# the loopback helpers of the integration tests, the programs under
# measurement, the demo store and the shipped lighttpd configuration
# pointed at a temporary directory. Sourced with the script's BUILD_DIR
# argument (default ./build/plain): sets BUILD and SRC, both absolute; the
# script defines die (its own prefix) before it calls the functions.

BUILD=${1:-./build/plain}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory ${1:-./build/plain}" >&2; exit 2; }
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# the loopback helpers of the integration tests (ms_free_port, ms_wait_port)
# shellcheck source=SCRIPTDIR/../tests/lib_servers.sh
top_srcdir=$SRC top_builddir=$BUILD . "$SRC/tests/lib_servers.sh"

KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
NULLR=$BUILD/bench/null_responder
GEN=$BUILD/bench/gen_requests
LUA=$SRC/bench/post_lines.lua

# bench_store DIR LOG: a new store DIR/kms.db (master key DIR/master.key)
# with the subscribers alice and bob, their random PSKs in DIR/WHO.psk
# (mode 0600, given to kmsctl on stdin, never on a command line).
bench_store() {
    local dir=$1 log=$2 who
    mkdir -p "$dir"
    "$KMSCTL" --store "$dir/kms.db" --master-key "$dir/master.key" init \
        >"$log" 2>&1 || { cat "$log"; die "kmsctl init failed"; }
    for who in alice bob; do
        (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/$who.psk")
        "$KMSCTL" --store "$dir/kms.db" --master-key "$dir/master.key" \
            subscriber add --psk-id "$who" --psk - --impu "sip:$who@example.org" \
            <"$dir/$who.psk" >>"$log" 2>&1 ||
            { cat "$log"; die "kmsctl subscriber add $who failed"; }
    done
}

# bench_lighttpd_conf PORT SOCKET STATE_DIR OUT: the shipped
# lighttpd/lighttpd.conf on 127.0.0.1:PORT in front of the FastCGI SOCKET
# that spawn-fcgi opened (so without its own kmsd start).
bench_lighttpd_conf() {
    sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
        -e "s|^var.kms_port .*|var.kms_port   = $1|" \
        -e "s|^var.kms_socket .*|var.kms_socket = \"$2\"|" \
        -e "s|^var.kms_state .*|var.kms_state  = \"$3\"|" \
        -e "s|^var.kms_errors .*|var.kms_errors = \"$SRC/lighttpd/mikeykms-errors.lua\"|" \
        -e '/# spawn-fcgi: delete this line$/d' \
        "$SRC/lighttpd/lighttpd.conf" >"$4"
}

# bench_wrk_wait DONEFILE PID: wrk runs bench/post_lines.lua with a count
# and a -d far longer than needed; its first thread writes DONEFILE when it
# has its answers. Wait for that (or for wrk to end, 10 min at most), then
# stop wrk with SIGINT rather than waiting for its -d.
bench_wrk_wait() {
    local i
    for ((i = 0; i < 6000; i++)); do
        [ -e "$1" ] && break
        ms_running "$2" || break
        sleep 0.1
    done
    kill -INT "$2" 2>/dev/null
    wait "$2" 2>/dev/null
}
