"""``procure.Scenario``: a base workbook and a list of changes (docs/model.md section 6).

The same object comes from a TOML file (:meth:`Scenario.from_toml`), from Python
(``Scenario(base=data, name=..., capacity=[...])``) or from the app's widgets, and every
change has one implementation (:mod:`procure.analysis.scenario.changes`).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from procure.analysis.scenario import changes as ch
from procure.analysis.scenario.keys import (
    CHANGE_KEYS,
    ENTRY_KEYS,
    SOLVER_KEYS,
    TOP_KEYS,
    Key,
    Reporter,
    check_entries,
    check_list,
    check_table,
    check_value,
    nearest,
)
from procure.data.errors import InputError, Problem
from procure.data.tables import ProcureData

#: name of the base workbook in messages and in ``to_toml`` when it was given as data
BASE_FROM_CODE = "base.xlsx"


class Scenario:
    """A what-if question: a base workbook and the changes to make to it.

    >>> import procure
    >>> s = procure.Scenario(base=procure.datasets.load_demo(), name="Japan leaves",
    ...                      remove_partners=["JP"])
    >>> sorted(set(s.apply().demand["partner"]))[:4]
    ['AU', 'DE', 'ES', 'FR']
    >>> print(s.to_toml().splitlines()[2])
    name = "Japan leaves"

    ``base`` is a :class:`ProcureData`, the path of a workbook (relative to ``base_dir``, else
    to the working directory) or a workbook's bytes. The changes are lists of dicts with the
    keys of the TOML tables (``capacity=[{"supplier": "DE_ELB", "factor": 0}]``); nothing is
    checked until :meth:`problems`, :meth:`check`, :meth:`apply` or :meth:`solve`, which
    report every mistake at once (:class:`procure.InputError`).
    """

    def __init__(
        self,
        *,
        name: str = "",
        base: ProcureData | str | os.PathLike | bytes | None = None,
        description: str = "",
        remove_partners: Iterable[str] = (),
        rules_off: Iterable[str] = (),
        capacity: Iterable[Mapping] = (),
        price: Iterable[Mapping] = (),
        demand: Iterable[Mapping] = (),
        rule: Iterable[Mapping] = (),
        add_rule: Iterable[Mapping] = (),
        solver: Mapping | None = None,
        base_dir: str | os.PathLike | None = None,
        source: str | None = None,
        definition: str | None = None,
        base_path: str | None = None,
    ):
        self.name = name
        self.description = description
        self.base = base
        self.remove_partners = _as_list(remove_partners)
        self.rules_off = _as_list(rules_off)
        self.capacity = _as_list(capacity)
        self.price = _as_list(price)
        self.demand = _as_list(demand)
        self.rule = _as_list(rule)
        self.add_rule = _as_list(add_rule)
        self.solver = dict(solver) if isinstance(solver, Mapping) else (solver or {})
        self.base_dir = None if base_dir is None else Path(base_dir)
        #: the base as the file wrote it (``base = "..."``), when there is one
        self.base_path = base_path if base_path is not None else (
            os.fspath(base) if isinstance(base, (str, os.PathLike)) else None)
        #: the file the scenario was read from (messages name it), else None
        self.source = source
        self._definition = definition
        #: keys of the file that are not scenario keys (reported as problems)
        self._unknown: dict[str, Any] = {}
        self._base_cache: tuple[Any, ProcureData | None, bytes | None, list[Problem]] | None = None

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Scenario:
        """Read a scenario file; raises :class:`InputError` naming the file, key and value of
        every mistake (the base workbook is read and every id checked)."""
        path = Path(path)
        rep = Reporter(path.name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            rep.add(None, str(path), "scenario file not found", "check the path and file name")
        except IsADirectoryError:
            rep.add(None, str(path), "is a folder, not a scenario file",
                    "give the path of a .toml file")
        except UnicodeDecodeError:
            rep.add(None, str(path), "is not a text file in UTF-8",
                    "save the scenario as plain UTF-8 text")
        except OSError as exc:
            rep.add(None, str(path), f"cannot be read ({exc.strerror or exc})",
                    "check that you may read the file")
        if rep.problems:
            raise InputError(rep.problems)
        return cls.from_toml_text(text, source=path.name, base_dir=path.resolve().parent)

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "scenario.toml",
                       base: ProcureData | str | os.PathLike | bytes | None = None,
                       base_dir: str | os.PathLike | None = None) -> Scenario:
        """A scenario from TOML text. ``base`` (data, a path or bytes) replaces the file's
        ``base`` key (the store passes the workbook it kept); ``base_dir`` is the folder a
        relative ``base`` is read from. Raises :class:`InputError` on any mistake."""
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError([Problem(source, None, None, None, f"not valid TOML: {exc}",
                                      "correct the syntax there: text in double quotes, one "
                                      "key = value per line, [[capacity]] above each change",
                                      where="file")]) from None
        scenario = cls.from_dict(raw, source=source, base=base, base_dir=base_dir)
        scenario._definition = text
        scenario.check()
        return scenario

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str | None = None,
                  base: ProcureData | str | os.PathLike | bytes | None = None,
                  base_dir: str | os.PathLike | None = None) -> Scenario:
        """A scenario from the keys of a scenario file as a dict (nothing checked yet)."""
        given = {k: raw[k] for k in TOP_KEYS if k in raw}
        path = given.get("base")
        scenario = cls(
            name=given.get("name", ""),
            description=given.get("description", ""),
            base=base if base is not None else path,
            base_path=path if isinstance(path, str) else None,
            **{k: given[k] for k in ("remove_partners", "rules_off", *CHANGE_KEYS, "solver")
               if k in given},
            base_dir=base_dir, source=source,
        )
        scenario._unknown = {k: v for k, v in raw.items() if k not in TOP_KEYS}
        return scenario

    # ------------------------------------------------------------------ the base

    def _where(self) -> tuple[str, str]:
        if self.source:
            return self.source, "file"
        return (self.name if isinstance(self.name, str) and self.name else "scenario"), "scenario"

    def _load_base(self) -> tuple[ProcureData | None, bytes | None, list[Problem]]:
        """The base data and bytes, read once per base given."""
        cached = self._base_cache
        if cached is not None and cached[0] is self.base:
            return cached[1], cached[2], cached[3]
        rep = Reporter(*self._where())
        data = content = None
        base = self.base
        if isinstance(base, ProcureData):
            data = base
        elif isinstance(base, (bytes, bytearray, memoryview)):
            content = bytes(base)
            data = self._read_base(rep, content, self.base_path or BASE_FROM_CODE)
        elif isinstance(base, (str, os.PathLike)):
            path = Path(base)
            if not path.is_absolute():
                path = (self.base_dir or Path.cwd()) / path
            where = f" (relative to {self.base_dir})" if self.base_dir and not Path(
                base).is_absolute() else ""
            if not path.is_file():
                rep.add("base", os.fspath(base),
                        f"the base workbook {path} is not found{where}"
                        if not path.exists() else f"the base {path} is not a file",
                        "give the path of an .xlsx workbook, relative to the scenario file's "
                        "folder (or absolute)")
            else:
                try:
                    content = path.read_bytes()
                except OSError as exc:
                    rep.add("base", os.fspath(base), f"the base workbook {path} cannot be read "
                            f"({exc.strerror or exc})", "check that you may read the file")
                else:
                    data = self._read_base(rep, content, path, path_given=os.fspath(base))
        elif base is None and not self.base_path:
            rep.add("base", None, "is required: the workbook the changes apply to",
                    'add base = "path/to/workbook.xlsx" (relative to the scenario file)')
        elif base is not None:
            rep.add("base", base, "must be the path of a workbook (text)",
                    'write base = "path/to/workbook.xlsx"')
        self._base_cache = (self.base, data, content, rep.problems)
        return data, content, rep.problems

    def _read_base(self, rep: Reporter, content: bytes, path, path_given: str | None = None):
        from procure.data.io import read_workbook
        from procure.data.writer import read_workbook_bytes

        try:
            if isinstance(path, Path):
                data = read_workbook(path)
                if hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(content).digest():
                    rep.add("base", path_given, "the base workbook changed while it was read",
                            "run the scenario again once the workbook is saved")
                    return None
                return data
            return read_workbook_bytes(content, str(path))
        except InputError as exc:
            n = len(exc.problems)
            rep.add("base", path_given or str(path),
                    f"the base workbook has {n} problem{'s' if n != 1 else ''} (listed below)",
                    "correct the workbook, then check the scenario again")
            rep.problems.extend(exc.problems)
            return None

    @property
    def base_data(self) -> ProcureData:
        """The base workbook's validated data (raises :class:`InputError` if it has none)."""
        data, _, problems = self._load_base()
        if data is None:
            raise InputError(problems)
        return data

    @property
    def base_bytes(self) -> bytes:
        """The base workbook as an ``.xlsx`` file: the file's own bytes when it was read from
        one, else written from the data (:func:`procure.data.writer.write_workbook`)."""
        data, content, problems = self._load_base()
        if content is None:
            if data is None:
                raise InputError(problems)
            from procure.data.writer import workbook_bytes

            content = workbook_bytes(data)
            self._base_cache = (self.base, data, content, problems)
        return content

    @property
    def base_sha256(self) -> str:
        return hashlib.sha256(self.base_bytes).hexdigest()

    # ------------------------------------------------------------------ checking, applying

    def problems(self) -> list[Problem]:
        """Every mistake of the scenario (empty when it applies cleanly)."""
        return self._run()[1]

    def check(self) -> Scenario:
        """Raise :class:`InputError` listing every mistake; returns the scenario when none."""
        problems = self.problems()
        if problems:
            raise InputError(problems)
        return self

    def apply(self) -> ProcureData:
        """The base with every change made, in the order of docs/model.md section 6, and validated again; raises
        :class:`InputError` listing every mistake."""
        data, problems = self._run()
        if problems:
            raise InputError(problems)
        return data

    def solve(self, **options) -> Any:
        """:meth:`apply`, then :func:`procure.solve` with the ``[solver]`` options (keyword
        ``options`` override them: ``time_limit``, ``mip_gap``, ``solver``, ``verbose``, ...)."""
        from procure.engine.solve import solve

        data = self.apply()
        chosen = {"solver": self._clean()["solver"].get("solver", "highs")}
        chosen.update(options)
        return solve(data, **chosen)

    def _clean(self) -> dict[str, Any]:
        """The keys checked for shape (not against the base): clean values and problems."""
        rep = Reporter(*self._where())
        for key, value in self._unknown.items():
            near = nearest(str(key), TOP_KEYS)
            rep.add(key, value, "unknown key", (f"did you mean {near!r}? " if near else "")
                    + "the keys are: " + ", ".join(TOP_KEYS))
        name = None
        if self.name in ("", None):
            rep.add("name", None, "is required", 'add name = "..." (unique in a store)')
        else:
            name = check_value(rep, "name", Key("text", help="a name for the scenario"),
                               self.name)
        if self.description not in ("", None):
            check_value(rep, "description", Key("text", help="a description"), self.description)
        clean: dict[str, Any] = {"name": name}
        clean["remove_partners"] = check_list(rep, "remove_partners", self.remove_partners,
                                              "partner ids")
        clean["rules_off"] = check_list(rep, "rules_off", self.rules_off, "rule names")
        for key in CHANGE_KEYS:
            clean[key] = check_entries(rep, key, getattr(self, key))
        solver = self.solver
        clean["solver"] = {}
        if solver or not isinstance(solver, dict):
            got = check_table(rep, "solver", solver, SOLVER_KEYS)
            clean["solver"] = {k: v for k, v in (got or {}).items() if k != "_bad"}
        clean["problems"] = rep.problems
        return clean

    def _run(self) -> tuple[ProcureData | None, list[Problem]]:
        clean = self._clean()
        problems = list(clean["problems"])
        base, _, base_problems = self._load_base()
        problems += base_problems
        if base is None:
            return None, _in_file_order(problems)
        source, where = self._where()
        rep = Reporter(source, where)
        data = self._apply(rep, base, clean)
        problems += rep.problems
        # validated again even after a mistake (the change with it is left out), so that
        # every mistake is found at once
        data, more = self._revalidate(data, Reporter(source, where))
        problems += more
        if problems:
            return None, _in_file_order(problems)
        return data, []

    def _apply(self, rep: Reporter, base: ProcureData, clean: dict[str, Any]) -> ProcureData:
        names = ch.rule_names(base.rules)
        off_rows = []
        for k, name in enumerate(clean["rules_off"], start=1):
            ref = ch.resolve_rule(rep, f"rules_off[{k}]", name, base.rules, names)
            if ref is not None:
                off_rows.append(ref.row)
        data = ch.remove_partners(rep, base, clean["remove_partners"])
        removed_rows = set(base.rules["source_row"]) - set(data.rules["source_row"])
        data = ch.rules_off(data, off_rows)
        for k, entry in enumerate(clean["capacity"], start=1):
            if not entry.get("_bad"):
                data = ch.scale_capacity(rep, f"capacity[{k}]", data, entry)
        for k, entry in enumerate(clean["price"], start=1):
            if not entry.get("_bad"):
                data = ch.scale_price(rep, f"price[{k}]", data, entry)
        for k, entry in enumerate(clean["demand"], start=1):
            if not entry.get("_bad"):
                data = ch.scale_demand(rep, f"demand[{k}]", data, entry,
                                       removed=clean["remove_partners"])
        self._changed_rows: dict[int, str] = {}
        for k, entry in enumerate(clean["rule"], start=1):
            if entry.get("_bad"):
                continue
            key = f"rule[{k}]"
            ref = ch.resolve_rule(rep, f"{key}.name", entry["name"], base.rules, names)
            if ref is None:
                continue
            why = ("is turned off by rules_off" if ref.row in off_rows else
                   "is dropped by remove_partners (its partner leaves)"
                   if ref.row in removed_rows else "is not in the data")
            data, pos = ch.change_rule(rep, key, data, entry, ref, why)
            if pos is not None:
                self._changed_rows[ref.row] = key
        taken = set(base.rules["name"].dropna()) | set(names)
        next_row = int(base.rules["source_row"].max()) + 1 if len(base.rules) else 2
        for k, entry in enumerate(clean["add_rule"], start=1):
            if entry.get("_bad"):
                continue
            key = f"add_rule[{k}]"
            data = ch.add_rule(rep, key, data, entry, next_row, taken)
            self._changed_rows[next_row] = key
            next_row += 1
        settings = dict(data.settings)
        for option in ("time_limit", "mip_gap"):
            if option in clean["solver"]:
                settings[option] = float(clean["solver"][option])
        return data.replace(settings=settings)

    def _revalidate(self, data: ProcureData, rep: Reporter) -> tuple[ProcureData | None, list]:
        from procure.data.validate import validate_tables
        from procure.data.writer import raw_tables

        try:
            return validate_tables(raw_tables(data, source=rep.source)), []
        except InputError as exc:
            out = []
            for p in exc.problems:
                key = self._changed_rows.get(p.row) if p.sheet == "Rules" else None
                if key is not None:
                    out.append(Problem(rep.source, None, f"{key}.{p.column}" if p.column else key,
                                       p.value, p.message, p.fix, where=rep.where))
                else:
                    out.append(Problem(p.sheet, p.row, p.column, p.value,
                                       f"after the changes of {rep.where} {rep.source!r}: "
                                       f"{p.message}", p.fix, where=p.where))
            return None, out

    # ------------------------------------------------------------------ writing

    def to_dict(self) -> dict[str, Any]:
        """The scenario's keys in the order of docs/model.md section 6, as a scenario file holds them (empty ones left
        out; ``base`` is the path as written, or ``base.xlsx`` for a base given as data)."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["base"] = self.base_path or BASE_FROM_CODE
        for key in ("remove_partners", "rules_off"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in CHANGE_KEYS:
            entries = [{k: v for k, v in dict(e).items() if v is not None}
                       if isinstance(e, Mapping) else e for e in getattr(self, key)]
            if entries:
                out[key] = entries
        if self.solver:
            out["solver"] = dict(self.solver)
        return out

    def to_toml(self) -> str:
        """The scenario as a TOML file (``Scenario.from_toml_text`` reads it back)."""
        head = ""
        if not self.base_path:
            head = ("# the base workbook was given as data: the store keeps it; to run this\n"
                    "# file on its own, point base at the workbook\n")
        return head + tomli_w.dumps(_toml_ready(self.to_dict()))

    @property
    def definition(self) -> str:
        """The scenario file as written (``to_toml()`` for a scenario built in code)."""
        return self._definition if self._definition is not None else self.to_toml()

    def changes(self) -> list[str]:
        """One sentence per change, in the order they apply (for listings and the app)."""
        out = []
        if self.remove_partners:
            out.append("partners leave: " + ", ".join(map(str, self.remove_partners)))
        for name in self.rules_off:
            out.append(f"rule off: {name}")
        for key, verb in (("capacity", "capacity"), ("price", "prices"), ("demand", "demand")):
            for e in getattr(self, key):
                if not isinstance(e, Mapping):
                    continue
                scope = ", ".join(f"{k} {e[k]}" for k in ENTRY_KEYS[key]
                                  if k not in ("factor", "round") and e.get(k) is not None)
                out.append(f"{verb} x {e.get('factor')}" + (f" ({scope})" if scope else
                                                             " (everything)"))
        for e in self.rule:
            if isinstance(e, Mapping):
                new = ", ".join(f"{k} {e[k]}" for k in ("share", "quantity") if k in e)
                out.append(f"rule {e.get('name')}: {new}")
        for e in self.add_rule:
            if isinstance(e, Mapping):
                out.append("new rule: " + ", ".join(f"{k} {v}" for k, v in e.items()
                                                     if v is not None))
        return out

    def __repr__(self) -> str:
        return f"<procure.Scenario {self.name!r}: {len(self.changes())} change(s)>"


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """The scenario's own problems in the order of its keys (the order of docs/model.md section 6, then entry number),
    each workbook problem after the one that introduced it (the ``base`` key)."""
    order = {k: n for n, k in enumerate(TOP_KEYS)}

    def key(item):
        pos, p = item
        if p.where == "sheet":
            return (order["base"], 0, pos)
        column = p.column or ""
        root = column.split("[")[0].split(".")[0]
        index = column.split("[")[1].split("]")[0] if "[" in column else "0"
        return (order.get(root, -1), int(index) if index.isdigit() else 0, pos)

    return [p for _, p in sorted(enumerate(problems), key=key)]


def _as_list(value) -> list:
    if isinstance(value, (list, tuple)):
        return [dict(v) if isinstance(v, Mapping) else v for v in value]
    return value  # kept as given: the shape check reports it


def _toml_ready(value):
    if isinstance(value, dict):
        return {k: _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalars from the app's widgets
    return value
