"""PALChain on FakeChatModel: extraction, sandbox runs, repairs, typed answers, async."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from localchain.chains.pal import (
    PALChain,
    PALResult,
    answers_match,
    build_messages,
    build_seq2seq_prompt,
    extract_program,
    load_pal_prompts,
)
from localchain.errors import ConfigError, SandboxError
from localchain.models.fake import FakeChatModel
from localchain.sandbox import (
    ProgramRefusedError,
    ProgramTimeoutError,
    SandboxLimits,
    validate_program,
)

RIGHT = (
    "```python\ndef solution():\n    apples = 3\n    bought = 5\n    return apples + bought\n```"
)
REFUSED = "```python\nimport os\n\ndef solution():\n    return len(os.listdir('/'))\n```"
LOOP = "```python\ndef solution():\n    while True:\n        pass\n```"


def chain(*replies, **options) -> tuple[PALChain, FakeChatModel]:
    model = FakeChatModel(responses=list(replies))
    return PALChain.from_model(model, **options), model


# -- extraction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (RIGHT, "def solution():\n    apples = 3\n    bought = 5\n    return apples + bought"),
        (
            "Sure!\n```\ndef solution():\n    return 1\n```\nHope it helps.",
            "def solution():\n    return 1",
        ),
        ("def solution():\n    return 2\n\nThis returns two.", "def solution():\n    return 2"),
        ("23 - 5 * 3", "def solution():\n    return 23 - 5 * 3"),
        ("Answer: 7 * 6", "def solution():\n    return 7 * 6"),
        ("x = 3\ny = 4\nx * y", "def solution():\n    x = 3\n    y = 4\n    return x * y"),
    ],
)
def test_extract_program(reply, expected):
    assert extract_program(reply) == expected


def test_extract_adds_missing_import_for_allowed_module():
    code = extract_program("math.sqrt(16)")
    assert code.startswith("import math\n")
    validate_program(code)


def test_extract_prefers_the_fence_defining_solution():
    reply = "```python\nx = 1\n```\nthen\n```python\ndef solution():\n    return 5\n```"
    assert extract_program(reply) == "def solution():\n    return 5"


def test_extract_gives_prose_back_unchanged():
    assert extract_program("I do not know.") == "I do not know."


# -- prompts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["math", "date", "colored_objects"])
def test_few_shot_examples_are_valid_sandbox_programs(task):
    data = load_pal_prompts()["tasks"][task]
    for example in data["examples"]:
        validate_program(example["code"])
    messages = build_messages(task, "What is 1 + 1?")
    assert isinstance(messages[0], SystemMessage)
    assert isinstance(messages[1], HumanMessage) and isinstance(messages[2], AIMessage)
    assert messages[-1].content == "Question: What is 1 + 1?"
    assert build_seq2seq_prompt(task, "What?").endswith("Question: What?\nExpression:")


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="Unknown PAL task 'poetry'"):
        PALChain.from_model(FakeChatModel(responses=[]), task="poetry")


@pytest.mark.parametrize("bad", [{}, {"question": "  "}, {"query": "x"}, 3])
def test_bad_input_is_a_config_error(bad):
    pal, model = chain(RIGHT)
    with pytest.raises(ConfigError, match="question"):
        pal.invoke(bad)
    assert model.calls == []


# -- runs ------------------------------------------------------------------------------------


def test_right_code_gives_right_answer():
    pal, model = chain(RIGHT)
    result = pal.invoke({"question": "Tom has 3 apples and buys 5 more. How many?"})
    assert isinstance(result, PALResult)
    assert result.ok and result.answer == 8 and type(result.answer) is int
    assert result.code.startswith("def solution():")
    assert len(result.attempts) == 1 and result.attempts[0].error is None
    assert result.error is None
    assert model.calls[0].messages[-1].content.endswith("How many?")


def test_refused_code_is_repaired_with_the_error_fed_back():
    pal, model = chain(REFUSED, RIGHT)
    result = pal.invoke({"question": "How many?"})
    assert result.ok and result.answer == 8
    first, second = result.attempts
    assert first.error_type == "ProgramRefusedError" and "'os'" in first.error
    assert first.answer is None and second.error is None
    repair_prompt = model.calls[1].messages
    assert repair_prompt[-2].content == REFUSED  # the failed reply, as the assistant's turn
    assert "import of module 'os' is not allowed" in repair_prompt[-1].content


def test_all_attempts_failing_gives_ok_false_and_no_answer():
    pal, model = chain(REFUSED, REFUSED, max_repairs=1)
    result = pal.invoke("How many?")
    assert not result.ok and result.answer is None
    assert [a.error_type for a in result.attempts] == ["ProgramRefusedError"] * 2
    assert result.error_type == "ProgramRefusedError" and "'os'" in result.error
    assert len(model.calls) == 2


def test_max_repairs_zero_makes_one_attempt():
    pal, model = chain(REFUSED, max_repairs=0)
    assert len(pal.invoke("q").attempts) == 1
    assert len(model.calls) == 1


def test_raise_on_failure_raises_the_sandbox_error():
    pal, _ = chain(REFUSED, max_repairs=0, raise_on_failure=True)
    with pytest.raises(ProgramRefusedError) as info:
        pal.invoke("q")
    assert isinstance(info.value, SandboxError)


def test_timeout_is_reported():
    limits = SandboxLimits(timeout_s=1.0)
    pal, _ = chain(LOOP, max_repairs=0, limits=limits)
    result = pal.invoke("q")
    assert not result.ok and result.answer is None
    assert result.error_type == "ProgramTimeoutError" and "1 s" in result.error


def test_timeout_raises_when_asked():
    pal, _ = chain(LOOP, max_repairs=0, limits=SandboxLimits(timeout_s=1.0), raise_on_failure=True)
    with pytest.raises(ProgramTimeoutError):
        pal.invoke("q")


def test_syntax_and_runtime_errors_get_repairs():
    replies = ["def solution(:\n    return 1", "def solution():\n    return 1 / 0", "41 + 1"]
    pal, model = chain(*replies, max_repairs=2)
    result = pal.invoke("q")
    assert [a.error_type for a in result.attempts] == [
        "ProgramSyntaxError", "ProgramRuntimeError", None,
    ]  # fmt: skip
    assert "ZeroDivisionError" in model.calls[2].messages[-1].content
    assert result.answer == 42


def test_none_and_non_scalar_answers_are_errors_not_answers():
    pal, _ = chain("def solution():\n    x = 1", "[1, 2]", max_repairs=1)
    result = pal.invoke("q")
    assert not result.ok and result.answer is None
    assert "returned None" in result.attempts[0].error
    assert "returned a list" in result.attempts[1].error
    assert result.error_type == "ProgramOutputError"


def test_bare_expression_is_wrapped_and_run():
    pal, _ = chain("12 * 4")
    result = pal.invoke("q")
    assert result.ok and result.answer == 48
    assert result.code == "def solution():\n    return 12 * 4"


@pytest.mark.parametrize(
    ("reply", "answer", "kind"),
    [("7 / 2", 3.5, float), ("'blue'", "blue", str), ("3 > 2", True, bool), ("2 ** 10", 1024, int)],
)
def test_answer_types_are_kept(reply, answer, kind):
    result = chain(reply)[0].invoke("q")
    assert result.answer == answer and type(result.answer) is kind
    assert type(PALResult.model_validate_json(result.model_dump_json()).answer) is kind


def test_date_task_runs_datetime_programs():
    code = (
        "```python\nimport datetime\n\ndef solution():\n"
        "    today = datetime.date(2021, 3, 14)\n"
        "    return (today + datetime.timedelta(days=10)).strftime('%m/%d/%Y')\n```"
    )
    pal, model = chain(code, task="date")
    assert pal.invoke("Today is 03/14/2021. Date in 10 days?").answer == "03/24/2021"
    assert "datetime" in model.calls[0].messages[0].content


def test_seq2seq_prompt_kind_sends_text():
    pal, model = chain("(5 + 3)", prompt_kind="seq2seq")
    assert pal.invoke("q").answer == 8
    assert model.calls[0].messages[-1].content.endswith("Question: q\nExpression:")


async def test_ainvoke_repairs_and_answers():
    pal, model = chain(REFUSED, RIGHT)
    result = await pal.ainvoke({"question": "q"})
    assert result.ok and result.answer == 8 and len(result.attempts) == 2
    assert "'os'" in model.calls[1].messages[-1].content


async def test_ainvoke_does_not_block_the_event_loop():
    import asyncio

    pal, _ = chain(LOOP, max_repairs=0, limits=SandboxLimits(timeout_s=1.0))
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    result = await pal.ainvoke("q")
    task.cancel()
    assert result.error_type == "ProgramTimeoutError"
    assert ticks >= 10  # the loop kept running while the program spun for a second


def test_batch_and_composition():
    model = FakeChatModel(fn=lambda messages, options: "6 * 7")
    pal = PALChain.from_model(model)
    results = pal.batch([{"question": "a"}, {"question": "b"}])
    assert [r.answer for r in results] == [42, 42]
    assert (pal | (lambda r: r.answer)).invoke("c") == 42


@pytest.mark.parametrize(
    ("predicted", "expected", "same"),
    [(8, 8, True), (8.0, 8, True), (30.000000001, 30, True), ("Blue ", "blue", True),
     ("8", 8, True), (7, 8, False), (None, 8, False), (True, 1, False)],
)  # fmt: skip
def test_answers_match(predicted, expected, same):
    assert answers_match(predicted, expected) is same


def test_sync_and_async_share_one_run_loop():
    pal, _ = chain(REFUSED, RIGHT)
    steps = pal._steps("q", None)
    call = next(steps)
    assert type(call).__name__ == "ModelCall" and call.prompt[-1].content == "Question: q"
    run = steps.send(REFUSED)
    assert type(run).__name__ == "ProgramRun" and "import os" in run.code
    refusal = ProgramRefusedError(
        "import of module 'os' is not allowed", reason="os", line=1, col=1
    )
    repair = steps.send(refusal)
    assert "'os'" in repair.prompt[-1].content
    assert steps.send(RIGHT).code.startswith("def solution")
    with pytest.raises(StopIteration) as done:
        steps.send(8)
    assert done.value.value.answer == 8 and len(done.value.value.attempts) == 2


def test_chain_module_is_no_longer_a_script():
    import localchain.chains.pal as module

    assert not hasattr(module, "main") and not hasattr(module, "evaluate")


@pytest.mark.parametrize(
    "reply", ["(" * 5000 + "1" + ")" * 5000, "x = 1\n" * 30_000, "1 +\x00 2", "[" * 200_000]
)
def test_hostile_replies_are_refused_not_crashing(reply):
    result = chain(reply, max_repairs=0)[0].invoke("q")
    assert not result.ok and result.answer is None
    assert result.error_type in {"ProgramSyntaxError", "ProgramRefusedError"}


# -- self-consistency ------------------------------------------------------------------------


def program(value: str) -> str:
    return f"```python\ndef solution():\n    return {value}\n```"


def test_self_consistency_answers_with_the_majority_of_sampled_programs():
    replies = [program("7"), program("8"), REFUSED, program("4 + 4"), program("16 / 2")]
    pal, model = chain(*replies, samples=5, temperature=0.9)
    result = pal.invoke("q")
    assert result.ok and result.answer == 8 and result.votes == 3
    assert len(result.attempts) == 5 and result.attempts[2].error_type == "ProgramRefusedError"
    assert result.code == "def solution():\n    return 8"  # the first program that gave it
    # One batch of k samples at the chain's temperature, all with the same prompt, no repair.
    assert len(model.calls) == 5
    assert {call.options.get("temperature") for call in model.calls} == {0.9}
    assert all(call.messages == model.calls[0].messages for call in model.calls)


def test_self_consistency_tie_goes_to_the_answer_sampled_first_and_async_agrees():
    replies = [program("2"), program("3"), program("3"), program("2")]
    pal, _ = chain(*replies, *replies, samples=4)
    assert pal.invoke("q").answer == 2
    again = asyncio.run(pal.ainvoke("q"))
    assert again.answer == 2 and again.votes == 2


def test_self_consistency_with_no_working_program_fails_cleanly():
    pal, _ = chain(REFUSED, LOOP, samples=2, limits=SandboxLimits(timeout_s=1))
    result = pal.invoke("q")
    assert not result.ok and result.answer is None and result.votes == 0
    assert [a.error_type for a in result.attempts] == ["ProgramRefusedError", "ProgramTimeoutError"]


@pytest.mark.parametrize("bad", [{"samples": 0}, {"samples": 65}, {"temperature": 0}])
def test_bad_sampling_settings_are_config_errors(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        PALChain.from_model(FakeChatModel(responses=[]), **bad)


# -- task adapter ----------------------------------------------------------------------------


def test_any_other_chat_model_gets_no_adapter_and_the_few_shot_prompt():
    pal, model = chain(RIGHT)
    assert pal.chain_model().adapter is None and pal.chain_model().model is model
    pal.invoke("q")
    assert len(model.calls[0].messages) > 3  # instruction, worked examples, question


def test_few_shot_can_be_turned_off_without_an_adapter():
    pal, model = chain(RIGHT, few_shot=False)
    pal.invoke("q")
    assert [type(m) for m in model.calls[0].messages] == [SystemMessage, HumanMessage]


def test_an_explicit_adapter_needs_a_localchain_model():
    pal, _ = chain(RIGHT, adapter="pal-smollm2")
    with pytest.raises(ConfigError, match="needs a localchain model"):
        pal.invoke("q")
    assert chain(RIGHT, adapter=None)[0].invoke("q").answer == 8
