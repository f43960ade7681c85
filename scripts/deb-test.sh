#!/usr/bin/env bash
# deb-test.sh - the Debian package of mikeykms, built from this tree and
# tried on this machine (a step of scripts/test-all.sh; needs root: it
# installs and purges the package):
#  1. the tree (tracked and untracked, not ignored files) is copied to a
#     temporary directory and `dpkg-buildpackage -us -uc -b` runs there
#     (DEB_BUILD_OPTIONS=nocheck: test-all.sh ran make check already), so
#     that the source tree is not written; lintian must report no error
#     (its warnings are printed);
#  2. the package is installed: binaries, man pages, /etc/mikeykms/kms.conf
#     as a conffile, the user _mikeykms owning /var/lib/mikeykms and
#     /etc/mikeykms/private, the unit and the Apache drop-ins installed but
#     not enabled;
#  3. `kmsctl init` as _mikeykms, demo subscribers added as root, the
#     service started: by systemd when it is PID 1, else the unit's
#     ExecStart run as its User/Group with its UMask (the sandboxing lines
#     of the unit are then not applied; said in the output), SIGHUP through
#     the unit's ExecReload;
#  4. `mikey-ue chain` against it through nginx (the installed snippet),
#     Apache (the drop-in enabled with a2enconf) and lighttpd (the
#     installed snippet), each a private instance on 127.0.0.1;
#  5. the package purged: every file it installed, its configuration, the
#     store, the master key and the Apache link are gone; the system user
#     stays (Debian policy).
# Exits 0 with a "SKIP:" line where it cannot run (not root, no dpkg-dev,
# the package installed on this machine by someone else). Bounded by
# DEB_TEST_TIMEOUT seconds (default 900) in test-all.sh.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)

