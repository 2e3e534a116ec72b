"""What every command shares: exit codes, JSON output, checks of output paths."""

from __future__ import annotations

import json
import math
from pathlib import Path

EXIT_OK, EXIT_NO_PLAN, EXIT_INPUT = 0, 1, 2


def problem_record(p) -> dict:
    """One :class:`procure.Problem` as a JSON-ready dict."""
    return {"sheet": p.sheet, "row": p.row, "column": p.column,
            "value": None if p.value is None else str(p.value), "message": p.message, "fix": p.fix}


def json_ready(obj):
    """``obj`` with numpy scalars as Python ones and non-finite floats as None."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # numpy scalars
        return json_ready(obj.item())
    return obj


def print_json(obj) -> None:
    """Exactly one JSON object on stdout."""
    print(json.dumps(json_ready(obj)))


def check_out(path: Path | None, suffix: str = ".xlsx") -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise ValueError(f"output {path} must end in {suffix}")
