"""What a sandboxed program may return: its entry function's value, converted to plain JSON data.

Runs in the sandbox child, after the program, on whatever the entry function returned. Only
exact types are accepted and no hook of the value (``__iter__``, ``__repr__``...) is called, so a
returned object cannot run code in the child after the program has finished.

Stdlib-only, imports nothing from localchain: the child loads it next to ``_policy.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_RESULT_INT_BITS = 3_400
"""Returned ints must fit in about 1,000 decimal digits."""
MAX_RESULT_DEPTH = 50
"""Returned containers may nest this deep."""


class ResultNotPlain(Exception):
    """The entry function returned something that is not plain JSON-able data."""


def to_plain(value: Any, max_size: int) -> Any:
    """Convert a returned value to plain JSON data, checking exact types (no hooks run).

    Rules: ``None``, ``bool``, ``int`` (up to about 1,000 digits), ``float`` and ``str`` pass as
    they are; ``list``, ``tuple`` and ``deque`` become lists; ``dict``, ``Counter``,
    ``OrderedDict`` and ``defaultdict`` with ``str`` keys become dicts; ``set`` and ``frozenset``
    become sorted lists; ``Fraction`` and ``Decimal`` become an ``int`` when whole, else a
    ``float``; ``date``, ``time`` and ``datetime`` become ISO-format strings. Anything else
    (``timedelta``, ``complex``, functions, iterators, module proxies...) is refused.

    Args:
        value: What the entry function returned.
        max_size: Rough cap on the JSON size, enforced while walking so that a huge result
            stops early.

    Raises:
        ResultNotPlain: Naming the type that cannot be returned, or saying the result is too big.
    """
    walker = _Walker(_default_converters(), max_size)
    return walker.walk(value, 0)


class _Walker:
    def __init__(self, table: dict[type, Callable[[Any], Any]], max_size: int) -> None:
        self.table = table
        self.budget = max_size

    def spend(self, size: int) -> None:
        self.budget -= size
        if self.budget < 0:
            msg = "the result is larger than the output limit"
            raise ResultNotPlain(msg)

    def walk(self, value: Any, depth: int) -> Any:
        if depth > MAX_RESULT_DEPTH:
            msg = f"the result is nested more than {MAX_RESULT_DEPTH} levels deep"
            raise ResultNotPlain(msg)
        cls = type(value)
        self.spend(len(value) + 2 if cls is str else 4)
        if value is None or cls in (bool, str, float):
            return value
        if cls is int:
            if value.bit_length() > MAX_RESULT_INT_BITS:
                msg = "the result has an int of more than about 1,000 digits; return str(n) instead"
                raise ResultNotPlain(msg)
            return value
        kind = self.table.get(cls)
        if kind is list:
            return [self.walk(item, depth + 1) for item in value]
        if kind is dict:
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    msg = f"dict keys in the result must be str, not {type(key).__name__}"
                    raise ResultNotPlain(msg)
                self.spend(len(key) + 4)
                out[key] = self.walk(item, depth + 1)
            return out
        if kind is set:
            items = [self.walk(item, depth + 1) for item in value]
            try:
                return sorted(items)
            except TypeError:
                msg = "a returned set mixes types that cannot be sorted; return a list instead"
                raise ResultNotPlain(msg) from None
        if kind is not None:
            return self.walk(kind(value), depth + 1)
        msg = (
            f"the result contains a {cls.__name__} object, which is not plain data; return "
            "None, bool, int, float, str, or a list or dict (str keys) of those"
        )
        raise ResultNotPlain(msg)


def _fraction(value: Any) -> int | float:
    if value.denominator == 1:
        return value.numerator
    try:
        return float(value)
    except OverflowError:
        msg = "a returned Fraction is too large for a float"
        raise ResultNotPlain(msg) from None


def _decimal(value: Any) -> int | float:
    if not value.is_finite():
        return float(value)
    if value.adjusted() > 1000:
        msg = "a returned Decimal has more than 1,000 digits; return str(d)"
        raise ResultNotPlain(msg)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _default_converters() -> dict[type, Callable[[Any], Any]]:
    import collections
    import datetime
    import decimal
    import fractions

    def iso(value: Any) -> str:
        return value.isoformat()

    return {
        list: list,
        tuple: list,
        collections.deque: list,
        dict: dict,
        collections.Counter: dict,
        collections.OrderedDict: dict,
        collections.defaultdict: dict,
        set: set,
        frozenset: set,
        fractions.Fraction: _fraction,
        decimal.Decimal: _decimal,
        datetime.date: iso,
        datetime.datetime: iso,
        datetime.time: iso,
    }
