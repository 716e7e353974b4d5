#!/usr/bin/env bash
# Regenerates the seed corpus of the `parse` fuzz target (small images of every shape the
# parser handles, valid and hostile). Needs cpio, gzip, zstd, xz, lz4, bzip2, python3.
# The files are committed; the test `hostile::fuzz_corpus_replays` replays them.
set -euo pipefail
export SOURCE_DATE_EPOCH=1700000000
out="$(cd "$(dirname "$0")" && pwd)/corpus/parse"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/root/etc" "$tmp/root/usr/bin" "$tmp/early/kernel/x86/microcode"
echo hello > "$tmp/root/etc/hello"
printf 'BB' > "$tmp/root/usr/bin/busybox"
ln "$tmp/root/usr/bin/busybox" "$tmp/root/usr/bin/wget"
ln -s usr/bin "$tmp/root/bin"
printf 'ucode' > "$tmp/early/kernel/x86/microcode/GenuineIntel.bin"
touch -h -d "@$SOURCE_DATE_EPOCH" $(find "$tmp/root" "$tmp/early")
arc() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible); }
arc "$tmp/root" > "$tmp/main.cpio"
arc "$tmp/early" > "$tmp/early.cpio"
cp "$tmp/main.cpio" "$out/newc"
gzip -n -9 -c "$tmp/main.cpio" > "$out/gzip"
zstd -q -19 -c "$tmp/main.cpio" > "$out/zstd"
xz --check=crc32 -c "$tmp/main.cpio" > "$out/xz-crc32"
xz --check=crc64 -c "$tmp/main.cpio" > "$out/xz-crc64"
lz4 -l -q -c "$tmp/main.cpio" > "$out/lz4-legacy"
lz4 -q -c "$tmp/main.cpio" > "$out/lz4-frame"
bzip2 -9 -c "$tmp/main.cpio" > "$out/bzip2"
xz --format=lzma -c "$tmp/main.cpio" > "$out/lzma"
cat "$tmp/early.cpio" "$out/zstd" > "$out/early-plus-zstd"
cat "$tmp/early.cpio" "$out/gzip" "$out/xz-crc32" "$out/lz4-legacy" > "$out/four-members"
cat "$out/lz4-legacy" "$out/gzip" > "$out/lz4-not-last"
cat "$out/gzip" "$tmp/main.cpio" > "$out/misaligned-newc"
python3 - "$out" <<'PY'
import sys, os
out = sys.argv[1]
def w(name, data): open(os.path.join(out, name), "wb").write(data)
gz = open(os.path.join(out, "gzip"), "rb").read()
newc = open(os.path.join(out, "newc"), "rb").read()
w("gzip-truncated", gz[: len(gz) // 2])
w("newc-truncated", newc[:300])
w("trailing-garbage", newc + b"garbage!")
w("odc-magic", b"070707" + newc[6:])
w("huge-namesize", newc[:94] + b"FFFFFFFF" + newc[102:])
w("huge-filesize", newc[:54] + b"7FFFFFFF" + newc[62:])
w("non-hex-fields", newc[:20] + b"zzzzzzzz" + newc[28:])
w("only-padding", b"\0" * 4096)
w("lzo-magic", b"\x89LZO\0\r\n\x1a\n" + b"\0" * 32)
PY
ls -1 "$out" | wc -l
