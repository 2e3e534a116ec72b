"""Why is a scenario infeasible?  Said in planners' words.

The model is made *elastic*: every demand, capacity, budget and rule row gets a
slack column that relaxes it (unmet demand, extra capacity, extra budget, rule
shortfall) and a binary that says whether the row is relaxed at all:

    minimise   sum_r (1 + p_r) e_r  +  1e-3 * sum_r s_r / M_r
    subject to the model's rows with their slacks,  0 <= s_r <= M_r e_r

(solved with each slack scaled to its row, ``s_r = M_r sigma_r``, so that no cost is too
small for the solver to see)

``M_r`` is the most the row could ever need relaxing, from the row's own
coefficients and the columns' bounds (never an arbitrary constant): how far its
activity can fall short of its bound over the columns' box.  The first
term finds the smallest set of rows whose relaxation restores feasibility; the
second, among such sets, the smallest relaxation.  The small preference ``p_r``
(0 for rules and budgets, 2e-3 for demand, 4e-3 for capacity) breaks ties between
equally small sets: giving up demand "fixes" almost anything (no purchase breaks no
share rule), so when one rule or budget alone explains the conflict, that is named
rather than the demand; and demand is named before the physical capacity.  Each
relaxed row is then reported with how much it must give.

With whole-unit deliveries the switches are found first with those deliveries
continuous (a relaxation: its smallest set is no larger than the model's), then
the model itself, only that set's rows elastic, checks the set in whole units and
gives the amounts; only if the set fails in whole units does the elastic model
over every integer column decide (:func:`_solve_elastic`), solved without HiGHS's
presolve, which proved wrong sets smallest on such models.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from procure.data.tables import ProcureData
from procure.engine.backends import (
    DEFAULT_MIP_GAP,
    empty_rows_that_fail,
    new_highs,
    pass_model,
    read_highs,
)
from procure.engine.model import Model, build_model
from procure.engine.model.core import Block
from procure.engine.results import rule_label
from procure.engine.status import Status
from procure.engine.whole_units import general_integers

#: extra cost of relaxing a row of these blocks, to break ties (module docstring); larger than
#: the whole 1e-3 slack term, far smaller than one more relaxed row
_TIE_PREFERENCE = {"demand": 2e-3, "offer_capacity": 4e-3, "shared_capacity": 4e-3}
#: constraint blocks a planner can act on, and whether their slack raises (+1) or lowers (-1) the row
_ELASTIC = {
    "demand": +1,
    "offer_capacity": -1,
    "shared_capacity": -1,
    "budget": -1,
    "share": 0,
    "workshare": +1,
    "quantity": 0,
    "supplier_count": 0,
    "n1_cover": +1,  # N-1: the demand a re-covery without one supplier must still meet
}


@dataclass(frozen=True)
class Conflict:
    kind: str  # demand, capacity, shared_capacity, budget, rule; binding (a rule that binds with them)
    sheet: str
    row: int | None  # Excel row, where one row is to blame
    subject: str  # what it is about, e.g. "PL / shell155 / 2027"
    amount: float  # how much the row must give, in its own units
    message: str

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "sheet": self.sheet, "row": self.row, "subject": self.subject,
            "amount": self.amount, "message": self.message,
        }


@dataclass
class Diagnosis:
    conflicts: list[Conflict] = field(default_factory=list)
    proven_minimal: bool = True
    note: str = ""
    #: rules tight in the relaxed plan that concern a culprit's partner or item (kind "binding")
    binding: list[Conflict] = field(default_factory=list)

    def headline(self) -> str:
        if not self.conflicts:
            return self.note or "no single demand, capacity, budget or rule explains it"
        n = len(self.conflicts)
        first = self.conflicts[0].message
        if self.binding:
            first += "; " + self.binding[0].message
        told = [f"and {n - 1} more"] if n > 1 else []
        if not self.proven_minimal and self.note:
            # a one-line view (a stress test's row, a comparison's column) must not read as
            # the smallest set when the search stopped before proving it
            told.append(self.note.strip("() "))
        return f"{first} ({'; '.join(told)})" if told else first

    def to_dict(self) -> dict:
        return {
            "conflicts": [c.to_dict() for c in self.conflicts],
            "proven_minimal": self.proven_minimal,
            "note": self.note,
            "binding": [b.to_dict() for b in self.binding],
        }

    def table(self) -> pd.DataFrame:
        """The conflicts, then the rules that bind with them (kind ``binding``)."""
        return pd.DataFrame([c.to_dict() for c in self.conflicts + self.binding],
                            columns=["kind", "sheet", "row", "subject", "amount", "message"])

    def __str__(self) -> str:
        lines = ["The plan is infeasible. Relaxing these together would make it feasible:"]
        lines += [f"  - {c.message}" for c in self.conflicts]
        lines += [f"  - {b.message}" for b in self.binding]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def diagnose_infeasibility(data: ProcureData, *, time_limit: float | None = None,
                           model: Model | None = None) -> Diagnosis:
    """Name the smallest set of demand rows, capacities, budgets and rules that conflict.

    A row with no variable that cannot hold (a demand no delivery may serve, a minimum
    quantity nothing counts towards) is named first, by itself and exactly, however small
    its right-hand side; the elastic model then looks for what else conflicts with those
    rows set aside."""
    model = model if model is not None else build_model(data)
    empty = empty_rows_that_fail(model)
    alone = [_describe(data, model, int(r), model.block_of_row(int(r)).name,
                       float(model.row_lower[r] if model.row_lower[r] > 0 else -model.row_upper[r]))
             for r in empty]
    if len(empty):  # set aside: a row with no variable holds at 0 = 0
        lower, upper = model.row_lower.copy(), model.row_upper.copy()
        lower[empty] = upper[empty] = 0.0
        model = dataclasses.replace(model, row_lower=lower, row_upper=upper)
    found = _diagnose_elastic(data, model, time_limit=time_limit, skip=set(empty.tolist()))
    if alone:
        found.conflicts = sorted(alone + found.conflicts, key=_conflict_order)
    return found


def _conflict_order(c: Conflict) -> int:
    return ("demand", "capacity", "shared_capacity", "budget", "rule").index(c.kind)


def _diagnose_elastic(data: ProcureData, model: Model, *, time_limit: float | None,
                      skip: set[int]) -> Diagnosis:
    """The elastic model of the module docstring (rows in ``skip`` are neither relaxed nor
    reported: they are known culprits, their bounds already opened)."""
    elastic_rows, direction, family = _elastic_rows(model)
    if skip:
        keep = ~np.isin(elastic_rows, list(skip))
        elastic_rows, direction = elastic_rows[keep], direction[keep]
        family = [f for f, k in zip(family, keep, strict=True) if k]
    ub = _column_bounds(model)
    big_m = _relaxation_bounds(model, elastic_rows, direction, ub)

    n, m = model.num_cols, model.num_rows
    k = len(elastic_rows)
    # each slack scaled to its row: s_r = M_r sigma_r with sigma_r in [0, 1] (col n+k), its
    # switch e_r (col n+k+k_total), sigma_r <= e_r. The amounts cost 1e-3 sigma_r, never
    # 1e-3 s_r / M_r: for a row in EUR that cost is 1e-13, which HiGHS treats as none (the
    # demo without PL_VIS: a value-share rule relaxed by all it could ever need)
    slack_entries = sp.csc_matrix((direction.astype(float) * big_m, (elastic_rows, np.arange(k))),
                                  shape=(m, k))
    a = sp.hstack([model.matrix, slack_entries, sp.csc_matrix((m, k))], format="csc")
    link = sp.hstack([sp.csc_matrix((k, n)), sp.identity(k, format="csc"),
                      -sp.identity(k, format="csc")], format="csc")
    matrix = sp.vstack([a, link], format="csc")
    preference = np.array([_TIE_PREFERENCE.get(f, 0.0) for f in family])
    cost = np.concatenate([np.zeros(n), np.full(k, 1e-3), 1.0 + preference])
    elastic = Model(
        col_cost=cost,
        col_lower=np.zeros(n + 2 * k),
        col_upper=np.concatenate([model.col_upper, np.ones(k), np.ones(k)]),
        integrality=np.concatenate([model.integrality, np.zeros(k, bool), np.ones(k, bool)]),
        matrix=matrix,
        row_lower=np.concatenate([model.row_lower, np.full(k, -np.inf)]),
        row_upper=np.concatenate([model.row_upper, np.zeros(k)]),
        variables={}, constraints={},
    )
    out, proven = _solve_elastic(elastic, n, k, float(time_limit or 60.0))
    if not out.status.has_plan:
        return Diagnosis([], False, "the diagnosis found no relaxation in time (" + out.detail + ")")
    slack = out.col_value[n:n + k] * big_m
    relaxed = np.flatnonzero(slack > 1e-6 * np.maximum(1.0, big_m))
    conflicts = [
        _describe(data, model, int(elastic_rows[j]), family[j], float(slack[j])) for j in relaxed
    ]
    conflicts.sort(key=_conflict_order)
    note = "" if proven else "(time limit: this set works but may not be the smallest)"
    binding = _binding_rules(data, model, out.col_value[:n], set(elastic_rows[relaxed].tolist()),
                             [(family[j], int(elastic_rows[j])) for j in relaxed])
    return Diagnosis(conflicts, proven, note, binding)


def _solve_elastic(elastic: Model, n: int, k: int, time_limit: float):
    """The elastic MIP solved: ``(output, proven)``, ``proven`` when the set of relaxed rows is
    proven the smallest (the output has no plan when none was found in time).

    Whole-unit deliveries make the elastic MIP far harder (the demo without IT_ADR: 31 % from
    its bound after 60 s; 12 s and proven with the deliveries continuous), and integrality
    rarely decides which rows conflict. So the switches are first found with the whole-unit
    columns continuous: a relaxation, whose smallest set is no larger than the model's. Then
    the model itself, with only that set's rows elastic (switches fixed), checks that the set
    works in whole units and gives each row's amount. If it does, the set is the smallest
    for the model too; if not, the whole elastic MIP decides, in the time left."""
    deadline = time.perf_counter() + time_limit
    general = general_integers(elastic)
    if general.any():
        relaxed = dataclasses.replace(elastic, integrality=elastic.integrality & ~general)
        first = _run_elastic(relaxed, time_limit)
        if first.status.has_plan:
            fixed = switches_fixed(elastic, n, k, first.col_value[n + k:])
            second = _run_elastic(fixed, max(1.0, deadline - time.perf_counter()))
            if second.status.has_plan:
                return second, first.status == Status.OPTIMAL
    # without HiGHS's presolve when whole units are integer beside the switches: on such
    # models HiGHS 1.16's presolve proved sets the smallest that were not (4 rows where 2
    # suffice; 3 of 401 random infeasible instances and a CI run's example, benchmarks/
    # presolve.py); the two models above (switches only, then switches fixed) agreed with and
    # without it on all 401
    out = _run_elastic(elastic, max(1.0, deadline - time.perf_counter()), presolve=not general.any())
    return out, out.status == Status.OPTIMAL


def switches_fixed(elastic: Model, n: int, k: int, switches: np.ndarray) -> Model:
    """The elastic model with its ``k`` switches fixed at ``switches`` (rounded): the check of
    a set of rows, and the amounts each must give. The switches fixed cost nothing and each
    amount sigma costs 1: the gap then applies to the amounts alone, which a count of about 1
    per row would otherwise swamp (5e-7 of 10 rows is 5e-4 of a row's largest relaxation)."""
    chosen = np.round(switches).clip(0.0, 1.0)
    return dataclasses.replace(
        elastic, col_lower=np.concatenate([elastic.col_lower[:n + k], chosen]),
        col_upper=np.concatenate([elastic.col_upper[:n + k], chosen]),
        col_cost=np.concatenate([elastic.col_cost[:n], np.ones(k), np.zeros(k)]))


def _run_elastic(elastic: Model, time_limit: float, *, presolve: bool = True):
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", DEFAULT_MIP_GAP)
    if not presolve:
        h.setOptionValue("presolve", "off")
    pass_model(h, elastic)
    h.run()
    return read_highs(h, elastic, 0.0)


def _binding_rules(data: ProcureData, model: Model, values: np.ndarray, relaxed: set[int],
                   culprits: list[tuple[str, int]]) -> list[Conflict]:
    """Rules that are tight in the relaxed plan and concern a culprit's partner or item: they
    bind with it ("rule 'EU value share >= 65 %' for FR binds with it")."""
    scopes = []  # (partner or None, item or None) of each culprit row
    for name, row in culprits:
        idx = model.constraints[name].index.iloc[row - model.constraints[name].start]
        if name == "demand":
            scopes.append((idx["partner"], idx["item"]))
        elif name == "offer_capacity":
            scopes.append((None, idx["item"]))
        elif name == "budget":
            scopes.append((idx["partner"], None))
    if not scopes:
        return []
    category = data.items.set_index("item")["category"]
    rules = data.rules.reset_index(drop=True)
    activity = model.matrix @ values
    found: dict[int, Conflict] = {}
    for name in ("share", "workshare", "quantity", "supplier_count"):
        block = model.constraints.get(name)
        if block is None or block.size == 0:
            continue
        for k in range(block.size):
            row = block.start + k
            lo, up = model.row_lower[row], model.row_upper[row]
            tol = 1e-6 * max(1.0, abs(activity[row]))
            tight = (np.isfinite(lo) and abs(activity[row] - lo) <= tol) or (
                np.isfinite(up) and abs(activity[row] - up) <= tol)
            pos = int(block.index["rule_pos"].iat[k])
            if row in relaxed or not tight or pos in found:
                continue
            rule = rules.iloc[pos]
            subject = block.index["subject"].iat[k]
            who = rule["partner"] if isinstance(rule["partner"], str) else (
                subject if name == "workshare" else None)
            what = rule["item"] if isinstance(rule["item"], str) else None

            def concerns(partner, item, who=who, what=what) -> bool:
                partner_ok = who is None or partner is None or who == partner
                item_ok = (what is None or item is None or what == item
                           or category.get(item) == what)
                return partner_ok and item_ok

            if any(concerns(p, i) for p, i in scopes):
                whom = f" for {who}" if who and not isinstance(rule["partner"], str) else ""
                label = rule_label(rule)
                found[pos] = Conflict(
                    "binding", "Rules", int(rule["source_row"]), f"{label}{whom}", 0.0,
                    f"rule '{label}'{whom} (Rules row {int(rule['source_row'])}) binds with it")
    return list(found.values())


def _elastic_rows(model: Model):
    rows, direction, family = [], [], []
    for name, sign in _ELASTIC.items():
        block = model.constraints.get(name)
        if block is None or block.size == 0:
            continue
        pos = block.positions
        if sign == 0:  # rule rows: relax towards whichever side is bounded
            sign_arr = np.where(np.isfinite(model.row_lower[pos]), 1, -1)
        else:
            sign_arr = np.full(len(pos), sign)
        rows.append(pos)
        direction.append(sign_arr)
        family += [name] * len(pos)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0), []
    return np.concatenate(rows), np.concatenate(direction), family


