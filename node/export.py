"""Data sovereignty: the current state as a plain SQLite database and CSV files.

ARCHITECTURE §3. ``koprogo-node export --to DIR`` writes ``registry.sqlite``
(one table per record type, made with sqlite-utils) and one CSV file per
table. Unlike the profile, these files are in clear: they are for the user
to keep, open in any SQLite tool or spreadsheet, or take elsewhere.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import sqlite_utils

from .domain.registry import Registry, format_share
from .errors import InputError
from .files import write_refused
from .i18n import _


def registry_tables(registry: Registry) -> dict[str, tuple[list[dict[str, Any]], str]]:
    """table name -> (rows, primary key); readable columns, ids kept for joins."""
    lots = {lot.id: lot for lot in registry.lots}
    persons = {p.id: p for p in registry.persons}
    a = registry.association
    association = (
        [
            {
                "name": a.name,
                "bce_number": a.bce_number,
                "street": a.address.street,
                "postal_code": a.address.postal_code,
                "city": a.address.city,
                "provisional_acceptance": a.provisional_acceptance.isoformat()
                if a.provisional_acceptance
                else None,
                "fiscal_year_start": a.fiscal_year_start,
                "iban": a.iban,
                "reserve_iban": a.reserve_iban,
                "bic": a.bic,
                "quota_total": a.quota_total,
                "syndic_mandate_from": _iso(a.syndic_mandate_from),
                "syndic_mandate_until": _iso(a.syndic_mandate_until),
            }
        ]
        if a
        else []
    )
    return {
        "association": (association, "name"),
        "lots": (
            [
                {
                    "id": x.id,
                    "number": x.number,
                    "type": x.type.value,
                    "floor": x.floor,
                    "quota": x.quota,
                }
                for x in registry.lots
            ],
            "id",
        ),
        "persons": (
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "email": p.email,
                    "phone": p.phone,
                    "street": p.address.street,
                    "postal_code": p.address.postal_code,
                    "city": p.address.city,
                    "language": p.language,
                    "email_consent": p.email_consent,
                }
                for p in registry.persons
            ],
            "id",
        ),
        "ownerships": (
            [
                {
                    "id": o.id,
                    "lot_id": o.lot_id,
                    "lot_number": lots[o.lot_id].number if o.lot_id in lots else None,
                    "person_id": o.person_id,
                    "person_name": persons[o.person_id].name if o.person_id in persons else None,
                    "share_percent": format_share(o.share),
                    "right": o.right.value,
                    "voting": o.voting,
                }
                for o in registry.ownerships
            ],
            "id",
        ),
        "occupants": (
            [
                {
                    "id": o.id,
                    "lot_id": o.lot_id,
                    "person_id": o.person_id,
                    "since": o.since.isoformat() if o.since else None,
                }
                for o in registry.occupants
            ],
            "id",
        ),
        "distribution_keys": (
            [{"id": k.id, "name": k.name, "total_weight": k.total} for k in registry.keys],
            "id",
        ),
        "key_weights": (
            [
                {
                    "key_id": k.id,
                    "lot_id": lot_id,
                    "lot_number": lots[lot_id].number if lot_id in lots else None,
                    "weight": w,
                }
                for k in registry.keys
                for lot_id, w in sorted(k.weights.items())
            ],
            ("key_id", "lot_id"),
        ),
        "council_mandates": (
            [
                {
                    "id": m.id,
                    "person_id": m.person_id,
                    "person_name": persons[m.person_id].name if m.person_id in persons else None,
                    "role": m.role.value,
                    "from": m.start.isoformat(),
                    "until": _iso(m.until),
                    "meeting_id": m.meeting_id or None,
                }
                for m in registry.council
            ],
            "id",
        ),
        "auditors": (
            [
                {
                    "year": x.year,
                    "person_id": x.person_id or None,
                    "name": persons[x.person_id].name if x.person_id in persons else x.name,
                    "owner": x.owner,
                    "meeting_id": x.meeting_id or None,
                }
                for x in registry.auditors
            ],
            "year",
        ),
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def export_registry(registry: Registry, target: Path) -> list[Path]:
    """Write the export into ``target`` (created if needed); returns the files."""
    target = Path(target)
    database = target / "registry.sqlite"
    if database.exists():
        raise InputError(_("{path} already exists; choose an empty folder.").format(path=database))
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        written.append(database)
        db = sqlite_utils.Database(database)
        try:
            for table, (rows, pk) in registry_tables(registry).items():
                if rows:
                    db[table].insert_all(rows, pk=pk)
                csv_path = target / f"{table}.csv"
                with csv_path.open("x", newline="", encoding="utf-8") as handle:  # never the user's
                    written.append(csv_path)
                    if rows:
                        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                        writer.writeheader()
                        writer.writerows(rows)
        finally:
            db.close()
    except (OSError, sqlite3.Error) as exc:  # a full disk, a refused folder: no half export
        for path in written:
            if path.is_file():
                path.unlink()
        raise write_refused(getattr(exc, "filename", None) or target, exc) from None
    return written
