#!/bin/bash
# kmsd_chain.sh - mikey-ue over HTTP (tools/mikey_ue_http.c) against kmsd
# under spawn-fcgi behind lighttpd, beyond the chains of ms_chain_url
# (kmsd_lighttpd.sh, kmsd_apache.sh):
#  - `chain --url` with a KEMAC template, with the option aliases that
#    scripts/kms-local.sh prints, with a PSK given as hex and no PSK id;
#  - `request --url` / `resolve --url` step by step, their name=base64
#    output feeding the offline steps, and the same SRTP keys at the end;
#  - refusals printed as "HTTP <code> <reason>: <text>" (404, 403, 503 with
#    Retry-After), MIKEY Error answers by name (Auth failure, Invalid TS),
#    no server at all, bad command lines (2);
#  - against a stand-in KMS (python3, when installed): what the request
#    looks like on the wire (annex X1.1: POST, HTTP/1.1, Host,
#    Content-Type, base64 body, requesttype) and every answer the UE must
#    refuse (wrong Content-Type, body not base64, empty, over 64 KiB).
# Skips (77) when lighttpd or spawn-fcgi is missing or mikey-ue was built
# without libcurl.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need lighttpd spawn-fcgi curl sqlite3
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
"$MIKEY_UE" --help 2>&1 | grep -q -- '--url' || ms_skip "mikey-ue built without libcurl"
ms_setup_lighttpd --threads 2
U=$BASE/keymanagement
echo "# lighttpd on $BASE, kmsd pid $MS_KMSD_PID"

