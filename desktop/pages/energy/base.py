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

from node.i18n import N_, _
from node.services.energy import CampaignInfo
from node.session import Session

from ..chosen import ChosenContext, ChosenPage
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


class EnergyPage(ChosenPage):
    """One energy page: the campaign chooser, and what the context read."""

    collections = REGISTRY_COLLECTIONS
    needs_registry = False  # owners' devices and the shared computer take part too
    choice_label = N_("C&ampaign")
    choice_name = "campaignChoice"
    choose_hint = N_("Choose a campaign.")
    none_yet = N_("No campaign yet.")
    context: EnergyContext

    # -- what subclasses give ----------------------------------------------------------------

    def show_data(self, data: CampaignData | None) -> None:
        """Show the chosen campaign (``None``: there is none)."""

    # -- the shared parts ---------------------------------------------------------------------

    def record_label(self, record: CampaignInfo) -> str:
        return campaign_label(record)

    def status_text(self, data: CampaignData) -> str:
        return data.info.status_label

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
