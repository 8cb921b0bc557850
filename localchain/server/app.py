"""The app factory and the runner: :func:`create_app` builds the FastAPI app, :func:`serve` runs it.

``create_app`` loads the model (unless given one), attaches the configured adapters, starts the
model's scheduler and opens the conversation store; the app's shutdown closes the scheduler
(cancelling running rows) and the store. ``serve`` runs it under uvicorn, which stops taking
connections on SIGINT/SIGTERM and lets running requests finish for ``shutdown_timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from localchain import __version__
from localchain.server._backend import Scheduler, get_scheduler
from localchain.server._http_errors import install_error_handlers
from localchain.server.config import ServerConfig
from localchain.server.conversations import ConversationStore
from localchain.server.routes import build_router
from localchain.server.security import GuardMiddleware
from localchain.server.serving import ServerState
from localchain.server.web_routes import build_web_router, mount_web_app, web_directory

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from localchain.models.loading import LoadedModel

logger = logging.getLogger("localchain.server")


def _default_db_path() -> str:
    from localchain._cache import cache_dir

    return str(cache_dir("server") / "conversations.sqlite3")


def create_app(
    config: ServerConfig | None = None,
    *,
    loaded: LoadedModel | None = None,
    scheduler: Scheduler | Any | None = None,
    embeddings: Embeddings | None = None,
) -> FastAPI:
    """Build the OpenAI-compatible server app for one model.

    Args:
        config: The server's settings; defaults to ``ServerConfig()`` (the embedded model).
        loaded: An already loaded model to serve instead of loading ``config.model``.
        scheduler: The scheduler to submit requests to (anything with the scheduler's
            ``submit``/``stats``/``close``); default: the loaded model's own.
        embeddings: The model behind ``/v1/embeddings``; default: ``LocalEmbeddings`` of
            ``config.embedding_model``, loaded on the first request.

    Raises:
        ModelNotFoundError: The model is unknown or not available offline.
        AdapterError: A configured adapter is missing or fits another base.
        HistoryStoreError: The conversations database cannot be opened.
    """
    config = config or ServerConfig()
    if loaded is None:
        from localchain.models import load_model

        loaded = load_model(
            config.model, device=config.device, dtype=config.dtype, quantization=config.quantization
        )
    for name, path in config.adapters.items():
        if name not in loaded.adapters.names():
            loaded.adapters.add(name, path)
    tool_adapter = _attach_tool_adapter(loaded, config.tool_adapter)
    if scheduler is None:
        scheduler = get_scheduler(loaded, max_batch=config.max_batch, max_queue=config.max_queue)
    store = ConversationStore(config.db_path or _default_db_path())
    state = ServerState(
        config=config,
        lm=loaded,
        scheduler=scheduler,
        store=store,
        model_id=config.model_name or loaded.name,
        embeddings=embeddings,
        embedding_id=_embedding_id(config.embedding_model),
        tool_adapter=tool_adapter,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        logger.info("Shutting down: stopping running rows, closing the conversation store.")
        scheduler.close()
        store.close()

    app = FastAPI(
        title="localchain",
        version=__version__,
        summary="An OpenAI-compatible server for local models.",
        lifespan=lifespan,
        docs_url=None if config.loopback else "/docs",
        redoc_url=None,
    )
    app.state.localchain = state
    install_error_handlers(app)
    app.include_router(build_router(state))
    if config.web:
        app.include_router(build_web_router(state))
        mount_web_app(app, web_directory(config.web_dir))
    app.add_middleware(GuardMiddleware, config=config)
    return app


def _attach_tool_adapter(loaded: LoadedModel, choice: str | None) -> str | None:
    """The adapter name tool-offering requests on the base use, attached if need be.

    ``"auto"`` is the shipped tool-calling adapter when it was trained on the served model (none
    otherwise, logged); an attached adapter's name is used as it is; anything else is an
    adapter directory or a registered name, attached under its own name.

    Raises:
        AdapterError: The adapter is missing or fits another base.
    """
    from pathlib import Path

    from localchain.models.adapters import TOOL_CALLS_ADAPTER, find_adapter, shipped_adapter_fits

    if choice is None:
        return None
    if choice == "auto":
        if not shipped_adapter_fits(loaded.name, TOOL_CALLS_ADAPTER):
            logger.info(
                "tool_adapter='auto': the shipped %s adapter was not trained on %s; requests "
                "with tools run on the base model.",
                TOOL_CALLS_ADAPTER,
                loaded.name,
            )
            return None
        choice = TOOL_CALLS_ADAPTER
    if choice in loaded.adapters.names():
        return choice
    directory = find_adapter(choice)
    name = directory.name if Path(choice).expanduser().is_dir() else choice
    if name not in loaded.adapters.names():
        loaded.adapters.add(name, directory)
    return name


def _embedding_id(name: str) -> str:
    from pathlib import Path

    return Path(name).name if ("/" in name or "\\" in name) else name


def serve(config: ServerConfig | None = None, *, app: FastAPI | None = None) -> None:
    """Run the server under uvicorn until interrupted (SIGINT/SIGTERM shut it down cleanly).

    Args:
        config: The server's settings (host, port, model...).
        app: An app built by :func:`create_app` (default: one built from ``config``).
    """
    import uvicorn

    config = config or ServerConfig()
    app = app or create_app(config)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="info",
        timeout_graceful_shutdown=config.shutdown_timeout or None,
        proxy_headers=False,
        server_header=False,
    )


class BackgroundServer:
    """The server in a background thread of this process, for notebooks, scripts and tests.

    Example:
        .. code-block:: python

            with BackgroundServer(ServerConfig(port=0)) as server:  # port 0: any free port
                print(server.url)  # http://127.0.0.1:PORT; the API is under /v1
    """

    def __init__(self, config: ServerConfig | None = None, *, app: FastAPI | None = None) -> None:
        """Build the app (loading the model) now; :meth:`start` or ``with`` runs it."""
        import uvicorn

        self.config = config or ServerConfig()
        self.app = app or create_app(self.config)
        settings = uvicorn.Config(
            self.app, host=self.config.host, port=self.config.port, log_level="warning"
        )
        self._server = uvicorn.Server(settings)
        self._thread = threading.Thread(target=self._server.run, name="localchain-server")
        self.url = ""

    def start(self, timeout: float = 60.0) -> BackgroundServer:
        """Start serving and wait until the socket listens.

        Raises:
            TimeoutError: The server did not start within ``timeout`` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = f"The server did not start on {self.config.host}:{self.config.port}."
                raise TimeoutError(msg)
            time.sleep(0.05)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        return self

    def stop(self) -> None:
        """Shut down gracefully (running rows are stopped) and wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> BackgroundServer:
        """Start serving."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.stop()


__all__ = ["BackgroundServer", "create_app", "serve"]
