"""Serving benchmark: aggregate tokens/s, latency and time to first token under concurrent load.

Starts each contender as a real HTTP server on a loopback port, then runs 1, 4 and 16 concurrent
streaming clients against ``/v1/chat/completions`` (OpenAI's API, SSE, ``include_usage``), each
client sending ``--requests`` requests one after another. Contenders, on the same weights:

- ``localchain serve`` with continuous batching (the default),
- (a) the same server with batching off (``--max-batch 1``: one request at a time),
- (b) llama.cpp's own server (``python -m llama_cpp.server``) on the embedded GGUF, when
  llama-cpp-python's server extra is installed (``pip install 'llama-cpp-python[server]'``).

It prints, per contender and concurrency, aggregate generated tokens/s, p50/p95 request latency
and p50/p95 time to first token, then the ratios the server issue sets targets for: at 16
clients, batching on vs off in aggregate tokens/s (target >= 4x) and p95 TTFT (target < 2 s),
and localchain vs llama.cpp's server, whatever it is. Absolute numbers drift with the machine's
load; ratios come from the same run. Run by hand (not in CI):

    .venv/bin/python bench/serving.py                 # all concurrencies, 3 requests per client
    .venv/bin/python bench/serving.py --clients 1 4 --requests 2 --max-tokens 32
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROMPTS = [
    "Write two sentences about the sea.",
    "List three fruits and say one thing about each.",
    "Explain what a compiler does, briefly.",
    "Give me a short tip for learning to cook.",
    "Describe a quiet morning in a small town.",
    "What are clouds made of? Answer in two sentences.",
]


@dataclass
class Sample:
    """One request's timings."""

    latency_s: float
    ttft_s: float
    tokens: int


@dataclass
class Run:
    """A contender at one concurrency."""

    contender: str
    clients: int
    wall_s: float
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0

    @property
    def tokens_per_s(self) -> float:
        return sum(s.tokens for s in self.samples) / self.wall_s if self.wall_s else 0.0

    def pct(self, attr: str, q: float) -> float:
        values = sorted(getattr(s, attr) for s in self.samples)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], port: int, *, ready_path: str, timeout_s: float) -> Iterator[str]:
    """Start a server process, wait until ``ready_path`` answers, stop it afterwards."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                msg = f"server exited early ({proc.returncode}): {err[-2000:]}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + ready_path, timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            msg = f"server did not answer {ready_path} within {timeout_s} s"
            raise RuntimeError(msg)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


async def one_request(
    client: httpx.AsyncClient, base: str, model: str, prompt: str, max_tokens: int
) -> Sample:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    start = time.perf_counter()
    ttft = None
    tokens = 0
    async with client.stream("POST", base + "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                if ttft is None and (choice.get("delta") or {}).get("content"):
                    ttft = time.perf_counter() - start
            usage = chunk.get("usage")
            if usage:
                tokens = int(usage.get("completion_tokens") or 0)
    latency = time.perf_counter() - start
    return Sample(latency_s=latency, ttft_s=latency if ttft is None else ttft, tokens=tokens)


async def load(
    base: str, model: str, contender: str, clients: int, requests: int, max_tokens: int
) -> Run:
    run = Run(contender, clients, 0.0)
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:

        async def worker(index: int) -> None:
            for k in range(requests):
                prompt = PROMPTS[(index + k) % len(PROMPTS)]
                try:
                    run.samples.append(await one_request(client, base, model, prompt, max_tokens))
                except httpx.HTTPError:
                    run.errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        run.wall_s = time.perf_counter() - start
    return run


def localchain_command(port: int, model: str, max_batch: int) -> list[str]:
    exe = shutil.which("localchain", path=str(Path(sys.executable).parent)) or "localchain"
    return [exe, "serve", "--model", model, "--port", str(port), "--max-batch", str(max_batch)]


def llama_cpp_command(port: int, gguf: Path) -> list[str] | None:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        return None
    threads = str(os.cpu_count() or 2)
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--n_ctx",
        "2048",
        "--n_threads",
        threads,
    ]


def embedded_gguf() -> Path | None:
    from localchain.models.registry import resolve_model

    resolved = resolve_model("smollm2-135m-instruct")
    return resolved.path / resolved.gguf_file if resolved.gguf_file else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=3, help="requests per client")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--skip-llama-cpp", action="store_true")
    args = parser.parse_args(argv)

    runs: list[Run] = []
    contenders: list[tuple[str, list[str], str, str]] = []
    port = free_port()
    contenders.append(
        (
            f"localchain (batch {args.max_batch})",
            localchain_command(port, args.model, args.max_batch),
            args.model,
            "/health",
        )
    )
    port_off = free_port()
    contenders.append(
        (
            "localchain (batching off)",
            localchain_command(port_off, args.model, 1),
            args.model,
            "/health",
        )
    )
    gguf = None if args.skip_llama_cpp else embedded_gguf()
    if gguf is not None:
        port_llama = free_port()
        command = llama_cpp_command(port_llama, gguf)
        if command is not None:
            contenders.append(("llama.cpp server", command, str(gguf), "/v1/models"))
        else:
            print("llama-cpp-python[server] is not installed: its row is skipped.")
    for name, command, model, ready in contenders:
        port_of = int(command[command.index("--port") + 1])
        with server(command, port_of, ready_path=ready, timeout_s=300) as base:
            asyncio.run(load(base, model, name, 1, 1, 8))  # warm-up
            for clients in args.clients:
                run = asyncio.run(load(base, model, name, clients, args.requests, args.max_tokens))
                runs.append(run)
                print(
                    f"{name:28s} clients={clients:3d}  {run.tokens_per_s:7.1f} tok/s  "
                    f"p50/p95 latency {run.pct('latency_s', 0.5):6.2f}/"
                    f"{run.pct('latency_s', 0.95):6.2f} s  "
                    f"p50/p95 TTFT {run.pct('ttft_s', 0.5):5.2f}/{run.pct('ttft_s', 0.95):5.2f} s  "
                    f"errors {run.errors}",
                    flush=True,
                )

    def find(prefix: str, clients: int) -> Run | None:
        return next(
            (r for r in runs if r.contender.startswith(prefix) and r.clients == clients), None
        )

    top = max(args.clients)
    on, off = find("localchain (batch", top), find("localchain (batching off)", top)
    llama = find("llama.cpp server", top)
    print()
    if on and off and off.tokens_per_s:
        ratio = on.tokens_per_s / off.tokens_per_s
        print(f"batching on vs off, {top} clients, aggregate tok/s (target >= 4x)   {ratio:5.2f}x")
    if on:
        print(
            f"p95 time to first token, {top} clients (target < 2 s)"
            f"              {on.pct('ttft_s', 0.95):5.2f} s"
        )
    if on and llama and llama.tokens_per_s:
        ratio = on.tokens_per_s / llama.tokens_per_s
        print(
            f"localchain vs llama.cpp server, {top} clients, aggregate tok/s        {ratio:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
