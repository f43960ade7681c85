#!/bin/bash
# kmsd_pg.sh - two kmsd nodes (each under spawn-fcgi behind its own
# lighttpd) on one PostgreSQL store (doc/profile.md §13), the server a
# private one of Debian's packages (tests/lib_pg.sh):
#  - the chain across nodes, request on A and resolve on B (and B then A),
#    both suites, with and without key forking;
#  - a request answered by A, sent again to B: Error 1 (Invalid TS) with V;
#  - copies of one message raced at both nodes at once: exactly one answer
#    with keys, every other Error 1 with V, one record per answer; the same
#    for a Ticket Resolve;
#  - a J = 0 ticket: the same responder again through the other node
#    within the grace gets keys, another responder 403 and a record;
#  - operator changes made with kmsctl (subscriber disable / enable,
#    ticketkey rotate + retire) apply at B's next answer although B has the
#    rows cached;
#  - `kmsctl records` through either node's configuration lists the same
#    records, those of both nodes;
#  - kmsctl migrate-store copies a SQLite store (subscribers with their
#    PSKs, ticket keys, records) into a new database, keys still wrapped.
# Skips (77) when PostgreSQL, lighttpd or spawn-fcgi is not installed.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"
. "$MS_SRC/tests/lib_pg.sh"

ms_need lighttpd spawn-fcgi curl sqlite3
pg_need
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
"$MIKEY_UE" --help 2>&1 | grep -q -- '--resolve-url' || ms_skip "mikey-ue built without libcurl"
pg_need_libpq
pg_setup

pg_start "$MS_TMP/pg" || { echo "PostgreSQL did not start"; exit 1; }
. "$MS_SRC/tests/lib_cluster.sh"
mc_start 2 || exit 1
UA=http://127.0.0.1:${MC_PORT[0]}/keymanagement
UB=http://127.0.0.1:${MC_PORT[1]}/keymanagement
echo "# node A $UA, node B $UB, store $PG_URI"
D=$MC_DIR
A=(--psk-file "$D/alice.psk" --psk-id alice --impu sip:alice@example.org)
B=(--psk-file "$D/bob.psk" --psk-id bob --impu sip:bob@example.org)
kc() { "$KMSCTL" --config "$MC_DIR/a/kms.conf" "$@"; }

# ---------------------------------------------------------------- chains

chain() { # NAME REQUEST_URL RESOLVE_URL [options]
    local name=$1 u1=$2 u2=$3 rc
    shift 3
    "$MIKEY_UE" chain --url "$u1" --resolve-url "$u2" "$@" \
        --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$D/alice.psk" \
        --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$D/bob.psk" \
        >"$MS_TMP/chain.out" 2>"$MS_TMP/chain.err"
    rc=$?
    ms_check "$name: exit 0 (rc $rc$([ "$rc" = 0 ] || head -n 1 "$MS_TMP/chain.err" | sed 's/^/: /'))" [ "$rc" = 0 ]
}
for suite in 128 256; do
    for fork in "" --forking; do
        chain "request on A, resolve on B (suite $suite${fork:+, forking})" "$UA" "$UB" --suite "$suite" $fork
        ms_check "  same SRTP keys" ms_chain_keys_match "$MS_TMP/chain.out" $((suite / 4))
        if [ -n "$fork" ]; then
            ms_check "  keys forked" grep -q 'keys forked for bob' "$MS_TMP/chain.out"
        fi
    done
done
chain "request on B, resolve on A" "$UB" "$UA"
ms_check "  same SRTP keys" ms_chain_keys_match "$MS_TMP/chain.out" 32

# ---------------------------------------------------------------- replay

# body's MIKEY header: data type (byte 1); Error 1 with V (mikeydump)
is_error1() { # FILE (base64 body)
    "$MS_BUILD/tools/mikeydump" --json -f "$1" >"$1.json" 2>/dev/null &&
        grep -q '"data_type":6,' "$1.json" && grep -q '"error_no":1,' "$1.json" &&
        grep -q '"payload":"V"' "$1.json"
}
"$MIKEY_UE" request --url "$UA" "${A[@]}" --peer sip:bob@example.org >"$MS_TMP/req.out" 2>&1
REQ=$(sed -n 's/^request=//p' "$MS_TMP/req.out")
ms_check "a Ticket Request answered with keys by A" [ -n "$REQ" ]
ms_post "$UB?$MS_RT" --data-binary "$REQ"
cp "$MS_TMP/b" "$MS_TMP/replay.b64"
ms_check "the same request sent to B: 200 with Error 1 (Invalid TS) and V" \
    bash -c "[ '$MS_CODE' = 200 ] && $(declare -f is_error1); MS_BUILD='$MS_BUILD' is_error1 '$MS_TMP/replay.b64'"
