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


def add(doc: pycrdt.Doc, item: InboxItem) -> None:
    meta = doc.get("meta", type=Map)
    if meta.get("schema") != SCHEMA[0]:
        meta["schema"] = SCHEMA[0]
    doc.get("items", type=Map)[item.id] = Map(
        {"at": item.at, "kind": item.kind, "title": item.title, "text": item.text}
    )


def read(doc: pycrdt.Doc) -> list[InboxItem]:
    items = _json(doc.get("items", type=Map))
    return sorted(
        (
            InboxItem(
                item_id, f.get("at", ""), f.get("kind", ""), f.get("title", ""), f.get("text", "")
            )
            for item_id, f in items.items()
        ),
        key=lambda item: (item.at, item.id),
    )
