#!/usr/bin/env bash
# http_bench.sh - HTTP benchmark of kmsd (not a test): Ticket Request and
# Ticket Resolve requests per second, and their latency (p50, p99), in
# every process model an operator runs: lighttpd + spawn-fcgi (P
# single-threaded processes, and one process with 2P threads), Apache
# mod_fcgid (P processes), nginx and Apache mod_proxy_fcgi (one threaded
# kmsd), each next to a null FastCGI responder behind the same server with
# the same process count in the same run; and the resident memory of one
# kmsd process after 100 000 requests. See doc/benchmarks.md.
#
#   bench/http_bench.sh [BUILD_DIR]        (default ./build/plain)
#
# Builds nothing: BUILD_DIR must hold src/fcgi/kmsd, tools/kmsctl,
# bench/null_responder and bench/gen_requests (make bench in BUILD_DIR).
#
# For each web server S (BENCH_SERVERS) and process count P (BENCH_PROCS,
# default "1 2 4"), one server on a free 127.0.0.1 port with its shipped
# configuration for the mount and a copy of it for a second mount /nullkms:
#   lighttpd      lighttpd/lighttpd.conf (port and paths changed, the
#                 lines that let lighttpd start kmsd deleted);
#                 spawn-fcgi -F P kmsd on unix sockets and spawn-fcgi -F P
#                 null_responder, i.e. P processes each, as an operator runs
#                 kmsd under spawn-fcgi;
#   lighttpd-threads  the same with ONE kmsd process with --threads 2P
#                 (spawn-fcgi -F 1), the null responder at P processes;
#   apache-fcgid  Apache (mpm_event) with apache/mikeykms-fcgid.conf as the
#                 operator includes it, FcgidMaxProcessesPerClass P, and the
#                 null responder as a second mod_fcgid class on /nullkms:
#                 P processes each, one request at a time each;
#   nginx         nginx/mikeykms.conf in a server block, one worker
#                 process; ONE `kmsd --listen 127.0.0.1:PORT --threads P`
#                 (as the systemd unit runs it) and spawn-fcgi -F P
#                 null_responder on another TCP port;
#   apache-proxy  Apache (mpm_event, its defaults) with
#                 apache/mikeykms-proxy-fcgi.conf; kmsd and the null
#                 responder as for nginx.
# Per service the null responder and kmsd take turns (BENCH_ROUNDS times
# each, wrk -d
# BENCH_SECONDS): the null responder gets the bodies round robin, kmsd
# distinct fresh requests, each sent at most once, made by gen_requests
# right before its run (enough for 1.3 x an estimate of kmsd's rate, so
# that the list outlasts -d; a run that used up its list says so). Every
# non-200 answer, and every 200 that is not REQUEST_RESP / RESOLVE_RESP (a
# MIKEY Error), is counted as bad and shown; the count of real answers
# (REQUEST_RESP / RESOLVE_RESP) is printed. wrk --latency gives the p50 and
# p99 latency of every run (the mean over the rounds is printed). Also
# printed: CPU time per answer of the responders, the web server and wrk.
#
# Then the memory (behind lighttpd): one kmsd process (spawn-fcgi -F 1), wrk with one
# connection, 4 rounds of 12 500 Ticket Requests + 12 500 Ticket Resolves:
# rounds 1 and 3 fresh requests, rounds 2 and 4 the same again (replays,
# answered with MIKEY Error), so both halves run the same mix; VmRSS (and
# RssAnon, the heap: what a leak grows) of the process from /proc after
# 50 000 and after 100 000 requests.
#
# Environment:
#   BENCH_SECONDS=5      wrk -d per measurement
#   BENCH_ROUNDS=3       null, kmsd, null, kmsd, ... per service and P; the
#                        rates are requests / seconds over all rounds
#   BENCH_SERVERS="lighttpd lighttpd-threads apache-fcgid nginx apache-proxy"
#                        process models, in this order (a server that is not
#                        installed is left out, said so)
#   BENCH_PROCS="1 2 4"  process counts ("none": memory part only)
#   BENCH_CONNS=16       wrk -c (concurrent HTTP connections)
#   BENCH_WRK_THREADS=1  wrk -t
#   BENCH_RSS_REQUESTS=100000 (a multiple of 4; 0 skips the memory part)
#   BENCH_NULL_ONLY=1    harness self test: the null responder also stands
#                        in for kmsd, random lines instead of gen_requests
#   BENCH_NICE=-10       run everything (servers, wrk, generator) at this
#                        niceness (needs root for < 0): on a shared machine
#                        other work then disturbs the runs less
#   BENCH_KEEP=1         keep the temporary directory
#
# Only 127.0.0.1 is used; every process started here is stopped on exit.
set -u

