"""`hotline import-citizens FILE`: load the citizens' register from CSV or JSON lines.

Each record has `full_name`, `phone`, and `inn` and/or `snils`. Every record is validated
(checksums, E.164 phone) before anything is written; a bad record stops the import naming its
line and field, and nothing is imported. Numbers never appear in the output, only counts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from hotline.domain.errors import Invalid
from hotline.domain.identity import name_key, validate_inn, validate_snils
from hotline.domain.phones import normalize_phone
from hotline.store.citizens import CitizenRecord

FIELDS = ("full_name", "phone", "inn", "snils")


class CitizenFileError(ValueError):
    """A record that cannot be imported, with where it is."""


def read_citizens(path: Path) -> list[CitizenRecord]:
    rows = _json_lines(path) if path.suffix in (".jsonl", ".ndjson", ".json") else _csv(path)
    records: list[CitizenRecord] = []
    for line, raw in rows:
        try:
            records.append(_record(raw))
        except Invalid as e:
            raise CitizenFileError(f"{path}:{line}: {e.field}: {e.message}") from None
    return records


def _record(raw: dict[str, object]) -> CitizenRecord:
    unknown = set(raw) - set(FIELDS)
    if unknown:
        raise Invalid("unknown field", field=sorted(unknown)[0])
    name = str(raw.get("full_name") or "").strip()
    if not name:
        raise Invalid("a name is required", field="full_name")
    inn_raw, snils_raw = raw.get("inn"), raw.get("snils")
    inn = validate_inn(str(inn_raw)) if inn_raw not in (None, "") else None
    snils = validate_snils(str(snils_raw)) if snils_raw not in (None, "") else None
    if inn is None and snils is None:
        raise Invalid("an INN or a SNILS is required", field="inn")
    phone = normalize_phone(str(raw.get("phone") or ""))
    return CitizenRecord(name, name_key(name), inn, snils, phone)


def _csv(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise CitizenFileError(f"{path}:{number}: not JSON: {e.msg}") from None
            if not isinstance(value, dict):
                raise CitizenFileError(f"{path}:{number}: a record is a JSON object")
            yield number, value
