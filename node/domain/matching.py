"""Matching bank movements to the open calls for funds (DOMAIN §8).

"Import must match structured communications to owners' calls, and leave
the rest for manual matching." The rule, pure and deterministic:

- A credit whose structured communication is the reference of exactly one
  open item pays that item, whoever paid it: the reference identifies the
  debt, as on the transfer form (an owner paying with a neighbour's
  reference pays the neighbour's call; the syndic reassigns it by hand if
  that was a mistake, seeing the counterparty on the movement).
- It pays at most what is still due; the rest is an :class:`Overpayment`
  recorded against the same item (a credit for the payer, to refund or
  carry forward), never dropped. Less than due leaves the item partially
  paid, with its remaining amount.
- Everything else is left for the syndic: no structured communication, a
  reference no open item has, a reference that several open items share
  (a data problem, also reported in ``ambiguous_references``), and debits
  (the association paying a supplier quotes the supplier's reference).

Movements are taken in the order given, so two payments of the same call
apply first come, first served; a total detailed by the bank (CODA types 1
and 2 with details) is matched detail by detail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import InputError
from ..i18n import _
from .coda import Movement
from .payments import parse_structured_reference


@dataclass(frozen=True)
class OpenItem:
    """What one person still owes on one call for funds, with the structured
    communication printed on the call. ``amount_due`` is what remains due
    (cents, above zero): a partially paid call comes back with its rest."""

    id: str
    structured_reference: str
    amount_due: int
    person_id: str
    lot_id: str

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "structured_reference", parse_structured_reference(self.structured_reference)
        )
        if not (isinstance(self.amount_due, int) and self.amount_due > 0):
            raise InputError(_("An open call is for a whole number of cents above zero."))


@dataclass(frozen=True)
class Match:
    """``amount`` cents of ``movement`` pay ``item``."""

    movement: Movement
    item: OpenItem
    amount: int


@dataclass(frozen=True)
class Overpayment:
    """``amount`` cents of ``movement`` quote ``item``'s reference but are more
    than it still owed."""

    movement: Movement
    item: OpenItem
    amount: int


@dataclass(frozen=True)
class MatchResult:
    matched: tuple[Match, ...]
    unmatched: tuple[Movement, ...]
    """Left for the syndic to match by hand, in the order given."""
    overpaid: tuple[Overpayment, ...] = ()
    remaining: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Every open item's id → cents still due after these movements."""
    partially_paid: tuple[str, ...] = ()
    """Ids of the items that received a payment and still have something due."""
    ambiguous_references: tuple[str, ...] = ()
    """References that several open items share; their payments are left unmatched."""


def payment_lines(movements: Iterable[Movement]) -> Iterator[Movement]:
    """The movements as individual payments: a total made by the customer or
    by the bank (types 1 and 2) is replaced by its details, and a detail
    that is itself a total (type 7) by its own details (type 9)."""
    for movement in movements:
        if movement.details and movement.transaction_type in "127":
            yield from payment_lines(movement.details)
        else:
            yield movement


def match_payments(movements: Iterable[Movement], items: Iterable[OpenItem]) -> MatchResult:
    """Match ``movements`` (from one or more statements, in order) to the open
    ``items`` by exact structured communication (see the module's rules)."""
    items = tuple(items)
    if len({item.id for item in items}) != len(items):
        raise InputError(_("Each open call is given once."))
    by_reference: dict[str, list[OpenItem]] = defaultdict(list)
    for item in items:
        by_reference[item.structured_reference].append(item)
    remaining = {item.id: item.amount_due for item in items}
    matched: list[Match] = []
    overpaid: list[Overpayment] = []
    unmatched: list[Movement] = []
    for payment in payment_lines(movements):
        reference = payment.structured_reference
        candidates = by_reference.get(reference, []) if reference and payment.amount > 0 else []
        if len(candidates) != 1:
            unmatched.append(payment)
            continue
        item = candidates[0]
        applied = min(payment.amount, remaining[item.id])
        if applied:
            matched.append(Match(payment, item, applied))
            remaining[item.id] -= applied
        if payment.amount > applied:
            overpaid.append(Overpayment(payment, item, payment.amount - applied))
    paid_ids = {m.item.id for m in matched}
    return MatchResult(
        matched=tuple(matched),
        unmatched=tuple(unmatched),
        overpaid=tuple(overpaid),
        remaining=MappingProxyType(remaining),
        partially_paid=tuple(i.id for i in items if i.id in paid_ids and remaining[i.id] > 0),
        ambiguous_references=tuple(
            sorted(r for r, found in by_reference.items() if len(found) > 1)
        ),
    )
