"""The scheduler the server codes to (``server/_backend.py`` re-exports the model layer's)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest

from localchain.errors import AdapterError, ContextLengthError
from localchain.models.generation import GenerationConfig, generate
from localchain.server._backend import QueueFullError, Scheduler


@pytest.fixture(scope="module")
def lm(server_model_path):
    from localchain.models import load_model

    return load_model(str(server_model_path), device="cpu")


def test_result_and_events_match_the_decode_loop(lm):
    scheduler = Scheduler(lm, max_queue=4)
    try:
        config = GenerationConfig(max_new_tokens=8)
        expected = generate(lm, ["hello"], config)[0]
        handle = scheduler.submit("hello", config)
        events = list(handle)
        assert events[-1].done and "".join(e.text for e in events) == expected.text
        assert handle.result(timeout=30).text == expected.text

        async def collect():
            return [e async for e in scheduler.submit("hello", config)]

        assert "".join(e.text for e in asyncio.run(collect())) == expected.text
        stats = scheduler.stats()
        assert stats.running_rows == 0 and stats.queue_depth == 0
        assert stats.tokens_generated == 2 * expected.completion_tokens
    finally:
        scheduler.close()


def test_cancel_stops_a_running_row_and_a_waiting_one_never_starts(lm):
    scheduler = Scheduler(lm, max_queue=4)
    try:
        long = GenerationConfig(max_new_tokens=900)
        running = scheduler.submit("hello", long)
        waiting = scheduler.submit("the cat", long)
        first = next(iter(running))
        assert not first.done
        running.cancel()
        waiting.cancel()
        with pytest.raises(concurrent.futures.CancelledError):
            running.result(timeout=30)
        with pytest.raises(concurrent.futures.CancelledError):
            waiting.result(timeout=30)
        deadline = time.monotonic() + 10
        while scheduler.stats().running_rows and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = scheduler.stats()
        assert stats.running_rows == 0 and stats.requests_cancelled == 2
        assert scheduler.submit("hello", GenerationConfig(max_new_tokens=2)).result(30).text
    finally:
        scheduler.close()


def test_full_queue_unknown_adapter_and_long_prompt_fail_at_submit(lm):
    scheduler = Scheduler(lm, max_queue=1)
    try:
        long = GenerationConfig(max_new_tokens=900)
        first = scheduler.submit("hello", long)
        next(iter(first))  # running now: the queue is empty again
        second = scheduler.submit("hello", long)
        with pytest.raises(QueueFullError, match="max_queue=1"):
            scheduler.submit("hello", long)
        with pytest.raises(AdapterError):
            scheduler.submit("hello", long, adapter="nope")
        with pytest.raises(ContextLengthError):
            scheduler.submit("x " * 1200, long)
        first.cancel()
        second.cancel()
    finally:
        scheduler.close()
    assert scheduler.stats().running_rows == 0


def test_a_failing_request_does_not_stop_the_worker(lm):
    def broken(ids, scores):
        msg = "boom in the decode loop"
        raise RuntimeError(msg)

    scheduler = Scheduler(lm, max_queue=4)
    try:
        bad = scheduler.submit("hello", GenerationConfig(max_new_tokens=2), processor=broken)
        with pytest.raises(RuntimeError, match="boom"):
            bad.result(timeout=30)
        with pytest.raises(RuntimeError, match="boom"):
            list(bad)
        ok = scheduler.submit("hello", GenerationConfig(max_new_tokens=2))
        assert ok.result(timeout=30).completion_tokens >= 1
        assert scheduler.stats().running_rows == 0
    finally:
        scheduler.close()
