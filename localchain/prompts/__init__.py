"""Prompts: FLAN-style task templates (chat and seq2seq), few-shot prompts, strict variables.

Templates are data (``prompts/data/*.yaml``); everything returned is a langchain-core prompt
template, so it composes with ``|`` and works with any LangChain model. Importing this package
loads no model code: ``LocalEmbeddings`` is imported only when a similarity selector needs it.
"""

from __future__ import annotations

from localchain.prompts.few_shot import few_shot_prompt
from localchain.prompts.library import (
    TaskTemplate,
    find_task,
    format_options,
    get_prompt,
    kind_for_model,
    list_tasks,
    load_task_file,
    load_tasks,
)
from localchain.prompts.selectors import LengthExampleSelector, SimilarityExampleSelector
from localchain.prompts.validation import (
    StrictChatPromptTemplate,
    StrictPromptTemplate,
    check_variables,
    validated_prompt,
)

__all__ = [
    "LengthExampleSelector",
    "SimilarityExampleSelector",
    "StrictChatPromptTemplate",
    "StrictPromptTemplate",
    "TaskTemplate",
    "check_variables",
    "few_shot_prompt",
    "find_task",
    "format_options",
    "get_prompt",
    "kind_for_model",
    "list_tasks",
    "load_task_file",
    "load_tasks",
    "validated_prompt",
]
