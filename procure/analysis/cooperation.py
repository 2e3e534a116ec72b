"""What cooperation is worth, and to whom (docs/model.md section 4; docs/cooperation.md).

* :func:`fair_shares`: every partner's stand-alone cost, its proportional, Shapley and
  nucleolus share of the pool's cost, what pooling saves it, the value it brings, and the core
  check of each split (would some group of partners pay less on its own?).
* :func:`rule_costs`: the price of every rule (the pool's cost with it minus without it) and
  who pays it, on the proportional split: "the cost of sovereignty".

Both run on the many-solve engine (:mod:`procure.analysis.many`): ``workers``, ``scheduler``
(Dask), ``progress(done, total)``, ``time_limit`` (per solve) and ``mip_gap`` as everywhere;
the cooperative-game arithmetic is :mod:`procure.analysis.games`. Sweeps (the pool's cost
along a rule's share or quantity, or a supplier's capacity) are :mod:`procure.analysis.sweep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.analysis import games
from procure.analysis.many import Variant, extract, solve_variants
from procure.analysis.many.run import Progress
from procure.data.jsonable import json_ready
from procure.data.tables import ProcureData
from procure.engine.backends import DEFAULT_MIP_GAP
from procure.engine.results import rule_label

METHODS = ("all", "shapley", "nucleolus", "proportional")
#: the sampling design of sampled Shapley values (measured in docs/cooperation.md)
DEFAULT_DESIGN = "poststratified"
#: the default budget of coalition solves for a sampled Shapley estimate
DEFAULT_SAMPLES = 4000


def short_money(value: float, currency: str) -> str:
    """'2.1 M EUR', '870 k EUR', '1.25 bn EUR'."""
    v = abs(float(value))
    for size, unit, digits in ((1e9, "bn", 2), (1e6, "M", 1), (1e3, "k", 0)):
        if v >= size:
            return f"{v / size:,.{digits}f} {unit} {currency}"
    return f"{v:,.0f} {currency}"


def _names(members: Sequence[str]) -> str:
    """'IT, NL and ES' (sorted)."""
    return _joined(sorted(members))


def _joined(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- progress over several runs ---------------------------------------------------------------

class _Stages:
    """One progress(done, total) over several solve_variants calls."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def stage(self) -> Progress | None:
        if self.progress is None:
            return None
        offset = self.done

        def report(done: int, _total: int) -> None:
            self.progress(offset + done, self.total)

        return report

    def add(self, n: int) -> None:
        self.done += n


def _solve(data, variants, options, stages: _Stages, **more) -> pd.DataFrame:
    table = solve_variants(data, variants, progress=stages.stage(), **options, **more)
    stages.add(len(variants))
    return table


def _uncertainty(table: pd.DataFrame) -> dict:
    """Each coalition's cost minus its proven bound (its gap times its cost): how much lower
    its optimal cost may be. Infinite for a plan without a bound, 0 without a plan (such a
    game has no shares to bound)."""
    out = {}
    for label, cost, gap in zip(table["label"], table["cost"], table["gap"], strict=True):
        cost, gap = float(cost), pd.to_numeric(gap, errors="coerce")
        if not np.isfinite(cost):
            out[label] = 0.0
        else:
            out[label] = abs(cost) * float(gap) if np.isfinite(gap) else np.inf
    return out


def _gap_of(table: pd.DataFrame, asked: float) -> float:
    gaps = pd.to_numeric(table["gap"], errors="coerce").dropna()
    return float(max([asked, *gaps.tolist()]))


# -- fair shares ------------------------------------------------------------------------------

