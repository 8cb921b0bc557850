"""What the server needs from the model layer: a scheduler that owns one loaded model.

The server talks to generation only through the names in this module: :func:`get_scheduler`,
:class:`Scheduler` (``submit``, ``stats``, ``close``), :class:`RequestHandle` (iterate, cancel,
``result``), :class:`SchedulerStats`, :class:`QueueFullError`, and :func:`attach_adapter` /
:func:`detach_adapter` (adapters change only between decode steps, never under a running row).

This is a thin stand-in with the interface of ``localchain.models.scheduler`` (the continuous
batching scheduler): one worker thread runs one request at a time through the model layer's
decode loop (``generation.stream_batch``), taking requests from a bounded queue. When the real
scheduler lands, this module re-exports it and nothing else in the server changes.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localchain.errors import ConfigError, ContextLengthError, LocalchainError
from localchain.models.generation import Completion, GenerationConfig, StreamEvent, stream_batch

if TYPE_CHECKING:
    from localchain.models.loading import LoadedModel


class QueueFullError(LocalchainError):
    """Too many requests are waiting; try again later (the server answers 429)."""

    retry_after: float = 1.0
    """Seconds a client should wait before retrying."""


@dataclass
class SchedulerStats:
    """A snapshot of a scheduler's load and totals."""

    queue_depth: int
    """Requests waiting to start."""
    running_rows: int
    """Rows being decoded now."""
    tokens_generated: int
    """Tokens generated since the scheduler started (finished and cancelled rows)."""
    requests_finished: int
    """Requests that ran to a stop or a length limit."""
    requests_cancelled: int
    """Requests cancelled before or while running."""
    max_batch: int
    max_queue: int


class RequestHandle:
    """One submitted request: its stream of events, its result, and a way to cancel it.

    Iterate it (``for event in handle`` or ``async for event in handle``) for one
    :class:`StreamEvent` per text piece; the last has ``done=True`` and the Completion. A
    cancelled request's iteration just ends; its ``result()`` raises ``CancelledError``.
    """

    def __init__(self, request_id: int) -> None:
        """Create an empty handle (the scheduler fills it)."""
        self.request_id = request_id
        self.submitted_at = time.monotonic()
        self._events: list[StreamEvent] = []
        self._cond = threading.Condition()
        self._finished = False
        self._error: BaseException | None = None
        self._completion: Completion | None = None
        self._cancelled = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    # -- consumer side ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[StreamEvent]:
        """Block for each event in turn; raise the request's error if it failed."""
        index = 0
        while True:
            with self._cond:
                while index >= len(self._events) and not self._finished:
                    self._cond.wait()
                if index < len(self._events):
                    event = self._events[index]
                    index += 1
                else:
                    self._raise_error()
                    return
            yield event

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        """The events, awaited without blocking the event loop or a worker thread."""
        index = 0
        loop = asyncio.get_running_loop()
        while True:
            wake = asyncio.Event()
            with self._cond:
                if index < len(self._events):
                    event: StreamEvent | None = self._events[index]
                    index += 1
                elif self._finished:
                    self._raise_error()
                    return
                else:
                    event = None
                    self._waiters.append((loop, wake))
            if event is not None:
                yield event
                continue
            await wake.wait()

    def cancel(self) -> None:
        """Stop the request: a waiting one never starts, a running one leaves within a step."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def result(self, timeout: float | None = None) -> Completion:
        """Wait for the finished Completion.

        Raises:
            TimeoutError: It did not finish within ``timeout`` seconds.
            concurrent.futures.CancelledError: It was cancelled.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._finished, timeout):
                msg = f"Request {self.request_id} did not finish within {timeout} s."
                raise TimeoutError(msg)
            self._raise_error()
            if self._completion is None:
                msg = f"Request {self.request_id} was cancelled."
                raise concurrent.futures.CancelledError(msg)
            return self._completion

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    # -- producer side (the scheduler) -----------------------------------------------------

    def _push(self, event: StreamEvent) -> None:
        with self._cond:
            self._events.append(event)
            if event.done:
                self._completion = event.completion
                self._finished = True
            self._notify()

    def _finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            if self._finished:
                return
            self._error = error
            self._finished = True
            self._notify()

    def _notify(self) -> None:
        self._cond.notify_all()
        waiters, self._waiters = self._waiters, []
        for loop, wake in waiters:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that event loop has closed: nobody is waiting any more
                pass


@dataclass
class _Job:
    handle: RequestHandle
    prompt: str
    config: GenerationConfig
    adapter: str | None
    grammar: Any
    add_special_tokens: bool


