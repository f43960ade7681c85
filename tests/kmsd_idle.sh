#!/bin/bash
# kmsd_idle.sh - a flood of idle connections (doc/profile.md §9.47):
# 1 500 TCP connections to the web server that never send a byte, and
# normal clients meanwhile (at once, then every 3 s): each Ticket Request
# is answered with a REQUEST_RESP. Through lighttpd (lighttpd/lighttpd.conf
# as shipped, kmsd under spawn-fcgi): within 5 s, and lighttpd lets every
# idle connection go within server.max-read-idle + 5 s. Through Apache
# (apache/mikeykms-proxy-fcgi.conf, kmsd --listen): within the rounds of
# its RequestReadTimeout header= that the idle ones can hold its workers
# (below). A server that is not installed is skipped. Bounded: the flood
# is held 40 s at most per server.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need curl python3
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
N=1500
HOLD=40
# the flood and the servers need N descriptors and more
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 8192 ] && [ "$(id -u)" -ne 0 ]; then
    ms_skip "descriptor limit $hard < 8192"
fi
ulimit -Sn 8192 2>/dev/null || ulimit -Sn "$hard"
ms_setup

D=$MS_TMP/kms
ms_make_store "$D"
FLOOD=$MS_TMP/flood

# flood NAME PORT LIMIT_S [IDLE_S]: N idle connections to PORT held up to
# HOLD s (or until the server has closed them all), a normal client at
# once and every 3 s meanwhile, each answered within LIMIT_S; with IDLE_S,
# the server closes every idle one within IDLE_S + 5 s
flood() {
    local name=$1 port=$2 limit=$3 idle=${4:-} opened closed last
    rm -f "$FLOOD"
    python3 "$MS_SRC/tests/idle_clients.py" 127.0.0.1 "$port" "$N" "$HOLD" "$FLOOD" &
    local fpid=$!
    ms_track "$fpid"
    ms_wait_file_line "$FLOOD" '^opened ' 30
    opened=$(sed -n 's/^opened \([0-9]*\) .*/\1/p' "$FLOOD")
    ms_check "$name: $N idle connections open (${opened:-none}; $(sed -n 's/^opened [0-9]* //p' "$FLOOD") s)" \
        [ "${opened:-0}" = "$N" ]
    # a normal client at once, and again every 3 s while they are held
    local probes=0 bad=0 slowest=0 ms
    while :; do
        probe "$port" "$limit"
        ms=$PROBE_MS
        probes=$((probes + 1))
        [ "$PROBE_OK" = 1 ] || bad=$((bad + 1))
        [ "$ms" -le "$slowest" ] || slowest=$ms
        if [ "$probes" = 1 ]; then
            ms_check "$name: a normal client among them: status $MS_CODE, data type ${PROBE_TYPE:--} (13: REQUEST_RESP) in $ms ms" \
                [ "$PROBE_OK" = 1 ]
        fi
        ms_running "$fpid" || break
        sleep 3
    done
    ms_check "$name: every one of $probes clients while the flood lasted: REQUEST_RESP within $limit s ($bad not; the slowest $slowest ms)" \
        [ "$bad" = 0 ]
    wait "$fpid"
    closed=$(sed -n 's/^closed \([0-9]*\) .*/\1/p' "$FLOOD")
    last=$(sed -n 's/^closed [0-9]* //p' "$FLOOD")
    if [ -z "$idle" ]; then
        echo "# $name: ${closed:-?} of them closed by the server within $HOLD s"
        return
    fi
    ms_check "$name: the server let all $N go (${closed:-none})" [ "${closed:-0}" = "$N" ]
    ms_check "$name: ... the last after ${last:-?} s (read timeout $idle s, + 5)" \
        within "${last%.*}" $((idle + 5))
}

# probe PORT LIMIT_S: one Ticket Request (curl, LIMIT_S at most); PROBE_OK=1 when it
# is answered 200 with a REQUEST_RESP; PROBE_MS, PROBE_TYPE
probe() {
    local req t0 t1
    req=$("$MIKEY_UE" request --psk-file "$D/alice.psk" --psk-id alice \
        --impu sip:alice@example.org --peer sip:bob@example.org 2>/dev/null)
    t0=$(date +%s%N)
    ms_post "http://127.0.0.1:$1/keymanagement?$MS_RT" --max-time "$2" --data-binary "$req"
    t1=$(date +%s%N)
    PROBE_MS=$(((t1 - t0) / 1000000))
    PROBE_TYPE=$(base64 -d <"$MS_TMP/b" 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')
    PROBE_OK=0
    [ "$MS_CODE" = 200 ] && [ "$PROBE_TYPE" = 13 ] && PROBE_OK=1
}

within() { [ "${1:--1}" -ge 0 ] && [ "$1" -lt "$2" ]; } # within SECONDS LIMIT

# ms_wait_file_line FILE PATTERN SECONDS
ms_wait_file_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# the read timeouts the shipped files set
lt_idle=$(sed -n 's/^server.max-read-idle *= *\([0-9]*\).*/\1/p' "$MS_SRC/lighttpd/lighttpd.conf")
ap_idle=$(sed -n 's/^ *RequestReadTimeout .*header=\([0-9]*\).*/\1/p' "$MS_SRC/apache/mikeykms-proxy-fcgi.conf")
ms_check "lighttpd.conf sets server.max-read-idle (${lt_idle:-none})" [ -n "$lt_idle" ]
ms_check "mikeykms-proxy-fcgi.conf sets RequestReadTimeout header= (${ap_idle:-none})" [ -n "$ap_idle" ]
ap_idle=${ap_idle:-0}

if command -v lighttpd >/dev/null && command -v spawn-fcgi >/dev/null; then
    SOCK=$MS_TMP/kmsd.sock
    ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads 4 || exit 1
    ms_start_lighttpd "$SOCK" || { echo "lighttpd did not start"; exit 1; }
    flood lighttpd "$MS_PORT" 5 "${lt_idle:-0}"
    ms_alive "lighttpd after the flood" "http://127.0.0.1:$MS_PORT"
    ms_stop "$MS_LIGHTTPD_PID"
    ms_stop "$MS_KMSD_PID"
else
    echo "# skip lighttpd: not installed"
fi

if command -v apache2 >/dev/null; then
    ms_start_kmsd_tcp "$D/kms.conf" "$MS_TMP/kmsd-listen.log" --threads 4 || exit 1
    ms_start_apache_proxy "127.0.0.1:$KPORT" || { echo "Apache did not start"; exit 1; }
    # Apache accepts with TCP_DEFER_ACCEPT (AcceptFilter http data, the
    # default on Linux): a connection that sends nothing stays in the
    # kernel's queue, not in a worker, until the defer time is over, so
    # when they go is the kernel's business; what counts is that normal
    # clients are served meanwhile. A connection with a request is
    # accepted at once, but once the idle ones reach Apache they hold its
    # workers, header= seconds each: with W workers (400, the event MPM's
    # default MaxRequestWorkers, as in this test's httpd.conf) a client
    # waits at most ceil(N / W) rounds of header= seconds. More workers
    # shorten that (apache/README.md).
    flood "Apache mod_proxy_fcgi" "$MS_PORT" $(((N + 399) / 400 * ap_idle))
    ms_alive "Apache after the flood" "http://127.0.0.1:$MS_PORT"
else
    echo "# skip Apache: not installed"
fi

ms_done
