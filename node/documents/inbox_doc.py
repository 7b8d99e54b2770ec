"""``inbox/<person>``: what concerns one person only (ARCHITECTURE §2).

Encrypted with that person's key (docs/sync-protocol.md §5.4), so it is
readable by the person's own devices and by management, and by nobody else.
The accounting issue delivers calls for funds and charge statements here;
for now items are messages from the syndic.

Layout::

    meta   {"schema": 1}
    items  {id: {at, kind, title, text}}
"""

from __future__ import annotations

from dataclasses import dataclass

import pycrdt
from pycrdt import Map

from .registry_doc import _json

SCHEMA = (1, 0)
ROOTS = ("meta", "items")


@dataclass(frozen=True)
class InboxItem:
    id: str
    at: str  # UTC ISO-8601
    kind: str
    title: str
    text: str
    data: str = ""  # JSON: what a device needs to show the item (amounts, references)


def add(doc: pycrdt.Doc, item: InboxItem) -> None:
    meta = doc.get("meta", type=Map)
    if meta.get("schema") != SCHEMA[0]:
        meta["schema"] = SCHEMA[0]
    items = doc.get("items", type=Map)
    fields = {
        "at": item.at,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "data": item.data,
    }
    if item.id in items:  # delivered again: keep the record, refresh what changed
        record = items[item.id]
        for name, value in fields.items():
            if record.get(name) != value:
                record[name] = value
    else:
        items[item.id] = Map(fields)


def clear(doc: pycrdt.Doc) -> None:
    items = doc.get("items", type=Map)
    for item_id in list(items.keys()):
        del items[item_id]


def read(doc: pycrdt.Doc) -> list[InboxItem]:
    items = _json(doc.get("items", type=Map))
    return sorted(
        (
            InboxItem(
                item_id,
                f.get("at", ""),
                f.get("kind", ""),
                f.get("title", ""),
                f.get("text", ""),
                f.get("data", ""),
            )
            for item_id, f in items.items()
        ),
        key=lambda item: (item.at, item.id),
    )
