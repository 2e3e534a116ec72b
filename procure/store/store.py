"""The scenario store: saved scenarios, their results and analyses, on SQLite or PostgreSQL.

A save is one transaction: the base workbook (stored once per sha256), the scenario row with
its definition, summary, statistics and timings, and every result table. Saving a name that
exists is refused unless ``replace=True``; then the new save becomes the next version and the
old ones stay, readable by version. Nothing is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from procure.store.compare import TABLES as COMPARED_TABLES
from procure.store.compare import Comparison, compare_stored
from procure.store.connection import (
    BUSY_TIMEOUT,
    WRITE_OPTION,
    StoreError,
    connect_error,
    locked,
    make_engine,
    migrate,
    resolve_url,
    shown,
)
from procure.store.frames import decode_frame, encode_frame
from procure.store.models import (
    NAME_LENGTH,
    Analysis,
    AnalysisTable,
    ResultTable,
    ScenarioVersion,
    Workbook,
)
from procure.store.records import (
    StoredScenario,
    json_safe,
    result_fields,
    result_tables,
)

if TYPE_CHECKING:  # pragma: no cover
    from procure.analysis.scenario import Scenario
    from procure.engine.results import Result

#: attempts of a save that lost a race for its version number (PostgreSQL)
_ATTEMPTS = 8
#: the newest version of each name, in the order of :meth:`Store.list`
LIST_COLUMNS = ["name", "version", "saved_at", "author", "status", "total_cost", "currency",
                "description"]


def _guarded(method):
    """A database failure (server gone, disk full, file locked past the busy timeout) as a
    :class:`StoreError` naming the store, never a driver traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except IntegrityError:
            raise
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()
            raise StoreError(f"the store {self.url_text} failed: "
                             f"{reason[0] if reason else type(exc).__name__}") from exc

    return wrapper


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were saved in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Store:
    """Saved scenarios and analyses (see :func:`open_store`)."""

    def __init__(self, url: URL):
        self.url = url
        self.url_text = shown(url)
        self.engine = make_engine(url)
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self.schema_version = migrate(self.engine)
                break
            except DBAPIError as exc:
                # SQLite answers "locked" at once, without waiting, where waiting could
                # deadlock (two new openers upgrading a read to a write): try again
                if self.engine.dialect.name == "sqlite" and locked(exc) and time.monotonic() < deadline:
                    self.engine.dispose()
                    time.sleep(0.05)
                    continue
                self.engine.dispose()
                raise connect_error(url, exc) from None

    # ------------------------------------------------------------------ plumbing

    def _read(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _write(self) -> Session:
        return Session(self._writer, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<procure.store.Store {self.url_text} (schema {self.schema_version})>"

    def _insert_workbook(self, session: Session, content: bytes, sha: str) -> int:
        values = {"sha256": sha, "size": len(content), "content": content,
                  "created_at": _now()}
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        if self.engine.dialect.name in ("postgresql", "sqlite"):
            session.execute(insert(Workbook).values(**values)
                            .on_conflict_do_nothing(index_elements=["sha256"]))
        elif session.scalar(select(Workbook.id).where(Workbook.sha256 == sha)) is None:
            session.add(Workbook(**values))
            session.flush()
        return session.scalar(select(Workbook.id).where(Workbook.sha256 == sha))

    # ------------------------------------------------------------------ scenarios

    @_guarded
    def save(self, scenario: Scenario, result: Result, *, author: str = "",
             replace: bool = False) -> int:
        """Keep ``scenario`` (its definition and base workbook) and ``result`` (summary,
        statistics, every table), in one transaction; returns the version saved (1 for a new
        name). A name that exists is refused unless ``replace``: then this save is the next
        version and the earlier ones are kept."""
        name = scenario.name
        _check_name(name)
        start = time.perf_counter()
        content = scenario.base_bytes
        sha = hashlib.sha256(content).hexdigest()
        encoded = [(table_name, len(frame), *encode_frame(frame))
                   for table_name, frame in result_tables(result).items()]
        summary = json_safe(result.summary())
        stats = json_safe({k: summary.get(k) for k in ("solver", "is_mip", "mip_gap",
                                                      "best_bound", "solve_seconds",
                                                      "build_seconds", "model_size")})
        stats["result"] = result_fields(result)
        stats["encode_seconds"] = round(time.perf_counter() - start, 4)
        row = {"name": name, "description": str(scenario.description or ""),
               "definition": scenario.definition, "author": str(author or ""),
               "status": summary["status"], "total_cost": summary.get("total_cost"),
               "currency": str(summary.get("currency") or "EUR"), "summary": summary,
               "stats": stats, "warnings": [str(w) for w in result.warnings]}
        def write(session: Session) -> int:
            latest = session.scalar(select(func.max(ScenarioVersion.version))
                                    .where(ScenarioVersion.name == name))
            if latest is not None and not replace:
                raise StoreError(
                    f"the store already has a scenario named {name!r} (version {latest}); "
                    "save with replace=True (--replace) to keep it as an earlier version and "
                    f"save this one as version {latest + 1}")
            version = (latest or 0) + 1
            workbook_id = self._insert_workbook(session, content, sha)
            saved = ScenarioVersion(version=version, workbook_id=workbook_id, saved_at=_now(),
                                    **row)
            saved.tables = [ResultTable(name=t, rows=n, format=f, content=c)
                            for t, n, f, c in encoded]
            session.add(saved)
            return version

        return self._transaction(write)

    def _transaction(self, write) -> int:
        """``write(session)`` in one write transaction, tried again when it lost a race for a
        unique key (another process took the same version number, or stored the same workbook,
        at the same moment): the transaction rolled back whole, so it simply runs again."""
        for attempt in range(_ATTEMPTS):
            try:
                with self._write() as session, session.begin():
                    return write(session)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _version_row(self, session: Session, name: str, version: int | None) -> ScenarioVersion:
        query = select(ScenarioVersion).where(ScenarioVersion.name == name)
        if version is None:
            query = query.order_by(ScenarioVersion.version.desc()).limit(1)
        else:
            query = query.where(ScenarioVersion.version == version)
        found = session.scalar(query)
        if found is None:
            raise StoreError(self._unknown(session, name, version))
        return found

    def _unknown(self, session: Session, name: str, version: int | None) -> str:
        names = session.scalars(select(ScenarioVersion.name).distinct()).all()
        if name in names and version is not None:
            versions = session.scalars(select(ScenarioVersion.version)
                                       .where(ScenarioVersion.name == name)).all()
            return (f"scenario {name!r} has no version {version} (versions: "
                    + ", ".join(map(str, sorted(versions))) + ")")
        from procure.analysis.scenario.keys import suggest

        return (f"the store {self.url_text} has no scenario named {name!r}; "
                + suggest(name, names, "scenarios") if names else
                f"the store {self.url_text} has no scenarios yet (save one with "
                "'procure scenario run FILE --save')")

    @_guarded
    def load(self, name: str, version: int | None = None) -> StoredScenario:
        """A saved scenario: the newest version, or ``version``."""
        with self._read() as session:
            row = self._version_row(session, name, version)
            versions = session.scalars(select(ScenarioVersion.version)
                                       .where(ScenarioVersion.name == name)
                                       .order_by(ScenarioVersion.version)).all()
            tables = {t.name: decode_frame(t.format, t.content) for t in row.tables}
            return StoredScenario(
                name=row.name, version=row.version, description=row.description,
                author=row.author, saved_at=_aware(row.saved_at), definition=row.definition,
                sha256=row.workbook.sha256, base_bytes=row.workbook.content,
                summary=row.summary, stats=row.stats, warnings=list(row.warnings),
                tables=tables, versions=list(versions))

    @_guarded
    def summaries(self, names: list[str] | None = None,
                  tables: tuple[str, ...] = ()) -> list[StoredScenario]:
        """The newest version of each name (all, or ``names`` in that order), with only the
        result tables named in ``tables`` decoded (what a comparison needs) and without the
        base workbook (``base_bytes`` empty: use :meth:`load` for a scenario to re-run)."""
        with self._read() as session:
            out = []
            for name in names if names is not None else list(self.list()["name"]):
                row = self._version_row(session, name, None)
                chosen = session.scalars(select(ResultTable).where(
                    ResultTable.scenario_id == row.id, ResultTable.name.in_(tables))).all()
                out.append(StoredScenario(
                    name=row.name, version=row.version, description=row.description,
                    author=row.author, saved_at=_aware(row.saved_at), definition=row.definition,
                    sha256="", base_bytes=b"", summary=row.summary, stats=row.stats,
                    warnings=list(row.warnings),
                    tables={t.name: decode_frame(t.format, t.content) for t in chosen},
                    versions=[row.version]))
            return out

    @_guarded
    def list(self) -> pd.DataFrame:
        """The newest version of each saved scenario, newest save first."""
        newest = (select(ScenarioVersion.name, func.max(ScenarioVersion.version).label("v"))
                  .group_by(ScenarioVersion.name).subquery())
        query = (select(ScenarioVersion.name, ScenarioVersion.version, ScenarioVersion.saved_at,
                        ScenarioVersion.author, ScenarioVersion.status,
                        ScenarioVersion.total_cost, ScenarioVersion.currency,
                        ScenarioVersion.description)
                 .join(newest, (ScenarioVersion.name == newest.c.name)
                       & (ScenarioVersion.version == newest.c.v))
                 .order_by(ScenarioVersion.saved_at.desc(), ScenarioVersion.name))
        with self._read() as session:
            rows = session.execute(query).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=LIST_COLUMNS)
        frame["saved_at"] = pd.to_datetime([_aware(t) for t in frame["saved_at"]], utc=True)
        frame["version"] = frame["version"].astype("int64")
        frame["total_cost"] = frame["total_cost"].astype("float64")
        return frame

    @_guarded
    def versions(self, name: str) -> pd.DataFrame:
        """Every saved version of ``name``, oldest first."""
        with self._read() as session:
            rows = session.execute(
                select(ScenarioVersion.version, ScenarioVersion.saved_at, ScenarioVersion.author,
                       ScenarioVersion.status, ScenarioVersion.total_cost)
                .where(ScenarioVersion.name == name).order_by(ScenarioVersion.version)).all()
            if not rows:
                raise StoreError(self._unknown(session, name, None))
        frame = pd.DataFrame([tuple(r) for r in rows],
                             columns=["version", "saved_at", "author", "status", "total_cost"])
        frame["saved_at"] = pd.to_datetime([_aware(t) for t in frame["saved_at"]], utc=True)
        return frame

    @_guarded
    def delete(self, name: str, version: int | None = None) -> int:
        """Delete every version of ``name`` (or one ``version``) with its tables, and, when the
        name is gone, its analyses; workbooks no scenario uses any more go too. Returns the
        number of versions deleted."""
        with self._write() as session, session.begin():
            query = select(ScenarioVersion).where(ScenarioVersion.name == name)
            if version is not None:
                query = query.where(ScenarioVersion.version == version)
            rows = session.scalars(query).all()
            if not rows:
                raise StoreError(self._unknown(session, name, version))
            for row in rows:
                session.delete(row)
            session.flush()
            left = session.scalar(select(func.count()).select_from(ScenarioVersion)
                                  .where(ScenarioVersion.name == name))
            if not left:
                session.execute(delete(Analysis).where(Analysis.scenario_name == name))
            used = select(ScenarioVersion.workbook_id).distinct()
            session.execute(delete(Workbook).where(Workbook.id.not_in(used)))
            return len(rows)

    def compare(self, baseline: str, names: list[str] | tuple[str, ...] = ()) -> Comparison:
        """Compare saved scenarios with ``baseline`` (see :class:`procure.store.Comparison`)."""
        order = list(dict.fromkeys([baseline, *names]))
        return compare_stored(self.summaries(order, tables=COMPARED_TABLES))

    # ------------------------------------------------------------------ analyses

    @_guarded
    def save_analysis(self, scenario_name: str, kind: str, summary: Mapping[str, Any],
                      tables: Mapping[str, pd.DataFrame] | None = None, *,
                      author: str = "") -> int:
        """Keep an analysis of a scenario (``kind``: e.g. ``"fair_shares"``,
        ``"rule_costs"``, ``"stress_test"``): a JSON-ready summary and its tables. Each save
        is a new version; returns it."""
        _check_name(scenario_name)
        _check_name(kind, "kind")
        encoded = [(str(n), len(f), *encode_frame(f)) for n, f in (tables or {}).items()]
        summary = json_safe(dict(summary))
        def write(session: Session) -> int:
            latest = session.scalar(select(func.max(Analysis.version)).where(
                Analysis.scenario_name == scenario_name, Analysis.kind == kind))
            of = session.scalar(select(func.max(ScenarioVersion.version))
                                .where(ScenarioVersion.name == scenario_name))
            version = (latest or 0) + 1
            row = Analysis(scenario_name=scenario_name, kind=kind, version=version,
                           scenario_version=of, author=str(author or ""), saved_at=_now(),
                           summary=summary)
            row.tables = [AnalysisTable(name=t, rows=n, format=f, content=c)
                          for t, n, f, c in encoded]
            session.add(row)
            return version

        return self._transaction(write)

    @_guarded
    def load_analysis(self, scenario_name: str, kind: str, version: int | None = None
                      ) -> tuple[dict[str, Any], dict[str, pd.DataFrame]] | None:
        """``(summary, tables)`` of the newest analysis of that kind (or ``version``), else
        None."""
        query = select(Analysis).where(Analysis.scenario_name == scenario_name,
                                       Analysis.kind == kind)
        query = (query.where(Analysis.version == version) if version is not None
                 else query.order_by(Analysis.version.desc()).limit(1))
        with self._read() as session:
            row = session.scalar(query)
            if row is None:
                return None
            return dict(row.summary), {t.name: decode_frame(t.format, t.content)
                                       for t in row.tables}

    @_guarded
    def analyses(self, scenario_name: str | None = None) -> pd.DataFrame:
        """The analyses kept (newest version of each scenario name and kind)."""
        query = select(Analysis.scenario_name, Analysis.kind, Analysis.version,
                       Analysis.scenario_version, Analysis.saved_at, Analysis.author)
        if scenario_name is not None:
            query = query.where(Analysis.scenario_name == scenario_name)
        with self._read() as session:
            rows = session.execute(query.order_by(Analysis.scenario_name, Analysis.kind,
                                                  Analysis.version)).all()
        frame = pd.DataFrame([tuple(r) for r in rows],
                             columns=["scenario", "kind", "version", "scenario_version",
                                      "saved_at", "author"])
        frame["saved_at"] = pd.to_datetime([_aware(t) for t in frame["saved_at"]], utc=True)
        return frame.drop_duplicates(["scenario", "kind"], keep="last").reset_index(drop=True)


def _check_name(name: Any, what: str = "scenario name") -> None:
    if not isinstance(name, str) or not name.strip():
        raise StoreError(f"a {what} must be non-empty text, not {name!r}")
    if len(name) > NAME_LENGTH:
        raise StoreError(f"a {what} has at most {NAME_LENGTH} characters ({len(name)} given)")


def open_store(url: str | URL | None = None) -> Store:
    """Open (creating or upgrading it) the store at ``url``, else ``$PROCURE_STORE``, else a
    SQLite file in the user's data directory. Any SQLAlchemy URL: ``sqlite:///store.sqlite``,
    ``postgresql://user@host/db`` (psycopg 3), or a plain file path (SQLite).

    >>> import procure
    >>> from procure.store import open_store
    >>> store = open_store("sqlite://")                 # in memory, for this example
    >>> s = procure.Scenario(base=procure.datasets.load_demo(), name="Japan leaves",
    ...                      remove_partners=["JP"])
    >>> store.save(s, s.solve(), author="analyst")
    1
    >>> list(store.list()["name"])
    ['Japan leaves']
    """
    return Store(resolve_url(url))