@dataclass
class FairShares:
    """The result of :func:`fair_shares` (see docs/cooperation.md for every column)."""

    method: str
    grand: float  # c(P), NaN if the pool has no plan
    currency: str
    #: partner, standalone, proportional, shapley, shapley_se, shapley_gap, nucleolus, savings,
    #: value_brought (shapley_gap: how far a Shapley share could be from its value on exact
    #: costs, from the coalitions' proven gaps; games.shapley_gap_from_costs)
    table: pd.DataFrame
    exact: bool  # every coalition solved (else a sampled estimate, no core check)
    coalitions_solved: int
    infeasible_coalitions: list[list[str]]
    #: coalitions whose cost was not proven within the gap (a time limit)
    unproven_coalitions: list[list[str]]
    core_nonempty: bool | None = None
    least_core_value: float | None = None
    #: split name -> games.CoreCheck (exact games only)
    core: dict[str, games.CoreCheck] = field(default_factory=dict)
    sampling: dict | None = None
    #: the costs of every coalition solved (frozenset -> cost, NaN without a plan)
    costs: dict = field(default_factory=dict, repr=False)
    #: partners with no demand and no rules of their own (a scenario's partners who left):
    #: null players, 0 in every split and left out of the coalitions solved
    null_partners: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> str:
        return "shapley" if self.method == "all" else self.method

    def to_dict(self) -> dict:
        """Exactly the JSON of ``procure share --json``."""
        partners = {}
        for row in self.table.itertuples(index=False):
            partners[row.partner] = {k: json_ready(getattr(row, k)) for k in
                                     ("standalone", "proportional", "shapley", "shapley_se",
                                      "shapley_gap", "nucleolus", "savings", "value_brought")}
        core = {"core_nonempty": self.core_nonempty, "least_core_value": json_ready(self.least_core_value)}
        for name in ("shapley", "proportional", "nucleolus"):
            check = self.core.get(name)
            core[name] = None if check is None else {k: json_ready(v) for k, v in check.to_dict().items()}
        return {"grand": json_ready(self.grand), "method": self.method, "currency": self.currency,
                "exact": self.exact, "partners": partners, "core": core,
                "coalitions_solved": self.coalitions_solved,
                "infeasible_coalitions": self.infeasible_coalitions,
                "unproven_coalitions": self.unproven_coalitions, "sampling": self.sampling,
                "null_partners": self.null_partners, "core_sentence": self.core_sentence()}

    def null_sentence(self) -> str:
        """"IT and NL have no demand and no rules of their own: ..." ("" when every partner
        plays), in the workbook's partner order."""
        if not self.null_partners:
            return ""
        verb, whose = ("has", "its") if len(self.null_partners) == 1 else ("have", "their")
        return (f"{_joined(self.null_partners)} {verb} no demand and no rules of {whose} own: 0 "
                "in every split, left out of the coalitions solved.")

    def core_sentence(self) -> str:
        """One sentence on the core for the chosen split, e.g. "Shapley is outside the core: IT,
        NL and ES together would pay 2.1 M EUR less on their own"."""
        label = {"shapley": "Shapley", "proportional": "The proportional split",
                 "nucleolus": "The nucleolus"}[self.chosen]
        if not np.isfinite(self.grand):
            return "The pool has no feasible plan: there is nothing to share."
        if self.infeasible_coalitions:
            shown = "; ".join("{" + ", ".join(c) + "}" for c in self.infeasible_coalitions[:3])
            return (f"No core check: {len(self.infeasible_coalitions)} coalition(s) have no feasible "
                    f"plan on their own ({shown}).")
        if not self.exact:
            n = len(self.table) - len(self.null_partners)
            what = "sampled" if self.sampling else "solved only for the stand-alone and leave-one-out coalitions"
            return f"No core check: the game of {n} partners is {what}, not solved for all {2 ** n:,} coalitions."
        check = self.core.get(self.chosen)
        if check is None or not check.worst_coalition:
            return f"{label} is in the core: there is no group to object."
        who, what = _names(check.worst_coalition), short_money(check.excess, self.currency)
        together = " together" if len(check.worst_coalition) > 1 else ""
        if not check.in_core:
            sentence = f"{label} is outside the core: {who}{together} would pay {what} less on their own"
            if self.core_nonempty is False:
                sentence += (f"; no split can prevent it (the core is empty: some group gains at least "
                             f"{short_money(self.least_core_value, self.currency)} by leaving)")
            return sentence + "."
        if check.excess >= -check.tolerance:
            return f"{label} is in the core, at its edge: {who}{together} would pay the same on their own."
        return (f"{label} is in the core: no group would pay less on its own ({who}{together}, the "
                f"closest, would pay {what} more).")


