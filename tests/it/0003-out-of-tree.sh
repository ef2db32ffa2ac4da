#!/usr/bin/env bash
# 0003 — build and run a topology out of tree, against an installed Gale.
#
# `cmake --install` the build into a temporary prefix, compile a small
# topology with only `pkg-config gale` (no source tree), and run it with
# the installed `gale local ... --until-done`. What must hold: the
# installed binary runs from its prefix as is (no LD_LIBRARY_PATH), the
# topology builds, the run exits 0 and the file sink has all 100 lines.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"

PREFIX="$TMP/prefix"
echo "install into $PREFIX"
cmake --install "$GALE_BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
pc=$(find "$PREFIX" -name gale.pc -print -quit)
[[ -n "$pc" ]] || fail "no gale.pc installed under $PREFIX"
PCDIR=$(dirname "$pc")
GALE="$PREFIX/bin/gale"
[[ -x "$GALE" ]] || fail "no gale binary installed at $GALE"

echo "check: the installed gale runs from its prefix"
if ! "$GALE" local --help >"$TMP/help.out" 2>&1; then
    cat "$TMP/help.out" >&2
    fail "installed $GALE does not run (is its RUNPATH set to find libgale in $PREFIX/lib?)"
fi

cat >"$TMP/t.c" <<'C'
#include <gale/gale.h>

int Entry(gale_submit_t *s, int argc, char **argv) {
    if (argc < 2) return 1;
    gale_builder_t *b = gale_builder_new();
    gale_component_t *in = GALE_SPOUT(b, "lines", gale_file_lines_spout, 2);
    gale_component_conf_set_str(in, "file.path", argv[0]);
    gale_component_t *out = GALE_BOLT(b, "sink", gale_file_sink_bolt, 1);
    gale_shuffle_grouping(out, "lines", NULL);
    gale_component_conf_set_str(out, "file.path", argv[1]);
    return gale_submit(s, "out-of-tree", gale_conf_new(), b);
}
C

# A sanitized Gale loads the topology into an ASan process: instrument it too.
SAN=()
if nm "$GALE_BIN" 2>/dev/null | grep -q __asan_init; then
    SAN=("-fsanitize=address,undefined")
fi
echo "check: the topology builds with pkg-config gale alone ${SAN[*]}"
# shellcheck disable=SC2046 # pkg-config output is meant to be split
cc -std=c11 -Wall -Wextra -Werror "${SAN[@]}" -shared -fPIC -o "$TMP/t.so" "$TMP/t.c" \
    $(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags --libs gale) ||
    fail "building the topology against the installed Gale failed; gale.pc says" \
        "includedir=$(PKG_CONFIG_PATH="$PCDIR" pkg-config --variable=includedir gale)" \
        "(installed under $PREFIX: gale.pc must follow the install prefix, e.g. \${pcfiledir})"

echo "check: gale.pc's paths have no doubled slash"
libs=$(PKG_CONFIG_PATH="$PCDIR" pkg-config --libs gale)
[[ "$libs" != *//* ]] || fail "pkg-config --libs gale has a doubled slash: $libs"

seq 1 100 | awk '{ print "line number " $1 " of the out-of-tree test" }' >"$TMP/in"
echo "check: the installed gale runs it to completion"
run_bg 60 "$TMP/log" "$GALE" local "$TMP/t.so" Entry "$TMP/in" "$TMP/sink" --until-done
expect_ok "$TMP/log" "the run"

echo "check: the sink has all 100 lines"
[[ -f "$TMP/sink" ]] || fail "no sink file written"
awk '{ print $1 }' "$TMP/sink" | sort -n -u >"$TMP/got_ids"
seq 1 100 >"$TMP/want_ids"
expect_same "$TMP/want_ids" "$TMP/got_ids" "sink line numbers differ from 1..100"
cut -d' ' -f2- "$TMP/sink" | sort -u >"$TMP/got_text"
sort -u "$TMP/in" >"$TMP/want_text"
expect_same "$TMP/want_text" "$TMP/got_text" "sink text differs from the input"
echo "PASS"
