"""The OpenAI-compatible routes, ``/health`` and ``/metrics``, on one :class:`ServerState`.

Each route parses its body itself (so every mistake is a 400 OpenAI error naming the field,
never FastAPI's 422), refuses unsupported parameters by name, and turns any exception into an
error object: nothing a client sends reaches the scheduler unchecked or brings the server down.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError

from localchain.server._backend import attach_adapter, detach_adapter
from localchain.server._http_errors import (
    APIError,
    error_body,
    error_response,
    from_exception,
    validation_error,
)
from localchain.server.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    LoadLoraAdapterRequest,
    UnloadLoraAdapterRequest,
    check_parameters,
)
from localchain.server.serving import ServerState
from localchain.server.serving_chat import chat_completion
from localchain.server.serving_completion import embeddings, text_completion

_Body = TypeVar("_Body", bound=BaseModel)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def parse_body(request: Request, model: type[_Body]) -> _Body:
    """Read and check a JSON request body against ``model``.

    Raises:
        APIError: 400 for a body that is not a JSON object, a field that fails validation, or
            an unsupported or unknown parameter (named in ``param``).
    """
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        msg = (
            "The request body is not valid JSON: send a JSON object with "
            "'Content-Type: application/json'."
        )
        raise APIError(400, msg, code="invalid_json") from err
    if not isinstance(data, dict):
        msg = f"The request body must be a JSON object, got {type(data).__name__}."
        raise APIError(400, msg, code="invalid_json")
    try:
        body = model.model_validate(data)
    except ValidationError as err:
        raise validation_error(err.errors()) from err
    except RecursionError as err:
        raise APIError(400, "The request body is nested too deeply.") from err
    problem = check_parameters(body)  # type: ignore[arg-type]
    if problem is not None:
        raise APIError(400, problem[1], param=problem[0], code="unsupported_parameter")
    return body


_T = TypeVar("_T")


async def _answer(
    state: ServerState, endpoint: str, work: Callable[[], Awaitable[Any]]
) -> Response:
    """Run a route's work; answer its result (JSON or SSE) or its error, and count it."""
    try:
        result = await work()
    except Exception as err:
        error = from_exception(err)
        state.metrics.count_request(endpoint, error.status_code)
        return error_response(error)
    state.metrics.count_request(endpoint, 200)
    if isinstance(result, Response):
        return result
    if isinstance(result, dict):
        return JSONResponse(result)
    return StreamingResponse(_sse(result), media_type="text/event-stream", headers=SSE_HEADERS)


async def _sse(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Pass SSE lines through; an error mid-stream becomes an error event, then ``[DONE]``."""
    try:
        async for line in lines:
            yield line
    except Exception as err:
        error = from_exception(err)
        body = error_body(error.message, type_=error.type, param=error.param, code=error.code)
        yield f"data: {json.dumps(body)}\n\n"
        yield "data: [DONE]\n\n"


def build_router(state: ServerState) -> APIRouter:
    """The API routes for ``state``."""
    router = APIRouter()

    @router.post("/v1/chat/completions")
    async def create_chat_completion(request: Request) -> Response:
        async def work() -> Any:
            body = await parse_body(request, ChatCompletionRequest)
            return await chat_completion(state, body, request)

        return await _answer(state, "chat", work)

    @router.post("/v1/completions")
    async def create_completion(request: Request) -> Response:
        async def work() -> Any:
            body = await parse_body(request, CompletionRequest)
            return await text_completion(state, body, request)

        return await _answer(state, "completions", work)

    @router.post("/v1/embeddings")
    async def create_embeddings(request: Request) -> Response:
        async def work() -> Any:
            return await embeddings(state, await parse_body(request, EmbeddingRequest))

        return await _answer(state, "embeddings", work)

    @router.get("/v1/models")
    async def list_models() -> Response:
        async def work() -> Any:
            return {"object": "list", "data": model_cards(state)}

        return await _answer(state, "models", work)

    @router.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str) -> Response:
        async def work() -> Any:
            for card in model_cards(state):
                if card["id"] == model_id:
                    return card
            msg = f"The model {model_id!r} does not exist on this server."
            raise APIError(404, msg, param="model", code="model_not_found")

        return await _answer(state, "models", work)

    @router.post("/v1/load_lora_adapter")
    async def load_lora_adapter(request: Request) -> Response:
        async def work() -> Any:
            _check_adapter_loading(state)
            body = await parse_body(request, LoadLoraAdapterRequest)
            if body.lora_name == state.model_id:
                msg = f"{body.lora_name!r} is the base model's name; pick another adapter name."
                raise APIError(400, msg, param="lora_name")
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(attach_adapter, state.scheduler, body.lora_name, body.lora_path)
            message = f"Success: LoRA adapter '{body.lora_name}' added successfully."
            return PlainTextResponse(message)

        return await _answer(state, "load_lora_adapter", work)

    @router.post("/v1/unload_lora_adapter")
    async def unload_lora_adapter(request: Request) -> Response:
        async def work() -> Any:
            _check_adapter_loading(state)
            body = await parse_body(request, UnloadLoraAdapterRequest)
            if body.lora_name not in state.adapter_names():
                msg = f"No adapter named {body.lora_name!r} is loaded."
                raise APIError(404, msg, param="lora_name", code="model_not_found")
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(detach_adapter, state.scheduler, body.lora_name)
            message = f"Success: LoRA adapter '{body.lora_name}' removed successfully."
            return PlainTextResponse(message)

        return await _answer(state, "unload_lora_adapter", work)

    @router.get("/health")
    async def health() -> Response:
        stats = state.scheduler.stats()
        return JSONResponse(
            {
                "status": "ok",
                "model": state.model_id,
                "queue_depth": stats.queue_depth,
                "running_rows": stats.running_rows,
            }
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        text = state.metrics.render(state.scheduler.stats())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return router


def _check_adapter_loading(state: ServerState) -> None:
    if not state.config.allow_adapter_loading:
        msg = (
            "Loading and unloading adapters is off on this server; start it with "
            "--allow-adapter-loading to enable it."
        )
        raise APIError(403, msg, code="adapter_loading_disabled")


def model_cards(state: ServerState) -> list[dict[str, Any]]:
    """The ``/v1/models`` entries: the base, each adapter (with ``parent``), the embeddings."""
    card = {"object": "model", "created": state.started, "owned_by": "localchain"}
    context = state.lm.context_length
    cards = [
        {**card, "id": state.model_id, "root": state.model_id, "parent": None,
         "max_model_len": context, "kind": "chat"},
    ]  # fmt: skip
    for name in state.adapter_names():
        cards.append(
            {**card, "id": name, "root": state.model_id, "parent": state.model_id,
             "max_model_len": context, "kind": "chat"}
        )  # fmt: skip
    cards.append(
        {**card, "id": state.embedding_id, "root": state.embedding_id, "parent": None,
         "kind": "embedding"}
    )  # fmt: skip
    return cards


__all__ = ["SSE_HEADERS", "build_router", "model_cards", "parse_body"]
