# mikey-ue.sh - the mikey-ue CLI: `request` with fixed values is byte-stable
# (a golden message), the whole Alice/Bob chain of CLI steps piped through
# a KMS (tests/test_e2e_kmscli: the real core over an SQLite store, no HTTP)
# for both suites with and without forking, the srtp-keys output format
# (name=hex lines and --json) and equality on both ends, and the exit status
# and one-line errors of bad input (1) and bad command lines (2).
# Run by bash with top_srcdir/top_builddir set.
set -u

ue="${top_builddir:-.}/tools/mikey-ue"
kms="${top_builddir:-.}/tests/test_e2e_kmscli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"

fail() { tap_not_ok "$@"; }

# run NAME WANT_STATUS CMD ARGS... : stdout in $tmp/out, stderr in $tmp/err
run() { tap_run "$tmp" "$@"; }

one_line_err() { # one_line_err NAME: exactly one line on stderr, none out
    [ "$(wc -l <"$tmp/err")" -eq 1 ]; tap_unless $? "$1: stderr is not one line: $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ]; tap_unless $? "$1: output on error"
}

PSK_A=2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b
PSK_B=3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c
ALICE=sip:alice@example.com
BOB=sip:bob@example.com
A=(--psk "$PSK_A" --psk-id alice --impu "$ALICE")
# the chains run both suites: a 256-bit one needs a 32-byte PSK
# (doc/profile.md §9.33)
PSK_A32=$PSK_A$PSK_A
A32=(--psk "$PSK_A32" --psk-id alice --impu "$ALICE")
B=(--psk "$PSK_B" --psk-id bob --impu "$BOB")

# --- request: byte-stable with every random fixed ------------------------
# (mikey.md §6.2 B inputs: PSK 2b.., CSB 0000abcd, RANDRi 01..; its V is
# checked against the §6.2 B auth_key in tests/test_ue.c)
GOLDEN='AQsFAAAAq80AAQ8A59SlsAAAAAAOARABAQEBAQEBAQEBAQEBAQEBDgEBABVzaXA6YWxpY2VAZXhhbXBsZS5jb20QAwEAD2ttcy5leGFtcGxlLm9yZw4AAQEBAfAAAEcODgMBAA9rbXMuZXhhbXBsZS5vcmcOAQEAFXNpcDphbGljZUBleGFtcGxlLmNvbQACAQATc2lwOmJvYkBleGFtcGxlLmNvbQkEAgAFYWxpY2UAAXu4dXGasImsq3CD6RMDLQ2QA4PZ'
FIXED=(--csb-id 0000abcd --randri 01010101010101010101010101010101
       --time e7d4a5b000000000)
run "request golden" 0 "$ue" request "${A[@]}" --peer "$BOB" "${FIXED[@]}"
[ "$(cat "$tmp/out")" = "$GOLDEN" ]; tap_unless $? "request: not the golden message: $(cat "$tmp/out")"
run "request again" 0 "$ue" request "${A[@]}" --peer "$BOB" "${FIXED[@]}"
[ "$(cat "$tmp/out")" = "$GOLDEN" ]; tap_unless $? "request: not byte-stable"
# the same instant given as unix seconds (e7d4a5b0 - 2208988800)
run "request unix time" 0 "$ue" request "${A[@]}" --peer "$BOB" \
    --csb-id 0000abcd --randri 01010101010101010101010101010101 \
    --time $((0xe7d4a5b0 - 2208988800))
[ "$(cat "$tmp/out")" = "$GOLDEN" ]; tap_unless $? "request: --time in unix seconds differs"
# a PSK file gives the same message
echo "$PSK_A" >"$tmp/psk"
run "request psk-file" 0 "$ue" request --psk-file "$tmp/psk" --psk-id alice \
    --impu "$ALICE" --peer "$BOB" "${FIXED[@]}"
[ "$(cat "$tmp/out")" = "$GOLDEN" ]; tap_unless $? "request: --psk-file differs"
# unfixed values: another message every time, one base64 line
run "request random" 0 "$ue" request "${A[@]}" --peer "$BOB"
[ "$(wc -l <"$tmp/out")" -eq 1 ]; tap_unless $? "request: not one line"
[ "$(cat "$tmp/out")" != "$GOLDEN" ]; tap_unless $? "request: random values not drawn"

