"""The web chat app: its static files at ``/`` and its conversations under ``/app``.

The files live in ``localchain/server/web/`` (package data, so a wheel install serves them);
``ServerConfig.web_dir`` points elsewhere for a development copy. Conversations are kept in
SQLite by :class:`~localchain.server.conversations.ConversationStore`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.staticfiles import StaticFiles

from localchain.server._http_errors import APIError, error_response, from_exception
from localchain.server.conversations import MAX_TITLE
from localchain.server.routes import parse_body
from localchain.server.serving import ServerState

MAX_MESSAGES = 2000
"""Most messages one stored conversation may hold."""


class ConversationBody(BaseModel):
    """A conversation as the web app creates or updates it."""

    title: str | None = Field(None, max_length=MAX_TITLE)
    model: str | None = Field(None, max_length=200)
    messages: list[dict[str, Any]] | None = Field(None, max_length=MAX_MESSAGES)


def web_directory(override: Path | None = None) -> Path:
    """The directory holding ``index.html`` and the app's scripts."""
    if override is not None:
        return Path(override)
    return Path(str(resources.files("localchain.server") / "web"))


def build_web_router(state: ServerState) -> APIRouter:
    """The ``/app/conversations`` routes."""
    router = APIRouter(prefix="/app")
    store = state.store

    async def body_of(request: Request) -> ConversationBody:
        return await parse_body(request, ConversationBody)

    def missing(conversation_id: str) -> APIError:
        msg = f"No conversation with id {conversation_id!r}."
        return APIError(404, msg, param="id", code="conversation_not_found")

    async def guarded(work: Any) -> Response:
        try:
            return JSONResponse(await work())
        except Exception as err:
            return error_response(from_exception(err))

    @router.get("/conversations")
    async def list_conversations() -> Response:
        async def work() -> Any:
            return {"object": "list", "data": store.list()}

        return await guarded(work)

    @router.post("/conversations")
    async def create_conversation(request: Request) -> Response:
        async def work() -> Any:
            body = await body_of(request)
            return store.create(body.title or "New chat", body.model, body.messages)

        return await guarded(work)

    @router.get("/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str) -> Response:
        async def work() -> Any:
            found = store.get(conversation_id)
            if found is None:
                raise missing(conversation_id)
            return found

        return await guarded(work)

    @router.patch("/conversations/{conversation_id}")
    async def update_conversation(conversation_id: str, request: Request) -> Response:
        async def work() -> Any:
            body = await body_of(request)
            found = store.update(
                conversation_id, title=body.title, model=body.model, messages=body.messages
            )
            if found is None:
                raise missing(conversation_id)
            return found

        return await guarded(work)

    @router.delete("/conversations/{conversation_id}")
    async def delete_conversation(conversation_id: str) -> Response:
        async def work() -> Any:
            if not store.delete(conversation_id):
                raise missing(conversation_id)
            return {"id": conversation_id, "deleted": True}

        return await guarded(work)

    return router


def mount_web_app(app: FastAPI, directory: Path) -> None:
    """Serve ``index.html`` at ``/`` and the other files under ``/static``."""
    index = directory / "index.html"
    if not index.is_file():
        return

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return FileResponse(index, headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=directory), name="static")


_PAGE_HEADERS = {
    # Scripts only from this server; no inline scripts, no plugins, no framing.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


__all__ = ["MAX_MESSAGES", "ConversationBody", "build_web_router", "mount_web_app", "web_directory"]
