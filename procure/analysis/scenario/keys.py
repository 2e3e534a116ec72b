"""The scenario file format as data: every key, its type, and the checks of its shape.

A scenario (a TOML file, or the same keys given in Python) is checked here for what can be
checked without the base workbook: unknown keys, wrong types, missing required keys, factors
below 0, shares outside [0, 1]. :mod:`procure.analysis.scenario.changes` then checks every id
and rule name against the base. Each problem names the key by its path, ``capacity[2].supplier``
being key ``supplier`` of the second ``[[capacity]]`` table (counted from 1, as a reader counts
them in the file).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from procure.data.errors import Problem
from procure.data.schema import RULE_TYPES
from procure.data.validate import _known_list as known_list  # the workbook's wording

#: the top-level keys, in the order docs/model.md section 6 writes them (and changes apply)
TOP_KEYS = ("name", "description", "base", "remove_partners", "rules_off", "capacity", "price",
            "demand", "rule", "add_rule", "solver")
#: keys holding arrays of tables ([[capacity]], ...), in the order they apply
CHANGE_KEYS = ("capacity", "price", "demand", "rule", "add_rule")
ROUNDING = ("up", "down", "nearest")
SOLVER_NAMES_HINT = "highs (default), cbc, or another solver PuLP knows"


@dataclass(frozen=True)
class Key:
    """One key of a scenario table: its kind and, for choices, the values allowed."""

    kind: str  # id, text, factor, share, quantity, positive, gap, choice
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


#: the keys of each [[...]] table
ENTRY_KEYS: dict[str, dict[str, Key]] = {
    "capacity": {
        "supplier": Key("id", help="a supplier id (sheet Suppliers)"),
        "country": Key("id", help="a country of a supplier: every supplier there"),
        "item": Key("id", help="an item id or a category (sheet Items); blank: every item"),
        "period": Key("id", help="a Demand period; blank: every period"),
        "factor": Key("factor", True, help="a number >= 0 (0: the offers deliver nothing)"),
    },
    "price": {
        "supplier": Key("id", help="a supplier id"),
        "country": Key("id", help="a country of a supplier"),
        "item": Key("id", help="an item id or a category"),
        "factor": Key("factor", True, help="a number >= 0 (1.2: prices +20 %)"),
    },
    "demand": {
        "partner": Key("id", help="a partner id (sheet Partners)"),
        "item": Key("id", help="an item id or a category"),
        "period": Key("id", help="a Demand period"),
        "factor": Key("factor", True, help="a number >= 0 (1.3: demand +30 %)"),
        "round": Key("choice", choices=ROUNDING,
                     help="round the new quantities to whole units: up, down or nearest"),
    },
    "rule": {
        "name": Key("text", True, help="the rule's name, or Rules!<row>"),
        "share": Key("share", help="the new share, a fraction in [0, 1]"),
        "quantity": Key("quantity", help="the new quantity, a number >= 0"),
    },
    "add_rule": {
        "rule": Key("choice", True, choices=RULE_TYPES, help="the rule type"),
        "partner": Key("id", help="a partner id; blank: the pool"),
        "item": Key("id", help="an item id or a category; blank: every item"),
        "group": Key("id", help="a supplier, a country, a bloc, domestic, each_supplier or "
                                "each_country"),
        "share": Key("share", help="a fraction in [0, 1]"),
        "quantity": Key("quantity", help="a number >= 0"),
        "name": Key("text", help="a name for reports (default: generated)"),
    },
}
SOLVER_KEYS: dict[str, Key] = {
    "time_limit": Key("positive", help="seconds, a number > 0"),
    "mip_gap": Key("gap", help="a relative gap in [0, 1), e.g. 0.001"),
    "solver": Key("text", help=SOLVER_NAMES_HINT),
}


def nearest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``value`` (the same but for case first), if one is close."""
    candidates = [c for c in dict.fromkeys(candidates) if isinstance(c, str)]
    folded = {c.casefold(): c for c in candidates}
    if value.casefold() in folded:
        return folded[value.casefold()]
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def suggest(value: str, candidates: Iterable[str], what: str) -> str:
    """A fix for an unknown name: the nearest one when close, else the names known."""
    candidates = list(candidates)
    near = nearest(value, candidates)
    if near is not None:
        return f"did you mean {near!r}? (known {what}: {known_list(candidates)})"
    return f"use one of the known {what}: {known_list(candidates)}"


@dataclass
class Reporter:
    """Collects the problems of one scenario, each naming its file (or name) and key."""

    source: str
    where: str = "file"

    def __post_init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, key: str | None, value: Any, message: str, fix: str) -> None:
        self.problems.append(Problem(self.source, None, key, _shown(value), message, fix,
                                     where=self.where))


def _shown(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return value


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (_dt.date, _dt.time, _dt.datetime)):
        return "a date or time"
    return type(value).__name__


