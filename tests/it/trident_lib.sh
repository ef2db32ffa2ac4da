# trident_lib.sh — the word-count corpus and Redis counts the micro-batch
# scenario tests share; source it after lib.sh and redis_lib.sh.
#
#   word_corpus SEED   $TMP/corpus.txt (12 000 lines of 1-12 words from a
#                      small vocabulary) and its exact counts, sorted
#                      "word count" lines, in $TMP/want
#   counts             the counts in Redis (hash trident-word-count:counts)
#                      as sorted "word count" lines: the value of a
#                      transactional [txid, count] or opaque [txid, curr,
#                      prev] record, or the bare count (non-transactional)

word_corpus() {
    python3 - "$TMP/corpus.txt" "$1" <<'PY'
import random, sys
random.seed(int(sys.argv[2]))
words = "the cow jumped over moon an apple a day keeps doctor away four score and seven years ago snow white dwarfs i am at two with nature".split()
with open(sys.argv[1], "w") as f:
    for i in range(12000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, 12))) + "\n")
PY
    tr -s ' ' '\n' <"$TMP/corpus.txt" | grep -v '^$' | sort | uniq -c | awk '{print $2, $1}' >"$TMP/want"
}

counts() {
    redis_cli --raw HGETALL trident-word-count:counts | paste - - |
        python3 -c 'import sys, json
for l in sys.stdin:
    k, v = l.rstrip("\n").split("\t"); v = json.loads(v)
    print(k, v[1] if isinstance(v, list) else v)' | sort
}
