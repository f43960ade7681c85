#!/bin/bash
# kmsd_gba.sh - the KMS as a GBA NAF (doc/profile.md §10) end to end: a
# test BSF (zn-test-bsf, freeDiameter) and the Zn daemon (kms-znd) on
# loopback, kmsd under spawn-fcgi behind lighttpd, no GBA subscriber in
# the store:
#  - alice and bob bootstrapped at the BSF run the chain with mikey-ue
#    (B-TID as IDRpsk, Ks_NAF as PSK), both suites, with forking;
#  - every new status row, provoked: 401 (unknown B-TID 5401, expired
#    5403), 403 (5402, an IMPU the USS does not list), 504 (the BSF holds
#    its answer past the Zn timeout), 503 with Retry-After (the BSF down,
#    the Zn daemon down), and recovery once they are back;
#  - the Ks_NAF cache: one BIR per B-TID across two kmsd processes, an
#    expired entry fetched again, no Ks_NAF byte string in the node file or
#    the store;
#  - ua_auth = digest: 401 with a fresh challenge, the chain through the
#    401 -> Digest -> 200 dance, a wrong password, a stale nonce
#    (stale=true), a nonce count replayed to another process, a Digest
#    user that is not the IDRpsk (403), qop auth and auth-int.
# Skips (77) without lighttpd, spawn-fcgi, libcurl or freeDiameter.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"
. "$MS_SRC/tests/lib_gba.sh"

ms_need lighttpd spawn-fcgi curl
gba_need
gba_need_ue
ms_setup

D=$MS_TMP/kms
G=$MS_TMP/gba
gba_make_store "$D" "$G"
O=$MS_TMP/out
E=$MS_TMP/err
NOW=$(date +%s)

# bootstrappings: alice and bob (one B-TID each), and one per refusal
BT_A=$(gba_btid) KS_A=$(gba_ks)
BT_B=$(gba_btid) KS_B=$(gba_ks)
BT_X=$(gba_btid)                       # never bootstrapped: 5401
BT_OLD=$(gba_btid) KS_OLD=$(gba_ks)    # expired: 5403
BT_NO=$(gba_btid) KS_NO=$(gba_ks)      # 5402, forced
BT_C=$(gba_btid) KS_C=$(gba_ks)        # carol, for the cache
gba_provision "$G" "$BT_A" alice@ims.example.org "$KS_A" $((NOW + 3600)) sip:alice@example.org,tel:+15550001
gba_provision "$G" "$BT_B" bob@ims.example.org "$KS_B" $((NOW + 3600)) sip:bob@example.org
gba_provision "$G" "$BT_OLD" old@ims.example.org "$KS_OLD" $((NOW - 10)) sip:old@example.org
gba_provision "$G" "$BT_NO" no@ims.example.org "$KS_NO" $((NOW + 3600)) sip:no@example.org 5402
gba_provision "$G" "$BT_C" carol@ims.example.org "$KS_C" $((NOW + 3600)) sip:carol@example.org

gba_start_bsf "$G" --delay-ms 2500 || exit 1
kill -USR1 "$GBA_BSF_PID" # the delay is off until the 504 test
gba_start_znd "$G" "$D/kms.conf" || exit 1
gba_wait_connected "$G" 1 || { echo "kms-znd did not connect to the BSF"; cat "$G/znd.log"; exit 1; }

SOCK=$MS_TMP/kmsd.sock
ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads 2 || exit 1
KS=$MS_KMSD_PID
ms_start_lighttpd "$SOCK" || { echo "lighttpd did not start"; exit 1; }
BASE=http://127.0.0.1:$MS_PORT
U=$BASE/keymanagement
echo "# lighttpd on $BASE, BSF on 127.0.0.1:$GBA_BSF_PORT"

ALICE=(--alice-impu sip:alice@example.org --alice-gba-btid "$BT_A" --alice-gba-ks "$KS_A" --alice-gba-impi alice@ims.example.org)
BOB=(--bob-impu sip:bob@example.org --bob-gba-btid "$BT_B" --bob-gba-ks "$KS_B" --bob-gba-impi bob@ims.example.org)

ue() { ms_ue "$@"; }

# the health page's Zn check (doc/profile.md §12.1): health_zn CODE TEXT
ST=$BASE/kms-status
health_zn() {
    ms_req "$ST/health"
    ms_expect_code "health: $2" "$1"
    ms_check "health: zn is \"$2\" ($(cat "$MS_TMP/b"))" grep -qF "\"zn\":\"$2\"}}" "$MS_TMP/b"
}
health_zn 200 ok
ms_check "health: GBA on, every check ok" grep -q '^{"status":"ok",' "$MS_TMP/b"

