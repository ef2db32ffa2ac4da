#!/usr/bin/env bash
# test.sh — the README's second command and the whole CI run (.ci/run execs
# it): install what is missing, check the format, build and test under
# ASan+UBSan, check the generated CONFIGURATION.md, build Release, fuzz the
# decoders, and run the runtime tests under ThreadSanitizer. Steps run in
# order, each announced and timed; the first failing step stops the run, and
# a summary of every step's time is printed either way.
#
# Safe to run again: build-asan/, build/, build-fuzz/ and build-tsan/ are
# reused, so a second run only rebuilds what changed.
#
# Knobs: GALE_FUZZ_SECS (seconds per fuzz target, default 25).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null # CI has no stdin; make every local run behave the same

FUZZ_SECS=${GALE_FUZZ_SECS:-25}
FUZZ_TARGETS=(fuzz_batch fuzz_topology fuzz_conf fuzz_control fuzz_state_json fuzz_http_head)
TSAN_REGEX='unit\.test_(runtime|queue|lifecycle|activation|memory|limits|idle|log|logviewer|placement|worker_link|packing)'
STEPS_TOTAL=7

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gale-test.XXXXXX")
STEP_NO=0
CURRENT=""
STEP_T0=0
SUMMARY=()
RUN_T0=${EPOCHREALTIME/./}

