"""One scheduler per loaded model: concurrent requests decode together (continuous batching).

Requests are submitted from any thread (or coroutine) and wait in a bounded queue. Between
decode steps the scheduler admits waiting requests into the running :class:`DecodeBatch` (each
with its own adapter, sampling settings, stop strings and grammar), so a new request joins at the
next step instead of waiting for the batch to finish, and a finished or cancelled row leaves at
once. This is what makes one ``ChatLocal`` safe and efficient from many threads, and what the
OpenAI-compatible server calls.

Nobody owns a thread for this: whichever consumer needs the next piece of text runs the next step
for everyone (cooperative driving), so a single-threaded ``stream`` still runs on the caller's
thread. Async consumers hand the driving to a worker thread started when they wait and gone when
the work is done.

Example:
    .. code-block:: python

        from localchain.models import GenerationConfig, load_model
        from localchain.models.scheduler import get_scheduler

        scheduler = get_scheduler(load_model("smollm2-135m-instruct"))
        handle = scheduler.submit("Hello", GenerationConfig(max_new_tokens=8))
        for event in handle:
            print(event.text, end="")
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from localchain.errors import AdapterError, ConfigError, QueueFullError
from localchain.models.decoding import (
    Completion,
    DecodeBatch,
    LogitsProcessor,
    Row,
    StreamEvent,
    make_row,
)
from localchain.models.settings import GenerationConfig

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel

DEFAULT_MAX_BATCH = 16
DEFAULT_MAX_QUEUE = 1024


@dataclass
class SchedulerStats:
    """What the scheduler is doing now, and has done (for metrics)."""

    queue_depth: int
    """Requests waiting to join the batch."""
    running_rows: int
    """Rows in the running batch."""
    requests_finished: int
    """Requests completed (or failed, or cancelled) since the scheduler started."""
    tokens_generated: int
    """Tokens generated since the scheduler started."""
    steps: int
    """Decode steps run since the scheduler started."""
    requests_cancelled: int = 0
    """Requests cancelled before or while running (also counted in ``requests_finished``)."""
    max_batch: int = DEFAULT_MAX_BATCH
    """Most rows decoding together."""
    max_queue: int = DEFAULT_MAX_QUEUE
    """Most requests waiting; past it, submit raises QueueFullError."""


class RequestHandle:
    """One submitted request: iterate it for its text pieces, or wait for its result.

    Iterating (sync or async) yields :class:`StreamEvent` pieces; the last has ``done=True`` and
    carries the :class:`Completion`. An error in the request is raised from the iterator.
    """

    def __init__(self, scheduler: Scheduler, row: Row) -> None:
        """Used by :meth:`Scheduler.submit`."""
        self._scheduler = scheduler
        self.row = row
        self.submitted_at = time.monotonic()
        self.first_token_at: float | None = None
        self._events: deque[StreamEvent] = deque()
        self._finished = False
        self._error: BaseException | None = None
        self._completion: Completion | None = None
        self._cancelled = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @property
    def done(self) -> bool:
        """Whether the request has finished, failed or been cancelled."""
        return self._finished

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called before the request finished."""
        return self._cancelled

    def cancel(self) -> None:
        """Stop this request: it leaves the batch before the next step (or never joins)."""
        self._scheduler._cancel(self)

    def __iter__(self) -> Iterator[StreamEvent]:
        """Yield the request's text pieces as they are decoded, driving steps when needed."""
        while True:
            event = self._scheduler._next_event(self)
            if event is None:
                return
            yield event

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        """Yield the request's pieces asynchronously (steps run in a worker thread)."""
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        with self._scheduler._cond:
            self._waiters.append((loop, wake))
        try:
            while True:
                with self._scheduler._cond:
                    event = self._pop()
                    if event is None and not self._finished:
                        wake.clear()
                if event is not None:
                    yield event
                    continue
                if self._finished:
                    self._raise_if_failed()
                    return
                self._scheduler._ensure_driver()
                await wake.wait()
        finally:
            with self._scheduler._cond, contextlib.suppress(ValueError):
                self._waiters.remove((loop, wake))

    def result(self, timeout: float | None = None) -> Completion:
        """Wait for the whole completion (driving steps from this thread when needed).

        Raises:
            TimeoutError: ``timeout`` seconds passed first (the request keeps running).
            concurrent.futures.CancelledError: The request was cancelled.
            Exception: Whatever made the request fail (e.g. a ``LocalchainError``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for _ in self._scheduler._drain(self, deadline):
            pass
        if self._completion is None:
            msg = "The request was cancelled before it finished."
            raise concurrent.futures.CancelledError(msg)
        return self._completion

    # -- called with the scheduler's condition held --------------------------------------

    def _pop(self) -> StreamEvent | None:
        if self._events:
            return self._events.popleft()
        if self._finished:
            self._raise_if_failed()
        return None

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _deliver(self, event: StreamEvent) -> None:
        if self.first_token_at is None and event.text:
            self.first_token_at = time.monotonic()
        self._events.append(event)
        if event.done:
            self._finished = True
            self._completion = event.completion

    def _fail(self, error: BaseException) -> None:
        self._finished = True
        self._error = error

    def _wake(self) -> None:
        for loop, wake in self._waiters:
            with contextlib.suppress(RuntimeError):  # that event loop has closed
                loop.call_soon_threadsafe(wake.set)


@dataclass
class _Work:
    """The scheduler's shared state, guarded by its condition."""

    queue: deque[RequestHandle] = field(default_factory=deque)
    running: dict[int, RequestHandle] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)
    driving: bool = False
    driver: threading.Thread | None = None


