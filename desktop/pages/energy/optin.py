"""Taking part in a group energy purchase (issue 6, point 8), for owners.

On an owner's own device: the units they own in the campaign, the bill's
period, its kWh per energy and the postal code, the bill's PDF — of which
only the SHA-256 fingerprint is kept; the PDF never leaves the computer —
and their explicit consent, which the node signs with their key. Their
consumption is sealed so that only they and the syndic's devices read it.
On the building's shared computer, an owner enrolled there chooses who they
are and types their PIN for every step; nothing of theirs stays on the
screen once they leave the page.

Below, "my data": what they gave, read back with their own key, whether it
counts, and the two rights they keep — withdrawing their consent (the
opt-in leaves every figure) and erasing their data everywhere.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from node.domain.energy import EnergyType, Status
from node.errors import KoprogoError
from node.i18n import N_, _
from node.services.energy import MyOptIn, reading
from node.session import Session

from ...jobs import open_file_dialog
from ...labels import fmt_date
from ...ops import Ops
from ...qt import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from ...table import RecordTable
from ...widgets import alive, hint
from ..accounts.base import date_edit, day_of
from ..chosen import allow
from ..kiosk import WhoAtKiosk
from .base import EnergyContext, EnergyPage
from .data import CONSENT_TEXT, Access, CampaignData, energy_label
from .panels import MY_COLUMNS, MyRow

PDF_FILTER = "PDF (*.pdf)"
KWH_MAX = 10_000_000


def erase(session: Session, campaign: str, person: str | None, pin: str | None) -> dict[str, Any]:
    """Erase one's opt-ins. The node raises, deleting nothing, when the relay
    cannot be reached at all, and says so in ``error`` when it failed after
    the deletion on this computer."""
    return session.energy.erase(campaign, person, pin)


def erased_text(result: dict[str, Any]) -> str:
    if result.get("error"):
        return _(
            "Your data in this campaign is erased from this computer, but not yet from the "
            "relay: {error} Erase again once the relay can be reached."
        ).format(error=result["error"])
    if not result.get("relay"):
        return _(
            "Your data in this campaign is erased from this computer. This building has no "
            "relay, so it was never anywhere else."
        )
    return _(
        "Your data in this campaign is erased from this computer and from the relay; the "
        "syndic's devices erase it too at their next sync."
    )


class OptInPage(EnergyPage):
    title_msgid = N_("Take part")
    full_height = True  # the main window leaves out its problems panel here

    def __init__(self, ops: Ops, context: EnergyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.bill: Path | None = None
        self.file_dialog: QFileDialog | None = None
        self.confirm: QMessageBox | None = None
        self.mine_for: str | None = None  # whose data the table shows (read with their key)
        self.mine_campaign: str | None = None  # and of which campaign
        self._mine_request = 0
        self.layout_.addWidget(self.chooser)
        self.terms = hint()
        self.terms.setObjectName("optinTerms")
        self.layout_.addWidget(self.terms)
        self.who = WhoAtKiosk(
            lambda: self.access,
            _(
                "No owner has enrolled on this computer yet: enrol on “Residents' inboxes” "
                "with the invite the syndic gave you, then take part here with your PIN."
            ),
        )
        self.who.chosen.connect(self._resident_changed)
        self.layout_.addWidget(self.who)
        self._make_form()
        self.layout_.addWidget(self.error)
        self._make_mine()
        self.show_data(None)

    # -- building the screen ------------------------------------------------------------------

    def _make_form(self) -> None:
        self.form_box = QWidget()
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.unit = QComboBox()
        self.unit.setObjectName("unitChoice")
        self.unit.setMinimumWidth(160)
        self.energy_type = QComboBox()
        self.energy_type.currentIndexChanged.connect(lambda _i: self._show_kwh())
        self.kwh: dict[str, QSpinBox] = {}
        kwh_row = QWidget()
        line = QHBoxLayout(kwh_row)
        line.setContentsMargins(0, 0, 0, 0)
        self.kwh_labels: dict[str, QLabel] = {}
        for energy in ("electricity", "gas"):
            label = QLabel(energy_label(energy))
            box = QSpinBox()
            box.setRange(0, KWH_MAX)
            box.setSuffix(" kWh")
            box.setGroupSeparatorShown(True)
            box.setMinimumWidth(140)
            self.kwh[energy], self.kwh_labels[energy] = box, label
            line.addWidget(label)
            line.addWidget(box)
        line.addStretch(1)
        period = QWidget()
        span = QHBoxLayout(period)
        span.setContentsMargins(0, 0, 0, 0)
        self.period_start = date_edit(date.today() - timedelta(days=365))
        self.period_end = date_edit(date.today())
        span.addWidget(self.period_start)
        span.addWidget(QLabel("–"))
        span.addWidget(self.period_end)
        span.addStretch(1)
        self.postal_code = QLineEdit()
        self.postal_code.setMaxLength(4)
        self.postal_code.setMaximumWidth(100)
        self.postal_code.setPlaceholderText(_("e.g. 1180"))
        bill = QWidget()
        bill_line = QHBoxLayout(bill)
        bill_line.setContentsMargins(0, 0, 0, 0)
        self.bill_button = self.button(_("Choose the &bill (PDF)…"), self.ask_bill)
        self.bill_name = hint()
        bill_line.addWidget(self.bill_button)
        bill_line.addWidget(self.bill_name, 1)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(_("&Unit"), self.unit)
        form.addRow(_("&Energy on the bill"), self.energy_type)
        form.addRow(_("Consu&mption over the period"), kwh_row)
        form.addRow(_("B&ill period"), period)
        form.addRow(_("Postal co&de of the supply"), self.postal_code)
        form.addRow(_("The bill"), bill)
        box = QVBoxLayout(self.form_box)
        box.setContentsMargins(0, 0, 8, 0)
        box.addLayout(form)
        box.addWidget(
            hint(
                _(
                    "Only the bill's SHA-256 fingerprint is kept: the PDF never leaves this "
                    "computer. Show the bill to the syndic, who checks it against the "
                    "fingerprint."
                )
            )
        )
        consent_title = QLabel(_("Your consent"))
        consent_title.setObjectName("sectionTitle")
        self.consent_text = QLabel(_(CONSENT_TEXT))
        self.consent_text.setObjectName("consentText")
        self.consent_text.setWordWrap(True)
        self.consent = QCheckBox(_("I give my &consent as written above"))
        self.consent.setObjectName("consentBox")
        self.consent.toggled.connect(lambda _c: self.update_actions())
        self.optin_button = self.button(_("&Opt in for this unit"), self.opt_in)
        self.optin_button.setObjectName("primary")
        for widget in (consent_title, self.consent_text, self.consent):
            box.addWidget(widget)
        box.addLayout(self.toolbar(self.optin_button))
        box.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("optinForm")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form_box)
        self.layout_.addWidget(scroll, 3)

    def _make_mine(self) -> None:
        self.mine_title = QLabel(_("My data"))
        self.mine_title.setObjectName("sectionTitle")
        self.layout_.addWidget(self.mine_title)
        self.show_mine_button = self.button(
            _("&Show my data"), self.read_mine, _("Read what you gave back, with your key")
        )
        self.withdraw_button = self.button(
            _("Withdraw my consen&t"),
            self.withdraw,
            _("The opt-in stays recorded but no longer counts in any figure"),
        )
        self.erase_button = self.button(
            _("E&rase my data…"),
            self.ask_erase,
            _("Delete your opt-ins in this campaign everywhere"),
        )
        self.layout_.addLayout(
            self.toolbar(self.show_mine_button, self.withdraw_button, self.erase_button)
        )
        self.mine = RecordTable(MY_COLUMNS, stretch=1, fit=True)
        self.mine.setObjectName("myOptIns")
        self.mine.setMinimumHeight(110)
        self.layout_.addWidget(self.mine, 1)
        self.mine_note = hint()
        self.mine_note.setObjectName("myDataNote")
        self.layout_.addWidget(self.mine_note)
        self.erased = QLabel()
        self.erased.setObjectName("erasedNote")
        self.erased.setWordWrap(True)
        self.erased.hide()
        self.layout_.addWidget(self.erased)
        self.mine.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())

    # -- who takes part ----------------------------------------------------------------------

    def available(self, access: Access) -> bool:
        return access.takes_part

    def _resident_changed(self) -> None:
        self.forget()  # someone else at the computer: nothing of the last one
        self.show_data(self.data)

    # -- showing -----------------------------------------------------------------------------

    def show_data(self, data: CampaignData | None) -> None:
        self.who.show_residents()
        if data is None:
            self.terms.setText(_("No campaign to take part in yet."))
        else:
            info = data.info
            lines = [_("{name}: {status}").format(name=info.name, status=info.status_label)]
            if info.status is Status.COLLECTING_DATA and info.deadline:
                lines.append(_("Owners take part until {day}.").format(day=fmt_date(info.deadline)))
            elif info.status is not Status.COLLECTING_DATA:
                lines.append(_("The campaign is not collecting consumption data."))
            self.terms.setText("\n".join(lines))
        self._show_units(data)
        self._show_types(data)
        shown_for = (self.mine_for, self.mine_campaign)
        if self.mine_for is not None and shown_for != (self.who.person(), data and data.id):
            self.forget_mine()  # someone else's, or another campaign's
        if not self.who.kiosk and data is not None and self.who.person():
            self.read_mine()  # the owner's own device reads with its own key
        self.update_actions()

    def _show_units(self, data: CampaignData | None) -> None:
        person = self.who.person()
        units = data.units_of(person) if data is not None and person else ()
        keep = self.unit.currentData()
        self.unit.clear()
        for unit in units:
            self.unit.addItem(unit.number, unit.id)
        index = self.unit.findData(keep) if keep else -1
        self.unit.setCurrentIndex(index if index >= 0 else (0 if units else -1))

    def _show_types(self, data: CampaignData | None) -> None:
        energies = set(data.info.energy_types) if data else set()
        types = [t for t in EnergyType if set(t.carriers) <= energies]
        if [self.energy_type.itemData(i) for i in range(self.energy_type.count())] != [
            t.value for t in types
        ]:
            self.energy_type.clear()
            for kind in types:
                self.energy_type.addItem(energy_label(kind.value), kind.value)
        self._show_kwh()

    def _show_kwh(self) -> None:
        value = self.energy_type.currentData()
        carriers = EnergyType(value).carriers if value else ()
        for energy, box in self.kwh.items():
            box.setVisible(energy in carriers)
            self.kwh_labels[energy].setVisible(energy in carriers)

    def update_actions(self) -> None:
        data, person = self.data, self.who.person()
        reason = "" if data else _("Choose a campaign first.")
        if not reason and person is None:
            reason = _("Choose who you are first.")
        optin = reason
        if not optin and data.info.status is not Status.COLLECTING_DATA:
            optin = _("The campaign is not collecting consumption data.")
        if not optin and not data.units_of(person):
            optin = _("You own no unit in this campaign.")
        if not optin and not self.consent.isChecked():
            optin = _("Tick the consent box first: taking part needs your explicit consent.")
        allow(self.optin_button, optin)
        self.show_mine_button.setVisible(self.who.kiosk)
        allow(self.show_mine_button, reason)
        shown = self.mine_for is not None and self.mine_for == person
        row: MyRow | None = self.mine.current_row()
        withdraw = reason or ("" if shown and row else _("Choose one of your opt-ins first."))
        if not withdraw and row is not None and row.mine.record.withdrawn_at:
            withdraw = _("This consent was already withdrawn.")
        allow(self.withdraw_button, withdraw)
        erase = reason or ("" if shown and self.mine.rows() else _("You have no data here."))
        allow(self.erase_button, erase)

    # -- the bill --------------------------------------------------------------------------------

    def ask_bill(self) -> None:
        self.file_dialog = open_file_dialog(
            self, _("Your energy bill"), PDF_FILTER, self.choose_bill
        )

    def choose_bill(self, path: Path) -> None:
        self.bill = path
        self.bill_name.setText(path.name)

    # -- acting ------------------------------------------------------------------------------------

    def opt_in(self) -> None:
        data, person = self.data, self.who.person()
        if data is None or person is None:
            return
        if not self.consent.isChecked():
            self.error.show_message(
                _("Tick the consent box first: taking part needs your explicit consent.")
            )
            return
        if self.bill is None:
            self.error.show_message(_("Choose the bill (its PDF): only its SHA-256 is kept."))
            return
        who = self.who.signer(self.error)
        if who is None:
            return
        kind = self.energy_type.currentData() or ""
        carriers = EnergyType(kind).carriers if kind else ()
        kwh = {e: self.kwh[e].value() for e in carriers}
        start, end = day_of(self.period_start), day_of(self.period_end)
        code, bill = self.postal_code.text().strip(), self.bill
        lot, campaign = self.unit.currentData() or "", data.id

        def work(session: Session) -> list[MyOptIn]:
            # the PDF is read here for its fingerprint, and kept nowhere
            given = reading(kind, kwh, start, end, code, bill)
            session.energy.opt_in(campaign, lot, given, *who)
            return session.energy.mine(campaign, *who)

        def done(mine: list[MyOptIn]) -> None:
            self.consent.setChecked(False)
            self.erased.hide()
            self.bill = None
            self.bill_name.clear()
            for box in self.kwh.values():
                box.setValue(0)
            self._show_mine(person, campaign, mine)
            self.message.emit(
                _("You take part: the syndic checks your bill, then your unit counts.")
            )

        self.act(work, on_done=done)

    def read_mine(self) -> None:
        data, person = self.data, self.who.person()
        if data is None or person is None:
            return
        who = self.who.signer(self.error)
        if who is None:
            return
        campaign = data.id
        self._mine_request += 1
        request = self._mine_request

        def done(mine: list[MyOptIn]) -> None:
            if request == self._mine_request:
                self._show_mine(person, campaign, mine)

        def failed(exc: KoprogoError) -> None:
            if alive(self):
                self.error.show_message(str(exc))

        background = not self.who.kiosk
        self.ops.run(lambda s: s.energy.mine(campaign, *who), done, failed, background=background)

    def withdraw(self) -> None:
        data, person, row = self.data, self.who.person(), self.mine.current_row()
        if data is None or person is None or row is None:
            return
        who = self.who.signer(self.error)
        if who is None:
            return
        campaign, optin = data.id, row.id

        def work(session: Session) -> list[MyOptIn]:
            session.energy.withdraw(campaign, optin, *who)
            return session.energy.mine(campaign, *who)

        def done(mine: list[MyOptIn]) -> None:
            self._show_mine(person, campaign, mine)
            self.message.emit(_("Consent withdrawn: this opt-in no longer counts."))

        self.act(work, on_done=done)

    def ask_erase(self) -> None:
        data = self.data
        if data is None:
            return
        box = QMessageBox(self.window())
        box.setObjectName("eraseBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Erase my data"))
        box.setText(_("Erase all you gave in “{name}”?").format(name=data.info.name))
        box.setInformativeText(
            _(
                "Your opt-ins and consumption are deleted from this computer, from the relay "
                "and, as they sync, from the syndic's devices. Your units no longer take part; "
                "the audit trail keeps that it happened."
            )
        )
        go = box.addButton(_("Erase"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(_("Keep my data"), QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.erase() if button is go else None)
        self.confirm = box
        box.open()

    def erase(self) -> None:
        data, person = self.data, self.who.person()
        if data is None or person is None:
            return
        who = self.who.signer(self.error)
        if who is None:
            return
        campaign = data.id

        def done(result: dict[str, Any]) -> None:
            self.message.emit(erased_text(result))
            self._show_mine(person, campaign, [])
            if self.mine_for == person:
                self.erased.setText(erased_text(result))
                self.erased.show()

        self.act(
            lambda s: erase(s, campaign, *who),
            on_done=done,
            wait=_("Erasing your data…"),
        )

    # -- my data ---------------------------------------------------------------------------------

    def _show_mine(self, person: str, campaign: str, mine: list[MyOptIn]) -> None:
        """Show ``person``'s data in ``campaign``, unless someone else is at
        the shared computer by now, it is no longer in view, or another
        campaign is chosen."""
        data = self.data
        if not alive(self) or person != self.who.person() or data is None or data.id != campaign:
            return
        if self.who.kiosk and not self.isVisible():
            return
        rows = []
        for item in mine:
            unit = data.unit(item.record.lot) if data else None
            rows.append(MyRow(item, unit.number if unit else item.record.lot[-6:]))
        self.mine_for, self.mine_campaign = person, campaign
        self.mine.set_rows(rows)
        self.mine_note.setText("" if rows else _("You have not opted in."))
        self.update_actions()

    def forget_mine(self) -> None:
        self._mine_request += 1  # an answer still on its way is for nobody now
        self.mine_for = self.mine_campaign = None
        self.mine.set_rows([])
        self.mine_note.clear()
        self.erased.clear()
        self.erased.hide()

    def forget(self) -> None:
        """Nothing of the last person stays on the shared computer's screen."""
        self.who.pin.clear()
        self.forget_mine()
        self.consent.setChecked(False)
        self.bill = None
        self.bill_name.clear()
        self.postal_code.clear()
        for box in self.kwh.values():
            box.setValue(0)

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.who.kiosk:
            self.forget()
        super().hideEvent(event)