def fair_shares(data: ProcureData, method: str = "all", *, workers: int = 1, samples: int | None = None,
                seed: int = 0, scheduler=None, progress: Progress | None = None,
                time_limit: float | None = None, mip_gap: float | None = None,
                exact_limit: int = games.EXACT_LIMIT, design: str = DEFAULT_DESIGN) -> FairShares:
    """Fair shares of the pool's cost (docs/model.md section 4).

    Up to ``exact_limit`` partners (and without ``samples``) every coalition is solved: exact
    Shapley values, the nucleolus, the least core and the core check of every split. Above it
    (or with ``samples``), the Shapley values are estimated from random orders within a budget
    of ``samples`` coalition solves (default 4,000), each with its standard error, using the
    ``design`` of :data:`procure.analysis.games.DESIGNS`; such a game has no nucleolus and no
    core check. ``method`` chooses the split whose savings are reported (``all``: Shapley) and,
    for sampled games, what is computed: ``proportional`` needs only 2n + 1 solves.

    >>> import procure
    >>> fs = fair_shares(procure.datasets.load_demo(), workers=2)     # doctest: +SKIP
    >>> fs.core_sentence()                                            # doctest: +SKIP
    'Shapley is in the core: no group would pay less on its own (...)'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    everyone = list(data.partners["partner"])
    idle = null_partners(data)
    # a null player changes no coalition's cost: the game is played without it (half the
    # coalitions per null player) and it gets 0 in every split
    partners = [p for p in everyone if p not in set(idle)]
    if not partners:
        raise ValueError("no partner has any demand: there is no cost to share")
    n = len(partners)
    # a budget that covers every coalition buys the exact game
    exact = (samples is None and n <= exact_limit) or (samples is not None and samples >= (1 << n) - 1)
    options = dict(workers=workers, scheduler=scheduler, time_limit=time_limit, mip_gap=mip_gap)
    asked_gap = DEFAULT_MIP_GAP if data.solver_option("mip_gap", mip_gap) is None \
        else data.solver_option("mip_gap", mip_gap)
    grand_set = frozenset(partners)
    base = [frozenset([p]) for p in partners] + [grand_set - {p} for p in partners if n > 1]
    units: list[np.ndarray] = []
    if exact:
        wanted = [c for c in every_coalition(partners) if c and c != grand_set]
    else:
        wanted = list(dict.fromkeys(base))
        if method in ("all", "shapley"):
            units, wanted = sampling_plan(partners, wanted, samples or DEFAULT_SAMPLES, seed, design)
    stages = _Stages(progress, 1 + len(wanted))
    grand_run = _solve(data, [Variant(label=grand_set)], options, stages, extract=extract.partner_costs)
    grand = float(grand_run["cost"].iat[0])
    proportional = grand_run["value"].iat[0]
    run = _solve(data, [Variant(label=c, members=c) for c in wanted], options, stages)
    costs = {frozenset(): 0.0, grand_set: grand}
    costs.update(zip(run["label"], run["cost"].astype(float), strict=True))
    statuses = dict(zip(run["label"], run["status"], strict=True))
    statuses[grand_set] = grand_run["status"].iat[0]
    gap = _gap_of(pd.concat([grand_run, run]), asked_gap)
    uncertainty = {frozenset(): 0.0, **_uncertainty(grand_run), **_uncertainty(run)}

    result = _assemble(partners, costs, statuses, proportional, method=method, currency=data.currency,
                       gap=gap, exact=exact, units=units, design=design, solved=len(wanted) + 1,
                       budget=samples or DEFAULT_SAMPLES, uncertainty=uncertainty)
    return _with_null_partners(result, everyone, idle)


def null_partners(data: ProcureData) -> list[str]:
    """Partners with no demand (no row with a positive quantity) and no rule of their own
    (sheet Rules, column partner): without demand nothing is delivered to them and no rule
    binds them, so adding one to any coalition leaves its cost as it is."""
    demand = data.demand
    demanding = set(demand.loc[demand["quantity"] > 0, "partner"])
    ruled = set(data.rules["partner"].dropna()) if "partner" in data.rules else set()
    return [p for p in data.partners["partner"] if p not in demanding and p not in ruled]


def _with_null_partners(result: FairShares, everyone: list[str], idle: list[str]) -> FairShares:
    """The table with a row of zeros for each null partner, in the workbook's partner order."""
    if not idle:
        return result
    table = result.table
    zeros = pd.DataFrame({"partner": idle})
    for column in table.columns.drop("partner"):
        done = np.isfinite(pd.to_numeric(table[column], errors="coerce")).any()
        zeros[column] = 0.0 if done else np.nan
    order = {p: k for k, p in enumerate(everyone)}
    result.table = (pd.concat([table, zeros], ignore_index=True)
                    .sort_values("partner", key=lambda s: s.map(order)).reset_index(drop=True))
    result.null_partners = list(idle)
    return result


