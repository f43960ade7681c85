# mikeydump.sh - the mikeydump tool: input forms (base64 argument, base64
# with line breaks on stdin, hex file, binary file, forced formats), the
# fields it prints (RFC 4567 vectors, an RFC 6043 REQUEST_RESP with a base
# ticket, a NULL KEMAC's Key data), a damaged base ticket (Ticket Data is
# opaque to the message: shown as hex with the reason, not an error),
# --json, and the one-line error and exit status for bad input. Run by bash
# with top_srcdir/top_builddir set.
set -u

dump="${top_builddir:-.}/tools/mikeydump"
corpus="${top_srcdir:-.}/fuzz/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"

fail() { tap_not_ok "$@"; }

# run NAME WANT_STATUS ARGS... < stdin: output in $tmp/out, $tmp/err
run() { tap_run "$tmp" "$1" "$2" "$dump" "${@:3}"; }

has() { # has NAME TEXT: stdout contains the line fragment TEXT
    grep -qF -- "$2" "$tmp/out"; tap_unless $? "$1: output lacks '$2'"
}

err_is() { # err_is NAME LINE: stderr is exactly LINE
    local got
    got=$(cat "$tmp/err")
    [ "$got" = "$2" ]; tap_unless $? "$1: stderr '$got', want '$2'"
    [ ! -s "$tmp/out" ]; tap_unless $? "$1: output on error"
}

I_B64='AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV'
R_B64='AQEFgM0XflABAAAAAAAAAAAAAAYAyONQ6gAAAAAJAAAQbWlja2V5QG1vdXNlLmNvbQABn8HdGE5BMDXFIuGEga+62AgY5cc='

# RFC 4567 §5.1 I_MESSAGE as a base64 argument
run i_message 0 "$I_B64"
has i_message "MIKEY message, 132 bytes"
has i_message "data_type: 0 (Pre-shared)"
has i_message "csb_id: cd177e50"
has i_message "map_type: 0 (SRTP-ID)"
has i_message "ts_value: c8e350ea00000000"
has i_message "rand (16 bytes): 4a28da979ee21a7651a0d7f19136d98c"
has i_message 'id_data (15 bytes): "donald@duck.com"'
has i_message "SP (type 10, offset 66, 5 bytes)"
has i_message "encr_alg: 1 (AES-CM-128)"
has i_message "encr_data (36 bytes): d092a981"
has i_message "mac_alg: 1 (HMAC-SHA-1-160)"
has i_message "mac (20 bytes): 5f627a69c6508675f5f59050e4abcca4c0bfdcd5"

# R_MESSAGE as base64 with line breaks on stdin
printf '%s\n' "$R_B64" | fold -w 20 >"$tmp/r.b64"
run r_message 0 <"$tmp/r.b64"
has r_message "data_type: 1 (PSK ver msg)"
has r_message 'id_data (16 bytes): "mickey@mouse.com"'
has r_message "ver_data (20 bytes): 9fc1dd184e413035c522e18481afbad80818e5c7"

# hex in a file (with white space), and binary files of the seed corpus
od -An -tx1 -v "$corpus/digest_a_i.mikey" >"$tmp/a.hex"
run hex_file 0 -f "$tmp/a.hex"
has hex_file 'id_data (21 bytes): "sip:alice@example.com"'
has hex_file 'id_data (19 bytes): "sip:bob@example.com"'
has hex_file "type: 11 (Authentication tag length)"

run request_resp 0 -f "$corpus/request_resp.mikey"
has request_resp "data_type: 13 (REQUEST_RESP)"
has request_resp "TICKET (type 17, offset 40, 234 bytes)"
has request_resp "ticket_type: 1 (MIKEY base ticket)"
has request_resp "flags: D F G H J K L N O"
has request_resp "format: MIKEY base ticket (RFC 6043 App. A)"
has request_resp "thdr_data (3 bytes): 6d6b31"
has request_resp "id_role: 4 (IDRpsk)"
has request_resp "ts_role: 3 (TRe (end of validity))"
has request_resp "IDR (type 14, offset 51, 20 bytes)"
has request_resp "initiator_data: (none)"