BUILD=${1:-./build/plain}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory ${1:-./build/plain}" >&2; exit 2; }
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the loopback helpers of the integration tests (ms_free_port, ms_wait_port)
# shellcheck source=../tests/lib_servers.sh
top_srcdir=$SRC top_builddir=$BUILD . "$SRC/tests/lib_servers.sh"
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
PROCS=${BENCH_PROCS:-1 2 4}
[ "$PROCS" = none ] && PROCS=""
CONNS=${BENCH_CONNS:-16}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
RSS_N=${BENCH_RSS_REQUESTS:-100000}
NULL_ONLY=${BENCH_NULL_ONLY:-0}
ROUNDS=${BENCH_ROUNDS:-3}
SERVERS=${BENCH_SERVERS:-lighttpd lighttpd-threads apache-fcgid nginx apache-proxy}

KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
NULLR=$BUILD/bench/null_responder
GEN=$BUILD/bench/gen_requests
LUA=$SRC/bench/post_lines.lua

die() { echo "http_bench: $*" >&2; exit 1; }

for c in wrk lighttpd spawn-fcgi; do
    command -v "$c" >/dev/null 2>&1 || die "$c is not installed"
done
HAVE_SERVERS=""
for S in $SERVERS; do
    case $S in
    lighttpd|lighttpd-threads) HAVE_SERVERS+=" $S" ;;
    apache-fcgid)
        if command -v apache2 >/dev/null 2>&1 && [ -f /usr/lib/apache2/modules/mod_fcgid.so ]; then
            HAVE_SERVERS+=" $S"
        else echo "# apache2 / mod_fcgid is not installed: no apache-fcgid rows"; fi ;;
    nginx) if command -v nginx >/dev/null 2>&1; then HAVE_SERVERS+=" $S"; else echo "# nginx is not installed: no nginx rows"; fi ;;
    apache-proxy)
        if command -v apache2 >/dev/null 2>&1 && [ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ]; then
            HAVE_SERVERS+=" $S"
        else echo "# apache2 / mod_proxy_fcgi is not installed: no apache-proxy rows"; fi ;;
    *) die "BENCH_SERVERS: unknown server '$S' (lighttpd, lighttpd-threads, apache-fcgid, nginx, apache-proxy)" ;;
    esac
done
[ -x "$NULLR" ] || die "$NULLR not built (make bench in $BUILD)"
if [ "$NULL_ONLY" = 1 ]; then
    KMSD_BIN=$NULLR
else
    for p in "$KMSD" "$KMSCTL" "$GEN"; do
        [ -x "$p" ] || die "$p not built (make && make bench in $BUILD)"
    done
    KMSD_BIN=$KMSD
fi
[ $((RSS_N % 4)) -eq 0 ] || die "BENCH_RSS_REQUESTS must be a multiple of 4"

if [ -n "${BENCH_NICE:-}" ]; then
    renice -n "$BENCH_NICE" -p $$ >/dev/null || die "renice $BENCH_NICE failed"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-bench.XXXXXX") || exit 1
chmod 755 "$T"
PIDFILES=()
BG_PIDS=()

stop_all() {
    local f pid
    # ours and those the integration tests' server starters tracked
    for pid in "${BG_PIDS[@]}" "${MS_PIDS[@]}"; do ms_stop "$pid"; done
    BG_PIDS=()
    MS_PIDS=()
    for f in "${PIDFILES[@]}"; do
        [ -f "$f" ] || continue
        while read -r pid || [ -n "$pid" ]; do
            [ -n "$pid" ] && ms_stop "$pid"
        done <"$f"
        rm -f "$f"
    done
    PIDFILES=()
    wait 2>/dev/null
}

