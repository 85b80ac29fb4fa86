#!/usr/bin/env bash
# The main job: the otpbridge daemon (docs/API.md) on 127.0.0.1:21630. Starts pcscd if needed. When no
# real reader or key is attached (vpcd's virtual readers do not count), it attaches virtual tokens of
# every family (--simulate), so the whole flow works on a machine without hardware:
#   bash scripts/start.sh                 then, in another terminal: node examples/burn-token.mjs
# Extra arguments go to `otpbridge daemon` (--port N, --data-dir DIR, --simulate, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_pcscd
ensure_quickack_route

args=("$@")
real=$(node bin/otpbridge.js devices --json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const {devices=[]}=JSON.parse(s||"{}");
    console.log(devices.filter(d=>!(d.reader??"").startsWith("Virtual PCD")).length)})' || echo 0)
if [ "$real" = "0" ] && [[ " ${args[*]} " != *" --simulate "* ]]; then
  echo "start: no reader or key attached; using virtual tokens (--simulate)" >&2
  args+=(--simulate)
fi
exec node bin/otpbridge.js daemon "${args[@]}"