# a damaged base ticket: the message still decodes (Ticket Data is opaque
# to it, RFC 6043 §6.10); the Ticket Data is shown as hex with the reason.
# REQUEST_RESP's Ticket Data starts at 145 with THDR's Next payload (T);
# make it 18 (unknown): the base-ticket chain fails after the 3-byte THDR
# Data, at message offset 145 + 3 + 3.
rr_hex=$(od -An -tx1 -v "$corpus/request_resp.mikey" | tr -d ' \n')
[ "${rr_hex:290:10}" = "0500036d6b" ] || fail "request_resp: THDR not at 145"
bad_td="${rr_hex:0:290}12${rr_hex:292}"
run bad_ticket 0 "$bad_td"
has bad_ticket "TICKET (type 17, offset 40, 234 bytes)"
has bad_ticket "ticket_type: 1 (MIKEY base ticket)"
has bad_ticket "Ticket Data (opaque, does not decode as a base ticket: unknown payload in payload type 18 at offset 151) (127 bytes): 1200036d6b310b00"
has bad_ticket "initiator_data: (none)"
! grep -qF "format: MIKEY base ticket" "$tmp/out"; tap_unless $? "bad_ticket: shown as decoded"
# THDR Data length over the Ticket Data
run bad_thdr 0 "01 0b 11 00 0000abcd 00 01 00 0001 01 01 00 00 00 0000 0003 000001 0000"
has bad_thdr "Ticket Data (opaque, does not decode as a base ticket: truncated in THDR at offset 25) (3 bytes): 000001"
# another Ticket Type: opaque, plain hex without a reason
run other_ticket 0 "01 0b 11 00 0000abcd 00 01 00 0002 01 01 00 00 00 0000 0002 ffff 0000"
has other_ticket "ticket_data (2 bytes): ffff"
! grep -qF "does not decode" "$tmp/out"; tap_unless $? "other_ticket: not a base ticket"

run transfer_init 0 -f "$corpus/transfer_init.mikey"
has transfer_init "map_type: 2 (GENERIC-ID)"
has transfer_init "session_data (10 bytes): "
has transfer_init "initiator_data"
has transfer_init "flags: D E F G H I J K L N O"

# a NULL KEMAC: its plaintext shown as Key data
run null_kemac 0 --binary -f "$corpus/gst_t_kemac.mikey"
has null_kemac "key_type: 2 (TEK)"
has null_kemac "key (16 bytes): 102030405060708090a0b0c0d0e0f010"

# JSON: one object with the same fields
run json 0 --json "$I_B64"
has json '"csb_id":"cd177e50"'
has json '"id_data_text":"donald@duck.com"'
has json '"payload":"KEMAC"'
[ "$(wc -l <"$tmp/out")" -eq 1 ]; tap_unless $? "json: not one line"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["payloads"][4]["encr_alg"] == 1' \
        <"$tmp/out"; tap_unless $? "json: not valid JSON or wrong content"
    "$dump" --json -f "$corpus/request_resp.mikey" | python3 -c \
        'import json,sys; d=json.load(sys.stdin); t=d["payloads"][2]; assert t["ticket_data"]["payloads"][4]["auth_alg"] == 2' \
        || fail "json: request_resp nested ticket data"
    "$dump" --json "$bad_td" | python3 -c \
        'import json,sys; d=json.load(sys.stdin); t=d["payloads"][2]; assert t["ticket_data"].startswith("1200036d6b31") and t["ticket_data_error"] == "unknown payload in payload type 18 at offset 151"' \
        || fail "json: damaged ticket data"
fi

# bad input: one line on stderr, status 1, nothing on stdout
run unknown 1 "01 0b 05 00 0000abcd 00 01 12 00 e7d4a5b000000000 00"
err_is unknown "mikeydump: unknown payload in payload type 18 at offset 20"
run trailing 1 "01 0b 05 00 0000abcd 00 01 00 00 e7d4a5b000000000 00"
err_is trailing "mikeydump: trailing bytes in T at offset 20"
# the I_MESSAGE cut after 100 bytes: the KEMAC Encr data runs past the end
run truncated 1 'AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62w=='
err_is truncated "mikeydump: truncated in KEMAC at offset 75"
run keydata_top 1 "01 0b 14 00 0000abcd 00 01 00 20 0001 aa"
err_is keydata_top "mikeydump: unknown payload in Key data at offset 10"
run bad_b64 1 "${I_B64%??}"
err_is bad_b64 "mikeydump: not base64 in input at offset 174"
run odd_hex 1 --hex "0a1"
err_is odd_hex "mikeydump: odd number of hex digits in input at offset 3"
run forced_hex 1 --hex "$R_B64"
run forced_binary 1 --binary "010005"
run empty 1 ""
err_is empty "mikeydump: truncated in HDR at offset 0"
run missing_file 1 -f "$tmp/does-not-exist"
run usage 2 --no-such-option
run usage2 2 -f "$tmp/a.hex" extra-argument

tap_done
