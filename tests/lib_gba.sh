# lib_gba.sh - sourced after lib_servers.sh by the GBA tests: the test BSF
# (zn-test-bsf) and the Zn daemon (kms-znd) on loopback, bootstrappings in
# the BSF's provisioning file, the kms.conf lines that make kmsd a NAF,
# and a Digest (RFC 7616) computed here with coreutils, independently of
# the code under test, for the requests no client library would send.
# shellcheck shell=bash

KMS_ZND=$MS_BUILD/src/zn/kms-znd
TEST_BSF=$MS_BUILD/src/zn/zn-test-bsf
GBA_BSF_PORT=
GBA_BSF_PID=
GBA_ZND_PID=

# Skip (77) when the Zn programs were not built (no libfreediameter-dev).
gba_need() {
    [ -x "$KMS_ZND" ] && [ -x "$TEST_BSF" ] || ms_skip "built without freeDiameter (no kms-znd)"
}

# Skip (77) without mikey-ue or its libcurl transport.
gba_need_ue() {
    [ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
    "$MIKEY_UE" --help 2>&1 | grep -q -- '--url' || ms_skip "mikey-ue built without libcurl"
}

# gba_make_store DIR ZN_DIR [LINE...]: ms_make_store's demo store with the
# kms.conf lines of a NAF whose Zn daemon lives in ZN_DIR (and LINEs).
gba_make_store() {
    local d=$1 g=$2 lines
    shift 2
    mkdir -p "$g"
    mapfile -t lines < <(gba_conf_lines "$g")
    ms_make_store "$d" "${lines[@]}" "$@"
}

# A fresh B-TID (base64 of a random RAND, '@', the BSF's domain) and Ks.
gba_btid() { printf '%s@bsf.example.org' "$(head -c 16 /dev/urandom | base64)"; }
gba_ks() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
# The RAND of a B-TID as hex.
gba_rand_hex() { printf '%s' "${1%@*}" | base64 -d | od -An -tx1 | tr -d ' \n'; }

# gba_provision DIR B-TID IMPI KS EXPIRES IMPUS [RESULT]: one line of the
# BSF's file (read again by the BSF on its next BIR).
gba_provision() {
    local dir=$1
    shift
    echo "$*" >>"$dir/prov.txt"
}

# kms.conf lines for a NAF whose Zn daemon serves DIR/zn.sock.
gba_conf_lines() {
    local dir=$1
    echo "gba = yes"
    echo "kms_fqdn = kms.example.org"
    echo "zn_socket = $dir/zn.sock"
    echo "zn_diameter_conf = $dir/znd.fd.conf"
    echo "zn_realm = example.org"
    echo "zn_bsf = bsf.example.org"
    echo "zn_timeout_ms = 1000"
    echo "gba_forking = yes"
}

# gba_start_bsf DIR [zn-test-bsf switches...]: the test BSF on a loopback
# port (the same one on every restart: kms-znd's peer). Sets GBA_BSF_PID.
# A port picked here that another program took before the BSF bound it
# (the BSF exits) is replaced by another, up to five times.
gba_start_bsf() {
    local dir=$1 picked= try i
    shift
    mkdir -p "$dir"
    touch "$dir/prov.txt"
    for try in 1 2 3 4 5; do
        if [ -z "$GBA_BSF_PORT" ]; then
            GBA_BSF_PORT=$(ms_free_port) || return 1
            picked=1
        fi
        sed "s/^Port = 3868;/Port = $GBA_BSF_PORT;/" \
            "$MS_SRC/doc/zn-test-bsf.fd.conf.sample" >"$dir/bsf.fd.conf"
        ASAN_OPTIONS=detect_leaks=0 "$TEST_BSF" --diameter-conf "$dir/bsf.fd.conf" \
            --provision "$dir/prov.txt" "$@" >>"$dir/bsf.log" 2>&1 </dev/null 7>&- &
        GBA_BSF_PID=$!
        ms_track "$GBA_BSF_PID"
        for ((i = 0; i < 100; i++)); do
            grep -q "zn-test-bsf\[$GBA_BSF_PID\]: info: ready" "$dir/bsf.log" && return 0
            ms_running "$GBA_BSF_PID" || break
            sleep 0.1
        done
        ms_running "$GBA_BSF_PID" || [ -z "$picked" ] || { GBA_BSF_PORT=; continue; }
        break
    done
    echo "the test BSF did not start"
    cat "$dir/bsf.log"
    return 1
}

gba_stop_bsf() {
    ms_stop "$GBA_BSF_PID"
    wait "$GBA_BSF_PID" 2>/dev/null
}

# gba_start_znd DIR KMS_CONF: kms-znd for the BSF of gba_start_bsf, its
# Diameter identity kms.example.org; waits until it serves its socket.
# Sets GBA_ZND_PID.
gba_start_znd() {
    local dir=$1 conf=$2 n
    # the BSF of gba_start_bsf; a lost connection tried again after 1 s
    sed -e "s/Port = 3868; No_TLS;/Port = $GBA_BSF_PORT; No_TLS;/" \
        -e "s/^TcTimer = .*/TcTimer = 1;/" \
        "$MS_SRC/doc/kms-znd.fd.conf.sample" >"$dir/znd.fd.conf"
    n=$(grep -c 'info: serving' "$dir/znd.log" 2>/dev/null)
    ASAN_OPTIONS=detect_leaks=0 "$KMS_ZND" --config "$conf" >>"$dir/znd.log" 2>&1 </dev/null 7>&- &
    GBA_ZND_PID=$!
    ms_track "$GBA_ZND_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c 'info: serving' "$dir/znd.log")" -gt "${n:-0}" ] && return 0
        ms_running "$GBA_ZND_PID" || break
        sleep 0.1
    done
    echo "kms-znd did not start"
    cat "$dir/znd.log"
    return 1
}

