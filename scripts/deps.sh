#!/usr/bin/env bash
# deps.sh — the one list of Debian 12 packages Gale needs to build, test,
# fuzz and run its demo. Installs only the missing ones (apt-get update runs
# once, and only when something is missing), so it is safe to run again.
# Called by scripts/demo.sh and scripts/test.sh; can be run on its own.
set -euo pipefail

# libsodium gives the BLAKE2b checksum of uploaded topology code;
# libmicrohttpd serves worker logs (the supervisor's log viewer);
# libjansson encodes micro-batch state values as JSON (storm-redis's format);
# clang 14 ships libFuzzer (tests/fuzz); clang-format checks the style;
# redis-server and python3 serve the scenario tests.
PACKAGES=(
    build-essential
    cmake
    pkg-config
    libzmq3-dev
    libmsgpack-dev
    libhiredis-dev
    libjansson-dev
    libcmocka-dev
    libyaml-dev
    libsodium-dev
    libmicrohttpd-dev
    redis-server
    python3
    clang
    clang-format
    prometheus # promtool check metrics and a real scrape of gale ui's /metrics (tests/it 0091)
    curl       # the UI scenario tests (0090, 0091)
    iproute2   # ip netns, ss and tc for the multi-host tests (0040-0042)
    chromium   # the web UI's browser test (tests/it 0092, headless, driven by playwright-core from npm)
)

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: dpkg/apt-get not found: this script supports Debian 12; install these" \
        "packages (or their equivalents) yourself: ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    # "dpkg -s" also succeeds for removed-but-configured packages: read the status.
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

echo "deps: missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal (CI) sudo must not wait for a password nobody types.
    if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
    echo "deps: not root: using ${SUDO[*]}"
else
    echo "deps: missing packages and not root, and sudo is not installed: run as root:" \
        "apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps: + apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
echo "deps: + apt-get install -y --no-install-recommends ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
