#!/usr/bin/env bash
# Runs one Node script inside the throw-away HID test VM and exits with the script's exit code.
#   scripts/hidvm/run.sh SCRIPT.js [ARGS...]
# SCRIPT must lie inside this work tree (the guest sees the tree at the same path, read-write, and the
# rest of the host read-only). The script's stdout and stderr are printed; kernel output is not, unless
# the VM fails before the script starts. Env: HIDVM_TIMEOUT (seconds, default 300), HIDVM_MEMORY (MiB).
# Exit codes: the script's own, or 125 when the VM could not run it, 124 on timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(pwd -P)

[ $# -ge 1 ] || { echo "usage: $0 SCRIPT.js [ARGS...]" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "hidvm: qemu-system-x86_64 is not installed" >&2; exit 125; }
bash scripts/hidvm/build-initramfs.sh >&2

script=$(realpath "$1"); shift
case "$script" in "$work"/*) ;; *) echo "hidvm: $script is outside $work" >&2; exit 2 ;; esac
node=$(realpath "$(command -v node)")

# The job file is sourced by the guest's /bin/sh; each argument is single-quoted.
mkdir -p .cache/hidvm/jobs
job=$(mktemp "$work/.cache/hidvm/jobs/job.XXXXXX")
log="$job.console"
trap 'rm -f "$job" "$log"' EXIT
quote() { local s=${1//\'/\'\\\'\'}; printf "'%s' " "$s"; }
{ printf 'exec '; quote "$node"; quote "$script"; for a in "$@"; do quote "$a"; done; echo; } >"$job"

# -accel tcg: /dev/kvm exists on these machines but a KVM guest hangs. No network device at all.
# The host root is exported read-only; multidevs=remap keeps inode numbers unique across host mounts.
status=0
timeout "${HIDVM_TIMEOUT:-300}" qemu-system-x86_64 \
  -accel tcg -cpu max -smp 1 -m "${HIDVM_MEMORY:-1024}" \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -kernel .cache/hidvm/kernel/vmlinuz -initrd .cache/hidvm/initramfs.cpio \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init hidvm.work=$work hidvm.job=$job" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$work,mount_tag=work,security_model=none,multidevs=remap" \
  -serial "file:$log" </dev/null >&2 || status=$?

tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
if ! grep -q '^HIDVM-BEGIN$' "$log"; then
  echo "hidvm: the VM did not start the script (qemu status $status); console:" >&2
  cat "$log" >&2
  exit 125
fi
sed -n '/^HIDVM-BEGIN$/,/^HIDVM-EXIT [0-9]*$/p' "$log" | sed '1d;/^HIDVM-EXIT [0-9]*$/d'
code=$(sed -n 's/^HIDVM-EXIT \([0-9]*\)$/\1/p' "$log" | tail -1)
if [ -z "$code" ]; then
  [ "$status" -eq 124 ] && { echo "hidvm: timed out after ${HIDVM_TIMEOUT:-300} s" >&2; exit 124; }
  echo "hidvm: the script did not finish (qemu status $status)" >&2
  exit 125
fi
exit "$code"
