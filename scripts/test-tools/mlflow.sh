#!/usr/bin/env bash
# Installs .venv-mlflow/: an MLflow tracking server (and scikit-learn) with exactly the versions of
# scripts/test-tools/mlflow-requirements.txt, from PyPI, for the Model Registry tests. A marker names the
# requirements it was made from: a changed file makes a new one; a failed install leaves no marker, so the next run
# tries again. Idempotent and quiet when it is present; the tests that need it skip with a reason when it is not.
set -u
cd "$(dirname "$0")/../.." || exit 1
venv=.venv-mlflow
requirements=scripts/test-tools/mlflow-requirements.txt
cmp -s "$requirements" "$venv/.installed" 2>/dev/null && exit 0
if ! command -v python3 >/dev/null 2>&1; then
  echo "note: python3 missing; MLflow (.venv-mlflow/) not installed; the Model Registry tests will be skipped"
  exit 0
fi
echo "installing MLflow into $venv/ ($requirements, pinned; about a minute, ~900 MB)"
rm -rf "$venv"
if python3 -m venv "$venv" \
   && "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" >"$venv/install.log" 2>&1; then
  cp "$requirements" "$venv/.installed"
else
  echo "warning: could not install MLflow into $venv/ (see $venv/install.log); the Model Registry tests will be skipped"
fi
exit 0