# --- the whole chain, CLI steps piped through the KMS helper -------------
chain() { # chain NAME SUITE [--fork]: leaves the messages in $tmp/NAME.*
    local n=$1 suite=$2 fork=${3:-}
    local d="$tmp/$n"
    mkdir -p "$d/kms"
    "$kms" "$d/kms" init "$PSK_A32" "$PSK_B" || { fail "$n: kms init"; return 1; }
    "$ue" request "${A32[@]}" --peer "$BOB" --suite "$suite" $fork \
        --key tgk:$((suite / 8)) --key tek+salt:$((suite / 8)):14 >"$d/req" &&
    "$kms" "$d/kms" ticketrequest <"$d/req" >"$d/req_resp" &&
    "$ue" accept-request-resp "${A32[@]}" --request @"$d/req" \
        --in "$d/req_resp" >"$d/ticket" &&
    "$ue" transfer-init "${A32[@]}" --request @"$d/req" --peer "$BOB" \
        --ssrc 11223344 <"$d/req_resp" >"$d/tr_init" &&
    "$ue" resolve "${B[@]}" --in "$d/tr_init" >"$d/res_init" &&
    "$kms" "$d/kms" ticketresolve <"$d/res_init" >"$d/res_resp" &&
    "$ue" accept-resolve-resp "${B[@]}" --transfer-init @"$d/tr_init" \
        --resolve-init @"$d/res_init" --in "$d/res_resp" >"$d/bob_keys" &&
    "$ue" transfer-resp "${B[@]}" --transfer-init @"$d/tr_init" \
        --resolve-init @"$d/res_init" <"$d/res_resp" >"$d/tr_resp" &&
    "$ue" accept-transfer-resp "${A32[@]}" --request @"$d/req" \
        --request-resp @"$d/req_resp" --transfer-init @"$d/tr_init" \
        --in "$d/tr_resp" >"$d/alice_keys" &&
    "$ue" srtp-keys "${A32[@]}" --request @"$d/req" \
        --request-resp @"$d/req_resp" --transfer-init @"$d/tr_init" \
        --in "$d/tr_resp" >"$d/alice_srtp" &&
    "$ue" srtp-keys "${B[@]}" --transfer-init @"$d/tr_init" \
        --resolve-init @"$d/res_init" --resolve-resp @"$d/res_resp" \
        --in "$d/tr_resp" >"$d/bob_srtp" ||
        { fail "$n: a step of the chain failed"; return 1; }
}

for suite in 128 256; do
    for fork in "" --fork; do
        n="chain$suite${fork:+-fork}"
        chain "$n" "$suite" $fork || continue
        d="$tmp/$n"
        hexlen=$((suite / 4))
        cmp -s "$d/alice_srtp" "$d/bob_srtp" ||
            fail "$n: Alice and Bob print different SRTP keys"
        grep -qE "^cs1_master_key=[0-9a-f]{$hexlen}\$" "$d/alice_srtp" ||
            fail "$n: no cs1_master_key of $((suite / 8)) bytes"
        grep -qE '^cs1_master_salt=[0-9a-f]{28}$' "$d/alice_srtp" ||
            fail "$n: no 14-byte cs1_master_salt"
        grep -qE '^cs1_ssrc=11223344$' "$d/alice_srtp"; tap_unless $? "$n: no cs1_ssrc"
        grep -qE '^cs1_mki=[0-9a-f]{8}$' "$d/alice_srtp" || fail "$n: no cs1_mki"
        grep -qE '^cs1_key_type=TGK$' "$d/alice_srtp"; tap_unless $? "$n: key is not the TGK"
        # the ticket and session key lines
        grep -qE "^mpki=[0-9a-f]{$hexlen}\$" "$d/ticket" || fail "$n: no mpki"
        grep -qE '^key2_type=TEK\+SALT$' "$d/ticket"; tap_unless $? "$n: template key 2"
        grep -qE '^flags=DEFGH' "$d/ticket"; tap_unless $? "$n: flags line"
        if [ -n "$fork" ]; then
            grep -q '^mpkr=' "$d/ticket"; tap_unless $? "$n: no MPKr in the ticket"
            grep -q "^idrr=$BOB\$" "$d/alice_keys"; tap_unless $? "$n: no idrr line"
            # Alice's TGK' is Bob's, and not the ticket's TGK
            a=$(grep '^key1=' "$d/alice_keys"); b=$(grep '^key1=' "$d/bob_keys")
            t=$(grep '^key1=' "$d/ticket")
            [ "$a" = "$b" ]; tap_unless $? "$n: TGK' differs"
            [ "$a" != "$t" ]; tap_unless $? "$n: TGK not forked"
        fi
        # the TEK of the template, picked with --key-index, used directly
        "$ue" srtp-keys "${B[@]}" --transfer-init @"$d/tr_init" \
            --resolve-init @"$d/res_init" --resolve-resp @"$d/res_resp" \
            --in "$d/tr_resp" --key-index $([ -n "$fork" ] && echo 3 || echo 2) \
            --json >"$d/bob_tek"; tap_unless $? "$n: srtp-keys --key-index"
        tek=$(grep '^key2=' "$d/ticket" | cut -d= -f2)
        grep -q "\"cs1_master_key\":\"$tek\"" "$d/bob_tek" ||
            fail "$n: --json TEK line: $(cat "$d/bob_tek")"
        grep -qE '^\{.*\}$' "$d/bob_tek" || fail "$n: --json is not one object"
    done
