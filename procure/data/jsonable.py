"""Values made ready for JSON: numpy scalars as Python ones, non-finite floats as None.

One function for every layer that writes JSON (the CLI's ``--json``, the analyses' ``to_dict``)."""

from __future__ import annotations

import math


def json_ready(obj):
    """``obj`` with numpy scalars as Python ones and non-finite floats as None (dicts, lists
    and tuples converted throughout)."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # numpy scalars
        return json_ready(obj.item())
    return obj
