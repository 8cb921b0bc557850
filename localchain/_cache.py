"""Where localchain keeps converted checkpoints and other cached files.

One environment variable, ``LOCALCHAIN_HOME``, moves the whole cache; by default it lives in
the user's cache directory (``~/.cache/localchain`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """Return (and create) a directory under the localchain cache.

    Args:
        *parts: Sub-directories below the cache root, e.g. ``("models", "smollm2")``.
    """
    root = os.environ.get("LOCALCHAIN_HOME")
    if root:
        base = Path(root).expanduser()
    else:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("localchain", appauthor=False))
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
