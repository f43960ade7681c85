#!/usr/bin/env bash
# kms-cluster.sh - two KMS nodes on one PostgreSQL store, locally
# (doc/profile.md §13, README "Several nodes"):
#
#   scripts/kms-cluster.sh start   install what is missing (Debian 12, as
#                                  root), build in ./build, start a private
#                                  PostgreSQL (initdb + pg_ctl in
#                                  $KMS_CLUSTER_DIR, a Unix socket only, no
#                                  system service; as root it runs as
#                                  nobody), create the store with the demo
#                                  subscribers alice and bob, start two
#                                  kmsd nodes under spawn-fcgi, each behind
#                                  its own lighttpd on 127.0.0.1, and print
#                                  (and run once) a mikey-ue chain that
#                                  requests on node A and resolves on node B
#   scripts/kms-cluster.sh stop    stop everything and remove the directory
#   scripts/kms-cluster.sh status  what runs, does each node answer
#
# Environment: KMS_CLUSTER_DIR (default /tmp/mikeykms-cluster),
# KMS_PORT_A / KMS_PORT_B (default 8081 / 8082), KMS_THREADS (default 2),
# JOBS (make -j). Nothing listens on anything but 127.0.0.1 and the Unix
# sockets in the directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$here/build
DIR=${KMS_CLUSTER_DIR:-/tmp/mikeykms-cluster}
PORTS=("${KMS_PORT_A:-8081}" "${KMS_PORT_B:-8082}")
NODES=(a b)
THREADS=${KMS_THREADS:-2}
KMSD=$BUILD/src/fcgi/kmsd
KMSCTL=$BUILD/tools/kmsctl
MIKEY_UE=$BUILD/tools/mikey-ue

say() { echo "kms-cluster: $*"; }
die() { echo "kms-cluster: $*" >&2; exit 1; }
# tests/lib_pg.sh's skip (pg_need) means: not installed
ms_skip() { die "$*"; }
# shellcheck source=tests/lib_pg.sh
. "$here/tests/lib_pg.sh"
# shellcheck source=SCRIPTDIR/lib_local.sh
. "$here/scripts/lib_local.sh"

PKGS=(build-essential autoconf automake libtool pkg-config
      libssl-dev libsqlite3-dev liblmdb-dev libfcgi-dev check
      libcurl4-openssl-dev libpq-dev postgresql lighttpd lighttpd-modules-lua
      spawn-fcgi curl)

build() {
    local out
    build_tree --with-postgresql
    out=$("$KMSCTL" --store postgresql:///x --master-key /nonexistent records 2>&1 || true)
    case $out in
    *"no PostgreSQL store"*) # configured before libpq was there
        rebuild_tree "--with-postgresql" --with-postgresql ;;
    esac
}

start_node() { # I
    local i=$1 n=${NODES[$1]} port=${PORTS[$1]} nd
    nd=$DIR/$n
    mkdir -p "$nd/lighttpd/htdocs"
    cat >"$nd/kms.conf" <<EOF
# node $n, written by scripts/kms-cluster.sh: one of the nodes sharing the
# PostgreSQL store (doc/profile.md §13); its own node state (this
# machine's rate limits and GBA cache)
kms_id = kms.example.org
store = $PG_URI
master_key = ../master.key
node_state = node
log_level = info
EOF
    rm -f "$nd/kmsd.sock"
    spawn-fcgi -n -s "$nd/kmsd.sock" -M 0600 -- "$KMSD" --config "$nd/kms.conf" \
        --threads "$THREADS" </dev/null >>"$nd/kmsd.log" 2>&1 &
    echo $! >"$nd/kmsd.pid"
    local t
    for ((t = 0; t < 50; t++)); do
        grep -q "kmsd\[$(cat "$nd/kmsd.pid")\]: info: serving" "$nd/kmsd.log" 2>/dev/null && break
        pid_alive "$nd/kmsd.pid" || { tail -n 20 "$nd/kmsd.log" >&2; die "kmsd $n did not start"; }
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
        die "127.0.0.1:$port is taken (set KMS_PORT_A / KMS_PORT_B)"
    sed -e "s|^var.kms_bind .*|var.kms_bind   = \"127.0.0.1\"|" \
        -e "s|^var.kms_port .*|var.kms_port   = $port|" \
        -e "s|^var.kms_socket .*|var.kms_socket = \"$nd/kmsd.sock\"|" \
        -e "s|^var.kms_state .*|var.kms_state  = \"$nd/lighttpd\"|" \
        -e "s|^var.kms_errors .*|var.kms_errors  = \"$here/lighttpd/mikeykms-errors.lua\"|" \
        -e '/# spawn-fcgi: delete this line$/d' \
        "$here/lighttpd/lighttpd.conf" >"$nd/lighttpd/lighttpd.conf"
    lighttpd -tt -f "$nd/lighttpd/lighttpd.conf" >/dev/null || die "lighttpd rejects its configuration"
    lighttpd -f "$nd/lighttpd/lighttpd.conf"
    wait_port "$port" || die "lighttpd of node $n does not answer on 127.0.0.1:$port"
}

