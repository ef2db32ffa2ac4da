#!/usr/bin/env bash
# 0086 — 0085 with the opaque file batch spout and an opaque Redis state
# (TridentOpaqueCount, tests/it/topo_trident_opaque.c): the same faults,
# the same exact counts.
exec bash "$(dirname "$0")/0085-trident-cluster-faults.sh" opaque