# Microseconds since the epoch, from bash itself (no fork per reading).
now_us() { echo "${EPOCHREALTIME/./}"; }
fmt_secs() { printf '%d.%01ds' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

finish() {
    local rc=$?
    local end
    end=$(now_us)
    if [ -n "$CURRENT" ]; then
        SUMMARY+=("$(printf '  FAILED %8s  %s' "$(fmt_secs $((end - STEP_T0)))" "$CURRENT")")
        [ "$rc" -ne 0 ] || rc=1
    fi
    echo
    echo "==================== summary ===================="
    local line
    for line in "${SUMMARY[@]}"; do echo "$line"; done
    if [ "$rc" -eq 0 ]; then
        echo "  all $STEPS_TOTAL steps passed in $(fmt_secs $((end - RUN_T0)))"
        test_totals
    else
        echo "  FAILED at step: ${CURRENT:-?} (exit $rc) after $(fmt_secs $((end - RUN_T0)))"
        echo "  steps after it did not run"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# run_step NAME FUNCTION: a failing command inside FUNCTION ends the whole
# script through set -e (never call a step in an `if`, which would disable
# set -e inside it); the EXIT trap then records the step as failed.
run_step() {
    STEP_NO=$((STEP_NO + 1))
    CURRENT="[$STEP_NO/$STEPS_TOTAL] $1"
    echo
    echo "==> $CURRENT"
    STEP_T0=$(now_us)
    "$2"
    local secs
    secs=$(fmt_secs $(($(now_us) - STEP_T0)))
    echo "<== $CURRENT: ok ($secs)"
    SUMMARY+=("$(printf '  ok     %8s  %s' "$secs" "$CURRENT")")
    CURRENT=""
}

step_deps() {
    bash scripts/deps.sh
}

step_format() {
    local files=() f
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked files (all of them in a clean clone) plus new, not ignored
        # ones, so a file not yet added is checked too.
        while IFS= read -r f; do
            if [ -f "$f" ]; then files+=("$f"); fi
        done < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
    else
        echo "format: not a git checkout: checking every *.c/*.h outside build*/"
        while IFS= read -r f; do files+=("$f"); done < <(
            find . -path './build*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print |
                sort)
    fi
    if [ ${#files[@]} -eq 0 ]; then
        echo "WARNING: format: no *.c/*.h files found"
        return 0
    fi
    echo "format: clang-format $(clang-format --version | sed -n 's/.*version \([0-9.]*\).*/\1/p')" \
        "on ${#files[@]} files"
    if ! clang-format --dry-run --Werror "${files[@]}"; then
        echo "format: the files above differ from .clang-format: run clang-format -i on them" >&2
        return 1
    fi
}

step_asan() {
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGALE_SANITIZE=ON -DGALE_TESTS=ON
    cmake --build build-asan -j2
    # RUN_SERIAL scenario tests are serialised by ctest itself under -j2.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan --output-on-failure --timeout 120 -j2 |
        tee "$WORK/ctest-asan.log"
}

step_docs() {
    # Generate first, so a crashing gale is not reported as a stale file.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        build-asan/bin/gale conf --markdown >"$WORK/CONFIGURATION.md"
    if ! diff -u --label CONFIGURATION.md --label 'gale conf --markdown' \
        CONFIGURATION.md "$WORK/CONFIGURATION.md"; then
        echo "CONFIGURATION.md is out of date: run build/bin/gale conf --markdown > CONFIGURATION.md" >&2
        return 1
    fi
    echo "docs: CONFIGURATION.md matches gale conf --markdown"
}

step_release() {
    # GALE_TESTS=ON explicitly: scripts/demo.sh configures build/ without
    # tests, and this step must compile everything (starters, benchmarks,
    # tests) with the optimiser's warnings.
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGALE_TESTS=ON
    cmake --build build -j2
}

fuzz_binary() {
    local f
    for f in "build-fuzz/tests/$1" "build-fuzz/$1" "build-fuzz/bin/$1"; do
        [ -x "$f" ] && { echo "$f"; return 0; }
    done
    find build-fuzz -type f -name "$1" -perm -u+x -print -quit
}

step_fuzz() {
    CC=clang cmake -S . -B build-fuzz -DGALE_FUZZ=ON -DGALE_TESTS=ON -DCMAKE_BUILD_TYPE=Debug
    cmake --build build-fuzz --target "${FUZZ_TARGETS[@]}" -j2
    mkdir -p build-fuzz/artifacts
    local t bin corpus log
    for t in "${FUZZ_TARGETS[@]}"; do
        bin=$(fuzz_binary "$t")
        if [ -z "$bin" ]; then
            echo "fuzz: $t was built but its binary is not under build-fuzz/" >&2
            return 1
        fi
        corpus="$WORK/corpus-$t"
        mkdir -p "$corpus"
        # Checked-in seeds, if any, start the corpus; new inputs stay in $WORK.
        if [ -d "tests/fuzz/corpus/$t" ]; then cp -R "tests/fuzz/corpus/$t/." "$corpus/"; fi
        log="build-fuzz/$t.log"
        echo "fuzz: $t for ${FUZZ_SECS}s (full log: $log, crashes: build-fuzz/artifacts/)"
        # halt_on_error turns a UBSan report into a crash libFuzzer records.
        if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "$bin" -max_total_time="$FUZZ_SECS" -timeout=25 -print_final_stats=1 \
            -artifact_prefix="build-fuzz/artifacts/$t-" "$corpus" >"$log" 2>&1; then
            tail -n 100 "$log"
            echo "fuzz: $t found a crash, leak or timeout: reproduce with $bin <artifact>" >&2
            return 1
        fi
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" || tail -n 5 "$log"
    done
}

step_tsan() {
    cmake -S . -B build-tsan -DGALE_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DGALE_TESTS=ON
    cmake --build build-tsan -j2
    local n
    n=$(ctest --test-dir build-tsan -N -R "$TSAN_REGEX" | sed -n 's/^Total Tests: *//p')
    if [ "${n:-0}" -eq 0 ]; then
        echo "WARNING: no test matches '$TSAN_REGEX' yet: nothing ran under ThreadSanitizer"
    fi
    TSAN_OPTIONS=halt_on_error=1 \
        ctest --test-dir build-tsan -R "$TSAN_REGEX" --output-on-failure |
        tee "$WORK/ctest-tsan.log"
}

# "N passed, M failed" over both ctest runs, from their closing lines.
test_totals() {
    local pass=0 fail=0 log p f
    for log in "$WORK"/ctest-*.log; do
        [ -f "$log" ] || continue
        read -r p f < <(sed -n 's/^[0-9]*% tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2 \1/p' "$log" |
            awk '{print $1 - $2, $2}')
        pass=$((pass + ${p:-0}))
        fail=$((fail + ${f:-0}))
    done
    echo "tests: $pass passed, $fail failed"
}

echo "gale test suite: $(nproc) cores, CI=${CI:-false}, fuzz ${FUZZ_SECS}s per target"
run_step "deps (scripts/deps.sh)" step_deps
run_step "format check (clang-format)" step_format
run_step "ASan+UBSan build and ctest (build-asan/)" step_asan
run_step "generated docs (CONFIGURATION.md)" step_docs
run_step "Release build (build/)" step_release
run_step "fuzz (${FUZZ_TARGETS[*]}, build-fuzz/)" step_fuzz
run_step "ThreadSanitizer runtime tests (build-tsan/)" step_tsan
