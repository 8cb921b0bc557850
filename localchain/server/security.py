"""The checks every request passes before a route sees it, as one ASGI middleware.

- Bound to loopback, the server answers only ``Host`` headers naming this machine (no DNS
  rebinding) and only same-origin browser requests (a page on another site cannot call it).
- With an API key, ``/v1`` and ``/app`` need ``Authorization: Bearer <key>`` (401 otherwise);
  the web page itself, ``/health`` and ``/metrics`` stay open.
- A request body over the size limit is refused with 413 before any route reads it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from localchain.server._http_errors import error_body
from localchain.server.config import LOOPBACK_HOSTS, ServerConfig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROTECTED_PREFIXES = ("/v1", "/app")
"""Paths that need the API key when one is set."""


def _hostname(netloc: str) -> str:
    """The host part of ``host[:port]`` (IPv6 in brackets kept as such)."""
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def is_loopback_host(netloc: str) -> bool:
    """Whether a ``Host`` header (``host[:port]``) names this machine."""
    host = _hostname(netloc.strip().lower())
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class GuardMiddleware:
    """Host, origin, API key and body-size checks, answered with OpenAI error objects."""

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        """Wrap ``app`` with the checks ``config`` asks for."""
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check an HTTP request, then pass it on (other scopes pass untouched)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            body = await self._read_body(receive, headers)
            if body is None:
                limit = self.config.max_body_bytes
                message = (
                    f"The request body is larger than this server's limit of {limit} bytes; "
                    "send less."
                )
                await _reply(send, 413, message, "invalid_request_error", "body_too_large")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refusal(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, str, str | None] | None:
        """``(status, message, type, code)`` when the request must be refused."""
        if self.config.loopback:
            host = headers.get("host", "")
            if not is_loopback_host(host):
                message = (
                    f"Host {host!r} is not this machine: a server bound to loopback answers "
                    "only localhost, 127.0.0.1 or [::1] (start it with --host to serve others)."
                )
                return 421, message, "invalid_request_error", "host_not_allowed"
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
                message = (
                    f"Cross-origin request from {origin!r} refused: only pages served by this "
                    "server may call it."
                )
                return 403, message, "permission_error", "origin_not_allowed"
        key = self.config.api_key
        path = scope.get("path", "")
        if key and any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES):
            given = headers.get("authorization", "")
            token = given[7:].strip() if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), key.encode()):
                message = (
                    "Incorrect API key provided."
                    if token
                    else "Missing API key: send "
                    "'Authorization: Bearer <key>' (the key the server was started with)."
                )
                return 401, message, "authentication_error", "invalid_api_key"
        return None

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes | None:
        """The whole body, or None when it is over the limit."""
        limit = self.config.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already-read body once, then defers to the original."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reply(send: Send, status: int, message: str, type_: str, code: str | None) -> None:
    payload = json.dumps(error_body(message, type_=type_, code=code)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


__all__ = ["PROTECTED_PREFIXES", "GuardMiddleware", "is_loopback_host"]
