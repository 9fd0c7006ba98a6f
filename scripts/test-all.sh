#!/usr/bin/env bash
# The whole test run, from a fresh clone to a verdict:
#   1. npm ci                              exact dependencies from package-lock.json
#   2. scripts/install-system.sh           Java, Maven, InfluxDB, Alertmanager, kcat, Chromium (skipped when present)
#   3. scripts/install-tfjs-node.sh        native TensorFlow binding (when the script exists)
#   4. wsn-watch services up               the real Kafka, InfluxDB and Alertmanager on 127.0.0.1
#   5. format check, lint, typecheck       prettier --check, eslint, tsc --noEmit
#   6. vitest run                          unit and integration projects, every file listed
#                                          (arguments are passed to vitest: `npm run test:all -- test/unit` runs a part)
# Exits non-zero when any step, any static check or any test fails (the tests
# still run after a failed static check, so one run shows everything).
#
# Services this script started are stopped at the end (pass or fail); services
# that already answered before it (this clone's or another's) are used and left
# alone. WSN_KEEP_SERVICES=1 keeps them running in any case (handy to rerun a
# single test file).
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
# Services that already answer on the configured ports (started earlier, or by
# another clone of the repository) are used as they are and left running.
all_answering() {
  local states
  states=$(wsn services status --json 2>/dev/null || true) # exit code 1 unless all are ours and up
  printf '%s' "$states" | node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      try {
        const states = JSON.parse(text);
        process.exit(states.every((s) => s.state === "up" || s.state === "foreign") ? 0 : 1);
      } catch {
        process.exit(1);
      }
    });'
}
started_here=1
if all_answering; then
  started_here=0
  printf 'services already answering; using them and leaving them running\n' >&2
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
if [[ "$started_here" -eq 1 ]]; then
  wsn services up
fi

step "static checks: format (prettier), lint (eslint), types (tsc)"
static_failures=()
npx prettier --check . >&2 || static_failures+=("format (npm run format fixes it)")
npx eslint . >&2 || static_failures+=("lint")
npx tsc --noEmit -p . >&2 || static_failures+=("typecheck")
if ((${#static_failures[@]} > 0)); then
  printf 'static checks FAILED: %s\n' "${static_failures[*]}" >&2
else
  printf 'static checks passed: format, lint, typecheck\n' >&2
fi

step "tests (vitest: unit + integration)"
# The suite runs on native TensorFlow (tfjs-node, built above) unless
# WSN_BACKEND says otherwise; every test file logs the backend it ran on.
export WSN_BACKEND="${WSN_BACKEND:-tensorflow}"
printf 'TensorFlow.js backend for the tests: %s\n' "$WSN_BACKEND" >&2
results=var/test-results.json
mkdir -p var
set +e
npx vitest run --reporter=verbose --reporter=json --outputFile.json="$results" "$@"
status=$?
set -e
# One plain closing line with the counts, whatever reporter printed above.
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$results" || true
if ((${#static_failures[@]} > 0)); then
  printf 'static checks failed: %s\n' "${static_failures[*]}" >&2
  [[ "$status" -ne 0 ]] || status=1
fi
exit "$status"
