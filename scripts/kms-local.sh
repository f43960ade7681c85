#!/usr/bin/env bash
# kms-local.sh - run mikeykms locally: kmsd under spawn-fcgi behind lighttpd
# on 127.0.0.1 only, with a demo store.
#
#   scripts/kms-local.sh start    install what is missing (Debian 12, as
#                                 root), build in ./build, create ./run (store,
#                                 demo subscribers alice and bob, kms.conf),
#                                 start kmsd and lighttpd, print how to try it
#   scripts/kms-local.sh stop     stop both
#   scripts/kms-local.sh status   are they running, does the KMS answer
#
# Environment: KMS_PORT (default 8080), KMS_THREADS (default 4), JOBS (make
# -j, default nproc). ./run/kmsd.log and ./run/lighttpd/error.log hold the
# logs. Nothing listens on anything but 127.0.0.1 and a unix socket in ./run.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$here/build
RUN=$here/run
# the port of a running instance (run/port) unless KMS_PORT says otherwise
PORT=${KMS_PORT:-$(cat "$RUN/port" 2>/dev/null || echo 8080)}
THREADS=${KMS_THREADS:-4}
KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
MIKEY_UE=$BUILD/tools/mikey-ue
SOCK=$RUN/kmsd.sock
KMSD_PID=$RUN/kmsd.pid
LT_DIR=$RUN/lighttpd
LT_PID=$LT_DIR/lighttpd.pid

say() { echo "kms-local: $*"; }
die() { echo "kms-local: $*" >&2; exit 1; }

# Build dependencies of mikeykms plus the servers this script runs.
PKGS=(build-essential autoconf automake libtool pkg-config
      libssl-dev libsqlite3-dev sqlite3 libfcgi-dev check
      libcurl4-openssl-dev lighttpd spawn-fcgi curl)

install_missing() {
    local p missing=()
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian would start the packaged lighttpd service (port 80, every
    # interface) right after installing it; this script runs its own
    # instance on loopback only, so keep services from starting during the
    # install (policy-rc.d, exit 101 = action forbidden), unless a policy is
    # already in place.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
        [ "$own_policy" -eq 1 ] && rm -f "$policy"
        die "apt-get install failed"
    }
    [ "$own_policy" -eq 1 ] && rm -f "$policy"
    return 0
}

build() {
    if [ ! -x "$here/configure" ]; then
        say "autoreconf"
        (cd "$here" && autoreconf -fi >/dev/null 2>&1) || (cd "$here" && autoreconf -fi)
    fi
    mkdir -p "$BUILD"
    if [ ! -f "$BUILD/Makefile" ]; then
        say "configure (in $BUILD)"
        (cd "$BUILD" && "$here/configure" -q)
    fi
    say "make (log: $BUILD/make.log)"
    make -s -C "$BUILD" -j"${JOBS:-$(nproc)}" >"$BUILD/make.log" 2>&1 ||
        { tail -n 40 "$BUILD/make.log" >&2; die "build failed"; }
    [ -x "$KMSD" ] && [ -x "$KMSCTL" ] || die "build did not produce kmsd and kmsctl"
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
EOF
    "$KMSD" --config "$RUN/kms.conf" --check-config >/dev/null ||
        die "kmsd --check-config failed for $RUN/kms.conf"
}

pid_alive() { # PIDFILE
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_port() {
    local i
    for ((i = 0; i < 50; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

start_kmsd() {
    if pid_alive "$KMSD_PID"; then
        say "kmsd already running (pid $(cat "$KMSD_PID"))"
        return 0
    fi
    rm -f "$SOCK"
    # spawn-fcgi makes the socket and hands it to kmsd on descriptor 0;
    # -n (no fork) keeps kmsd's stderr, the log, in run/kmsd.log.
    # (kmsd ignores SIGHUP, so closing the terminal does not stop it.)
    spawn-fcgi -n -s "$SOCK" -M 0600 -- "$KMSD" --config "$RUN/kms.conf" \
        --threads "$THREADS" </dev/null >>"$RUN/kmsd.log" 2>&1 &
    echo $! >"$KMSD_PID"
    local i
    for ((i = 0; i < 50; i++)); do
        [ -S "$SOCK" ] && grep -q "kmsd\[$(cat "$KMSD_PID")\]: info: serving" "$RUN/kmsd.log" 2>/dev/null &&
            return 0
        pid_alive "$KMSD_PID" || break
        sleep 0.1
    done
    tail -n 20 "$RUN/kmsd.log" >&2
    die "kmsd did not start (log: $RUN/kmsd.log)"
}

start_lighttpd() {
    if pid_alive "$LT_PID"; then
        say "lighttpd already running (pid $(cat "$LT_PID"))"
        return 0
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "127.0.0.1:$PORT is taken by another program (set KMS_PORT)"
    fi
    mkdir -p "$LT_DIR/htdocs"
    sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
        -e "s|^var.kms_port .*|var.kms_port   = $PORT|" \
        -e "s|^var.kms_socket .*|var.kms_socket = \"$SOCK\"|" \
        -e "s|^var.kms_state .*|var.kms_state  = \"$LT_DIR\"|" \
        "$here/lighttpd/lighttpd.conf" >"$LT_DIR/lighttpd.conf"
    lighttpd -tt -f "$LT_DIR/lighttpd.conf" >/dev/null || die "lighttpd rejects $LT_DIR/lighttpd.conf"
    # lighttpd daemonizes and writes its pid file itself
    lighttpd -f "$LT_DIR/lighttpd.conf"
    echo "$PORT" >"$RUN/port"
    wait_port || die "lighttpd does not answer on 127.0.0.1:$PORT (log: $LT_DIR/error.log)"
}

stop_one() { # NAME PIDFILE
    local name=$1 pidfile=$2 pid i
    if ! pid_alive "$pidfile"; then
        rm -f "$pidfile"
        say "$name not running"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    say "$name stopped"
}

probe() { # prints the HTTP status of a GET to the mount (405 = kmsd answers)
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$PORT/keymanagement?requesttype=ticketrequest" || true
}

usage_hints() {
    cat <<EOF

mikeykms is running: http://127.0.0.1:$PORT/keymanagement (loopback only)
  kmsd:     pid $(cat "$KMSD_PID"), log $RUN/kmsd.log
  lighttpd: pid $(cat "$LT_PID"), log $LT_DIR/error.log
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
case "$cmd" in
start)
    install_missing
    build
    make_store
    start_kmsd
    start_lighttpd
    code=$(probe)
    [ "$code" = 405 ] || die "the KMS does not answer as expected (GET -> $code, want 405)"
    usage_hints
    ;;
stop)
    stop_one lighttpd "$LT_PID"
    stop_one kmsd "$KMSD_PID"
    rm -f "$SOCK" "$RUN/port"
    ;;
status)
    rc=0
    if pid_alive "$KMSD_PID"; then say "kmsd running (pid $(cat "$KMSD_PID"))"; else say "kmsd not running"; rc=1; fi
    if pid_alive "$LT_PID"; then say "lighttpd running (pid $(cat "$LT_PID")) on 127.0.0.1:$PORT"; else say "lighttpd not running"; rc=1; fi
    if [ "$rc" -eq 0 ]; then
        code=$(probe)
        if [ "$code" = 405 ]; then say "KMS answers (GET -> 405 Allow: POST, as it should)"; else say "KMS does not answer (GET -> $code)"; rc=1; fi
    fi
    exit "$rc"
    ;;
*)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
