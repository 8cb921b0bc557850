"""The sandbox's allowlists, as data: what syntax, names, attributes and modules a program may use.

Plain frozensets, tuples and dicts, read by the validator and the run-time guards in
``_policy.py``. Anything not listed here is refused. To allow something new, add it to the
narrowest table (a method to one type's tuple, not to every type) and add a legitimate program
using it, and an attack trying to abuse it, to ``tests/unit/sandbox/test_sandbox.py``.

Tables:

* ``ALLOWED_NODES``: AST node types a program may contain; ``REFUSED_SYNTAX`` gives the reason
  shown for common refused ones.
* ``SAFE_BUILTINS``: builtin names a program may read (``SAFE_EXCEPTIONS`` among them);
  ``DENIED_NAMES``: names refused anywhere, even as the program's own variables.
* ``TYPE_ATTRS``: per type (by dotted name), the attributes readable on its instances and on the
  type itself; ``EXCEPTION_ATTRS``: those readable on any exception.
* ``MODULE_ATTRS``: importable modules and the attributes their proxies expose
  (``ALLOWED_MODULES`` is its keys).
* ``ATTRIBUTE_NAMES``: every attribute name that may appear in a program (the union of the above);
  the run-time guard then checks the exact type.

Like ``_policy.py`` this module is stdlib-only and imports nothing else from localchain: the
sandbox child loads it in a fresh ``python -I -S`` interpreter.
"""

from __future__ import annotations

import ast

# --------------------------------------------------------------------------------------- syntax

ALLOWED_NODES: frozenset[type] = frozenset(
    {
        ast.Module, ast.Expr, ast.FunctionDef, ast.arguments, ast.arg, ast.Return,
        ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Pass, ast.Break, ast.Continue,
        ast.If, ast.For, ast.While, ast.Try, ast.ExceptHandler, ast.Raise, ast.Assert,
        ast.Import, ast.ImportFrom, ast.alias,
        ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.NamedExpr, ast.Lambda,
        ast.Call, ast.keyword, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred, ast.Name,
        ast.Constant, ast.JoinedStr, ast.FormattedValue,
        ast.List, ast.Tuple, ast.Dict, ast.Set,
        ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
        ast.Load, ast.Store, ast.Del,
        ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
        ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
        ast.UAdd, ast.USub, ast.Not, ast.Invert,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    }
)  # fmt: skip

REFUSED_SYNTAX: dict[str, str] = {
    "ClassDef": "class definitions (a class can define __repr__, __del__ and other hooks)",
    "AsyncFunctionDef": "async functions",
    "Await": "await",
    "AsyncFor": "async for",
    "AsyncWith": "async with",
    "With": "with statements (context managers run hidden code)",
    "Yield": "yield (generators expose frames)",
    "YieldFrom": "yield from",
    "Global": "global statements",
    "Nonlocal": "nonlocal statements",
    "Match": "match statements (class patterns read attributes)",
    "TryStar": "try/except* blocks",
    "MatMult": "the @ operator",
}

# ----------------------------------------------------------------------------------------- names

SAFE_EXCEPTIONS = (
    "ArithmeticError", "AssertionError", "Exception", "IndexError", "KeyError", "LookupError",
    "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "TypeError",
    "ValueError", "ZeroDivisionError",
)  # fmt: skip

SAFE_BUILTINS: frozenset[str] = frozenset(
    {
        "abs", "all", "any", "bool", "chr", "complex", "dict", "divmod", "enumerate", "filter",
        "float", "frozenset", "int", "isinstance", "iter", "len", "list", "map", "max", "min",
        "next", "ord", "pow", "print", "range", "repr", "reversed", "round", "set", "slice",
        "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
        *SAFE_EXCEPTIONS,
    }
)  # fmt: skip
"""Builtin names a program may use (``pow`` is size-guarded, ``print`` is captured and capped)."""

