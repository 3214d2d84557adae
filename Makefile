# Two set-up commands: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo runtime test test-fast lint bench schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.runtime

## demo: the main job on a temporary copy of the example repo, served for real by the local runtime (MLServer,
## HAProxy, Prometheus: installed first when missing; without them the demo says what is missing and runs simulated)
demo: $(VENV)/.runtime runtime
	$(BIN)/python scripts/demo.py

## runtime: what the local target's real runtime needs: MLServer in .venv-runtime/ (pinned), and as root on Debian
## haproxy and prometheus
runtime:
	./scripts/install-test-tools.sh --runtime

## test: lint, type-check and the whole test suite (installs promtool/amtool/actionlint when missing)
test: $(VENV)/.dev
	./scripts/install-test-tools.sh
	$(BIN)/ruff check engine tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 3 --dist worksteal -q

## test-fast: the edit-test loop: every test but those marked slow (crash matrix, fuzzing, external tools, a real
## Prometheus), in a few minutes; no linters
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -n 3 --dist worksteal -q -m "not slow"

lint: $(VENV)/.dev
	$(BIN)/ruff check engine tests benchmarks scripts
	$(BIN)/mypy

## bench: the benchmark of BENCHMARKS.md (several minutes; writes BENCHMARKS.md)
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/run.py --models 2000 --envs 3 --repeat 5 --large 10000 --write BENCHMARKS.md

## schemas: regenerate schemas/*.schema.json from the spec models
schemas: $(VENV)/.runtime
	$(BIN)/python -m modelops.config.schemas schemas

clean:
	rm -rf $(VENV) .venv-runtime .venv-mlflow .pytest_cache .mypy_cache .ruff_cache