cleanup() {
    local rc=$?
    trap - EXIT
    stop_all
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP



wait_socket() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- store

if [ "$NULL_ONLY" != 1 ]; then
    mkdir -p "$T/store"
    "$KMSCTL" --store "$T/store/kms.db" --master-key "$T/store/master.key" init \
        >"$T/kmsctl.log" 2>&1 || { cat "$T/kmsctl.log"; die "kmsctl init failed"; }
    for who in alice bob; do
        (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$T/store/$who.psk")
        "$KMSCTL" --store "$T/store/kms.db" --master-key "$T/store/master.key" \
            subscriber add --psk-id "$who" --psk - --impu "sip:$who@example.org" \
            <"$T/store/$who.psk" >>"$T/kmsctl.log" 2>&1 ||
            { cat "$T/kmsctl.log"; die "kmsctl subscriber add $who failed"; }
    done
    cat >"$T/store/kms.conf" <<EOF
# written by bench/http_bench.sh: the defaults of doc/kms.conf.sample
store = kms.db
master_key = master.key
# The generated tickets carry J = 0, so every resolve holds an entry of the
# node's small tables until the ticket's end of validity (kv_max); a full
# run resolves far more than the default 100000 (which then answers 503).
kv_max = 4000000
EOF
fi
CONF=$T/store/kms.conf
KMSD_ARGS=()
[ "$NULL_ONLY" = 1 ] || KMSD_ARGS=(--config "$CONF")

# gen LINES_REQ LINES_RES OUT_REQ OUT_RES: fresh distinct requests.
gen() {
    if [ "$NULL_ONLY" = 1 ]; then
        # any base64 of request size will do for the null responder
        head -c $(($1 * 300)) /dev/urandom | base64 -w 400 >"$3"
        head -c $(($2 * 450)) /dev/urandom | base64 -w 600 >"$4"
        return 0
    fi
    "$GEN" --config "$CONF" \
        --initiator-psk-file "$T/store/alice.psk" --responder-psk-file "$T/store/bob.psk" \
        --requests "$1" --request-out "$3" --resolves "$2" --resolve-out "$4" \
        >>"$T/gen.log" 2>&1 || { tail -n 20 "$T/gen.log"; die "gen_requests failed"; }
}

# ---------------------------------------------------------------- servers

# start_spawn NAME P BINARY [ARGS...]: spawn-fcgi -F P on $T/NAME.sock, or
# with SPAWN_TCP=1 on a free 127.0.0.1 port (sets TCP_PORT).
start_spawn() {
    local name=$1 procs=$2 n where
    shift 2
    rm -f "$T/$name.sock" "$T/$name.pids"
    if [ "${SPAWN_TCP:-0}" = 1 ]; then
        TCP_PORT=$(ms_free_port) || die "no free port"
        where=(-a 127.0.0.1 -p "$TCP_PORT")
    else
        where=(-s "$T/$name.sock" -M 0600)
    fi
    spawn-fcgi "${where[@]}" -F "$procs" -P "$T/$name.pids" -- "$@" \
        </dev/null >"$T/$name.spawn.log" 2>&1 || { cat "$T/$name.spawn.log"; die "spawn-fcgi $name failed"; }
    PIDFILES+=("$T/$name.pids")
    if [ "${SPAWN_TCP:-0}" = 1 ]; then
        ms_wait_port "$TCP_PORT" || die "nothing on 127.0.0.1:$TCP_PORT ($name)"
    else
        wait_socket "$T/$name.sock" || die "no socket $T/$name.sock"
    fi
    n=$(grep -c . "$T/$name.pids")
    [ "$n" -eq "$procs" ] || die "spawn-fcgi $name: $n processes, wanted $procs"
}

# start_kmsd_listen P: one `kmsd --listen 127.0.0.1:PORT --threads P`, as
# the systemd unit runs it; sets KMSD_PORT, writes $T/kmsd.pids.
start_kmsd_listen() {
    KMSD_PORT=$(ms_free_port) || die "no free port"
    # its log to /dev/null, as spawn-fcgi does with the lighttpd rows' kmsd
    "$KMSD" "${KMSD_ARGS[@]}" --listen "127.0.0.1:$KMSD_PORT" --threads "$1" \
        </dev/null >/dev/null 2>&1 &
    BG_PIDS+=("$!")
    echo "$!" >"$T/kmsd.pids"
    ms_wait_port "$KMSD_PORT" || die "kmsd --listen did not start (try it by hand: $KMSD ${KMSD_ARGS[*]} --listen 127.0.0.1:$KMSD_PORT)"
}

# front_pids: the web server's processes now (parent and children).
front_pids() {
    echo "$FRONT_PID"
    pgrep -P "$FRONT_PID" 2>/dev/null
}

# start_nginx KMSD_TARGET NULL_TARGET: the integration tests' nginx with
# a copy of the snippet on /nullkms; sets PORT and FRONT_PID.
start_nginx() {
    MS_TMP=$T
    sed -e "s|^location /keymanagement |location /nullkms |" -e "s|^location /kms-status/ |location /nullkms-status/ |" -e "s|@mikeykms_|@null_|g" \
        -e "s|^\( *fastcgi_pass \).*|\1$2;|" "$SRC/nginx/mikeykms.conf" >"$T/null-nginx.conf"
    ms_start_nginx "$1" "include $T/null-nginx.conf;" || die "nginx did not start"
    PORT=$MS_PORT FRONT_PID=$MS_NGINX_PID
}

# start_apache_proxy KMSD_TARGET NULL_TARGET: the integration tests'
# Apache with a copy of the drop-in on /nullkms; sets PORT and FRONT_PID.
start_apache_proxy() {
    MS_TMP=$T
    sed -e "s|/keymanagement|/nullkms|" -e "s|\${MIKEYKMS_BACKEND}|fcgi://$2|" \
        "$SRC/apache/mikeykms-proxy-fcgi.conf" >"$T/null-apache.conf"
    ms_start_apache_proxy "$1" "Include \"$T/null-apache.conf\"" || die "apache did not start"
    PORT=$MS_PORT FRONT_PID=$MS_APACHE_PID
}

# start_apache_fcgid P: the integration tests' Apache with the mod_fcgid
# drop-in (kmsd spawned by mod_fcgid, at most P processes) and the null
# responder as a second class on /nullkms; sets PORT and FRONT_PID. As root
# Apache runs its children as nobody: they get copies of the binaries and
# the store (made theirs). kmsd.pids and null.pids are filled once the
# warm-up has spawned them (fcgid_pids).
start_apache_fcgid() {
    local p=$1
    MS_TMP=$T
    mkdir -p "$T/bin"
    cp "$KMSD_BIN" "$T/bin/kmsd"
    cp "$NULLR" "$T/bin/null_responder"
    [ "$(id -u)" -ne 0 ] || chown -R nobody:nogroup "$T/store"
    ms_start_apache "$T/bin/kmsd" "$CONF" "FcgidMaxProcessesPerClass $p
<Location /nullkms>
    SetHandler fcgid-script
    Options +ExecCGI
    FcgidWrapper \"$T/bin/null_responder\" virtual
    Require all granted
</Location>" || die "apache (mod_fcgid) did not start"
    PORT=$MS_PORT FRONT_PID=$MS_APACHE_PID
    : >"$T/kmsd.pids"
    : >"$T/null.pids"
}

# fcgid_pids: the processes mod_fcgid has spawned for each class by now
fcgid_pids() {
    pgrep -f "^$T/bin/kmsd " >"$T/kmsd.pids" || true
    pgrep -f "^$T/bin/null_responder" >"$T/null.pids" || true
}

# start_lighttpd: the shipped configuration with /keymanagement -> kmsd.sock
# and /nullkms -> null.sock; sets PORT.
start_lighttpd() {
    local dir=$T/lighttpd
    mkdir -p "$dir/htdocs"
    for _ in 1 2 3 4 5; do
        PORT=$(ms_free_port) || die "no free port"
        sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
            -e "s|^var.kms_port .*|var.kms_port   = $PORT|" \
            -e "s|^var.kms_socket .*|var.kms_socket = \"$T/kmsd.sock\"|" \
            -e "s|^var.kms_state .*|var.kms_state  = \"$dir\"|" \
            -e "s|^var.kms_errors .*|var.kms_errors = \"$SRC/lighttpd/mikeykms-errors.lua\"|" \
            -e '/# spawn-fcgi: delete this line$/d' \
            "$SRC/lighttpd/lighttpd.conf" >"$dir/lighttpd.conf"
        cat >>"$dir/lighttpd.conf" <<EOF

# added by bench/http_bench.sh: the null responder, same front end
fastcgi.server += (
    "/nullkms" => (
        "null" => (
            "socket"      => "$T/null.sock",
            "check-local" => "disable",
        ),
    ),
)
EOF
        lighttpd -tt -f "$dir/lighttpd.conf" >"$dir/check.log" 2>&1 ||
            { cat "$dir/check.log"; die "lighttpd configuration"; }
        lighttpd -D -f "$dir/lighttpd.conf" </dev/null >>"$dir/stderr.log" 2>&1 &
        local pid=$!
        BG_PIDS+=("$pid")
        FRONT_PID=$pid
        if ms_wait_port "$PORT" && ms_running "$pid"; then
            return 0
        fi
        ms_stop "$pid"
    done
    die "lighttpd did not start"
}

# ---------------------------------------------------------------- wrk

# run_wrk OUT DURATION CONNS PATH RT FILE MODE EXPECT [extra key=value...]
# (wrk's own user + system CPU seconds go to OUT.time)
run_wrk() {
    local out=$1 d=$2 c=$3 path=$4 rt=$5 file=$6 mode=$7 expect=$8
    shift 8
    /usr/bin/time -f "%U %S" -o "$out.time" wrk -t "$WRK_THREADS" -c "$c" -d "$d" --timeout 10s --latency -s "$LUA" \
        "http://127.0.0.1:$PORT" -- file="$file" threads="$WRK_THREADS" \
        path="$path" rt="$rt" mode="$mode" expect="$expect" "$@" >"$out" 2>&1
}

# wrk_field OUT: "RATE ANSWERS BAD EXHAUSTED SOCKERR"
wrk_field() {
    local rate answers bad ex sockerr
    rate=$(awk '/^Requests\/sec:/ {print $2}' "$1")
    answers=$(sed -n 's/^post_lines: answers=\([0-9]*\).*/\1/p' "$1")
    bad=$(sed -n 's/^post_lines: .* bad=\([0-9]*\).*/\1/p' "$1")
    ex=$(sed -n 's/^post_lines: .* exhausted=\([a-z]*\).*/\1/p' "$1")
    sockerr=$(sed -n 's/^ *Socket errors: \(.*\)/\1/p' "$1")
    echo "${rate:-0} ${answers:-0} ${bad:-?} ${ex:-?} ${sockerr:+sockerr}"
}

# wrk_latency OUT: "P50 P99" in milliseconds, from wrk --latency
wrk_latency() {
    awk '/^ *(50|99)% / {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        ms = (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : (u == "m" ? v * 60000 : v)))
        if ($1 == "50%") p50 = ms; else p99 = ms
    } END { printf "%s %s\n", p50 + 0, p99 + 0 }' "$1"
}

# ticks PID...: user + system CPU of the processes so far, in clock ticks
ticks() {
    local p t s=0
    for p in "$@"; do
        # fields after "pid (comm) ": state ppid ... utime is the 12th, stime the 13th
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
        s=$((s + ${t:-0}))
    done
    echo "$s"
}
HZ=$(getconf CLK_TCK)

# wrk_counts OUT: "REQUESTS SECONDS" of wrk's "N requests in 5.00s" line
wrk_counts() {
    sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)\([a-z]*\),.*/\1 \2 \3/p' "$1" |
        awk '{s = $2; if ($3 == "m") s *= 60; else if ($3 == "ms") s /= 1000; print $1, s}'
}

