# qabot: `make run` sets everything up and starts the bot (or a terminal chat); `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install index lint bench bench-smoke bench-million soak train model-report clean

run: $(STAMP)
	$(BIN)/qabot run

test: $(STAMP)
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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
	$(BIN)/python -m bench

bench-million: $(VENV)/.installed-bench
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
	rm -rf $(VENV) data/index.sqlite data/index.json .pytest_cache .ruff_cache .cache
