# neurometarl: `make reproduce` (the main job) and `make test` on a fresh machine.
# torch is pinned to the CPU build: where `pip install torch==2.13.0` does not resolve to a CPU wheel,
# pass TORCH_INDEX="--index-url <PyTorch CPU wheel index>" (see docs/install.md; GPU installs too).
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

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
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf $(VENV) results .pytest_cache