bad_detail() { # OUT: "status=503 n=4; ..."
    sed -n 's/^post_lines: bad \(.*\)/\1/p' "$1" | paste -sd';' -
}

# ---------------------------------------------------------------- throughput

echo "# mikeykms HTTP benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine skew single rounds); niceness $(ps -o ni= -p $$ | tr -d ' ')"
echo "# lighttpd $(lighttpd -v 2>&1 | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p'): spawn-fcgi -F P (lighttpd-threads: kmsd spawn-fcgi -F 1 --threads 2P; null -F P), wrk -t $WRK_THREADS -c $CONNS -d ${SECONDS_PER_RUN}s, build $BUILD"
case $HAVE_SERVERS in *apache-fcgid*)
    echo "# apache-fcgid: Apache $(apache2 -v 2>/dev/null | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p') mpm_event + mod_fcgid, apache/mikeykms-fcgid.conf, FcgidMaxProcessesPerClass P for kmsd and the null responder" ;; esac
case $HAVE_SERVERS in *nginx*)
    echo "# nginx $(nginx -v 2>&1 | sed -n 's/^nginx version: nginx\///p'), 1 worker process; kmsd --listen --threads P (one process); null: spawn-fcgi -F P on TCP" ;; esac
case $HAVE_SERVERS in *apache-proxy*)
    echo "# apache-proxy: Apache $(apache2 -v 2>/dev/null | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p') mpm_event (defaults) + mod_proxy_fcgi; kmsd --listen --threads P (one process); null: spawn-fcgi -F P on TCP" ;; esac
