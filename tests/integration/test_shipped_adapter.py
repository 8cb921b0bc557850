"""The shipped JSON-action LoRA adapter on the real SmolLM2-135M-Instruct.

``adapters/json-actions-smollm2`` is trained by ``make demo-tune`` (see
``examples/json_actions/README.md``). Five requests from the held-out test split (slot
values the adapter never saw, phrasings it did): with the adapter, the replies must parse as
JSON objects with the right "action" (at least 4 of 5). The base model is measured on the
same requests for comparison, with no assertion on it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from localchain.models.chat import ChatLocal
from tests._scripts import load_script

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "adapters" / "json-actions-smollm2"
TEST_DATA = ROOT / "examples" / "json_actions" / "data" / "test.jsonl"
MAKE_DATA = ROOT / "examples" / "json_actions" / "make_data.py"
N_REQUESTS = 5


def _training_phrasings() -> list[re.Pattern[str]]:
    """The phrasings used in training (from make_data.py), as patterns over requests."""
    module = load_script(MAKE_DATA, "json_actions_make_data")
    sys.modules.pop("json_actions_make_data", None)
    patterns = []
    for known, _heldout, _filler in module.INTENTS:
        for template in known:
            body = re.sub(r"\\\{[a-z]+\\\}", ".+", re.escape(template))
            patterns.append(re.compile(f"^{body}\\??$", re.IGNORECASE))
    return patterns


def _requests() -> list[tuple[str, str, str]]:
    """(system, request, expected action): the first test record of 5 different intents.

    Only test records phrased like the training data are taken: their slot values (names,
    cities, tasks, times, numbers) are still ones the adapter never saw. On the held-out
    phrasings the adapter is much weaker (see examples/json_actions/results.md).
    """
    phrasings = _training_phrasings()
    picked: dict[str, tuple[str, str, str]] = {}
    for line in TEST_DATA.read_text(encoding="utf-8").splitlines():
        system, user, answer = json.loads(line)["messages"]
        if not any(p.match(user["content"]) for p in phrasings):
            continue
        action = json.loads(answer["content"])["action"]
        picked.setdefault(action, (system["content"], user["content"], action))
        if len(picked) == N_REQUESTS:
            break
    return list(picked.values())


def _right_actions(model: ChatLocal, requests: list[tuple[str, str, str]]) -> tuple[int, list]:
    replies = model.batch(
        [[SystemMessage(system), HumanMessage(request)] for system, request, _ in requests]
    )
    right = 0
    for reply, (_, _, action) in zip(replies, requests, strict=True):
        try:
            parsed = json.loads(reply.content.strip())
        except json.JSONDecodeError:
            continue
        right += isinstance(parsed, dict) and parsed.get("action") == action
    return right, [reply.content for reply in replies]


def test_shipped_adapter_files_are_small():
    files = {f.name: f.stat().st_size for f in ADAPTER.iterdir() if f.is_file()}
    assert {"adapter_config.json", "adapter_model.safetensors", "localchain_adapter.json"} <= set(
        files
    )
    assert not (ADAPTER / "checkpoints").exists()
    assert sum(files.values()) < 8_000_000


def test_shipped_adapter_returns_json_actions():
    requests = _requests()
    assert len(requests) == N_REQUESTS
    # The adapter is given as its directory, as a user of the shipped adapter would.
    tuned = ChatLocal(
        model="smollm2-135m-instruct", adapter=str(ADAPTER), device="cpu", max_tokens=48
    )
    base = ChatLocal(model="smollm2-135m-instruct", device="cpu", max_tokens=48)

    base_right, base_replies = _right_actions(base, requests)
    tuned_right, tuned_replies = _right_actions(tuned, requests)
    print(f"base: {base_right}/{N_REQUESTS} right actions: {base_replies}")
    print(f"base+adapter: {tuned_right}/{N_REQUESTS} right actions: {tuned_replies}")

    assert tuned_right >= N_REQUESTS - 1, tuned_replies
