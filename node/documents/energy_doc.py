"""Mapping between a campaign and its ``energy/<campaign>`` document, and
between one person's opt-ins and ``optins/<campaign>/<person>``.

ARCHITECTURE §2 and §7, DOMAIN §11, docs/decisions/0002. The campaign
document is the syndic's and every member reads it: it holds no one's
consumption, only the counts and the k-anonymous figures. The aggregating
key's private half is sealed to each syndic device (``keys``), so owners and
the kiosk cannot open other people's opt-ins.

Layout of ``energy/<campaign>``::

    meta        {schema, name, status, energy_types (JSON), deadline,
                 contract_months, contract_type, created_at, mandate_meeting,
                 mandate_item, final_meeting, final_item, chosen_offer,
                 ended_on, purged_on, aggregator_public (base64)}
    units       {lot id: {number, persons (JSON list)}}  the units that may take part
    keys        {device id: aggregating private key sealed to it (base64)}
    history     {id: {at, from, to}}
    verified    {opt-in id: {person, sha256, at}}
    figures     {energy: {participants, units, total_kwh, average_kwh,
                 median_kwh, at, published}}  amounts only from 5 participants
    offers      {offer id: offer (JSON, shared.energy.Offer)}
    audit       {event id: {event, at, subject, person, detail}}

Layout of ``optins/<campaign>/<person>`` (written by that person's devices,
a kiosk keeping their keys, or the syndic's retention job)::

    meta        {schema, campaign, person}
    optins      {opt-in id: {lot, energy_type, postal_code, period_start,
                 period_end, bill_sha256, ephemeral, sealed (JSON recipient ->
                 base64 nonce(12)||ciphertext), consent (canonical JSON),
                 signer, signature, withdrawn (canonical JSON),
                 withdrawn_signature}}

The consent is Ed25519 over ``CONSENT_CONTEXT + consent`` where the consent
names the campaign, the person, the opt-in, its clear fields and the
SHA-256 of the sealed data; a withdrawal is signed the same way over
``WITHDRAW_CONTEXT + withdrawn``.
"""

from __future__ import annotations

import json
from typing import Any

import pycrdt

from .assembly_doc import _clean, delete_record, put_record, records, root
from .registry_doc import _json, _set_fields

SCHEMA = (1, 0)
ROOTS = ("meta", "units", "keys", "history", "verified", "figures", "offers", "audit")
OPTIN_SCHEMA = (1, 0)
OPTIN_ROOTS = ("meta", "optins")
CONSENT_CONTEXT = b"koprogo-energy-consent-v1\x00"
WITHDRAW_CONTEXT = b"koprogo-energy-withdraw-v1\x00"

__all__ = [
    "CONSENT_CONTEXT",
    "OPTIN_ROOTS",
    "OPTIN_SCHEMA",
    "ROOTS",
    "SCHEMA",
    "WITHDRAW_CONTEXT",
    "canonical",
    "delete_record",
    "init_optins",
    "meta",
    "put_record",
    "records",
    "set_meta",
]


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def set_meta(doc: pycrdt.Doc, **fields: Any) -> None:
    data = root(doc, "meta")
    if data.get("schema") != SCHEMA[0]:
        data["schema"] = SCHEMA[0]
    _set_fields(data, _clean(fields))


def meta(doc: pycrdt.Doc) -> dict[str, Any]:
    data = _json(root(doc, "meta"))
    types = data.get("energy_types")
    data["energy_types"] = json.loads(types) if isinstance(types, str) else []
    return data


def init_optins(doc: pycrdt.Doc, campaign: str, person: str) -> None:
    data = root(doc, "meta")
    if data.get("schema") != OPTIN_SCHEMA[0]:
        data["schema"] = OPTIN_SCHEMA[0]
        data["campaign"] = campaign
        data["person"] = person
