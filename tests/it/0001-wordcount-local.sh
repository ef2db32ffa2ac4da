#!/usr/bin/env bash
# 0001 — word count in local mode, exactly checked.
#
# A fixed-seed corpus of 50,000 lines goes through WordCountTopology with
# the reliable file spout and a file sink, for 1 and 2 workers. What must
# hold: the run finishes by itself (--until-done) with exit 0; every
# (line_no, word_idx) of the corpus reaches the sink (at least once); the
# word counts from the sink's unique (line_no, word_idx, word) triples
# equal the corpus's; and the spout reports no failed trees.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
LIB="$GALE_BUILD/starter/word_count.so"
LINES=50000

# Lowercase words from a vocabulary of 200, 1-12 per line, single spaces.
awk -v n="$LINES" 'BEGIN {
    srand(42)
    split("a b c d e f g h i j k l m n o p q r s t u v w x y z", al, " ")
    for (i = 1; i <= 200; i++) {
        w = ""
        len = 2 + int(rand() * 7)
        for (j = 0; j < len; j++) w = w al[1 + int(rand() * 26)]
        vocab[i] = w
    }
    for (l = 1; l <= n; l++) {
        k = 1 + int(rand() * 12)
        line = vocab[1 + int(rand() * 200)]
        for (j = 2; j <= k; j++) line = line " " vocab[1 + int(rand() * 200)]
        print line
    }
}' >"$TMP/corpus"
echo "corpus: $(wc -l <"$TMP/corpus") lines, $(wc -w <"$TMP/corpus") words"

awk '{ for (i = 1; i <= NF; i++) print NR, i - 1 }' "$TMP/corpus" | sort -u >"$TMP/expected_pairs"
tr ' ' '\n' <"$TMP/corpus" | sort | uniq -c | awk '{ print $2, $1 }' >"$TMP/expected_counts"

for workers in 1 2; do
    sink="$TMP/sink.$workers"
    log="$TMP/log.$workers"
    : >"$sink"
    echo "== topology.workers=$workers"
    start=$(date +%s.%N)
    run_bg 100 "$log" "$GALE_BIN" local "$LIB" WordCountTopology "$TMP/corpus" "$sink" \
        --until-done -c topology.workers="$workers" -c topology.message.timeout.secs=60
    end=$(date +%s.%N)
    echo "run took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s, exit $RC"
    expect_ok "$log" "workers=$workers"

    check_sink "$sink"

    echo "check: the spout's summary shows no failed trees"
    summary=$(grep -E ' spout emitted=[0-9]+ ' "$log" | tail -n 1 || true)
    [[ -n "$summary" ]] || fail "workers=$workers: no summary line for component 'spout' in the log"
    echo "  $summary"
    [[ "$summary" == *"failed(timeout)=0 "* ]] || fail "workers=$workers: spout trees timed out"
    [[ "$summary" == *"failed(failed)=0 "* ]] || fail "workers=$workers: spout trees failed"
    dups=$(($(wc -l <"$sink") - $(sort -u "$sink" | wc -l)))
    echo "  sink: $(wc -l <"$sink") lines ($dups duplicates from replays)"
done
echo "PASS"
