#!/usr/bin/env bash
# Boot-side benchmark: the smallest RAM (QEMU -m, bisected in 64 MiB steps) with which the
# Debian live fixture still network-boots to its marker, and the hook's fetch time against
# the download alone, for the root image whole and in 3 parts, with this tree's hook
# ("after") and with the hook of an earlier revision ("before", default: the last revision
# whose hook downloaded each part to a temporary file before joining it).
# Usage: bench/boot-ram.sh [--before REV] [extra arguments of the boot-ram example, e.g.
# --parts 3 --variants after --low 384 --high 1024]. Needs what the boot tests need (QEMU,
# iPXE; see .ci/packages.txt) and the Debian live fixture (built on first use, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
before=4283b5a
if [ "${1:-}" = "--before" ]; then
    before=$2
    shift 2
fi
work=${TMPDIR:-/tmp}/repack-boot-ram
mkdir -p "$work"
# The earlier hook as repack-boot built it for live-boot: shebang, shared part, family part.
{
    echo '#!/bin/sh'
    git show "$before:crates/boot/src/hooks/common.sh"
    git show "$before:crates/boot/src/hooks/live-boot-9999-repack.sh"
} > "$work/9999-repack.before.sh"
cargo build --locked -p repack
cargo build --locked -p repack-e2e --example boot-ram
exec target/debug/examples/boot-ram --work "$work" --before-hook "$work/9999-repack.before.sh" "$@"
