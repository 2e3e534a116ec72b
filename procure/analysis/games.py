"""Cooperative cost games as numbers: Shapley, the core check, the least core and the nucleolus.

Everything here is pure: a list of partners and the cost ``c(S)`` of coalitions (a dict keyed
by frozensets of partner ids) in, DataFrames, Series and small dataclasses out. Nothing here
solves a procurement model; :mod:`procure.analysis.cooperation` does that and calls these.

Costs are a *cost game* (partners pay). Under a split ``x`` (what each partner pays, with
``x(P) = c(P)``), the excess of coalition S is ``e(S) = x(S) - c(S)``: positive means S pays
more together than it would on its own, and could object. Definitions (docs/cooperation.md):

* core: no proper non-empty S has a positive excess;
* least-core value: ``t* = min_x max_S e(S)`` over efficient splits (``t* <= 0`` iff the core
  is non-empty);
* nucleolus: the efficient split that lexicographically minimises the excesses of all proper
  non-empty coalitions, largest first (game theory's *prenucleolus*: no ``x_p <= c({p})``
  constraint is imposed; it is the nucleolus proper whenever the core is non-empty).

The nucleolus is computed by the sequence of LPs of Maschler, Peleg and Shapley on HiGHS,
fixing at each step only the coalitions that are tight in *every* optimum of that step, as
Guajardo and Joernsten ("Common mistakes in computing the nucleolus", EJOR 2015) insist:
fixing every coalition that happens to be tight at the optimum the solver returned gives wrong
answers when the LP has several optima. A coalition whose row has a non-zero dual in some dual
optimum is tight in every primal optimum (complementary slackness), so those are fixed. A
coalition tight in every optimum may still show a zero dual (degenerate duals); it is not lost:
it stays free in the next LP, whose optimal value then equals this step's, and there its dual
is non-zero (the LP cannot lower its excess). Coalitions whose incidence vector lies in the span
of the fixed ones have a determined excess and leave the LPs. Each step fixes at least one
independent coalition (the duals of the free rows sum to 1), so at most n - 1 LPs are solved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.engine.backends import DEFAULT_MIP_GAP

Coalition = frozenset[str]

#: above this many partners, games over every coalition are not attempted (2^n costs)
EXACT_LIMIT = 12


class GameInfeasible(ValueError):
    """Some coalition has no feasible plan: the cooperative game (and any split of it that
    needs every coalition's cost) is undefined."""

    def __init__(self, coalitions: list[Coalition]):
        self.coalitions = coalitions
        shown = "; ".join("{" + ", ".join(sorted(c)) + "}" for c in coalitions[:5])
        more = f" and {len(coalitions) - 5} more" if len(coalitions) > 5 else ""
        super().__init__(f"no feasible plan for coalition(s) {shown}{more}: no Shapley split, "
                         "nucleolus or core check is shown for such a game")


# -- coalitions as bit masks ------------------------------------------------------------------

def coalition_of(partners: Sequence[str], mask: int) -> Coalition:
    return frozenset(p for k, p in enumerate(partners) if mask >> k & 1)


def cost_vector(partners: Sequence[str], costs: Mapping[Coalition, float]) -> np.ndarray:
    """``c`` over all 2^n bit masks (bit k = partner k); the empty coalition costs 0.
    Raises :class:`GameInfeasible` naming coalitions without a finite cost, ``KeyError``
    naming a missing one."""
    n = len(partners)
    if len(set(partners)) != n:
        raise ValueError("partners must be distinct")
    value = np.empty(1 << n)
    bad = []
    for mask in range(1 << n):
        members = coalition_of(partners, mask)
        if mask == 0:
            value[0] = float(costs.get(members, 0.0))
            continue
        if members not in costs:
            raise KeyError(f"no cost given for coalition {{{', '.join(sorted(members))}}}")
        value[mask] = float(costs[members])
        if not np.isfinite(value[mask]):
            bad.append(members)
    if bad:
        raise GameInfeasible(sorted(bad, key=lambda c: (len(c), sorted(c))))
    if value[0] != 0.0:
        raise ValueError("the empty coalition must cost 0")
    return value


def _membership(n: int) -> np.ndarray:
    """(2^n, n) 0/1 matrix: row ``mask``, column k = partner k in the coalition."""
    masks = np.arange(1 << n, dtype=np.int64)
    return ((masks[:, None] >> np.arange(n)) & 1).astype(float)


def coalition_sums(x: np.ndarray) -> np.ndarray:
    """``x(S)`` for every bit mask S."""
    x = np.asarray(x, dtype=float)
    out = np.zeros(1 << len(x))
    for k, value in enumerate(x):
        step = 1 << k
        out.reshape(-1, 2 * step)[:, step:] += value
    return out


def _split_vector(partners: Sequence[str], split) -> np.ndarray:
    if isinstance(split, Mapping | pd.Series):
        missing = [p for p in partners if p not in split]
        if missing:
            raise KeyError(f"the split gives no share for {', '.join(missing)}")
        return np.array([float(split[p]) for p in partners])
    x = np.asarray(split, dtype=float)
    if x.shape != (len(partners),):
        raise ValueError(f"a split needs {len(partners)} shares, got {x.shape}")
    return x


# -- Shapley ----------------------------------------------------------------------------------

def shapley_from_costs(partners: Sequence[str], costs: Mapping[Coalition, float]) -> pd.DataFrame:
    """Exact Shapley values ``phi_p = sum_S |S|!(n-|S|-1)!/n! (c(S+p) - c(S))`` from the costs of
    all 2^n coalitions: DataFrame partner, shapley, std_error (0), method ("exact").
    Raises :class:`GameInfeasible` if any coalition cost is NaN.

    >>> c = {frozenset(): 0, frozenset("A"): 6, frozenset("B"): 4, frozenset("AB"): 8}
    >>> shapley_from_costs(["A", "B"], c)["shapley"].tolist()   # A: (6 + 8-4)/2, B: (4 + 8-6)/2
    [5.0, 3.0]
    """
    n = len(partners)
    value = cost_vector(partners, costs)
    phi = np.empty(n)
    for k, (without, weight) in enumerate(_shapley_terms(n)):
        phi[k] = float(np.sum(weight * (value[without | (1 << k)] - value[without])))
    return pd.DataFrame({"partner": list(partners), "shapley": phi, "std_error": 0.0, "method": "exact"})


def _shapley_terms(n: int):
    """Per partner k: the coalitions without it (as masks) and their Shapley weights
    ``|S|! (n - |S| - 1)! / n!``."""
    masks = np.arange(1 << n)
    sizes = coalition_sums(np.ones(n)).astype(np.int64)
    fact = np.cumprod([1.0] + list(range(1, n + 1)))
    weight = np.array([fact[s] * fact[n - s - 1] / fact[n] if s < n else 0.0 for s in range(n + 1)])
    for k in range(n):
        without = masks[(masks >> k & 1) == 0]
        yield without, weight[sizes[without]]


def shapley_gap_from_costs(partners: Sequence[str], uncertainty: Mapping[Coalition, float]) -> np.ndarray:
    """How far each exact Shapley share could be from its value on exact costs, when each
    coalition's cost is a plan's cost proven within ``uncertainty[S]`` of the optimum (the
    plan's cost minus the solver's bound; 0 for a cost known exactly). The true cost lies in
    ``[c(S) - u(S), c(S)]``, so a marginal cost ``c(S+p) - c(S)`` may be ``u(S+p)`` lower or
    ``u(S)`` higher: the share moves by at most the larger of ``sum_S w_S u(S+p)`` and
    ``sum_S w_S u(S)``, with the Shapley weights ``w_S``.

    >>> u = {frozenset(): 0, frozenset("A"): 1, frozenset("B"): 0, frozenset("AB"): 2}
    >>> shapley_gap_from_costs(["A", "B"], u).tolist()   # A: max((1 + 2)/2, (0 + 0)/2)
    [1.5, 1.0]
    """
    n = len(partners)
    # an uncertainty not given is not known: infinite (a plan without a bound is infinite too)
    value = np.array([float(uncertainty.get(coalition_of(partners, m), np.inf)) if m else 0.0
                      for m in range(1 << n)])
    out = np.empty(n)
    for k, (without, weight) in enumerate(_shapley_terms(n)):
        out[k] = max(float(np.sum(weight * value[without | (1 << k)])),
                     float(np.sum(weight * value[without])))
    return out


# -- sampled Shapley --------------------------------------------------------------------------

#: how random orders are drawn, one *unit* at a time (units are independent):
#:
#: * "plain": one uniform order; the estimate is the mean marginal cost, its standard error
#:   taken over orders;
#: * "antithetic": an order and its reverse;
#: * "stratified": the n rotations of one uniform order, so every partner stands once at every
#:   position (stratified over positions); the standard error is taken over units, of which a
#:   budget buys few;
#: * "poststratified": uniform orders, each partner's marginal costs grouped by the position it
#:   stood at (positions with fewer than two samples merged with their neighbours): the mean
#:   over positions of each position's mean, its variance the sum of the positions' variances
#:   (independent, since each order puts a partner at one position only); then every estimate
#:   moves towards c(P) - the sum of the estimates in proportion to its variance, so that the
#:   shares add up to c(P) (c(P) is known exactly: a free control variate).
#:
#: docs/cooperation.md compares them on the demo's exact game.
DESIGNS = ("plain", "antithetic", "stratified", "poststratified")


def sample_units(n: int, units: int, design: str, rng: np.random.Generator) -> list[np.ndarray]:
    """``units`` independent sampling units, each an (orders, n) array of partner positions."""
    if design not in DESIGNS:
        raise ValueError(f"sampling design must be one of {', '.join(DESIGNS)}, not {design!r}")
    out = []
    for _ in range(units):
        order = rng.permutation(n)
        if design in ("plain", "poststratified"):
            out.append(order[None, :])
        elif design == "antithetic":
            out.append(np.stack([order, order[::-1]]))
        else:
            out.append(np.stack([np.roll(order, -k) for k in range(n)]))
    return out


def unit_coalitions(partners: Sequence[str], unit: np.ndarray) -> list[Coalition]:
    """Every coalition met along the orders of one unit (the prefixes of each order), once
    each, in the order they are met: each differs from the one before by one partner."""
    out: dict[Coalition, None] = {}
    for order in unit:
        for k in range(1, len(order) + 1):
            out.setdefault(frozenset(partners[j] for j in order[:k]), None)
    return list(out)


def shapley_from_units(partners: Sequence[str], units: Sequence[np.ndarray],
                       costs: Mapping[Coalition, float], *, design: str = "plain",
                       uncertainty: Mapping[Coalition, float] | None = None) -> pd.DataFrame:
    """The sampled Shapley estimate and its standard error from sampling units (see
    :data:`DESIGNS`) and the costs of every coalition met along them. The estimates add up to
    c(P). At least two units are needed for a standard error.

    With ``uncertainty`` (each coalition's cost minus its proven bound, as in
    :func:`shapley_gap_from_costs`), the column ``gap`` says how far each estimate could be
    from the same estimate on exact costs (apart from its sampling error)."""
    n = len(partners)
    if len(units) < 2:
        raise ValueError("a standard error needs at least two sampling units")
    bad = sorted({c for c, v in costs.items() if not np.isfinite(v)}, key=len)
    if bad:
        raise GameInfeasible(bad)
    orders = [order for unit in units for order in unit]
    marginal = np.zeros((len(orders), n))  # [order, partner]
    position = np.zeros((len(orders), n), dtype=np.int64)
    # the uncertainty of the coalition a partner joins (before) and of the one it makes (after)
    sides = None if uncertainty is None else (np.zeros((len(orders), n)), np.zeros((len(orders), n)))
    for r, order in enumerate(orders):
        before, previous = frozenset(), 0.0
        for k, j in enumerate(order):
            after = before | {partners[j]}
            now = float(costs[after])
            marginal[r, j] = now - previous
            position[r, j] = k
            if sides is not None:
                sides[0][r, j] = float(uncertainty.get(after, 0.0))
                sides[1][r, j] = float(uncertainty.get(before, 0.0))
            before, previous = after, now
    if design == "poststratified":
        grand = frozenset(partners)
        strata = [_strata(position, j) for j in range(n)]
        shapley, std_error, weight = _poststratified(marginal, strata, float(costs[grand]))
        if sides is not None:
            # the adjustment moves each estimate by its weight times c(P) less their sum
            own = np.maximum(*(_strata_mean(side, strata) for side in sides))
            gap = own + weight * (float(uncertainty.get(grand, 0.0)) + own.sum())
    else:
        sizes = np.array([len(unit) for unit in units])
        unit_of = np.repeat(np.arange(len(units)), sizes)
        means = np.zeros((len(units), n))
        np.add.at(means, unit_of, marginal)
        means /= sizes[:, None]
        shapley = means.mean(axis=0)
        std_error = means.std(axis=0, ddof=1) / np.sqrt(len(units))
        if sides is not None:
            gap = np.maximum(sides[0].mean(axis=0), sides[1].mean(axis=0))
    out = pd.DataFrame({
        "partner": list(partners),
        "shapley": shapley,
        "std_error": std_error,
        "method": f"sampled ({design}, {len(orders)} orders in {len(units)} units)",
    })
    if sides is not None:
        out["gap"] = gap
    return out


def _strata(position: np.ndarray, j: int) -> list[tuple[int, np.ndarray]]:
    """Partner ``j``'s strata: ``(width, rows)``, positions with fewer than two samples merged
    with their neighbours (the last ones with the stratum before)."""
    n = position.shape[1]
    strata, rows, width = [], [], 0
    for k in range(n):
        rows.extend(np.flatnonzero(position[:, j] == k).tolist())
        width += 1
        if len(rows) >= 2:
            strata.append((width, rows))
            rows, width = [], 0
    if width:  # the last positions, too few on their own: merged with the stratum before
        if strata:
            w, r = strata.pop()
            strata.append((w + width, r + rows))
        else:
            strata.append((width, rows))
    return [(w, np.asarray(r, dtype=np.int64)) for w, r in strata]


def _strata_mean(values: np.ndarray, strata: list) -> np.ndarray:
    """Per partner, the mean over its strata (:func:`_strata`) of each stratum's mean of
    ``values``."""
    n = values.shape[1]
    return np.array([sum(w / n * values[r, j].mean() for w, r in strata[j]) for j in range(n)])


def _poststratified(marginal: np.ndarray, strata: list,
                    grand: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The post-stratified estimate (see :data:`DESIGNS`) over each partner's strata
    (:func:`_strata`), adjusted to add up to ``grand``: estimates, standard errors and each
    estimate's weight in the adjustment."""
    n = marginal.shape[1]
    estimate, variance = np.zeros(n), np.zeros(n)
    for j in range(n):
        for w, rows in strata[j]:
            s = marginal[rows, j]
            estimate[j] += w / n * s.mean()
            variance[j] += (w / n) ** 2 * (s.var(ddof=1) / len(s) if len(s) > 1 else np.inf)
    total = variance.sum()
    if not np.isfinite(total) or total <= 0:
        return estimate, np.sqrt(variance), np.zeros(n)
    weight = variance / total
    return estimate + weight * (grand - estimate.sum()), np.sqrt(variance * (1 - weight)), weight


# -- the core ---------------------------------------------------------------------------------

@dataclass
class CoreCheck:
    """How a split fares against every proper non-empty coalition."""

    #: efficient (sums to c(P)) and no coalition's excess above the tolerance
    in_core: bool
    #: the coalition with the largest excess (partner ids, sorted), and that excess
    worst_coalition: list[str]
    excess: float
    #: coalitions whose excess is above the tolerance
    positive: int
    #: x(P) - c(P): 0 for an efficient split
    imbalance: float
    tolerance: float

    def to_dict(self) -> dict:
        return {"in_core": self.in_core, "worst_coalition": self.worst_coalition,
                "excess": self.excess, "coalitions_with_positive_excess": self.positive,
                "imbalance": self.imbalance}


def default_tolerance(grand_cost: float, gap: float | None = None) -> float:
    """How far a coalition's cost may be from its optimum: the relative MIP gap of the solves
    (:data:`procure.engine.backends.DEFAULT_MIP_GAP` unless given) times |c(P)|, and never below
    1e-9 x max(1, |c(P)|) (floating-point noise)."""
    gap = DEFAULT_MIP_GAP if gap is None else float(gap)
    scale = max(1.0, abs(float(grand_cost)))
    return max(gap * abs(float(grand_cost)), 1e-9 * scale)


def core_check(partners: Sequence[str], costs: Mapping[Coalition, float], split, *,
               tolerance: float | None = None) -> CoreCheck:
    """The core check of ``split`` (a mapping partner -> share, or shares in partner order):
    the coalition with the largest excess ``x(S) - c(S)``, its value, and how many coalitions
    have a positive excess (above ``tolerance``, default :func:`default_tolerance`).

    >>> c = {frozenset(): 0, frozenset("A"): 6, frozenset("B"): 4, frozenset("AB"): 8}
    >>> core_check(["A", "B"], c, {"A": 7, "B": 1}).worst_coalition   # A pays 7 > 6 alone
    ['A']
    """
    n = len(partners)
    value = cost_vector(partners, costs)
    x = _split_vector(partners, split)
    grand = (1 << n) - 1
    tol = default_tolerance(value[grand]) if tolerance is None else float(tolerance)
    excess = coalition_sums(x) - value
    imbalance = float(excess[grand])
    proper = excess[1:grand]
    if len(proper) == 0:  # one partner: no coalition to object
        return CoreCheck(abs(imbalance) <= tol, [], float("nan"), 0, imbalance, tol)
    worst = int(np.argmax(proper)) + 1
    positive = int(np.count_nonzero(proper > tol))
    return CoreCheck(in_core=bool(positive == 0 and abs(imbalance) <= tol),
                     worst_coalition=sorted(coalition_of(partners, worst)),
                     excess=float(excess[worst]), positive=positive, imbalance=imbalance,
                     tolerance=tol)


# -- least core and nucleolus: the sequence of LPs --------------------------------------------

@dataclass
class LeastCore:
    #: the least-core value t*: every proper coalition's excess can be held to t* and no lower
    value: float
    #: one efficient split achieving it (the least core is a set; the nucleolus is its centre)
    split: pd.Series


@dataclass
class _Sequence:
    split: np.ndarray
    levels: list[float] = field(default_factory=list)
    lps: int = 0


def least_core(partners: Sequence[str], costs: Mapping[Coalition, float]) -> LeastCore:
    """The least-core value ``min_x max_S (x(S) - c(S))`` over efficient splits, and one split
    achieving it (the first LP of :func:`nucleolus`). With one partner there is no proper
    coalition and the value is ``-inf``.

    >>> c = {frozenset(): 0, frozenset("A"): 6, frozenset("B"): 4, frozenset("AB"): 8}
    >>> least_core(["A", "B"], c).value      # x_A - 6 and x_B - 4 with x_A + x_B = 8: both -1
    -1.0
    """
    seq = _nucleolus_lps(partners, cost_vector(partners, costs), stop_after_first=True)
    value = seq.levels[0] if seq.levels else float("-inf")
    return LeastCore(value=value, split=pd.Series(seq.split, index=list(partners), name="least_core"))


def nucleolus(partners: Sequence[str], costs: Mapping[Coalition, float]) -> pd.Series:
    """The nucleolus of the cost game (see the module docstring): a Series partner -> share,
    with ``.attrs["levels"]`` the excess fixed at each LP (the first is the least-core value)
    and ``.attrs["lp_solves"]``.

    >>> c = {frozenset(): 0, frozenset("A"): 6, frozenset("B"): 4, frozenset("AB"): 8}
    >>> nucleolus(["A", "B"], c).tolist()      # the saving of 2 split equally
    [5.0, 3.0]
    """
    seq = _nucleolus_lps(partners, cost_vector(partners, costs))
    out = pd.Series(seq.split, index=list(partners), name="nucleolus")
    out.attrs["levels"] = seq.levels
    out.attrs["lp_solves"] = seq.lps
    return out


#: a row's dual counts as non-zero above this (the LP is scaled so that costs are O(1))
_DUAL_TOL = 1e-9
#: an incidence vector lies in the span of the fixed ones when its residual is below this
_SPAN_TOL = 1e-9


def _nucleolus_lps(partners: Sequence[str], value: np.ndarray, *,
                   stop_after_first: bool = False) -> _Sequence:
    import highspy
    import scipy.sparse as sp

    from procure.engine.backends import new_highs

    n = len(partners)
    grand = (1 << n) - 1
    if n == 1:
        return _Sequence(split=np.array([value[grand]]))
    # scale to O(1): duals and tolerances then mean the same for costs in euros or billions
    scale = max(1.0, float(np.max(np.abs(value))))
    c = value / scale
    member = _membership(n)[1:grand]  # rows: proper non-empty coalitions, mask = row + 1
    m = len(member)
    t_col = n
    # columns x_0..x_{n-1}, t (all free); rows: x(S) - t <= c(S) for every proper S, x(P) = c(P)
    rows_a = np.vstack([np.hstack([member, -np.ones((m, 1))]),
                        np.hstack([np.ones((1, n)), np.zeros((1, 1))])])
    a = sp.csc_matrix(rows_a)
    lower = np.concatenate([np.full(m, -np.inf), [c[grand]]])
    upper = np.concatenate([c[1:grand], [c[grand]]])
    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + 1, m + 1
    lp.col_cost_ = np.concatenate([np.zeros(n), [1.0]])
    lp.col_lower_ = np.full(n + 1, -np.inf)
    lp.col_upper_ = np.full(n + 1, np.inf)
    lp.row_lower_, lp.row_upper_ = lower, upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    h.passModel(lp)

    free = np.ones(m, dtype=bool)
    basis = np.ones((1, n)) / np.sqrt(n)  # orthonormal rows spanning the fixed incidence vectors
    seq = _Sequence(split=np.zeros(n))
    while True:
        h.run()
        seq.lps += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("HiGHS could not solve a nucleolus LP "
                               f"({h.modelStatusToString(h.getModelStatus())}): please report")
        solution = h.getSolution()
        x = np.asarray(solution.col_value[:n], dtype=float)
        t = float(solution.col_value[t_col])
        seq.split = x * scale
        seq.levels.append(t * scale)
        if stop_after_first:
            return seq
        dual = np.abs(np.asarray(solution.row_dual[:m], dtype=float))
        newly = free & (dual > _DUAL_TOL)
        if not newly.any():  # cannot happen: the free rows' duals sum to 1
            raise RuntimeError("no coalition to fix in a nucleolus LP (degenerate beyond repair): please report")
        rows = np.flatnonzero(newly).astype(np.int32)
        # fixed: x(S) = c(S) + t, no longer a function of the next LP's t
        for r in rows:
            h.changeCoeff(int(r), t_col, 0.0)
        fixed_at = c[1:grand][rows] + t
        h.changeRowsBounds(len(rows), rows, fixed_at, fixed_at)
        free &= ~newly
        basis = _extend_basis(basis, member[rows])
        if len(basis) >= n:
            return seq
        # coalitions whose excess the fixed ones already determine leave the LPs
        candidates = np.flatnonzero(free)
        residual = member[candidates] - (member[candidates] @ basis.T) @ basis
        spanned = candidates[np.linalg.norm(residual, axis=1) < _SPAN_TOL].astype(np.int32)
        if len(spanned):
            for r in spanned:
                h.changeCoeff(int(r), t_col, 0.0)
            h.changeRowsBounds(len(spanned), spanned, np.full(len(spanned), -np.inf),
                               np.full(len(spanned), np.inf))
            free[spanned] = False


def _extend_basis(basis: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Gram-Schmidt (twice, for stability) of ``vectors`` against the orthonormal ``basis``."""
    rows = list(basis)
    for v in vectors:
        w = v.astype(float).copy()
        for _ in range(2):
            for b in rows:
                w -= (w @ b) * b
        norm = np.linalg.norm(w)
        if norm > _SPAN_TOL:
            rows.append(w / norm)
    return np.array(rows)
