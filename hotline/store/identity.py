"""The database's identity: a random id made by its first migration, kept for its life.

Read by whoever must tell this database's files from another's: upload folders carry it in their
owner marker (`hotline.files.claim_folder`), so a sweep never removes another database's files.
"""

from __future__ import annotations

from hotline.store.tx import Tx


async def database_id(tx: Tx) -> str:
    row = await tx.fetchone("SELECT database_id FROM store_identity WHERE id = 1")
    assert row is not None, "migration 0011 made it"
    return str(row[0])