# req_of BTID KS IMPI IMPU: a REQUEST_INIT of that GBA UE (base64)
req_of() {
    "$MIKEY_UE" request --gba-btid "$1" --gba-ks "$2" --gba-impi "$3" --impu "$4" \
        --peer sip:bob@example.org
}

# ---------------------------------------------------------------- the chain

ms_check "store: no subscriber but the demo's alice and bob" \
    [ "$(ms_kmsctl "$D" subscriber list | wc -l)" = 2 ]
for suite in 128 256; do
    for fork in "" --forking; do
        name="GBA chain (suite $suite${fork:+, forking})"
        ue "$name" 0 chain --url "$U" --suite "$suite" $fork "${ALICE[@]}" "${BOB[@]}"
        ms_check "$name: same SRTP keys" ms_chain_keys_match "$O" $((suite / 4))
    done
done
ms_check "one BIR for alice's B-TID in four chains (the node's cache)" [ "$(gba_birs "$G" "$BT_A")" = 1 ]
ms_check "one BIR for bob's" [ "$(gba_birs "$G" "$BT_B")" = 1 ]
ms_req "$ST/metrics"
ms_check "metrics: two Zn lookups timed ($(ms_metric mikeykms_zn_lookup_duration_seconds_count))" \
    [ "$(ms_metric mikeykms_zn_lookup_duration_seconds_count)" = 2 ]
ms_check "metrics: both with the verdict ok" \
    [ "$(ms_metric 'mikeykms_zn_lookups_by_verdict_total{verdict="ok"}')" = 2 ]
ms_check "metrics: the Zn +Inf bucket is the count" \
    [ "$(ms_metric 'mikeykms_zn_lookup_duration_seconds_bucket{le="+Inf"}')" = 2 ]
ms_check "the records name the B-TIDs" bash -c "'$KMSCTL' --store '$D/kms.db' --master-key '$D/master.key' records --subscriber '$BT_A' | grep -q '\"outcome\":\"ok\"'"
# Ks_NAF as the UE derives it (mikey-ue gba-key) is the PSK the KMS used
KSNAF_A=$("$MIKEY_UE" gba-key --ks "$KS_A" --rand "$(gba_rand_hex "$BT_A")" \
    --impi alice@ims.example.org --naf-fqdn kms.example.org)
ue "a PSK chain with alice's Ks_NAF as --psk" 0 chain --url "$U" \
    --alice-impu sip:alice@example.org --alice-psk-id "$BT_A" --alice-psk "$KSNAF_A" "${BOB[@]}"

# ---------------------------------------------------------------- refusals

# expect_status NAME CODE BODY: POST BODY as a Ticket Request
expect_status() {
    ms_post "$U?$MS_RT" --data-binary "$3"
    ms_expect_code "$1" "$2"
}
expect_status "401: B-TID unknown at the BSF (5401)" 401 "$(req_of "$BT_X" "$KS_A" x@ims sip:x@example.org)"
ms_check "401 (5401): a Digest challenge for the NAF's realm" \
    bash -c "grep -qi '^WWW-Authenticate: Digest realm=\"3GPP-bootstrapping@kms.example.org\", nonce=\"[A-Za-z0-9+/=]*\", qop=\"auth-int,auth\", algorithm=MD5$' '$MS_TMP/h'"
ms_expect_body "401 (5401)" "authentication required: B-TID unknown or expired at the BSF"
expect_status "401: Ks_NAF expired at the BSF (5403)" 401 "$(req_of "$BT_OLD" "$KS_OLD" old@ims.example.org sip:old@example.org)"
expect_status "403: the BSF does not authorise this NAF (5402)" 403 "$(req_of "$BT_NO" "$KS_NO" no@ims.example.org sip:no@example.org)"
ms_expect_body "403 (5402)" "forbidden by policy"
expect_status "403: IDRi not an IMPU of alice's USS" 403 "$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:eve@example.org)"
expect_status "alice's second IMPU is hers" 200 "$(req_of "$BT_A" "$KS_A" alice@ims.example.org tel:+15550001)"
ue "mikey-ue: 401 printed" 1 request --url "$U" --gba-btid "$BT_X" --gba-ks "$KS_A" \
    --gba-impi x@ims --impu sip:x@example.org --peer sip:bob@example.org
