"""Mapping between registry records and the ``registry`` pycrdt document.

Layout (ARCHITECTURE §2): top-level maps hold records keyed by ULID, each
record a nested map of fields so that concurrent edits of different fields
(or different records) merge instead of overwriting each other.

    meta          {"schema": 1}
    association   {name, quota_total, bce_number, street, postal_code, city,
                   country, provisional_acceptance, fiscal_year_start,
                   syndic_mandate_from, syndic_mandate_until}
    lots          {id: {number, type, quota, floor}}
    persons       {id: {name, email, phone, street, postal_code, city, country,
                        language, email_consent}}
    ownerships    {id: {lot_id, person_id, share, right, voting}}
    occupants     {id: {lot_id, person_id, since}}
    keys          {id: {name, weights: {lot_id: weight}}}
    council       {id: {person_id, role, from, until, meeting_id}}      (schema 1.1)
    auditors      {"<fiscal year>": {person_id, name, owner, meeting_id}} (schema 1.1)
    convocations  {"<meeting id>:<person id>": {channel, on}}              (schema 1.2)
    erased        {"<person id>": {on}}                                      (schema 1.3)

Schema 1.1 only added the ``council`` and ``auditors`` maps: a document
without them reads as an empty council and no auditor, and an older node
reads a 1.1 document normally (it ignores maps it does not know).
Schema 1.2 added ``convocations``: how each owner's convocation to a
meeting was sent (e-mail or registered mail). It says who agreed to
e-mail, so it lives here, readable by the management audience only, and
not in the meeting's document, which every owner reads (decision 0011).
Schema 1.3 added ``erased``: the ids (never the names) of the persons
erased, and the day, so that the syndic's devices erase them again when a
device that was offline sends their data back, or a relay restored from a
backup serves it again (decision 0014).

Numbers come back from Yjs as floats; they are turned back into ints here.
A record that cannot be read back is reported, never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pycrdt
from pycrdt import Map

from ..domain.governance import Auditor, CouncilMandate, CouncilRole
from ..domain.registry import (
    Address,
    Association,
    DistributionKey,
    Lot,
    LotType,
    Occupant,
    Ownership,
    Person,
    Registry,
    Right,
)
from ..errors import InputError

SCHEMA = (1, 3)
COLLECTIONS = ("lots", "persons", "ownerships", "occupants", "keys", "council", "auditors")
ROOTS = ("meta", "association", *COLLECTIONS, "convocations", "erased")


def root(doc: pycrdt.Doc, name: str) -> Map:
    return doc.get(name, type=Map)


def init_document(doc: pycrdt.Doc) -> None:
    """Stamp the schema version (idempotent: two devices doing it converge)."""
    meta = root(doc, "meta")
    if meta.get("schema") != SCHEMA[0]:
        meta["schema"] = SCHEMA[0]


# -- reading ------------------------------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def _opt_int(value: Any) -> int | None:
    return None if value in (None, "") else _int(value)


def _opt_date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _address(fields: dict[str, Any]) -> Address:
    return Address(
        street=fields.get("street", ""),
        postal_code=fields.get("postal_code", ""),
        city=fields.get("city", ""),
        country=fields.get("country", "BE"),
    )


def _association(fields: dict[str, Any]) -> Association | None:
    if "name" not in fields:
        return None
    return Association(
        name=fields["name"],
        quota_total=_int(fields["quota_total"]),
        bce_number=fields.get("bce_number", ""),
        address=_address(fields),
        provisional_acceptance=_opt_date(fields.get("provisional_acceptance")),
        fiscal_year_start=fields.get("fiscal_year_start", "01-01"),
        iban=fields.get("iban", ""),
        reserve_iban=fields.get("reserve_iban", ""),
        bic=fields.get("bic", ""),
        syndic_mandate_from=_opt_date(fields.get("syndic_mandate_from")),
        syndic_mandate_until=_opt_date(fields.get("syndic_mandate_until")),
    )


_READERS: dict[str, Callable[[str, dict[str, Any]], Any]] = {
    "lots": lambda id_, f: Lot(
        id_, f["number"], LotType(f["type"]), _int(f["quota"]), _opt_int(f.get("floor"))
    ),
    "persons": lambda id_, f: Person(
        id_,
        f["name"],
        email=f.get("email", ""),
        phone=f.get("phone", ""),
        address=_address(f),
        language=f.get("language", "fr"),
        email_consent=bool(f.get("email_consent", False)),
    ),
    "ownerships": lambda id_, f: Ownership(
        id_, f["lot_id"], f["person_id"], _int(f["share"]), Right(f["right"]), bool(f["voting"])
    ),
    "occupants": lambda id_, f: Occupant(
        id_, f["lot_id"], f["person_id"], _opt_date(f.get("since"))
    ),
    "keys": lambda id_, f: DistributionKey(
        id_, f["name"], {lot: _int(w) for lot, w in (f.get("weights") or {}).items()}
    ),
    "council": lambda id_, f: CouncilMandate(
        id_,
        f["person_id"],
        CouncilRole(f["role"]),
        date.fromisoformat(f["from"]),
        _opt_date(f.get("until")),
        f.get("meeting_id", ""),
    ),
    "auditors": lambda id_, f: Auditor(
        int(id_),
        person_id=f.get("person_id", ""),
        name=f.get("name", ""),
        owner=bool(f.get("owner", False)),
        meeting_id=f.get("meeting_id", ""),
    ),
}


def _json(value: Map) -> Any:
    # str() of a pycrdt map is its JSON, built natively: ~35x faster than
    # Map.to_py() on 1,000 records, and numbers keep their int type.
    return json.loads(str(value))


def _read_record(collection: str, record_id: str, fields: Any) -> Any:
    return _READERS[collection](record_id, fields)


def read_registry(doc: pycrdt.Doc) -> Registry:
    """The registry as frozen domain values, records sorted by id (a full read;
    :class:`RegistryProjection` keeps one up to date incrementally)."""
    return RegistryProjection(doc, subscribe=False).registry()


def _event_path(event: Any) -> list | None:
    try:
        return list(event.path)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyo3 PanicException derives from BaseException
        return None


def _event_keys(event: Any) -> list[str] | None:
    try:
        return list(event.keys)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return None


class RegistryProjection:
    """The registry as domain values, kept up to date from document events.

    ARCHITECTURE §12: projections follow document events rather than
    converting the whole document after every change. A change marks the
    records it touched; the next :meth:`registry` re-reads only those.
    """

    def __init__(self, doc: pycrdt.Doc, subscribe: bool = True) -> None:
        self.doc = doc
        self._records: dict[str, dict[str, Any]] = {name: {} for name in COLLECTIONS}
        self._unreadable: dict[tuple[str, str], None] = {}
        self._dirty: dict[str, set[str]] = {name: set() for name in COLLECTIONS}
        self._association_dirty = True
        self._association: Association | None = None
        self._cached: Registry | None = None
        for name in COLLECTIONS:
            for record_id, fields in _json(root(doc, name)).items():
                self._store(name, record_id, fields)
        self._subscriptions = []
        if subscribe:
            # Subscribed on the native maps: pycrdt's Python wrapper converts every
            # field of every event and panics on events whose target was deleted
            # by a concurrent update; we only need the path.
            for name in COLLECTIONS:
                self._subscriptions.append(
                    root(doc, name).integrated.observe_deep(self._marker(name))
                )
            self._subscriptions.append(
                root(doc, "association").integrated.observe_deep(
                    lambda _events: self._mark_association()
                )
            )

    def _marker(self, collection: str) -> Callable[[list], None]:
        return lambda events: self._mark(collection, events)

    def _mark(self, collection: str, events: list) -> None:
        dirty = self._dirty[collection]
        for event in events:
            path = _event_path(event)
            if path is None:  # unreadable event: re-read the whole collection
                dirty.update(self._records[collection])
                dirty.update(_json(root(self.doc, collection)))
            elif path:
                dirty.add(str(path[0]))
            else:
                keys = _event_keys(event)
                if keys is None:
                    dirty.update(self._records[collection])
                    dirty.update(_json(root(self.doc, collection)))
                else:
                    dirty.update(keys)
        self._cached = None

    def _mark_association(self) -> None:
        self._association_dirty = True
        self._cached = None

    def _store(self, collection: str, record_id: str, fields: Any) -> None:
        self._unreadable.pop((collection, record_id), None)
        try:
            self._records[collection][record_id] = _read_record(collection, record_id, fields)
        except (KeyError, ValueError, TypeError, AttributeError, InputError):
            self._records[collection].pop(record_id, None)
            self._unreadable[(collection, record_id)] = None

    def registry(self) -> Registry:
        if self._cached is not None:
            return self._cached
        for collection, dirty in self._dirty.items():
            records = root(self.doc, collection)
            for record_id in dirty:
                if record_id in records:
                    self._store(collection, record_id, _json(records[record_id]))
                else:
                    self._records[collection].pop(record_id, None)
                    self._unreadable.pop((collection, record_id), None)
            dirty.clear()
        if self._association_dirty:
            self._association_dirty = False
            try:
                self._association = _association(_json(root(self.doc, "association")))
                self._unreadable.pop(("association", "association"), None)
            except (KeyError, ValueError, TypeError, InputError):
                self._association = None
                self._unreadable[("association", "association")] = None
        self._cached = Registry(
            association=self._association,
            unreadable=tuple(sorted(self._unreadable)),
            **{
                name: tuple(records[k] for k in sorted(records))
                for name, records in self._records.items()
            },
        )
        return self._cached


# -- writing (call inside LiveDocument.edit()) ----------------------------------


def _address_fields(address: Address) -> dict[str, Any]:
    return {
        "street": address.street,
        "postal_code": address.postal_code,
        "city": address.city,
        "country": address.country,
    }


def association_fields(a: Association) -> dict[str, Any]:
    return {
        "name": a.name,
        "quota_total": a.quota_total,
        "bce_number": a.bce_number,
        **_address_fields(a.address),
        "provisional_acceptance": a.provisional_acceptance.isoformat()
        if a.provisional_acceptance
        else "",
        "fiscal_year_start": a.fiscal_year_start,
        "iban": a.iban,
        "reserve_iban": a.reserve_iban,
        "bic": a.bic,
        "syndic_mandate_from": _iso(a.syndic_mandate_from),
        "syndic_mandate_until": _iso(a.syndic_mandate_until),
    }


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def lot_fields(lot: Lot) -> dict[str, Any]:
    return {"number": lot.number, "type": lot.type.value, "quota": lot.quota, "floor": lot.floor}


def person_fields(p: Person) -> dict[str, Any]:
    return {
        "name": p.name,
        "email": p.email,
        "phone": p.phone,
        **_address_fields(p.address),
        "language": p.language,
        "email_consent": p.email_consent,
    }


def ownership_fields(o: Ownership) -> dict[str, Any]:
    return {
        "lot_id": o.lot_id,
        "person_id": o.person_id,
        "share": o.share,
        "right": o.right.value,
        "voting": o.voting,
    }


def occupant_fields(o: Occupant) -> dict[str, Any]:
    return {
        "lot_id": o.lot_id,
        "person_id": o.person_id,
        "since": o.since.isoformat() if o.since else "",
    }


def council_fields(m: CouncilMandate) -> dict[str, Any]:
    return {
        "person_id": m.person_id,
        "role": m.role.value,
        "from": m.start.isoformat(),
        "until": _iso(m.until),
        "meeting_id": m.meeting_id,
    }


def auditor_fields(a: Auditor) -> dict[str, Any]:
    return {
        "person_id": a.person_id,
        "name": a.name,
        "owner": a.owner,
        "meeting_id": a.meeting_id,
    }


def auditor_id(year: int) -> str:
    """Auditors are keyed by fiscal year: one appointment per year."""
    return str(year)


def _set_fields(target: Map, fields: dict[str, Any]) -> None:
    """Write only the fields that changed, so a concurrent edit of another
    field of the same record is kept."""
    for name, value in fields.items():
        if value is None:
            if name in target:
                del target[name]
        elif target.get(name) != value:
            target[name] = value


def put_convocation(doc: pycrdt.Doc, meeting: str, person: str, channel: str, on: str) -> None:
    put_record(doc, "convocations", f"{meeting}:{person}", {"channel": channel, "on": on})


def convocations(doc: pycrdt.Doc, meeting: str) -> dict[str, dict[str, str]]:
    """How each owner's convocation to ``meeting`` was sent: person -> {channel, on}."""
    prefix = f"{meeting}:"
    return {
        key[len(prefix) :]: {k: str(v) for k, v in record.to_py().items()}
        for key, record in root(doc, "convocations").items()
        if key.startswith(prefix) and isinstance(record, Map)
    }


