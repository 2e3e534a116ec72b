"""What a stored scenario is, apart from the database: a saved version's record
(:class:`StoredScenario`) and the :class:`procure.Result` rebuilt from what a save kept.

Below both :mod:`procure.store.store` (which reads and writes these records) and
:mod:`procure.store.compare` (which compares them), so neither imports the other's module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from procure.analysis.scenario import Scenario
    from procure.engine.results import Result


def json_safe(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python ones and non-finite floats as None (JSON columns)."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        return json_safe(obj.item())
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    return obj


@dataclasses.dataclass
class StoredScenario:
    """One saved version of a scenario: its definition, base workbook, summary and tables."""

    name: str
    version: int
    description: str
    author: str
    saved_at: dt.datetime
    definition: str
    sha256: str
    base_bytes: bytes
    summary: dict[str, Any]
    stats: dict[str, Any]
    warnings: list[str]
    tables: dict[str, pd.DataFrame]
    versions: list[int]

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def total_cost(self) -> float | None:
        return self.summary.get("total_cost")

    @property
    def currency(self) -> str:
        return self.summary.get("currency", "EUR")

    @property
    def scenario(self) -> Scenario:
        """The scenario as saved, on the workbook it ran on (the stored bytes, not the file on
        disk, which may have changed since)."""
        from procure.analysis.scenario import Scenario

        return Scenario.from_toml_text(self.definition, source=f"{self.name} (stored)",
                                       base=self.base_bytes)

    @property
    def result(self) -> Result:
        """The stored result as a :class:`procure.Result` (tables, summary, diagnosis)."""
        return rebuild_result(self.summary, self.tables, self.warnings,
                              self.stats.get("result"))

    def to_excel(self, path) -> None:
        """The results workbook of ``procure solve --out``, plus a Scenario sheet (name,
        version, author, saved_at, base sha256 and the definition)."""
        rows = [("name", self.name), ("version", self.version), ("author", self.author),
                ("saved_at", self.saved_at.isoformat()), ("base_sha256", self.sha256),
                ("description", self.description)]
        rows += [("definition", line) for line in self.definition.splitlines()]
        extra = {"Scenario": pd.DataFrame(rows, columns=["field", "value"])}
        self.result.to_excel(path, extra=extra)


#: Result fields kept as objects of their own (rebuilt from the summary), not as values
_OBJECT_FIELDS = ("diagnosis", "check")


def result_fields(result: Result) -> dict[str, Any]:
    """Every field of ``result`` that is a plain value (not a table, not an object), JSON-ready:
    what a loaded Result needs besides its tables (``duals_basis``, ``best_bound``, ...),
    whatever fields the engine adds."""
    out = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if f.name in _OBJECT_FIELDS or isinstance(value, pd.DataFrame):
            continue
        out[f.name] = getattr(value, "value", value) if f.name == "status" else value
    return json_safe(out)


def rebuild_result(summary: dict[str, Any], tables: dict[str, pd.DataFrame],
                   warnings: list[str], fields: dict[str, Any] | None = None) -> Result:
    """A :class:`procure.Result` from what a save kept: ``fields`` (:func:`result_fields`),
    else the summary's scalars, the tables, the diagnosis and plan check of the summary."""
    from procure.data.validate import table_attribute
    from procure.engine.diagnose import Conflict, Diagnosis
    from procure.engine.results import Result
    from procure.engine.status import Status

    values: dict[str, Any] = {}
    given = fields if fields is not None else summary
    for f in dataclasses.fields(Result):
        if f.name in given and f.name not in _OBJECT_FIELDS and (
                not isinstance(given[f.name], dict) or f.name == "model_size"):
            values[f.name] = given[f.name]
    values["status"] = Status(summary["status"])
    values["warnings"] = tuple(warnings)
    if isinstance(values.get("model_size"), dict):
        values["model_size"] = dict(values["model_size"])
    for sheet, frame in tables.items():
        values[table_attribute(sheet)] = frame
    for f in dataclasses.fields(Result):
        if f.name not in values and f.default is dataclasses.MISSING \
                and f.default_factory is dataclasses.MISSING:
            values[f.name] = pd.DataFrame() if "DataFrame" in str(f.type) else None
    names = {f.name for f in dataclasses.fields(Result)}
    values = {k: v for k, v in values.items() if k in names}
    found = summary.get("diagnosis")
    if found is not None:
        conflict_fields = {f.name for f in dataclasses.fields(Conflict)}

        def conflicts(items):
            return [Conflict(**{k: v for k, v in c.items() if k in conflict_fields})
                    for c in items or ()]

        values["diagnosis"] = Diagnosis(conflicts=conflicts(found.get("conflicts")),
                                        proven_minimal=found.get("proven_minimal", True),
                                        note=found.get("note", ""),
                                        binding=conflicts(found.get("binding")))
    checked = summary.get("check")
    if checked is not None and "check" in names:
        values["check"] = _plan_check(checked)
    return Result(**values)


def _plan_check(found: dict[str, Any]):
    """The run-time plan check of a stored result, as the engine's object."""
    from procure.engine.check.core import VIOLATION_COLUMNS, PlanCheck

    return PlanCheck(violations=pd.DataFrame(found.get("violations") or [],
                                             columns=VIOLATION_COLUMNS),
                     families=tuple(found.get("families") or ()),
                     seconds=float(found.get("seconds") or 0.0))


def result_tables(result: Result) -> dict[str, pd.DataFrame]:
    """What a save keeps of a result: every result table, and the diagnosis as a table."""
    out = {name: (frame if frame is not None else pd.DataFrame())
           for name, frame in result.tables().items()}
    if result.diagnosis is not None:
        out["Diagnosis"] = result.diagnosis.table()
    return out
