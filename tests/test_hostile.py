"""Hostile and broken workbooks (tests/corpus/make_corpus.py): never a crash, never silently
accepted, the input file never changed.

Each corpus file must give :class:`InputError` naming the sheet, row and column (or a clear
refusal for files that are not workbooks, zip bombs and macros), or, for the few valid-but-odd
files, a warning.  The CLI must exit 2 with the message on stderr and no traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workbooks import good_sheets, write_workbook

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import F, Sheet, big_demand, make_corpus, write_xlsx  # noqa: E402

from procure.data.errors import InputError  # noqa: E402
from procure.data.io import bounds as io_bounds  # noqa: E402  (limits() reads its constants)
from procure.data.io import read_tables, read_workbook  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def located(problem, case) -> bool:
    text = str(problem)
    return (all(w in text for w in case.words)
            and (case.sheet is None or problem.sheet == case.sheet)
            and (case.row is None or problem.row == case.row)
            and (case.column is None or problem.column == case.column))


def test_corpus_reads_as_expected(corpus):
    failures, times = [], []
    for case in corpus:
        before = sha(case.path)
        start = time.perf_counter()
        try:
            data = read_workbook(case.path)
            outcome, found = "valid", list(data.warnings)
        except InputError as exc:
            outcome, found = "input_error", exc.problems
        times.append((time.perf_counter() - start, case.name))
        assert sha(case.path) == before, f"{case.name}: the input file changed"
        if case.kind == "warning":
            ok = outcome == "valid" and all(any(w in x for x in found) for w in case.words)
        elif case.kind == "refused":
            ok = outcome == "input_error" and any(
                p.sheet is None and all(w in str(p) for w in case.words) for p in found)
        else:
            ok = outcome == "input_error" and any(located(p, case) for p in found)
        if not ok:
            failures.append(f"{case.name} ({case.kind}): {outcome}\n    "
                            + "\n    ".join(map(str, found)))
    times.sort(reverse=True)
    print("\nslowest corpus files: " + ", ".join(f"{n} {t:.2f}s" for t, n in times[:5]))
    assert not failures, "\n".join(failures)


def test_corpus_has_every_kind(corpus):
    names = {c.name for c in corpus}
    for name in ("not_a_zip", "truncated_half", "zip_bomb_total", "zip_bomb_ratio",
                 "zip_bomb_lying_sizes", "macros_in_xlsx", "external_link_formula",
                 "formula_without_value", "merged_cells", "hidden_sheet", "header_in_row_3",
                 "text_in_number", "nan_in_number", "inf_in_number", "huge_1e308",
                 "negative_quantity", "unicode_ids", "ids_differ_by_case", "id_trailing_space",
                 "far_cell_xfd1048576", "empty_demand_sheet", "duplicate_sheet_by_case"):
        assert name in names, name


_DRIVER = r"""
import contextlib, io, json, sys, traceback
from procure.cli.main import main
out = []
for command, path in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            code = main([command, path])
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code = "crash"
            traceback.print_exc(file=err)
    out.append([command, path, code, err.getvalue(), std.getvalue()])
