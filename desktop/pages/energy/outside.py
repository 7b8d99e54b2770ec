"""What leaves the building during a campaign, from the syndic's device:
the anonymous figures sent to the relay's purchase pool, the pool's offers
fetched back, and the campaign's summary for the general assembly as a PDF.
Each runs on the worker; the screens show a busy box while it lasts and say
what happened — or why not — in words.
"""

from __future__ import annotations

from typing import Any

from node.domain.energy import published_words
from node.errors import InputError
from node.i18n import _, current_language
from node.services.energy import EnergyService
from node.session import Session

from ..assembly.pdf import PdfSaver
from .base import EnergyPage


def pools(session: Session) -> EnergyService:
    """The energy service, for a call that reaches the relay's pools, or a
    refusal in words when this building has no relay."""
    if not session.profile.store.get_meta("relay_url"):
        raise InputError(
            _(
                "This building is not connected to a relay, so it cannot reach the purchase "
                "pool: connect it in Settings, Relay."
            )
        )
    return session.energy


def publish(session: Session, campaign: str) -> dict[str, Any]:
    return pools(session).publish(campaign)


def fetch_offers(session: Session, campaign: str) -> int:
    return len(pools(session).fetch_offers(campaign))


def published_text(result: dict[str, Any]) -> str:
    return published_words(result)


class SummarySaver(PdfSaver):
    """The campaign's summary for the assembly: ask where, render and write
    on the worker with a busy box (the assembly pages' PDF saver)."""

    def __init__(self, page: EnergyPage) -> None:
        super().__init__(page)  # type: ignore[arg-type]  # any page with ops and message

    def ask_summary(self, campaign: str, name: str) -> None:
        language = current_language()
        self.ask(
            _("Save the campaign's summary as PDF"),
            _("{name} summary").format(name=name),
            lambda s: s.energy.summary_pdf(campaign, language),
        )
