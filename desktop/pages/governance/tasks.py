"""The syndic's task list (issue 5, point 6) and the alert at start-up.

The tasks are the node's (:meth:`~node.services.governance.GovernanceService.tasks`):
the council, the auditor, the syndic's mandate, the assemblies' deadlines
and the energy campaigns, each with its due day and its severity. The page
shows the severity in words, and colours the cell only to repeat them.

When the window opens on the syndic's device and some tasks are overdue or
due soon, :class:`TaskAlert` says how many in a band above the pages, with
a button to the list: no dialog to dismiss on every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.domain.governance import Severity, Task
from node.i18n import N_, _, ngettext

from ...labels import fmt_date
from ...ops import Ops
from ...qt import (
    QBrush,
    QColor,
    QFont,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    Qt,
    QToolButton,
    QWidget,
    Signal,
)
from ...table import AnyIndex, Column, RecordModel, RecordTable
from ...widgets import alive
from ..base import empty_hint
from .base import GovernanceContext, GovernancePage, severity_label

SUBJECTS = {
    "council": N_("Council"),
    "auditor": N_("Auditor of accounts"),
    "syndic": N_("Syndic's mandate"),
    "assembly": N_("Assemblies"),
    "energy": N_("Energy purchase"),
}
"""What a task is about, from the first word of its kind."""

_RANK = {Severity.OVERDUE: 0, Severity.SOON: 1, Severity.LATER: 2}

SEVERITY_COLOURS = {
    Severity.OVERDUE: ("#fde7e6", "#b3261e"),
    Severity.SOON: ("#fff4d6", "#7a5300"),
    Severity.LATER: ("", "#5b6775"),
}
"""(background, text) of a severity's cell."""


@dataclass(frozen=True)
class TaskRow:
    task: Task

    @property
    def id(self) -> str:
        return f"{self.task.kind}:{self.task.ref}"

    @property
    def subject(self) -> str:
        prefix = self.task.kind.split("-", 1)[0]
        return _(SUBJECTS[prefix]) if prefix in SUBJECTS else self.task.kind


def task_page(task: Task) -> tuple[str, str] | None:
    """The page where a task is done, and the record to select there."""
    kind = task.kind
    if kind == "council-mandate-ending":
        return "governance_council", task.ref
    if kind.startswith("council-"):
        return "governance_council", ""
    if kind.startswith("auditor-"):
        return "governance_auditor", task.ref
    if kind.startswith("syndic-"):
        return "governance_syndic", ""
    if kind.startswith("assembly-"):
        return "assembly_meetings", task.ref  # the meeting
    return None


def _due_order(row: TaskRow) -> tuple:
    t = row.task
    return (t.due, _RANK[t.severity], t.kind, t.ref)


SEVERITY_COLUMN = Column(
    N_("Severity"),
    lambda r: severity_label(r.task.severity),
    sort=lambda r: (_RANK[r.task.severity], r.task.due),
)

COLUMNS = (
    Column(N_("Due"), lambda r: fmt_date(r.task.due), sort=_due_order),
    SEVERITY_COLUMN,
    Column(N_("About"), lambda r: r.subject),
    Column(N_("What to do"), lambda r: r.task.message, tooltip=lambda r: r.task.message),
)


class TaskModel(RecordModel):
    """Records whose severity cell is coloured after its words."""

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and self.columns[index.column()] is SEVERITY_COLUMN:
            severity = self.row_object(index.row()).task.severity
            background, ink = SEVERITY_COLOURS[severity]
            if role == Qt.ItemDataRole.BackgroundRole and background:
                return QBrush(QColor(background))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(ink))
            if role == Qt.ItemDataRole.FontRole and severity is not Severity.LATER:
                font = QFont()
                font.setBold(True)
                return font
        return super().data(index, role)


