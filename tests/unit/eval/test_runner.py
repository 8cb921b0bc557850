import json

import pytest

from localchain.errors import AdapterError, ConfigError
from localchain.eval.runner import evaluate, generate_texts, load_prompt_embeddings
from localchain.models.chat_format import format_chat
from tests.fixtures.tiny_adapters import build_prompt_tuning_adapter


@pytest.fixture(scope="module")
def random_lora(tmp_path_factory, tiny_decoder_path):
    """A LoRA adapter with random (non-zero) weights: it changes outputs without training."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    config = LoraConfig(
        task_type="CAUSAL_LM", r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    path = tmp_path_factory.mktemp("lora") / "eval-lora"
    get_peft_model(model, config).save_pretrained(path)
    return path


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


PROMPTS = ["What is the capital of France?", "hello world", "1 2 3"]


def test_base_scores_perfectly_against_its_own_outputs(tmp_path, tiny_decoder_path):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    prompts = [
        format_chat(loaded.tokenizer, "causal", [{"role": "user", "content": p}]) for p in PROMPTS
    ]
    outputs = generate_texts(loaded, prompts, max_new_tokens=5, batch_size=2)
    assert all(outputs)  # the tiny model says something for each
    data = _jsonl(
        tmp_path / "d.jsonl", [{"prompt": p, "completion": o} for p, o in zip(PROMPTS, outputs)]
    )
    report = evaluate(str(tiny_decoder_path), data, max_new_tokens=5, batch_size=2)
    [base] = report.results
    assert base.label == "base" and base.predictions == outputs
    assert base.metrics["exact_match"] == 1.0
    assert base.metrics["rouge1"] == pytest.approx(1.0)
    assert base.metrics["bleu"] == pytest.approx(100.0)


def test_adapter_side_by_side_table_and_json(tmp_path, tiny_decoder_path, random_lora):
    rows = [{"prompt": p, "completion": "Paris"} for p in PROMPTS]
    rows.append(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}
    )
    data = _jsonl(tmp_path / "d.jsonl", rows)
    report = evaluate(str(tiny_decoder_path), data, adapter=random_lora, max_new_tokens=5)
    base, tuned = report.results
    assert tuned.label == "base+eval-lora" and tuned.adapter == "eval-lora"
    assert base.predictions != tuned.predictions
    assert report.n_examples == 4 and report.max_new_tokens == 5
    table = report.table()
    lines = table.splitlines()
    assert lines[0].split() == ["MODEL", "exact_match", "rouge1", "rouge2", "rougeL", "bleu"]
    assert lines[1].startswith("base ") and lines[2].startswith("base+eval-lora")
    assert lines[3].startswith("gain")
    out = report.write_json(tmp_path / "out" / "eval.json")
    saved = json.loads(out.read_text())
    assert set(saved["metrics"]) == {"base", "base+eval-lora"}
    assert saved["examples"][0]["reference"] == "Paris"
    assert saved["examples"][0]["base+eval-lora"] == tuned.predictions[0]


def test_limit_and_adapter_only(tmp_path, tiny_decoder_path, random_lora):
    data = _jsonl(tmp_path / "d.jsonl", [{"prompt": p, "completion": "x"} for p in PROMPTS])
    report = evaluate(
        str(tiny_decoder_path),
        data,
        adapter=random_lora,
        include_base=False,
        limit=2,
        max_new_tokens=3,
    )
    assert [r.label for r in report.results] == ["base+eval-lora"] and report.n_examples == 2


def test_errors(tmp_path, tiny_decoder_path):
    data = _jsonl(tmp_path / "d.jsonl", [{"prompt": "a", "completion": "b"}])
    with pytest.raises(AdapterError, match="No adapter"):
        evaluate(str(tiny_decoder_path), data, adapter="no-such-adapter")
    with pytest.raises(ConfigError, match="Nothing to evaluate"):
        evaluate(str(tiny_decoder_path), data, include_base=False)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": 1}\n')
    with pytest.raises(ConfigError, match="line 2"):
        evaluate(str(tiny_decoder_path), bad)


def test_one_call_scores_base_and_adapter_and_leaves_the_model_as_found(
    tmp_path, tiny_decoder_path, random_lora
):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    data = _jsonl(tmp_path / "d.jsonl", [{"prompt": p, "completion": "x"} for p in PROMPTS])
    report = evaluate(loaded, data, adapter=random_lora, max_new_tokens=4, data_label="held-out")
    assert [r.label for r in report.results] == ["base", "base+eval-lora"]
    assert report.data == "held-out" and "held-out" in report.table()
    assert loaded.adapters.names() == []  # attached for scoring, detached after
    base_only = evaluate(loaded, data, max_new_tokens=4)
    assert base_only.results[0].predictions == report.results[0].predictions


@pytest.fixture(scope="module", params=["causal", "seq2seq"])
def prompt_tuned(request, tmp_path_factory, tiny_decoder_path, tiny_t5_path):
    kind = request.param
    base = tiny_decoder_path if kind == "causal" else tiny_t5_path
    directory = tmp_path_factory.mktemp("pt") / f"pt-{kind}"
    return base, build_prompt_tuning_adapter(base, directory, kind=kind)


def test_prompt_tuning_adapter_goes_through_the_decode_loop(tmp_path, prompt_tuned):
    from localchain.models.loading import load_model

    base, adapter = prompt_tuned
    loaded = load_model(str(base), device="cpu")
    data = _jsonl(tmp_path / "d.jsonl", [{"prompt": p, "completion": "x"} for p in PROMPTS])
    report = evaluate(loaded, data, adapter=adapter, max_new_tokens=6, batch_size=2)
    plain, tuned = report.results
    assert tuned.label == f"base+{adapter.name}"
    assert plain.predictions != tuned.predictions
    prefix = load_prompt_embeddings(adapter, loaded)
    assert tuple(prefix.shape) == (4, 32)  # seq2seq saves 8 rows; generation uses the first 4
    expected = generate_texts(loaded, report.prompts, prefix=prefix, max_new_tokens=6)
    assert tuned.predictions == expected


def test_prompt_tuning_files_are_checked(tmp_path, tiny_decoder_path, prompt_tuned):
    import shutil

    import torch
    from safetensors.torch import save_file

    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    bad = tmp_path / "bad"
    shutil.copytree(prompt_tuned[1], bad)
    save_file({"prompt_embeddings": torch.zeros(4, 16)}, bad / "adapter_model.safetensors")
    with pytest.raises(AdapterError, match="another base model"):
        load_prompt_embeddings(bad, loaded)
    save_file({"other": torch.zeros(4, 32)}, bad / "adapter_model.safetensors")
    with pytest.raises(AdapterError, match="no 'prompt_embeddings'"):
        load_prompt_embeddings(bad, loaded)
    (bad / "adapter_model.safetensors").unlink()
    with pytest.raises(AdapterError, match="save it again"):
        load_prompt_embeddings(bad, loaded)
    config = json.loads((bad / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**config, "peft_type": "IA3"}))
    data = _jsonl(tmp_path / "d.jsonl", [{"prompt": "a", "completion": "b"}])
    with pytest.raises(AdapterError, match="IA3 adapter"):
        evaluate(loaded, data, adapter=bad)
