# The two promises of the README: `make run` and `make test`, on a machine with only Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when the dependency list changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cksum pyproject.toml | cut -d' ' -f1)
BENCH_STAMP := $(VENV)/.installed-bench-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The openai Node SDK for contract_tests/node, pinned by its package-lock.json.
NODE_DIR := contract_tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed-$(shell cksum $(NODE_DIR)/package-lock.json | cut -d' ' -f1)

.PHONY: run test lint format install install-test clean recordings bench matrix contract-live drift example

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[mock]'
	@rm -f $(VENV)/.installed-[0-9]* && touch $(STAMP)

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[mock,test,frameworks,postgres]'
# instructor (contract_tests/frameworks/test_instructor.py) without its jiter<0.15 pin, which openai 3.x
# cannot share; its other dependencies are in the frameworks extra, and jiter 0.19 serves it well.
	$(BIN)/python -m pip install --quiet --no-deps 'instructor>=1.17'
	@rm -f $(VENV)/.installed-test-* && touch $(TEST_STAMP) && touch $(STAMP)

install: $(STAMP)
install-test: $(TEST_STAMP) $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	@rm -f $(NODE_DIR)/node_modules/.installed-* && touch $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run_servers.py

test: $(TEST_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(BIN)/python scripts/example_journey.py

# The example project's CI journey (examples/support-bot): this repository installed non-editably into a
# venv of the example's own (.venv-example), then the example's workflow's test command, offline.
example: $(TEST_STAMP)
	$(BIN)/python scripts/example_journey.py

# Benchmarks (never part of `make test`): installs the bench extra and, into bench/.venv-litellm, LiteLLM.
$(BENCH_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[mock,test,bench]'
	@rm -f $(VENV)/.installed-bench-* && touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

recordings: $(TEST_STAMP)
	$(BIN)/python scripts/make_recordings.py

# contract_tests/MATRIX.md: every contract test on every target (live columns skip without MISTRAL_API_KEY).
matrix: $(TEST_STAMP)
	$(BIN)/python -m pytest contract_tests --target all --matrix-file=contract_tests/MATRIX.md --matrix-readme=README.md -q

# The same contract tests against api.mistral.ai, through the shim and direct.
contract-live: $(TEST_STAMP)
	@test -n "$$MISTRAL_API_KEY" || { echo "make contract-live needs MISTRAL_API_KEY in the environment" >&2; exit 2; }
	$(BIN)/python -m pytest contract_tests --target live,live-direct -q

# The contract against the NEWEST mistralai release (make test pins the one it was last checked against):
# a throwaway venv with the newest SDK prints what Mistral added or changed, and fails when anything did.
drift: $(BIN)/python
	rm -rf .venv-drift
	$(PYTHON) -m venv .venv-drift
	.venv-drift/bin/python -m pip install --quiet --upgrade pip
	.venv-drift/bin/python -m pip install --quiet '.[mock]' pydantic
	.venv-drift/bin/python -m pip install --quiet --upgrade mistralai
	.venv-drift/bin/python -m testkit.drift

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .venv-drift .venv-example .pytest_cache .ruff_cache
