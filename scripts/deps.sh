#!/usr/bin/env bash
# Install every build, test and run dependency of mikeykms on Debian 12.
# Idempotent; needs root (or sudo).
set -euo pipefail
pkgs=(
  build-essential autoconf automake libtool pkg-config
  libssl-dev libsqlite3-dev sqlite3 liblmdb-dev lmdb-utils libfcgi-dev check
  libcurl4-openssl-dev libsrtp2-dev
  libpq-dev postgresql
  clang libclang-rt-14-dev
  lighttpd lighttpd-mod-openssl lighttpd-modules-lua spawn-fcgi apache2 libapache2-mod-fcgid
  nginx-light libfreediameter-dev
  curl netcat-openbsd wrk tshark python3 openssl strace
  mandoc man-db
  dpkg-dev debhelper apache2-dev lintian adduser
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # tshark asks whether non-root users may capture; answer no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  # Debian starts packaged services (apache2, lighttpd on port 80, every
  # interface) right after installing them; the tests run their own
  # instances on loopback only, so forbid service starts during the install
  # (policy-rc.d exit 101) unless a policy is already in place.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  rc=0
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ "$own_policy" -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || exit "$rc"
fi
