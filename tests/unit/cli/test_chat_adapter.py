"""``localchain tune`` then ``localchain chat --adapter NAME``: the README's tune-and-serve loop.

Runs in-process on the tiny decoder, in a temporary ``LOCALCHAIN_HOME``.
"""

from __future__ import annotations

import io
import json

import pytest

from localchain.cli import main
from localchain.models.adapters import list_adapters
from localchain.models.chat import ChatLocal
from localchain.models.loading import clear_model_cache

QUESTION = "hello world"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    clear_model_cache()  # the adapter attaches to the loaded model: keep it to this test
    yield tmp_path / "home"
    clear_model_cache()


def _tune(tmp_path, base, name: str) -> None:
    rows = [{"prompt": QUESTION, "completion": "how are you today"}] * 8
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    flags = (
        f"--method lora --name {name} --max-steps 12 --lr 5e-2 --rank 4 --alpha 16 --dropout 0 "
        "--target-modules q_proj,v_proj,o_proj --batch-size 4 --val-split 0.25 --seed 1 "
        "--template plain --no-eval"
    )
    assert main(["tune", "--base", str(base), "--data", str(data), *flags.split()]) == 0


def _chat_cli(monkeypatch, capsys, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(QUESTION + "\n"))
    code = main(["chat", *args, "--max-new-tokens", "8", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_chat_serves_a_freshly_tuned_adapter(
    tiny_decoder_path, tmp_path, home, monkeypatch, capsys
):
    _tune(tmp_path, tiny_decoder_path, "fresh")
    capsys.readouterr()
    assert list_adapters() == {"fresh": home / "adapters" / "fresh"}

    out = _chat_cli(monkeypatch, capsys, "--model", str(tiny_decoder_path), "--adapter", "fresh")

    api = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=8, adapter="fresh")
    adapted = api.invoke(QUESTION).content
    base = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=8)
    assert adapted != base.invoke(QUESTION).content  # the tune changed what the model says
    assert out == adapted + "\n"  # the CLI serves exactly the adapter's reply
    no_adapter = _chat_cli(monkeypatch, capsys, "--model", str(tiny_decoder_path))
    assert no_adapter == base.invoke(QUESTION).content + "\n"
