#!/usr/bin/env bash
# gba_bench.sh - benchmark (not a test) of the KMS as a GBA NAF
# (doc/profile.md §10), figures in doc/benchmarks.md:
#  1. Ticket Requests per second through lighttpd + kmsd (spawn-fcgi, one
#     process with --threads BENCH_THREADS) for a provisioned PSK subscriber
#     and for a GBA subscriber (IDRpsk a B-TID, PSK Ks_NAF) whose Ks_NAF is
#     in the node's cache, taking turns in the same run (ua_auth = none:
#     the key source is what differs). wrk with bench/post_lines.lua, each
#     request fresh and sent once (gen_requests), every answer checked.
#  2. The round trip of a Bootstrapping-Info-Request on loopback: BENCH_BIRS
#     bootstrappings no kmsd has seen, one Ticket Request each (mikey-ue,
#     one after the other), and the time kms-znd logs from sending the BIR
#     to its answer (freeDiameter over TCP to zn-test-bsf), and the time of
#     the whole first request of a B-TID as kmsd logs it. kmsd logs one
#     line per request (info), in both runs of 1.
#
#   bench/gba_bench.sh [BUILD_DIR]        (default ./build/plain)
#
# Environment: BENCH_SECONDS=5 (wrk -d), BENCH_ROUNDS=3 (PSK, GBA, PSK, ...),
# BENCH_CONNS=16 (wrk -c), BENCH_THREADS=2 (kmsd --threads), BENCH_BIRS=200.
# Only 127.0.0.1 is used; every process started here is stopped on exit.
set -u
BUILD=$(cd "${1:-./build/plain}" 2>/dev/null && pwd) || { echo "no build directory" >&2; exit 2; }
top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
top_builddir=$BUILD
export top_srcdir top_builddir
# the loopback helpers of the integration tests
# shellcheck source=../tests/lib_servers.sh
. "$top_srcdir/tests/lib_servers.sh"
# shellcheck source=../tests/lib_gba.sh
. "$top_srcdir/tests/lib_gba.sh"
SECONDS_=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-2}
BIRS=${BENCH_BIRS:-200}
GEN=$BUILD/bench/gen_requests
LUA=$top_srcdir/bench/post_lines.lua
for p in "$GEN" "$KMS_ZND" "$TEST_BSF" "$MIKEY_UE"; do
    [ -x "$p" ] || { echo "gba_bench: $p not built (make && make bench)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "gba_bench: wrk is not installed" >&2; exit 2; }
ms_setup

D=$MS_TMP/kms
G=$MS_TMP/gba
gba_make_store "$D" "$G"
NOW=$(date +%s)
BT=$(gba_btid) KS=$(gba_ks)
gba_provision "$G" "$BT" alice@ims.example.org "$KS" $((NOW + 7200)) sip:alice@example.org
"$MIKEY_UE" gba-key --ks "$KS" --rand "$(gba_rand_hex "$BT")" --impi alice@ims.example.org \
    --naf-fqdn kms.example.org >"$MS_TMP/galice.psk"
gba_start_bsf "$G" || exit 1
gba_start_znd "$G" "$D/kms.conf" || exit 1
gba_wait_connected "$G" 1 || { echo "kms-znd did not connect"; exit 1; }
SOCK=$MS_TMP/kmsd.sock
ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads "$THREADS" || exit 1
ms_start_lighttpd "$SOCK" || exit 1
echo "# lighttpd :$MS_PORT, kmsd --threads $THREADS, wrk -c $CONNS -d ${SECONDS_}s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# the GBA subscriber's Ks_NAF into the node's cache
"$MIKEY_UE" request --url "http://127.0.0.1:$MS_PORT/keymanagement" --gba-btid "$BT" \
    --gba-ks "$KS" --gba-impi alice@ims.example.org --impu sip:alice@example.org \
    --peer sip:bob@example.org >/dev/null || { echo "the GBA request failed"; exit 1; }

# gen KIND N FILE: N fresh Ticket Requests of alice, PSK or GBA
gen() {
    local id=alice psk=$D/alice.psk
    [ "$1" = gba ] && { id=$BT; psk=$MS_TMP/galice.psk; }
    "$GEN" --config "$D/kms.conf" --no-check --initiator-psk-file "$psk" \
        --initiator-psk-id "$id" --responder-psk-file "$D/bob.psk" \
        --requests "$2" --request-out "$3" >>"$MS_TMP/gen.log" 2>&1 ||
        { tail -n 5 "$MS_TMP/gen.log"; exit 1; }
}

declare -A ANS BAD RATES
ANS[psk]=0 ANS[gba]=0 BAD[psk]=0 BAD[gba]=0 RATES[psk]= RATES[gba]=
N=$((SECONDS_ * 12000))
for ((r = 1; r <= ROUNDS; r++)); do
    for kind in psk gba; do
        gen "$kind" "$N" "$MS_TMP/$kind.lines"
        wrk -t 1 -c "$CONNS" -d "${SECONDS_}s" --timeout 10s -s "$LUA" "http://127.0.0.1:$MS_PORT" -- \
            file="$MS_TMP/$kind.lines" threads=1 expect=13 >"$MS_TMP/wrk.out" 2>&1
        a=$(sed -n 's/^post_lines: answers=\([0-9]*\).*/\1/p' "$MS_TMP/wrk.out")
        b=$(sed -n 's/^post_lines: .* bad=\([0-9]*\).*/\1/p' "$MS_TMP/wrk.out")
        ex=$(sed -n 's/^post_lines: .* exhausted=\([a-z]*\).*/\1/p' "$MS_TMP/wrk.out")
        rate=$(awk '/^Requests\/sec:/ {print $2}' "$MS_TMP/wrk.out")
        echo "round $r $kind: $rate requests/s (answers ${a:-0}, bad ${b:-?}, list used up: ${ex:-?})"
        ANS[$kind]=$((ANS[$kind] + ${a:-0}))
        RATES[$kind]="${RATES[$kind]} ${rate:-0}"
        BAD[$kind]=$((BAD[$kind] + ${b:-0}))
    done
done
for kind in psk gba; do
    med=$(printf '%s\n' ${RATES[$kind]} | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    echo "$kind: $((ANS[$kind] / (ROUNDS * SECONDS_))) Ticket Requests/s over $ROUNDS x ${SECONDS_}s, median round $med (bad answers: ${BAD[$kind]})"
done
echo "BIRs during the runs: $(gba_birs "$G" "$BT") (the cache held Ks_NAF)"

# the BIR round trip: BIRS new bootstrappings, one first request each
: >"$MS_TMP/birs.txt"
for ((i = 0; i < BIRS; i++)); do
    bt=$(gba_btid) ks=$(gba_ks)
    gba_provision "$G" "$bt" "u$i@ims.example.org" "$ks" $((NOW + 7200)) "sip:u$i@example.org"
    echo "$bt $ks $i" >>"$MS_TMP/birs.txt"
done
cp "$MS_TMP/kmsd.log" "$MS_TMP/kmsd.before"
while read -r bt ks i; do
    "$MIKEY_UE" request --url "http://127.0.0.1:$MS_PORT/keymanagement" --gba-btid "$bt" \
        --gba-ks "$ks" --gba-impi "u$i@ims.example.org" --impu "sip:u$i@example.org" \
        --peer sip:bob@example.org >/dev/null || echo "first request of u$i failed"
done <"$MS_TMP/birs.txt"
stats() { # label: values on stdin (microseconds)
    sort -n | awk -v l="$1" '{v[NR] = $1} END {
        if (NR == 0) { print l ": none"; exit }
        printf "%s: n=%d min=%d median=%d p90=%d max=%d us\n", l, NR, v[1],
            v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'
}
grep -F -f <(cut -d' ' -f1 "$MS_TMP/birs.txt" | sed 's/^/btid=/; s/$/ /') "$G/znd.log" |
    sed -n 's/.* verdict=ok us=\([0-9]*\)$/\1/p' | stats "BIR round trip (kms-znd: BIR sent to BIA read)"
diff "$MS_TMP/kmsd.before" "$MS_TMP/kmsd.log" | grep 'status=200 service=ticketrequest' | sed -n 's/.* us=\([0-9]*\).*/\1/p' |
    stats "first Ticket Request of a B-TID in kmsd (cache miss, BIR, answer)"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other work shares the cores)"
