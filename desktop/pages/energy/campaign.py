"""One campaign (issue 6, point 8): where it stands, the next step and why
it cannot be taken yet, and the steps themselves on the syndic's device —
the assembly's mandate, collecting, negotiating (the building's anonymous
figures sent to the relay's purchase pool, the pool's offers fetched), the
final vote, the chosen offer, completion, or cancelling.

Below, in tabs: who takes part (management's devices only: units, opt-ins,
consents, bills verified — never anyone's consumption), the k-anonymous
figures (worked out again on the syndic's device, read as stored
elsewhere; below 5 verified participants only the count, and why), the
offers side by side with the chosen one marked, and the audit trail.

Every step is one node call; the node checks it and its refusal is shown
in its words. Calls that reach the relay show a busy box.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from node.domain.energy import FINAL, Status
from node.errors import InputError
from node.i18n import N_, _, ngettext
from node.session import Session
from shared.energy import K_ANONYMITY

from ...labels import fmt_date
from ...ops import Ops
from ...qt import QLabel, QMessageBox, QPushButton, Qt, QTabWidget, QVBoxLayout, QWidget
from ...table import RecordTable
from ...widgets import RecordDialog, alive, hint
from ..chosen import allow
from .base import EnergyContext, EnergyPage
from .data import (
    NO_FIGURES,
    AgendaChoice,
    CampaignData,
    contract_kind,
    energies_label,
    energy_label,
    read_agendas,
)
from .dialogs import FinalizeDialog, ResolutionDialog, VerifyDialog
from .outside import SummarySaver, fetch_offers, publish, published_text
from .panels import (
    AUDIT_COLUMNS,
    FIGURE_COLUMNS,
    OFFER_COLUMNS,
    PARTICIPATION_COLUMNS,
    ParticipationRow,
    audit_rows,
    figure_rows,
    offer_rows,
    participation_rows,
    participation_summary,
)

OVER = N_("The campaign is over: it does not change any more.")

# the state each step starts from
STEP_FROM = {
    "mandate": Status.DRAFT,
    "collect": Status.AWAITING_AG_VOTE,
    "negotiate": Status.COLLECTING_DATA,
    "final_vote": Status.NEGOTIATING,
    "finalize": Status.AWAITING_FINAL_VOTE,
    "complete": Status.FINALIZED,
}
POOL_OPEN = (Status.NEGOTIATING, Status.AWAITING_FINAL_VOTE)


class CampaignPage(EnergyPage):
    title_msgid = N_("Campaign")
    full_height = True  # the main window leaves out its problems panel here

    def __init__(self, ops: Ops, context: EnergyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.dialog: RecordDialog | None = None
        self.confirm: QMessageBox | None = None
        self.layout_.addWidget(self.chooser)
        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        self.facts = hint()
        self.facts.setObjectName("campaignFacts")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step_text = QLabel()
        self.step_text.setObjectName("nextStep")
        self.step_text.setWordWrap(True)
        self.step_problem = QLabel()
        self.step_problem.setObjectName("stepProblem")
        self.step_problem.setWordWrap(True)
        for label in (self.heading, self.facts, self.step_text, self.step_problem):
            self.layout_.addWidget(label)
        self._make_steps()
        self.layout_.addWidget(self.error)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("campaignTabs")
        self.tabs.addTab(self._make_participation(), _("Participation"))
        self.tabs.addTab(self._make_figures(), _("Figures"))
        self.tabs.addTab(self._make_offers(), _("Offers"))
        self.tabs.addTab(self._make_audit(), _("Audit trail"))
        self.layout_.addWidget(self.tabs, 1)
        self.participation.selectionModel().selectionChanged.connect(
            lambda *_a: self.update_actions()
        )
        self.offers.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.show_data(None)

    # -- building the screen ------------------------------------------------------------------

    def _make_steps(self) -> None:
        self.steps: dict[str, QPushButton] = {
            "mandate": self.button(
                _("Link the &mandate…"),
                self.link_mandate,
                _("The assembly item whose resolution gives the mandate"),
            ),
            "collect": self.button(_("Start &collecting"), self.start_collecting),
            "negotiate": self.button(_("Start &negotiating"), self.negotiate),
            "final_vote": self.button(
                _("Link the &final vote…"),
                self.link_final_vote,
                _("The assembly resolution or poll that chooses the offer"),
            ),
            "finalize": self.button(_("Fina&lize…"), self.finalize),
            "complete": self.button(_("C&omplete"), self.complete),
        }
        self.cancel_button = self.button(_("Cancel the campaign…"), self.cancel)
        self.layout_.addLayout(self.toolbar(*self.steps.values(), self.cancel_button))
        self.publish_button = self.button(
            _("&Publish the figures to the pool"),
            self.publish,
            _("Send the building's anonymous figures to the relay's purchase pool"),
        )
        self.fetch_button = self.button(
            _("F&etch the offers"), self.fetch, _("Fetch the offers brokers made to the pool")
        )
        self.recount_button = self.button(
            _("&Recount the figures"),
            self.recount,
            _("Work the figures out again from the verified opt-ins"),
        )
        self.pdfs = SummarySaver(self)
        self.summary_button = self.button(
            _("Save the &summary as PDF…"),
            self.save_summary,
            _("The campaign, its figures and the offers side by side, for the assembly"),
        )
        self.layout_.addLayout(
            self.toolbar(
                self.publish_button, self.fetch_button, self.recount_button, self.summary_button
            )
        )

    def _tab(self) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget()
        layout = QVBoxLayout(page)
        return page, layout

    def _make_participation(self) -> QWidget:
        page, layout = self._tab()
        self.participation_summary = hint()
        self.participation_summary.setObjectName("participationSummary")
        layout.addWidget(self.participation_summary)
        self.verify_button = self.button(
            _("&Verify the bill…"),
            self.verify,
            _("Compare the bill the owner shows with the fingerprint given with the opt-in"),
        )
        layout.addLayout(self.toolbar(self.verify_button))
        self.participation = RecordTable(PARTICIPATION_COLUMNS, stretch=1, fit=True)
        self.participation.setObjectName("participationTable")
        self.participation.keep_order()
        layout.addWidget(self.participation, 1)
        layout.addWidget(
            hint(
                _(
                    "Nobody's consumption is shown here: it is sealed to the owner and to the "
                    "campaign's key, which only the syndic's devices hold to work out the "
                    "building's figures."
                )
            )
        )
        return page

    def _make_figures(self) -> QWidget:
        page, layout = self._tab()
        self.figures = RecordTable(FIGURE_COLUMNS, stretch=None, fit=True)
        self.figures.setObjectName("figuresTable")
        self.figures.keep_order()
        layout.addWidget(self.figures, 1)
        self.figures_why = QLabel()
        self.figures_why.setObjectName("figuresWhy")
        self.figures_why.setWordWrap(True)
        self.figures_note = hint()
        self.figures_note.setObjectName("figuresNote")
        layout.addWidget(self.figures_why)
        layout.addWidget(self.figures_note)
        layout.addWidget(
            hint(
                _(
                    "Yearly figures: each bill's kWh brought to 365 days. Only the count, the "
                    "participation, the total, the average and the median are ever shown or "
                    "sent — never a minimum or a maximum."
                )
            )
        )
        return page

    def _make_offers(self) -> QWidget:
        page, layout = self._tab()
        self.offers = RecordTable(OFFER_COLUMNS, stretch=None, fit=True)
        self.offers.setObjectName("offersTable")
        self.offers.keep_order()  # side by side as the node gives them: by energy, cheapest first
        layout.addWidget(self.offers, 1)
        self.offers_note = hint()
        self.offers_note.setObjectName("offersNote")
        layout.addWidget(self.offers_note)
        return page

    def _make_audit(self) -> QWidget:
        page, layout = self._tab()
        self.audit = RecordTable(AUDIT_COLUMNS, stretch=2, fit=True)
        self.audit.setObjectName("auditTable")
        self.audit.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        layout.addWidget(self.audit, 1)
        layout.addWidget(
            hint(
                _(
                    "What happened to the owners' data, kept five years; it outlives the "
                    "opt-ins themselves."
                )
            )
        )
        return page

    # -- showing ------------------------------------------------------------------------------

    def show_data(self, data: CampaignData | None) -> None:
        access = self.access
        management = access is not None and access.management
        newly = management and not self.tabs.isTabVisible(0)
        self.tabs.setTabVisible(0, management)
        self.tabs.setTabVisible(3, management)
        if newly:
            self.tabs.setCurrentIndex(0)  # who takes part comes first where it is shown
        self.tabs.setVisible(data is not None)
        if data is None:
            self.heading.setText(
                _("No campaign yet.") if not self.context.campaigns else _("Choose a campaign.")
            )
            for label in (self.facts, self.step_text, self.step_problem):
                label.clear()
            self.step_problem.hide()
            for table in (self.participation, self.figures, self.offers, self.audit):
                table.set_rows([])
            self.update_actions()
            return
        info = data.info
        self.heading.setText(f"{info.name} — {info.status_label}")
        self.facts.setText("\n".join(self._facts(data)))
        step = data.step
        self.step_text.setText(
            _("Next step: {step}").format(step=step.text) if step.action else step.text
        )
        self.step_problem.setText(_("Not yet: {why}").format(why=step.problem))
        self.step_problem.setVisible(bool(step.problem))
        self.participation_summary.setText(participation_summary(data))
        self.participation.set_rows(participation_rows(data) if management else [])
        self._show_figures(data)
        rows = offer_rows(data)
        self.offers.set_rows(rows)
        self.offers_note.setText(
            _(
                "No offer yet: once the figures are in the purchase pool, brokers answer "
                "with offers; fetch them here."
            )
            if not rows
            else _("Cheapest first within each energy. The chosen offer is marked.")
        )
        self.audit.set_rows(audit_rows(data) if management else [])
        self.update_actions()

    def _facts(self, data: CampaignData) -> list[str]:
        info = data.info
        lines = [
            _("Energies: {energies}").format(energies=energies_label(info.energy_types)),
            _("Owners take part until {day}").format(
                day=fmt_date(info.deadline) if info.deadline else "—"
            ),
            _("Contract sought: {months} months, {kind}").format(
                months=info.contract_months, kind=contract_kind(info.contract_type)
            ),
        ]
        if data.mandate is not None:
            lines.append(
                _("Mandate: {text} — {state}").format(
                    text=data.mandate.text, state=data.mandate.state
                )
            )
        if data.final_vote is not None:
            lines.append(
                _("Final vote: {text} — {state}").format(
                    text=data.final_vote.text, state=data.final_vote.state
                )
            )
        chosen = data.offer(info.chosen_offer) if info.chosen_offer else None
        if chosen is not None:
            lines.append(_("Chosen offer: {provider}").format(provider=chosen.offer.provider))
        if info.ended_on is not None:
            lines.append(_("Ended on {day}").format(day=fmt_date(info.ended_on)))
        return lines

    def _show_figures(self, data: CampaignData) -> None:
        self.figures.set_rows(figure_rows(data))
        hidden = [f for f in data.figures if not f.shown]
        why = NO_FIGURES
        self.figures_why.setText(
            "\n".join(
                _("{energy}: {why}").format(
                    energy=energy_label(f.energy), why=_(why).format(k=K_ANONYMITY)
                )
                for f in hidden
            )
        )
        self.figures_why.setVisible(bool(hidden))
        self.figures_note.setText(data.figures_note)
        self.figures_note.setVisible(bool(data.figures_note))

    # -- what may be done ------------------------------------------------------------------------

    def update_actions(self) -> None:
        data = self.data
        reason = self.why_not_run() or ("" if data else _("Choose a campaign first."))
        status = data.info.status if data else None
        if not reason and status in FINAL:
            reason = _(OVER)
        for action, button in self.steps.items():
            wrong = "" if status is STEP_FROM[action] else _("Not at this stage of the campaign.")
            allow(button, reason or wrong)
            # clicking a step not ready yet gives the node's reason; it is not
            # highlighted as the thing to do (found by hand: it was, while refused)
            ready = bool(data and not data.step.problem)
            primary = bool(data and not reason and ready and data.step.action == action)
            if (button.objectName() == "primary") != primary:
                button.setObjectName("primary" if primary else "")
                button.style().unpolish(button)
                button.style().polish(button)
                button.updateGeometry()
        allow(self.cancel_button, reason)
        pool = "" if status in POOL_OPEN else _("Only while the campaign negotiates.")
        allow(self.publish_button, reason or pool)
        allow(self.fetch_button, reason or pool)
        allow(self.recount_button, reason)
        access = self.access
        prints = "" if data else _("Choose a campaign first.")
        if not prints and (access is None or not access.management):
            prints = _("Printed on the syndic's or the council's devices.")
        allow(self.summary_button, prints)
        row: ParticipationRow | None = self.participation.current_row()
        verify = reason
        if not verify and (row is None or row.record is None):
            verify = _("Choose an opt-in first.")
        elif not verify and row is not None and row.record is not None:
            if row.record.verified:
                verify = _("This bill is already verified.")
            elif row.record.withdrawn_at:
                verify = _("This consent was withdrawn.")
        allow(self.verify_button, verify)

    def select_record(self, record_id: str) -> bool:
        self.context.choose(record_id)
        return True

    # -- the steps ---------------------------------------------------------------------------------

    def _campaign(self) -> str | None:
        return self.data.id if self.data is not None else None

    def _step(self, fn: Callable[[Session, str], Any], done: str, wait: str = "") -> None:
        campaign = self._campaign()
        if campaign is None:
            return
        self.act(
            lambda s: fn(s, campaign),
            on_done=lambda _r: self.message.emit(done),
            wait=wait,
        )

    def start_collecting(self) -> None:
        self._step(
            lambda s, c: s.energy.start_collecting(c),
            _("Collecting has started: owners can opt in."),
        )

    def negotiate(self) -> None:
        self._step(
            lambda s, c: s.energy.negotiate(c),
            _("Negotiating: publish the figures to the pool."),
        )

    def complete(self) -> None:
        self._ask(
            _("Complete the campaign"),
            _("Are the contracts signed?"),
            _(
                "The campaign is then over; every owner's data is deleted everywhere 90 days "
                "from today. The figures and the audit trail stay."
            ),
            _("Complete"),
            lambda: self._step(lambda s, c: s.energy.complete(c), _("The campaign is completed.")),
        )

    def cancel(self) -> None:
        data = self.data
        if data is None:
            return
        self._ask(
            _("Cancel the campaign"),
            _("Cancel “{name}”?").format(name=data.info.name),
            _(
                "A cancelled campaign never starts again. The building's figures leave the "
                "purchase pool, and every owner's data is deleted everywhere 90 days from today."
            ),
            _("Cancel the campaign"),
            lambda: self._step(
                lambda s, c: s.energy.cancel(c),
                _("The campaign is cancelled."),
                wait=_("Cancelling the campaign…"),
            ),
        )

    def _ask(self, title: str, text: str, detail: str, yes: str, then: Callable[[], None]) -> None:
        box = QMessageBox(self.window())
        box.setObjectName("energyConfirmBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(detail)
        go = box.addButton(yes, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(_("Keep it as it is"), QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: then() if button is go else None)
        self.confirm = box
        box.open()

    def publish(self) -> None:
        campaign = self._campaign()
        if campaign is None:
            return
        self.act(
            lambda s: publish(s, campaign),
            on_done=lambda result: self.message.emit(published_text(result)),
            wait=_("Sending the building's figures to the purchase pool…"),
        )

    def fetch(self) -> None:
        campaign = self._campaign()
        if campaign is None:
            return

        def fetched(count: int) -> None:
            self.message.emit(
                ngettext("{n} offer in the pool.", "{n} offers in the pool.", count).format(n=count)
            )
            self.tabs.setCurrentIndex(2)

        self.act(
            lambda s: fetch_offers(s, campaign),
            on_done=fetched,
            wait=_("Fetching the pool's offers…"),
        )

    def save_summary(self) -> None:
        if self.data is not None:
            self.pdfs.ask_summary(self.data.id, self.data.info.name)

    def recount(self) -> None:
        self._step(lambda s, c: s.energy.refresh(c), _("The figures are worked out again."))

    # -- linking assembly items ------------------------------------------------------------------

    def _with_agendas(self, show: Callable[[tuple[AgendaChoice, ...]], None]) -> None:
        self.error.clear_message()
        self.ops.run(read_agendas, on_done=show, on_error=lambda e: self.error.show_message(str(e)))

    def link_mandate(self) -> None:
        def show(agendas: tuple[AgendaChoice, ...]) -> None:
            if not alive(self):
                return
            dialog = ResolutionDialog(
                _("The assembly's mandate"),
                _(
                    "Choose the agenda item whose resolution, adopted by absolute majority, "
                    "mandates the syndic to run the group purchase."
                ),
                agendas,
                self,
            )
            self.open_dialog(dialog, self._save_mandate)

        self._with_agendas(show)

    def _save_mandate(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ResolutionDialog) and self.data is not None
        campaign, (meeting, item) = self.data.id, dialog.values()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.energy.submit_to_assembly(campaign, meeting, item),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )

    def link_final_vote(self) -> None:
        data = self.data
        labels = ", ".join(sorted(data.offer_labels.values())) if data else ""

        def show(agendas: tuple[AgendaChoice, ...]) -> None:
            if not alive(self):
                return
            note = _(
                "Choose the resolution that adopts an offer, or a poll among the offers. With "
                "several offers, the resolution names the one it adopts (its provider), and a "
                "poll's options name the offers exactly as: {labels}"
            ).format(labels=labels or "—")
            dialog = ResolutionDialog(_("The final vote"), note, agendas, self)
            self.open_dialog(dialog, self._save_final_vote)

        self._with_agendas(show)

    def _save_final_vote(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ResolutionDialog) and self.data is not None
        campaign, (meeting, item) = self.data.id, dialog.values()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.energy.submit_final_vote(campaign, meeting, item),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )

    def finalize(self) -> None:
        data = self.data
        if data is None:
            return
        if not data.offers:
            self.error.show_message(_("There is no offer to vote on yet: fetch the pool's offers."))
            return
        selected = self.offers.current_id()
        dialog = FinalizeDialog(data.offers, dict(data.offer_labels), selected, self)
        self.open_dialog(dialog, self._save_finalize)

    def _save_finalize(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, FinalizeDialog) and self.data is not None
        campaign, offer = self.data.id, dialog.value()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.energy.finalize(campaign, offer),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )

    # -- checking bills ----------------------------------------------------------------------------

    def verify(self) -> None:
        row: ParticipationRow | None = self.participation.current_row()
        if row is None or row.record is None or self.data is None:
            return
        who = _("{owner}, unit {unit}").format(owner=row.owners, unit=row.unit)
        self.open_dialog(VerifyDialog(row.record, who, self), self._save_verify)

    def _save_verify(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, VerifyDialog) and self.data is not None
        campaign, optin = self.data.id, dialog.record.id
        bill, sha256 = dialog.values()
        if bill is None and not sha256:
            dialog.show_error(InputError(_("Give the bill (its PDF) or its SHA-256.")))
            return
        dialog.save_button.setEnabled(False)

        def verified(_c: object) -> None:
            dialog.accept()
            self.message.emit(_("Verified: the bill matches its fingerprint."))

        self.act(
            lambda s: s.energy.verify(campaign, optin, Path(bill) if bill else None, sha256),
            on_done=verified,
            on_error=dialog.show_error,
        )
