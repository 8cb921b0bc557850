"""What every built-in tool shares: errors come back to the model as error ``ToolMessage``s.

``BuiltinTool`` is a plain langchain-core ``BaseTool`` with two defaults set, not a new kind of
tool: ``handle_tool_error=True`` (a ``ToolException``'s message becomes the tool's output with
``status="error"``) and a ``handle_validation_error`` that names the bad arguments and lists the
expected ones. Any other langchain-core tool gets the same treatment from ``run_tool_call``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Any, ClassVar

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, create_model

from localchain.models.tool_calling import PROMPT_ENUM
from localchain.tools.calling import describe_validation_error

MAX_NAMES = 500
"""Most names an argument's ``enum`` lists (the files under a folder, a graph's entities);
with more, the argument stays free text."""


def json_safe_names(names: Iterable[str], limit: int = MAX_NAMES) -> list[str] | None:
    """``names`` sorted and deduplicated, for an ``enum``; None when there are more than
    ``limit``, none at all, or one that JSON would escape (a quote, a backslash, a control
    character), which a grammar over the JSON text cannot hold to its value."""
    unique = sorted(set(names))
    if not unique or len(unique) > limit:
        return None
    if any(
        not name or any(ch in name for ch in '"\\') or not name.isprintable() for name in unique
    ):
        return None
    return unique


@lru_cache(maxsize=256)
def _shaped(schema: type[BaseModel], extras_json: str) -> type[BaseModel]:
    """A copy of ``schema`` whose named string fields carry extra JSON-schema keywords.

    A copy, not a subclass: langchain-core caches the JSON schema of the class it makes, and a
    subclass would inherit that cache. ``extras_json`` is ``{field: {keyword: value}}`` as JSON
    (hashable, for the cache).
    """
    extras: dict[str, dict[str, Any]] = json.loads(extras_json)
    fields: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        if name in extras:
            info = Field(info.default, description=info.description, json_schema_extra=extras[name])
            fields[name] = (str, info)
        else:
            fields[name] = (info.annotation, info)
    made: type[BaseModel] = create_model(schema.__name__, __doc__=schema.__doc__, **fields)
    return made


class BuiltinTool(BaseTool):
    """A ``BaseTool`` whose failures come back as error messages the model can act on."""

    handle_tool_error: Any = True
    """Return a ``ToolException``'s message as the tool's output (status "error")."""

    focus: str | None = None
    """The request (and what the tools answered so far) that :meth:`narrow_extras` narrows
    the schema keywords to; None: every value the data has. Set it on a copy with
    :meth:`focused`; it never changes what the tool accepts."""

    call_patterns: ClassVar[dict[str, str]] = {}
    """Regular expressions (by argument name) that the schema shown to models adds.

    They shape what a model writes, not what the tool accepts: ``ChatLocal``'s grammar holds
    the model to them (a SQL tool's query starts with ``SELECT``, so a 135M model writes a
    query, not a sentence), while the tool validates its arguments with ``args_schema`` and
    still answers anything else with its own clear error (a write statement is refused by
    name). Other chat models see them as part of the JSON schema.
    """

    def call_schema_extras(self) -> dict[str, dict[str, Any]]:
        """JSON-schema keywords (by argument name) that the schema shown to models adds.

        ``call_patterns`` as ``pattern`` by default. Tools over data add what exists there,
        read when the schema is asked for: the files under a folder or a graph's entities as an
        ``enum``, a database's own table and column names in the query's pattern. Like the
        patterns, they shape what a model writes (a 135M model otherwise invents ``notes.txt``
        or a table ``lamps``), not what the tool accepts.
        """
        return {name: {"pattern": regex} for name, regex in self.call_patterns.items()}

    def narrow_extras(
        self, extras: dict[str, dict[str, Any]], focus: str
    ) -> dict[str, dict[str, Any]]:
        """``extras`` (from :meth:`call_schema_extras`) narrowed to ``focus``; as they are by
        default. Tools over data narrow their ``enum``s to what ``focus`` names."""
        return extras

    def focused(self, text: str | None) -> BuiltinTool:
        """A copy whose argument schema is narrowed to ``text`` (a request, with what the
        tools answered so far), for the grammar; the prompt still lists every value
        (``PROMPT_ENUM``): ``read_file``'s ``path`` to the files that share the most
        words with it, the knowledge graph's entities and relations to those it names, a
        search's query to its words. A 135M model picked ``library.md`` for a bakery question
        and searched for ``todo.txt``; narrowed, it picks among what the request is about.
        Where nothing shares a word, the schema is as it was. Runs like the original."""
        return self.model_copy(update={"focus": text or None})

    def known_text(self, request: str) -> str | None:
        """Text of what this tool's data holds that ``request`` may name, for routing a
        request to the tool that knows its words (``localchain.agents``'s
        ``first_tool_choice="route"``): a graph's entities and relations, a database's tables,
        columns and text values, a folder's files, the passages a search finds. None (the
        default) for tools without data of their own, such as the calculator.
        """
        return None

    @property
    def tool_call_schema(self) -> Any:
        """The arguments' schema shown to models: langchain-core's, with ``call_schema_extras``."""
        schema = super().tool_call_schema
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return schema
        plain = self.call_schema_extras()
        extras = self.narrow_extras(plain, self.focus) if self.focus else plain
        for name, keywords in extras.items():  # the prompt lists what it listed unfocused
            full = plain.get(name, {}).get("enum")
            if "enum" in keywords and full is not None and full != keywords["enum"]:
                extras[name] = {**keywords, PROMPT_ENUM: full}
        extras = {
            name: keywords
            for name, keywords in extras.items()
            if name in schema.model_fields and keywords
        }
        return _shaped(schema, json.dumps(extras, sort_keys=True)) if extras else schema

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


KNOWN_TEXT_CHARS = 200_000
"""The most characters of its data a tool reads for ``known_text``."""


__all__ = ["KNOWN_TEXT_CHARS", "MAX_NAMES", "BuiltinTool", "cut_text", "json_safe_names"]
