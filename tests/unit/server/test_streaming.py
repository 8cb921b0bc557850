"""Streaming over a real socket: a client that goes away stops its row."""

from __future__ import annotations

import time

import httpx
import pytest

from localchain.server import ServerConfig, create_app
from tests.unit.server.helpers import ScriptedScheduler, ServerThread


@pytest.fixture(scope="module")
def lm(server_model_path):
    from localchain.models import load_model

    return load_model(str(server_model_path), device="cpu")


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


@pytest.mark.parametrize("stream", [True, False])
def test_client_disconnect_cancels_the_row(lm, tmp_path, stream):
    scheduler = ScriptedScheduler(reply=lambda p, a: "y" * 300, delay=0.02, piece_size=1)
    config = ServerConfig(model="unused", model_name="m", db_path=tmp_path / "c.db")
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    with ServerThread(create_app(config, loaded=lm, scheduler=scheduler)) as server:
        if stream:
            with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body) as response:
                lines = response.iter_lines()
                for _ in range(6):
                    next(lines)
        else:
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=0.3)
        handle = scheduler.submissions[-1].handle
        assert _wait(handle.cancelled.is_set), "the row was not cancelled"
        assert _wait(handle.finished.is_set)
        stopped_at = handle.emitted
        time.sleep(0.2)
        assert handle.emitted == stopped_at < 300
        assert httpx.get(f"{server.url}/metrics").text.count("localchain_running_rows 0") == 1
