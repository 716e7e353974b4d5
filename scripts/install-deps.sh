#!/usr/bin/env bash
# Installs the Debian packages repack's tests and quickstart need (.ci/packages.txt), and
# QEMU. Safe to run again; does nothing when everything is there. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' .ci/packages.txt)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
need_qemu=0
command -v qemu-system-x86_64 >/dev/null || need_qemu=1

if [ "${#missing[@]}" -gt 0 ] || [ "$need_qemu" = 1 ]; then
    $sudo apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$need_qemu" = 1 ]; then
    echo "install-deps: installing qemu-system-x86"
    # The machine image carries a newer qemu-utils than bookworm's; qemu-system-x86 only
    # installs next to bookworm's own (see shared notes on netboot tests).
    if ! $sudo apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1; then
        $sudo apt-get install -y -qq --no-install-recommends --allow-downgrades \
            qemu-system-x86 qemu-utils/bookworm >/dev/null
    fi
fi
echo "install-deps: all packages present"
