#!/bin/bash
# kmsd_diskfull.sh - the disk under the store and the node state fills up
# while kmsd serves (doc/profile.md §9.46; issue 9, item 8): kmsd (on its
# own, raw FastCGI) with its store on a small tmpfs mounted for the test,
# Ticket Requests of alice one after another:
#  - the disk filled (a file takes every free block): answers go on while
#    the node state's reserved blocks last, then 503 with Retry-After,
#    never a crash, never an answer with keys that is not recorded;
#  - the log names the cause, "disk full", never "locked";
#  - the filler removed: served again, without a restart, and every
#    answer with keys (before, during and after) has its record.
# Needs root and a kernel that lets it mount a tmpfs; skips (77) with the
# reason otherwise.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need sqlite3 mount umount
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
[ "$(id -u)" -eq 0 ] || ms_skip "not root: cannot mount a tmpfs for the full disk"
ms_setup

MNT=$MS_TMP/disk
mkdir -p "$MNT"
mount -t tmpfs -o size=8m,mode=0755 mikeykms-test "$MNT" 2>"$MS_TMP/mount.err" ||
    ms_skip "cannot mount a tmpfs ($(head -n 1 "$MS_TMP/mount.err"))"
# stop kmsd before the file system goes, then lib_servers' cleanup
trap 'rc=$?; for p in "${MS_PIDS[@]}"; do ms_stop "$p"; done; wait 2>/dev/null
      umount "$MNT" 2>/dev/null || umount -l "$MNT"; (exit $rc); ms_cleanup' EXIT

D=$MNT/kms
ms_make_store "$D"
LOG=$MS_TMP/kmsd.log
SOCK=$MS_TMP/kmsd.sock
ms_start_kmsd_listen "unix:$SOCK" "$D/kms.conf" "$LOG" --threads 2 || exit 1
P=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 -p SCRIPT_NAME=/keymanagement
    -p "QUERY_STRING=$MS_RT" -p CONTENT_TYPE=application/mikey)

WITH_KEYS=0 # answers with keys (REQUEST_RESP) so far
# fresh: a fresh Ticket Request of alice; ST = the status, for a 200 the
# MIKEY data type after a slash (13 REQUEST_RESP); the answer in $MS_TMP/out
fresh() {
    local req st
    req=$("$MIKEY_UE" request --psk-file "$D/alice.psk" --psk-id alice \
        --impu sip:alice@example.org --peer sip:bob@example.org 2>/dev/null)
    "$FCGICLIENT" "${P[@]}" -b "$req" -t 20 "unix:$SOCK" >"$MS_TMP/out" 2>&1
    st=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$MS_TMP/out" | head -n 1)
    if [ "$st" = 200 ]; then
        st=$st/$(tail -n 1 "$MS_TMP/out" | base64 -d 2>/dev/null | od -An -tu1 -j1 -N1 | tr -d ' ')
    fi
    [ "$st" = 200/13 ] && WITH_KEYS=$((WITH_KEYS + 1))
    ST=$st
}

for i in 1 2 3; do fresh; done
ms_check "served on the tmpfs ($ST)" [ "$ST" = 200/13 ]
df -k "$MNT" | tail -n 1 | awk '{ print "# tmpfs before the filler: " $3 " KiB used, " $4 " KiB free" }'

# ---------------------------------------------------------------- full
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
df -k "$MNT" | tail -n 1 | awk '{ print "# tmpfs filled: " $4 " KiB free" }'
n=0 st=
while [ "$n" -lt 3000 ]; do
    n=$((n + 1))
    fresh; st=$ST
    [ "$st" = 200/13 ] || break
done
echo "# after the disk filled: $((n - 1)) answers with keys, then $st"
ms_check "disk full: 503 (after $((n - 1)) answers on the reserved blocks)" [ "$st" = 503 ]
ms_check "disk full: Retry-After 7 (retry_after)" grep -q '^Retry-After: 7' "$MS_TMP/out"
ms_check "disk full: service unavailable" grep -q '^service unavailable' "$MS_TMP/out"
fresh; st=$ST
ms_check "disk full: still 503 while full ($st)" [ "$st" = 503 ]
ms_check "kmsd still running" ms_running "$MS_KMSD_PID"
ms_check "the log says disk full" ms_wait_log "$LOG" "disk full"
grep 'disk full' "$LOG" | sort | uniq -c | head -n 3 | sed 's/^/# log: /'
ms_check "the log does not say locked" bash -c "! grep -qi 'locked' '$LOG'"

# ---------------------------------------------------------------- freed
rm -f "$MNT/filler"
fresh; st=$ST
ms_check "space freed: served again at once, no restart ($st)" [ "$st" = 200/13 ]
for i in 1 2 3; do fresh; done
ms_check "kmsd is the same process" ms_running "$MS_KMSD_PID"
# the records wait in the node's journal while the store cannot take them;
# kmsctl records drains it first
stored=$(ms_kmsctl "$D" records --subscriber alice | grep -c '"outcome":"ok"')
ms_check "every answer with keys has its record ($stored records, $WITH_KEYS answers)" \
    [ "$stored" = "$WITH_KEYS" ]
ms_stop "$MS_KMSD_PID"
ms_check "kmsd exits 0 on SIGTERM" wait "$MS_KMSD_PID"
ms_done
