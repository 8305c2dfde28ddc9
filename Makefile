# One-stop set-up: `make demo` and `make test` create .venv, install everything and run.
# CUDA users: make TORCH_SPEC="torch>=2.3" TORCH_INDEX="--index-url https://download.pytorch.org/whl/cu121" ...
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PYTEST_ARGS ?=
# every benchmark in smoke mode by default; `make bench BENCH_ARGS=` runs the full ones (hours)
BENCH_ARGS ?= --quick
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

$(STAMP): setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet setuptools wheel
	$(BIN)/python -m pip install $(TORCH_INDEX) "$(TORCH_SPEC)"
	# torch-scatter has no wheels on PyPI: it compiles against the torch installed above.
	$(BIN)/python -m pip install --no-build-isolation "torch-scatter>=2.1"
	$(BIN)/python -m pip install -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/digits_demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	set -e; for script in bench/bench_*.py; do echo "== $$script"; \
		$(BIN)/python $$script $(BENCH_ARGS); done

clean:
	rm -rf $(VENV) build *.egg-info