def put_erased(doc: pycrdt.Doc, person: str, on: str) -> None:
    if person not in root(doc, "erased"):
        put_record(doc, "erased", person, {"on": on})


def erased(doc: pycrdt.Doc) -> frozenset[str]:
    """The ids of the persons erased from this building (schema 1.3)."""
    return frozenset(root(doc, "erased").keys())


def put_association(doc: pycrdt.Doc, association: Association) -> None:
    _set_fields(root(doc, "association"), association_fields(association))


def put_record(doc: pycrdt.Doc, collection: str, record_id: str, fields: dict[str, Any]) -> None:
    records = root(doc, collection)
    if record_id in records:
        _set_fields(records[record_id], fields)
    else:
        records[record_id] = Map({k: v for k, v in fields.items() if v is not None})


def delete_record(doc: pycrdt.Doc, collection: str, record_id: str) -> None:
    records = root(doc, collection)
    if record_id in records:
        del records[record_id]


def put_key(doc: pycrdt.Doc, key: DistributionKey) -> None:
    keys = root(doc, "keys")
    if key.id not in keys:
        keys[key.id] = Map({"name": key.name, "weights": Map(dict(key.weights))})
        return
    record = keys[key.id]
    _set_fields(record, {"name": key.name})
    if "weights" not in record:
        record["weights"] = Map()
    weights = record["weights"]
    for lot_id in [lot_id for lot_id in weights if lot_id not in key.weights]:
        del weights[lot_id]
    _set_fields(weights, dict(key.weights))
