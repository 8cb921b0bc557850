"""What the README promises about ChatLocal and LocalLLM, checked on the tiny checkpoints.

Per-call ``adapter=``, "one forward pass per step" in a batch, streaming "with no background
thread", and ``truncation="left"`` dropping the oldest tokens.
"""

from __future__ import annotations

import threading

import pytest
import torch

from localchain.models.adapters import register_adapter
from localchain.models.chat import ChatLocal
from localchain.models.llm import LocalLLM
from localchain.models.loading import clear_model_cache

QUESTION = "What is the capital of France?"
PROMPTS = [QUESTION, "hello world", "Summarize: the cat sat on the mat and slept all day."]
# Distinct tokens all along (numbers in order), so the oldest and newest tokens differ.
LONG_TEXT = " ".join(str(i) for i in range(300))


@pytest.fixture
def fresh_models():
    """Models loaded by this test are not shared with others (adapters attach to them)."""
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture
def sql_adapter(tiny_decoder_path, tmp_path, monkeypatch, fresh_models) -> str:
    """A random (non-zero) LoRA adapter for the tiny decoder, registered as "sql"."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    config.init_lora_weights = False  # random B as well as A, so the outputs change
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_decoder_path), config)
    model.save_pretrained(tmp_path / "sql")
    register_adapter("sql", tmp_path / "sql")
    return "sql"


def _loaded(chat):
    return chat._get_engine().loaded


class _ForwardCounter:
    """Counts the model's forward calls and the batch size of each."""

    def __init__(self, module):
        self.batch_sizes: list[int] = []
        self._handle = module.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        ids = kwargs.get("input_ids")
        if ids is None:
            ids = kwargs.get("decoder_input_ids")
        self.batch_sizes.append(int(ids.shape[0]))

    def remove(self):
        self._handle.remove()


# --- adapters per call ----------------------------------------------------------------------


def test_per_call_adapter_matches_the_adapter_by_default_instance(tiny_decoder_path, sql_adapter):
    base = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=8)
    by_default = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=8, adapter="sql")
    plain = base.invoke(QUESTION).content
    per_call = base.invoke(QUESTION, adapter="sql").content
    assert per_call != plain  # the adapter really changes what the model says
    assert per_call == by_default.invoke(QUESTION).content
    assert base.invoke(QUESTION).content == plain  # the per-call choice does not stick
    # batch and stream take it per call too
    assert [m.content for m in base.batch([QUESTION, QUESTION], adapter="sql")] == [per_call] * 2
    assert "".join(c.content for c in base.stream(QUESTION, adapter="sql")) == per_call


# --- one forward pass per step ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["decoder", "t5"])
def test_batch_is_one_forward_pass_per_step(which, tiny_decoder_path, tiny_t5_path, fresh_models):
    path = tiny_decoder_path if which == "decoder" else tiny_t5_path
    chat = ChatLocal(model=str(path), device="cpu", max_tokens=6)
    counter = _ForwardCounter(_loaded(chat).model)
    try:
        replies = chat.batch(PROMPTS)
    finally:
        counter.remove()
    # A row that stopped on EOS took one more step than its tokens show.
    steps = [
        m.usage_metadata["output_tokens"] + (m.response_metadata["finish_reason"] == "stop")
        for m in replies
    ]
    assert len(counter.batch_sizes) == max(steps)  # one pass per step, for all rows at once
    assert len(counter.batch_sizes) < sum(steps)  # not one pass per row and step
    assert counter.batch_sizes[0] == len(PROMPTS)


# --- streaming without a background thread ------------------------------------------------------


@pytest.mark.parametrize("which", ["chat", "llm"])
def test_stream_runs_in_the_callers_thread(which, tiny_decoder_path):
    cls = ChatLocal if which == "chat" else LocalLLM
    model = cls(model=str(tiny_decoder_path), device="cpu", max_tokens=8)
    model.invoke(QUESTION)  # load before counting
    before = set(threading.enumerate())
    seen_threads: list[set[threading.Thread]] = []
    forward_threads: set[int] = set()
    handle = _loaded(model).model.register_forward_pre_hook(
        lambda *args: forward_threads.add(threading.get_ident())
    )
    try:
        chunks = 0
        for _ in model.stream(QUESTION):
            chunks += 1
            seen_threads.append(set(threading.enumerate()))
    finally:
        handle.remove()
    assert chunks >= 2
    assert all(threads <= before for threads in seen_threads), "a thread was started"
    assert forward_threads == {threading.get_ident()}  # the model ran in this thread


# --- truncation="left" ----------------------------------------------------------------------


def _first_input_ids(module, run):
    seen: list[list[int]] = []

    def record(mod, args, kwargs):
        if not seen and kwargs.get("input_ids") is not None:
            seen.append(kwargs["input_ids"][0].tolist())

    handle = module.register_forward_pre_hook(record, with_kwargs=True)
    try:
        result = run()
    finally:
        handle.remove()
    return result, seen[0]


def test_chat_truncation_left_keeps_the_newest_tokens(tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=4, truncation="left")
    loaded = _loaded(chat)
    prompt = chat._get_engine().format_chat([{"role": "user", "content": LONG_TEXT}])
    full = loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert len(full) > loaded.context_length
    reply, fed = _first_input_ids(loaded.model, lambda: chat.invoke(LONG_TEXT))
    assert fed == full[-len(fed) :]  # the newest tokens, ending with the assistant header
    assert len(fed) < loaded.context_length
    assert reply.usage_metadata["input_tokens"] == len(fed)
    strict = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=4)
    with pytest.raises(Exception, match="context window"):
        strict.invoke(LONG_TEXT)


@pytest.mark.parametrize("which", ["decoder", "t5"])
def test_llm_truncation_left_keeps_the_newest_tokens(which, tiny_decoder_path, tiny_t5_path):
    path = tiny_decoder_path if which == "decoder" else tiny_t5_path
    llm = LocalLLM(model=str(path), device="cpu", max_tokens=4, truncation="left")
    loaded = _loaded(llm)
    full = loaded.tokenizer(LONG_TEXT)["input_ids"]
    assert len(full) > loaded.context_length
    result, fed = _first_input_ids(loaded.model, lambda: llm.generate([LONG_TEXT]))
    assert fed == full[-len(fed) :]
    assert fed != full[: len(fed)]
    assert result.generations[0][0].generation_info["prompt_tokens"] == len(fed)
