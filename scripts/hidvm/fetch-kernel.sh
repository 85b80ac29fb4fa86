#!/usr/bin/env bash
# Fetches the Debian kernel that the HID test VM boots, and keeps only what the VM needs:
# vmlinuz plus the uhid, hid-generic, 9p and virtio modules with their dependencies, in load order.
# This machine's own kernel has no usable uhid (docs/TESTING.md "USB HID in a VM"), so the guest runs Debian's stock kernel. Idempotent: does nothing once the cache is complete.
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE=.cache/hidvm/kernel
# Module file names (without .ko). hid.ko comes in as a dependency of both HID modules.
WANTED=(virtio_pci 9pnet_virtio 9p uhid hid-generic)

if [ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/modules.load" ]; then exit 0; fi
command -v busybox >/dev/null || { echo "fetch-kernel: busybox (busybox-static) is needed for depmod" >&2; exit 1; }

# The kernel package that linux-image-amd64 currently points at (for example linux-image-6.1.0-56-amd64).
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_package)
if [ -z "$pkg" ]; then
  apt-get update -qq
  pkg=$(kernel_package)
fi
[ -n "$pkg" ] || { echo "fetch-kernel: apt knows no linux-image-amd64" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
download() { (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg"); }
# Stale package lists name a version the mirror no longer has: refresh them once and retry.
download || { apt-get update -qq && download; }
dpkg-deb -x "$tmp"/*.deb "$tmp/root"
version=$(ls "$tmp/root/lib/modules")
moddir="$tmp/root/lib/modules/$version"
# The package ships no modules.dep (its postinst runs depmod); busybox's depmod writes one.
busybox depmod -b "$tmp/root" "$version"

# Depth-first walk of modules.dep: every module is listed after all of its dependencies.
declare -A seen=()
order=()
visit() {
  local rel=$1 dep
  [ -n "${seen[$rel]:-}" ] && return 0
  seen[$rel]=1
  local line
  line=$(grep -m1 "^$rel:" "$moddir/modules.dep") || { echo "fetch-kernel: $rel not in modules.dep" >&2; exit 1; }
  for dep in ${line#*:}; do visit "$dep"; done
  order+=("$rel")
}
for name in "${WANTED[@]}"; do
  rel=$(grep -m1 -o "^[^:]*/$name\.ko[^:]*" "$moddir/modules.dep") || {
    echo "fetch-kernel: module $name is not in $pkg (built in?)" >&2; exit 1; }
  visit "$rel"
done

staging="$CACHE.new"
rm -rf "$staging"
mkdir -p "$staging/modules"
cp "$tmp/root/boot/vmlinuz-$version" "$staging/vmlinuz"
: >"$staging/modules.load"
for rel in "${order[@]}"; do
  cp "$moddir/$rel" "$staging/modules/"
  basename "$rel" >>"$staging/modules.load"
done
echo "$pkg $version" >"$staging/VERSION"
rm -rf "$CACHE"
mv "$staging" "$CACHE"
echo "fetch-kernel: $pkg ($version), modules: $(tr '\n' ' ' <"$CACHE/modules.load")"
