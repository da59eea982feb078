# Switchboard: `make run` starts everything on this machine, `make test` runs the whole suite.
# Needs only Python 3.11+: the first run creates a virtualenv with uv and installs the locked packages.

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Bytecode is cached in the project's own .venv and source tree (both git-ignored). Some environments set
# this variable; with it, each of `make run`'s processes (and every test's servers) compiles every module it
# imports again at each start, which made a cold start several times slower.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run test lint format bench fuzz client schema clean browser

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Re-installs only when the lock file or a package definition changed.
$(STAMP): $(UV) uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(VENV)/bin/python -m switchboard_devstack run

# Style, then the import contracts (pyproject.toml [tool.importlinter]): no service imports another,
# switchboard_common imports no service, and its infrastructure imports no domain module. Then the types:
# mypy --strict over every package of libs/ and services/ ([tool.mypy]).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The browser tests drive Debian's chromium: installed here when missing and allowed (root with apt-get);
# otherwise they skip and say why. The tests themselves never change the host.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the browser tests (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	    echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium (needs root and apt-get to install): the browser tests will be skipped"; fi; }

# The whole suite in pytest-xdist workers (TEST_JOBS, one per core here), each taking whole modules (--dist
# loadfile), so a module's live system starts once; every live system has its own database, topics and Redis
# keys. Pass pytest options through PYTEST_ARGS, e.g. `make test PYTEST_ARGS="-k slack -x --junitxml=report.xml"`.
TEST_JOBS ?= 2
test: $(STAMP) lint browser
	$(VENV)/bin/python -m pytest -n $(TEST_JOBS) --dist loadfile -p no:cacheprovider -q --tb=short $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/python -m bench

# Long stateful fuzzing of every service's API (200 examples per operation; FUZZ_EXAMPLES, FUZZ_SEED override);
# writes docs/fuzz-results.md. `make test` runs a short pass (tests/api/test_fuzz.py).
fuzz: $(STAMP)
	$(VENV)/bin/python -m tests.helpers.fuzzing

# The Python client generated from the gateway's /openapi.json (clients/openapi.json, clients/python/).
client: $(STAMP)
	$(VENV)/bin/python clients/generate_python.py

schema: $(STAMP)
	$(VENV)/bin/python -m switchboard_common.domain.events > docs/events.schema.json

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
