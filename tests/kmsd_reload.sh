#!/bin/bash
# kmsd_reload.sh - SIGHUP: kmsd reads its configuration file again without
# stopping (kmsd_reload.h). retry_after (seen on the 503s of a kmsd started
# with its store locked), skew_window, log_level and mount change from the
# next request on, in every worker thread; a request in flight during the
# reload is answered; changes of store, body_max, replay_max and of the GBA
# keys zn_timeout_ms and kms_fqdn are reported and kept (serving goes on
# from the same store); a file that does not load changes nothing;
# log_file is opened again (log rotation) and can move the log from
# standard error to a file and back. Raw FastCGI on
# kmsd's own socket, no web server.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need sqlite3
ms_setup
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"

D=$MS_TMP/kms
ms_make_store "$D"
CONF=$D/kms.conf
LOG=$MS_TMP/kmsd.log
SOCK=$MS_TMP/kmsd.sock
T=unix:$SOCK
P=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 -p CONTENT_TYPE=application/mikey)

# set_key KEY [VALUE]: the configuration file with KEY = VALUE (no VALUE:
# KEY removed), the other lines kept.
set_key() {
    sed -i "/^$1 *=/d" "$CONF"
    [ $# -lt 2 ] || echo "$1 = $2" >>"$CONF"
}

# hup: SIGHUP, then wait (10 s) for the reload's log line in FILE (default
# the standard error log).
RELOADS=0
hup() {
    local f=${1:-$LOG} i
    RELOADS=$((RELOADS + 1))
    kill -HUP "$MS_KMSD_PID"
    for ((i = 0; i < 100; i++)); do
        [ "$(cat "$LOG" "$MS_TMP"/file*.log 2>/dev/null |
            grep -cE 'reload.*(no change|applied |still serving)')" -ge "$RELOADS" ] && return 0
        sleep 0.1
    done
    echo "# no reload line after SIGHUP $RELOADS"
    return 1
}

# post MOUNT QUERY BODY [client options]: one request; the answer's
# header lines in $MS_TMP/h, its body in $MS_TMP/b.
post() {
    local mount=$1 q=$2 body=$3
    shift 3
    "$FCGICLIENT" "${P[@]}" -p "SCRIPT_NAME=$mount" -p "QUERY_STRING=$q" \
        -b "$body" -t 10 "$@" "$T" | tr -d '\r' >"$MS_TMP/out"
    sed '/^$/q' "$MS_TMP/out" >"$MS_TMP/h"
    sed '1,/^$/d' "$MS_TMP/out" >"$MS_TMP/b"
}
status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' "$MS_TMP/h"; }

# A fresh REQUEST_INIT of alice's with T = now + OFFSET seconds.
request_at() {
    "$MIKEY_UE" request --psk-file "$D/alice.psk" --psk-id alice \
        --impu sip:alice@example.org --peer sip:bob@example.org \
        --time $(($(date +%s) + $1))
}

# --- retry_after: kmsd starts with its store locked ("keys not loaded"),
# so every answer is a 503 until the lock goes; a reload changes its
# Retry-After from the next answer of every worker
ms_lock_store "$D/kms.db" || exit 1
ms_start_kmsd_listen "$T" "$CONF" "$LOG" --threads 3 || exit 1
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "store locked at start: 503 with Retry-After 7 ($(status))" grep -qx 'Retry-After: 7' "$MS_TMP/h"
set_key retry_after 11
hup
ok=0
for i in 1 2 3 4 5 6; do
    post /keymanagement "$MS_RT" "$MS_RFC4567_I"
    [ "$(status)" = 503 ] && grep -qx 'Retry-After: 11' "$MS_TMP/h" && ok=$((ok + 1))
done
ms_check "retry_after 7 -> 11 on SIGHUP: 6 of 6 answers say Retry-After: 11 ($ok)" [ "$ok" = 6 ]
ms_check "reload names what it applied" grep -q "info: reload $CONF: applied retry_after\$" "$LOG"
ms_unlock_store
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "lock released: served ($(status))" [ "$(status)" = 200 ]

# --- a request in flight while kmsd reloads is answered in full
"$FCGICLIENT" "${P[@]}" -p SCRIPT_NAME=/keymanagement -p "QUERY_STRING=$MS_RT" \
    -b "$MS_RFC4567_I" --hold 1500 -t 20 "$T" >"$MS_TMP/inflight" 2>&1 &
CLIENT=$!
sleep 0.4
hup
wait "$CLIENT"
ms_check "request in flight during the reload: answered (rc $?)" grep -q '^Status: 200 OK' "$MS_TMP/inflight"
ms_check "reload without changes: logged" grep -q "info: reload $CONF: no change" "$LOG"
ms_check "kmsd still runs after SIGHUP" ms_running "$MS_KMSD_PID"

# --- skew_window: a request 600 s old is Invalid TS, then accepted
post /keymanagement "$MS_RT" "$(request_at -600)"
ms_check "T 600 s ago, skew_window 300: MIKEY Error (data type 6)" \
    [ "$(base64 -d <"$MS_TMP/b" 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')" = 6 ]
set_key skew_window 1000
hup
ok=0
for i in 1 2 3 4; do
    post /keymanagement "$MS_RT" "$(request_at -600)"
    [ "$(base64 -d <"$MS_TMP/b" 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')" = 13 ] && ok=$((ok + 1))
done
ms_check "skew_window 300 -> 1000 on SIGHUP: 4 of 4 answers REQUEST_RESP ($ok)" [ "$ok" = 4 ]

# count_after FILE: the request lines in FILE once the buffered ones are
# out (kmsd writes the line of an answer within a second, kmsd_log.h)
count_after() { sleep 1.5; grep -c 'status=' "$1"; }
# more_than FILE N: FILE gets more than N request lines within 3 s
more_than() {
    local i
    for ((i = 0; i < 30; i++)); do
        [ "$(grep -c 'status=' "$1" 2>/dev/null)" -gt "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# --- log_level: warn drops the request lines, info brings them back
set_key log_level warn
hup
ms_check "reload to log_level warn: the reload line still shows" \
    grep -q "info: reload $CONF: applied log_level\$" "$LOG"
before=$(count_after "$LOG")
for i in 1 2 3 4; do post /keymanagement "$MS_RT" "$MS_RFC4567_I"; done
ms_check "log_level warn: no request lines" [ "$(count_after "$LOG")" = "$before" ]
set_key log_level info
hup
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "log_level info again: request lines" more_than "$LOG" "$before"

# --- mount
set_key mount /kms2
hup
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "mount /kms2: the old mount is 404 ($(status))" [ "$(status)" = 404 ]
post /kms2 "$MS_RT" "$MS_RFC4567_I"
ms_check "mount /kms2: served there ($(status))" [ "$(status)" = 200 ]
set_key mount

# --- settings that need a restart: reported, kept, serving goes on
cp "$CONF" "$MS_TMP/good.conf"
set_key store "$MS_TMP/elsewhere.db"
set_key body_max 2048
set_key replay_max 100
set_key zn_timeout_ms 500
set_key kms_fqdn naf.example.net
set_key retry_after 13
hup
ms_check "store changed: reported as needing a restart" \
    grep -q "warn: reload $CONF: store changed; it needs a restart, still $D/kms.db" "$LOG"
ms_check "body_max changed: reported as needing a restart" \
    grep -q "warn: reload $CONF: body_max changed; it needs a restart, still 65536" "$LOG"
ms_check "replay_max changed: reported as needing a restart" \
    grep -q "warn: reload $CONF: replay_max changed; it needs a restart, still 4000000" "$LOG"
ms_check "zn_timeout_ms (GBA) changed: reported as needing a restart" \
    grep -q "warn: reload $CONF: zn_timeout_ms changed; it needs a restart, still 2000" "$LOG"
ms_check "kms_fqdn (GBA) changed: reported as needing a restart" \
    grep -q "warn: reload $CONF: kms_fqdn changed; it needs a restart, still kms.example.org" "$LOG"
ms_check "... the live change next to them is applied" \
    grep -q "info: reload $CONF: applied retry_after\$" "$LOG"
post /keymanagement "$MS_RT" "$(request_at 0)"
ms_check "store kept: alice still gets her ticket ($(status))" \
    [ "$(base64 -d <"$MS_TMP/b" 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')" = 13 ]
ms_check "no store created at the new path" [ ! -e "$MS_TMP/elsewhere.db" ]
head -c 3000 /dev/zero | tr '\0' A >"$MS_TMP/3000"
post /keymanagement "$MS_RT" "$(cat "$MS_TMP/3000")"
ms_check "body_max kept: a 3000-byte body is still under the cap (not 'too large')" \
    bash -c "! grep -q 'too large' '$MS_TMP/b'"

# --- a file that does not load changes nothing
cp "$MS_TMP/good.conf" "$CONF"
set_key mount /kms3
echo "bogus = 1" >>"$CONF"
hup
ms_check "broken file: the error is logged with file and line" \
    grep -q "error: reload: $CONF:[0-9]*: unknown key 'bogus'; still serving" "$LOG"
post /kms3 "$MS_RT" "$MS_RFC4567_I"
ms_check "broken file: its mount /kms3 is not applied ($(status))" [ "$(status)" = 404 ]
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "broken file: still served at /keymanagement ($(status))" [ "$(status)" = 200 ]
cp "$MS_TMP/good.conf" "$CONF"

# --- log_file: the log moves to a file, is reopened after a rotation,
# and comes back to standard error
set_key log_file "$MS_TMP/file.log"
hup "$MS_TMP/file.log"
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "log_file set on SIGHUP: request lines go to the file" more_than "$MS_TMP/file.log" 0
lines=$(count_after "$LOG")
mv "$MS_TMP/file.log" "$MS_TMP/file.1.log"
hup
ms_check "rotation: SIGHUP opens the file again" grep -q 'reload' "$MS_TMP/file.log"
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "rotation: new lines in the new file" more_than "$MS_TMP/file.log" 0
ms_check "rotation: the moved file gets no more lines" [ "$(count_after "$MS_TMP/file.1.log")" = 1 ]
ms_check "log_file: nothing more on standard error meanwhile" [ "$(grep -c 'status=' "$LOG")" = "$lines" ]
set_key log_file
hup
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "log_file removed: request lines back on standard error" more_than "$LOG" "$lines"
set_key log_file /nonexistent-dir/kmsd.log
hup
ms_check "log_file that cannot be opened: error logged, log stays" \
    grep -q "error: reload $CONF: log_file /nonexistent-dir/kmsd.log: No such file or directory" "$LOG"
post /keymanagement "$MS_RT" "$MS_RFC4567_I"
ms_check "... and kmsd serves on ($(status))" [ "$(status)" = 200 ]

ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"
ms_check "SIGTERM after reloads: exit 0 (rc $?)" [ $? = 0 ]
ms_done
