"""What every generation endpoint shares: the served model, its scheduler, and request plumbing.

:class:`ServerState` holds the loaded model, its scheduler, the embeddings, the conversation
store and the metrics. The helpers here pick the adapter a request's ``model`` names, build its
:class:`GenerationConfig`, submit its rows, and await their events with a deadline, stopping
the rows when the client goes away (:func:`row_events`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from localchain.models.generation import Completion, GenerationConfig, StreamEvent
from localchain.models.tool_relevance import ToolScorer
from localchain.server._backend import RequestHandle, Scheduler
from localchain.server._http_errors import APIError
from localchain.server.config import ServerConfig
from localchain.server.conversations import ConversationStore
from localchain.server.metrics import ServerMetrics
from localchain.server.protocol import MAX_CHOICES

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from localchain.models.loading import LoadedModel


@dataclass
class ServerState:
    """Everything the routes share for one served model."""

    config: ServerConfig
    lm: LoadedModel
    scheduler: Scheduler
    store: ConversationStore
    model_id: str
    """The name clients pass as ``model`` for the base model."""
    embeddings: Embeddings | None = None
    embedding_id: str = "all-minilm-l6-v2"
    metrics: ServerMetrics = field(default_factory=ServerMetrics)
    started: int = field(default_factory=lambda: int(time.time()))
    embed_lock: threading.Lock = field(default_factory=threading.Lock)
    tool_adapter: str | None = None
    """The attached adapter that chat requests on the base model use when they offer tools
    (``ServerConfig.tool_adapter``, resolved at start)."""
    _tool_scorer: ToolScorer | None = None

    def adapter_names(self) -> list[str]:
        """The adapters clients can name as ``model``."""
        return list(self.lm.adapters.names())

    def adapter_for(self, model: str) -> str | None:
        """The adapter a request's ``model`` selects (None for the base).

        Raises:
            APIError: 404 when no served model or adapter has that name.
        """
        if model == self.model_id:
            return None
        if model in self.adapter_names():
            return model
        served = ", ".join([self.model_id, *self.adapter_names()])
        msg = f"The model {model!r} does not exist on this server. Served models: {served}."
        raise APIError(404, msg, param="model", code="model_not_found")

    def get_embeddings(self) -> Embeddings:
        """The embeddings model, created on first use."""
        with self.embed_lock:
            if self.embeddings is None:
                from localchain.models.embeddings import LocalEmbeddings

                self.embeddings = LocalEmbeddings(model=self.config.embedding_model)
            return self.embeddings

    def tool_scorer(self) -> ToolScorer:
        """Scores tools against requests with the server's embeddings (created on first use)."""
        with self.embed_lock:
            if self._tool_scorer is None:  # loads nothing until it scores
                self._tool_scorer = ToolScorer(self.get_embeddings)
            return self._tool_scorer


def generation_config(
    *,
    max_tokens: int | None,
    temperature: float | None,
    top_p: float | None,
    seed: int | None,
    stop: list[str],
    default_max_tokens: int,
) -> GenerationConfig:
    """The GenerationConfig for an OpenAI request's sampling fields.

    ``top_p=0`` (nucleus sampling's limit) is greedy decoding; an absent temperature is greedy
    too (the localchain default, unlike OpenAI's 1.0).
    """
    greedy = top_p == 0
    return GenerationConfig(
        max_new_tokens=max_tokens or default_max_tokens,
        temperature=0.0 if greedy or temperature is None else temperature,
        top_p=1.0 if greedy or top_p is None else top_p,
        seed=seed,
        stop=stop,
    )


def with_seed(config: GenerationConfig, offset: int) -> GenerationConfig:
    """The config for choice ``offset`` of ``n``: its own seed, so sampled choices differ."""
    if offset == 0 or config.seed is None:
        return config
    return config.model_copy(update={"seed": config.seed + offset})


async def submit_rows(
    state: ServerState,
    prompts: Sequence[str],
    config: GenerationConfig,
    *,
    n: int,
    adapter: str | None,
    schema: dict[str, Any] | None = None,
    add_special_tokens: bool = True,
) -> list[RequestHandle]:
    """Submit ``n`` rows per prompt; on any failure cancel those already submitted.

    Raises:
        APIError: 400 when the request asks for more than ``MAX_CHOICES`` rows.
        QueueFullError, ConfigError, ContextLengthError, AdapterError: from the scheduler.
    """
    if len(prompts) * n > MAX_CHOICES:
        msg = (
            f"This request asks for {len(prompts) * n} completions ({len(prompts)} prompts x "
            f"n={n}); at most {MAX_CHOICES} are allowed per request."
        )
        raise APIError(400, msg, param="n")

    def submit_all() -> list[RequestHandle]:
        handles: list[RequestHandle] = []
        try:
            for prompt in prompts:
                for choice in range(n):
                    handles.append(
                        state.scheduler.submit(
                            prompt,
                            with_seed(config, choice),
                            adapter=adapter,
                            schema=schema,
                            add_special_tokens=add_special_tokens,
                        )
                    )
        except BaseException:
            for handle in handles:
                handle.cancel()
            raise
        return handles

    return await run_in_threadpool(submit_all)