def shares_from_costs(partners: Sequence[str], costs: dict, proportional=None, *, method: str = "all",
                      currency: str = "EUR", gap: float | None = None) -> FairShares:
    """:func:`fair_shares` of a game given by the cost of every coalition (a dict keyed by
    frozensets; NaN = no plan), with ``proportional`` (partner -> share) if there is one: the
    same table, core check and sentence, no solve."""
    partners = list(partners)
    statuses = {c: ("optimal" if np.isfinite(v) else "infeasible") for c, v in costs.items() if c}
    if proportional is not None:
        proportional = pd.DataFrame({"partner": partners, "total": [float(proportional[p]) for p in partners]})
    return _assemble(partners, dict(costs), statuses, proportional, method=method, currency=currency,
                     gap=DEFAULT_MIP_GAP if gap is None else gap, exact=True, units=[],
                     design=DEFAULT_DESIGN, solved=len(statuses), budget=None,
                     uncertainty={c: 0.0 for c in costs})


def _assemble(partners, costs, statuses, proportional, *, method, currency, gap, exact, units, design,
              solved, budget, uncertainty) -> FairShares:
    n = len(partners)
    grand_set = frozenset(partners)
    grand = float(costs.get(grand_set, np.nan))

    def listed(which) -> list[list[str]]:
        found = [c for c, s in statuses.items() if which(s)]
        return [sorted(c) for c in sorted(found, key=lambda c: (len(c), sorted(c)))]

    infeasible = listed(lambda s: s not in ("optimal", "feasible"))
    unproven = listed(lambda s: s == "feasible")
    table = pd.DataFrame({"partner": partners})
    table["standalone"] = [costs.get(frozenset([p]), np.nan) for p in partners]
    prop = proportional.set_index("partner")["total"] if proportional is not None else pd.Series(dtype=float)
    table["proportional"] = table["partner"].map(prop).astype(float)
    table["shapley"] = np.nan
    table["shapley_se"] = np.nan
    table["shapley_gap"] = np.nan
    table["nucleolus"] = np.nan
    result = FairShares(method=method, grand=grand, currency=currency, table=table, exact=exact,
                        coalitions_solved=solved, infeasible_coalitions=infeasible,
                        unproven_coalitions=unproven, costs=costs)
    if exact and not infeasible:
        _exact_game(result, partners, costs, method, gap)
        if method in ("all", "shapley"):
            table["shapley_gap"] = games.shapley_gap_from_costs(partners, uncertainty)
    elif units and not infeasible:
        sampled = games.shapley_from_units(partners, units, costs, design=design,
                                           uncertainty=uncertainty)
        table["shapley"] = sampled["shapley"].to_numpy()
        table["shapley_se"] = sampled["std_error"].to_numpy()
        table["shapley_gap"] = sampled["gap"].to_numpy()
        result.sampling = {"design": design, "units": len(units),
                           "orders": int(sum(len(u) for u in units)), "budget": budget}
    chosen = table[result.chosen]
    table["savings"] = table["standalone"] - chosen
    table["value_brought"] = [costs.get(grand_set - {p}, np.nan) + costs.get(frozenset([p]), np.nan) - grand
                              if n > 1 else 0.0 for p in partners]
    return result


