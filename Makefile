# chatsync: everything a fresh clone needs, with only Python and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every install is pinned, with hashes: what CI installs today it installs next year too.
# `make lock` refreshes the pins on purpose (commit the result as its own change).
LOCK   := requirements/dev.txt
UV     := uv==0.13.9

.PHONY: demo test lint typecheck unit bench clean lock schema docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy, strict for chatsync/ and tests/ ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

# The suite on every core (pytest-xdist): a single test runs as usual with .venv/bin/python -m pytest.
unit: $(STAMP)
	$(BIN)/python -m pytest -n auto

test: lint typecheck unit

# Regenerate the JSON Schema from the field table (chatsync/facts/fields.py), and the copy the GitOps
# examples keep beside their configs (a config repository made from one keeps its own); commit them.
schema: $(STAMP)
	$(BIN)/python -m chatsync.config.schema_build
	$(BIN)/chatsync schema --out examples/gitops/chatsync.schema.json
	$(BIN)/chatsync schema --out examples/quickstart/chatsync.schema.json

# The documentation site, into build/docs: first the tables that come from the code are written into
# the pages (scripts/gen_docs.py), then Sphinx builds with every warning an error (-W: a broken link,
# a page missing from the navigation, a docstring autodoc cannot read). Needs Python 3.11+.
docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py
	$(BIN)/sphinx-build -q -W --keep-going -b html docs build/docs

demo: $(STAMP)
	BIN=$(BIN) bash scripts/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Refresh the pins: runtime.txt is what a user's install needs, with the build backend (the
# action and the component install it from their checkout), dev.txt adds the tests, the linters
# and the docs site's generator.
# Universal: one file for Python 3.10+.
lock:
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/python -m pip install --quiet '$(UV)'
	cd requirements && ../.venv-lock/bin/uv pip compile ../pyproject.toml build.in --universal \
	    --python-version 3.10 --generate-hashes --no-header -o runtime.txt
	cd requirements && ../.venv-lock/bin/uv pip compile ../pyproject.toml build.in --extra test --extra docs \
	    --universal --python-version 3.10 --generate-hashes --no-header -o dev.txt

clean:
	rm -rf $(VENV) .venv-lock build *.egg-info .pytest_cache .ruff_cache
