#!/usr/bin/env bash
# kms-local.sh - run mikeykms locally: lighttpd on 127.0.0.1 only with the
# shipped lighttpd/lighttpd.conf, which starts kmsd itself (and again when
# it dies, doc/profile.md §9.48), with a demo store.
#
#   scripts/kms-local.sh start    install what is missing (Debian 12, as
#                                 root), build in ./build, create ./run (store,
#                                 demo subscribers alice and bob, kms.conf),
#                                 start lighttpd (which starts kmsd), print
#                                 how to try it
#   scripts/kms-local.sh start --gba
#                                 the same, and the KMS as a GBA NAF
#                                 (doc/profile.md §10): a test BSF with alice
#                                 and bob bootstrapped, the Zn daemon kms-znd;
#                                 prints the mikey-ue chain
#                                 command with their GBA credentials (and
#                                 runs it once)
#   scripts/kms-local.sh stop     stop everything it started
#   scripts/kms-local.sh status   are they running, does the KMS answer
#
# Environment: KMS_PORT (default 8080), KMS_THREADS (worker threads of each
# of the two kmsd processes, default 2), JOBS (make
# -j, default nproc), GBA_DIAMETER_PORT (the test BSF's, default 38680).
# ./run/kmsd.log (log_file in ./run/kms.conf) and ./run/lighttpd/error.log
# hold the logs (./run/gba/ the
# BSF's and kms-znd's). Nothing listens on anything but 127.0.0.1 and unix
# sockets in ./run.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$here/build
RUN=$here/run
# the port of a running instance (run/port) unless KMS_PORT says otherwise
PORT=${KMS_PORT:-$(cat "$RUN/port" 2>/dev/null || echo 8080)}
THREADS=${KMS_THREADS:-2}
KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
MIKEY_UE=$BUILD/tools/mikey-ue
SOCK=$RUN/kmsd.sock
KMSD_PID=$RUN/kmsd.pid
LT_DIR=$RUN/lighttpd
LT_PID=$LT_DIR/lighttpd.pid
# GBA (--gba)
GBA_DIR=$RUN/gba
KMS_ZND=$BUILD/src/zn/kms-znd
TEST_BSF=$BUILD/src/zn/zn-test-bsf
BSF_PID=$GBA_DIR/bsf.pid
ZND_PID=$GBA_DIR/kms-znd.pid
DIAMETER_PORT=${GBA_DIAMETER_PORT:-38680}
GBA=0

