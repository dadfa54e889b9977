# The README's two commands: `make run` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The tests build the documentation site too (tests/test_docs.py), so they get the docs extra.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,docs]"
	touch $(VENV)/.installed $(VENV)/.installed-docs $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[docs]"
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/custseg run --force

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks docs/hooks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2  # two workers (pytest-xdist): the suite takes about half the time

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks docs/hooks
	$(BIN)/ruff format --check src tests benchmarks docs/hooks

# The documentation site, built strictly: a broken link or reference is an error.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "The documentation is in site/: open $(CURDIR)/site/index.html in a browser."

clean:
	rm -rf $(VENV) out site .pytest_cache
