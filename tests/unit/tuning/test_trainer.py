"""Tune the tiny decoder and the tiny T5 for a few steps with each CPU method.

The runs are shared per module (each takes a few seconds); every run trains on a handful of
repeated examples in one full batch, so the logged loss is comparable from step to step.
"""

import json

import pytest

from localchain.errors import ConfigError, UnsupportedOnDeviceError
from localchain.tuning import tune
from localchain.tuning.trainer import METADATA_FILE, default_target_modules

PAIRS = [("What is the capital of France?", "Paris"), ("hello world", "how are you today")]


def _jsonl(path, pairs, repeat=4):
    rows = [json.dumps({"prompt": p, "completion": c}) for p, c in pairs * repeat]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALCHAIN_HOME", str(root))
        yield root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return _jsonl(root / "train.jsonl", PAIRS), _jsonl(root / "val.jsonl", PAIRS, repeat=1)


def _run(base, train, **overrides):
    settings = dict(
        base=str(base),
        data=train,
        batch_size=8,
        val_split=0.0,
        dropout=0.0,
        progress=False,
        seed=0,
        eval_steps=1000,  # no checkpoint writes in short runs unless a test asks
        eval_max_new_tokens=4,
    )
    return tune(**{**settings, **overrides})


@pytest.fixture(scope="module")
def decoder_lora(home, data, tiny_decoder_path):
    train, val = data
    return _run(
        tiny_decoder_path,
        train,
        name="dec-lora",
        val_data=val,
        max_steps=12,
        learning_rate=1e-2,
        eval_steps=4,
        early_stopping_patience=None,
        keep_checkpoints=True,
    )


@pytest.fixture(scope="module")
def decoder_prompt(home, data, tiny_decoder_path):
    return _run(
        tiny_decoder_path,
        data[0],
        name="dec-prompt",
        method="prompt-tuning",
        num_virtual_tokens=4,
        max_steps=12,
        learning_rate=0.1,
    )


@pytest.fixture(scope="module")
def t5_lora(home, data, tiny_t5_path):
    return _run(tiny_t5_path, data[0], name="t5-lora", max_steps=15, learning_rate=0.2)


@pytest.fixture(scope="module")
def t5_prompt(home, data, tiny_t5_path):
    return _run(
        tiny_t5_path,
        data[0],
        name="t5-prompt",
        method="prompt-tuning",
        num_virtual_tokens=4,
        max_steps=4,
        learning_rate=0.3,
    )


def _falls(result):
    first, last = result.train_losses[0][1], result.train_losses[-1][1]
    assert last < first * 0.9, result.train_losses


def test_decoder_lora_loss_falls_and_writes_everything(decoder_lora, home):
    _falls(decoder_lora)
    out = decoder_lora.adapter_dir
    assert out == home / "adapters" / "dec-lora"
    for name in ("adapter_config.json", "adapter_model.safetensors", METADATA_FILE, "loss.png"):
        assert (out / name).is_file(), name
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / METADATA_FILE).read_text())
    assert meta["method"] == "lora" and meta["kind"] == "causal" and meta["steps"] == 12
    assert len(meta["data"]["train_sha256"]) == 64 and meta["data"]["val_examples"] == 2
    assert 0 < meta["parameters"]["trainable"] < meta["parameters"]["total"]
    assert meta["training_time_s"] > 0 and meta["config"]["rank"] == 8
    assert meta["metrics"]["best_val_loss"] is not None
    assert decoder_lora.val_losses  # validation loss was logged
    assert set(meta["metrics"]["eval"]) == {"base", "base+dec-lora"}


def test_decoder_lora_is_registered_and_served(decoder_lora, tiny_decoder_path):
    from localchain.models.adapters import find_adapter
    from localchain.models.chat import ChatLocal

    assert decoder_lora.registered
    assert find_adapter("dec-lora") == decoder_lora.adapter_dir
    base = ChatLocal(model=str(tiny_decoder_path), max_new_tokens=6)
    tuned = ChatLocal(model=str(tiny_decoder_path), adapter="dec-lora", max_new_tokens=6)
    question = "What is the capital of France?"
    assert tuned.invoke(question).content != base.invoke(question).content


def test_decoder_lora_before_after_report(decoder_lora):
    report = decoder_lora.report
    assert [r.label for r in report.results] == ["base", "base+dec-lora"]
    assert report.n_examples == 2
    assert "gain" in report.table()
    saved = json.loads((decoder_lora.adapter_dir / "eval.json").read_text())
    assert saved["metrics"]["base+dec-lora"] == report.results[1].metrics


def test_adapter_loads_onto_a_fresh_model_and_changes_outputs(decoder_lora, tiny_decoder_path):
    from localchain.models.generation import GenerationConfig, generate
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu", dtype="float32")
    loaded.adapters.add("dec-lora-copy", decoder_lora.adapter_dir)
    config = GenerationConfig(max_new_tokens=6)
    prompts = ["hello world"] * 2
    base, tuned = generate(loaded, prompts, config, adapters=[None, "dec-lora-copy"])
    assert base.token_ids != tuned.token_ids
    loaded.adapters.remove("dec-lora-copy")


