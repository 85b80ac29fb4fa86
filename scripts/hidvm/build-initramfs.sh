#!/usr/bin/env bash
# Builds the HID test VM's initramfs: busybox, scripts/hidvm/init and the kernel modules listed in load
# order by fetch-kernel.sh. Output: .cache/hidvm/initramfs.cpio. Idempotent: rebuilt only when its
# inputs change (a hash of them is kept beside it).
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE=.cache/hidvm
bash scripts/hidvm/fetch-kernel.sh
busybox=$(command -v busybox) || { echo "build-initramfs: busybox-static is not installed" >&2; exit 1; }
case "$(file -b "$busybox" 2>/dev/null || echo static)" in
  *dynamically*) echo "build-initramfs: $busybox is dynamically linked; install busybox-static" >&2; exit 1 ;;
esac

stamp=$(cat "$busybox" scripts/hidvm/init "$CACHE/kernel/modules.load" "$CACHE/kernel/VERSION" | sha256sum | cut -d' ' -f1)
if [ -s "$CACHE/initramfs.cpio" ] && [ "$(cat "$CACHE/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/bin" "$tree/lib/hidvm"
cp "$busybox" "$tree/bin/busybox"
install -m 0755 scripts/hidvm/init "$tree/init"
cp "$CACHE"/kernel/modules/*.ko "$CACHE/kernel/modules.load" "$tree/lib/hidvm/"
(cd "$tree" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$CACHE/initramfs.cpio.new"
mv "$CACHE/initramfs.cpio.new" "$CACHE/initramfs.cpio"
echo "$stamp" >"$CACHE/initramfs.stamp"
echo "build-initramfs: $CACHE/initramfs.cpio ($(du -h "$CACHE/initramfs.cpio" | cut -f1))"