[ "$NULL_ONLY" = 1 ] && echo "# SELF TEST: the null responder stands in for kmsd"

mkdir -p "$T/lines" "$T/wrk"
SAMPLE_REQ=$T/lines/sample_req.b64
SAMPLE_RES=$T/lines/sample_res.b64
gen 2000 2000 "$SAMPLE_REQ" "$SAMPLE_RES"

echo "# req/s: requests / seconds over $ROUNDS rounds of each (null, kmsd, null, kmsd, ...); ratio = kmsd / null"
echo "# CPU us/req: user+system CPU per answered request of the responder processes, the web server and wrk (kmsd run / null run)"
echo "# p50/p99: latency in ms at $CONNS connections (wrk --latency), mean over the rounds; real: kmsd answers that were REQUEST_RESP / RESOLVE_RESP"
printf '\n%-16s %-14s %2s %10s %10s %6s  %-11s %-11s %8s  %-13s %-13s %-13s  %s\n' server service P "kmsd req/s" "null req/s" ratio \
    "kmsd p50/99" "null p50/99" real "resp us/req" "server" "wrk" "ratio per round; notes"
printf '%-16s %-14s %2s %10s %10s %6s  %-11s %-11s %8s  %-13s %-13s %-13s  %s\n' ---------------- -------------- -- ---------- ---------- ------ \
    ----------- ----------- -------- ------------- ------------- ------------- ----------------------
