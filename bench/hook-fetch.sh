#!/usr/bin/env bash
# Boot-side fetch, natively: the hooks' shared fetch code (crates/boot/src/hooks/common.sh)
# run by busybox sh on this machine against a local HTTP server, as it runs in an initrd, for
# this tree ("after") and an earlier revision ("before", default: the last one whose hook
# downloaded each part to a temporary file, hashed it, then copied it onto the image), with
# the download alone as the floor. The download goes through busybox wget, or curl with
# --limit-rate when a rate is given (e.g. 110M for a 1 Gbit/s link); the images land in a
# directory under /dev/shm (RAM, as the hooks' tmpfs). Prints one line per run.
# --before HEAD compares the working tree with the last commit.
# Usage: bench/hook-fetch.sh [--before REV] [--size-mib N] [--parts N] [--rate R] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
before=4283b5a size_mib=1024 parts=3 rate="" rounds=3
while [ $# -gt 0 ]; do
    case $1 in
        --before) before=$2; shift 2 ;;
        --size-mib) size_mib=$2; shift 2 ;;
        --parts) parts=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
busybox=$(command -v busybox) || { echo "needs busybox (busybox-static)" >&2; exit 1; }
work=$(mktemp -d /dev/shm/repack-hook-fetch.XXXXXX)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/rel" "$work/etc"
head -c $((size_mib << 20)) /dev/urandom > "$work/image"
part_size=$(( (size_mib << 20) / parts ))
split -a 1 -d -b "$part_size" "$work/image" "$work/rel/p"
: > "$work/rootfs.list"
for index in $(seq 0 $((parts - 1))); do
    name=filesystem.squashfs
    [ "$index" -gt 0 ] && name="filesystem.squashfs.part$((index + 1))"
    mv "$work/rel/p$index" "$work/rel/$name"
    set -- $(ls -ln "$work/rel/$name")
    echo "filesystem.squashfs $name $5 $(sha256sum "$work/rel/$name" | cut -d' ' -f1)" >> "$work/rootfs.list"
done
rm "$work/image"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/rel" "$port" > /dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.1; done
git show "$before:crates/boot/src/hooks/common.sh" > "$work/before.sh"
cp crates/boot/src/hooks/common.sh "$work/after.sh"
if [ -n "$rate" ]; then
    get="curl -fsS --limit-rate $rate"
else
    get="$busybox wget -q -O -"
fi
run () { # variant: prints seconds
    local variant=$1 dest="$work/dest"
    rm -rf "$dest"; mkdir -p "$dest"; sync
    "$busybox" sh -c '
        work=$1 variant=$2 port=$3 bench_get=$4 dest=$5
        . "$work/$variant.sh"
        repack_list=$work/rootfs.list
        repack_base=http://127.0.0.1:$port/
        # The early hooks download to a file (repack_get URL FILE), later ones to standard output.
        if grep -q "repack_get URL FILE" "$work/$variant.sh"; then
            repack_get () { $bench_get "$1" > "$2"; }
        else
            repack_get () { $bench_get "$1"; }
        fi
        repack_log () { :; }
        read -r start _ < /proc/uptime
        repack_fetch_all "$dest" > /dev/null || exit 1
        read -r end _ < /proc/uptime
        echo "$start $end"
    ' sh "$work" "$variant" "$port" "$get" "$dest" | awk '{ printf "%.2f", $2 - $1 }'
}
alone () {
    local start end
    start=$(date +%s.%N)
    while read -r _ part _ _; do $get "http://127.0.0.1:$port/$part" > /dev/null; done < "$work/rootfs.list"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
echo "image ${size_mib} MiB in ${parts} part(s), download: ${get%% -*}${rate:+ at $rate/s}, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq "$rounds"); do
    a=$(alone); b=$(run before); c=$(run after)
    echo "round $round: download alone $a s, before $b s ($(awk -v x="$b" -v y="$a" 'BEGIN{printf "%.2f", x/y}')x), after $c s ($(awk -v x="$c" -v y="$a" 'BEGIN{printf "%.2f", x/y}')x)"
done