DENIED_NAMES: frozenset[str] = frozenset(
    {
        "eval", "exec", "compile", "open", "input", "breakpoint", "help", "exit", "quit",
        "getattr", "setattr", "delattr", "hasattr", "vars", "dir", "globals", "locals", "id",
        "type", "object", "super", "classmethod", "staticmethod", "property", "memoryview",
        "bytearray", "bytes", "format", "issubclass", "callable", "hash", "aiter", "anext",
        "copyright", "credits", "license", "Ellipsis", "NotImplemented", "BaseException",
        "GeneratorExit", "KeyboardInterrupt", "SystemExit",
        "os", "sys", "builtins", "importlib", "subprocess", "socket", "ctypes", "inspect", "gc",
        "operator", "string_formatter", "Formatter", "attrgetter", "methodcaller", "pickle",
        "marshal", "shutil", "pathlib", "signal", "threading", "multiprocessing", "asyncio",
    }
)  # fmt: skip
"""Refused anywhere, even as a program's own variable, so the error message is unambiguous."""

# ------------------------------------------------------------------------------------ attributes

_STR = (
    "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "index",
    "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
    "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
    "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind",
    "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
    "strip", "swapcase", "title", "translate", "upper", "zfill",
)  # fmt: skip
_LIST = ("append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
         "reverse", "sort")  # fmt: skip
_DICT = ("clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault",
         "update", "values")  # fmt: skip
_FROZENSET = ("copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
              "symmetric_difference", "union")  # fmt: skip
_SET = (*_FROZENSET, "add", "clear", "difference_update", "discard", "intersection_update",
        "pop", "remove", "symmetric_difference_update", "update")  # fmt: skip
_NUMBER = ("real", "imag", "conjugate")
_INT = (*_NUMBER, "bit_length", "bit_count", "numerator", "denominator", "as_integer_ratio")
_FLOAT = (*_NUMBER, "as_integer_ratio", "is_integer", "hex", "fromhex")
_FRACTION = (*_NUMBER, "numerator", "denominator", "limit_denominator", "as_integer_ratio",
             "from_float", "from_decimal")  # fmt: skip
_DECIMAL = (
    *_NUMBER, "adjusted", "as_integer_ratio", "compare", "copy_abs", "copy_negate", "copy_sign",
    "exp", "fma", "from_float", "is_finite", "is_infinite", "is_nan", "is_signed", "is_zero",
    "ln", "log10", "max", "min", "normalize", "quantize", "sqrt", "to_integral",
    "to_integral_value",
)  # fmt: skip
_DATE = ("year", "month", "day", "weekday", "isoweekday", "isoformat", "isocalendar",
         "strftime", "replace", "toordinal", "ctime", "today", "fromordinal", "fromisoformat",
         "fromisocalendar", "min", "max", "resolution")  # fmt: skip
_TIME = ("hour", "minute", "second", "microsecond", "isoformat", "strftime", "replace",
         "fromisoformat", "min", "max", "resolution")  # fmt: skip
_DATETIME = (*_DATE, *_TIME, "date", "time", "now", "strptime", "combine", "timestamp")
_TIMEDELTA = ("days", "seconds", "microseconds", "total_seconds", "min", "max", "resolution")
_DEQUE = ("append", "appendleft", "clear", "copy", "count", "extend", "extendleft", "index",
          "insert", "maxlen", "pop", "popleft", "remove", "reverse", "rotate")  # fmt: skip