def _column_bounds(model: Model) -> np.ndarray:
    """Finite upper bounds for every column: deliveries are bounded by their demand."""
    ub = model.col_upper.copy()
    ctx = model.extras["context"]
    xb = model.variables["x"]
    ub[xb.start:xb.stop] = np.minimum(ub[xb.start:xb.stop], ctx.x["upper"].to_numpy())
    total = model.variables.get("share_total")
    if total is not None and total.size:
        # T_r is a sum of deliveries times weights: bounded by the same sum of bounds
        price = ctx.x["base_price"].to_numpy()
        ub[total.start:total.stop] = float(np.sum(ctx.x["upper"].to_numpy() * np.maximum(price, 1.0)))
    recourse = model.variables.get("n1_recourse")
    if recourse is not None and recourse.size:
        # an N-1 re-covery delivery never exceeds the demand row it serves
        rows = recourse.index["x_row"].to_numpy(dtype=np.int64)
        ub[recourse.start:recourse.stop] = ctx.x["demand"].to_numpy(dtype=float)[rows]
    ub[~np.isfinite(ub)] = float(ctx.x["upper"].sum()) if len(ctx.x) else 0.0
    return ub


def _relaxation_bounds(model, rows, direction, ub) -> np.ndarray:
    """The most each row could need relaxing: how far the row's activity can fall short of its
    bound over the columns' box ``[lower, ub]`` (a row ``a x >= lo`` relaxed upwards never
    needs more than ``lo - min a x``; ``a x <= up`` relaxed downwards never more than
    ``max a x - up``), whatever the other rows do. It is the row's own scale, the unit of its
    amount ``sigma``: ``|rhs| + sum |a| ub`` counted the terms that only help the row too (on
    the demo without GB_THM, value-share rows 5.2e10 against 8.0e9, demand rows 1.4e7
    against 7.8e4)."""
    a = model.matrix.tocsr()[rows]
    lower = np.where(np.isfinite(model.col_lower), model.col_lower, 0.0)
    positive, negative = a.maximum(0), a.minimum(0)
    lowest = positive @ lower + negative @ ub
    highest = positive @ ub + negative @ lower
    need = np.where(direction > 0,
                    np.nan_to_num(model.row_lower[rows], neginf=0.0) - lowest,
                    highest - np.nan_to_num(model.row_upper[rows], posinf=0.0))
    return np.maximum(need, 1.0)