async def wait_for_disconnect(request: Request) -> None:
    """Return when the client has gone away (its connection closed)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


@dataclass
class _Timing:
    start: float
    first: float | None = None
    last: float | None = None
    gaps: list[float] = field(default_factory=list)


async def row_events(
    state: ServerState,
    handles: Sequence[RequestHandle],
    request: Request,
    *,
    start: float,
) -> AsyncIterator[tuple[int, StreamEvent]]:
    """Yield ``(row, event)`` from all rows as they come, within the request's deadline.

    When the client disconnects or the consumer stops early, every row is cancelled (it leaves
    the batch within one decode step). Timings and token counts go to the metrics.

    Raises:
        APIError: 504 when the rows do not finish within ``config.request_timeout``.
    """
    loop = asyncio.get_running_loop()
    deadline = start + state.config.request_timeout
    queue: asyncio.Queue[tuple[int, StreamEvent | None, BaseException | None]] = asyncio.Queue()
    timings = [_Timing(start) for _ in handles]
    completions: list[Completion | None] = [None] * len(handles)

    async def pump(index: int, handle: RequestHandle) -> None:
        try:
            async for event in handle:
                await queue.put((index, event, None))
        except Exception as err:  # the row failed: hand the error to the consumer
            await queue.put((index, None, err))
            return
        await queue.put((index, None, None))

    pumps = [asyncio.create_task(pump(i, h)) for i, h in enumerate(handles)]
    watcher = asyncio.create_task(wait_for_disconnect(request))
    remaining = len(handles)
    try:
        while remaining:
            getter = asyncio.ensure_future(queue.get())
            timeout = deadline - loop.time()
            done, _ = await asyncio.wait(
                {getter, watcher}, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                if watcher in done:
                    return  # the client left: the finally block stops its rows
                msg = (
                    f"The request did not finish within {state.config.request_timeout:g} s "
                    "(the server's --request-timeout); ask for fewer tokens or retry later."
                )
                raise APIError(504, msg, code="timeout")
            index, event, error = getter.result()
            if error is not None:
                raise error
            if event is None:
                remaining -= 1
                continue
            now = loop.time()
            timing = timings[index]
            if event.text:
                if timing.first is None:
                    timing.first = now
                elif timing.last is not None:
                    timing.gaps.append(now - timing.last)
                timing.last = now
            if event.done:
                completions[index] = event.completion
            yield index, event
    finally:
        for handle in handles:
            handle.cancel()
        for task in [*pumps, watcher]:
            task.cancel()
        _record(state, timings, completions, loop.time())


def _record(
    state: ServerState,
    timings: list[_Timing],
    completions: list[Completion | None],
    now: float,
) -> None:
    for timing, completion in zip(timings, completions, strict=True):
        state.metrics.observe_generation(
            ttft=None if timing.first is None else timing.first - timing.start,
            gaps=timing.gaps,
            duration=now - timing.start,
            prompt_tokens=completion.prompt_tokens if completion else 0,
            completion_tokens=completion.completion_tokens if completion else 0,
        )


async def collect(
    state: ServerState, handles: Sequence[RequestHandle], request: Request, *, start: float
) -> list[Completion]:
    """Await every row's Completion (non-streaming requests).

    Raises:
        APIError: 504 past the deadline; 499 when the client disconnected first.
    """
    completions: list[Completion | None] = [None] * len(handles)
    async for index, event in row_events(state, handles, request, start=start):
        if event.done:
            completions[index] = event.completion
    if any(c is None for c in completions):
        raise APIError(499, "The client closed the request.", code="client_closed_request")
    return [c for c in completions if c is not None]


def usage(completions: Sequence[Completion], *, prompt_rows: int = 1) -> dict[str, int]:
    """OpenAI's usage object; a prompt shared by ``n`` choices counts once."""
    step = max(1, len(completions) // max(1, prompt_rows))
    prompt = sum(c.prompt_tokens for c in completions[::step])
    generated = sum(c.completion_tokens for c in completions)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }


__all__ = [
    "ServerState",
    "collect",
    "generation_config",
    "row_events",
    "submit_rows",
    "usage",
    "wait_for_disconnect",
    "with_seed",
]
