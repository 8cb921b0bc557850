"""Shared by the server's unit, integration and browser tests.

- ``build_server_model``: the tiny random decoder with a 1024-token window (room for the tools
  system prompt), and ``build_lora``: random LoRA adapters for it that change its output.
- ``ScriptedScheduler``: a scheduler with the real one's interface whose replies are scripted
  text, streamed piece by piece with a delay (to see streaming, stop it, or send markup).
- ``ServerProcess``: ``python -m localchain.cli serve ...`` on a free loopback port.
- ``ServerThread``: uvicorn serving an app object in a thread, on a free loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localchain.models.generation import Completion, GenerationConfig, StreamEvent

ROOT = Path(__file__).resolve().parents[3]


def build_server_model(path: Path) -> Path:
    """The tiny decoder of tests/fixtures with a 1024-position window."""
    from tests.fixtures.tiny_models import build_tiny_decoder

    build_tiny_decoder(path)
    config_file = Path(path) / "config.json"
    config = json.loads(config_file.read_text())
    config["max_position_embeddings"] = 1024
    config_file.write_text(json.dumps(config))
    return Path(path)


def build_lora(base: Path, out: Path, *, seed: int) -> Path:
    """A random LoRA adapter for ``base`` (large enough to change greedy output)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(
        r=4, lora_alpha=32, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False
    )
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.normal_(0.0, 0.5)
    peft_model.save_pretrained(out)
    return Path(out)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout: float = 120.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url/health`` until it answers 200."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            msg = f"the server exited with {process.returncode}:\n{output}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    msg = f"{url} did not become healthy within {timeout} s"
    raise TimeoutError(msg)


class ServerProcess:
    """``localchain serve`` in a child process on a free loopback port; stopped on exit."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port), *args]
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.log = ""

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "localchain.cli", "serve", *self.args]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_healthy(self.url, process=self.process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def stop(self) -> int:
        """SIGTERM, wait for a graceful exit; return the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.log = self.process.stdout.read()
        return self.process.returncode

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.stop()


class ServerThread:
    """uvicorn serving ``app`` in a background thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_healthy(self.url, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


# -- a scripted scheduler --------------------------------------------------------------------


class ScriptedHandle:
    """A request of :class:`ScriptedScheduler`: the reply's pieces, one every ``delay`` s."""

    def __init__(self, pieces: list[str], prompt_tokens: int, delay: float) -> None:
        self.pieces = pieces
        self.prompt_tokens = prompt_tokens
        self.delay = delay
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.emitted = 0

    def cancel(self) -> None:
        self.cancelled.set()

    def _completion(self, text: str) -> Completion:
        return Completion(text, self.prompt_tokens, len(self.pieces), "stop")

    def __iter__(self) -> Iterator[StreamEvent]:
        for i, piece in enumerate(self.pieces):
            if self.cancelled.is_set():
                self.finished.set()
                return
            time.sleep(self.delay)
            self.emitted = i + 1
            last = i == len(self.pieces) - 1
            done = self._completion("".join(self.pieces)) if last else None
            yield StreamEvent(0, piece, done=last, completion=done)
        self.finished.set()

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        try:
            for i, piece in enumerate(self.pieces):
                if self.cancelled.is_set():
                    return
                await asyncio.sleep(self.delay)
                if self.cancelled.is_set():
                    return
                self.emitted = i + 1
                last = i == len(self.pieces) - 1
                done = self._completion("".join(self.pieces)) if last else None
                yield StreamEvent(0, piece, done=last, completion=done)
        finally:
            self.finished.set()

    def result(self, timeout: float | None = None) -> Completion:
        return self._completion("".join(self.pieces))


@dataclass
class Submission:
    prompt: str
    config: GenerationConfig
    adapter: str | None
    schema: dict[str, Any] | None
    handle: ScriptedHandle


@dataclass
class ScriptedStats:
    queue_depth: int = 0
    running_rows: int = 0
    tokens_generated: int = 0


@dataclass
class ScriptedScheduler:
    """The scheduler interface with scripted replies: ``reply(prompt, adapter) -> text``."""

    reply: Callable[[str, str | None], str] = lambda prompt, adapter: "Hello there!"
    delay: float = 0.0
    piece_size: int = 3
    max_queue: int = 1000
    submissions: list[Submission] = field(default_factory=list)
    closed: bool = False

    def submit(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        add_special_tokens: bool = True,
    ) -> ScriptedHandle:
        from localchain.server._backend import QueueFullError

        running = [s for s in self.submissions if not s.handle.finished.is_set()]
        if len(running) >= self.max_queue:
            msg = f"{len(running)} requests are waiting (max_queue={self.max_queue})"
            raise QueueFullError(msg)
        text = self.reply(prompt, adapter)
        size = self.piece_size
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        handle = ScriptedHandle(pieces, len(prompt.split()), self.delay)
        self.submissions.append(Submission(prompt, config, adapter, schema, handle))
        return handle

    def stats(self) -> ScriptedStats:
        running = sum(1 for s in self.submissions if not s.handle.finished.is_set())
        tokens = sum(s.handle.emitted for s in self.submissions)
        return ScriptedStats(queue_depth=0, running_rows=running, tokens_generated=tokens)

    def close(self) -> None:
        self.closed = True
        for submission in self.submissions:
            submission.handle.cancel()


def copy_model(source: Path, target: Path) -> Path:
    """A copy of a checkpoint directory (tests that attach adapters get their own model)."""
    shutil.copytree(source, target)
    return target


# -- fixtures (imported by tests/unit/server/conftest.py and the integration modules) ---------


_BUILT: dict[str, Any] = {}  # one build per test session, whichever module asks first


@pytest.fixture(scope="session")
def server_model_path(tmp_path_factory):
    """The tiny random decoder with a 1024-token window."""
    if "model" not in _BUILT:
        root = tmp_path_factory.mktemp("server-model")
        _BUILT["model"] = build_server_model(root / "tiny-chat")
    return _BUILT["model"]


@pytest.fixture(scope="session")
def server_adapters(server_model_path, tmp_path_factory):
    """Two random LoRA adapters for the tiny model: name -> directory."""
    if "adapters" not in _BUILT:
        root = tmp_path_factory.mktemp("server-adapters")
        _BUILT["adapters"] = {
            "alpha": build_lora(server_model_path, root / "alpha", seed=1),
            "beta": build_lora(server_model_path, root / "beta", seed=2),
        }
    return _BUILT["adapters"]
