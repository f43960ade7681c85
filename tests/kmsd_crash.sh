#!/bin/bash
# kmsd_crash.sh - kill -9 of kmsd processes under load, restarted by
# mod_fcgid (Apache with the shipped drop-in; up to 16 kmsd processes, one
# request at a time each): 16 concurrent UEs send fresh Ticket Requests and
# Resolves (tests/load_client) while a kmsd process is killed without
# warning every KILL_EVERY seconds. Then:
#  - every answer a client received with keys has its record, exactly once
#    (`kmsctl records`: the node's journal survived the kill, the drain
#    moved it once: doc/profile.md §8);
#  - no message answered before a kill is accepted again after it: the
#    answered requests, sent again, are all Error 1 (doc/profile.md §7);
#  - the node state reopens consistent (kmsctl replay status) and kmsd
#    answers afterwards.
# Requests in flight when their process died get no answer or an error;
# they are counted, not required. Loopback only; bounded: a deadline for
# the load, KILLS kills.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

LOAD=$MS_BUILD/tests/load_client
KILLS=${MK_CRASH_KILLS:-4}
KILL_EVERY=${MK_CRASH_EVERY:-1.5}

ms_need apache2 curl sqlite3
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] || ms_skip "mod_fcgid (libapache2-mod-fcgid) is not installed"
[ -x "$LOAD" ] || ms_skip "$LOAD not built (needs libcurl)"
ms_setup_apache_fcgid
echo "# apache on $BASE (pid $MS_APACHE_PID)"
kmsd_pids() { pgrep -f "^$MS_TMP/bin/kmsd " || true; }

timeout -k 5 200 "$LOAD" --url "$BASE/keymanagement" \
    --alice-psk-file "$D/alice.psk" --bob-psk-file "$D/bob.psk" \
    --clients 16 --requests 400 --deadline 150 --answers "$MS_TMP/answers" \
    >"$MS_TMP/load.out" 2>"$MS_TMP/load.err" &
LOADPID=$!
killed=0
for _ in $(seq 1 "$KILLS"); do
    sleep "$KILL_EVERY"
    victim=$(kmsd_pids | shuf -n 1)
    [ -n "$victim" ] && kill -KILL "$victim" && killed=$((killed + 1))
done
wait "$LOADPID"
sed 's/^/# load: /' "$MS_TMP/load.out"
head -n 5 "$MS_TMP/load.err" | sed 's/^/# load: /'
val() { sed -n "s/^$1=//p" "$MS_TMP/load.out"; }
OK=$(val ok)
echo "# $killed kmsd processes killed; $(val failed) requests without a correct answer"
ms_check "kmsd processes were killed under load ($killed)" [ "$killed" -ge 2 ]
ms_check "most requests answered ($OK of $(val requests))" [ "${OK:-0}" -ge 1000 ]
ms_check "one line per answer with keys ($(wc -l <"$MS_TMP/answers") for $OK)" \
    [ "$(wc -l <"$MS_TMP/answers")" = "${OK:-x}" ]

# every answer with keys has its record, once: "service ticket_id" of the
# answers against the records with outcome ok
ms_kmsctl "$D" records >"$MS_TMP/records"
sed -n 's/.*"service":"\([a-z]*\)".*"ticket_id":"\([0-9a-f]*\)".*"outcome":"ok".*/\1 \2/p' \
    "$MS_TMP/records" | sort >"$MS_TMP/recorded"
cut -d' ' -f1,2 "$MS_TMP/answers" | sort >"$MS_TMP/answered"
missing=$(comm -23 "$MS_TMP/answered" "$MS_TMP/recorded" | wc -l)
ms_check "every answer with keys has its record ($missing missing)" [ "$missing" = 0 ]
doubled=$(uniq -d "$MS_TMP/recorded" | wc -l)
ms_check "no record twice ($doubled doubled)" [ "$doubled" = 0 ]
ms_check "records of answers lost in flight only ($(wc -l <"$MS_TMP/recorded") ok records, $OK answers)" \
    [ "$(wc -l <"$MS_TMP/recorded")" -ge "${OK:-0}" ]

# nothing answered before a kill is accepted again: 40 answered requests
# (the first ones, from before the kills, and some of the last) again
{ head -n 20 "$MS_TMP/answers"; tail -n 20 "$MS_TMP/answers"; } >"$MS_TMP/again"
bad=0
while read -r service _ body; do
    ms_post "$BASE/keymanagement?requesttype=$service" --data-binary "$body"
    if [ "$MS_CODE" != 200 ] || [ "$(ms_body_data_type)" != 6 ]; then
        bad=$((bad + 1))
        echo "# sent again: $service -> $MS_CODE, data type $(ms_body_data_type)"
    fi
done <"$MS_TMP/again"
ms_check "answered requests sent again after the kills: all Error ($bad not)" [ "$bad" = 0 ]

# the records of the answers just sent again are drained by kmsd's
# maintenance thread within a few hundred ms
drained() {
    ms_kmsctl "$D" replay status >"$MS_TMP/status" 2>&1 &&
        grep -q '^journal_entries 0$' "$MS_TMP/status"
}
for ((i = 0; i < 50; i++)); do drained && break; sleep 0.2; done
ms_check "the node state reopens, its journal drained (kmsctl replay status)" \
    grep -q '^journal_entries 0$' "$MS_TMP/status"
ms_alive "after the kills" "$BASE"
ms_done
