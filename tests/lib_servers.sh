# lib_servers.sh - sourced by tests/kmsd_*.sh: a temporary directory torn
# down on exit, free loopback ports, a demo store, kmsd under spawn-fcgi or
# on its own, lighttpd and Apache (mod_fcgid) in front of it, curl / raw
# socket / raw FastCGI requests, and assertions that count failures.
#
# Every server started here listens on 127.0.0.1 only and is killed on exit
# (trap), also when a test fails. Set MS_KEEP=1 to keep the directory.
# Descriptor 7 is the store lock's FIFO (ms_lock_store): every background
# server is started with it closed, so that closing it ends the lock.
# shellcheck shell=bash

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=.}"
MS_SRC=$(cd "$top_srcdir" && pwd)
MS_BUILD=$(cd "$top_builddir" && pwd)
KMSD=$MS_BUILD/src/fcgi/kmsd
KMSCTL=$MS_BUILD/tools/kmsctl
FCGICLIENT=$MS_BUILD/tests/test_http_fcgiclient
MIKEY_UE=$MS_BUILD/tools/mikey-ue

. "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"
. "$MS_SRC/scripts/lib_local.sh"

MS_TMP=
MS_PIDS=()

# ms_skip REASON: the test (or, after checks, the rest of it) is skipped.
ms_skip() {
    tap_skip_all "$@"
}

# ms_need CMD...: skip the test (1..0 # SKIP) when a server program is missing.
ms_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || ms_skip "$c is not installed"
    done
}

ms_setup() {
    MS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-test.XXXXXX") || exit 99
    chmod 755 "$MS_TMP"
    trap ms_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    for p in "$KMSD" "$KMSCTL" "$FCGICLIENT"; do
        [ -x "$p" ] || { echo "ERROR: $p not built"; exit 99; }
    done
}

ms_track() { MS_PIDS+=("$1"); }

# Is PID running (a zombie waiting for `wait` is not)?
ms_running() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# Stop one tracked process: SIGTERM, then SIGKILL after 10 s. Does not reap
# it, so that the caller can still `wait PID` for its exit status.
ms_stop() {
    local pid=$1 i
    ms_running "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        ms_running "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}

ms_cleanup() {
    local rc=$? pid
    trap - EXIT
    for pid in "${MS_PIDS[@]}"; do
        ms_stop "$pid"
    done
    wait 2>/dev/null
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$MS_TMP" ]; then
        echo "== logs (exit $rc)"
        find "$MS_TMP" -name '*.log' -type f -print0 2>/dev/null |
            while IFS= read -r -d '' f; do
                echo "-- $f"
                tail -n 40 "$f"
            done
    fi
    if [ -n "$MS_TMP" ] && [ -z "${MS_KEEP:-}" ]; then
        rm -rf "$MS_TMP"
    fi
    exit "$rc"
}

