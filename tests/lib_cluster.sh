# lib_cluster.sh - sourced after lib_servers.sh and lib_pg.sh (pg_start
# done): N kmsd nodes on the PostgreSQL store PG_URI, each under
# spawn-fcgi behind its own lighttpd on a loopback port, the way two
# machines would run them (doc/profile.md §13).
#
#   mc_start N [kms.conf lines...]
#       MC_DIR/master.key, the store initialised with kmsctl init and the
#       demo subscribers alice and bob (PSKs in MC_DIR/alice.psk, bob.psk);
#       node i in MC_DIR/<a|b|...>/ with its kms.conf (its own node_state)
#       and kmsd.log; sets MC_PORT[i], MC_KMSD[i], MC_SOCK[i], MC_NAME[i],
#       MC_LT[i] (lighttpd's pid)
#   mc_start_node I    start node I's kmsd again (after a kill)
# shellcheck shell=bash

MC_DIR=
MC_PORT=()
MC_KMSD=()
MC_SOCK=()
MC_NAME=()
MC_LT=()
MC_THREADS=${MC_THREADS:-2}

mc_start_node() {
    local i=$1 dir=$MC_DIR/${MC_NAME[$1]}
    ms_start_kmsd_spawn "${MC_SOCK[$i]}" "$dir/kms.conf" "$dir/kmsd.log" \
        --threads "$MC_THREADS" || return 1
    MC_KMSD[i]=$MS_KMSD_PID
}

mc_start() {
    local n=$1 i name dir keep=$MS_TMP line
    shift
    MC_DIR=$MS_TMP/cluster
    mkdir -p "$MC_DIR"
    "$KMSCTL" --store "$PG_URI" --master-key "$MC_DIR/master.key" init \
        >"$MC_DIR/kmsctl.log" 2>&1 || { echo "kmsctl init failed"; cat "$MC_DIR/kmsctl.log"; return 1; }
    ms_add_demo_subscribers "$MC_DIR" --store "$PG_URI" --master-key "$MC_DIR/master.key"
    for ((i = 0; i < n; i++)); do
        name=$(printf "\\x$(printf %x $((97 + i)))")
        MC_NAME[i]=$name
        dir=$MC_DIR/$name
        mkdir -p "$dir"
        {
            echo "# node $name, written by tests/lib_cluster.sh"
            echo "store = $PG_URI"
            echo "master_key = ../master.key"
            echo "node_state = node"
            echo "retry_after = 7"
            echo "busy_timeout_ms = 2000"
            for line in "$@"; do echo "$line"; done
        } >"$dir/kms.conf"
        MC_SOCK[i]=$dir/kmsd.sock
        mc_start_node "$i" || return 1
        # lighttpd's state under the node's directory
        MS_TMP=$dir
        ms_start_lighttpd "${MC_SOCK[$i]}" || { MS_TMP=$keep; echo "lighttpd did not start"; return 1; }
        MS_TMP=$keep
        MC_PORT[i]=$MS_PORT
        MC_LT[i]=$MS_LIGHTTPD_PID
    done
}

# mc_wait_serving I: until node I's lighttpd passes a request to kmsd
# again (GET: kmsd's 405), 10 s at most; lighttpd keeps a backend that
# refused a connection disabled for a few seconds, also once it is back.
mc_wait_serving() {
    local i code
    for ((i = 0; i < 100; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:${MC_PORT[$1]}/keymanagement?$MS_RT")
        [ "$code" = 405 ] && return 0
        sleep 0.1
    done
    return 1
}
