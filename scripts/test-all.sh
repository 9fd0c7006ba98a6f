#!/usr/bin/env bash
# The whole test run, from a fresh clone to a verdict:
#   1. npm ci                              exact dependencies from package-lock.json
#   2. scripts/install-system.sh           Java, Maven, InfluxDB, Alertmanager, kcat, Chromium (skipped when present)
#   3. scripts/install-tfjs-node.sh        native TensorFlow binding (when the script exists)
#   4. wsn-watch services up               the real Kafka, InfluxDB and Alertmanager on 127.0.0.1
#   5. vitest run                          unit and integration projects, every file listed
# Exits non-zero when any step or any test fails.
#
# Services this script started are stopped at the end (pass or fail); services
# that were already running before it are left alone. WSN_KEEP_SERVICES=1
# keeps them running in any case (handy to rerun a single test file).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

step() { printf '\n==> %s\n' "$*" >&2; }
wsn() { node bin/wsn-watch.mjs "$@"; }

step "npm ci"
npm ci --no-audit --no-fund

step "system packages (scripts/install-system.sh)"
bash scripts/install-system.sh

if [[ -f scripts/install-tfjs-node.sh ]]; then
  step "native TensorFlow (scripts/install-tfjs-node.sh)"
  bash scripts/install-tfjs-node.sh
fi

step "services up"
started_here=1
if wsn services status >/dev/null 2>&1; then
  started_here=0 # all were up already: someone else's, leave them running
fi
stop_services() {
  local code=$?
  if [[ "$started_here" -eq 1 && "${WSN_KEEP_SERVICES:-0}" != 1 ]]; then
    step "services down (WSN_KEEP_SERVICES=1 keeps them running)"
    wsn services down || true
  fi
  exit "$code"
}
trap stop_services EXIT
wsn services up

step "tests (vitest: unit + integration)"
npx vitest run --reporter=verbose
