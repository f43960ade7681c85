#!/bin/bash
# kmsd_apache.sh - kmsd spawned by Apache httpd's mod_fcgid (the drop-in
# apache/mikeykms-fcgid.conf, included as an operator would) in an
# unprivileged, throw-away server root: every row of the profile §2 table
# through HTTP, what Apache answers itself, 503 + Retry-After while the store
# is locked, and kmsd stopped cleanly when Apache stops. As root, Apache's
# children and kmsd run as nobody:nogroup. Skips (77) only when Apache or
# mod_fcgid is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need apache2 curl nc sqlite3
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] || ms_skip "mod_fcgid (libapache2-mod-fcgid) is not installed"
ms_setup_apache_fcgid
LOG=$MS_TMP/apache/error.log
echo "# apache on $BASE (pid $MS_APACHE_PID)"

# --- 503 first: mod_fcgid starts kmsd at the first request, while the store
# is locked: "keys not loaded" -> 503 + Retry-After, then served once the
# lock is gone (same kmsd process).
ms_lock_store "$D/kms.db" || exit 1
ms_post "$BASE/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_kmsd_error "503 store locked" 503 "service unavailable"
ms_expect_header "503 store locked" Retry-After 7
ms_unlock_store
ms_post "$BASE/keymanagement?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_code "lock released: served again" 200
ms_check "kmsd was started by mod_fcgid (socket on descriptor 0)" \
    grep -q 'kmsd\[[0-9]*\]: info: serving /keymanagement on descriptor 0' "$LOG"

ms_http_table "$BASE" apache

# --- what Apache does with requests that do not reach kmsd unchanged
ms_raw_http "$MS_PORT"
# Apache takes an "HTTP/2.0" request line as protocol HTTP/2.0 and passes
# SERVER_PROTOCOL=HTTP/2.0 on: kmsd's own 505.
ms_check "'HTTP/2.0' request line: kmsd's 505 ('$MS_RAW_HTTP20')" \
    [ "$(echo "$MS_RAW_HTTP20" | cut -d' ' -f2)" = 505 ]
ms_check "'HTTP/2.0' request line: kmsd's body" \
    grep -qx 'HTTP version not supported: use HTTP/1.1' "$MS_TMP/http20.ans"
# Content-Length over LimitRequestBody (2 MiB): Apache's input filter
# refuses to read the body, mod_fcgid hands kmsd an empty body, kmsd
# answers 400 (body missing) - a 400 as profile §2 wants, and no hang.
ms_check "huge Content-Length, short body: 400 ('$MS_RAW_HUGE')" \
    [ "$(echo "$MS_RAW_HUGE" | cut -d' ' -f2)" = 400 ]
ms_check "huge Content-Length, short body: nothing of it reached kmsd" \
    grep -qx "$MS_EMPTY" "$MS_TMP/huge.ans"
# A body shorter than its Content-Length, then EOF: Apache gives up reading
# (mod_fcgid never connects to kmsd) and answers itself.
echo "# short body then EOF: Apache answers '${MS_RAW_SHORT:-nothing}'"
ms_alive "raw HTTP" "$BASE"

# HTTP/2 with prior knowledge: this Apache has no mod_http2 loaded; it
# closes the connection on the HTTP/2 preface without any HTTP answer.
ms_h2c_no_answer "$BASE" Apache

# Over LimitRequestBody: the body never reaches kmsd; still a 400.
ms_post_3mib "$BASE"
ms_expect_code "3 MiB body (over LimitRequestBody)" 400
ms_alive "3 MiB" "$BASE"

# --- the store write-locked while kmsd serves: still answered
ms_store_locked_while_serving "$BASE" "$D"

# --- the chain, once mikey-ue exists
ms_chain "$BASE" "$D"

# --- the health and metrics pages (loopback clients only)
ms_status_suite "$BASE" "$D"

# --- Apache stops: mod_fcgid sends SIGTERM, kmsd finishes and exits 0
ms_stop "$MS_APACHE_PID"
wait "$MS_APACHE_PID" 2>/dev/null
ms_check "kmsd stopped cleanly with Apache" grep -q 'kmsd\[[0-9]*\]: info: stopped$' "$LOG"

# --- the log (Apache's error log gets kmsd's stderr), read once kmsd has
# stopped: its request lines are buffered until then, a second at most
ms_check_log "$LOG" "$D"
ms_check "no kmsd left running" bash -c "! pgrep -f '^$MS_TMP/bin/kmsd' >/dev/null"
ms_done
