"""PALChain on the real embedded SmolLM2-135M: results are well-formed (accuracy is measured
separately with ``localchain eval --task pal``, on the packaged copy of
``tests/fixtures/pal_problems.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localchain.chains.pal import PALChain, PALResult
from localchain.eval.pal import evaluate_pal
from localchain.models.chat import ChatLocal
from localchain.sandbox import SandboxLimits

pytestmark = pytest.mark.slow

PROBLEMS = json.loads((Path(__file__).parent.parent / "fixtures" / "pal_problems.json").read_text())
SUBSET = [PROBLEMS[0], PROBLEMS[22], PROBLEMS[24]]  # one math, one date, one colored-objects


def test_fixture_has_at_least_20_problems_with_answers():
    assert len(PROBLEMS) >= 20
    assert all(p["question"] and "answer" in p for p in PROBLEMS)


@pytest.fixture(scope="module")
def smollm() -> ChatLocal:
    return ChatLocal(model="smollm2-135m-instruct", device="cpu", max_new_tokens=120)


@pytest.mark.parametrize("problem", SUBSET, ids=lambda p: f"{p['task']}-{p['id']}")
def test_pal_result_is_well_formed(smollm, problem):
    pal = PALChain.from_model(
        smollm, task=problem["task"], max_repairs=1, limits=SandboxLimits(timeout_s=5)
    )
    result = pal.invoke({"question": problem["question"]})
    assert isinstance(result, PALResult)
    assert 1 <= len(result.attempts) <= 2
    assert all(attempt.code for attempt in result.attempts)
    if result.ok:
        assert isinstance(result.answer, (bool, int, float, str))
        assert result.attempts[-1].error is None and result.code == result.attempts[-1].code
    else:
        assert result.answer is None
        assert all(a.error and a.error_type for a in result.attempts)
        assert result.error == result.attempts[-1].error


def test_evaluate_pal_reports_on_the_packaged_problems(smollm):
    chain = PALChain.from_model(smollm, max_repairs=0, limits=SandboxLimits(timeout_s=5))
    report = evaluate_pal(chain, limit=2)
    assert report.n == 2 and 0 <= report.correct <= report.ran <= 2
    assert report.model == "smollm2-135m-instruct + pal-smollm2"  # the shipped task adapter
    assert report.table().splitlines()[-2].startswith("all")
