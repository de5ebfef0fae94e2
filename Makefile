# neurometarl: `make reproduce` (the main job) and `make test` on a fresh machine.
# torch is pinned to the CPU build: where `pip install torch==2.13.0` does not resolve to a CPU wheel,
# pass TORCH_INDEX="--index-url <PyTorch CPU wheel index>" (see docs/install.md; GPU installs too).
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# other people's datasets (docs/datasets.md): development and CI read them from ../shared/data when it exists
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export NEUROMETARL_DATA ?= $(SHARED_DATA)
endif

.PHONY: install reproduce test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" $(TORCH_INDEX)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

reproduce: install
	$(BIN)/neurometarl reproduce

test: install
	$(BIN)/ruff check neurometarl tests benchmarks analyses notebooks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf $(VENV) results .pytest_cache

# issue 9: tests/test_report.py opens the replication report in headless Chromium (Debian packages);
# installed here when missing (root or sudo), otherwise that check skips and says why.
.PHONY: browser docs
test: browser
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	    { $(SUDO) apt-get update -qq >/dev/null 2>&1 && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; } || \
	    echo "could not install chromium: the report's browser check will skip"; }

docs: install
	$(BIN)/mkdocs build --strict --site-dir site
