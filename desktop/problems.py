"""The problems panel: what :func:`node.domain.validation.validate` finds.

A merged registry may break rules no single edit broke; the node lists the
problems and never fixes them silently (ARCHITECTURE §2). The panel shows
them all the time, and activating one takes the user to the record.
"""

from __future__ import annotations

from node.domain.validation import Problem
from node.i18n import _

from .qt import (
    QColor,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1

# Which page shows the record a problem is about (problem code -> page name).
PAGE_OF_CODE = {
    "association_missing": "association",
    "bce_invalid": "association",
    "quota_total_mismatch": "lots",
    "duplicate_lot_number": "lots",
    "lot_without_holders": "ownership",
    "holder_shares_not_100": "ownership",
    "lot_without_voting_holder": "ownership",
    "several_voting_holders": "ownership",
    "duplicate_holder": "ownership",
    "unknown_lot_reference": "ownership",
    "unknown_person_reference": "ownership",
    "key_unknown_lot": "keys",
    "key_empty": "keys",
}


class ProblemsPanel(QWidget):
    """Lists the registry's problems; emits :attr:`activated` for one."""

    activated = Signal(object)  # Problem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemsPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 8, 20, 8)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("problemsTitle")
        header.addWidget(self.title)
        header.addStretch(1)
        hint = QLabel(_("Click a problem to go to the record."))
        hint.setObjectName("hint")
        header.addWidget(hint)
        layout.addLayout(header)
        self.list = QListWidget()
        self.list.setObjectName("problemsList")
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._on_activated)
        self.list.itemActivated.connect(self._on_activated)  # Enter, for the keyboard
        layout.addWidget(self.list, 1)
        self._warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.show_problems(())

    def show_problems(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        self.list.clear()
        if problems:
            self.title.setText(_("Problems ({count})").format(count=len(problems)))
        else:
            self.title.setText(_("Problems"))
        for problem in problems:
            item = QListWidgetItem(self._warning, problem.message)
            item.setData(PROBLEM_ROLE, problem)
            item.setToolTip(problem.code)
            self.list.addItem(item)
        if not problems:
            item = QListWidgetItem("✓ " + _("No problems found."))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QColor("#1e6b34"))
            self.list.addItem(item)
        self.setProperty("clean", not problems)

    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def _on_activated(self, item: QListWidgetItem) -> None:
        problem = item.data(PROBLEM_ROLE)
        if isinstance(problem, Problem):
            self.activated.emit(problem)
