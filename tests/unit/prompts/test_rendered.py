"""Pinned renderings of every built-in template (chat and seq2seq, plain and CoT) for fixed inputs.

A change in these strings changes what the models see: update the expectation on purpose.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from localchain.prompts import get_prompt, list_tasks

INPUTS = {
    "classify": {"text": "I loved this film.", "options": "- positive\n- negative"},
    "extract": {
        "text": "Ada Lovelace was born in London in 1815.",
        "fields": "the person, the place and the year",
    },
    "qa": {
        "context": "Paris is the capital of France.",
        "question": "What is the capital of France?",
    },
    "rewrite": {"text": "gimme the report asap", "style": "more formal"},
    "summarize": {"text": "The cat sat on the mat all day."},
    "translate": {"text": "Good morning.", "target_language": "French"},
}

EXPECTED = {
    ("classify", "chat", False): (
        "System: You classify texts. Reply with exactly one of the given options and "
        "nothing else.\n"
        "Human: Classify the following text into one of these options:\n"
        "- positive\n"
        "- negative\n"
        "\n"
        "Text: I loved this film."
    ),
    ("classify", "chat", True): (
        "System: You classify texts into one of the given options, explaining your "
        "reasoning first.\n"
        "Human: Classify the following text into one of these options:\n"
        "- positive\n"
        "- negative\n"
        "\n"
        "Text: I loved this film.\n"
        "\n"
        "Let's think step by step, then give the chosen option on a last line starting "
        'with "Answer:".'
    ),
    ("classify", "seq2seq", False): (
        "Classify the following text into one of the options.\n"
        "\n"
        "I loved this film.\n"
        "\n"
        "OPTIONS:\n"
        "- positive\n"
        "- negative"
    ),
    ("classify", "seq2seq", True): (
        "Classify the following text into one of the options by reasoning step-by-step.\n"
        "\n"
        "I loved this film.\n"
        "\n"
        "OPTIONS:\n"
        "- positive\n"
        "- negative"
    ),
    ("extract", "chat", False): (
        "System: You extract information from text. Report only what the text states, and"
        ' write "none" for anything it does not mention.\n'
        "Human: Extract the following from the text: the person, the place and the year.\n"
        "\n"
        "Text:\n"
        "Ada Lovelace was born in London in 1815."
    ),
    ("extract", "chat", True): (
        "System: You extract information from text. Report only what the text states, and"
        ' write "none" for anything it does not mention.\n'
        "Human: Extract the following from the text: the person, the place and the year.\n"
        "\n"
        "Text:\n"
        "Ada Lovelace was born in London in 1815.\n"
        "\n"
        "Let's think step by step: first quote the relevant sentences, then list what you"
        " extracted."
    ),
    ("extract", "seq2seq", False): (
        "Extract the following from the text below: the person, the place and the year.\n"
        "\n"
        "Ada Lovelace was born in London in 1815."
    ),
    ("extract", "seq2seq", True): (
        "Extract the following from the text below by reasoning step-by-step: the person,"
        " the place and the year.\n"
        "\n"
        "Ada Lovelace was born in London in 1815."
    ),
    ("qa", "chat", False): (
        "System: You answer questions using only the given context. If the context does "
        "not contain the answer, say that you do not know.\n"
        "Human: Answer the question using only the context below.\n"
        "\n"
        "Context:\n"
        "Paris is the capital of France.\n"
        "\n"
        "Question: What is the capital of France?"
    ),
    ("qa", "chat", True): (
        "System: You answer questions using only the given context. If the context does "
        "not contain the answer, say that you do not know.\n"
        "Human: Answer the question using only the context below.\n"
        "\n"
        "Context:\n"
        "Paris is the capital of France.\n"
        "\n"
        "Question: What is the capital of France?\n"
        "\n"
        "Let's think step by step, then give the final answer on a last line starting "
        'with "Answer:".'
    ),
    ("qa", "seq2seq", False): (
        "Read this and answer the question. If the question is unanswerable, say "
        '"unanswerable".\n'
        "\n"
        "Paris is the capital of France.\n"
        "\n"
        "Question: What is the capital of France?"
    ),
    ("qa", "seq2seq", True): (
        "Answer the following question by reasoning step-by-step.\n"
        "\n"
        "Paris is the capital of France.\n"
        "\n"
        "Question: What is the capital of France?"
    ),
    ("rewrite", "chat", False): (
        "System: You rewrite text as asked, keeping its meaning. Reply with the rewritten"
        " text only.\n"
        "Human: Rewrite the following text to be more formal:\n"
        "\n"
        "gimme the report asap"
    ),
    ("rewrite", "chat", True): (
        "System: You rewrite text as asked, keeping its meaning.\n"
        "Human: Rewrite the following text to be more formal. Let's think step by step: "
        "first say what must change, then give the rewritten text on a last line starting"
        ' with "Rewritten:".\n'
        "\n"
        "gimme the report asap"
    ),
    ("rewrite", "seq2seq", False): (
        "Rewrite the following text to be more formal:\n\ngimme the report asap"
    ),
    ("rewrite", "seq2seq", True): (
        "Rewrite the following text to be more formal, reasoning step-by-step.\n"
        "\n"
        "gimme the report asap"
    ),
    ("summarize", "chat", False): (
        "System: You are a careful assistant. You write short, faithful summaries that "
        "keep the key facts and add nothing that is not in the text.\n"
        "Human: Summarize the following text:\n"
        "\n"
        "The cat sat on the mat all day."
    ),
    ("summarize", "chat", True): (
        "System: You are a careful assistant. You write short, faithful summaries that "
        "keep the key facts and add nothing that is not in the text.\n"
        "Human: Summarize the following text. Let's think step by step: first list its "
        'key points, then write the summary on a last line starting with "Summary:".\n'
        "\n"
        "The cat sat on the mat all day."
    ),
    ("summarize", "seq2seq", False): (
        "Summarize the following text:\n\nThe cat sat on the mat all day."
    ),
    ("summarize", "seq2seq", True): (
        "Summarize the following text by reasoning step-by-step: list its key points, "
        "then write the summary.\n"
        "\n"
        "The cat sat on the mat all day."
    ),
    ("translate", "chat", False): (
        "System: You are a professional translator. Reply with the translation only.\n"
        "Human: Translate the following text to French:\n"
        "\n"
        "Good morning."
    ),
    ("translate", "chat", True): (
        "System: You are a professional translator.\n"
        "Human: Translate the following text to French. Let's think step by step: first "
        "note difficult words or idioms, then give the full translation on a last line "
        'starting with "Translation:".\n'
        "\n"
        "Good morning."
    ),
    ("translate", "seq2seq", False): ("Translate the following text to French:\n\nGood morning."),
    ("translate", "seq2seq", True): (
        "Translate the following text to French by reasoning step-by-step.\n\nGood morning."
    ),
}


def test_every_task_is_pinned():
    assert sorted(INPUTS) == list_tasks()
    assert {key[0] for key in EXPECTED} == set(list_tasks())


@pytest.mark.parametrize(("task", "kind", "cot"), sorted(EXPECTED))
def test_rendered_text(task, kind, cot):
    prompt = get_prompt(task, kind=kind, cot=cot)
    assert prompt.invoke(INPUTS[task]).to_string() == EXPECTED[task, kind, cot]


@pytest.mark.parametrize("task", sorted(INPUTS))
def test_chat_variant_is_system_then_human(task):
    messages = get_prompt(task, kind="chat").invoke(INPUTS[task]).to_messages()
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