def _describe(data: ProcureData, model: Model, row: int, family: str, amount: float) -> Conflict:
    block: Block = model.constraints[family]
    idx = block.index.iloc[row - block.start]
    items = data.items.set_index("item")
    if family == "demand":
        d = data.demand.iloc[int(idx["demand_row"])]
        unit = _unit(items, d["item"])
        name = _name(items, d["item"])
        has_supplier = (model.extras["context"].x["demand_row"] == idx["demand_row"]).any()
        how_many = (f"{amount:,.6g} more {_plural(name, amount)} in {d['period']} than eligible "
                    "suppliers can deliver" if has_supplier else
                    f"{amount:,.6g} {_plural(name, amount)} in {d['period']} and no supplier may "
                    "deliver it then (no offer, first_period later, or banned)")
        return Conflict(
            "demand", "Demand", int(d["source_row"]), f"{d['partner']} / {d['item']} / {d['period']}",
            amount,
            f"{d['partner']} needs {how_many} "
            f"(Demand row {int(d['source_row'])}: {d['quantity']:,.6g} demanded, unit: {unit})",
        )
    if family == "offer_capacity":
        return Conflict(
            "capacity", "Capacity", None, f"{idx['supplier']} / {idx['item']} / {idx['period']}", amount,
            f"supplier {idx['supplier']} would need capacity for {amount:,.6g} more "
            f"{_plural(_name(items, idx['item']), amount)} in {idx['period']} "
            f"(has {model.row_upper[row]:,.6g} {_unit(items, idx['item'])}; Offers.capacity or "
            "Capacity sheet)",
        )
    if family == "shared_capacity":
        return Conflict(
            "shared_capacity", "Suppliers", None, f"{idx['supplier']} / {idx['period']}", amount,
            f"supplier {idx['supplier']} would need {amount:,.6g} more units of shared capacity "
            f"in {idx['period']} (has {model.row_upper[row]:,.6g}; Suppliers.capacity)",
        )
    if family == "budget":
        return Conflict(
            "budget", "Partners", None, str(idx["partner"]), amount,
            f"{idx['partner']}'s budget is {amount:,.6g} {data.currency} short "
            f"(budget {model.row_upper[row]:,.6g}; Partners.budget)",
        )
    # a named tuple, not a Series: a Series' ``.name`` is its index label, not the Rules name
    rule = next(data.rules.iloc[[int(idx["rule_pos"])]].itertuples(index=False))
    label = rule_label(rule)
    subject = idx["subject"]
    whom = f" for {subject}" if isinstance(subject, str) and subject else ""
    if family == "n1_cover":
        return _describe_n_minus_1(data, model, rule, label, subject, amount)
    units = {"value": f"{data.currency} of value", "quantity": "units", "count": "suppliers"}[idx["measure"]]
    return Conflict(
        "rule", "Rules", int(rule.source_row), f"{label}{whom}", amount,
        f"rule '{label}'{whom} (Rules row {int(rule.source_row)}) cannot hold: "
        f"misses by {amount:,.6g} {units}",
    )


