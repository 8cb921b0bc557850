"""An OpenAI-compatible HTTP server for local models, with a web chat app.

``localchain serve`` (or :func:`serve`) runs it; :func:`create_app` builds the FastAPI app for
tests or embedding. The layout follows vLLM's ``entrypoints/openai/``: ``protocol`` (request
models), ``serving*`` (what each endpoint does), ``routes`` (the API router), and the web app's
files in ``web/`` (package data). Generation goes through the model's scheduler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.server.app import BackgroundServer, create_app, serve
    from localchain.server.config import ServerConfig
    from localchain.server.conversations import ConversationStore

_LAZY = {
    "BackgroundServer": "localchain.server.app",
    "create_app": "localchain.server.app",
    "serve": "localchain.server.app",
    "ServerConfig": "localchain.server.config",
    "ConversationStore": "localchain.server.conversations",
}

__all__ = ["BackgroundServer", "ConversationStore", "ServerConfig", "create_app", "serve"]

__getattr__ = lazy_getattr(__name__, _LAZY)
