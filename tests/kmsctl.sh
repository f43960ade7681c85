#!/bin/bash
# kmsctl.sh - the operator CLI end to end: init, subscribers, ticket keys,
# records as JSON lines, replay pruning and status, secrets kept off the
# output, exit
# codes (0 ok, 1 operational error, 2 usage error).
set -u

B=$(cd "${top_builddir:-.}" && pwd)
KMSCTL=$B/tools/kmsctl
FILL=$B/tests/test_store_fill
T=$(mktemp -d /tmp/mk-kmsctl-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/kms.db
KEY=$T/master.key
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"

fail() { tap_not_ok "$@"; }

# run EXPECTED_STATUS ARGS...: output in $T/out, errors in $T/err
run() {
    local want=$1
    shift
    "$KMSCTL" "$@" >"$T/out" 2>"$T/err" </dev/null
    local got=$?
    cat "$T/out" "$T/err" >>"$T/all"
    if [ "$got" != "$want" ]; then
        fail "kmsctl $* -> exit $got, expected $want"
        sed 's/^/  | /' "$T/out" "$T/err" >&2
    else
        tap_ok "kmsctl $*: exit $want"
    fi
}
k() { run "$1" --store "$DB" --master-key "$KEY" "${@:2}"; }
has() { tap_check "'$2' in $1" grep -q -- "$2" "$T/$1" || sed 's/^/  | /' "$T/$1" >&2; }
hasnt() { tap_check "'$2' not in $1" bash -c '! grep -q -- "$1" "$2"' _ "$2" "$T/$1" || sed 's/^/  | /' "$T/$1" >&2; }

# --- usage errors: exit 2 ---
run 2
has err "no command"
run 2 frobnicate
run 2 --bogus list
run 2 subscriber list                    # no --store
k 2 subscriber
k 2 subscriber add --impu sip:a@example.org --generate      # no --psk-id
k 2 subscriber add --psk-id a --generate                     # no --impu
k 2 subscriber add --psk-id a --impu sip:a@example.org       # no PSK
k 2 subscriber add --psk-id a --impu sip:a@example.org --generate --psk 00
k 1 subscriber add --psk-id a --impu sip:a@example.org --psk-file /nonexistent/psk
has err "cannot read"
printf '0011223344\n' >"$T/short.psk"
k 2 subscriber add --psk-id a --impu sip:a@example.org --psk-file "$T/short.psk"
has err "16 or 32-byte"
k 2 subscriber add --psk-id a --impu sip:a@example.org --psk-file "$T/short.psk" --psk -
# a PSK on the command line would show in ps and the shell's history
k 2 subscriber add --psk-id a --impu sip:a@example.org \
    --psk 00112233445566778899aabbccddeeff
has err "command line"
hasnt err "00112233445566778899aabbccddeeff"
k 2 subscriber add --psk-id a --impu http://a.example.org/ --generate
has err "sip:, sips: or tel:"
k 2 subscriber add --psk-id a --impu sip:a@example.org --generate --forking maybe
k 2 subscriber add --psk-id a --impu sip:a@example.org --generate --initiator-keys 1
k 2 subscriber add --psk-id a --impu sip:a@example.org --generate --max-lifetime 1h
k 2 subscriber add --psk-id a --impu
k 2 subscriber show
k 2 ticketkey spin
k 2 records --since yesterday
k 2 replay
run 2 --busy-timeout x --store "$DB" --master-key "$KEY" subscriber list

# --- before init: operational errors, nothing created ---
k 1 subscriber list
has err "does not exist"
[ ! -e "$DB" ]; tap_unless $? "a command other than init created the store"

# --- init ---
k 0 init
[ -f "$KEY" ]; tap_unless $? "no master key file"
[ "$(stat -c %a "$KEY")" = 600 ]; tap_unless $? "key file mode $(stat -c %a "$KEY")"
grep -qxE '[0-9a-f]{64}' "$KEY" || fail "key file is not 64 hex digits"
MASTER_HEX=$(cat "$KEY")
has out "tpk-0001"
sum1=$(md5sum <"$KEY")
k 0 init                                  # again: idempotent, key kept
[ "$(md5sum <"$KEY")" = "$sum1" ]; tap_unless $? "init replaced the master key"
has err "existing master key"
# a store without its key: no new key is made for it
run 1 --store "$DB" --master-key "$T/other.key" init
[ ! -e "$T/other.key" ]; tap_unless $? "init made a key for an existing store"

# --- subscribers ---
ALICE_PSK=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
(umask 077 && echo "$ALICE_PSK" >"$T/alice.psk")
k 0 subscriber add --psk-id alice --psk-file "$T/alice.psk" \
    --impu sip:alice@example.org --impu tel:+15550001 \
    --allow-responder 'sip:*@example.org' --max-lifetime 7200 \
    --forking yes --reuse no --responder-keys yes
hasnt out "$ALICE_PSK"
k 0 subscriber add --psk-id bob --generate --show-psk --impu sip:bob@example.org
BOB_PSK=$(sed -n 's/^psk: //p' "$T/out")
[[ $BOB_PSK =~ ^[0-9a-f]{64}$ ]] || fail "no generated PSK shown: $BOB_PSK"
k 0 subscriber add --psk-id carol --generate --impu sip:carol@example.org
! grep -qE '[0-9a-f]{32}' "$T/out" "$T/err"; tap_unless $? "a PSK shown without --show-psk"
k 1 subscriber add --psk-id alice --generate --impu sip:alice2@example.org
has err "exists"
# a shared IMPU is allowed but warned about
k 0 subscriber add --psk-id desk --generate --impu sip:alice@example.org
has err "warning"
k 0 subscriber remove desk

k 0 subscriber list
[ "$(wc -l <"$T/out")" = 3 ]; tap_unless $? "list has $(wc -l <"$T/out") lines"
has out "^alice	active	psk=32	sip:alice@example.org,tel:+15550001$"
has out "^bob	active	psk=32	sip:bob@example.org$"

k 0 subscriber show alice
has out "^psk_id: alice$"
has out "^state: active$"
has out "^impu: tel:+15550001$"
has out "^allow_responder: sip:\*@example.org$"
has out "^max_lifetime: 7200$"
has out "^forking: yes$"
has out "^reuse: no$"
has out "^initiator_keys: no$"
has out "^responder_keys: yes$"
hasnt out "^psk:"
k 0 subscriber show alice --show-psk
has out "^psk: $ALICE_PSK$"
k 1 subscriber show nobody
has err "nobody"

k 0 subscriber disable alice
k 0 subscriber list
has out "^alice	disabled"
k 0 subscriber enable alice
k 0 subscriber show alice
has out "^state: active$"
k 1 subscriber disable nobody
k 0 subscriber remove carol
k 0 subscriber list
hasnt out "carol"
k 1 subscriber remove carol

# PSK from standard input
echo 000102030405060708090a0b0c0d0e0f | "$KMSCTL" --store "$DB" \
    --master-key "$KEY" subscriber add --psk-id dave --psk - \
    --impu sip:dave@example.org >"$T/out" 2>&1; tap_unless $? "--psk - failed"
k 0 subscriber show dave --show-psk
has out "^psk: 000102030405060708090a0b0c0d0e0f$"
has out "^psk_length: 16$"

# --- ticket keys ---
k 0 ticketkey rotate
has out "tpk-0002"
k 0 ticketkey rotate
k 0 ticketkey list
has out "^tpk-0001	resolve_only	"
has out "^tpk-0002	resolve_only	"
has out "^tpk-0003	active	"
k 0 ticketkey retire tpk-0001
k 0 ticketkey list
has out "^tpk-0001	retired	"
k 1 ticketkey retire tpk-0003
has err "rotate first"
k 1 ticketkey retire tpk-0042

# --- records (JSON lines) and the replay cache ---
k 0 records
! [ -s "$T/out" ]; tap_unless $? "records before any answer: $(cat "$T/out")"
"$FILL" "$DB" "$KEY"; tap_unless $? "test_store_fill failed"
k 0 records
[ "$(wc -l <"$T/out")" = 3 ]; tap_unless $? "records: $(wc -l <"$T/out") lines"
TID=$(printf '%064x' 1000)
has out '^{"time_unix":1000,"service":"ticketrequest","subscriber":"alice","initiator":"sip:alice@example.org","responders":\["sip:bob@example.org"\],"ticket_id":"'$TID'","valid_from":1000,"valid_to":4600,"spis":"0000abcd,0000abce","outcome":"ok"}$'
has out '"service":"ticketresolve"'
has out '"responders":\["sip:bob@example.org","sip:a,b@example.org"\]'
has out '"responders":\["sip:\\"c\\"@example.org"\]'
has out '"outcome":"refused \\"x\\\\y\\"\\u0009z"'
if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import json, sys
keys = ["time_unix", "service", "subscriber", "initiator", "responders",
        "ticket_id", "valid_from", "valid_to", "spis", "outcome"]
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert list(o) == keys, list(o)
    assert isinstance(o["responders"], list), o["responders"]
' "$T/out"; tap_unless $? "records output is not JSON lines"
fi
k 0 records --since 2000
[ "$(wc -l <"$T/out")" = 2 ]; tap_unless $? "records --since 2000"
k 0 records --subscriber alice
[ "$(wc -l <"$T/out")" = 2 ]; tap_unless $? "records --subscriber alice"
k 0 records --subscriber alice --since 1500
[ "$(wc -l <"$T/out")" = 1 ]; tap_unless $? "records --subscriber alice --since"
has out '"time_unix":3000'
k 0 replay prune
has out "pruned 3 "
k 0 replay prune
has out "pruned 0 "
# the node state: nothing left in the journal (records drained), the
# pruned entries gone, the mark at the time of the prune
k 0 replay status
has out '^node_id [0-9a-f]\{32\}$'
has out '^replay_entries 0$'
has out '^journal_entries 0$'
has out '^next_record_seq 4$'
MARK=$(sed -n 's/^mark_unix //p' "$T/out")
[ "${MARK:-0}" -ge "$(($(date +%s) - 60))" ] || fail "replay status: mark $MARK"
has out '^replay_max 4000000$'
k 1 records salvage "$T/no-such-node"
has err "no node state file there"
k 2 replay frobnicate

# retention (doc/profile.md §9.39): the oldest records go
k 2 records prune
has err "records_keep_days"
k 2 records prune --before yesterday
k 0 records prune --before 2500
has out "pruned 2 records older than 2500"
k 0 records
[ "$(wc -l <"$T/out")" = 1 ]; tap_unless $? "records after prune: $(wc -l <"$T/out") lines"
has out '"time_unix":3000'

# kmsd's counters of this machine, named by fcgi/kmsd_stats.h
k 0 stats
has out '^requests_total 0$'
has out '^responses{status="503"} 0$'
has out '^unauthenticated_refusals{outcome="Auth failure"} 0$'
has out '^unauthenticated_refusals_total 0$'
k 2 stats now

# --- --config ---
cat >"$T/kms.conf" <<EOF
# relative paths: from this file's directory
store = kms.db
master_key = master.key
busy_timeout_ms = 500
EOF
(cd / && "$KMSCTL" --config "$T/kms.conf" subscriber list) >"$T/out" 2>&1 \
    || fail "--config: $(cat "$T/out")"
has out "^bob	"
# records_keep_days: every record of 1970 is older than that
echo "records_keep_days = 1" >>"$T/kms.conf"
run 0 --config "$T/kms.conf" records prune
has out "pruned 1 records older than"
echo "frob = 1" >>"$T/kms.conf"
run 1 --config "$T/kms.conf" subscriber list
has err "kms.conf:6: unknown key 'frob'"

# --- a wrong or exposed master key ---
chmod 644 "$KEY"
k 1 subscriber list
has err "group or others"
chmod 600 "$KEY"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/wrong.key"
echo >>"$T/wrong.key"
chmod 600 "$T/wrong.key"
run 1 --store "$DB" --master-key "$T/wrong.key" subscriber list
has err "does not match"

# --- secrets: printed only where --show-psk asked for them ---
grep -c "$ALICE_PSK" "$T/all" | grep -qx 1; tap_unless $? "alice's PSK shown $(grep -c "$ALICE_PSK" "$T/all") times"
! grep -q "$MASTER_HEX" "$T/all"; tap_unless $? "the master key was printed"
grep -c "$BOB_PSK" "$T/all" | grep -qx 1; tap_unless $? "bob's PSK shown more than once"

tap_done
