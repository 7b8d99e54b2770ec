"""The form for a special distribution key: a name and a weight per lot.

Special keys come from the deed (lift, heating by meters, staircase,
DOMAIN §1). A lot left at 0 does not share in the key; only lots with a
weight above 0 are stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from node.domain.registry import DistributionKey, Lot
from node.errors import InputError
from node.i18n import _

from .labels import lot_type_label, natural_key
from .qt import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from .widgets import RecordDialog

WEIGHT_COLUMN = 2


class KeyDialog(RecordDialog):
    def __init__(
        self, lots: Sequence[Lot], key: DistributionKey | None = None, parent: QWidget | None = None
    ) -> None:
        title = _("Edit key {name}").format(name=key.name) if key else _("New distribution key")
        super().__init__(title, parent)
        self.setObjectName("keyDialog")
        self.setMinimumSize(480, 520)
        self.key = key
        self.lots = sorted(lots, key=lambda lot: natural_key(lot.number))
        self.name = QLineEdit(key.name if key else "")
        self.name.setPlaceholderText(_("e.g. Lift"))
        self.form.addRow(_("&Name"), self.name)

        self.table = QTableWidget(len(self.lots), 3)
        self.table.setHorizontalHeaderLabels([_("Lot"), _("Type"), _("Weight")])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)
        weights = dict(key.weights) if key else {}
        for row, lot in enumerate(self.lots):
            for column, text in enumerate((lot.number, lot_type_label(lot.type))):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(row, column, item)
            self._set_weight(row, weights.get(lot.id, 0))
        self.body.insertWidget(1, self.table)

        tools = QHBoxLayout()
        from_quotas = QPushButton(_("Fill with the quotas"))
        from_quotas.clicked.connect(self.fill_with_quotas)
        clear = QPushButton(_("Set all to 0"))
        clear.clicked.connect(lambda: [self._set_weight(r, 0) for r in range(len(self.lots))])
        tools.addWidget(from_quotas)
        tools.addWidget(clear)
        tools.addStretch(1)
        self.body.insertLayout(2, tools)

    def _set_weight(self, row: int, weight: int) -> None:
        item = QTableWidgetItem(str(weight))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setToolTip(_("Whole number, 0 to leave the lot out of this key"))
        self.table.setItem(row, WEIGHT_COLUMN, item)

    def fill_with_quotas(self) -> None:
        for row, lot in enumerate(self.lots):
            self._set_weight(row, lot.quota)

    def set_weight(self, lot_id: str, weight: int) -> None:
        row = next(i for i, lot in enumerate(self.lots) if lot.id == lot_id)
        self._set_weight(row, weight)

    def values(self) -> tuple[str, dict[str, int]]:
        """(name, {lot id: weight > 0}); raises :class:`InputError` on a bad weight."""
        weights: dict[str, int] = {}
        for row, lot in enumerate(self.lots):
            item = self.table.item(row, WEIGHT_COLUMN)
            text = (item.text() if item else "").strip().replace(" ", "").replace(".", "")
            text = text or "0"
            if not text.isdigit():
                raise InputError(
                    _("The weight of lot {number} must be a whole number, 0 or more.").format(
                        number=lot.number
                    )
                )
            if int(text):
                weights[lot.id] = int(text)
        return self.name.text().strip(), weights