def as_id(value: Any) -> str | None:
    """An id as the workbook reads it (a whole number 2027 and "2027" are the same id), or
    ``None`` when ``value`` cannot be an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def check_value(rep: Reporter, key: str, spec: Key, value: Any) -> Any:
    """``value`` of key ``key`` in clean form, or ``None`` after recording a problem."""
    kind = spec.kind
    if kind == "id":
        ident = as_id(value)
        if ident is None:
            rep.add(key, value, f"must be an id (text or a whole number), not {_type_name(value)}",
                    f"write {spec.help}, in double quotes")
            return None
        if not ident.strip():
            rep.add(key, value, "is empty", f"write {spec.help}, or delete the key")
            return None
        if ident != ident.strip():
            rep.add(key, value, "has leading or trailing spaces",
                    f"write {ident.strip()!r} (ids match exactly)")
            return None
        return ident
    if kind == "text":
        if not isinstance(value, str):
            rep.add(key, value, f"must be text, not {_type_name(value)}",
                    f"write {spec.help}, in double quotes")
            return None
        if not value.strip():
            rep.add(key, value, "is empty", f"write {spec.help}")
            return None
        return value
    if kind == "choice":
        text = value if isinstance(value, str) else None
        match = next((c for c in spec.choices if text is not None
                      and c.lower() == text.strip().lower()), None)
        if match is None:
            near = nearest(text, spec.choices) if text is not None else None
            rep.add(key, value, "is not one of the allowed values",
                    (f"did you mean {near!r}? " if near else "")
                    + "use one of: " + ", ".join(spec.choices))
            return None
        return match
    number = _number(value)
    if number is None:
        rep.add(key, value, f"must be a number, not {_type_name(value)}",
                f"write {spec.help}, without quotes")
        return None
    if not math.isfinite(number):
        rep.add(key, value, "must be a finite number", f"write {spec.help}")
        return None
    checks: dict[str, tuple[Callable[[float], bool], str]] = {
        "factor": (lambda v: v >= 0, "must be >= 0"),
        "share": (lambda v: 0 <= v <= 1, "must be a fraction in [0, 1] (65 % is 0.65)"),
        "quantity": (lambda v: v >= 0, "must be >= 0"),
        "positive": (lambda v: v > 0, "must be > 0"),
        "gap": (lambda v: 0 <= v < 1, "must be in [0, 1) (0.1 % is 0.001)"),
    }
    ok, message = checks[kind]
    if not ok(number):
        rep.add(key, value, message, f"write {spec.help}")
        return None
    return value  # as written (2, not 2.0, in messages); float() where it is used


def check_table(rep: Reporter, key: str, table: Any, specs: dict[str, Key]) -> dict | None:
    """One table (a [[capacity]] entry, [solver]) in clean form: unknown keys and wrong
    values are recorded, and the entry comes back without them (``None`` when not a table)."""
    if not isinstance(table, dict):
        rep.add(key, table, f"must be a table, not {_type_name(table)}",
                f"write it as [[{key.split('[')[0]}]] followed by key = value lines"
                if "[" in key else f"write it as [{key}] followed by key = value lines")
        return None
    clean: dict[str, Any] = {}
    for name, value in table.items():
        spec = specs.get(name)
        if spec is None:
            near = nearest(str(name), specs)
            rep.add(f"{key}.{name}", value, "unknown key",
                    (f"did you mean {near!r}? " if near else "")
                    + "the keys are: " + ", ".join(specs))
            continue
        got = check_value(rep, f"{key}.{name}", spec, value)
        if got is not None:
            clean[name] = got
    missing = [name for name, spec in specs.items() if spec.required and name not in table]
    for name in missing:
        rep.add(f"{key}.{name}", None, "is required", f"add {name} = {specs[name].help}")
    if missing or len(clean) != len(table):
        clean["_bad"] = True  # keeps the apply step from using a half-checked entry
    return clean


def check_list(rep: Reporter, key: str, value: Any, what: str) -> list[str]:
    """A list of ids or names (remove_partners, rules_off)."""
    if isinstance(value, str):
        rep.add(key, value, "must be a list", f'write it in brackets: {key} = ["{value}"]')
        return []
    if not isinstance(value, list):
        rep.add(key, value, f"must be a list of {what}, not {_type_name(value)}",
                f'write {key} = ["...", "..."]')
        return []
    out = []
    spec = Key("id" if what == "partner ids" else "text", help=what[:-1])
    for k, v in enumerate(value, start=1):
        got = check_value(rep, f"{key}[{k}]", spec, v)
        if got is not None:
            out.append(got)
    return out


def check_entries(rep: Reporter, key: str, value: Any) -> list[dict]:
    """An array of tables ([[capacity]] ...), each entry checked and cleaned."""
    if isinstance(value, dict):  # [capacity] instead of [[capacity]]
        rep.add(key, value, f"must be an array of tables: write [[{key}]] (two brackets)",
                f"write [[{key}]] above each change, so that several can follow one another")
        return []
    if not isinstance(value, list):
        rep.add(key, value, f"must be an array of tables [[{key}]], not {_type_name(value)}",
                f"write [[{key}]] followed by key = value lines")
        return []
    out = []
    for k, entry in enumerate(value, start=1):
        clean = check_table(rep, f"{key}[{k}]", entry, ENTRY_KEYS[key])
        out.append(clean if clean is not None else {"_bad": True})
    return out
