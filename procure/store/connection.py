"""Where the store lives, how it is opened, and its schema migrations.

* URL: the one given, else ``$PROCURE_STORE``, else a SQLite file ``store.sqlite`` in the
  user's data directory (platformdirs: ``~/.local/share/procure`` on Linux,
  ``~/Library/Application Support/procure`` on macOS, ``%LOCALAPPDATA%\\procure`` on
  Windows). ``postgresql://`` and ``postgres://`` mean PostgreSQL through psycopg 3; a plain
  path means a SQLite file.
* SQLite: write-ahead log (readers never block the writer), a busy timeout (a writer waits
  for another instead of failing), ``synchronous=FULL`` and foreign keys on. pysqlite's own
  transaction handling is switched off and SQLAlchemy's "begin" event emits the ``BEGIN``
  itself, as the SQLAlchemy SQLite dialect documentation describes: ``BEGIN IMMEDIATE`` for
  writes (the write lock is taken at the start, so two writers queue instead of one failing
  half way), a plain ``BEGIN`` for reads.
* Migrations: Alembic, shipped in ``procure/store/migrations``, run when the store is opened,
  under the write lock (SQLite) or a transaction-level advisory lock (PostgreSQL), so that two
  processes opening a new store at once create it once.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

ENV_VAR = "PROCURE_STORE"
DEFAULT_FILE = "store.sqlite"
#: seconds a SQLite writer waits for another writer before giving up
BUSY_TIMEOUT = 60.0
#: PostgreSQL advisory lock key taken while migrating ("procure" in ASCII)
_PG_LOCK = 0x70726F637572
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: execution option that makes a SQLite transaction take the write lock at its start
WRITE_OPTION = "procure_write"


class StoreError(ValueError):
    """A store that cannot be opened, or a request it cannot meet (an unknown name, a name
    that exists without ``replace``)."""


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("procure", appauthor=False) / DEFAULT_FILE


def resolve_url(url: str | URL | None = None) -> URL:
    """The store's URL: ``url``, else ``$PROCURE_STORE``, else the default SQLite file."""
    if url is None or (isinstance(url, str) and not url.strip()):
        url = os.environ.get(ENV_VAR, "").strip() or None
    if url is None:
        path = default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite+pysqlite", database=str(path))
    if isinstance(url, URL):
        return url
    text_url = url.strip()
    if "://" not in text_url:  # a file path
        path = Path(text_url).expanduser()
        return URL.create("sqlite+pysqlite", database=str(path.resolve()))
    for prefix in ("postgres://", "postgresql://"):
        if text_url.startswith(prefix):
            text_url = "postgresql+psycopg://" + text_url[len(prefix):]
    try:
        return make_url(text_url)
    except ArgumentError as exc:
        raise StoreError(f"not a store URL: {url!r} ({exc}); give a SQLAlchemy URL such as "
                         "sqlite:///path/store.sqlite or postgresql://user@host/db") from None


def shown(url: URL) -> str:
    """The URL as messages show it: password hidden, no driver name
    (``sqlite:////home/me/.local/share/procure/store.sqlite``, ``postgresql://me@host/db``)."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use the store {shown(url)}: {exc}") from None


def _sqlite_engine(url: URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory:
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreError(f"cannot open the store {shown(url)}: folder {folder} does not "
                             "exist")
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT},
                           **({"poolclass": StaticPool} if memory else {}))

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # noqa: ANN001 -- DB-API objects
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        if not memory:
            _set_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(cursor) -> None:  # noqa: ANN001 -- a DB-API cursor
    """Put the file in write-ahead-log mode (a setting kept in the file, so only its first
    opener changes it). Two processes opening a new file at once may both try to change the
    mode; SQLite then answers "database is locked" at once to one of them (it does not wait,
    the busy handler could deadlock), so the change is retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if not locked(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def locked(exc: BaseException) -> bool:
    text_ = str(exc).lower()
    return "locked" in text_ or "busy" in text_


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision (creating it in an empty database); returns
    the revision now recorded (Alembic's ``alembic_version`` table)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    known = {rev.revision for rev in script.walk_revisions()}
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    if current == head:
        return current
    if current is not None and current not in known:
        raise StoreError(f"the store's schema (revision {current}) is newer than this procure "
                         f"knows (newest {head}): upgrade procure to open it")
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with writer.connect() as conn:
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        current = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return current


def connect_error(url: URL, exc: DBAPIError) -> StoreError:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
    return StoreError(f"cannot open the store {shown(url)}: {reason}")
