"""A GGUF model is converted to safetensors once, under ``LOCALCHAIN_HOME``, and reused.

Runs on a tiny float32 GGUF written from the tiny decoder with the ``gguf`` package.
"""

from __future__ import annotations

import pytest
import torch
import transformers

from localchain.models.loading import clear_model_cache, load_model
from tests.fixtures.tiny_models import build_tiny_gguf

PROMPT = "What is the capital of France?"


@pytest.fixture(scope="module")
def tiny_gguf(tiny_decoder_path, tmp_path_factory):
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", tiny_decoder_path)


@pytest.fixture
def conversions(monkeypatch) -> list[str]:
    """Record each GGUF read by transformers (one per conversion)."""
    calls: list[str] = []
    real = transformers.AutoModelForCausalLM.from_pretrained

    def spy(*args, **kwargs):
        if kwargs.get("gguf_file"):
            calls.append(kwargs["gguf_file"])
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy)
    clear_model_cache()
    yield calls
    clear_model_cache()


def _load(gguf):
    clear_model_cache()  # a new process, as far as the model cache goes
    return load_model(str(gguf), device="cpu")


def _logits(lm) -> torch.Tensor:
    ids = lm.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return lm.model(ids).logits


def test_gguf_is_converted_once_under_localchain_home(
    tiny_gguf, tiny_decoder_path, tmp_path, monkeypatch, capsys, conversions
):
    home = tmp_path / "home"
    monkeypatch.setenv("LOCALCHAIN_HOME", str(home))

    first = _load(tiny_gguf)
    assert conversions == ["tiny.gguf"]
    assert first.model_path.parent == home / "models"  # LOCALCHAIN_HOME moved the cache
    assert first.model_path.name.startswith("tiny-")
    marker = first.model_path / ".complete"
    weights = first.model_path / "model.safetensors"
    assert marker.is_file() and weights.is_file()
    stamps = (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns)
    assert "converting tiny.gguf to safetensors once" in capsys.readouterr().err
    # The copy is faithful: the same logits as the checkpoint the GGUF was written from.
    reference = load_model(str(tiny_decoder_path), device="cpu")
    torch.testing.assert_close(_logits(first), _logits(reference))

    second = _load(tiny_gguf)
    assert conversions == ["tiny.gguf"]  # not converted again
    assert second is not first and second.model_path == first.model_path
    assert (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns) == stamps
    assert "converting" not in capsys.readouterr().err
    torch.testing.assert_close(_logits(second), _logits(first))


def test_another_home_converts_into_itself(tiny_gguf, tmp_path, monkeypatch, conversions):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "a"))
    in_a = _load(tiny_gguf).model_path
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "b"))
    in_b = _load(tiny_gguf).model_path
    assert conversions == ["tiny.gguf", "tiny.gguf"]
    assert in_a.parent == tmp_path / "a" / "models"
    assert in_b.parent == tmp_path / "b" / "models"
    assert in_a.name == in_b.name  # keyed by the file, not by where the cache is


def test_an_unfinished_conversion_is_redone(tiny_gguf, tmp_path, monkeypatch, conversions):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    path = _load(tiny_gguf).model_path
    (path / ".complete").unlink()  # as if the first conversion had been killed half-way
    assert _load(tiny_gguf).model_path == path
    assert conversions == ["tiny.gguf", "tiny.gguf"]
    assert (path / ".complete").is_file()
