#!/usr/bin/env bash
# vectors.sh - the published test vectors (doc/vectors/*.json):
#  1. vectors_gen writes exactly the files in the source tree (the code
#     still produces them byte for byte; `make vectors` rewrites them);
#  2. tests/vectors_check.py, an implementation of its own (hashlib, hmac,
#     `openssl enc`), verifies every message with the keys given and
#     re-derives every key and intermediate of every file;
#  3. the mikey-ue command line, given the values a vector carries (PSKs,
#     CSB IDs, T, RANDs, SSRC, MKI), rebuilds alice's REQUEST_INIT and
#     TRANSFER_INIT and bob's RESOLVE_INIT and TRANSFER_RESP byte for byte
#     and prints the vector's SRTP master key and salt (the chains with one
#     crypto session and every IDR sent: the CLI has no option to leave an
#     IDR out, and transfer-init makes one crypto session).
# Run by bash with top_srcdir/top_builddir set.
set -u
S=${top_srcdir:-.}
B=${top_builddir:-.}
. "$S/tests/lib/tap.sh"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
command -v openssl >/dev/null || tap_skip_all "openssl command not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

vectors=("$S"/doc/vectors/*.json)
tap_check "seven chains published" [ "${#vectors[@]}" -eq 7 ]

# 1. the files are what the code produces
mkdir "$T/gen"
tap_check "vectors_gen runs" "$B/tests/vectors_gen" "$T/gen"
for f in "${vectors[@]}"; do
    tap_check "$(basename "$f") regenerated identically" \
        diff -u "$f" "$T/gen/$(basename "$f")"
done
tap_check "vectors_gen writes no other file" \
    [ "$(ls "$T/gen" | wc -l)" -eq "${#vectors[@]}" ]

# 2. independent verification
if python3 -B "$S/tests/vectors_check.py" "${vectors[@]}" >"$T/check.out" 2>&1; then
    tap_ok "vectors_check.py: $(grep -c '^ok' "$T/check.out") files verify"
else
    tap_not_ok "vectors_check.py"
    sed 's/^/# /' "$T/check.out"
fi

# 3. mikey-ue rebuilds the UE messages
UE=$B/tools/mikey-ue
DUMP=$B/tools/mikeydump
# vec FILE: shell assignments of the vector's values and of the fixed
# values its messages carry (HDR CSB ID, T, RANDR) as mikeydump reads them
vec() {
    python3 -B - "$1" "$DUMP" <<'PY'
import base64, json, shlex, subprocess, sys
v = json.load(open(sys.argv[1]))
def say(k, x): print("%s=%s" % (k, shlex.quote(str(x))))
for who in ("alice", "bob"):
    say(who + "_psk", v[who]["psk_hex"])
    say(who + "_psk_id", bytes.fromhex(v[who]["psk_id_hex"]).decode())
    say(who + "_impu", v[who]["impu"])
say("suite", v["suite"])
say("fork", "--fork" if v["forking"] else "")
say("kms_id", v["kms_id"])
for name, hexs in v["messages"].items():
    if hexs is None:
        continue
    say(name, base64.b64encode(bytes.fromhex(hexs)).decode())
    d = json.loads(subprocess.run([sys.argv[2], "--json", "--hex", hexs],
                                  capture_output=True, check=True).stdout)
    say(name + "_csb", d["HDR"]["csb_id"])
    say(name + "_ncs", d["HDR"]["n_cs"])
    for p in d["payloads"]:
        if p["payload"] == "T":
            say(name + "_t", p["ts_value"])
        if p["payload"] == "RANDR" and p["rand_role"] in (1, 2):
            say(name + "_rand", p["rand"])
        if p["payload"] == "IDR" and p["id_role"] in (1, 2):
            say(name + "_has_idr", 1)
        if p["payload"] == "TP":  # the KEMAC template, as --key options
            keys = [k for q in p["tp_data"] if q["payload"] == "KEMAC"
                    for k in q["plaintext"]]
            say("template", " ".join("--key %s:%d%s" % (
                k["key_type_name"].lower(), len(k["key"]) // 2,
                ":%d" % (len(k["salt"]) // 2) if "salt" in k else "")
                for k in keys))
    for cs in d["HDR"]["map"]:
        say(name + "_ssrc", cs.get("session_data", ""))
        say(name + "_mki", cs.get("spi", ""))
s = (v["keys"]["srtp"] or [{}])[0]
say("srtp", "cs1_master_key=%s cs1_master_salt=%s" % (
    s.get("master_key"), s.get("master_salt")))
PY
}

for f in "${vectors[@]}"; do
    name=$(basename "$f" .json)
    unset transfer_init transfer_init_has_idr request_init_has_idr template
    eval "$(vec "$f")" || { tap_not_ok "$name: values read back"; continue; }
    if [ -z "${request_init_has_idr:-}" ]; then
        echo "# $name: IDRs left out, no mikey-ue option for that: skipped"
        continue
    fi
    A=(--psk "$alice_psk" --psk-id "$alice_psk_id" --impu "$alice_impu" --kms-id "$kms_id")
    Bo=(--psk "$bob_psk" --psk-id "$bob_psk_id" --impu "$bob_impu" --kms-id "$kms_id")
    # shellcheck disable=SC2086 # $fork and $template are lists of options
    got=$("$UE" request "${A[@]}" --peer "$bob_impu" --suite "$suite" $fork ${template:-} \
        --csb-id "$request_init_csb" --time "$request_init_t" --randri "$request_init_rand")
    tap_check "$name: mikey-ue request = request_init" [ "$got" = "$request_init" ]
    if [ -z "${transfer_init:-}" ] || [ "$transfer_init_ncs" != 1 ]; then
        continue
    fi
    got=$("$UE" transfer-init "${A[@]}" --request "$request_init" --peer "$bob_impu" \
        --csb-id "$transfer_init_csb" --time "$transfer_init_t" --randri "$transfer_init_rand" \
        --cs-id 1 --ssrc "$transfer_init_ssrc" --mki "$transfer_init_mki" "$request_resp")
    tap_check "$name: mikey-ue transfer-init = transfer_init" [ "$got" = "$transfer_init" ]
    got=$("$UE" resolve "${Bo[@]}" --csb-id "$resolve_init_csb" --time "$resolve_init_t" \
        --randrr "$resolve_init_rand" "$transfer_init")
    tap_check "$name: mikey-ue resolve = resolve_init" [ "$got" = "$resolve_init" ]
    got=$("$UE" transfer-resp "${Bo[@]}" --transfer-init "$transfer_init" \
        --resolve-init "$resolve_init" --time "$transfer_resp_t" \
        --randrr "$transfer_resp_rand" "$resolve_resp")
    tap_check "$name: mikey-ue transfer-resp = transfer_resp" [ "$got" = "$transfer_resp" ]
    got=$("$UE" srtp-keys "${A[@]}" --request "$request_init" --request-resp "$request_resp" \
        --transfer-init "$transfer_init" "$transfer_resp" | grep -E '^cs1_master_(key|salt)=' | tr '\n' ' ')
    tap_check "$name: mikey-ue srtp-keys (alice) = srtp" [ "${got% }" = "$srtp" ]
    got=$("$UE" srtp-keys "${Bo[@]}" --transfer-init "$transfer_init" --resolve-init "$resolve_init" \
        --resolve-resp "$resolve_resp" "$transfer_resp" | grep -E '^cs1_master_(key|salt)=' | tr '\n' ' ')
    tap_check "$name: mikey-ue srtp-keys (bob) = srtp" [ "${got% }" = "$srtp" ]
done

tap_done
