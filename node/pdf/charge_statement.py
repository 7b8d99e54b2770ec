"""The per-owner statement of charges (décompte de charges / afrekening /
Nebenkostenabrechnung) for one fiscal year (DOMAIN §6): for each of the
owner's lots and each distribution key, the year's expenses by account —
the building's total, the lot's weight in the key and the lot's share —
then the calls for funds of the period, what was paid, and the balance
due or in the owner's favour.

Built from :class:`ChargeStatement`, plain frozen values the accounting
fills in. The shares are inputs, not recomputed here: the accounting
apportions each expense (and its rounding cents) and this document shows
the result. Rendered in the owner's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from ..errors import InputError
from ..i18n import LANGUAGES, _, translator
from .fonts import font_set_for, texts_of
from .layout import (
    Column,
    Kit,
    Letterhead,
    Recipient,
    Section,
    Translate,
    render_letter,
    render_letters,
)
from .payment import PaymentDetails, payment_block


def _whole_cents(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ExpenseLine:
    """One account's expenses under one key: the building's total and the
    lot's share of it (``share_cents`` as apportioned by the accounting)."""

    account: str
    label: str
    building_cents: int
    share_cents: int

    def __post_init__(self) -> None:
        if not (_whole_cents(self.building_cents) and _whole_cents(self.share_cents)):
            raise InputError(
                _("The amounts of account {account} must be whole cents.").format(
                    account=self.account
                )
            )


@dataclass(frozen=True)
class KeyCharges:
    """The expenses one distribution key spreads, seen from one lot. An
    empty ``key_name`` is the general key, the quotas of the deed."""

    lot_weight: int
    total_weight: int
    expenses: tuple[ExpenseLine, ...]
    key_name: str = ""

    def __post_init__(self) -> None:
        if not (
            _whole_cents(self.lot_weight)
            and _whole_cents(self.total_weight)
            and 0 <= self.lot_weight <= self.total_weight
            and self.total_weight > 0
        ):
            raise InputError(
                _(
                    "The weight of a lot in key {key} must be a whole number between zero "
                    "and the key's total."
                ).format(key=self.key_name or "—")
            )

    @property
    def share_cents(self) -> int:
        return sum(e.share_cents for e in self.expenses)


@dataclass(frozen=True)
class LotCharges:
    """One lot's charges for the year. ``held_from`` / ``held_until`` are
    set when the owner held the lot for part of the year only (a sale,
    art. 3.94)."""

    lot_number: str
    keys: tuple[KeyCharges, ...]
    held_from: date | None = None
    held_until: date | None = None

    def __post_init__(self) -> None:
        if not self.lot_number.strip():
            raise InputError(_("A lot needs a number."))

    @property
    def share_cents(self) -> int:
        return sum(k.share_cents for k in self.keys)


@dataclass(frozen=True)
class CallPaid:
    """One call for funds of the period (the advances the charges are set
    against), what it asked of this owner and what the owner paid."""

    label: str
    called_cents: int
    paid_cents: int
    due_date: date | None = None

    def __post_init__(self) -> None:
        if not (_whole_cents(self.called_cents) and _whole_cents(self.paid_cents)):
            raise InputError(
                _("The amounts of call {call} must be whole cents.").format(call=self.label)
            )


@dataclass(frozen=True)
class ChargeStatement:
    """One owner's statement of charges for one period.

    The balance is what the owner owed when the period opened
    (``brought_forward_cents``), plus their share of the expenses, minus
    what the owner paid on the period's calls: above zero it is due (by
    ``due_date``, to ``payment`` when given), below zero it is in the
    owner's favour."""

    letterhead: Letterhead
    language: str
    recipient: Recipient
    period_start: date
    period_end: date
    issued_on: date
    lots: tuple[LotCharges, ...]
    calls: tuple[CallPaid, ...] = ()
    payment: PaymentDetails | None = None
    due_date: date | None = None
    period_label: str = ""
    reference: str = ""
    note: str = ""
    brought_forward_cents: int = 0  # owed (> 0) or in the owner's favour (< 0) at the start

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InputError(
                _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES))
            )
        if self.period_end < self.period_start:
            raise InputError(_("The period of the statement ends before it starts."))
        if not self.lots:
            raise InputError(_("A statement of charges needs at least one lot."))
        if self.payment is not None and self.due_date is None:
            raise InputError(_("A statement asking for a payment needs a due date."))

    @property
    def charges_cents(self) -> int:
        return sum(lot.share_cents for lot in self.lots)

    @property
    def called_cents(self) -> int:
        return sum(call.called_cents for call in self.calls)

    @property
    def paid_cents(self) -> int:
        return sum(call.paid_cents for call in self.calls)

    @property
    def balance_cents(self) -> int:
        """Above zero: due by the owner; below zero: in the owner's favour."""
        return self.brought_forward_cents + self.charges_cents - self.paid_cents