class Scheduler:
    """Batches the requests for one loaded model; see the module docstring."""

    def __init__(
        self,
        lm: LoadedModel,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        """A scheduler for ``lm`` (use :func:`get_scheduler` to share one per model).

        Args:
            lm: The loaded model.
            max_batch: Most rows decoding together.
            max_queue: Most requests waiting to join; past it :meth:`submit` raises
                :class:`~localchain.errors.QueueFullError`.
        """
        self.lm = lm
        self.max_batch = DEFAULT_MAX_BATCH
        self.max_queue = DEFAULT_MAX_QUEUE
        self.configure(max_batch=max_batch, max_queue=max_queue)
        self._cond = threading.Condition()
        self._work = _Work()
        self._batch = DecodeBatch(lm)
        self._keys = itertools.count()
        self._finished_count = 0
        self._cancelled_count = 0
        self._tokens = 0
        self._steps = 0
        self._closed = False

    def configure(self, *, max_batch: int | None = None, max_queue: int | None = None) -> None:
        """Change the batch and queue bounds (takes effect at the next step).

        Raises:
            ConfigError: A bound is below 1.
        """
        for name, value in (("max_batch", max_batch), ("max_queue", max_queue)):
            if value is not None and (not isinstance(value, int) or value < 1):
                msg = f"{name} must be a whole number of at least 1, got {value!r}."
                raise ConfigError(msg)
        self.max_batch = max_batch or self.max_batch
        self.max_queue = max_queue or self.max_queue

    # -- submitting ----------------------------------------------------------------------

    def submit(
        self,
        prompt: str,
        config: GenerationConfig | None = None,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        processor: LogitsProcessor | None = None,
        prefix: torch.Tensor | None = None,
        add_special_tokens: bool = True,
    ) -> RequestHandle:
        """Queue one generation; it joins the running batch at the next step.

        The prompt is encoded and checked here, so a bad request fails at once.

        Args:
            prompt: The formatted prompt.
            config: Generation settings (greedy, 256 new tokens by default).
            adapter: Adapter name (attached, registered, or a directory); None for the base.
            schema: A JSON schema the output must follow (grammar-constrained decoding;
                compiled once per schema and tokenizer).
            processor: This request's own logits processor (instead of ``schema``).
            prefix: Learned prompt embeddings to put before the prompt (prompt tuning).
            add_special_tokens: Let the tokenizer add BOS/EOS markers.

        Raises:
            QueueFullError: ``max_queue`` requests are already waiting.
            ContextLengthError: The prompt does not fit.
            AdapterError: The adapter is unknown.
            ConfigError: The schema cannot be compiled, or both schema and processor are given.
        """
        if self._closed:
            msg = f"The scheduler for {self.lm.name!r} is closed; create a new one."
            raise ConfigError(msg)
        if schema is not None:
            if processor is not None:
                msg = "Pass a schema or a processor, not both."
                raise ConfigError(msg)
            processor = _grammar_processor(self.lm, schema)
        # A bad request fails on its own account (4xx) before the queue is even looked at.
        row = make_row(
            self.lm,
            next(self._keys),
            prompt,
            config or GenerationConfig(),
            adapter=adapter,
            processor=processor,
            prefix=prefix,
            add_special_tokens=add_special_tokens,
        )
        handle = RequestHandle(self, row)
        with self._cond:
            if len(self._work.queue) >= self.max_queue:
                msg = (
                    f"{len(self._work.queue)} requests are already waiting for {self.lm.name!r} "
                    f"(max_queue={self.max_queue}); retry shortly."
                )
                raise QueueFullError(msg, retry_after=1.0)
            self._work.queue.append(handle)
            self._cond.notify_all()
        return handle

    def stats(self) -> SchedulerStats:
        """The queue depth, running rows and counters."""
        with self._cond:
            return SchedulerStats(
                queue_depth=len(self._work.queue),
                running_rows=len(self._work.running),
                requests_finished=self._finished_count,
                tokens_generated=self._tokens,
                steps=self._steps,
                requests_cancelled=self._cancelled_count,
                max_batch=self.max_batch,
                max_queue=self.max_queue,
            )

    @contextlib.contextmanager
    def between_steps(self) -> Iterator[None]:
        """Hold the model between two decode steps (no step runs until the block ends)."""
        with self._cond:
            while self._work.driving:
                self._cond.wait()
            self._work.driving = True
        try:
            yield
        finally:
            with self._cond:
                self._work.driving = False
                self._cond.notify_all()

    def attach_adapter(self, name: str, path: str | os.PathLike[str]) -> None:
        """Attach a LoRA adapter between decode steps; running rows are not affected.

        Raises:
            AdapterError: The name is taken, the files are missing, or it fits another base.
        """
        with self.between_steps():
            self.lm.adapters.add(name, path)

    def detach_adapter(self, name: str) -> None:
        """Detach an adapter between decode steps; requests using it fail with AdapterError.

        Raises:
            AdapterError: No adapter by that name is attached.
        """
        with self.between_steps():
            if name not in self.lm.adapters.names():
                self.lm.adapters.remove(name)  # raises the manager's clear error
            with self._cond:
                users = [
                    h
                    for h in [*self._work.queue, *self._work.running.values()]
                    if h.row.adapter == name
                ]
            if users:
                self._batch.remove({h.row.key for h in users})
                with self._cond:
                    for handle in users:
                        if handle in self._work.queue:
                            self._work.queue.remove(handle)
                msg = f"Adapter {name!r} was detached while this request was using it."
                self._finish(users, AdapterError(msg))
            self.lm.adapters.remove(name)

    def close(self) -> None:
        """Cancel waiting and running requests; later submits fail."""
        with self._cond:
            self._closed = True
            handles = [*self._work.queue, *self._work.running.values()]
        for handle in handles:
            self._cancel(handle)

    # -- consuming -----------------------------------------------------------------------

    def _next_event(self, handle: RequestHandle) -> StreamEvent | None:
        """The handle's next event, driving steps from this thread while nobody else does."""
        for event in self._drain(handle, None):
            return event
        return None

    def _drain(self, handle: RequestHandle, deadline: float | None) -> Iterator[StreamEvent]:
        while True:
            with self._cond:
                while True:
                    event = handle._pop()
                    if event is not None:
                        break
                    if handle._finished:
                        return
                    if not self._work.driving:
                        self._work.driving = True
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        msg = "Timed out waiting for the request; it keeps running."
                        raise TimeoutError(msg)
                    self._cond.wait(remaining)
            if event is not None:
                yield event
                continue
            try:
                self._step()
            finally:
                with self._cond:
                    self._work.driving = False
                    self._cond.notify_all()

    def _ensure_driver(self) -> None:
        """Start a worker thread that runs steps while there is work (for async consumers)."""
        with self._cond:
            driver = self._work.driver
            if driver is not None and driver.is_alive():
                return
            thread = threading.Thread(
                target=_drive_while_busy, args=(weakref.ref(self),), daemon=True
            )
            self._work.driver = thread
        thread.start()

    def _has_work(self) -> bool:
        return bool(self._work.queue or self._work.running)

    # -- one step for everyone -----------------------------------------------------------

    def _step(self) -> None:
        """Admit waiting requests, drop cancelled rows, run one decode step, deliver events."""
        with self._cond:
            cancelled = self._work.cancelled
            self._work.cancelled = set()
            joining: list[RequestHandle] = []
            if self._batch.can_join():
                room = self.max_batch - len(self._batch)
                while self._work.queue and len(joining) < room:
                    joining.append(self._work.queue.popleft())
        if cancelled:
            self._batch.remove(cancelled)
        if joining:
            try:
                self._batch.add([h.row for h in joining])
            except Exception as err:  # these requests fail; the batch keeps going
                self._finish(joining, err)
                joining = []
            with self._cond:
                for handle in joining:
                    self._work.running[handle.row.key] = handle
        try:
            # Tokens go out as soon as they are chosen, before the forward pass for the next.
            events = self._batch.step(self._deliver)
        except Exception as err:  # a failed step fails every row in it, not the scheduler
            with self._cond:
                failed = list(self._work.running.values())
            self._batch = DecodeBatch(self.lm)
            self._finish(failed, err)
            return
        self._deliver(events)
        with self._cond:
            self._steps += 1

    def _deliver(self, events: list[StreamEvent]) -> None:
        """Hand a step's events to their requests; finished requests leave the running set."""
        if not events:
            return
        with self._cond:
            for event in events:
                receiver = self._work.running.get(event.index)
                if receiver is None:
                    continue
                if receiver.row.error is not None:
                    receiver._fail(receiver.row.error)
                else:
                    receiver._deliver(event)
                if event.done:
                    del self._work.running[event.index]
                    self._finished_count += 1
                    if event.completion is not None:
                        self._tokens += event.completion.completion_tokens
                receiver._wake()
            self._cond.notify_all()

    def _finish(self, handles: list[RequestHandle], error: BaseException) -> None:
        with self._cond:
            for handle in handles:
                self._work.running.pop(handle.row.key, None)
                handle._fail(error)
                handle._wake()
                self._finished_count += 1
            self._cond.notify_all()

    def _cancel(self, handle: RequestHandle) -> None:
        with self._cond:
            if handle._finished:
                return
            handle._cancelled = True
            if handle in self._work.queue:
                self._work.queue.remove(handle)
            elif handle.row.key in self._work.running:
                del self._work.running[handle.row.key]
                self._work.cancelled.add(handle.row.key)
            handle._finished = True
            handle._events.clear()  # a cancelled request yields nothing more
            self._finished_count += 1
            self._cancelled_count += 1
            handle._wake()
            self._cond.notify_all()


def _grammar_processor(lm: LoadedModel, schema: dict[str, Any]) -> LogitsProcessor:
    """A one-row grammar processor for ``schema`` (the grammar is compiled once per schema)."""
    from localchain.models.constrained import GrammarLogitsProcessor, compile_json_schema

    grammar = compile_json_schema(lm.tokenizer, schema, vocab_size=lm.vocab_size)
    return cast("LogitsProcessor", GrammarLogitsProcessor([grammar]))


def _drive_while_busy(ref: weakref.ReferenceType[Scheduler]) -> None:
    """Worker-thread body: run steps while the scheduler has work and nobody else drives."""
    while True:
        scheduler = ref()
        if scheduler is None:
            return
        with scheduler._cond:
            if not scheduler._has_work():
                scheduler._work.driver = None
                return
            if scheduler._work.driving:
                scheduler._cond.wait(0.05)
                continue
            scheduler._work.driving = True
        try:
            scheduler._step()
        finally:
            with scheduler._cond:
                scheduler._work.driving = False
                scheduler._cond.notify_all()
        del scheduler


_SCHEDULERS_LOCK = threading.Lock()


def get_scheduler(
    lm: LoadedModel, *, max_batch: int | None = None, max_queue: int | None = None
) -> Scheduler:
    """The one scheduler for ``lm`` (created on first use), with its bounds updated if given."""
    with _SCHEDULERS_LOCK:
        scheduler = lm.services.get("scheduler")
        if not isinstance(scheduler, Scheduler) or scheduler._closed:
            scheduler = Scheduler(lm)
            lm.services["scheduler"] = scheduler
    scheduler.configure(max_batch=max_batch, max_queue=max_queue)
    return scheduler


__all__ = ["RequestHandle", "Scheduler", "SchedulerStats", "get_scheduler"]
