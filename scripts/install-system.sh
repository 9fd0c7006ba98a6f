#!/usr/bin/env bash
# Installs the system programs wsn-watch needs besides Node.js, from Debian's
# packages:
#   java (17+) and mvn  the Kafka broker; `services up` resolves its jars with Maven
#   influxd             InfluxDB 1.x            (package influxdb)
#   alertmanager        Prometheus Alertmanager (package prometheus-alertmanager)
#   kcat                an independent Kafka client, used by the integration tests
#   chromium            headless browser for the dashboard tests
#
# Idempotent and quick: a program already on PATH is not installed again, and
# apt is not touched at all when everything is present. `wsn-watch services up`
# runs InfluxDB and Alertmanager itself (loopback, state under var/), so the
# system services the packages install are disabled where systemd runs them.
#
# Usage: bash scripts/install-system.sh     (as root, or as a user with sudo)
set -euo pipefail

log() { printf '[install-system] %s\n' "$*" >&2; }

have() { command -v "$1" >/dev/null 2>&1; }

java_major() {
  # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15 on stderr.
  java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)[."].*/\1/p' | head -n 1
}

packages=()
have java && [[ "$(java_major)" -ge 17 ]] || packages+=(openjdk-17-jre-headless)
have mvn || packages+=(maven)
have influxd || packages+=(influxdb)
have prometheus-alertmanager || have alertmanager || packages+=(prometheus-alertmanager)
have kcat || packages+=(kcat)
have chromium || packages+=(chromium fonts-liberation)

if [[ ${#packages[@]} -eq 0 ]]; then
  log "all present: java $(java_major), mvn, influxd, alertmanager, kcat, chromium"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif have sudo; then
  sudo=(sudo)
else
  log "FAILED: missing ${packages[*]} and not root (no sudo either)"
  log "hint: run this script as root, or install those Debian packages yourself"
  exit 1
fi

if ! have apt-get; then
  log "FAILED: missing ${packages[*]}, and apt-get is not available (this script knows Debian/Ubuntu only)"
  log "hint: install the equivalents with your package manager: Java 17+, Maven, InfluxDB 1.x, Alertmanager, kcat, Chromium"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "installing: ${packages[*]}"
# Another apt run (an engineer or unattended-upgrades) may hold the lock: wait for it rather than fail.
apt_opts=(-q -y --no-install-recommends -o DPkg::Lock::Timeout=600)
"${sudo[@]}" apt-get update -q -o DPkg::Lock::Timeout=600 >&2
"${sudo[@]}" apt-get install "${apt_opts[@]}" "${packages[@]}" >&2

# The Debian packages enable their own system services; ours run from var/ instead and need the ports.
if [[ -d /run/systemd/system ]] && have systemctl; then
  for unit in influxdb prometheus-alertmanager; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit" 2>/dev/null; then
      log "disabling the system $unit service (wsn-watch services runs its own)"
      "${sudo[@]}" systemctl disable --now "$unit" >&2 || log "could not disable $unit: stop it before \`services up\`"
    fi
  done
fi

for program in java mvn influxd kcat chromium; do
  have "$program" || { log "FAILED: $program still missing after apt-get install"; exit 1; }
done
have prometheus-alertmanager || have alertmanager || { log "FAILED: alertmanager still missing after apt-get install"; exit 1; }
log "done"
