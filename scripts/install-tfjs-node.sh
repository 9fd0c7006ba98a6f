#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node's native binding work on this machine, using only
# the package registries (npm and PyPI), with no hand steps.
#
# tfjs-node's own install step downloads a libtensorflow archive and a prebuilt
# binding from a file host that machines without general internet access cannot
# reach, so package.json keeps that step switched off (allowScripts). This script
# runs after `npm ci` instead:
#   1. If the binding already loads (a machine where the ordinary install ran),
#      it does nothing.
#   2. It fetches the tensorflow-cpu wheel from PyPI (hash-pinned in
#      scripts/tfjs-node/libtensorflow-requirements.txt, cached outside the repo),
#      takes the TensorFlow C library and C API headers out of it,
#   3. stages them where tfjs-node's build looks (deps/lib, deps/include),
#   4. builds the binding from source with node-gyp against the local Node.js
#      headers, and checks that it loads and computes.
#
# Usage: bash scripts/install-tfjs-node.sh [--force]
#   --force                rebuild even if the binding already loads
# Environment:
#   WSN_ALLOW_NO_NATIVE=1  a failure warns and exits 0 (the detector then falls
#                          back to the pure TensorFlow.js backends)
#   WSN_CACHE_DIR          download cache (default: $XDG_CACHE_HOME/wsn-watch
#                          or ~/.cache/wsn-watch)
#   WSN_NODEDIR            Node.js install prefix holding include/node (default:
#                          the prefix of the running node)
# docs/native-tensorflow.md explains the choices.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
helpers="$repo_root/scripts/tfjs-node"
requirements="$helpers/libtensorflow-requirements.txt"
cache_dir="${WSN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wsn-watch}"
force=0

log() { printf '[install-tfjs-node] %s\n' "$*" >&2; }

