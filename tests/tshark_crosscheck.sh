#!/usr/bin/env bash
# tshark_crosscheck.sh - decode the same MIKEY messages with mikeydump and
# with Wireshark's MIKEY dissector (an independent decoder) and require the
# fields both understand to agree: HDR (version, data type, V, PRF, CSB ID,
# #CS, map type), T, RAND, ID/IDR, V and KEMAC bytes. Wireshark stops at the
# first RFC 6043 payload it does not know (RANDR, TR, TP, TICKET), so for
# MIKEY-TICKET messages only the fields before it are compared (mikey.md §8).
# Inputs: the RFC 4567 example messages, the mikey.md §6.2 A vectors, and a
# REQUEST_INIT_PSK built by mikey-ue with fixed values.
set -euo pipefail
B=${top_builddir:-.}
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"
command -v tshark >/dev/null && command -v text2pcap >/dev/null || tap_skip_all "tshark not installed"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

check() { # name, base64 message
  local name=$1 b64=$2
  printf '%s' "$b64" | base64 -d >"$T/m.bin"
  od -Ax -tx1 -v "$T/m.bin" >"$T/m.txt"
  text2pcap -q -P mikey "$T/m.txt" "$T/m.pcapng" >/dev/null 2>&1
  tshark -r "$T/m.pcapng" -T json -e mikey.version -e mikey.type -e mikey.v.set \
     -e mikey.prf_func -e mikey.csb_id -e mikey.cs_count -e mikey.cs_id_map_type \
     -e mikey.t.ts_type -e mikey.rand.data -e mikey.id.data -e mikey.id.role \
     -e mikey.v.ver_data -e mikey.kemac.key_data -e mikey.srtp_id.ssrc \
     2>/dev/null >"$T/ws.json"
  "$B/tools/mikeydump" --json -f "$T/m.bin" >"$T/md.json"
  if python3 - "$T/ws.json" "$T/md.json" <<'PY'
import json, sys
ws = json.load(open(sys.argv[1]))[0]["_source"]["layers"]
md = json.load(open(sys.argv[2]))
def one(k):
    v = ws.get(k)
    return v if v is None else v
errs = []
def eq(what, a, b):
    if a != b: errs.append(f"{what}: wireshark {a!r} mikeydump {b!r}")
h = md["HDR"]
eq("version", int(ws["mikey.version"][0]), h["version"])
eq("data type", int(ws["mikey.type"][0]), h["data_type"])
eq("V flag", ws["mikey.v.set"][0] in ("1", "True", "true"), bool(h["v"]))
eq("PRF", int(ws["mikey.prf_func"][0]), h["prf_func"])
eq("CSB ID", int(ws["mikey.csb_id"][0], 16), int(h["csb_id"], 16))
eq("#CS", int(ws["mikey.cs_count"][0]), h["n_cs"])
eq("map type", int(ws["mikey.cs_id_map_type"][0]), h["map_type"])
pl = md["payloads"]
# the payloads Wireshark decodes, in order, until the first it does not know
known = {"T", "RAND", "ID", "IDR", "V", "KEMAC", "SP", "ERR"}
seen = []
for p in pl:
    if p["payload"] not in known: break
    seen.append(p)
def hexs(k): return [x.replace(":", "") for x in ws.get(k, [])]
eq("T types", [int(x) for x in ws.get("mikey.t.ts_type", [])], [p["ts_type"] for p in seen if p["payload"] == "T"])
eq("RANDs", hexs("mikey.rand.data"), [p["rand"] for p in seen if p["payload"] == "RAND"])
ids = [p.get("id_data_text", "") for p in seen if p["payload"] in ("ID", "IDR")]
eq("ID data", ws.get("mikey.id.data", []), ids)
eq("V MACs", hexs("mikey.v.ver_data"), [p["ver_data"] for p in seen if p["payload"] == "V"])
eq("KEMAC data", hexs("mikey.kemac.key_data"), [p["encr_data"] for p in seen if p["payload"] == "KEMAC"])
eq("SSRCs", [int(x, 16) for x in ws.get("mikey.srtp_id.ssrc", [])], [int(e["ssrc"], 16) for e in h.get("map", []) if "ssrc" in e])
if errs:
    print("\n".join(errs)); sys.exit(1)
PY
  then tap_ok "$name"; else tap_not_ok "$name"; fi
}

check "RFC 4567 I_MESSAGE" 'AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV'
check "RFC 4567 R_MESSAGE" 'AQEFgM0XflABAAAAAAAAAAAAAAYAyONQ6gAAAAAJAAAQbWlja2V5QG1vdXNlLmNvbQABn8HdGE5BMDXFIuGEga+62AgY5cc='
hexb64() { printf '%s' "$1" | python3 -c 'import sys,base64,binascii; print(base64.b64encode(binascii.unhexlify(sys.stdin.read().strip())).decode())'; }
check "mikey.md 6.2 A I_MESSAGE" "$(hexb64 010005801234567801000011223344000000000b00e7d4a5b0000000000610a0a1a2a3a4a5a6a7a8a9aaabacadaeaf060100157369703a616c696365406578616d706c652e636f6d0a0100137369703a626f62406578616d706c652e636f6d010000000c0001010101100201010b010a00010016738f41e122754f316d7234ee748c375560349ff4be8f01ed3ae60fc41a6d4f4100341645da2bd7dd4afbcc)"
check "mikey.md 6.2 A R_MESSAGE" "$(hexb64 010105001234567801000011223344000000000600e7d4a5b000000000090100137369703a626f62406578616d706c652e636f6d00017f33af764c0062c0f28f8b3479b5366e21b153cc)"
for suite in 128 256; do
  req=$("$B/tools/mikey-ue" request --suite $suite --psk 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f \
        --psk-id alice --impu sip:alice@example.org --peer sip:bob@example.org \
        --csb-id 0badcafe --time e7d4a5b000000000)
  check "mikey-ue REQUEST_INIT_PSK suite $suite" "$req"
done
tap_done
