#!/usr/bin/env bash
# Runs the whole test suite. Starts the services the end-to-end tests need if they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_pcscd
ensure_quickack_route
npm run build --silent
npm run typecheck --silent
npx vitest run "$@"
