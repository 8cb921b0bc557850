"""The sandbox policy: the validator on the AST, the guard rewriter, and the run-time guards.

This module is stdlib-only and imports nothing from localchain but its sibling ``_allowlist.py``
(the tables it enforces), because the sandbox child loads both in a fresh ``python -I -S``
interpreter, without localchain's package ``__init__``, and re-validates every program with them.

Everything is an allowlist (the tables live in ``_allowlist.py``). A program may use only:

* the syntax nodes in ``ALLOWED_NODES`` (no classes, ``global``/``nonlocal``, ``with``, ``async``,
  ``yield``, ``match``, decorators, ``try*``; see ``REFUSED_SYNTAX`` for the reasons given);
* names it binds itself, plus the builtins in ``SAFE_BUILTINS``; no name may start with ``_``
  (except the throwaway ``_``), and the names in ``DENIED_NAMES`` are refused even as variables;
* attribute names in ``ATTRIBUTE_NAMES`` (the union of the per-type allowlists); at run time
  every attribute read goes through a guard that checks the allowlist of the object's exact type;
* ``import`` of the modules in ``MODULE_ATTRS``, which binds a ``ModuleProxy`` exposing only the
  listed attributes, never the module object (so ``fractions.sys`` or ``random._os`` do not exist);
* string constants that do not spell a dunder name.

Identifiers are validated on the parsed AST, where Python has already NFKC-normalised them, so a
look-alike such as ``ｅval`` is checked as ``eval``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any

from localchain.sandbox._allowlist import (
    ALLOWED_NODES,
    ATTRIBUTE_NAMES,
    DENIED_NAMES,
    EXCEPTION_ATTRS,
    MODULE_ATTRS,
    REFUSED_SYNTAX,
    SAFE_BUILTINS,
    TYPE_ATTRS,
)

MAX_SOURCE_CHARS = 50_000
"""Default cap on program size, checked before parsing."""
MAX_AST_NODES = 20_000
"""Cap on the number of AST nodes."""
MAX_AST_DEPTH = 120
"""Cap on AST nesting; keeps the compiler's recursion (and ours) far from its limits."""
MAX_POW_BITS = 1_000_000
"""``a ** b`` whose result would exceed this many bits is stopped before it is computed."""

ATTR_GUARD = "__lc_attr__"
POW_GUARD = "__lc_pow__"
PROGRAM_FILENAME = "<program>"

_DUNDER_IN_TEXT = re.compile(r"__[A-Za-z][A-Za-z0-9_]*__")

# ------------------------------------------------------------------------------------ validation


class PolicyViolation(Exception):
    """A program breaks the policy (or does not parse).

    Attributes:
        reason: What was refused, in words.
        line: 1-based line of the offending code, if known.
        col: 1-based column of the offending code, if known.
        syntax: True when the program does not parse at all.
    """

    def __init__(
        self, reason: str, line: int | None = None, col: int | None = None, *, syntax: bool = False
    ) -> None:
        where = f" (line {line}, column {col})" if line is not None and col is not None else ""
        where = where or (f" (line {line})" if line is not None else "")
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.line = line
        self.col = col
        self.syntax = syntax


