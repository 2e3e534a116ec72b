"""Property-based fuzzing of the reader and the validator (hypothesis).

Random cell values, types and shapes go into valid-looking DataFrames and workbooks, and
random bytes damage a good workbook: the answer is always :class:`ProcureData` (with its
guarantees) or :class:`InputError` (every problem located), never another exception.
Examples are bounded so that the module runs in well under 30 s.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import good_sheets

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import E, F, V, write_xlsx  # noqa: E402

from procure.data.errors import InputError, Problem  # noqa: E402
from procure.data.io import read_workbook  # noqa: E402
from procure.data.schema import SHEETS  # noqa: E402
from procure.data.tables import ProcureData  # noqa: E402
from procure.data.validate import MAX_ABS_NUMBER, validate_tables  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
ids = st.sampled_from(["PL", "EE", "DE", "pl", "PL ", " PL", "rhm", "pgz", "nammo", "shell155",
                       "radio", "9", "10", "2026", "Q1", "munición", "municio\u0301n", "E\u200bE",
                       "EE\u00a0", "", "   ", "each_supplier", "domestic", "EU", "ammo"])
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 0.5, 1e15, 1e16, -1e15, 1e308, 5e-324, 2026, 10**20]),
)
odd = st.one_of(
    st.none(), st.booleans(), st.datetimes(), st.dates(), st.times(),
    st.timedeltas(), st.decimals(allow_nan=True), st.fractions(),
    st.complex_numbers(allow_nan=True), st.binary(max_size=4),
    st.just(pd.NA), st.just(pd.NaT), st.just(np.nan), st.just(np.float32(1.5)),
    st.just(np.int64(7)), st.just(np.datetime64("NaT")), st.just(np.bool_(True)),
    st.just([1, 2]), st.just({"a": 1}), st.just(decimal.Decimal("sNaN")),
    st.just(fractions.Fraction(10**400, 3)), st.just(2**4000),
)
cells = st.one_of(ids, texts, numbers, odd)


def check_data(data: ProcureData) -> None:
    """The guarantees of ProcureData (procure/data.py)."""
    for name in SHEETS:
        if name == "Settings":
            continue
        frame = getattr(data, "price_tiers" if name == "PriceTiers" else name.lower())
        for col in SHEETS[name].columns:
            values = frame[col.name].tolist()
            if col.kind in ("id", "period"):
                assert all(v is None or (type(v) is str and v == v.strip() and v) for v in values)
            if col.kind in ("number", "integer"):
                assert str(frame[col.name].dtype) == "float64"
                assert all(math.isnan(v) or abs(v) <= MAX_ABS_NUMBER for v in values)
    assert set(data.demand["period"]) <= set(data.periods)


def outcome(call) -> str:
    try:
        check_data(call())
        return "valid"
    except InputError as exc:
        assert exc.problems and all(isinstance(p, Problem) and p.message and p.fix
                                    for p in exc.problems)
        str(exc)  # the report can always be printed
        return "input_error"


def good_frames() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(rows[1:], columns=rows[0]) for name, rows in good_sheets().items()}


@FUZZ
@given(data=st.data())
def test_frames_random_cells(data):
    tables = good_frames()
    for _ in range(data.draw(st.integers(1, 6))):
        name = data.draw(st.sampled_from(sorted(tables)))
        df = tables[name].astype(object)
        if len(df) == 0:
            continue
        i = data.draw(st.integers(0, len(df) - 1))
        j = data.draw(st.integers(0, df.shape[1] - 1))
        df.iat[i, j] = data.draw(cells)
        tables[name] = df
    outcome(lambda: validate_tables(tables))


@FUZZ
@given(data=st.data())
def test_frames_random_shapes(data):
    tables = good_frames()
    name = data.draw(st.sampled_from(sorted(tables)))
    columns = data.draw(st.lists(st.one_of(texts, st.sampled_from(SHEETS[name].column_names),
                                           st.integers(), st.none()), max_size=8))
    rows = data.draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)),
                              max_size=6))
    tables[name] = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    if data.draw(st.booleans()):
        tables.pop(data.draw(st.sampled_from(sorted(tables))))
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(tables)))
        tables[data.draw(st.sampled_from([key.upper(), f" {key} ", key.lower()]))] = tables[key]
    if data.draw(st.booleans()):
        tables[data.draw(st.sampled_from(sorted(tables)))] = data.draw(
            st.one_of(st.none(), st.integers(), st.just([[1, 2]])))
    outcome(lambda: validate_tables(tables))


xml_texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                    max_size=10)
workbook_cells = st.one_of(
    ids, xml_texts, st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**17), max_value=10**17), st.booleans(), st.none(),
    st.builds(V, st.sampled_from(["NaN", "inf", "-inf", "1e999", "-0", "0x10", "", "1,5", "abc",
                                  "1e-400", "  3 "])),
    st.builds(E, st.sampled_from(["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NULL!"])),
    st.builds(F, st.sampled_from(["1+1", "[1]Sheet1!A1", "'[x.xlsx]S'!A1", "A1", "SUM(A:A)"]),
              st.one_of(st.none(), st.integers(0, 10), st.just("text"))),
)


@FUZZ
@given(data=st.data())
def test_workbooks_random_cells(tmp_path_factory, data):
    sheets = good_sheets()
    for _ in range(data.draw(st.integers(1, 5))):
        name = data.draw(st.sampled_from(sorted(sheets)))
        rows = sheets[name]
        i = data.draw(st.integers(0, len(rows) + 2))
        j = data.draw(st.integers(0, len(rows[0]) + 1))
        while len(rows) <= i:
            rows.append([None] * len(rows[0]))
        while len(rows[i]) <= j:
            rows[i].append(None)
        rows[i][j] = data.draw(workbook_cells)
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(sorted(sheets)))
        sheets[name] = data.draw(st.sampled_from([[], [[None]], [[None], *sheets[name]]]))
    path = write_xlsx(tmp_path_factory.mktemp("wb") / "in.xlsx", sheets)
    before = path.read_bytes()
    outcome(lambda: read_workbook(path))
    assert path.read_bytes() == before


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    return write_xlsx(tmp_path_factory.mktemp("good") / "good.xlsx", good_sheets()).read_bytes()


@FUZZ
@given(data=st.data())
def test_workbook_bytes_damaged(tmp_path_factory, good_bytes, data):
    raw = bytearray(good_bytes)
    how = data.draw(st.sampled_from(["flip", "cut", "splice"]))
    if how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            k = data.draw(st.integers(0, len(raw) - 1))
            raw[k] = data.draw(st.integers(0, 255))
    elif how == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        k = data.draw(st.integers(0, len(raw)))
        raw[k:k] = data.draw(st.binary(max_size=64))
    path = tmp_path_factory.mktemp("bytes") / "in.xlsx"
    path.write_bytes(bytes(raw))
    outcome(lambda: read_workbook(path))
    assert path.read_bytes() == bytes(raw)


def test_fuzz_sanity():
    """The fuzzers reach both outcomes (they do not only ever see errors)."""
    assert outcome(lambda: validate_tables(good_frames())) == "valid"
    tables = good_frames()
    tables["Demand"] = tables["Demand"].astype(object)
    tables["Demand"].loc[0, "quantity"] = dt.datetime(2026, 1, 1)
    assert outcome(lambda: validate_tables(tables)) == "input_error"
