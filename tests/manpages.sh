#!/bin/bash
# manpages.sh - the manual pages under man/ against the programs and the
# configuration they describe:
#  - each page is clean mdoc for mandoc (`mandoc -T lint -W warning`) and
#    renders without a warning through man(1) (`man --warnings -l`, groff:
#    what an operator's `man` does);
#  - every option the --help of kmsd, kmsctl, mikeydump, mikey-ue and
#    kms-znd (when built) prints (and the --help of each of their commands,
#    where one answers it) is an item of the tool's page (`.It ... Fl
#    OPTION`), and every command word the help lists is named in the page
#    (`Cm WORD`);
#  - every key of doc/kms.conf.sample and every key the parser knows
#    (src/front/config.c) is an item of kms.conf(5) (`.It Cm KEY`), the
#    sample holds every key the parser knows, and kms.conf(5) has no item
#    for a key that does not exist.
# A new option, command or key therefore fails this test until it is
# documented. Skips (77) only when mandoc is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib_servers.sh"

command -v mandoc >/dev/null 2>&1 || ms_skip "mandoc is not installed"
MAN=$MS_SRC/man
T=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-man.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT

# quiet_ok RC FILE: the command exited 0 and wrote nothing to FILE.
quiet_ok() { [ "$1" = 0 ] && [ ! -s "$2" ]; }

# --- every page: mandoc lint, man(1) rendering
for page in kmsd.8 kmsctl.8 mikeydump.1 mikey-ue.1 kms.conf.5 kms-znd.8; do
    p=$MAN/$page
    if [ ! -f "$p" ]; then
        ms_fail "$page exists"
        continue
    fi
    mandoc -T lint -W warning "$p" >"$T/lint" 2>&1
    ms_check "$page: mandoc -T lint clean$(head -n 3 "$T/lint" | sed 's/^/; /' | tr '\n' ' ')" \
        quiet_ok $? "$T/lint"
    if command -v man >/dev/null 2>&1; then
        MANWIDTH=80 man --warnings -l "$p" >"$T/out" 2>"$T/warn"
        ms_check "$page: man -l renders it without warnings$(head -n 3 "$T/warn" | sed 's/^/; /' | tr '\n' ' ')" \
            quiet_ok $? "$T/warn"
        ms_check "$page: man -l output has its NAME section" grep -q '^NAME' "$T/out"
    else
        echo "# man(1) is not installed: rendering of $page checked by mandoc only"
        mandoc -T utf8 "$p" | grep -q NAME
        ms_check "$page: mandoc renders it" [ $? = 0 ]
    fi
done

# items PAGE: the options of the page's list items, one per line, as
# typed (`.It Fl -config Ar file , Fl c` -> --config, -c).
items() {
    awk '/^\.It / {
        for (i = 2; i < NF; i++) if ($i == "Fl") print "-" $(i + 1)
    }' "$1" | sed 's/[,;]$//' | sort -u
}

# options TEXT_FILE: the options a help text prints, one per line.
options() {
    grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' "$1" |
        sed -E 's/^[^-]+//' | sort -u
}

# commands TEXT_FILE: the command words a help text lists: a lower-case
# word at the start of a line indented by two spaces, and a lower-case word
# (or a|b|c list) right after it ("  subscriber add ...").
commands() {
    sed -nE 's/^  ([a-z][a-z-]*)(,? ([a-z][a-z|-]*))?([ ,].*)?$/\1 \3/p' "$1" |
        tr ' |' '\n\n' | grep -E '^[a-z]' | sort -u
}

# cm_words PAGE: the arguments of the page's Cm macros, one per line
# (`.It Cm subscriber add Fl ...` -> subscriber, add).
cm_words() {
    awk '{
        on = 0
        for (i = 1; i <= NF; i++) {
            if ($i == "Cm" || $i == ".Cm") { on = 1; continue }
            if ($i ~ /^\.?[A-Z][a-z][a-z]?$/) { on = 0; continue }
            if (on) print $i
        }
    }' "$1" | tr '|' '\n' | sed 's/[,;.]$//' | sort -u
}

