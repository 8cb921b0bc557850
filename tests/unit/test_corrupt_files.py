"""Every file localchain reads, truncated or garbled, gives a LocalchainError naming the file.

Each case copies a good file set into a temporary directory, damages one file and reads it
back through the public API. The error must be one of ours (never a raw ``struct.error``,
``SafetensorError`` or ``JSONDecodeError``) and its message must name the damaged file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from localchain.errors import LocalchainError


def truncate(path: Path) -> None:
    """Keep the first half of the file (at least one byte short of the whole)."""
    data = path.read_bytes()
    path.write_bytes(data[: min(len(data) - 1, len(data) // 2)])


def truncate_to_a_few_bytes(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:7])


def garble(path: Path) -> None:
    """Flip bits in every 7th byte from the start (headers included)."""
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), 7):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def garble_middle(path: Path) -> None:
    """Overwrite the middle third with bytes that are not valid UTF-8."""
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third : 2 * third] = bytes([0xFF, 0xFE, 0x80]) * (third // 3) + b"\xff" * (third % 3)
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated": truncate,
    "truncated_to_7_bytes": truncate_to_a_few_bytes,
    "garbled": garble,
    "garbled_middle": garble_middle,
}


def _expect_named_error(read: Callable[[], object], damaged: Path) -> LocalchainError:
    with pytest.raises(LocalchainError) as info:
        read()
    message = str(info.value)
    assert damaged.name in message, f"{damaged.name} not named in: {message}"
    return info.value


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def _forget_models():
    from localchain.models.loading import clear_model_cache

    clear_model_cache()
    yield
    clear_model_cache()


# --- checkpoints: config, weights, tokenizer, GGUF ----------------------------------------


CHECKPOINT_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_damaged_checkpoint_file(tiny_decoder_path, tmp_path, name, damage):
    from localchain.models.loading import load_model

    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_decoder_path, folder)
    DAMAGE[damage](folder / name)
    _expect_named_error(lambda: load_model(str(folder), device="cpu"), folder / name)


def test_config_holding_one_brace(tiny_decoder_path, tmp_path):
    from localchain.errors import ModelNotFoundError
    from localchain.models.loading import load_model

    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_decoder_path, folder)
    (folder / "config.json").write_text("{")
    err = _expect_named_error(lambda: load_model(str(folder), device="cpu"), folder / "config.json")
    assert isinstance(err, ModelNotFoundError) and "not valid JSON" in str(err)


def test_checkpoint_without_tokenizer_files(tiny_decoder_path, tmp_path):
    from localchain.models.loading import load_model

    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_decoder_path, folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(LocalchainError, match="no tokenizer files") as info:
        load_model(str(folder), device="cpu")
    assert str(folder) in str(info.value) and "sentencepiece" not in str(info.value)


def _write_gguf(path: Path) -> Path:
    """A small GGUF file: a header, a few metadata keys and one tensor."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_context_length(64)
    writer.add_embedding_length(8)
    writer.add_head_count(2)
    writer.add_tensor("token_embd.weight", np.ones((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_gguf(tmp_path, damage):
    from localchain.models.loading import load_model

    gguf = _write_gguf(tmp_path / "model.gguf")
    DAMAGE[damage](gguf)
    _expect_named_error(lambda: load_model(str(gguf), device="cpu"), gguf)


def test_empty_gguf(tmp_path):
    from localchain.models.loading import load_model

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"")
    _expect_named_error(lambda: load_model(str(gguf), device="cpu"), gguf)


# --- LoRA adapters -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adapter_dir(tiny_decoder_path, tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], init_lora_weights=False)
    out = tmp_path_factory.mktemp("adapter") / "lora"
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", ["adapter_config.json", "adapter_model.safetensors"])
def test_damaged_adapter_file(tiny_decoder_path, adapter_dir, tmp_path, name, damage):
    from localchain.errors import AdapterError
    from localchain.models.loading import load_model

    folder = tmp_path / "lora"
    shutil.copytree(adapter_dir, folder)
    DAMAGE[damage](folder / name)
    lm = load_model(str(tiny_decoder_path), device="cpu")
    err = _expect_named_error(lambda: lm.adapters.add("lora", folder), folder / name)
    assert isinstance(err, AdapterError)
    assert lm.adapters.names() == []


# --- the FAISS store ------------------------------------------------------------------------


class _Embeddings(Embeddings):
    """Three-dimensional embeddings from letter counts: enough to save and load a store."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0 + text.count("a"), 1.0 + text.count("e"), 1.0 + text.count("o")]


@pytest.fixture
def saved_store(tmp_path) -> Path:
    from localchain.index import FaissStore

    store = FaissStore.from_texts(["a cat", "the sea", "a dog", "one more"], _Embeddings())
    return store.save_local(tmp_path / "store")


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", ["index.faiss", "docstore.json"])
def test_damaged_vector_store_file(saved_store, name, damage):
    from localchain.errors import VectorStoreError
    from localchain.index import FaissStore

    DAMAGE[damage](saved_store / name)
    err = _expect_named_error(
        lambda: FaissStore.load_local(saved_store, _Embeddings()), saved_store / name
    )
    assert isinstance(err, VectorStoreError)


# --- the SQLite chat history ------------------------------------------------------------------


@pytest.fixture
def history_db(tmp_path) -> Path:
    from langchain_core.messages import AIMessage, HumanMessage

    from localchain.memory import SQLiteChatMessageHistory

    path = tmp_path / "history.sqlite3"
    with SQLiteChatMessageHistory("s1", path) as history:
        for i in range(200):
            history.add_messages([HumanMessage(f"question {i} " * 20), AIMessage(f"answer {i}")])
    # Fold the write-ahead log into the file, so the file alone is the database.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_history_database(history_db, damage):
    from localchain.errors import HistoryStoreError
    from localchain.memory import SQLiteChatMessageHistory

    DAMAGE[damage](history_db)

    def read() -> object:
        with SQLiteChatMessageHistory("s1", history_db) as history:
            return history.messages

    err = _expect_named_error(read, history_db)
    assert isinstance(err, HistoryStoreError)


def test_history_row_that_is_not_a_message(history_db):
    from localchain.errors import HistoryStoreError
    from localchain.memory import SQLiteChatMessageHistory

    with sqlite3.connect(history_db) as conn:
        conn.execute("UPDATE message_store SET message = '{\"type\": ' WHERE id = 3")
    with pytest.raises(HistoryStoreError, match="Row 3") as info:
        SQLiteChatMessageHistory("s1", history_db).messages  # noqa: B018
    assert history_db.name in str(info.value)


# --- prompt template files ---------------------------------------------------------------------


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_prompt_template_file(tmp_path, damage):
    from localchain.errors import ConfigError
    from localchain.prompts.library import DATA_DIR, load_task_file

    path = tmp_path / "qa.yaml"
    shutil.copy(DATA_DIR / "qa.yaml", path)
    DAMAGE[damage](path)
    err = _expect_named_error(lambda: load_task_file(path), path)
    assert isinstance(err, ConfigError)


# --- jsonl training data (only what the current loader already reports well) -------------------


def test_truncated_jsonl_training_data(tmp_path):
    from localchain.tuning.data import load_examples

    path = tmp_path / "train.jsonl"
    records = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 - 5])
    err = _expect_named_error(lambda: load_examples(path), path)
    assert ":" in str(err)  # file:line