declare -A BEST_K
for S in $HAVE_SERVERS; do
BEST_K=()
for P in $PROCS; do
    case $S in
    lighttpd)
        start_spawn kmsd "$P" "$KMSD_BIN" "${KMSD_ARGS[@]}"
        start_spawn null "$P" "$NULLR"
        start_lighttpd
        ;;
    lighttpd-threads)
        if [ "$NULL_ONLY" = 1 ]; then
            start_spawn kmsd "$P" "$KMSD_BIN"
        else
            start_spawn kmsd 1 "$KMSD_BIN" "${KMSD_ARGS[@]}" --threads $((2 * P))
        fi
        start_spawn null "$P" "$NULLR"
        start_lighttpd
        ;;
    apache-fcgid)
        start_apache_fcgid "$P"
        ;;
    *)
        if [ "$NULL_ONLY" = 1 ]; then
            SPAWN_TCP=1 start_spawn kmsd "$P" "$KMSD_BIN"
            KMSD_PORT=$TCP_PORT
        else
            start_kmsd_listen "$P"
        fi
        SPAWN_TCP=1 start_spawn null "$P" "$NULLR"
        if [ "$S" = nginx ]; then
            start_nginx "127.0.0.1:$KMSD_PORT" "127.0.0.1:$TCP_PORT"
        else
            start_apache_proxy "127.0.0.1:$KMSD_PORT" "127.0.0.1:$TCP_PORT"
        fi
        ;;
    esac
    for rt in ticketrequest ticketresolve; do
        if [ $rt = ticketrequest ]; then
            sample=$SAMPLE_REQ expect=13
        else
            sample=$SAMPLE_RES expect=18
        fi
        [ "$NULL_ONLY" = 1 ] && expect=any
        # a short warm-up of both (page cache, server connections, the
        # processes mod_fcgid spawns on demand)
        run_wrk "$T/wrk/warm.out" 1 "$CONNS" /nullkms $rt "$sample" wrap any
        run_wrk "$T/wrk/warm.out" 1 "$CONNS" /keymanagement $rt "$sample" wrap any
        [ "$S" = apache-fcgid ] && fcgid_pids
        mapfile -t KPIDS <"$T/kmsd.pids"
        mapfile -t NPIDS <"$T/null.pids"
        # k*: kmsd runs, n*: null runs; req, sec, CPU ticks of responders /
        # web server, wrk CPU seconds
        kreq=0 ksec=0 kresp=0 klt=0 kwrk=0 nreq=0 nsec=0 nresp=0 nlt=0 nwrk=0
        kgood=0 kp50=0 kp99=0 np50=0 np99=0
        per_round="" notes="" bestp=0
        for ((r = 1; r <= ROUNDS; r++)); do
            # null responder, the bodies round robin
            nout=$T/wrk/null_${rt}_P${P}_r$r.out
            c0=$(ticks "${NPIDS[@]}") l0=$(ticks $(front_pids))
            run_wrk "$nout" "$SECONDS_PER_RUN" "$CONNS" /nullkms $rt "$sample" wrap any
            c1=$(ticks "${NPIDS[@]}") l1=$(ticks $(front_pids))
            nresp=$((nresp + c1 - c0)) nlt=$((nlt + l1 - l0))
            nwrk=$(awk '{print $1 + $2 + w}' w="$nwrk" "$nout.time")
            read -r nrate nans nbad _ nsock < <(wrk_field "$nout")
            # kmsd: distinct fresh requests, enough to outlast -d: 1.3 x an
            # estimate of kmsd's rate (the null rate at first, then at most
            # twice kmsd's best rate for this service at a smaller P, then
            # 1.5 x its best rate at this P), each used once
            est=$(awk -v n="$nrate" -v b="${BEST_K[$rt]:-0}" -v p="$bestp" 'BEGIN {
                e = n
                if (p > 0) { if (1.5 * p < e) e = 1.5 * p }
                else if (b > 0 && 2 * b < e) e = 2 * b
                print e }')
            want=$(awk -v r="$est" -v s="$SECONDS_PER_RUN" 'BEGIN {printf "%d", r * s * 1.3 + 1000}')
            lines=$T/lines/${rt}_P${P}_r$r.b64
            if [ $rt = ticketrequest ]; then
                gen "$want" 0 "$lines" /dev/null
            else
                gen 0 "$want" /dev/null "$lines"
            fi
            kout=$T/wrk/kmsd_${rt}_P${P}_r$r.out
            c0=$(ticks "${KPIDS[@]}") l0=$(ticks $(front_pids))
            run_wrk "$kout" "$SECONDS_PER_RUN" "$CONNS" /keymanagement $rt "$lines" once $expect
            c1=$(ticks "${KPIDS[@]}") l1=$(ticks $(front_pids))
            kresp=$((kresp + c1 - c0)) klt=$((klt + l1 - l0))
            kwrk=$(awk '{print $1 + $2 + w}' w="$kwrk" "$kout.time")
            rm -f "$lines"
            read -r krate kans kbad kex ksock < <(wrk_field "$kout")
            kgood=$((kgood + kans - ${kbad/\?/0}))
            read -r a b < <(wrk_latency "$kout"); kp50=$(awk -v x="$kp50" -v y="$a" 'BEGIN {print x + y}'); kp99=$(awk -v x="$kp99" -v y="$b" 'BEGIN {print x + y}')
            read -r a b < <(wrk_latency "$nout"); np50=$(awk -v x="$np50" -v y="$a" 'BEGIN {print x + y}'); np99=$(awk -v x="$np99" -v y="$b" 'BEGIN {print x + y}')
            bestp=$(awk -v r="$krate" -v b="$bestp" 'BEGIN {print (r > b ? r : b)}')
            read -r a b < <(wrk_counts "$kout"); kreq=$((kreq + a)); ksec=$(awk -v x="$ksec" -v y="$b" 'BEGIN {print x + y}')
            read -r a b < <(wrk_counts "$nout"); nreq=$((nreq + a)); nsec=$(awk -v x="$nsec" -v y="$b" 'BEGIN {print x + y}')
            per_round+=$(awk -v k="$krate" -v n="$nrate" 'BEGIN {if (n > 0) printf "%.2f ", k / n; else print "- "}')
            [ "$kbad" != 0 ] && notes+="r$r kmsd bad $kbad/$kans ($(bad_detail "$kout")) "
            [ "$nbad" != 0 ] && notes+="r$r null bad $nbad/$nans ($(bad_detail "$nout")) "
            [ "$kex" = yes ] && notes+="r$r kmsd list exhausted (rate too low) "
            [ -n "$ksock$nsock" ] && notes+="r$r socket errors (see $kout, $nout) "
        done
        BEST_K[$rt]=$(awk -v r="$bestp" -v b="${BEST_K[$rt]:-0}" 'BEGIN {print (r > b ? r : b)}')
        awk -v kr="$kreq" -v ks="$ksec" -v nr="$nreq" -v ns="$nsec" -v hz="$HZ" \
            -v kresp="$kresp" -v klt="$klt" -v kwrk="$kwrk" \
            -v nresp="$nresp" -v nlt="$nlt" -v nwrk="$nwrk" \
            -v kp50="$kp50" -v kp99="$kp99" -v np50="$np50" -v np99="$np99" -v R="$ROUNDS" -v good="$kgood" \
            -v S="$S" -v rt="$rt" -v P="$P" -v tail="${per_round}${notes:+; $notes}" 'BEGIN {
                k = kr / ks; n = nr / ns
                us = 1e6 / hz
                printf "%-16s %-14s %2s %10.0f %10.0f %6.2f  %-11s %-11s %8d  %-13s %-13s %-13s  %s\n", S, rt, P, k, n, (n > 0 ? k / n : 0),
                    sprintf("%.2f/%.2f", kp50 / R, kp99 / R), sprintf("%.2f/%.2f", np50 / R, np99 / R), good,
                    sprintf("%.0f/%.0f", kresp * us / kr, nresp * us / nr),
                    sprintf("%.0f/%.0f", klt * us / kr, nlt * us / nr),
                    sprintf("%.0f/%.0f", kwrk * 1e6 / kr, nwrk * 1e6 / nr), tail
            }' | tee -a "$T/table"
    done
    stop_all
