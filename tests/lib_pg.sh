# lib_pg.sh - sourced after lib_servers.sh by the tests of the PostgreSQL
# store (doc/profile.md §13) and by scripts/kms-cluster.sh: a PostgreSQL
# server of Debian's packages in a directory of its own (initdb + pg_ctl,
# no system service), listening on a Unix socket only (no TCP port at all),
# run as an unprivileged user when we are root (initdb refuses root).
#
#   pg_need            skip the test (77) when the server is not installed
#   pg_start DIR       initdb DIR/data, start it, create the database
#                      mikeykms; sets PG_URI (a postgresql:// URI for
#                      kms.conf), PG_SOCK, PG_PORT, PG_DATA
#   pg_ctl_stop [MODE] stop it (fast by default; immediate = a crash)
#   pg_ctl_start       start it again on the same data and socket
#   pg_psql SQL        one statement through psql (-At: bare values)
# shellcheck shell=bash

PG_BIN=
PG_USER=
PG_DATA=
PG_SOCK=
PG_PORT=
PG_URI=
PG_LOG=

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

pg_need() {
    PG_BIN=$(pg_bindir) ||
        ms_skip "PostgreSQL server not installed (Debian: postgresql): the PostgreSQL store is not tested"
    command -v psql >/dev/null 2>&1 || ms_skip "psql not installed (Debian: postgresql-client)"
}

# pg_need_libpq: skip unless kmsctl was built with the PostgreSQL store.
pg_need_libpq() {
    "$KMSCTL" --store postgresql:///x --master-key /nonexistent records 2>&1 |
        grep -q 'no PostgreSQL store' && ms_skip "built without libpq (the PostgreSQL store)"
}

# pg_setup: ms_setup, and the server (once pg_start ran) stopped at exit
# before the temporary directory goes.
pg_setup() {
    ms_setup
    trap 'rc=$?; pg_ctl_stop immediate; (exit $rc); ms_cleanup' EXIT
}

# Run as the server's user.
pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local dir=$1
    [ -n "$PG_BIN" ] || PG_BIN=$(pg_bindir) || { echo "no PostgreSQL server"; return 1; }
    PG_USER=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
        PG_USER=${PG_RUN_AS:-nobody}
    fi
    mkdir -p "$dir/sock"
    PG_DATA=$dir/data
    PG_SOCK=$dir/sock
    PG_LOG=$dir/postgresql.log
    chmod 755 "$dir"
    # the socket directory: the server's, readable by kmsd's user
    chmod 755 "$PG_SOCK"
    touch "$PG_LOG"
    [ "$(id -u)" -ne 0 ] || chown "$PG_USER" "$dir" "$PG_SOCK" "$PG_LOG"
    pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U mikeykms -A trust -E UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
    PG_PORT=$((40000 + RANDOM % 20000))
    pg_ctl_start || return 1
    pg_as "$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U mikeykms mikeykms ||
        return 1
    PG_URI="postgresql:///mikeykms?host=$PG_SOCK&port=$PG_PORT&user=mikeykms"
}

pg_ctl_start() {
    # listen_addresses '': the Unix socket only; fsync off (PG_FSYNC): a
    # test server, its data is thrown away (synchronous_commit is still
    # what kmsd sets, durable = yes or not)
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 \
        -o "-c listen_addresses='' -c unix_socket_directories='$PG_SOCK' -c port=$PG_PORT -c fsync=${PG_FSYNC:-off} -c max_connections=100" \
        start >/dev/null || { tail -n 20 "$PG_LOG"; return 1; }
}

pg_ctl_stop() {
    [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 30 stop >/dev/null 2>&1
}

pg_psql() {
    psql -X -At -q -h "$PG_SOCK" -p "$PG_PORT" -U mikeykms -d mikeykms -c "$1"
}
