#!/bin/bash
# layers.sh - the layers of src/ as the build made them (README.md,
# "Layout"): every module is one library (am/*.am), and an object of a
# module may use only the modules below it and only its own outside
# libraries. Two looks at every object of every module library:
#   symbols  (nm): an undefined symbol defined by another module must be
#            one of the modules it may use; one of an outside library
#            (by prefix: OpenSSL, SQLite, LMDB, libpq, libfcgi, libcurl,
#            freeDiameter) must be of a library the module may use;
#   headers  (the compiler's dependency files, .deps/*.Po): a header of
#            src/<module>/ must be of a module it may use (or the store
#            interface kms/kms_store.h, which the store and GBA
#            implement), a header of an outside library one it may use.
# So `#include <openssl/evp.h>` in a codec file fails here even before a
# symbol of it is used. Output is TAP, one result per module and look.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/tap.sh"
: "${top_builddir:=.}"
NM=${NM:-nm}
cd "$top_builddir" || exit 99

# module  library  modules it may use  outside libraries it may use
TABLE="
util   src/libmikeyutil.a   -                                       -
codec  src/libmikeycodec.a  util                                    -
crypto src/libmikeycrypto.a util                                    openssl
proto  src/libmikeyproto.a  util,codec,crypto                       -
gba    src/libmikeygba.a    util,codec,crypto                       -
kms    src/libmikeykms.a    util,codec,crypto,proto,gba             -
ue     src/libmikeyue.a     util,codec,crypto,proto,gba             -
store  src/libmikeystore.a  util,codec,crypto,gba                   sqlite,lmdb,pq
front  src/libmikeyfront.a  util,codec,crypto,proto,gba,kms,store   -
http   src/libmikeyhttp.a   util,codec,crypto,proto,gba,kms         -
fcgi   src/libmikeyfcgi.a   util,codec,crypto,proto,gba,kms,store,front,http fcgi
"

# every module's defined symbols: "symbol module"
defs=$(mktemp) || exit 99
trap 'rm -f "$defs"' EXIT
while read -r mod lib _ _; do
    [ -n "$mod" ] || continue
    [ -f "$lib" ] || { echo "Bail out! $lib not built"; exit 99; }
    "$NM" -g --defined-only "$lib" 2>/dev/null |
        awk -v m="$mod" 'NF == 3 { print $3, m }' >>"$defs"
done <<<"$TABLE"

# the outside library of a symbol ("" for the C library), as awk
EXT_SYM='function ext(s) {
    if (s ~ /^(EVP_|OPENSSL_|OSSL_|RAND_|ERR_|CRYPTO_|HMAC|BN_|PKCS5_|SHA1|SHA2|SHA5|AES_)/) return "openssl"
    if (s ~ /^sqlite3_/) return "sqlite"
    if (s ~ /^mdb_/) return "lmdb"
    if (s ~ /^PQ/) return "pq"
    if (s ~ /^(FCGX_|FCGI_)/) return "fcgi"
    if (s ~ /^curl_/) return "curl"
    if (s ~ /^fd_/) return "freediameter"
    return ""
}'

while read -r mod lib uses exts; do
    [ -n "$mod" ] || continue
    # symbols: what each object of the library needs from outside itself
    bad=$("$NM" -A -u "$lib" 2>/dev/null | sed -E 's/^[^:]*:([^:]*): +U +/\1 /' |
        awk -v mod="$mod" -v uses=",$uses," -v exts=",$exts," -v defs="$defs" "$EXT_SYM"'
        BEGIN { while ((getline l < defs) > 0) { split(l, f, " "); owner[f[1]] = f[2] } }
        {
            o = owner[$2]
            if (o == "") { o = ext($2); if (o == "") next; if (index(exts, "," o ",")) next }
            else if (o == mod || index(uses, "," o ",")) next
            printf "#     %s uses %s of %s\n", $1, $2, o
        }')
    [ -z "$bad" ] || printf '# %s: symbols of modules or libraries it may not use:\n%s\n' "$mod" "$bad"
    tap_check "$mod: symbols only of ${uses/-/no module} and ${exts/-/no outside library}" \
        [ -z "$bad" ]

    # headers: the dependency files of the library's objects
    dir=src/$mod
    [ "$mod" = http ] && dir=src/fcgi # the binding's own library
    pos=$(for obj in $(ar t "$lib"); do
        po=$dir/.deps/${obj%.o}.Po
        grep -q '\.h' "$po" 2>/dev/null && echo "$po"
    done)
    if [ -z "$pos" ]; then
        tap_skip "$mod: headers" "no dependency files (--disable-dependency-tracking)"
        continue
    fi
    bad=$(for po in $pos; do
        sed -e 's/\\$//' -e 's/^[^ ]*: *//' -e 's/^[^ ]*\.h:$//' "$po" | tr ' ' '\n' |
            grep '\.h$' | sort -u | sed "s|^|$(basename "$po" .Po) |"
    done | awk -v mod="$mod" -v own="${dir#src/}" -v uses=",$uses," -v exts=",$exts," '
        function ext(h) {
            if (h ~ /\/openssl\//) return "openssl"
            if (h ~ /\/sqlite3(ext)?\.h$/) return "sqlite"
            if (h ~ /\/lmdb\.h$/) return "lmdb"
            if (h ~ /\/(libpq-fe\.h|postgresql\/)/) return "pq"
            if (h ~ /\/(fcgiapp|fcgi_stdio|fcgio|fastcgi|fcgi_config)\.h$/) return "fcgi"
            if (h ~ /\/curl\//) return "curl"
            if (h ~ /\/freeDiameter\//) return "freediameter"
            return ""
        }
        {
            h = $2
            if (match(h, /(^|\/)src\/[a-z]+\/[^\/]+\.h$/)) {
                m = substr(h, RSTART, RLENGTH); sub(/^\/?src\//, "", m); sub(/\/.*/, "", m)
                if (m == mod || m == own || index(uses, "," m ",")) next
                # the store interface, implemented by the store and GBA
                if (h ~ /kms\/kms_store\.h$/ && (mod == "store" || mod == "gba")) next
            } else {
                m = ext(h)
                if (m == "" || index(exts, "," m ",")) next
                # one line per object and outside library
                if (seen[$1, m]++) next
            }
            printf "#     %s includes %s of %s\n", $1, h, m
        }' | sort -u)
    [ -z "$bad" ] || printf '# %s: headers of modules or libraries it may not use:\n%s\n' "$mod" "$bad"
    tap_check "$mod: headers only of ${uses/-/no module} and ${exts/-/no outside library}" \
        [ -z "$bad" ]
done <<<"$TABLE"

tap_done
