"""The EPC payment QR code ("SEPA Credit Transfer" QR, EPC069-12).

A banking app that scans it fills in the transfer: beneficiary, IBAN,
amount and reference. The payload is lines of text separated by a line
feed, in this order (EPC069-12, section 4.3):

====  ===================================  =====================================
line  element                              rule
====  ===================================  =====================================
1     service tag                          ``BCD``
2     version                              ``002`` (``001`` needs a BIC)
3     character set                        ``1`` = UTF-8
4     identification                       ``SCT``
5     BIC of the beneficiary's bank        8 or 11 characters; may be empty in 002
6     beneficiary name                     1–70 characters
7     beneficiary IBAN                     ≤ 34 characters
8     amount                               ``EUR`` + 0.01 … 999999999.99
9     purpose code                         4 letters, optional
10    remittance information, structured   ≤ 35 characters (creditor reference)
11    remittance information, text         ≤ 140 characters; never with line 10
12    beneficiary to originator info       ≤ 70 characters, optional
====  ===================================  =====================================

The last filled line is not followed by a line feed, the whole payload is
at most 331 bytes, and the QR code uses error correction level M (which
keeps it at QR version 13 or below).

**Belgian structured communications.** Febelfin's rule for the
"communication structurée / gestructureerde mededeling" is: on paper
``+++123/4567/89002+++``, in digital form the 12 digits ``123456789002``;
anything added to it turns the transfer into one with a free
communication, which the bank statement (CODA) then no longer reports as
structured. So the reference goes, as its 12 digits only, in line 10 (the
structured remittance field, which also holds ISO 11649 ``RF`` creditor
references) and line 11 stays empty; Belgian banking apps then pre-fill
their "structured communication" field with it. Amounts are always
written with two decimals (``EUR1250.00``), which the standard allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib.colors import black
from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from stdnum import bic as _bic
from stdnum import iso11649
from stdnum.exceptions import ValidationError

from ..domain import payments
from ..errors import InputError
from ..i18n import _

MAX_PAYLOAD_BYTES = 331
MIN_AMOUNT_CENTS = 1
MAX_AMOUNT_CENTS = 99_999_999_999
MAX_QR_VERSION = 13
ERROR_CORRECTION = "M"
QR_SIZE = 32 * mm
QUIET_ZONE = 4


@dataclass(frozen=True)
class CreditTransfer:
    """The SEPA credit transfer a QR code asks for.

    ``reference`` is a Belgian structured communication in any usual
    writing (``+++123/4567/89002+++``, ``123/4567/89002``, 12 digits) or an
    ISO 11649 creditor reference (``RF18 5390 0754 7034``); ``text`` is a
    free communication, used only without a reference."""

    beneficiary: str
    iban: str
    amount_cents: int
    reference: str = ""
    bic: str = ""
    text: str = ""
    purpose: str = ""
    information: str = ""
    version: str = "002"


def _is_creditor_reference(reference: str) -> bool:
    return reference.strip().upper().startswith("RF")


def _compact_reference(reference: str) -> str:
    """The reference as it goes in the payload: an RF reference compacted,
    a Belgian structured communication as its 12 digits."""
    if _is_creditor_reference(reference):
        return iso11649.compact(reference)
    return payments.parse_structured_reference(reference)


def _reference_problems(reference: str) -> list[str]:
    if _is_creditor_reference(reference):
        if iso11649.is_valid(reference):
            return []
        return [_("{reference} is not a valid RF creditor reference.").format(reference=reference)]
    try:
        payments.parse_structured_reference(reference)
    except InputError as error:
        return [str(error)]
    return []


def transfer_problems(transfer: CreditTransfer) -> list[str]:
    """Everything that keeps ``transfer`` out of an EPC QR code, in words a
    syndic can act on (empty when it is fine)."""
    problems: list[str] = []
    name = transfer.beneficiary.strip()
    if not name:
        problems.append(_("The payment QR code needs the beneficiary's name."))
    elif len(name) > 70:
        problems.append(
            _("The beneficiary's name has {count} characters; a payment QR code allows 70.").format(
                count=len(name)
            )
        )
    iban = payments.check_iban(transfer.iban)
    if not iban.valid:
        problems.append(iban.problem)
    if transfer.bic:
        try:
            _bic.validate(transfer.bic)
        except ValidationError:
            problems.append(_("{bic} is not a valid BIC.").format(bic=transfer.bic))
    elif transfer.version == "001":
        problems.append(_("A version 001 payment QR code needs the bank's BIC."))
    if transfer.version not in ("001", "002"):
        problems.append(_("A payment QR code is version 001 or 002."))
    amount = transfer.amount_cents
    if not isinstance(amount, int) or not MIN_AMOUNT_CENTS <= amount <= MAX_AMOUNT_CENTS:
        problems.append(_("A payment QR code asks for an amount from €0.01 to €999,999,999.99."))
    if transfer.reference and transfer.text:
        problems.append(
            _("A payment QR code holds a structured communication or a free one, not both.")
        )
    if transfer.reference:
        problems += _reference_problems(transfer.reference)
    if len(transfer.text) > 140:
        problems.append(_("The communication of a payment QR code is at most 140 characters."))
    if transfer.purpose and not (len(transfer.purpose) == 4 and transfer.purpose.isalnum()):
        problems.append(_("A purpose code has four letters, e.g. GDSV."))
    if len(transfer.information) > 70:
        problems.append(_("The note to the payer is at most 70 characters."))
    fields = (transfer.beneficiary, transfer.text, transfer.information, transfer.purpose)
    if any("\n" in f or "\r" in f for f in fields):
        problems.append(_("The fields of a payment QR code are on one line each."))
    if not problems and len(_payload(transfer).encode("utf-8")) > MAX_PAYLOAD_BYTES:
        problems.append(_("The payment QR code would hold more than 331 bytes; shorten the texts."))
    return problems


def _amount(cents: int) -> str:
    return f"EUR{cents // 100}.{cents % 100:02d}"


def _payload(transfer: CreditTransfer) -> str:
    lines = [
        "BCD",
        transfer.version,
        "1",
        "SCT",
        _bic.compact(transfer.bic) if transfer.bic else "",
        transfer.beneficiary.strip(),
        payments.check_iban(transfer.iban).iban,
        _amount(transfer.amount_cents),
        transfer.purpose.upper(),
        _compact_reference(transfer.reference) if transfer.reference else "",
        transfer.text.strip(),
        transfer.information.strip(),
    ]
    while not lines[-1]:
        lines.pop()  # "the last populated element is not followed by a separator"
    return "\n".join(lines)


def epc_payload(transfer: CreditTransfer) -> str:
    """The text an EPC QR code holds for ``transfer`` (see the module's
    table); raises :class:`InputError` listing every problem otherwise."""
    problems = transfer_problems(transfer)
    if problems:
        raise InputError("\n".join(problems))
    return _payload(transfer)


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), row by row, as reportlab encodes
    ``payload`` at level M; refuses a payload above QR version 13."""
    widget = QrCodeWidget(payload, barLevel=ERROR_CORRECTION)
    widget.qr.make()
    if widget.qr.version > MAX_QR_VERSION:
        raise InputError(_("The payment QR code would be too dense; shorten the texts."))
    return [[bool(m) for m in row] for row in widget.qr.modules]


class EpcQrCode(Flowable):
    """The QR code of an EPC payload as a square flowable of side ``size``,
    quiet zone included (four modules, as QR readers need)."""

    def __init__(self, payload: str, size: float = QR_SIZE):
        super().__init__()
        self.payload = payload
        self.matrix = qr_matrix(payload)
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        count = len(self.matrix)
        module = self.size / (count + 2 * QUIET_ZONE)
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(black)
        for r, row in enumerate(self.matrix):
            y = self.size - (r + QUIET_ZONE + 1) * module
            c = 0
            for dark, run in groupby(row):
                length = len(list(run))
                if dark:
                    x = (c + QUIET_ZONE) * module
                    canvas.rect(x, y, length * module, module, stroke=0, fill=1)
                c += length
        canvas.restoreState()