ms_check "mikey-ue: 401 ($(cat "$E"))" grep -q "HTTP 401 Unauthorized: authentication required" "$E"

# 504: the BSF holds its answers 2.5 s, the Zn timeout is 1 s
# (the message made before the clock starts: only the exchange is timed)
REQ_C=$(req_of "$BT_C" "$KS_C" carol@ims.example.org sip:carol@example.org)
kill -USR1 "$GBA_BSF_PID"
ms_wait_log "$G/bsf.log" "delay on" || true
T0=$(date +%s%N)
expect_status "504: no BIA within zn_timeout_ms" 504 "$REQ_C"
T1=$(date +%s%N)
ms_check "504 after the Zn timeout, not later ($(((T1 - T0) / 1000000)) ms)" [ $(((T1 - T0) / 1000000)) -lt 2400 ]
ms_expect_body "504" "BSF did not answer: no answer over Zn in time"
ms_req "$ST/metrics"
ms_check "metrics: the 504's lookup counted as a timeout" \
    [ "$(ms_metric 'mikeykms_zn_lookups_by_verdict_total{verdict="timeout"}')" = 1 ]
# every 401 so far is a BSF's 5401/5403 (ua_auth is not digest here)
UNK=$(ms_metric 'mikeykms_zn_lookups_by_verdict_total{verdict="unknown"}')
N401=$(ms_metric 'mikeykms_responses_by_status_total{status="401"}')
ms_check "metrics: one lookup counted as unknown per 401 answered ($UNK, $N401)" \
    [ "$UNK" -ge 3 -a "$UNK" = "$N401" ]
ms_check "metrics: the 504's lookup took over 1 s (a bucket above 1 s is not empty)" \
    [ "$(ms_metric 'mikeykms_zn_lookup_duration_seconds_bucket{le="+Inf"}')" -gt \
      "$(ms_metric 'mikeykms_zn_lookup_duration_seconds_bucket{le="1"}')" ]
kill -USR1 "$GBA_BSF_PID"
ms_wait_log "$G/bsf.log" "delay off" || true
sleep 1.6 # the held answer arrives late and is dropped by kms-znd
expect_status "after the delay: carol answered" 200 "$(req_of "$BT_C" "$KS_C" carol@ims.example.org sip:carol@example.org)"

# 503: the BSF down (uncached B-TID), cached ones still served
gba_stop_bsf
BT_D=$(gba_btid) KS_D=$(gba_ks)
gba_provision "$G" "$BT_D" dave@ims.example.org "$KS_D" $((NOW + 3600)) sip:dave@example.org
expect_status "503: BSF down" 503 "$(req_of "$BT_D" "$KS_D" dave@ims.example.org sip:dave@example.org)"
ms_expect_header "503: BSF down" Retry-After 7
ms_expect_body "503: BSF down" "service unavailable"
ms_check "503: kmsd says why in its log" grep -q 'answered 503: the BSF cannot be reached over Zn' "$MS_TMP/kmsd.log"
health_zn 503 "kms-znd has no Diameter connection to the BSF"
ms_expect_header "health 503: BSF down" Retry-After 7
expect_status "BSF down: a cached B-TID still served" 200 "$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:alice@example.org)"
gba_start_bsf "$G" || exit 1
gba_wait_connected "$G" 2 || ms_fail "kms-znd reconnected to the BSF"
health_zn 200 ok
expect_status "BSF back: served without a restart" 200 "$(req_of "$BT_D" "$KS_D" dave@ims.example.org sip:dave@example.org)"

# 503: the Zn daemon down; kmsd comes back by itself when it is back
gba_stop_znd
BT_F=$(gba_btid) KS_F=$(gba_ks)
gba_provision "$G" "$BT_F" frank@ims.example.org "$KS_F" $((NOW + 3600)) sip:frank@example.org
expect_status "503: kms-znd down" 503 "$(req_of "$BT_F" "$KS_F" frank@ims.example.org sip:frank@example.org)"
ms_check "503: kmsd says why in its log" grep -q 'answered 503: the Zn daemon (kms-znd) is not running' "$MS_TMP/kmsd.log"
health_zn 503 "the Zn daemon (kms-znd) is not running"
gba_start_znd "$G" "$D/kms.conf" || exit 1
gba_wait_connected "$G" 3 || ms_fail "the new kms-znd connected"
expect_status "kms-znd back: served, kmsd not restarted" 200 "$(req_of "$BT_F" "$KS_F" frank@ims.example.org sip:frank@example.org)"
ms_check "kmsd alive throughout (pid $KS)" ms_running "$KS"

