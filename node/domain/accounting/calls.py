"""Budgets, calls for funds and the reserve-fund minimum (art. 3.86 §3,
DOMAIN §4–§5).

Every amount an owner is asked to pay is derived here from a budget, a
schedule, the registry's quotas or a special key, and the holders' shares —
never typed in by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ...errors import InputError
from ...i18n import _
from ..registry import Ownership, Right
from .allocation import allocate
from .ledger import FiscalYear


class Fund(StrEnum):
    WORKING = "working"  # fonds de roulement: periodic expenses
    RESERVE = "reserve"  # fonds de réserve: non-periodic expenses


class BudgetKind(StrEnum):
    ORDINARY = "ordinary"  # running costs
    EXTRAORDINARY = "extraordinary"  # foreseeable extraordinary costs


class Schedule(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ONCE = "once"


@dataclass(frozen=True)
class Budget:
    """One of the two yearly budgets the syndic presents (art. 3.89 §5, 6°)."""

    year: int
    kind: BudgetKind
    lines: Mapping[str, int]  # account -> cents

    @property
    def total(self) -> int:
        return sum(self.lines.values())


def instalments(
    total: int, schedule: Schedule, year: FiscalYear, once_on: date | None = None
) -> list[tuple[date, int]]:
    """(due date, amount) of each call: equal instalments to the cent (the
    leftover cents go to the first ones), due on the first day of each month
    or quarter of the fiscal year, or once on ``once_on``."""
    if total <= 0:
        raise InputError(_("A call for funds asks for an amount above zero."))
    if schedule is Schedule.ONCE:
        return [(once_on or year.start, total)]
    months = 1 if schedule is Schedule.MONTHLY else 3
    dues = []
    month, y = year.start.month, year.start.year
    for _i in range(12 // months):
        dues.append(date(y, month, 1))
        month += months
        if month > 12:
            month, y = month - 12, y + 1
    parts = allocate(total, {f"{i:02d}": 1 for i in range(len(dues))})
    return [(due, parts[f"{i:02d}"]) for i, due in enumerate(dues)]


@dataclass(frozen=True)
class CallShare:
    """What one holder owes for one lot in one call."""

    lot: str
    person: str
    amount: int  # cents
    lot_amount: int  # the lot's part of the call, before splitting between holders
    weight: int  # the lot's weight in the key
    total_weight: int


def payers(holders: Sequence[Ownership], fund: Fund) -> list[Ownership]:
    """Who pays a call, by right (a default to confirm, DOMAIN: configurable):
    full owners pay everything; for a lot split between usufruct and bare
    ownership, the usufructuary pays the working fund (running costs) and
    the bare owners the reserve fund (works on the substance of the
    building)."""
    dismembered = any(h.right is not Right.FULL for h in holders)
    if not dismembered:
        return list(holders)
    wanted = Right.USUFRUCT if fund is Fund.WORKING else Right.BARE
    return [h for h in holders if h.right in (Right.FULL, wanted)]


STATEMENT_CALL_NUMBER = 99
"""The call number of a charge statement's structured communication (calls
are numbered 1–49 for the working fund and 51–98 for the reserve fund)."""


def statement_payers(
    calls: Mapping[str, Mapping[str, Any]], owners: Iterable[str]
) -> dict[str, int]:
    """The payer index each person's charge statement of a year quotes (with
    :data:`STATEMENT_CALL_NUMBER`): first the payers of the year's
    working-fund calls, which are kept as they were issued, sorted by id,
    then the other owners (a bare owner, a buyer not called yet). The same
    on every device, and a payer's index does not move when an owner sells
    or a person is added (the index used to be the position among the
    registry's current owners, which a sale shifted: a payment quoting a
    statement printed before could have been credited to another owner)."""
    called = sorted(
        {
            share["person"]
            for call in calls.values()
            if call["fund"] == Fund.WORKING.value
            for share in call["shares"]
        }
    )
    rest = sorted(set(owners) - set(called))
    return {person: index + 1 for index, person in enumerate([*called, *rest])}


def split_call(
    amount: int,
    weights: Mapping[str, int],
    holders_by_lot: Mapping[str, Sequence[Ownership]],
    fund: Fund,
) -> list[CallShare]:
    """Divide a call among lots by the key, then each lot's part among the
    holders who pay it, by their shares (both to the cent, see
    :mod:`allocation`). A lot without a paying holder is refused: the
    registry must be fixed first (its problem is listed by validation)."""
    per_lot = allocate(amount, weights)
    total_weight = sum(weights.values())
    shares = []
    for lot, lot_amount in sorted(per_lot.items()):
        if lot_amount == 0:
            continue
        paying = payers(holders_by_lot.get(lot, ()), fund)
        if not paying:
            raise InputError(
                _(
                    "Lot {lot} has no holder who pays this call; complete its ownership first."
                ).format(lot=lot)
            )
        by_person: dict[str, int] = {}
        for holder in paying:
            by_person[holder.person_id] = by_person.get(holder.person_id, 0) + holder.share
        for person, part in sorted(allocate(lot_amount, by_person).items()):
            shares.append(CallShare(lot, person, part, lot_amount, weights[lot], total_weight))
    return shares


# -- the reserve fund -------------------------------------------------------------------


RESERVE_FUND_RATE_PERCENT = 5
"""Art. 3.86 §3: the yearly contribution to the reserve fund is at least
5 % of the previous fiscal year's ordinary common charges."""

