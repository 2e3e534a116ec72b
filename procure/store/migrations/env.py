"""Alembic environment of the procure store.

The store runs the migrations itself when it is opened (:func:`procure.store.open_store`),
passing its own connection, already inside the transaction that holds the store's write lock
(``config.attributes["connection"]``). For development, ``alembic -c
procure/store/migrations/alembic.ini revision --autogenerate -m "..."`` works against the URL
given with ``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from procure.store.models import Base

try:
    config = context.config
except AttributeError:  # imported outside a migration run (e.g. by doctest collection)
    config = None
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=True, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()


if config is not None:
    if context.is_offline_mode():
        raise SystemExit("the procure store runs its migrations online only")
    run()
