"""N-1 re-covery blocks, merged, and only where a plan needs them: exactly.

An ``n_minus_1`` rule gives the model one re-covery block per contingency
(:mod:`procure.engine.model.resilience`): on the demo 1,540 of its 3,685 columns and 641 of
its 1,411 rows, which made a coalition's solve 4-5x slower (benchmarks/README.md). Two exact
reformulations take most of that away (benchmarks/README.md, section 5, measures them):

* **merged blocks** (:class:`Aggregate`): a block is a transportation problem from offers to
  demand rows, and demand rows reached from the same offers merge into one row without
  changing the most the block can re-cover (on the demo 253 columns become 23);
* **blocks only where needed**: the engine searches a *sub-model*, the model without its
  re-covery columns and rows plus the merged blocks of the contingencies found *active* so
  far. Every plan it finds is checked against each contingency left out
  (:meth:`LazyN1.complete`): the plan's own deliveries to the rule's scope, less the lost
  suppliers', are tried as the re-covery first (they are one whenever they still cover the
  rule's share of the demand); otherwise the contingency's re-covery LP with the plan fixed
  (its ``n1_offer``, ``n1_capacity``, ``n1_shared`` and ``n1_demand`` rows, the plan's
  columns moved to the right-hand side) finds the most it can cover. A contingency it cannot
  cover becomes active and the variant is solved again; the next variant starts with the
  contingencies the last one ended with.

Neither is a heuristic: the sub-model is a relaxation of the model (it leaves out rows and
the columns only those rows hold, re-covery columns cost nothing, and a merged block allows
exactly the plans its block allows), so its proven bound bounds the model's optimum; and the
plan it ends with, every re-covery filled in (merged ones split back, left-out ones from the
check), is a plan of the model, checked row by row by the engine like any other. At worst
every contingency becomes active and the sub-model is the model with merged blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from procure.engine.model import Model
from procure.engine.model.resilience import ROW_BLOCKS

#: a re-covery this close to its cover row's bound (relative to the bound) counts as covering
#: it: ten times tighter than the engine's check of every row of a plan (1e-6 of the row's
#: scale), so that a plan accepted here passes that check
COVER_TOLERANCE = 1e-7


class Aggregate:
    """One contingency's re-covery block as the engine searches it: its columns merged.

    The block is a transportation problem: each re-covery column ``r_j`` delivers from one
    *cell* (an offer in a period: every row but the demand rows sees ``r`` only through the
    cell's total) to one demand row (coefficient 1). Demand rows that can be reached from the
    same set of cells form a *class*, and one column per (cell, class) replaces the columns of
    all their pairs, one row per class (``<=`` the demand of its rows) the demand rows. The
    most the block can re-cover is unchanged: a flow of the merged block splits back onto the
    demand rows of each class in proportion to their demand (each cell's total, and so every
    other row, unchanged; each demand row gets its share of the class's total, within its
    demand), and every flow of the block merges into one of the merged block. On the demo each
    block of 253-275 columns and 102-111 rows becomes one of 23-25 columns and 52-61 rows (one
    class per period). A block that is not laid out so keeps one column per column and one class per
    demand row: the same formulas then give the block itself.
    """

    def __init__(self, csr, cols: np.ndarray, rows: np.ndarray, demand_rows: np.ndarray, core_cols: int):
        self.cols = cols
        is_demand = np.isin(rows, demand_rows)
        self.d_rows, self.other_rows = rows[is_demand], rows[~is_demand]
        on_cols = csr[:, cols]
        demand_part = on_cols[self.d_rows].tocsc()
        other_part = on_cols[self.other_rows].tocsc()
        self.x_part = csr[self.other_rows][:, :core_cols]  # the plan's terms of those rows
        n_j = len(cols)
        counts = np.diff(demand_part.indptr)
        if n_j and np.all(counts == 1) and np.allclose(demand_part.data, 1.0):
            demand_of = demand_part.indices  # per column: its demand row (in d_rows)
            # a cell: the columns with the same coefficients in every other row
            pattern = [other_part.indices[other_part.indptr[j]:other_part.indptr[j + 1]].tobytes()
                       + other_part.data[other_part.indptr[j]:other_part.indptr[j + 1]].tobytes()
                       for j in range(n_j)]
            cell_of = pd.factorize(pd.Index(pattern))[0]
            # a class: the demand rows reached from the same cells
            reach = pd.DataFrame({"d": demand_of, "c": cell_of}).drop_duplicates()
            neighbours = reach.sort_values(["d", "c"]).groupby("d")["c"].agg(lambda c: tuple(c))
            class_of_d = np.full(len(self.d_rows), -1, dtype=np.int64)
            class_of_d[neighbours.index.to_numpy()] = pd.factorize(neighbours.to_numpy())[0]
            lone = class_of_d < 0  # a demand row no column reaches: a class of its own
            class_of_d[lone] = class_of_d.max(initial=-1) + 1 + np.arange(int(lone.sum()))
        else:  # not a transportation block: kept as it is, one column per column
            demand_of = np.zeros(n_j, dtype=np.int64)
            if n_j:
                demand_of[np.repeat(np.arange(n_j), counts)] = demand_part.indices
            cell_of = np.arange(n_j)
            class_of_d = np.arange(len(self.d_rows))
        self.demand_of = np.asarray(demand_of, dtype=np.int64)
        self.class_of_d = class_of_d
        self.n_classes = int(class_of_d.max(initial=-1)) + 1
        key = cell_of.astype(np.int64) * max(1, self.n_classes) + class_of_d[self.demand_of]
        uniques, self.group = np.unique(key, return_inverse=True)
        self.group = self.group.reshape(-1)
        self.n_groups = len(uniques)
        self.group_class = (uniques % max(1, self.n_classes)).astype(np.int64)
        # columns that are parallel (same cell and demand row) share their demand row's split
        pair = self.group.astype(np.int64) * max(1, len(self.d_rows)) + self.demand_of
        _, pair_of, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
        self.parallel = pair_count[pair_of.reshape(-1)].astype(float)
        first = np.unique(self.group, return_index=True)[1]
        merged_other = other_part[:, first]
        merged_class = sp.csr_matrix((np.ones(self.n_groups), (self.group_class, np.arange(self.n_groups))),
                                     shape=(self.n_classes, self.n_groups))
        #: the merged columns' coefficients: the other rows, then one row per class
        self.matrix = sp.vstack([sp.csr_matrix(merged_other), merged_class]).tocsr()

    def variant(self, col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray):
        """``(merged column uppers, class row uppers, each demand row's share of its class)``
        under the variant's bounds, or None when the variant's bounds are not of a kind the
        merged block says exactly (a column fixed at 0 alone, while its cell and its demand row
        still deliver; a finite re-covery bound; a demand row with a lower bound)."""
        up = col_upper[self.cols]
        on = up > 0
        if np.any(np.isfinite(up[on])) or np.any(np.isfinite(row_lower[self.d_rows])):
            return None
        d_alive = np.bincount(self.demand_of, weights=on, minlength=len(self.d_rows)) > 0
        g_alive = np.bincount(self.group, weights=on, minlength=self.n_groups) > 0
        if not np.array_equal(on, d_alive[self.demand_of] & g_alive[self.group]):
            return None
        demand = np.where(d_alive, row_upper[self.d_rows], 0.0)
        if np.any(~np.isfinite(demand)) or np.any(demand < 0):
            return None
        class_total = np.bincount(self.class_of_d, weights=demand, minlength=self.n_classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(class_total[self.class_of_d] > 0, demand / class_total[self.class_of_d], 0.0)
        return np.where(g_alive, np.inf, 0.0), class_total, share

    def expand(self, merged: np.ndarray, share: np.ndarray) -> np.ndarray:
        """The block's own columns from the merged ones: each split over its class's demand
        rows by their shares (module docstring: every row of the block holds)."""
        return np.maximum(merged, 0.0)[self.group] * share[self.demand_of] / self.parallel


@dataclass
class SubModel:
    """The model restricted to its core and the merged blocks of the active contingencies."""

    model: Model
    active: frozenset[int]
    blocks: list[Aggregate]  # in the order of their columns
    core_cols: int
    core_rows: int
    #: the sub-model's first column of each active block
    col_start: list[int]

    def bounds(self, col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray):
        """The variant's bounds on the sub-model, and each block's demand shares; None when a
        block cannot say them (:meth:`Aggregate.variant`)."""
        cols = [col_upper[:self.core_cols]]
        lows, ups = [row_lower[:self.core_rows]], [row_upper[:self.core_rows]]
        shares = []
        for block in self.blocks:
            got = block.variant(col_upper, row_lower, row_upper)
            if got is None:
                return None
            g_upper, class_total, share = got
            cols.append(g_upper)
            lows += [row_lower[block.other_rows], np.full(block.n_classes, -np.inf)]
            ups += [row_upper[block.other_rows], class_total]
            shares.append(share)
        return (np.concatenate(cols), np.concatenate(lows), np.concatenate(ups)), shares

    def expand(self, values: np.ndarray, num_cols: int, shares: list[np.ndarray]) -> np.ndarray:
        """A full-model column vector from sub-model ``values`` (left-out re-coveries at 0)."""
        full = np.zeros(num_cols)
        full[:self.core_cols] = values[:self.core_cols]
        for block, start, share in zip(self.blocks, self.col_start, shares, strict=True):
            full[block.cols] = block.expand(values[start:start + block.n_groups], share)
        return full


class LazyN1:
    """The contingencies of a model's N-1 rules, as blocks that can be left out."""

    def __init__(self, model: Model, threads: int | None = None):
        self.model = model
        #: HiGHS threads of the re-covery LPs: the engine's (None: HiGHS's default), since
        #: HiGHS keeps one thread count per process (procure.engine.backends.set_threads)
        self.threads = threads
        rb = model.variables["n1_recourse"]
        row_blocks = [model.constraints[name] for name in ROW_BLOCKS]
        self.core_cols = rb.start
        self.core_rows = min(block.start for block in row_blocks)
        # one contingency per (rule, supplier or country lost)
        col_key = pd.MultiIndex.from_arrays([rb.index["rule_pos"].to_numpy(),
                                             rb.index["lost"].astype(str).to_numpy()])
        row_keys = []
        for block in row_blocks:
            label = "subject" if block.name == "n1_cover" else "lost"
            row_keys.append(pd.MultiIndex.from_arrays([block.index["rule_pos"].to_numpy(),
                                                       block.index[label].astype(str).to_numpy()]))
        cover = model.constraints["n1_cover"]
        self.keys = pd.MultiIndex.from_arrays([cover.index["rule_pos"].to_numpy(),
                                               cover.index["subject"].astype(str).to_numpy()])
        col_of = self.keys.get_indexer(col_key)
        row_of = np.concatenate([self.keys.get_indexer(k) for k in row_keys])
        row_pos = np.concatenate([block.positions for block in row_blocks])
        n = len(self.keys)
        self.cols_of = [rb.start + np.flatnonzero(col_of == k) for k in range(n)]
        self.rows_of = [np.sort(row_pos[row_of == k]) for k in range(n)]
        self.cover_row = cover.positions  # the k-th contingency's cover row
        # per contingency, the plan column each of its re-covery columns delivers like
        plan_col = model.extras["context"].x_cols[rb.index["x_row"].to_numpy(dtype=np.int64)]
        self.x_of = [plan_col[cols - rb.start] for cols in self.cols_of]
        self.csr = model.matrix.tocsr()
        self._rows_csr = [self.csr[rows] for rows in self.rows_of]
        self._lps: dict[int, object] = {}
        self.demand_rows = model.constraints["n1_demand"].positions
        self._aggregates: dict[int, Aggregate] = {}

    @classmethod
    def of(cls, model: Model, threads: int | None = None) -> LazyN1 | None:
        """None when the model has no re-covery block, or not one laid out as this module
        needs (re-covery columns and rows last, costless, continuous, each in one contingency)."""
        rb = model.variables.get("n1_recourse")
        blocks = [model.constraints.get(name) for name in ROW_BLOCKS]
        if rb is None or rb.size == 0 or any(b is None for b in blocks):
            return None
        rows = np.concatenate([b.positions for b in blocks])
        if (rb.stop != model.num_cols or np.any(model.col_cost[rb.start:] != 0)
                or model.integrality[rb.start:].any()
                or len(rows) != model.num_rows - min(b.start for b in blocks)):
            return None
        lazy = cls(model, threads)
        # every re-covery column and row belongs to one contingency, and the core rows hold
        # no re-covery column
        if (sum(len(c) for c in lazy.cols_of) != rb.size
                or sum(len(r) for r in lazy.rows_of) != len(rows)
                or lazy.csr[:lazy.core_rows, rb.start:].nnz):
            return None
        return lazy

    @property
    def count(self) -> int:
        return len(self.keys)

    def applies(self, coefficients) -> bool:
        """Can a variant with these coefficient changes leave blocks out? (Not when it changes
        a re-covery row: none of today's variants do.)"""
        return all(r < self.core_rows and c < self.core_cols for r, c, _ in coefficients)

    def submodel(self, active: frozenset[int]) -> SubModel:
        """The core (the model without re-covery columns and rows) and the merged blocks of the
        ``active`` contingencies."""
        m = self.model
        ks = tuple(sorted(active))
        blocks = [self._aggregate(k) for k in ks]
        pieces = [[self.csr[:self.core_rows, :self.core_cols], None]]
        col_start = []
        n_col = self.core_cols
        extra_cols = sum(b.n_groups for b in blocks)
        for block in blocks:
            col_start.append(n_col)
            n_other = len(block.other_rows)
            x_part = sp.vstack([block.x_part, sp.csr_matrix((block.n_classes, self.core_cols))])
            own = sp.hstack([sp.csr_matrix((n_other + block.n_classes, n_col - self.core_cols)),
                             block.matrix,
                             sp.csr_matrix((n_other + block.n_classes,
                                            extra_cols - (n_col - self.core_cols) - block.n_groups))])
            pieces.append([x_part, own])
            n_col += block.n_groups
        if blocks:
            pieces[0][1] = sp.csr_matrix((self.core_rows, extra_cols))
            matrix = sp.bmat(pieces, format="csc")
        else:
            matrix = pieces[0][0].tocsc()
        n_extra = n_col - self.core_cols
        lower = [m.row_lower[:self.core_rows]]
        upper = [m.row_upper[:self.core_rows]]
        for block in blocks:
            lower += [m.row_lower[block.other_rows], np.full(block.n_classes, -np.inf)]
            upper += [m.row_upper[block.other_rows], np.full(block.n_classes, np.inf)]
        sub = replace(
            m, col_cost=np.concatenate([m.col_cost[:self.core_cols], np.zeros(n_extra)]),
            col_lower=np.concatenate([m.col_lower[:self.core_cols], np.zeros(n_extra)]),
            col_upper=np.concatenate([m.col_upper[:self.core_cols], np.full(n_extra, np.inf)]),
            integrality=np.concatenate([m.integrality[:self.core_cols], np.zeros(n_extra, bool)]),
            matrix=matrix, row_lower=np.concatenate(lower), row_upper=np.concatenate(upper),
            variables={n: b for n, b in m.variables.items() if b.stop <= self.core_cols},
            constraints={n: b for n, b in m.constraints.items() if b.stop <= self.core_rows})
        return SubModel(sub, frozenset(active), blocks, self.core_cols, self.core_rows, col_start)

    def _aggregate(self, k: int) -> Aggregate:
        got = self._aggregates.get(k)
        if got is None:
            got = self._aggregates[k] = Aggregate(self.csr, self.cols_of[k], self.rows_of[k],
                                                  self.demand_rows, self.core_cols)
        return got

    def complete(self, values: np.ndarray, active: frozenset[int], col_upper: np.ndarray,
                 row_lower: np.ndarray, row_upper: np.ndarray) -> set[int]:
        """Fill in, in place, the re-covery of every contingency left out of ``active`` for the
        plan ``values`` (full-model columns) under the variant's bounds; the contingencies it
        cannot cover (their re-covery is then left at its best, short of the cover row)."""
        uncovered = set()
        for k in range(self.count):
            if k in active:
                continue
            cols, rows, a = self.cols_of[k], self.rows_of[k], self._rows_csr[k]
            need = row_lower[self.cover_row[k]]
            # the plan's own deliveries without the lost suppliers: a re-covery when they cover
            values[cols] = np.minimum(values[self.x_of[k]], col_upper[cols])
            activity = a @ values
            if _within(activity, row_lower[rows], row_upper[rows]):
                continue
            values[cols] = 0.0
            best = self._best_recovery(k, values, col_upper, row_lower, row_upper)
            if best is None:
                uncovered.add(k)
                continue
            values[cols] = best
            if best.sum() < need - COVER_TOLERANCE * max(1.0, abs(need)):
                uncovered.add(k)
        return uncovered

    def _best_recovery(self, k: int, values: np.ndarray, col_upper, row_lower,
                       row_upper) -> np.ndarray | None:
        """The most contingency ``k``'s re-covery can cover with the plan fixed (its own
        columns of ``values`` at 0): its re-covery columns, or None when the LP has none."""
        import highspy

        from procure.engine.backends import new_highs, pass_model, set_threads

        cols, rows, a = self.cols_of[k], self.rows_of[k], self._rows_csr[k]
        moved = a @ values  # the plan's part of each row (re-coveries are at 0 in values)
        lower = row_lower[rows] - moved
        upper = row_upper[rows] - moved
        lower[rows == self.cover_row[k]] = -np.inf  # the cover row is what is maximised
        h = self._lps.get(k)
        if h is None:
            lp = replace(self.model, col_cost=-np.ones(len(cols)), col_lower=np.zeros(len(cols)),
                         col_upper=col_upper[cols].astype(float), integrality=np.zeros(len(cols), bool),
                         matrix=a[:, cols].tocsc(), row_lower=lower, row_upper=upper,
                         variables={}, constraints={}, extras={})
            h = self._lps[k] = new_highs()
            set_threads(h, self.threads)
            pass_model(h, lp)
        else:
            n_c, n_r = len(cols), len(rows)
            h.changeColsBounds(n_c, np.arange(n_c, dtype=np.int32), np.zeros(n_c),
                               col_upper[cols].astype(float))
            h.changeRowsBounds(n_r, np.arange(n_r, dtype=np.int32), lower, upper)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # the next call starts afresh
            return None
        return np.maximum(np.asarray(h.getSolution().col_value, dtype=float), 0.0)


def _within(activity: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    scale = np.maximum(1.0, np.maximum(np.abs(np.where(np.isfinite(lower), lower, 0.0)),
                                       np.abs(np.where(np.isfinite(upper), upper, 0.0))))
    slack = COVER_TOLERANCE * scale
    return bool(np.all(activity >= lower - slack) and np.all(activity <= upper + slack))
