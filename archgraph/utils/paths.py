"""Where the data beside the project lives."""
from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path | None:
    """The benchmark tables beside the project (``../shared/data``), or ``None`` if absent.

    ``ARCHGRAPH_DATA`` overrides the location.
    """
    env = os.environ.get("ARCHGRAPH_DATA")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[2]
    candidates += [root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None
