#!/bin/bash
# faults/store_size.sh - `make check-faults`: the store's size after
# ANSWERS answers with keys (issue 9, item 8): lighttpd with the shipped
# lighttpd.conf starting kmsd (bin-path), 16 UEs (tests/load_client)
# sending Ticket Requests and Resolves until ANSWERS answers with keys;
# every one has its record; prints kms.db's size, the bytes per record,
# and the node state's size. Without records_keep_days the store grows by
# that much per answer for ever; with it, it stays flat once the oldest
# day goes (doc/profile.md §9.39, tests/test_store.c test_records_prune).
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib_servers.sh"

LOAD=$MS_BUILD/tests/load_client
ANSWERS=${MK_FAULT_ANSWERS:-100000}
ms_need lighttpd curl sqlite3
[ -x "$LOAD" ] || ms_skip "$LOAD not built (needs libcurl)"
ms_setup
D=$MS_TMP/kms
ms_make_store "$D" "log_file = $MS_TMP/kmsd.log" "log_level = warn"
MS_LIGHTTPD_KMSD="$KMSD $D/kms.conf 4" ms_start_lighttpd "$MS_TMP/kmsd.sock" ||
    { echo "lighttpd did not start"; exit 1; }
BASE=http://127.0.0.1:$MS_PORT
before=$(stat -c %s "$D/kms.db")
start=$(date +%s)
timeout -k 5 300 "$LOAD" --url "$BASE/keymanagement" \
    --alice-psk-file "$D/alice.psk" --bob-psk-file "$D/bob.psk" \
    --clients 16 --requests $((ANSWERS / 16)) --deadline 240 \
    >"$MS_TMP/load.out" 2>"$MS_TMP/load.err"
rc=$?
sed 's/^/# load: /' "$MS_TMP/load.out"
head -n 3 "$MS_TMP/load.err" | sed 's/^/# load: /'
OK=$(sed -n 's/^ok=//p' "$MS_TMP/load.out")
ms_check "load_client: $ANSWERS answers with keys (ok=${OK:-?}, rc $rc, $(($(date +%s) - start)) s)" \
    [ "${OK:-0}" = "$ANSWERS" ]
records=$(ms_kmsctl "$D" records | grep -c '"outcome":"ok"')
ms_check "one record per answer ($records)" [ "$records" = "${OK:-x}" ]
# lighttpd stops its kmsd processes; wait for them to have closed the store
pids=$(pgrep -P "$MS_LIGHTTPD_PID" -x kmsd)
ms_stop "$MS_LIGHTTPD_PID"
wait "$MS_LIGHTTPD_PID"
for p in $pids; do
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
ls -l "$D" | sed 's/^/# /'
# what a backup or a disk sees: the database file once its WAL is in it
cp=$(sqlite3 "$D/kms.db" 'PRAGMA wal_checkpoint(TRUNCATE);')
ms_check "the store's WAL checkpointed into kms.db ($cp)" [ "$cp" = "0|0|0" ]
size=$(stat -c %s "$D/kms.db")
node=$(du -k "$D/kms.db-node" | cut -f1)
ms_check "kms.db grew with the records ($before -> $size bytes)" [ "$size" -gt $((before + records * 50)) ]
echo "# figure: store after ${records} answers with keys: kms.db $size bytes ($((size / 1048576)) MiB, $(((size - before) / (records > 0 ? records : 1))) bytes per record); node state $node KiB on disk (its journal drained)"
ms_done
