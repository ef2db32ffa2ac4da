/*
 * main.c — the gale binary: a thin shell over libgale, so topologies
 * loaded with dlopen share the one runtime in libgale.so.
 */
#include "cli/cli.h"

int main(int argc, char **argv) {
    return gale_cli_main(argc, argv);
}
