"""ChatLocal against langchain-tests' ChatModelUnitTests (construction only: no weights load)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from localchain.models.chat import ChatLocal


class TestChatLocalUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatLocal]:
        return ChatLocal

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Construction is lazy: no test here generates, so naming the real model loads nothing.
        return {"model": "smollm2-135m-instruct", "device": "cpu"}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        # A per-call ``model=...`` would mean loading other weights mid-call; not supported.
        return False
