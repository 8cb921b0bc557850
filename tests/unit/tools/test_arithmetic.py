"""The calculator: math without eval, people's notation, and refusals that say what is allowed."""

from __future__ import annotations

import math

import pytest
from langchain_core.tools import BaseTool, ToolException

from localchain.errors import LocalchainError
from localchain.tools import CalculatorTool, ToolError, calculator, evaluate_expression
from localchain.tools.arithmetic import MAX_EXPRESSION_CHARS, format_number


def call(args, call_id="c1"):
    return calculator.invoke(
        {"name": "calculator", "args": args, "id": call_id, "type": "tool_call"}
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("17 * 23", 391),
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("10 % 3", 1),  # a number after % : the remainder
        ("2 ** 10", 1024),
        ("2^10", 1024),  # people's power
        ("6 × 7", 42),
        ("84 ÷ 2", 42),
        ("-3 + +5", 2),
        ("15% of 80", 12),
        ("80 * 15%", 12),
        ("(50%) * 10", 5),
        ("sqrt(16) + abs(-2)", 6),
        ("round(100 / 7, 2)", 14.29),
        ("round(2.5)", 2),
        ("min(3, 1, 2) + max(4, 9)", 10),
        ("mean(1, 2, 3, 4)", 2.5),
        ("log(8, 2)", 3),
        ("ln(e)", 1),
        ("log10(1000)", 3),
        ("factorial(5)", 120),
        ("comb(5, 2) + perm(5, 2)", 30),
        ("gcd(12, 18) + lcm(4, 6)", 18),
        ("floor(2.7) + ceil(2.1)", 5),
        ("hypot(3, 4)", 5),
        ("2 ** -1", 0.5),
        ("1e3 + .5", 1000.5),
    ],
)
def test_evaluates_math(expression, expected):
    assert evaluate_expression(expression) == pytest.approx(expected)


def test_trigonometry_is_in_radians():
    assert evaluate_expression("sin(pi / 2)") == pytest.approx(1.0)
    assert evaluate_expression("cos(radians(60))") == pytest.approx(0.5)
    assert evaluate_expression("degrees(atan2(1, 1))") == pytest.approx(45.0)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("x + 1", "Unknown name 'x'"),
        ("sqrt", "call it with parentheses"),
        ("(1).real", "Attributes"),
        ("math.pi", "Attributes"),
        ("__import__('os')", "Unknown function '__import__'"),
        ("open('f')", "Unknown function 'open'"),
        ("'a' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("1j * 2", "Only numbers"),
        ("1 < 2", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("round(2.5, ndigits=1)", "plain arguments only"),
        ("max(*[1, 2])", "plain arguments only"),
        ("sqrt(1, 2)", "takes 1 argument"),
        ("1 +", "not a valid expression"),
        ("", "empty"),
        ("1 / 0", "Division by zero"),
        ("0 ** -1", "Division by zero"),
        ("sqrt(-1)", "cannot be computed"),
        ("log(0)", "cannot be computed"),
        ("factorial(2.5)", "whole numbers"),
        ("factorial(-1)", "from 0 to 1000"),
        ("factorial(100000)", "from 0 to 1000"),
        ("comb(100000, 3)", "0 <= n <= 1000"),
        ("9 ** 9 ** 9", "too large"),
        ("2 ** 20000", "too large"),
        ("pow(10, 5000)", "too large"),
        ("10.0 ** 400", "too large"),
        ("1e308 * 10", "too large"),
        ("exp(1000)", "too large"),
        ("+".join(["1"] * 150), "too long"),
    ],
)
def test_refusals_say_what_is_wrong(expression, words):
    with pytest.raises(ToolError, match=None) as caught:
        evaluate_expression(expression)
    assert words in str(caught.value)


def test_refused_fast_before_computing_huge_numbers():
    # 9**9**9 would take minutes and gigabytes; the estimate refuses it at once.
    with pytest.raises(ToolError, match="too large"):
        evaluate_expression("9 ** (9 ** 9)")


def test_long_expression_is_refused():
    with pytest.raises(ToolError, match=str(MAX_EXPRESSION_CHARS)):
        evaluate_expression("1+" * MAX_EXPRESSION_CHARS + "1")


def test_error_is_a_tool_exception_under_the_root():
    assert issubclass(ToolError, ToolException)
    assert issubclass(ToolError, LocalchainError)


def test_format_number():
    assert format_number(391) == "391"
    assert format_number(4.0) == "4"
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(math.pi) == "3.14159265359"
    assert format_number(1e20) == "1e+20"


def test_tool_is_a_basetool_with_a_schema():
    assert isinstance(calculator, BaseTool) and isinstance(calculator, CalculatorTool)
    assert calculator.name == "calculator"
    assert list(calculator.args) == ["expression"]
    assert "sqrt" in calculator.description and len(calculator.description) < 400


def test_tool_call_returns_the_number():
    message = call({"expression": "17 * 23"})
    assert (message.content, message.status, message.tool_call_id) == ("391", "success", "c1")
    assert calculator.invoke({"expression": "sqrt(2) ** 2"}) == "2"


def test_bad_expression_becomes_an_error_message():
    message = call({"expression": "import os"})
    assert message.status == "error" and "not a valid expression" in message.content


def test_bad_arguments_become_an_error_message_naming_the_expected_ones():
    message = call({"expr": "1 + 1"})
    assert message.status == "error"
    assert "expression: Field required" in message.content
    assert "expression (string, required)" in message.content
    message = call({"expression": ["1"]})
    assert message.status == "error" and "valid string" in message.content
