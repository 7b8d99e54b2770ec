"""Whole-registry checks: readable problems, never silent fixes.

A state merged from several devices can break rules that no single edit
broke (two voting holders, quotas over the total). :func:`validate` lists
every such problem with a stable ``code`` (for scripts and tests) and a
message in the user's language; a person decides how to resolve it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..i18n import N_, _, format_number
from .identifiers import is_valid_bce
from .registry import FULL_SHARE, Registry, Right, format_share

# code -> message template (English msgid, translated when read)
MESSAGES: dict[str, str] = {
    "association_missing": N_("The association's details have not been entered."),
    "bce_invalid": N_("The enterprise number {bce} has wrong check digits."),
    "quota_total_mismatch": N_(
        "The lots' quotas add up to {sum}, but the deed's total is {total} ({difference})."
    ),
    "duplicate_lot_number": N_("Lot number {number} is used by {count} lots."),
    "lot_without_holders": N_("Lot {lot} has no owner."),
    "holder_shares_not_100": N_(
        "The shares of lot {lot}'s holders add up to {sum} % for {right}, not 100 %."
    ),
    "lot_without_voting_holder": N_("Lot {lot} has no holder designated to vote."),
    "several_voting_holders": N_("Lot {lot} has {count} holders designated to vote: {names}."),
    "duplicate_holder": N_("{name} is entered {count} times as {right} holder of lot {lot}."),
    "unknown_lot_reference": N_("One {what} record refers to a lot that no longer exists."),
    "unknown_person_reference": N_("One {what} record of lot {lot} refers to a deleted person."),
    "key_unknown_lot": N_("Distribution key {key} gives a weight to a lot that no longer exists."),
    "key_empty": N_("Distribution key {key} gives no weight to any lot."),
    "record_unreadable": N_("One {what} record could not be read and is ignored ({id})."),
}

_TRANSLATED_PARAMS = frozenset({"right", "what"})

RIGHT_LABELS = {
    Right.FULL.value: N_("full ownership"),
    Right.USUFRUCT.value: N_("usufruct"),
    Right.BARE.value: N_("bare ownership"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the registry, for a person to resolve."""

    code: str
    params: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    subjects: tuple[str, ...] = ()
    """Ids of the records concerned, so a screen can point at them."""

    @property
    def message(self) -> str:
        return _(MESSAGES[self.code]).format(**{k: _render(k, v) for k, v in self.params.items()})

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "subjects": list(self.subjects)}


def _render(name: str, value: Any) -> Any:
    """Parameters as shown to a person: labels translated, numbers written
    the way the reader's language writes them."""
    if name in _TRANSLATED_PARAMS:
        return _(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, signed=name == "difference")
    return value


def _problem(code: str, subjects: tuple[str, ...] = (), **params: Any) -> Problem:
    return Problem(code, MappingProxyType(params), subjects)


def validate(registry: Registry) -> list[Problem]:
    """Every problem of the registry, in a stable order."""
    problems: list[Problem] = []
    problems += _check_association(registry)
    problems += _check_lots(registry)
    problems += _check_ownership(registry)
    problems += _check_keys(registry)
    problems += [
        _problem("record_unreadable", (record_id,), what=collection, id=record_id)
        for collection, record_id in registry.unreadable
    ]
    return problems


def _check_association(registry: Registry) -> list[Problem]:
    association = registry.association
    if association is None:
        return [_problem("association_missing")]
    problems = []
    if association.bce_number and not is_valid_bce(association.bce_number):
        problems.append(_problem("bce_invalid", bce=association.bce_number))
    total = sum(lot.quota for lot in registry.lots)
    if registry.lots and total != association.quota_total:
        problems.append(
            _problem(
                "quota_total_mismatch",
                sum=total,
                total=association.quota_total,
                difference=total - association.quota_total,
            )
        )
    return problems


def _check_lots(registry: Registry) -> list[Problem]:
    by_number = defaultdict(list)
    for lot in registry.lots:
        by_number[lot.number].append(lot.id)
    return [
        _problem("duplicate_lot_number", tuple(ids), number=number, count=len(ids))
        for number, ids in sorted(by_number.items())
        if len(ids) > 1
    ]


