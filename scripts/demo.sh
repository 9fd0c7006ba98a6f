#!/usr/bin/env bash
# The README's first command (`npm run demo`): the whole pipeline in one
# process, no external services (docs/demo.md). Installs the npm packages
# first when node_modules is missing or older than package-lock.json; no
# native build is needed (the detector falls back to WebAssembly or plain JS
# when native TensorFlow is not built). Arguments go to `wsn-watch demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm records what it installed in node_modules/.package-lock.json; a newer
# package-lock.json (a pull that changed dependencies) means a stale tree.
installed=node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
  echo "demo: installing dependencies (npm ci; once per clone or dependency change)" >&2
  npm ci --no-audit --no-fund
fi

# The console is the demo's view; structured service logs only for warnings.
export WSN_LOG_LEVEL="${WSN_LOG_LEVEL:-warn}"
exec node bin/wsn-watch.mjs demo "$@"
