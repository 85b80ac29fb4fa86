#!/usr/bin/env bash
# The main job: the otpbridge daemon (docs/API.md) on 127.0.0.1:21630. It leaves the machine's PC/SC
# alone: it starts pcscd only when no pcscd socket exists (none running, and no socket activation),
# never stops or restarts one, and installs no reader configuration. When no real reader or key is
# attached (vpcd's virtual readers do not count), it attaches virtual tokens of every family
# (--simulate: behind vsmartcard-vpcd's own two readers when they are free, else in memory):
#   bash scripts/start.sh                 then, in another terminal: node examples/burn-token.mjs
# Extra arguments go to `otpbridge daemon` (--port N, --data-dir DIR, --config FILE, --simulate, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

PCSCD_SOCKET="${PCSCLITE_CSOCK_NAME:-/run/pcscd/pcscd.comm}"

# pcscd daemonizes itself; its socket appears within about 20 ms. Without root it cannot be started
# here, and the daemon simply waits for the service (otpbridge doctor says how to enable it).
start_pcscd_if_absent() {
  [ -e "$PCSCD_SOCKET" ] && return 0
  if ! command -v pcscd >/dev/null; then
    echo "start: pcscd is not installed; the daemon runs and waits for it (otpbridge doctor)" >&2
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "start: no pcscd socket at $PCSCD_SOCKET and not root: start pcscd (sudo systemctl start pcscd.socket)" >&2
    return 0
  fi
  echo "start: no pcscd socket; starting pcscd" >&2
  pcscd
  for _ in $(seq 1 100); do [ -S "$PCSCD_SOCKET" ] && return 0; sleep 0.05; done
  echo "start: pcscd did not create $PCSCD_SOCKET; the daemon waits for it" >&2
}

start_pcscd_if_absent

args=("$@")
real=$(node bin/otpbridge.js devices --json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const {devices=[]}=JSON.parse(s||"{}");
    console.log(devices.filter(d=>!(d.reader??"").startsWith("Virtual PCD")).length)})' || echo 0)
if [ "$real" = "0" ] && [[ " ${args[*]} " != *" --simulate "* ]]; then
  echo "start: no reader or key attached; using virtual tokens (--simulate)" >&2
  args+=(--simulate)
fi
exec node bin/otpbridge.js daemon "${args[@]}"
