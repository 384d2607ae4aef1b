# The two commands of the README: `make serve` and `make test`. Both install everything first
# (lumina-core and every plugin under plugins/, editable) into .venv, once per change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))

.PHONY: install serve dev test bench
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]" $(addprefix -e ./,$(PLUGIN_DIRS))
	touch $@

serve: install
	$(BIN)/lumina serve

dev: install
	$(BIN)/lumina dev

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m ops.bench
