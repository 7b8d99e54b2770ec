"""Mapping between accounting records and a ``ledger/<fiscal-year>`` document.

ARCHITECTURE §2: the chart in use, journal entries, invoices, budgets,
calls for funds and payments of one fiscal year. Every record is a map keyed
by id. An entry is written once, whole, in one transaction, with its lines
as one JSON value: a merge can never produce half an entry, and an entry is
never edited (corrections are reversals). Entries made from another record
(an invoice, a call, a bank movement) take an id derived from that record,
so two devices posting the same thing write the same key instead of two
entries.

Layout::

    meta        {schema, year, start, end, closed, reserve_waived}
    accounts    {number: {fr, nl, de, en}}          sub-accounts of the building
    entries     {id: {date, journal, reference, description, lines, reverses, source}}
    invoices    {id: {supplier, number, date, due, lines, entry, paid_entry}}
                also a charge matched from the bank (id and entry "match-…", paid
                by its own entry), so that the statements divide it
    weights     {snapshot id: weights}   the key weights invoice lines were split with
    budgets     {"ordinary" | "extraordinary": {lines}}
    calls       {id: {fund, title, due, amount, key, shares, entry}}
    statements  {fingerprint: {account, number, new_date, movements}}   imported CODA
    queue       {id: {statement, sequence, date, amount, reference, communication,
                      counterparty, name, resolved}}   movements to match by hand
    numbers     {entry id: "ACH-2027-0001"}    definitive journal numbers (schema 1.1)
    matchings   {"<queue item>|<device id>": "person:<id>" | "account:<a>" | "invoice:<id>"}
                                              what each device matched a movement to (1.2)
    generated   {"<call id>|<device id>": "<amount>|<due>"}   each device's call (1.2)

Schema 1.1 added ``numbers``: the journal numbers fixed when the year is
closed (before, numbers are provisional: computed by date when read, so an
entry arriving from another device or back-dated renumbers the later
ones). An older node ignores the map and keeps computing numbers.
Schema 1.2 added ``matchings`` and ``generated``: one key per device that
matched a queued movement or generated a call, so that two devices doing
it offline differently both leave their decision (a record made on both
devices keeps one device's version whole), and ``ledger check`` says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pycrdt
from pycrdt import Map

from ..domain.accounting.chart import Account
from ..domain.accounting.ledger import Entry, FiscalYear, Journal, Line
from .registry_doc import _json, _set_fields

SCHEMA = (1, 2)
ROOTS = (
    "meta",
    "accounts",
    "entries",
    "invoices",
    "weights",
    "budgets",
    "calls",
    "statements",
    "queue",
    "numbers",
    "matchings",
    "generated",
)


def root(doc: pycrdt.Doc, name: str) -> Map:
    return doc.get(name, type=Map)


def init_year(doc: pycrdt.Doc, year: FiscalYear) -> None:
    meta = root(doc, "meta")
    wanted = {
        "schema": SCHEMA[0],
        "year": year.label,
        "start": year.start.isoformat(),
        "end": year.end.isoformat(),
    }
    _set_fields(meta, wanted)
    if "closed" not in meta:
        meta["closed"] = False


def read_year(doc: pycrdt.Doc) -> FiscalYear | None:
    meta = _json(root(doc, "meta"))
    if "year" not in meta:
        return None
    return FiscalYear(
        int(meta["year"]),
        date.fromisoformat(meta["start"]),
        date.fromisoformat(meta["end"]),
        bool(meta.get("closed", False)),
    )


def meta(doc: pycrdt.Doc) -> dict[str, Any]:
    return _json(root(doc, "meta"))


def set_meta(doc: pycrdt.Doc, **fields: Any) -> None:
    _set_fields(root(doc, "meta"), fields)


# -- entries ----------------------------------------------------------------------------


def _line_json(line: Line) -> dict[str, Any]:
    data: dict[str, Any] = {"a": line.account}
    if line.debit:
        data["d"] = line.debit
    if line.credit:
        data["c"] = line.credit
    for short, value in (("p", line.person), ("l", line.lot), ("k", line.key), ("t", line.label)):
        if value:
            data[short] = value
    return data


def _line(data: dict[str, Any]) -> Line:
    return Line(
        data["a"],
        debit=int(data.get("d", 0)),
        credit=int(data.get("c", 0)),
        person=data.get("p"),
        lot=data.get("l"),
        key=data.get("k"),
        label=data.get("t", ""),
    )


def put_entry(doc: pycrdt.Doc, entry: Entry) -> bool:
    """Write ``entry`` unless an entry with its id exists (posting the same
    record twice is a no-op); returns whether it was written."""
    entries = root(doc, "entries")
    if entry.id in entries:
        return False
    entries[entry.id] = Map(
        {
            "date": entry.date.isoformat(),
            "journal": entry.journal.value,
            "reference": entry.reference,
            "description": entry.description,
            "lines": json.dumps([_line_json(line) for line in entry.lines], separators=(",", ":")),
            "reverses": entry.reverses or "",
            "source": entry.source or "",
        }
    )
    return True


def read_numbers(doc: pycrdt.Doc) -> dict[str, str]:
    """entry id -> its definitive journal number (given at the closing)."""
    return {k: str(v) for k, v in root(doc, "numbers").items() if isinstance(v, str)}


def put_numbers(doc: pycrdt.Doc, numbers: dict[str, str]) -> None:
    """Fix journal numbers; a number once given never changes."""
    fixed = root(doc, "numbers")
    for entry_id, number in numbers.items():
        if entry_id not in fixed:
            fixed[entry_id] = number


def read_entries(doc: pycrdt.Doc) -> tuple[list[Entry], list[str]]:
    """Entries, and the ids of records that could not be read (reported)."""
    entries, unreadable = [], []
    for entry_id, f in sorted(_json(root(doc, "entries")).items()):
        try:
            entries.append(
                Entry(
                    entry_id,
                    date.fromisoformat(f["date"]),
                    Journal(f["journal"]),
                    f["reference"],
                    f.get("description", ""),
                    tuple(_line(x) for x in json.loads(f["lines"])),
                    f.get("reverses") or None,
                    f.get("source") or None,
                )
            )
        except (KeyError, ValueError, TypeError):
            unreadable.append(entry_id)
    return entries, unreadable


# -- other records -------------------------------------------------------------------------


def put_record(doc: pycrdt.Doc, collection: str, record_id: str, fields: dict[str, Any]) -> None:
    records = root(doc, collection)
    clean = {
        k: (json.dumps(v, separators=(",", ":")) if isinstance(v, dict | list) else v)
        for k, v in fields.items()
        if v is not None
    }
    if record_id in records:
        _set_fields(records[record_id], clean)
    else:
        records[record_id] = Map(clean)


def read_records(
    doc: pycrdt.Doc, collection: str, json_fields: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    out = {}
    for record_id, fields in _json(root(doc, collection)).items():
        for name in json_fields:
            if isinstance(fields.get(name), str):
                fields[name] = json.loads(fields[name])
        out[record_id] = fields
    return out


def put_weights(doc: pycrdt.Doc, weights: dict[str, int]) -> str:
    """Keep the weights a line is split with, once per distinct set (an
    invoice line names the set; 2,000 invoices a year on 500 lots would
    otherwise store a million numbers). Returns the set's id, derived from
    its content, so two devices name the same set the same way."""
    body = json.dumps(dict(sorted(weights.items())), separators=(",", ":"))
    snapshot = hashlib.sha256(body.encode()).hexdigest()[:24]
    store = root(doc, "weights")
    if snapshot not in store:
        store[snapshot] = body
    return snapshot


def read_weights(doc: pycrdt.Doc) -> dict[str, dict[str, int]]:
    return {k: json.loads(v) for k, v in _json(root(doc, "weights")).items()}


def read_accounts(doc: pycrdt.Doc) -> list[Account]:
    return [
        Account(number, labels, custom=True)
        for number, labels in sorted(_json(root(doc, "accounts")).items())
    ]


def put_account(doc: pycrdt.Doc, account: Account) -> None:
    root(doc, "accounts")[account.number] = Map(dict(account.labels))
