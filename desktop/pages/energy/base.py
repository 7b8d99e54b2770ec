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
from node.services.registry import Change
from node.session import Session

from ...ops import Ops
from ...qt import QComboBox, QHBoxLayout, QLabel, QObject, QTimer, QWidget, Signal
from ...state import RegistryState
from ...widgets import ErrorLabel, WaitDialog, alive
from ..base import Page
from .data import Access, CampaignData, Snapshot, read_snapshot

ENERGY_CHANGE = "energy"
"""What :meth:`EnergyContext.act` reports as changed: no registry page shows it."""

REGISTRY_COLLECTIONS = frozenset({"association", "lots", "persons", "ownerships"})
"""Registry changes the energy pages follow (the units and their owners, the
building's postal code); a sync round reports every collection."""


def campaign_label(info: CampaignInfo) -> str:
    return f"{info.name} ({info.status_label})"


class EnergyContext(QObject):
    """The chosen campaign and what the worker last read of the campaigns."""

    changed = Signal()  # a new snapshot arrived
    access_changed = Signal()  # what this device may do changed (navigation)

    def __init__(self, ops: Ops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.access: Access | None = None
        self.campaigns: tuple[CampaignInfo, ...] = ()
        self.data: CampaignData | None = None
        self.campaign: str | None = None
        self.pages: list[EnergyPage] = []
        self.stale = True
        self.wait: WaitDialog | None = None  # the busy box now up (tests look at it)
        self._request = 0
        self._soon = QTimer(self)  # several pages asking at once make one read
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(lambda: self.load(background=True))

    # -- reading --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read again now if an energy page is in view (or nothing was read
        yet: the navigation needs to know what this device may do)."""
        self.stale = True
        if self.access is None or any(page.isVisible() for page in self.pages):
            self._soon.start()

    def activated(self) -> None:
        self.load(background=not self.stale)

    def choose(self, campaign: str | None) -> None:
        if campaign and campaign != self.campaign:
            self.campaign = campaign
            self.load()

    def load(self, background: bool = False) -> None:
        self._soon.stop()
        self.stale = False
        self._request += 1
        request, chosen = self._request, self.campaign

        def done(snapshot: Snapshot) -> None:
            if request == self._request:
                self.apply(snapshot)

        def failed(exc: KoprogoError) -> None:
            for page in self.pages:
                if alive(page):
                    page.error.show_message(str(exc))

        self.ops.run(lambda s: read_snapshot(s, chosen), done, failed, background=background)

    def apply(self, snapshot: Snapshot) -> None:
        access_changed = snapshot.access != self.access
        self.access = snapshot.access
        self.campaigns = snapshot.campaigns
        self.data = snapshot.data
        self.campaign = snapshot.data.id if snapshot.data else None
        if access_changed:
            self.access_changed.emit()
        self.changed.emit()

    # -- changing ---------------------------------------------------------------------------

    def act(
        self,
        fn: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
        select_result: bool = False,
    ) -> None:
        """One node call, then the campaign read again, in one worker job.
        ``on_done`` gets what the node call returned; ``select_result``: it
        returned a campaign id, which becomes the chosen one; ``wait``: a
        busy box with this text while it lasts (calls to the relay)."""
        self._request += 1  # an older read still on its way is void
        chosen = self.campaign
        box = WaitDialog(wait, self.pages[0].window()) if wait and self.pages else None
        self.wait = box
        answer: dict[str, Any] = {}

        def work(session: Session) -> Change:
            result = fn(session)
            answer["snapshot"] = read_snapshot(session, result if select_result else chosen)
            answer["result"] = result
            return Change.of(ENERGY_CHANGE)

        def finish() -> None:
            if box is not None:
                box.finish()
                if self.wait is box:
                    self.wait = None

        def done(_update: Any) -> None:
            finish()
            self.apply(answer["snapshot"])
            if on_done is not None:
                on_done(answer["result"])

        def failed(exc: KoprogoError) -> None:
            finish()
            self.load(background=True)  # a relay call may have changed things before failing
            if on_error is not None:
                on_error(exc)
            else:
                self.ops.error.emit(str(exc))

        self.ops.change(work, on_done=done, on_error=failed)


def allow(widget: QWidget, why_not: str) -> None:
    """Enable ``widget`` when there is no reason against it; otherwise
    disable it with the reason as its tooltip (its own tooltip comes back)."""
    if widget.property("tip") is None:
        widget.setProperty("tip", widget.toolTip())
    widget.setEnabled(not why_not)
    widget.setToolTip(why_not or widget.property("tip"))


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
