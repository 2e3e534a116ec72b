"""Shared fixtures: a PostgreSQL server for the store tests.

``$PROCURE_TEST_POSTGRES_URL`` names a server to use (CI's ``.ci/run`` starts one); else a
throw-away cluster is started here with Debian's ``initdb`` and ``pg_ctl`` (as the
``postgres`` user when run as root: the server refuses to run as root) on a free loopback
port, and stopped at the end. The PostgreSQL tests skip, saying why, only when neither works.
Each test gets a database of its own in that server, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

ENV = "PROCURE_TEST_POSTGRES_URL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(_driver(url))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 -- any reason is reported
        return str(exc).splitlines()[0]


def _driver(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _start_cluster() -> tuple[str | None, str, callable]:
    """(url, why not, stop) of a throw-away cluster."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [
        int(x) if x.isdigit() else x for x in Path(p).parent.name.split(".")])
    bins = [b for b in bins if os.access(os.path.join(b, "initdb"), os.X_OK)]
    if not bins:
        return None, "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)", None
    bin_dir = bins[-1]
    folder = tempfile.mkdtemp(prefix="procure-pg-")
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return None, "running as root without runuser to start the server as postgres", None
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, PermissionError, OSError) as exc:
            return None, f"cannot hand a folder to the postgres user ({exc})", None
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = os.path.join(folder, "data")
    try:
        subprocess.run([*prefix, f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U",
                        "postgres"], check=True, capture_output=True, timeout=120)
        subprocess.run([*prefix, f"{bin_dir}/pg_ctl", "-D", data, "-l",
                        os.path.join(folder, "log"), "-w", "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"could not start a PostgreSQL cluster: {exc} {detail.decode()[-300:]}", None

    def stop() -> None:
        subprocess.run([*prefix, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", "", stop


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server's maintenance database, or a skip saying why not."""
    given = os.environ.get(ENV, "").strip()
    if given:
        why = _reachable(given)
        if why is not None:
            pytest.skip(f"{ENV}={given} does not answer: {why}")
        yield _driver(given)
        return
    url, why, stop = _start_cluster()
    if url is None:
        pytest.skip(f"no PostgreSQL: {ENV} is not set and {why}")
    try:
        reason = _reachable(url)
        if reason is not None:
            pytest.skip(f"the PostgreSQL cluster started here does not answer: {reason}")
        yield url
    finally:
        stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database in the server, dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"procure_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request) -> str:
    """Each store test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")
