# shellcheck shell=bash
# lib_local.sh - what scripts/kms-local.sh and scripts/kms-cluster.sh share:
# installing what is missing without starting packaged services, and
# waiting for a loopback port, stopping a pid file's process. Sourced; the script
# defines say and die (its own prefix) before it sources this file.

# install_missing PKG...: apt-get installs those of PKG that are not
# installed (Debian 12, as root; otherwise die with the command to run).
install_missing() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] ||
        die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian would start the packaged services right after installing them
    # (lighttpd on port 80 on every interface, the system's PostgreSQL
    # cluster); these scripts run their own instances on loopback only, so
    # keep services from starting during the install (policy-rc.d, exit
    # 101 = action forbidden), unless a policy is already in place.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
        [ "$own_policy" -eq 1 ] && rm -f "$policy"
        die "apt-get install failed"
    }
    [ "$own_policy" -eq 1 ] && rm -f "$policy"
    return 0
}

pid_alive() { # PIDFILE
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# build_tree [CONFIGURE_ARGS...]: the tree $here built in $BUILD:
# autoreconf when there is no configure, configure when there is no
# Makefile, then make (nothing to do when the build is current; a build left
# from an older checkout is brought up to date, never run as it is).
# make.log in $BUILD.
build_tree() {
    if [ ! -x "$here/configure" ]; then
        say "autoreconf"
        (cd "$here" && autoreconf -fi >/dev/null 2>&1) || (cd "$here" && autoreconf -fi)
    fi
    mkdir -p "$BUILD"
    if [ ! -f "$BUILD/Makefile" ]; then
        say "configure (in $BUILD)"
        (cd "$BUILD" && "$here/configure" -q "$@")
    fi
    say "make (log: $BUILD/make.log)"
    make -s -C "$BUILD" -j"${JOBS:-$(nproc)}" >"$BUILD/make.log" 2>&1 ||
        { tail -n 40 "$BUILD/make.log" >&2; die "build failed"; }
}

# rebuild_tree WHY [CONFIGURE_ARGS...]: configure again and make, for a
# build configured before a library it now needs was installed.
rebuild_tree() {
    local why=$1
    shift
    say "configure again ($why)"
    (cd "$BUILD" && "$here/configure" -q "$@")
    make -s -C "$BUILD" -j"${JOBS:-$(nproc)}" >>"$BUILD/make.log" 2>&1 ||
        { tail -n 40 "$BUILD/make.log" >&2; die "build failed"; }
}

# wait_port PORT [TENTHS]: up to TENTHS tenths of a second (default 50:
# 5 s) until something accepts on 127.0.0.1:PORT. The integration tests
# use it too (tests/lib_servers.sh ms_wait_port).
wait_port() {
    local i
    for ((i = 0; i < ${2:-50}; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# stop_pidfile NAME PIDFILE: TERM, up to 10 s, then KILL; the file goes.
stop_pidfile() { # NAME PIDFILE
    local name=$1 pidfile=$2 pid i
    if ! pid_alive "$pidfile"; then
        rm -f "$pidfile"
        say "$name not running"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    say "$name stopped"
}
