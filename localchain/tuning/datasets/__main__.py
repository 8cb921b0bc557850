"""``python -m localchain.tuning.datasets pal|triples --output DIR``: write a task's data sets."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Generate one task's train/val/test files and print their statistics."""
    parser = argparse.ArgumentParser(prog="python -m localchain.tuning.datasets")
    parser.add_argument("task", choices=["pal", "triples"])
    parser.add_argument("--output", required=True, help="directory for the jsonl/json files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", type=int, default=None, help="training items to draw")
    parser.add_argument("--test", type=int, default=None, help="held-out items to draw")
    parser.add_argument(
        "--copy-test", default=None, help="also copy test.json here (the committed held-out set)"
    )
    args = parser.parse_args(argv)
    sizes = {k: v for k, v in (("n_train", args.train), ("n_test", args.test)) if v is not None}
    if args.task == "pal":
        from localchain.tuning.datasets.pal import make_pal_dataset

        stats = make_pal_dataset(args.output, seed=args.seed, **sizes)
    else:
        from localchain.tuning.datasets.triples import make_triples_dataset

        stats = make_triples_dataset(args.output, seed=args.seed, **sizes)
    if args.copy_test:
        Path(args.copy_test).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(args.output) / "test.json", args.copy_test)
    brief = {
        split: {k: v for k, v in info.items() if k != "rejected"}
        | ({"rejected": len(info["rejected"])} if "rejected" in info else {})
        for split, info in stats["splits"].items()
    }
    print(json.dumps({"output": args.output, "seconds": stats["seconds"], **brief}, indent=1))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