ms_post "$UA?$MS_RT" --data-binary "$REQ"
cp "$MS_TMP/b" "$MS_TMP/replay2.b64"
ms_check "... and sent to A again: Error 1 as well" \
    bash -c "[ '$MS_CODE' = 200 ] && $(declare -f is_error1); MS_BUILD='$MS_BUILD' is_error1 '$MS_TMP/replay2.b64'"

# ---------------------------------------------------------------- race

COPIES=8 # per node
records() { kc records | wc -l; }
# race NAME QUERY BODY WANT_DATA_TYPE: COPIES copies to each node at once
race() {
    local name=$1 query=$2 body=$3 want=$4 i n before after ok=0 err1=0 other=0
    local dir=$MS_TMP/race.$RANDOM pids=()
    mkdir -p "$dir"
    mkfifo "$dir/gate"
    before=$(records)
    for i in $(seq 1 $((2 * COPIES))); do
        n=$((i % 2))
        (read -r _ <"$dir/gate"
         curl -s --max-time 20 -H 'Expect:' -H 'Content-Type: application/mikey' \
             -o "$dir/$i.b64" -w '%{http_code}' --data-binary "$body" \
             "http://127.0.0.1:${MC_PORT[$n]}/keymanagement?$query" >"$dir/$i.code") &
        pids+=($!)
    done
    sleep 0.3
    exec 8>"$dir/gate"
    exec 8>&-
    wait "${pids[@]}"
    WINNER=
    for i in $(seq 1 $((2 * COPIES))); do
        "$MS_BUILD/tools/mikeydump" --json -f "$dir/$i.b64" >"$dir/$i.json" 2>/dev/null
        if [ "$(cat "$dir/$i.code")" != 200 ]; then
            other=$((other + 1))
        elif grep -q "\"data_type\":$want," "$dir/$i.json"; then
            ok=$((ok + 1))
            WINNER=$(cat "$dir/$i.b64")
        elif is_error1 "$dir/$i.b64"; then
            err1=$((err1 + 1))
        else
            other=$((other + 1))
        fi
    done
    after=$(records)
    ms_check "$name: exactly one of $((2 * COPIES)) copies (both nodes) answered with keys ($ok)" [ "$ok" = 1 ]
    ms_check "$name: every other copy Error 1 with V ($err1)" [ "$err1" = $((2 * COPIES - 1)) ]
    ms_check "$name: nothing else ($other)" [ "$other" = 0 ]
    ms_check "$name: one record per answer ($before -> $after)" [ "$after" = $((before + 2 * COPIES)) ]
}
for r in 1 2; do
    REQ=$("$MIKEY_UE" request "${A[@]}" --peer sip:bob@example.org 2>/dev/null)
    race "Ticket Request raced, round $r" "$MS_RT" "$REQ" 13
    TI=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$REQ" --peer sip:bob@example.org "$WINNER" 2>/dev/null)
    RI=$("$MIKEY_UE" resolve "${B[@]}" "$TI" 2>/dev/null)
    race "Ticket Resolve raced, round $r" requesttype=ticketresolve "$RI" 18
done

# ---------------------------------------------------------------- J = 0

