#!/usr/bin/env bash
# 0014 — the file spout says when a line keeps failing.
#
# A bolt that fails every tuple made the file spout replay each line
# forever with no hint at the spout. WordCount writes to /dev/full, so the
# sink fails every line. What must hold: a warning "line N of 'FILE'
# failed K times (last reason: failed)" at K = 4, 8, 16, ... (powers of
# two only), rate-limited (at most one a second per spout task).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

seq 1 20 | sed 's/^/w /' >"$TMP/in.txt"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" /dev/full \
    --until-done --local-ttl 10
[[ $RC -eq 3 ]] || fail "expected exit 3, got $RC"
echo "check: a warning names the line, the file, the count and the reason"
grep -qE "WARN .* spout:[0-9]+ line [0-9]+ of '$TMP/in.txt' failed 4 times \(last reason: failed\)" \
    "$TMP/err" || fail "no repeated-failure warning: $(grep -v INFO "$TMP/err" | tail -3)"
echo "check: only at powers of two from 4"
grep -oE "failed [0-9]+ times" "$TMP/err" | awk '{ k = $2; while (k > 1 && k % 2 == 0) k /= 2;
    if (k != 1 || $2 < 4) { print "bad count " $2; exit 1 } }' || fail "a warning at a count that is no power of two >= 4"
echo "check: rate-limited"
n=$(grep -c "times (last reason:" "$TMP/err")
# at most one a second per spout task: two in one calendar second at
# most (a window's edges). The replay backoff (one replay a second per
# task once lines keep failing) keeps them that far apart already; the
# limit in warn_failing holds them back should anything replay faster
worst=$(grep "times (last reason:" "$TMP/err" |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^spout:/) k = substr($1, 1, 19) " " $i; n[k]++ }
    END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }')
[[ $worst -le 2 ]] || fail "a spout task warned $worst times in one second: not rate-limited"
echo "PASS ($n warnings)"
