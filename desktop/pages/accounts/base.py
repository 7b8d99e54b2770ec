"""What the accounting pages share: the fiscal year they show, how they
read the ledger on the worker, and whether this device may change it.

Every accounting page has the same fiscal-year selector; choosing a year on
one page chooses it on all (:class:`AccountsContext`). The years offered are
those the ledger holds (``session.ledger.years()``) and, on the syndic's
device, the current fiscal year even before it has any entry: the first
budget, invoice or call opens it ("open year N" needs no step of its own).
Looking at a year that was never opened writes nothing: the page shows an
empty ledger until something is recorded.

A page reads what it shows in one worker job (:meth:`AccountsPage.read`,
returning plain values) when it comes into view, after a change to the
ledger or the registry, and after a sync round while it is in view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.accounting.chart import Chart
from node.domain.accounting.ledger import FiscalYear, LedgerView, fiscal_year
from node.errors import KoprogoError
from node.i18n import _
from node.services.registry import Change
from node.session import Session
from shared.protocol import Role, may_write

from ...labels import date_pattern, fmt_date, fmt_eur
from ...ops import Ops
from ...qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QObject,
    Qt,
    QWidget,
    Signal,
)
from ...state import RegistryState, Update
from ...widgets import ErrorLabel, WaitDialog, alive
from ..base import Page

LEDGER_COLLECTIONS = frozenset(
    {"accounts", "entries", "invoices", "budgets", "calls", "years", "queue"}
)
"""What ledger operations report as changed (:class:`~node.services.registry.Change`)."""

REGISTRY_COLLECTIONS = frozenset({"association", "lots", "persons", "ownerships", "keys"})
"""Registry changes the accounting pages show too (names, lots, keys)."""


@dataclass(frozen=True)
class YearsInfo:
    """The fiscal years, read on the worker."""

    years: tuple[int, ...]  # the years the ledger holds
    current: int  # the fiscal year of today
    closed: frozenset[int]
    writable: bool  # this device's role may change the ledger
    reason: str | None  # why not, in words
    start: str  # the association's fiscal-year start, "MM-DD"

    def selectable(self) -> tuple[int, ...]:
        """The years the selector offers: those kept, and the current one
        on a device that may open it."""
        years = set(self.years)
        if self.writable or not years:
            years.add(self.current)
        return tuple(sorted(years))

    def fiscal(self, label: int) -> FiscalYear:
        return fiscal_year(label, self.start)


def read_years(session: Session) -> YearsInfo:
    ledger = session.ledger
    association = session.registry.read().association
    start = association.fiscal_year_start if association else "01-01"
    years = tuple(ledger.years())
    closed = frozenset(y for y in years if ledger.year(y).closed)
    role = session.profile.store.get_meta("role")
    writable = not role or may_write(Role(role), "ledger/2000")
    reason = None if writable else _("Only the syndic's device changes the accounts.")
    if writable and years:
        # a document written by a newer KoproGo is shown, not changed
        reason = session.document(f"ledger/{years[-1]}").read_only_reason
        writable = reason is None
    current = ledger.year_of(date.today()).label if association else date.today().year
    return YearsInfo(years, current, closed, writable, reason, start)


def empty_view() -> LedgerView:
    return LedgerView((), Chart())


class AccountsContext(QObject):
    """The fiscal year every accounting page shows, chosen once for all."""

    changed = Signal()  # the year or the list of years changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.info: YearsInfo | None = None
        self.year: int | None = None

    def set_info(self, info: YearsInfo) -> bool:
        """New facts about the years; True when the chosen year changed."""
        before = (self.info, self.year)
        self.info = info
        choices = info.selectable()
        if self.year not in choices:
            self.year = info.current if info.current in choices else choices[-1]
        if (self.info, self.year) != before:
            self.changed.emit()
        return self.year != before[1]

    def choose(self, year: int) -> None:
        if year != self.year:
            self.year = year
            self.changed.emit()

    def exists(self, year: int | None = None) -> bool:
        label = self.year if year is None else year
        return self.info is not None and label in self.info.years

    def closed(self) -> bool:
        return self.info is not None and self.year in self.info.closed


class AccountsPage(Page):
    """One accounting page: a year selector, a toolbar, and what it reads."""

    collections = LEDGER_COLLECTIONS | REGISTRY_COLLECTIONS
    uses_year = True  # False: the page spans the years (the bank's queue)

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.context = context
        self.data: Any = None  # what read() returned last, for the shown year
        self.stale = True
        self._request = 0
        self.wait: WaitDialog | None = None
        self.steps: Any = None  # the progress box of the last batch (jobs.Steps)
        self.year_choice = QComboBox()
        self.year_choice.setObjectName("yearChoice")
        self.year_choice.setMinimumWidth(170)
        self.year_choice.activated.connect(self._year_chosen)
        self.year_status = QLabel()
        self.year_status.setObjectName("hint")
        bar = QHBoxLayout()
        bar.setSpacing(8)
        if self.uses_year:
            label = QLabel(_("Fiscal year"))
            label.setBuddy(self.year_choice)
            bar.addWidget(label)
            bar.addWidget(self.year_choice)
            bar.addWidget(self.year_status, 1)
        else:
            self.year_choice.hide()
            self.year_status.hide()
            bar.addStretch(1)
        self.year_bar = bar
        self.layout_.addLayout(bar)
        self.load_error = ErrorLabel()
        context.changed.connect(self._context_changed)

    # -- what subclasses give -----------------------------------------------------------

    def read(self, session: Session, year: int, info: YearsInfo) -> Any:
        """Read what the page shows for ``year`` (on the worker)."""
        return None

    def reader(self) -> Callable[[Session, int, YearsInfo], Any]:
        """What the worker calls to read (taken on the GUI thread, so a page
        can bind the choices shown on screen to it)."""
        return self.read

    def show_data(self, data: Any) -> None:
        """Show what :meth:`read` returned (on the GUI thread)."""

    def update_actions(self) -> None:
        """Enable the page's buttons for the selection and the year."""

    # -- loading --------------------------------------------------------------------------

    @property
    def year(self) -> int:
        return self.context.year if self.context.year is not None else date.today().year

    @property
    def writable(self) -> bool:
        """Whether this device may record in the shown year: the syndic's,
        in a year not closed."""
        info = self.context.info
        return info is not None and info.writable and not self.context.closed()

    @property
    def editable(self) -> bool:
        return self.writable and self.state is not None and self.state.readable

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.refresh(background=True)

    def activated(self) -> None:
        if self.stale:
            self.refresh()

    def synced(self) -> None:
        self.refresh(background=True)

    def refresh(self, background: bool = False) -> None:
        """Read again now if the page is in view, else when it comes into view."""
        self.stale = True
        if self.isVisible() and self.state is not None and self.state.readable:
            self.load(background)

    def load(self, background: bool = False) -> None:
        self.stale = False
        self._request += 1
        request, chosen, read = self._request, self.context.year, self.reader()

        def work(session: Session) -> tuple[YearsInfo, int, Any]:
            info = read_years(session)
            year = chosen if chosen in info.selectable() else None
            if year is None:
                year = info.current if info.current in info.selectable() else info.selectable()[-1]
            return info, year, read(session, year, info)

        self.ops.run(
            work,
            on_done=lambda answer: self._loaded(request, answer),
            on_error=lambda exc: self._load_failed(request, exc),
            background=background,
        )

    def _loaded(self, request: int, answer: tuple[YearsInfo, int, Any]) -> None:
        if not alive(self) or request != self._request:
            return
        info, year, data = answer
        self.context.set_info(info)
        if year != self.context.year:  # the year was changed meanwhile
            self.refresh()
            return
        self.load_error.clear_message()
        self.data = data
        self._show_years()
        self.show_data(data)
        self.update_actions()

    def _load_failed(self, request: int, exc: KoprogoError) -> None:
        if alive(self) and request == self._request:
            self.load_error.show_message(str(exc))

    def _context_changed(self) -> None:
        if not alive(self):
            return
        self._show_years()
        shown = getattr(self.data, "year", self.context.year)
        if shown != self.context.year:
            self.refresh()
        self.update_actions()

    def _year_chosen(self, index: int) -> None:
        year = self.year_choice.itemData(index)
        if year is not None:
            self.context.choose(int(year))

    def _show_years(self) -> None:
        info = self.context.info
        if info is None:
            return
        self.year_choice.blockSignals(True)
        self.year_choice.clear()
        for label in info.selectable():
            if label in info.closed:
                text = _("{year} — closed").format(year=label)
            elif label not in info.years:
                text = _("{year} — not opened yet").format(year=label)
            else:
                text = str(label)
            self.year_choice.addItem(text, label)
        self.year_choice.setCurrentIndex(self.year_choice.findData(self.context.year))
        self.year_choice.blockSignals(False)
        self.year_status.setText(self.year_text(info))

    def year_text(self, info: YearsInfo) -> str:
        label = self.year
        fiscal = info.fiscal(label)
        period = _("{start} to {end}").format(
            start=fmt_date(fiscal.start), end=fmt_date(fiscal.end)
        )
        if label in info.closed:
            return _("{period} · closed: its accounts are frozen").format(period=period)
        if label not in info.years:
            if info.writable:
                return _(
                    "{period} · not opened yet: the first budget, invoice or call opens it"
                ).format(period=period)
            return _("{period} · no accounts kept yet").format(period=period)
        if not info.writable:
            return _("{period} · read-only on this device").format(period=period)
        return _("{period} · open").format(period=period)

    # -- editing ----------------------------------------------------------------------------

    def change(
        self,
        fn: Callable[[Session], Change],
        on_done: Callable[[Update], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
    ) -> None:
        """Send one ledger edit; every page (and the registry's) refreshes
        from the :class:`Update` it brings. ``wait``: a message for a wait
        box shown if the edit is slow (hundreds of lots)."""
        box = WaitDialog(wait, self.window()) if wait else None

        def done(update: Update) -> None:
            if box is not None:
                box.finish()
            if on_done is not None:
                on_done(update)

        def failed(exc: KoprogoError) -> None:
            if box is not None:
                box.finish()
            if on_error is not None:
                on_error(exc)
            else:
                self.ops.error.emit(str(exc))

        self.wait = box
        self.ops.change(fn, on_done=done, on_error=failed)


# -- small form helpers ----------------------------------------------------------------------


def date_edit(day: date | None = None) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(date_pattern())
    set_day(edit, day or date.today())
    return edit


def set_day(edit: QDateEdit, day: date) -> None:
    edit.setDate(QDate(day.year, day.month, day.day))


def day_of(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


def clamp(day: date, fiscal: FiscalYear) -> date:
    """``day`` if it falls in the fiscal year, else the nearest end of it."""
    return min(max(day, fiscal.start), fiscal.end)


def money_field() -> QLineEdit:
    """A field for an amount in euros, typed as people write them (read
    with :func:`~node.domain.payments.parse_eur`)."""
    field = QLineEdit()
    field.setObjectName("moneyField")
    field.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    field.setPlaceholderText(fmt_eur(0))
    return field