# ---------------------------------------------------------------- the cache

# two more kmsd processes on their own sockets, the same node
ms_start_kmsd_listen "unix:$MS_TMP/k1.sock" "$D/kms.conf" "$MS_TMP/k1.log" || exit 1
K1=$MS_KMSD_PID
ms_start_kmsd_listen "unix:$MS_TMP/k2.sock" "$D/kms.conf" "$MS_TMP/k2.log" || exit 1
K2=$MS_KMSD_PID
FP=(-p REQUEST_METHOD=POST -p SERVER_PROTOCOL=HTTP/1.1 -p SCRIPT_NAME=/keymanagement
    -p "QUERY_STRING=$MS_RT" -p CONTENT_TYPE=application/mikey -p "REQUEST_URI=/keymanagement?$MS_RT")
BT_G=$(gba_btid) KS_G=$(gba_ks)
gba_provision "$G" "$BT_G" gina@ims.example.org "$KS_G" $((NOW + 3600)) sip:gina@example.org
for k in k1 k2 k1 k2; do
    "$FCGICLIENT" "${FP[@]}" -b "$(req_of "$BT_G" "$KS_G" gina@ims.example.org sip:gina@example.org)" \
        "unix:$MS_TMP/$k.sock" >"$O" 2>&1
    ms_check "gina through $k: 200" grep -q '^Status: 200 OK' "$O"
done
ms_check "one BIR for gina's B-TID across two processes ($(gba_birs "$G" "$BT_G"))" [ "$(gba_birs "$G" "$BT_G")" = 1 ]
# Ks_NAF is nowhere in clear: not in the node file, not in the store
holds_not() { ! gba_file_holds "$@"; }
KSNAF_G=$("$MIKEY_UE" gba-key --ks "$KS_G" --rand "$(gba_rand_hex "$BT_G")" --impi gina@ims.example.org --naf-fqdn kms.example.org)
for f in "$D/kms.db-node" "$D/kms.db" "$D/kms.db-wal"; do
    [ -f "$f" ] || continue
    ms_check "no Ks_NAF in clear in $(basename "$f")" holds_not "$f" "$KSNAF_G"
done
ms_check "(the B-TID itself is in the node file: the grep can see)" gba_file_holds "$D/kms.db-node" "$(printf '%s' "$BT_G" | od -An -tx1 | tr -d ' \n')"
# an expired entry is fetched again: a bootstrapping of 3 s (the request
# made first, so that only the exchange itself runs on its clock)
BT_S=$(gba_btid) KS_S=$(gba_ks)
REQ_S=$(req_of "$BT_S" "$KS_S" short@ims.example.org sip:short@example.org)
T_S=$(($(date +%s) + 3))
gba_provision "$G" "$BT_S" short@ims.example.org "$KS_S" "$T_S" sip:short@example.org
"$FCGICLIENT" "${FP[@]}" -b "$REQ_S" "unix:$MS_TMP/k1.sock" >"$O" 2>&1
ms_check "short-lived B-TID: 200" grep -q '^Status: 200 OK' "$O"
while [ "$(date +%s)" -le "$T_S" ]; do sleep 0.2; done
"$FCGICLIENT" "${FP[@]}" -b "$(req_of "$BT_S" "$KS_S" short@ims.example.org sip:short@example.org)" \
    "unix:$MS_TMP/k2.sock" >"$O" 2>&1
ms_check "expired Ks_NAF: asked again, the BSF says 5403: 401" grep -q '^Status: 401 Unauthorized' "$O"
ms_check "two BIRs for the short-lived B-TID" [ "$(gba_birs "$G" "$BT_S")" = 2 ]

# ---------------------------------------------------------------- ua_auth = digest

for p in "$K1" "$K2" "$KS"; do ms_stop "$p"; done
wait "$K1" "$K2" "$KS" 2>/dev/null
echo "ua_auth = digest" >>"$D/kms.conf"
# long enough for the nonce-count checks below to run on one nonce on a
# busy machine under the sanitizers (seen: 7 s), short enough to wait for
# its aging at the end
echo "ua_nonce_lifetime = 20" >>"$D/kms.conf"
ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads 2 || exit 1
KS=$MS_KMSD_PID
ms_start_kmsd_listen "unix:$MS_TMP/k1.sock" "$D/kms.conf" "$MS_TMP/k1.log" || exit 1
ms_start_kmsd_listen "unix:$MS_TMP/k2.sock" "$D/kms.conf" "$MS_TMP/k2.log" || exit 1

