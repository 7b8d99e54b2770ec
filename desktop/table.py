"""Sortable, filterable record tables shared by every screen.

A screen describes its columns once (header, text, sort key) and hands the
table a list of rows; the table keeps the selection on the same record
across refreshes, sorts numbers as numbers and lot numbers naturally, and
answers to the keyboard (Enter opens, Delete removes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.i18n import _

from .qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QBrush,
    QColor,
    QFont,
    QHeaderView,
    QItemSelectionModel,
    QKeySequence,
    QModelIndex,
    QPersistentModelIndex,
    QShortcut,
    QSortFilterProxyModel,
    Qt,
    QTableView,
    QWidget,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""The record id of a row, for tests and for selecting by id."""

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    header: str  # an N_() msgid, translated when shown
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None
    numeric: bool = False
    tooltip: Callable[[Any], str] | None = None
    warn: Callable[[Any], bool] | None = None  # paint the cell as a problem
    strong: Callable[[Any], bool] | None = None  # bold (headings, totals)
    muted: Callable[[Any], bool] | None = None  # grey (what is only for information)


class RecordModel(QAbstractTableModel):
    def __init__(
        self, columns: Sequence[Column], row_id: Callable[[Any], str], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._row_id = row_id
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, record_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if self._row_id(r) == record_id), None)

    def sort_value(self, index: AnyIndex) -> Any:
        column = self.columns[index.column()]
        row = self._rows[index.row()]
        return column.sort(row) if column.sort else column.text(row).casefold()

    # -- Qt's model interface ------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == ID_ROLE:
            return self._row_id(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column.warn and column.warn(row):
                return QBrush(QColor("#b3261e"))
            if column.muted and column.muted(row):
                return QBrush(QColor("#8a96a3"))
        if role == Qt.ItemDataRole.FontRole and column.strong and column.strong(row):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.columns[section].header)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            numeric = self.columns[section].numeric
            align = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        return None


def _ordering(value: Any) -> tuple:
    # None sorts after everything; values of one column share a type.
    return (1, 0) if value is None else (0, value)


class RecordProxy(QSortFilterProxyModel):
    """Sorts by each column's Python sort key and filters on any column's text."""

    def __init__(self, source: RecordModel) -> None:
        super().__init__()
        self.setSourceModel(source)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        source = self.sourceModel()
        assert isinstance(source, RecordModel)
        return _ordering(source.sort_value(left)) < _ordering(source.sort_value(right))


class RecordTable(QTableView):
    """A table of records: sortable, filterable, selection kept by record id."""

    def __init__(
        self,
        columns: Sequence[Column],
        row_id: Callable[[Any], str] = lambda r: r.id,
        parent: QWidget | None = None,
        stretch: int | None = None,
        fit: bool = False,
    ) -> None:
        super().__init__(parent)
        self.source = RecordModel(columns, row_id, self)
        self.proxy = RecordProxy(self.source)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(28)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        # Small tables fit their columns to the contents on every refresh;
        # long ones are sized once (fitting thousands of rows each time is slow).
        header.setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents if fit else QHeaderView.ResizeMode.Interactive
        )
        header.setStretchLastSection(stretch is None)
        if stretch is not None:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        self.delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._sized = False

    def keep_order(self) -> None:
        """Show the rows in the order given (statements, an entry's lines):
        no sorting by the headers."""
        self.setSortingEnabled(False)
        self.proxy.sort(-1)

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show ``rows``, keeping the selected record selected if it is still there."""
        keep = self.current_id()
        self.source.set_rows(rows)
        if not self._sized:
            # Empty, the columns fit their headers (found by hand: "Share of
            # total" was cut); once there are rows, they fit those too, once.
            self.resizeColumnsToContents()
            self._sized = bool(rows)
        if keep is not None:
            self.select_id(keep)

    def current_id(self) -> str | None:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isSelected(index):
            return None
        return self.proxy.data(index, ID_ROLE)

    def current_row(self) -> Any:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isSelected(index):
            return None
        return self.source.row_object(self.proxy.mapToSource(index).row())

    def select_id(self, record_id: str | None) -> bool:
        row = self.source.row_of(record_id) if record_id else None
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.source.index(row, 0))
        if not index.isValid():  # filtered out: clear the filter to show it
            self.proxy.setFilterFixedString("")
            index = self.proxy.mapFromSource(self.source.index(row, 0))
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.selectionModel().setCurrentIndex(index, flags)
        self.scrollTo(index)
        return True

    def rows(self) -> list[Any]:
        """The rows in the order shown (tests read the table through this)."""
        return [
            self.source.row_object(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
            for r in range(self.proxy.rowCount())
        ]

    def cell_text(self, row: int, column: int) -> str:
        return self.proxy.data(self.proxy.index(row, column))
