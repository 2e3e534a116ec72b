"""``procure.data.writer.write_workbook``: what it writes, ``read_workbook`` reads back equal.

A property test over generated data with awkward text (formula-like names, numbers as ids,
control characters, OOXML escapes), blanks in every optional column, and Demand and Rules rows
that came from Excel rows with gaps (the written workbook keeps the rows, so ``Rules!7`` still
names the same rule)."""

from __future__ import annotations

import dataclasses
import io
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from procure.data.validate import RawTables
from procure.data.writer import (
    raw_tables,
    read_workbook_bytes,
    sheet_frames,
    workbook_bytes,
    write_workbook,
)

ID_ALPHABET = st.sampled_from(list("ABCxyz019_-=+@ .é"))
TEXT = st.one_of(st.none(), st.sampled_from(["=SUM(A1)", "+1", "-x", "@a", "2026", "1.5",
                                             "_x000D_", "a\rb", "tab\there", "ünï cödé", "x\x01y",
                                             "TRUE", "  padded  "]),
                 st.text(min_size=0, max_size=8))
NUMBER = st.one_of(st.none(), st.floats(0, 1e9, allow_nan=False), st.integers(0, 10**6))


def ids(n: int):
    word = st.text(ID_ALPHABET, min_size=1, max_size=6).filter(
        lambda s: s == s.strip() and s.lower() not in ("domestic", "each_supplier",
                                                       "each_country"))
    return st.lists(word, min_size=1, max_size=n, unique_by=lambda s: s.casefold())


def rows_with_gaps(n: int):
    """Excel rows of ``n`` data rows: increasing from row 2, with blank rows in between."""
    return st.lists(st.integers(1, 3), min_size=n, max_size=n).map(
        lambda steps: [1 + sum(steps[: k + 1]) for k in range(n)])


@st.composite
def workbooks(draw) -> procure.ProcureData:
    partners = draw(ids(3))
    items = draw(ids(3))
    suppliers = draw(ids(3))
    periods = draw(st.lists(st.sampled_from(["2026", "2027", "Q1", "10", "9"]), min_size=1,
                            max_size=3, unique=True))
    offers = [(s, i) for s in suppliers for i in items if draw(st.booleans())] or \
        [(suppliers[0], items[0])]
    demand = [(p, i, t) for p in partners for i in items for t in periods if draw(st.booleans())]
    demand = demand or [(partners[0], items[0], periods[0])]
    periods = list(dict.fromkeys(t for _, _, t in demand))  # every period is a Demand period
    tables = RawTables()
    tables["Partners"] = pd.DataFrame({
        "partner": partners, "name": [draw(TEXT) for _ in partners],
        "country": [draw(st.one_of(st.none(), st.sampled_from(["DE", "FR"]))) for _ in partners],
        "budget": [draw(NUMBER) for _ in partners]}, index=range(2, len(partners) + 2))
    tables["Items"] = pd.DataFrame({
        "item": items, "name": [draw(TEXT) for _ in items], "unit": [draw(TEXT) for _ in items],
        "category": [draw(st.one_of(st.none(), st.just("ammo"))) for _ in items],
        "shortfall_penalty": [draw(NUMBER) for _ in items],
        "whole_units": [draw(st.sampled_from([None, "yes", "no", True])) for _ in items]},
        index=range(2, len(items) + 2))
    whole = {i for i, w in zip(items, tables["Items"]["whole_units"], strict=True)
             if w in ("yes", True)}
    tables["Suppliers"] = pd.DataFrame({
        "supplier": suppliers, "name": [draw(TEXT) for _ in suppliers],
        "country": [draw(st.sampled_from(["DE", "FR", "KR"])) for _ in suppliers],
        "capacity": [draw(NUMBER) for _ in suppliers]}, index=range(2, len(suppliers) + 2))
    tables["Offers"] = pd.DataFrame({
        "supplier": [s for s, _ in offers], "item": [i for _, i in offers],
        "unit_price": [draw(st.floats(0, 1e6)) for _ in offers],
        "capacity": [draw(NUMBER) for _ in offers],
        "first_period": [draw(st.one_of(st.none(), st.sampled_from(periods))) for _ in offers],
        "discount": [draw(st.sampled_from([None, "all_units", "incremental"])) for _ in offers],
    }, index=range(2, len(offers) + 2))
    tables["Demand"] = pd.DataFrame({
        "partner": [p for p, _, _ in demand], "item": [i for _, i, _ in demand],
        "period": [t for _, _, t in demand],
        "quantity": [float(draw(st.integers(0, 10**6))) if i in whole
                     else draw(st.floats(0, 1e6)) for _, i, _ in demand]},
        index=draw(rows_with_gaps(len(demand))))
    if len(items) > 1 and draw(st.booleans()):
        tables["Substitutes"] = pd.DataFrame({
            "item": [items[0], items[0]], "substitute": [items[1], items[1]],
            "partner": [partners[0], None]}, index=draw(rows_with_gaps(2)))
    s, i = offers[0]
    tables["Capacity"] = pd.DataFrame({"supplier": [s], "item": [i], "period": [periods[0]],
                                       "capacity": [draw(st.floats(0, 1e4))]}, index=[2])
    if draw(st.booleans()):
        tables["Transport"] = pd.DataFrame({
            "from_country": ["DE", "KR"], "to_partner": [partners[0]] * 2,
            "cost_per_unit": [1.5, 2.0], "item": [None, items[0]]}, index=[2, 3])
        tables["Blocs"] = pd.DataFrame({"bloc": ["EU", "EU"], "country": ["DE", "FR"]},
                                       index=[2, 3])
    n_rules = draw(st.integers(0, 3))
    if n_rules:
        tables["Rules"] = pd.DataFrame({
            "rule": ["max_share"] * n_rules,
            "partner": [draw(st.one_of(st.none(), st.sampled_from(partners)))
                        for _ in range(n_rules)],
            "item": [None] * n_rules, "group": ["each_supplier"] * n_rules,
            "share": [draw(st.floats(0, 1)) for _ in range(n_rules)], "quantity": [None] * n_rules,
            "name": [draw(st.one_of(st.none(), st.just(f"=rule {k}"))) for k in range(n_rules)]},
            index=draw(rows_with_gaps(n_rules)))
    settings_rows = [("currency", draw(st.sampled_from(["EUR", "USD", "=x"])))]
    if draw(st.booleans()):
        settings_rows.append(("time_limit", draw(st.floats(0.5, 100))))
    tables["Settings"] = pd.DataFrame(settings_rows, columns=["key", "value"],
                                      index=range(2, len(settings_rows) + 2))
    return procure.validate_tables(tables)


