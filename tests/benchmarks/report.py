"""The end of every benchmark: its figures as one JSON line on stdout, and optionally in a file."""

from __future__ import annotations

import json
from pathlib import Path


def report(figures: dict, json_path: Path | None) -> int:
    """Print the figures as JSON (and write them to `json_path`); returns the exit status, 0."""
    print(json.dumps(figures))
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2))
    return 0