# A loopback TCP port for a server of this test: outside the kernel's
# ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), where the
# local end of every client connection (and its TIME_WAIT) lives and a
# bind can fail although nobody listens; not used by any socket ss(8)
# sees; and refusing a connection. A later bind can still race with
# another program: the server starters retry with a new port.
ms_free_port() {
    local lo=32768 hi=60999 p i span
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || :
    # below the range from 10000 (above the usual services), then above it
    local below=$((lo > 10000 ? lo - 10000 : 0)) above=$((hi < 65535 ? 65535 - hi : 0))
    span=$((below + above))
    [ "$span" -gt 0 ] || { below=$((65535 - 1024)); above=0; span=$below; lo=$((1024 + below)); }
    for ((i = 0; i < 200; i++)); do
        p=$(((RANDOM * 32768 + RANDOM) % span))
        if [ "$p" -lt "$below" ]; then p=$((lo - below + p)); else p=$((hi + 1 + p - below)); fi
        if command -v ss >/dev/null 2>&1 &&
            [ -n "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
            continue
        fi
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Wait until something accepts on 127.0.0.1:PORT (10 s): the operator
# scripts' wait_port.
ms_wait_port() { wait_port "$1" 100; }

# Wait until FILE contains PATTERN (10 s).
ms_wait_log() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- checks

ms_ok() { tap_ok "$@"; }

ms_fail() { tap_not_ok "$@"; }

# ms_ue NAME WANT_RC ARGS...: run mikey-ue, stdout in $O, stderr in $E (the
# caller's files), one check on its exit status.
ms_ue() {
    local name=$1 want=$2 rc
    shift 2
    "$MIKEY_UE" "$@" >"$O" 2>"$E"
    rc=$?
    if [ "$rc" = "$want" ]; then ms_ok "$name: exit $want"; else
        ms_fail "$name: exit $rc, expected $want: $(head -c 300 "$E")"; fi
}

# ms_check NAME COMMAND...: one check that passes when COMMAND succeeds.
ms_check() { tap_check "$@" || :; }

ms_done() { tap_done; }

# ---------------------------------------------------------------- store

# ms_make_store DIR: kms.db + master.key with one ticket key and the demo
# subscribers alice and bob, key forking allowed (PSKs in DIR/alice.psk,
# DIR/bob.psk as hex),
# and DIR/kms.conf. Extra `key = value` lines for kms.conf may follow.
ms_make_store() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$KMSCTL" --store "$dir/kms.db" --master-key "$dir/master.key" init \
        >"$dir/kmsctl.log" 2>&1 || { echo "kmsctl init failed"; cat "$dir/kmsctl.log"; exit 99; }
    ms_add_demo_subscribers "$dir" --store "$dir/kms.db" --master-key "$dir/master.key"
    {
        echo "# written by tests/lib_servers.sh"
        echo "store = kms.db"
        echo "master_key = master.key"
        echo "retry_after = 7"
        echo "busy_timeout_ms = 300"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$dir/kms.conf"
}

# ms_add_demo_subscribers DIR KMSCTL_OPTION...: the demo subscribers alice
# and bob (key forking allowed) added with `kmsctl KMSCTL_OPTION...
# subscriber add`, their PSKs as hex in DIR/alice.psk and DIR/bob.psk.
ms_add_demo_subscribers() {
    local dir=$1 who
    shift
    for who in alice bob; do
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$dir/$who.psk")
        "$KMSCTL" "$@" subscriber add --psk-id "$who" --psk - --impu "sip:$who@example.org" \
            --forking yes <"$dir/$who.psk" >>"$dir/kmsctl.log" 2>&1 ||
            { echo "kmsctl subscriber add $who failed"; cat "$dir/kmsctl.log"; exit 99; }
    done
}

# ms_lock_store DB [MODE]: hold a lock on the database, in the background,
# as the owner of DB, until ms_unlock_store; sets MS_LOCK_PID.
#   MODE exclusive (default): locking_mode=EXCLUSIVE + BEGIN EXCLUSIVE, so
#     that not even a WAL reader (or a new connection) gets in;
#   MODE write: BEGIN IMMEDIATE, the write lock another writer would hold:
#     readers go on, every write (kmsctl, the drain of the records) waits.
# The sqlite3 shell reads its commands from a FIFO that stays open on
# descriptor 7; closing it (EOF) ends the shell and so the lock.
ms_lock_store() {
    local db=$1 mode=${2:-exclusive} owner
    owner=$(stat -c %U "$db")
    local run=()
    if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
        run=(runuser -u "$owner" --)
    fi
    rm -f "$MS_TMP/lock.out" "$MS_TMP/lock.fifo"
    mkfifo "$MS_TMP/lock.fifo"
    "${run[@]}" sqlite3 "$db" <"$MS_TMP/lock.fifo" >"$MS_TMP/lock.out" 2>&1 &
    MS_LOCK_PID=$!
    ms_track "$MS_LOCK_PID"
    exec 7>"$MS_TMP/lock.fifo"
    # kmsd's maintenance thread reads and writes the store a few times a
    # second: wait for it like any other connection does
    printf '.timeout 5000\n' >&7
    if [ "$mode" = write ]; then
        printf 'BEGIN IMMEDIATE;\n' >&7
    else
        printf 'PRAGMA locking_mode=EXCLUSIVE;\nBEGIN EXCLUSIVE;\n' >&7
    fi
    # locked once a statement after the BEGIN has answered
    printf 'SELECT count(*) FROM sqlite_master;\n' >&7
    ms_wait_log "$MS_TMP/lock.out" '^[0-9]' || { echo "could not lock $db"; cat "$MS_TMP/lock.out"; return 1; }
}

ms_unlock_store() {
    exec 7>&-
    wait "$MS_LOCK_PID"
}

# ms_kmsctl DIR ARGS...: kmsctl on the demo store in DIR, as the store's
# owner (kmsd may run as another user; kmsctl must not leave files it
# cannot open).
ms_kmsctl() {
    local dir=$1 owner run=()
    shift
    owner=$(stat -c %U "$dir/kms.db")
    if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
        run=(runuser -u "$owner" --)
    fi
    "${run[@]}" "$KMSCTL" --store "$dir/kms.db" --master-key "$dir/master.key" "$@"
}

# ms_store_locked_while_serving BASE DIR: another connection holds the
# store's write lock while kmsd serves (a backup, an operator's shell).
# Answers commit to the node state, not the store: a Ticket Request is
# answered as always, its record waits in the node's journal, and once the
# lock is gone `kmsctl records` shows it (profile §8).
ms_store_locked_while_serving() {
    local base=$1 dir=$2 req before after
    before=$(ms_kmsctl "$dir" records --subscriber alice | wc -l)
    req=$("$MIKEY_UE" request --psk-file "$dir/alice.psk" --psk-id alice \
        --impu sip:alice@example.org --peer sip:bob@example.org 2>/dev/null)
    ms_lock_store "$dir/kms.db" write || return 1
    ms_post "$base/keymanagement?$MS_RT" --data-binary "$req"
    ms_expect_code "store write-locked: Ticket Request answered" 200
    ms_check "store write-locked: answer is REQUEST_RESP (data type 13)" \
        [ "$(ms_body_data_type)" = 13 ]
    ms_unlock_store
    after=$(ms_kmsctl "$dir" records --subscriber alice | wc -l)
    ms_check "lock released: the answer's record reached the store ($before -> $after)" \
        [ "$after" = $((before + 1)) ]
}

# ms_check_log LOG DIR: kmsd's log in LOG has one line per request (status,
# service, error name, duration) and holds no request body, no PSK of the
# demo subscribers in DIR and no master key.
ms_check_log() {
    local log=$1 dir=$2 who
    ms_check "log: request lines with status, service, error, duration" \
        grep -q 'info: status=405 service=- err="method not allowed" us=[0-9]' "$log"
    ms_check "log: no request body in the log" bash -c "! grep -q -F '${MS_RFC4567_I:0:40}' '$log'"
    for who in alice bob; do
        ms_check "log: no PSK of $who in the log" bash -c "! grep -q -F \"\$(cat '$dir/$who.psk')\" '$log'"
    done
    ms_check "log: no master key in the log" bash -c "! grep -q -F \"\$(head -c 64 '$dir/master.key')\" '$log'"
}

# ms_post_3mib BASE: POST 3 MiB of 'A' (over every shipped server's 2 MiB
# limit) to the mount; the answer as ms_req leaves it.
ms_post_3mib() {
    [ -f "$MS_TMP/3mib" ] || head -c 3145728 /dev/zero | tr '\0' 'A' >"$MS_TMP/3mib"
    ms_post "$1/keymanagement?$MS_RT" --data-binary "@$MS_TMP/3mib"
}

# ms_setup_listen: ms_setup, the demo store in D=$MS_TMP/kms, and one
# `kmsd --listen 127.0.0.1:KPORT --threads 4` logging to LOG (sets D, LOG,
# KPORT, MS_KMSD_PID), for a web server that does not start kmsd itself.
ms_setup_listen() {
    ms_setup
    D=$MS_TMP/kms
    ms_make_store "$D"
    LOG=$MS_TMP/kmsd.log
    ms_start_kmsd_tcp "$D/kms.conf" "$LOG" --threads 4 || exit 1
}

# ms_setup_lighttpd KMSD_ARGS...: ms_setup, the demo store in D=$MS_TMP/kms,
# kmsd under spawn-fcgi on SOCK=$MS_TMP/kmsd.sock (log $MS_TMP/kmsd.log,
# KMSD_ARGS added to its command line) behind lighttpd at BASE (sets D,
# SOCK, BASE, MS_KMSD_PID); exits 1 when either does not start.
ms_setup_lighttpd() {
    ms_setup
    D=$MS_TMP/kms
    ms_make_store "$D"
    SOCK=$MS_TMP/kmsd.sock
    ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" "$@" || exit 1
    ms_start_lighttpd "$SOCK" || { echo "lighttpd did not start"; exit 1; }
    BASE=http://127.0.0.1:$MS_PORT
}

# ms_setup_apache_fcgid: ms_setup, the demo store in D=$MS_TMP/kms, and
# Apache at BASE starting kmsd through mod_fcgid (sets D, BASE); exits 1
# when Apache does not start.
ms_setup_apache_fcgid() {
    ms_setup
    D=$MS_TMP/kms
    ms_make_store "$D"
    # mod_fcgid runs the wrapper as Apache's user: give it its own copy of
    # kmsd and the store (the build tree may not be readable by nobody).
    mkdir -p "$MS_TMP/bin"
    cp "$KMSD" "$MS_TMP/bin/kmsd"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R nobody:nogroup "$D"
    fi
    ms_start_apache "$MS_TMP/bin/kmsd" "$D/kms.conf" || { echo "apache did not start"; exit 1; }
    BASE=http://127.0.0.1:$MS_PORT
}

# ms_h2c_no_answer BASE NAME: HTTP/2 with prior knowledge on an HTTP/1
# listener (when curl speaks HTTP/2): NAME closes the connection without an
# HTTP answer, and kmsd serves on.
ms_h2c_no_answer() {
    curl -V | grep -qw HTTP2 || return 0
    ms_post "$1/keymanagement?$MS_RT" --http2-prior-knowledge --data-binary "$MS_RFC4567_I"
    ms_check "h2c prior knowledge: no HTTP answer from $2 (status $MS_CODE, curl rc $MS_CURL_RC)" \
        [ "$MS_CODE" = 000 ]
    ms_alive "h2c" "$1"
}

# ms_listen_suite BASE KPORT DIR LOG: for one `kmsd --listen
# 127.0.0.1:KPORT` (log in LOG, demo store in DIR) behind the web server at
# BASE: raw FastCGI on kmsd's socket, the store write-locked while kmsd
# serves, the chain, the health and metrics pages, and the log.
ms_listen_suite() {
    local base=$1 kport=$2 dir=$3 log=$4
    ms_raw_fcgi "127.0.0.1:$kport"
    ms_alive "raw FastCGI" "$base"
    ms_store_locked_while_serving "$base" "$dir"
    ms_chain "$base" "$dir"
    ms_status_suite "$base" "$dir"
    ms_check_log "$log" "$dir"
}

# ms_listen_again BASE KPORT DIR LOG: kmsd --listen started again on
# 127.0.0.1:KPORT behind the web server at BASE (still running), first
# with its store locked: kmsd's own 503 reaches the client with kmsd's
# Retry-After (7 in the demo configuration), once, not the server's; the
# lock released: served at once; then stopped, exit 0.
ms_listen_again() {
    local base=$1 kport=$2 dir=$3 log=$4
    ms_lock_store "$dir/kms.db" || exit 1
    ms_start_kmsd_listen "127.0.0.1:$kport" "$dir/kms.conf" "$log" --threads 4 || exit 1
    ms_post "$base/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "kmsd started with its store locked: kmsd's 503" 503 "service unavailable"
    ms_expect_header "kmsd started with its store locked: kmsd's 503" Retry-After 7
    ms_check "kmsd's 503 carries one Retry-After" [ "$(grep -ci '^retry-after:' "$MS_TMP/h")" = 1 ]
    ms_unlock_store
    ms_post "$base/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_code "lock released: served at once" 200
    ms_stop "$MS_KMSD_PID"
    ms_check "kmsd exits 0 on SIGTERM (again)" wait "$MS_KMSD_PID"
}

# ms_backend_down BASE NAME: kmsd (--listen, MS_KMSD_PID) is stopped; the
# web server's own answer must be what profile §2 asks of an unavailable
# KMS: 503 with Retry-After (the shipped drop-ins say 5).
ms_backend_down() {
    local base=$1 name=$2
    ms_stop "$MS_KMSD_PID"
    ms_check "kmsd exits 0 on SIGTERM" wait "$MS_KMSD_PID"
    ms_post "$base/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_code "kmsd not running: $name's own answer" 503
    ms_expect_header "kmsd not running: $name's own answer" Retry-After 5
}

# ---------------------------------------------------------------- servers

# ms_start_kmsd_spawn SOCKET CONF LOG [kmsd options...]: kmsd under
# spawn-fcgi, which hands it the listening socket on descriptor 0 (-n: no
# fork, so that stderr reaches LOG and the pid is ours). Sets MS_KMSD_PID.
ms_start_kmsd_spawn() {
    local sock=$1 conf=$2 log=$3
    shift 3
    spawn-fcgi -n -s "$sock" -M 0600 -- "$KMSD" --config "$conf" "$@" \
        </dev/null >>"$log" 2>&1 7>&- &
    MS_KMSD_PID=$!
    ms_track "$MS_KMSD_PID"
    ms_wait_log "$log" "kmsd\[$MS_KMSD_PID\]: info: serving" || { echo "kmsd did not start"; cat "$log"; return 1; }
}

# ms_start_kmsd_listen SPEC CONF LOG [kmsd options...]: kmsd --listen SPEC.
ms_start_kmsd_listen() {
    local spec=$1 conf=$2 log=$3
    shift 3
    "$KMSD" --config "$conf" --listen "$spec" "$@" </dev/null >>"$log" 2>&1 7>&- &
    MS_KMSD_PID=$!
    ms_track "$MS_KMSD_PID"
    ms_wait_serving "$log" || { echo "kmsd did not start"; cat "$log"; return 1; }
}

# ms_wait_serving LOG: wait (10 s) until kmsd MS_KMSD_PID says it serves;
# fails at once when it has exited.
ms_wait_serving() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q -- "kmsd\[$MS_KMSD_PID\]: info: serving" "$1" 2>/dev/null && return 0
        ms_running "$MS_KMSD_PID" || break
        sleep 0.1
    done
    grep -q -- "kmsd\[$MS_KMSD_PID\]: info: serving" "$1" 2>/dev/null
}

# ms_start_kmsd_tcp CONF LOG [kmsd options...]: kmsd --listen on a free
# loopback port; sets KPORT and MS_KMSD_PID. A port taken between the
# pick and kmsd's bind (kmsd exits with "bind/listen") is tried again with
# another port.
ms_start_kmsd_tcp() {
    local conf=$1 log=$2 try
    shift 2
    for try in 1 2 3 4 5; do
        KPORT=$(ms_free_port) || return 1
        "$KMSD" --config "$conf" --listen "127.0.0.1:$KPORT" "$@" </dev/null >>"$log" 2>&1 7>&- &
        MS_KMSD_PID=$!
        ms_track "$MS_KMSD_PID"
        ms_wait_serving "$log" && return 0
        if ! ms_running "$MS_KMSD_PID" && grep -q "kmsd\[$MS_KMSD_PID\]: .*bind/listen .*in use" "$log"; then
            continue # the port was taken meanwhile: another one
        fi
        break
    done
    echo "kmsd did not start"
    cat "$log"
    return 1
}

# ms_start_lighttpd SOCKET: lighttpd/lighttpd.conf with its var.* lines set
# for this test; sets MS_PORT and MS_LIGHTTPD_PID. Retries on a port race.
# The caller runs kmsd on SOCKET (spawn-fcgi): the lines marked for
# spawn-fcgi users are deleted. With MS_LIGHTTPD_KMSD="KMSD CONF THREADS"
# they stay and lighttpd starts KMSD itself (bin-path, profile §9.48).
# With MS_LIGHTTPD_TLS_PEM (certificate and key, PEM) it runs
# lighttpd/lighttpd-tls.conf instead, HTTPS on MS_TLS_PORT as well.
ms_start_lighttpd() {
    local sock=$1 dir=$MS_TMP/lighttpd try conf=lighttpd.conf wait
    local kmsd=- conf_file=- threads=1 spawn='/# spawn-fcgi: delete this line$/d'
    [ -f /usr/lib/lighttpd/mod_magnet.so ] ||
        ms_skip "lighttpd's mod_magnet (lighttpd-modules-lua) is not installed"
    if [ -n "${MS_LIGHTTPD_KMSD:-}" ]; then
        read -r kmsd conf_file threads <<<"$MS_LIGHTTPD_KMSD"
        spawn=
    fi
    mkdir -p "$dir/htdocs"
    for try in 1 2 3 4 5; do
        MS_PORT=$(ms_free_port) || return 1
        wait=$MS_PORT
        sed -e "s|^var.kms_port .*|var.kms_port   = $MS_PORT|" \
            -e "s|^var.kms_socket .*|var.kms_socket = \"$sock\"|" \
            -e "s|^var.kms_state .*|var.kms_state  = \"$dir\"|" \
            -e "s|^var.kms_kmsd .*|var.kms_kmsd = \"$kmsd\"|" \
            -e "s|^var.kms_config .*|var.kms_config = \"$conf_file\"|" \
            -e "s|^var.kms_threads .*|var.kms_threads = \"$threads\"|" \
            -e "s|^var.kms_errors .*|var.kms_errors = \"$MS_SRC/lighttpd/mikeykms-errors.lua\"|" \
            -e "$spawn" "$MS_SRC/lighttpd/lighttpd.conf" >"$dir/lighttpd.conf"
        if [ -n "${MS_LIGHTTPD_TLS_PEM:-}" ]; then
            MS_TLS_PORT=$(ms_free_port) || return 1
            wait=$MS_TLS_PORT
            conf=lighttpd-tls.conf
            sed -e "s|^var.kms_tls_port .*|var.kms_tls_port = $MS_TLS_PORT|" \
                -e "s|^var.kms_tls_pem .*|var.kms_tls_pem  = \"$MS_LIGHTTPD_TLS_PEM\"|" \
                "$MS_SRC/lighttpd/lighttpd-tls.conf" >"$dir/$conf"
        fi
        lighttpd -tt -f "$dir/$conf" >"$dir/check.log" 2>&1 ||
            { cat "$dir/check.log"; return 1; }
        lighttpd -D -f "$dir/$conf" >>"$dir/stderr.log" 2>&1 7>&- &
        MS_LIGHTTPD_PID=$!
        ms_track "$MS_LIGHTTPD_PID"
        if ms_wait_port "$wait" && ms_running "$MS_LIGHTTPD_PID"; then
            return 0
        fi
        ms_stop "$MS_LIGHTTPD_PID"
    done
    return 1
}

# ms_apache_start "MODULE..." CONF_TEXT: Apache httpd in the foreground
# with its own ServerRoot, PidFile and ErrorLog under $MS_TMP/apache,
# mod_mpm_event, mod_authz_core, mod_authz_host, mod_reqtimeout (the last
# two enabled by Debian's default configuration) and mod_MODULE (each)
# loaded, then CONF_TEXT. As root, Apache's children run as
# nobody:nogroup. Sets MS_PORT and MS_APACHE_PID. Retries on a port race.
ms_apache_start() {
    local modules=$1 text=$2 dir=$MS_TMP/apache try m mods=/usr/lib/apache2/modules
    local load="" user=""
    mkdir -p "$dir/htdocs"
    for m in mpm_event authz_core authz_host reqtimeout $modules; do
        load+="LoadModule ${m}_module $mods/mod_$m.so"$'\n'
    done
    if [ "$(id -u)" -eq 0 ]; then
        user=$'User nobody\nGroup nogroup'
    fi
    for try in 1 2 3 4 5; do
        MS_PORT=$(ms_free_port) || return 1
        cat >"$dir/httpd.conf" <<EOF
# written by tests/lib_servers.sh
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$MS_PORT
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error.log"
LogLevel warn
$load
$user
DocumentRoot "$dir/htdocs"
<Directory />
    Require all denied
</Directory>
<Directory "$dir/htdocs">
    Require all granted
</Directory>
$text
EOF
        apache2 -t -f "$dir/httpd.conf" >"$dir/check.log" 2>&1 ||
            { cat "$dir/check.log"; return 1; }
        apache2 -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/stderr.log" 2>&1 7>&- &
        MS_APACHE_PID=$!
        ms_track "$MS_APACHE_PID"
        if ms_wait_port "$MS_PORT" && ms_running "$MS_APACHE_PID"; then
            return 0
        fi
        ms_stop "$MS_APACHE_PID"
    done
    return 1
}

# ms_start_apache KMSD_BINARY KMS_CONF [TEXT]: Apache (ms_apache_start) with its
# mod_fcgid socket directory under $MS_TMP/apache, and
# apache/mikeykms-fcgid.conf included as the operator would. As root, the
# kmsd processes mod_fcgid spawns run as nobody:nogroup (the caller makes
# the store readable for them), then TEXT (more directives). Sets MS_PORT
# and MS_APACHE_PID.
ms_start_apache() {
    local kmsd=$1 conf=$2 dir=$MS_TMP/apache
    mkdir -p "$dir/fcgid"
    [ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$dir/fcgid"
    ms_apache_start fcgid "LogLevel warn fcgid:info
FcgidIPCDir \"$dir/fcgid\"
FcgidProcessTableFile \"$dir/fcgid/shm\"
Define MIKEYKMS_KMSD $kmsd
Define MIKEYKMS_CONFIG $conf
Include \"$MS_SRC/apache/mikeykms-fcgid.conf\"
${3:-}"
}

# ms_start_apache_proxy HOST:PORT [TEXT]: Apache (ms_apache_start) with
# mod_proxy_fcgi and mod_headers, and apache/mikeykms-proxy-fcgi.conf
# included as the operator would, pointed at kmsd --listen HOST:PORT (TEXT:
# more configuration after it). Sets MS_PORT and MS_APACHE_PID.
ms_start_apache_proxy() {
    ms_apache_start "proxy proxy_fcgi headers" "Define MIKEYKMS_BACKEND fcgi://$1
Include \"$MS_SRC/apache/mikeykms-proxy-fcgi.conf\"
${2:-}"
}

# ms_start_nginx HOST:PORT [TEXT]: nginx in the foreground with its own
# prefix, pid, logs and temporary directories under $MS_TMP/nginx, and
# nginx/mikeykms.conf (or the file MS_NGINX_SNIPPET names) included in its
# server block as the operator would, its fastcgi_pass pointed at kmsd's
# HOST:PORT (TEXT: more directives for the server block). As root, nginx's
# workers run as nobody:nogroup. Sets MS_PORT and MS_NGINX_PID. Retries on
# a port race.
ms_start_nginx() {
    local target=$1 extra=${2:-} dir=$MS_TMP/nginx try user=""
    mkdir -p "$dir/htdocs" "$dir/tmp"
    if [ "$(id -u)" -eq 0 ]; then
        user="user nobody nogroup;"
        chown nobody:nogroup "$dir/tmp"
    fi
    sed -e "s|^\( *fastcgi_pass \).*|\1$target;|" \
        "${MS_NGINX_SNIPPET:-$MS_SRC/nginx/mikeykms.conf}" >"$dir/mikeykms.conf"
    for try in 1 2 3 4 5; do
        MS_PORT=$(ms_free_port) || return 1
        cat >"$dir/nginx.conf" <<EOF
# written by tests/lib_servers.sh
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$MS_PORT;
        server_name 127.0.0.1;
        root $dir/htdocs;
        include $dir/mikeykms.conf;
        $extra
    }
}
EOF
        nginx -t -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/check.log" 2>&1 ||
            { cat "$dir/check.log"; return 1; }
        nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
            >>"$dir/stderr.log" 2>&1 7>&- &
        MS_NGINX_PID=$!
        ms_track "$MS_NGINX_PID"
        if ms_wait_port "$MS_PORT" && ms_running "$MS_NGINX_PID"; then
            return 0
        fi
        ms_stop "$MS_NGINX_PID"
    done
    return 1
}