chain_command() {
    printf '%s chain --url http://127.0.0.1:%s/keymanagement \\\n' "$MIKEY_UE" "${PORTS[0]}"
    printf '    --resolve-url http://127.0.0.1:%s/keymanagement \\\n' "${PORTS[1]}"
    printf '    --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file %s \\\n' "$DIR/alice.psk"
    printf '    --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file %s\n' "$DIR/bob.psk"
}

start() {
    [ ! -f "$DIR/pg.env" ] || die "already started in $DIR (stop it first)"
    install_missing "${PKGS[@]}"
    build
    pg_need
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    say "PostgreSQL in $DIR/pg (initdb, pg_ctl; a Unix socket only)"
    pg_start "$DIR/pg" || die "PostgreSQL did not start (log: $DIR/pg/postgresql.log)"
    declare -p PG_BIN PG_USER PG_DATA PG_SOCK PG_PORT PG_URI PG_LOG >"$DIR/pg.env"
    (umask 077
     "$KMSCTL" --store "$PG_URI" --master-key "$DIR/master.key" init >/dev/null
     for who in alice bob; do
         od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$DIR/$who.psk"
         "$KMSCTL" --store "$PG_URI" --master-key "$DIR/master.key" subscriber add \
             --psk-id "$who" --psk - --impu "sip:$who@example.org" --forking yes \
             <"$DIR/$who.psk" >/dev/null
     done) || die "cannot create the store"
    local i
    for i in 0 1; do
        start_node "$i"
    done
    cat <<EOF

Two KMS nodes share the PostgreSQL store $PG_URI
  node A: http://127.0.0.1:${PORTS[0]}/keymanagement  (kmsd log $DIR/a/kmsd.log)
  node B: http://127.0.0.1:${PORTS[1]}/keymanagement  (kmsd log $DIR/b/kmsd.log)
  kmsctl --config $DIR/a/kms.conf subscriber list | records | replay status
  psql '$PG_URI'

The chain with alice's Ticket Request on node A and bob's Ticket Resolve on
node B (exit 0 only if both derive the same SRTP keys):

EOF
    chain_command
    bash -c "$(chain_command | tr -d '\\\n')" >"$DIR/first-chain.out" 2>&1 ||
        { cat "$DIR/first-chain.out" >&2; die "the chain across the nodes failed (above)"; }
    echo
    echo "(run once just now: $(tail -n 1 "$DIR/first-chain.out"))"
    echo "Stop it with: $0 stop"
}

stop() {
    local n
    for n in "${NODES[@]}"; do
        stop_pidfile "lighttpd $n" "$DIR/$n/lighttpd/lighttpd.pid"
        stop_pidfile "kmsd $n" "$DIR/$n/kmsd.pid"
    done
    if [ -f "$DIR/pg.env" ]; then
        # shellcheck disable=SC1091
        . "$DIR/pg.env"
        pg_ctl_stop fast && say "PostgreSQL stopped"
    fi
    case $DIR in /tmp/*) rm -rf "$DIR" ;; *) say "left $DIR in place" ;; esac
}

status() {
    local rc=0 i n code
    for i in 0 1; do
        n=${NODES[$i]}
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
            "http://127.0.0.1:${PORTS[$i]}/keymanagement?requesttype=ticketrequest" || true)
        if [ "$code" = 405 ]; then say "node $n answers on 127.0.0.1:${PORTS[$i]}"; else
            say "node $n does not answer (GET -> $code)"; rc=1; fi
    done
    if [ -f "$DIR/pg.env" ]; then
        # shellcheck disable=SC1091
        . "$DIR/pg.env"
        if pg_psql 'SELECT 1' >/dev/null 2>&1; then say "PostgreSQL answers ($PG_URI)"; else
            say "PostgreSQL does not answer"; rc=1; fi
    else
        say "PostgreSQL not started"; rc=1
    fi
    return "$rc"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
