#!/bin/bash
# kmsd_supervise.sh - kmsd killed without warning (kill -9) under load and
# started again by the server in front of it, as shipped
# (doc/profile.md §9.48), loopback only:
#  - lighttpd with lighttpd/lighttpd.conf, which starts kmsd itself
#    (bin-path, two processes of 2 threads): one of them killed KILLS
#    times, then both at once KILLS times;
#  - Apache with apache/mikeykms-fcgid.conf (up to 16 kmsd processes):
#    every kmsd process killed at once, KILLS times.
# Meanwhile 16 UEs send fresh Ticket Requests and Resolves
# (tests/load_client) and, after each kill, a probe POSTs a MIKEY message
# until kmsd answers it again (200). Then:
#  - every answer a client received with keys has its record, once
#    (`kmsctl records`);
#  - the service came back by itself after every kill, within
#    FIRST_MAX_MS (the time to the first 200 is printed);
#  - what lighttpd answered the probe meanwhile was 503 with Retry-After 5
#    and one text/plain line (lighttpd/mikeykms-errors.lua), never its own
#    500 / 502 / HTML 503;
#  - kmsd answers afterwards.
# A part whose server is missing is skipped; the test skips (77) when both
# are. MK_SUPERVISE_KILLS (default 2), MK_SUPERVISE_EVERY (default 1 s)
# and MK_SUPERVISE_PAUSE_MS (default 10) size it; the figures end in "# figure:" lines (tests/faults/kill9.sh).
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

LOAD=$MS_BUILD/tests/load_client
KILLS=${MK_SUPERVISE_KILLS:-2}
EVERY=${MK_SUPERVISE_EVERY:-1}
# each UE waits this long after each request and resolve (0: as fast as
# the KMS answers, as tests/faults/kill9.sh runs it)
PAUSE_MS=${MK_SUPERVISE_PAUSE_MS:-10}
# lighttpd starts kmsd again at once (at the next second when both died);
# mod_fcgid waits a fixed second in its own code before it looks for the
# process it asked for, a second more when that spawn came before the dead
# were reaped (§9.48); bounds with room for a busy machine and the
# sanitizers
FIRST_MAX_MS_LIGHTTPD=${MK_SUPERVISE_FIRST_MAX_MS_LIGHTTPD:-2500}
FIRST_MAX_MS_FCGID=${MK_SUPERVISE_FIRST_MAX_MS_FCGID:-4000}

ms_need curl sqlite3
[ -x "$LOAD" ] || ms_skip "$LOAD not built (needs libcurl)"
have_lighttpd=1 have_fcgid=1
command -v lighttpd >/dev/null && [ -f /usr/lib/lighttpd/mod_magnet.so ] || have_lighttpd=0
command -v apache2 >/dev/null && [ -f /usr/lib/apache2/modules/mod_fcgid.so ] || have_fcgid=0
[ "$have_lighttpd$have_fcgid" != 00 ] ||
    ms_skip "neither lighttpd with mod_magnet nor Apache with mod_fcgid is installed"
ms_setup

now_ms() { echo $(($(date +%s%N) / 1000000)); }
within() { [ "$1" != none ] && [ "$1" -le "$2" ]; } # MS MAX

# probe BASE T0 NAME: POST a MIKEY message (the RFC 4567 I_MESSAGE: kmsd
# answers it 200 with a MIKEY Error, the store not needed) until a 200 or
# 15 s after T0 (ms); prints the ms from T0 to the 200 (or "none"), the
# other statuses in $MS_TMP/probe.seen ("CODE RETRY-AFTER CONTENT-TYPE
# BODY" lines).
probe() {
    local base=$1 t0=$2 t
    : >"$MS_TMP/probe.seen"
    while :; do
        ms_post "$base/keymanagement?$MS_RT" --max-time 5 --data-binary "$MS_RFC4567_I"
        t=$(now_ms)
        if [ "$MS_CODE" = 200 ]; then
            echo $((t - t0))
            return 0
        fi
        echo "$MS_CODE $(ms_header Retry-After) $(ms_header Content-Type) $(head -c 60 "$MS_TMP/b" | tr '\n' ' ')" \
            >>"$MS_TMP/probe.seen"
        if [ $((t - t0)) -gt 15000 ]; then
            echo none
            return 0
        fi
        sleep 0.01
    done
}