# ---------------------------------------------------------------- requests

# ms_req URL [curl options...]: one HTTP request; status in MS_CODE (000
# when there was no HTTP answer), headers in $MS_TMP/h (CR removed), body
# in $MS_TMP/b, curl's exit status in MS_CURL_RC.
ms_req() {
    local url=$1
    shift
    rm -f "$MS_TMP/h" "$MS_TMP/b"
    MS_CODE=$(curl -sS --max-time 20 -H 'Expect:' -D "$MS_TMP/h.raw" \
        -o "$MS_TMP/b" -w '%{http_code}' "$@" "$url" 2>"$MS_TMP/curl.err")
    MS_CURL_RC=$?
    touch "$MS_TMP/b" "$MS_TMP/h.raw"
    tr -d '\r' <"$MS_TMP/h.raw" >"$MS_TMP/h"
}

# ms_post URL [curl options...]: POST with Content-Type $MS_CT (default
# application/mikey; MS_CT= sends no Content-Type at all). curl would send
# a second Content-Type rather than replace the first, hence the variable.
ms_post() {
    local url=$1
    shift
    ms_req "$url" -X POST -H "Content-Type:${MS_CT-" application/mikey"}" "$@"
}

# ms_raw PORT FILE: send FILE as the raw bytes of one HTTP request, close
# our sending side, print the answer (10 s at most).
ms_raw() {
    nc -N -w 10 127.0.0.1 "$1" <"$2"
}