class TaskTable(RecordTable):
    """A few rows whose message is read whole: wrapped, each row as tall as it needs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent=parent, stretch=len(COLUMNS) - 1, fit=True)
        plain, self.source = self.source, TaskModel(COLUMNS, lambda r: r.id, self)
        self.proxy.setSourceModel(self.source)
        plain.deleteLater()
        self.setWordWrap(True)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


class TasksPage(GovernancePage):
    title_msgid = N_("Syndic's tasks")

    def __init__(self, ops: Ops, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.layout_.addWidget(
            empty_hint(
                _(
                    "What the syndic must do, by due day: the council, the auditor of accounts, "
                    "the syndic's mandate, the assemblies' deadlines and the energy purchases. "
                    "Double-click a task to open the page where it is done."
                )
            )
        )
        self.summary = QLabel()
        self.summary.setObjectName("tasksSummary")
        self.summary.setWordWrap(True)
        self.open_button = self.button(
            _("&Open"), self.open_task, _("Open the page where the selected task is done")
        )
        self.table = TaskTable()
        self.table.setObjectName("tasksTable")
        self.table.activated.connect(lambda _index: self.open_task())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.empty = empty_hint(_("Nothing to do: no deadline is known."))
        self.layout_.addWidget(self.summary)
        self.layout_.addLayout(self.toolbar(self.open_button))
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.empty)
        self.layout_.addWidget(self.table, 1)
        self.empty.hide()
        self._update_buttons()

    def redraw(self) -> None:
        data = self.data
        if data is None:
            self.summary.setText(_("Reading…"))
            return
        rows = [TaskRow(t) for t in data.tasks]
        self.table.set_rows(rows)
        self.empty.setVisible(not rows)
        overdue, soon = data.urgent()
        self.summary.setText(
            _("On {today}: {overdue} overdue, {soon} due soon, {later} later.").format(
                today=fmt_date(data.today),
                overdue=overdue,
                soon=soon,
                later=len(rows) - overdue - soon,
            )
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.table.current_row()
        self.open_button.setEnabled(row is not None and task_page(row.task) is not None)

    def activated(self) -> None:
        super().activated()
        self.context.tasks_seen.emit()

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def open_task(self) -> None:
        row = self.table.current_row()
        target = task_page(row.task) if row is not None else None
        if target is not None:
            self.navigate.emit(*target)


ALERT_STYLE = {
    True: "QFrame#taskAlert { background: #fde7e6; border-bottom: 1px solid #f3b8b4; }"
    " QFrame#taskAlert QLabel { color: #8c1d18; }",
    False: "QFrame#taskAlert { background: #fff4d6; border-bottom: 1px solid #f0dca0; }"
    " QFrame#taskAlert QLabel { color: #6b4a00; }",
}
"""The band's look when some task is overdue (True) or only due soon."""


class TaskAlert(QFrame):
    """A band above the pages, shown when the window opens on the syndic's
    device with tasks overdue or due soon. It keeps its count up to date
    until it is closed or the task list is shown, and does not come back
    in the same window: later tasks are on the list, not in the way."""

    open_tasks = Signal()

    def __init__(self, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskAlert")
        self.context = context
        self.text = QLabel()
        self.text.setObjectName("taskAlertText")
        self.text.setWordWrap(True)
        self.open_button = QPushButton(_("Show the tasks"))
        self.open_button.setObjectName("taskAlertOpen")
        self.open_button.clicked.connect(self._open)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip(_("Hide this message"))
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 6, 12, 6)
        row.addWidget(self.text, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.close_button)
        self._decided = False  # whether the start-up read was seen
        self.hide()
        context.changed.connect(self._context_changed)
        context.tasks_seen.connect(self.hide)

    def _context_changed(self) -> None:
        data = self.context.data
        if data is None or not alive(self):
            return
        overdue, soon = data.urgent()
        first, self._decided = not self._decided, True
        if not first and self.isHidden():
            return
        if not data.syndic_device or overdue + soon == 0:
            self.hide()
            return
        count = overdue + soon
        self.text.setText(
            ngettext(
                "{count} task needs your attention: {overdue} overdue, {soon} due soon.",
                "{count} tasks need your attention: {overdue} overdue, {soon} due soon.",
                count,
            ).format(count=count, overdue=overdue, soon=soon)
        )
        self.setStyleSheet(ALERT_STYLE[overdue > 0])
        self.show()

    def _open(self) -> None:
        self.hide()
        self.open_tasks.emit()

    @property
    def done(self) -> bool:
        """Whether the band has had its say in this window (closed, or
        nothing was urgent when it opened)."""
        return self._decided and self.isHidden()

    def stay_done(self) -> None:
        """The window was rebuilt (another language): the band does not come
        back when it was done in the window before (found by hand: closing it
        then changing the language brought it back)."""
        self._decided = True
        self.hide()
