"""The payment block shared by calls for funds and charge statements:
amount, due date, beneficiary, IBAN, BIC, the structured communication in
large type and the EPC QR code (DOMAIN §8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer
from stdnum import bic as _bic
from stdnum.exceptions import ValidationError

from ..domain import payments
from ..errors import InputError
from ..i18n import _
from . import formats
from .epc_qr import QR_SIZE, CreditTransfer, EpcQrCode, epc_payload
from .layout import INK, TEXT_WIDTH, Kit


@dataclass(frozen=True)
class PaymentDetails:
    """Where and how an owner pays: the association's account and the
    structured communication that lets the bank import match the payment
    to this owner's call (DOMAIN §8). An unknown Belgian bank code is no
    reason to refuse (see :func:`node.domain.payments.check_iban`)."""

    iban: str
    beneficiary: str
    structured_reference: str
    bic: str = ""

    def __post_init__(self) -> None:
        problems = []
        iban = payments.check_iban(self.iban)
        if not iban.valid:
            problems.append(iban.problem)
        if self.bic:
            try:
                _bic.validate(self.bic)
            except ValidationError:
                problems.append(_("{bic} is not a valid BIC.").format(bic=self.bic))
        if not self.beneficiary.strip():
            problems.append(_("The payment needs the beneficiary's name."))
        try:
            payments.parse_structured_reference(self.structured_reference)
        except InputError as error:
            problems.append(str(error))
        if problems:
            raise InputError("\n".join(problems))

    def transfer(self, amount_cents: int) -> CreditTransfer:
        """The credit transfer of ``amount_cents`` to this account."""
        return CreditTransfer(
            beneficiary=self.beneficiary,
            iban=self.iban,
            amount_cents=amount_cents,
            reference=self.structured_reference,
            bic=self.bic,
        )


def payment_block(kit: Kit, details: PaymentDetails, amount_cents: int, due: date) -> Flowable:
    """The framed payment block: what to pay, by when, to which account,
    with which communication, and the QR code that fills it all in."""
    _ = kit.gettext
    label_width = 38 * mm
    qr_width = QR_SIZE + 6 * mm
    inset = 4 * mm
    value_width = TEXT_WIDTH - qr_width - 2 * inset - label_width

    def row(label: str, value: str, style: str = "body") -> list:
        return [kit.para(label, "label"), kit.para(value, style)]

    rows = [
        row(_("Amount to pay"), kit.money(amount_cents), "strong"),
        row(_("To be paid by"), kit.day(due), "strong"),
        row(_("Beneficiary"), details.beneficiary),
        row(_("IBAN"), formats.format_iban(details.iban)),
    ]
    if details.bic:
        rows.append(row(_("BIC"), _bic.compact(details.bic)))
    reference = formats.format_structured_reference(details.structured_reference)
    rows.append(row(_("Structured communication"), ""))
    rows.append([Paragraph(kit.markup(reference), kit.styles["reference"]), Spacer(0, 0)])
    fields = kit.grid(
        rows,
        [label_width, value_width],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
            ("SPAN", (0, -2), (-1, -2)),
            ("SPAN", (0, -1), (-1, -1)),
            ("TOPPADDING", (0, -1), (-1, -1), 0),
        ],
    )
    qr = [
        EpcQrCode(epc_payload(details.transfer(amount_cents))),
        kit.para(_("Scan with your banking app"), "muted", align="center"),
    ]
    box = kit.grid(
        [[fields, qr]],
        [TEXT_WIDTH - qr_width, qr_width],
        [
            ("BOX", (0, 0), (-1, -1), 0.8, INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (0, 0), inset),
            ("RIGHTPADDING", (0, 0), (0, 0), inset),
            ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ("LEFTPADDING", (1, 0), (1, 0), 0),
            ("RIGHTPADDING", (1, 0), (1, 0), 3 * mm),
        ],
    )
    return KeepTogether(
        [kit.para(_("Payment"), "heading"), box, Spacer(0, 2 * mm)],
    )
