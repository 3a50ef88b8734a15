# qabot: `make run` sets everything up and starts the bot (or a terminal chat); `make test` runs the tests.
# `make install`: a production install of its own (README, "Running it for real").
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROD_VENV ?= .venv-prod
# the project's own bytecode, written ahead (an editable install has none, and
# PYTHONDONTWRITEBYTECODE keeps Python from caching it): a one-off `qabot ask` skips compiling
BYTECODE := $(BIN)/python -m compileall -q bot index

.PHONY: run test test-slow install index lint bench bench-smoke bench-million soak train model-report clean

run: $(STAMP)
	@$(BYTECODE)
	$(BIN)/qabot run

test: $(STAMP)
	$(BIN)/python -m pytest

# The tests marked slow (a clean virtualenv installed from PyPI, as the README's deployment steps; a
# rebuild killed at every moment; the reduced soak)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Production: `pip install .` (not editable, no dev extra) into $(PROD_VENV); run it again after an
# update. Then: $(PROD_VENV)/bin/qabot index build && $(PROD_VENV)/bin/qabot serve
install:
	test -x $(PROD_VENV)/bin/python || $(PYTHON) -m venv $(PROD_VENV)
	$(PROD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PROD_VENV)/bin/python -m pip install --quiet --upgrade .
	@echo "installed $(PROD_VENV)/bin/qabot"

# the development virtualenv (editable, with the dev extra): run, test, lint, bench
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BYTECODE)
	touch $(STAMP)

index: $(STAMP)
	$(BIN)/qabot index build

# The answer model: fit on the train split, calibrate on dev, write bot/qa/weights.json
train: $(STAMP)
	$(BIN)/python -m bot.qa.train

# docs/ANSWER-MODEL.md: the learned weights, every split's evaluation, the reliability diagram
model-report: $(VENV)/.installed-bench
	$(BIN)/python -m bench.answer_model

# Benchmarks (docs/PERFORMANCE.md): rank-bm25, bm25s and qabot side by side, cold start.
bench: $(VENV)/.installed-bench
	@$(BYTECODE)
	$(BIN)/python -m bench

bench-million: $(VENV)/.installed-bench
	@$(BYTECODE)
	$(BIN)/python -m bench.million

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

# Soak (docs/RELIABILITY.md): 5,000 messages from 200 chats through the fake Bot API.
soak: $(STAMP)
	$(BIN)/python -m bench.soak --messages 5000 --chats 200

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check bot index tests bench
	$(BIN)/ruff format --check bot index tests bench

clean:
	rm -rf $(VENV) build data/index.sqlite data/index.json .pytest_cache .ruff_cache .cache
