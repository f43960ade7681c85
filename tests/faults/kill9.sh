#!/bin/bash
# faults/kill9.sh - `make check-faults`: the kill -9 figures of issue 9
# (doc/profile.md §9.48): tests/kmsd_supervise.sh with 5 kills behind
# lighttpd (bin-path) and 5 kills of every mod_fcgid process under Apache,
# 16 UEs loading each. Prints, per server, the answers with keys, the
# records lost and the time to the first 200 after each kill.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
MK_SUPERVISE_KILLS=${MK_FAULT_KILLS:-5} MK_SUPERVISE_EVERY=${MK_FAULT_EVERY:-2} MK_SUPERVISE_PAUSE_MS=0 \
    exec bash "$top_srcdir/tests/kmsd_supervise.sh"