# A ticket that may not be reused (TP flag J = 0, doc/profile.md §9.37)
# names bob and carol. Bob resolves it on A, and again on B within the
# grace: keys both times. Carol's resolve on B is refused, 403, and
# recorded as a refusal, by the one commit of its answer.
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$D/carol.psk"
kc subscriber add --psk-id carol --psk-file "$D/carol.psk" --impu sip:carol@example.org >/dev/null
C=(--psk-file "$D/carol.psk" --psk-id carol --impu sip:carol@example.org)
"$MIKEY_UE" request --url "$UA" "${A[@]}" --peer sip:bob@example.org --peer sip:carol@example.org >"$MS_TMP/j0.out" 2>&1
JREQ=$(sed -n 's/^request=//p' "$MS_TMP/j0.out")
JRESP=$(sed -n 's/^request_resp=//p' "$MS_TMP/j0.out")
JTB=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$JREQ" --peer sip:bob@example.org "$JRESP" 2>/dev/null)
JTC=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$JREQ" --peer sip:carol@example.org "$JRESP" 2>/dev/null)
"$MIKEY_UE" accept-request-resp "${A[@]}" --request "$JREQ" "$JRESP" >"$MS_TMP/j0.acc" 2>/dev/null
ms_check "J = 0: a ticket for bob and carol, J not granted ($(grep '^flags' "$MS_TMP/j0.acc"))" \
    bash -c "[ -n '$JTB' ] && [ -n '$JTC' ] && grep -q '^flags' '$MS_TMP/j0.acc' && ! grep '^flags' '$MS_TMP/j0.acc' | grep -q J"
resolve_on() { # URL CREDENTIALS... TRANSFER_INIT: 0 with keys
    local u=$1
    shift
    "$MIKEY_UE" resolve --url "$u" "$@" >"$MS_TMP/j0r.out" 2>"$MS_TMP/j0r.err" &&
        grep -q '^resolve_resp=' "$MS_TMP/j0r.out"
}
ms_check "J = 0: bob resolves on A" resolve_on "$UA" "${B[@]}" "$JTB"
ms_check "J = 0: bob resolves again on B, within the grace" resolve_on "$UB" "${B[@]}" "$JTB"
before=$(kc records | grep -c 'forbidden by policy')
resolve_on "$UB" "${C[@]}" "$JTC"
ms_check "J = 0: carol's resolve on B refused: $(head -n 1 "$MS_TMP/j0r.err")" \
    grep -q 'HTTP 403' "$MS_TMP/j0r.err"
ms_check "J = 0: ... and recorded as a refusal" \
    [ "$(kc records | grep -c 'forbidden by policy')" = $((before + 1)) ]

# ---------------------------------------------------------------- operator changes

# B has alice's and the ticket keys' rows cached (it just answered her);
# a change made with kmsctl applies at B's very next answer
chain "B warmed up" "$UB" "$UB"
kc subscriber disable alice >/dev/null
"$MIKEY_UE" request --url "$UB" "${A[@]}" --peer sip:bob@example.org >"$MS_TMP/dis.out" 2>"$MS_TMP/dis.err"
ms_check "alice disabled through kmsctl: B refuses her next request ($(head -n 1 "$MS_TMP/dis.err"))" \
    bash -c "! grep -q '^request_resp=' '$MS_TMP/dis.out'"
kc subscriber enable alice >/dev/null
chain "alice enabled again: B answers her next request" "$UB" "$UB"

# a ticket sealed with the active key, then the key rotated and retired:
# B, which has the old key cached, must no longer resolve the ticket
"$MIKEY_UE" request --url "$UB" "${A[@]}" --peer sip:bob@example.org >"$MS_TMP/old.out" 2>&1
OREQ=$(sed -n 's/^request=//p' "$MS_TMP/old.out")
ORESP=$(sed -n 's/^request_resp=//p' "$MS_TMP/old.out")
OTI=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$OREQ" --peer sip:bob@example.org "$ORESP" 2>/dev/null)
OLD=$(kc ticketkey list | awk '$2 == "active" { print $1 }')
kc ticketkey rotate >/dev/null && kc ticketkey retire "$OLD" >/dev/null
ms_check "ticket key $OLD rotated and retired through kmsctl" \
    bash -c "'$KMSCTL' --config '$MC_DIR/b/kms.conf' ticketkey list | grep -q '^$OLD	retired'"
"$MIKEY_UE" resolve --url "$UB" "${B[@]}" "$OTI" >"$MS_TMP/ret.out" 2>"$MS_TMP/ret.err"
ms_check "B refuses to resolve a ticket of the retired key at its next answer ($(head -n 1 "$MS_TMP/ret.err"))" \
    bash -c "! grep -q '^resolve_resp=' '$MS_TMP/ret.out'"
chain "and answers with the new key (request A, resolve B)" "$UA" "$UB"