# The value of header NAME in the last answer ("" if absent).
ms_header() {
    awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
        BEGIN { FS = ": *" }
        { k = tolower($1) }
        k == n { sub(/^[^:]*: */, ""); print; exit }' "$MS_TMP/h"
}

ms_expect_code() { # NAME CODE
    if [ "$MS_CODE" = "$2" ]; then ms_ok "$1: status $2"; else
        ms_fail "$1: status $MS_CODE, expected $2 ($(head -c 200 "$MS_TMP/b" | tr '\n' ' '))"; fi
}

ms_expect_header() { # NAME HEADER VALUE
    local got
    got=$(ms_header "$2")
    if [ "$got" = "$3" ]; then ms_ok "$1: $2: $3"; else
        ms_fail "$1: $2 is '$got', expected '$3'"; fi
}

ms_expect_no_header() { # NAME HEADER
    if [ -z "$(ms_header "$2")" ]; then ms_ok "$1: no $2"; else
        ms_fail "$1: unexpected $2: $(ms_header "$2")"; fi
}

ms_expect_body() { # NAME TEXT (the body is TEXT plus one newline)
    if [ "$(cat "$MS_TMP/b")" = "$2" ] && [ "$(tail -c 1 "$MS_TMP/b" | od -An -c | tr -d ' ')" = '\n' ] &&
        [ "$(wc -l <"$MS_TMP/b")" -eq 1 ]; then
        ms_ok "$1: body '$2'"
    else
        ms_fail "$1: body '$(head -c 300 "$MS_TMP/b")', expected '$2'"
    fi
}

