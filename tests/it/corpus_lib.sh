# shellcheck shell=bash
# corpus_lib.sh — the WordCount correctness check every scenario test
# shares; source it after lib.sh. Correctness is read from sink files,
# never from in-memory counts (a counter's memory dies with its worker).
#
#   make_corpus LINES  writes $TMP/corpus, $TMP/expected_pairs (every
#                      "line_no word_idx") and $TMP/expected_counts (tr's)
#   check_sink SINK... the set of (line_no, word_idx) pairs in the sink
#                      files equals the corpus's (nothing lost, duplicates
#                      allowed: at-least-once) and the counts computed
#                      from the unique triples equal tr's
#   sink_holds DEN SINK  SINK has 1/DEN of the corpus's words: a point
#                      mid-run to inject a fault at (poll it with wait_for)
#   sink_short SINK    fail unless SINK has fewer lines than the corpus has
#                      words: the run was not over at the fault

make_corpus() {
    awk -v n="$1" 'BEGIN {
        srand(7)
        split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu", v, " ")
        for (l = 1; l <= n; l++) {
            k = 1 + int(rand() * 8)
            line = v[1 + int(rand() * 12)]
            for (j = 2; j <= k; j++) line = line " " v[1 + int(rand() * 12)]
            print line
        }
    }' >"$TMP/corpus"
    awk '{ for (i = 1; i <= NF; i++) print NR, i - 1 }' "$TMP/corpus" | sort -u >"$TMP/expected_pairs"
    tr ' ' '\n' <"$TMP/corpus" | sort | uniq -c | awk '{ print $2, $1 }' >"$TMP/expected_counts"
}

check_sink() {
    echo "check: every (line_no, word_idx) of the corpus is in the sink"
    cat "$@" | awk '{ print $1, $2 }' | sort -u >"$TMP/got_pairs"
    expect_same "$TMP/expected_pairs" "$TMP/got_pairs" \
        "sink pairs differ from the corpus ($(wc -l <"$TMP/got_pairs") got, $(wc -l <"$TMP/expected_pairs") expected)"
    echo "check: word counts from the unique sink triples equal the corpus's"
    cat "$@" | sort -u | awk '{ print $3 }' | sort | uniq -c | awk '{ print $2, $1 }' >"$TMP/got_counts"
    expect_same "$TMP/expected_counts" "$TMP/got_counts" "word counts differ"
}

sink_holds() {
    [[ -f $2 ]] && (($(wc -l <"$2") >= $(wc -l <"$TMP/expected_pairs") / $1))
}

sink_short() {
    local at
    at=$(wc -l <"$1")
    ((at < $(wc -l <"$TMP/expected_pairs"))) ||
        fail "the run was over before the fault ($at sink lines): make it slower"
    echo "  fault at $at sink lines"
}