def _period(statement: ChargeStatement, kit: Kit) -> str:
    return statement.period_label or kit.period(statement.period_start, statement.period_end)


def _title(statement: ChargeStatement, kit: Kit) -> str:
    _ = kit.gettext
    return _("Statement of charges — {period}").format(period=_period(statement, kit))


def _key_table(key: KeyCharges, kit: Kit) -> Flowable:
    _ = kit.gettext
    columns = (
        Column(_("Account"), 11),
        Column(_("Expense"), 37),
        Column(_("Building total"), 18, "right"),
        Column(_("Weight of the lot"), 18, "right"),
        Column(_("Your share"), 16, "right"),
    )
    weight = kit.weight(key.lot_weight, key.total_weight)
    rows = [
        (e.account, e.label, kit.money(e.building_cents), weight, kit.money(e.share_cents))
        for e in key.expenses
    ]
    building = sum(e.building_cents for e in key.expenses)
    total = (_("Total"), "", kit.money(building), "", kit.money(key.share_cents))
    return kit.table(columns, rows, total)


def _lot_section(lot: LotCharges, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    heading = _("Lot {number}").format(number=lot.lot_number)
    story: list[Flowable] = [kit.para(heading, "heading")]
    if lot.held_from and lot.held_until:
        held = _("Held by you from {start} to {end}.").format(
            start=kit.day(lot.held_from), end=kit.day(lot.held_until)
        )
    elif lot.held_from:
        held = _("Held by you since {start}.").format(start=kit.day(lot.held_from))
    elif lot.held_until:
        held = _("Held by you until {end}.").format(end=kit.day(lot.held_until))
    else:
        held = ""
    if held:
        story.append(kit.para(held, "muted"))
    for key in lot.keys:
        name = key.key_name or _("General quotas")
        line = _("{key} — weight of the lot {weight} ({share})").format(
            key=name,
            weight=kit.weight(key.lot_weight, key.total_weight),
            share=kit.share(key.lot_weight, key.total_weight),
        )
        story += [kit.para(line, "subheading"), _key_table(key, kit)]
    story += [
        Spacer(0, 1.5 * mm),
        kit.para(
            _("Charges of lot {number}: {amount}").format(
                number=lot.lot_number, amount=kit.money(lot.share_cents)
            ),
            "strong",
            align="right",
        ),
    ]
    return story


def _calls_table(statement: ChargeStatement, kit: Kit) -> Flowable:
    _ = kit.gettext
    columns = (
        Column(_("Call for funds"), 33),
        Column(_("Due date"), 15, "right"),
        Column(_("Called"), 17, "right"),
        Column(_("Paid"), 17, "right"),
        Column(_("Outstanding"), 18, "right"),
    )
    rows = [
        (
            call.label,
            kit.short_day(call.due_date) if call.due_date else "",
            kit.money(call.called_cents),
            kit.money(call.paid_cents),
            kit.money(call.called_cents - call.paid_cents),
        )
        for call in statement.calls
    ]
    total = (
        _("Total"),
        "",
        kit.money(statement.called_cents),
        kit.money(statement.paid_cents),
        kit.money(statement.called_cents - statement.paid_cents),
    )
    return kit.table(columns, rows, total)


def _summary(statement: ChargeStatement, kit: Kit) -> Flowable:
    _ = kit.gettext
    balance = statement.balance_cents
    if balance > 0:
        outcome = _("Balance due by you")
    elif balance < 0:
        outcome = _("Balance in your favour")
    else:
        outcome = _("Balance")
    rows = []
    earlier = statement.brought_forward_cents
    if earlier > 0:
        rows.append((_("Due by you from earlier periods"), kit.money(earlier)))
    elif earlier < 0:
        rows.append((_("In your favour from earlier periods"), kit.money(-earlier)))
    rows.append((_("Your share of the expenses"), kit.money(statement.charges_cents)))
    rows.append((_("Paid on the calls for funds of the period"), kit.money(statement.paid_cents)))
    columns = (Column(_("Summary"), 75), Column(_("Amount"), 25, "right"))
    return kit.table(columns, rows, (outcome, kit.money(abs(balance))))


def _story(statement: ChargeStatement, kit: Kit) -> tuple[Flowable, ...]:
    _ = kit.gettext
    story: list[Flowable] = [
        kit.para(_("Dear Sir or Madam,")),
        Spacer(0, 2 * mm),
        kit.para(
            _(
                "Here is the statement of the charges of your lots for {period}: the expenses "
                "of the building, your share of them by distribution key, and the advances you "
                "paid on the calls for funds."
            ).format(period=_period(statement, kit))
        ),
    ]
    for lot in statement.lots:
        story += _lot_section(lot, kit)
    if statement.calls:
        story += [kit.para(_("Calls for funds of the period"), "heading")]
        story.append(_calls_table(statement, kit))
    story += [
        Spacer(0, 2 * mm),
        KeepTogether([kit.para(_("Result"), "heading"), _summary(statement, kit)]),
        Spacer(0, 3 * mm),
    ]
    balance = statement.balance_cents
    if balance > 0 and statement.payment is not None and statement.due_date is not None:
        story += [
            kit.para(
                _(
                    "Please pay {amount} by {date}, quoting the structured communication "
                    "exactly: it lets your payment be matched automatically."
                ).format(amount=kit.money(balance), date=kit.day(statement.due_date))
            ),
            Spacer(0, 2 * mm),
            payment_block(kit, statement.payment, balance, statement.due_date),
        ]
    elif balance < 0:
        story.append(
            kit.para(
                _(
                    "The balance of {amount} in your favour will be refunded to you or set "
                    "against your next call for funds."
                ).format(amount=kit.money(-balance))
            )
        )
    if statement.note:
        story += [Spacer(0, 2 * mm), kit.para(statement.note)]
    story += [
        Spacer(0, 5 * mm),
        kit.para(
            _(
                "Statement drawn up from the accounts of the association (Royal Decree of "
                "12 July 2012). The accounts and their supporting documents can be consulted "
                "with the syndic."
            ),
            "legal",
        ),
    ]
    return tuple(story)


def charge_statement_section(
    statement: ChargeStatement, translate: Translate = translator
) -> Section:
    """The statement as one section of a PDF (see :func:`node.pdf.layout.render`)."""
    kit = Kit(statement.language, translate(statement.language), font_set_for(texts_of(statement)))
    _ = kit.gettext
    details = [
        (
            _("Period"),
            f"{kit.short_day(statement.period_start)} – {kit.short_day(statement.period_end)}",
        ),
        (_("Lots"), kit.lot_list([lot.lot_number for lot in statement.lots])),
    ]
    if statement.reference:
        details.insert(0, (_("Reference"), statement.reference))
    return Section(
        kit=kit,
        title=_title(statement, kit),
        dated=statement.issued_on,
        story=_story(statement, kit),
        recipient=statement.recipient,
        details=tuple(details),
        footer=statement.recipient.name,
    )


def render_charge_statement(statement: ChargeStatement, translate: Translate = translator) -> bytes:
    """One owner's statement of charges as PDF bytes, in the owner's language."""
    return render_letter(statement.letterhead, charge_statement_section(statement, translate))


def render_charge_statements(
    statements: Sequence[ChargeStatement], translate: Translate = translator
) -> bytes:
    """Many owners' statements of one association in one PDF for printing,
    each starting on a new page and numbered on its own."""
    return render_letters(
        [(s.letterhead, charge_statement_section(s, translate)) for s in statements]
    )
