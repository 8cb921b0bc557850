"""Words that say what a text is about, and how many two texts share.

Routing a request to the tool whose data names its words (``localchain.agents``) and focusing
a tool's arguments on a request (``BuiltinTool.focused``) both count shared content words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "a an the of in on at by for to from with and or not is are was were be been has have had "
        "do does did how many much what which who whom whose where when why this that these those "
        "it its their there them they he she his her all each per between into over under about "
        "once than then also any some one two three give me my we our you your can could would "
        "should will shall may might must if so as up out day days time times total number"
    ).split()
)
"""Words too common to say which tool's data a request is about."""
WORD = re.compile(r"[^\W_]+")
"""A word: letters and digits."""
STEM_CHARS = 5
"""Two words of at least this many letters that begin alike this far count as the same word
in :func:`shared_words` (``founder`` and ``founded``, ``located`` and ``location``)."""


def content_words(text: str) -> set[str]:
    """The words of ``text`` that can say what it is about: case-folded, without a plural
    or possessive ``s``, stopwords and numbers left out."""
    words = set()
    for word in WORD.findall(text.casefold()):
        if word.isdigit() or len(word) < 2 or word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def shared_words(asked: Iterable[str], text: str) -> int:
    """How many of the content words ``asked`` appear in ``text``, as they are or with the
    same first :data:`STEM_CHARS` letters."""
    known = content_words(text)
    stems = {word[:STEM_CHARS] for word in known if len(word) >= STEM_CHARS}
    return sum(
        word in known or (len(word) >= STEM_CHARS and word[:STEM_CHARS] in stems)
        for word in set(asked)
    )


def most_shared(names: list[str], request: str, text_of: dict[str, str] | None = None) -> list[str]:
    """The ``names`` whose text (``text_of[name]``, else the name itself) shares the most
    content words with ``request``, in their order; all of them when none shares a word."""
    asked = content_words(request)
    if not asked:
        return names
    scores = {name: shared_words(asked, (text_of or {}).get(name, name)) for name in names}
    best = max(scores.values(), default=0)
    return [name for name in names if scores[name] == best] if best else names


def named_in(names: list[str], request: str) -> list[str]:
    """The ``names`` whose every content word is in ``request`` (``Brindle Library`` and
    ``Harrow Hill Observatory`` in a question about both), in their order; when there are
    none, :func:`most_shared`'s choice."""
    named = []
    for name in names:
        words = content_words(name)
        if words and shared_words(words, request) == len(words):
            named.append(name)
    return named or most_shared(names, request)


__all__ = [
    "STEM_CHARS",
    "STOPWORDS",
    "WORD",
    "content_words",
    "most_shared",
    "named_in",
    "shared_words",
]