def _where(node: ast.AST, fallback: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
    line = getattr(node, "lineno", None)
    if line is None:
        return fallback
    return line, getattr(node, "col_offset", 0) + 1


def _check_identifier(name: str, what: str, where: tuple[int | None, int | None]) -> None:
    if name != "_" and name.startswith("_"):
        msg = f"{what} {name!r}: names starting with an underscore are not allowed"
        raise PolicyViolation(msg, *where)
    if name in DENIED_NAMES:
        msg = f"{what} {name!r} is not allowed in the sandbox"
        raise PolicyViolation(msg, *where)


def parse_program(source: str, *, max_source_chars: int = MAX_SOURCE_CHARS) -> ast.Module:
    """Parse a program defensively: size-capped, and every parser failure becomes a refusal.

    Raises:
        PolicyViolation: The source is too large, holds a null byte, is too deeply nested, or
            is not valid Python.
    """
    if not isinstance(source, str):
        msg = f"the program must be a str, got {type(source).__name__}"
        raise PolicyViolation(msg)
    if len(source) > max_source_chars:
        msg = f"the program is {len(source):,} characters long; the limit is {max_source_chars:,}"
        raise PolicyViolation(msg)
    if "\x00" in source:  # refused by name, whatever this Python's parser makes of it
        line = source.count("\n", 0, source.index("\x00")) + 1
        msg = "the program contains a null byte (\\x00)"
        raise PolicyViolation(msg, line)
    try:
        return ast.parse(source, filename=PROGRAM_FILENAME, mode="exec")
    except SyntaxError as err:
        reason = f"syntax error: {err.msg}"
        raise PolicyViolation(reason, err.lineno, err.offset, syntax=True) from None
    except (RecursionError, MemoryError, OverflowError):
        msg = "the program is too deeply nested or too complex to parse"
        raise PolicyViolation(msg) from None
    except ValueError as err:  # e.g. an int literal over the digit limit, on some versions
        msg = f"the program cannot be parsed: {err}"
        raise PolicyViolation(msg) from None


def validate_tree(tree: ast.Module, *, entry: str | None = None) -> None:
    """Check a parsed program against the policy (iteratively: deep trees cannot crash it).

    Args:
        tree: The parsed module.
        entry: When given, the name of a function the module must define at top level.

    Raises:
        PolicyViolation: The first thing refused, with its line and column.
    """
    bound: set[str] = set()
    loads: list[tuple[str, tuple[int | None, int | None]]] = []
    count = 0
    stack: list[tuple[ast.AST, int, tuple[int | None, int | None]]] = [(tree, 0, (None, None))]
    while stack:
        node, depth, parent_where = stack.pop()
        count += 1
        where = _where(node, parent_where)
        if count > MAX_AST_NODES:
            msg = f"the program has more than {MAX_AST_NODES:,} syntax nodes"
            raise PolicyViolation(msg)
        if depth > MAX_AST_DEPTH:
            msg = f"the program is nested more than {MAX_AST_DEPTH} levels deep"
            raise PolicyViolation(msg, *where)
        _check_node(node, where, bound, loads)
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, depth + 1, where) for child in reversed(children))  # source order
    for name, where in loads:
        if name not in bound and name not in SAFE_BUILTINS:
            msg = f"name {name!r} is not defined and is not an allowed builtin"
            raise PolicyViolation(msg, *where)
    if entry is not None:
        _check_entry(tree, entry)


def _check_entry(tree: ast.Module, entry: str) -> None:
    if not entry.isidentifier() or entry.startswith("_") or entry in DENIED_NAMES:
        msg = f"the entry point {entry!r} is not an allowed function name"
        raise PolicyViolation(msg)
    defined = any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body)
    if not defined:
        msg = f"the program defines no top-level function {entry!r}: write `def {entry}(): ...`"
        raise PolicyViolation(msg)


def _check_node(
    node: ast.AST,
    where: tuple[int | None, int | None],
    bound: set[str],
    loads: list[tuple[str, tuple[int | None, int | None]]],
) -> None:
    kind = type(node)
    if kind not in ALLOWED_NODES:
        what = REFUSED_SYNTAX.get(kind.__name__, f"{kind.__name__} syntax")
        msg = f"{what} is not allowed in the sandbox"
        raise PolicyViolation(msg, *where)
    if kind is ast.Name:
        _check_identifier(node.id, "name", where)
        if isinstance(node.ctx, ast.Load):
            loads.append((node.id, where))
        else:
            bound.add(node.id)
    elif kind is ast.Attribute:
        if not isinstance(node.ctx, ast.Load):
            msg = f"assigning or deleting attribute {node.attr!r}"
            raise PolicyViolation(msg, *where)
        _check_identifier(node.attr, "attribute", where)
        if node.attr not in ATTRIBUTE_NAMES:
            msg = f"attribute {node.attr!r} is not on the allowlist"
            raise PolicyViolation(msg, *where)
    elif kind is ast.FunctionDef:
        _check_identifier(node.name, "function", where)
        if node.decorator_list:
            msg = "decorators are not allowed in the sandbox"
            raise PolicyViolation(msg, *where)
        bound.add(node.name)
    elif kind is ast.arg:
        _check_identifier(node.arg, "argument", where)
        bound.add(node.arg)
    elif kind is ast.keyword and node.arg is not None:
        _check_identifier(node.arg, "keyword argument", where)
    elif kind is ast.ExceptHandler and node.name is not None:
        _check_identifier(node.name, "exception name", where)
        bound.add(node.name)
    elif kind is ast.Import:
        for alias in node.names:
            _check_module(alias.name, where)
            if alias.asname is not None:
                _check_identifier(alias.asname, "import alias", where)
            bound.add(alias.asname or alias.name)
    elif kind is ast.ImportFrom:
        if node.level or node.module is None:
            msg = "relative imports are not allowed in the sandbox"
            raise PolicyViolation(msg, *where)
        _check_module(node.module, where)
        for alias in node.names:
            if alias.name not in MODULE_ATTRS[node.module]:
                msg = f"importing {alias.name!r} from {node.module!r} is not allowed"
                raise PolicyViolation(msg, *where)
            if alias.asname is not None:
                _check_identifier(alias.asname, "import alias", where)
            bound.add(alias.asname or alias.name)
    elif kind is ast.Constant:
        _check_constant(node.value, where)
    elif kind is ast.AugAssign and isinstance(node.op, ast.Pow):
        if not isinstance(node.target, ast.Name):
            msg = "`**=` on an item; write `x[i] = x[i] ** y` instead"
            raise PolicyViolation(msg, *where)
    elif kind is ast.comprehension and node.is_async:
        msg = "async comprehensions are not allowed in the sandbox"
        raise PolicyViolation(msg, *where)