# ---------------------------------------------------------------- records

kc records >"$MS_TMP/rec.a"
"$KMSCTL" --config "$MC_DIR/b/kms.conf" records >"$MS_TMP/rec.b"
ms_check "kmsctl records through either node's configuration: the same ($(wc -l <"$MS_TMP/rec.a") records)" \
    cmp -s "$MS_TMP/rec.a" "$MS_TMP/rec.b"
ms_check "records of both nodes' answers (the raced copies: $((2 * COPIES)) per race at least)" \
    [ "$(wc -l <"$MS_TMP/rec.a")" -ge $((8 * COPIES)) ]
kc replay status >"$MS_TMP/status.a"
ms_check "replay status of the shared cache, synchronous_commit off (durable = no)" \
    bash -c "grep -q '^store postgresql' '$MS_TMP/status.a' && grep -q '^synchronous_commit off' '$MS_TMP/status.a'"
{ cat "$MC_DIR/a/kms.conf"; echo "durable = yes"; } >"$MC_DIR/a/durable.conf"
"$KMSCTL" --config "$MC_DIR/a/durable.conf" replay status >"$MS_TMP/status.d"
ms_check "durable = yes: the session's synchronous_commit is on" grep -q '^synchronous_commit on' "$MS_TMP/status.d"

# ---------------------------------------------------------------- migrate-store

S=$MS_TMP/sqlite
ms_make_store "$S"
"$KMSCTL" --store "$S/kms.db" --master-key "$S/master.key" ticketkey rotate >/dev/null
"$MS_BUILD/tests/test_store_fill" "$S/kms.db" "$S/master.key" >/dev/null 2>&1
pg_as "$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U mikeykms migrated
URI2=${PG_URI/\/mikeykms\?//migrated?}
"$KMSCTL" --master-key "$S/master.key" migrate-store --from "$S/kms.db" --to "$URI2" >"$MS_TMP/mig.out" 2>&1
ms_check "migrate-store: $(cat "$MS_TMP/mig.out")" grep -q '^copied 2 subscribers, 2 ticket keys, 3 records' "$MS_TMP/mig.out"
for what in "subscriber list" "ticketkey list" "records" "subscriber show alice --show-psk" "subscriber show bob --show-psk"; do
    # shellcheck disable=SC2086
    "$KMSCTL" --store "$S/kms.db" --master-key "$S/master.key" $what >"$MS_TMP/m.sq" 2>&1
    # shellcheck disable=SC2086
    "$KMSCTL" --store "$URI2" --master-key "$S/master.key" $what >"$MS_TMP/m.pg" 2>&1
    ms_check "migrate-store: kmsctl $what the same in both stores" cmp -s "$MS_TMP/m.sq" "$MS_TMP/m.pg"
done
psql -X -At -h "$PG_SOCK" -p "$PG_PORT" -U mikeykms -d migrated \
    -c "SELECT encode(psk_wrapped, 'hex') FROM subscribers" >"$MS_TMP/wrapped"
ms_check "migrate-store: the PSKs arrive wrapped (2 values, neither PSK in clear)" \
    bash -c "[ \$(grep -c . '$MS_TMP/wrapped') = 2 ] && ! grep -qi -e '$(cat "$S/alice.psk")' -e '$(cat "$S/bob.psk")' '$MS_TMP/wrapped'"
"$KMSCTL" --master-key "$S/master.key" migrate-store --from "$S/kms.db" --to "$URI2" >"$MS_TMP/mig2.out" 2>&1
rc=$?
ms_check "migrate-store into a store that is not empty: refused (rc $rc)" \
    bash -c "[ $rc != 0 ] && grep -q 'not empty' '$MS_TMP/mig2.out'"

# the health page of a node reads the shared store (kmsd_status.c)
ms_req "http://127.0.0.1:${MC_PORT[1]}/kms-status/health"
ms_expect_code "node B's health page" 200
ms_check "node B's health: store and active ticket key ok" \
    grep -q '"store":"ok",.*"ticket_key":"ok"' "$MS_TMP/b"

ms_alive "node A" "http://127.0.0.1:${MC_PORT[0]}"
ms_alive "node B" "http://127.0.0.1:${MC_PORT[1]}"
ms_done