done
done

echo "# load average after the throughput runs: $(cut -d' ' -f1-3 /proc/loadavg)"
touch "$T/table"
[ -n "$PROCS" ] && awk '{ if ($6 + 0 < 0.85) { miss = miss sprintf(" %s/%s/P=%s(%s)", $1, $2, $3, $6) } else { met = met sprintf(" %s/%s/P=%s", $1, $2, $3) } }
     END { print "target ratio >= 0.85: met:" (met == "" ? " none" : met) "; missed:" (miss == "" ? " none" : miss) }' "$T/table"

# ---------------------------------------------------------------- memory

[ "$RSS_N" -gt 0 ] || exit 0
ROUND=$((RSS_N / 8))  # per service per round
echo
echo "# memory: one process, wrk -c 1, 4 rounds of $ROUND ticketrequest + $ROUND ticketresolve (rounds 2 and 4 replay 1 and 3)"
start_spawn kmsd 1 "$KMSD_BIN" "${KMSD_ARGS[@]}"
start_spawn null 1 "$NULLR"
start_lighttpd
KPID=$(head -n 1 "$T/kmsd.pids")

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
# "RssAnon a, RssFile f, RssShmem s": heap and stacks / mapped files
# (libraries) / shared memory (SQLite's wal-index, which grows with the WAL
# until a checkpoint resets it)
rss_parts() { awk '/^Rss(Anon|File|Shmem):/ {printf "%s%s %s KiB", sep, $1, $2; sep = ", "}' "/proc/$1/status" | tr -d :; }