def _check_module(name: str, where: tuple[int | None, int | None]) -> None:
    if name not in MODULE_ATTRS:
        allowed = ", ".join(sorted(MODULE_ATTRS))
        msg = f"import of module {name!r} is not allowed (allowed: {allowed})"
        raise PolicyViolation(msg, *where)


def _check_constant(value: object, where: tuple[int | None, int | None]) -> None:
    if value is None or type(value) in (bool, int, float, complex):
        return
    if type(value) is str:
        found = _DUNDER_IN_TEXT.search(value)
        if found:
            msg = f"string constants may not spell a dunder name ({found.group()!r})"
            raise PolicyViolation(msg, *where)
        return
    msg = f"{type(value).__name__} constants are not allowed"
    raise PolicyViolation(msg, *where)


def validate(
    source: str, *, entry: str | None = None, max_source_chars: int = MAX_SOURCE_CHARS
) -> ast.Module:
    """Parse and validate a program.

    Args:
        source: Python source text.
        entry: When given, the top-level function the program must define.
        max_source_chars: Size cap, checked before parsing.

    Returns:
        The parsed (unmodified) module.

    Raises:
        PolicyViolation: The program is refused or does not parse.
    """
    tree = parse_program(source, max_source_chars=max_source_chars)
    validate_tree(tree, entry=entry)
    return tree


# ------------------------------------------------------------------------------------ rewriting