def test_resume_continues_from_the_last_checkpoint(decoder_lora, data, tiny_decoder_path):
    train, val = data
    resumed = _run(
        tiny_decoder_path,
        train,
        name="dec-lora",
        val_data=val,
        max_steps=14,
        learning_rate=1e-2,
        eval_steps=4,
        early_stopping_patience=None,
        resume=True,
        evaluate=False,
    )
    assert resumed.metadata["steps"] == 14
    # Steps 1-12 come back from the checkpoint's history; only 13 and 14 were trained now.
    before = dict(decoder_lora.train_losses)
    assert {s: v for s, v in resumed.train_losses if s <= 12} == before
    assert [s for s, _ in resumed.train_losses if s > 12] == [13, 14]
    assert not (resumed.adapter_dir / "checkpoints").exists()


def test_existing_adapter_needs_overwrite(decoder_lora, data, tiny_decoder_path):
    with pytest.raises(ConfigError, match="--overwrite"):
        _run(tiny_decoder_path, data[0], name="dec-lora", max_steps=1)


def test_resume_without_checkpoint_is_refused(home, data, tiny_decoder_path):
    with pytest.raises(ConfigError, match="no checkpoint"):
        _run(tiny_decoder_path, data[0], name="never-ran", max_steps=1, resume=True)


def test_decoder_prompt_tuning_loss_falls(decoder_prompt):
    _falls(decoder_prompt)
    config = json.loads((decoder_prompt.adapter_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "PROMPT_TUNING" and config["num_virtual_tokens"] == 4
    assert not decoder_prompt.registered  # the adapter manager serves LoRA only


def test_prompt_tuning_adapter_is_scored_through_the_decode_loop(
    decoder_prompt, data, tiny_decoder_path
):
    from localchain.eval.runner import evaluate

    report = evaluate(str(tiny_decoder_path), data[1], adapter="dec-prompt", max_new_tokens=6)
    base, tuned = report.results
    assert tuned.label == "base+dec-prompt"
    assert base.predictions != tuned.predictions


def test_t5_lora_loss_falls_and_changes_outputs(t5_lora, data, tiny_t5_path):
    from localchain.eval.runner import evaluate

    _falls(t5_lora)
    meta = json.loads((t5_lora.adapter_dir / METADATA_FILE).read_text())
    assert meta["kind"] == "seq2seq"
    config = json.loads((t5_lora.adapter_dir / "adapter_config.json").read_text())
    assert sorted(config["target_modules"]) == ["q", "v"]
    report = evaluate(str(tiny_t5_path), data[1], adapter="t5-lora", max_new_tokens=6)
    assert report.results[0].predictions != report.results[1].predictions


def test_t5_prompt_tuning_trains_and_is_scored(t5_prompt, data, tiny_t5_path):
    from localchain.eval.runner import evaluate

    assert len(t5_prompt.train_losses) == 4
    assert all(loss == loss for _, loss in t5_prompt.train_losses)  # no NaN
    report = evaluate(str(tiny_t5_path), data[1], adapter=t5_prompt.adapter_dir, max_new_tokens=6)
    assert report.results[1].label == "base+t5-prompt"


def test_qlora_on_cpu_fails_before_any_work(home, tmp_path):
    with pytest.raises(UnsupportedOnDeviceError, match="CUDA"):
        # The data file does not exist: the device check comes first.
        tune(base="nowhere", data=tmp_path / "missing.jsonl", method="qlora", device="cpu")


def test_fp16_on_cpu_is_refused(home, tmp_path):
    with pytest.raises(UnsupportedOnDeviceError, match="fp16"):
        tune(base="nowhere", data=tmp_path / "missing.jsonl", precision="fp16", device="cpu")


def test_default_and_explicit_target_modules(home, data, tiny_decoder_path, tiny_t5_path):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    llama = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    assert default_target_modules(llama) == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert "down_proj" in default_target_modules(llama, mlp=True)
    t5 = AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_path)
    assert default_target_modules(t5) == ["q", "v"]
    with pytest.raises(ConfigError, match="not linear layers"):
        _run(tiny_decoder_path, data[0], name="bad", target_modules=["qq_proj"], max_steps=1)


def test_over_long_record_is_refused_with_its_line(home, tmp_path, tiny_decoder_path):
    from localchain.errors import ContextLengthError

    path = tmp_path / "long.jsonl"
    rows = [
        {"prompt": "hi", "completion": "ok"},
        {"prompt": "hello world " * 80, "completion": "x"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(ContextLengthError, match="line 2"):
        _run(tiny_decoder_path, path, name="long", max_steps=1)
