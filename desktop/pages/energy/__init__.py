"""The group energy purchase (issue 6): the campaigns, one campaign with its
steps, participation, figures, offers and audit trail on the syndic's
device, and taking part for owners on their own device or the building's
shared computer — all sharing the campaign chosen in
:class:`~.base.EnergyContext`."""

from __future__ import annotations

from .base import EnergyContext, EnergyPage
from .campaign import CampaignPage
from .campaigns import CampaignsPage
from .optin import OptInPage

ENERGY_PAGES: tuple[tuple[str, type[EnergyPage]], ...] = (
    ("energy_campaigns", CampaignsPage),
    ("energy_campaign", CampaignPage),
    ("energy_optin", OptInPage),
)

__all__ = ["ENERGY_PAGES", "EnergyContext", "EnergyPage"]