class _GuardRewriter(ast.NodeTransformer):
    """Route every attribute read and every ``**`` through the run-time guards."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = self.visit(node.value)
        call = ast.Call(
            func=ast.Name(id=ATTR_GUARD, ctx=ast.Load()),
            args=[value, ast.Constant(value=node.attr)],
            keywords=[],
        )
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Pow):
            return node
        call = ast.Call(
            func=ast.Name(id=POW_GUARD, ctx=ast.Load()), args=[node.left, node.right], keywords=[]
        )
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Pow) or not isinstance(node.target, ast.Name):
            return node
        load = ast.Name(id=node.target.id, ctx=ast.Load())
        call = ast.Call(func=ast.Name(id=POW_GUARD, ctx=ast.Load()), args=[load, node.value])
        call.keywords = []
        return ast.copy_location(ast.Assign(targets=[node.target], value=call), node)


def rewrite(tree: ast.Module) -> ast.Module:
    """Return the validated tree with attribute reads and powers routed through the guards."""
    new = _GuardRewriter().visit(tree)
    return ast.fix_missing_locations(new)


# ------------------------------------------------------------------------------------- run time


class ModuleProxy:
    """Stands in for an allowed module: only the allowlisted attributes exist on it."""

    __slots__ = ("_lc_attrs", "_lc_name")

    def __init__(self, name: str, attrs: dict[str, Any]) -> None:
        object.__setattr__(self, "_lc_name", name)
        object.__setattr__(self, "_lc_attrs", attrs)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._lc_attrs[name]
        except KeyError:
            msg = f"module {self._lc_name!r} has no allowed attribute {name!r}"
            raise AttributeError(msg) from None

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"module {self._lc_name!r} is read-only in the sandbox"
        raise AttributeError(msg)

    def __repr__(self) -> str:
        return f"<sandboxed module {self._lc_name!r}>"


class OutputLimitExceeded(BaseException):
    """Raised inside the child when the program prints more than allowed."""


def _resolve(dotted: str) -> Any:
    import importlib

    module, _, qualname = dotted.rpartition(".")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class Runtime:
    """The objects a validated program runs with: guarded builtins, proxies and captured output.

    Built in the sandbox child, before the rlimits are set and imports are blocked.

    Args:
        max_output_chars: How many characters ``print`` may produce in total.
    """

    def __init__(self, max_output_chars: int) -> None:
        import builtins
        import importlib

        self.max_output_chars = max_output_chars
        self.output: list[str] = []
        self.output_size = 0
        self.output_exceeded = False
        self.proxies: dict[str, ModuleProxy] = {}
        for name, attrs in MODULE_ATTRS.items():
            module = importlib.import_module(name)
            exposed = {a: getattr(module, a) for a in attrs if hasattr(module, a)}
            self.proxies[name] = ModuleProxy(name, exposed)
        self.type_attrs: dict[type, frozenset[str]] = {
            _resolve(dotted): frozenset(names) for dotted, names in TYPE_ATTRS.items()
        }
        self.builtins: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
        self.builtins.update(
            {
                "pow": self.guarded_pow,
                "print": self.captured_print,
                "__import__": self.guarded_import,
                ATTR_GUARD: self.guarded_attr,
                POW_GUARD: self.guarded_pow,
            }
        )

    def guarded_attr(self, obj: Any, name: str) -> Any:
        """Read ``obj.name`` only if ``name`` is allowlisted for the exact type of ``obj``."""
        cls = type(obj)
        if cls is ModuleProxy:
            attrs = object.__getattribute__(obj, "_lc_attrs")
            if name not in attrs:
                module = object.__getattribute__(obj, "_lc_name")
                msg = f"module {module!r} has no allowed attribute {name!r}"
                raise AttributeError(msg)
            return attrs[name]
        if isinstance(obj, type):
            allowed = self.type_attrs.get(obj)
        elif isinstance(obj, BaseException):
            allowed = frozenset(EXCEPTION_ATTRS)
        else:
            allowed = self.type_attrs.get(cls)
        if allowed is None or name not in allowed:
            msg = f"attribute {name!r} of {cls.__name__} objects is not allowed in the sandbox"
            raise AttributeError(msg)
        return getattr(obj, name)

    @staticmethod
    def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
        """``pow`` that refuses integer and fraction powers too large to compute quickly."""
        if mod is None and type(exp) in (int, bool):
            size = _bits(base)
            steps = exp if type(base) in (int, bool) else abs(exp)
            if size > 1 and steps * size > MAX_POW_BITS:
                msg = (
                    f"the power would have about {int(steps * size * 0.30103):,} digits, over the "
                    f"sandbox limit of {int(MAX_POW_BITS * 0.30103):,}"
                )
                raise MemoryError(msg)
        if mod is None:
            return base**exp
        return pow(base, exp, mod)

    def captured_print(self, *args: Any, sep: Any = " ", end: Any = "\n") -> None:
        """``print`` into the captured output, capped at ``max_output_chars``."""
        sep = " " if sep is None else str(sep)
        end = "\n" if end is None else str(end)
        text = sep.join(str(arg) for arg in args) + end
        self.output_size += len(text)
        if self.output_size > self.max_output_chars:
            self.output_exceeded = True
            msg = f"the program printed more than {self.max_output_chars:,} characters"
            raise OutputLimitExceeded(msg)
        self.output.append(text)

    def guarded_import(
        self,
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Iterable[str] | None = (),
        level: int = 0,
    ) -> ModuleProxy | None:
        """``__import__`` that hands out proxies of allowed modules only.

        C code that imports lazily (``date.strftime`` imports ``time``) calls the ``__import__``
        of the running program's builtins through ``PyImport_Import``, which ignores the return
        value and reads ``sys.modules`` itself. So a module that is already loaded gets None
        here: C code still works, and a caller never receives a module object.
        """
        import sys

        if level == 0 and name in self.proxies:
            return self.proxies[name]
        if level == 0 and name in sys.modules:
            return None
        msg = f"import of module {name!r} is not allowed in the sandbox"
        raise ImportError(msg)


def _bits(value: Any) -> int:
    """Rough size in bits of an int-like base (0 for anything whose power is cheap or bounded)."""
    if type(value) in (int, bool):
        return abs(int(value)).bit_length()
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if type(numerator) is int and type(denominator) is int and type(value) is not float:
        return max(abs(numerator).bit_length(), denominator.bit_length())
    return 0
