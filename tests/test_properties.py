"""Property tests on random valid instances (benchmarks.generate): every answer can be trusted.

Each property is checked on small instances (2-4 partners, 2-4 items, 2-3 offers per item,
2-3 periods) drawn by hypothesis; every plan is re-checked independently from its output
tables by ``tests/checker.check_solution``. MIPs are solved to a zero relative gap so that
costs of different solves can be compared.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from benchmarks.generate import generate

try:
    from tests.checker import check_solution
except ImportError:  # tests/ is not a package
    from checker import check_solution

RTOL = 1e-6
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
# each example solves 2-5 small models (~0.1-0.4 s each): keep the whole file ~30 s of CPU
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=_HEALTH)
FEWER = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=_HEALTH)


@st.composite
def instances(draw, *, rules: bool = True):
    """Keyword arguments of :func:`benchmarks.generate.generate` for a small instance."""
    return dict(
        partners=draw(st.integers(2, 4)),
        items=draw(st.integers(2, 4)),
        offers_per_item=draw(st.integers(2, 3)),
        periods=draw(st.integers(2, 3)),
        rule_density=draw(st.sampled_from([0.0, 1.0, 2.0])) if rules else 0.0,
        tiers=draw(st.booleans()),
        setup=draw(st.booleans()),
        min_orders=draw(st.booleans()),
        shared_capacity=draw(st.booleans()),
        shortfall=draw(st.booleans()),
        budgets=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def solve(tables: dict[str, pd.DataFrame]) -> tuple[procure.ProcureData, procure.Result]:
    data = procure.validate_tables({k: v.copy() for k, v in tables.items()})
    return data, procure.solve(data, mip_gap=0.0)


def solved(tables) -> tuple[procure.ProcureData, procure.Result]:
    """Solve, insist on an optimal plan and re-check it from its output tables."""
    data, result = solve(tables)
    assert result.status == procure.Status.OPTIMAL, result.message
    check_solution(data, result)
    return data, result


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 + RTOL * max(abs(a), abs(b))


def at_least(a: float, b: float) -> bool:
    """a >= b up to the relative tolerance."""
    return a >= b - (1e-6 + RTOL * max(abs(a), abs(b)))


# --------------------------------------------------------------------------- feasibility, parts


@SETTINGS
@given(instances())
def test_plan_obeys_every_constraint_and_parts_sum_to_total(kw):
    data, result = solved(generate(**kw))
    parts = result.purchase + result.setup + result.transport + result.shortfall
    assert close(result.total_cost, parts)
    # the tables add up to the same parts
    assert close(result.purchase, float(result.offers["purchase_cost"].sum()))
    assert close(result.setup, float(result.offers["setup_cost"].sum()))
    assert close(result.transport, float(result.allocation["transport"].sum()))
    assert close(result.shortfall, float(result.fulfilment["shortfall_cost"].sum()))
    assert close(result.total_cost, float(result.partner_costs["total"].sum()))
    # every number reported is finite or NaN ("unlimited" is NaN, docs/results.md)
    for name, table in result.tables().items():
        numbers = table.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any(), name
    if result.status == procure.Status.OPTIMAL:
        assert result.mip_gap is not None and result.mip_gap <= 1e-6 + 1e-9


# --------------------------------------------------------------------------- determinism


@SETTINGS
@given(instances())
def test_same_input_same_plan(kw):
    tables = generate(**kw)
    _, first = solved(tables)
    _, second = solve(tables)
    assert second.status == first.status
    assert second.total_cost == first.total_cost
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(second.tables()[name], table, check_exact=True, obj=name)


# --------------------------------------------------------------------------- renaming, reordering

_PREFIX = {"partner": "pa", "item": "it", "category": "ca", "supplier": "su", "country": "co",
           "bloc": "bl"}
# (sheet, column) -> kind of id it holds
_ID_COLUMNS = {
    ("Partners", "partner"): "partner", ("Partners", "country"): "country",
    ("Items", "item"): "item", ("Items", "category"): "category",
    ("Suppliers", "supplier"): "supplier", ("Suppliers", "country"): "country",
    ("Offers", "supplier"): "supplier", ("Offers", "item"): "item",
    ("Demand", "partner"): "partner", ("Demand", "item"): "item",
    ("Capacity", "supplier"): "supplier", ("Capacity", "item"): "item",
    ("PriceTiers", "supplier"): "supplier", ("PriceTiers", "item"): "item",
    ("Transport", "from_country"): "country", ("Transport", "to_partner"): "partner",
    ("Transport", "item"): "item",
    ("Blocs", "bloc"): "bloc", ("Blocs", "country"): "country",
    ("Rules", "partner"): "partner",
}


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def rename_and_shuffle(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """The same scenario with every id renamed (in a new sort order), periods relabelled in
    the same order, and the rows and columns of every sheet shuffled."""
    rng = np.random.default_rng(seed)
    ids: dict[str, set] = {k: set() for k in _PREFIX}
    for (sheet, col), kind in _ID_COLUMNS.items():
        if sheet in tables and col in tables[sheet]:
            ids[kind] |= {v for v in tables[sheet][col] if not _is_blank(v)}
    new: dict[str, dict] = {}
    for kind, values in ids.items():
        values = sorted(values)
        perm = rng.permutation(len(values))
        new[kind] = {v: f"{_PREFIX[kind]}{perm[k]:03d}" for k, v in enumerate(values)}
    # a period "2026" becomes "Y2026": text, sorted as before
    periods = {str(v) for v in tables["Demand"]["period"]}
    new_period = {p: f"Y{p}" for p in periods}

    def remap(mapping):
        return lambda v: v if _is_blank(v) else mapping[v]

    out = {}
    for sheet, df in tables.items():
        df = df.copy()
        for col in df.columns:
            kind = _ID_COLUMNS.get((sheet, col))
            if kind is not None:
                df[col] = df[col].astype(object).map(remap(new[kind]))
            elif col in ("period", "first_period") and sheet in ("Demand", "Capacity", "Offers"):
                df[col] = df[col].astype(object).map(remap(new_period))
        if sheet == "Rules" and len(df):
            items = {**new["item"], **new["category"]}
            df["item"] = df["item"].astype(object).map(remap(items))
            groups = {**new["supplier"], **new["country"], **new["bloc"]}
            df["group"] = [g if _is_blank(g) or g not in groups else groups[g]
                           for g in df["group"].astype(object)]
        df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
        df = df[list(rng.permutation(df.columns))]
        out[sheet] = df
    names = list(out)
    return {k: out[k] for k in rng.permutation(names)}


@SETTINGS
@given(instances(), st.integers(0, 2**32 - 1))
def test_renaming_and_reordering_keep_the_cost(kw, seed):
    tables = generate(**kw)
    _, base = solved(tables)
    moved = rename_and_shuffle(tables, seed)
    _, other = solved(moved)
    assert close(other.total_cost, base.total_cost), (other.total_cost, base.total_cost)
    # the same scenario by every measure that does not depend on names
    for part in ("purchase", "setup", "transport", "shortfall"):
        # parts may trade off between equally cheap plans; only their sum is unique
        assert getattr(other, part) >= -1e-9
    assert close(float(other.fulfilment["delivered"].sum()), float(base.fulfilment["delivered"].sum()))


# --------------------------------------------------------------------------- adding a rule


@st.composite
def extra_rules(draw, tables: dict[str, pd.DataFrame]) -> dict:
    """One valid Rules row over the instance's ids."""
    partners = list(tables["Partners"]["partner"])
    items = list(tables["Items"]["item"]) + sorted(set(tables["Items"]["category"].dropna()))
    suppliers = list(tables["Suppliers"]["supplier"])
    countries = sorted(set(tables["Suppliers"]["country"]))
    blocs = sorted(set(tables["Blocs"]["bloc"]))
    kind = draw(st.sampled_from(["ban", "min_share", "max_share", "min_value_share",
                                 "max_value_share", "workshare", "min_quantity", "max_quantity",
                                 "min_suppliers", "max_suppliers"]))
    partner = draw(st.one_of(st.none(), st.sampled_from(partners)))
    item = draw(st.one_of(st.none(), st.sampled_from(items)))
    groups = suppliers + countries + blocs
    if partner is not None or kind == "ban":
        groups.append("domestic")
    if kind in ("max_share", "max_value_share", "max_quantity"):
        groups += ["each_supplier", "each_country"]
    group_options = st.sampled_from(groups)
    if kind in ("min_suppliers", "max_suppliers"):  # blank: every supplier
        group_options = st.one_of(st.none(), group_options)
    group = None if kind == "workshare" else draw(group_options)
    share = quantity = None
    if "share" in kind:
        share = draw(st.floats(0.0, 1.0)).__round__(3)
    if kind in ("min_quantity", "max_quantity"):
        total = float(tables["Demand"]["quantity"].sum())
        quantity = float(round(draw(st.floats(0.0, 1.0)) * total))
    if kind in ("min_suppliers", "max_suppliers"):
        quantity = float(draw(st.integers(1, 3)))
    return dict(rule=kind, partner=partner, item=item, group=group, share=share,
                quantity=quantity)


