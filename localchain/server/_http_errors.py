"""OpenAI-shaped error responses, and the mapping from localchain's errors to HTTP statuses.

Every error the server answers is ``{"error": {"message", "type", "param", "code"}}``: bad
requests are 400 (never FastAPI's 422), an unknown model 404, a missing or wrong key 401, a
full queue 429 with ``Retry-After``, and anything unexpected a 500 that keeps the server up.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from langchain_core.exceptions import OutputParserException
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from localchain.errors import (
    AdapterError,
    ConfigError,
    ContextLengthError,
    LocalchainError,
    ModelNotFoundError,
)
from localchain.server._backend import QueueFullError

logger = logging.getLogger("localchain.server")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    421: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
    504: "timeout_error",
}


class APIError(HTTPException):
    """An HTTP error answered with an OpenAI error object (raised inside route handlers)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Describe the error: status, a message saying what and how to fix it, and details."""
        super().__init__(status, message, headers=headers)
        self.message = message
        self.param = param
        self.code = code
        self.type = type_ or _TYPES.get(status, "invalid_request_error")


def error_body(
    message: str, *, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The ``{"error": {...}}`` object OpenAI's clients parse."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(error: APIError) -> JSONResponse:
    """The JSON response for an :class:`APIError`."""
    body = error_body(error.message, type_=error.type, param=error.param, code=error.code)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def from_exception(err: BaseException) -> APIError:
    """Map an exception raised while serving a request to the error the client gets."""
    if isinstance(err, APIError):
        return err
    if isinstance(err, QueueFullError):
        retry = str(max(1, math.ceil(getattr(err, "retry_after", 1.0))))
        return APIError(429, str(err), code="queue_full", headers={"Retry-After": retry})
    if isinstance(err, ContextLengthError):
        return APIError(400, str(err), param="messages", code="context_length_exceeded")
    if isinstance(err, ModelNotFoundError):
        return APIError(404, str(err), param="model", code="model_not_found")
    if isinstance(err, AdapterError):
        return APIError(400, str(err), param="model", code="adapter_error")
    if isinstance(err, ValidationError):
        return validation_error(err.errors())
    if isinstance(err, ConfigError | OutputParserException):
        return APIError(400, str(err))
    if isinstance(err, LocalchainError):
        return APIError(500, str(err), code=type(err).__name__)
    logger.exception("Unexpected error while serving a request", exc_info=err)
    return APIError(500, f"The server failed on this request ({type(err).__name__}); see its log.")


def validation_error(errors: Any) -> APIError:
    """A 400 naming the first invalid field of a request body."""
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
    param = ".".join(loc) or None
    reason = first.get("msg", "invalid value")
    where = f" at {param!r}" if param else ""
    message = f"Invalid request body{where}: {reason}."
    if first.get("type") == "missing":
        message = f"Missing required parameter: {param!r}."
    return APIError(400, message, param=param, code="invalid_value")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as an OpenAI error object (400 for validation, never 422)."""

    async def on_http_error(request: Request, err: Exception) -> JSONResponse:
        if isinstance(err, APIError):
            return error_response(err)
        assert isinstance(err, HTTPException)
        status = err.status_code
        return error_response(APIError(status, str(err.detail), headers=err.headers))

    async def on_validation_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        return error_response(validation_error(err.errors()))

    async def on_error(request: Request, err: Exception) -> JSONResponse:
        return error_response(from_exception(err))

    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_error)


__all__ = [
    "APIError",
    "error_body",
    "error_response",
    "from_exception",
    "install_error_handlers",
    "validation_error",
]
