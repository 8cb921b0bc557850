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
        return {"model": "smollm2-135m-instruct", "device": "cpu", "max_tokens": 32}

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
        return True

    @property
    def supports_model_override(self) -> bool:
        # One instance serves one set of loaded weights; per-call model=... raises ConfigError.
        return False

    # Text-only model: image, PDF, audio and video inputs stay off (the suite's defaults).