gba_stop_znd() {
    ms_stop "$GBA_ZND_PID"
    wait "$GBA_ZND_PID" 2>/dev/null
}

# Wait (10 s) until kms-znd has said "connected" COUNT times in all.
gba_wait_connected() {
    local dir=$1 count=${2:-1} i
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c 'BSF bsf.example.org connected' "$dir/znd.log")" -ge "$count" ] && return 0
        sleep 0.1
    done
    return 1
}

# The BIRs the BSF received for a B-TID.
gba_birs() {
    grep -cF "BIR btid=$2 " "$1/bsf.log"
}

# gba_digest_auth USER PASSWORD NONCE URI NC QOP BODY_FILE [REALM] [ALG]:
# the value of an Authorization header (RFC 7616 §3.4), computed here with
# coreutils' md5sum / sha256sum.
gba_digest_auth() {
    local u=$1 pw=$2 nonce=$3 uri=$4 nc=$5 qop=$6 body=$7
    local realm=${8:-3GPP-bootstrapping@kms.example.org} alg=${9:-MD5}
    local sum=md5sum cnonce=0a4f113b ha1 a2 r
    [ "$alg" = MD5 ] || sum=sha256sum
    ha1=$(printf '%s' "$u:$realm:$pw" | $sum | cut -d' ' -f1)
    a2="POST:$uri"
    [ "$qop" = auth-int ] && a2="$a2:$($sum <"$body" | cut -d' ' -f1)"
    r=$(printf '%s' "$ha1:$nonce:$nc:$cnonce:$qop:$(printf '%s' "$a2" | $sum | cut -d' ' -f1)" |
        $sum | cut -d' ' -f1)
    printf 'Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s", qop=%s, nc=%s, cnonce="%s"\n' \
        "$u" "$realm" "$nonce" "$uri" "$alg" "$r" "$qop" "$nc" "$cnonce"
}

# Hex to bytes on stdout.
gba_unhex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
# The password of a Digest for Ua: base64(Ks_NAF) (TS 33.222 §5.3).
gba_password() { gba_unhex "$1" | base64 -w0; }
# Does FILE hold the bytes HEX anywhere?
gba_file_holds() { LC_ALL=C grep -qaP "$(printf '%s' "$2" | sed 's/../\\x&/g')" "$1"; }
# The expiry (unix seconds) of one of the KMS's nonces (digest.h).
gba_nonce_expiry() { printf '%s' "$1" | base64 -d | head -c 8 | od -An -tu8 --endian=big | tr -d ' '; }

# ---------------------------------------------------------------- TLS

# gba_make_cert DIR: a self-signed certificate for kms.example.org and
# 127.0.0.1 (the KMS of Ua over TLS): DIR/kms.crt, DIR/kms.key, and both
# in DIR/kms.pem (lighttpd's form).
gba_make_cert() {
    mkdir -p "$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kms.example.org" \
        -addext "subjectAltName=DNS:kms.example.org,IP:127.0.0.1" \
        -keyout "$1/kms.key" -out "$1/kms.crt" >"$1/openssl.log" 2>&1 || return 1
    cat "$1/kms.crt" "$1/kms.key" >"$1/kms.pem"
    chmod 644 "$1/kms.crt" "$1/kms.key" "$1/kms.pem"
}

# ms_start_apache's TEXT for an Apache with apache/mikeykms-fcgid-tls.conf on
# 127.0.0.1:PORT (mod_ssl).
gba_apache_tls_lines() {
    local port=$1 certs=$2 mods=/usr/lib/apache2/modules
    cat <<EOF
LoadModule ssl_module $mods/mod_ssl.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
SSLSessionCache "shmcb:$MS_TMP/apache/ssl_scache(512000)"
Define MIKEYKMS_TLS_LISTEN 127.0.0.1:$port
Define MIKEYKMS_TLS_VHOST 127.0.0.1:$port
Define MIKEYKMS_TLS_CERT $certs/kms.crt
Define MIKEYKMS_TLS_KEY $certs/kms.key
Include "$MS_SRC/apache/mikeykms-fcgid-tls.conf"
EOF
}
