"""What the energy pages share: the campaign they show, read once for all
of them, and the one way they change it.

:class:`EnergyContext` holds the chosen campaign and what the worker last
read of it (:class:`~.data.Snapshot`); choosing a campaign on one page
chooses it on all. Every change is one node call made through
:meth:`EnergyContext.act`, which reads the campaign again in the same
worker job, so the screens show the node's state right after the step and
never a state between the two. A refusal from the node changes nothing and
is shown in the node's words. Calls that reach the relay (publishing,
fetching offers, erasing) show a busy box while they last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.errors import KoprogoError
from node.i18n import _
from node.services.energy import CampaignInfo
from node.session import Session

from ...ops import Ops
from ...qt import QComboBox, QHBoxLayout, QLabel, QWidget
from ...state import RegistryState
from ...widgets import ErrorLabel, alive
from ..base import Page
from ..chosen import ChosenContext
from .data import Access, CampaignData, Snapshot, read_snapshot

ENERGY_CHANGE = "energy"
"""What :meth:`EnergyContext.act` reports as changed: no registry page shows it."""

REGISTRY_COLLECTIONS = frozenset({"association", "lots", "persons", "ownerships"})
"""Registry changes the energy pages follow (the units and their owners, the
building's postal code); a sync round reports every collection."""


def campaign_label(info: CampaignInfo) -> str:
    return f"{info.name} ({info.status_label})"


class EnergyContext(ChosenContext):
    """The chosen campaign and what the worker last read of the campaigns.
    Calls that reach the relay (publishing, fetching offers, erasing) show a
    busy box while they last (``act(..., wait=...)``)."""

    change_name = ENERGY_CHANGE
    reload_after_error = True  # a relay call may have changed things before failing

    def read(self, session: Session, chosen: str | None) -> Snapshot:
        return read_snapshot(session, chosen)

    def records_of(self, snapshot: Snapshot) -> tuple[CampaignInfo, ...]:
        return snapshot.campaigns

    @property
    def campaigns(self) -> tuple[CampaignInfo, ...]:
        return self.records

    @property
    def campaign(self) -> str | None:
        """The chosen campaign."""
        return self.chosen

    @campaign.setter
    def campaign(self, campaign: str | None) -> None:
        self.chosen = campaign


def hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


class EnergyPage(Page):
    """One energy page: the campaign chooser, and what the context read."""

    collections = REGISTRY_COLLECTIONS
    needs_registry = False  # owners' devices and the shared computer take part too

    def __init__(self, ops: Ops, context: EnergyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.context = context
        context.pages.append(self)
        self.campaign_choice = QComboBox()
        self.campaign_choice.setObjectName("campaignChoice")
        self.campaign_choice.setMinimumWidth(320)
        self.campaign_choice.activated.connect(self._campaign_chosen)
        self.campaign_status = QLabel()
        self.campaign_status.setObjectName("hint")
        self.campaign_status.setWordWrap(True)
        self.chooser = QWidget(self)  # pages add it where they want it
        bar = QHBoxLayout(self.chooser)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        label = QLabel(_("C&ampaign"))
        label.setBuddy(self.campaign_choice)
        bar.addWidget(label)
        bar.addWidget(self.campaign_choice)
        bar.addWidget(self.campaign_status, 1)
        self.error = ErrorLabel()
        context.changed.connect(self._context_changed)

    # -- what subclasses give ----------------------------------------------------------------

    def available(self, access: Access) -> bool:
        """Whether this device shows the page at all."""
        return True

    def show_data(self, data: CampaignData | None) -> None:
        """Show the chosen campaign (``None``: there is none)."""

    # -- the shared parts ---------------------------------------------------------------------

    @property
    def access(self) -> Access | None:
        return self.context.access

    @property
    def data(self) -> CampaignData | None:
        return self.context.data

    def why_not_run(self) -> str:
        """Why this device may not change the shown campaign ("" when it may)."""
        access = self.access
        if access is None:
            return _("Reading…")
        if not access.runs:
            return access.reason
        return self.data.read_only if self.data is not None else ""

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.context.refresh()

    def activated(self) -> None:
        self.context.activated()
        self._context_changed()

    def synced(self) -> None:
        self.context.refresh()

    def _context_changed(self) -> None:
        if not alive(self):
            return
        self.campaign_choice.blockSignals(True)
        self.campaign_choice.clear()
        for info in self.context.campaigns:
            self.campaign_choice.addItem(campaign_label(info), info.id)
        self.campaign_choice.setCurrentIndex(self.campaign_choice.findData(self.context.campaign))
        self.campaign_choice.blockSignals(False)
        data = self.data
        if data is None:
            self.campaign_status.setText(
                _("Choose a campaign.") if self.context.campaigns else _("No campaign yet.")
            )
        else:
            self.campaign_status.setText(data.info.status_label)
        self.show_data(data)

    def _campaign_chosen(self, index: int) -> None:
        self.error.clear_message()
        self.context.choose(self.campaign_choice.itemData(index))

    def act(
        self,
        fn: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
        select_result: bool = False,
    ) -> None:
        """One change to the campaign; the node's refusal is shown on the page."""
        self.error.clear_message()

        def refused(exc: KoprogoError) -> None:
            if alive(self):
                self.error.show_message(str(exc))

        self.context.act(fn, on_done, on_error or refused, wait, select_result)