ms_expect_body_prefix() { # NAME PREFIX (one text line starting so)
    local b
    b=$(cat "$MS_TMP/b")
    if [ "${b#"$2"}" != "$b" ] && [ "$(wc -l <"$MS_TMP/b")" -eq 1 ]; then
        ms_ok "$1: body starts '$2'"
    else
        ms_fail "$1: body '$(head -c 300 "$MS_TMP/b")', expected a line starting '$2'"
    fi
}

# A refusal written by kmsd: status, text/plain, exact one-line body,
# Allow only on 405, Retry-After only on 503, never Cache-Control: no-store
# on an error.
ms_expect_kmsd_error() { # NAME CODE BODY
    ms_expect_code "$1" "$2"
    ms_expect_header "$1" Content-Type text/plain
    ms_expect_body "$1" "$3"
    if [ "$2" = 405 ]; then ms_expect_header "$1" Allow POST; else ms_expect_no_header "$1" Allow; fi
    if [ "$2" != 503 ]; then ms_expect_no_header "$1" Retry-After; fi
}

# ---------------------------------------------------------------- the table

MS_RT=requesttype=ticketrequest
MS_BAD_CAP=$'body missing, empty or too large: body over the size cap'
MS_EMPTY=$'body missing, empty or too large: body missing or empty'

# RFC 4567 §5.1 PSK I_MESSAGE (mikey.md): a well-formed MIKEY message whose
# data type (0) is no Ticket Request: the KMS answers 200 + a MIKEY Error
# message with Error 11 Invalid DT and no V (profile §3).
MS_RFC4567_I='AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV'

# The responder still answers: a GET reaches kmsd and gets its own 405.
ms_alive() { # NAME BASE
    ms_req "$2/keymanagement?$MS_RT"
    if [ "$MS_CODE" = 405 ] && [ "$(cat "$MS_TMP/b")" = "method not allowed: only POST" ]; then
        ms_ok "$1: kmsd still serving"
    else
        ms_fail "$1: kmsd not serving afterwards (status $MS_CODE)"
    fi
}

