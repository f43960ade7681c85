#!/bin/bash
# kmsd_nginx.sh - one threaded `kmsd --listen` behind nginx (fastcgi_pass,
# the snippet nginx/mikeykms.conf included in a server block as an operator
# would): every row of the profile §2 table through HTTP, what nginx
# answers itself (and how the snippet maps it to profile §2), raw FastCGI
# on kmsd's socket, the store locked while kmsd serves, the chain, kmsd
# stopped and started again (its store locked: its own 503) behind a
# running nginx. Skips (77) only when nginx is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need nginx curl nc sqlite3
ms_setup_listen
ms_start_nginx "127.0.0.1:$KPORT" || { echo "nginx did not start"; exit 1; }
BASE=http://127.0.0.1:$MS_PORT
echo "# nginx on $BASE, kmsd pid $MS_KMSD_PID on 127.0.0.1:$KPORT"

ms_http_table "$BASE" nginx

# --- what nginx answers itself (kmsd never sees these requests)
# An HTTP/2.0 request line on an HTTP/1 connection: nginx's own 505, what
# the annex asks for (X1.2: 505, "UE should use HTTP/1.1").
# Content-Length over client_max_body_size (2 MiB): nginx refuses before
# reading the body (its 413), which the snippet answers as 400 with kmsd's
# body-cap text.
# A body shorter than its Content-Length, then EOF: nginx drops the
# request without an answer and kmsd never sees it.
ms_raw_http_expect nginx "$MS_PORT" 505 400 -
ms_check "huge Content-Length, short body: the body-cap text" grep -qx "$MS_BAD_CAP" "$MS_TMP/huge.ans"
ms_alive "raw HTTP" "$BASE"

# HTTP/2 with prior knowledge on this HTTP/1 listener: nginx closes the
# connection without an HTTP answer.
ms_h2c_no_answer "$BASE" nginx

# Over client_max_body_size: nginx's 413, answered as 400 (text/plain).
ms_post_3mib "$BASE"
ms_expect_kmsd_error "3 MiB body: nginx's 413 as 400" 400 "$MS_BAD_CAP"
ms_alive "3 MiB" "$BASE"

# --- raw FastCGI on kmsd's socket, the store locked while kmsd serves,
# the chain, the log
ms_listen_suite "$BASE" "$KPORT" "$D" "$LOG"

# --- kmsd stopped behind a running nginx: nginx's 502 answered as 503
# with Retry-After and a text/plain line; kmsd started again with its
# store locked: kmsd's own 503 passes unchanged; then served at once
ms_backend_down "$BASE" nginx
ms_expect_kmsd_error "kmsd not running: nginx's 502 as 503" 503 "service unavailable"
ms_listen_again "$BASE" "$KPORT" "$D" "$LOG"
ms_done
