# shellcheck shell=bash
# bench/lib.sh — what the benchmark scripts share; source it from the
# tree's root (each script cds there first).
#
#   bench_usage          print the calling script's header comment (--help)
#   bench_build B T...   make B a Release build (configured when it is not
#                        one yet) and build targets T (incremental, cheap
#                        when nothing changed); on failure print the log's
#                        tail and exit 1

bench_usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

bench_build() {
    local build=$1
    shift
    if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    if ! cmake --build "$build" -j2 --target "$@" >"$build/bench-build.log" 2>&1; then
        tail -20 "$build/bench-build.log" >&2
        echo "$(basename "$0"): building $* in $build failed (full log: $build/bench-build.log)" >&2
        exit 1
    fi
}
