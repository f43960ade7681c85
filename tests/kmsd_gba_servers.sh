#!/bin/bash
# kmsd_gba_servers.sh - the GBA chain (doc/profile.md §10) through the web
# server drop-ins, over HTTP and HTTPS (a self-signed certificate made
# here; Ua runs over TLS, TS 33.222 §5.3), with and without ua_auth =
# digest: lighttpd (lighttpd/lighttpd-tls.conf, mod_openssl) in front of
# kmsd under spawn-fcgi, Apache (apache/mikeykms-fcgid.conf and
# mikeykms-fcgid-tls.conf, mod_fcgid and mod_ssl) spawning kmsd itself.
# alice and bob are bootstrapped at the test BSF only; kms-znd is the Zn
# daemon of every kmsd process. A server or module that is missing skips
# its part; without freeDiameter, libcurl or openssl the test skips (77).
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"
. "$MS_SRC/tests/lib_gba.sh"

ms_need curl openssl
gba_need
gba_need_ue
ms_setup

D=$MS_TMP/kms
G=$MS_TMP/gba
C=$MS_TMP/tls
gba_make_store "$D" "$G"
cp "$D/kms.conf" "$D/kms-digest.conf"
echo "ua_auth = digest" >>"$D/kms-digest.conf"
gba_make_cert "$C" || { echo "openssl could not make a certificate"; cat "$C/openssl.log"; exit 1; }
O=$MS_TMP/out
E=$MS_TMP/err
NOW=$(date +%s)
BT_A=$(gba_btid) KS_A=$(gba_ks)
BT_B=$(gba_btid) KS_B=$(gba_ks)
gba_provision "$G" "$BT_A" alice@ims.example.org "$KS_A" $((NOW + 3600)) sip:alice@example.org
gba_provision "$G" "$BT_B" bob@ims.example.org "$KS_B" $((NOW + 3600)) sip:bob@example.org
ALICE=(--alice-impu sip:alice@example.org --alice-gba-btid "$BT_A" --alice-gba-ks "$KS_A" --alice-gba-impi alice@ims.example.org)
BOB=(--bob-impu sip:bob@example.org --bob-gba-btid "$BT_B" --bob-gba-ks "$KS_B" --bob-gba-impi bob@ims.example.org)

# Apache runs kmsd as nobody when we are root: the store, the Zn daemon's
# socket (kms-znd runs as nobody too) and the programs must be theirs.
RUN=()
mkdir -p "$MS_TMP/bin"
cp "$KMSD" "$KMS_ZND" "$MS_TMP/bin/"
if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody:nogroup "$D" "$G"
    RUN=(runuser -u nobody --)
