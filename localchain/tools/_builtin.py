"""What every built-in tool shares: errors come back to the model as error ``ToolMessage``s.

``BuiltinTool`` is a plain langchain-core ``BaseTool`` with two defaults set, not a new kind of
tool: ``handle_tool_error=True`` (a ``ToolException``'s message becomes the tool's output with
``status="error"``) and a ``handle_validation_error`` that names the bad arguments and lists the
expected ones. Any other langchain-core tool gets the same treatment from ``run_tool_call``.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any, ClassVar

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, create_model

from localchain.tools.calling import describe_validation_error


@lru_cache(maxsize=256)
def _patterned(schema: type[BaseModel], patterns: tuple[tuple[str, str], ...]) -> type[BaseModel]:
    """A copy of ``schema`` with a ``pattern`` on the named string fields.

    A copy, not a subclass: langchain-core caches the JSON schema of the class it makes, and a
    subclass would inherit that cache.
    """
    regexes = dict(patterns)
    fields: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        if name in regexes:
            info = Field(info.default, description=info.description, pattern=regexes[name])
            fields[name] = (str, info)
        else:
            fields[name] = (info.annotation, info)
    made: type[BaseModel] = create_model(schema.__name__, __doc__=schema.__doc__, **fields)
    return made


class BuiltinTool(BaseTool):
    """A ``BaseTool`` whose failures come back as error messages the model can act on."""

    handle_tool_error: Any = True
    """Return a ``ToolException``'s message as the tool's output (status "error")."""

    call_patterns: ClassVar[dict[str, str]] = {}
    """Regular expressions (by argument name) that the schema shown to models adds.

    They shape what a model writes, not what the tool accepts: ``ChatLocal``'s grammar holds
    the model to them (a SQL tool's query starts with ``SELECT``, so a 135M model writes a
    query, not a sentence), while the tool validates its arguments with ``args_schema`` and
    still answers anything else with its own clear error (a write statement is refused by
    name). Other chat models see them as part of the JSON schema.
    """

    @property
    def tool_call_schema(self) -> Any:
        """The arguments' schema shown to models: langchain-core's, with ``call_patterns``."""
        schema = super().tool_call_schema
        if not self.call_patterns or not (
            isinstance(schema, type) and issubclass(schema, BaseModel)
        ):
            return schema
        patterns = tuple(
            (name, regex)
            for name, regex in self.call_patterns.items()
            if name in schema.model_fields
        )
        return _patterned(schema, patterns) if patterns else schema

    def model_post_init(self, context: Any, /) -> None:
        """Describe argument errors with the expected arguments, unless set by the caller."""
        super().model_post_init(context)
        if not self.handle_validation_error:
            self.handle_validation_error = partial(describe_validation_error, tool=self)


def cut_text(text: str, max_chars: int, *, what: str = "output") -> str:
    """Cut ``text`` to ``max_chars`` characters, saying so at the end when it was cut."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n[... {what} cut at {max_chars} of {len(text)} characters]"


__all__ = ["BuiltinTool", "cut_text"]