class Scheduler:
    """Runs requests on one loaded model, one at a time, from a bounded queue."""

    def __init__(self, lm: LoadedModel, *, max_batch: int = 8, max_queue: int = 64) -> None:
        """Start the worker thread for ``lm``.

        Args:
            lm: The loaded model this scheduler owns.
            max_batch: Rows decoded together (this stand-in runs one at a time).
            max_queue: Requests that may wait; past that ``submit`` raises QueueFullError.
        """
        self.lm = lm
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._queue: collections.deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._step_lock = threading.Lock()  # held while a request runs; adapters wait for it
        self._ids = itertools.count(1)
        self._running = 0
        self._tokens = 0
        self._finished = 0
        self._cancelled = 0
        self._closed = False
        self._current: RequestHandle | None = None
        self._worker = threading.Thread(target=self._work, name="localchain-scheduler", daemon=True)
        self._worker.start()

    def submit(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        add_special_tokens: bool = True,
    ) -> RequestHandle:
        """Queue a request; it starts when a row is free.

        Args:
            prompt: The prompt text (chat template already applied for chat requests).
            config: Its generation settings (length, sampling, stop strings).
            adapter: The attached adapter for this row, or None for the base model.
            schema: A JSON schema the output must follow (grammar-constrained decoding).
            add_special_tokens: Let the tokenizer add BOS/EOS (off for chat-templated text).

        Raises:
            QueueFullError: ``max_queue`` requests are already waiting.
            AdapterError: The adapter is not attached or registered.
            ConfigError: The schema cannot be compiled, or the scheduler is closed.
            ContextLengthError: The prompt does not fit the context window.
        """
        if self._closed:
            msg = "The scheduler is closed (the server is shutting down); retry on a new one."
            raise ConfigError(msg)
        self.lm.adapters.resolve(adapter)  # an unknown adapter fails now, not in the worker
        self._check_length(prompt, config, add_special_tokens)
        grammar = None
        if schema is not None:
            from localchain.models.constrained import compile_json_schema

            grammar = compile_json_schema(self.lm.tokenizer, schema, vocab_size=self.lm.vocab_size)
        with self._cond:
            if len(self._queue) >= self.max_queue:
                msg = (
                    f"{len(self._queue)} requests are already waiting (max_queue="
                    f"{self.max_queue}); retry shortly or start the server with a larger "
                    "--max-queue."
                )
                raise QueueFullError(msg)
            handle = RequestHandle(next(self._ids))
            self._queue.append(_Job(handle, prompt, config, adapter, grammar, add_special_tokens))
            self._cond.notify()
        return handle

    def stats(self) -> SchedulerStats:
        """The current queue depth, running rows and totals."""
        with self._cond:
            return SchedulerStats(
                queue_depth=sum(1 for job in self._queue if not job.handle.cancelled),
                running_rows=self._running,
                tokens_generated=self._tokens,
                requests_finished=self._finished,
                requests_cancelled=self._cancelled,
                max_batch=self.max_batch,
                max_queue=self.max_queue,
            )

    def close(self, timeout: float | None = 10.0) -> None:
        """Cancel waiting and running requests and stop the worker thread."""
        with self._cond:
            self._closed = True
            for job in self._queue:
                job.handle.cancel()
            if self._current is not None:
                self._current.cancel()
            self._cond.notify_all()
        self._worker.join(timeout)

    @property
    def step_lock(self) -> threading.Lock:
        """Held while a row runs; take it to change the model between decode steps."""
        return self._step_lock

    def _check_length(self, prompt: str, config: GenerationConfig, special: bool) -> None:
        if config.truncation != "error" or not isinstance(prompt, str):
            return
        count = len(self.lm.tokenizer(prompt, add_special_tokens=special)["input_ids"])
        limit = self.lm.context_length - (1 if self.lm.kind == "causal" else 0)
        if count > limit:
            msg = (
                f"The prompt has {count} tokens but {self.lm.name!r} has a context window of "
                f"{self.lm.context_length} tokens; shorten the messages."
            )
            raise ContextLengthError(msg)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed and not self._queue:
                    return
                job = self._queue.popleft()
                if job.handle.cancelled:
                    self._cancelled += 1
                    job.handle._finish()
                    continue
                self._running, self._current = 1, job.handle
            try:
                with self._step_lock:
                    self._run(job)
            except Exception as err:  # the request fails; the worker and the server go on
                with self._cond:
                    self._running, self._current = 0, None
                job.handle._finish(err)
            finally:
                with self._cond:
                    self._running, self._current = 0, None

    def _run(self, job: _Job) -> None:
        processor = None
        if job.grammar is not None:
            from localchain.models.constrained import GrammarLogitsProcessor

            processor = GrammarLogitsProcessor([job.grammar])
        events = stream_batch(
            self.lm,
            [job.prompt],
            job.config,
            adapters=[job.adapter],
            logits_processor=processor,
            add_special_tokens=job.add_special_tokens,
        )
        try:
            for event in events:
                if job.handle.cancelled:
                    with self._cond:
                        self._cancelled += 1
                        self._running, self._current = 0, None
                    job.handle._finish()
                    return
                if event.done and event.completion is not None:
                    # The row has left before its caller hears it finished: stats agree.
                    with self._cond:
                        self._tokens += event.completion.completion_tokens
                        self._finished += 1
                        self._running, self._current = 0, None
                job.handle._push(event)
        finally:
            events.close()
        job.handle._finish()


_SCHEDULERS: dict[int, Scheduler] = {}
_SCHEDULERS_LOCK = threading.Lock()


def get_scheduler(lm: LoadedModel, max_batch: int = 8, max_queue: int = 64) -> Scheduler:
    """The scheduler that owns ``lm`` (one per loaded model), started on first use."""
    with _SCHEDULERS_LOCK:
        scheduler = _SCHEDULERS.get(id(lm))
        if scheduler is None or scheduler._closed or scheduler.lm is not lm:
            scheduler = Scheduler(lm, max_batch=max_batch, max_queue=max_queue)
            _SCHEDULERS[id(lm)] = scheduler
        return scheduler


def attach_adapter(scheduler: Scheduler, name: str, path: str) -> None:
    """Attach a LoRA adapter to the scheduler's model between decode steps.

    Raises:
        AdapterError: The name is taken, the files are missing, or it fits another base.
    """
    with scheduler.step_lock:
        scheduler.lm.adapters.add(name, path)


def detach_adapter(scheduler: Scheduler, name: str) -> None:
    """Detach an adapter between decode steps (requests still queued for it then fail).

    Raises:
        AdapterError: No adapter by that name is attached.
    """
    with scheduler.step_lock:
        scheduler.lm.adapters.remove(name)


__all__ = [
    "QueueFullError",
    "RequestHandle",
    "Scheduler",
    "SchedulerStats",
    "attach_adapter",
    "detach_adapter",
    "get_scheduler",
]
