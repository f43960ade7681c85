#!/usr/bin/env bash
# cluster_bench.sh - benchmark (not a test) of the PostgreSQL store
# (doc/profile.md §13): Ticket Requests/s and Resolves/s through lighttpd,
# in one run, for
#   sqlite    one kmsd node on the SQLite store (the default),
#   pg-1      one kmsd node on a PostgreSQL store,
#   pg-2      two kmsd nodes (each behind its own lighttpd) on one
#             PostgreSQL store, the clients split between them;
#   pg-2-changes  the same while an operator change (a generation bump,
#             as any kmsctl change makes) lands every 100 ms: every
#             connection's next answer is refused at commit and run again
#             on fresh rows (doc/profile.md §13.2);
# and per answer: CPU of kmsd, of PostgreSQL (the postmaster and its
# backends) and of lighttpd, and PostgreSQL transactions (round trips
# that commit) per answer. See doc/benchmarks.md.
#
#   bench/cluster_bench.sh [BUILD_DIR]      (default ./build)
#
# The clients are tests/load_client (BUILD_DIR/tests/load_client: make
# tests/load_client): CLIENTS concurrent UEs, each a Ticket Request and
# the Resolve of its ticket in turn, every answer checked as a UE checks
# it, for SECONDS. Environment: BENCH_SECONDS (10), BENCH_CLIENTS (8),
# BENCH_THREADS (kmsd --threads, 4), BENCH_CASES ("sqlite pg-1 pg-2").
# The PostgreSQL server is a private one (tests/lib_pg.sh) with fsync on
# and kmsd's sessions at synchronous_commit off (durable = no, the
# default).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$here/build}" && pwd)
export top_srcdir=$here top_builddir=$BUILD
. "$here/tests/lib_servers.sh"
. "$here/tests/lib_pg.sh"
SECONDS_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-8}
MC_THREADS=${BENCH_THREADS:-4}
CASES=${BENCH_CASES:-"sqlite pg-1 pg-2 pg-2-changes"}
LOAD=$BUILD/tests/load_client
[ -x "$LOAD" ] || { echo "no $LOAD (make tests/load_client)"; exit 1; }
pg_need
ms_setup
trap 'rc=$?; pg_ctl_stop immediate; (exit $rc); ms_cleanup' EXIT
PG_FSYNC=on

ticks() { # PID...: utime + stime of each, summed (clock ticks)
    local p t=0 v
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
pg_pids() {
    local pm
    pm=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm" $(ps -o pid= --ppid "$pm")
}
# the database's committed transactions: every statement kmsd sends outside
# a transaction is one; a backend that went idle publishes its last counts
# within 10 s (PostgreSQL 15's PGSTAT_IDLE_INTERVAL), hence the waits
# around a run (a shorter wait undercounts: 0.9 commits per answer)
commits() {
    sleep 11
    pg_psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'mikeykms'"
}

# run NAME URL...: one load_client per URL, CLIENTS split between them
run() {
    local name=$1 per u i=0 pids=() kt0 pt0 lt0 kt1 pt1 lt1 c0=0 c1=0 req res
    shift
    per=$((CLIENTS / $#))
    kt0=$(ticks "${KPIDS[@]}"); lt0=$(ticks "${LPIDS[@]}")
    pt0=0; [ -n "${PG_DATA:-}" ] && pt0=$(ticks $(pg_pids)) && c0=$(commits)
    for u in "$@"; do
        "$LOAD" --url "$u" --alice-psk-file "$PSKDIR/alice.psk" --bob-psk-file "$PSKDIR/bob.psk" \
            --clients "$per" --requests 10000000 --duration "$SECONDS_RUN" \
            --answers "$MS_TMP/$name.$i.answers" >"$MS_TMP/$name.$i.out" 2>&1 &
        pids+=($!)
        i=$((i + 1))
    done
    wait "${pids[@]}"
    kt1=$(ticks "${KPIDS[@]}"); lt1=$(ticks "${LPIDS[@]}")
    pt1=0; [ -n "${PG_DATA:-}" ] && pt1=$(ticks $(pg_pids)) && c1=$(commits)
    req=$(cat "$MS_TMP/$name".*.answers | grep -c '^ticketrequest ')
    res=$(cat "$MS_TMP/$name".*.answers | grep -c '^ticketresolve ')
    local failed
    failed=$(cat "$MS_TMP/$name".*.out | sed -n 's/^failed=//p' | paste -sd+ | bc)
    local n=$((req + res)) hz
    hz=$(getconf CLK_TCK)
    awk -v name="$name" -v s="$SECONDS_RUN" -v req="$req" -v res="$res" -v n="$n" \
        -v k=$((kt1 - kt0)) -v p=$((pt1 - pt0)) -v l=$((lt1 - lt0)) -v hz="$hz" \
        -v c=$((c1 - c0)) -v f="$failed" 'BEGIN {
        us = 1e6 / hz / (n > 0 ? n : 1)
        printf "| %s | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %s | %d |\n",
            name, req / s, res / s, n / s, k * us, p * us, l * us,
            (c > 0 ? sprintf("%.2f", c / n) : "-"), f }'
}

PSKDIR=
echo "| case | Ticket Requests/s | Resolves/s | answers/s | kmsd CPU us/answer | PostgreSQL CPU us/answer | lighttpd CPU us/answer | PG commits/answer | failed |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in $CASES; do
    case $c in
    sqlite)
        D=$MS_TMP/sq
        ms_make_store "$D"
        PSKDIR=$D
        keep=$MS_TMP; MS_TMP=$D
        ms_start_kmsd_spawn "$D/kmsd.sock" "$D/kms.conf" "$D/kmsd.log" --threads "$MC_THREADS" || exit 1
        KPIDS=("$MS_KMSD_PID")
        ms_start_lighttpd "$D/kmsd.sock" || exit 1
        LPIDS=("$MS_LIGHTTPD_PID")
        MS_TMP=$keep
        pgd=${PG_DATA:-}; PG_DATA=
        run sqlite "http://127.0.0.1:$MS_PORT/keymanagement"
        PG_DATA=$pgd
        ms_stop "$MS_LIGHTTPD_PID"; ms_stop "${KPIDS[0]}"
        ;;
    pg-1 | pg-2 | pg-2-changes)
        if [ -z "$PG_URI" ]; then
            pg_start "$MS_TMP/pg" || exit 1
            . "$here/tests/lib_cluster.sh"
            mc_start 2 || exit 1
            PSKDIR=$MC_DIR
            LT=("${MC_LT[@]}")
        fi
        if [ "$c" = pg-1 ]; then
            KPIDS=("${MC_KMSD[0]}"); LPIDS=("${LT[0]}")
            run pg-1 "http://127.0.0.1:${MC_PORT[0]}/keymanagement"
        else
            KPIDS=("${MC_KMSD[@]}"); LPIDS=("${LT[@]}")
            changer=
            if [ "$c" = pg-2-changes ]; then
                # BENCH_CHANGE_SQL="SELECT 1": the same psql every 100 ms
                # without the change, to tell its own cost apart
                (while :; do pg_psql "${BENCH_CHANGE_SQL:-UPDATE kms_state SET gen = gen + 1}" \
                    >/dev/null 2>&1; sleep 0.1; done) &
                changer=$!
            fi
            run "$c" "http://127.0.0.1:${MC_PORT[0]}/keymanagement" \
                "http://127.0.0.1:${MC_PORT[1]}/keymanagement"
            [ -z "$changer" ] || kill "$changer"
        fi
        ;;
    esac
done
echo
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $CLIENTS clients, kmsd --threads $MC_THREADS, $SECONDS_RUN s per case"
