#!/bin/bash
# store_iface.sh - tests/test_store_iface, the one suite of the store
# interface, over both backends: a new SQLite store, then an empty
# database of a private PostgreSQL server (tests/lib_pg.sh). The
# PostgreSQL half is skipped, with its reason, when PostgreSQL is not
# installed or the build has no PostgreSQL store; the SQLite half runs
# always.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"
. "$MS_SRC/tests/lib_pg.sh"

T=$MS_BUILD/tests/test_store_iface
[ -x "$T" ] || { echo "ERROR: $T not built"; exit 99; }
pg_setup

mkdir -p "$MS_TMP/sqlite"
"$T" sqlite "$MS_TMP/sqlite" >"$MS_TMP/sqlite.log" 2>&1
rc=$?
sed 's/^/# /' "$MS_TMP/sqlite.log"
ms_check "store interface suite over SQLite (rc $rc)" [ "$rc" = 0 ]

why=
if ! PG_BIN=$(pg_bindir); then
    why="PostgreSQL server not installed (Debian: postgresql)"
elif "$KMSCTL" --store postgresql:///x --master-key /nonexistent records 2>&1 |
    grep -q 'no PostgreSQL store'; then
    why="built without libpq (the PostgreSQL store)"
fi
if [ -n "$why" ]; then
    echo "# SKIP the PostgreSQL half: $why"
else
    pg_start "$MS_TMP/pg" || { echo "PostgreSQL did not start"; exit 1; }
    "$T" postgresql "$PG_URI" >"$MS_TMP/pg.log" 2>&1
    rc=$?
    sed 's/^/# /' "$MS_TMP/pg.log"
    ms_check "store interface suite over PostgreSQL (rc $rc)" [ "$rc" = 0 ]
fi
ms_done
