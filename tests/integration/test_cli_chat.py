"""``localchain chat`` end to end on the embedded SmolLM2, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_piped_question_is_answered():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "localchain.cli", "chat", "--max-new-tokens", "24"],
        input="What is the capital of France?\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout
    assert "smollm2-135m-instruct" in result.stderr  # the banner stays off stdout
    assert "Traceback" not in result.stderr


def test_models_command_runs():
    result = subprocess.run(
        [sys.executable, "-m", "localchain.cli", "models"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "smollm2-135m-instruct" in result.stdout