def _check_ownership(registry: Registry) -> list[Problem]:
    problems: list[Problem] = []
    lots = {lot.id: lot for lot in registry.lots}
    persons = {p.id: p for p in registry.persons}
    by_lot = defaultdict(list)
    for ownership in registry.ownerships:
        if ownership.lot_id not in lots:
            problems.append(
                _problem("unknown_lot_reference", (ownership.id,), what=N_("ownership"))
            )
        else:
            by_lot[ownership.lot_id].append(ownership)
    for lot in sorted(lots.values(), key=lambda lot: lot.number):
        holders = by_lot.get(lot.id, [])
        if not holders:
            problems.append(_problem("lot_without_holders", (lot.id,), lot=lot.number))
            continue
        for ownership in holders:
            if ownership.person_id not in persons:
                problems.append(
                    _problem(
                        "unknown_person_reference",
                        (ownership.id,),
                        what=N_("ownership"),
                        lot=lot.number,
                    )
                )
        problems += _check_shares(lot.id, lot.number, holders)
        counts = Counter((o.person_id, o.right) for o in holders)
        for (person_id, right), count in sorted(counts.items()):
            if count > 1:
                name = persons[person_id].name if person_id in persons else person_id
                problems.append(
                    _problem(
                        "duplicate_holder",
                        (lot.id, person_id),
                        name=name,
                        count=count,
                        right=RIGHT_LABELS[right],
                        lot=lot.number,
                    )
                )
        voters = sorted({o.person_id for o in holders if o.voting})
        if not voters:
            problems.append(_problem("lot_without_voting_holder", (lot.id,), lot=lot.number))
        elif len(voters) > 1:
            names = ", ".join(persons[p].name if p in persons else p for p in voters)
            problems.append(
                _problem(
                    "several_voting_holders",
                    (lot.id, *voters),
                    lot=lot.number,
                    count=len(voters),
                    names=names,
                )
            )
    for occupant in registry.occupants:
        if occupant.lot_id not in lots:
            problems.append(_problem("unknown_lot_reference", (occupant.id,), what=N_("occupant")))
        elif occupant.person_id not in persons:
            # found by hand: a device offline during an erasure brought back
            # the erased person as an occupant, and nothing said so
            problems.append(
                _problem(
                    "unknown_person_reference",
                    (occupant.id,),
                    what=N_("occupant"),
                    lot=lots[occupant.lot_id].number,
                )
            )
    return problems


def _check_shares(lot_id: str, number: str, holders: list) -> list[Problem]:
    """Full ownership plus usufruct must make 100 %, and full ownership plus
    bare ownership must make 100 % (a lot may be split between an
    usufructuary and bare owners, DOMAIN §1)."""
    totals = {right: 0 for right in Right}
    for ownership in holders:
        totals[ownership.right] += ownership.share
    problems = []
    dismembered = totals[Right.USUFRUCT] or totals[Right.BARE]
    checks = (
        [
            (Right.USUFRUCT, totals[Right.FULL] + totals[Right.USUFRUCT]),
            (Right.BARE, totals[Right.FULL] + totals[Right.BARE]),
        ]
        if dismembered
        else [(Right.FULL, totals[Right.FULL])]
    )
    for right, total in checks:
        if total != FULL_SHARE:
            problems.append(
                _problem(
                    "holder_shares_not_100",
                    (lot_id,),
                    lot=number,
                    sum=format_share(total),
                    right=RIGHT_LABELS[right],
                )
            )
    return problems


def _check_keys(registry: Registry) -> list[Problem]:
    lot_ids = {lot.id for lot in registry.lots}
    problems = []
    for key in sorted(registry.keys, key=lambda k: k.name):
        if any(lot_id not in lot_ids for lot_id in key.weights):
            problems.append(_problem("key_unknown_lot", (key.id,), key=key.name))
        if not any(w > 0 for lot_id, w in key.weights.items() if lot_id in lot_ids):
            problems.append(_problem("key_empty", (key.id,), key=key.name))
    return problems
