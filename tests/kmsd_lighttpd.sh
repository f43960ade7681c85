#!/bin/bash
# kmsd_lighttpd.sh - kmsd under spawn-fcgi behind lighttpd
# (lighttpd/lighttpd.conf without its bin-path lines, the spawn-fcgi
# variant; tests/kmsd_supervise.sh runs it as shipped): every row of the
# profile §2 table through HTTP, what lighttpd itself answers before kmsd
# sees a request, raw FastCGI on kmsd's socket, 503 + Retry-After while
# the store is locked, a clean stop on SIGTERM, and lighttpd's own 503
# (mikeykms-errors.lua) once kmsd is gone. Skips (77) only when lighttpd,
# its mod_magnet or spawn-fcgi is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need lighttpd spawn-fcgi curl nc sqlite3
ms_setup_lighttpd --threads 4
echo "# lighttpd on $BASE, kmsd pid $MS_KMSD_PID"

ms_http_table "$BASE" lighttpd

# --- what lighttpd answers itself (kmsd never sees these requests)
# An HTTP/2.0 request line on an HTTP/1 connection: lighttpd's own 505
# (HTML body), which is also what the annex asks for (X1.2: 505, "UE should
# use HTTP/1.1").
# Content-Length over server.max-request-size (2 MiB): lighttpd's 413
# before reading any body.
# A body shorter than its Content-Length, then EOF: lighttpd drops the
# request without an answer and kmsd is not disturbed.
ms_raw_http_expect lighttpd "$MS_PORT" 505 413 -
ms_alive "raw HTTP" "$BASE"

# Real HTTP/2 (h2c with prior knowledge): lighttpd speaks it and passes
# SERVER_PROTOCOL=HTTP/2.0, so kmsd answers its own 505.
if curl -V | grep -qw HTTP2; then
    ms_post "$BASE/keymanagement?$MS_RT" --http2-prior-knowledge --data-binary "$MS_RFC4567_I"
    ms_expect_kmsd_error "505 HTTP/2 (h2c)" 505 "HTTP version not supported: use HTTP/1.1"
else
    echo "# skip h2c: curl without HTTP/2"
fi

# Over lighttpd's own limit (2 MiB): 413 from lighttpd.
ms_post_3mib "$BASE"
ms_expect_code "3 MiB body: lighttpd's 413 (server.max-request-size)" 413
ms_alive "413" "$BASE"

# --- raw FastCGI straight to kmsd's socket
ms_raw_fcgi "unix:$SOCK"
ms_alive "raw FastCGI" "$BASE"

# --- the store write-locked while kmsd serves: still answered
ms_store_locked_while_serving "$BASE" "$D"

# --- the chain, once mikey-ue exists
ms_chain "$BASE" "$D"

# --- the health and metrics pages (loopback clients only)
ms_status_suite "$BASE" "$D"
# the active ticket key older than its rotation period (reloaded: 1 s):
# health 503 naming it, with Retry-After; back to 200 once the limit goes
cp "$D/kms.conf" "$D/kms.conf.before"
echo "ticket_key_max_age = 1" >>"$D/kms.conf"
kill -HUP "$MS_KMSD_PID"
ms_wait_log "$MS_TMP/kmsd.log" "applied .*ticket_key_max_age" || ms_fail "reload of ticket_key_max_age not logged"
sleep 2
ms_req "$BASE/kms-status/health"
ms_expect_code "health, ticket key older than ticket_key_max_age" 503
ms_expect_header "health, ticket key too old" Retry-After 7
ms_check "health names the old key and the setting" \
    grep -q '"ticket_key":"active ticket key tpk-0001 is [0-9]* s old, over ticket_key_max_age 1' "$MS_TMP/b"
ms_check "health: the other checks still ok" \
    grep -q '"store":"ok","crypto_selftest":"ok",.*"node_state":"ok"' "$MS_TMP/b"
cp "$D/kms.conf.before" "$D/kms.conf"
kill -HUP "$MS_KMSD_PID"
ms_wait_log "$MS_TMP/kmsd.log" "applied .*ticket_key_max_age.*" || true
for i in 1 2 3 4 5 6 7 8 9 10; do
    ms_req "$BASE/kms-status/health"
    [ "$MS_CODE" = 200 ] && break
    sleep 0.2
done
ms_expect_code "health after the setting is gone again" 200

# --- 503: the store is locked when kmsd (re)starts: "keys not loaded",
# every request 503 + Retry-After until the lock goes, then served again.
ms_stop "$MS_KMSD_PID"
ms_check "kmsd exits 0 on SIGTERM" wait "$MS_KMSD_PID"
ms_lock_store "$D/kms.db" || exit 1
ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads 2 || exit 1
ms_post "$BASE/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_kmsd_error "503 store locked" 503 "service unavailable"
ms_expect_header "503 store locked" Retry-After 7
ms_req "$BASE/kms-status/health"
ms_expect_code "health, store locked at start" 503
ms_check "health names the store" grep -q '"store":"the store cannot be opened"' "$MS_TMP/b"
ms_unlock_store
ms_post "$BASE/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_code "lock released: served again" 200

ms_stop "$MS_KMSD_PID"
ms_check "kmsd exits 0 on SIGTERM (again)" wait "$MS_KMSD_PID"

# --- kmsd down (spawn-fcgi restarts nothing): lighttpd's own 503, made
# what profile §2 asks by lighttpd/mikeykms-errors.lua (§9.48): Retry-After
# and one text/plain line instead of an HTML page
ms_post "$BASE/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_kmsd_error "kmsd not running: lighttpd's own answer" 503 "service unavailable"
ms_expect_header "kmsd not running: lighttpd's own answer" Retry-After 5
ms_req "$BASE/kms-status/health"
ms_expect_code "kmsd not running: health" 503
ms_expect_header "kmsd not running: health" Retry-After 5

# --- the log: one line per request, no body, no key (read once kmsd has
# exited: the request lines are buffered until then, a second at most)
ms_check_log "$MS_TMP/kmsd.log" "$D"
ms_done
