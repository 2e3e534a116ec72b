"""The scenario store on SQLite and on a real PostgreSQL server: save, list, load, compare,
export, delete; versions; one workbook per sha256; analyses; migrations; URLs; the CLI.

Every test that takes ``store_url`` runs on both backends (tests/conftest.py)."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

import procure
from procure import Scenario
from procure.cli.main import main as cli_main
from procure.store import StoreError, open_store
from procure.store.connection import MIGRATIONS, default_path, resolve_url

try:
    from tests.tiny import check_solution, tiny
except ImportError:  # tests/ is not a package
    from tiny import check_solution, tiny

ROOT = Path(__file__).resolve().parent.parent


def base() -> procure.ProcureData:
    """Partners P and Q; A (FR) makes x at 10 (capacity 30), B (DE) at 12 (unlimited).
    P needs 20 x, Q needs 15: A's 30 go where cheapest, 5 from B -> 30 * 10 + 5 * 12 = 360."""
    return tiny(offers=[dict(supplier="A", item="x", unit_price=10, capacity=30),
                        dict(supplier="B", item="x", unit_price=12)],
                demand=[("P", "x", 1, 20), ("Q", "x", 1, 15)],
                suppliers={"A": "FR", "B": "DE"})


def scenarios() -> dict[str, Scenario]:
    """Baseline 360; "A halved": A makes 15 -> 15 * 10 + 20 * 12 = 390 (+30, +8.33 %);
    "Q leaves": 20 from A -> 200; "A lost" with Q's demand doubled ... B alone: 50 * 12 = 600."""
    data = base()
    return {
        "Baseline": Scenario(base=data, name="Baseline"),
        "A halved": Scenario(base=data, name="A halved",
                             capacity=[{"supplier": "A", "factor": 0.5}]),
        "Q leaves": Scenario(base=data, name="Q leaves", remove_partners=["Q"]),
        "A lost": Scenario(base=data, name="A lost", capacity=[{"supplier": "A", "factor": 0}],
                           demand=[{"partner": "Q", "factor": 2}]),
    }


