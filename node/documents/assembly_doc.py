"""Mapping between a meeting and its ``assembly/<meeting-id>`` document, and
between one person's remote ballots and ``ballots/<meeting-id>/<person-id>``.

ARCHITECTURE §2 and §8, docs/decisions/0002. The assembly document is the
syndic's: the meeting, the voter roll fixed at the convocation, the agenda,
the attendance, proxies and votes recorded in the room, the convocations
sent and the minutes' distribution. Every record is a map keyed by id, so
two edits of different records never collide; a vote in the room is one
value keyed ``<item>:<owner>``.

Layout of ``assembly/<meeting>``::

    meta        {schema, kind, title, starts, place, language, remote_allowed,
                 remote_terms, remote_until, period_start, second_of,
                 first_date, request (JSON), syndic_person, opened_at,
                 closed_at, chair, secretary, convened_on, distributed_on}
    roll        {lot id: {number, quota, voter}}
    names       {person id: name}
    items       {item id: {order, title, text, category, majority, excluded
                 (JSON person -> reason), voted_at, requested_by,
                 requested_on, deferred, answers, options (JSON)}}
    attendance  {person id: {mode, holder, arrived, left}}
    votes       {"<item>:<owner>": "for" | "against" | "abstain"}
    sent        {person id: {on}}   (the channel is in the registry, decision 0011)
    closings    {closing id: {item, closed_with, supersedes (JSON list)}}   (schema 1.1)

``closings`` keeps every closing of a vote, each naming the closings of
the same item its device knew (``supersedes``): two closings neither of
which knew the other, on different records, are two chairs closing offline
(``Item.closed_twice``); the item's own ``closed_with`` keeps one of them.

Layout of ``ballots/<meeting>/<person>`` (written by that person's
devices, or a kiosk keeping their keys)::

    meta        {schema, meeting, person}
    ballots     {ballot id: {payload (canonical JSON), signer, signature}}

A ballot's payload is ``{"meeting", "person", "votes": {item: answer},
"signed_at"}``; its signature is Ed25519 over ``BALLOT_CONTEXT + payload``
by the signer's key: a device of the person (``signer`` = the device id) or
the person's key kept on a kiosk (``signer`` = ``kiosk:<device id>``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pycrdt
from pycrdt import Map

from ..domain.assembly import Majority, Vote
from ..domain.meeting import Attendance, Item, Mode, RollLot
from .registry_doc import _json, _set_fields

SCHEMA = (1, 1)
ROOTS = ("meta", "roll", "names", "items", "attendance", "votes", "sent", "closings")
BALLOT_SCHEMA = (1, 0)
BALLOT_ROOTS = ("meta", "ballots")
BALLOT_CONTEXT = b"koprogo-ballot-v1\x00"


def root(doc: pycrdt.Doc, name: str) -> Map:
    return doc.get(name, type=Map)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (
            json.dumps(v, separators=(",", ":"), sort_keys=True)
            if isinstance(v, dict | list)
            else v
        )
        for k, v in fields.items()
    }


def set_meta(doc: pycrdt.Doc, **fields: Any) -> None:
    meta = root(doc, "meta")
    if meta.get("schema") != SCHEMA[0]:
        meta["schema"] = SCHEMA[0]
    _set_fields(meta, _clean(fields))


def meta(doc: pycrdt.Doc) -> dict[str, Any]:
    data = _json(root(doc, "meta"))
    if isinstance(data.get("request"), str):
        data["request"] = json.loads(data["request"])
    return data


def put_record(doc: pycrdt.Doc, collection: str, record_id: str, fields: dict[str, Any]) -> None:
    records = root(doc, collection)
    clean = _clean(fields)
    if record_id in records:
        _set_fields(records[record_id], clean)
    else:
        records[record_id] = Map({k: v for k, v in clean.items() if v is not None})


def delete_record(doc: pycrdt.Doc, collection: str, record_id: str) -> bool:
    records = root(doc, collection)
    if record_id in records:
        del records[record_id]
        return True
    return False


def records(doc: pycrdt.Doc, collection: str) -> dict[str, Any]:
    return _json(root(doc, collection))


def set_vote(doc: pycrdt.Doc, item: str, owner: str, vote: Vote | None) -> None:
    votes, key = root(doc, "votes"), f"{item}:{owner}"
    if vote is None:
        if key in votes:
            del votes[key]
    elif votes.get(key) != vote.value:
        votes[key] = vote.value


def _instant(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def read_roll(doc: pycrdt.Doc) -> tuple[RollLot, ...]:
    return tuple(
        RollLot(lot_id, str(f.get("number", "")), int(f.get("quota", 0)), str(f.get("voter", "")))
        for lot_id, f in sorted(records(doc, "roll").items())
    )


def read_items(doc: pycrdt.Doc) -> tuple[Item, ...]:
    twice = _closed_twice(doc)
    items = []
    for item_id, f in records(doc, "items").items():
        items.append(
            Item(
                item_id,
                int(f.get("order", 0)),
                str(f.get("title", "")),
                Majority(f.get("majority", Majority.ABSOLUTE.value)),
                str(f.get("category", "ordinary")),
                str(f.get("text", "")),
                json.loads(f["excluded"]) if f.get("excluded") else {},
                _instant(f.get("voted_at")),
                str(f.get("deferred", "")),
                str(f.get("answers", "")),
                tuple(json.loads(f["options"])) if f.get("options") else (),
                json.loads(f["closed_with"]) if f.get("closed_with") else None,
                item_id in twice,
            )
        )
    return tuple(sorted(items, key=lambda i: (i.order, i.id)))


def closings_of(doc: pycrdt.Doc, item: str) -> dict[str, dict[str, Any]]:
    return {
        closing_id: f for closing_id, f in records(doc, "closings").items() if f.get("item") == item
    }


def _closed_twice(doc: pycrdt.Doc) -> set[str]:
    """Items with two closings neither of which knew the other, on different
    records (the latest closings, those no later closing supersedes)."""
    by_item: dict[str, dict[str, dict[str, Any]]] = {}
    for closing_id, f in records(doc, "closings").items():
        by_item.setdefault(str(f.get("item", "")), {})[closing_id] = f
    twice = set()
    for item, closings in by_item.items():
        superseded = {
            old for f in closings.values() for old in json.loads(f.get("supersedes") or "[]")
        }
        heads = {str(f.get("closed_with", "")) for c, f in closings.items() if c not in superseded}
        if len(heads) > 1:
            twice.add(item)
    return twice


def item_extra(doc: pycrdt.Doc) -> dict[str, dict[str, Any]]:
    """Fields of the agenda items the outcome does not need (who asked, when)."""
    return {
        item_id: {k: f.get(k, "") for k in ("requested_by", "requested_on")}
        for item_id, f in records(doc, "items").items()
    }


def read_attendance(doc: pycrdt.Doc) -> dict[str, Attendance]:
    return {
        person: Attendance(
            person,
            Mode(f.get("mode", Mode.PRESENT.value)),
            str(f.get("holder", "")),
            _instant(f.get("arrived")),
            _instant(f.get("left")),
        )
        for person, f in records(doc, "attendance").items()
    }


def read_votes(doc: pycrdt.Doc) -> dict[tuple[str, str], Vote]:
    out = {}
    for key, value in _json(root(doc, "votes")).items():
        item, _sep, owner = key.partition(":")
        try:
            out[(item, owner)] = Vote(value)
        except ValueError:
            continue  # written by a newer version: not a vote this one knows
    return out


# -- one person's ballots ------------------------------------------------------------


def init_ballots(doc: pycrdt.Doc, meeting: str, person: str) -> None:
    _set_fields(
        root(doc, "meta"), {"schema": BALLOT_SCHEMA[0], "meeting": meeting, "person": person}
    )


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def put_ballot(
    doc: pycrdt.Doc, ballot_id: str, payload: bytes, signer: str, signature: str
) -> None:
    root(doc, "ballots")[ballot_id] = Map(
        {"payload": payload.decode(), "signer": signer, "signature": signature}
    )


def read_ballots(doc: pycrdt.Doc) -> dict[str, dict[str, str]]:
    return records(doc, "ballots")
