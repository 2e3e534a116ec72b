"""Comparing saved scenarios with a baseline, as sourcing-event tools (Keelvar, Ariba) show it.

One row per scenario: total cost, the change and the % change against the baseline, unmet
demand, the number of suppliers used, the rules that bind, and why a scenario is infeasible;
then per-partner costs and per-supplier quantities with their differences. The baseline is
itself one of the scenarios (its deltas are 0). Read from the stored tables: nothing is
solved again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from procure.store.connection import StoreError
from procure.store.records import rebuild_result

if TYPE_CHECKING:  # pragma: no cover
    from procure.store.records import StoredScenario

#: quantities below this are solver noise (as in procure.engine.results)
_ZERO = 1e-7
SCENARIO_COLUMNS = ["scenario", "version", "status", "total_cost", "delta", "delta_pct",
                    "unmet_demand", "suppliers_used", "binding_rules", "infeasibility",
                    "binding_rule_names"]
#: the result tables a comparison reads of each saved scenario
TABLES = ("PartnerCosts", "SupplierUse", "Rules", "Fulfilment")


@dataclass
class Comparison:
    """Scenarios against a baseline. ``delta_pct`` is in percent (2.5 means +2.5 %).

    * ``scenarios``: one row per scenario (the baseline first), columns
      :data:`SCENARIO_COLUMNS` (``binding_rules`` counts them, ``binding_rule_names`` lists
      them, ``infeasibility`` is the diagnosis headline of an infeasible scenario);
    * ``partners``: scenario, partner, total, baseline_total, delta, delta_pct;
    * ``suppliers``: scenario, supplier, quantity, baseline_quantity, delta.
    """

    baseline: str
    currency: str
    scenarios: pd.DataFrame
    partners: pd.DataFrame
    suppliers: pd.DataFrame
    binding: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``procure store compare --json``."""
        out: dict[str, Any] = {}
        for row in self.scenarios.itertuples(index=False):
            name = row.scenario
            partners = self.partners[self.partners["scenario"] == name]
            suppliers = self.suppliers[self.suppliers["scenario"] == name]
            out[name] = {
                "status": row.status,
                "total_cost": _num(row.total_cost),
                "delta": _num(row.delta),
                "delta_pct": _num(row.delta_pct),
                "partners": {p.partner: {"total": _num(p.total), "delta": _num(p.delta)}
                             for p in partners.itertuples(index=False)},
                "suppliers": {s.supplier: {"quantity": _num(s.quantity),
                                           "delta": _num(s.delta)}
                              for s in suppliers.itertuples(index=False)},
                "binding_rules": list(self.binding.get(name, [])),
            }
        return {"baseline": self.baseline, "scenarios": out}

    def to_excel(self, path) -> Path:
        """A workbook with sheets Scenarios, Partners and Suppliers, the deltas coloured: red
        for a cost increase, green for a decrease (supplier quantities: blue for more, orange
        for less)."""
        from openpyxl import Workbook

        from procure.engine.report import write_table

        path = Path(path)
        wb = Workbook()
        ws = wb.active
        ws.title = "Scenarios"
        table = self.scenarios.rename(columns={"total_cost": f"total_cost ({self.currency})"})
        write_table(ws, table)
        _colour(ws, table, ["delta", "delta_pct"], cost=True)
        _formats(ws, table, {"delta_pct": _PCT, "delta": _SIGNED})
        for sheet, long, value, cost in (("Partners", self.partners, "total", True),
                                         ("Suppliers", self.suppliers, "quantity", False)):
            wide = self._wide(long, sheet[:-1].lower(), value)
            ws = wb.create_sheet(sheet)
            write_table(ws, wide)
            deltas = [c for c in wide.columns if c.startswith("Δ")]
            _colour(ws, wide, deltas, cost=cost)
            _formats(ws, wide, {c: (_PCT if c.startswith("Δ%") else _SIGNED) for c in deltas})
        notes = wb.create_sheet("About")
        write_table(notes, pd.DataFrame({"note": [
            f"baseline: {self.baseline}; costs in {self.currency}",
            "delta = scenario - baseline; delta_pct in percent of the baseline",
            "red: a cost increase, green: a decrease; suppliers: blue more, orange less",
            "a blank cost: the scenario has no plan (see infeasibility)"]}))
        wb.save(path)
        return path

    def _wide(self, long: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
        """One row per partner (supplier), the baseline's value, then each scenario's value,
        its delta (and % delta for costs)."""
        keys = list(dict.fromkeys(long[key]))
        out = pd.DataFrame({key: keys})
        for name in self.scenarios["scenario"]:
            rows = long[long["scenario"] == name].set_index(key)
            out[name] = [rows[value].get(k, math.nan) for k in keys]
            if name == self.baseline:
                continue
            out[f"Δ {name}"] = [rows["delta"].get(k, math.nan) for k in keys]
            if "delta_pct" in rows:
                out[f"Δ% {name}"] = [rows["delta_pct"].get(k, math.nan) for k in keys]
        return out


_SIGNED = "+#,##0.00;-#,##0.00;0.00"
_PCT = '+0.00"%";-0.00"%";0.00"%"'


def _fills():
    from openpyxl.styles import PatternFill

    return {"up_cost": PatternFill("solid", fgColor="F8CBAD"),  # red: a cost increase
            "down_cost": PatternFill("solid", fgColor="C6EFCE"),  # green: a decrease
            "up": PatternFill("solid", fgColor="BDD7EE"), "down": PatternFill("solid",
                                                                              fgColor="FCE4D6")}


def _colour(ws, table: pd.DataFrame, columns: list[str], *, cost: bool) -> None:
    fills = _fills()
    for name in columns:
        if name not in table.columns:
            continue
        j = list(table.columns).index(name) + 1
        for i, v in enumerate(table[name], start=2):
            if v is None or not isinstance(v, (int, float)) or math.isnan(v) or abs(v) <= 1e-9:
                continue
            kind = ("up" if v > 0 else "down") + ("_cost" if cost else "")
            ws.cell(row=i, column=j).fill = fills[kind]


def _formats(ws, table: pd.DataFrame, formats: dict[str, str]) -> None:
    for name, fmt in formats.items():
        if name not in table.columns:
            continue
        j = list(table.columns).index(name) + 1
        for i in range(2, len(table) + 2):
            ws.cell(row=i, column=j).number_format = fmt


def _num(v) -> float | int | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    return int(v) if isinstance(v, int) else f


def _has_plan(status: str) -> bool:
    from procure.engine.status import Status

    try:
        return Status(status).has_plan
    except ValueError:
        return False


def _headline(summary: dict[str, Any]) -> str:
    found = summary.get("diagnosis")
    if not found:
        return "" if _has_plan(summary["status"]) else summary.get("message", "")
    return rebuild_result(summary, {}, []).diagnosis.headline()


def _binding(stored: StoredScenario) -> list[str]:
    rules = stored.tables.get("Rules")
    if rules is None or rules.empty or "binds" not in rules:
        return []
    tight = rules[rules["binds"].astype(bool) & (rules["rule"] != "ban")]
    return list(dict.fromkeys(str(n) for n in tight["name"]))


def _partner_totals(stored: StoredScenario) -> dict[str, float]:
    costs = stored.tables.get("PartnerCosts")
    if costs is None or costs.empty:
        return {}
    return {str(p): float(t) for p, t in zip(costs["partner"], costs["total"], strict=True)}


def _supplier_quantities(stored: StoredScenario) -> dict[str, float]:
    use = stored.tables.get("SupplierUse")
    if use is None or use.empty:
        return {}
    sums = use.groupby(use["supplier"].astype(str), sort=False)["quantity"].sum()
    return {str(s): float(q) for s, q in sums.items()}


def compare_stored(stored: list[StoredScenario]) -> Comparison:
    """The comparison of saved scenarios (read with their :data:`TABLES`), the first of them
    the baseline."""
    currencies = {s.currency for s in stored}
    if len(currencies) > 1:
        raise StoreError("the scenarios are in different currencies ("
                         + ", ".join(sorted(currencies)) + "): their costs cannot be compared")
    base = stored[0]
    base_plan = _has_plan(base.status)
    base_total = base.total_cost if base_plan else None
    base_partners = _partner_totals(base) if base_plan else {}
    base_suppliers = _supplier_quantities(base) if base_plan else {}
    rows, partner_rows, supplier_rows, binding = [], [], [], {}
    partner_keys = list(base_partners)
    supplier_keys = list(base_suppliers)
    per = {}
    for s in stored:
        plan = _has_plan(s.status)
        partners = _partner_totals(s) if plan else {}
        suppliers = _supplier_quantities(s) if plan else {}
        per[s.name] = (plan, partners, suppliers)
        partner_keys += [p for p in partners if p not in partner_keys]
        supplier_keys += [k for k in suppliers if k not in supplier_keys]
    for s in stored:
        plan, partners, suppliers = per[s.name]
        total = s.total_cost if plan else None
        delta, pct = _delta(total, base_total)
        fulfil = s.tables.get("Fulfilment")
        unmet = (float(fulfil["shortfall"].sum()) if plan and fulfil is not None
                 and not fulfil.empty else 0.0 if plan else None)
        used = sum(1 for q in suppliers.values() if q > _ZERO) if plan else None
        binding[s.name] = _binding(s) if plan else []
        rows.append({"scenario": s.name, "version": s.version, "status": s.status,
                     "total_cost": total, "delta": delta, "delta_pct": pct,
                     "unmet_demand": unmet, "suppliers_used": used,
                     "binding_rules": len(binding[s.name]),
                     "infeasibility": _headline(s.summary),
                     "binding_rule_names": "; ".join(binding[s.name])})
        for p in partner_keys:
            value = partners.get(p, 0.0) if plan else None
            d, dp = _delta(value, base_partners.get(p, 0.0) if base_plan else None)
            partner_rows.append({"scenario": s.name, "partner": p, "total": value,
                                 "baseline_total": base_partners.get(p) if base_plan else None,
                                 "delta": d, "delta_pct": dp})
        for k in supplier_keys:
            value = suppliers.get(k, 0.0) if plan else None
            d, _ = _delta(value, base_suppliers.get(k, 0.0) if base_plan else None)
            supplier_rows.append({"scenario": s.name, "supplier": k, "quantity": value,
                                  "baseline_quantity": base_suppliers.get(k, 0.0)
                                  if base_plan else None, "delta": d})
    scenarios = pd.DataFrame(rows, columns=SCENARIO_COLUMNS)
    for c in ("total_cost", "delta", "delta_pct", "unmet_demand"):
        scenarios[c] = scenarios[c].astype("float64")
    scenarios["suppliers_used"] = scenarios["suppliers_used"].astype("Int64")
    partners = pd.DataFrame(partner_rows, columns=["scenario", "partner", "total",
                                                   "baseline_total", "delta", "delta_pct"])
    suppliers = pd.DataFrame(supplier_rows, columns=["scenario", "supplier", "quantity",
                                                     "baseline_quantity", "delta"])
    for frame, cols in ((partners, ("total", "baseline_total", "delta", "delta_pct")),
                        (suppliers, ("quantity", "baseline_quantity", "delta"))):
        for c in cols:
            frame[c] = frame[c].astype("float64")
    return Comparison(baseline=base.name, currency=base.currency, scenarios=scenarios,
                      partners=partners, suppliers=suppliers, binding=binding)


def _delta(value: float | None, base: float | None) -> tuple[float | None, float | None]:
    if value is None or base is None:
        return None, None
    d = value - base
    return d, (100.0 * d / base if base else (0.0 if d == 0 else None))
