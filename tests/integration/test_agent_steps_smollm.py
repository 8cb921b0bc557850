"""The shipped agent-steps adapter on the real SmolLM2-135M-Instruct.

A world the adapter never saw (the generator's validation seed: other places, people, numbers
and database), questions that need a look-up then a computation, asked of
``localchain.agents.create_agent`` as the agent bench asks them (first call forced, one call
per reply, best-effort answer at the end), with ``step_adapter="auto"`` and with the model's
own tool adapter. Right means the final answer holds the number the calculator gives on the
right values. Measured: see the README's Agents section (the counts are printed).
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from localchain.agents import create_agent
from localchain.models.adapters import AGENT_STEPS_ADAPTER, shipped_adapters
from localchain.models.chat import ChatLocal

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAKE_DATA = ROOT / "examples" / "agent_steps" / "make_data.py"
N_QUESTIONS = 8
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """(world tools, [(question, expected number)]) from a held-out world."""
    from localchain.models.embeddings import LocalEmbeddings

    spec = importlib.util.spec_from_file_location("agent_steps_make_data_it", MAKE_DATA)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    rng = random.Random(module.SEED + 1)  # the validation split's worlds
    world = module.make_world(rng, tmp_path_factory.mktemp("world"), LocalEmbeddings())
    sys.modules.pop(spec.name, None)
    picked = []
    for question in rng.sample(world.questions, len(world.questions)):
        if len(question.steps) < 2 or question.steps[-1][0] != "calculator":
            continue
        if "{sql}" in question.steps[-1][1]["expression"]:
            continue
        expected = float(world.tools["calculator"].invoke(question.steps[-1][1]))
        picked.append((question.text, expected))
        if len(picked) == N_QUESTIONS:
            break
    return list(world.tools.values()), picked


def _right(answer: str, expected: float) -> bool:
    for raw in _NUMBER.findall(answer):
        value = float(raw.replace(",", ""))
        if abs(value - expected) <= max(0.01, 0.005 * abs(expected)):
            return True
    return False


def _successes(chat: ChatLocal, tools: list, cases: list, step_adapter: str | None) -> int:
    def run(case: tuple[str, float]) -> bool:
        agent = create_agent(
            chat,
            tools,
            max_steps=5,
            first_tool_choice="any",
            parallel_tool_calls=False,
            on_max_steps="answer",
            on_repeated_call="answer",
            step_adapter=step_adapter,
        )
        return _right(agent.invoke(case[0]).output or "", case[1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return sum(pool.map(run, cases))


def test_the_adapter_is_shipped_and_picked_for_the_embedded_model():
    assert AGENT_STEPS_ADAPTER in shipped_adapters()
    agent = create_agent(ChatLocal(), [], step_adapter="auto")
    assert agent.settings.adapter_for_steps() == AGENT_STEPS_ADAPTER


def test_the_adapter_answers_more_look_up_then_compute_questions(cases):
    tools, picked = cases
    assert len(picked) == N_QUESTIONS
    chat = ChatLocal(tool_adapter="auto", max_tokens=128)
    with_steps = _successes(chat, tools, picked, "auto")
    without = _successes(chat, tools, picked, None)
    print(f"right of {len(picked)}: agent-steps {with_steps}, tool-calls {without}")  # noqa: T201
    assert with_steps >= without + 2
