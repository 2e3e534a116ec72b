"""Supply-chain security: stress tests and Monte Carlo disruption.

A *stress test* (docs/model.md section 4) re-optimises the plan without one supplier (every offer of
it removed), for every supplier, and with ``countries=True`` without every supplier of one
country: status, total cost, the increase over the plan, the demand left unmet (items with a
shortfall penalty; any other demand is met or the re-plan is infeasible) per partner and
item, each partner's cost on the proportional split, and, for an infeasible re-plan, the
diagnosis ("without DE_ELB: PL needs 40,000 more 155 mm shells in 2027 ...").

*Monte Carlo disruption* lets each supplier fail independently (with its
``Suppliers.failure_probability``, else the probability given) in ``samples`` random draws
and re-optimises each distinct set of failures once: the distribution of total cost and of
unmet demand over the draws, per partner, and the probability that some demand goes unmet
(a shortfall, or a re-plan with no plan at all). The same seed gives the same numbers.

Both run on the many-solve engine (:mod:`procure.analysis.many`): the model is built once
and every variant is bounds on it (re-coveries of N-1 rules included), in this process, on a
local process pool (``workers``) or on a Dask cluster (``scheduler``).

    >>> import procure
    >>> from procure.analysis.security import stress_test
    >>> st = stress_test(procure.datasets.load_demo())    # doctest: +SKIP
    >>> st.table.sort_values("delta").tail(1)["lost"].item()    # doctest: +SKIP
    'DE_ELB'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.analysis.many import Variant, solve_variants
from procure.data.tables import ProcureData
from procure.engine.model import Model

Progress = Callable[[int, int], None]

__all__ = ["Disruption", "StressTest", "disrupt", "stress_test", "failure_probabilities"]


# --------------------------------------------------------------------------- what each plan keeps


def plan_outcome(data: ProcureData, model: Model, col_value: np.ndarray) -> dict:
    """What a stress test keeps of each re-plan: units short per partner and item (over all
    periods, items with a shortfall penalty) and each partner's cost on the proportional split.
    A module-level function: it travels to worker processes by name."""
    from procure.analysis.many import extract

    costs = extract.partner_costs(data, model, col_value)
    short = extract.shortfall(data, model, col_value)
    short = short[short["shortfall"] > 0]
    return {
        "shortfall": {(p, i): float(q) for p, i, q in zip(short["partner"], short["item"],
                                                            short["shortfall"], strict=True)},
        "partner_cost": dict(zip(costs["partner"], costs["total"].astype(float), strict=True)),
    }


def _suppliers_with_offers(data: ProcureData) -> list[str]:
    offering = set(data.offers["supplier"])
    return [s for s in data.suppliers["supplier"] if s in offering]


# --------------------------------------------------------------------------- stress test


@dataclass
class StressTest:
    """The outcome of :func:`stress_test`.

    * ``base``: the plan's status and total cost (``{"status", "total_cost"}``);
    * ``table``: one row per supplier (``kind`` "supplier") and country (``kind`` "country")
      lost: kind, lost, suppliers (those removed, ``", "``-joined), status, total_cost, delta
      (the increase over the plan; NaN without a re-plan), delta_share (delta / plan cost),
      shortfall_units, diagnosis (for an infeasible re-plan), sorted worst first;
    * ``shortfall``: kind, lost, partner, item, units (demand left unmet in the re-plan);
    * ``partner_delta``: kind, lost, partner, cost (the partner's proportional cost in the
      re-plan), delta (its increase over the plan).
    """

    base: dict
    table: pd.DataFrame
    shortfall: pd.DataFrame
    partner_delta: pd.DataFrame
    currency: str = "EUR"

    def to_dict(self) -> dict:
        """``{"base": c, "suppliers": {S: {"status", "total_cost", "delta", "shortfall"}},
        "countries": {...}}``: the JSON of ``procure stress --json`` (``shortfall``:
        ``{partner: {item: units}}``; ``diagnosis`` for an infeasible re-plan)."""
        out = {"base": self.base["total_cost"], "base_status": self.base["status"],
               "currency": self.currency, "suppliers": {}, "countries": {}}
        short = {}
        for r in self.shortfall.itertuples(index=False):
            short.setdefault((r.kind, r.lost), {}).setdefault(r.partner, {})[r.item] = r.units
        for r in self.table.itertuples(index=False):
            entry = {"status": r.status, "total_cost": _none(r.total_cost), "delta": _none(r.delta),
                     "shortfall": short.get((r.kind, r.lost), {})}
            if isinstance(r.diagnosis, str) and r.diagnosis:
                entry["diagnosis"] = r.diagnosis
            if r.kind == "country":
                entry["suppliers"] = r.suppliers.split(", ") if r.suppliers else []
            out["suppliers" if r.kind == "supplier" else "countries"][r.lost] = entry
        return out

    def worst_for(self, partner: str, n: int = 5) -> pd.DataFrame:
        """The suppliers whose loss would hurt ``partner`` most: lost, status, delta (its cost
        increase), shortfall_units (its own), worst first; an infeasible re-plan first of all."""
        mine = self.partner_delta[(self.partner_delta["partner"] == partner)
                                  & (self.partner_delta["kind"] == "supplier")]
        short = self.shortfall[self.shortfall["partner"] == partner].groupby("lost")["units"].sum()
        table = self.table[self.table["kind"] == "supplier"][["lost", "status"]].merge(
            mine[["lost", "delta"]], on="lost", how="left")
        table["shortfall_units"] = table["lost"].map(short).fillna(0.0)
        infeasible = (table["status"] == "infeasible").astype(int)
        table = table.assign(_order=infeasible).sort_values(
            ["_order", "delta"], ascending=[False, False], kind="stable")
        return table.drop(columns="_order").head(n).reset_index(drop=True)


def _none(value):
    return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else float(value)


def stress_test(data: ProcureData, *, countries: bool = False, workers: int = 1, scheduler=None,
                progress: Progress | None = None, time_limit: float | None = None,
                mip_gap: float | None = None, diagnose: bool = True,
                diagnosis_time_limit: float = 10.0) -> StressTest:
    """Re-optimise the plan without each supplier (and, with ``countries``, without each
    supplier country); see the module docstring and :class:`StressTest`. ``diagnose``: name
    why an infeasible re-plan is infeasible (one diagnosis per such re-plan, each given
    ``diagnosis_time_limit`` seconds: past it the diagnosis says its set may not be the
    smallest). A country whose suppliers are those of one supplier's row is that row's
    result, not solved again."""
    suppliers = _suppliers_with_offers(data)
    variants = [Variant(("base", ""))]
    variants += [Variant(("supplier", s), suppliers_off={s}) for s in suppliers]
    members: dict[str, list[str]] = {}
    if countries:
        country_of = dict(zip(data.suppliers["supplier"], data.suppliers["country"], strict=True))
        for s in suppliers:
            members.setdefault(country_of[s], []).append(s)
        variants += [Variant(("country", c), suppliers_off=set(ss)) for c, ss in members.items()
                     if len(ss) > 1]
    table = solve_variants(data, variants, workers=workers, scheduler=scheduler, progress=progress,
                           time_limit=time_limit, mip_gap=mip_gap, extract=plan_outcome)
    base_row = table.iloc[0]
    base_cost = float(base_row["cost"])
    base_value = base_row["value"] or {"shortfall": {}, "partner_cost": {}}
    infeasible = [v for v, status in zip(variants[1:], table["status"].iloc[1:], strict=True)
                  if status == "infeasible"]
    diagnoses = (_diagnoses(data, infeasible, workers, diagnosis_time_limit)
                 if diagnose and infeasible else {})
    rows, short_rows, partner_rows = [], [], []
    for variant, r in zip(variants[1:], table.iloc[1:].itertuples(index=False), strict=True):
        kind, lost = variant.label
        removed = sorted(variant.suppliers_off, key=suppliers.index)
        value = r.value or {}
        shortfall = value.get("shortfall", {})
        for (p, i), units in sorted(shortfall.items()):
            short_rows.append((kind, lost, p, i, units))
        for p, cost in value.get("partner_cost", {}).items():
            partner_rows.append((kind, lost, p, cost, cost - base_value["partner_cost"].get(p, 0.0)))
        cost = float(r.cost)
        diagnosis = diagnoses.get(variant.label, "")
        rows.append({
            "kind": kind, "lost": lost, "suppliers": ", ".join(removed), "status": r.status,
            "total_cost": cost, "delta": cost - base_cost,
            "delta_share": (cost - base_cost) / base_cost if base_cost else np.nan,
            "shortfall_units": float(sum(shortfall.values())), "diagnosis": diagnosis,
        })
    # a country with one supplier: that supplier's row, under the country's name
    for country, ss in members.items():
        if len(ss) == 1:
            same = next(row for row in rows if row["kind"] == "supplier" and row["lost"] == ss[0])
            rows.append({**same, "kind": "country", "lost": country,
                         "diagnosis": same["diagnosis"].replace(f"without {ss[0]}:",
                                                                f"without {country}:", 1)})
            short_rows += [("country", country, p, i, u) for k, lost, p, i, u in short_rows
                           if k == "supplier" and lost == ss[0]]
            partner_rows += [("country", country, p, c, dd) for k, lost, p, c, dd in partner_rows
                             if k == "supplier" and lost == ss[0]]
    columns = ["kind", "lost", "suppliers", "status", "total_cost", "delta", "delta_share",
               "shortfall_units", "diagnosis"]
    frame = pd.DataFrame(rows, columns=columns)
    if len(frame):
        worst = frame["status"].eq("infeasible").astype(int)
        frame = frame.assign(_w=worst, _d=frame["delta"].fillna(np.inf)).sort_values(
            ["kind", "_w", "_d"], ascending=[False, False, False], kind="stable").drop(
            columns=["_w", "_d"]).reset_index(drop=True)
    return StressTest(
        base={"status": base_row["status"], "total_cost": _none(base_cost)},
        table=frame,
        shortfall=pd.DataFrame(short_rows, columns=["kind", "lost", "partner", "item", "units"]),
        partner_delta=pd.DataFrame(partner_rows, columns=["kind", "lost", "partner", "cost", "delta"]),
        currency=data.currency,
    )


def _diagnosis(data: ProcureData, variant: Variant, time_limit: float) -> str:
    """'without DE_ELB: PL needs 40,000 more 155 mm shells in 2027 ...' (module-level: it
    runs in worker processes)."""
    from procure.engine.diagnose import diagnose_infeasibility

    found = diagnose_infeasibility(variant.apply(data), time_limit=time_limit)
    return f"without {variant.label[1]}: {found.headline()}"


def _diagnoses(data: ProcureData, variants: list[Variant], workers: int,
               time_limit: float) -> dict:
    """The diagnosis of every infeasible re-plan, on ``workers`` processes."""
    if workers <= 1 or len(variants) == 1:
        return {v.label: _diagnosis(data, v, time_limit) for v in variants}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked child inherits HiGHS's thread scheduler without its threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(variants)), mp_context=context) as pool:
        found = list(pool.map(_diagnosis, [data] * len(variants), variants,
                              [time_limit] * len(variants)))
    return {v.label: text for v, text in zip(variants, found, strict=True)}


# --------------------------------------------------------------------------- Monte Carlo


def failure_probabilities(data: ProcureData, probability: float | None = None) -> pd.Series:
    """Each supplier's chance of failing: its ``failure_probability``, else ``probability``;
    a supplier with neither is an error naming it."""
    given = data.suppliers.set_index("supplier")["failure_probability"] \
        if "failure_probability" in data.suppliers else pd.Series(np.nan, index=data.suppliers["supplier"])
    if probability is not None:
        if not (np.isfinite(probability) and 0 <= probability <= 1):
            raise ValueError(f"the failure probability must be in [0, 1], not {probability}")
        given = given.fillna(float(probability))
    missing = list(given.index[given.isna()])
    if missing:
        raise ValueError("no failure probability for " + ", ".join(missing[:8])
                         + (" ..." if len(missing) > 8 else "")
                         + ": give --probability, or fill Suppliers.failure_probability")
    return given.astype(float)


@dataclass
class Disruption:
    """The outcome of :func:`disrupt`.

    * ``samples``: one row per draw: sample, failed (the suppliers that failed, ``", "``-joined),
      n_failed, status, total_cost (NaN without a plan), shortfall_units, unmet (bool: some
      demand went unmet, a shortfall or no plan at all);
    * ``partner_samples``: sample, partner, cost (its proportional cost), shortfall_units;
    * ``table``: one row for the pool and one per partner: who, mean_cost, std_error,
      p5, p50, p95 (percentiles of cost over the draws with a plan), mean_shortfall,
      p_unmet (the share of draws in which it lacks something), and for the pool p_no_plan;
    * ``base``: the plan without failures; ``probabilities``: each supplier's.
    """

    samples: pd.DataFrame
    partner_samples: pd.DataFrame
    table: pd.DataFrame
    base: dict
    probabilities: pd.Series
    seed: int
    distinct: int
    currency: str = "EUR"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON of ``procure disrupt --json``."""
        rows = self.table.to_dict(orient="records")
        return {
            "base": self.base["total_cost"], "base_status": self.base["status"],
            "currency": self.currency, "samples": int(len(self.samples)), "seed": self.seed,
            "distinct_failure_sets": self.distinct,
            "probabilities": {k: float(v) for k, v in self.probabilities.items()},
            "pool": next(({k: _clean(v) for k, v in r.items() if k != "who"}
                          for r in rows if r["who"] == "pool"), {}),
            "partners": {r["who"]: {k: _clean(v) for k, v in r.items() if k != "who"}
                         for r in rows if r["who"] != "pool"},
        }


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value


