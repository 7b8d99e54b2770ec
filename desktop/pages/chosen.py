"""What a family of pages that show one chosen record shares (the assembly
pages their meeting, the energy pages their campaign): the record chosen on
one page is chosen on all, read once for all of them, and changed one way.

:class:`ChosenContext` holds the chosen record's id and what the worker last
read (a snapshot with the device's access, the records to choose from and
the chosen one's data). Every change is one node call made through
:meth:`ChosenContext.act`, which reads the record again in the same worker
job, so the screens show the node's state right after the change and never
a state between the two. A refusal from the node changes nothing and is
shown in the node's words. Subclasses say how to read a snapshot.

:class:`ChosenPage` is one page of such a family: the bar to choose the
record (:class:`ChooserBar`), the page's error line, and its changes made
through the context. Choosing another record on the bar of one page shows
it on all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from node.errors import KoprogoError
from node.i18n import _
from node.services.registry import Change
from node.session import Session

from ..ops import Ops
from ..qt import QComboBox, QHBoxLayout, QLabel, QObject, QTimer, QWidget, Signal
from ..state import RegistryState
from ..widgets import ErrorLabel, WaitDialog, alive, hint
from .base import Page


class ChosenContext(QObject):
    """The chosen record and what the worker last read of its family."""

    changed = Signal()  # a new snapshot arrived
    access_changed = Signal()  # what this device may do changed (navigation)

    change_name = ""
    """What :meth:`act` reports as changed (no registry page shows it)."""
    read_wait = ""
    """A busy box's text (an ``N_`` message) for a read a person waits for;
    "" for none."""
    reload_after_error = False
    """Read again after a refused call (a call to the relay may have changed
    things before it failed)."""

    def __init__(self, ops: Ops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.access: Any = None
        self.records: tuple[Any, ...] = ()
        self.data: Any = None
        self.chosen: str | None = None
        self.pages: list[Any] = []
        self.stale = True
        self.wait: WaitDialog | None = None  # the busy box now up (tests look at it)
        self._request = 0
        self._soon = QTimer(self)  # several pages asking at once make one read
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(lambda: self.load(background=True))

    # -- what subclasses give ------------------------------------------------------------

    def read(self, session: Session, chosen: str | None) -> Any:
        """The snapshot (on the worker): ``.access``, ``.data`` (with ``.id``)."""
        raise NotImplementedError

    def records_of(self, snapshot: Any) -> tuple[Any, ...]:
        """The records to choose from in ``snapshot``."""
        raise NotImplementedError

    # -- reading ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read again now if one of the pages is in view (or nothing was read
        yet: the navigation needs to know what this device may do), else
        when one comes into view."""
        self.stale = True
        if self.access is None or any(page.isVisible() for page in self.pages):
            self._soon.start()

    def activated(self) -> None:
        """A page came into view: read again (quietly when nothing was
        missed), since other devices' records do not always come as a
        registry change."""
        self.load(background=not self.stale)

    def choose(self, chosen: str | None) -> None:
        if chosen and chosen != self.chosen:
            self.chosen = chosen
            self.load()

    def _box(self, text: str) -> WaitDialog | None:
        box = WaitDialog(text, self.pages[0].window()) if text and self.pages else None
        self.wait = box
        return box

    def _finish(self, box: WaitDialog | None) -> None:
        if box is not None:
            box.finish()
            if self.wait is box:
                self.wait = None

    def load(self, background: bool = False) -> None:
        """Read the records and the chosen one (on the worker)."""
        self._soon.stop()
        self.stale = False
        self._request += 1
        request, chosen = self._request, self.chosen
        box = None if background or not self.read_wait else self._box(_(self.read_wait))

        def done(snapshot: Any) -> None:
            self._finish(box)
            if request == self._request:
                self.apply(snapshot)

        def failed(exc: KoprogoError) -> None:
            self._finish(box)
            for page in self.pages:
                if alive(page):
                    page.error.show_message(str(exc))

        self.ops.run(lambda s: self.read(s, chosen), done, failed, background=background)

    def apply(self, snapshot: Any) -> None:
        access_changed = snapshot.access != self.access
        self.access = snapshot.access
        self.records = self.records_of(snapshot)
        self.data = snapshot.data
        self.chosen = snapshot.data.id if snapshot.data else None
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
        """One node call, then the chosen record read again, in one worker
        job. ``on_done`` gets what the node call returned; ``select_result``:
        it returned a record id (a new record), which becomes the chosen one;
        ``wait``: a busy box with this text while it lasts."""
        self._request += 1  # an older read still on its way is void
        chosen = self.chosen
        box = self._box(wait)
        answer: dict[str, Any] = {}

        def work(session: Session) -> Change:
            result = fn(session)
            answer["snapshot"] = self.read(session, result if select_result else chosen)
            answer["result"] = result
            return Change.of(self.change_name)

        def done(_update: Any) -> None:
            self._finish(box)
            self.apply(answer["snapshot"])
            if on_done is not None:
                on_done(answer["result"])

        def failed(exc: KoprogoError) -> None:
            self._finish(box)
            if self.reload_after_error:
                self.load(background=True)
            if on_error is not None:
                on_error(exc)
            else:
                self.ops.error.emit(str(exc))

        self.ops.change(work, on_done=done, on_error=failed)