def _describe_n_minus_1(data: ProcureData, model: Model, rule, label: str, lost: str,
                        amount: float) -> Conflict:
    """'without DE_ELB, the pool would lack 40,000 155 mm shells (of 1,824,500) beyond the
    10 % the rule tolerates'."""
    items = data.items.set_index("item")
    item = rule.item if isinstance(rule.item, str) else None
    if item is not None and item in items.index:
        what = _plural(_name(items, item), amount)
    else:
        what = f"units of {item}" if item is not None else "units"
    who = rule.partner if isinstance(rule.partner, str) else "the pool"
    return Conflict(
        "rule", "Rules", int(rule.source_row), f"{label} without {lost}", amount,
        f"rule '{label}' (Rules row {int(rule.source_row)}) cannot hold: without {lost}, "
        f"{who} would lack {amount:,.6g} {what} beyond the {rule.share:.0%} of its demand "
        "the rule tolerates (surge, spare capacity or another supplier would close the gap)",
    )


def _plural(name: str, amount: float) -> str:
    """'155 mm shell' -> '155 mm shells' for planners' sentences (ids and odd names unchanged)."""
    if amount == 1 or not name or not name[-1].isalpha() or name.endswith("s") or name == name.upper():
        return name
    return name + "s"


def _unit(items: pd.DataFrame, item: str) -> str:
    unit = items.at[item, "unit"] if "unit" in items else None
    return unit if isinstance(unit, str) and unit else "units"


def _name(items: pd.DataFrame, item: str) -> str:
    name = items.at[item, "name"] if "name" in items else None
    return name if isinstance(name, str) and name else item