# Every row of the profile §2 table that needs no valid subscriber message,
# through a web server at BASE (http://127.0.0.1:PORT); SERVER (lighttpd or
# apache) selects the few answers in which the servers differ.
ms_http_table() {
    local base=$1 server=$2 u=$1/keymanagement
    local t=$MS_TMP

    # --- 200: a parseable MIKEY message; the MIKEY checks fail -> Error
    ms_post "$u?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_code "200 MIKEY Error" 200
    ms_expect_header "200 MIKEY Error" Content-Type application/mikey
    ms_expect_header "200 MIKEY Error" Cache-Control no-store
    local hex
    hex=$(base64 -d <"$t/b" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    # HDR: version 1, data type 6 (Error); the last payload is ERR: next
    # payload 0, Error no 11 (Invalid DT), reserved 0 (RFC 3830 §6.12)
    ms_check "200 MIKEY Error: HDR version 1, data type 6" [ "${hex:0:4}" = 0106 ]
    ms_check "200 MIKEY Error: ends with ERR 11 Invalid DT (got ${hex: -8})" [ "${hex: -8}" = 000b0000 ]

    # --- 505: HTTP/1.0 reaches kmsd, which accepts HTTP/1.1 only
    ms_post "$u?$MS_RT" --http1.0 --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "505 HTTP/1.0" 505 "HTTP version not supported: use HTTP/1.1"
    ms_alive "505 HTTP/1.0" "$base"

    # --- 405
    ms_req "$u?$MS_RT"
    ms_expect_kmsd_error "405 GET" 405 "method not allowed: only POST"
    ms_req "$u?$MS_RT" -X PUT -H 'Content-Type: application/mikey' --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "405 PUT" 405 "method not allowed: only POST"
    ms_alive "405" "$base"

    # --- 404
    ms_post "$u/extra?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "404 path below the mount" 404 "not found: no such resource"
    ms_post "$base/nowhere?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_code "404 path outside the mount (the web server's own)" 404
    ms_post "$u" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "404 requesttype missing" 404 "not found: requesttype missing"
    ms_post "$u?foo=bar" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "404 requesttype missing (other parameter)" 404 "not found: requesttype missing"
    ms_post "$u?requesttype=" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "404 requesttype empty" 404 "not found: requesttype empty"
    ms_post "$u?$MS_RT&requesttype=ticketresolve" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "404 requesttype repeated" 404 "not found: requesttype repeated"
    ms_post "$u?requesttype=ticket%zzrequest" --data-binary "$MS_RFC4567_I"
    if [ "$server" = lighttpd ]; then
        # lighttpd normalises the URL first: a '%' without two hex digits
        # becomes %25, so kmsd sees a well-formed but unknown value -> 501;
        # an encoded NUL is refused by lighttpd itself (400). The 404 of an
        # undecodable value is checked on kmsd's socket (ms_raw_fcgi).
        ms_expect_kmsd_error "requesttype ticket%zzrequest (lighttpd re-encodes it)" 501 \
            "not implemented: requesttype names no service of this KMS"
        ms_post "$u?requesttype=%00" --data-binary "$MS_RFC4567_I"
        ms_expect_code "requesttype %00: lighttpd's own 400" 400
    else
        ms_expect_kmsd_error "404 requesttype not decodable" 404 "not found: requesttype not decodable"
        ms_post "$u?requesttype=%00" --data-binary "$MS_RFC4567_I"
        ms_expect_kmsd_error "404 requesttype %00" 404 "not found: requesttype not decodable"
    fi
    # extra parameters are ignored, percent-encoding is decoded
    ms_post "$u?x=1&requesttype=ticket%72equest&y" --data-binary "$MS_RFC4567_I"
    ms_expect_code "extra parameters ignored" 200
    ms_alive "404" "$base"

    # --- 501
    ms_post "$u?requesttype=ticketfrobnicate" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "501 unknown requesttype" 501 "not implemented: requesttype names no service of this KMS"
    ms_alive "501" "$base"

    # --- 400
    MS_CT=" text/plain" ms_post "$u?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "400 Content-Type text/plain" 400 "content type is not application/mikey: expected application/mikey"
    MS_CT=" application/mikeyx" ms_post "$u?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "400 Content-Type application/mikeyx" 400 "content type is not application/mikey: expected application/mikey"
    MS_CT=" APPLICATION/Mikey; charset=x" ms_post "$u?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_code "Content-Type case-insensitive, parameters allowed" 200
    MS_CT="" ms_post "$u?$MS_RT" --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "400 no Content-Type" 400 "content type is not application/mikey: expected application/mikey"
    ms_post "$u?$MS_RT" --data-binary ''
    ms_expect_kmsd_error "400 empty body" 400 "$MS_EMPTY"
    ms_post "$u?$MS_RT" --data-binary '!!!!'
    ms_expect_code "400 not base64" 400
    ms_expect_body_prefix "400 not base64" "not base64"
    ms_post "$u?$MS_RT" --data-binary "${MS_RFC4567_I:0:101}"
    ms_expect_code "400 truncated base64" 400
    ms_expect_body_prefix "400 truncated base64" "not base64"
    head -c 4096 /dev/urandom >"$t/random.bin"
    ms_post "$u?$MS_RT" --data-binary "@$t/random.bin"
    ms_expect_code "400 random bytes" 400
    ms_expect_body_prefix "400 random bytes" "not base64"
    head -c 300 /dev/urandom | base64 -w 76 >"$t/random.b64"
    ms_post "$u?$MS_RT" --data-binary "@$t/random.b64"
    ms_expect_code "400 base64 of random bytes (not MIKEY)" 400
    ms_expect_header "400 base64 of random bytes (not MIKEY)" Content-Type text/plain
    # white space and line breaks around and inside the base64 are fine
    printf '\r\n %s\r\n%s\n ' "${MS_RFC4567_I:0:76}" "${MS_RFC4567_I:76}" >"$t/wrapped.b64"
    ms_post "$u?$MS_RT" --data-binary "@$t/wrapped.b64"
    ms_expect_code "base64 with line breaks and white space" 200
    head -c 1048576 /dev/zero | tr '\0' 'A' >"$t/1mib"
    ms_post "$u?$MS_RT" --data-binary "@$t/1mib"
    ms_expect_kmsd_error "400 1 MiB body (cap 64 KiB)" 400 "$MS_BAD_CAP"
    head -c 65537 /dev/zero | tr '\0' 'A' >"$t/cap1"
    ms_post "$u?$MS_RT" --data-binary "@$t/cap1"
    ms_expect_kmsd_error "400 body of cap + 1 bytes" 400 "$MS_BAD_CAP"
    ms_alive "400" "$base"
}

# ms_raw_http PORT: requests no HTTP client library sends, written to the
# socket directly. Sets MS_RAW_HTTP20 / MS_RAW_HUGE to the first line of the
# web server's answer (the callers assert what their server does).
ms_raw_http() {
    local port=$1 t=$MS_TMP
    printf 'POST /keymanagement?%s HTTP/2.0\r\nHost: 127.0.0.1\r\nContent-Type: application/mikey\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "$MS_RT" "${#MS_RFC4567_I}" "$MS_RFC4567_I" >"$t/http20.req"
    ms_raw "$port" "$t/http20.req" | tr -d '\r' >"$t/http20.ans"
    MS_RAW_HTTP20=$(head -n 1 "$t/http20.ans")
    # Content-Length far beyond what is sent; our side closes after 8 bytes
    printf 'POST /keymanagement?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/mikey\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\nAQIDBA==' \
        "$MS_RT" >"$t/huge.req"
    ms_raw "$port" "$t/huge.req" | tr -d '\r' >"$t/huge.ans"
    MS_RAW_HUGE=$(head -n 1 "$t/huge.ans")
    # a body shorter than its Content-Length, then the client goes away
    printf 'POST /keymanagement?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/mikey\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nAQIDBA==' \
        "$MS_RT" >"$t/short.req"
    ms_raw "$port" "$t/short.req" | tr -d '\r' >"$t/short.ans"
    MS_RAW_SHORT=$(head -n 1 "$t/short.ans")
}

# ms_raw_http_expect NAME PORT HTTP20 HUGE SHORT: ms_raw_http on PORT, then
# one check per request on the status line the front answers: the
# "HTTP/2.0" request line, a Content-Length far beyond the body, a body
# shorter than its Content-Length then EOF (SHORT "-": no answer at all).
ms_raw_http_expect() {
    local name=$1 short want
    ms_raw_http "$2"
    ms_check "$name: 'HTTP/2.0' request line: $3 ('$MS_RAW_HTTP20')" \
        [ "$(echo "$MS_RAW_HTTP20" | cut -d' ' -f2)" = "$3" ]
    ms_check "$name: huge Content-Length, short body: $4 ('$MS_RAW_HUGE')" \
        [ "$(echo "$MS_RAW_HUGE" | cut -d' ' -f2)" = "$4" ]
    short=$(echo "$MS_RAW_SHORT" | cut -d' ' -f2) want=$5
    [ "$5" = - ] && short=${MS_RAW_SHORT:--} want="no answer"
    ms_check "$name: short body then EOF: $want ('$MS_RAW_SHORT')" \
        [ "$short" = "$5" ]
}

# ms_fcgi_burst SOCK LABEL: 16 clients at once send the RFC 4567 message as raw
# FastCGI to unix:SOCK. Each one's time from its connect to the end of its
# answer goes to $MS_TMP/lk.I.ms (the wait for one of kmsd's threads
# included, the start of the client program not: under load, sixteen of
# them starting at once took seconds by themselves); sets MS_N503 and
# MS_NRA (answers with status 503, with Retry-After: 7) and prints the
# latencies after "# LABEL: ".
ms_fcgi_burst() {
    local sock=$1 label=$2 i
    local p=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1
        -p SCRIPT_NAME=/keymanagement -p "QUERY_STRING=$MS_RT"
        -p CONTENT_TYPE=application/mikey)
    local clients=()
    rm -f "$MS_TMP"/lk.*
    for i in $(seq 1 16); do
        "$FCGICLIENT" "${p[@]}" -b "$MS_RFC4567_I" -t 20 --elapsed "$MS_TMP/lk.$i.ms" \
            "unix:$sock" >"$MS_TMP/lk.$i" 2>&1 7>&- &
        clients+=($!)
    done
    wait "${clients[@]}"
    MS_N503=$(grep -l '^Status: 503' "$MS_TMP"/lk.[0-9]* | wc -l)
    MS_NRA=$(grep -l '^Retry-After: 7' "$MS_TMP"/lk.[0-9]* | wc -l)
    echo "# $label: 503 latencies (ms): $(cat "$MS_TMP"/lk.*.ms | sort -n | tr '\n' ' ')"
}

# ms_ue_same_keys NAME REQ RESP TI RI RR: with alice's mikey-ue options
# in the array A and bob's in B: bob's TRANSFER_RESP, then the SRTP keys of
# both ($MS_TMP/a.srtp, $MS_TMP/b.srtp); one check NAME: keys there, and
# the same on both sides.
ms_ue_same_keys() {
    local tr
    tr=$("$MIKEY_UE" transfer-resp "${B[@]}" --ssrc 11223344 --transfer-init "$4" --resolve-init "$5" "$6")
    "$MIKEY_UE" srtp-keys "${A[@]}" --request "$2" --request-resp "$3" --transfer-init "$4" "$tr" >"$MS_TMP/a.srtp"
    "$MIKEY_UE" srtp-keys "${B[@]}" --transfer-init "$4" --resolve-init "$5" --resolve-resp "$6" "$tr" >"$MS_TMP/b.srtp"
    ms_check "$1" \
        bash -c "grep -q '^cs1_master_key=' '$MS_TMP/a.srtp' && cmp -s '$MS_TMP/a.srtp' '$MS_TMP/b.srtp'"
}

# ms_raw_fcgi TARGET: FastCGI requests straight to kmsd's socket (unix:PATH
# or 127.0.0.1:PORT), bypassing any web server: CONTENT_LENGTH is not
# trusted, a vanishing client does not stop kmsd.
ms_raw_fcgi() {
    local target=$1 t=$MS_TMP
    local p=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1
        -p SCRIPT_NAME=/keymanagement -p "QUERY_STRING=$MS_RT"
        -p CONTENT_TYPE=application/mikey)
    local start end rc
    start=$(date +%s%N)
    "$FCGICLIENT" "${p[@]}" -p CONTENT_LENGTH=99999999999999 -b "$MS_RFC4567_I" -t 10 "$target" >"$t/fcgi.out"
    rc=$?
    end=$(date +%s%N)
    ms_check "fcgi: huge CONTENT_LENGTH, short body: answered (rc $rc)" [ "$rc" = 0 ]
    ms_check "fcgi: huge CONTENT_LENGTH, short body: 200, the body read as sent" \
        grep -q '^Status: 200 OK' "$t/fcgi.out"
    ms_check "fcgi: huge CONTENT_LENGTH, short body: no wait ($(((end - start) / 1000000)) ms < 2000)" \
        [ $(((end - start) / 1000000)) -lt 2000 ]
    "$FCGICLIENT" "${p[@]}" -p CONTENT_LENGTH=0 -b "$MS_RFC4567_I" -t 10 "$target" >"$t/fcgi.out"
    ms_check "fcgi: CONTENT_LENGTH 0 with a body: the body counts" grep -q '^Status: 200 OK' "$t/fcgi.out"
    "$FCGICLIENT" "${p[@]}" -z 3000000 -t 20 "$target" >"$t/fcgi.out"
    ms_check "fcgi: 3 MB body without CONTENT_LENGTH: 400 over the cap" \
        grep -q "^$MS_BAD_CAP\$" "$t/fcgi.out"
    "$FCGICLIENT" -p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 -p SCRIPT_NAME=/keymanagement \
        -p "QUERY_STRING=requesttype=ticket%zzrequest" -p CONTENT_TYPE=application/mikey \
        -b "$MS_RFC4567_I" -t 10 "$target" >"$t/fcgi.out"
    ms_check "fcgi: requesttype not decodable: 404" grep -q '^not found: requesttype not decodable$' "$t/fcgi.out"
    "$FCGICLIENT" "${p[@]}" -z 200000 --abort-body "$target"
    "$FCGICLIENT" "${p[@]}" -b "$MS_RFC4567_I" --no-read "$target"
    "$FCGICLIENT" "${p[@]}" -b "$MS_RFC4567_I" --hold 300 --abort-body "$target"
    "$FCGICLIENT" "${p[@]}" -b "$MS_RFC4567_I" -t 10 "$target" >"$t/fcgi.out"
    ms_check "fcgi: still serving after clients went away mid-request" grep -q '^Status: 200 OK' "$t/fcgi.out"
}

