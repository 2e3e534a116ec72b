"""The Data, Plan and Nation view pages, driven through streamlit's AppTest on app.py.

Every number a page shows is compared with the engine's own answer for the same data
(``procure.solve``), never with a figure typed into the test.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import procure
from procure.analysis.sharing import savings
from procure.app import data as data_page
from procure.app.shared import WORKBOOK_KEY, XLSX_MIME, read_upload
from procure.engine.results import marginal_sentences

try:
    from tests import app_helpers as ui
except ImportError:  # tests/ is not a package
    import app_helpers as ui

XLSX = XLSX_MIME



@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    """Each test's own scenario store."""
    return ui.private_store(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def demo():
    data = procure.datasets.load_demo()
    # the app solves with the workbook's Settings (time limit 60 s, gap 0.1 %)
    return data, procure.solve(data)


@pytest.fixture(scope="module")
def opened():
    """One session, opened as a user opens the app: no page asked for."""
    at = ui.app().run()
    ui.no_exception(at)
    return at


def test_the_app_opens_on_the_demo_already_solved(opened, demo):
    data, result = demo
    assert opened.session_state[WORKBOOK_KEY].name == "demo.xlsx"
    assert [t.value for t in opened.title] == ["Plan"]
    assert ui.texts(opened.success) == [result.message]
    assert ui.metric(opened, "Total cost") == ui.full_units(result.total_cost)
    for part in ("purchase", "setup", "transport", "shortfall"):
        assert ui.metric(opened, part.capitalize()) == ui.full_units(getattr(result, part))


def test_plan_page_shows_the_engines_tables(opened, demo):
    _, result = demo
    frames = [d.value for d in opened.dataframe]
    rules = next(f for f in frames if "rule_id" in f.columns)
    assert rules["binds"].sum() == result.rules["binds"].sum()
    alloc = next(f for f in frames if "supplier_country" in f.columns)
    pd.testing.assert_frame_equal(alloc.reset_index(drop=True), result.allocation)
    assert not opened.error
    # a caption under every chart says what it shows
    assert len(opened.caption) >= 6
    assert f"Re-checked from its own tables: {result.check.headline()}." in ui.texts(
        opened.caption)
    # the dearest units in words, as the engine says them
    words = "\n".join(ui.texts(opened.markdown))
    for sentence in marginal_sentences(result, items=procure.datasets.load_demo().items):
        assert sentence in words
    assert [b.label for b in opened.get("download_button")] == ["Download the results workbook"]


def test_allocation_filters_narrow_the_table(demo):
    _, result = demo
    at = ui.app().run()
    at.multiselect(key="plan_filter_partner").set_value(["PL"]).run()
    at.multiselect(key="plan_filter_item").set_value(["shell155"]).run()
    alloc = next(d.value for d in at.dataframe if "supplier_country" in d.value.columns)
    want = result.allocation[(result.allocation["partner"] == "PL")
                             & (result.allocation["item"] == "shell155")]
    assert len(alloc) == len(want) > 0
    assert alloc["quantity"].sum() == pytest.approx(want["quantity"].sum())


def test_solve_options_are_applied(demo):
    data, _ = demo
    at = ui.app().run()
    at.number_input(key=[n.key for n in at.number_input if n.label.startswith("Time")][0]
                    ).set_value(30.0)
    next(s for s in at.selectbox if s.label == "Optimality gap").set_value(1e-4)
    next(b for b in at.button if b.label == "Solve").click()
    at.run()
    ui.no_exception(at)
    assert any("time limit 30 s, within 0.01% of the best possible" in e.label
               for e in at.expander)
    exact = procure.solve(data, time_limit=30, mip_gap=1e-4)
    assert ui.metric(at, "Total cost") == ui.full_units(exact.total_cost)


def test_nation_view_shows_the_partners_numbers(demo):
    data, result = demo
    at = ui.open_page(ui.app(), "nation")
    ui.no_exception(at)
    costs = result.partner_costs.set_index("partner")
    first = data.partners["partner"].iloc[0]
    assert ui.metric(at, "Its cost in the pool") == ui.full_units(costs.loc[first, "total"])
    alone = savings(data, result).set_index("partner").loc[first]
    assert ui.metric(at, "Alone it would pay") == ui.full_units(alone["standalone_cost"])
    assert ui.metric(at, "Pooling saves it") == ui.full_units(alone["saving"])
    at.selectbox(key="procure_nation_partner").set_value("PL").run()
    ui.no_exception(at)
    assert ui.metric(at, "Its cost in the pool") == ui.full_units(costs.loc["PL", "total"])
    # PL's binding rules include its workshare; its suppliers table sums to its deliveries
    assert any("Polish industry" in m for m in ui.texts(at.markdown))
    table = next(d.value for d in at.dataframe if "share" in d.value.columns)
    pl = result.allocation[result.allocation["partner"] == "PL"]
    assert table["cost"].sum() == pytest.approx(pl["cost"].sum())
    assert table["share"].sum() == pytest.approx(1.0)


def test_data_page_lists_the_demo_and_offers_the_template():
    at = ui.open_page(ui.app(), "data")
    ui.no_exception(at)
    assert any("**demo.xlsx** is valid" in m for m in ui.texts(at.markdown))
    assert [f.allowed_type for f in at.file_uploader] == [[".xlsx"]]
    labels = [b.label for b in at.get("download_button")]
    assert "Blank template" in labels
    assert len(at.data_editor) == len(procure.data.schema.SHEETS)


def test_a_broken_upload_shows_the_problems_and_no_plan():
    broken = ui.demo_bytes(Demand_D48=-5, Offers_C2="cheap")
    at = ui.open_page(ui.app(), "data")
    at.file_uploader[0].set_value(("broken.xlsx", broken, XLSX)).run()
    ui.no_exception(at)
    wb = at.session_state[WORKBOOK_KEY]
    assert wb.name == "broken.xlsx" and not wb.ok
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["sheet", "row", "column", "value", "problem", "fix"]
    found = {(r.sheet, r.row, r.column) for r in problems.itertuples()}
    assert ("Demand", 48, "quantity") in found and ("Offers", 2, "unit_price") in found
    assert all(problems["fix"].str.len() > 0)
    at.switch_page("procure/app/plan.py").run()
    ui.no_exception(at)
    assert not at.metric  # never solved
    assert any("broken.xlsx has 2 problem(s) and is not solved" in e for e in ui.texts(at.error))
    at.switch_page("procure/app/nation.py").run()
    assert not at.metric and at.error


def test_a_file_that_is_no_workbook_is_refused_with_its_name():
    at = ui.open_page(ui.app(), "data")
    at.file_uploader[0].set_value(("notes.xlsx", b"just some text", XLSX)).run()
    ui.no_exception(at)
    problems = at.dataframe[0].value
    assert len(problems) == 1
    assert "not a valid .xlsx file" in problems["problem"][0]
    assert "/tmp" not in problems.to_string() and "procure-" not in problems.to_string()


def test_a_valid_upload_replaces_the_demo_and_is_solved():
    content = ui.demo_bytes(Demand_D48=40000)  # FR 2027 shells: 36,000 -> 40,000
    at = ui.open_page(ui.app(), "data")
    at.file_uploader[0].set_value(("fr-more.xlsx", content, XLSX)).run()
    assert [s.value for s in at.success] == ["fr-more.xlsx is read and valid."]
    at.switch_page("procure/app/plan.py").run()
    ui.no_exception(at)
    exact = procure.solve(read_upload("fr-more.xlsx", content).data)
    assert ui.metric(at, "Total cost") == ui.full_units(exact.total_cost)


def test_an_infeasible_workbook_shows_the_diagnosis_first():
    content = ui.demo_bytes(Demand_D48=900000)
    wb = read_upload("too-many-shells.xlsx", content)
    expected = procure.solve(wb.data)
    assert expected.status == procure.Status.INFEASIBLE
    at = ui.app()
    at.session_state[WORKBOOK_KEY] = wb  # seeded through the uploader's own function
    at.run()
    ui.no_exception(at)
    assert not at.metric
    assert ui.texts(at.error)[0] == expected.message
    # the diagnosis sits above the solver options and anything else
    main = [type(e).__name__ for e in at.main]
    assert main.index("Error") < main.index("Expander")
    bullets = "\n".join(ui.texts(at.markdown))
    for c in expected.diagnosis.conflicts + expected.diagnosis.binding:
        assert c.message in bullets
    table = at.dataframe[0].value
    assert list(table["kind"]) == [c.kind for c in expected.diagnosis.conflicts
                                   + expected.diagnosis.binding]


def test_an_edit_is_validated_before_it_is_used(demo):
    data, result = demo
    at = ui.open_page(ui.app(), "data")
    version = at.session_state[WORKBOOK_KEY].version
    key = data_page.editor_key("Demand", version)
    # Demand row 2 (DE shell155 2026) becomes negative: refused, the demo stays in use
    at.session_state[key] = {"edited_rows": {0: {"quantity": -1}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert any("Edits not used yet in: Demand" in i for i in ui.texts(at.info))
    at.button(key=data_page.APPLY_KEY).click().run()
    ui.no_exception(at)
    assert at.session_state[WORKBOOK_KEY].name == "demo.xlsx"
    problems = next(d.value for d in at.dataframe if "fix" in d.value.columns)
    assert list(problems[["sheet", "row", "column"]].itertuples(index=False, name=None)) == [
        ("Demand", 2, "quantity")]
    # a valid edit: DE needs 10,000 more shells in 2026; the plan follows
    at.session_state[key] = {"edited_rows": {0: {"quantity": 61000.0}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    at.button(key=data_page.APPLY_KEY).click().run()
    ui.no_exception(at)
    wb = at.session_state[WORKBOOK_KEY]
    assert wb.name == "demo.xlsx (edited)" and wb.ok
    assert wb.data.demand["quantity"].iloc[0] == 61000
    at.switch_page("procure/app/plan.py").run()
    edited = procure.solve(data.replace(demand=data.demand.assign(
        quantity=[61000.0, *data.demand["quantity"].iloc[1:]])))
    assert ui.metric(at, "Total cost") == ui.full_units(edited.total_cost)
    assert edited.total_cost > result.total_cost


def test_an_added_row_is_checked_like_any_other():
    at = ui.open_page(ui.app(), "data")
    version = at.session_state[WORKBOOK_KEY].version
    at.session_state[data_page.editor_key("Partners", version)] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"partner": "DE", "name": "Germany again"}]}
    at.run()
    at.button(key=data_page.APPLY_KEY).click().run()
    problems = next(d.value for d in at.dataframe if "fix" in d.value.columns)
    assert ("Partners", 14, "partner") in set(problems[["sheet", "row", "column"]]
                                               .itertuples(index=False, name=None))
    assert "duplicate" in " ".join(problems["problem"]).lower() or "twice" in " ".join(
        problems["problem"]).lower()


def test_editable_frames_round_trip_through_validation(demo):
    data, _ = demo
    again = data_page.check_edits(data_page.editable_frames(data))
    for name in ("partners", "items", "suppliers", "offers", "capacity", "price_tiers",
                 "transport", "blocs"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(data, name))
    pd.testing.assert_frame_equal(again.demand, data.demand)
    pd.testing.assert_frame_equal(again.rules, data.rules)
    assert again.settings == data.settings and again.periods == data.periods


def test_a_row_added_with_a_blank_number_cell_is_used_with_the_blank_as_given(demo):
    """What the editor does when a user adds a partner and leaves its budget blank (pandas 3.1
    warned of turning a float64 column to object for it; pandas 4 will refuse)."""
    data, _ = demo
    frames = data_page.editable_frames(data)
    partners = frames["Partners"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        partners.loc[len(partners) + 2] = {"partner": "SE", "name": "Sweden", "country": "SE",
                                           "budget": None}
    assert str(partners["budget"].dtype) == "Float64"
    again = data_page.check_edits(frames)
    added = again.partners.set_index("partner").loc["SE"]
    assert added["country"] == "SE" and np.isnan(added["budget"])
    pd.testing.assert_frame_equal(again.partners.iloc[:-1], data.partners)


def test_a_file_over_the_size_limit_is_refused(monkeypatch):
    from procure.app import shared

    monkeypatch.setattr(shared, "MAX_UPLOAD_BYTES", 10_000)  # the demo is larger
    at = ui.open_page(ui.app(), "data")
    at.file_uploader[0].set_value(("big.xlsx", ui.demo_bytes(), XLSX)).run()
    ui.no_exception(at)
    problems = at.dataframe[0].value
    assert len(problems) == 1 and "larger than the app accepts" in problems["problem"][0]
    assert not at.session_state[WORKBOOK_KEY].ok


def test_an_unexpected_error_becomes_a_message_not_a_trace(monkeypatch):
    from procure.app import shared

    def broken(*args, **kwargs):
        raise RuntimeError("the solver's door fell off")

    monkeypatch.setattr(shared, "solve", broken)
    # content no solve has been cached for, so the broken door is used
    wb = read_upload("odd.xlsx", ui.demo_bytes(Demand_D2=51001))
    at = ui.app()
    at.session_state[WORKBOOK_KEY] = wb
    at.run()
    ui.no_exception(at)
    errors = ui.texts(at.error)
    assert len(errors) == 1
    assert errors[0].startswith("Something went wrong while showing the Plan page: "
                                "RuntimeError: the solver's door fell off. Try again")
    assert "Traceback" not in errors[0] and ".py" not in errors[0]


def test_each_session_keeps_its_own_workbook():
    first, second = ui.open_page(ui.app(), "data"), ui.open_page(ui.app(), "data")
    first.file_uploader[0].set_value(("mine.xlsx", ui.demo_bytes(Demand_D48=40000), XLSX)).run()
    second.run()
    assert first.session_state[WORKBOOK_KEY].name == "mine.xlsx"
    assert second.session_state[WORKBOOK_KEY].name == "demo.xlsx"
    assert ui.texts(second.success) == []


def test_the_results_workbook_download_holds_the_plan(demo):
    from openpyxl import load_workbook

    from procure.app.shared import results_workbook

    _, result = demo
    book = load_workbook(io.BytesIO(results_workbook(result)), read_only=True)
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["total_cost"] == pytest.approx(result.total_cost)
    assert summary["message"] == result.message
    assert {"Allocation", "PartnerCosts", "Rules"} <= set(book.sheetnames)


def test_the_blank_template_download_is_the_template():
    from procure.app.shared import template_bytes

    raw = procure.data.writer.read_workbook_bytes  # an empty template reads, then fails
    with pytest.raises(procure.InputError) as err:
        raw(template_bytes(), "template.xlsx")
    assert any("has no rows" in p.message for p in err.value.problems)
