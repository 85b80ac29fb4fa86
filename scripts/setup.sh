#!/usr/bin/env bash
# Installs everything otpbridge and its test suite need on a fresh Debian machine, then builds.
# Safe to run again: apt and npm skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# What otpbridge itself needs to run (the README's main command).
APT_PACKAGES=(
  pcscd libpcsclite-dev vsmartcard-vpcd   # the real PC/SC stack (the binding compiles against libpcsclite-dev) and vpcd for --simulate
  libusb-1.0-0                            # node-hid's runtime dependency
)
# Only the test suite needs these (scripts/test.sh): one package, or one related group, per line.
TEST_APT_PACKAGES=(
  iproute2                                # the loopback quickack route (see docs/TESTING.md)
  qemu-system-x86 busybox-static          # the throw-away VM of the HID end-to-end tests (scripts/hidvm/)
  libxml2-utils xmltooling-schemas        # xmllint and the W3C xmldsig/xenc schemas: PSKC exports checked against the RFC 6030 XSD
  chromium                                # headless browser for the daemon's page test (test/daemon/browser.e2e.test.ts)
  postgresql                              # the throw-away clusters of the stations tests (test/fixtures/postgres.ts)
  systemd                                 # systemd-analyze verify, for the generated unit (test/package/service.test.ts)
)
missing=()
for pkg in "${APT_PACKAGES[@]}" "${TEST_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Debian kernel and busybox initramfs that the HID VM boots, cached in the gitignored .cache/hidvm.
# A failure here only concerns the HID end-to-end test, which reports it; it does not stop setup.
bash scripts/hidvm/build-initramfs.sh || echo "setup: the HID test VM could not be prepared; test/hid-vm will try again and fail if it still cannot" >&2

# npm ci compiles the native addons (allowScripts in package.json); the build (WebAssembly core and
# TypeScript) is its own step: the package builds before packing (prepack), never at a user's install.
npm ci --no-audit --no-fund
npm run build