# records_of NAME DIR: every answer with keys in $MS_TMP/NAME.answers has
# its record in the store of DIR, once; sets LOST.
records_of() {
    local name=$1 dir=$2 doubled
    ms_kmsctl "$dir" records >"$MS_TMP/$name.records"
    sed -n 's/.*"service":"\([a-z]*\)".*"ticket_id":"\([0-9a-f]*\)".*"outcome":"ok".*/\1 \2/p' \
        "$MS_TMP/$name.records" | sort >"$MS_TMP/$name.recorded"
    cut -d' ' -f1,2 "$MS_TMP/$name.answers" | sort >"$MS_TMP/$name.answered"
    LOST=$(comm -23 "$MS_TMP/$name.answered" "$MS_TMP/$name.recorded" | wc -l)
    ms_check "$name: every one of $(wc -l <"$MS_TMP/$name.answered") answers with keys has its record ($LOST missing)" \
        [ "$LOST" = 0 ]
    doubled=$(uniq -d "$MS_TMP/$name.recorded" | wc -l)
    ms_check "$name: no record twice ($doubled doubled)" [ "$doubled" = 0 ]
}

# under_load NAME BASE DIR KILLER FIRST_MAX_MS: the load for KILLS kills
# (KILLER kills and prints how many processes it killed), a probe after
# each; the records, the times to the first 200 and kmsd afterwards.
under_load() {
    local name=$1 base=$2 dir=$3 killer=$4 first_max=$5 k n t0 first firsts=()
    local deadline
    : >"$MS_TMP/$name.seen"
    deadline=$(awk -v k="$KILLS" -v e="$EVERY" 'BEGIN { printf "%d", k * (e + 2) + 2 }')
    timeout -k 5 $((deadline + 60)) "$LOAD" --url "$base/keymanagement" \
        --alice-psk-file "$dir/alice.psk" --bob-psk-file "$dir/bob.psk" \
        --clients 16 --requests 1000000 --deadline "$deadline" --pause-ms "$PAUSE_MS" \
        --answers "$MS_TMP/$name.answers" \
        >"$MS_TMP/$name.load.out" 2>"$MS_TMP/$name.load.err" &
    local loadpid=$!
    for ((k = 1; k <= KILLS; k++)); do
        sleep "$EVERY"
        t0=$(now_ms)
        n=$("$killer")
        first=$(probe "$base" "$t0")
        firsts+=("$first")
        echo "# $name: kill $k ($n kmsd processes): first 200 after ${first} ms; meanwhile: $(cut -d' ' -f1 "$MS_TMP/probe.seen" | sort | uniq -c | tr -s ' \n' ' ')"
        ms_check "$name: kill $k: $n kmsd processes killed" [ "$n" -ge 1 ]
        ms_check "$name: kill $k: served again by itself within $first_max ms (${first})" \
            within "$first" "$first_max"
        cat "$MS_TMP/probe.seen" >>"$MS_TMP/$name.seen"
    done
    wait "$loadpid"
    sed 's/^/# load: /' "$MS_TMP/$name.load.out"
    head -n 5 "$MS_TMP/$name.load.err" | sed 's/^/# load: /'
    local ok
    ok=$(sed -n 's/^ok=//p' "$MS_TMP/$name.load.out")
    ms_check "$name: answers with keys under the kills (${ok:-0})" [ "${ok:-0}" -ge 100 ]
    ms_check "$name: one line per answer with keys" [ "$(wc -l <"$MS_TMP/$name.answers")" = "${ok:-x}" ]
    records_of "$name" "$dir"
    ms_alive "$name: after the kills" "$base"
    echo "# figure: $name: $KILLS kills, ${ok:-0} answers with keys, $LOST records lost, first 200 after a kill (ms): ${firsts[*]}"
}

