#!/bin/bash
# wireshark_dissector.sh - contrib/wireshark/mikey_ticket.lua against real
# KMS traffic: kmsd under spawn-fcgi behind lighttpd on loopback, dumpcap
# capturing that port while mikey-ue runs chains over HTTP (both suites,
# key forking, a KEMAC template), a request refused with a MIKEY Error
# (with V: T an hour old; without V: a data type the KMS does not serve), a
# binary body and two malformed ones. Then tshark with the dissector reads
# the capture and, for every application/mikey body, every field the issue
# names (mikeyt.hdr.data_type, .hdr.csb_id, .payload.type, .idr.role,
# .idr.data, .randr.data, .tp.ticket_type, .tp.flags, .ticket.data_len,
# .err.no, .v.alg) must hold, in order, the values mikeydump --json prints
# for the same body; the malformed bodies must carry the mikeyt.malformed
# expert item, and tshark must finish without a Lua error.
# Skips (77) when lighttpd, spawn-fcgi, tshark, dumpcap or python3 is
# missing, mikey-ue was built without libcurl, or capturing on lo is not
# permitted.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

ms_need lighttpd spawn-fcgi curl tshark dumpcap python3 sqlite3
[ -x "$MIKEY_UE" ] || ms_skip "$MIKEY_UE not built"
"$MIKEY_UE" --help 2>&1 | grep -q -- '--url' || ms_skip "mikey-ue built without libcurl"
LUA=$MS_SRC/contrib/wireshark/mikey_ticket.lua
DUMP=$MS_BUILD/tools/mikeydump
ms_setup_lighttpd
U=http://127.0.0.1:$MS_PORT/keymanagement
echo "# lighttpd on 127.0.0.1:$MS_PORT"

# capture the KMS port on loopback, at most 120 s
CAP=$MS_TMP/kms.pcapng
dumpcap -q -i lo -f "tcp port $MS_PORT" -a duration:120 -w "$CAP" \
    >"$MS_TMP/dumpcap.log" 2>&1 7>&- &
DUMPCAP_PID=$!
ms_track "$DUMPCAP_PID"
if ! ms_wait_log "$MS_TMP/dumpcap.log" "Capturing on"; then
    cat "$MS_TMP/dumpcap.log"
    ms_skip "dumpcap cannot capture on lo here"
fi

ALICE=(--alice-impu sip:alice@example.org --alice-psk-id alice --alice-psk-file "$D/alice.psk")
BOB=(--bob-impu sip:bob@example.org --bob-psk-id bob --bob-psk-file "$D/bob.psk")
A=(--impu sip:alice@example.org --psk-id alice --psk-file "$D/alice.psk")
ue() { # NAME WANT_RC ARGS...
    local name=$1 want=$2 rc
    shift 2
    "$MIKEY_UE" "$@" >"$MS_TMP/ue.out" 2>"$MS_TMP/ue.err"
    rc=$?
    if [ "$rc" = "$want" ]; then ms_ok "$name: exit $want"; else
        ms_fail "$name: exit $rc, expected $want: $(head -c 300 "$MS_TMP/ue.err")"; fi
}
ue "chain, suite 128" 0 chain --url "$U" "${ALICE[@]}" "${BOB[@]}"
ue "chain, suite 256, forking" 0 chain --url "$U" --suite 256 --forking "${ALICE[@]}" "${BOB[@]}"
ue "chain, suite 128, forking, template TGK TGK TEK+SALT" 0 chain --url "$U" --forking \
    --template tgk:16 --template tgk:16 --template tek+salt:16:14 "${ALICE[@]}" "${BOB[@]}"
ue "request with T an hour old: MIKEY Error 1 with V" 1 request --url "$U" "${A[@]}" \
    --peer sip:bob@example.org --time $(($(date +%s) - 3600))
