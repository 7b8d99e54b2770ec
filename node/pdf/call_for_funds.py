"""The call-for-funds notice (appel de fonds / provisie-oproep /
Vorschussanforderung) sent to one owner (DOMAIN §5, Civil Code art. 3.86
§3): the owner's lots with their weight in the key and their amount, the
total, the due date and how to pay — IBAN, structured communication and
the EPC QR code.

Built from :class:`CallNotice`, a plain frozen value the accounting fills
in; rendered in the owner's language (``notice.language``) whatever the
language of the screens. One notice gives one PDF
(:func:`render_call_notice`); a whole call can be printed as one PDF in
which each notice keeps its own letterhead and page numbers
(:func:`render_call_notices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

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


class Fund(StrEnum):
    """The two funds of an association (art. 3.86 §3)."""

    WORKING = "working"  # fonds de roulement / werkkapitaal
    RESERVE = "reserve"  # fonds de réserve / reservekapitaal


@dataclass(frozen=True)
class NoticeLine:
    """One lot's part of the call: its weight in the distribution key and
    the amount it is called for. An empty ``key_name`` is the general key,
    the quotas of the deed."""

    lot_number: str
    weight: int
    total_weight: int
    amount_cents: int
    key_name: str = ""

    def __post_init__(self) -> None:
        if not self.lot_number.strip():
            raise InputError(_("A lot needs a number."))
        if not (
            isinstance(self.weight, int)
            and isinstance(self.total_weight, int)
            and 0 <= self.weight <= self.total_weight
            and self.total_weight > 0
        ):
            raise InputError(
                _(
                    "The weight of lot {number} must be a whole number between zero "
                    "and the key's total."
                ).format(number=self.lot_number)
            )
        if not isinstance(self.amount_cents, int) or self.amount_cents < 0:
            raise InputError(
                _("The amount of lot {number} must be whole cents, zero or more.").format(
                    number=self.lot_number
                )
            )


@dataclass(frozen=True)
class CallNotice:
    """One owner's notice for one call for funds.

    ``period_label`` names the period in the owner's language when the
    syndic has a name for it ("2e trimestre 2027"); otherwise the period is
    written from its dates. ``call_total_cents`` is the whole call, all
    owners together, shown for information."""

    letterhead: Letterhead
    language: str
    recipient: Recipient
    fund: Fund
    period_start: date
    period_end: date
    issued_on: date
    due_date: date
    lines: tuple[NoticeLine, ...]
    payment: PaymentDetails
    period_label: str = ""
    reference: str = ""
    call_total_cents: int | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InputError(
                _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES))
            )
        if self.period_end < self.period_start:
            raise InputError(_("The period of the call ends before it starts."))
        if not self.lines:
            raise InputError(_("A call for funds needs at least one lot."))
        if self.total_cents <= 0:
            raise InputError(_("A call for funds asks for an amount above zero."))

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def _title(notice: CallNotice, kit: Kit) -> str:
    _ = kit.gettext
    fund = _("working fund") if notice.fund is Fund.WORKING else _("reserve fund")
    period = notice.period_label or kit.period(notice.period_start, notice.period_end)
    return _("Call for funds — {fund} — {period}").format(fund=fund, period=period)


def _lots_table(notice: CallNotice, kit: Kit) -> Flowable:
    _ = kit.gettext
    columns = (
        Column(_("Lot"), 14),
        Column(_("Distribution key"), 34),
        Column(_("Weight"), 20, "right"),
        Column(_("Share"), 14, "right"),
        Column(_("Amount"), 18, "right"),
    )
    rows = [
        (
            line.lot_number,
            line.key_name or _("General quotas"),
            kit.weight(line.weight, line.total_weight),
            kit.share(line.weight, line.total_weight),
            kit.money(line.amount_cents),
        )
        for line in notice.lines
    ]
    total = (_("Total"), "", "", "", kit.money(notice.total_cents))
    return kit.table(columns, rows, total)


def _legal_line(notice: CallNotice, kit: Kit) -> str:
    _ = kit.gettext
    if notice.fund is Fund.WORKING:
        return _(
            "Working fund (Civil Code, art. 3.86 §3): advances for the periodic expenses of the "
            "association, such as heating, common electricity, the caretaker and the syndic's "
            "fees. They are settled against the actual expenses in your yearly statement of "
            "charges."
        )
    return _(
        "Reserve fund (Civil Code, art. 3.86 §3): contributions for non-periodic expenses, such "
        "as the lift, the roof or the boiler. They belong to the association and stay with it "
        "when a lot is sold."
    )


def _story(notice: CallNotice, kit: Kit) -> tuple[Flowable, ...]:
    _ = kit.gettext
    period = notice.period_label or kit.period(notice.period_start, notice.period_end)
    if notice.fund is Fund.WORKING:
        intro = _(
            "In accordance with the budget of the association, we call the advances to the "
            "working fund for {period}. Your share, lot by lot, is set out below."
        )
    else:
        intro = _(
            "As decided by the general assembly, we call the contributions to the reserve fund "
            "for {period}. Your share, lot by lot, is set out below."
        )
    story: list[Flowable] = [
        kit.para(_("Dear Sir or Madam,")),
        Spacer(0, 2 * mm),
        kit.para(intro.format(period=period)),
        Spacer(0, 3 * mm),
        _lots_table(notice, kit),
    ]
    if notice.call_total_cents is not None:
        story += [
            Spacer(0, 1.5 * mm),
            kit.para(
                _("Total of this call for all co-owners: {amount}.").format(
                    amount=kit.money(notice.call_total_cents)
                ),
                "muted",
            ),
        ]
    story += [
        Spacer(0, 3 * mm),
        kit.para(
            _(
                "Please pay {amount} by {date}, quoting the structured communication exactly: "
                "it lets your payment be matched automatically."
            ).format(amount=kit.money(notice.total_cents), date=kit.day(notice.due_date))
        ),
    ]
    if notice.note:
        story += [Spacer(0, 2 * mm), kit.para(notice.note)]
    story += [
        Spacer(0, 2 * mm),
        payment_block(kit, notice.payment, notice.total_cents, notice.due_date),
        Spacer(0, 3 * mm),
        _closing(notice, kit),
        Spacer(0, 5 * mm),
        kit.para(_legal_line(notice, kit), "legal"),
    ]
    return tuple(story)


def _closing(notice: CallNotice, kit: Kit) -> Flowable:
    _ = kit.gettext
    syndic = notice.letterhead.syndic
    signer = syndic.name if syndic else notice.letterhead.association.name
    return KeepTogether(
        [
            kit.para(_("Yours faithfully,")),
            Spacer(0, 2 * mm),
            kit.para(_("For the association, the syndic")),
            kit.para(signer, "strong"),
        ]
    )


def call_notice_section(notice: CallNotice, translate: Translate = translator) -> Section:
    """The notice as one section of a PDF (see :func:`node.pdf.layout.render`)."""
    kit = Kit(notice.language, translate(notice.language), font_set_for(texts_of(notice)))
    _ = kit.gettext
    lots = kit.lot_list([line.lot_number for line in notice.lines])
    details = [(_("Lots"), lots), (_("Due date"), kit.day(notice.due_date))]
    if notice.reference:
        details.insert(0, (_("Reference"), notice.reference))
    return Section(
        kit=kit,
        title=_title(notice, kit),
        dated=notice.issued_on,
        story=_story(notice, kit),
        recipient=notice.recipient,
        details=tuple(details),
        footer=notice.recipient.name,
    )


def render_call_notice(notice: CallNotice, translate: Translate = translator) -> bytes:
    """One owner's notice as PDF bytes, in the owner's language."""
    return render_letter(notice.letterhead, call_notice_section(notice, translate))


def render_call_notices(notices: Sequence[CallNotice], translate: Translate = translator) -> bytes:
    """Many owners' notices of one association in one PDF for printing:
    each notice starts on a new page, in its owner's language, and is
    numbered on its own ("page 1 / 2" of that notice)."""
    return render_letters([(n.letterhead, call_notice_section(n, translate)) for n in notices])
