"""PAL accuracy on FakeChatModel: typed report, per-task table, packaged problems."""

from __future__ import annotations

import json

import pytest

from localchain.chains.pal import PALChain
from localchain.errors import ConfigError
from localchain.eval.pal import PALReport, evaluate_pal
from localchain.eval.tasks import DATA_DIR
from localchain.models.fake import FakeChatModel

PROBLEMS = [
    {"question": "one", "answer": 1},
    {"question": "two", "answer": 2},
    {"question": "date", "answer": "01/01/2020", "task": "date", "id": "d"},
]


def _chain():
    replies = {"one": "1", "two": "3", "date": "'01/01/2020'"}
    model = FakeChatModel(fn=lambda messages, options: replies[messages[-1].content.split()[-1]])
    return PALChain.from_model(model)


def test_counts_correct_answers_per_task(tmp_path):
    lines = []
    report = evaluate_pal(_chain(), PROBLEMS, echo=lines.append)
    assert isinstance(report, PALReport)
    assert (report.n, report.correct, report.ran) == (3, 2, 3)
    assert report.accuracy == pytest.approx(2 / 3)
    assert [r.correct for r in report.results] == [True, False, True]
    assert report.results[2].id == "d" and report.results[2].task == "date"
    assert lines[2].startswith("[3/3] correct")
    table = report.table().splitlines()
    assert table[0].split() == ["TASK", "N", "CORRECT", "ACCURACY", "RAN"]
    assert table[1].split() == ["date", "1", "1", "100.0%", "1"]
    assert table[2].split() == ["math", "2", "1", "50.0%", "2"]
    assert table[3].split() == ["all", "3", "2", "66.7%", "3"]
    saved = json.loads(report.write_json(tmp_path / "pal.json").read_text())
    assert saved["accuracy"] == pytest.approx(2 / 3) and len(saved["results"]) == 3


def test_reads_a_file_and_limits(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PROBLEMS))
    report = evaluate_pal(_chain(), path, limit=2)
    assert report.n == 2 and report.data == str(path)


def test_packaged_problems_are_the_test_fixture():
    from pathlib import Path

    fixture = Path(__file__).parents[2] / "fixtures" / "pal_problems.json"
    assert json.loads((DATA_DIR / "pal_problems.json").read_text()) == json.loads(
        fixture.read_text()
    )
    model = FakeChatModel(fn=lambda messages, options: "0")
    report = evaluate_pal(PALChain.from_model(model), limit=1)
    assert report.data == "pal_problems.json (packaged)" and report.n == 1


def test_bad_problem_sets_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        evaluate_pal(_chain(), tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"question": "x"}')
    with pytest.raises(ConfigError, match="JSON list"):
        evaluate_pal(_chain(), bad)
    with pytest.raises(ConfigError, match="item 0 lacks 'answer'"):
        evaluate_pal(_chain(), [{"question": "x"}])


def test_concurrent_items_keep_their_order_and_scores():
    import threading

    seen = set()

    def reply(messages, options):
        seen.add(threading.current_thread().name)
        return {"one": "1", "two": "3", "date": "'01/01/2020'"}[messages[-1].content.split()[-1]]

    chain = PALChain.from_model(FakeChatModel(fn=reply))
    report = evaluate_pal(chain, PROBLEMS * 4, concurrency=4)
    assert [r.question for r in report.results] == [p["question"] for p in PROBLEMS * 4]
    assert [r.correct for r in report.results] == [True, False, True] * 4
    assert all(name.startswith("eval") for name in seen) and len(seen) > 1
