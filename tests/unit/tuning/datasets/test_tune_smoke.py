"""The committed task-adapter configs train for two steps on generated data (tiny decoder).

The real runs (``make pal-adapter``, ``make triples-adapter``) use SmolLM2; here only the
pipeline is checked: generated records load, encode and train with the committed settings,
and the metadata names the data. ``max_length`` is raised because the tiny tokenizer spends
several tokens per word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localchain.tuning import TuneConfig, tune
from localchain.tuning.datasets.pal import generate_problems
from localchain.tuning.datasets.rendering import write_jsonl
from localchain.tuning.datasets.triples import generate_passages

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("task", ["pal", "triples"])
def test_committed_config_trains_two_steps(task, tmp_path, monkeypatch, tiny_decoder_path):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    if task == "pal":
        records = [p.record() for p in generate_problems("train", 2, seed=0)]
    else:
        records = [r for p in generate_passages("train", 1, seed=0) for r in p.records()]
    train = write_jsonl(tmp_path / "train.jsonl", records)
    val = write_jsonl(tmp_path / "val.jsonl", records[:2])
    config = TuneConfig.from_file(
        ROOT / "examples" / task / "tune.json",
        base=str(tiny_decoder_path),
        data=train,
        val_data=val,
        output_dir=tmp_path / "adapter",
        max_steps=2,
        batch_size=2,
        grad_accum=1,
        max_length=8192,
        eval_steps=1000,
        progress=False,
    )
    committed = json.loads((ROOT / "examples" / task / "tune.json").read_text())
    assert committed["name"] == f"{task}-smollm2" and committed["target_modules"] == [
        "q_proj", "k_proj", "v_proj", "o_proj"
    ]  # fmt: skip
    result = tune(config)
    assert result.metadata["steps"] == 2
    assert result.metadata["data"]["train_examples"] == len(records)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    meta = json.loads((tmp_path / "adapter" / "localchain_adapter.json").read_text())
    assert meta["data"]["train_sha256"] and meta["config"]["rank"] == committed["rank"]