def with_rule(tables: dict[str, pd.DataFrame], row: dict) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    out["Rules"] = pd.concat([tables["Rules"], pd.DataFrame([row])], ignore_index=True)
    return out


@SETTINGS
@given(instances(), st.data())
def test_adding_a_rule_never_lowers_the_cost(kw, data):
    tables = generate(**kw)
    _, base = solved(tables)
    row = data.draw(extra_rules(tables), label="rule")
    ruled, result = solve(with_rule(tables, row))
    if result.status == procure.Status.INFEASIBLE:
        return  # cost +inf: never lower
    assert result.status == procure.Status.OPTIMAL, result.message
    check_solution(ruled, result)
    assert at_least(result.total_cost, base.total_cost), (row, result.total_cost, base.total_cost)


@FEWER
@given(instances(), st.data())
def test_dropping_a_rule_never_raises_the_cost(kw, data):
    kw["rule_density"] = 2.0
    tables = generate(**kw)
    _, base = solved(tables)
    rules = tables["Rules"]
    if rules.empty:
        return
    drop = data.draw(st.lists(st.integers(0, len(rules) - 1), min_size=1, max_size=2, unique=True),
                     label="dropped")
    for k in drop:
        fewer = dict(tables, Rules=rules.drop(index=k).reset_index(drop=True))
        _, result = solved(fewer)
        assert at_least(base.total_cost, result.total_cost), (rules.iloc[k].to_dict(),)


