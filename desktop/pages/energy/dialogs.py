"""The forms of the energy pages: a new campaign, the assembly item that
gives the mandate or chooses the offer, the offer the final vote chose,
and checking an owner's bill against its fingerprint.

They only collect input and turn it into the arguments of one
:class:`~node.services.energy.EnergyService` call; the node checks it, and
a refusal is shown inside the dialog, which stays open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from node.domain.energy import ContractType
from node.i18n import _
from node.services.energy import OfferView, OptInRecord
from shared.energy import ENERGY_TYPES

from ...jobs import open_file_dialog
from ...labels import fmt_date
from ...qt import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)
from ...widgets import RecordDialog, hint
from ..accounts.base import date_edit, day_of
from .data import AgendaChoice, contract_label, energy_label, fmt_price_kwh

PDF_FILTER = "PDF (*.pdf)"


class CampaignDialog(RecordDialog):
    """A new campaign, as a draft."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("New energy purchase campaign"), parent)
        self.setObjectName("campaignDialog")
        self.name = QLineEdit()
        self.name.setPlaceholderText(_("e.g. Winter 2027"))
        self.energies: dict[str, QCheckBox] = {}
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        for energy in ENERGY_TYPES:
            box = QCheckBox(energy_label(energy))
            box.setChecked(True)
            self.energies[energy] = box
            line.addWidget(box)
        line.addStretch(1)
        self.deadline = date_edit(date.today() + timedelta(days=60))
        self.months = QSpinBox()
        self.months.setRange(1, 120)
        self.months.setValue(12)
        self.months.setSuffix(" " + _("months"))
        self.contract = QComboBox()
        for kind in ContractType:
            self.contract.addItem(contract_label(kind.value), kind.value)
        self.form.addRow(_("&Name"), self.name)
        self.form.addRow(_("&Energies"), row)
        self.form.addRow(_("Owners take part &until"), self.deadline)
        self.form.addRow(_("Contract &duration"), self.months)
        self.form.addRow(_("Contract &price"), self.contract)
        self.body.insertWidget(
            1,
            hint(
                _(
                    "The campaign starts as a draft. Collecting the owners' data needs an "
                    "assembly's mandate (a resolution by absolute majority)."
                )
            ),
        )

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "energy_types": [e for e, box in self.energies.items() if box.isChecked()],
            "deadline": day_of(self.deadline),
            "contract_months": self.months.value(),
            "contract_type": self.contract.currentData(),
        }


class ResolutionDialog(RecordDialog):
    """The assembly item linked to the campaign: the mandate, or the final vote."""

    def __init__(
        self, title: str, note: str, agendas: Sequence[AgendaChoice], parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.setObjectName("resolutionDialog")
        self.setMinimumWidth(560)
        self.agendas = list(agendas)
        self.meeting = QComboBox()
        for agenda in self.agendas:
            self.meeting.addItem(agenda.label, agenda.meeting)
        self.item = QComboBox()
        self.meeting.currentIndexChanged.connect(lambda _i: self._show_items())
        self.form.addRow(_("&Meeting"), self.meeting)
        self.form.addRow(_("Agenda &item"), self.item)
        self.note = hint(note)
        self.body.insertWidget(1, self.note)
        if not self.agendas:
            self.error.show_message(
                _("There is no meeting yet: prepare one on the Meetings page first.")
            )
            self.save_button.setEnabled(False)
        self.meeting.setCurrentIndex(len(self.agendas) - 1)
        self._show_items()

    def _show_items(self) -> None:
        self.item.clear()
        agenda = next((a for a in self.agendas if a.meeting == self.meeting.currentData()), None)
        for item, label in agenda.items if agenda else ():
            self.item.addItem(label, item)

    def choose(self, meeting: str, item: str) -> None:
        self.meeting.setCurrentIndex(self.meeting.findData(meeting))
        self.item.setCurrentIndex(self.item.findData(item))

    def values(self) -> tuple[str, str]:
        return self.meeting.currentData() or "", self.item.currentData() or ""


def offer_text(view: OfferView, label: str) -> str:
    offer = view.offer
    return _("{label} — {energy}, {price} per kWh").format(
        label=label,
        energy=energy_label(offer.pool.split(":", 1)[0]),
        price=fmt_price_kwh(offer.price_kwh_millicents),
    )


class FinalizeDialog(RecordDialog):
    """The offer the final vote chose."""

    def __init__(
        self,
        offers: Sequence[OfferView],
        labels: dict[str, str],
        selected: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Record the chosen offer"), parent)
        self.setObjectName("finalizeDialog")
        self.setMinimumWidth(520)
        self.offer = QComboBox()
        for view in offers:
            self.offer.addItem(offer_text(view, labels.get(view.offer.id, "")), view.offer.id)
        if selected:
            self.offer.setCurrentIndex(self.offer.findData(selected))
        self.form.addRow(_("&Offer"), self.offer)
        self.body.insertWidget(
            1,
            hint(
                _(
                    "The campaign is finalized only if the final vote chose this offer: the "
                    "resolution was adopted, or the poll's most chosen answer names it."
                )
            ),
        )
        self.save_button.setText(_("Finalize"))

    def value(self) -> str:
        return self.offer.currentData() or ""


class VerifyDialog(RecordDialog):
    """Check the bill an owner shows against the fingerprint of their opt-in."""

    def __init__(self, record: OptInRecord, who: str, parent: QWidget | None = None) -> None:
        super().__init__(_("Verify a bill"), parent)
        self.setObjectName("verifyDialog")
        self.setMinimumWidth(560)
        self.record = record
        self.bill: Path | None = None
        self.file_dialog: QFileDialog | None = None
        self.body.insertWidget(
            0,
            hint(
                _(
                    "{who}: ask for the bill of the period {start} – {end} (its PDF) and choose "
                    "it here, or paste its SHA-256. It is compared with the fingerprint given "
                    "with the opt-in; the bill is not kept."
                ).format(
                    who=who, start=fmt_date(record.period_start), end=fmt_date(record.period_end)
                )
            ),
        )
        self.choose_button = QPushButton(_("Choose the &PDF…"))
        self.choose_button.clicked.connect(lambda _c=False: self.ask_bill())
        self.bill_name = hint()
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.choose_button)
        line.addWidget(self.bill_name, 1)
        self.sha256 = QLineEdit()
        self.sha256.setObjectName("sha256Field")
        self.sha256.setPlaceholderText(_("64 hexadecimal digits"))
        self.form.addRow(_("The &bill (PDF)"), row)
        self.form.addRow(_("or its &SHA-256"), self.sha256)
        self.save_button.setText(_("Verify"))

    def ask_bill(self) -> None:
        self.file_dialog = open_file_dialog(
            self, _("The bill the owner shows"), PDF_FILTER, self.choose_bill
        )

    def choose_bill(self, path: Path) -> None:
        self.bill = path
        self.bill_name.setText(path.name)
        self.sha256.clear()

    def values(self) -> tuple[Path | None, str | None]:
        typed = self.sha256.text().strip()
        if typed:
            return None, typed
        return self.bill, None
