"""The scenario store: saved scenarios, their results and analyses (SQLite or PostgreSQL).

See :func:`open_store` and docs/store.md.
"""

from procure.store.connection import StoreError
from procure.store.records import StoredScenario
from procure.store.store import Store, open_store

__all__ = ["Store", "StoreError", "StoredScenario", "open_store"]
