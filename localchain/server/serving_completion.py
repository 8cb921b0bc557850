"""``POST /v1/completions`` (raw text in, text out) and ``POST /v1/embeddings``."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from localchain.models.generation import Completion
from localchain.server._http_errors import APIError
from localchain.server.protocol import CompletionRequest, EmbeddingRequest
from localchain.server.serving import (
    ServerState,
    collect,
    generation_config,
    row_events,
    submit_rows,
    usage,
)

MAX_EMBEDDING_INPUTS = 2048
"""Most texts one embeddings request may carry (OpenAI's limit)."""


async def text_completion(
    state: ServerState, body: CompletionRequest, request: Request
) -> dict[str, Any] | AsyncIterator[str]:
    """Serve one completions request: the response dict, or the SSE lines of a streamed one."""
    start = time.monotonic()
    adapter = state.adapter_for(body.model)
    if body.echo:
        msg = "The parameter 'echo' is not supported by this server; leave it out."
        raise APIError(400, msg, param="echo")
    prompts = [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)
    if not prompts:
        raise APIError(400, "'prompt' is an empty list; give at least one prompt.", param="prompt")
    config = generation_config(
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=body.stop_list(),
        default_max_tokens=state.config.default_max_tokens,
    )
    handles = await submit_rows(state, prompts, config, n=body.n, adapter=adapter)
    request_id, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

    def envelope(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "id": request_id,
            "object": "text_completion",
            "created": created,
            "model": body.model,
            "choices": choices,
            "system_fingerprint": None,
            **extra,
        }

    if not body.stream:
        completions = await collect(state, handles, request, start=start)
        choices = [
            {"index": i, "text": c.text, "finish_reason": c.finish_reason, "logprobs": None}
            for i, c in enumerate(completions)
        ]
        return envelope(choices, usage=usage(completions, prompt_rows=len(prompts)))

    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def chunks() -> AsyncIterator[str]:
        done: list[Completion] = []
        extra = {"usage": None} if include_usage else {}
        async for index, event in row_events(state, handles, request, start=start):
            finish = None
            if event.done and event.completion is not None:
                done.append(event.completion)
                finish = event.completion.finish_reason
            if event.text or finish:
                choice = {"index": index, "text": event.text, "finish_reason": finish}
                data = envelope([{**choice, "logprobs": None}], **extra)
                yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
        if include_usage:
            data = envelope([], usage=usage(done, prompt_rows=len(prompts)))
            yield f"data: {json.dumps(data)}\n\n"
        yield "data: [DONE]\n\n"

    return chunks()


async def embeddings(state: ServerState, body: EmbeddingRequest) -> dict[str, Any]:
    """Embed the input texts with the server's embeddings model."""
    if body.model != state.embedding_id:
        msg = (
            f"The embeddings model {body.model!r} does not exist on this server; use "
            f"{state.embedding_id!r}."
        )
        raise APIError(404, msg, param="model", code="model_not_found")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts:
        raise APIError(400, "'input' is an empty list; give at least one text.", param="input")
    if len(texts) > MAX_EMBEDDING_INPUTS:
        msg = f"'input' holds {len(texts)} texts; at most {MAX_EMBEDDING_INPUTS} are allowed."
        raise APIError(400, msg, param="input")
    model = state.get_embeddings()

    def embed() -> list[list[float]]:
        return model.embed_documents(texts)

    vectors = await run_in_threadpool(embed)
    if body.dimensions is not None and vectors and body.dimensions != len(vectors[0]):
        msg = (
            f"This embeddings model returns {len(vectors[0])} dimensions; 'dimensions' cannot "
            f"change that (got {body.dimensions}). Leave it out."
        )
        raise APIError(400, msg, param="dimensions")
    data = []
    for index, vector in enumerate(vectors):
        value: list[float] | str = vector
        if body.encoding_format == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(len(text.split()) for text in texts)  # a word count: the usage estimate
    return {
        "object": "list",
        "data": data,
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


__all__ = ["MAX_EMBEDDING_INPUTS", "embeddings", "text_completion"]