def every_coalition(partners: Sequence[str]) -> list[frozenset]:
    """Every coalition in Gray-code order: consecutive ones differ by one partner, so each
    solve starts from a warm LP close to its answer."""
    n = len(partners)
    return [games.coalition_of(partners, k ^ (k >> 1)) for k in range(1 << n)]


def _exact_game(result: FairShares, partners, costs, method: str, gap: float) -> None:
    table = result.table
    tolerance = games.default_tolerance(result.grand, gap)
    if method in ("all", "shapley"):
        phi = games.shapley_from_costs(partners, costs)
        table["shapley"] = phi["shapley"].to_numpy()
        table["shapley_se"] = 0.0
    lc = games.least_core(partners, costs)
    result.least_core_value = lc.value
    result.core_nonempty = bool(lc.value <= tolerance)
    if method in ("all", "nucleolus"):
        table["nucleolus"] = games.nucleolus(partners, costs).to_numpy()
    for name in ("shapley", "proportional", "nucleolus"):
        split = table[name].to_numpy(dtype=float)
        if np.isfinite(split).all():
            result.core[name] = games.core_check(partners, costs, split, tolerance=tolerance)


#: sampling units at most (reached only when the budget covers nearly every coalition)
_MAX_UNITS = 5000


def sampling_plan(partners, base: list[frozenset], budget: int, seed: int, design: str):
    """Sampling units drawn until the distinct coalitions to solve (``base`` included) would
    exceed ``budget``; at least two units (else a ValueError saying the budget needed). Returns
    the units and the coalitions to solve, in a good order to solve them."""
    rng = np.random.default_rng(seed)
    needed = set(base)
    grand = frozenset(partners)
    units, walk = [], []
    while True:
        unit = games.sample_units(len(partners), 1, design, rng)[0]
        more = [c for c in games.unit_coalitions(partners, unit) if c not in needed and c != grand]
        if len(needed) + len(more) + 1 > budget:
            break
        units.append(unit)
        needed.update(more)
        walk.extend(more)
        if not more and len(units) >= _MAX_UNITS:  # the budget covers (almost) every coalition
            break
    if len(units) < 2:
        per_unit = len(partners) * (len(partners) - 1) if design == "stratified" else 2 * len(partners)
        raise ValueError(f"a budget of {budget} coalition solves is too small for a sampled Shapley "
                         f"estimate with a standard error ({design} design, {len(partners)} partners): "
                         f"give at least about {len(base) + 1 + 2 * per_unit}")
    # solved in the order the orders meet them (neighbours differ by one partner: warm starts),
    # the stand-alone coalitions first and the leave-one-outs last
    singles = [c for c in base if len(c) == 1]
    return units, singles + walk + [c for c in base if len(c) != 1]


# -- rule prices ------------------------------------------------------------------------------