def assert_same(a: procure.ProcureData, b: procure.ProcureData) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, obj=f.name)
        else:
            assert x == y, (f.name, x, y)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workbooks())
def test_read_workbook_of_the_written_workbook_equals_the_data(data):
    assert_same(read_workbook_bytes(workbook_bytes(data)), data)


@settings(max_examples=15, deadline=None)
@given(workbooks())
def test_raw_tables_validate_to_the_same_data(data):
    """What a scenario does after its changes: the data validated again, rows kept."""
    assert_same(procure.validate_tables(raw_tables(data)), data)


def test_the_demo_round_trips_through_a_file(tmp_path):
    demo = procure.datasets.load_demo()
    write_workbook(demo, tmp_path / "demo.xlsx")
    assert_same(procure.read_workbook(tmp_path / "demo.xlsx"), demo)
    buffer = io.BytesIO()
    write_workbook(demo, buffer)
    assert buffer.getvalue()[:2] == b"PK"


def test_rows_are_kept_where_the_workbook_had_them():
    data = procure.validate_tables(RawTables({
        "Partners": pd.DataFrame({"partner": ["P"]}, index=[2]),
        "Items": pd.DataFrame({"item": ["x"]}, index=[2]),
        "Suppliers": pd.DataFrame({"supplier": ["A"], "country": ["FR"]}, index=[2]),
        "Offers": pd.DataFrame({"supplier": ["A"], "item": ["x"], "unit_price": [1.0]},
                               index=[2]),
        "Demand": pd.DataFrame({"partner": ["P"], "item": ["x"], "period": ["1"],
                                "quantity": [1.0]}, index=[2]),
        "Rules": pd.DataFrame({"rule": ["ban", "ban"], "partner": ["P", "P"],
                               "group": ["FR", "A"]}, index=[4, 9]),
    }))
    assert list(sheet_frames(data)["Rules"].index) == [4, 9]
    back = read_workbook_bytes(workbook_bytes(data))
    assert list(back.rules["source_row"]) == [4, 9]


def test_only_xlsx_paths(tmp_path):
    with pytest.raises(ValueError, match=".xlsx"):
        write_workbook(procure.datasets.load_demo(), tmp_path / "demo.xls")
    assert math.isfinite(1.0)
