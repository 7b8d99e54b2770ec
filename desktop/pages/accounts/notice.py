"""One owner's call-for-funds notice as the app shows it before printing.

The PDF itself is rendered by the node (:mod:`node.pdf.call_for_funds`);
PySide6-Essentials has no PDF viewer, so this widget lays out the same
notice — letterhead, addressee, the lots and their shares, the payment
block with the structured communication and the EPC QR code a banking app
scans — from the very :class:`~node.pdf.call_for_funds.CallNotice` value
the PDF is made from. "Save as PDF…" writes the real thing.
"""

from __future__ import annotations

from node.domain.payments import format_iban, parse_structured_reference
from node.domain.payments import format_structured_reference as paper_reference
from node.i18n import _
from node.pdf.call_for_funds import CallNotice
from node.pdf.call_for_funds import Fund as NoticeFund
from node.pdf.epc_qr import epc_payload
from node.pdf.epc_qr import qr_matrix as epc_matrix

from ...labels import fmt_date, fmt_eur, fmt_ratio, language_label
from ...qr import matrix_image
from ...qt import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPixmap,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
)


def reference_text(reference: str) -> str:
    """``+++123/4567/89002+++`` whatever way the reference is stored."""
    try:
        return paper_reference(parse_structured_reference(reference))
    except Exception:  # shown as stored rather than not at all
        return reference


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class NoticePreview(QScrollArea):
    """A sheet of paper showing one notice, or why there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticePreview")
        self.setWidgetResizable(True)
        self.setMinimumWidth(380)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.notice: CallNotice | None = None
        self.sheet = QFrame()
        self.sheet.setObjectName("paper")
        self.setWidget(self.sheet)
        self.layout_ = QVBoxLayout(self.sheet)
        self.layout_.setContentsMargins(18, 16, 18, 16)
        self.layout_.setSpacing(8)
        self.message = _label("", "hint")
        self.layout_.addWidget(self.message)
        self.content = QWidget()
        self.layout_.addWidget(self.content)
        self.layout_.addStretch(1)
        self.show_message(_("Choose a call, then an owner, to see their notice."))

    def show_message(self, text: str) -> None:
        self.notice = None
        self.message.setText(text)
        self.message.show()
        self.content.hide()

    def show_notice(self, notice: CallNotice) -> None:
        self.notice = notice
        self.message.hide()
        old = self.content
        self.content = self._build(notice)
        self.layout_.replaceWidget(old, self.content)
        old.deleteLater()
        self.content.show()

    def texts(self) -> list[str]:
        """Every text on the sheet (tests read the notice through this)."""
        return [label.text() for label in self.content.findChildren(QLabel) if label.text()]

    def _build(self, notice: CallNotice) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        association = notice.letterhead.association

        top = QHBoxLayout()
        sender = QVBoxLayout()
        sender.setSpacing(1)
        sender.addWidget(_label(association.name, "noticeSender"))
        sender.addWidget(_label(association.address.one_line(), "noticeMuted"))
        top.addLayout(sender, 1)
        to = QVBoxLayout()
        to.setSpacing(1)
        for line in notice.recipient.lines(notice.language):
            to.addWidget(_label(line, "noticeRecipient" if not to.count() else ""))
        top.addLayout(to, 1)
        layout.addLayout(top)

        fund = _("working fund") if notice.fund is NoticeFund.WORKING else _("reserve fund")
        layout.addWidget(
            _label(
                _("Call for funds — {fund} — {start} to {end}").format(
                    fund=fund,
                    start=fmt_date(notice.period_start),
                    end=fmt_date(notice.period_end),
                ),
                "noticeTitle",
            )
        )
        layout.addWidget(
            _label(
                _("Issued on {issued} · call {reference} · printed in {language}").format(
                    issued=fmt_date(notice.issued_on),
                    reference=notice.reference,
                    language=language_label(notice.language),
                ),
                "noticeMuted",
            )
        )

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        headers = (_("Lot"), _("Distribution key"), _("Share"), _("Amount"))
        for column, text in enumerate(headers):
            header = _label(text, "noticeHeader", wrap=False)
            if column >= 2:
                header.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(header, 0, column)
        for row, line in enumerate(notice.lines, start=1):
            cells = (
                line.lot_number,
                line.key_name or _("General (quotas)"),
                fmt_ratio(line.weight, line.total_weight),
                fmt_eur(line.amount_cents),
            )
            for column, text in enumerate(cells):
                cell = _label(text, wrap=column == 1)
                if column >= 2:
                    cell.setAlignment(Qt.AlignmentFlag.AlignRight)
                cell.setToolTip(
                    _("Weight {weight} of {total}").format(
                        weight=line.weight, total=line.total_weight
                    )
                )
                grid.addWidget(cell, row, column)
        total_row = len(notice.lines) + 1
        grid.addWidget(_label(_("Total"), "noticeStrong", wrap=False), total_row, 0)
        total = _label(fmt_eur(notice.total_cents), "noticeStrong", wrap=False)
        total.setAlignment(Qt.AlignmentFlag.AlignRight)
        grid.addWidget(total, total_row, 3)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        if notice.call_total_cents:
            layout.addWidget(
                _label(
                    _("The whole call, all owners together: {amount}.").format(
                        amount=fmt_eur(notice.call_total_cents)
                    ),
                    "noticeMuted",
                )
            )
        layout.addWidget(self._payment(notice))
        return page

    def _payment(self, notice: CallNotice) -> QFrame:
        box = QFrame()
        box.setObjectName("paymentBlock")
        row = QHBoxLayout(box)
        row.setContentsMargins(10, 8, 8, 8)
        fields = QGridLayout()
        fields.setHorizontalSpacing(10)
        fields.setVerticalSpacing(3)
        payment = notice.payment
        values = [
            (_("Amount to pay"), fmt_eur(notice.total_cents), "noticeStrong"),
            (_("To be paid by"), fmt_date(notice.due_date), "noticeStrong"),
            (_("Beneficiary"), payment.beneficiary, ""),
            (_("IBAN"), format_iban(payment.iban), ""),
        ]
        if payment.bic:
            values.append((_("BIC"), payment.bic, ""))
        for index, (name, value, style) in enumerate(values):
            fields.addWidget(_label(name, "noticeMuted"), index, 0)
            fields.addWidget(_label(value, style), index, 1)
        # the communication on a line of its own, as on the printed notice
        fields.addWidget(_label(_("Structured communication"), "noticeMuted"), len(values), 0, 1, 2)
        reference = _label(
            reference_text(payment.structured_reference), "structuredReference", wrap=False
        )
        fields.addWidget(reference, len(values) + 1, 0, 1, 2)
        fields.setColumnStretch(1, 1)
        row.addLayout(fields, 1)
        code = QVBoxLayout()
        image = QLabel()
        image.setObjectName("epcQr")
        try:
            matrix = epc_matrix(epc_payload(payment.transfer(notice.total_cents)))
            image.setPixmap(QPixmap.fromImage(matrix_image(matrix, 2)))
        except Exception:  # the notice stands without its QR code
            image.setText("")
        code.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
        scan = _label(_("Scan with your banking app"), "noticeMuted")
        scan.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        scan.setMaximumWidth(max(image.sizeHint().width(), 100))
        code.addWidget(scan)
        code.addStretch(1)
        row.addLayout(code)
        return box