# send_count RT FILE COUNT EXPECT: exactly COUNT answers over one
# connection, then stop wrk (SIGINT) without waiting for its -d.
send_count() {
    local rt=$1 file=$2 count=$3 expect=$4 i
    local out=$T/wrk/rss_$rt.$RANDOM.out
    rm -f "$T/done".*
    wrk -t 1 -c 1 -d 600s --timeout 10s -s "$LUA" "http://127.0.0.1:$PORT" -- \
        file="$file" threads=1 path=/keymanagement rt="$rt" mode=wrap \
        expect="$expect" count="$count" donefile="$T/done" >"$out" 2>&1 &
    local wpid=$!
    BG_PIDS+=("$wpid")
    for ((i = 0; i < 6000; i++)); do
        [ -e "$T/done.0" ] && break
        ms_running "$wpid" || break
        sleep 0.1
    done
    kill -INT "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    local got
    got=$(sed -n 's/^post_lines: answers=\([0-9]*\).*/\1/p' "$out")
    SENT_TOTAL=$((SENT_TOTAL + ${got:-0}))
    [ "${got:-0}" -eq "$count" ] || echo "# warning: $rt: $got answers, wanted $count ($out)"
    local bad
    bad=$(sed -n 's/^post_lines: .* bad=\([0-9]*\).*/\1/p' "$out")
    BAD_TOTAL=$((BAD_TOTAL + ${bad:-0}))
}

SENT_TOTAL=0
BAD_TOTAL=0
RSS_START=$(rss_kib "$KPID")
PARTS_START=$(rss_parts "$KPID")
exp_req=13 exp_res=18
[ "$NULL_ONLY" = 1 ] && exp_req=any exp_res=any
t0=$(date +%s)
for round in 1 2 3 4; do
    if [ $((round % 2)) = 1 ]; then
        gen "$ROUND" "$ROUND" "$T/lines/rss_req.b64" "$T/lines/rss_res.b64"
    fi
    send_count ticketrequest "$T/lines/rss_req.b64" "$ROUND" $exp_req
    send_count ticketresolve "$T/lines/rss_res.b64" "$ROUND" $exp_res
    if [ $round = 2 ]; then
        RSS_HALF=$(rss_kib "$KPID")
        ANON_HALF=$(anon_kib "$KPID")
        PARTS_HALF=$(rss_parts "$KPID")
        N_HALF=$SENT_TOTAL
    fi
done
RSS_END=$(rss_kib "$KPID")
HWM_END=$(hwm_kib "$KPID")
ANON_END=$(anon_kib "$KPID")
PARTS_END=$(rss_parts "$KPID")
t1=$(date +%s)
ms_running "$KPID" || die "kmsd (pid $KPID) died during the memory run"
echo "kmsd pid $KPID VmRSS after start: ${RSS_START} KiB ($PARTS_START)"
echo "kmsd pid $KPID VmRSS after $N_HALF requests: ${RSS_HALF} KiB ($PARTS_HALF)"
echo "kmsd pid $KPID VmRSS after $SENT_TOTAL requests: ${RSS_END} KiB ($PARTS_END; VmHWM ${HWM_END} KiB)"
echo "growth $N_HALF -> $SENT_TOTAL requests: $((RSS_END - RSS_HALF)) KiB; answers that were not REQUEST_RESP/RESOLVE_RESP: $BAD_TOTAL (replays expected: $((RSS_N / 2))); $((t1 - t0)) s"
awk -v r="$RSS_END" -v h="$RSS_HALF" -v ah="$ANON_HALF" -v ae="$ANON_END" \
    -v n="$((SENT_TOTAL - N_HALF))" -v a="$N_HALF" -v b="$SENT_TOTAL" 'BEGIN {
    printf "target <= 16 MiB after %d requests: %s (VmRSS %.1f MiB)\n", b, (r <= 16384 ? "met" : "MISSED"), r / 1024
    # The heap (RssAnon) is what a leak grows: one byte per request would
    # add n bytes. 64 KiB covers malloc arenas and SQLite page caches
    # settling. VmRSS also moves with the wal-index (RssShmem).
    printf "target no growth %d -> %d requests: %s (RssAnon %+d KiB = %.2f bytes per request; VmRSS %+d KiB)\n",
        a, b, (ae - ah <= 64 ? "met" : "MISSED"), ae - ah, (ae - ah) * 1024 / n, r - h
}'
