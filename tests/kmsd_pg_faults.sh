#!/bin/bash
# kmsd_pg_faults.sh - faults under load with two kmsd nodes on one
# PostgreSQL store (doc/profile.md §13.3); fresh Ticket Requests and
# Resolves from tests/load_client at both nodes, bounded by a deadline:
#  - PostgreSQL stopped (fast shutdown) for about two seconds and started
#    again: meanwhile both nodes answer 503 with Retry-After, afterwards
#    both answer again without a restart (each kmsd reconnects), and every
#    answer a client received with keys has its record, once;
#  - node A's kmsd killed (kill -9): node B answers every request of its
#    clients all along; no answer with keys lost its record; A started
#    again serves.
# Loopback and a Unix socket only. Skips (77) without PostgreSQL,
# lighttpd, spawn-fcgi or load_client (libcurl).
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"
. "$MS_SRC/tests/lib_pg.sh"

LOAD=$MS_BUILD/tests/load_client
ms_need lighttpd spawn-fcgi curl
pg_need
[ -x "$LOAD" ] || ms_skip "$LOAD not built (needs libcurl)"
pg_need_libpq
pg_setup

pg_start "$MS_TMP/pg" || { echo "PostgreSQL did not start"; exit 1; }
. "$MS_SRC/tests/lib_cluster.sh"
MC_THREADS=4
mc_start 2 || exit 1
D=$MC_DIR
A=(--psk-file "$D/alice.psk" --psk-id alice --impu sip:alice@example.org)
echo "# node A port ${MC_PORT[0]}, node B port ${MC_PORT[1]}"

# load NAME NODE SECONDS: load_client at node NODE in the background
# (LOADPID), its output in $MS_TMP/NAME.{out,err,answers}
load() {
    rm -f "$MS_TMP/$1.answers"
    timeout -k 5 60 "$LOAD" --url "http://127.0.0.1:${MC_PORT[$2]}/keymanagement" \
        --alice-psk-file "$D/alice.psk" --bob-psk-file "$D/bob.psk" \
        --clients 4 --requests 100000 --duration "$3" --backoff-ms 50 \
        --answers "$MS_TMP/$1.answers" \
        >"$MS_TMP/$1.out" 2>"$MS_TMP/$1.err" &
    LOADPID=$!
}
# load_both NAME SECONDS: load NAMEA on node A and NAMEB on node B at once
# (their pids in LA and LB).
load_both() {
    load "$1A" 0 "$2"
    LA=$LOADPID
    load "$1B" 1 "$2"
    LB=$LOADPID
}
val() { sed -n "s/^$2=//p" "$MS_TMP/$1.out"; }

# every answer with keys since unix time SINCE has its record, once
# ("service ticket_id")
check_records() { # NAME SINCE ANSWER_FILES...
    local name=$1 since=$2 missing doubled
    shift 2
    "$KMSCTL" --config "$D/b/kms.conf" records --since "$since" >"$MS_TMP/records"
    sed -n 's/.*"service":"\([a-z]*\)".*"ticket_id":"\([0-9a-f]*\)".*"outcome":"ok".*/\1 \2/p' \
        "$MS_TMP/records" | sort >"$MS_TMP/recorded"
    cat "$@" | cut -d' ' -f1,2 | sort >"$MS_TMP/answered"
    missing=$(comm -23 "$MS_TMP/answered" "$MS_TMP/recorded" | wc -l)
    doubled=$(uniq -d "$MS_TMP/recorded" | wc -l)
    ms_check "$name: every answer with keys has its record ($(wc -l <"$MS_TMP/answered") answers, $missing missing)" [ "$missing" = 0 ]
    ms_check "$name: no record twice ($doubled doubled)" [ "$doubled" = 0 ]
    echo "# $name: $(comm -13 "$MS_TMP/answered" "$MS_TMP/recorded" | wc -l) ok records of answers that did not arrive (in flight at the fault)"
}

# ---------------------------------------------------------------- PostgreSQL down