print(json.dumps(out))
"""


def _run(args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=600, **kw)


def test_cli_on_every_corpus_file(corpus):
    """``procure validate`` and ``procure solve`` on every file: exit 2, the message on
    stderr, no traceback, the file unchanged.  One Python process runs the CLI's ``main`` on
    every file (a crash or abort of calamine would kill it); a few files also go through the
    installed ``procure`` command in processes of their own (next test)."""
    bad = [c for c in corpus if c.kind != "warning"]
    hashes = {c.path: sha(c.path) for c in corpus}
    jobs = [[cmd, str(c.path)] for c in bad for cmd in ("validate", "solve")]
    jobs += [["validate", str(c.path)] for c in corpus if c.kind == "warning"]
    run = _run(["-c", _DRIVER, json.dumps(jobs)])
    assert run.returncode == 0, run.stderr[-3000:]
    kinds = {str(c.path): c for c in corpus}
    failures = []
    for command, path, code, err, std in json.loads(run.stdout):
        case = kinds[path]
        want = 0 if case.kind == "warning" else 2
        if code != want or "Traceback" in err + std or (want == 2 and "Fix:" not in err):
            failures.append(f"{command} {case.name}: exit {code}\n{err[-1500:]}")
        if case.kind == "warning" and not all(w in std for w in case.words):
            failures.append(f"{command} {case.name}: warning {case.words} not shown\n{std}")
    assert not failures, "\n".join(failures)
    for c in corpus:
        assert sha(c.path) == hashes[c.path], f"{c.name}: the input file changed"


@pytest.mark.parametrize("name", ["not_a_zip", "zip_bomb_total", "far_cell_xfd1048576",
                                  "macros_in_xlsx", "formula_without_value"])
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_cli_process(corpus, name, command):
    case = next(c for c in corpus if c.name == name)
    before = sha(case.path)
    run = _run(["-m", "procure.cli", command, str(case.path)])
    assert run.returncode == 2, run.stderr
    assert "problem" in run.stderr and "Fix:" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert sha(case.path) == before


def test_nasty_files_bounded_memory(corpus):
    """The zip bombs and the far cell (which would make calamine abort the process trying to
    allocate 512 GiB) are refused in a process that stays small."""
    names = ["zip_bomb_total", "zip_bomb_ratio", "zip_bomb_lying_sizes", "far_cell_xfd1048576",
             "row_5000000", "no_cell_refs_wide_and_deep"]
    paths = {c.name: str(c.path) for c in corpus if c.name in names}
    code = (
        "import json, resource, sys, time\n"
        "from procure.data.io import read_workbook\n"
        "from procure.data.errors import InputError\n"
        "out = {}\n"
        "for name, path in json.loads(sys.argv[1]).items():\n"
        "    t = time.perf_counter()\n"
        "    try:\n"
        "        read_workbook(path)\n"
        "        out[name] = 'accepted'\n"
        "    except InputError:\n"
        "        out[name] = round(time.perf_counter() - t, 3)\n"
        "out['maxrss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print(json.dumps(out))\n")
    run = _run(["-c", code, json.dumps(paths)])
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    print(f"\nnasty files refused (seconds): {result}")
    assert all(result[n] != "accepted" for n in names)
    assert result["maxrss_mb"] < 1024


def test_formula_with_cached_value_is_read(tmp_path):
    sheets = good_sheets()
    sheets["Demand"][2][3] = F("250+250", 500)
    data = read_workbook(write_xlsx(tmp_path / "f.xlsx", sheets))
    assert data.demand["quantity"].tolist()[1] == 500


def test_formula_returning_empty_text_is_blank(tmp_path):
    sheets = good_sheets()
    sheets["Items"][1][1] = F('IF(1,"")', "")  # a cached empty string: a real blank
    data = read_workbook(write_xlsx(tmp_path / "f.xlsx", sheets))
    assert data.items["name"].iloc[0] is None


def test_many_formulas_without_values_are_summed_up(tmp_path):
    sheets = good_sheets()
    for row in sheets["Partners"][1:]:
        row[1] = F("A1")
    for k in range(30):
        sheets["Partners"].append([f"P{k}", F("A1"), None, None])
    with pytest.raises(InputError) as info:
        read_workbook(write_xlsx(tmp_path / "f.xlsx", sheets))
    found = [p for p in info.value.problems if "formula" in p.message]
    assert len(found) == 21 and any("and 13 more cells" in p.message for p in found)


def test_prefixed_namespace_is_read_exactly(tmp_path):
    """Sheet XML with a namespace prefix (some producers write <x:c>) goes through the exact
    scan and reads like any other."""
    sheets = good_sheets()
    plain = write_xlsx(tmp_path / "plain.xlsx", sheets)
    import zipfile

    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(prefixed, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = (data.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
                        .replace(b"<", b"<x:").replace(b"<x:/", b"</x:").replace(b"<x:?", b"<?")
                        .replace(b"<x:x:", b"<x:"))
            zout.writestr(info, data)
    assert read_workbook(prefixed).summary() == read_workbook(plain).summary()


def test_row_limit_env(tmp_path, monkeypatch):
    path = big_demand(tmp_path / "rows.xlsx", 150)
    assert len(read_workbook(path).demand) == 150
    monkeypatch.setenv("PROCURE_MAX_ROWS", "100")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    (p,) = info.value.problems
    assert p.sheet == "Demand" and "too large" in p.message and "100 rows" in p.message


def test_cell_limit_constant(tmp_path, monkeypatch):
    path = write_workbook(tmp_path / "ok.xlsx", good_sheets())
    monkeypatch.setattr(io_bounds, "MAX_CELLS", 10)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert {p.sheet for p in info.value.problems} >= {"Partners", "Offers", "Demand"}
    assert all("too large" in p.message for p in info.value.problems)


def test_uncompressed_limit_env(tmp_path, monkeypatch):
    path = write_workbook(tmp_path / "ok.xlsx", good_sheets())
    monkeypatch.setenv("PROCURE_MAX_UNCOMPRESSED_MB", "0.01")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "must be positive" in str(info.value)
    monkeypatch.setenv("PROCURE_MAX_UNCOMPRESSED_MB", "lots")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "PROCURE_MAX_UNCOMPRESSED_MB" in str(info.value)
    monkeypatch.delenv("PROCURE_MAX_UNCOMPRESSED_MB")
    monkeypatch.setattr(io_bounds, "MAX_UNCOMPRESSED_MB", 0)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "too large once uncompressed" in str(info.value)


def test_read_only_file_is_read(tmp_path):
    path = write_workbook(tmp_path / "ro.xlsx", good_sheets())
    os.chmod(path, 0o444)
    before, mtime = sha(path), path.stat().st_mtime_ns
    try:
        read_tables(path)
        read_workbook(path)
    finally:
        os.chmod(path, 0o644)
    assert sha(path) == before and path.stat().st_mtime_ns == mtime


@pytest.mark.skipif(not os.environ.get("PROCURE_BIG_TESTS"),
                    reason="set PROCURE_BIG_TESTS=1 (about a minute and 1.5 GB)")
def test_million_row_demand(tmp_path):
    path = big_demand(tmp_path / "big.xlsx", 1_000_000)
    start = time.perf_counter()
    data = read_workbook(path)
    print(f"\n1,000,000 Demand rows read and validated in {time.perf_counter() - start:.1f} s")
    assert len(data.demand) == 1_000_000


def test_sheet_parts_are_scanned_not_trusted(tmp_path):
    """A sheet listed in workbook.xml whose part is missing is a problem, not a crash."""
    sheets = {k: Sheet(v) for k, v in good_sheets().items()}
    path = write_xlsx(tmp_path / "in.xlsx", sheets)
    import zipfile

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet9.xml":
                zout.writestr(info, zin.read(info.filename))
    with pytest.raises(InputError) as info:
        read_workbook(broken)
    assert any(p.sheet == "Blocs" for p in info.value.problems)
