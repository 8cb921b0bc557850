"""Calibrate ``ChatLocal(tool_relevance_floor=...)`` on the generated tool-calling data.

For every request of a split (``make_data.py``'s records, ``answer`` records left out: their
request was already served), the similarity of the request to its nearest offered tool is
computed with the floor's own scorer (``localchain.models.tool_relevance.ToolScorer``). A
request that needs a tool should keep it (similarity at least the floor), a ``no_call``
request should keep none. The script prints, per floor, the share of each kept right and
their mean (balanced accuracy), and the best floor: the value behind ``RELEVANCE_FLOOR``.
Training data only: no evaluation set is read::

    python examples/tool_calls/calibrate_relevance.py            # build/tool_calls/train.jsonl
    python examples/tool_calls/calibrate_relevance.py --split val --embeddings DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from localchain.models.embeddings import LocalEmbeddings
from localchain.models.tool_relevance import RELEVANCE_FLOOR, ToolScorer, tool_text

DATA = Path(__file__).resolve().parents[2] / "build" / "tool_calls"


def nearest(scorer: ToolScorer, record: dict[str, Any]) -> float:
    """The similarity of the record's last user message to its nearest offered tool."""
    request = next(m["content"] for m in reversed(record["messages"]) if m["role"] == "user")
    functions = [tool["function"] for tool in record["tools"]]
    texts = [tool_text(f["name"], f.get("description")) for f in functions]
    return max(scorer.scores(request, texts))


def calibrate(calls: list[float], no_calls: list[float]) -> list[tuple[float, float, float]]:
    """(floor, share of calls kept, share of no-calls left without tools) for floors
    0.00 to 0.60 in steps of 0.01."""
    rows = []
    for step in range(61):
        floor = step / 100
        kept = sum(score >= floor for score in calls) / len(calls)
        declined = sum(score < floor for score in no_calls) / len(no_calls)
        rows.append((floor, kept, declined))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Score a split, print the table and the best floor."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="make_data.py's output folder")
    parser.add_argument("--split", default="train", choices=["train", "val", "test"])
    parser.add_argument("--embeddings", default=None, help="embedding model (name or folder)")
    args = parser.parse_args(argv)
    path = args.data / f"{args.split}.jsonl"
    if not path.is_file():
        parser.error(f"{path} does not exist: run `make tool-calls-data` first")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    embeddings = LocalEmbeddings(model=args.embeddings) if args.embeddings else LocalEmbeddings()
    scorer = ToolScorer(embeddings)
    calls: list[float] = []
    no_calls: list[float] = []
    for record in tqdm(records, desc=f"scoring {args.split}"):
        if record["kind"] == "answer":
            continue
        (no_calls if record["kind"] == "no_call" else calls).append(nearest(scorer, record))
    rows = calibrate(calls, no_calls)
    print(f"{len(calls)} requests for a tool, {len(no_calls)} for none ({path})")  # noqa: T201
    print("floor  calls kept  no-calls declined  balanced")  # noqa: T201
    for floor, kept, declined in rows[::5]:
        print(f"{floor:5.2f}  {kept:10.3f}  {declined:17.3f}  {(kept + declined) / 2:8.3f}")  # noqa: T201
    best = max(rows, key=lambda row: (row[1] + row[2], -row[0]))
    print(  # noqa: T201
        f"best floor {best[0]:.2f}: {best[1]:.3f} of calls kept, {best[2]:.3f} of no-calls "
        f"declined (balanced {(best[1] + best[2]) / 2:.3f}); RELEVANCE_FLOOR is {RELEVANCE_FLOOR}"
    )


if __name__ == "__main__":
    main()