ms_post "$U?$MS_RT" --data-binary "$MS_RFC4567_I"
ms_expect_code "RFC 4567 I_MESSAGE: MIKEY Error 11 without V" 200
# a binary body (the KMS wants base64: 400, but it is a MIKEY message)
REQ=$("$MIKEY_UE" request "${A[@]}" --peer sip:bob@example.org)
printf '%s' "$REQ" | base64 -d >"$MS_TMP/req.bin"
ms_post "$U?$MS_RT" --data-binary "@$MS_TMP/req.bin"
ms_expect_code "binary REQUEST_INIT body" 400
# malformed: the REQUEST_INIT cut short, and an IDR longer than the message
head -c 100 "$MS_TMP/req.bin" | base64 -w0 >"$MS_TMP/cut.b64"
ms_post "$U?$MS_RT" --data-binary "@$MS_TMP/cut.b64"
ms_expect_code "truncated REQUEST_INIT" 400
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[42] = 0x7f; open(sys.argv[2], "wb").write(b)' \
    "$MS_TMP/req.bin" "$MS_TMP/long.bin"
base64 -w0 "$MS_TMP/long.bin" >"$MS_TMP/long.b64"
ms_post "$U?$MS_RT" --data-binary "@$MS_TMP/long.b64"
ms_expect_code "REQUEST_INIT with an overlong IDR" 400
sleep 0.5
ms_stop "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null

# --- the capture through the dissector
FIELDS=(mikeyt.hdr.data_type mikeyt.hdr.csb_id mikeyt.payload.type mikeyt.idr.role
    mikeyt.idr.data mikeyt.randr.data mikeyt.tp.ticket_type mikeyt.tp.flags
    mikeyt.ticket.data_len mikeyt.err.no mikeyt.v.alg mikeyt.encoding mikeyt.requesttype)
EARGS=()
for f in "${FIELDS[@]}"; do EARGS+=(-e "$f"); done
tshark -X "lua_script:$LUA" -d "tcp.port==$MS_PORT,http" -r "$CAP" -T json \
    -Y 'mikeyt' -e frame.number -e http.file_data "${EARGS[@]}" -e mikeyt.cs.spi \
    >"$MS_TMP/ws.json" 2>"$MS_TMP/tshark.err"
rc=$?
ms_check "tshark reads the capture with the dissector (rc $rc)" [ "$rc" = 0 ]
tshark -X "lua_script:$LUA" -d "tcp.port==$MS_PORT,http" -r "$CAP" -Y 'mikeyt.malformed' \
    -T fields -e frame.number >"$MS_TMP/malformed.txt" 2>>"$MS_TMP/tshark.err"
ms_check "the two malformed bodies carry the mikeyt.malformed expert item" \
    [ "$(wc -l <"$MS_TMP/malformed.txt")" = 2 ]

# compare.py WS_JSON MIKEYDUMP BODIES [MALFORMED]: BODIES has one line per
# frame tshark shows, "FRAME HEX" (the body as sent) or "FRAME http" (take
# the base64 body tshark saw, http.file_data); frames listed in MALFORMED
# are skipped (mikeydump refuses them). Prints what it saw as JSON last.
cat >"$MS_TMP/compare.py" <<'PY'
import base64, json, subprocess, sys
frames = json.load(open(sys.argv[1]))
bodies = dict(l.split() for l in open(sys.argv[3]) if l.strip())
malformed = set(open(sys.argv[4]).read().split()) if len(sys.argv) > 4 else set()
FIELDS = ["mikeyt.hdr.data_type", "mikeyt.hdr.csb_id", "mikeyt.payload.type",
          "mikeyt.idr.role", "mikeyt.idr.data", "mikeyt.randr.data",
          "mikeyt.tp.ticket_type", "mikeyt.tp.flags", "mikeyt.ticket.data_len",
          "mikeyt.err.no", "mikeyt.v.alg"]
n = fails = 0
seen = {"data_types": set(), "prf": set(), "forked": False, "error_v": False,
        "error_no_v": False, "binary": False, "fields": set()}

def check(what, got, want):
    global n, fails
    n += 1
    if got != want:
        fails += 1
        print("not ok - %s: dissector %r, mikeydump %r" % (what, got, want))

def flat(payloads):
    """mikeydump's payload tree in the dissector's order: each payload,
    then its KEMAC plaintext, TP Data and Initiator Data (Ticket Data is
    opaque to the dissector)."""
    for p in payloads:
        yield p
        for k in ("plaintext", "tp_data", "initiator_data"):
            if isinstance(p.get(k), list):
                yield from flat(p[k])