# ---------------------------------------------------------------- lighttpd
if [ "$have_lighttpd" = 1 ]; then
    L=$MS_TMP/lt
    ms_make_store "$L" "log_file = $MS_TMP/lt-kmsd.log"
    MS_LIGHTTPD_KMSD="$KMSD $L/kms.conf 2" ms_start_lighttpd "$MS_TMP/kmsd.sock" ||
        { echo "lighttpd did not start"; exit 1; }
    LBASE=http://127.0.0.1:$MS_PORT
    lt_kmsd() { pgrep -P "$MS_LIGHTTPD_PID" -x kmsd | sort -n | tr '\n' ' '; }
    for ((i = 0; i < 100; i++)); do [ "$(lt_kmsd | wc -w)" = 2 ] && break; sleep 0.1; done
    first_pids=$(lt_kmsd)
    echo "# lighttpd on $LBASE (pid $MS_LIGHTTPD_PID) started kmsd processes $first_pids"
    ms_check "lighttpd started two kmsd processes itself (bin-path, max-procs 2)" \
        [ "$(echo "$first_pids" | wc -w)" = 2 ]
    for p in $first_pids; do
        ms_check "kmsd $p serving" ms_wait_log "$MS_TMP/lt-kmsd.log" "kmsd\[$p\]: info: serving"
    done
    ms_chain_url "$LBASE" "$L"
    ms_status_suite "$LBASE" "$L"
    # one process killed: the other serves on, lighttpd starts it again
    kill_lt_one() {
        local p
        p=$(lt_kmsd | tr ' ' '\n' | grep . | shuf -n 1)
        [ -n "$p" ] && kill -KILL "$p" && echo 1 || echo 0
    }
    under_load lighttpd "$LBASE" "$L" kill_lt_one "$FIRST_MAX_MS_LIGHTTPD"
    # both killed at once: lighttpd starts them again (at the next second
    # at most, disable-time 0) and its own answers meanwhile are 503s
    kill_lt_all() {
        local p
        p=$(lt_kmsd)
        [ -n "$p" ] && kill -KILL $p && echo "$p" | wc -w || echo 0
    }
    under_load lighttpd-all "$LBASE" "$L" kill_lt_all "$FIRST_MAX_MS_LIGHTTPD"
    for ((i = 0; i < 50; i++)); do [ "$(lt_kmsd | wc -w)" = 2 ] && break; sleep 0.1; done
    last_pids=$(lt_kmsd)
    ms_check "lighttpd started new kmsd processes ($first_pids -> $last_pids)" \
        test "$(echo "$last_pids" | wc -w)" = 2 -a "$last_pids" != "$first_pids"
    bad=$(cat "$MS_TMP/lighttpd.seen" "$MS_TMP/lighttpd-all.seen" |
        grep -cv '^503 5 text/plain service unavailable $')
    ms_check "lighttpd's answers while kmsd was down: 503, Retry-After 5, text/plain ($bad others)" \
        [ "$bad" = 0 ]
    [ "$bad" = 0 ] || cat "$MS_TMP/lighttpd.seen" "$MS_TMP/lighttpd-all.seen" | sort | uniq -c | head -n 5 | sed 's/^/# /'
    # lighttpd stops the kmsd processes it started: SIGTERM, exit 0
    ms_stop "$MS_LIGHTTPD_PID"
    wait "$MS_LIGHTTPD_PID"
    for p in $last_pids; do
        for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        ms_check "lighttpd's stop ends kmsd $p too, cleanly" \
            ms_wait_log "$MS_TMP/lt-kmsd.log" "kmsd\[$p\]: info: stopped\$"
    done
else
    echo "# skip lighttpd: lighttpd with mod_magnet (lighttpd-modules-lua) is not installed"
fi

# ---------------------------------------------------------------- mod_fcgid
if [ "$have_fcgid" = 1 ]; then
    A=$MS_TMP/fcgid
    ms_make_store "$A"
    mkdir -p "$MS_TMP/bin"
    cp "$KMSD" "$MS_TMP/bin/kmsd"
    [ "$(id -u)" -ne 0 ] || chown -R nobody:nogroup "$A"
    ms_start_apache "$MS_TMP/bin/kmsd" "$A/kms.conf" || { echo "apache did not start"; exit 1; }
    ABASE=http://127.0.0.1:$MS_PORT
    echo "# apache on $ABASE (pid $MS_APACHE_PID)"
    ms_chain_url "$ABASE" "$A"
    kill_all_fcgid() {
        local p
        p=$(pgrep -f "^$MS_TMP/bin/kmsd " | tr '\n' ' ')
        [ -n "$p" ] && kill -KILL $p && echo "$p" | wc -w || echo 0
    }
    under_load mod_fcgid "$ABASE" "$A" kill_all_fcgid "$FIRST_MAX_MS_FCGID"
else
    echo "# skip mod_fcgid: Apache with mod_fcgid is not installed"
fi
ms_done