def save_all(store, names=None) -> dict[str, procure.Result]:
    out = {}
    for name, s in scenarios().items():
        if names is None or name in names:
            out[name] = s.solve()
            assert store.save(s, out[name], author="tester") == 1
    return out


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal tables; a missing text value may come back None where it was NaN."""
    pd.testing.assert_frame_equal(a.astype(object).where(a.notna(), None),
                                  b.astype(object).where(b.notna(), None), check_dtype=False)
    assert list(a.dtypes.astype(str)) == list(b.dtypes.astype(str))


def test_round_trip(store_url, tmp_path):
    """Save, list, load, compare, export, delete, on both backends."""
    store = open_store(store_url)
    results = save_all(store)
    listed = store.list()
    assert sorted(listed["name"]) == sorted(scenarios())
    assert set(listed["author"]) == {"tester"} and set(listed["version"]) == {1}
    assert listed.set_index("name").loc["A halved", "total_cost"] == pytest.approx(390)
    assert str(listed["saved_at"].dt.tz) == "UTC"

    stored = store.load("A halved")
    assert stored.version == 1 and stored.versions == [1] and stored.author == "tester"
    assert stored.summary == json.loads(json.dumps(results["A halved"].summary()))
    # the rebuilt Result says what the saved one said (diagnosis, plan check, every scalar)
    assert json.loads(json.dumps(stored.result.summary())) == stored.summary
    for name, frame in results["A halved"].tables().items():
        frames_equal(frame, stored.tables[name])
    assert stored.definition == scenarios()["A halved"].to_toml()
    assert stored.sha256 == scenarios()["A halved"].base_sha256
    # the loaded scenario runs on the stored workbook and re-solves to the stored cost
    again = stored.scenario.solve()
    assert again.total_cost == pytest.approx(stored.total_cost, rel=1e-9)
    check_solution(stored.scenario.apply(), stored.result)

    comparison = store.compare("Baseline", ["A halved", "Q leaves", "A lost"])
    rows = comparison.scenarios.set_index("scenario")
    assert rows.loc["Baseline", "delta"] == 0 and rows.loc["Baseline", "delta_pct"] == 0
    assert rows.loc["A halved", "delta"] == pytest.approx(30)
    assert rows.loc["A halved", "delta_pct"] == pytest.approx(100 * 30 / 360)
    assert rows.loc["A lost", "total_cost"] == pytest.approx(600)
    assert rows.loc["A lost", "suppliers_used"] == 1

    out = tmp_path / "export.xlsx"
    stored.to_excel(out)
    wb = openpyxl.load_workbook(out)
    assert {"Summary", "Allocation", "PartnerCosts", "Scenario"} <= set(wb.sheetnames)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["total_cost"] == pytest.approx(390)

    assert store.delete("A halved") == 1
    assert "A halved" not in set(store.list()["name"])
    with pytest.raises(StoreError, match="no scenario named 'A halved'"):
        store.load("A halved")
    store.close()


def test_versions_never_overwrite(store_url):
    """A name that exists is refused unless replace; then version 2 is added and version 1
    stays as it was."""
    store = open_store(store_url)
    data = base()
    first = Scenario(base=data, name="plan")
    r1 = first.solve()
    store.save(first, r1)
    second = Scenario(base=data, name="plan", description="A halved",
                      capacity=[{"supplier": "A", "factor": 0.5}])
    r2 = second.solve()
    with pytest.raises(StoreError, match="already has a scenario named 'plan'"):
        store.save(second, r2)
    assert store.save(second, r2, replace=True) == 2
    assert store.load("plan").total_cost == pytest.approx(390)
    old = store.load("plan", version=1)
    assert old.total_cost == pytest.approx(360) and old.versions == [1, 2]
    assert old.definition == first.definition
    assert list(store.versions("plan")["version"]) == [1, 2]
    listed = store.list()
    assert len(listed) == 1 and listed["version"].iloc[0] == 2
    with pytest.raises(StoreError, match="no version 7"):
        store.load("plan", version=7)
    assert store.delete("plan", version=1) == 1
    assert store.versions("plan")["version"].tolist() == [2]
    store.close()


def test_one_workbook_per_sha256(store_url):
    store = open_store(store_url)
    save_all(store, ["Baseline", "A halved"])
    other = tiny(offers=[dict(supplier="A", item="x", unit_price=1)], demand=[("P", "x", 1, 1)])
    s = Scenario(base=other, name="other")
    store.save(s, s.solve())
    engine = create_engine(store.engine.url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workbooks")).scalar() == 2
    store.delete("other")  # its workbook goes with its last scenario
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workbooks")).scalar() == 1
    engine.dispose()
    store.close()


def test_an_infeasible_scenario_is_kept_with_its_diagnosis(store_url):
    data = base()
    s = Scenario(base=data, name="nothing", capacity=[{"supplier": "A", "factor": 0},
                                                      {"supplier": "B", "factor": 0}])
    result = s.solve()
    assert result.status == procure.Status.INFEASIBLE
    store = open_store(store_url)
    store.save(s, result)
    save_all(store, ["Baseline"])
    stored = store.load("nothing")
    assert stored.status == "infeasible" and stored.total_cost is None
    assert stored.result.diagnosis.headline() == result.diagnosis.headline()
    assert json.loads(json.dumps(stored.result.summary())) == stored.summary
    frames_equal(result.diagnosis.table(), stored.tables["Diagnosis"])
    comparison = store.compare("Baseline", ["nothing"])
    row = comparison.scenarios.set_index("scenario").loc["nothing"]
    assert math.isnan(row["total_cost"]) and row["infeasibility"] == result.diagnosis.headline()
    assert comparison.to_dict()["scenarios"]["nothing"]["delta"] is None
    store.close()


def test_analyses(store_url):
    store = open_store(store_url)
    save_all(store, ["Baseline"])
    table = pd.DataFrame({"partner": ["P", "Q"], "shapley": [190.0, 170.0]})
    assert store.save_analysis("Baseline", "fair_shares", {"method": "shapley",
                                                           "core": float("nan")},
                               {"table": table}) == 1
    assert store.save_analysis("Baseline", "fair_shares", {"method": "nucleolus"}) == 2
    summary, tables = store.load_analysis("Baseline", "fair_shares", version=1)
    assert summary == {"method": "shapley", "core": None}
    frames_equal(table, tables["table"])
    assert store.load_analysis("Baseline", "fair_shares")[0] == {"method": "nucleolus"}
    assert store.load_analysis("Baseline", "rule_costs") is None
    listed = store.analyses("Baseline")
    assert listed[["kind", "version", "scenario_version"]].values.tolist() == [
        ["fair_shares", 2, 1]]
    store.delete("Baseline")
    assert store.load_analysis("Baseline", "fair_shares") is None
    store.close()


def test_compare_json_is_the_issue_s_object(store_url):
    """{"baseline": NAME, "scenarios": {NAME: {"status", "total_cost", "delta", "delta_pct",
    "partners": {P: {"total", "delta"}}, "suppliers": {S: {"quantity", "delta"}},
    "binding_rules": [...]}}}; the baseline has deltas 0. "Q leaves": P takes 20 of A's at 10
    (200); the baseline's 360 is split between P and Q in some way (the plan is degenerate):
    Q's delta is minus its baseline total, P's is 200 minus its own, B sells 5 fewer."""
    store = open_store(store_url)
    save_all(store, ["Baseline", "Q leaves"])
    got = store.compare("Baseline", ["Q leaves"]).to_dict()
    assert set(got) == {"baseline", "scenarios"} and got["baseline"] == "Baseline"
    assert list(got["scenarios"]) == ["Baseline", "Q leaves"]
    for entry in got["scenarios"].values():
        assert set(entry) == {"status", "total_cost", "delta", "delta_pct", "partners",
                              "suppliers", "binding_rules"}
    base_entry = got["scenarios"]["Baseline"]
    assert base_entry["delta"] == 0 and base_entry["delta_pct"] == 0
    assert all(p["delta"] == 0 for p in base_entry["partners"].values())
    q = got["scenarios"]["Q leaves"]
    assert q["total_cost"] == pytest.approx(200) and q["delta"] == pytest.approx(-160)
    base_p = {p: v["total"] for p, v in base_entry["partners"].items()}
    assert sum(base_p.values()) == pytest.approx(360)
    assert q["partners"]["Q"] == {"total": 0.0, "delta": pytest.approx(-base_p["Q"])}
    assert q["partners"]["P"]["delta"] == pytest.approx(200 - base_p["P"])
    assert q["suppliers"]["B"] == {"quantity": 0.0, "delta": pytest.approx(-5)}
    json.dumps(got)  # plain JSON
    store.close()


def test_compare_workbook_colours_the_deltas(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    save_all(store)
    path = tmp_path / "compare.xlsx"
    store.compare("Baseline", ["A halved", "Q leaves"]).to_excel(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Scenarios", "Partners", "Suppliers"]
    ws = wb["Scenarios"]
    header = [c.value for c in ws[1]]
    delta = header.index("delta") + 1
    by_name = {ws.cell(r, 1).value: ws.cell(r, delta) for r in range(2, ws.max_row + 1)}
    assert by_name["A halved"].fill.fgColor.rgb.endswith("F8CBAD")  # red: dearer
    assert by_name["Q leaves"].fill.fgColor.rgb.endswith("C6EFCE")  # green: cheaper
    assert by_name["Baseline"].fill.fill_type is None
    partners = wb["Partners"]
    assert [c.value for c in partners[1]][:4] == ["partner", "Baseline", "A halved",
                                                  "Δ A halved"]
    store.close()


def test_unknown_names_are_told_with_the_nearest(sqlite_url):
    store = open_store(sqlite_url)
    with pytest.raises(StoreError, match="no scenarios yet"):
        store.load("x")
    save_all(store, ["Baseline"])
    with pytest.raises(StoreError, match="did you mean 'Baseline'"):
        store.compare("baseline", [])
    with pytest.raises(StoreError, match="non-empty"):
        store.save(Scenario(base=base(), name="  "), scenarios()["Baseline"].solve())
    store.close()


def test_migrations_are_applied_once_and_recorded(sqlite_url):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    store = open_store(sqlite_url)
    assert store.schema_version == head
    store.close()
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        conn.commit()
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this procure knows"):
        open_store(sqlite_url)


def test_the_models_match_the_migrations(store_url):
    """The schema the migrations make is the one the models describe (Alembic's autogenerate
    finds nothing to add: a model changed without a migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from procure.store.models import Base

    store = open_store(store_url)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    store.close()


def test_the_migrations_ship_with_the_package():
    """Every file of procure/store/migrations matches a package-data pattern of pyproject.toml
    (a wheel built from it holds them: checked by hand with ``pip wheel``)."""
    from fnmatch import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["procure"]
    files = [p.relative_to(ROOT / "procure").as_posix() for p in MIGRATIONS.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert any(f.endswith("env.py") for f in files) and any("versions/" in f for f in files)
    for f in files:
        assert any(fnmatch(f, pat) for pat in patterns), f


def test_urls(tmp_path, monkeypatch):
    monkeypatch.delenv("PROCURE_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "procure" / "store.sqlite"
    assert resolve_url(None).database == str(default_path())
    monkeypatch.setenv("PROCURE_STORE", str(tmp_path / "mine.sqlite"))
    assert resolve_url(None).database == str(tmp_path / "mine.sqlite")
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert resolve_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert resolve_url("sqlite:///x.db").get_backend_name() == "sqlite"
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/no/such/folder/s.db")
    with pytest.raises(StoreError, match="cannot open the store postgresql://u:\\*\\*\\*@"):
        open_store("postgresql://u:secret@127.0.0.1:1/db")
    store = open_store()  # $PROCURE_STORE
    assert Path(store.url.database) == tmp_path / "mine.sqlite"
    store.close()


def test_a_what_if_session_in_five_commands(tmp_path, capsys, monkeypatch):
    """The README's session: two scenarios run and saved, compared, the comparison exported,
    one result exported."""
    monkeypatch.setenv("PROCURE_STORE", str(tmp_path / "whatif.sqlite"))
    assert cli_main(["scenario", "run", "models/baseline.toml", "--save"]) == 0
    assert cli_main(["scenario", "run", "models/japan-leaves.toml", "--save",
                     "--author", "analyst"]) == 0
    capsys.readouterr()
    assert cli_main(["store", "compare", "Baseline", "Japan leaves", "--json", "--out",
                     str(tmp_path / "compare.xlsx")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["scenarios"]["Japan leaves"]["delta"] < 0
    assert (tmp_path / "compare.xlsx").stat().st_size > 0
    assert cli_main(["store", "export", "Japan leaves", "--out", str(tmp_path / "jp.xlsx")]) == 0
    assert "written to" in capsys.readouterr().out
    assert cli_main(["store", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed["scenarios"]] == ["Japan leaves", "Baseline"]
    assert cli_main(["store", "show", "Japan leaves", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["author"] == "analyst" and 'remove_partners = ["JP"]' in shown["definition"]
    # errors: exit 2, one line, no traceback
    assert cli_main(["scenario", "run", "models/baseline.toml", "--save"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert cli_main(["store", "show", "Japan leave"]) == 2
    assert "did you mean 'Japan leaves'" in capsys.readouterr().err
    assert cli_main(["store", "delete", "Japan leaves"]) == 0
    assert capsys.readouterr().out == "deleted 1 version of 'Japan leaves'\n"
    assert cli_main(["store", "list"]) == 0
    assert "Japan leaves" not in capsys.readouterr().out


def test_the_demo_round_trips_and_re_solves(sqlite_url):
    """A demo scenario saved and loaded re-solves to the stored cost (within the gap); on
    PostgreSQL the same is checked on a small scenario by test_round_trip."""
    s = Scenario.from_toml(ROOT / "models" / "korean-plants-halved.toml")
    result = s.solve()
    store = open_store(sqlite_url)
    store.save(s, result)
    stored = store.load(s.name)
    assert stored.definition == (ROOT / "models" / "korean-plants-halved.toml").read_text()
    assert stored.base_bytes == (ROOT / "sample_data" / "demo.xlsx").read_bytes()
    again = stored.scenario.solve()
    gap = max(result.mip_gap or 0, again.mip_gap or 0, 1e-9)
    assert again.total_cost == pytest.approx(stored.total_cost, rel=2 * gap)
    store.close()
