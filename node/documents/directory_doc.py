"""The ``directory`` document: what every member of the building may see of
the registry (ARCHITECTURE §2).

Derived by the syndic's node from the registry and published to the
``building`` audience, so that owners' devices and the kiosk can show who
holds which lot and who votes for it — and nothing else: no e-mail, phone,
postal address, language or consent, no share or right details.

Layout::

    meta      {"schema": 1}
    lots      {lot id: {number, type, quota, voter: person id or ""}}
    persons   {person id: {name}}       (holders of at least one lot only)
    building  {"association": {name, address}}    (schema 1.1)

Schema 1.1 added ``building``: the association's name and the building's
address (public: they are in the BCE/KBO), so that an owner's device and
the shared computer can name the building they belong to. An older node
ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pycrdt
from pycrdt import Map

from ..domain.registry import Registry
from .registry_doc import _json, _set_fields

SCHEMA = (1, 1)
ROOTS = ("meta", "lots", "persons", "building")


def derive(registry: Registry) -> dict[str, dict[str, dict[str, Any]]]:
    """The directory's content for a registry: plain data, no contact details."""
    holders = {o.person_id for o in registry.ownerships}
    lots = {}
    for lot in registry.lots:
        voters = sorted(o.person_id for o in registry.holders(lot.id) if o.voting)
        lots[lot.id] = {
            "number": lot.number,
            "type": lot.type.value,
            "quota": lot.quota,
            "voter": voters[0] if len(voters) == 1 else "",
        }
    persons = {p.id: {"name": p.name} for p in registry.persons if p.id in holders}
    association = registry.association
    building = (
        {"association": {"name": association.name, "address": association.address.one_line()}}
        if association is not None
        else {}
    )
    return {"lots": lots, "persons": persons, "building": building}


def publish(doc: pycrdt.Doc, content: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Make ``doc`` hold ``content``, touching only what differs (call inside
    an edit). Records no longer derived are deleted."""
    meta = doc.get("meta", type=Map)
    if meta.get("schema") != SCHEMA[0]:
        meta["schema"] = SCHEMA[0]
    for name, records in content.items():
        root = doc.get(name, type=Map)
        for record_id in [r for r in root if r not in records]:
            del root[record_id]
        for record_id, fields in records.items():
            if record_id in root:
                _set_fields(root[record_id], fields)
            else:
                root[record_id] = Map(fields)


@dataclass(frozen=True)
class DirectoryLot:
    id: str
    number: str
    type: str
    quota: int
    voter: str  # the voting holder's name, "" when none or disputed


def read(doc: pycrdt.Doc) -> list[DirectoryLot]:
    lots = _json(doc.get("lots", type=Map))
    persons = _json(doc.get("persons", type=Map))
    return sorted(
        (
            DirectoryLot(
                lot_id,
                f.get("number", ""),
                f.get("type", ""),
                int(f.get("quota", 0)),
                persons.get(f.get("voter", ""), {}).get("name", ""),
            )
            for lot_id, f in lots.items()
        ),
        key=lambda lot: lot.number,
    )


def building(doc: pycrdt.Doc) -> tuple[str, str]:
    """The association's name and the building's address ("" until the
    syndic's device publishes them)."""
    fields = _json(doc.get("building", type=Map)).get("association", {})
    return str(fields.get("name", "")), str(fields.get("address", ""))


def person_names(doc: pycrdt.Doc) -> dict[str, str]:
    """Person id → name, for the holders the directory lists."""
    return {pid: f.get("name", "") for pid, f in _json(doc.get("persons", type=Map)).items()}


def differs(doc: pycrdt.Doc, content: dict[str, dict[str, dict[str, Any]]]) -> bool:
    return any(_json(doc.get(name, type=Map)) != records for name, records in content.items())
