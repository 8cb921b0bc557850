"""PAL data: deterministic, verified in the sandbox, held-out split kept apart, chain format."""

from __future__ import annotations

import dataclasses

import pytest

from localchain.chains.pal import build_messages, extract_program, load_pal_prompts
from localchain.datasets import parse_record
from localchain.models.tool_calling import render_tool_messages
from localchain.tuning.datasets.pal import (
    TEMPLATES,
    generate_problems,
    render_reply,
    verify_problems,
)


@pytest.fixture(scope="module")
def train():
    return generate_problems("train", 400, seed=0)


@pytest.fixture(scope="module")
def test_set():
    return generate_problems("test", 150, seed=0)


def test_same_seed_same_problems_other_seed_others():
    first, again = generate_problems("train", 30, seed=7), generate_problems("train", 30, seed=7)
    assert first == again
    assert [p.question for p in generate_problems("train", 30, seed=8)] != [
        p.question for p in first
    ]


def test_every_template_runs_to_its_answer_in_the_sandbox():
    sample = []
    for split in ("train", "test"):
        problems = generate_problems(split, 4 * len(TEMPLATES), seed=1)
        by_template = {}
        for problem in problems:
            by_template.setdefault(problem.template, problem)
        sample += by_template.values()
    assert {p.template for p in sample} == {t.id for t in TEMPLATES}
    kept, rejected = verify_problems(sample)
    assert rejected == []
    assert len(kept) == len(sample)


def test_wrong_or_refused_programs_are_rejected():
    good = generate_problems("train", 2, seed=0)[0]
    wrong = dataclasses.replace(good, id="wrong", answer=good.answer + 1)
    refused = dataclasses.replace(good, id="refused", code="import os\n\n" + good.code)
    crashing = dataclasses.replace(good, id="crash", code="def solution():\n    return 1 / 0")
    kept, rejected = verify_problems([good, wrong, refused, crashing], batch_size=4)
    assert [p.id for p in kept] == [good.id]
    reasons = {p.id: why for p, why in rejected}
    assert "gold" in reasons["wrong"]
    assert reasons["refused"].startswith("ProgramRefusedError")
    assert "ZeroDivisionError" in reasons["crash"] or "Runtime" in reasons["crash"]


def test_held_out_templates_and_phrasings_never_reach_training(train, test_set):
    held_templates = {t.id for t in TEMPLATES if t.held_out}
    held_phrasings = {
        t.phrasing_id(i) for t in TEMPLATES for i in range(len(t.phrasings))
        if t.held_out or i in t.held_out_phrasings
    }  # fmt: skip
    val = generate_problems("val", 60, seed=0)
    for problem in train + val:
        assert problem.template not in held_templates
        assert problem.phrasing not in held_phrasings
    assert len(test_set) >= 100
    assert all(p.phrasing in held_phrasings for p in test_set)
    assert {p.template for p in test_set} >= held_templates
    # The wording itself: no held-out phrasing text is also a training phrasing text.
    texts = {t.phrasings[i] for t in TEMPLATES for i in t.phrasings_for("train")}
    held_texts = {t.phrasings[i] for t in TEMPLATES for i in t.phrasings_for("test")}
    assert not texts & held_texts
    assert not {p.question for p in train} & {p.question for p in test_set}


def test_topics_and_tasks_are_covered(train):
    assert {p.topic for p in train} == {
        "money", "time", "rates", "fractions", "percentages", "ages", "geometry", "counting",
        "dates", "objects",
    }  # fmt: skip
    assert {p.task for p in train} == {"math", "date", "colored_objects"}


def test_records_are_what_palchain_sends_and_expects(train):
    for problem in train[:: len(train) // 12]:
        record = problem.record()
        expected = render_tool_messages(
            build_messages(problem.task, problem.question, few_shot=False)
        )
        assert record["messages"][:-1] == expected
        reply = record["messages"][-1]
        assert reply["role"] == "assistant" and reply["content"] == render_reply(problem.code)
        assert extract_program(reply["content"]) == problem.code
        example = parse_record(record)
        assert example.completion == reply["content"] and example.extra["answer"] == problem.answer


def test_reply_format_is_the_few_shot_format():
    for task, data in load_pal_prompts()["tasks"].items():
        messages = build_messages(task, "anything")
        replies = [m.content for m in messages if m.type == "ai"]
        assert replies == [render_reply(e["code"]) for e in data["examples"]]
