"""The Rules table: every rule's target, what the plan achieved, whether it binds and its
dual; the N-1 rules' rows from the plan's best re-covery of each contingency."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from procure.data.tables import ProcureData
from procure.engine.backends import new_highs, pass_model, read_highs
from procure.engine.model import Model
from procure.engine.model.resilience import ROW_BLOCKS

_RULE_BLOCKS = ("share", "workshare", "quantity", "supplier_count")


def rule_label(rule) -> str:
    """A readable label for a Rules row (its ``name`` when given): a row tuple or a Series."""
    if isinstance(rule, pd.Series):
        # a Series' .name is its row label and .item a method: read the columns themselves
        rule = SimpleNamespace(**{k: rule.get(k) for k in
                                  ("rule", "partner", "item", "group", "share", "quantity",
                                   "name")})
    name = getattr(rule, "name", None)
    if isinstance(name, str) and name.strip():
        return name
    who = rule.partner if isinstance(rule.partner, str) else "pool"
    what = rule.item if isinstance(rule.item, str) else "all items"
    group = rule.group if isinstance(rule.group, str) else "all suppliers"
    if rule.rule in ("min_share", "max_share", "min_value_share", "max_value_share", "workshare"):
        op = ">=" if rule.rule.startswith("min") or rule.rule == "workshare" else "<="
        target = f"{op} {rule.share:.0%}"
    elif rule.rule == "ban":
        target = ""
    elif rule.rule == "n_minus_1":
        lost = "each country" if group == "each_country" else (
            "each supplier" if group in ("all suppliers", "each_supplier") else f"each of {group}")
        return f"n_minus_1: without {lost}, unmet <= {rule.share:.0%} ({who}, {what})"
    else:
        op = ">=" if rule.rule.startswith("min") else "<="
        target = f"{op} {rule.quantity:g}"
    grp = "" if rule.rule == "workshare" else f" {group}"
    return f"{rule.rule}{grp} {target} ({who}, {what})".replace("  ", " ")


def rules_table(data: ProcureData, model: Model, v: np.ndarray, row_dual) -> pd.DataFrame:
    rules = data.rules.reset_index(drop=True)
    activity = model.matrix @ v
    frames = []
    for name in _RULE_BLOCKS:
        block = model.constraints.get(name)
        if block is None or block.size == 0:
            continue
        idx = block.index
        rows = slice(block.start, block.stop)
        report = model.extras["rule_reports"][name]
        num = _row_sums(report["num"], block.size, v)
        den = _row_sums(report["den"], block.size, v)
        measure = idx["measure"].to_numpy()
        if name == "supplier_count":
            num = _counts_reached(model, v, block.size)
        ratio = name in ("share", "workshare")
        with np.errstate(invalid="ignore", divide="ignore"):
            achieved = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan) if ratio else num
        target = idx["target"].to_numpy(dtype=float)
        lhs = num
        rhs = target * den if ratio else target
        act = activity[rows]
        lo = model.row_lower[rows]
        up = model.row_upper[rows]
        scale = np.abs(model.matrix[rows]) @ np.abs(v)
        tol = 1e-6 * np.maximum(1.0, scale)
        binds = (np.abs(act - lo) <= tol) | (np.abs(act - up) <= tol)
        if name == "supplier_count":
            binds = np.abs(num - target) < 0.5
        dual = row_dual[rows] if row_dual is not None else np.full(block.size, np.nan)
        frames.append(pd.DataFrame({
            "rule_pos": idx["rule_pos"].to_numpy(),
            "subject": idx["subject"].to_numpy(),
            "sense": idx["sense"].to_numpy(),
            "measure": measure,
            "target": target,
            "achieved": achieved,
            "lhs": lhs,
            "rhs": rhs,
            "binds": binds,
            "dual": dual,
        }))
    n_minus_1 = n_minus_1_rows(model, v, row_dual)
    if len(n_minus_1):
        frames.append(n_minus_1)
    bans = rules.index[rules["rule"] == "ban"].to_numpy()
    if len(bans):
        frames.append(pd.DataFrame({
            "rule_pos": bans, "subject": None, "sense": "=", "measure": "quantity", "target": 0.0,
            "achieved": 0.0, "lhs": 0.0, "rhs": 0.0, "binds": True, "dual": np.nan,
        }))
    columns = ["rule_id", "name", "rule", "partner", "item", "group", "subject", "sense", "measure",
               "target", "achieved", "lhs", "rhs", "binds", "dual"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True).sort_values("rule_pos", kind="stable")
    src = rules.iloc[table["rule_pos"].to_numpy()]
    table["rule_id"] = [f"Rules!{r}" for r in src["source_row"]]
    table["name"] = [rule_label(r) for r in src.itertuples(index=False)]
    for col in ("rule", "partner", "item", "group"):
        table[col] = src[col].to_numpy()
    return table[columns].reset_index(drop=True)


def _row_sums(terms, n_rows: int, v: np.ndarray) -> np.ndarray:
    rows, cols, vals = terms
    if len(rows) == 0:
        return np.zeros(n_rows)
    return np.bincount(rows, weights=vals * v[cols], minlength=n_rows)


def _counts_reached(model: Model, v: np.ndarray, n_rows: int) -> np.ndarray:
    """Suppliers that really count: deliveries >= threshold (min) or > 0 (max), per count row."""
    pairs = model.extras["count_pairs"]
    pair_idx, cols, vals = pairs["terms"]
    n_pairs = len(pairs["row"])
    delivered = np.bincount(pair_idx, weights=vals * v[cols], minlength=n_pairs) if n_pairs else np.zeros(0)
    thr = pairs["threshold"]
    counts = np.where(thr > 0, delivered >= thr * (1 - 1e-6), delivered > 0)
    return np.bincount(pairs["row"], weights=counts.astype(float), minlength=n_rows)


# -- N-1 rules: the plan's best re-covery of each contingency --------------------------------

def best_recovery(model, values: np.ndarray) -> np.ndarray | None:
    """The most each contingency's re-covery can deliver with the plan ``values`` fixed: per
    ``n1_cover`` row, ``max sum r^k`` over the re-covery rows (the plan's columns moved to the
    right-hand side). One LP for every contingency at once (they share no column). ``None``
    when the LP does not solve; an empty array without N-1 rules."""
    rb = model.variables.get("n1_recourse")
    cover = model.constraints.get("n1_cover")
    if rb is None or cover is None or cover.size == 0:
        return np.zeros(0)
    blocks = [model.constraints[name] for name in ROW_BLOCKS[:-1]]
    rows = np.concatenate([blk.positions for blk in blocks]) if blocks else np.zeros(0, np.int64)
    csr = model.matrix.tocsr()
    a = csr[rows]
    inside = np.zeros(model.num_cols, dtype=bool)
    inside[rb.start:rb.stop] = True
    fixed = np.where(inside, 0.0, values)
    moved = a @ fixed
    a_r = a[:, rb.start:rb.stop].tocsc()
    lp = Model(
        col_cost=-np.ones(rb.size), col_lower=np.zeros(rb.size), col_upper=np.full(rb.size, np.inf),
        integrality=np.zeros(rb.size, dtype=bool), matrix=sp.csc_matrix(a_r),
        row_lower=np.full(len(rows), -np.inf),
        row_upper=np.maximum(model.row_upper[rows] - moved, 0.0),
        variables={}, constraints={},
    )
    h = new_highs()
    pass_model(h, lp)
    h.run()
    out = read_highs(h, lp, 0.0)
    if out.status.value != "optimal":
        return None
    per_row = csr[cover.positions][:, rb.start:rb.stop] @ out.col_value
    return np.asarray(per_row, dtype=float)


def n_minus_1_rows(model, values: np.ndarray, row_dual: np.ndarray | None) -> pd.DataFrame:
    """Rows of the rules table for the ``n_minus_1`` rules: one per rule and contingency
    (``subject`` = the supplier or country lost). ``lhs`` is the demand in scope the best
    re-covery of the plan leaves unmet without it (:func:`best_recovery`), ``rhs`` the unmet
    demand the rule tolerates (share x the demand in scope), ``achieved`` their unmet
    fraction, ``binds`` whether the best re-covery leaves exactly the tolerated amount."""
    cover = model.constraints.get("n1_cover")
    if cover is None or cover.size == 0:
        return pd.DataFrame()
    extras = model.extras["n_minus_1"]
    demand = extras["cover_demand"].sum(axis=1)
    recovered = best_recovery(model, values)
    if recovered is None:  # the LP failed: the model's own re-covery, which meets the rule
        rb = model.variables["n1_recourse"]
        recovered = model.matrix.tocsr()[cover.positions][:, rb.start:rb.stop] @ values[rb.start:rb.stop]
    unmet = np.maximum(demand - recovered, 0.0)
    unmet[np.abs(unmet) < 1e-7 * np.maximum(1.0, demand)] = 0.0
    tolerated = extras["cover_share"] * demand
    with np.errstate(invalid="ignore", divide="ignore"):
        achieved = np.where(demand > 0, unmet / np.where(demand > 0, demand, 1.0), 0.0)
    idx = cover.index
    dual = row_dual[cover.start:cover.stop] if row_dual is not None else np.full(cover.size, np.nan)
    return pd.DataFrame({
        "rule_pos": idx["rule_pos"].to_numpy(),
        "subject": idx["subject"].to_numpy(),
        "sense": "<=",
        "measure": "quantity",
        "target": idx["target"].to_numpy(dtype=float),
        "achieved": achieved,
        "lhs": unmet,
        "rhs": tolerated,
        "binds": np.abs(unmet - tolerated) <= 1e-6 * np.maximum(1.0, demand),
        "dual": dual,
    })
