"""The ``calculator`` tool: math expressions evaluated on numbers only, without ``eval``.

The expression is parsed with ``ast`` and walked by a small evaluator that knows numbers, the
operators ``+ - * / // % **``, a few constants and a table of math functions; anything else (a
name, an attribute, a string, a comparison, a keyword argument) is refused with a message
saying what is allowed. Results are capped: no integer above ``MAX_INT_BITS`` bits (so
``9**9**9`` is refused before it is computed), factorials and combinations up to
``MAX_FACTORIAL``, expressions up to ``MAX_EXPRESSION_CHARS``.

Small models write math the way people do, so ``^`` means power, ``×``/``÷`` work, and a
percentage (``15%``, ``15% of 80``) means a hundredth; ``10 % 3`` (a number after ``%``) stays
the remainder.
"""

from __future__ import annotations

import ast
import math
import re
import statistics
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from localchain.errors import ToolError
from localchain.tools._builtin import BuiltinTool

MAX_EXPRESSION_CHARS = 500
MAX_INT_BITS = 10_000
"""Largest integer result, in bits (about 3,000 digits)."""
MAX_FACTORIAL = 1000
MAX_NODES = 200

Number = int | float

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _whole(value: Number, function: str) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            msg = f"{function}() needs whole numbers, got {value:g}."
            raise ToolError(msg)
        value = int(value)
    return value


def _factorial(n: Number) -> int:
    whole = _whole(n, "factorial")
    if not 0 <= whole <= MAX_FACTORIAL:
        msg = f"factorial() takes a whole number from 0 to {MAX_FACTORIAL}, got {n:g}."
        raise ToolError(msg)
    return math.factorial(whole)


def _choose(function: Callable[[int, int], int], name: str) -> Callable[[Number, Number], int]:
    def apply(n: Number, k: Number) -> int:
        n_whole, k_whole = _whole(n, name), _whole(k, name)
        if not (0 <= n_whole <= MAX_FACTORIAL and k_whole >= 0):
            msg = f"{name}(n, k) takes whole numbers with 0 <= n <= {MAX_FACTORIAL} and k >= 0."
            raise ToolError(msg)
        return function(n_whole, k_whole)

    return apply


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


def _round(x: Number, digits: Number | None = None) -> Number:
    return round(x) if digits is None else round(x, _whole(digits, "round"))


def _power(base: Number, exponent: Number) -> Number:
    if base == 0 and exponent < 0:
        raise ZeroDivisionError
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        if exponent * max(abs(base).bit_length() - 1, 0) > MAX_INT_BITS:
            msg = (
                f"{base} ** {exponent} is too large to compute (over {MAX_INT_BITS} bits); "
                "use a float base such as 2.0 for an approximate value."
            )
            raise ToolError(msg)
        result: int = base**exponent
        return result
    return math.pow(base, exponent)  # floats: OverflowError instead of a huge number


FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    # name: (function, fewest arguments, most arguments)
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "min": (lambda *xs: min(xs), 1, 100),
    "max": (lambda *xs: max(xs), 1, 100),
    "mean": (lambda *xs: statistics.fmean(xs), 1, 100),
    "sqrt": (math.sqrt, 1, 1),
    "cbrt": (math.cbrt, 1, 1),
    "exp": (math.exp, 1, 1),
    "pow": (_power, 2, 2),
    "log": (_log, 1, 2),
    "ln": (math.log, 1, 1),
    "log10": (math.log10, 1, 1),
    "log2": (math.log2, 1, 1),
    "sin": (math.sin, 1, 1),
    "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1),
    "asin": (math.asin, 1, 1),
    "acos": (math.acos, 1, 1),
    "atan": (math.atan, 1, 1),
    "atan2": (math.atan2, 2, 2),
    "sinh": (math.sinh, 1, 1),
    "cosh": (math.cosh, 1, 1),
    "tanh": (math.tanh, 1, 1),
    "degrees": (math.degrees, 1, 1),
    "radians": (math.radians, 1, 1),
    "hypot": (math.hypot, 1, 100),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "trunc": (math.trunc, 1, 1),
    "factorial": (_factorial, 1, 1),
    "comb": (_choose(math.comb, "comb"), 2, 2),
    "perm": (_choose(math.perm, "perm"), 2, 2),
    "gcd": (lambda *xs: math.gcd(*(_whole(x, "gcd") for x in xs)), 1, 100),
    "lcm": (lambda *xs: math.lcm(*(_whole(x, "lcm") for x in xs)), 1, 100),
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: _power,
}
_ALLOWED_TEXT = (
    "numbers, + - * / // % ** ^ ( ), percentages like '15% of 80', the constants pi, e, tau "
    f"and the functions {', '.join(FUNCTIONS)}"
)

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_PERCENT_OF = re.compile(_NUMBER + r"\s*%\s*of\b", re.IGNORECASE)
_PERCENT = re.compile(_NUMBER + r"\s*%(?!\s*[\w.(])")  # "15%", not "10 % 3" (a remainder)


def _rewrite(expression: str) -> str:
    """People's math notation to Python's: ^ for power, × ÷, percentages."""
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-")
    text = _PERCENT_OF.sub(r"(\1/100)*", text)
    return _PERCENT.sub(r"(\1/100)", text)


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        msg = f"The result is too large (over {MAX_INT_BITS} bits, about 3,000 digits)."
        raise ToolError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = "The result is too large to represent (overflow) or not a number."
        raise ToolError(msg)
    return value


