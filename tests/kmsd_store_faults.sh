#!/bin/bash
# kmsd_store_faults.sh - what kmsd does with a store that is not what it
# was (doc/profile.md §9.43, §9.44, §9.45), kmsd on its own (--listen),
# raw FastCGI and mikey-ue requests:
#  - at start: a store truncated to 0 bytes, a file that is not a
#    database, a store damaged past its first pages: kmsd and
#    `kmsd --check-config` refuse it with the reason in the log and
#    write nothing (only `kmsctl init` makes a store);
#  - while serving: the store replaced by a backup (mv over it): the old
#    file is let go, the new one is used, and it stays intact; the store
#    removed: 503 until a store is back, then the records of the answers
#    reach it; a store damaged under kmsd: 503 once found, until replaced;
#  - a store locked for readers too when kmsd starts, 16 clients at once:
#    every one gets its 503 within 2 x busy_timeout_ms.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need sqlite3
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
ms_setup

D=$MS_TMP/kms
ms_make_store "$D"
LOG=$MS_TMP/kmsd.log
SOCK=$MS_TMP/kmsd.sock
P=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 -p SCRIPT_NAME=/keymanagement
    -p "QUERY_STRING=$MS_RT" -p CONTENT_TYPE=application/mikey)

# fresh [ID]: a fresh Ticket Request of subscriber ID (default alice; every
# test subscriber has alice's PSK and the IMPU sip:ID@example.org); prints
# the status, and for a 200 the MIKEY data type of the answer after a
# slash (13 REQUEST_RESP, 6 Error); the answer is in $MS_TMP/out
fresh() {
    local id=${1:-alice} req st
    req=$("$MIKEY_UE" request --psk-file "$D/alice.psk" --psk-id "$id" \
        --impu "sip:$id@example.org" --peer sip:bob@example.org 2>/dev/null)
    "$FCGICLIENT" "${P[@]}" -b "$req" -t 20 "unix:$SOCK" >"$MS_TMP/out" 2>&1
    st=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$MS_TMP/out" | head -n 1)
    if [ "$st" = 200 ]; then
        st=$st/$(tail -n 1 "$MS_TMP/out" | base64 -d 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')
    fi
    echo "$st"
}
answers() { [ "$(fresh "${2:-alice}")" = "$1" ]; } # answers WANT [ID]
stored() { # stored N: at least N records with keys in the store
    [ "$("$KMSCTL" --store "$D/kms.db" --master-key "$D/master.key" records 2>/dev/null |
        grep -c '"outcome":"ok"')" -ge "$1" ]
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
wait_for() { # CMD...: up to 10 s until CMD succeeds
    local i
    for ((i = 0; i < 100; i++)); do "$@" && return 0; sleep 0.1; done
    return 1
}

# ---------------------------------------------------------------- at start
cp "$D/kms.db" "$MS_TMP/good.db"
refused() { # NAME FILE-SETUP PATTERN: kmsd and --check-config refuse it
    local name=$1 pattern=$3 before
    eval "$2"
    before=$(sum "$D/kms.db")
    "$KMSD" --config "$D/kms.conf" --check-config >"$MS_TMP/check.out" 2>&1
    ms_check "$name: --check-config exit 1 ($?)" [ $? = 1 ]
    ms_check "$name: --check-config says why" grep -q -- "$pattern" "$MS_TMP/check.out"
    "$KMSD" --config "$D/kms.conf" --listen "unix:$SOCK" >"$MS_TMP/start.out" 2>&1 </dev/null
    ms_check "$name: kmsd does not start (exit $?)" [ $? = 1 ]
    ms_check "$name: kmsd says why" grep -q -- "$pattern" "$MS_TMP/start.out"
    ms_check "$name: nothing written" [ "$(sum "$D/kms.db")" = "$before" ]
    cp "$MS_TMP/good.db" "$D/kms.db"
}
refused "store truncated to 0 bytes" ': >"$D/kms.db"' 'store file is empty'
ms_check "truncated store: still 0 bytes after both" bash -c ": >'$D/kms.db' &&
    '$KMSD' --config '$D/kms.conf' --check-config >/dev/null 2>&1;
    '$KMSD' --config '$D/kms.conf' --listen unix:$SOCK >/dev/null 2>&1 </dev/null;
    [ ! -s '$D/kms.db' ]"
cp "$MS_TMP/good.db" "$D/kms.db"
refused "not a database" 'head -c 8192 /dev/urandom >"$D/kms.db"' 'file is not a database'
# damage past the first pages: damage FILE TABLE overwrites the start of
# the table's root page
damage() {
    local psize root
    psize=$(sqlite3 "$1" 'PRAGMA page_size')
    root=$(sqlite3 "$1" "SELECT rootpage FROM sqlite_master WHERE name = '$2'")
    head -c 512 /dev/zero | tr '\0' 'Z' |
        dd of="$1" bs=1 seek=$(((root - 1) * psize)) conv=notrunc status=none
}
refused "subscribers' page damaged" 'damage "$D/kms.db" subscribers' 'quick_check'
"$KMSD" --config "$D/kms.conf" --check-config >"$MS_TMP/check.out" 2>&1
ms_check "the good store: --check-config exit 0 ($?)" [ $? = 0 ]

# ---------------------------------------------------------------- serving
ms_start_kmsd_listen "unix:$SOCK" "$D/kms.conf" "$LOG" --threads 2 || exit 1
ms_check "quick_check at start, logged" grep -q "store .*kms.db: quick_check ok" "$LOG"
ms_check "serving: REQUEST_RESP" [ "$(fresh)" = 200/13 ]

# replaced by a backup (mv over it) while serving: carol exists only in
# the store that is replaced
sqlite3 "$D/kms.db" ".backup '$MS_TMP/backup.db'"
ms_kmsctl "$D" subscriber add --psk-id carol --psk - --impu sip:carol@example.org \
    <"$D/alice.psk" >/dev/null 2>&1
ms_check "before the swap: carol is served" [ "$(fresh carol)" = 200/13 ]
cp "$MS_TMP/backup.db" "$MS_TMP/swap.db"
mv "$MS_TMP/swap.db" "$D/kms.db"
ms_check "replaced: logged" wait_for grep -q "kms.db was removed or replaced while in use" "$LOG"
ms_check "replaced: the new store is used: carol unknown (Error)" \
    wait_for answers 200/6 carol
# the backup's store generation is older than the node's: answers are
# 503 until the maintenance thread has seen it twice (a few hundred ms,
# doc/profile.md §9.13), then served
ms_check "replaced: alice served" wait_for answers 200/13
ms_check "replaced: the new store is intact" \
    [ "$(sqlite3 "$D/kms.db" 'PRAGMA integrity_check')" = ok ]
ms_check "replaced: it is the backup (no carol)" \
    bash -c "! '$KMSCTL' --store '$D/kms.db' --master-key '$D/master.key' subscriber list | grep -q carol"
ms_check "replaced: the records of the answers reach the new store" wait_for stored 1

# removed while serving: 503 once kmsd has seen it, logged; back: served,
# and what was answered meanwhile is recorded in the store that is back
cp "$D/kms.db" "$MS_TMP/keep.db"
rm "$D/kms.db"
ms_check "removed: logged" wait_for grep -q "kms.db: store file does not exist" "$LOG"
ms_check "removed: 503" [ "$(fresh)" = 503 ]
ms_check "removed: Retry-After" grep -q '^Retry-After: 7' "$MS_TMP/out"
cp "$MS_TMP/keep.db" "$D/kms.db"
ms_check "back: served again" wait_for answers 200/13
ms_check "back: logged" wait_for grep -q "kms.db: in use again" "$LOG"

# damaged under kmsd (the records' pages): found by the drain, 503
# until the file is replaced by one fit to serve
n0=$(ms_kmsctl "$D" records | grep -c '"outcome":"ok"')
# every page in the database file, none newer in the WAL (a checkpoint
# that met kmsd's read returns busy: again), so that the damage is what
# the next reader of the records' root page gets
checkpointed() { [ "$(sqlite3 "$D/kms.db" 'PRAGMA wal_checkpoint(TRUNCATE)')" = "0|0|0" ]; }
ms_check "damaged: the WAL checkpointed into the file first" wait_for checkpointed
cp "$D/kms.db" "$MS_TMP/before-damage.db"
damage "$D/kms.db" records
# a write through the WAL: kmsd's connection then drops the pages it
# cached before the damage (SQLite keeps them while the WAL is unchanged)
sqlite3 "$D/kms.db" 'CREATE TABLE damage_seen (x); DROP TABLE damage_seen'
fresh >/dev/null # a record for the drain to write
ms_check "damaged: found and logged" wait_for grep -q "kms.db is damaged" "$LOG"
ms_check "damaged: 503" [ "$(fresh)" = 503 ]
cp "$MS_TMP/before-damage.db" "$MS_TMP/swap.db"
mv "$MS_TMP/swap.db" "$D/kms.db"
ms_check "a good store back: served again" wait_for answers 200/13
ms_check "a good store back: the answers' records reach it" wait_for stored "$((n0 + 2))"
ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"
ms_check "kmsd exits 0 after all that ($?)" [ $? = 0 ]

# ---------------------------------------------------------------- retention
# records_keep_days = 1, given by a reload: kmsd deletes the records
# older than a day by itself (doc/profile.md §9.39), in batches; the newer
# ones stay; without it (0) nothing goes
sqlite3 "$D/kms.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
    FROM n WHERE i < 25000) INSERT INTO records(time, service, subscriber,
    initiator, responder, ticket_id, valid_from, valid_to, spis, outcome)
    SELECT $(date +%s) - 3 * 86400 + i, 1, 'old', '', '', '', 0, 0, '', 'ok'
    FROM n"
count() { sqlite3 "$D/kms.db" "SELECT count(*) FROM records WHERE subscriber = '$1'"; }
young=$(count alice)
ms_check "retention: 25000 records of three days ago" [ "$(count old)" = 25000 ]
ms_start_kmsd_listen "unix:$SOCK" "$D/kms.conf" "$LOG" || exit 1
sleep 1 # five rounds of the maintenance thread
ms_check "retention: records_keep_days = 0 keeps them" [ "$(count old)" = 25000 ]
echo "records_keep_days = 1" >>"$D/kms.conf"
kill -HUP "$MS_KMSD_PID"
ms_check "retention: the reload applies records_keep_days" \
    ms_wait_log "$LOG" "reload $D/kms.conf: applied records_keep_days\$"
none_old() { [ "$(count old)" = 0 ]; }
ms_check "retention: kmsd deleted them" wait_for none_old
ms_check "retention: the young records stay ($young)" [ "$(count alice)" = "$young" ]
ms_check "retention: logged" grep -q "records: 25000 older than [0-9]* deleted (records_keep_days = 1)" "$LOG"
ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"

# ---------------------------------------------------------------- locked
# A lock that stops readers too, taken before kmsd starts (with kmsd
# running, locking_mode=EXCLUSIVE cannot be had): 16 clients at once,
# each gets 503 + Retry-After within 2 x busy_timeout_ms (1000 ms here;
# waits that queued would take 4 x 1000 ms for the last of 16 clients on
# 4 threads)
sed -i 's/^busy_timeout_ms = .*/busy_timeout_ms = 1000/' "$D/kms.conf"
ms_lock_store "$D/kms.db" exclusive || exit 1
ms_start_kmsd_listen "unix:$SOCK" "$D/kms.conf" "$LOG" --threads 4 || exit 1
for round in 1 2; do
    ms_fcgi_burst "$SOCK" "round $round"
    slowest=$(cat "$MS_TMP"/lk.*.ms | sort -n | tail -n 1)
    ms_check "locked, round $round: 16 clients, 16 x 503 ($MS_N503)" [ "$MS_N503" = 16 ]
    ms_check "locked, round $round: each with Retry-After ($MS_NRA)" [ "$MS_NRA" = 16 ]
    ms_check "locked, round $round: slowest 503 in $slowest ms < 2000 (2 x busy_timeout_ms)" \
        [ "$slowest" -lt 2000 ]
done
ms_check "locked: the cause is logged, not once per request" \
    [ "$(grep -c 'store locked by another connection' "$LOG")" -lt 16 ]
ms_unlock_store
ms_check "unlocked: served" wait_for answers 200/13
ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"
ms_done