def end(p):
    return p["offset"] + p["length"]

def ticket_data_len(p):
    tp = p["tp_data"]
    tp_end = end(tp[-1]) if tp else p["offset"] + 10
    ini = p.get("initiator_data") or []
    ini_len = end(ini[-1]) - ini[0]["offset"] + 1 if ini else 0
    return end(p) - 2 - ini_len - (tp_end + 2)

for fr in frames:
    L = fr["_source"]["layers"]
    num = L["frame.number"][0]
    g = lambda k: L.get(k, [])
    if num in malformed:
        continue
    if num not in bodies:
        check("frame %s: a body we sent" % num, None, "a body")
        continue
    raw = (base64.b64decode("".join(g("http.file_data")))
           if bodies[num] == "http" else bytes.fromhex(bodies[num]))
    r = subprocess.run([sys.argv[2], "--json", "--hex", raw.hex()],
                       capture_output=True)
    if r.returncode != 0:
        check("frame %s: mikeydump decodes it" % num, r.stderr, b"")
        continue
    md = json.loads(r.stdout)
    h, pl = md["HDR"], list(flat(md["payloads"]))
    of = lambda kind: [p for p in pl if p["payload"] == kind]
    hexs = lambda k: [x.replace(":", "") for x in g(k)]
    ints = lambda k: [int(x, 0) for x in g(k)]
    tps = sorted(of("TP") + of("TICKET"), key=lambda p: p["offset"])
    w = "frame %s " % num
    check(w + "mikeyt.hdr.data_type", ints("mikeyt.hdr.data_type"), [h["data_type"]])
    check(w + "mikeyt.hdr.csb_id", ints("mikeyt.hdr.csb_id"), [int(h["csb_id"], 16)])
    check(w + "mikeyt.payload.type", ints("mikeyt.payload.type"), [p["type"] for p in pl])
    check(w + "mikeyt.idr.role", ints("mikeyt.idr.role"), [p["id_role"] for p in of("IDR")])
    check(w + "mikeyt.idr.data", hexs("mikeyt.idr.data"),
          [p["id_data"] for p in of("IDR") if p["id_data"]])
    check(w + "mikeyt.randr.data", hexs("mikeyt.randr.data"), [p["rand"] for p in of("RANDR")])
    check(w + "mikeyt.tp.ticket_type", ints("mikeyt.tp.ticket_type"),
          [p["ticket_type"] for p in tps])
    check(w + "mikeyt.tp.flags", g("mikeyt.tp.flags"), [p["flags"].replace(" ", "") for p in tps])
    check(w + "mikeyt.ticket.data_len", ints("mikeyt.ticket.data_len"),
          [ticket_data_len(p) for p in of("TICKET")])
    check(w + "mikeyt.err.no", ints("mikeyt.err.no"), [p["error_no"] for p in of("ERR")])
    check(w + "mikeyt.v.alg", ints("mikeyt.v.alg"), [p["auth_alg"] for p in of("V")])
    check(w + "mikeyt.cs.spi", hexs("mikeyt.cs.spi"),
          [e["spi"] for e in h["map"] if e.get("spi")])
    if malformed:  # HTTP: the annex URI's requesttype, of the request or answer
        check(w + "mikeyt.requesttype", g("mikeyt.requesttype")[:1] in
              (["ticketrequest"], ["ticketresolve"]), True)
    seen["fields"] |= {f for f in FIELDS if g(f)}
    seen["data_types"].add(h["data_type"])
    seen["prf"].add(h["prf_func"])
    seen["forked"] |= any("I" in p["flags"] for p in tps)
    seen["error_v"] |= h["data_type"] == 6 and bool(of("V"))
    seen["error_no_v"] |= h["data_type"] == 6 and not of("V")
    seen["binary"] |= g("mikeyt.encoding") == ["binary"]
check("every field named in the issue shown", sorted(set(FIELDS) - seen["fields"]), [])
print("%d compared, %d differ" % (n, fails))
print(json.dumps({k: sorted(v) if isinstance(v, set) else v for k, v in seen.items()}))
sys.exit(1 if fails else 0)
PY

