#!/usr/bin/env bash
# Runs the data-path benchmark: builds repack and the bench binary (release), builds the
# ≥ 4 GB benchmark ISO once (cached in ~/.cache/repack/bench), then times repack run, the
# incumbent's tool chain and the floor on it. Extra arguments go to repack-bench
# (e.g. --rounds 3, --variants a,c, --keep-caches). Run as root to drop the page cache.
# Needs: curl, p7zip-full (or libarchive-tools), initramfs-tools (unmkinitramfs), cpio,
# zstd, squashfs-tools, xorriso, openssl; and the Debian live fixture's tools (mmdebstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p repack -p repack-bench
exec target/release/repack-bench --repack target/release/repack "$@"