TYPE_ATTRS: dict[str, tuple[str, ...]] = {
    "builtins.str": _STR,
    "builtins.list": _LIST,
    "builtins.dict": _DICT,
    "builtins.set": _SET,
    "builtins.frozenset": _FROZENSET,
    "builtins.tuple": ("count", "index"),
    "builtins.int": (*_INT, "from_bytes"),
    "builtins.bool": _INT,
    "builtins.float": _FLOAT,
    "builtins.complex": _NUMBER,
    "fractions.Fraction": _FRACTION,
    "decimal.Decimal": _DECIMAL,
    "datetime.date": _DATE,
    "datetime.time": _TIME,
    "datetime.datetime": _DATETIME,
    "datetime.timedelta": _TIMEDELTA,
    "collections.Counter": (*_DICT, "most_common", "elements", "subtract", "total"),
    "collections.OrderedDict": (*_DICT, "move_to_end"),
    "collections.defaultdict": _DICT,
    "collections.deque": _DEQUE,
    "itertools.chain": ("from_iterable",),
}
"""Attributes readable on instances of a type, and on the type itself (``str.lower``)."""

EXCEPTION_ATTRS = ("args",)
"""Attributes readable on exception instances (not ``__traceback__``, ``obj``, ``value``...)."""

_MATH = (
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb",
    "copysign", "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp", "exp2", "expm1",
    "fabs", "factorial", "floor", "fmod", "frexp", "fsum", "gamma", "gcd", "hypot", "inf",
    "isclose", "isfinite", "isinf", "isnan", "isqrt", "lcm", "ldexp", "lgamma", "log", "log10",
    "log1p", "log2", "modf", "nan", "nextafter", "perm", "pi", "pow", "prod", "radians",
    "remainder", "sin", "sinh", "sqrt", "tan", "tanh", "tau", "trunc", "ulp",
)  # fmt: skip

MODULE_ATTRS: dict[str, tuple[str, ...]] = {
    "math": _MATH,
    "fractions": ("Fraction",),
    "decimal": (
        "Decimal", "ROUND_CEILING", "ROUND_DOWN", "ROUND_FLOOR", "ROUND_HALF_DOWN",
        "ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_UP", "ROUND_05UP",
    ),
    "datetime": ("date", "datetime", "time", "timedelta", "MINYEAR", "MAXYEAR"),
    "statistics": (
        "fmean", "geometric_mean", "harmonic_mean", "mean", "median", "median_high",
        "median_low", "mode", "multimode", "pstdev", "pvariance", "quantiles", "stdev",
        "variance", "StatisticsError",
    ),
    "itertools": (
        "accumulate", "chain", "combinations", "combinations_with_replacement", "compress",
        "count", "cycle", "dropwhile", "filterfalse", "groupby", "islice", "pairwise",
        "permutations", "product", "repeat", "starmap", "takewhile", "zip_longest",
    ),
    "functools": ("reduce", "cmp_to_key", "lru_cache", "cache"),
    "collections": ("Counter", "OrderedDict", "defaultdict", "deque"),
    "string": (
        "ascii_letters", "ascii_lowercase", "ascii_uppercase", "capwords", "digits",
        "hexdigits", "octdigits", "printable", "punctuation", "whitespace",
    ),
    "random": (
        "choice", "choices", "gauss", "randint", "random", "randrange", "sample", "seed",
        "shuffle", "uniform",
    ),
}  # fmt: skip
"""Importable modules and the attributes their proxies expose. ``re`` is left out (ReDoS)."""

ALLOWED_MODULES: frozenset[str] = frozenset(MODULE_ATTRS)

ATTRIBUTE_NAMES: frozenset[str] = frozenset(
    {name for names in TYPE_ATTRS.values() for name in names}
    | {name for names in MODULE_ATTRS.values() for name in names}
    | set(EXCEPTION_ATTRS)
)
"""Every attribute name a program may write; the run-time guard then checks the exact type."""


__all__ = [
    "ALLOWED_MODULES",
    "ALLOWED_NODES",
    "ATTRIBUTE_NAMES",
    "DENIED_NAMES",
    "EXCEPTION_ATTRS",
    "MODULE_ATTRS",
    "REFUSED_SYNTAX",
    "SAFE_BUILTINS",
    "SAFE_EXCEPTIONS",
    "TYPE_ATTRS",
]
