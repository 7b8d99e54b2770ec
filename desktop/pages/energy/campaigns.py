"""The building's group energy purchases (issue 6): the list of campaigns
with where each stands, and a new campaign (a draft) on the syndic's
device. Choosing a campaign chooses it on every energy page; opening it
goes to the campaign's own page."""

from __future__ import annotations

from node.i18n import N_, _
from node.services.energy import CampaignInfo

from ...labels import fmt_date
from ...ops import Ops
from ...qt import QKeySequence, QShortcut, Qt, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog, hint
from ..chosen import allow
from .base import EnergyContext, EnergyPage
from .data import CampaignData, contract_kind, energies_label
from .dialogs import CampaignDialog

CAMPAIGN_COLUMNS = (
    Column(
        N_("Created"), lambda c: fmt_date(c.created_at[:10]), sort=lambda c: (c.created_at, c.id)
    ),
    Column(N_("Campaign"), lambda c: c.name),
    Column(N_("Energies"), lambda c: energies_label(c.energy_types)),
    Column(N_("Status"), lambda c: c.status_label),
    Column(N_("Take part until"), lambda c: fmt_date(c.deadline) if c.deadline else ""),
    Column(
        N_("Contract"),
        lambda c: _("{months} months, {kind}").format(
            months=c.contract_months, kind=contract_kind(c.contract_type)
        ),
    ),
)


class CampaignsPage(EnergyPage):
    title_msgid = N_("Campaigns")

    def __init__(self, ops: Ops, context: EnergyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.chooser.hide()  # the table chooses here
        self.new_button = self.button(_("&New campaign…"), self.new_campaign)
        self.new_button.setObjectName("primary")
        self.open_button = self.button(_("&Open the campaign"), self.open_campaign)
        self.layout_.addLayout(self.toolbar(self.new_button, self.open_button))
        self.layout_.addWidget(self.error)
        self.intro = hint(
            _(
                "Owners who wish pool their consumption to buy electricity or gas together. "
                "Each opts in with their bill; only the building's anonymous figures, from 5 "
                "verified participants on, leave the building."
            )
        )
        self.layout_.addWidget(self.intro)
        self.table = RecordTable(CAMPAIGN_COLUMNS, stretch=1, fit=True)
        self.table.setObjectName("campaignsTable")
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.doubleClicked.connect(lambda _i: self.open_campaign())
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self.open_campaign)
        self.layout_.addWidget(self.table, 1)
        self.empty = hint(_("No campaign yet."))
        self.layout_.addWidget(self.empty)
        self.step = hint()
        self.step.setObjectName("campaignStep")
        self.layout_.addWidget(self.step)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.show_data(None)

    def show_data(self, data: CampaignData | None) -> None:
        campaigns = list(self.context.campaigns)
        self.table.selectionModel().blockSignals(True)
        self.table.set_rows(campaigns)
        if data is not None:
            self.table.select_id(data.id)
        self.table.selectionModel().blockSignals(False)
        self.empty.setVisible(not campaigns)
        self.table.setVisible(bool(campaigns))
        if data is None:
            self.step.clear()
        else:
            text = _("{name}: {step}").format(name=data.info.name, step=data.step.text)
            if data.step.problem and self.access is not None and self.access.runs:
                text += "\n" + _("Not yet: {why}").format(why=data.step.problem)
            self.step.setText(text)
        self.update_actions()

    def _selected(self) -> None:
        row: CampaignInfo | None = self.table.current_row()
        if row is not None and row.id != self.context.campaign:
            self.error.clear_message()
            self.context.choose(row.id)
        self.update_actions()

    def update_actions(self) -> None:
        access = self.access
        allow(self.new_button, _("Reading…") if access is None else access.reason)
        allow(self.open_button, "" if self.data else _("Choose a campaign first."))

    def select_record(self, record_id: str) -> bool:
        self.context.choose(record_id)
        return True

    def open_campaign(self) -> None:
        if self.data is not None:
            self.navigate.emit("energy_campaign", "")

    def new_campaign(self) -> None:
        access = self.access
        if access is None or not access.runs:
            return
        self.open_dialog(CampaignDialog(self), self._save_campaign)

    def _save_campaign(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, CampaignDialog)
        values = dialog.values()
        dialog.save_button.setEnabled(False)

        def created(_campaign: str) -> None:
            dialog.accept()
            self.message.emit(_("The campaign is created, as a draft."))

        self.act(
            lambda s: s.energy.create(**values),
            on_done=created,
            on_error=dialog.show_error,
            select_result=True,
        )