T1=$(date +%s)
load_both pg 7
sleep 1.5
pg_ctl_stop fast
ms_check "PostgreSQL stopped under load" [ ! -f "$PG_DATA/postmaster.pid" ]
sleep 0.5
for i in 0 1; do
    REQ=$("$MIKEY_UE" request "${A[@]}" --peer sip:bob@example.org 2>/dev/null)
    ms_post "http://127.0.0.1:${MC_PORT[$i]}/keymanagement?$MS_RT" --data-binary "$REQ"
    ms_check "node ${MC_NAME[$i]} while PostgreSQL is down: 503 (got $MS_CODE)" [ "$MS_CODE" = 503 ]
    ms_expect_header "node ${MC_NAME[$i]} while PostgreSQL is down" Retry-After 7
done
ms_req "http://127.0.0.1:${MC_PORT[0]}/kms-status/health"
ms_expect_code "node a's health page while PostgreSQL is down" 503
ms_check "node a's health names the store" grep -q '"store":"the store cannot be' "$MS_TMP/b"
sleep 1
pg_ctl_start
ms_check "PostgreSQL started again" [ -f "$PG_DATA/postmaster.pid" ]
wait "$LA"
wait "$LB"
for n in pgA pgB; do
    sed "s/^/# $n: /" "$MS_TMP/$n.out"
    head -n 3 "$MS_TMP/$n.err" | sed "s/^/# $n: /"
done
ms_check "answers with keys before and after the outage (A $(val pgA ok), B $(val pgB ok))" \
    [ "$(val pgA ok)" -ge 20 -a "$(val pgB ok)" -ge 20 ]
ms_check "the outage refused requests (A $(val pgA failed), B $(val pgB failed) failed)" \
    [ "$(val pgA failed)" -ge 1 -a "$(val pgB failed)" -ge 1 ]
ms_check "answers with keys after PostgreSQL came back (last lines of both answer files are fresh)" \
    bash -c "[ -s '$MS_TMP/pgA.answers' ] && [ -s '$MS_TMP/pgB.answers' ]"
for i in 0 1; do
    REQ=$("$MIKEY_UE" request --url "http://127.0.0.1:${MC_PORT[$i]}/keymanagement" "${A[@]}" \
        --peer sip:bob@example.org 2>"$MS_TMP/after.err")
    ms_check "node ${MC_NAME[$i]} answers with keys after the restart, kmsd not restarted ($(head -n 1 "$MS_TMP/after.err"))" \
        bash -c "echo '$REQ' | grep -q '^request_resp='"
done
check_records "PostgreSQL stopped under load" "$T1" "$MS_TMP/pgA.answers" "$MS_TMP/pgB.answers"

# ---------------------------------------------------------------- node A killed

sleep 1 # the records of this part from the next second on
T2=$(date +%s)
load_both kill 5
sleep 1.5
kill -KILL "${MC_KMSD[0]}"
ms_check "node A's kmsd killed under load" bash -c "sleep 0.2; ! kill -0 ${MC_KMSD[0]} 2>/dev/null"
wait "$LA"
wait "$LB"
rcB=$?
for n in killA killB; do
    sed "s/^/# $n: /" "$MS_TMP/$n.out"
done
ms_check "node B answered every request of its clients meanwhile ($(val killB ok) of $(val killB requests), load_client rc $rcB)" \
    [ "$(val killB failed)" = 0 ]
ms_check "node A's clients failed after the kill ($(val killA failed) failed)" [ "$(val killA failed)" -ge 1 ]
check_records "node A killed under load" "$T2" "$MS_TMP/killA.answers" "$MS_TMP/killB.answers"
mc_start_node 0 || exit 1
ms_check "node A started again: lighttpd passes requests to it within 10 s" mc_wait_serving 0
ms_check "node B still serving" mc_wait_serving 1
"$MIKEY_UE" chain --url "http://127.0.0.1:${MC_PORT[1]}/keymanagement" \
    --resolve-url "http://127.0.0.1:${MC_PORT[0]}/keymanagement" \
    --alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$D/alice.psk" \
    --bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$D/bob.psk" >"$MS_TMP/chain.out" 2>&1
ms_check "node A started again: request on B, resolve on A" ms_chain_keys_match "$MS_TMP/chain.out" 32
ms_done