@dataclass
class RuleCosts:
    """The result of :func:`rule_costs`."""

    base: float  # c(P) with every rule
    currency: str
    #: one row per rule, dearest first: rule_id, name, rule, status, without, price, price_pct,
    #: dual (pure LPs, one-row rules), path
    table: pd.DataFrame
    #: rule_id, partner, delta (the partner's proportional cost with the rule minus without)
    partners: pd.DataFrame
    #: the base plan (procure.solve), for its results workbook
    result: object = None

    def to_dict(self) -> dict:
        """Exactly the JSON of ``procure rule-cost --json``."""
        rules = {}
        for row in self.table.itertuples(index=False):
            mine = self.partners[self.partners["rule_id"] == row.rule_id]
            rules[row.rule_id] = {
                "name": row.name, "rule": row.rule, "status": row.status, "without": json_ready(row.without),
                "price": json_ready(row.price), "dual": json_ready(row.dual),
                "partners": {p: json_ready(d) for p, d in zip(mine["partner"], mine["delta"], strict=True)},
            }
        return {"base": json_ready(self.base), "currency": self.currency, "rules": rules}

    def sheet(self) -> pd.DataFrame:
        """The results workbook's "RuleCost" sheet: the table, a column per partner's delta."""
        wide = self.partners.pivot(index="rule_id", columns="partner", values="delta")
        order = [p for p in dict.fromkeys(self.partners["partner"])]
        wide = wide.reindex(columns=order).add_prefix("delta ")
        return self.table.drop(columns=["path"]).merge(wide, left_on="rule_id", right_index=True, how="left")


def rule_costs(data: ProcureData, *, workers: int = 1, scheduler=None, progress: Progress | None = None,
               time_limit: float | None = None, mip_gap: float | None = None) -> RuleCosts:
    """The price of every rule: c(P) minus c(P) with that rule's row removed (never negative up
    to the solver's gap), and per partner the change of its proportional cost. For a pure LP
    also the rule's dual (for a rule with one row). Keyed by ``Rules!<row>``."""
    from procure.engine.solve import solve

    rules = data.rules.reset_index(drop=True)
    options = dict(workers=workers, scheduler=scheduler, time_limit=time_limit, mip_gap=mip_gap)
    stages = _Stages(progress, 1 + len(rules))
    variants = [Variant(label="base")] + [Variant(label=pos, rules_off={pos}) for pos in range(len(rules))]
    run = solve_variants(data, variants, progress=stages.stage(), extract=extract.partner_costs, **options)
    base = float(run["cost"].iat[0])
    base_split = run["value"].iat[0]
    result = solve(data, time_limit=time_limit, mip_gap=mip_gap, diagnose=False)
    duals = _one_row_duals(result) if not result.is_mip else {}
    rows, deltas = [], []
    partners = list(data.partners["partner"])
    for pos in range(len(rules)):
        rule = rules.iloc[pos]
        rule_id = f"Rules!{int(rule['source_row'])}"
        without = float(run["cost"].iat[pos + 1])
        split = run["value"].iat[pos + 1]
        rows.append({"rule_id": rule_id, "name": rule_label(rule), "rule": rule["rule"],
                     "status": run["status"].iat[pos + 1], "without": without, "price": base - without,
                     "price_pct": (base - without) / base if base else np.nan,
                     "dual": duals.get(rule_id, np.nan), "path": run["path"].iat[pos + 1]})
        for p in partners:
            if base_split is None or split is None:
                delta = np.nan
            else:
                delta = float(base_split.set_index("partner").at[p, "total"]
                              - split.set_index("partner").at[p, "total"])
            deltas.append({"rule_id": rule_id, "partner": p, "delta": delta})
    table = pd.DataFrame(rows, columns=["rule_id", "name", "rule", "status", "without", "price",
                                        "price_pct", "dual", "path"])
    table = table.sort_values("price", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return RuleCosts(base=base, currency=data.currency, table=table, partners=pd.DataFrame(deltas),
                     result=result)


def _one_row_duals(result) -> dict[str, float]:
    """The dual of each rule that has exactly one row (an LP's plan)."""
    table = result.rules
    if table is None or table.empty or "dual" not in table:
        return {}
    counts = table.groupby("rule_id")["dual"].agg(["count", "first"])
    return {rid: float(row["first"]) for rid, row in counts.iterrows() if row["count"] == 1}
