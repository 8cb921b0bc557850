"""``localchain tune`` and ``localchain eval`` run in-process on the tiny decoder."""

import json

from localchain.cli import main


def _data(tmp_path):
    rows = [{"prompt": "hello world", "completion": "how are you today"}] * 6
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_tune_then_eval(tmp_path, monkeypatch, capsys, tiny_decoder_path):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    data = _data(tmp_path)
    flags = (
        "--method lora --name cli-lora --max-steps 3 --lr 1e-2 --rank 4 --alpha 8 --dropout 0 "
        "--target-modules q_proj,v_proj --batch-size 2 --grad-accum 2 --val-split 0.34 "
        "--seed 1 --template plain --no-eval"
    )
    code = main(["tune", "--base", str(tiny_decoder_path), "--data", str(data), *flags.split()])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Trainable parameters" in captured.err
    assert "adapter cli-lora saved to" in captured.out
    adapter_dir = tmp_path / "home" / "adapters" / "cli-lora"
    meta = json.loads((adapter_dir / "localchain_adapter.json").read_text())
    assert meta["config"]["rank"] == 4 and meta["config"]["target_modules"] == ["q_proj", "v_proj"]
    assert meta["config"]["grad_accum"] == 2 and meta["data"]["val_examples"] == 2

    out = tmp_path / "eval.json"
    flags = f"--adapter cli-lora --max-new-tokens 4 --output {out}"
    code = main(["eval", "--base", str(tiny_decoder_path), "--data", str(data), *flags.split()])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "base+cli-lora" in captured.out and "exact_match" in captured.out
    assert set(json.loads(out.read_text())["metrics"]) == {"base", "base+cli-lora"}


def test_tune_no_eval_and_bad_data(tmp_path, monkeypatch, capsys, tiny_decoder_path):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    data = _data(tmp_path)
    args = ["tune", "--base", str(tiny_decoder_path), "--data", str(data), "--max-steps", "1"]
    assert main([*args, "--no-eval", "--name", "quiet"]) == 0
    assert "Scoring" not in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a"}\n')
    assert main(["tune", "--base", str(tiny_decoder_path), "--data", str(bad)]) == 1
    assert "line 2" in capsys.readouterr().err


def test_qlora_on_cpu_is_a_clear_error(tmp_path, monkeypatch, capsys, tiny_decoder_path):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    data = _data(tmp_path)
    flags = ["--method", "qlora", "--device", "cpu"]
    assert main(["tune", "--base", str(tiny_decoder_path), "--data", str(data), *flags]) == 1
    assert "QLoRA" in capsys.readouterr().err


def test_unknown_base_leaves_no_adapter_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n')
    out = tmp_path / "adapter"
    code = main(["tune", "--base", "nope", "--data", str(data), "--val-split", "0"]
                + ["--output", str(out)])  # fmt: skip
    assert code != 0
    assert "Unknown model 'nope'" in capsys.readouterr().err
    assert not out.exists()