REQ_A=$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:alice@example.org)
expect_status "digest: no credentials: 401" 401 "$REQ_A"
CH=$(ms_header WWW-Authenticate)
ms_check "digest: the challenge offers auth-int and auth ($CH)" \
    bash -c "echo '$CH' | grep -q '^Digest realm=\"3GPP-bootstrapping@kms.example.org\", nonce=\"[^\"]*\", qop=\"auth-int,auth\", algorithm=MD5$'"
for suite in 128 256; do
    ue "digest: GBA chain, 401 -> Digest -> 200 (suite $suite)" 0 chain --url "$U" --suite "$suite" "${ALICE[@]}" "${BOB[@]}"
    ms_check "digest: same SRTP keys (suite $suite)" ms_chain_keys_match "$O" $((suite / 4))
done
ue "digest: step by step, request --url" 0 request --url "$U" --gba-btid "$BT_A" --gba-ks "$KS_A" \
    --gba-impi alice@ims.example.org --impu sip:alice@example.org --peer sip:bob@example.org
ms_check "digest: kmsd answered 401 before the 200s" grep -q 'status=401 service=ticketrequest err="authentication required"' "$MS_TMP/kmsd.log"
TI=$("$MIKEY_UE" transfer-init --gba-btid "$BT_A" --gba-ks "$KS_A" --gba-impi alice@ims.example.org \
    --impu sip:alice@example.org --request "$(sed -n 's/^request=//p' "$O")" --peer sip:bob@example.org \
    "$(sed -n 's/^request_resp=//p' "$O")" 2>/dev/null)
ue "digest: step by step, resolve --url" 0 resolve --url "$U" --gba-btid "$BT_B" --gba-ks "$KS_B" \
    --gba-impi bob@ims.example.org --impu sip:bob@example.org "$TI"
# a 200 resolve logged after a 401 resolve (kmsd logs a request once its
# answer has left: wait for the line)
resolve_401_200() {
    local i
    for ((i = 0; i < 100; i++)); do
        awk '/status=401 service=ticketresolve/ {f = 1}
             f && /status=200 service=ticketresolve/ {ok = 1}
             END {exit !ok}' "$MS_TMP/kmsd.log" && return 0
        sleep 0.1
    done
    return 1
}
ms_check "digest: a resolve answered 401, then 200" resolve_401_200
WRONG=$(gba_ks)
ue "digest: wrong Ks (wrong password)" 1 request --url "$U" --gba-btid "$BT_A" --gba-ks "$WRONG" \
    --gba-impi alice@ims.example.org --impu sip:alice@example.org --peer sip:bob@example.org
ms_check "digest: wrong password: 401 in the end ($(cat "$E"))" grep -q "HTTP 401 Unauthorized: authentication required: Digest: response does not verify" "$E"

