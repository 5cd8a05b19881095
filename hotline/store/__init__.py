"""The durable store: one SQLite file, owned by one actor, written in group commits.

The only package that imports aiosqlite or trio_asyncio. Others hold a `StoreHandle` and pass it
trio-side `work(tx)` functions; `hotline.store.events` maps router events to rows and back.
"""

from hotline.store.actor import Store, StoreHandle, StoreStatistics, open_store
from hotline.store.errors import (
    CommitFailed,
    FilesUnwritable,
    SchemaTooNew,
    StoreError,
    StoreReadOnly,
    StoreUnavailable,
)
from hotline.store.tx import Tx

__all__ = [
    "CommitFailed",
    "FilesUnwritable",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoreHandle",
    "StoreReadOnly",
    "StoreStatistics",
    "StoreUnavailable",
    "Tx",
    "open_store",
]