skip() {
    echo "SKIP: Debian package test: $*"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (it installs and purges the package)"
command -v dpkg-buildpackage >/dev/null 2>&1 || skip "dpkg-buildpackage is not installed (dpkg-dev)"
command -v dpkg >/dev/null 2>&1 || skip "not a dpkg system"

# one run at a time on a machine
exec 9>/run/lock/mikeykms-deb-test.lock 2>/dev/null || exec 9>/tmp/mikeykms-deb-test.lock
flock -w 900 9 || { echo "deb-test: another run holds the lock"; exit 1; }

MARK=/var/lib/mikeykms-deb-test.installed
installed() { dpkg-query -W -f='${Status}' mikeykms 2>/dev/null | grep -qE 'installed|config-files'; }
if installed; then
    if [ -e "$MARK" ]; then
        echo "# purging the package a previous run of this test left"
        dpkg --purge mikeykms >/dev/null 2>&1
        rm -f "$MARK"
    else
        skip "the package mikeykms is installed on this machine (not by this test): not touching it"
    fi
fi

top_srcdir=$here top_builddir=$here/build/plain . "$here/tests/lib_servers.sh"
KMSD=/usr/sbin/kmsd
KMSCTL=/usr/sbin/kmsctl
MIKEY_UE=/usr/bin/mikey-ue
CONF=/etc/mikeykms/kms.conf
UNIT=/lib/systemd/system/mikeykms.service
MS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-deb.XXXXXX") || exit 99
chmod 755 "$MS_TMP"
SERVICE_PID=
SYSTEMD=0
[ "$(ps -o comm= -p 1)" = systemd ] && SYSTEMD=1

deb_cleanup() {
    local rc=$?
    trap - EXIT
    if [ "$SYSTEMD" = 1 ]; then
        systemctl stop mikeykms >/dev/null 2>&1
    elif [ -n "$SERVICE_PID" ]; then
        ms_stop "$SERVICE_PID"
    fi
    if [ -e "$MARK" ]; then
        dpkg --purge mikeykms >/dev/null 2>&1
        rm -f "$MARK"
    fi
    (exit "$rc")
    ms_cleanup
}
trap deb_cleanup EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------- build
echo "# building the package in a copy of the tree"
tree_state() { git -C "$here" status --porcelain 2>/dev/null; }
before=$(tree_state)
mkdir -p "$MS_TMP/build/src"
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$here" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$MS_TMP/build/src"
else
    tar -C "$here" --exclude=./build --exclude='./mikeykms-*' -cf - . | tar -xf - -C "$MS_TMP/build/src"
fi
(cd "$MS_TMP/build/src" && dpkg-checkbuilddeps) >"$MS_TMP/builddeps.log" 2>&1
ms_check "build dependencies installed$(sed 's/^/: /' "$MS_TMP/builddeps.log" | head -n 1)" \
    [ ! -s "$MS_TMP/builddeps.log" ]
start=$(date +%s)
(cd "$MS_TMP/build/src" &&
    DEB_BUILD_OPTIONS="nocheck parallel=${JOBS:-$(nproc)}" dpkg-buildpackage -us -uc -b) \
    >"$MS_TMP/build.log" 2>&1
rc=$?
ms_check "dpkg-buildpackage -us -uc -b: exit 0 ($(($(date +%s) - start)) s)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { tail -n 40 "$MS_TMP/build.log"; exit 1; }
DEB=$(ls "$MS_TMP"/build/mikeykms_*.deb)
ms_check "the package is $(basename "$DEB")" [ -f "$DEB" ]
ms_check "the source tree is unchanged by the build" [ "$(tree_state)" = "$before" ]

if command -v lintian >/dev/null 2>&1; then
    lintian --fail-on error "$MS_TMP"/build/mikeykms_*.changes >"$MS_TMP/lintian.log" 2>&1
    rc=$?
    sed -n 's/^/# lintian: /p' "$MS_TMP/lintian.log" | grep -v 'running with root privileges'
    ms_check "lintian: no error (rc $rc, $(grep -c '^W:' "$MS_TMP/lintian.log") warnings)" \
        [ "$rc" = 0 ]
else
    echo "# lintian is not installed: not run"
fi

# ------------------------------------------------------------- install
touch "$MARK"
dpkg -i "$DEB" >"$MS_TMP/install.log" 2>&1
ms_check "dpkg -i: installed" [ $? = 0 ]
for f in /usr/sbin/kmsd /usr/sbin/kmsctl /usr/bin/mikey-ue /usr/bin/mikeydump \
    /usr/sbin/kms-znd; do
    ms_check "installed: $f" [ -x "$f" ]
done
ms_check "kms-znd --help runs (its freeDiameter libraries installed)" \
    bash -c "/usr/sbin/kms-znd --help >/dev/null"
ms_check "kms-znd's freeDiameter sample installed" \
    [ -f /usr/share/doc/mikeykms/examples/kms-znd.fd.conf.sample ]
for m in kmsd.8 kmsctl.8 mikeydump.1 mikey-ue.1 kms.conf.5 kms-znd.8; do
    ms_check "man page $m installed" [ -f "/usr/share/man/man${m##*.}/$m.gz" ]
done
ms_check "/etc/mikeykms/kms.conf is a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}' mikeykms | grep -q ' /etc/mikeykms/kms.conf '"
ms_check "system user _mikeykms" bash -c "[ \$(id -u _mikeykms) -lt 1000 ]"
ms_check "/var/lib/mikeykms: _mikeykms, 0750" [ "$(stat -c '%U %a' /var/lib/mikeykms)" = "_mikeykms 750" ]
ms_check "/etc/mikeykms/private: _mikeykms, 0700" [ "$(stat -c '%U %a' /etc/mikeykms/private)" = "_mikeykms 700" ]
ms_check "unit installed: $UNIT" [ -f "$UNIT" ]
ms_check "unit has Restart=on-failure" grep -qx 'Restart=on-failure' "$UNIT"
ms_check "unit not enabled by the install" [ ! -e /etc/systemd/system/multi-user.target.wants/mikeykms.service ]
for c in mikeykms-proxy-fcgi mikeykms-fcgid; do
    ms_check "Apache drop-in $c installed" [ -f "/etc/apache2/conf-available/$c.conf" ]
    ms_check "Apache drop-in $c not enabled by the install" [ ! -e "/etc/apache2/conf-enabled/$c.conf" ]
done
ms_check "nginx snippet installed" [ -f /etc/nginx/snippets/mikeykms.conf ]
ms_check "lighttpd snippet installed" [ -f /etc/lighttpd/conf-available/50-mikeykms.conf ]
ms_check "mikeykms-errors.lua where lighttpd.conf looks for it" \
    [ -f /usr/share/mikeykms/mikeykms-errors.lua ]

# ------------------------------------------------------------- store and service
D=$MS_TMP/kms
mkdir -p "$D"
runuser -u _mikeykms -- "$KMSCTL" --config "$CONF" init >"$D/kmsctl.log" 2>&1
ms_check "kmsctl init as _mikeykms" [ $? = 0 ]
ms_check "master key: _mikeykms, 0600" \
    [ "$(stat -c '%U %a' /etc/mikeykms/private/master.key 2>/dev/null)" = "_mikeykms 600" ]
ms_check "store: _mikeykms" [ "$(stat -c '%U' /var/lib/mikeykms/kms.db 2>/dev/null)" = _mikeykms ]
ms_add_demo_subscribers "$D" --config "$CONF"
ms_ok "kmsctl subscriber add as root (alice, bob)"
ms_check "store files still _mikeykms's after root's kmsctl" \
    bash -c "! find /var/lib/mikeykms -mindepth 1 ! -user _mikeykms | grep -q ."
runuser -u _mikeykms -- "$KMSD" --config "$CONF" --check-config >"$MS_TMP/check.out" 2>&1
ms_check "kmsd --check-config as _mikeykms" [ $? = 0 ]

unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
if (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null; then
    echo "127.0.0.1:9000, the unit's address, is taken by another program"
    exit 1
fi
LOG=$MS_TMP/service.log
if [ "$SYSTEMD" = 1 ]; then
    echo "# systemd is PID 1: systemctl start mikeykms"
    systemctl start mikeykms
    ms_check "systemctl start mikeykms" [ $? = 0 ]
    SERVICE_PID=$(systemctl show -p MainPID --value mikeykms)
else
    echo "# PID 1 is $(ps -o comm= -p 1), not systemd: the unit's ExecStart as User=$(unit_value User)," \
        "Group=$(unit_value Group), UMask=$(unit_value UMask) (its sandboxing lines are not applied)"
    mkdir -p /run/mikeykms && chown _mikeykms:_mikeykms /run/mikeykms
    read -r -a exec_start <<<"$(unit_value ExecStart)"
    (umask "$(unit_value UMask)" &&
        exec setpriv --reuid="$(unit_value User)" --regid="$(unit_value Group)" --init-groups \
            -- "${exec_start[@]}") </dev/null >>"$LOG" 2>&1 &
    SERVICE_PID=$!
    ms_track "$SERVICE_PID"
fi
ms_check "the service listens on 127.0.0.1:9000" ms_wait_port 9000
ms_check "kmsd runs as _mikeykms" [ "$(ps -o user= -p "$SERVICE_PID" 2>/dev/null)" = _mikeykms ]

# reload as the unit does it (ExecReload, $MAINPID)
if [ "$SYSTEMD" = 1 ]; then
    systemctl reload mikeykms
    ms_check "systemctl reload mikeykms" [ $? = 0 ]
else
    reload=$(unit_value ExecReload)
    bash -c "${reload//\$MAINPID/$SERVICE_PID}"
    ms_check "reload (the unit's ExecReload) logged" ms_wait_log "$LOG" "info: reload $CONF: no change"
fi

# ------------------------------------------------------------- through web servers
if command -v nginx >/dev/null 2>&1; then
    MS_NGINX_SNIPPET=/etc/nginx/snippets/mikeykms.conf
    ms_start_nginx 127.0.0.1:9000 || { echo "nginx did not start"; exit 1; }
    echo "# nginx on 127.0.0.1:$MS_PORT with /etc/nginx/snippets/mikeykms.conf"
    ms_chain_url "http://127.0.0.1:$MS_PORT" "$D"
    ms_stop "$MS_NGINX_PID"
else
    ms_fail "nginx is not installed (scripts/deps.sh installs nginx-light)"
fi

a2enconf mikeykms-proxy-fcgi >"$MS_TMP/a2enconf.log" 2>&1
ms_check "a2enconf mikeykms-proxy-fcgi" [ -e /etc/apache2/conf-enabled/mikeykms-proxy-fcgi.conf ]
ms_apache_start "proxy proxy_fcgi headers" \
    "Include /etc/apache2/conf-enabled/mikeykms-proxy-fcgi.conf" || { echo "apache did not start"; exit 1; }
echo "# apache on 127.0.0.1:$MS_PORT with the enabled mikeykms-proxy-fcgi.conf"
ms_chain_url "http://127.0.0.1:$MS_PORT" "$D"
ms_stop "$MS_APACHE_PID"

if command -v lighttpd >/dev/null 2>&1; then
    LT=$MS_TMP/lighttpd
    mkdir -p "$LT/htdocs"
    LT_PORT=$(ms_free_port)
    cat >"$LT/lighttpd.conf" <<EOF
server.bind = "127.0.0.1"
server.port = $LT_PORT
server.document-root = "$LT/htdocs"
server.errorlog = "$LT/error.log"
server.modules = ( "mod_fastcgi" )
include "/etc/lighttpd/conf-available/50-mikeykms.conf"
EOF
    lighttpd -D -f "$LT/lighttpd.conf" >"$LT/stderr.log" 2>&1 7>&- &
    LT_PID=$!
    ms_track "$LT_PID"
    ms_check "lighttpd with the installed snippet starts" ms_wait_port "$LT_PORT"
    ms_chain_url "http://127.0.0.1:$LT_PORT" "$D"
    ms_stop "$LT_PID"
fi

# Restart=on-failure, where systemd runs the unit
if [ "$SYSTEMD" = 1 ]; then
    kill -KILL "$SERVICE_PID"
    ok=0
    for _ in $(seq 1 50); do
        sleep 0.2
        new=$(systemctl show -p MainPID --value mikeykms)
        if [ "$new" != 0 ] && [ "$new" != "$SERVICE_PID" ] && ms_wait_port 9000; then ok=1; break; fi
    done
    ms_check "Restart=on-failure: kmsd killed, systemd starts it again" [ "$ok" = 1 ]
fi

# ------------------------------------------------------------- stop, purge
if [ "$SYSTEMD" = 1 ]; then
    systemctl stop mikeykms
else
    ms_stop "$SERVICE_PID"
    wait "$SERVICE_PID"
    ms_check "SIGTERM: kmsd exits 0 (rc $?)" [ $? = 0 ]
    rmdir /run/mikeykms 2>/dev/null
fi
SERVICE_PID=
dpkg-query -L mikeykms >"$MS_TMP/files"
dpkg --purge mikeykms >"$MS_TMP/purge.log" 2>&1
ms_check "dpkg --purge mikeykms" [ $? = 0 ]
rm -f "$MARK"
ms_check "purged: no trace in dpkg's database" bash -c "! dpkg-query -W mikeykms >/dev/null 2>&1"
left=0
while read -r f; do
    # (a directory of the package may be a symlink here: /lib -> usr/lib)
    if [ -f "$f" ] || { [ -L "$f" ] && [ ! -d "$f" ]; }; then
        echo "# left after purge: $f"
        left=$((left + 1))
    fi
done <"$MS_TMP/files"
ms_check "purged: every file the package installed is gone ($left left)" [ "$left" = 0 ]
gone() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
for p in /etc/mikeykms /var/lib/mikeykms /etc/apache2/conf-enabled/mikeykms-proxy-fcgi.conf \
    "$UNIT" /usr/sbin/kmsd; do
    ms_check "purged: $p is gone" gone "$p"
done
user_exists() { getent passwd "$1" >/dev/null; }
ms_check "the system user _mikeykms stays (Debian policy)" user_exists _mikeykms
ms_done
