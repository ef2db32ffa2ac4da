#!/usr/bin/env bash
# compare.sh BASE_REF [options] — benchmark this tree against BASE_REF in the same run: build
# both (Release, in a temp dir removed on exit), run bench_storm_perf for
# each INTERLEAVED (base, new, base, new, ... for --rounds rounds) so drift
# on a shared machine hits both alike, then print per benchmark the median
# of each build, the new/base ratio and the spread, and the machine.
#
#   bash bench/compare.sh main                         # 3 rounds, 5 s + 30 s each
#   bash bench/compare.sh e086d20 --warmup 1 --secs 3 --rounds 1   # quick check
#   bash bench/compare.sh main --extra 'bash bench/idle.sh'
#
# --rounds N    rounds (default 3); each runs base, then new
# --extra CMD   also run CMD (in this tree's root) after each benchmark run,
#               with GALE_BUILD=<that build's dir> (fully built, tests off)
#               and GALE_BIN=<its bin/gale>;
#               its "RESULT bench=NAME key=number ..." lines are summarised too
# Any other option goes to bench_storm_perf (--warmup S, --secs S, --bench
# NAME, --pending N, --rate N, --sample-rate F; see bench/run.sh). "New" is
# the working tree as it is, uncommitted changes included.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() {
    echo "compare.sh: $*" >&2
    exit 2
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "" | -*) usage >&2; die "name the baseline first: compare.sh BASE_REF [options] (e.g. main)" ;;
esac
base_ref=$1
shift
rounds=3
extra=""
perf=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --rounds | --extra)
            [ $# -ge 2 ] || die "$1 needs a value"
            if [ "$1" = --rounds ]; then rounds=$2; else extra=$2; fi
            shift 2
            ;;
        *) perf+=("$1"); shift ;;
    esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer, not '$rounds'"
base_sha=$(git rev-parse --verify --quiet "$base_ref^{commit}") ||
    die "'$base_ref' is not a commit here (a branch, tag or sha: git log names them)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gale-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base-src"
git archive "$base_sha" | tar -x -C "$tmp/base-src"

# the benchmark only; with --extra everything (bin/gale, the starter topologies)
targets=(--target bench_storm_perf)
[ -z "$extra" ] || targets=()
build() { # build NAME SRC
    echo "building $1 (Release) in $tmp/$1 ..." >&2
    if ! { cmake -S "$2" -B "$tmp/$1" -DCMAKE_BUILD_TYPE=Release -DGALE_TESTS=OFF &&
        cmake --build "$tmp/$1" -j2 "${targets[@]}"; } >"$tmp/$1.log" 2>&1; then
        tail -20 "$tmp/$1.log" >&2
        die "building $1 from $2 failed (log above)"
    fi
}
build base "$tmp/base-src"
build new "$PWD"

# One benchmark run of build $1 in round $2: its RESULT lines go to
# $tmp/results tagged "build round source".
run() {
    echo "== round $2, $1" >&2
    "$tmp/$1/bench/bench_storm_perf" "${perf[@]}" | tee "$tmp/out" >&2 ||
        die "bench_storm_perf of $1 failed (its options: ${perf[*]:-none})"
    sed -n "s/^RESULT /$1 $2 perf /p" "$tmp/out" >>"$tmp/results"
    if [ -n "$extra" ]; then
        GALE_BUILD="$tmp/$1" GALE_BIN="$tmp/$1/bin/gale" bash -c "$extra" | tee "$tmp/out" >&2 ||
            die "the --extra command failed for $1: $extra"
        sed -n "s/^RESULT /$1 $2 extra /p" "$tmp/out" >>"$tmp/results"
    fi
}
: >"$tmp/results"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= rounds; r++)); do
    run base "$r"
    run new "$r"
done

echo
echo "# Gale benchmarks: this tree vs $base_ref"
echo "base:    $base_ref = $(git rev-parse --short "$base_sha")"
dirty=$(git status --porcelain -- . ':!build*' 2>/dev/null | head -1)
echo "new:     $(git rev-parse --short HEAD)${dirty:+ + uncommitted changes}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "load:    $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after (1/5/15 min)"
echo "runs:    $rounds round(s) of base then new; options: ${perf[*]:-(defaults: --warmup 5 --secs 30)}${extra:+; extra: $extra}"
echo
# Medians over rounds per benchmark and figure: storm-perf's throughput and
# latency percentiles, every numeric figure of the extra command.
awk '
function median(s,   a, n, t, i, j) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function num(x,   s, r) { # 12345678 -> 12,345,678; small figures keep 4 digits
    if (x < 1000) return sprintf("%.4g", x)
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
function spread(s, m,   a, n, i, lo, hi) { # (max - min) / median
    n = split(s, a, " "); lo = hi = a[1]
    if (n < 2) return "-"
    for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
    return m ? sprintf("%.0f%%", 100 * (hi - lo) / m) : "-"
}
{
    delete f
    nk = 0
    for (i = 4; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2]; keys[++nk] = kv[1] }
    for (j = 1; j <= nk; j++) {
        k = keys[j]
        if (k == "bench" || f[k] !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) continue
        if ($3 == "perf" && k != "tput" && k != "p50_us" && k != "p99_us") continue
        key = f["bench"] " " k
        if (!(key in seen)) { seen[key] = 1; order[++n] = key }
        v[$1, key] = v[$1, key] " " f[k]
    }
}
END {
    printf "%-32s %14s %14s %8s %7s %7s\n", "benchmark figure", "base median", "new median", "new/base", "spread", "spread"
    printf "%-32s %14s %14s %8s %7s %7s\n", "", "", "", "", "base", "new"
    for (i = 1; i <= n; i++) {
        key = order[i]
        if (!(("base", key) in v) || !(("new", key) in v)) { printf "%-32s (missing in one build)\n", key; continue }
        b = median(v["base", key]); w = median(v["new", key])
        printf "%-32s %14s %14s %8s %7s %7s\n", key, num(b), num(w), b ? sprintf("%.3f", w / b) : "-",
               spread(v["base", key], b), spread(v["new", key], w)
    }
    print ""
    print "tput = null bolt executes per second (higher is better; const_null_acked_10k is paced,"
    print "so only its latency says anything); p50_us/p99_us = complete latency (lower is better)."
    print "spread = (max - min) / median over the rounds (\"-\": one round): a ratio within it is noise."
}' "$tmp/results"
