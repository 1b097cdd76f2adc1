#!/usr/bin/env bash
# `npm test`: builds, checks lint and formatting, installs the system packages the suites need,
# then runs every suite (unit tests next to the code in packages/*/src, end-to-end suites in
# tests/src) against real processes, and checks the README's compatibility table against the run.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build
npm run --silent lint
bash scripts/system-packages.sh

# PostgreSQL and Ceph RGW for the distributed-mode suites, stopped however the run ends.
source scripts/services/test-backends.sh
trap stop_test_backends EXIT
trap 'exit 130' INT TERM
start_test_backends

rm -f tests/dist/compat-results.jsonl
mapfile -t suites < <(find packages/*/dist tests/dist -name '*.test.js' | sort)
# A hung test fails after the timeout instead of blocking CI.
node --test --test-reporter=spec --test-timeout=300000 "${suites[@]}"
node scripts/compat-table.mjs --check
