"""Cooperative cost games (procure.analysis.games): Shapley, core check, least core, nucleolus.

Known answers come from hand calculation (shown in each docstring) and published examples;
random games are checked against properties (efficiency, symmetry, the dummy partner, the
nucleolus in the core whenever the least-core value is <= 0) and against ``coopgame-py``,
an independent implementation used here as an oracle only.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procure.analysis.games import (
    GameInfeasible,
    coalition_of,
    core_check,
    least_core,
    nucleolus,
    sample_units,
    shapley_from_costs,
    shapley_from_units,
    shapley_gap_from_costs,
    unit_coalitions,
)

_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow])


def game(values: dict[str, float]) -> dict[frozenset, float]:
    """Costs keyed by strings of one-letter partners: {"": 0, "A": 6, "AB": 8, ...}."""
    return {frozenset(k): float(v) for k, v in values.items()}


def from_vector(partners, vector) -> dict[frozenset, float]:
    return {coalition_of(partners, m): float(vector[m]) for m in range(1 << len(partners))}


# --------------------------------------------------------------------------- hand-sized games

#: the pooled-tier game of tests/test_sharing.py: A, B, C need 60, 60, 20 shells at 10 each,
#: or 8 each once the pooled quantity reaches 100
TIER = game({"": 0, "A": 600, "B": 600, "C": 200, "AB": 960, "AC": 800, "BC": 800, "ABC": 1120})


def test_tier_game_by_hand():
    """Shapley: A over the six orders pays 600, 600, 360, 600, 320, 320 -> 2800/6; B alike;
    C = 1120 - 2 x 2800/6 = 1120/6.

    Nucleolus: by symmetry x_A = x_B = a, x_C = 1120 - 2a. Excesses e(A) = a - 600,
    e(C) = 920 - 2a, e(AB) = 2a - 960, e(AC) = e(BC) = 320 - a. The largest is smallest where
    2a - 960 = 920 - 2a: a = 470, t1 = -20 (AB and C tight, the least-core value). That fixes
    x_A + x_B = 940; then e(A) = x_A - 600, e(B) = x_B - 600 are minimised together at 470:
    t2 = -130. Nucleolus (470, 470, 180)."""
    partners = list("ABC")
    phi = shapley_from_costs(partners, TIER).set_index("partner")["shapley"]
    assert phi.to_dict() == pytest.approx({"A": 2800 / 6, "B": 2800 / 6, "C": 1120 / 6})
    nu = nucleolus(partners, TIER)
    assert nu.to_dict() == pytest.approx({"A": 470.0, "B": 470.0, "C": 180.0})
    assert nu.attrs["levels"] == pytest.approx([-20.0, -130.0])
    lc = least_core(partners, TIER)
    assert lc.value == pytest.approx(-20.0)
    assert lc.split.sum() == pytest.approx(1120.0)
    assert core_check(partners, TIER, lc.split, tolerance=1e-9).excess == pytest.approx(-20.0)


def test_airport_game_by_hand():
    """Littlechild and Owen's airport game: planes needing runways costing 1, 2 and 3;
    c(S) = the longest runway S needs.

    Shapley: the first segment (1) is shared by three, the second (1) by two, the third (1)
    by one: (1/3, 1/3 + 1/2, 1/3 + 1/2 + 1).

    Nucleolus: with x1 + x2 + x3 = 3 the excesses are x1 - 1, x2 - 2, x3 - 3 = -(x1 + x2),
    x1 + x2 - 2, e(13) = -x2, e(23) = -x1. x1 - 1 and -x1 meet at x1 = 1/2: t1 = -1/2 (and
    the rest can stay below). Then with x1 = 1/2: x2 - 3/2 and -x2 meet at x2 = 3/4: t2 = -3/4.
    Nucleolus (1/2, 3/4, 7/4)."""
    cost = {"1": 1, "2": 2, "3": 3}
    costs = {frozenset(s): max((cost[p] for p in s), default=0)
             for s in ["", "1", "2", "3", "12", "13", "23", "123"]}
    partners = list("123")
    phi = shapley_from_costs(partners, costs)["shapley"].tolist()
    assert phi == pytest.approx([1 / 3, 5 / 6, 11 / 6])
    assert nucleolus(partners, costs).tolist() == pytest.approx([0.5, 0.75, 1.75])
    assert least_core(partners, costs).value == pytest.approx(-0.5)


def test_glove_game_published():
    """The glove game (e.g. Maschler, Solan and Zamir, Game Theory, ch. 17 and 18): players 1
    and 2 own a right glove, 3 a left one; a pair is worth 1: v(13) = v(23) = v(123) = 1.
    As a cost game c = -v. Shapley of v: (1/6, 1/6, 2/3); its core, hence the nucleolus, is
    the single point (0, 0, 1)."""
    v = {"": 0, "1": 0, "2": 0, "3": 0, "12": 0, "13": 1, "23": 1, "123": 1}
    costs = {frozenset(k): -float(val) for k, val in v.items()}
    partners = list("123")
    assert (-shapley_from_costs(partners, costs)["shapley"]).tolist() == pytest.approx([1 / 6, 1 / 6, 2 / 3])
    assert (-nucleolus(partners, costs)).tolist() == pytest.approx([0.0, 0.0, 1.0], abs=1e-9)
    assert least_core(partners, costs).value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("estate, expected", [
    (100, [100 / 3, 100 / 3, 100 / 3]),
    (200, [50, 75, 75]),
    (300, [50, 100, 150]),
])
def test_talmud_estates_are_the_nucleolus(estate, expected):
    """Aumann and Maschler (1985), "Game theoretic analysis of a bankruptcy problem from the
    Talmud": claims 100, 200, 300 on estates of 100, 200, 300; the Mishnah's awards are the
    nucleolus of the bankruptcy game v(S) = max(0, E - d(P \\ S)). The prenucleolus is
    self-dual, so it is also the nucleolus of the cost game c(S) = min(E, d(S)) (the dual
    game: what S can claim at most), and awards above c(S) are what S objects to.

    E = 100: every coalition's cap is 100: symmetric, 100/3 each. E = 200: constrained equal
    awards on half-claims (50, 100, 150): 50 to the first, the other two share 150 equally.
    E = 300: exactly half of every claim."""
    claims = {"1": 100, "2": 200, "3": 300}
    partners = list(claims)
    costs = {coalition_of(partners, m): min(estate, sum(claims[p] for p in coalition_of(partners, m)))
             for m in range(8)}
    assert nucleolus(partners, costs).tolist() == pytest.approx(expected)


def test_degenerate_lp_needs_positive_duals():
    """A game whose first LP has several optima: fixing every coalition that is merely tight
    at the optimum HiGHS returns (the mistake Guajardo and Joernsten warn of) gives
    (4, -3.5, 0.5) here; fixing only those with a non-zero dual gives the nucleolus.

    c(1) = 4, c(2) = 5, c(3) = 0, c(12) = 0, c(13) = 4, c(23) = 5, c(123) = 1. With
    x1 + x2 + x3 = 1 the excesses are x1 - 4, x2 - 5, x3, 1 - x3, -3 - x2, -4 - x1: x3 and
    1 - x3 meet at x3 = 1/2 (t1 = 1/2, the others can stay below), fixing x1 + x2 = 1/2. Then
    with x2 = 1/2 - x1 the largest remaining are x1 - 7/2 and -4 - x1: x1 = -1/4, t2 = -15/4.
    Nucleolus (-1/4, 3/4, 1/2)."""
    costs = game({"": 0, "1": 4, "2": 5, "3": 0, "12": 0, "13": 4, "23": 5, "123": 1})
    nu = nucleolus(list("123"), costs)
    assert nu.tolist() == pytest.approx([-0.25, 0.75, 0.5])
    assert nu.attrs["levels"] == pytest.approx([0.5, -3.75])


def test_core_check_by_hand():
    """Proportional to stand-alone costs in the tier game: 1120 x (600, 600, 200) / 1400 =
    (480, 480, 160). Excesses: A, B: -120; C: -40; AB: 960 - 960 = 0; AC, BC: 640 - 800 = -160:
    in the core, the worst coalition AB at 0. A split (600, 300, 220) charges C 20 more than
    alone and A with C 20 more than together: two positive excesses, worst C or AC at 20."""
    partners = list("ABC")
    check = core_check(partners, TIER, {"A": 480, "B": 480, "C": 160}, tolerance=1e-9)
    assert check.in_core and check.worst_coalition == ["A", "B"]
    assert check.excess == pytest.approx(0.0) and check.positive == 0
    bad = core_check(partners, TIER, {"A": 600, "B": 300, "C": 220}, tolerance=1e-9)
    assert not bad.in_core and bad.positive == 2 and bad.excess == pytest.approx(20.0)
    assert bad.worst_coalition in (["C"], ["A", "C"])
    assert bad.to_dict()["coalitions_with_positive_excess"] == 2
    # a split that does not add up to c(P) is not in the core, whatever its excesses
    short = core_check(partners, TIER, {"A": 400, "B": 400, "C": 100}, tolerance=1e-9)
    assert not short.in_core and short.imbalance == pytest.approx(-220.0)


def test_infeasible_or_missing_costs_are_named():
    costs = dict(TIER)
    costs[frozenset("AB")] = float("nan")
    for f in (shapley_from_costs, nucleolus, least_core):
        with pytest.raises(GameInfeasible, match=r"\{A, B\}"):
            f(list("ABC"), costs)
    del costs[frozenset("AB")]
    with pytest.raises(KeyError, match="A, B"):
        nucleolus(list("ABC"), costs)


def test_one_partner():
    costs = game({"": 0, "A": 7})
    assert nucleolus(["A"], costs).tolist() == [7.0]
    assert least_core(["A"], costs).value == float("-inf")
    assert core_check(["A"], costs, [7.0]).in_core


# --------------------------------------------------------------------------- random games


@st.composite
def random_games(draw, *, low=2, high=6):
    """Integer costs in a small range: many ties, hence degenerate LPs."""
    n = draw(st.integers(low, high))
    top = draw(st.sampled_from([3, 10, 1000]))
    values = draw(st.lists(st.integers(0, top), min_size=1 << n, max_size=1 << n))
    values[0] = 0
    partners = [f"p{k}" for k in range(n)]
    return partners, np.array(values, dtype=float)


@_SETTINGS
@given(random_games())
def test_random_games_agree_with_coopgame(g):
    """coopgame's prenucleolus and least core of the savings game v(S) = sum_S c({p}) - c(S):
    the cost nucleolus is c({p}) - y_p, and the excesses (hence the least-core value) agree."""
    coopgame = pytest.importorskip("coopgame")
    partners, vector = g
    n = len(partners)
    costs = from_vector(partners, vector)
    alone = np.array([vector[1 << k] for k in range(n)])
    savings = [sum(alone[k] for k in range(n) if m >> k & 1) - vector[m] for m in range(1, 1 << n)]
    oracle = coopgame.Game(savings)
    expected = alone - np.array(coopgame.prenucleolus(oracle)["allocation"])
    assert nucleolus(partners, costs).to_numpy() == pytest.approx(expected, abs=1e-7)
    assert least_core(partners, costs).value == pytest.approx(
        coopgame.least_core(oracle, domain="preimputation")["epsilon"], abs=1e-7)
    assert shapley_from_costs(partners, costs)["shapley"].to_numpy() == pytest.approx(
        np.array(coopgame.shapley(coopgame.Game(list(vector[1:])))), abs=1e-9)


@_SETTINGS
@given(random_games())
def test_efficiency_and_nucleolus_in_core_when_core_nonempty(g):
    partners, vector = g
    costs = from_vector(partners, vector)
    grand = vector[-1]
    assert shapley_from_costs(partners, costs)["shapley"].sum() == pytest.approx(grand)
    nu = nucleolus(partners, costs)
    assert nu.sum() == pytest.approx(grand)
    lc = least_core(partners, costs)
    check = core_check(partners, costs, nu, tolerance=1e-7)
    assert check.excess == pytest.approx(lc.value, abs=1e-7)  # the nucleolus is in the least core
    if lc.value <= 1e-9:
        assert check.in_core
    else:
        assert not check.in_core


@_SETTINGS
@given(random_games(low=3, high=5), st.integers(0, 1000))
def test_symmetric_partners_pay_alike_and_the_dummy_pays_its_own_cost(g, dummy_cost):
    """p0 and p1 are made symmetric (c(S + p0) = c(S + p1) for S without both) and a dummy
    partner d is added with c(S + d) = c(S) + c({d}): Shapley and the nucleolus charge p0 and
    p1 the same and d exactly its own cost."""
    partners, vector = g
    n = len(partners)

    def swap(m):
        b0, b1 = m & 1, m >> 1 & 1
        return (m & ~3) | (b0 << 1) | b1

    sym = np.array([vector[min(m, swap(m))] for m in range(1 << n)])
    full = np.concatenate([sym, sym + dummy_cost])  # bit n: the dummy
    names = partners + ["d"]
    costs = from_vector(names, full)
    phi = shapley_from_costs(names, costs).set_index("partner")["shapley"]
    nu = nucleolus(names, costs)
    for split in (phi, nu):
        assert split["p0"] == pytest.approx(split["p1"], abs=1e-7)
        assert split["d"] == pytest.approx(dummy_cost, abs=1e-7)


# --------------------------------------------------------------------------- sampled Shapley


@pytest.mark.parametrize("design", ["plain", "antithetic", "stratified", "poststratified"])
def test_sampled_shapley_within_three_standard_errors_on_ten_partners(design):
    """A 10-partner cost game with economies of scale and an odd partner: c(S) =
    d(S)^0.8 x 100 + 50 x [p9 in S and p0 not in S] (d the partners' demands 1..10). Every
    design's estimate adds up to c(P) and is within 3 standard errors of the exact value."""
    partners = [f"p{k}" for k in range(10)]
    demand = np.arange(1, 11, dtype=float)

    def cost(members):
        if not members:
            return 0.0
        d = sum(demand[int(p[1:])] for p in members)
        return 100 * d ** 0.8 + (50.0 if "p9" in members and "p0" not in members else 0.0)

    costs = {coalition_of(partners, m): cost(coalition_of(partners, m)) for m in range(1 << 10)}
    exact = shapley_from_costs(partners, costs).set_index("partner")["shapley"]
    rng = np.random.default_rng(11)
    units = sample_units(10, {"plain": 60, "antithetic": 30, "stratified": 6, "poststratified": 60}[design],
                         design, rng)
    met = set().union(*(unit_coalitions(partners, u) for u in units))
    sampled = shapley_from_units(partners, units, {c: costs[c] for c in met}, design=design)
    sampled = sampled.set_index("partner")
    assert sampled["shapley"].sum() == pytest.approx(costs[frozenset(partners)])
    assert (sampled["std_error"] > 0).all()
    assert ((sampled["shapley"] - exact).abs() <= 3 * sampled["std_error"]).all()


def test_stratified_units_put_every_partner_at_every_position():
    units = sample_units(5, 3, "stratified", np.random.default_rng(0))
    for unit in units:
        assert unit.shape == (5, 5)
        for position in range(5):
            assert sorted(unit[:, position]) == list(range(5))


# --------------------------------------------------------------------------- shares on unproven costs


@_SETTINGS
@given(n=st.integers(1, 5), seed=st.integers(0, 2**31), design=st.sampled_from(
    ["exact", "plain", "antithetic", "stratified", "poststratified"]), zero=st.booleans())
def test_the_share_gap_bounds_every_share_on_costs_within_their_proven_gaps(n, seed, design, zero):
    """Costs found by plans proven within u(S) of the optimum: the true costs lie anywhere in
    [c(S) - u(S), c(S)]. Whatever they are (here the extremes and random points), each share
    computed on them, exactly or on the same sampled orders, is within the reported gap of the
    share on the plans' costs. Some games have exact costs (u = 0): then the gap is 0."""
    rng = np.random.default_rng(seed)
    partners = [chr(65 + k) for k in range(n)]
    found = from_vector(partners, np.concatenate([[0.0], rng.uniform(10, 100, (1 << n) - 1)]))
    width = np.zeros(1 << n) if zero else np.concatenate([[0.0], rng.uniform(0, 5, (1 << n) - 1)])
    uncertainty = from_vector(partners, width)
    units = [] if design == "exact" else sample_units(n, 4, design, rng)

    def shares(costs):
        if design == "exact":
            return shapley_from_costs(partners, costs)["shapley"].to_numpy()
        return shapley_from_units(partners, units, costs, design=design)["shapley"].to_numpy()

    base = shares(found)
    if design == "exact":
        gap = shapley_gap_from_costs(partners, uncertainty)
    else:
        gap = shapley_from_units(partners, units, found, design=design,
                                 uncertainty=uncertainty)["gap"].to_numpy()
    assert (gap >= 0).all()
    if zero:
        assert (gap == 0).all()
    for trial in range(6):
        pick = (rng.integers(0, 2, 1 << n) if trial < 2 else rng.uniform(0, 1, 1 << n))
        if trial == 0:
            pick = np.ones(1 << n)
        true = {c: found[c] - pick[m] * width[m] for m, c in
                ((m, coalition_of(partners, m)) for m in range(1 << n))}
        assert (np.abs(shares(true) - base) <= gap + 1e-9).all()


def test_a_coalition_without_a_bound_leaves_the_shares_without_one():
    u = {frozenset(): 0.0, frozenset("A"): 1.0, frozenset("B"): np.inf, frozenset("AB"): 0.0}
    assert shapley_gap_from_costs(["A", "B"], u).tolist() == [np.inf, np.inf]
    assert shapley_gap_from_costs(["A", "B"], {frozenset("A"): 1.0}).tolist() == [np.inf, np.inf]