say() { echo "kms-local: $*"; }
die() { echo "kms-local: $*" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/lib_local.sh
. "$here/scripts/lib_local.sh"

# Build dependencies of mikeykms plus the servers this script runs.
PKGS=(build-essential autoconf automake libtool pkg-config
      libssl-dev libsqlite3-dev sqlite3 liblmdb-dev libfcgi-dev check
      libcurl4-openssl-dev lighttpd lighttpd-modules-lua curl)
# and for --gba: freeDiameter (Zn)
GBA_PKGS=(libfreediameter-dev)

build() {
    build_tree
    [ -x "$KMSD" ] && [ -x "$KMSCTL" ] || die "build did not produce kmsd and kmsctl"
    if [ "$GBA" -eq 1 ] && ! [ -x "$KMS_ZND" ]; then
        rebuild_tree "freeDiameter for --gba"
    fi
    if [ "$GBA" -eq 1 ] && ! { [ -x "$KMS_ZND" ] && [ -x "$TEST_BSF" ]; }; then
        die "no kms-znd / zn-test-bsf in $BUILD: is libfreediameter-dev installed?"
    fi
}

# A 16-byte PSK as hex, written with mode 0600.
new_psk() {
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
}

make_store() {
    mkdir -p "$RUN"
    chmod 700 "$RUN"
    if [ ! -f "$RUN/kms.db" ]; then
        say "creating the demo store in $RUN"
        "$KMSCTL" --store "$RUN/kms.db" --master-key "$RUN/master.key" init
        local who
        for who in alice bob; do
            new_psk "$RUN/$who.psk"
            # the PSK goes in on stdin, never on a command line (ps)
            "$KMSCTL" --store "$RUN/kms.db" --master-key "$RUN/master.key" \
                subscriber add --psk-id "$who" --psk - \
                --impu "sip:$who@example.org" --forking yes <"$RUN/$who.psk"
        done
    fi
    cat >"$RUN/kms.conf" <<EOF
# kms.conf written by scripts/kms-local.sh (relative paths: this directory)
kms_id = kms.example.org
store = kms.db
master_key = master.key
log_level = info
log_file = kmsd.log
EOF
    if [ "$GBA" -eq 1 ]; then
        cat >>"$RUN/kms.conf" <<EOF
# GBA (doc/profile.md §10): the KMS as a NAF, Zn through kms-znd;
# ua_auth = digest would refuse the demo PSK subscribers (no B-TID)
gba = yes
kms_fqdn = kms.example.org
ua_auth = none
gba_forking = yes
zn_socket = gba/zn.sock
zn_diameter_conf = gba/kms-znd.fd.conf
zn_realm = example.org
zn_bsf = bsf.example.org
EOF
    fi
    "$KMSD" --config "$RUN/kms.conf" --check-config >/dev/null ||
        die "kmsd --check-config failed for $RUN/kms.conf"
}

# The test BSF's bootstrappings of alice and bob (random Ks and RAND, an
# hour long), freeDiameter's files for it and for kms-znd.
make_gba() {
    mkdir -p "$GBA_DIR"
    chmod 700 "$GBA_DIR"
    local who now btid ks
    now=$(date +%s)
    : >"$GBA_DIR/prov.txt"
    for who in alice bob; do
        btid="$(head -c 16 /dev/urandom | base64)@bsf.example.org"
        ks=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
        echo "$btid $who@ims.example.org $ks $((now + 3600)) sip:$who@example.org" >>"$GBA_DIR/prov.txt"
        printf 'btid=%s\nks=%s\nimpi=%s\n' "$btid" "$ks" "$who@ims.example.org" >"$GBA_DIR/$who.gba"
    done
    # freeDiameter's files: the samples with the test BSF's port
    sed "s/^Port = 3868;/Port = $DIAMETER_PORT;/" \
        "$here/doc/zn-test-bsf.fd.conf.sample" >"$GBA_DIR/bsf.fd.conf"
    sed "s/Port = 3868; No_TLS;/Port = $DIAMETER_PORT; No_TLS;/" \
        "$here/doc/kms-znd.fd.conf.sample" >"$GBA_DIR/kms-znd.fd.conf"
}

# start_daemon NAME PIDFILE LOG READY COMMAND...: in the background, its
# pid in PIDFILE, until its log says "info: READY".
start_daemon() {
    local name=$1 pidfile=$2 log=$3 ready=$4 i
    shift 4
    if pid_alive "$pidfile"; then
        say "$name already running (pid $(cat "$pidfile"))"
        return 0
    fi
    "$@" </dev/null >>"$log" 2>&1 &
    echo $! >"$pidfile"
    for ((i = 0; i < 100; i++)); do
        grep -q "\[$(cat "$pidfile")\]: info: $ready" "$log" 2>/dev/null && return 0
        pid_alive "$pidfile" || break
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "$name did not start (log: $log)"
}

start_gba() {
    if ! pid_alive "$BSF_PID" && (exec 3<>"/dev/tcp/127.0.0.1/$DIAMETER_PORT") 2>/dev/null; then
        die "127.0.0.1:$DIAMETER_PORT is taken by another program (set GBA_DIAMETER_PORT)"
    fi
    start_daemon zn-test-bsf "$BSF_PID" "$GBA_DIR/bsf.log" ready \
        "$TEST_BSF" --diameter-conf "$GBA_DIR/bsf.fd.conf" --provision "$GBA_DIR/prov.txt"
    start_daemon kms-znd "$ZND_PID" "$GBA_DIR/kms-znd.log" serving \
        "$KMS_ZND" --config "$RUN/kms.conf"
    local i
    for ((i = 0; i < 50; i++)); do
        grep -q "kms-znd\[$(cat "$ZND_PID")\]: info: BSF bsf.example.org connected" \
            "$GBA_DIR/kms-znd.log" && return 0
        sleep 0.1
    done
    die "kms-znd does not connect to the test BSF (logs: $GBA_DIR/)"
}

# kmsd_pids: the kmsd processes lighttpd started (its children), "" when
# none.
kmsd_pids() {
    pid_alive "$LT_PID" && pgrep -P "$(cat "$LT_PID")" -x kmsd | sort -n | tr '\n' ' ' | sed 's/ $//'
}

start_lighttpd() {
    if pid_alive "$LT_PID"; then
        say "lighttpd already running (pid $(cat "$LT_PID"))"
        return 0
    fi
    if pid_alive "$KMSD_PID"; then
        # a kmsd of an earlier version of this script, under spawn-fcgi
        stop_pidfile kmsd "$KMSD_PID"
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "127.0.0.1:$PORT is taken by another program (set KMS_PORT)"
    fi
    mkdir -p "$LT_DIR/htdocs"
    rm -f "$SOCK"
    # lighttpd starts kmsd (bin-path) with the socket on descriptor 0 and
    # starts it again when it exits; kmsd logs to run/kmsd.log (log_file)
    sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
        -e "s|^var.kms_port .*|var.kms_port   = $PORT|" \
        -e "s|^var.kms_kmsd .*|var.kms_kmsd    = \"$KMSD\"|" \
        -e "s|^var.kms_config .*|var.kms_config  = \"$RUN/kms.conf\"|" \
        -e "s|^var.kms_threads .*|var.kms_threads = \"$THREADS\"|" \
        -e "s|^var.kms_socket .*|var.kms_socket = \"$SOCK\"|" \
        -e "s|^var.kms_state .*|var.kms_state  = \"$LT_DIR\"|" \
        -e "s|^var.kms_errors .*|var.kms_errors  = \"$here/lighttpd/mikeykms-errors.lua\"|" \
        "$here/lighttpd/lighttpd.conf" >"$LT_DIR/lighttpd.conf"
    lighttpd -tt -f "$LT_DIR/lighttpd.conf" >/dev/null || die "lighttpd rejects $LT_DIR/lighttpd.conf"
    # lighttpd daemonizes and writes its pid file itself
    lighttpd -f "$LT_DIR/lighttpd.conf"
    echo "$PORT" >"$RUN/port"
    wait_port "$PORT" || die "lighttpd does not answer on 127.0.0.1:$PORT (log: $LT_DIR/error.log)"
    # two processes (max-procs 2 in lighttpd.conf), both serving
    local i p pids="" up
    for ((i = 0; i < 100; i++)); do
        pids=$(kmsd_pids || true)
        up=0
        for p in $pids; do
            grep -q "kmsd\[$p\]: info: serving" "$RUN/kmsd.log" 2>/dev/null && up=$((up + 1))
        done
        [ "$up" -ge 2 ] && return 0
        sleep 0.1
    done
    tail -n 20 "$RUN/kmsd.log" "$LT_DIR/error.log" >&2 2>/dev/null
    die "kmsd did not start (logs: $RUN/kmsd.log, $LT_DIR/error.log)"
}

gba_val() { sed -n "s/^$2=//p" "$GBA_DIR/$1.gba"; }

# The mikey-ue chain with alice's and bob's GBA credentials; "oneline"
# prints it on one line.
gba_command() {
    local nl=' \\\n    '
    [ "${1:-}" = oneline ] && nl=' '
    printf -- "%s chain --url http://127.0.0.1:%s/keymanagement$nl" "$MIKEY_UE" "$PORT"
    printf -- "--alice-impu sip:alice@example.org --alice-gba-btid %s$nl" "$(gba_val alice btid)"
    printf -- "--alice-gba-ks %s --alice-gba-impi %s$nl" "$(gba_val alice ks)" "$(gba_val alice impi)"
    printf -- "--bob-impu sip:bob@example.org --bob-gba-btid %s$nl" "$(gba_val bob btid)"
    printf -- "--bob-gba-ks %s --bob-gba-impi %s\n" "$(gba_val bob ks)" "$(gba_val bob impi)"
}

gba_hints() {
    cat <<EOF

The KMS is a GBA NAF (doc/profile.md §10): a test BSF on 127.0.0.1:$DIAMETER_PORT
(zn-test-bsf, pid $(cat "$BSF_PID")) holds bootstrappings of alice and bob
($GBA_DIR/prov.txt) and kms-znd (pid $(cat "$ZND_PID")) is the node's Zn daemon.
No GBA subscriber is in the store: the B-TID is the PSK id, Ks_NAF the PSK.
The chain with their GBA credentials (exit 0 only if the keys match; with
ua_auth = digest in $RUN/kms.conf mikey-ue answers the 401 with them):

EOF
    printf '  '
    gba_command
}

probe() { # prints the HTTP status of a GET to the mount (405 = kmsd answers)
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$PORT/keymanagement?requesttype=ticketrequest" || true
}

usage_hints() {
    cat <<EOF

mikeykms is running: http://127.0.0.1:$PORT/keymanagement (loopback only)
  lighttpd: pid $(cat "$LT_PID"), log $LT_DIR/error.log
  kmsd:     pids $(kmsd_pids), log $RUN/kmsd.log (started by lighttpd,
            each started again by it should it die)
  store:    $RUN/kms.db, subscribers alice and bob, forking allowed (PSKs: $RUN/alice.psk,
            $RUN/bob.psk); kmsctl --config $RUN/kms.conf subscriber list

Try it with curl (a well-formed MIKEY message that is no Ticket Request:
the KMS answers 200 with a base64 MIKEY Error message, Invalid DT):

  curl -i -X POST -H 'Content-Type: application/mikey' \\
    --data-binary 'AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV' \\
    'http://127.0.0.1:$PORT/keymanagement?requesttype=ticketrequest'

A Ticket Request as alice, step by step (mikey-ue builds and checks the
messages, curl carries them):

  UE=$MIKEY_UE
  A="--psk-file $RUN/alice.psk --psk-id alice --impu sip:alice@example.org"
  REQ=\$(\$UE request \$A --peer sip:bob@example.org)
  RESP=\$(curl -s -X POST -H 'Content-Type: application/mikey' --data-binary "\$REQ" \\
         'http://127.0.0.1:$PORT/keymanagement?requesttype=ticketrequest')
  \$UE accept-request-resp \$A --request "\$REQ" "\$RESP"

EOF
    cat <<EOF
The whole chain alice -> KMS -> bob with mikey-ue over HTTP (exit 0 only if
both derive the same SRTP keys; add --forking or --suite 256 to vary it):

  $MIKEY_UE chain --url http://127.0.0.1:$PORT/keymanagement \\
    --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file $RUN/alice.psk \\
    --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file $RUN/bob.psk
EOF
    echo
    echo "Stop it with: $0 stop"
}

cmd=${1:-start}
if [ "$cmd" = start ] && [ "${2:-}" = --gba ]; then
    GBA=1
elif [ $# -gt 1 ]; then
    echo "usage: $0 [start [--gba]|stop|status]" >&2
    exit 2
fi
case "$cmd" in
start)
    if [ "$GBA" -eq 1 ]; then install_missing "${PKGS[@]}" "${GBA_PKGS[@]}"; else install_missing "${PKGS[@]}"; fi
    build
    make_store
    if [ "$GBA" -eq 1 ]; then
        make_gba
        start_gba
    fi
    start_lighttpd
    code=$(probe)
    [ "$code" = 405 ] || die "the KMS does not answer as expected (GET -> $code, want 405)"
    usage_hints
    if [ "$GBA" -eq 1 ]; then
        gba_hints
        # the printed command, run once: it must work
        bash -c "$(gba_command oneline)" >"$GBA_DIR/first-chain.out" 2>&1 ||
            { cat "$GBA_DIR/first-chain.out" >&2; die "the GBA chain failed (above)"; }
        echo
        echo "(run once just now: $(tail -n 1 "$GBA_DIR/first-chain.out"))"
    fi
    ;;
stop)
    # lighttpd stops the kmsd processes it started (SIGTERM); wait for them
    # (a kmsd.pid file: a kmsd of an earlier version of this script)
    if [ -f "$KMSD_PID" ]; then stop_pidfile kmsd "$KMSD_PID"; fi
    pids=$(kmsd_pids || true)
    stop_pidfile lighttpd "$LT_PID"
    for pid in $pids; do
        echo "$pid" >"$KMSD_PID"
        if pid_alive "$KMSD_PID"; then stop_pidfile kmsd "$KMSD_PID"; fi
    done
    rm -f "$KMSD_PID"
    [ ! -f "$ZND_PID" ] || stop_pidfile kms-znd "$ZND_PID"
    [ ! -f "$BSF_PID" ] || stop_pidfile zn-test-bsf "$BSF_PID"
    rm -f "$SOCK" "$RUN/port" "$GBA_DIR/zn.sock"
    ;;
status)
    rc=0
    if pid_alive "$LT_PID"; then say "lighttpd running (pid $(cat "$LT_PID")) on 127.0.0.1:$PORT"; else say "lighttpd not running"; rc=1; fi
    pids=$(kmsd_pids || true)
    if [ -n "$pids" ]; then say "kmsd running (pids $pids, started by lighttpd)"; else say "kmsd not running"; rc=1; fi
    if [ -f "$ZND_PID" ] || [ -f "$BSF_PID" ]; then
        if pid_alive "$ZND_PID"; then say "kms-znd running (pid $(cat "$ZND_PID"))"; else say "kms-znd not running"; rc=1; fi
        if pid_alive "$BSF_PID"; then say "zn-test-bsf running (pid $(cat "$BSF_PID"))"; else say "zn-test-bsf not running"; rc=1; fi
    fi
    if [ "$rc" -eq 0 ]; then
        code=$(probe)
        if [ "$code" = 405 ]; then say "KMS answers (GET -> 405 Allow: POST, as it should)"; else say "KMS does not answer (GET -> $code)"; rc=1; fi
    fi
    exit "$rc"
    ;;
*)
    echo "usage: $0 [start [--gba]|stop|status]" >&2
    exit 2
    ;;
esac