# --------------------------------------------------------------------------- adding capacity


def with_more_capacity(tables: dict[str, pd.DataFrame], factor: float, unlimit: bool):
    out = dict(tables)
    offers = tables["Offers"].copy()
    offers["capacity"] = np.nan if unlimit else offers["capacity"] * factor
    out["Offers"] = offers
    cap = tables["Capacity"].copy()
    cap["capacity"] = cap["capacity"] * factor
    out["Capacity"] = cap.iloc[0:0] if unlimit else cap
    sup = tables["Suppliers"].copy()
    sup["capacity"] = sup["capacity"] * factor
    out["Suppliers"] = sup
    return out


@SETTINGS
@given(instances(), st.floats(1.0, 3.0), st.booleans())
def test_adding_capacity_never_raises_the_cost(kw, factor, unlimit):
    tables = generate(**kw)
    _, base = solved(tables)
    _, more = solved(with_more_capacity(tables, factor, unlimit))
    assert at_least(base.total_cost, more.total_cost), (more.total_cost, base.total_cost)


# --------------------------------------------------------------------------- pooling


def scope_items(tables, item) -> set:
    items = tables["Items"]
    if _is_blank(item):
        return set(items["item"])
    if item in set(items["item"]):
        return {item}
    return set(items.loc[items["category"] == item, "item"])


def stand_alone(tables: dict[str, pd.DataFrame], partner: str) -> dict[str, pd.DataFrame]:
    """SPEC section 4's c({partner}): only its demand, its own rules and the pool rules, a pool
    rule's absolute quantity scaled by the partner's share of the pool demand in its scope."""
    out = dict(tables)
    demand = tables["Demand"]
    out["Demand"] = demand[demand["partner"] == partner].reset_index(drop=True)
    rules = tables["Rules"]
    keep = rules["partner"].isna() | (rules["partner"] == partner)
    rules = rules[keep].reset_index(drop=True).copy()
    for k, r in rules.iterrows():
        if _is_blank(r["partner"]) and r["rule"] in ("min_quantity", "max_quantity"):
            scope = demand["item"].isin(scope_items(tables, r["item"]))
            pool = float(demand.loc[scope, "quantity"].sum())
            mine = float(demand.loc[scope & (demand["partner"] == partner), "quantity"].sum())
            rules.loc[k, "quantity"] = r["quantity"] * mine / pool if pool > 0 else 0.0
    out["Rules"] = rules
    return out


@FEWER
@given(instances())
def test_pooling_never_costs_more_without_binding_capacity_or_pool_caps(kw):
    tables = generate(**kw)
    # no capacity can bind: none is left; no pool-wide cap
    tables = with_more_capacity(tables, 1.0, True)
    tables["Suppliers"] = tables["Suppliers"].assign(capacity=np.nan)
    rules = tables["Rules"]
    pool_cap = rules["partner"].isna() & rules["rule"].isin(["max_quantity", "max_suppliers"])
    tables["Rules"] = rules[~pool_cap].reset_index(drop=True)
    _, pooled = solved(tables)
    alone = 0.0
    for p in tables["Partners"]["partner"]:
        data, result = solve(stand_alone(tables, p))
        if result.status == procure.Status.INFEASIBLE:
            return  # a partner cannot go it alone: the stand-alone sum is +inf
        assert result.status == procure.Status.OPTIMAL, result.message
        check_solution(data, result)
        alone += result.total_cost
    assert at_least(alone, pooled.total_cost), (alone, pooled.total_cost)


def test_stand_alone_scales_pool_quantities():
    """The test's own c({p}) builder: a pool min_quantity is split by demand share."""
    tables = generate(partners=2, items=2, offers_per_item=2, periods=2, seed=3)
    tables["Rules"] = pd.DataFrame([dict(rule="min_quantity", partner=None, item=None,
                                         group=tables["Suppliers"]["country"].iloc[0],
                                         share=np.nan, quantity=100.0)])
    d = tables["Demand"]
    share = d.loc[d["partner"] == "P001", "quantity"].sum() / d["quantity"].sum()
    alone = stand_alone(tables, "P001")
    assert alone["Rules"]["quantity"].iloc[0] == pytest.approx(100.0 * share)
    assert set(alone["Demand"]["partner"]) == {"P001"}
