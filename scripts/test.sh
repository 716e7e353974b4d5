#!/usr/bin/env bash
# The test suite: formatting, lints, then every test of the workspace (unit, property,
# integration, end-to-end on a real Debian live ISO, network boots in QEMU through iPXE).
# Fixture images are built on first use and cached by content hash in ~/.cache/repack.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
# The end-to-end and boot tests run the real binary.
cargo build --locked -p repack
cargo test --locked --workspace
