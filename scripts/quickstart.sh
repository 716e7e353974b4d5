#!/usr/bin/env bash
# repack end to end on the embedded defaults (SQLite catalogue + local directory), on a
# machine that cannot reach any real upstream:
#   1. builds a real Debian live ISO from Debian packages (mmdebstrap, mkinitramfs,
#      mksquashfs, xorriso) and serves it with a SHA256SUMS list on 127.0.0.1, laid out like
#      Debian's CD mirror;
#   2. runs `repack run debian-live` with a mirror rewrite from the real upstream to it;
#   3. runs it again (nothing new: nothing changes) and shows what was published;
#   4. starts `repack serve` on it for a moment: health, the menu, a Range of a published file.
# With real network access, skip all this and run `repack run debian-live`.
#
# usage: scripts/quickstart.sh [WORK_DIR]      (default: ./quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(realpath -m "${1:-quickstart}")
port=${REPACK_QUICKSTART_PORT:-18480}
serve_port=${REPACK_QUICKSTART_SERVE_PORT:-18481}

bash scripts/install-deps.sh
cargo build --locked --release -p repack
repack=$root/target/release/repack

# 1. The local upstream, built once and reused.
fixture=$work/fixture
if [ ! -f "$fixture/SHA256SUMS" ]; then
    rm -rf "$fixture"
    bash tests/fixtures/make-debian-live.sh "$fixture"
fi
upstream=$work/upstream/debian-cd/current-live/amd64/iso-hybrid
mkdir -p "$upstream"
ln -sf "$fixture/debian-live.iso" "$upstream/debian-live-12.99.0-amd64-standard.iso"
iso_sum=$(cut -d' ' -f1 < <(grep ' debian-live.iso$' "$fixture/SHA256SUMS"))
printf '%s  debian-live-12.99.0-amd64-standard.iso\n' "$iso_sum" > "$upstream/SHA256SUMS"

python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/upstream" \
    >"$work/upstream.log" 2>&1 &
server=$!
serve=""
trap 'kill $server $serve 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/debian-cd/current-live/amd64/iso-hybrid/SHA256SUMS" && break
    sleep 0.1
done

# 2. The configuration: embedded defaults plus a mirror rewrite.
cat > "$work/repack.toml" <<TOML
data_dir = "$work/data"
output_dir = "$work/public"
public_url = "http://127.0.0.1:$serve_port/files"
recipe_dirs = ["$root/recipes"]

[[mirror]]
from = "https://cdimage.debian.org/"
to = "http://127.0.0.1:$port/"
TOML
export REPACK_CONFIG=$work/repack.toml REPACK_LOG_FORMAT=text

echo
echo "== repack run debian-live"
"$repack" run debian-live
echo
echo "== repack run debian-live (again: nothing new upstream)"
"$repack" run debian-live
echo
echo "== repack status"
"$repack" status
echo
echo "== published in $work/public"
(cd "$work/public" && find . -path ./.staging -prune -o -type f -print | sort)

# 4. The service's HTTP face on what was just published.
echo
echo "== repack serve --listen 127.0.0.1:$serve_port"
"$repack" serve --listen "127.0.0.1:$serve_port" >"$work/serve.out" 2>"$work/serve.log" &
serve=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
base=http://127.0.0.1:$serve_port
echo "GET /healthz: $(curl -fsS "$base/healthz")"
menu=$(curl -fsS "$base/menu.ipxe")
echo "GET /menu.ipxe (first lines):"
printf '%s\n' "$menu" | sed -n 1,12p
kernel=$(curl -fsS "$base/api/v1/builds" | python3 -c \
    'import json,sys; b=json.load(sys.stdin)[0]; print(b["location"] + "/" + next(f["name"] for f in b["manifest"]["files"] if f["role"] == "kernel"))')
echo "GET /files/$kernel with Range 0-15: HTTP $(curl -fsS -o /dev/null -w '%{http_code}' -r 0-15 "$base/files/$kernel")"
kill "$serve"; wait "$serve" 2>/dev/null || true; serve=""
echo
echo "Run \`$repack serve\` (status page at /, webhooks, /menu.ipxe, /files/, /metrics) beside"
echo "\`$repack worker\`, and chain http://<server>:$serve_port/menu.ipxe from iPXE to boot it."
