#!/usr/bin/env bash
# bench_kms_instructions.sh - user-space instructions per answer of the KMS
# core alone (not a test): bench_kms --mem (in-memory store, see
# bench_kms.c) under valgrind's callgrind, counted inside bench_kms's
# worker loop only, once for the Ticket Requests and once for the Ticket
# Resolves. Counts, not times: they do not depend on the machine's other
# load. (valgrind hides SHA-NI from the program, so OpenSSL runs its
# AVX2 digests here.)
#
#   bench/bench_kms_instructions.sh [BUILD_DIR] [bench_kms options...]
#       BUILD_DIR defaults to ./build/plain; options: --256, --fork
#
# Environment: N=1000 answers of each service; KEEP=1 keeps the callgrind
# files (one per service: callgrind_annotate shows them by function).
set -u

BUILD=${1:-./build/plain}
[ $# -gt 0 ] && shift
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory" >&2; exit 2; }
BENCH=$BUILD/bench/bench_kms
N=${N:-1000}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "$BENCH not built (make bench in $BUILD)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mikeykms-instr.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT

# --toggle-collect: count only inside worker_main (one call per service);
# --dump-after: one file per call, .1 the requests, .2 the resolves
valgrind --tool=callgrind --collect-atstart=no --toggle-collect=worker_main \
    --dump-after=worker_main --callgrind-out-file="$T/cg.out" \
    "$BENCH" --mem "$@" "$N" >"$T/out" 2>"$T/err" || { cat "$T/err" "$T/out"; exit 1; }
grep -q 'answers not OK:  0$' "$T/out" || { cat "$T/out"; exit 1; }
echo "# bench_kms --mem${*:+ $*} $N under callgrind, user-space instructions per answer"
i=0
for svc in "Ticket Request" "Ticket Resolve"; do
    i=$((i + 1))
    f=$T/cg.out.$i
    [ -f "$f" ] || { echo "no callgrind dump $f" >&2; exit 1; }
    total=$(sed -n 's/^summary: //p' "$f")
    awk -v t="$total" -v n="$N" -v s="$svc" 'BEGIN { printf "%s: %.1fk\n", s, t / n / 1000 }'
done
