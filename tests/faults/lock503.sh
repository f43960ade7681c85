#!/bin/bash
# faults/lock503.sh - `make check-faults`: 503 latency under a locked store
# (issue 9, item 6; doc/profile.md §9.45). The store locked for readers
# too before kmsd starts (4 threads, busy_timeout_ms BUSY), then ROUNDS
# rounds of 16 raw FastCGI clients at once: every client gets 503 with
# Retry-After within 2 x BUSY; prints the latencies of all of them.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib_servers.sh"

BUSY=${MK_FAULT_BUSY_MS:-1000}
ROUNDS=${MK_FAULT_ROUNDS:-5}
ms_need sqlite3
ms_setup
D=$MS_TMP/kms
ms_make_store "$D"
sed -i "s/^busy_timeout_ms = .*/busy_timeout_ms = $BUSY/" "$D/kms.conf"
LOG=$MS_TMP/kmsd.log
SOCK=$MS_TMP/kmsd.sock
ms_lock_store "$D/kms.db" exclusive || exit 1
ms_start_kmsd_listen "unix:$SOCK" "$D/kms.conf" "$LOG" --threads 4 || exit 1
: >"$MS_TMP/all.ms"
for round in $(seq 1 "$ROUNDS"); do
    ms_fcgi_burst "$SOCK" "round $round"
    cat "$MS_TMP"/lk.*.ms >>"$MS_TMP/all.ms"
    ms_check "round $round: 16 clients, 16 x 503 with Retry-After ($MS_N503, $MS_NRA)" \
        test "$MS_N503" = 16 -a "$MS_NRA" = 16
done
sort -n "$MS_TMP/all.ms" >"$MS_TMP/all.sorted"
n=$(wc -l <"$MS_TMP/all.sorted")
slowest=$(tail -n 1 "$MS_TMP/all.sorted")
ms_check "every one of $n clients got its 503 within 2 x busy_timeout_ms ($slowest ms < $((2 * BUSY)))" \
    [ "$slowest" -lt $((2 * BUSY)) ]
ms_unlock_store
echo "# figure: locked store, 16 clients x $ROUNDS rounds, busy_timeout_ms $BUSY: 503 latency min $(head -n 1 "$MS_TMP/all.sorted") ms, median $(sed -n "$(((n + 1) / 2))p" "$MS_TMP/all.sorted") ms, max $slowest ms (limit $((2 * BUSY)))"
ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"
ms_done