# The data type (HDR byte 1, RFC 3830 §6.1) of the base64 MIKEY message in
# the last answer body, as a decimal number ("" if it does not decode).
ms_body_data_type() {
    base64 -d <"$MS_TMP/b" 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' '
}

# ms_chain BASE DIR: the end-to-end chain through the web server at BASE
# with the demo store in DIR: alice's Ticket Request, her TRANSFER_INIT to
# bob, bob's Ticket Resolve, his TRANSFER_RESP, and the same SRTP master key
# and salt on both sides (RFC 6043 §4, mode 1). The UE steps are mikey-ue
# commands; the two KMS exchanges are HTTP POSTs made here with curl.
#
# Then ms_chain_url runs the same chain with `mikey-ue chain --url`.
ms_chain() {
    local base=$1 dir=$2 u=$1/keymanagement
    if [ ! -x "$MIKEY_UE" ]; then
        echo "# skip chain: $MIKEY_UE not built"
        return 0
    fi
    local a=(--psk-file "$dir/alice.psk" --psk-id alice --impu sip:alice@example.org)
    local b=(--psk-file "$dir/bob.psk" --psk-id bob --impu sip:bob@example.org)
    local req resp ti ri rr tr
    req=$("$MIKEY_UE" request "${a[@]}" --peer sip:bob@example.org 2>"$MS_TMP/ue.err")
    ms_check "chain: alice builds REQUEST_INIT" [ -n "$req" ]
    ms_post "$u?$MS_RT" --data-binary "$req"
    ms_expect_code "chain: Ticket Request" 200
    ms_expect_header "chain: Ticket Request" Cache-Control no-store
    ms_check "chain: answer is REQUEST_RESP (data type 13)" [ "$(ms_body_data_type)" = 13 ]
    resp=$(cat "$MS_TMP/b")
    "$MIKEY_UE" accept-request-resp "${a[@]}" --request "$req" "$resp" >"$MS_TMP/alice.ticket" 2>>"$MS_TMP/ue.err"
    ms_check "chain: alice accepts REQUEST_RESP (V verifies, keys decrypt)" [ $? = 0 ]
    ti=$("$MIKEY_UE" transfer-init "${a[@]}" --request "$req" --peer sip:bob@example.org "$resp" 2>>"$MS_TMP/ue.err")
    ri=$("$MIKEY_UE" resolve "${b[@]}" "$ti" 2>>"$MS_TMP/ue.err")
    ms_check "chain: bob builds RESOLVE_INIT from alice's TRANSFER_INIT" [ -n "$ri" ]
    ms_post "$u?requesttype=ticketresolve" --data-binary "$ri"
    ms_expect_code "chain: Ticket Resolve" 200
    ms_check "chain: answer is RESOLVE_RESP (data type 18)" [ "$(ms_body_data_type)" = 18 ]
    rr=$(cat "$MS_TMP/b")
    tr=$("$MIKEY_UE" transfer-resp "${b[@]}" --ssrc 11223344 --transfer-init "$ti" \
        --resolve-init "$ri" "$rr" 2>>"$MS_TMP/ue.err")
    "$MIKEY_UE" accept-transfer-resp "${a[@]}" --request "$req" --request-resp "$resp" \
        --transfer-init "$ti" "$tr" >/dev/null 2>>"$MS_TMP/ue.err"
    ms_check "chain: alice accepts bob's TRANSFER_RESP" [ $? = 0 ]
    "$MIKEY_UE" srtp-keys "${a[@]}" --request "$req" --request-resp "$resp" \
        --transfer-init "$ti" "$tr" >"$MS_TMP/alice.srtp" 2>>"$MS_TMP/ue.err"
    "$MIKEY_UE" srtp-keys "${b[@]}" --transfer-init "$ti" --resolve-init "$ri" \
        --resolve-resp "$rr" "$tr" >"$MS_TMP/bob.srtp" 2>>"$MS_TMP/ue.err"
    ms_check "chain: SRTP master key and salt derived on both sides" \
        grep -q '^cs1_master_key=[0-9a-f]\{32\}$' "$MS_TMP/alice.srtp"
    ms_check "chain: alice and bob have the same SRTP keys" cmp -s "$MS_TMP/alice.srtp" "$MS_TMP/bob.srtp"
    [ -s "$MS_TMP/ue.err" ] && sed 's/^/# mikey-ue: /' "$MS_TMP/ue.err"

    # the same REQUEST_INIT again: a replay -> 200 + MIKEY Error (Invalid TS)
    ms_post "$u?$MS_RT" --data-binary "$req"
    ms_expect_code "chain: replayed REQUEST_INIT" 200
    ms_check "chain: replay answered with a MIKEY Error (data type 6)" [ "$(ms_body_data_type)" = 6 ]
    # a REQUEST_INIT on ticketresolve: 200 + MIKEY Error (Invalid DT)
    ms_post "$u?requesttype=ticketresolve" --data-binary "$req"
    ms_expect_code "chain: REQUEST_INIT sent as ticketresolve" 200
    ms_check "chain: ... answered with a MIKEY Error (data type 6)" [ "$(ms_body_data_type)" = 6 ]

    ms_chain_url "$base" "$dir"
}

