"""The direct-answer baseline of the PAL evaluation: prompt, answer parsing, scoring, CLI flag."""

from __future__ import annotations

import pytest

from localchain.cli import build_parser
from localchain.eval.pal import (
    DIRECT_SYSTEM,
    build_direct_messages,
    evaluate_direct,
    parse_direct_answer,
)
from localchain.models.fake import FakeChatModel


@pytest.mark.parametrize(
    ("reply", "task", "expected"),
    [
        ("42", "math", 42),
        ("The answer is 1,250 dollars.", "math", 1250),
        ("She pays 41.8", "math", 41.8),
        ("It was 3, now it is -4", "math", -4),
        ("The date is 03/24/2021.", "date", "03/24/2021"),
        ("I think March 24", "date", None),
        ("Blue.", "colored_objects", "Blue"),
        ("The cup is blue.\nBecause...", "colored_objects", "blue"),
        ("", "math", None),
    ],
)
def test_parse_direct_answer(reply, task, expected):
    assert parse_direct_answer(reply, task) == expected


def test_direct_prompt_has_no_code_and_no_examples():
    messages = build_direct_messages(" Tom has 3 apples. ")
    assert [m.type for m in messages] == ["system", "human"]
    assert (
        messages[0].content == DIRECT_SYSTEM
        and messages[1].content == "Question: Tom has 3 apples."
    )


def test_evaluate_direct_scores_like_pal():
    problems = [
        {"question": "one", "answer": 1},
        {"question": "when", "answer": "01/02/2020", "task": "date"},
        {"question": "color", "answer": "red", "task": "colored_objects"},
    ]
    replies = {"one": "It is 2.", "when": "01/02/2020", "color": "Red!"}
    model = FakeChatModel(fn=lambda messages, options: replies[messages[-1].content.split()[-1]])
    lines = []
    report = evaluate_direct(model, problems, echo=lines.append)
    assert [r.correct for r in report.results] == [False, True, True]
    assert [r.task for r in report.results] == ["math", "date", "colored_objects"]
    assert report.model.endswith("(direct)") and len(lines) == 3
    assert all(call.messages[0].content == DIRECT_SYSTEM for call in model.calls)


def test_cli_takes_direct_flag():
    args = build_parser().parse_args(["eval", "--task", "pal", "--direct", "--data", "x.json"])
    assert args.direct is True and args.task == "pal"
