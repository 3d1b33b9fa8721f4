# Two commands for a fresh machine: `make run` (set up and launch the app) and `make test`
# (set up and run the whole test suite). Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup bench clean

$(BIN)/rnn-tui: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

setup: $(BIN)/rnn-tui

run: setup
	$(BIN)/rnn-tui $(ARGS)

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/rnn-tui bench speed

clean:
	rm -rf $(VENV) runs .pytest_cache
