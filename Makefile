# The two commands of the README: `make run` and `make test`. Both install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install catalogs run test bench clean

install: $(STAMP)

# Reinstalls only when the requirements or the project metadata change.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

catalogs: install
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages --statistics 2>&1 | grep -v '^$$' || true

run: install catalogs
	$(BIN)/svar run

# SQLite always; PostgreSQL too when TEST_DATABASE_URL points at one (CI sets it).
test: install catalogs
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the database tests again, on PostgreSQL"; \
		$(BIN)/python -m pytest -q -m "not e2e" tests/service tests/workers; \
	else \
		echo "TEST_DATABASE_URL is not set: the PostgreSQL run is skipped"; \
	fi

# Figures, not tests: minutes each (see BENCHMARKS.md). `--quick` runs them tiny.
BENCHES := inbound send launch reminders pages
bench: install catalogs
	@for name in $(BENCHES); do echo "== bench/$$name.py"; $(BIN)/python bench/$$name.py || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