done

# --- errors: one line on stderr, exit 1 ----------------------------------
d="$tmp/chain128"
if [ -s "$d/tr_resp" ]; then
    # a flipped bit in the last byte (the MAC) of TRANSFER_RESP
    raw=$(base64 -d <"$d/tr_resp" | od -An -v -tx1 | tr -d ' \n')
    last=$(printf '%02x' $((0x${raw: -2} ^ 1)))
    raw="${raw:0:${#raw}-2}$last"
    printf "$(echo "$raw" | sed 's/../\\x&/g')" | base64 -w0 >"$tmp/bad"
    run "tampered TRANSFER_RESP" 1 "$ue" accept-transfer-resp "${A32[@]}" \
        --request @"$d/req" --request-resp @"$d/req_resp" \
        --transfer-init @"$d/tr_init" --in "$tmp/bad"
    one_line_err "tampered TRANSFER_RESP"
    grep -q "Auth failure" "$tmp/err"; tap_unless $? "tampered: $(cat "$tmp/err")"
    # a wrong PSK for REQUEST_RESP
    run "wrong psk" 1 "$ue" accept-request-resp --psk "$PSK_B" --impu "$ALICE" \
        --request @"$d/req" --in "$d/req_resp"
    one_line_err "wrong psk"
    # the KMS's Error message is reported with its number: a replay
    "$kms" "$d/kms" ticketrequest <"$d/req" >"$tmp/replay"; tap_unless $? "replay: kms"
    run "replayed request" 1 "$ue" accept-request-resp "${A32[@]}" \
        --request @"$d/req" --in "$tmp/replay"
    one_line_err "replayed request"
    grep -q "MIKEY Error message: 1 (Invalid TS), V verified" "$tmp/err" ||
        fail "replay: $(cat "$tmp/err")"
fi
run "not base64" 1 "$ue" accept-request-resp "${A[@]}" --request "$GOLDEN" '!!notbase64'
one_line_err "not base64"
run "wrong message type" 1 "$ue" accept-request-resp "${A[@]}" --request "$GOLDEN" "$GOLDEN"
one_line_err "wrong message type"
grep -q "Invalid DT" "$tmp/err"; tap_unless $? "wrong type: $(cat "$tmp/err")"
run "missing --in file" 1 "$ue" resolve "${B[@]}" --in "$tmp/nonexistent"
one_line_err "missing --in file"

# --- bad command lines: exit 2 -------------------------------------------
run "no command" 2 "$ue"
run "unknown command" 2 "$ue" frobnicate
run "unknown option" 2 "$ue" request "${A[@]}" --peer "$BOB" --frob
run "no --peer" 2 "$ue" request "${A[@]}"
run "no psk" 2 "$ue" request --impu "$ALICE" --peer "$BOB"
run "bad psk hex" 2 "$ue" request --psk xyz --impu "$ALICE" --peer "$BOB"
run "bad --time" 2 "$ue" request "${A[@]}" --peer "$BOB" --time yesterday
run "bad --csb-id" 2 "$ue" request "${A[@]}" --peer "$BOB" --csb-id 12
run "bad --key" 2 "$ue" request "${A[@]}" --peer "$BOB" --key tgk
run "option of another command" 2 "$ue" request "${A[@]}" --peer "$BOB" --ssrc 11223344
run "twice" 2 "$ue" request "${A[@]}" --peer "$BOB" --suite 128 --suite 256
run "help" 0 "$ue" --help
grep -q "^usage: mikey-ue" "$tmp/out"; tap_unless $? "help: no usage line"

tap_done