# the base64 bodies tshark saw, the binary one as sent
python3 - "$MS_TMP/ws.json" "$MS_TMP/req.bin" >"$MS_TMP/bodies.txt" <<'PY'
import json, sys
for fr in json.load(open(sys.argv[1])):
    L = fr["_source"]["layers"]
    binary = L.get("mikeyt.encoding") == ["binary"]
    print(L["frame.number"][0], open(sys.argv[2], "rb").read().hex() if binary else "http")
PY
python3 "$MS_TMP/compare.py" "$MS_TMP/ws.json" "$DUMP" "$MS_TMP/bodies.txt" \
    "$MS_TMP/malformed.txt" >"$MS_TMP/compare.out" 2>&1
rc=$?
sed 's/^/# /' "$MS_TMP/compare.out" | tail -n 20
ms_check "capture: every mikeyt field equals mikeydump --json ($(tail -n 2 "$MS_TMP/compare.out" | head -n 1))" [ "$rc" = 0 ]
SEEN=$(tail -n 1 "$MS_TMP/compare.out")
for want in '"data_types": [0, 6, 11, 13, 16, 18]' '"prf": [0, 1]' '"forked": true' \
    '"error_v": true' '"error_no_v": true' '"binary": true'; do
    ms_check "capture holds $want" grep -qF "$want" <<<"$SEEN"
done

# --- the published vectors (doc/vectors): the Ticket Transfer messages too
# (GENERIC-ID maps, SP, Initiator Data), and the fuzz seeds (PK, DH, CERT,
# CHASH, PKE, SIGN, General Ext., SRTP-ID maps, NULL KEMACs), as raw MIKEY
# (text2pcap -P mikeyt)
if command -v text2pcap >/dev/null 2>&1; then
    python3 - "$MS_TMP/vec.txt" "$MS_TMP/vbodies.txt" "$MS_SRC"/doc/vectors/*.json \
        "$MS_SRC"/fuzz/corpus/*.mikey <<'PY'
import json, sys
dump, bodies, msgs = open(sys.argv[1], "w"), open(sys.argv[2], "w"), []
for f in sys.argv[3:]:
    if f.endswith(".json"):
        msgs += [h for h in json.load(open(f))["messages"].values() if h]
    else:
        msgs.append(open(f, "rb").read().hex())
for i, h in enumerate(msgs, 1):
    b = bytes.fromhex(h)
    for o in range(0, len(b), 16):
        dump.write("%06x %s\n" % (o, " ".join("%02x" % x for x in b[o:o + 16])))
    dump.write("\n")
    bodies.write("%d %s\n" % (i, h))
PY
    text2pcap -q -P mikeyt "$MS_TMP/vec.txt" "$MS_TMP/vec.pcapng" >/dev/null 2>&1
    tshark -X "lua_script:$LUA" -r "$MS_TMP/vec.pcapng" -T json -e frame.number "${EARGS[@]}" \
        -e mikeyt.cs.spi >"$MS_TMP/vws.json" 2>>"$MS_TMP/tshark.err"
    python3 "$MS_TMP/compare.py" "$MS_TMP/vws.json" "$DUMP" "$MS_TMP/vbodies.txt" \
        >"$MS_TMP/vcompare.out" 2>&1
    rc=$?
    sed 's/^/# /' "$MS_TMP/vcompare.out" | tail -n 20
    ms_check "vectors and fuzz seeds: $(wc -l <"$MS_TMP/vbodies.txt") messages, every mikeyt field equals mikeydump --json ($(tail -n 2 "$MS_TMP/vcompare.out" | head -n 1))" [ "$rc" = 0 ]
    ms_check "vectors and fuzz seeds: TRANSFER_INIT, TRANSFER_RESP, PK and DH among them" \
        grep -qF '"data_types": [0, 1, 2, 4, 6, 11, 13, 14, 15, 16, 18]' "$MS_TMP/vcompare.out"
fi

ms_check "no Lua error in any tshark run ($(grep -i lua "$MS_TMP/tshark.err" | head -c 300 | tr '\n' ' '))" \
    bash -c "! grep -qi 'lua' '$MS_TMP/tshark.err'"
ms_done
