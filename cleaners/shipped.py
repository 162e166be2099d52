"""Data files shipped inside the package (model weights, rules, word lists): read and parsed here,
never written. Each caller caches its own parsed object (``functools.cache``) and says what a
missing file means (no model, default rules, an empty list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path) -> Any | None:
    """The parsed JSON file at ``path``, or None when it is not shipped."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return json.loads(raw)
