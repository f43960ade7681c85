#!/bin/bash
# kmsd_apache_proxy.sh - one threaded `kmsd --listen` behind Apache httpd's
# mod_proxy_fcgi (the drop-in apache/mikeykms-proxy-fcgi.conf, included as
# an operator would) in an unprivileged, throw-away server root: every row
# of the profile §2 table through HTTP, what Apache answers itself, raw
# FastCGI on kmsd's socket, the store locked while kmsd serves, the chain,
# kmsd stopped and started again (its store locked: its own 503) behind a
# running Apache. Skips (77) only when Apache or mod_proxy_fcgi is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need apache2 curl nc sqlite3
[ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ] || ms_skip "mod_proxy_fcgi is not installed"
ms_setup_listen
ms_start_apache_proxy "127.0.0.1:$KPORT" || { echo "apache did not start"; exit 1; }
BASE=http://127.0.0.1:$MS_PORT
echo "# apache (mod_proxy_fcgi) on $BASE, kmsd pid $MS_KMSD_PID on 127.0.0.1:$KPORT"

ms_http_table "$BASE" apache

# --- what Apache does with requests that do not reach kmsd unchanged
# Apache takes an "HTTP/2.0" request line as protocol HTTP/2.0; here
# (unlike under mod_fcgid, where kmsd answers) Apache refuses it itself:
# its 505, what the annex asks for.
# Content-Length over LimitRequestBody (2 MiB): Apache refuses to read the
# body, mod_proxy_fcgi gives up: Apache's own 400 (HTML), no hang.
# A body shorter than its Content-Length, then EOF: Apache's own 400.
ms_raw_http_expect apache "$MS_PORT" 505 400 400
ms_alive "raw HTTP" "$BASE"

# HTTP/2 with prior knowledge: no mod_http2 loaded; Apache closes the
# connection on the HTTP/2 preface without any HTTP answer.
ms_h2c_no_answer "$BASE" Apache

# A body over LimitRequestBody that is sent anyway: mod_proxy_fcgi streams
# what it reads, kmsd stops at its cap and answers its own 400.
ms_post_3mib "$BASE"
ms_expect_code "3 MiB body (over LimitRequestBody)" 400
ms_alive "3 MiB" "$BASE"

# --- raw FastCGI on kmsd's socket, the store locked while kmsd serves,
# the chain, the log
ms_listen_suite "$BASE" "$KPORT" "$D" "$LOG"

# --- kmsd stopped behind a running Apache: mod_proxy's 503 with the
# drop-in's Retry-After; kmsd started again with its store locked: kmsd's
# own 503 keeps kmsd's Retry-After (not the drop-in's, which only fills
# an empty one); then served at once (retry=0)
ms_backend_down "$BASE" Apache
ms_listen_again "$BASE" "$KPORT" "$D" "$LOG"
ms_done