fi
gba_start_bsf "$G" || exit 1
KMS_ZND="$MS_TMP/bin/kms-znd"
if [ ${#RUN[@]} -gt 0 ]; then
    # gba_start_znd runs $KMS_ZND: make it run as nobody
    printf '#!/bin/sh\nexec runuser -u nobody -- %s "$@"\n' "$MS_TMP/bin/kms-znd" >"$MS_TMP/bin/znd-as-nobody"
    chmod 755 "$MS_TMP/bin/znd-as-nobody"
    KMS_ZND="$MS_TMP/bin/znd-as-nobody"
fi
gba_start_znd "$G" "$D/kms.conf" || exit 1
gba_wait_connected "$G" 1 || { echo "kms-znd did not connect"; cat "$G/znd.log"; exit 1; }

# chain NAME URL [options]: the GBA chain, keys compared here
chain() {
    local name=$1 url=$2 rc
    shift 2
    "$MIKEY_UE" chain --url "$url" "${ALICE[@]}" "${BOB[@]}" "$@" >"$O" 2>"$E"
    rc=$?
    ms_check "$name: exit 0 (rc $rc$([ "$rc" = 0 ] || head -n 1 "$E" | sed 's/^/: /'))" [ "$rc" = 0 ]
    ms_check "$name: alice and bob have the same SRTP keys" ms_chain_keys_match "$O" 32
}

# unauth NAME URL: a request without credentials is 401 with a challenge
unauth() {
    ms_post "$2?$MS_RT" --cacert "$C/kms.crt" --data-binary \
        "$("$MIKEY_UE" request --gba-btid "$BT_A" --gba-ks "$KS_A" --gba-impi alice@ims.example.org \
            --impu sip:alice@example.org --peer sip:bob@example.org)"
    ms_expect_code "$1: no credentials" 401
    ms_check "$1: a Digest challenge" bash -c "grep -qi '^WWW-Authenticate: Digest realm=\"3GPP-bootstrapping@kms.example.org\"' '$MS_TMP/h'"
}

# steps NAME URL: request and resolve, each by a mikey-ue of its own (no
# nonce yet: each meets a 401 first), the SRTP keys compared at the end
steps() {
    local url=$2 req resp ti ri rr
    A=(--impu sip:alice@example.org --gba-btid "$BT_A" --gba-ks "$KS_A" --gba-impi alice@ims.example.org)
    B=(--impu sip:bob@example.org --gba-btid "$BT_B" --gba-ks "$KS_B" --gba-impi bob@ims.example.org)
    "$MIKEY_UE" request --url "$url" --cacert "$C/kms.crt" "${A[@]}" --peer sip:bob@example.org >"$O" 2>"$E"
    ms_check "$1: request --url ($(head -c 120 "$E"))" grep -q '^request_resp=' "$O"
    req=$(sed -n 's/^request=//p' "$O")
    resp=$(sed -n 's/^request_resp=//p' "$O")
    ti=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$req" --peer sip:bob@example.org "$resp")
    "$MIKEY_UE" resolve --url "$url" --cacert "$C/kms.crt" "${B[@]}" "$ti" >"$O" 2>"$E"
    ms_check "$1: resolve --url ($(head -c 120 "$E"))" grep -q '^resolve_resp=' "$O"
    ri=$(sed -n 's/^resolve_init=//p' "$O")
    rr=$(sed -n 's/^resolve_resp=//p' "$O")
    ms_ue_same_keys "$1: step by step, same SRTP keys" "$req" "$resp" "$ti" "$ri" "$rr"
}

# after_401 LOG SERVICE: kmsd logged a 401 of SERVICE, then a 200 of it
after_401() {
    awk -v s="service=$2" '$0 ~ "status=401 " s {f = 1}
        f && $0 ~ "status=200 " s {ok = 1} END {exit !ok}' "$1"
}

# ---------------------------------------------------------------- Apache
# (first: its kmsd runs as nobody and must find no store file of root's)
if command -v apache2 >/dev/null && [ -f /usr/lib/apache2/modules/mod_fcgid.so ] &&
    [ -f /usr/lib/apache2/modules/mod_ssl.so ]; then
    mkdir -p "$MS_TMP/apache"
    for conf in kms.conf kms-digest.conf; do
        TLS_PORT=$(ms_free_port)
        ms_start_apache "$MS_TMP/bin/kmsd" "$D/$conf" \
            "$(gba_apache_tls_lines "$TLS_PORT" "$C")" || { echo "apache did not start"; cat "$MS_TMP/apache/stderr.log"; exit 1; }
        echo "# apache ($conf): http :$MS_PORT, https :$TLS_PORT"
        what=$([ "$conf" = kms.conf ] && echo "ua_auth = none" || echo "ua_auth = digest")
        [ "$conf" = kms-digest.conf ] && unauth "apache https" "https://127.0.0.1:$TLS_PORT/keymanagement"
        chain "apache http, $what" "http://127.0.0.1:$MS_PORT/keymanagement"
        chain "apache https, $what" "https://127.0.0.1:$TLS_PORT/keymanagement" --cacert "$C/kms.crt"
        [ "$conf" = kms-digest.conf ] && steps "apache https, $what" "https://127.0.0.1:$TLS_PORT/keymanagement"
        ms_stop "$MS_APACHE_PID"
        wait "$MS_APACHE_PID" 2>/dev/null
    done
    ms_check "apache: a Ticket Request answered 401, then 200" \
        after_401 "$MS_TMP/apache/error.log" ticketrequest
    ms_check "apache: a Ticket Resolve answered 401, then 200" \
        after_401 "$MS_TMP/apache/error.log" ticketresolve
else
    echo "# skip Apache: apache2, mod_fcgid or mod_ssl missing"
fi
# ---------------------------------------------------------------- lighttpd
if command -v lighttpd >/dev/null && command -v spawn-fcgi >/dev/null &&
    [ -f /usr/lib/lighttpd/mod_openssl.so ]; then
    SOCK=$MS_TMP/kmsd.sock
    ms_start_kmsd_spawn "$SOCK" "$D/kms-digest.conf" "$MS_TMP/kmsd.log" --threads 2 || exit 1
    MS_LIGHTTPD_TLS_PEM=$C/kms.pem ms_start_lighttpd "$SOCK" || { echo "lighttpd (TLS) did not start"; exit 1; }
    echo "# lighttpd: http :$MS_PORT, https :$MS_TLS_PORT"
    unauth "lighttpd https" "https://127.0.0.1:$MS_TLS_PORT/keymanagement"
    chain "lighttpd https, ua_auth = digest" "https://127.0.0.1:$MS_TLS_PORT/keymanagement" --cacert "$C/kms.crt"
    chain "lighttpd http, ua_auth = digest" "http://127.0.0.1:$MS_PORT/keymanagement"
    "$MIKEY_UE" chain --url "https://127.0.0.1:$MS_TLS_PORT/keymanagement" "${ALICE[@]}" "${BOB[@]}" >"$O" 2>"$E"
    ms_check "lighttpd https: a certificate not trusted is refused ($(head -c 120 "$E"))" \
        grep -q 'no HTTP answer from https://' "$E"
    ms_stop "$MS_LIGHTTPD_PID"
    ms_stop "$MS_KMSD_PID"
else
    echo "# skip lighttpd: lighttpd, spawn-fcgi or mod_openssl (lighttpd-mod-openssl) missing"
fi

ms_check "one BIR each for alice and bob in all of it (the node's cache)" \
    bash -c "[ \$(grep -cF 'BIR btid=$BT_A ' '$G/bsf.log') = 1 ] && [ \$(grep -cF 'BIR btid=$BT_B ' '$G/bsf.log') = 1 ]"

ms_done