# ---------------------------------------------------------------- status

# ms_metric NAME_AND_LABELS: its value in the last answer's body (a
# Prometheus text page), "" when absent.
ms_metric() {
    awk -v k="$1 " 'index($0, k) == 1 { print $NF; exit }' "$MS_TMP/b"
}

# ms_status_suite BASE KMS_DIR: kmsd's health and metrics pages through the
# server at BASE (status_mount /kms-status, doc/profile.md §12.1): health
# 200 with every check "ok"; metrics in the Prometheus text format whose
# counters move with one mikey-ue chain (a Ticket Request and a Ticket
# Resolve answered 200, both histograms counted); 405 for POST, 404 for
# another page; a client from another address than 127.0.0.1 refused by
# the server (its 403), while the annex's mount still answers it.
ms_status_suite() {
    local base=$1 dir=$2 s=$1/kms-status
    ms_req "$s/health"
    ms_expect_code "status: health" 200
    ms_expect_header "status: health" Content-Type application/json
    ms_check "status: health says ok for every check" grep -q \
        '^{"status":"ok","checks":{"store":"ok","crypto_selftest":"ok","ticket_key":"ok","node_state":"ok"}}$' "$MS_TMP/b"
    ms_req "$s/metrics"
    ms_expect_code "status: metrics" 200
    ms_expect_header "status: metrics" Content-Type "text/plain; version=0.0.4; charset=utf-8"
    ms_check "status: metrics: a counter family with its TYPE line" \
        grep -q '^# TYPE mikeykms_requests_total counter$' "$MS_TMP/b"
    ms_check "status: metrics: every series once (Prometheus refuses a page with a duplicate)" \
        [ -z "$(grep -v '^#' "$MS_TMP/b" | sed 's/ [^ ]*$//' | sort | uniq -d)" ]
    ms_check "status: metrics: the active ticket key's age" \
        grep -q '^mikeykms_ticket_key_age_seconds{key="tpk-0001",state="active"} [0-9]*$' "$MS_TMP/b"
    local ok0 tr0 rs0 h0 c0 ok1 tr1 rs1 h1 c1
    ok0=$(ms_metric 'mikeykms_responses_by_status_total{status="200"}')
    tr0=$(ms_metric 'mikeykms_requests_by_service_total{service="ticketrequest"}')
    rs0=$(ms_metric 'mikeykms_requests_by_service_total{service="ticketresolve"}')
    h0=$(ms_metric mikeykms_answer_duration_seconds_count)
    c0=$(ms_metric mikeykms_store_commit_duration_seconds_count)
    ms_check "status: metrics: counters present ($ok0 $tr0 $rs0 $h0 $c0)" \
        [ -n "$ok0" -a -n "$tr0" -a -n "$rs0" -a -n "$h0" -a -n "$c0" ]
    # one request and one resolve, each answered 200 with keys
    "$MIKEY_UE" chain --url "$base/keymanagement" \
        --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$dir/alice.psk" \
        --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$dir/bob.psk" \
        >"$MS_TMP/status-chain.out" 2>&1
    ms_check "status: mikey-ue chain through $base" [ $? = 0 ]
    ms_req "$s/metrics"
    ok1=$(ms_metric 'mikeykms_responses_by_status_total{status="200"}')
    tr1=$(ms_metric 'mikeykms_requests_by_service_total{service="ticketrequest"}')
    rs1=$(ms_metric 'mikeykms_requests_by_service_total{service="ticketresolve"}')
    h1=$(ms_metric mikeykms_answer_duration_seconds_count)
    c1=$(ms_metric mikeykms_store_commit_duration_seconds_count)
    ms_check "status: 200 answers counted: $ok0 -> $ok1 (>= +2)" [ "$((ok1 - ok0))" -ge 2 ]
    ms_check "status: ticketrequest counted: $tr0 -> $tr1" [ "$((tr1 - tr0))" -ge 1 ]
    ms_check "status: ticketresolve counted: $rs0 -> $rs1" [ "$((rs1 - rs0))" -ge 1 ]
    ms_check "status: answer durations counted: $h0 -> $h1" [ "$((h1 - h0))" -ge 2 ]
    ms_check "status: store commits timed: $c0 -> $c1" [ "$((c1 - c0))" -ge 2 ]
    ms_check "status: the +Inf bucket is the count" \
        [ "$(ms_metric 'mikeykms_answer_duration_seconds_bucket{le="+Inf"}')" = "$h1" ]
    ms_req "$s/metrics" -X POST --data-binary x
    ms_expect_code "status: POST to metrics" 405
    ms_expect_header "status: POST to metrics" Allow "GET, HEAD"
    ms_req "$s/nothing"
    ms_expect_code "status: no such page" 404
    # 127.0.0.2 is loopback too, but not the address the configs let in
    ms_req "$s/metrics" --interface 127.0.0.2
    ms_expect_code "status: metrics from 127.0.0.2: the server's refusal" 403
    ms_post "$base/keymanagement?$MS_RT" --interface 127.0.0.2 --data-binary AAAA
    ms_check "status: the annex's mount from 127.0.0.2 still reaches kmsd (400, got $MS_CODE)" \
        [ "$MS_CODE" = 400 ]
}

# The same chain by mikey-ue alone over HTTP (`mikey-ue chain --url`, the
# libcurl transport): both suites, with and without key forking; exit 0
# and the same SRTP master key and salt printed for alice and bob.
ms_chain_url() {
    local base=$1 dir=$2 suite fork rc name
    if ! "$MIKEY_UE" --help 2>&1 | grep -q -- '--url'; then
        echo "# skip mikey-ue chain --url: mikey-ue built without libcurl"
        return 0
    fi
    for suite in 128 256; do
        for fork in "" --forking; do
            name="mikey-ue chain --url (suite $suite${fork:+, forking})"
            "$MIKEY_UE" chain --url "$base/keymanagement" --suite "$suite" $fork \
                --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$dir/alice.psk" \
                --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$dir/bob.psk" \
                >"$MS_TMP/chain.out" 2>"$MS_TMP/chain.err"
            rc=$?
            ms_check "$name: exit 0 (rc $rc$([ "$rc" = 0 ] || head -n 1 "$MS_TMP/chain.err" | sed 's/^/: /'))" [ "$rc" = 0 ]
            ms_check "$name: alice and bob print the same SRTP keys" \
                ms_chain_keys_match "$MS_TMP/chain.out" $((suite / 4))
            if [ -n "$fork" ]; then
                ms_check "$name: keys forked" grep -q 'keys forked for bob' "$MS_TMP/chain.out"
            fi
        done
    done
}

# ms_chain_keys_match OUT HEXLEN: in the output of `mikey-ue chain`, the
# "alice:" and "bob:" key lines are equal (compared here, not taken from
# its verdict), the master key has HEXLEN hex digits and the salt 14
# bytes, and the verdict is "keys match".
ms_chain_keys_match() {
    local a b
    a=$(sed -n 's/^alice: *//p' "$1")
    b=$(sed -n 's/^bob: *//p' "$1")
    [ -n "$a" ] && [ "$a" = "$b" ] &&
        echo "$a" | grep -qE "^cs1 master_key=[0-9a-f]{$2} master_salt=[0-9a-f]{28} mki=[0-9a-f]{8}\$" &&
        grep -qx 'keys match' "$1"
}
