#!/usr/bin/env bash
# Runs the whole test suite (the fast tests and the end-to-end ones) after the format and lint checks. Starts the services the end-to-end tests need if they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_pcscd
ensure_quickack_route
npm run build --silent
npm run typecheck --silent
# Formatting and lint findings fail the run before any test does (biome.jsonc).
npm run format:check --silent
npm run lint --silent
npx vitest run "$@"
