#!/bin/bash
# kmsd_race.sh - copies of one valid message sent at the same moment to
# several kmsd processes of several threads each, on one store and one node
# state (spawn-fcgi -F 4, every process with --threads 4: the process model
# of spawn-fcgi and mod_fcgid, and threads): exactly one answer carries
# keys, every other one is a MIKEY Error 1 (Invalid TS) with a V, and there
# is one record per answer (RFC 3830 §5.4, doc/profile.md §7, §8). Once for
# a Ticket Request, once for a Ticket Resolve, several rounds each.
# Loopback only (unix socket), bounded: 32 clients per round, 10 s each.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need spawn-fcgi sqlite3
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
ms_setup

COPIES=32
ROUNDS=${MK_RACE_ROUNDS:-3}
D=$MS_TMP/kms
ms_make_store "$D"
SOCK=$MS_TMP/kmsd.sock
spawn-fcgi -s "$SOCK" -M 0600 -F 4 -P "$MS_TMP/kmsd.pids" -- "$KMSD" \
    --config "$D/kms.conf" --threads 4 </dev/null >>"$MS_TMP/kmsd.log" 2>&1 ||
    { echo "spawn-fcgi failed"; cat "$MS_TMP/kmsd.log"; exit 1; }
for pid in $(cat "$MS_TMP/kmsd.pids"); do ms_track "$pid"; done
ms_check "4 kmsd processes started" [ "$(grep -c . "$MS_TMP/kmsd.pids")" = 4 ]
sleep 1 # each opens its store connections and node state

A=(--psk-file "$D/alice.psk" --psk-id alice --impu sip:alice@example.org)
B=(--psk-file "$D/bob.psk" --psk-id bob --impu sip:bob@example.org)
records() { ms_kmsctl "$D" records | wc -l; }

# race NAME QUERY BODY DATA_TYPE: COPIES clients wait at a gate (a FIFO
# that each opens for reading); opening it for writing and closing it lets
# them all go at once.
race() {
    local name=$1 query=$2 body=$3 want=$4 i before after ok err1 other
    local dir=$MS_TMP/race.$RANDOM
    mkdir -p "$dir"
    mkfifo "$dir/gate"
    before=$(records)
    local pids=()
    for i in $(seq 1 "$COPIES"); do
        (read -r _ <"$dir/gate"
         "$FCGICLIENT" -p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 \
             -p SCRIPT_NAME=/keymanagement -p "QUERY_STRING=$query" \
             -p CONTENT_TYPE=application/mikey -b "$body" -t 10 "unix:$SOCK" \
             >"$dir/$i.out" 2>&1) &
        pids+=($!)
    done
    sleep 0.5
    exec 8>"$dir/gate"
    exec 8>&-
    wait "${pids[@]}"
    ok=0; err1=0; other=0; WINNER=
    for i in $(seq 1 "$COPIES"); do
        # the base64 body: the last line of the FastCGI stdout
        tail -n 1 "$dir/$i.out" | tr -d '\r' >"$dir/$i.b64"
        "$MS_BUILD/tools/mikeydump" --json -f "$dir/$i.b64" >"$dir/$i.json" 2>/dev/null
        if ! grep -q '^Status: 200 OK' "$dir/$i.out"; then
            other=$((other + 1))
            echo "# $name: copy $i: $(head -n 1 "$dir/$i.out" | tr -d '\r')"
        elif grep -q "\"data_type\":$want," "$dir/$i.json"; then
            ok=$((ok + 1))
            WINNER=$(cat "$dir/$i.b64")
        elif grep -q '"data_type":6,' "$dir/$i.json" &&
            grep -q '"error_no":1,' "$dir/$i.json" &&
            grep -q '"payload":"V"' "$dir/$i.json"; then
            err1=$((err1 + 1))
        else
            other=$((other + 1))
            echo "# $name: copy $i: 200 but $(head -c 200 "$dir/$i.json")"
        fi
    done
    after=$(records)
    ms_check "$name: exactly one of $COPIES copies answered with keys ($ok)" [ "$ok" = 1 ]
    ms_check "$name: every other copy Error 1 (Invalid TS) with V ($err1)" [ "$err1" = $((COPIES - 1)) ]
    ms_check "$name: nothing else ($other)" [ "$other" = 0 ]
    ms_check "$name: one record per answer ($before -> $after)" [ "$after" = $((before + COPIES)) ]
    rm -rf "$dir"
}

for r in $(seq 1 "$ROUNDS"); do
    REQ=$("$MIKEY_UE" request "${A[@]}" --peer sip:bob@example.org 2>/dev/null)
    race "Ticket Request, round $r" "$MS_RT" "$REQ" 13
    # the ticket the one REQUEST_RESP carried, resolved by bob, raced the
    # same way
    TI=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$REQ" --peer sip:bob@example.org "$WINNER" 2>/dev/null)
    RI=$("$MIKEY_UE" resolve "${B[@]}" "$TI" 2>/dev/null)
    ms_check "round $r: bob's RESOLVE_INIT built" [ -n "$RI" ]
    race "Ticket Resolve, round $r" requesttype=ticketresolve "$RI" 18
done

ms_check "no kmsd process died" bash -c "for p in \$(cat '$MS_TMP/kmsd.pids'); do kill -0 \$p || exit 1; done"
ms_done