fail() {
  log "FAILED: $1"
  [[ $# -ge 2 ]] && log "hint: $2"
  if [[ "${WSN_ALLOW_NO_NATIVE:-}" == 1 ]]; then
    log "WSN_ALLOW_NO_NATIVE=1: continuing without the native backend (detector backend 'auto' falls back to wasm/cpu)"
    exit 0
  fi
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$arg'" "run with --help" ;;
  esac
done

cd "$repo_root"
command -v node >/dev/null || fail "node is not on PATH"

pkg_dir=$(node -p "require('node:path').dirname(require.resolve('@tensorflow/tfjs-node/package.json'))" 2>/dev/null) ||
  fail "@tensorflow/tfjs-node is not installed in $repo_root/node_modules" "run 'npm ci' first"
pkg_version=$(node -p "require('@tensorflow/tfjs-node/package.json').version")

# --- 1. Nothing to do when the binding already works --------------------------
if [[ $force == 0 ]] && probe=$(node "$helpers/probe.cjs" 2>/dev/null); then
  log "tfjs-node $pkg_version already loads, nothing to do: $probe"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) fail "building from the PyPI wheel is only set up for Linux x86_64, not $(uname -s)-$(uname -m)" \
    "on a machine with internet access approve tfjs-node's own install step: npm install-scripts approve @tensorflow/tfjs-node && npm rebuild @tensorflow/tfjs-node" ;;
esac

# --- The build tools, checked before anything is changed ------------------------
nodedir="${WSN_NODEDIR:-$(node -p "require('node:path').resolve(process.execPath, '..', '..')")}"
[[ -f "$nodedir/include/node/node_api.h" ]] ||
  fail "no Node.js headers in $nodedir/include/node (node-gyp cannot download them without internet access)" \
    "point WSN_NODEDIR at a Node.js install prefix that has include/node (official tarballs and distribution packages do)"

for tool in python3 make g++; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH; building the binding needs python3, make and g++" "on Debian: apt-get install -y python3 make g++"
done

# node-gyp ships inside npm; use that copy rather than downloading one.
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
node_gyp="${npm_config_node_gyp:-$npm_dir/node_modules/node-gyp/bin/node-gyp.js}"
[[ -f $node_gyp ]] || fail "node-gyp not found at $node_gyp" "set npm_config_node_gyp to a node-gyp.js"

# Build exactly where tfjs-node's loader (node-pre-gyp's find) will look.
binding_path=$(node -p "require('@mapbox/node-pre-gyp').find(require.resolve('@tensorflow/tfjs-node/package.json'))")
module_dir=$(dirname "$binding_path")
napi_version=${module_dir##*napi-v}
[[ $napi_version =~ ^[0-9]+$ ]] || fail "unexpected binding location $binding_path"

# --- 2. The TensorFlow C library from the tensorflow-cpu wheel ------------------
# The requirements file is the single place that names the version and its hash.
tf_version=$(sed -n 's/^tensorflow-cpu==\([0-9.]*\) .*/\1/p' "$requirements")
tf_hash=$(sed -n 's/.*--hash=sha256:\([0-9a-f]*\).*/\1/p' "$requirements")
[[ -n $tf_version && -n $tf_hash ]] || fail "cannot read version and hash from $requirements"
wheel_dir="$cache_dir/wheels"
lib_cache="$cache_dir/libtensorflow-$tf_version"

find_wheel() {
  local candidate
  for candidate in "$wheel_dir"/tensorflow_cpu-"$tf_version"-*.whl; do
    [[ -f $candidate ]] || continue
    if [[ "$(sha256sum "$candidate" | cut -d' ' -f1)" == "$tf_hash" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if [[ ! -f "$lib_cache/.complete" ]]; then
  command -v python3 >/dev/null || fail "python3 is not on PATH (needed to fetch and unpack the tensorflow-cpu wheel)"
  if ! wheel=$(find_wheel); then
    log "downloading tensorflow-cpu $tf_version (about 230 MB) from PyPI into $wheel_dir"
    mkdir -p "$wheel_dir"
    # The libraries inside do not depend on the Python version: ask for one
    # fixed tag so the same file (and hash) is used whatever python3 is here.
    python3 -m pip download --progress-bar on --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11 \
      --require-hashes -r "$requirements" -d "$wheel_dir" >&2 ||
      fail "pip could not download tensorflow-cpu==$tf_version" "check that PyPI is reachable (pip config list shows the index in use)"
    wheel=$(find_wheel) || fail "the downloaded wheel does not match the sha256 in $requirements"
  else
    log "using cached $(basename "$wheel")"
  fi
  log "unpacking the C library and headers into $lib_cache"
  rm -rf "$lib_cache.tmp"
  python3 "$helpers/extract_libtensorflow.py" "$wheel" "$lib_cache.tmp" || fail "could not unpack $wheel"
  rm -rf "$lib_cache"
  mv "$lib_cache.tmp" "$lib_cache"
  touch "$lib_cache/.complete"
else
  log "using cached libtensorflow $tf_version in $lib_cache"
fi

# The wheel's libtensorflow_cc.so.2 carries the C and eager C APIs that tfjs-node
# calls; make sure before spending time on a build.
if command -v nm >/dev/null; then
  exported=$(nm -D --defined-only "$lib_cache/lib/libtensorflow_cc.so.2")
  for symbol in TF_NewSession TF_Version TFE_NewContext TFE_Execute; do
    grep -q " T ${symbol}@" <<<"$exported" ||
      fail "libtensorflow_cc.so.2 from tensorflow-cpu $tf_version does not export $symbol"
  done
fi

# --- 3. Stage where binding.gyp looks: deps/include and deps/lib ---------------
deps="$pkg_dir/deps"
log "staging libtensorflow $tf_version into ${deps#"$repo_root"/}"
rm -rf "$deps"
mkdir -p "$deps/lib"
cp -R "$lib_cache/include" "$deps/include"
for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
  # A hard link costs no space when the cache is on the same file system.
  ln "$lib_cache/lib/$lib" "$deps/lib/$lib" 2>/dev/null || cp "$lib_cache/lib/$lib" "$deps/lib/$lib"
done
# binding.gyp links -ltensorflow -ltensorflow_framework; the binding then
# records the real sonames (libtensorflow_cc.so.2, libtensorflow_framework.so.2)
# and finds them through its rpath $ORIGIN/../../deps/lib.
ln -s libtensorflow_cc.so.2 "$deps/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$deps/lib/libtensorflow_framework.so"

# --- 4. Build the binding with node-gyp ------------------------------------------
log "building tfjs_binding (N-API $napi_version) with node-gyp $(node "$node_gyp" --version 2>/dev/null | tr -d v) against $nodedir/include/node"
build_log="$cache_dir/tfjs-node-build.log"
mkdir -p "$cache_dir"
if ! (cd "$pkg_dir" && node "$node_gyp" rebuild --jobs 2 --nodedir="$nodedir" \
  --module_name=tfjs_binding --module_path="$module_dir" --napi_build_version="$napi_version") >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  fail "node-gyp could not build the tfjs-node binding (full log: $build_log)" "g++, make and python3 are needed"
fi
[[ -f $binding_path ]] || fail "node-gyp finished but $binding_path was not written (full log: $build_log)"

# --- 5. Check it loads and computes ---------------------------------------------
probe=$(node "$helpers/probe.cjs") || fail "the binding was built but does not load" "run: node $helpers/probe.cjs"
log "done: $probe"
