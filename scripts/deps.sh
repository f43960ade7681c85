#!/usr/bin/env bash
# Install every build, test and run dependency of mikeykms on Debian 12.
# Idempotent; needs root (or sudo).
set -euo pipefail
pkgs=(
  build-essential autoconf automake libtool pkg-config
  libssl-dev libsqlite3-dev sqlite3 libfcgi-dev check
  libcurl4-openssl-dev libsrtp2-dev
  clang libclang-rt-14-dev
  lighttpd spawn-fcgi apache2 libapache2-mod-fcgid
  curl netcat-openbsd wrk tshark python3
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
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