class ChooserBar(QWidget):
    """The bar atop a page of the family: a label whose shortcut leads to the
    list of records to choose from, and a line on the chosen one."""

    chosen = Signal(object)  # the id of the record a person chose in the list

    def __init__(self, label: str, choice_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = QComboBox()
        self.choice.setObjectName(choice_name)  # tests find the list by it
        self.choice.setMinimumWidth(320)
        self.choice.activated.connect(lambda index: self.chosen.emit(self.choice.itemData(index)))
        self.status = hint()
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        buddy = QLabel(label)
        buddy.setBuddy(self.choice)
        bar.addWidget(buddy)
        bar.addWidget(self.choice)
        bar.addWidget(self.status, 1)

    def show_records(self, records: Sequence[tuple[str, str]], chosen: str | None) -> None:
        """List ``records`` (label, id) with ``chosen`` current, without
        reporting it as a person's choice."""
        self.choice.blockSignals(True)
        self.choice.clear()
        for label, record in records:
            self.choice.addItem(label, record)
        self.choice.setCurrentIndex(self.choice.findData(chosen))
        self.choice.blockSignals(False)


class ChosenPage(Page):
    """One page of a family that shows the record its context has chosen:
    the chooser bar (``self.chooser``, which the page adds where it wants
    it, or hides), the page's error line, and its changes."""

    choice_label = ""  # N_() msgid of the bar's label, with its shortcut
    choice_name = ""  # the object name of the bar's list
    choose_hint = ""  # N_() msgid: there are records, none chosen
    none_yet = ""  # N_() msgid: no record this page shows yet

    def __init__(self, ops: Ops, context: ChosenContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.context = context
        context.pages.append(self)
        self.chooser = ChooserBar(_(self.choice_label), self.choice_name, self)
        self.chooser.chosen.connect(self._chosen)
        self.error = ErrorLabel()
        context.changed.connect(self._context_changed)

    # -- what subclasses give ------------------------------------------------------------

    def available(self, access: Any) -> bool:
        """Whether this device shows the page at all."""
        return True

    def show_data(self, data: Any) -> None:
        """Show the chosen record (``None``: none this page shows)."""

    def choosable(self) -> Sequence[Any]:
        """The records this page lets a person choose (with ``.id``)."""
        return self.context.records

    def record_label(self, record: Any) -> str:
        """A record as the bar's list names it."""
        raise NotImplementedError

    def status_text(self, data: Any) -> str:
        """The bar's line on the chosen record."""
        return ""

    # -- the shared parts -----------------------------------------------------------------

    @property
    def access(self) -> Any:
        return self.context.access

    @property
    def data(self) -> Any:
        return self.context.data

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
        shown = self.choosable()
        records = [(self.record_label(record), record.id) for record in shown]
        self.chooser.show_records(records, self.context.chosen)
        data = self.data
        if data is None:
            self.chooser.status.setText(_(self.choose_hint) if shown else _(self.none_yet))
        else:
            self.chooser.status.setText(self.status_text(data))
        self.show_data(data)

    def _chosen(self, chosen: str | None) -> None:
        self.error.clear_message()
        self.context.choose(chosen)

    def act(
        self,
        fn: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
        select_result: bool = False,
    ) -> None:
        """One change to the chosen record; the node's refusal is shown on the page."""
        self.error.clear_message()

        def refused(exc: KoprogoError) -> None:
            if alive(self):
                self.error.show_message(str(exc))

        self.context.act(fn, on_done, on_error or refused, wait, select_result)


def allow(widget: QWidget, why_not: str) -> None:
    """Enable ``widget`` when there is no reason against it; otherwise
    disable it with the reason as its tooltip (its own tooltip comes back)."""
    if widget.property("tip") is None:
        widget.setProperty("tip", widget.toolTip())
    widget.setEnabled(not why_not)
    widget.setToolTip(why_not or widget.property("tip"))