RESERVE_FUND_GRACE_YEARS = 5
"""Art. 3.86 §3: the reserve fund must exist at the latest five years after
the provisional acceptance of the common parts."""


def reserve_fund_minimum(previous_ordinary_charges: int) -> int:
    """≥ 5 % of last year's ordinary charges, rounded up to the cent.
    Example (DOMAIN §5): 4,000,000 cents → 200,000 cents."""
    return math.ceil(previous_ordinary_charges * RESERVE_FUND_RATE_PERCENT / 100)


@dataclass(frozen=True)
class ReserveFundCheck:
    minimum: int
    planned: int
    required: bool
    reason: str | None  # "waived" (4/5 decision) or "grace" (within 5 years), when not required

    @property
    def ok(self) -> bool:
        return not self.required or self.planned >= self.minimum


def check_reserve_fund(
    planned: int,
    previous_ordinary_charges: int,
    year_start: date,
    provisional_acceptance: date | None,
    waived_by_assembly: bool = False,
) -> ReserveFundCheck:
    """Whether the planned yearly reserve-fund calls meet the minimum, unless
    the assembly waived it by a 4/5 majority or the building is within five
    years of its provisional acceptance."""
    minimum = reserve_fund_minimum(previous_ordinary_charges)
    if waived_by_assembly:
        return ReserveFundCheck(minimum, planned, False, "waived")
    if provisional_acceptance is not None:
        try:
            grace_end = provisional_acceptance.replace(
                year=provisional_acceptance.year + RESERVE_FUND_GRACE_YEARS
            )
        except ValueError:  # 29 February
            grace_end = date(provisional_acceptance.year + RESERVE_FUND_GRACE_YEARS, 2, 28)
        if year_start < grace_end:
            return ReserveFundCheck(minimum, planned, False, "grace")
    return ReserveFundCheck(minimum, planned, True, None)


# -- ageing -------------------------------------------------------------------------------

AGEING_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, None))
"""Days past due (DOMAIN §9): 0–30, 31–60, 61–90, > 90."""


def ageing(open_items: Sequence[tuple[date, int]], today: date) -> list[int]:
    """Amounts still owed by how late they are: one total per bucket of
    :data:`AGEING_BUCKETS` (not yet due counts in the first)."""
    totals = [0] * len(AGEING_BUCKETS)
    for due, amount in open_items:
        late = max(0, (today - due).days)
        for index, (low, high) in enumerate(AGEING_BUCKETS):
            if late >= low and (high is None or late <= high):
                totals[index] += amount
                break
    return totals


def open_items_by_owner(entries: Sequence) -> dict[str, list[tuple[date, int]]]:
    """What each owner still owes, amount by amount: their payments (credits
    on the owners' accounts 410x) settle the oldest amounts first. One pass
    over the entries, then first-in-first-out per owner. Returns, per
    person, (date due, amount still open) of what is not yet settled."""
    debits: dict[str, list[tuple[date, str, int]]] = {}
    credits: dict[str, int] = {}
    for entry in entries:
        for line in entry.lines:
            if not line.person or not line.account.startswith("410"):
                continue
            if line.debit:
                debits.setdefault(line.person, []).append((entry.date, entry.id, line.debit))
            if line.credit:
                credits[line.person] = credits.get(line.person, 0) + line.credit
    out: dict[str, list[tuple[date, int]]] = {}
    for person in set(debits) | set(credits):
        credit = credits.get(person, 0)
        items = []
        for due, _id, amount in sorted(debits.get(person, ())):
            settled = min(amount, credit)
            credit -= settled
            if amount - settled:
                items.append((due, amount - settled))
        out[person] = items
    return out
