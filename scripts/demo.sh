#!/usr/bin/env bash
# demo.sh — the README's first command: install what is missing, build Gale
# (Release, into build/) and run the WordCount starter in local mode for
# GALE_DEMO_SECS seconds (default 20). The counter bolt logs "top words: ..."
# every 2 s on stderr. Extra arguments go to `gale local` unchanged, e.g.
#   bash scripts/demo.sh -c topology.workers=2
# Safe to run again: the build directory is reused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

echo "demo: configuring and building build/ (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGALE_TESTS=OFF
cmake --build build -j2

echo "demo: running WordCountTopology for ${GALE_DEMO_SECS:-20} s (Ctrl-C stops it early)"
exec build/bin/gale local build/starter/word_count.so WordCountTopology \
    --local-ttl "${GALE_DEMO_SECS:-20}" "$@"
