#!/bin/bash
# kmsd_ratelimit.sh - the rate limits of doc/profile.md §12.2 through
# lighttpd and two kmsd processes (spawn-fcgi -F 2, one node): per client
# address before any work (a client on 127.0.0.2 past its burst gets 503
# with Retry-After while 127.0.0.1 is served), per PSK identity once V
# verified (alice past her burst gets 503 with Retry-After while bob gets
# his ticket, and alice is served again after the wait), both counted in
# the metrics. Skips (77) only when lighttpd or spawn-fcgi is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need lighttpd spawn-fcgi curl
ms_setup
if [ ! -x "$MIKEY_UE" ]; then
    ms_skip "$MIKEY_UE not built"
fi

D=$MS_TMP/kms
# one request every 5 s per identity, bursts of 3 (slow enough that a
# busy machine cannot refill a token between two requests of the test)
ms_make_store "$D" "rate_limit_identity = 0.2/3"
SOCK=$MS_TMP/kmsd.sock
spawn-fcgi -n -s "$SOCK" -M 0600 -F 2 -- "$KMSD" --config "$D/kms.conf" \
    </dev/null >>"$MS_TMP/kmsd.log" 2>&1 7>&- &
ms_track $!
ms_wait_log "$MS_TMP/kmsd.log" "info: serving" || { echo "kmsd did not start"; cat "$MS_TMP/kmsd.log"; exit 1; }
ms_start_lighttpd "$SOCK" || { echo "lighttpd did not start"; exit 1; }
BASE=http://127.0.0.1:$MS_PORT
U=$BASE/keymanagement
echo "# lighttpd on $BASE, two kmsd processes"

alice=(--psk-file "$D/alice.psk" --psk-id alice --impu sip:alice@example.org)
bob=(--psk-file "$D/bob.psk" --psk-id bob --impu sip:bob@example.org)
make_requests() { # N who...: N fresh REQUEST_INITs, one a line, in $MS_TMP/req
    local n=$1 i
    shift
    : >"$MS_TMP/req"
    for ((i = 0; i < n; i++)); do
        "$MIKEY_UE" request "$@" --peer sip:carol@example.org >>"$MS_TMP/req" 2>>"$MS_TMP/ue.err"
    done
}
send() { # LINE: send the LINE-th request made; status in MS_CODE
    ms_post "$U?$MS_RT" --data-binary "$(sed -n "${1}p" "$MS_TMP/req")"
}

# --- per identity: the burst of 3, then 503 until a token comes back
make_requests 5 "${alice[@]}"
codes=""
for i in 1 2 3 4 5; do
    send "$i"
    codes+="$MS_CODE "
    [ "$MS_CODE" = 503 ] && break
done
ms_check "alice: 3 answered, then 503 ($codes)" [ "$codes" = "200 200 200 503 " ]
wait_s=$(ms_header Retry-After)
ms_check "alice over her limit: Retry-After $wait_s (1 to 5 s)" \
    bash -c '[ -n "$1" ] && [ "$1" -ge 1 ] && [ "$1" -le 5 ]' _ "$wait_s"
ms_check "alice over her limit: the reason" grep -qx "rate limited: too many requests for this identity" "$MS_TMP/b"
make_requests 1 "${bob[@]}"
send 1
ms_expect_code "bob meanwhile" 200
ms_check "bob's answer is REQUEST_RESP" [ "$(ms_body_data_type)" = 13 ]
make_requests 1 "${alice[@]}"
sleep "$wait_s"
send 1
ms_expect_code "alice after Retry-After" 200

# --- per address, set by a reload: one request every 10 s, bursts of 4.
# 127.0.0.2 past its burst (bodies that are not MIKEY: the limit comes
# before any work), 127.0.0.1 still served.
echo "rate_limit_address = 0.1/4" >>"$D/kms.conf"
pkill -HUP -f -- "$KMSD --config $D/kms.conf"
ms_wait_log "$MS_TMP/kmsd.log" "applied rate_limit_address" || ms_fail "reload not logged"
sleep 0.5 # both processes
codes=""
for i in $(seq 1 8); do
    ms_post "$U?$MS_RT" --interface 127.0.0.2 --data-binary AAAA
    codes+="$MS_CODE "
    [ "$MS_CODE" = 503 ] && break
done
ms_check "127.0.0.2: 4 answered (400), then 503 ($codes)" \
    [ "$codes" = "400 400 400 400 503 " ]
wait_s=$(ms_header Retry-After)
ms_check "127.0.0.2 over its limit: Retry-After $wait_s (1 to 10 s)" \
    bash -c '[ -n "$1" ] && [ "$1" -ge 1 ] && [ "$1" -le 10 ]' _ "$wait_s"
ms_check "127.0.0.2 over its limit: the reason" grep -qx "rate limited: too many requests from this address" "$MS_TMP/b"
make_requests 1 "${bob[@]}"
send 1
ms_expect_code "127.0.0.1 meanwhile: bob" 200

# --- the metrics count both (the status pages are never limited)
for i in 1 2 3 4 5 6 7 8; do
    ms_req "$BASE/kms-status/metrics"
    [ "$MS_CODE" = 200 ] || break
done
ms_expect_code "metrics, scraped 8 times" 200
ms_check "metrics: rate_limited by identity" \
    [ "$(ms_metric 'mikeykms_rate_limited_by_limit_total{limit="identity"}')" -ge 1 ]
ms_check "metrics: rate_limited by address" \
    [ "$(ms_metric 'mikeykms_rate_limited_by_limit_total{limit="address"}')" -ge 1 ]
ms_check "metrics: the address's 503 counted as an unauthenticated refusal" \
    [ "$(ms_metric 'mikeykms_unauthenticated_refusals_by_outcome_total{outcome="rate limited"}')" -ge 1 ]
# alice's 503 came after V: recorded, like any answer to her
"$KMSCTL" --store "$D/kms.db" --master-key "$D/master.key" records >"$MS_TMP/records" 2>&1
ms_check "records: alice's rate-limited request is recorded" grep -q '"rate limited"\|rate limited' "$MS_TMP/records"
ms_done
