#!/usr/bin/env bash
# Runs the whole test suite: the format and lint checks, the fast tests, then the end-to-end ones
# (docs/TESTING.md). Starts the services the end-to-end tests need if they are not running.
# Arguments go to both vitest runs (a file filter that matches only one of them is fine).
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
# The fast tests in parallel; they need no service.
npx vitest run --exclude "**/*.e2e.test.ts" --passWithNoTests "$@"
# The end-to-end tests one file at a time: pcscd and its readers, the PostgreSQL clusters, the VM
# and the browser would otherwise contend (and time out on the PC/SC test lock) on two cores.
npx vitest run --no-file-parallelism --passWithNoTests .e2e.test.ts "$@"
