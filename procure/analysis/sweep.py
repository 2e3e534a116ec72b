"""The pool's cost, and each partner's on the proportional split, along one parameter: a
rule's share or quantity, or a supplier's capacity (``procure sweep``; docs/cooperation.md).

Every point is a variant of the many-solve engine (:mod:`procure.analysis.many`), with its
``workers``, ``scheduler``, ``progress``, ``time_limit`` and ``mip_gap``; infeasible points are
kept, with their status and no cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.analysis.many import Variant, extract, solve_variants
from procure.analysis.many.run import Progress
from procure.data.jsonable import json_ready
from procure.data.tables import ProcureData
from procure.engine.results import rule_label


@dataclass
class Sweep:
    """The result of :func:`sweep`."""

    parameter: str  # what moves, in words
    kind: str  # "share", "quantity" or "capacity"
    subject: str  # the rule id or the supplier
    currency: str
    #: one row per point: value, status, cost (NaN when infeasible), gap, path
    table: pd.DataFrame
    #: value, partner, cost (proportional split of each point's plan)
    partners: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def infeasible(self) -> list[float]:
        return [float(v) for v, s in zip(self.table["value"], self.table["status"], strict=True)
                if s not in ("optimal", "feasible")]

    def to_dict(self) -> dict:
        """Exactly the JSON of ``procure sweep --json``."""
        points = []
        for row in self.table.itertuples(index=False):
            mine = self.partners[self.partners["value"] == row.value]
            points.append({"value": json_ready(row.value), "status": row.status, "cost": json_ready(row.cost),
                           "gap": json_ready(row.gap),
                           "partners": {p: json_ready(c) for p, c in zip(mine["partner"], mine["cost"], strict=True)}})
        return {"parameter": self.parameter, "kind": self.kind, "subject": self.subject,
                "currency": self.currency, "points": points, "infeasible": self.infeasible,
                "warnings": list(self.warnings)}


def sweep_values(start: float, stop: float, step: float) -> list[float]:
    """start, start + step, ..., up to stop (included when on the grid)."""
    if not (np.isfinite(start) and np.isfinite(stop) and np.isfinite(step)):
        raise ValueError("a sweep range needs finite numbers")
    if step <= 0:
        raise ValueError(f"a sweep step must be > 0, not {step:g}")
    if stop < start:
        raise ValueError(f"a sweep range must go up: {start:g} to {stop:g}")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    if count > 10_000:
        raise ValueError(f"{count:,} sweep points: take a larger step")
    return [round(start + k * step, 12) for k in range(count)]


def find_rule(data: ProcureData, name: str) -> int:
    """The position of the rule named ``name``: its id ``Rules!<row>``, its name column or its
    label (case-insensitive). Errors list the rules there are."""
    rules = data.rules.reset_index(drop=True)
    ids = [f"Rules!{int(r)}" for r in rules["source_row"]]
    labels = [rule_label(rules.iloc[k]) for k in range(len(rules))]
    wanted = name.strip().lower()
    hits = [k for k in range(len(rules)) if wanted in (ids[k].lower(), labels[k].lower())
            or (isinstance(rules.at[k, "name"], str) and rules.at[k, "name"].strip().lower() == wanted)]
    if len(hits) == 1:
        return hits[0]
    known = "; ".join(f"{ids[k]} {labels[k]}" for k in range(len(rules))) or "the workbook has no rules"
    if not hits:
        raise ValueError(f"no rule named {name!r}: name one by its id or name ({known})")
    raise ValueError(f"{len(hits)} rules are named {name!r}: name one by its id "
                     f"({', '.join(ids[k] for k in hits)})")


_SHARE_USERS = ("min_share", "max_share", "min_value_share", "max_value_share", "workshare", "n_minus_1")
_QUANTITY_USERS = ("min_quantity", "max_quantity", "min_suppliers", "max_suppliers")


def sweep(data: ProcureData, *, rule: str | None = None, share: tuple[float, float, float] | None = None,
          quantity: tuple[float, float, float] | None = None, capacity: str | None = None,
          factor: tuple[float, float, float] | None = None, workers: int = 1, scheduler=None,
          progress: Progress | None = None, time_limit: float | None = None,
          mip_gap: float | None = None) -> Sweep:
    """The pool's cost, and each partner's on the proportional split, along one parameter:
    ``rule`` with ``share=(start, stop, step)`` or ``quantity=(...)``, or ``capacity=SUPPLIER``
    with ``factor=(...)`` (every capacity of the supplier times the factor). Infeasible points
    are kept, with status and no cost."""
    warnings: list[str] = []
    if (rule is None) == (capacity is None):
        raise ValueError("sweep either a rule (rule= with share= or quantity=) or a supplier's capacity "
                         "(capacity= with factor=)")
    if rule is not None:
        if (share is None) == (quantity is None) or factor is not None:
            raise ValueError("a rule sweep needs exactly one of share= or quantity=")
        pos = find_rule(data, rule)
        row = data.rules.reset_index(drop=True).iloc[pos]
        rule_id = f"Rules!{int(row['source_row'])}"
        kind = "share" if share is not None else "quantity"
        values = sweep_values(*(share if share is not None else quantity))
        users = _SHARE_USERS if kind == "share" else _QUANTITY_USERS
        if row["rule"] not in users:
            raise ValueError(f"{rule_id} is a {row['rule']} rule: it has no {kind} to sweep")
        if kind == "share" and (values[0] < 0 or values[-1] > 1):
            raise ValueError("a share is a fraction between 0 and 1 (65% is 0.65)")
        if kind == "quantity" and values[0] < 0:
            raise ValueError("a quantity cannot be negative")
        if kind == "quantity" and row["rule"].endswith("suppliers") and any(not float(v).is_integer() for v in values):
            raise ValueError(f"{rule_id} counts suppliers: sweep whole numbers (a step of 1)")
        variants = [Variant(label=v, **{kind: {pos: v}}) for v in values]
        parameter, subject = f"{kind} of {rule_id} ({rule_label(row)})", rule_id
    else:
        if factor is None or share is not None or quantity is not None:
            raise ValueError("a capacity sweep needs factor= (and no share= or quantity=)")
        if capacity not in set(data.suppliers["supplier"]):
            raise ValueError(f"unknown supplier {capacity!r}")
        values = sweep_values(*factor)
        if values[0] < 0:
            raise ValueError("a capacity factor cannot be negative")
        limited = (data.offers.loc[data.offers["supplier"] == capacity, "capacity"].notna().any()
                   or (data.capacity["supplier"] == capacity).any()
                   or data.suppliers.loc[data.suppliers["supplier"] == capacity, "capacity"].notna().any())
        if not limited:
            warnings.append(f"{capacity} has no capacity limit: scaling it changes nothing")
        variants = [Variant(label=v, capacity={capacity: v}) for v in values]
        kind, parameter, subject = "capacity", f"capacity of {capacity} (factor)", capacity
    run = solve_variants(data, variants, workers=workers, scheduler=scheduler, progress=progress,
                         time_limit=time_limit, mip_gap=mip_gap, extract=extract.partner_costs)
    table = pd.DataFrame({"value": values, "status": run["status"].to_numpy(dtype=object),
                          "cost": run["cost"].to_numpy(dtype=float), "gap": run["gap"].to_numpy(dtype=object),
                          "path": run["path"].to_numpy(dtype=object)})
    partners = list(data.partners["partner"])
    rows = []
    for value, split in zip(values, run["value"], strict=True):
        costs = split.set_index("partner")["total"] if split is not None else None
        rows.extend({"value": value, "partner": p, "cost": float(costs[p]) if costs is not None else np.nan}
                    for p in partners)
    return Sweep(parameter=parameter, kind=kind, subject=subject, currency=data.currency, table=table,
                 partners=pd.DataFrame(rows, columns=["value", "partner", "cost"]), warnings=warnings)
