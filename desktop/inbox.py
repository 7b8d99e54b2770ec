"""Personal inboxes as the screens show them (issue 3): what the worker
reads, and the list-and-message view the three inbox screens share.

* the syndic's and the council's Persons page: any person's inbox
  (``session.inbox.items``), and the syndic writes to it;
* an owner's device: the inbox of the person the device belongs to;
* the building's shared computer (kiosk): a resident's inbox opened with
  their PIN, in memory only (``service.kiosk_inbox``). The view holds it
  only while it is shown; :meth:`InboxView.clear` lets go of it.

Names come from the building's directory (``directory`` document, readable
by every device of the building): the kiosk and an owner's device have no
registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from node.documents.inbox_doc import InboxItem
from node.i18n import N_, _
from node.session import Session
from node.sync import kiosk

from .labels import fmt_time
from .qt import QLabel, QPlainTextEdit, QSplitter, Qt, QVBoxLayout, QWidget
from .state import person_names
from .table import Column, RecordTable

# -- read on the worker --------------------------------------------------------------


@dataclass(frozen=True)
class OwnInbox:
    """An owner's device: its person's name and inbox."""

    person: str
    name: str  # "" when the directory does not name them
    items: tuple[InboxItem, ...]


def read_own_inbox(session: Session, person: str) -> OwnInbox:
    items = tuple(session.inbox.items(person))
    return OwnInbox(person, person_names(session).get(person, ""), items)


def read_person_inbox(session: Session, person: str) -> tuple[InboxItem, ...]:
    return tuple(session.inbox.items(person))


@dataclass(frozen=True)
class Resident:
    """A person enrolled on the kiosk (their keys kept behind their PIN)."""

    id: str
    name: str


def resident_label(person: str, names: dict[str, str]) -> str:
    return names.get(person) or _("Resident {id}").format(id=person[-6:])


def read_residents(session: Session) -> tuple[Resident, ...]:
    names = person_names(session)
    residents = (Resident(p, resident_label(p, names)) for p in kiosk.enrolled(session))
    return tuple(sorted(residents, key=lambda r: (r.name.casefold(), r.id)))


# -- shown on the GUI thread ------------------------------------------------------------


def fmt_at(at: str) -> str:
    """An item's UTC time as local time, as the app shows times."""
    try:
        return fmt_time(datetime.fromisoformat(at).timestamp())
    except ValueError:
        return at


COLUMNS = (
    Column(N_("Date"), lambda i: fmt_at(i.at), sort=lambda i: (i.at, i.id)),
    Column(N_("Title"), lambda i: i.title),
)


def plain_label(object_name: str) -> QLabel:
    """A label that never reads its text as HTML (a message's title is
    someone else's text)."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class InboxView(QWidget):
    """The messages of one inbox, newest first, and the chosen one in full;
    or a sentence when there is none."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel(empty_text)
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.empty)

        self.table = RecordTable(COLUMNS, stretch=1)
        self.table.setObjectName("inboxTable")
        self.table.setSortingEnabled(False)  # newest first, as given
        reading = QWidget()
        reading.setObjectName("messagePane")
        pane = QVBoxLayout(reading)
        pane.setContentsMargins(12, 0, 0, 0)
        self.title = plain_label("messageTitle")
        self.when = plain_label("hint")
        self.text = QPlainTextEdit()
        self.text.setObjectName("messageText")
        self.text.setReadOnly(True)
        pane.addWidget(self.title)
        pane.addWidget(self.when)
        pane.addWidget(self.text, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.table)
        self.split.addWidget(reading)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        self.split.setChildrenCollapsible(False)
        layout.addWidget(self.split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_chosen())
        self.show_items(())

    def show_items(self, items: Sequence[InboxItem]) -> None:
        """Show ``items`` (oldest first, as the node gives them), newest on top;
        the newest is opened unless another one still in the list was."""
        had = self.table.current_id()
        rows = list(reversed(items))
        self.table.set_rows(rows)
        self.empty.setVisible(not rows)
        self.split.setVisible(bool(rows))
        if rows and (had is None or not self.table.select_id(had)):
            self.table.select_id(rows[0].id)
        self._show_chosen()

    def clear(self) -> None:
        """Forget every item: nothing of the inbox stays in the widgets."""
        self.table.clearSelection()
        self.show_items(())
        self.title.clear()
        self.when.clear()
        self.text.clear()

    def items(self) -> list[InboxItem]:
        """The items in the order shown (tests read the view through this)."""
        return self.table.rows()

    def shown(self) -> InboxItem | None:
        return self.table.current_row()

    def _show_chosen(self) -> None:
        item = self.table.current_row()
        self.title.setText(item.title if item else "")
        self.when.setText(fmt_at(item.at) if item else "")
        self.text.setPlainText(item.text if item else "")