O=$MS_TMP/out
E=$MS_TMP/err
ALICE=(--alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$D/alice.psk")
BOB=(--bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$D/bob.psk")
A=(--impu sip:alice@example.org --psk-id alice --psk-file "$D/alice.psk")
B=(--impu sip:bob@example.org --psk-id bob --psk-file "$D/bob.psk")

ue() { ms_ue "$@"; }

# err_is NAME TEXT: stderr is exactly one line, and it is TEXT
err_is() {
    if [ "$(wc -l <"$E")" = 1 ] && [ "$(cat "$E")" = "$2" ]; then ms_ok "$1: '$2'"; else
        ms_fail "$1: stderr '$(cat "$E")', expected '$2'"; fi
}

# ---------------------------------------------------------------- chains

ue "chain with a KEMAC template (TGK, TEK+SALT)" 0 chain --url "$U" "${ALICE[@]}" "${BOB[@]}" \
    --suite 256 --template tgk:32 --template tek+salt:32:14 --ssrc 0badcafe
ms_check "template: the ticket holds both keys" grep -q 'keys MPKi, TGK, TEK+SALT$' "$O"
ms_check "template: same keys, 32-byte master key" ms_chain_keys_match "$O" 64

# the option names scripts/kms-local.sh prints
ue "chain with --initiator/--responder aliases" 0 chain --url "$U" \
    --initiator sip:alice@example.org --initiator-psk-id alice --initiator-psk-file "$D/alice.psk" \
    --responder sip:bob@example.org --responder-psk-id bob --responder-psk-file "$D/bob.psk"
ms_check "aliases: same keys" ms_chain_keys_match "$O" 32

# PSK as hex, no IDRpsk: the KMS finds the subscriber by IDRi / IDRr
ue "chain with --alice-psk HEX, no PSK ids" 0 chain --url "$U" \
    --alice-impu sip:alice@example.org --alice-psk "$(cat "$D/alice.psk")" \
    --bob-impu sip:bob@example.org --bob-psk "$(cat "$D/bob.psk")"
ms_check "no PSK ids: same keys" ms_chain_keys_match "$O" 32
ms_check "chain prints all 8 steps" [ "$(grep -c '^\[[1-8]\] ' "$O")" = 8 ]

# ---------------------------------------------------------------- step by step

ue "request --url" 0 request --url "$U" "${A[@]}" --peer sip:bob@example.org --fork
REQ=$(sed -n 's/^request=//p' "$O")
RESP=$(sed -n 's/^request_resp=//p' "$O")
ms_check "request --url prints request= and request_resp= (2 lines)" \
    test -n "$REQ" -a -n "$RESP" -a "$(wc -l <"$O")" = 2
ue "offline accept-request-resp of request --url's answer" 0 \
    accept-request-resp "${A[@]}" --request "$REQ" "$RESP"
ms_check "granted forking" grep -q '^mpkr=' "$O"
TI=$("$MIKEY_UE" transfer-init "${A[@]}" --request "$REQ" --peer sip:bob@example.org "$RESP")
ue "resolve --url --json" 0 resolve --url "$U" "${B[@]}" --json "$TI"
ms_check "resolve --url --json: one object with resolve_init and resolve_resp" \
    grep -qE '^\{"resolve_init":"[A-Za-z0-9+/=]+","resolve_resp":"[A-Za-z0-9+/=]+"\}$' "$O"
RI=$(sed -E 's/.*"resolve_init":"([^"]*)".*/\1/' "$O")
RR=$(sed -E 's/.*"resolve_resp":"([^"]*)".*/\1/' "$O")
ms_ue_same_keys "step by step over HTTP: same SRTP keys" "$REQ" "$RESP" "$TI" "$RI" "$RR"
# a RESOLVE_INIT with the same CSB ID, T and RANDRr again: a replay, MIKEY Error 1
# with a V that verifies (profile §3, §7)
NOW=$(date +%s)
FIX=(--csb-id 00c0ffee --randrr "$(printf '%032d' 7)" --time "$NOW")
ue "resolve --url, fixed CSB ID, T and RANDRr" 0 resolve --url "$U" "${B[@]}" "${FIX[@]}" "$TI"
ue "resolve --url replayed (same CSB ID, T and RANDRr)" 1 resolve --url "$U" "${B[@]}" "${FIX[@]}" "$TI"
err_is "replay" "mikey-ue: resolve: KMS answered HTTP 200 with MIKEY Error 1 (Invalid TS), V verified"
ms_check "refused: nothing on stdout" [ ! -s "$O" ]

# ---------------------------------------------------------------- refusals

ue "wrong PSK" 1 chain --url "$U" --alice-impu sip:alice@example.org --alice-psk-id alice \
    --alice-psk 00112233445566778899aabbccddeeff "${BOB[@]}"
err_is "wrong PSK" "mikey-ue: chain: step 2 accept-request-resp: KMS answered HTTP 200 with MIKEY Error 0 (Auth failure), no V"
ms_check "wrong PSK: no key lines, no verdict" bash -c "! grep -q -e '^alice:' -e 'keys match' '$O'"

ue "request --url, T an hour old" 1 request --url "$U" "${A[@]}" --peer sip:bob@example.org \
    --time $(($(date +%s) - 3600))
err_is "T an hour old" "mikey-ue: request: KMS answered HTTP 200 with MIKEY Error 1 (Invalid TS), V verified"

ue "404 below the mount" 1 chain --url "$U/extra" "${ALICE[@]}" "${BOB[@]}"
err_is "404 below the mount" "mikey-ue: chain: step 1 request: HTTP 404 Not Found: not found: no such resource"
ue "404 of the web server" 1 request --url "$BASE/elsewhere" "${A[@]}" --peer sip:bob@example.org
ms_check "404 of the web server: HTML body named, not printed ($(cat "$E"))" \
    grep -qx 'mikey-ue: request: HTTP 404 Not Found: (text/html body, [0-9]* bytes)' "$E"

kc() { "$KMSCTL" --store "$D/kms.db" --master-key "$D/master.key" "$@" >>"$MS_TMP/kmsctl.log" 2>&1; }
kc subscriber disable bob
ue "responder disabled" 1 chain --url "$U" "${ALICE[@]}" "${BOB[@]}"
err_is "responder disabled" "mikey-ue: chain: step 4 resolve: HTTP 403 Forbidden: forbidden by policy"
kc subscriber enable bob

# kmsd restarts while the store is locked even for readers: 503 until the
# lock goes
ms_stop "$MS_KMSD_PID"
wait "$MS_KMSD_PID"
ms_lock_store "$D/kms.db" exclusive || exit 1
ms_start_kmsd_spawn "$SOCK" "$D/kms.conf" "$MS_TMP/kmsd.log" --threads 2 || exit 1
ue "store locked" 1 chain --url "$U" "${ALICE[@]}" "${BOB[@]}"
err_is "store locked" "mikey-ue: chain: step 1 request: HTTP 503 Service Unavailable: service unavailable (Retry-After: 7)"
ms_unlock_store
ue "served again" 0 chain --url "$U" "${ALICE[@]}" "${BOB[@]}"

NOPORT=$(ms_free_port)
ue "no server" 1 request --url "http://127.0.0.1:$NOPORT/keymanagement" "${A[@]}" --peer sip:bob@example.org
ms_check "no server: says so ($(cat "$E"))" \
    grep -q "^mikey-ue: request: no HTTP answer from http://127.0.0.1:$NOPORT/keymanagement?requesttype=ticketrequest: " "$E"

ue "--url not http" 2 request --url "ftp://127.0.0.1/keymanagement" "${A[@]}" --peer sip:bob@example.org
ue "transfer-init takes no --url" 2 transfer-init --url "$U" "${A[@]}" --request "$REQ" \
    --peer sip:bob@example.org "$RESP"
ue "chain without --url" 2 chain "${ALICE[@]}" "${BOB[@]}"
ue "chain without bob" 2 chain --url "$U" "${ALICE[@]}"
ue "chain with two PSKs for alice" 2 chain --url "$U" "${ALICE[@]}" --alice-psk 00 "${BOB[@]}"

# ---------------------------------------------------------------- a stand-in KMS

if ! command -v python3 >/dev/null 2>&1; then
    echo "# skip the stand-in KMS: no python3"
    ms_done
fi

# Answers by path; every request is logged as one JSON line.
cat >"$MS_TMP/fake.py" <<'EOF'
import base64, http.server, json, os, sys
log = open(sys.argv[2], "a")
I_MSG = sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        log.write(json.dumps({"method": self.command, "path": self.path,
            "version": self.request_version,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("latin-1")}) + "\n")
        log.flush()
        p = self.path.split("?")[0]
        ct, out, st, extra = "application/mikey", I_MSG.encode(), 200, {}
        if p == "/html":
            ct = "text/html"
        elif p == "/nottype":
            ct = "application/mikeyx"
        elif p == "/case":
            ct = "Application/MIKEY ; charset=x"
        elif p == "/notb64":
            out = b"!!!not base64!!!"
        elif p == "/empty":
            out = b""
        elif p == "/huge":
            out = b"A" * 70000
        elif p == "/garbage":
            out = base64.b64encode(b"\x01\x02garbage")
        elif p == "/busy":
            st, ct, out, extra = 503, "text/plain", b"come back later\n", {"Retry-After": "30"}
        elif p == "/teapot":
            st, ct, out = 418, "text/plain", b"short and \x01stout\n"
        self.send_response(st)
        self.send_header("Content-Type", ct)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
# port 0: the kernel picks a free port; written to argv[1] once bound
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
EOF
python3 "$MS_TMP/fake.py" "$MS_TMP/fake.port" "$MS_TMP/fake.jsonl" "$MS_RFC4567_I" 2>"$MS_TMP/fake.log" 7>&- &
ms_track $!
ms_wait_log "$MS_TMP/fake.port" '^[0-9]' || { echo "the stand-in KMS did not start"; cat "$MS_TMP/fake.log"; exit 1; }
FPORT=$(cat "$MS_TMP/fake.port")
ms_wait_port "$FPORT" || { echo "the stand-in KMS does not accept"; exit 1; }
F=http://127.0.0.1:$FPORT

# what a request looks like (annex X1.1)
ue "stand-in: plain answer (RFC 4567 message, not a REQUEST_RESP)" 1 \
    request --url "$F/keymanagement" "${A[@]}" --peer sip:bob@example.org
ms_check "stand-in: HTTP check passed, the UE library refused the message ($(cat "$E"))" \
    grep -qx 'mikey-ue: request: Invalid DT: .*' "$E"
python3 - "$MS_TMP/fake.jsonl" "$FPORT" >"$MS_TMP/wire.txt" <<'EOF'
import base64, json, sys
r = json.loads(open(sys.argv[1]).readline())
h = r["headers"]
msg = base64.b64decode(r["body"], validate=True)
print("method", r["method"])
print("version", r["version"])
print("path", r["path"])
print("host", h.get("host"))
print("content-type", h.get("content-type"))
print("expect", h.get("expect"))
print("data-type", msg[1])
EOF
ms_check "wire: POST" grep -qx 'method POST' "$MS_TMP/wire.txt"
ms_check "wire: HTTP/1.1" grep -qx 'version HTTP/1.1' "$MS_TMP/wire.txt"
ms_check "wire: requesttype=ticketrequest" grep -qx 'path /keymanagement?requesttype=ticketrequest' "$MS_TMP/wire.txt"
ms_check "wire: Host 127.0.0.1:$FPORT" grep -qx "host 127.0.0.1:$FPORT" "$MS_TMP/wire.txt"
ms_check "wire: Content-Type application/mikey" grep -qx 'content-type application/mikey' "$MS_TMP/wire.txt"
ms_check "wire: no Expect: 100-continue" grep -qx 'expect None' "$MS_TMP/wire.txt"
ms_check "wire: body is base64 of REQUEST_INIT_PSK (data type 11)" grep -qx 'data-type 11' "$MS_TMP/wire.txt"

# a URL with a query keeps it and adds requesttype with '&'
"$MIKEY_UE" request --url "$F/keymanagement?x=1" "${A[@]}" --peer sip:bob@example.org >/dev/null 2>&1
ms_check "wire: URL with a query: ?x=1&requesttype=ticketrequest" \
    grep -q '"path": "/keymanagement?x=1&requesttype=ticketrequest"' "$MS_TMP/fake.jsonl"

ue "stand-in: 200 text/html" 1 request --url "$F/html" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 200 text/html" "mikey-ue: request: HTTP 200 OK: invalid answer: Content-Type 'text/html' is not application/mikey"
ue "stand-in: 200 application/mikeyx" 1 request --url "$F/nottype" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 200 application/mikeyx" "mikey-ue: request: HTTP 200 OK: invalid answer: Content-Type 'application/mikeyx' is not application/mikey"
ue "stand-in: 200 Application/MIKEY ; charset=x (accepted as the type)" 1 \
    request --url "$F/case" "${A[@]}" --peer sip:bob@example.org
ms_check "stand-in: Content-Type case and parameters: passed the HTTP check" \
    bash -c "! grep -q 'invalid answer' '$E'"
ue "stand-in: 200 body not base64" 1 request --url "$F/notb64" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 200 body not base64" "mikey-ue: request: HTTP 200 OK: invalid answer: body is not base64"
ue "stand-in: 200 empty body" 1 request --url "$F/empty" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 200 empty body" "mikey-ue: request: HTTP 200 OK: invalid answer: empty body"
ue "stand-in: 200 body over 64 KiB" 1 request --url "$F/huge" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 200 body over 64 KiB" "mikey-ue: request: HTTP 200 OK: invalid answer: body over 64 KiB"
ue "stand-in: 200 base64 of garbage" 1 request --url "$F/garbage" "${A[@]}" --peer sip:bob@example.org
ms_check "stand-in: garbage refused by the UE library ($(cat "$E"))" \
    bash -c "[ \$(wc -l <'$E') = 1 ] && ! grep -q 'invalid answer' '$E'"
ue "stand-in: 503 with Retry-After" 1 chain --url "$F/busy" "${ALICE[@]}" "${BOB[@]}"
err_is "stand-in: 503" "mikey-ue: chain: step 1 request: HTTP 503 Service Unavailable: come back later (Retry-After: 30)"
ue "stand-in: 418, control characters in the text" 1 request --url "$F/teapot" "${A[@]}" --peer sip:bob@example.org
err_is "stand-in: 418" "mikey-ue: request: HTTP 418 I'm a Teapot: short and ?stout"

ms_done