def disrupt(data: ProcureData, *, probability: float | None = None, samples: int = 500,
            seed: int = 1, workers: int = 1, scheduler=None, progress: Progress | None = None,
            time_limit: float | None = None, mip_gap: float | None = None) -> Disruption:
    """Monte Carlo disruption (module docstring): ``samples`` draws in which each supplier
    fails independently with its probability (:func:`failure_probabilities`); each distinct
    set of failures is solved once."""
    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    prob = failure_probabilities(data, probability)
    suppliers = list(prob.index)
    rng = np.random.default_rng(seed)
    failed = rng.random((samples, len(suppliers))) < prob.to_numpy()[None, :]
    keys = [frozenset(np.asarray(suppliers, dtype=object)[row].tolist()) for row in failed]
    distinct = list(dict.fromkeys(keys))
    if frozenset() not in distinct:
        distinct.insert(0, frozenset())
    # neighbours that differ little share a warm LP: order by size, then by members
    distinct.sort(key=lambda s: (len(s), sorted(s)))
    variants = [Variant(key, suppliers_off=key) for key in distinct]
    table = solve_variants(data, variants, workers=workers, scheduler=scheduler, progress=progress,
                           time_limit=time_limit, mip_gap=mip_gap, extract=plan_outcome)
    solved = {key: r for key, r in zip(distinct, table.itertuples(index=False), strict=True)}
    partners = list(data.partners["partner"])
    demanding = set(data.demand.loc[data.demand["quantity"] > 0, "partner"])
    rows, partner_rows = [], []
    for k, key in enumerate(keys):
        r = solved[key]
        has_plan = r.status in ("optimal", "feasible")
        value = r.value or {}
        short = value.get("shortfall", {})
        units = float(sum(short.values()))
        rows.append((k, ", ".join(sorted(key, key=suppliers.index)), len(key), r.status,
                     float(r.cost) if has_plan else np.nan, units, (not has_plan) or units > 0))
        per_partner = {}
        for (p, _item), q in short.items():
            per_partner[p] = per_partner.get(p, 0.0) + q
        for p in partners:
            partner_rows.append((k, p, value.get("partner_cost", {}).get(p, np.nan) if has_plan else np.nan,
                                 per_partner.get(p, 0.0) if has_plan else np.nan,
                                 (not has_plan and p in demanding) or per_partner.get(p, 0.0) > 0))
    sample_frame = pd.DataFrame(rows, columns=["sample", "failed", "n_failed", "status", "total_cost",
                                               "shortfall_units", "unmet"])
    partner_frame = pd.DataFrame(partner_rows, columns=["sample", "partner", "cost",
                                                        "shortfall_units", "unmet"])
    base = solved[frozenset()]
    summary = [_summary("pool", sample_frame["total_cost"], sample_frame["shortfall_units"],
                        sample_frame["unmet"], no_plan=float((~sample_frame["status"].isin(
                            ["optimal", "feasible"])).mean()))]
    for p in partners:
        mine = partner_frame[partner_frame["partner"] == p]
        summary.append(_summary(p, mine["cost"], mine["shortfall_units"], mine["unmet"]))
    return Disruption(
        samples=sample_frame, partner_samples=partner_frame, table=pd.DataFrame(summary),
        base={"status": base.status, "total_cost": _none(float(base.cost))},
        probabilities=prob, seed=seed, distinct=len(distinct), currency=data.currency,
    )


def _summary(who: str, cost: pd.Series, shortfall: pd.Series, unmet: pd.Series,
             no_plan: float | None = None) -> dict:
    c = cost.dropna().to_numpy(dtype=float)
    n = len(c)
    row = {
        "who": who,
        "mean_cost": float(c.mean()) if n else np.nan,
        "std_error": float(c.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
        "p5": float(np.percentile(c, 5)) if n else np.nan,
        "p50": float(np.percentile(c, 50)) if n else np.nan,
        "p95": float(np.percentile(c, 95)) if n else np.nan,
        "mean_shortfall": float(shortfall.dropna().mean()) if shortfall.notna().any() else np.nan,
        "p_unmet": float(unmet.astype(bool).mean()) if len(unmet) else np.nan,
    }
    if no_plan is not None:
        row["p_no_plan"] = no_plan
    return row
