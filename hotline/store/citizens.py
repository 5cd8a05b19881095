"""The citizens' register and the identity checks made against it.

Written by `hotline import-citizens` (whole files, in one transaction) and by the identity
service (one row per check); read by the identity service. Numbers are stored normalised (digits
only) and never leave this module unmasked except to the comparison itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class CitizenRecord:
    full_name: str
    name_key: str
    inn: str | None
    snils: str | None
    phone: str


@dataclass(frozen=True, slots=True)
class StoredCitizen:
    id: int
    name_key: str
    phone: str


async def import_citizens(tx: Tx, records: Iterable[CitizenRecord], *, at: float) -> int:
    """Insert or update by INN, else by SNILS; the number of rows written."""
    rows = [(r.full_name, r.name_key, r.inn, r.snils, r.phone, at) for r in records]
    by_inn = [row for row in rows if row[2] is not None]
    by_snils = [row for row in rows if row[2] is None]
    written = 0
    if by_inn:
        written += await tx.executemany(
            "INSERT INTO citizens (full_name, name_key, inn, snils, phone, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (inn) DO UPDATE SET"
            " full_name = excluded.full_name, name_key = excluded.name_key,"
            " snils = COALESCE(excluded.snils, citizens.snils), phone = excluded.phone,"
            " imported_at = excluded.imported_at",
            by_inn,
        )
    if by_snils:
        written += await tx.executemany(
            "INSERT INTO citizens (full_name, name_key, inn, snils, phone, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (snils) DO UPDATE SET"
            " full_name = excluded.full_name, name_key = excluded.name_key,"
            " phone = excluded.phone, imported_at = excluded.imported_at",
            by_snils,
        )
    return written


async def find_citizen(tx: Tx, *, inn: str | None, snils: str | None) -> StoredCitizen | None:
    column, value = ("inn", inn) if inn is not None else ("snils", snils)
    row = await tx.fetchone(
        f"SELECT id, name_key, phone FROM citizens WHERE {column} = ?", (value,)
    )
    return None if row is None else StoredCitizen(row["id"], row["name_key"], row["phone"])


async def recent_failures(tx: Tx, phone: str, *, since: float) -> int:
    row = await tx.fetchone(
        "SELECT count(*) AS n FROM identity_checks WHERE phone = ? AND at >= ? AND verified = 0",
        (phone, since),
    )
    return int(row["n"]) if row is not None else 0


async def record_check(
    tx: Tx,
    *,
    contact_id: str,
    phone: str | None,
    at: float,
    method: str,
    verified: bool,
    citizen_id: int | None,
) -> None:
    await tx.execute(
        "INSERT INTO identity_checks (contact_id, phone, at, method, verified, citizen_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (contact_id, phone, at, method, int(verified), citizen_id),
    )