# Digest computed here (coreutils), sent straight to kmsd's sockets
nonce_of() { sed -n 's/.*nonce="\([^"]*\)".*/\1/p' <<<"$1"; }
fcgi_digest() { # SOCKET AUTH BODY
    printf '%s' "$3" >"$MS_TMP/body"
    "$FCGICLIENT" "${FP[@]}" -p "HTTP_AUTHORIZATION=$2" -f "$MS_TMP/body" "unix:$1" >"$O" 2>&1
}
PW_A=$(gba_password "$KSNAF_A")
URI="/keymanagement?$MS_RT"
# every message first: the nonce lives 20 s, the exchanges run on it
REQ_A2=$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:alice@example.org)
REQ_A3=$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:alice@example.org)
REQ_A4=$(req_of "$BT_A" "$KS_A" alice@ims.example.org sip:alice@example.org)
REQ_B=$(req_of "$BT_B" "$KS_B" bob@ims.example.org sip:bob@example.org)
ms_post "$U?$MS_RT" --data-binary "$REQ_A"
N1=$(nonce_of "$(ms_header WWW-Authenticate)")
printf '%s' "$REQ_A" >"$MS_TMP/body"
AUTH=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000001 auth-int "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH" "$REQ_A"
ms_check "digest (computed by md5sum), auth-int, process 1: 200" grep -q '^Status: 200 OK' "$O"
AUTH2=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000001 auth "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH2" "$REQ_A2"
ms_check "nonce count 1 again (qop auth, a new message): 401" grep -q '^Status: 401 Unauthorized' "$O"
AUTH3=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000002 auth "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH3" "$REQ_A2"
ms_check "nonce count 2 (qop auth): 200" grep -q '^Status: 200 OK' "$O"
fcgi_digest "$MS_TMP/k2.sock" "$AUTH3" "$REQ_A3"
ms_check "the same nonce count replayed to another process: 401" grep -q '^Status: 401 Unauthorized' "$O"
ms_check "... not stale: a replay" bash -c "! grep -q 'stale=true' '$O'"
ms_check "... the reason" grep -q '^authentication required: Digest: nonce count used before$' "$O"
# auth-int binds the body: the same credentials with another body
printf '%s' "$REQ_A2" >"$MS_TMP/other"
AUTH4=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000003 auth-int "$MS_TMP/other")
fcgi_digest "$MS_TMP/k2.sock" "$AUTH4" "$REQ_A3"
ms_check "auth-int over another body: 401" grep -q '^authentication required: Digest: response does not verify$' "$O"
# a Digest user that is not the IDRpsk: 403
printf '%s' "$REQ_B" >"$MS_TMP/body"
AUTH5=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000004 auth-int "$MS_TMP/body")
fcgi_digest "$MS_TMP/k2.sock" "$AUTH5" "$REQ_B"
ms_check "Digest user alice, IDRpsk bob: 403" grep -q '^Status: 403 Forbidden' "$O"
# SHA-256 is not what this KMS offers
AUTH6=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000005 auth "$MS_TMP/body" 3GPP-bootstrapping@kms.example.org SHA-256)
fcgi_digest "$MS_TMP/k2.sock" "$AUTH6" "$REQ_B"
ms_check "algorithm SHA-256 where MD5 is offered: 401" grep -q '^authentication required: Digest: algorithm not the one offered$' "$O"
# a nonce that aged (ua_nonce_lifetime = 20): right password, stale=true
EXP=$(gba_nonce_expiry "$N1")
while [ "$(date +%s)" -le "$EXP" ]; do sleep 0.2; done
printf '%s' "$REQ_A4" >"$MS_TMP/body"
AUTH7=$(gba_digest_auth "$BT_A" "$PW_A" "$N1" "$URI" 00000006 auth-int "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH7" "$REQ_A4"
ms_check "aged nonce, right password: 401 with stale=true" \
    bash -c "grep -q '^Status: 401 Unauthorized' '$O' && grep -q '^WWW-Authenticate: Digest .*, stale=true' '$O'"
AUTH8=$(gba_digest_auth "$BT_A" "$(gba_password "$WRONG")" "$N1" "$URI" 00000007 auth-int "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH8" "$REQ_A4"
ms_check "aged nonce, wrong password: 401 without stale" \
    bash -c "grep -q '^Status: 401 Unauthorized' '$O' && ! grep -q 'stale=true' '$O'"
ms_check "kmsd alive throughout" ms_running "$KS"

# 503: the BSF refuses our capabilities exchange
gba_stop_bsf
gba_start_bsf "$G" --refuse || exit 1
ms_wait_log "$G/bsf.log" "refusing peer kms.example.org" || ms_fail "the BSF saw kms-znd's CER"
BT_E=$(gba_btid) KS_E=$(gba_ks)
gba_provision "$G" "$BT_E" erin@ims.example.org "$KS_E" $((NOW + 3600)) sip:erin@example.org
# with ua_auth = digest the Digest check asks the BSF: credentials for a
# B-TID the node has not cached meet the refusal as a 503
REQ_E=$(req_of "$BT_E" "$KS_E" erin@ims.example.org sip:erin@example.org)
ms_post "$U?$MS_RT" --data-binary "$REQ_E"
N2=$(nonce_of "$(ms_header WWW-Authenticate)")
printf '%s' "$REQ_E" >"$MS_TMP/body"
AUTH9=$(gba_digest_auth "$BT_E" "$(gba_password "$KS_E")" "$N2" "$URI" 00000001 auth-int "$MS_TMP/body")
fcgi_digest "$MS_TMP/k1.sock" "$AUTH9" "$REQ_E"
ms_check "503: the BSF refuses the connection" grep -q '^Status: 503 Service Unavailable' "$O"
ms_check "503: Retry-After" grep -q '^Retry-After: 7' "$O"

ms_check "kmsd alive at the end" ms_running "$KS"

# the logs hold no key
ms_check "no Ks_NAF in any log" bash -c "! grep -rqi -e '$KSNAF_A' -e '$KSNAF_G' -e '$KS_A' '$MS_TMP' --include='*.log'"

ms_done