# check_tool TOOL PAGE BINARY COMMAND...: every option and command of the
# tool's help (and of `TOOL COMMAND --help` where that exits 0) in PAGE.
check_tool() {
    local tool=$1 name=$2 page=$MAN/$2 bin=$3 c o n=0
    shift 3
    if [ ! -x "$bin" ]; then
        ms_fail "$tool: $bin not built"
        return
    fi
    "$bin" --help >"$T/help" 2>&1
    ms_check "$tool --help: exit 0" [ $? = 0 ]
    for c in "$@"; do
        # shellcheck disable=SC2086 # "subscriber add" is two words
        if $bin $c --help >"$T/sub" 2>&1; then
            cat "$T/sub" >>"$T/help"
        fi
    done
    items "$page" >"$T/items"
    cm_words "$page" >"$T/cm"
    for o in $(options "$T/help"); do
        n=$((n + 1))
        if grep -qxF -- "$o" "$T/items"; then
            ms_ok "$tool: $o documented in $name"
        else
            ms_fail "$tool: $o (printed by --help) has no item (.It ... Fl ${o#-}) in $name"
        fi
    done
    ms_check "$tool: --help prints options ($n)" [ "$n" -gt 0 ]
    for c in $(commands "$T/help"); do
        if grep -qxF -- "$c" "$T/cm"; then
            ms_ok "$tool: command word '$c' named in $name"
        else
            ms_fail "$tool: command word '$c' (listed by --help) not named (Cm $c) in $name"
        fi
    done
}

check_tool kmsd kmsd.8 "$KMSD"
check_tool kmsctl kmsctl.8 "$KMSCTL" init subscriber "subscriber add" \
    "subscriber list" "subscriber show" ticketkey records replay
check_tool mikeydump mikeydump.1 "$MS_BUILD/tools/mikeydump"
check_tool mikey-ue mikey-ue.1 "$MIKEY_UE" request accept-request-resp \
    transfer-init resolve accept-resolve-resp transfer-resp \
    accept-transfer-resp srtp-keys chain gba-key
if [ -x "$MS_BUILD/src/zn/kms-znd" ]; then
    check_tool kms-znd kms-znd.8 "$MS_BUILD/src/zn/kms-znd"
else
    echo "# kms-znd not built (no freeDiameter): its options not checked"
fi

# --- kms.conf(5): the keys of the sample and of the parser
SAMPLE=$MS_SRC/doc/kms.conf.sample
sed -nE 's/^#? *([a-z][a-z_]*) *=.*/\1/p' "$SAMPLE" | sort -u >"$T/sample_keys"
sed -nE 's/^ *\[K_[A-Z_]+\] = "([a-z_]+)",.*/\1/p' "$MS_SRC/src/front/config.c" |
    sort -u >"$T/parser_keys"
awk '/^\.It Cm / { print $3 }' "$MAN/kms.conf.5" | sort -u >"$T/page_keys"
ms_check "doc/kms.conf.sample names keys ($(wc -l <"$T/sample_keys"))" [ -s "$T/sample_keys" ]
ms_check "src/front/config.c: the key table is found ($(wc -l <"$T/parser_keys") keys; if config.c changed shape, change this test)" \
    [ "$(wc -l <"$T/parser_keys")" -ge 10 ]
for k in $(sort -u "$T/sample_keys" "$T/parser_keys"); do
    if grep -qxF "$k" "$T/page_keys"; then
        ms_ok "key $k documented in kms.conf.5"
    else
        ms_fail "key $k has no item (.It Cm $k) in kms.conf.5"
    fi
done
for k in $(cat "$T/parser_keys"); do
    grep -qxF "$k" "$T/sample_keys" ||
        ms_fail "key $k (src/front/config.c) is missing from doc/kms.conf.sample"
done
for k in $(cat "$T/page_keys"); do
    grep -qxF "$k" "$T/parser_keys" ||
        ms_fail "kms.conf.5 documents $k, which the parser does not know"
done
ms_done