def _evaluate(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        msg = f"Only numbers are allowed, not {node.value!r:.40}."
        raise ToolError(msg)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        hint = " (call it with parentheses, e.g. sqrt(2))" if node.id in FUNCTIONS else ""
        msg = f"Unknown name {node.id!r}{hint}. Use only {_ALLOWED_TEXT}."
        raise ToolError(msg)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _evaluate(node.operand)
        return value if isinstance(node.op, ast.UAdd) else -value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        return _check_size(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        return _check_size(_call(node))
    if isinstance(node, ast.Attribute):
        msg = f"Attributes such as '.{node.attr}' are not allowed. Use only {_ALLOWED_TEXT}."
        raise ToolError(msg)
    msg = f"'{ast.unparse(node):.40}' is not allowed in an expression. Use only {_ALLOWED_TEXT}."
    raise ToolError(msg)


def _call(node: ast.Call) -> Number:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS:
        shown = name or ast.unparse(node.func)
        msg = f"Unknown function {shown!r:.40}. Known functions: {', '.join(FUNCTIONS)}."
        raise ToolError(msg)
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        msg = f"{name}() takes plain arguments only, e.g. {name}(2) or round(3.14159, 2)."
        raise ToolError(msg)
    function, fewest, most = FUNCTIONS[name]
    if not fewest <= len(node.args) <= most:
        count = str(fewest) if fewest == most else f"{fewest} to {most}"
        msg = f"{name}() takes {count} argument(s), got {len(node.args)}."
        raise ToolError(msg)
    return function(*(_evaluate(arg) for arg in node.args))


def evaluate_expression(expression: str) -> Number:
    """Evaluate a math expression on numbers only (no ``eval``).

    Example:
        >>> evaluate_expression("15% of 80 + sqrt(16)")
        16.0

    Args:
        expression: E.g. ``"17 * 23"``, ``"2^10"``, ``"round(100 / 7, 2)"``, ``"15% of 80"``.

    Returns:
        An int or a float.

    Raises:
        ToolError: The expression is not valid, uses something other than numbers, operators,
            the constants and the functions, or its value is too large or undefined.
    """
    text = expression.strip()
    if not text:
        msg = "The expression is empty; give one such as '17 * 23'."
        raise ToolError(msg)
    if len(text) > MAX_EXPRESSION_CHARS:
        msg = f"The expression is {len(text)} characters; the limit is {MAX_EXPRESSION_CHARS}."
        raise ToolError(msg)
    try:
        tree = ast.parse(_rewrite(text), mode="eval")
    except SyntaxError as err:
        msg = f"{expression!r:.80} is not a valid expression ({err.msg}). Use only {_ALLOWED_TEXT}."
        raise ToolError(msg) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        msg = f"The expression is too long ({MAX_NODES} parts at most); split it into steps."
        raise ToolError(msg)
    try:
        return _evaluate(tree)
    except ZeroDivisionError:
        msg = f"Division by zero in {expression!r:.80}."
        raise ToolError(msg) from None
    except OverflowError:
        msg = f"The result of {expression!r:.80} is too large to compute."
        raise ToolError(msg) from None
    except (ValueError, TypeError) as err:  # math domain errors: sqrt(-1), log(0)
        msg = f"{expression!r:.80} cannot be computed: {err}."
        raise ToolError(msg) from None
    except RecursionError:
        msg = "The expression is nested too deeply; split it into steps."
        raise ToolError(msg) from None


def format_number(value: Number) -> str:
    """A number as a model should read it: ints exactly, floats to 12 significant digits."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def _expression_pattern() -> str:
    names = sorted({*FUNCTIONS, *CONSTANTS, "of"}, key=lambda n: (-len(n), n))
    # At most 200 pieces: a small model that starts repeating itself closes the call.
    return r"^([-+*/%^().,0-9 ×÷]|" + "|".join(re.escape(n) for n in names) + r"){1,200}$"


EXPRESSION_PATTERN = _expression_pattern()
"""What a model may write as an expression: numbers, operators and the calculator's own
function and constant names, at most 200 of them (a small model otherwise writes a sentence,
or repeats ``15% of`` until the token limit). It shapes the model's
output only; the calculator judges the expression."""


class CalculatorInput(BaseModel):
    """Arguments of the calculator tool."""

    expression: str = Field(
        description="A math expression, e.g. '17 * 23', 'sqrt(2) * 10' or '15% of 80'."
    )


class CalculatorTool(BuiltinTool):
    """Evaluate math expressions safely; returns the number as text."""

    name: str = "calculator"
    description: str = (
        "Calculate a math expression and return the number. Supports + - * / // % ** ( ), "
        "percentages ('15% of 80'), pi, e and functions like sqrt, log, ln, sin, cos, tan "
        "(radians), round, abs, min, max, mean, factorial. Example: 'round(1234 * 0.07, 2)'."
    )
    args_schema: type[BaseModel] = CalculatorInput
    call_patterns: ClassVar[dict[str, str]] = {"expression": EXPRESSION_PATTERN}

    def _run(self, expression: str, **_: Any) -> str:
        return format_number(evaluate_expression(expression))


calculator = CalculatorTool()
"""A ready ``calculator`` tool."""

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_EXPRESSION_CHARS",
    "MAX_FACTORIAL",
    "MAX_INT_BITS",
    "CalculatorInput",
    "CalculatorTool",
    "calculator",
    "evaluate_expression",
    "format_number",
]
