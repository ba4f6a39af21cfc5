# yidi: `make demo` runs the demonstration county on the embedded SQLite database; `make test` runs every test.
PYTHON := $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test test-sqlite test-postgres lint bench serve clean

$(BIN)/python:
	@test -n "$(PYTHON)" || (echo "No Python >= 3.12 found" >&2; exit 1)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-runtime
	$(PIP) -e '.[dev,redis]'
	@touch $@

demo: $(VENV)/.installed-runtime
	$(BIN)/yidi demo

serve: $(VENV)/.installed-runtime
	$(BIN)/yidi serve

# The whole suite on the database named by DATABASE_URL (SQLite in memory when unset).
test: $(VENV)/.installed-dev
	@scripts/ensure-browser
	YIDI_ALLOW_INSECURE_KEY=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	YIDI_ALLOW_INSECURE_KEY=1 $(BIN)/python manage.py makemigrations --check --dry-run

bench: $(VENV)/.installed-dev
	YIDI_ALLOW_INSECURE_KEY=1 $(BIN)/python bench/__main__.py

clean:
	rm -rf $(VENV) var
